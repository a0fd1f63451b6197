/**
 * Private networks: the lake's networks reach the source databases over private connectivity
 * (Direct Connect, VPN or peering) and cloud APIs over VPC endpoints / Private Google Access, so no
 * route leads to the internet; flow logs record who talked to what; GCP networks create subnets only
 * where the cell says. GDPR Art. 25(2), 32(1)(b), 32(1)(d); LGPD Art. 46, 49 (and Art. 44 / Art. 33
 * for the region of endpoints and subnets).
 */
import { A } from "./articles";
import {
  asArray,
  awsRegionOf,
  bool,
  isRecord,
  isUnknown,
  jurisdictionOf,
  label,
  list,
  num,
  peekStr,
  peekStrings,
  policyDocument,
  str,
  type ResourceRule,
  type ResourceView,
  type StackRule,
} from "./common";

const NO_PUBLIC = [A.gdpr25_2, A.gdpr32_1_b, A.gdpr5_1_f, A.lgpd46, A.lgpd6_vii, A.lgpd49];
const AUDIT = [A.gdpr5_2, A.gdpr30, A.gdpr33, A.gdpr32_1_d, A.lgpd37, A.lgpd6_x, A.lgpd48, A.marcoCivil15];

const ROUTE_TABLE = "aws:ec2/routeTable:RouteTable";
const ROUTE = "aws:ec2/route:Route";
const ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation";
const SUBNET = "aws:ec2/subnet:Subnet";
const DMS_SUBNET_GROUP = "aws:dms/replicationSubnetGroup:ReplicationSubnetGroup";
const IGW = "aws:ec2/internetGateway:InternetGateway";
const EIGW = "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway";
const NAT = "aws:ec2/natGateway:NatGateway";
const VPC = "aws:ec2/vpc:Vpc";
const FLOW_LOG = "aws:ec2/flowLog:FlowLog";
const LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup";
const S3_BUCKET = "aws:s3/bucket:Bucket";
const VPC_ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint";
const GCP_NETWORK = "gcp:compute/network:Network";
const GCP_SUBNETWORK = "gcp:compute/subnetwork:Subnetwork";

/** The type token inside a URN (`...::parent$type::name`). */
export const typeOfUrn = (urn: string): string => {
  const parts = urn.split("::");
  const qualified = parts.length >= 4 ? parts[2] : "";
  return qualified.slice(qualified.lastIndexOf("$") + 1);
};

/**
 * The resource of one of `types` that `r.props[prop]` points at: by property dependency when the
 * analyzer has it, else by value (one of `keys` of the candidate, such as its id, name or ARN).
 */
export function referenced(
  resources: readonly ResourceView[],
  r: ResourceView,
  prop: string,
  types: readonly string[],
  keys: readonly string[],
  value?: string,
): ResourceView | undefined {
  const deps = r.propertyDependencies[prop] ?? [];
  const v = value ?? (typeof r.props[prop] === "string" ? (r.props[prop] as string) : undefined);
  const candidates = resources.filter((x) => types.includes(x.type));
  // With several values under one property (a list), the value decides; otherwise the dependency does.
  const byValue =
    v === undefined || isUnknown(v) ? undefined : candidates.find((x) => keys.some((k) => x.props[k] === v));
  if (byValue) return byValue;
  if (value !== undefined) return undefined;
  return candidates.find((x) => deps.includes(x.urn));
}

/** Why a route (inline in a route table, or an aws.ec2.Route) leads to the internet, or undefined. */
function internetTarget(
  resources: readonly ResourceView[],
  route: unknown,
  deps: readonly string[],
): string | undefined {
  const gw = peekStr(route, "gatewayId");
  if (typeof gw === "string" && gw.startsWith("igw-")) return `internet gateway '${gw}'`;
  // A NAT or egress-only gateway is internet-bound whatever its id (an unknown id counts as set).
  const nat = peekStr(route, "natGatewayId");
  if (nat !== undefined) return `NAT gateway '${nat ?? "created in this update"}'`;
  const eigw = peekStr(route, "egressOnlyGatewayId");
  if (eigw !== undefined) return `egress-only internet gateway '${eigw ?? "created in this update"}'`;
  const viaDep = deps
    .map((u) => resources.find((x) => x.urn === u))
    .find((x) => x !== undefined && [IGW, EIGW, NAT].includes(x.type));
  if (viaDep) return `${viaDep.type === NAT ? "NAT gateway" : "internet gateway"} '${viaDep.name}'`;
  return undefined;
}

/** Internet routes of a route table: its inline `routes` and the aws.ec2.Route resources that target it. */
function internetRoutes(resources: readonly ResourceView[], table: ResourceView): string[] {
  const found: string[] = [];
  const inlineDeps = table.propertyDependencies.routes ?? [];
  list(table.props, "routes").forEach((route, i) => {
    const t = internetTarget(resources, route, inlineDeps);
    if (t) found.push(`${str(route, "cidrBlock") ?? str(route, "ipv6CidrBlock") ?? `route ${i}`} -> ${t}`);
  });
  for (const route of resources.filter((x) => x.type === ROUTE)) {
    if (referenced(resources, route, "routeTableId", [ROUTE_TABLE], ["id", "name"]) !== table) continue;
    const deps = [...(route.propertyDependencies.gatewayId ?? []), ...(route.propertyDependencies.natGatewayId ?? [])];
    const t = internetTarget(resources, route.props, deps);
    if (t)
      found.push(
        `${str(route.props, "destinationCidrBlock") ?? str(route.props, "destinationIpv6CidrBlock") ?? label(route)} -> ${t}`,
      );
  }
  return found;
}

export const privateNetworkRouting: StackRule = {
  kind: "stack",
  name: "private-network-routing",
  description:
    "Route tables of the lake's networks have no route to an internet or NAT gateway, and DMS runs only in such private subnets.",
  domain: "public-access",
  severity: "high",
  enforcementLevel: "mandatory",
  articles: NO_PUBLIC,
  remediation:
    "Remove routes to internet gateways, egress-only gateways and NAT gateways from the lake's route tables: reach the source databases over Direct Connect, VPN or peering and AWS services through VPC endpoints. Associate every subnet with a route table declared in this stack, and build DMS replication subnet groups only from this stack's private subnets, so that the whole path is verified.",
  resourceTypes: [ROUTE_TABLE, ROUTE, ASSOCIATION, DMS_SUBNET_GROUP],
  validate(resources, ctx) {
    const tables = resources.filter((r) => r.type === ROUTE_TABLE);
    const open = new Map<string, string[]>();
    for (const t of tables) {
      const routes = internetRoutes(resources, t);
      open.set(t.urn, routes);
      if (routes.length > 0) ctx.report(`${label(t)} routes to the internet: ${routes.join("; ")}.`, t.urn);
    }
    const tableOfSubnet = new Map<string, ResourceView | undefined>();
    for (const a of resources.filter((r) => r.type === ASSOCIATION)) {
      const gw = peekStr(a.props, "gatewayId");
      if (typeof gw === "string" && gw.startsWith("igw-")) {
        ctx.report(`${label(a)} associates the route table with internet gateway '${gw}' (edge association).`, a.urn);
      }
      const table = referenced(resources, a, "routeTableId", [ROUTE_TABLE], ["id", "name"]);
      if (!table) {
        ctx.report(
          `${label(a)} associates route table '${peekStr(a.props, "routeTableId") ?? "?"}', which is not declared in this stack, so its routes cannot be verified.`,
          a.urn,
        );
      } else if ((open.get(table.urn) ?? []).length > 0) {
        ctx.report(`${label(a)} puts a subnet behind ${label(table)}, which routes to the internet.`, a.urn);
      }
      const subnet = referenced(resources, a, "subnetId", [SUBNET], ["id"]);
      if (subnet) tableOfSubnet.set(subnet.urn, table);
    }
    for (const g of resources.filter((r) => r.type === DMS_SUBNET_GROUP)) {
      const ids = peekStrings(g.props, "subnetIds");
      const deps = g.propertyDependencies.subnetIds ?? [];
      const subnets = resources.filter(
        (s) => s.type === SUBNET && (deps.includes(s.urn) || ids.known.includes(s.props.id as string)),
      );
      if (subnets.length < ids.known.length + ids.unknown) {
        ctx.report(
          `${label(g)} uses subnets that are not declared in this stack, so their routes and public IP settings cannot be verified.`,
          g.urn,
        );
      }
      for (const s of subnets) {
        if (bool(s.props, "mapPublicIpOnLaunch") === true)
          ctx.report(`${label(g)} uses ${label(s)}, which gives public IPs.`, g.urn);
        if (!tableOfSubnet.has(s.urn)) {
          ctx.report(
            `${label(g)} uses ${label(s)}, which has no route table association in this stack (it would use the VPC's main route table).`,
            g.urn,
          );
          continue;
        }
        const t = tableOfSubnet.get(s.urn);
        if (t && (open.get(t.urn) ?? []).length > 0)
          ctx.report(`${label(g)} uses ${label(s)}, whose ${label(t)} routes to the internet.`, g.urn);
      }
    }
  },
};

export const networkFlowLogs: StackRule = {
  kind: "stack",
  name: "network-flow-logs",
  description:
    "Every VPC records all its traffic in flow logs delivered to a log group or bucket of this stack, and every GCP subnetwork has flow logs on.",
  domain: "audit",
  severity: "medium",
  enforcementLevel: "mandatory",
  articles: AUDIT,
  remediation:
    "Attach an aws.ec2.FlowLog with trafficType 'ALL' to every VPC, delivered to an aws.cloudwatch.LogGroup (or an S3 bucket) declared in this stack so that its customer-managed key and retention are checked too. On GCP, set logConfig on every subnetwork with a flowSampling above 0. Flow logs are the network record of which workload reached which address, needed to investigate and notify a breach.",
  resourceTypes: [VPC, FLOW_LOG, GCP_SUBNETWORK],
  validate(resources, ctx) {
    const flowLogs = resources.filter((r) => r.type === FLOW_LOG);
    for (const f of flowLogs) {
      const traffic = str(f.props, "trafficType");
      if (traffic !== "ALL")
        ctx.report(
          `${label(f)} records '${traffic ?? "no"}' traffic only; set trafficType to 'ALL' (accepted connections are the ones that move data).`,
          f.urn,
        );
      const type = str(f.props, "logDestinationType") ?? "cloud-watch-logs";
      const destProp = peekStr(f.props, "logDestination") !== undefined ? "logDestination" : "logGroupName";
      const destTypes = type === "s3" ? [S3_BUCKET] : type === "cloud-watch-logs" ? [LOG_GROUP] : [];
      const dest = referenced(resources, f, destProp, destTypes, ["arn", "name", "id"]);
      if (!dest) {
        ctx.report(
          `${label(f)} delivers to '${peekStr(f.props, destProp) ?? type}', which is not a log group or bucket declared in this stack, so its encryption and retention cannot be verified.`,
          f.urn,
        );
      }
    }
    for (const v of resources.filter((r) => r.type === VPC)) {
      const logs = flowLogs.filter((f) => referenced(resources, f, "vpcId", [VPC], ["id"]) === v);
      if (logs.length === 0) ctx.report(`${label(v)} has no flow log.`, v.urn);
      else if (!logs.some((f) => str(f.props, "trafficType") === "ALL"))
        ctx.report(`${label(v)} has no flow log recording ALL traffic.`, v.urn);
    }
    for (const s of resources.filter((r) => r.type === GCP_SUBNETWORK)) {
      if (!isRecord(s.props.logConfig)) {
        ctx.report(`${label(s)} has no flow logs: set logConfig.`, s.urn);
        continue;
      }
      const sampling = num(s.props, "logConfig.flowSampling") ?? 0.5;
      if (sampling <= 0) ctx.report(`${label(s)} samples no flows (logConfig.flowSampling ${sampling}).`, s.urn);
    }
  },
};

/** `com.amazonaws.<region>.<service>` -> region, else undefined. */
const endpointRegion = (serviceName: string | undefined): string | undefined =>
  serviceName === undefined ? undefined : /^com\.amazonaws\.([a-z]{2}(?:-gov)?-[a-z]+-\d)\./.exec(serviceName)?.[1];

/** True for a statement that allows every action on every resource to every principal, unconditionally. */
function allowsEverything(s: Record<string, unknown>): boolean {
  if (s.Effect !== "Allow" || s.Condition !== undefined) return false;
  const p = s.Principal;
  const everyone = p === undefined || p === "*" || (isRecord(p) && asArray(p.AWS).includes("*"));
  return everyone && asArray(s.Action).includes("*") && asArray(s.Resource).includes("*");
}

export const vpcEndpointsPrivate: ResourceRule = {
  kind: "resource",
  name: "vpc-endpoints-private",
  description:
    "VPC endpoints serve the cell's own region, interface endpoints resolve the service name privately, and endpoint policies do not allow everything.",
  domain: "public-access",
  severity: "medium",
  enforcementLevel: "mandatory",
  articles: [...NO_PUBLIC, A.gdpr44, A.lgpd33],
  remediation:
    "Set privateDnsEnabled true on interface endpoints so that SDK calls to the service's regular hostname go through the endpoint, use only services of the cell's own region (no serviceRegion elsewhere), and give each endpoint a policy that names the cell's account, buckets or keys instead of allowing '*' on '*'. Without a policy the endpoint gets AWS's default full-access policy, which lets a compromised workload copy data to any account.",
  resourceTypes: [VPC_ENDPOINT],
  validate(r, ctx) {
    const type = str(r.props, "vpcEndpointType") ?? "Gateway";
    const service = str(r.props, "serviceName");
    const region = awsRegionOf(r);
    const target = str(r.props, "serviceRegion") ?? endpointRegion(service);
    const j = jurisdictionOf(r, ctx.settings);
    if (target !== undefined && (target !== region || (j !== undefined && !j.settings.awsRegions.includes(target)))) {
      ctx.report(
        `${label(r)} connects to '${service ?? "?"}' in '${target}', not the VPC's region '${region ?? "?"}'.`,
        r.urn,
      );
    }
    if (type === "Interface" && bool(r.props, "privateDnsEnabled") !== true) {
      ctx.report(
        `${label(r)} does not enable private DNS: clients resolve '${service ?? "the service"}' to its public endpoint; set privateDnsEnabled to true.`,
        r.urn,
      );
    }
    const raw = r.props.policy;
    if (raw === undefined || raw === null || raw === "") {
      ctx.advise(
        `${label(r)} has no endpoint policy, so AWS applies the default policy that allows every action on every resource of '${service ?? "the service"}'.`,
        r.urn,
      );
      return;
    }
    const doc = policyDocument(str(r.props, "policy") ?? raw);
    if (!doc) {
      ctx.report(`${label(r)} has a policy that is not a readable policy document.`, r.urn);
      return;
    }
    doc.Statement.forEach((s, i) => {
      if (allowsEverything(s))
        ctx.report(
          `${label(r)} policy statement ${i} allows every action on every resource to every principal.`,
          r.urn,
        );
    });
  },
};

export const gcpNetworkPrivate: ResourceRule = {
  kind: "resource",
  name: "gcp-network-private-regional",
  description: "GCP networks create no automatic subnets, and subnetworks reach Google APIs privately.",
  domain: "residency",
  severity: "high",
  enforcementLevel: "mandatory",
  articles: [A.gdpr44, A.lgpd33, A.gdpr25_2, A.lgpd46],
  remediation:
    "Create gcp.compute.Network with autoCreateSubnetworks false (auto mode creates a subnet in every Google Cloud region, most of them outside the jurisdiction) and declare one gcp.compute.Subnetwork per region of the cell. Set privateIpGoogleAccess true on every subnetwork so that workers without public IPs reach BigQuery, Cloud Storage and Cloud KMS privately.",
  resourceTypes: [GCP_NETWORK, GCP_SUBNETWORK],
  validate(r, ctx) {
    if (r.type === GCP_NETWORK) {
      // The provider's default for autoCreateSubnetworks is true.
      if (bool(r.props, "autoCreateSubnetworks") !== false) {
        ctx.report(
          `${label(r)} is an auto-mode network: it creates a subnet in every region; set autoCreateSubnetworks to false.`,
          r.urn,
        );
      }
      return;
    }
    if (bool(r.props, "privateIpGoogleAccess") !== true) {
      ctx.report(`${label(r)} has no Private Google Access: set privateIpGoogleAccess to true.`, r.urn);
    }
  },
};

export const networkRules = [privateNetworkRouting, networkFlowLogs, vpcEndpointsPrivate, gcpNetworkPrivate] as const;

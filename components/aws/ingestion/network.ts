/**
 * The ingestion network of a cell: a VPC with private subnets only (no internet gateway, no NAT, no
 * public IPs), VPC endpoints for every AWS service DMS Serverless reaches, security groups that open
 * only the source ports and HTTPS to the endpoints, and flow logs into a KMS-encrypted log group.
 *
 * Assumption: the source databases are reached privately, over Direct Connect, Site-to-Site VPN or
 * peering attached to this VPC by the network team (routes to `sourceCidrs`); the lake never reaches
 * a database over the internet. DMS Serverless "need[s] to access dependencies by using VPC endpoints"
 * (S3, Secrets Manager...: DMS user guide, "AWS DMS Serverless limitations").
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { awsZoneSuffixes } from "../../config/regions";
import { classification } from "../../conventions";
import { ServiceRole } from "../iam/service-role";
import { allow, statement, staticPolicyDocument } from "../iam/statements";

/**
 * Interface endpoints: Secrets Manager and KMS (endpoint credentials), STS (role sessions), CloudWatch Logs
 * and Monitoring (replication logs, metrics), Glue (the Data Catalog and connections, for the Glue jobs of
 * the NoSQL sources that run in this VPC: "VPC Connection" setup in the Glue developer guide lists the STS,
 * Glue and Secrets Manager endpoints for a VPC without internet).
 */
export const INTERFACE_ENDPOINT_SERVICES = ["secretsmanager", "kms", "sts", "logs", "monitoring", "glue"] as const;

/**
 * What may pass each endpoint: the calls DMS and its roles make, named (no wildcard actions). Endpoint
 * policies are a data perimeter on top of IAM: only principals of this account, and for S3 only buckets
 * of this account, so the VPC cannot be used to move lake data to a foreign bucket.
 */
export const ENDPOINT_ACTIONS: Readonly<
  Record<"s3" | (typeof INTERFACE_ENDPOINT_SERVICES)[number], readonly string[]>
> = {
  s3: [
    "s3:GetBucketLocation",
    "s3:ListBucket",
    "s3:GetObject",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:PutObjectTagging",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
  ],
  secretsmanager: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
  kms: [
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:DescribeKey",
    "kms:CreateGrant",
  ],
  sts: ["sts:AssumeRole", "sts:GetCallerIdentity"],
  logs: [
    "logs:CreateLogGroup",
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "logs:DescribeLogGroups",
    "logs:DescribeLogStreams",
    "logs:AssociateKmsKey",
  ],
  monitoring: ["cloudwatch:PutMetricData"],
  // What the NoSQL extraction jobs call from inside the VPC: their connection, and the curated tables.
  glue: [
    "glue:GetConnection",
    "glue:GetDatabase",
    "glue:GetTable",
    "glue:GetTables",
    "glue:UpdateTable",
    "glue:CreateTable",
  ],
};

/** The endpoint policy of one service (see ENDPOINT_ACTIONS). */
export function endpointPolicy(service: keyof typeof ENDPOINT_ACTIONS, accountId: string): string {
  return staticPolicyDocument([
    statement({
      sid: "ThisAccountOnly",
      effect: "Allow",
      principal: "*",
      actions: ENDPOINT_ACTIONS[service],
      resources: "*",
      condition: {
        StringEquals: {
          "aws:PrincipalAccount": accountId,
          ...(service === "s3" ? { "s3:ResourceAccount": accountId } : {}),
        },
      },
    }),
  ]);
}

/** Private ranges sources may live in when config names none (RFC 1918). */
export const RFC1918 = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"] as const;

export interface IngestionNetworkArgs {
  /** `lakehouse-<env>-<cell>`: the start of physical names. */
  readonly resourcePrefix: string;
  /** The cell's region: endpoint service names and zones. */
  readonly region: string;
  /** The account the endpoint policies admit (`aws:PrincipalAccount`, `s3:ResourceAccount`). */
  readonly accountId: string;
  /** VPC CIDR; split into one subnet per availability zone. */
  readonly vpcCidr: string;
  /** Networks of the source databases. */
  readonly sourceCidrs: readonly string[];
  /** TCP ports of the sources (DMS egress is limited to these). */
  readonly sourcePorts: readonly number[];
  /** Availability zone suffixes. @default the region's zones in components/config/regions.ts */
  readonly zones?: readonly string[];
  /** Customer-managed key of the flow-log group (its policy grants CloudWatch Logs). */
  readonly logsKmsKeyArn: pulumi.Input<string>;
  /** Days flow logs are kept (`retention.logs`). */
  readonly logRetentionDays: number;
  /**
   * Run in an existing VPC (its owner keeps the routes to the sources): no VPC, subnets or route table are
   * created; endpoints, security groups and flow logs are. `vpcCidr` must then be that VPC's CIDR.
   * @default a new VPC
   */
  readonly existing?: {
    /** The VPC's id. */
    readonly vpcId: string;
    /** Private subnets for the replications and interface endpoints. */
    readonly subnetIds: readonly string[];
    /** Route tables the S3 gateway endpoint is added to. */
    readonly routeTableIds: readonly string[];
  };
}

/** The cell's network config (`lakehouse:cells[].network`), as far as the ingestion network reads it. */
export interface CellNetworkConfig {
  /** The VPC's CIDR. @default "10.80.0.0/22" */
  readonly vpcCidr?: string;
  /** Networks of the sources. @default the RFC 1918 ranges */
  readonly sourceCidrs?: readonly string[];
  /** An existing VPC (with `subnetIds`, `routeTableIds`; `vpcCidr` is then its CIDR). @default a new VPC */
  readonly vpcId?: string;
  /** Private subnets of the existing VPC. @default [] */
  readonly subnetIds?: readonly string[];
  /** Route tables of the existing VPC (the S3 gateway endpoint). @default [] */
  readonly routeTableIds?: readonly string[];
}

/** The ingestion network's args from the cell's network config (defaults: a new `10.80.0.0/22` VPC, RFC 1918 sources). */
export function ingestionNetworkArgs(s: {
  /** `lakehouse-<env>-<cell>`. */
  readonly resourcePrefix: string;
  readonly region: string;
  readonly accountId: string;
  readonly network?: CellNetworkConfig;
  /** Ports of the transactional sources (DMS egress). */
  readonly sourcePorts: readonly number[];
  readonly logsKmsKeyArn: pulumi.Input<string>;
  readonly logRetentionDays: number;
}): IngestionNetworkArgs {
  return {
    resourcePrefix: s.resourcePrefix,
    region: s.region,
    accountId: s.accountId,
    vpcCidr: s.network?.vpcCidr ?? "10.80.0.0/22",
    sourceCidrs: s.network?.sourceCidrs ?? [...RFC1918],
    sourcePorts: s.sourcePorts,
    logsKmsKeyArn: s.logsKmsKeyArn,
    logRetentionDays: s.logRetentionDays,
    existing: s.network?.vpcId
      ? { vpcId: s.network.vpcId, subnetIds: s.network.subnetIds ?? [], routeTableIds: s.network.routeTableIds ?? [] }
      : undefined,
  };
}

/** Splits an IPv4 CIDR into `count` equal subnets (the next power of two). */
export function splitCidr(cidr: string, count: number): string[] {
  const [ip, bitsText] = cidr.split("/");
  const bits = Number(bitsText);
  const extra = Math.ceil(Math.log2(Math.max(1, count)));
  const newBits = bits + extra;
  if (newBits > 28) throw new Error(`${cidr} is too small for ${count} subnets`);
  const base = ip.split(".").reduce((acc, o) => acc * 256 + Number(o), 0);
  const size = 2 ** (32 - newBits);
  const toIp = (n: number) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");
  return Array.from({ length: count }, (_, i) => `${toIp(base + i * size)}/${newBits}`);
}

export class IngestionNetwork extends pulumi.ComponentResource {
  /** The VPC, when this component created it. */
  public readonly vpc: aws.ec2.Vpc | undefined;
  public readonly vpcId: pulumi.Output<string>;
  /** Subnets this component created (none in an existing VPC). */
  public readonly subnets: aws.ec2.Subnet[];
  public readonly subnetIds: pulumi.Output<string>[];
  /** Security group of the DMS replications: egress to the sources and to the endpoints only. */
  public readonly dmsSecurityGroup: aws.ec2.SecurityGroup;
  public readonly endpointSecurityGroup: aws.ec2.SecurityGroup;
  public readonly flowLogGroup: aws.cloudwatch.LogGroup;
  /** The region's S3 prefix list (the gateway endpoint's), for egress rules of other security groups in the VPC. */
  public readonly s3PrefixListId: pulumi.Output<string>;
  /** Networks of the sources (egress rules of the security groups of jobs that read them). */
  public readonly sourceCidrs: readonly string[];
  /** The VPC's CIDR (the new VPC's, or the existing one's as config states it): clients admitted inside. */
  public readonly vpcCidr: string;
  /** Resolves once the endpoints exist: replications must not start before their dependencies are reachable. */
  public readonly ready: pulumi.Output<string>;

  constructor(name: string, args: IngestionNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:aws:IngestionNetwork", name, args, opts);
    // The AZs that exist in the region, from the table (components/config/regions.ts).
    const zones = args.zones ?? awsZoneSuffixes(args.region);

    const created = args.existing ? undefined : this.createVpc(name, args, zones);
    this.vpc = created?.vpc;
    this.subnets = created?.subnets ?? [];
    this.vpcId = created ? created.vpc.id : pulumi.output(args.existing!.vpcId);
    this.subnetIds = created
      ? created.subnets.map((x) => x.id)
      : args.existing!.subnetIds.map((id) => pulumi.output(id));
    const routeTableIds: pulumi.Input<string>[] = created ? created.routeTableIds : [...args.existing!.routeTableIds];

    this.endpointSecurityGroup = new aws.ec2.SecurityGroup(
      `${name}-endpoints`,
      {
        vpcId: this.vpcId,
        description: "HTTPS from the ingestion VPC to the AWS service endpoints",
        ingress: [
          {
            description: "HTTPS from the VPC",
            protocol: "tcp",
            fromPort: 443,
            toPort: 443,
            cidrBlocks: [args.vpcCidr],
          },
        ],
        egress: [],
        tags: { Name: `${args.resourcePrefix}-ingestion-endpoints` },
      },
      { parent: this },
    );
    const { s3, interfaces } = this.createEndpoints(name, args, routeTableIds);
    this.dmsSecurityGroup = this.createDmsSecurityGroup(name, args, s3.prefixListId);
    this.s3PrefixListId = s3.prefixListId;
    this.sourceCidrs = [...args.sourceCidrs];
    this.vpcCidr = args.vpcCidr;
    this.flowLogGroup = this.createFlowLogs(name, args);

    this.ready = pulumi.all([s3.id, ...interfaces.map((e) => e.id)]).apply(([id]) => id);
    this.registerOutputs({
      vpcId: this.vpcId,
      subnetIds: this.subnetIds,
      dmsSecurityGroupId: this.dmsSecurityGroup.id,
    });
  }

  /** The S3 gateway endpoint and one interface endpoint per service, each with its this-account-only policy. */
  private createEndpoints(
    name: string,
    args: IngestionNetworkArgs,
    routeTableIds: pulumi.Input<string>[],
  ): { s3: aws.ec2.VpcEndpoint; interfaces: aws.ec2.VpcEndpoint[] } {
    const s3 = new aws.ec2.VpcEndpoint(
      `${name}-s3`,
      {
        vpcId: this.vpcId,
        serviceName: `com.amazonaws.${args.region}.s3`,
        vpcEndpointType: "Gateway",
        routeTableIds,
        policy: endpointPolicy("s3", args.accountId),
        tags: { Name: `${args.resourcePrefix}-ingestion-s3` },
      },
      { parent: this },
    );
    const interfaces = INTERFACE_ENDPOINT_SERVICES.map(
      (service) =>
        new aws.ec2.VpcEndpoint(
          `${name}-${service}`,
          {
            vpcId: this.vpcId,
            serviceName: `com.amazonaws.${args.region}.${service}`,
            vpcEndpointType: "Interface",
            privateDnsEnabled: true,
            subnetIds: this.subnetIds,
            securityGroupIds: [this.endpointSecurityGroup.id],
            policy: endpointPolicy(service, args.accountId),
            tags: { Name: `${args.resourcePrefix}-ingestion-${service}` },
          },
          { parent: this },
        ),
    );
    return { s3, interfaces };
  }

  /**
   * The replications' security group: out to the sources' ports and to the endpoints only. The S3 gateway
   * endpoint is reached through the region's S3 prefix list, not the VPC CIDR.
   */
  private createDmsSecurityGroup(
    name: string,
    args: IngestionNetworkArgs,
    s3PrefixListId: pulumi.Input<string>,
  ): aws.ec2.SecurityGroup {
    return new aws.ec2.SecurityGroup(
      `${name}-dms`,
      {
        vpcId: this.vpcId,
        description: "DMS Serverless replications: out to the source databases and the AWS endpoints only",
        ingress: [],
        egress: [
          ...[...new Set(args.sourcePorts)]
            .sort((a, b) => a - b)
            .map((port) => ({
              description: `source databases on ${port}`,
              protocol: "tcp",
              fromPort: port,
              toPort: port,
              cidrBlocks: [...args.sourceCidrs],
            })),
          {
            description: "interface endpoints",
            protocol: "tcp",
            fromPort: 443,
            toPort: 443,
            cidrBlocks: [args.vpcCidr],
          },
          {
            description: "S3 gateway endpoint",
            protocol: "tcp",
            fromPort: 443,
            toPort: 443,
            prefixListIds: [s3PrefixListId],
          },
        ],
        tags: { Name: `${args.resourcePrefix}-ingestion-dms` },
      },
      { parent: this },
    );
  }

  /** Flow logs of the whole VPC into a KMS-encrypted log group, delivered through a role kept to that group. */
  private createFlowLogs(name: string, args: IngestionNetworkArgs): aws.cloudwatch.LogGroup {
    const group = new aws.cloudwatch.LogGroup(
      `${name}-flow-logs`,
      {
        name: `/lakehouse/${args.resourcePrefix}/ingestion/vpc-flow-logs`,
        kmsKeyId: args.logsKmsKeyArn,
        retentionInDays: args.logRetentionDays,
        tags: classification("logs"),
      },
      { parent: this },
    );
    // The trust policy carries the confused-deputy guard (VPC user guide, "IAM role for publishing flow
    // logs to CloudWatch Logs").
    const role = new ServiceRole(
      `${name}-flow-logs`,
      {
        service: "vpc-flow-logs.amazonaws.com",
        accountId: args.accountId,
        description: "VPC flow logs delivery into the ingestion flow-log group",
        statements: [
          allow(
            "WriteFlowLogs",
            ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            [group.arn, pulumi.interpolate`${group.arn}:log-stream:*`],
          ),
        ],
      },
      { parent: this },
    );
    new aws.ec2.FlowLog(
      `${name}-flow-logs`,
      {
        vpcId: this.vpcId,
        trafficType: "ALL",
        logDestinationType: "cloud-watch-logs",
        logDestination: group.arn,
        iamRoleArn: role.arn,
        maxAggregationInterval: 60,
      },
      { parent: this },
    );
    return group;
  }

  /** A new VPC with private subnets in the given zones and one route table with only the local route. */
  private createVpc(
    name: string,
    args: IngestionNetworkArgs,
    zones: readonly string[],
  ): { vpc: aws.ec2.Vpc; subnets: aws.ec2.Subnet[]; routeTableIds: pulumi.Input<string>[] } {
    const child = { parent: this };
    const vpc = new aws.ec2.Vpc(
      `${name}-vpc`,
      {
        cidrBlock: args.vpcCidr,
        // Interface endpoints with private DNS need both.
        enableDnsSupport: true,
        enableDnsHostnames: true,
        tags: { Name: `${args.resourcePrefix}-ingestion`, ...classification("none") },
      },
      child,
    );
    // The default security group allows all traffic between its members: strip it so nothing can use it.
    new aws.ec2.DefaultSecurityGroup(`${name}-default-sg`, { vpcId: vpc.id, ingress: [], egress: [] }, child);

    const routeTable = new aws.ec2.RouteTable(
      `${name}-private`,
      // Only the implicit local route: no internet gateway, no NAT. Routes to the sources' networks are
      // added by the VPN/Direct Connect attachment (propagated), outside this component.
      { vpcId: vpc.id, tags: { Name: `${args.resourcePrefix}-ingestion-private` } },
      child,
    );
    const subnets = splitCidr(args.vpcCidr, zones.length).map((cidr, i) => {
      const az = `${args.region}${zones[i]}`;
      const subnet = new aws.ec2.Subnet(
        `${name}-private-${zones[i]}`,
        {
          vpcId: vpc.id,
          cidrBlock: cidr,
          availabilityZone: az,
          mapPublicIpOnLaunch: false,
          tags: { Name: `${args.resourcePrefix}-ingestion-${az}` },
        },
        child,
      );
      new aws.ec2.RouteTableAssociation(
        `${name}-private-${zones[i]}`,
        { subnetId: subnet.id, routeTableId: routeTable.id },
        child,
      );
      return subnet;
    });
    return { vpc, subnets, routeTableIds: [routeTable.id] };
  }
}

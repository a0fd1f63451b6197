/**
 * The architecture as the plan holds it: one box per drawn component instance (components/flows.ts) in its
 * cell and cloud, named with the cloud services of the resources it holds; external sources per family and
 * cell on the left; personas on the right; the declared flows between them. The diagram and the deck draw
 * this, and test/deck checks it against the plan.
 */
import { CONTAINERS, DRAWN_COMPONENTS, PART_OF, type DrawnComponent } from "../../components/flows";
import { PERSONA_TITLES } from "../../components/federation/persona-matrix";
import type { PersonaId } from "../../components/config/schema";
import type { Plan, PlannedResource } from "../plan/types";

export type Cloud = "aws" | "gcp";

export interface Box {
  /** Unique id: the component's logical name. */
  readonly id: string;
  readonly type: string;
  readonly cell: string;
  readonly cloud: Cloud;
  readonly title: string;
  /** Cloud services of the resources it holds, its own cloud's first, engines before stores. */
  readonly services: readonly string[];
  /** URNs of every resource it holds: its own subtree and those of its parts. */
  readonly urns: ReadonlySet<string>;
}

export interface SourceNode {
  readonly id: string;
  readonly cell: string;
  readonly family: string;
  /** Individual sources: `orders-br (oracle)`, `web-events-br`. */
  readonly items: readonly string[];
}

export interface ConsumerNode {
  readonly id: string;
  readonly persona: PersonaId;
  readonly title: string;
}

export interface Edge {
  readonly id: string;
  readonly from: string;
  readonly to: string;
  readonly label: string;
  readonly control: boolean;
  /** True when both ends are boxes (a flow the plan can back with a reference). */
  readonly internal: boolean;
}

export interface Lane {
  readonly cloud: Cloud;
  readonly cell: string;
  /** The cell provider's region on that cloud. */
  readonly region: string;
}

export interface Architecture {
  readonly stack: string;
  readonly cells: readonly string[];
  readonly lanes: readonly Lane[];
  readonly boxes: readonly Box[];
  readonly sources: readonly SourceNode[];
  readonly consumers: readonly ConsumerNode[];
  readonly edges: readonly Edge[];
}

/** A component the plan holds that no box covers. */
export class UndrawnComponentError extends Error {
  constructor(readonly components: readonly string[]) {
    super(
      `components neither drawn nor part of a drawn box (declare them in components/flows.ts): ${components.join(", ")}`,
    );
    this.name = "UndrawnComponentError";
  }
}

/**
 * Service names per resource type prefix (`<pkg>:<module>` or the full `<pkg>:<module>/<resource>`), the
 * most specific first. Order in the list is the order on the box.
 */
const SERVICES: readonly (readonly [string, string])[] = [
  // Engines first (what the box does), then stores, then the services around them.
  ["aws:dms", "DMS Serverless"],
  ["aws:msk", "MSK"],
  ["aws:mskconnect", "MSK Connect"],
  ["aws:kinesis/firehoseDeliveryStream", "Firehose"],
  ["aws:kinesis", "Kinesis"],
  ["aws:lambda", "Lambda"],
  ["aws:s3", "S3"],
  ["aws:glue", "Glue"],
  ["aws:athena", "Athena"],
  ["aws:dynamodb", "DynamoDB"],
  ["aws:scheduler", "EventBridge Scheduler"],
  ["aws:lakeformation", "Lake Formation"],
  ["aws:cloudtrail", "CloudTrail"],
  ["aws:cloudwatch/eventRule", "EventBridge"],
  ["aws:cloudwatch/eventTarget", "EventBridge"],
  ["aws:cloudwatch/metricAlarm", "CloudWatch"],
  ["aws:sns", "SNS"],
  ["aws:sqs", "SQS"],
  ["aws:secretsmanager", "Secrets Manager"],
  ["aws:kms", "KMS"],
  ["aws:ec2", "VPC"],
  ["aws:cloudwatch", "CloudWatch Logs"],
  ["aws:iam", "IAM"],
  ["gcp:cloudrunv2", "Cloud Run"],
  ["gcp:dataflow", "Dataflow"],
  ["gcp:workbench", "Vertex AI Workbench"],
  ["gcp:vertex", "Vertex AI"],
  ["gcp:bigquery/connection", "BigQuery Omni"],
  ["gcp:bigquery/dataTransferConfig", "BigQuery Data Transfer"],
  ["gcp:storage/transferJob", "Storage Transfer"],
  ["gcp:pubsub", "Pub/Sub"],
  ["gcp:bigquery/biReservation", "BI Engine"],
  ["gcp:bigquery", "BigQuery"],
  ["gcp:storage", "Cloud Storage"],
  ["gcp:cloudscheduler", "Cloud Scheduler"],
  ["gcp:monitoring", "Cloud Monitoring"],
  ["gcp:datacatalog", "Data Catalog"],
  ["gcp:privilegedaccessmanager", "PAM"],
  ["gcp:secretmanager", "Secret Manager"],
  ["gcp:kms", "Cloud KMS"],
  ["gcp:orgpolicy", "Org Policy"],
  ["gcp:compute", "VPC"],
  ["gcp:logging", "Cloud Logging"],
  ["gcp:projects", "IAM"],
  ["gcp:serviceaccount", "IAM"],
];

/**
 * Services every box uses (keys, identities, networks, logs): named on a box only when it has nothing
 * else, so the box says what it does; the security slide covers them.
 */
const PLUMBING = new Set([
  "Lake Formation",
  "KMS",
  "Cloud KMS",
  "IAM",
  "VPC",
  "CloudWatch Logs",
  "Cloud Logging",
  "Secrets Manager",
  "Secret Manager",
  "Org Policy",
  "Data Catalog",
]);

/** The service a resource type belongs to, or undefined (providers, random). */
export function serviceOf(type: string): string | undefined {
  const [pkg, mod = ""] = type.split(":");
  const full = `${pkg}:${mod}`;
  const family = `${pkg}:${mod.split("/")[0]}`;
  return SERVICES.find(([prefix]) => prefix === full || prefix === family)?.[1];
}

function cloudOf(r: PlannedResource): Cloud | undefined {
  const pkg = r.provider?.pkg ?? r.type.split(":")[0];
  return pkg === "aws" || pkg === "gcp" ? pkg : undefined;
}

/** `br-sources-web-events-br` under `br-sources` -> `web-events-br`. */
function shortName(name: string, parentName: string | undefined): string {
  return parentName !== undefined && name.startsWith(`${parentName}-`) ? name.slice(parentName.length + 1) : name;
}

const slug = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]+/g, "-");

export function extractArchitecture(plan: Plan): Architecture {
  const byUrn = new Map(plan.resources.map((r) => [r.urn, r]));
  const children = new Map<string, PlannedResource[]>();
  for (const r of plan.resources) {
    if (r.parent === undefined) continue;
    children.set(r.parent, [...(children.get(r.parent) ?? []), r]);
  }
  const subtree = (r: PlannedResource): PlannedResource[] => {
    const out = [r];
    for (const c of children.get(r.urn) ?? []) out.push(...subtree(c));
    return out;
  };
  const isComponent = (r: PlannedResource) => !r.custom && r.type.startsWith("lakehouse:");
  const drawn = plan.resources.filter((r) => isComponent(r) && r.type in DRAWN_COMPONENTS);

  // Owner of every resource: the nearest drawn ancestor-or-self, or the drawn box a part belongs to.
  const boxOfType = (type: string, cell: string | undefined): PlannedResource | undefined => {
    const found = drawn.filter((d) => d.type === type && d.cell === cell);
    if (found.length > 1)
      throw new Error(`${type} appears ${found.length} times in cell ${cell}: a part needs one box`);
    return found[0];
  };
  const owner = new Map<string, PlannedResource | undefined>();
  const ownerOf = (r: PlannedResource): PlannedResource | undefined => {
    if (owner.has(r.urn)) return owner.get(r.urn);
    let o: PlannedResource | undefined;
    if (r.type in DRAWN_COMPONENTS) o = r;
    else if (r.type in PART_OF) o = boxOfType(PART_OF[r.type], r.cell);
    else if (r.parent !== undefined && byUrn.has(r.parent)) o = ownerOf(byUrn.get(r.parent)!);
    owner.set(r.urn, o);
    return o;
  };
  const undrawn = plan.resources
    .filter((r) => isComponent(r) && !CONTAINERS.includes(r.type) && ownerOf(r) === undefined)
    .map((r) => `${r.type} (${r.name})`);
  if (undrawn.length > 0) throw new UndrawnComponentError(undrawn);

  const held = new Map<string, PlannedResource[]>();
  for (const r of plan.resources) {
    const o = ownerOf(r);
    if (o !== undefined) held.set(o.urn, [...(held.get(o.urn) ?? []), r]);
  }

  const boxes: Box[] = drawn.map((d) => {
    const resources = held.get(d.urn) ?? [];
    const counts = { aws: 0, gcp: 0 };
    for (const r of resources) if (r.custom && cloudOf(r)) counts[cloudOf(r)!]++;
    const cloud: Cloud = counts.gcp > counts.aws ? "gcp" : "aws";
    // Its own cloud's services first (a cross-cloud box like the in-country copy names both).
    const order = SERVICES.map(([, n]) => n);
    const named = (c: Cloud) => {
      const all = [
        ...new Set(
          resources
            .filter((r) => r.custom && cloudOf(r) === c)
            .map((r) => serviceOf(r.type))
            .filter((s): s is string => s !== undefined),
        ),
      ];
      const main = all.filter((s) => !PLUMBING.has(s));
      return (main.length > 0 ? main : all).sort((a, b) => order.indexOf(a) - order.indexOf(b));
    };
    const own = named(cloud);
    const other = named(cloud === "aws" ? "gcp" : "aws").filter((s) => !PLUMBING.has(s));
    const services = [...own, ...other.filter((s) => !own.includes(s))];
    if (d.cell === undefined) throw new Error(`${d.type} ${d.name} is in no cell`);
    return {
      id: d.name,
      type: d.type,
      cell: d.cell,
      cloud,
      title: DRAWN_COMPONENTS[d.type].title,
      services,
      urns: new Set(resources.map((r) => r.urn)),
    };
  });
  const boxByName = new Map(boxes.map((b) => [b.id, b]));

  const sources = new Map<string, SourceNode & { items: string[] }>();
  const consumers = new Map<string, ConsumerNode>();
  const edges = new Map<string, Edge>();
  const addEdge = (from: string, to: string, label: string, control: boolean, internal: boolean) => {
    const id = `${from}->${to}`;
    if (!edges.has(id)) edges.set(id, { id, from, to, label, control, internal });
  };

  for (const d of drawn) {
    const decl: DrawnComponent = DRAWN_COMPONENTS[d.type];
    const box = boxByName.get(d.name)!;
    for (const s of decl.sources ?? []) {
      const id = `source-${box.cell}-${slug(s.family)}`;
      const node = sources.get(id) ?? { id, cell: box.cell, family: s.family, items: [] };
      const parentName = d.parent ? byUrn.get(d.parent)?.name : undefined;
      const itemResources =
        s.items === undefined ? [d] : subtree(d).filter((r) => r.type === s.items && r.urn !== d.urn);
      for (const item of s.listed === false ? [] : itemResources) {
        const name = shortName(item.name, s.items === undefined ? parentName : d.name);
        const detail = s.itemDetail
          ? subtree(item).find((r) => r.type === s.itemDetail!.type && r.inputs.endpointType !== "target")?.inputs[
              s.itemDetail.input
            ]
          : undefined;
        node.items.push(typeof detail === "string" ? `${name} (${detail})` : name);
      }
      sources.set(id, node);
      addEdge(id, box.id, s.label, false, false);
    }
    for (const f of decl.flows) {
      if (f.to.startsWith("persona:")) {
        const persona = f.to.slice("persona:".length) as PersonaId;
        if (!(persona in PERSONA_TITLES)) throw new Error(`${d.type}: unknown persona ${persona}`);
        const id = `consumer-${persona}`;
        consumers.set(id, { id, persona, title: PERSONA_TITLES[persona] });
        addEdge(box.id, id, f.label, f.control === true, false);
        continue;
      }
      for (const target of boxes.filter((b) => b.type === f.to && b.cell === box.cell)) {
        addEdge(box.id, target.id, f.label, f.control === true, true);
      }
    }
  }

  const cells = [...new Set(plan.resources.filter((r) => r.type === "lakehouse:cell:Cell").map((r) => r.name))];
  const lanes: Lane[] = [];
  for (const cloud of ["aws", "gcp"] as const) {
    for (const cell of cells) {
      const provider = plan.resources.find((r) => r.type === `pulumi:providers:${cloud}` && r.cell === cell);
      const region = provider?.inputs.region;
      if (boxes.some((b) => b.cloud === cloud && b.cell === cell)) {
        lanes.push({ cloud, cell, region: typeof region === "string" ? region : "?" });
      }
    }
  }
  return {
    stack: plan.stack,
    cells,
    lanes,
    boxes,
    sources: [...sources.values()],
    consumers: [...consumers.values()],
    edges: [...edges.values()],
  };
}

/**
 * Whether the plan wires a flow between two boxes: a resource of one depends on (or takes an input from)
 * a resource of the other, in either direction.
 */
export function flowBacked(plan: Plan, from: Box, to: Box): boolean {
  const refers = (a: Box, b: Box) =>
    plan.resources.some(
      (r) =>
        a.urns.has(r.urn) &&
        (r.dependencies.some((u) => b.urns.has(u)) ||
          Object.values(r.propertyDependencies).some((us) => us.some((u) => b.urns.has(u)))),
    );
  return refers(from, to) || refers(to, from);
}

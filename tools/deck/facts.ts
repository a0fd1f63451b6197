/**
 * Every number and list the deck shows, read from the offline plan and the stack's validated config (and
 * the pure functions the program sizes itself with), never typed into a slide.
 */
import { cellErasureBounds } from "../../components/config/erasure-budget";
import {
  CLOUD_RUN_MAX_INSTANCES,
  DATAFLOW_MAX_WORKERS,
  DMS_MAX_DCU,
  scaleLimitProblems,
} from "../../components/config/cell-limits";
import { deriveCellSpecs, type CellSpec } from "../../components/config/spec";
import { parseStackConfig } from "../../components/config/validate";
import type { LakehouseConfig } from "../../components/config";
import {
  PERSONA_MATRIX,
  PERSONA_TITLES,
  ZONES,
  type Access,
  type Zone,
} from "../../components/federation/persona-matrix";
import type { PersonaId } from "../../components/config/schema";
import { rules } from "../../policy/policies";
import type { ErasureBound } from "../../policy/contract";
import type { Plan, PlannedResource } from "../plan/types";
import { extractArchitecture, type Architecture } from "./architecture";
import { costAt, type CostAt } from "./prices";

export interface CellFacts {
  readonly name: string;
  readonly law: string;
  readonly awsRegion: string;
  readonly gcpRegion: string;
  readonly federation: "omni" | "in-country-copy";
  readonly erasureSlaDays: number;
  readonly bounds: readonly ErasureBound[];
}

export interface ComponentLoad {
  readonly component: string;
  readonly throughput: string;
  readonly storage: string;
  readonly autoscaling: string;
}

export interface LimitFact {
  readonly service: string;
  readonly limit: string;
  /** The multiple of today's scale at which one cell reaches it. */
  readonly bindsAt: number;
}

export interface ArticleControls {
  readonly law: string;
  readonly article: string;
  readonly domains: readonly string[];
  readonly rules: readonly string[];
}

/** What the plan holds under every instance of a component type. */
export interface FamilyFacts {
  readonly instances: number;
  readonly icebergTables: number;
  /** Schedule expressions (Glue triggers, EventBridge Scheduler, Cloud Scheduler) under it. */
  readonly schedules: readonly string[];
}

export interface DeckFacts {
  readonly stack: string;
  readonly config: LakehouseConfig;
  readonly specs: readonly CellSpec[];
  readonly architecture: Architecture;
  readonly cells: readonly CellFacts[];
  readonly resourceCount: number;
  readonly componentCount: number;
  readonly scale: {
    readonly transactionsPerDay: number;
    readonly clickstreamEventsPerDay: number;
    readonly peakFactor: number;
  };
  readonly tps: { readonly average: number; readonly peak: number };
  readonly eps: { readonly average: number; readonly peak: number };
  readonly loads: readonly ComponentLoad[];
  readonly limits: readonly LimitFact[];
  /** Per source family, the sources of every cell. */
  readonly sources: Readonly<Record<string, readonly string[]>>;
  readonly plan: {
    readonly dmsCapacity: { readonly min: number; readonly max: number };
    readonly dataflowMaxWorkers: number;
    readonly collector: { readonly min: number; readonly max: number };
    readonly pubsubRetention: string;
    readonly msk: { readonly brokers: number; readonly instanceType: string; readonly volumeGb: number } | undefined;
    readonly firehoseStreams: number;
    readonly glueJobs: number;
    readonly icebergTables: number;
    readonly schedules: readonly string[];
    readonly marketingViews: readonly string[];
    readonly martViews: readonly string[];
    readonly featureStoreNodes: { readonly min: number; readonly max: number } | undefined;
    readonly featureSync: string | undefined;
    readonly biEngineGiB: number;
    readonly athenaCutoffsGiB: readonly number[];
    readonly workbenchInstances: number;
    readonly kmsKeys: { readonly aws: number; readonly gcp: number };
    readonly alarms: number;
    readonly alertPolicies: number;
    readonly vpcEndpoints: number;
  };
  /** Per component type (`lakehouse:aws:CsvFeed`, ...). */
  readonly families: Readonly<Record<string, FamilyFacts>>;
  readonly personas: readonly {
    readonly id: PersonaId;
    readonly title: string;
    readonly access: Readonly<Record<Zone, Access>>;
  }[];
  readonly policy: {
    readonly rules: number;
    readonly mandatory: number;
    readonly domains: readonly string[];
    readonly articles: readonly ArticleControls[];
  };
  readonly costs: readonly CostAt[];
}

const GiB = 1024 ** 3;

function ofType(plan: Plan, type: string): PlannedResource[] {
  return plan.resources.filter((r) => r.type === type);
}

function obj(v: unknown): Record<string, unknown> {
  return typeof v === "object" && v !== null ? (v as Record<string, unknown>) : {};
}

const num = (v: unknown): number => (typeof v === "number" ? v : Number(v));

/** One value every resource of a type agrees on (the cells are sized alike), or the range. */
function range(values: readonly number[]): { min: number; max: number } {
  return { min: Math.min(...values), max: Math.max(...values) };
}

export const fmtInt = (n: number): string => Math.round(n).toLocaleString("en-US");

/**
 * A schedule in words: EventBridge `rate(15 minutes)` / `cron(0/15 * * * ? *)` / `cron(30 1 * * ? *)`,
 * or a Unix cron (Cloud Scheduler, Vertex AI) `0 * * * *`. Anything else is returned as written.
 */
export function humanSchedule(expr: string): string {
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expr);
  if (rate) {
    const unit = rate[2].replace(/s$/, "");
    const unitShort = unit === "minute" ? "min" : unit;
    return rate[1] === "1" ? (unit === "day" ? "daily" : `${unit}ly`) : `every ${rate[1]} ${unitShort}`;
  }
  const fields = (/^cron\((.*)\)$/.exec(expr)?.[1] ?? expr).split(/\s+/);
  if (fields.length < 5) return expr;
  const [min, hour, dom, , dow] = fields;
  const every = /^(?:0|\*)\/(\d+)$/.exec(min);
  if (every && hour === "*") return `every ${every[1]} min`;
  if (/^\d+$/.test(min) && hour === "*") return "hourly";
  if (/^\d+$/.test(min) && /^\d+$/.test(hour) && (dom === "*" || dom === "?") && (dow === "*" || dow === "?"))
    return `daily ${hour.padStart(2, "0")}:${min.padStart(2, "0")} UTC`;
  return expr;
}

/** `604800s` (a protobuf Duration, as Pub/Sub takes it) -> `7 days`. */
export function durationDays(s: string): string {
  const m = /^(\d+)s$/.exec(s);
  if (!m) return s;
  const d = Number(m[1]) / 86_400;
  return `${Number.isInteger(d) ? d : d.toFixed(1)} day${d === 1 ? "" : "s"}`;
}

function planFacts(plan: Plan): DeckFacts["plan"] {
  const dms = ofType(plan, "aws:dms/replicationConfig:ReplicationConfig").map((r) => obj(r.inputs.computeConfig));
  const flex = ofType(plan, "gcp:dataflow/flexTemplateJob:FlexTemplateJob");
  const collectorServices = ofType(plan, "gcp:cloudrunv2/service:Service").filter((r) =>
    r.name.endsWith("-clickstream-collector"),
  );
  const scaling = collectorServices.map((r) => obj(obj(r.inputs.template).scaling));
  const topic = ofType(plan, "gcp:pubsub/topic:Topic").find((r) => r.name.endsWith("-clickstream-topic"));
  const msk = ofType(plan, "aws:msk/cluster:Cluster")[0];
  const views = (prefix: string) => [
    ...new Set(
      ofType(plan, "gcp:bigquery/table:Table")
        .filter((r) => r.inputs.view !== undefined && r.name.includes(prefix))
        .map((r) => String(r.inputs.tableId ?? r.name.replace(/^.*?-(?:views|marts)-/, ""))),
    ),
  ];
  const store = ofType(plan, "gcp:vertex/aiFeatureOnlineStore:AiFeatureOnlineStore").map((r) =>
    obj(obj(obj(r.inputs.bigtable).autoScaling)),
  );
  const sync = ofType(plan, "gcp:vertex/aiFeatureOnlineStoreFeatureview:AiFeatureOnlineStoreFeatureview").map(
    (r) => obj(r.inputs.syncConfig).cron,
  )[0];
  const bi = ofType(plan, "gcp:bigquery/biReservation:BiReservation").map((r) => num(r.inputs.size));
  const athena = [
    ...new Set(
      ofType(plan, "aws:athena/workgroup:Workgroup").map(
        (r) => num(obj(r.inputs.configuration).bytesScannedCutoffPerQuery) / GiB,
      ),
    ),
  ].sort((a, b) => a - b);
  return {
    dmsCapacity: {
      min: range(dms.map((c) => num(c.minCapacityUnits))).min,
      max: range(dms.map((c) => num(c.maxCapacityUnits))).max,
    },
    dataflowMaxWorkers: range(flex.map((r) => num(r.inputs.maxWorkers))).max,
    collector: {
      min: range(scaling.map((s) => num(s.minInstanceCount))).min,
      max: range(scaling.map((s) => num(s.maxInstanceCount))).max,
    },
    pubsubRetention: String(topic?.inputs.messageRetentionDuration ?? "?"),
    msk:
      msk === undefined
        ? undefined
        : {
            brokers: num(msk.inputs.numberOfBrokerNodes),
            instanceType: String(obj(msk.inputs.brokerNodeGroupInfo).instanceType),
            volumeGb: num(obj(obj(obj(msk.inputs.brokerNodeGroupInfo).storageInfo).ebsStorageInfo).volumeSize),
          },
    firehoseStreams: ofType(plan, "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream").length,
    glueJobs: ofType(plan, "aws:glue/job:Job").length,
    icebergTables: plan.resources.filter((r) => r.type === "lakehouse:aws:IcebergTable").length,
    schedules: [
      ...new Set(ofType(plan, "aws:scheduler/schedule:Schedule").map((r) => String(r.inputs.scheduleExpression))),
    ],
    marketingViews: views("-clickstream-views-"),
    martViews: views("-federation-marts-"),
    featureStoreNodes:
      store.length === 0
        ? undefined
        : {
            min: range(store.map((s) => num(s.minNodeCount))).min,
            max: range(store.map((s) => num(s.maxNodeCount))).max,
          },
    featureSync: typeof sync === "string" ? sync : undefined,
    biEngineGiB: bi.length === 0 ? 0 : Math.max(...bi) / GiB,
    athenaCutoffsGiB: athena,
    workbenchInstances: ofType(plan, "gcp:workbench/instance:Instance").length,
    kmsKeys: {
      aws: ofType(plan, "aws:kms/key:Key").length,
      gcp: ofType(plan, "gcp:kms/cryptoKey:CryptoKey").length,
    },
    alarms: ofType(plan, "aws:cloudwatch/metricAlarm:MetricAlarm").length,
    alertPolicies: ofType(plan, "gcp:monitoring/alertPolicy:AlertPolicy").length,
    vpcEndpoints: ofType(plan, "aws:ec2/vpcEndpoint:VpcEndpoint").length,
  };
}

function familyFacts(plan: Plan): Record<string, FamilyFacts> {
  const byUrn = new Map(plan.resources.map((r) => [r.urn, r]));
  const ancestorTypes = (r: PlannedResource): Set<string> => {
    const out = new Set<string>();
    for (let u = r.parent; u !== undefined; u = byUrn.get(u)?.parent) {
      const a = byUrn.get(u);
      if (a === undefined) break;
      out.add(a.type);
    }
    return out;
  };
  const out: Record<string, { instances: number; icebergTables: number; schedules: Set<string> }> = {};
  const entry = (t: string) => (out[t] ??= { instances: 0, icebergTables: 0, schedules: new Set() });
  for (const r of plan.resources) {
    if (!r.custom && r.type.startsWith("lakehouse:")) entry(r.type).instances++;
    const schedule =
      r.type === "aws:glue/trigger:Trigger"
        ? r.inputs.schedule
        : r.type === "aws:scheduler/schedule:Schedule"
          ? r.inputs.scheduleExpression
          : r.type === "gcp:cloudscheduler/job:Job"
            ? r.inputs.schedule
            : undefined;
    if (r.type !== "lakehouse:aws:IcebergTable" && schedule === undefined) continue;
    for (const t of ancestorTypes(r)) {
      if (r.type === "lakehouse:aws:IcebergTable") entry(t).icebergTables++;
      if (typeof schedule === "string") entry(t).schedules.add(schedule);
    }
  }
  return Object.fromEntries(
    Object.entries(out).map(([t, e]) => [
      t,
      { instances: e.instances, icebergTables: e.icebergTables, schedules: [...e.schedules] },
    ]),
  );
}

/** The smallest multiple (to 0.1) at which `test` holds, by doubling then bisection. */
function bindsAt(test: (multiple: number) => boolean): number {
  let lo = 1;
  let hi = 2;
  while (!test(hi) && hi < 1e6) hi *= 2;
  while (hi - lo > 0.1) {
    const mid = (lo + hi) / 2;
    if (test(mid)) hi = mid;
    else lo = mid;
  }
  return Math.round(hi * 10) / 10;
}

export function deckFacts(plan: Plan): DeckFacts {
  const config = parseStackConfig(plan.config, plan.stackFile);
  const specs = deriveCellSpecs(config, plan.stackFile);
  const architecture = extractArchitecture(plan);
  const scale = config.scale;
  const sizing = specs[0].sizing;
  const sourcesPerCell = Math.min(...specs.map((s) => Math.max(1, s.transactionalSources.length)));
  const p = planFacts(plan);

  const sources: Record<string, string[]> = {};
  for (const s of architecture.sources) {
    const items = s.items.map((i) => (i.includes(s.cell) ? i : `${i} (${s.cell})`));
    sources[s.family] = [...(sources[s.family] ?? []), ...items];
  }

  const eventBytes = 1_000;
  const loads: ComponentLoad[] = [
    {
      component: "Collector (Cloud Run)",
      throughput: `${fmtInt(sizing.eventsPerSecond.average)} events/s avg, ${fmtInt(sizing.eventsPerSecond.peak)} peak`,
      storage: "none (stateless)",
      autoscaling: `${p.collector.min}-${p.collector.max} instances`,
    },
    {
      component: "Pub/Sub topic",
      throughput: `${fmtInt((sizing.eventsPerSecond.peak * eventBytes) / 1e6)} MB/s peak`,
      storage: `retention ${durationDays(p.pubsubRetention)}`,
      autoscaling: "managed",
    },
    {
      component: "Dataflow → BigQuery",
      throughput: `${fmtInt(sizing.eventsPerSecond.peak)} events/s peak`,
      storage: `${fmtInt((scale.clickstreamEventsPerDay * eventBytes) / 1e9)} GB/day into BigQuery`,
      autoscaling: `up to ${p.dataflowMaxWorkers} workers`,
    },
    {
      component: "DMS Serverless (per source)",
      throughput: `${fmtInt((sizing.transactionsPerSecond.peak * 6) / sourcesPerCell)} changes/s peak`,
      storage: `${fmtInt((scale.transactionsPerDay * 6 * 200) / 1e9)} GB/day of rows (all sources)`,
      autoscaling: `${p.dmsCapacity.min}-${p.dmsCapacity.max} DCU`,
    },
  ];
  if (p.msk)
    loads.push({
      component: "MSK (Kafka)",
      throughput: `${sizing.kafkaPartitions} partitions/topic`,
      storage: `${fmtInt(p.msk.volumeGb)} GB/broker`,
      autoscaling: `${p.msk.brokers} × ${p.msk.instanceType}`,
    });
  if (p.featureStoreNodes)
    loads.push({
      component: "Feature Online Store",
      throughput: "online reads",
      storage: "Bigtable",
      autoscaling: `${p.featureStoreNodes.min}-${p.featureStoreNodes.max} nodes`,
    });

  const grown = (m: number) => ({
    ...scale,
    transactionsPerDay: scale.transactionsPerDay * m,
    clickstreamEventsPerDay: scale.clickstreamEventsPerDay * m,
  });
  // The multiple of today's scale at which one cell breaks each limit, by the validation's own check.
  const breaks = (marker: string) => (m: number) =>
    scaleLimitProblems(grown(m), sourcesPerCell).some((problem) => problem.includes(marker));
  const limits: LimitFact[] = [
    {
      service: "DMS Serverless",
      limit: `${DMS_MAX_DCU} DCU per replication`,
      bindsAt: bindsAt(breaks("DMS capacity units")),
    },
    {
      service: "Dataflow",
      limit: `${fmtInt(DATAFLOW_MAX_WORKERS)} workers per job`,
      bindsAt: bindsAt(breaks("Dataflow workers")),
    },
    {
      service: "Cloud Run",
      limit: `${fmtInt(CLOUD_RUN_MAX_INSTANCES)} instances per service`,
      bindsAt: bindsAt(breaks("collector instances")),
    },
  ].sort((x, y) => x.bindsAt - y.bindsAt);

  const cells: CellFacts[] = specs.map((s) => ({
    name: s.name,
    law: s.jurisdiction.law,
    awsRegion: s.cell.aws.region,
    gcpRegion: s.cell.gcp.region,
    federation: s.federation.mode,
    erasureSlaDays: s.erasure.slaDays,
    bounds: cellErasureBounds(s),
  }));

  const byArticle = new Map<string, { law: string; article: string; domains: Set<string>; rules: Set<string> }>();
  for (const r of rules) {
    for (const a of r.articles) {
      if (a.law === "Marco Civil") continue;
      const key = `${a.law} ${a.article}`;
      const entry = byArticle.get(key) ?? { law: a.law, article: a.article, domains: new Set(), rules: new Set() };
      entry.domains.add(r.domain);
      entry.rules.add(r.name);
      byArticle.set(key, entry);
    }
  }
  const articleKey = (a: string) => a.replace(/\d+/g, (n) => n.padStart(4, "0"));
  const articles = [...byArticle.values()]
    .sort((a, b) => a.law.localeCompare(b.law) || articleKey(a.article).localeCompare(articleKey(b.article)))
    .map((e) => ({ law: e.law, article: e.article, domains: [...e.domains].sort(), rules: [...e.rules].sort() }));

  const cellCount = specs.length;
  const costs = [1, 10, 100].map((m) =>
    costAt(m, scale, cellCount, sourcesPerCell, Math.max(...specs.map((s) => s.retention.clickstream))),
  );

  return {
    stack: plan.stack,
    config,
    specs,
    architecture,
    cells,
    resourceCount: plan.resources.filter((r) => r.custom && !r.type.startsWith("pulumi:providers:")).length,
    componentCount: plan.resources.filter((r) => !r.custom && r.type.startsWith("lakehouse:")).length,
    scale,
    tps: sizing.transactionsPerSecond,
    eps: sizing.eventsPerSecond,
    loads,
    limits,
    sources,
    plan: p,
    families: familyFacts(plan),
    personas: (Object.keys(PERSONA_MATRIX) as PersonaId[]).map((id) => ({
      id,
      title: PERSONA_TITLES[id],
      access: PERSONA_MATRIX[id],
    })),
    policy: {
      rules: rules.length,
      mandatory: rules.filter((r) => r.enforcementLevel === "mandatory").length,
      domains: [...new Set(rules.map((r) => r.domain))],
      articles,
    },
    costs,
  };
}

export { ZONES };

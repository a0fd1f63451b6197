/**
 * The rules the registry test applies to a plan (./registry.test.ts): which tables hold personal data,
 * which are deliberately not registered and why, where each cell's registry is read from, and whether a
 * prefix expires in time. Kept apart so they are tested on hand-built plans (./personal-data.test.ts).
 */
import {
  inflateRegistry,
  parseRegistry,
  REGISTRY_DEFLATED_ENV,
  type PersonalDataRegistry,
} from "../../functions/subject-rights/registry";
import type { Plan, PlannedResource } from "../../tools/plan/evaluate";

export interface PlanTable {
  readonly cloud: "aws" | "gcp";
  readonly dataset: string;
  readonly table: string;
  readonly columns: readonly { name: string; pseudonymTag: boolean }[];
  /** `s3://bucket/prefix/` of a Glue table over files. */
  readonly location?: string;
  readonly cell?: string;
}

/**
 * Tables that hold personal data and are deliberately not registered, each with its reason. `open` ones
 * are gaps the registry cannot close alone (reported on issue 14); the rest are exempt. None is open now:
 * schemaless Kafka tables and the clickstream dead letters are registered with text columns
 * (TEXT_MATCHED below), landed API records are reached through their prefix.
 */
export const NOT_REGISTERED: readonly { table: RegExp; column?: string; kind: "exempt" | "open"; reason: string }[] = [
  {
    table: /__cdc_tombstones$/,
    kind: "exempt",
    reason:
      "keys of rows the source already deleted, kept so a replayed older change cannot resurrect them: the deletion's " +
      "own record, needed to keep it effective (GDPR Art. 17(3)(b) and 5(2); LGPD Art. 16 I); the merge purges them " +
      "within a day (purgeTombstones in the merge config)",
  },
  {
    table: /^subject_suppression$/,
    kind: "exempt",
    reason:
      "pseudonyms of erased subjects: the erasure record that stops re-ingestion (GDPR Art. 17(3)(b); LGPD Art. 16 I)",
  },
];

/**
 * Pseudonym columns that are not a person's key. `group_pseudo_id`: a group is an account or organisation;
 * erasing a person must not erase their colleagues' events (components/gcp/clickstream/clickstream-table.ts).
 */
export const NOT_A_PERSON_KEY = new Set(["group_pseudo_id"]);
/**
 * Columns holding JSON text whose content no one declared: schemaless Kafka payloads (Iceberg: matched by
 * the workers as text) and landed API records (a Glue table over the landing files: reached through its
 * prefix, which expires inside the erasure bound; the records hold what the partner API sends, raw
 * identifiers included, which no pseudonym can match).
 */
const UNDECLARED_CONTENT = new Set(["payload", "record"]);

/**
 * Tables whose subject appears only inside text, and the columns the registry must match as text for them:
 * a table matching `table` and having `column` must be registered with `column` among its textColumns.
 */
export const TEXT_MATCHED: readonly { table: RegExp; column: string; what: string }[] = [
  { table: /./, column: "payload", what: "schemaless Kafka landing table (events as JSON text)" },
  { table: /^events_deadletter$/, column: "payloadString", what: "clickstream dead letters (failed messages as text)" },
];

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/** Column names the stack config names as a person's identifier (lower case). */
export function personIdentifiers(plan: Plan): Set<string> {
  const raw = plan.config["lakehouse:sources"];
  const sources = (raw === undefined ? {} : JSON.parse(raw)) as {
    transactional?: { tables: { piiColumns?: string[]; pseudonymise?: { column: string }[] }[] }[];
    csvFeeds?: { columns: { name: string; pii?: boolean }[] }[];
  };
  const ids = [
    ...(sources.transactional ?? []).flatMap((s) =>
      s.tables.flatMap((t) => [...(t.piiColumns ?? []), ...(t.pseudonymise ?? []).map((p) => p.column)]),
    ),
    ...(sources.csvFeeds ?? []).flatMap((f) => f.columns.filter((c) => c.pii).map((c) => c.name)),
  ];
  return new Set(ids.map((c) => c.toLowerCase()));
}

/** Every Glue and BigQuery table of the plan (views store nothing and are left out), with its columns. */
export function planTables(plan: Plan): PlanTable[] {
  const pseudonymTags = new Set(
    plan.resources
      .filter((r) => r.type === "gcp:datacatalog/policyTag:PolicyTag" && r.inputs.displayName === "pseudonymous-id")
      .flatMap((r) => [str(r.outputs.name), str(r.outputs.id)].filter((x): x is string => x !== undefined)),
  );
  const out: PlanTable[] = [];
  for (const r of plan.resources) {
    if (r.type === "aws:glue/catalogTable:CatalogTable") out.push(glueTable(r));
    if (r.type === "gcp:bigquery/table:Table" && !r.inputs.view && !r.inputs.materializedView) {
      const schema = JSON.parse(str(r.inputs.schema) ?? "[]") as { name: string; policyTags?: { names?: string[] } }[];
      out.push({
        cloud: "gcp",
        dataset: `${str(r.inputs.project) ?? r.provider?.project}.${str(r.inputs.datasetId)}`,
        table: str(r.inputs.tableId) ?? "",
        columns: schema.map((c) => ({
          name: c.name,
          pseudonymTag: (c.policyTags?.names ?? []).some((n) => pseudonymTags.has(n)),
        })),
        cell: r.cell,
      });
    }
  }
  return out;
}

function glueTable(r: PlannedResource): PlanTable {
  type Fields = { name: string }[];
  const ice = (
    r.inputs.openTableFormatInput as { icebergInput?: { icebergTableInput?: { schema?: { fields?: Fields } } } }
  )?.icebergInput?.icebergTableInput;
  const sd = r.inputs.storageDescriptor as { columns?: Fields; location?: string } | undefined;
  const columns = ice?.schema?.fields ?? sd?.columns ?? [];
  return {
    cloud: "aws",
    dataset: str(r.inputs.databaseName) ?? "",
    table: str(r.inputs.name) ?? "",
    columns: columns.map((c) => ({ name: c.name.toLowerCase(), pseudonymTag: false })),
    location: ice ? undefined : sd?.location,
    cell: r.cell,
  };
}

/** Why a table holds personal data, or undefined when nothing in it singles out a person. */
export function personalBecause(t: PlanTable, identifiers: ReadonlySet<string>): string | undefined {
  for (const c of t.columns) {
    if (/_pseudo_id$/.test(c.name) && !NOT_A_PERSON_KEY.has(c.name)) return `pseudonym column ${c.name}`;
    if (c.pseudonymTag) return `column ${c.name} under the pseudonymous-id policy tag`;
    if (identifiers.has(c.name)) return `person identifier ${c.name}`;
    if (UNDECLARED_CONTENT.has(c.name)) return `undeclared JSON content in ${c.name}`;
  }
  return undefined;
}

/** The registry each cell's workers receive, from the plan (every copy of a cell must be the same). */
export function registriesOf(plan: Plan): Map<string, PersonalDataRegistry> {
  const byCell = new Map<string, string>();
  const find = (v: unknown): string[] => {
    if (Array.isArray(v)) return v.flatMap(find);
    if (v === null || typeof v !== "object") return [];
    const o = v as Record<string, unknown>;
    // Lambda `environment.variables.REGISTRY_DEFLATED` (deflated, the 4 KB cap) or `REGISTRY_JSON`, or a
    // container's `env: [{ name: "REGISTRY_JSON", value }]`.
    const direct = typeof o.REGISTRY_JSON === "string" ? [o.REGISTRY_JSON] : [];
    const deflated = o[REGISTRY_DEFLATED_ENV];
    const inflated = typeof deflated === "string" ? [inflateRegistry(deflated)] : [];
    const named = o.name === "REGISTRY_JSON" && typeof o.value === "string" ? [o.value] : [];
    return [...direct, ...inflated, ...named, ...Object.values(o).flatMap(find)];
  };
  for (const r of plan.resources) {
    for (const json of find(r.inputs)) {
      const registry = parseRegistry(json);
      const seen = byCell.get(registry.cell);
      if (seen !== undefined && seen !== json) throw new Error(`two different registries for cell ${registry.cell}`);
      byCell.set(registry.cell, json);
    }
  }
  return new Map([...byCell].map(([cell, json]) => [cell, parseRegistry(json)]));
}

/** Whether the plan expires every object of `bucket` under `prefix` within `days`. */
export function expiresWithin(plan: Plan, cloud: "aws" | "gcp", bucket: string, prefix: string, days: number): boolean {
  if (cloud === "aws") {
    type Rule = { status?: string; expiration?: { days?: number }; filter?: { prefix?: string } };
    return plan.resources
      .filter((r) => r.type === "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
      .filter((r) => r.inputs.bucket === bucket)
      .flatMap((r) => (r.inputs.rules as Rule[] | undefined) ?? [])
      .some(
        (rule) =>
          rule.status === "Enabled" &&
          (rule.expiration?.days ?? Infinity) <= days &&
          prefix.startsWith(rule.filter?.prefix ?? ""),
      );
  }
  type GcsRule = { action?: { type?: string }; condition?: { age?: number; matchesPrefix?: string[] } };
  return plan.resources
    .filter((r) => r.type === "gcp:storage/bucket:Bucket" && r.inputs.name === bucket)
    .flatMap((r) => (r.inputs.lifecycleRules as GcsRule[] | undefined) ?? [])
    .some(
      (rule) =>
        rule.action?.type === "Delete" &&
        (rule.condition?.age ?? Infinity) <= days &&
        (rule.condition?.matchesPrefix ?? [""]).some((p) => prefix.startsWith(p)),
    );
}

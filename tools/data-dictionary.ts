/**
 * `npm run dictionary [-- --check]`: writes docs/data-dictionary.md from the offline plans of every
 * repository stack — each BigQuery dataset, table and view, each Glue (Iceberg and Hive) table, with
 * columns, types, policy tags and meaning, and the features the Vertex AI Feature Store serves — and
 * embeds the features in notebooks/01-explore.ipynb. Generated, never edited: column meanings come from
 * the schemas the program declares (BigQuery `description`, Iceberg `doc`, Glue `comment`) and, for
 * views, from tools/dictionary/view-columns.ts. `--check` fails if either file is stale (the tests run
 * the same comparison).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { COLUMN_TAGS, IDENTIFYING_TAGS } from "../components/gcp/clickstream/clickstream-table";
import { evaluateStack, listStacks, type Plan, type PlannedResource } from "./plan/evaluate";
import { PROJECT_ROOT } from "../components/project-root";
import { GLUE_COLUMN_FALLBACKS, USER_FEATURES, VIEW_COLUMNS, type ViewColumn } from "./dictionary/view-columns";

export const DATA_DICTIONARY_FILE = path.join(PROJECT_ROOT, "docs", "data-dictionary.md");
export const EXPLORE_NOTEBOOK = path.join(PROJECT_ROOT, "notebooks", "01-explore.ipynb");
/** The offers model's inputs, declared in Python (notebooks/offers/features.py). */
const MODEL_FEATURES_FILE = path.join(PROJECT_ROOT, "notebooks", "offers", "features.py");
const FEATURES_START = "<!-- data-dictionary:features:start -->";
const FEATURES_END = "<!-- data-dictionary:features:end -->";

interface Column {
  readonly name: string;
  readonly type: string;
  readonly mode: string;
  readonly tag: string;
  readonly description: string;
}

interface Entry {
  readonly heading: string;
  /** Facts true wherever the entry exists. */
  readonly facts: string[];
  /** Facts that may differ between stacks and cells (retention, expiry): shown with where they hold. */
  readonly local?: string[];
  readonly columns: Column[];
}

interface Merged {
  readonly heading: string;
  readonly facts: string[];
  readonly columns: Column[];
  readonly where: string[];
}

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");
const sentence = (s: string) => (/[.!?]$/.test(s) ? s : `${s}.`);
const whereOf = (plan: Plan, r: PlannedResource) => `${plan.stack}/${r.cell ?? "?"}`;
const days = (ms: unknown) => `${Math.round(Number(ms) / 86_400_000)} days`;

/**
 * Entries with the same heading, facts and columns merge: the places they exist in are listed, and
 * their local facts are shown with the places each holds in.
 */
class Catalog {
  private readonly byKey = new Map<
    string,
    { group: string; entry: Entry; where: Set<string>; local: Map<string, Set<string>> }
  >();

  add(group: string, entry: Entry, where: string): void {
    const key = `${group}\u0000${entry.heading}\u0000${JSON.stringify([entry.facts, entry.columns])}`;
    const found = this.byKey.get(key) ?? { group, entry, where: new Set<string>(), local: new Map() };
    found.where.add(where);
    for (const fact of entry.local ?? []) {
      const at = found.local.get(fact) ?? new Set<string>();
      at.add(where.split(" ")[0]);
      found.local.set(fact, at);
    }
    this.byKey.set(key, found);
  }

  groups(): Map<string, Merged[]> {
    const out = new Map<string, Merged[]>();
    for (const key of [...this.byKey.keys()].sort()) {
      const { group, entry, where, local } = this.byKey.get(key)!;
      const facts = [...entry.facts];
      for (const [fact, at] of local) {
        facts.push(local.size === 1 ? fact : `${fact.replace(/\.$/, "")} (${[...at].sort().join(", ")}).`);
      }
      const list = out.get(group) ?? [];
      list.push({ heading: entry.heading, facts, columns: entry.columns, where: [...where].sort() });
      out.set(group, list);
    }
    return out;
  }
}

function renderColumns(columns: readonly Column[]): string[] {
  return [
    "| column | type | mode | policy tag | meaning |",
    "|---|---|---|---|---|",
    ...columns.map(
      (c) => `| \`${c.name}\` | ${cell(c.type)} | ${c.mode} | ${c.tag ? cell(c.tag) : ""} | ${cell(c.description)} |`,
    ),
  ];
}

interface BqField {
  name: string;
  type: string;
  mode?: string;
  description?: string;
  fields?: BqField[];
  policyTags?: { names: string[] };
}

/** Policy tag resource names (as the schema carries them) -> display names, for one plan. */
function policyTagNames(plan: Plan): Map<string, string> {
  const out = new Map<string, string>();
  for (const r of plan.resources.filter((x) => x.type === "gcp:datacatalog/policyTag:PolicyTag")) {
    const display = String(r.inputs.displayName);
    for (const k of [r.outputs.name, r.id]) if (typeof k === "string") out.set(k, display);
  }
  return out;
}

function tableColumns(fields: readonly BqField[], tags: Map<string, string>, prefix = ""): Column[] {
  return fields.flatMap((f) => {
    const tag = (f.policyTags?.names ?? []).map((n) => tags.get(n) ?? n).join(", ");
    const own: Column = {
      name: `${prefix}${f.name}`,
      type: f.type,
      mode: f.mode ?? "NULLABLE",
      tag,
      description: f.description ?? (prefix ? `Field of \`${prefix.slice(0, -1)}\`` : missing(f.name)),
    };
    return [own, ...tableColumns(f.fields ?? [], tags, `${prefix}${f.name}.`)];
  });
}

/** A column without a meaning is an error: the dictionary would be incomplete. */
function missing(what: string): never {
  throw new Error(`no description for ${what}: add one to its schema (or tools/dictionary/view-columns.ts)`);
}

function viewColumns(columns: readonly ViewColumn[]): Column[] {
  return columns.map((c) => {
    const tagged = (c.from ?? []).filter((s) => COLUMN_TAGS[s] !== undefined);
    const tags = [...new Set(tagged.map((s) => COLUMN_TAGS[s]))];
    return {
      name: c.name,
      type: c.type,
      mode: "",
      tag: tagged.length ? `${tags.join(", ")} (from \`events.${tagged.join("`, `events.")}\`)` : "",
      description: c.description,
    };
  });
}

function bigQuery(plans: readonly Plan[], datasets: Catalog, tables: Catalog): void {
  for (const plan of plans) {
    const tags = policyTagNames(plan);
    for (const r of plan.resources) {
      const where = whereOf(plan, r);
      if (r.type === "gcp:bigquery/dataset:Dataset") {
        const i = r.inputs as Record<string, unknown>;
        const labels = (i.labels ?? {}) as Record<string, string>;
        const facts = [
          sentence(String(i.description ?? missing(`dataset ${String(i.datasetId)}`))),
          `Classification: \`${labels["data-classification"] ?? "none"}\`.`,
          (i.defaultEncryptionConfiguration as { kmsKeyName?: string } | undefined)?.kmsKeyName
            ? "Encrypted with the cell's BigQuery key (CMEK)."
            : "Google-managed encryption.",
        ];
        const local: string[] = [];
        if (i.defaultPartitionExpirationMs)
          local.push(`Partitions expire after ${days(i.defaultPartitionExpirationMs)}.`);
        if (i.defaultTableExpirationMs) local.push(`Tables expire after ${days(i.defaultTableExpirationMs)}.`);
        datasets.add(
          "dataset",
          { heading: String(i.datasetId), facts, local, columns: [] },
          `${where} (${String(i.location)})`,
        );
      }
      if (r.type === "gcp:bigquery/table:Table") {
        const i = r.inputs as Record<string, unknown>;
        const id = `${String(i.datasetId)}.${String(i.tableId)}`;
        const facts = [sentence(String(i.description ?? missing(`table ${id}`)))];
        const local: string[] = [];
        let columns: Column[];
        if (i.view) {
          facts.push("View (standard SQL).");
          columns = viewColumns(VIEW_COLUMNS[id] ?? missing(`the columns of view ${id}`));
        } else {
          const tp = i.timePartitioning as { field?: string; type: string; expirationMs?: number } | undefined;
          facts.push("Table.");
          if (tp) {
            facts.push(
              `Partitioned by ${tp.type.toLowerCase()} on \`${tp.field ?? "_PARTITIONTIME"}\`` +
                (i.requirePartitionFilter ? "; **every query must filter on it**." : "."),
            );
            if (tp.expirationMs) local.push(`Partitions expire after ${days(tp.expirationMs)}.`);
          }
          const clusterings = i.clusterings as string[] | undefined;
          if (clusterings?.length) facts.push(`Clustered by ${clusterings.map((c) => `\`${c}\``).join(", ")}.`);
          columns = tableColumns(JSON.parse(String(i.schema)) as BqField[], tags);
        }
        tables.add(String(i.datasetId), { heading: id, facts, local, columns }, where);
      }
    }
  }
}

interface GlueColumn {
  name: string;
  type: string;
  comment?: string;
}
interface IcebergField {
  id: number;
  name: string;
  type: string;
  required?: boolean;
  doc?: string;
}

function glueFallback(table: string, column: string): string {
  const hit =
    GLUE_COLUMN_FALLBACKS.find((f) => f.table.test(table) && f.column === column) ??
    GLUE_COLUMN_FALLBACKS.find((f) => f.table.test(table) && f.column === "*");
  return hit?.description ?? missing(`Glue column ${table}.${column}`);
}

function glue(plans: readonly Plan[], tables: Catalog): void {
  for (const plan of plans) {
    for (const r of plan.resources.filter((x) => x.type === "aws:glue/catalogTable:CatalogTable")) {
      const i = r.inputs as Record<string, unknown>;
      const name = String(i.name);
      // `<environment>_<cell>_<zone>`: the zone names the group.
      const zone = /^[^_]+_[^_]+_(.+)$/.exec(String(i.databaseName))?.[1] ?? String(i.databaseName);
      const params = (i.parameters ?? {}) as Record<string, string>;
      const facts = [sentence(String(i.description ?? missing(`Glue table ${name}`)))];
      let columns: Column[];
      const iceberg = (
        i.openTableFormatInput as
          | {
              icebergInput?: {
                icebergTableInput?: {
                  schema: { fields: IcebergField[]; identifierFieldIds?: number[] };
                  partitionSpec?: { fields: { name: string; sourceId: number; transform: string }[] };
                };
              };
            }
          | undefined
      )?.icebergInput?.icebergTableInput;
      if (iceberg) {
        const keys = new Set(iceberg.schema.identifierFieldIds ?? []);
        const parts = iceberg.partitionSpec?.fields ?? [];
        facts.push("Iceberg table (format v2).");
        if (parts.length) {
          const byId = new Map(iceberg.schema.fields.map((f) => [f.id, f.name]));
          facts.push(`Partitioned by ${parts.map((p) => `${p.transform}(\`${byId.get(p.sourceId)}\`)`).join(", ")}.`);
        }
        if (keys.size) {
          const names = iceberg.schema.fields.filter((f) => keys.has(f.id)).map((f) => `\`${f.name}\``);
          facts.push(`Identifier (merge key): ${names.join(", ")}.`);
        }
        columns = iceberg.schema.fields.map((f) => ({
          name: f.name,
          type: f.type,
          mode: f.required ? "REQUIRED" : "NULLABLE",
          tag: "",
          description: f.doc ?? glueFallback(name, f.name),
        }));
      } else {
        const sd = (i.storageDescriptor ?? {}) as { columns?: GlueColumn[] };
        const partitionKeys = (i.partitionKeys ?? []) as GlueColumn[];
        facts.push(`External table (${params.classification ?? "files"}), read by Athena.`);
        columns = [
          ...(sd.columns ?? []).map((c) => ({
            name: c.name,
            type: c.type,
            mode: "",
            tag: "",
            description: c.comment ?? glueFallback(name, c.name),
          })),
          ...partitionKeys.map((c) => ({
            name: c.name,
            type: c.type,
            mode: "partition",
            tag: "",
            description: c.comment ?? "Partition: the UTC day the files landed (`yyyy-MM-dd`)",
          })),
        ];
      }
      facts.push(`Classification: \`${params["data-classification"] ?? "none"}\`.`);
      tables.add(zone, { heading: name, facts, columns }, whereOf(plan, r));
    }
  }
}

/** FEATURE_COLUMNS of notebooks/offers/features.py, in order: the features the offers model reads. */
export function modelFeatures(): string[] {
  const text = fs.readFileSync(MODEL_FEATURES_FILE, "utf8");
  const tuple =
    /^FEATURE_COLUMNS = \(([\s\S]*?)\)/m.exec(text)?.[1] ?? missing("FEATURE_COLUMNS in offers/features.py");
  return [...tuple.matchAll(/"(\w+)"/g)].map((m) => m[1]);
}

/** The Feature Store section: where the features are served from and what each one means. */
export function renderFeatures(plans: readonly Plan[]): string {
  const views = new Catalog();
  for (const plan of plans) {
    for (const r of plan.resources.filter(
      (x) => x.type === "gcp:vertex/aiFeatureOnlineStoreFeatureview:AiFeatureOnlineStoreFeatureview",
    )) {
      const i = r.inputs as {
        name: string;
        featureOnlineStore: string;
        bigQuerySource: { uri: string; entityIdColumns: string[] };
        syncConfig?: { cron?: string; continuous?: boolean };
      };
      const source = i.bigQuerySource.uri.replace(/^bq:\/\/[^.]+\./, "");
      const sync = i.syncConfig?.continuous ? "continuous" : `cron \`${i.syncConfig?.cron ?? "manual"}\` (UTC)`;
      views.add(
        "view",
        {
          heading: i.name,
          facts: [`Source \`${source}\`, entity key \`${i.bigQuerySource.entityIdColumns.join(", ")}\`, sync ${sync}.`],
          columns: [],
        },
        `${whereOf(plan, r)} (store \`${i.featureOnlineStore}\`)`,
      );
    }
  }
  const inputs = new Set(modelFeatures());
  const out = [
    "Served by the Vertex AI Feature Online Store of each cell (Bigtable online serving), read with",
    "`FetchFeatureValues` by entity id; computed by the BigQuery view `clickstream_views.user_features`.",
    "",
    "| feature view | source and sync | where |",
    "|---|---|---|",
  ];
  for (const v of views.groups().get("view") ?? []) {
    out.push(`| \`${v.heading}\` | ${cell(v.facts.join(" "))} | ${v.where.join("<br>")} |`);
  }
  out.push("", "| feature | type | offers model input | meaning |", "|---|---|---|---|");
  for (const f of USER_FEATURES) {
    const role = f.name === "entity_id" ? "key" : inputs.has(f.name) ? "yes" : "no";
    out.push(`| \`${f.name}\` | ${cell(f.type)} | ${role} | ${cell(f.description)} |`);
  }
  return out.join("\n");
}

export function renderDataDictionary(plans: readonly Plan[]): string {
  const datasets = new Catalog();
  const bqTables = new Catalog();
  const glueTables = new Catalog();
  bigQuery(plans, datasets, bqTables);
  glue(plans, glueTables);
  const out = [
    "# Data dictionary",
    "",
    "Generated by `npm run dictionary` from the offline plans of the stacks " +
      plans.map((p) => `\`${p.stack}\``).join(", ") +
      "; do not edit by hand. Column meanings come from the schemas the program declares (BigQuery",
    "`description`, Iceberg `doc`, Glue `comment`) and, for views, from `tools/dictionary/view-columns.ts`.",
    "**Where** lists `stack/cell`: a table appears once per distinct definition.",
    "",
    "Policy tags restrict columns that can single out a person; reading one needs the tag's fine-grained",
    "reader grant (a view column computed from a tagged column is restricted the same way):",
    "",
    ...Object.entries(IDENTIFYING_TAGS).map(([tag, meaning]) => `- \`${tag}\`: ${meaning}.`),
    "",
    "## Features (Vertex AI Feature Store)",
    "",
    renderFeatures(plans),
    "",
    "## BigQuery (GCP)",
    "",
  ];
  const tableGroups = bqTables.groups();
  const listed = new Set<string>();
  for (const d of datasets.groups().get("dataset") ?? []) {
    out.push(`### Dataset \`${d.heading}\``, "", d.facts.join(" "), "", `Where: ${d.where.join(", ")}.`, "");
    // A dataset defined differently in some places has two headings; its tables are listed once.
    if (listed.has(d.heading)) continue;
    listed.add(d.heading);
    for (const t of tableGroups.get(d.heading) ?? []) {
      out.push(`#### \`${t.heading}\``, "", `${t.facts.join(" ")} Where: ${t.where.join(", ")}.`, "");
      out.push(...renderColumns(t.columns), "");
    }
    if (!tableGroups.has(d.heading)) out.push("No tables declared by the program.", "");
  }
  out.push("## AWS Glue Data Catalog", "", "Databases are named `<environment>_<cell>_<zone>`.", "");
  for (const [zone, list] of glueTables.groups()) {
    out.push(`### Zone \`${zone}\``, "");
    for (const t of list) {
      out.push(`#### \`${t.heading}\``, "", `${t.facts.join(" ")} Where: ${t.where.join(", ")}.`, "");
      out.push(...renderColumns(t.columns), "");
    }
  }
  return out.join("\n");
}

/** The explore notebook with the features section between its markers replaced (nbformat JSON, as written). */
export function withFeaturesInNotebook(notebookText: string, features: string): string {
  const nb = JSON.parse(notebookText) as { cells: { cell_type: string; source: string[] | string }[] };
  const target = nb.cells.find((c) => [c.source].flat().join("").includes(FEATURES_START));
  if (!target) throw new Error(`no cell of ${path.basename(EXPLORE_NOTEBOOK)} holds ${FEATURES_START}`);
  const text = [target.source].flat().join("");
  const start = text.indexOf(FEATURES_START) + FEATURES_START.length;
  const end = text.indexOf(FEATURES_END);
  if (end < start) throw new Error(`${FEATURES_END} missing after ${FEATURES_START}`);
  const next = `${text.slice(0, start)}\n${features}\n${text.slice(end)}`;
  const lines = next.split("\n");
  target.source = lines.map((l, i) => (i < lines.length - 1 ? `${l}\n` : l)).filter((l) => l !== "");
  // nbformat's own writer: one-space indent, sorted keys (the file is kept sorted), trailing newline.
  return `${JSON.stringify(nb, null, 1)}\n`;
}

if (require.main === module) {
  void (async () => {
    const plans: Plan[] = [];
    for (const stack of listStacks()) plans.push(await evaluateStack({ stack }));
    const text = renderDataDictionary(plans);
    const notebook = withFeaturesInNotebook(fs.readFileSync(EXPLORE_NOTEBOOK, "utf8"), renderFeatures(plans));
    const files: [string, string][] = [
      [DATA_DICTIONARY_FILE, text],
      [EXPLORE_NOTEBOOK, notebook],
    ];
    if (process.argv.includes("--check")) {
      const stale = files.filter(([f, t]) => !fs.existsSync(f) || fs.readFileSync(f, "utf8") !== t);
      for (const [f] of stale) console.error(`${path.relative(PROJECT_ROOT, f)} is stale: run \`npm run dictionary\`.`);
      if (stale.length === 0) console.log("docs/data-dictionary.md and notebooks/01-explore.ipynb are up to date.");
      process.exit(stale.length ? 1 : 0);
    }
    for (const [f, t] of files) {
      fs.writeFileSync(f, t);
      console.log(`Wrote ${path.relative(PROJECT_ROOT, f)}`);
    }
  })().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}

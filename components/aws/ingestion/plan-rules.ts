/**
 * Pure rules of the transactional ingestion, kept apart from the components so they can be table-tested:
 * the TLS mode DMS supports per engine, the DMS table mappings, the Glue/Iceberg names and the minimal
 * Iceberg schema the infrastructure can derive from config.
 */
import { DMS_DEFAULTS, HIDDEN_COLUMNS, dmsChangeSeqRule } from "../../../functions/cdc-merge/spec";
import type { TableConfig, TransactionalSource } from "../../config/schema";

export type SourceEngine = TransactionalSource["engine"];

/**
 * The strictest TLS mode DMS supports per source engine (DMS user guide, "Using SSL with AWS Database
 * Migration Service", table of SSL modes per engine): MySQL supports verify-ca/verify-full but not
 * `require`; SQL Server supports require/verify-full but not verify-ca; Oracle supports only verify-ca.
 * Every verify mode needs the source's CA as a DMS certificate.
 */
export const STRICTEST_SSL_MODE: Readonly<Record<SourceEngine, "verify-full" | "verify-ca">> = {
  mysql: "verify-full",
  sqlserver: "verify-full",
  oracle: "verify-ca",
};

/** DMS `engineName` per config engine. */
export const DMS_ENGINE_NAME: Readonly<Record<SourceEngine, string>> = {
  oracle: "oracle",
  mysql: "mysql",
  sqlserver: "sqlserver",
};

/**
 * The TLS mode an endpoint uses: the strictest one when the engine's trust material is configured (a PEM CA
 * for MySQL/SQL Server; an Oracle wallet for Oracle, the only form DMS accepts for it: "SSL support for an
 * Oracle endpoint", docs.aws.amazon.com/dms/latest/userguide/CHAP_Source.Oracle.html). Without it only
 * SQL Server still has an encrypted mode (`require`); Oracle and MySQL have none in DMS, so the plan fails
 * (config validation reports the Oracle case first, with the stack file).
 */
export function sslModeFor(
  source: Pick<TransactionalSource, "name" | "engine" | "caCertificatePem" | "caCertificateWallet">,
): string {
  if (source.engine === "oracle") {
    if (source.caCertificateWallet) return STRICTEST_SSL_MODE.oracle;
    throw new Error(
      `lakehouse:sources.transactional '${source.name}': engine oracle needs caCertificateWallet ` +
        `(DMS supports only verify-ca TLS for Oracle, against an Oracle wallet; a PEM is not accepted)`,
    );
  }
  if (source.caCertificatePem) return STRICTEST_SSL_MODE[source.engine];
  if (source.engine === "sqlserver") return "require";
  throw new Error(
    `lakehouse:sources.transactional '${source.name}': engine ${source.engine} needs caCertificatePem ` +
      `(DMS supports only ${STRICTEST_SSL_MODE[source.engine]} TLS for it, which verifies the server against that CA)`,
  );
}

/** A DMS table-mapping rule, as the JSON DMS reads. */
export type DmsRule = Readonly<Record<string, unknown>>;

/**
 * The table mappings of one source: a selection rule per configured table, a `remove-column` rule per
 * excluded column (it never leaves the source network), and the change-sequence `add-column` rule the
 * merge orders changes by (from functions/cdc-merge, so names cannot drift).
 * https://docs.aws.amazon.com/dms/latest/userguide/CHAP_Tasks.CustomizingTasks.TableMapping.SelectionTransformation.html
 */
export function tableMappings(tables: readonly TableConfig[]): { rules: DmsRule[] } {
  const rules: DmsRule[] = [];
  let id = 0;
  const next = () => String(++id);
  for (const t of tables) {
    const locator = { "schema-name": t.schema, "table-name": t.name };
    const sel = next();
    rules.push({
      "rule-type": "selection",
      "rule-id": sel,
      "rule-name": `include-${t.schema}-${t.name}`.toLowerCase(),
      "object-locator": locator,
      "rule-action": "include",
      filters: [],
    });
    for (const column of t.excludeColumns ?? []) {
      const rid = next();
      rules.push({
        "rule-type": "transformation",
        "rule-id": rid,
        "rule-name": `drop-${t.schema}-${t.name}-${column}`.toLowerCase(),
        "rule-target": "column",
        "object-locator": { ...locator, "column-name": column },
        "rule-action": "remove-column",
      });
    }
    rules.push({ ...dmsChangeSeqRule(next(), t.schema, t.name) });
  }
  return { rules };
}

/** Glue/Athena table names are lower case (Hive compatibility); `-` is not allowed in them. */
export const glueName = (...parts: string[]): string =>
  parts
    .join("_")
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, "_");

/** Curated table name of a source table: `<source>_<table>` (the schema is a source detail). */
export const curatedTableName = (source: string, table: TableConfig): string => glueName(source, table.name);

/** Iceberg partition transforms of config (`day(col)`, `bucket(16, col)`, `identity`...), parsed. */
export interface PartitionField {
  /** The source column partitioned on. */
  readonly column: string;
  /** Iceberg transform string: `day`, `bucket[16]`, `identity`... */
  readonly transform: string;
  /** Partition field name, Iceberg's convention (`created_at_day`, `order_id_bucket`). */
  readonly name: string;
}

const TIME_TRANSFORMS = new Set(["year", "month", "day", "hour"]);

export function parsePartition(spec: string): PartitionField {
  const s = spec.trim();
  const withArg = /^(bucket|truncate)\(\s*(\d+)\s*,\s*([A-Za-z_][A-Za-z0-9_$#]*)\s*\)$/i.exec(s);
  if (withArg) {
    const kind = withArg[1].toLowerCase();
    const column = withArg[3];
    return { column, transform: `${kind}[${withArg[2]}]`, name: `${column}_${kind}`.toLowerCase() };
  }
  const unary = /^(year|month|day|hour|identity)\(\s*([A-Za-z_][A-Za-z0-9_$#]*)\s*\)$/i.exec(s);
  if (unary) {
    const kind = unary[1].toLowerCase();
    const column = unary[2];
    return {
      column,
      transform: kind,
      name: kind === "identity" ? column.toLowerCase() : `${column}_${kind}`.toLowerCase(),
    };
  }
  if (/^[A-Za-z_][A-Za-z0-9_$#]*$/.test(s)) return { column: s, transform: "identity", name: s.toLowerCase() };
  throw new Error(
    `partitionBy '${spec}' is not an Iceberg transform (identity, year/month/day/hour(col), bucket(n, col), truncate(n, col))`,
  );
}

/** One column of an Iceberg schema as Glue takes it. */
export interface IcebergColumn {
  /** Iceberg field id (from 1, stable across schema changes). */
  readonly id: number;
  /** Column name (lower case: Glue lower-cases names). */
  readonly name: string;
  /** Iceberg type (`long`, `string`, `timestamptz`, `decimal(10,2)`...). */
  readonly type: string;
  /** Not null; required columns become the table's identifier fields. */
  readonly required: boolean;
  /** Column comment in the catalog. */
  readonly doc: string;
}

const DATE_TYPES = new Set(["date", "timestamp", "timestamptz"]);

/**
 * The curated table's schema, from config. With `columns` declared: those columns with their types, minus
 * `piiColumns` and `excludeColumns` (direct identifiers stay in the restricted raw zone; the curated zone
 * is pseudonymous), then the `pseudonymise` columns (`string`, the HMAC of their raw column). Without
 * `columns`: key columns (`string`) and partition sources (`timestamptz` for time
 * transforms, else `string`) and the pseudonyms, until `columns` is declared. Either
 * way the merge's hidden columns follow (`_cdc_watermark`, `_cdc_source_file`); DMS's Op/commit ts/change
 * seq are not kept. Column names are lower case (Glue). See docs/adr/0004-curated-iceberg-tables.md.
 */
export function curatedSchema(table: TableConfig): { columns: IcebergColumn[]; partitions: PartitionField[] } {
  const { problems, ...schema } = deriveCuratedSchema(table);
  if (problems.length > 0) throw new Error(problems.join("; "));
  return schema;
}

/**
 * Every problem `curatedSchema` would throw on, not only the first: config validation reports them with
 * the stack file (components/config/validate.ts) before any component runs.
 */
export function curatedSchemaProblems(table: TableConfig): string[] {
  return deriveCuratedSchema(table).problems;
}

function deriveCuratedSchema(table: TableConfig): {
  columns: IcebergColumn[];
  partitions: PartitionField[];
  problems: string[];
} {
  const where = `table ${table.schema}.${table.name}`;
  const lower = (c: string) => c.toLowerCase();
  const problems: string[] = [];
  const partitions = (table.partitionBy ?? []).flatMap((spec) => {
    try {
      return [parsePartition(spec)];
    } catch (e) {
      problems.push(`${where}: ${(e as Error).message}`);
      return [];
    }
  });
  const keys = new Set(table.keys.map(lower));
  const dropped = new Set([...(table.piiColumns ?? []), ...(table.excludeColumns ?? [])].map(lower));
  for (const c of [...keys, ...partitions.map((p) => lower(p.column))]) {
    if (dropped.has(c))
      problems.push(`${where}: column ${c} is a key or partition source, so it cannot be a piiColumn or excludeColumn`);
  }
  const columns: IcebergColumn[] = [];
  const add = (name: string, type: string, doc: string) => {
    if (columns.some((c) => c.name === lower(name))) problems.push(`${where}: column ${lower(name)} declared twice`);
    else columns.push({ id: columns.length + 1, name: lower(name), type, required: keys.has(lower(name)), doc });
  };
  if (table.columns) {
    for (const c of table.columns) {
      if (dropped.has(lower(c.name))) continue;
      add(c.name, c.type, keys.has(lower(c.name)) ? "primary key column of the source table" : "source column");
    }
    for (const k of keys) if (!columns.some((c) => c.name === k)) problems.push(`${where}: key ${k} is not in columns`);
  } else {
    for (const k of table.keys) add(k, "string", "primary key column of the source table");
    for (const p of partitions) {
      if (!columns.some((c) => c.name === lower(p.column))) {
        add(p.column, TIME_TRANSFORMS.has(p.transform) ? "timestamptz" : "string", `partition source (${p.transform})`);
      }
    }
  }
  for (const p of table.pseudonymise ?? []) {
    add(p.as, "string", `pseudonym: keyed HMAC-SHA256 (cell pseudonymisation key) of ${lower(p.column)}`);
  }
  for (const p of partitions) {
    const col = columns.find((c) => c.name === lower(p.column));
    if (!col) problems.push(`${where}: partition source ${p.column} is not in columns`);
    else if (TIME_TRANSFORMS.has(p.transform) && !DATE_TYPES.has(col.type))
      problems.push(`${where}: ${p.transform}(${p.column}) needs a date or timestamp column, not ${col.type}`);
  }
  add(HIDDEN_COLUMNS.watermark, "string", "CDC merge watermark: phase#commit ts#change seq of the row's last change");
  add(HIDDEN_COLUMNS.sourceFile, "string", "CDC merge lineage: raw DMS file of the row's current version");
  return { columns, partitions, problems };
}

/**
 * The merge's two bookkeeping tables next to each curated table, with the schemas its `createTombstones`
 * and `createLedger` steps would give them (functions/cdc-merge/merge-sql.ts): declared here so their
 * snapshots expire and their small commits are compacted like the table's.
 */
export function tombstoneSchema(table: TableConfig): IcebergColumn[] {
  const main = curatedSchema(table).columns;
  const keys = table.keys.map((k) => main.find((c) => c.name === k.toLowerCase())!);
  return [...keys, main.find((c) => c.name === HIDDEN_COLUMNS.watermark)!].map((c, i) => ({ ...c, id: i + 1 }));
}

export const LEDGER_SCHEMA: readonly IcebergColumn[] = [
  { id: 1, name: "file_path", type: "string", required: false, doc: "raw DMS file applied" },
  { id: 2, name: "max_watermark", type: "string", required: false, doc: "greatest watermark in the file" },
  { id: 3, name: "row_count", type: "long", required: false, doc: "changes in the file" },
  { id: 4, name: "applied_at", type: "timestamptz", required: false, doc: "when the merge applied it" },
];

/**
 * The merge spec's copied columns and pseudonyms: the curated schema without the merge's own columns,
 * split into what is copied from the raw files and what is derived from them.
 */
export function mergeColumns(table: TableConfig): {
  columns: string[];
  pseudonymise: { column: string; as: string }[];
} {
  const pseudonymise = (table.pseudonymise ?? []).map((p) => ({
    column: p.column.toLowerCase(),
    as: p.as.toLowerCase(),
  }));
  const derived = new Set(pseudonymise.map((p) => p.as));
  const columns = curatedSchema(table)
    .columns.filter((c) => !c.name.startsWith("_cdc_") && !derived.has(c.name))
    .map((c) => c.name);
  return { columns, pseudonymise };
}

/** DMS writes `<bucketFolder>/<schema>/<table>/` under the target; the merge reads that prefix. */
export const rawPrefix = (source: string, table?: TableConfig): string =>
  table ? `cdc/${source}/${table.schema}/${table.name}/` : `cdc/${source}/`;

export { DMS_DEFAULTS };

/**
 * Generates the CDC merge SQL for one table, in two dialects, from one spec.
 *
 * The same ordered list of steps runs locally on DuckDB (tools/cdc-replay.ts, the tests) and in the
 * Glue Spark job (glue_job.py executes the `spark` rendering verbatim). Only the I/O around the
 * steps differs: whoever runs them first registers the batch as a view named `cdc_batch` with the
 * raw columns (`batchColumns`), the op/ts/seq columns and two lineage columns (`_cdc_src_file`,
 * `_cdc_src_row`), and the pseudonymisation function (`PSEUDONYMISE_FUNCTION`) over the cell's key.
 *
 * Semantics (README.md has the argument in full):
 * - pseudonyms are computed from the raw value in `cdc_changes`, so every later step (dedupe,
 *   tombstones, merge) only ever sees the pseudonym, and a raw identifier that is not itself a table
 *   column never reaches the table;
 * - every change gets a watermark = phase # commit ts # change seq, one fixed-width ASCII string,
 *   phase 0 for full-load rows (no Op) and 1 for CDC rows, so full load ranks before all CDC;
 * - a batch is reduced to the last change per key (watermark, then file name and row number as a
 *   deterministic tie-break); MERGE needs this anyway: Spark and Athena reject a target row matched
 *   by several source rows, DuckDB silently applies one of them (a difference the tests guard);
 * - deletes are remembered in a tombstone table (key + watermark), written before the table, so a
 *   late, older insert or update arriving in a later batch is dropped instead of resurrecting the row;
 * - a change touches the table only when its watermark is strictly greater than the stored one,
 *   so the state per key is a max over all changes ever applied: re-applying a file, overlapping
 *   batches or any batch order give the same table;
 * - the ledger records each applied file (and its max watermark) after the merges; it decides which
 *   files the next run reads and is the audit trail, but correctness does not depend on it;
 * - a table that pseudonymises consults the suppression list (suppression.ts): a key whose latest change
 *   carries an erased subject's pseudonym is applied as a delete at that change's watermark (tombstone,
 *   and the row removed if present), so a source replaying an erased subject does not bring it back.
 */
import {
  CHANGE_SEQ_WIDTH,
  HIDDEN_COLUMNS,
  PSEUDONYMISE_FUNCTION,
  batchColumns,
  tableColumns,
  type CdcTableSpec,
} from "./spec";
import { SUPPRESSION_PSEUDONYM_COLUMN, SUPPRESSION_TABLE } from "./suppression";

export type Dialect = "duckdb" | "spark";

/** Name of the view the I/O layer registers before running the steps. */
export const BATCH_VIEW = "cdc_batch";
/** Lineage columns the I/O layer adds to `cdc_batch`: file path and 0-based row index in the file. */
export const SOURCE_FILE_COLUMN = "_cdc_src_file";
export const SOURCE_ROW_COLUMN = "_cdc_src_row";
/** Views created by the steps. */
export const CHANGES_VIEW = "cdc_changes";
export const LATEST_VIEW = "cdc_latest";

const OP = "_cdc_op";
const RANK = "_cdc_rn";
/** A suppressed pseudonym, as joined into `cdc_latest` (reserved prefix: no table column can clash). */
const SUPPRESSED = "_cdc_suppressed";
/** Rows a check's `explain` query returns at most. */
export const EXPLAIN_ROWS = 5;
/** Watermark of a row with no commit timestamp (full load without TimestampColumnName). */
const NO_TS = "0000-00-00 00:00:00.000000";

/** Fully qualified names of the tables one source table uses (dotted, unquoted parts). */
export interface CdcTableNames {
  readonly table: string;
  readonly tombstones: string;
  readonly ledger: string;
  /**
   * The cell's suppression list, read (never written) when the spec pseudonymises a column.
   * @default `SUPPRESSION_TABLE` in the namespace of `table` (the curated database)
   */
  readonly suppression?: string;
}

/** Default names: the curated table, `<table>__cdc_tombstones`, `<table>__cdc_ledger`, the suppression list. */
export function defaultTableNames(spec: CdcTableSpec, namespace?: string): Required<CdcTableNames> {
  const prefix = namespace ? `${namespace}.` : "";
  return {
    table: `${prefix}${spec.name}`,
    tombstones: `${prefix}${spec.name}__cdc_tombstones`,
    ledger: `${prefix}${spec.name}__cdc_ledger`,
    suppression: `${prefix}${SUPPRESSION_TABLE}`,
  };
}

/** The suppression list's name: the given one, else `SUPPRESSION_TABLE` beside the curated table. */
export function suppressionTableName(names: CdcTableNames): string {
  if (names.suppression !== undefined) return names.suppression;
  const dot = names.table.lastIndexOf(".");
  return dot < 0 ? SUPPRESSION_TABLE : `${names.table.slice(0, dot + 1)}${SUPPRESSION_TABLE}`;
}

/**
 * One step. `exec` statements change state; a `check` is a query returning one row of counters
 * that must all be zero, or the batch is rejected before anything is written.
 */
export interface CdcStep {
  readonly name: CdcStepName;
  readonly kind: "exec" | "check";
  readonly sql: string;
  /**
   * Checks only: a query whose rows name what a non-zero counter found (keys and files), run after a
   * rejection so the message says where to look. At most a few rows matter; the runner limits them.
   */
  readonly explain?: string;
}

/** Steps whose counters must be zero; every other step changes state. */
export const CHECK_STEPS: ReadonlySet<CdcStepName> = new Set(["validate", "validateFullLoad"]);

export type CdcStepName =
  | "changesView"
  | "validate"
  | "createTable"
  | "createTombstones"
  | "createLedger"
  | "validateFullLoad"
  | "latestView"
  | "mergeTombstones"
  | "mergeTable"
  | "recordLedger";

/** The order every applier runs the steps in; tombstones strictly before the table. */
export const STEP_ORDER: readonly CdcStepName[] = [
  "changesView",
  "validate",
  "createTable",
  "createTombstones",
  "createLedger",
  "validateFullLoad",
  "latestView",
  "mergeTombstones",
  "mergeTable",
  "recordLedger",
];

export interface CdcMergeSql {
  readonly dialect: Dialect;
  readonly names: CdcTableNames;
  readonly steps: readonly CdcStep[];
  /**
   * Not a step of every batch: deletes tombstones older than a horizon, with `HORIZON_PLACEHOLDER`
   * standing for `tombstoneHorizon(...)`. Run only when no raw file is pending (README, "Tombstone
   * purge").
   */
  readonly purgeTombstones: string;
}

/** Stands for the horizon watermark in `purgeTombstones`; replaced by a checked, fixed-format value. */
export const HORIZON_PLACEHOLDER = "{{horizon}}";

/** A CDC watermark prefix `1#yyyy-MM-dd HH:mm:ss.ffffff`: the only text the placeholder may become. */
export const HORIZON_PATTERN = /^1#\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}$/;

/**
 * The purge horizon: CDC changes committed before `now - retentionHours` (UTC, microseconds). A
 * tombstone's watermark `1#<commit ts>#<seq>` sorts below it exactly when its delete was committed
 * earlier; full-load rows (`0#...`) always do. glue_job.py's `tombstone_horizon` is the same function.
 */
export function tombstoneHorizon(now: Date, retentionHours: number): string {
  if (!(retentionHours > 0)) throw new Error(`tombstone retention must be positive hours, got ${retentionHours}`);
  const iso = new Date(now.getTime() - retentionHours * 3_600_000).toISOString(); // yyyy-mm-ddThh:mm:ss.mmmZ
  return `1#${iso.slice(0, 10)} ${iso.slice(11, 23)}000`;
}

/** The purge SQL with the horizon filled in, after checking it is a watermark prefix and nothing else. */
export function purgeTombstonesSql(sql: CdcMergeSql, horizon: string): string {
  if (!HORIZON_PATTERN.test(horizon)) throw new Error(`not a tombstone horizon: ${JSON.stringify(horizon)}`);
  return sql.purgeTombstones.split(HORIZON_PLACEHOLDER).join(horizon);
}

/** Spark SQL table properties of the tables the job creates: Iceberg format v2 (row-level deletes). */
export const ICEBERG_TABLE_PROPERTIES: Readonly<Record<string, string>> = {
  "format-version": "2",
  // Merge-on-read keeps a CDC MERGE from rewriting whole data files for a few changed rows;
  // compaction (rewrite_data_files) is a separate maintenance job.
  // https://iceberg.apache.org/docs/latest/configuration/#write-properties
  "write.merge.mode": "merge-on-read",
  "write.update.mode": "merge-on-read",
  "write.delete.mode": "merge-on-read",
};

interface DialectOps {
  ident(name: string): string;
  nullSafeEq(a: string, b: string): string;
  /** Target column in UPDATE SET: DuckDB rejects a qualified name, Spark accepts and we qualify. */
  setTarget(alias: string, col: string): string;
  stringType: string;
  timestampType: string;
  concat(parts: string[]): string;
  /** Commit ts (string or timestamp) as `yyyy-MM-dd HH:mm:ss.ffffff` in UTC. */
  formatTs(expr: string): string;
  tryCastTs(expr: string): string;
  isDigits(expr: string): string;
  /** The distinct values of a column in a group, sorted, comma-separated (for diagnostics). */
  filesOf(expr: string): string;
  createTableSuffix: string;
  tableProperties: string;
}

function quoteWith(q: string): (name: string) => string {
  return (name) =>
    name
      .split(".")
      .map((part) => `${q}${part.split(q).join(q + q)}${q}`)
      .join(".");
}

const DUCKDB: DialectOps = {
  ident: quoteWith('"'),
  nullSafeEq: (a, b) => `${a} IS NOT DISTINCT FROM ${b}`,
  setTarget: (_alias, col) => col,
  stringType: "VARCHAR",
  timestampType: "TIMESTAMPTZ",
  concat: (parts) => parts.join(" || "),
  // Through TIMESTAMPTZ, not straight to TIMESTAMP: DuckDB's VARCHAR -> TIMESTAMP cast drops a UTC
  // offset ('10:00:00+02:00' stays 10:00, probed on 1.5), while VARCHAR -> TIMESTAMPTZ honours it, as
  // Spark's cast does. The outer CAST(timestamptz AS TIMESTAMP) converts with the session TimeZone,
  // which the applier pins to UTC; a zone-less string or TIMESTAMP is read in that zone, as in Spark.
  formatTs: (e) => `strftime(CAST(CAST(${e} AS TIMESTAMPTZ) AS TIMESTAMP), '%Y-%m-%d %H:%M:%S.%f')`,
  tryCastTs: (e) => `TRY_CAST(${e} AS TIMESTAMPTZ)`,
  filesOf: (e) => `string_agg(DISTINCT CAST(${e} AS VARCHAR), ', ' ORDER BY CAST(${e} AS VARCHAR))`,
  isDigits: (e) => `regexp_full_match(CAST(${e} AS VARCHAR), '[0-9]{1,${CHANGE_SEQ_WIDTH}}')`,
  createTableSuffix: "",
  tableProperties: "",
};

const SPARK: DialectOps = {
  ident: quoteWith("`"),
  nullSafeEq: (a, b) => `${a} <=> ${b}`,
  setTarget: (alias, col) => `${alias}.${col}`,
  stringType: "STRING",
  timestampType: "TIMESTAMP",
  concat: (parts) => `concat(${parts.join(", ")})`,
  // Spark's TIMESTAMP is zone-aware (instant) and date_format renders it in
  // spark.sql.session.timeZone, which glue_job.py pins to UTC.
  formatTs: (e) => `date_format(CAST(${e} AS TIMESTAMP), 'yyyy-MM-dd HH:mm:ss.SSSSSS')`,
  tryCastTs: (e) => `try_cast(${e} AS TIMESTAMP)`,
  isDigits: (e) => `CAST(${e} AS STRING) RLIKE '^[0-9]{1,${CHANGE_SEQ_WIDTH}}$'`,
  filesOf: (e) => `concat_ws(', ', array_sort(collect_set(CAST(${e} AS STRING))))`,
  createTableSuffix: " USING iceberg",
  tableProperties: ` TBLPROPERTIES (${Object.entries(ICEBERG_TABLE_PROPERTIES)
    .map(([k, v]) => `'${k}' = '${v}'`)
    .join(", ")})`,
};

const DIALECTS: Record<Dialect, DialectOps> = { duckdb: DUCKDB, spark: SPARK };

/** The watermark expression over the raw batch columns; fixed width, so byte order = change order. */
export function watermarkExpression(spec: CdcTableSpec, dialect: Dialect): string {
  const d = DIALECTS[dialect];
  const op = d.ident(spec.opColumn);
  const ts = d.ident(spec.timestampColumn);
  const seq = d.ident(spec.changeSeqColumn);
  return d.concat([
    `(CASE WHEN ${op} IS NULL THEN '0' ELSE '1' END)`,
    "'#'",
    `coalesce(${d.formatTs(ts)}, '${NO_TS}')`,
    "'#'",
    `lpad(coalesce(CAST(${seq} AS ${d.stringType}), ''), ${CHANGE_SEQ_WIDTH}, '0')`,
  ]);
}

/** Renders every step for one table in one dialect. */
export function generateMergeSql(
  spec: CdcTableSpec,
  dialect: Dialect,
  names: CdcTableNames = defaultTableNames(spec),
): CdcMergeSql {
  const d = DIALECTS[dialect];
  const q = d.ident;
  // Table columns: copied ones, then pseudonyms (computed once, in changesView, from raw columns).
  const copied = spec.columns.map(q);
  const cols = tableColumns(spec).map(q);
  const pseudonyms = spec.pseudonymise.map(
    (p) => `${PSEUDONYMISE_FUNCTION}(CAST(${q(p.column)} AS ${d.stringType})) AS ${q(p.as)}`,
  );
  const keys = spec.keyColumns.map(q);
  const op = q(spec.opColumn);
  const ts = q(spec.timestampColumn);
  const seq = q(spec.changeSeqColumn);
  const wm = q(HIDDEN_COLUMNS.watermark);
  const srcFileOut = q(HIDDEN_COLUMNS.sourceFile);
  const srcFile = q(SOURCE_FILE_COLUMN);
  const srcRow = q(SOURCE_ROW_COLUMN);
  const opCol = q(OP);
  const table = q(names.table);
  const tombstones = q(names.tombstones);
  const ledger = q(names.ledger);
  const keyMatch = (a: string, b: string): string =>
    keys.map((k) => d.nullSafeEq(`${a}.${k}`, `${b}.${k}`)).join(" AND ");
  const list = (xs: string[], alias?: string): string => xs.map((x) => (alias ? `${alias}.${x}` : x)).join(", ");
  // Full-load rows of one key that cannot both be right: twice in one LOAD file (a table scan yields a
  // key once), or in two files with different values. Dedupe would keep one and drop the other, so
  // the key given is not the table's key. Identical rows in two files are a re-delivered copy: harmless.
  const loadCols = batchColumns(spec).map(q);
  const duplicateLoadKeys = (select: string): string =>
    `SELECT ${select} FROM ${q(BATCH_VIEW)} WHERE ${op} IS NULL GROUP BY ${list(keys)} ` +
    `HAVING count(*) > count(DISTINCT ${srcFile})${loadCols
      .map((c) => ` OR min(${c}) <> max(${c}) OR (count(${c}) > 0 AND count(${c}) < count(*))`)
      .join("")}`;
  const sameRow = [
    ...copied.map((c) => d.nullSafeEq(`t.${c}`, `b.${c}`)),
    ...spec.pseudonymise.map((p) =>
      d.nullSafeEq(`t.${q(p.as)}`, `${PSEUDONYMISE_FUNCTION}(CAST(b.${q(p.column)} AS ${d.stringType}))`),
    ),
  ].join(" AND ");
  const otherLoadFile = [
    `FROM ${q(BATCH_VIEW)} AS b JOIN ${table} AS t ON ${keyMatch("t", "b")}`,
    `WHERE b.${op} IS NULL AND t.${wm} LIKE '0#%' AND t.${srcFileOut} <> b.${srcFile} AND NOT (${sameRow})`,
  ].join("\n");
  const explain: Partial<Record<CdcStepName, string>> = {
    validate:
      `${duplicateLoadKeys(`${list(keys)}, ${d.filesOf(srcFile)} AS files`)} ` +
      `ORDER BY ${list(keys)} LIMIT ${EXPLAIN_ROWS}`,
    validateFullLoad:
      `SELECT ${list(keys, "b")}, concat(b.${srcFile}, ', ', t.${srcFileOut}) AS files\n${otherLoadFile}\n` +
      `ORDER BY ${list(keys, "b")} LIMIT ${EXPLAIN_ROWS}`,
  };
  const suppressed = suppressionJoins(spec, d, q(suppressionTableName(names)), opCol);
  const create = (name: string, select: string): string =>
    `CREATE TABLE IF NOT EXISTS ${name}${d.createTableSuffix}${d.tableProperties} AS ${select}`;

  const sql: Record<CdcStepName, string> = {
    changesView: [
      `CREATE OR REPLACE TEMPORARY VIEW ${q(CHANGES_VIEW)} AS`,
      `SELECT ${list([...copied, ...pseudonyms])},`,
      // Full-load rows carry no Op (IncludeOpForFullLoad off): 'L' = load, applied as an upsert.
      `  (CASE WHEN ${op} IS NULL THEN 'L' ELSE ${op} END) AS ${opCol},`,
      `  ${watermarkExpression(spec, dialect)} AS ${wm},`,
      `  ${srcFile}, ${srcRow}`,
      `FROM ${q(BATCH_VIEW)}`,
    ].join("\n"),

    // Counters that must be zero. A bad Op or an unordered CDC row would otherwise be merged with a
    // wrong watermark, and the max-watermark rule would then make that mistake permanent.
    validate: [
      "SELECT",
      `  sum(CASE WHEN ${op} IS NOT NULL AND ${op} NOT IN ('I', 'U', 'D') THEN 1 ELSE 0 END) AS unknown_op,`,
      `  sum(CASE WHEN ${op} IS NOT NULL AND ${ts} IS NULL THEN 1 ELSE 0 END) AS cdc_row_without_commit_ts,`,
      `  sum(CASE WHEN ${ts} IS NOT NULL AND ${d.tryCastTs(ts)} IS NULL THEN 1 ELSE 0 END) AS unparsable_commit_ts,`,
      `  sum(CASE WHEN ${op} IS NOT NULL AND ${seq} IS NULL THEN 1 ELSE 0 END) AS cdc_row_without_change_seq,`,
      `  sum(CASE WHEN ${seq} IS NOT NULL AND NOT (${d.isDigits(seq)}) THEN 1 ELSE 0 END) AS change_seq_not_digits,`,
      `  sum(CASE WHEN ${keys.map((k) => `${k} IS NULL`).join(" AND ")} THEN 1 ELSE 0 END) AS row_without_key,`,
      // A one-row join and max() rather than a scalar subquery next to aggregates: plain SQL that
      // every engine plans the same (max over an empty batch is NULL, read as zero).
      `  max(dup.n) AS duplicate_full_load_key`,
      `FROM ${q(BATCH_VIEW)} CROSS JOIN (SELECT count(*) AS n FROM (${duplicateLoadKeys(list(keys))}) AS g) AS dup`,
    ].join("\n"),

    // A full-load row whose key an earlier batch already loaded from another LOAD file with other
    // values: the same duplicate as above, split across batches (a table of more LOAD files than one
    // batch holds). Only rows still at their full-load version can be compared; once CDC changed the
    // row, the later change wins either way.
    validateFullLoad: [`SELECT count(*) AS full_load_key_loaded_differently`, otherLoadFile].join("\n"),

    createTable: create(
      table,
      `SELECT ${list([...copied, ...spec.pseudonymise.map((p) => `CAST(NULL AS ${d.stringType}) AS ${q(p.as)}`)])}, ` +
        `CAST(NULL AS ${d.stringType}) AS ${wm}, CAST(NULL AS ${d.stringType}) AS ${srcFileOut} FROM ${q(BATCH_VIEW)} WHERE 1 = 0`,
    ),
    createTombstones: create(
      tombstones,
      `SELECT ${list(keys)}, CAST(NULL AS ${d.stringType}) AS ${wm} FROM ${q(BATCH_VIEW)} WHERE 1 = 0`,
    ),
    createLedger: create(
      ledger,
      `SELECT CAST(NULL AS ${d.stringType}) AS file_path, CAST(NULL AS ${d.stringType}) AS max_watermark, ` +
        `CAST(NULL AS BIGINT) AS row_count, CAST(NULL AS ${d.timestampType}) AS applied_at FROM ${q(BATCH_VIEW)} WHERE 1 = 0`,
    ),

    // ROW_NUMBER in a subquery rather than QUALIFY: Spark SQL has no QUALIFY clause.
    latestView: [
      `CREATE OR REPLACE TEMPORARY VIEW ${q(LATEST_VIEW)} AS`,
      `SELECT ${list(cols, "ranked")}, ${suppressed.op} AS ${opCol}, ranked.${wm}, ranked.${srcFile}`,
      "FROM (",
      `  SELECT c.*, row_number() OVER (PARTITION BY ${list(keys)} ORDER BY ${wm} DESC, ${srcFile} DESC, ${srcRow} DESC) AS ${q(RANK)}`,
      `  FROM ${q(CHANGES_VIEW)} AS c`,
      ") AS ranked",
      ...suppressed.joins,
      `WHERE ranked.${q(RANK)} = 1`,
    ].join("\n"),

    mergeTombstones: [
      `MERGE INTO ${tombstones} AS t`,
      `USING (SELECT ${list(keys)}, ${wm} FROM ${q(LATEST_VIEW)} WHERE ${opCol} = 'D') AS s`,
      `ON ${keyMatch("t", "s")}`,
      `WHEN MATCHED AND s.${wm} > t.${wm} THEN UPDATE SET ${d.setTarget("t", wm)} = s.${wm}`,
      `WHEN NOT MATCHED THEN INSERT (${list(keys)}, ${wm}) VALUES (${list(keys, "s")}, s.${wm})`,
    ].join("\n"),

    mergeTable: [
      `MERGE INTO ${table} AS t`,
      "USING (",
      `  SELECT l.* FROM ${q(LATEST_VIEW)} AS l`,
      `  LEFT JOIN ${tombstones} AS d ON ${keyMatch("l", "d")}`,
      // An upsert older than (or equal to) the key's last delete is stale: drop it.
      `  WHERE l.${opCol} = 'D' OR d.${wm} IS NULL OR l.${wm} > d.${wm}`,
      ") AS s",
      `ON ${keyMatch("t", "s")}`,
      `WHEN MATCHED AND s.${opCol} = 'D' AND s.${wm} > t.${wm} THEN DELETE`,
      // Keys are equal by the ON clause; leaving them out of SET keeps Iceberg identifier/partition
      // columns untouched.
      `WHEN MATCHED AND s.${opCol} <> 'D' AND s.${wm} > t.${wm} THEN UPDATE SET ${[
        ...cols.filter((c) => !keys.includes(c)),
        wm,
      ]
        .map((c) => `${d.setTarget("t", c)} = s.${c}`)
        .concat(`${d.setTarget("t", srcFileOut)} = s.${srcFile}`)
        .join(", ")}`,
      `WHEN NOT MATCHED AND s.${opCol} <> 'D' THEN INSERT (${list([...cols, wm, srcFileOut])}) VALUES (${list([...cols, wm, srcFile], "s")})`,
    ].join("\n"),

    recordLedger: [
      `MERGE INTO ${ledger} AS t`,
      `USING (SELECT ${srcFile} AS file_path, max(${wm}) AS max_watermark, count(*) AS row_count FROM ${q(CHANGES_VIEW)} GROUP BY ${srcFile}) AS s`,
      "ON t.file_path = s.file_path",
      "WHEN NOT MATCHED THEN INSERT (file_path, max_watermark, row_count, applied_at) VALUES (s.file_path, s.max_watermark, s.row_count, current_timestamp)",
    ].join("\n"),
  };

  const steps = STEP_ORDER.map((name): CdcStep => ({
    name,
    kind: CHECK_STEPS.has(name) ? "check" : "exec",
    sql: sql[name],
    ...(explain[name] === undefined ? {} : { explain: explain[name] }),
  }));
  return {
    dialect,
    names,
    steps,
    purgeTombstones: `DELETE FROM ${tombstones} WHERE ${wm} < '${HORIZON_PLACEHOLDER}'`,
  };
}

/**
 * The anti-join with the suppression list, applied to each key's latest change: one LEFT JOIN per
 * pseudonym column (a row is the subject's when any of them matches, as the erasure worker decides),
 * each against the DISTINCT pseudonyms so a pseudonym listed twice cannot duplicate a change. A join
 * rather than `IN (subquery)` in the projection: Spark long rejected predicate subqueries outside filters
 * and joins ("IN/EXISTS predicate sub-queries can only be used in Filter/Join", SPARK-37131), and a plain
 * join plans the same in both engines.
 * A suppressed upsert becomes a delete at its watermark rather than being dropped: the tombstone stops an
 * older, late change of the key, and a row the key still has (it changed hands to the erased subject, or
 * a merge raced the erasure) goes too. Deletes pass unchanged. No pseudonym column: nothing to suppress,
 * and the table is not read.
 */
function suppressionJoins(
  spec: CdcTableSpec,
  d: DialectOps,
  suppressionTable: string,
  opCol: string,
): { op: string; joins: string[] } {
  const op = `ranked.${opCol}`;
  if (spec.pseudonymise.length === 0) return { op, joins: [] };
  const alias = (i: number): string => d.ident(`_cdc_sup${i}`);
  const joins = spec.pseudonymise.map(
    (p, i) =>
      `LEFT JOIN (SELECT DISTINCT ${d.ident(SUPPRESSION_PSEUDONYM_COLUMN)} AS ${d.ident(SUPPRESSED)} FROM ${suppressionTable}) ` +
      `AS ${alias(i)} ON ${alias(i)}.${d.ident(SUPPRESSED)} = ranked.${d.ident(p.as)}`,
  );
  const hit = spec.pseudonymise.map((_, i) => `${alias(i)}.${d.ident(SUPPRESSED)} IS NOT NULL`).join(" OR ");
  return { op: `(CASE WHEN ${op} <> 'D' AND (${hit}) THEN 'D' ELSE ${op} END)`, joins };
}

/** Quotes a (possibly dotted) identifier for a dialect; exported for the appliers. */
export function quoteIdent(name: string, dialect: Dialect): string {
  return DIALECTS[dialect].ident(name);
}

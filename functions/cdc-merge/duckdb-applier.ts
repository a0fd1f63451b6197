/**
 * Runs the generated DuckDB steps over DMS Parquet files: the local twin of glue_job.py.
 *
 * Only the I/O differs from the cloud job: here `cdc_batch` is a view over `read_parquet`, there a
 * Spark DataFrame over the same objects. The SQL that decides what lands in the table is the
 * `duckdb` rendering of the same spec (merge-sql.ts).
 */
import { DuckDBConnection, DuckDBInstance, type Json } from "@duckdb/node-api";
import { orderFiles, toBatches, DEFAULT_MAX_FILES_PER_BATCH } from "./files";
import {
  BATCH_VIEW,
  SOURCE_FILE_COLUMN,
  SOURCE_ROW_COLUMN,
  defaultTableNames,
  generateMergeSql,
  purgeTombstonesSql,
  quoteIdent,
  suppressionTableName,
  type CdcMergeSql,
  type CdcStep,
  type CdcStepName,
  type CdcTableNames,
} from "./merge-sql";
import { registerPseudonymiseFunction } from "./pseudonymise";
import { DMS_DEFAULTS, FULL_LOAD_FILE, batchColumns, parseTableSpec, tableColumns, type CdcTableSpec } from "./spec";
import { duckdbSuppressionDdl } from "./suppression";

const q = (name: string): string => quoteIdent(name, "duckdb");
const lit = (s: string): string => `'${s.split("'").join("''")}'`;
const fileList = (files: readonly string[]): string => `[${files.map(lit).join(", ")}]`;

/**
 * A batch was rejected by a check step (`validate`, `validateFullLoad`); nothing of it was written.
 * `found` names the keys and files behind the counters where the check can say (duplicate full-load keys).
 */
export class CdcValidationError extends Error {
  constructor(
    readonly problems: Readonly<Record<string, number>>,
    readonly found: readonly string[] = [],
  ) {
    super(
      `CDC batch rejected: ${Object.entries(problems)
        .map(([k, v]) => `${v} × ${k}`)
        .join(", ")}${found.map((f) => `\n  ${f}`).join("")}`,
    );
    this.name = "CdcValidationError";
  }
}

/**
 * The raw files cannot be applied as given: a file that cannot be read, or files whose schemas would
 * make the merge silently wrong (`schemaProblems`). Raised before anything is written.
 */
export class CdcInputError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join("\n"));
    this.name = "CdcInputError";
  }
}

/** Column name -> DuckDB type, in file order. */
export type ColumnTypes = ReadonlyArray<readonly [name: string, type: string]>;

/** The union (by name) of the schemas of the given Parquet files. */
export async function readParquetSchema(connection: DuckDBConnection, files: readonly string[]): Promise<ColumnTypes> {
  const reader = await connection.runAndReadAll(
    `DESCRIBE SELECT * FROM read_parquet(${fileList(files)}, union_by_name = true)`,
  );
  return reader.getRowObjectsJson().map((r) => [String(r.column_name), String(r.column_type)] as const);
}

/** One file's own schema, as `schemaProblems` and glue_job.py's `schema_problems` take it. */
export interface FileSchema {
  readonly file: string;
  readonly columns: ColumnTypes;
}

/**
 * Each file's schema, read one by one so that a file DuckDB cannot read (not Parquet, truncated,
 * unreadable) is named in the error instead of failing the whole listing with a bare message.
 */
export async function readFileSchemas(connection: DuckDBConnection, files: readonly string[]): Promise<FileSchema[]> {
  const out: FileSchema[] = [];
  const unreadable: string[] = [];
  for (const file of files) {
    try {
      out.push({ file, columns: await readParquetSchema(connection, [file]) });
    } catch (e) {
      unreadable.push(`${file}: cannot be read as Parquet: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  if (unreadable.length > 0) throw new CdcInputError(unreadable);
  return out;
}

/** How many files a problem lists by name before "and N more". */
const NAMED_FILES = 5;

function nameFiles(files: readonly string[]): string {
  const shown = files.slice(0, NAMED_FILES).join(", ");
  return files.length > NAMED_FILES ? `${shown} and ${files.length - NAMED_FILES} more` : shown;
}

/**
 * A type's comparison family: every integer width is one family (a source widening INT to BIGINT keeps
 * each key's value and text), every other type only equals itself. Both engines' spellings, as
 * glue_job.py's `type_family`.
 */
export function typeFamily(type: string): string {
  const t = type.trim().toLowerCase();
  return /^u?(tinyint|smallint|int|integer|bigint|hugeint)$|^(byte|short|long)$/.test(t) ? "integer" : t;
}

/**
 * What would make the merge silently wrong, found from the files' schemas before anything runs.
 * glue_job.py's `schema_problems` is the same rule (test/cdc/hostile-replay.test.ts runs both on the
 * same schemas and compares the messages):
 * - a CDC file (any file not named LOAD*) without the op, commit ts or change seq column: its rows would
 *   be read as full-load rows (Op NULL), so its deletes would be ignored;
 * - a key or pseudonymised column whose type family differs between files (or from the table's, in the
 *   job): INTEGER 1 and VARCHAR '01' meet as '1' and '01', so a delete misses its row and one customer
 *   gets two pseudonyms.
 * @param tableTypes column -> type of the existing table (the Glue job passes it; the local replay
 *   checks every file of the listing at once instead).
 */
export function schemaProblems(
  spec: CdcTableSpec,
  schemas: readonly FileSchema[],
  tableTypes: ReadonlyMap<string, string> = new Map(),
): string[] {
  const problems: string[] = [];
  const byFile = schemas.map((s) => ({
    file: s.file,
    types: new Map(s.columns.map(([n, t]) => [n.toLowerCase(), t])),
  }));
  const cdcFiles = byFile.filter((f) => !FULL_LOAD_FILE.test(f.file));
  for (const [column, role] of [
    [spec.opColumn, "the CDC op column"],
    [spec.timestampColumn, "the commit timestamp column"],
    [spec.changeSeqColumn, "the change sequence column"],
  ] as const) {
    const missing = cdcFiles.filter((f) => !f.types.has(column.toLowerCase())).map((f) => f.file);
    if (missing.length > 0)
      problems.push(
        `no column "${column}" (${role}) in ${missing.length} CDC file(s): ${nameFiles(missing)}; ` +
          "its rows would be applied as full-load rows and its deletes ignored",
      );
  }
  const typed = [
    ...spec.keyColumns.map((c) => [c, "key column"] as const),
    ...spec.pseudonymise.map((p) => [p.column, "pseudonymised column"] as const),
  ];
  const seen = new Set<string>();
  for (const [column, role] of typed) {
    const lower = column.toLowerCase();
    if (seen.has(lower)) continue;
    seen.add(lower);
    // First file (in the given order) of each type family, then the table's type.
    const firstOfFamily = new Map<string, string>();
    const tableType = tableTypes.get(lower);
    if (tableType !== undefined) firstOfFamily.set(typeFamily(tableType), `${tableType} in the table`);
    for (const f of byFile) {
      const t = f.types.get(lower);
      if (t !== undefined && !firstOfFamily.has(typeFamily(t))) firstOfFamily.set(typeFamily(t), `${t} in ${f.file}`);
    }
    if (firstOfFamily.size > 1)
      problems.push(
        `${role} "${column}" changes type between files: ${[...firstOfFamily.values()].join(", ")}; ` +
          "values of different types do not match, so a change could miss its row",
      );
  }
  return problems;
}

export interface ApplyOptions {
  /**
   * Stop after this step, as if the job died there (tests use it to prove a crashed batch
   * re-applied later converges). Undefined runs every step.
   */
  readonly stopAfter?: CdcStepName;
}

export interface BatchResult {
  readonly files: readonly string[];
  readonly rowsRead: number;
}

/** A JSON-safe row: decimals and 64-bit integers as exact strings, timestamps as ISO-8601. */
export type JsonRow = Record<string, Json>;

export class DuckDbCdcApplier {
  readonly sql: CdcMergeSql;

  private constructor(
    readonly spec: CdcTableSpec,
    readonly names: CdcTableNames,
    private readonly connection: DuckDBConnection,
    private readonly types: ReadonlyMap<string, string>,
    private readonly ownsInstance: DuckDBInstance | undefined,
  ) {
    this.sql = generateMergeSql(spec, "duckdb", names);
  }

  /**
   * @param schema the types of every column that may appear in the raw files (table columns and
   *   CDC metadata), e.g. from `readParquetSchema` over all files; a column missing from one batch
   *   is read as a typed NULL, as Spark's unionByName(allowMissingColumns) does.
   * @param options.pseudonymisationKey the cell key; required when the spec pseudonymises a column.
   */
  static async create(
    spec: CdcTableSpec,
    schema: ColumnTypes,
    options: { connection?: DuckDBConnection; names?: CdcTableNames; pseudonymisationKey?: Buffer } = {},
  ): Promise<DuckDbCdcApplier> {
    if (spec.pseudonymise.length > 0 && !options.pseudonymisationKey)
      throw new Error(
        `table ${spec.name} pseudonymises ${spec.pseudonymise.map((p) => p.column).join(", ")}: a pseudonymisation key is required`,
      );
    let instance: DuckDBInstance | undefined;
    let connection = options.connection;
    if (!connection) {
      instance = await DuckDBInstance.create(":memory:");
      connection = await instance.connect();
    }
    // The watermark renders commit timestamps through CAST(... AS TIMESTAMP), which converts a
    // TIMESTAMPTZ in the session zone; the Glue job pins spark.sql.session.timeZone the same way.
    await connection.run("SET TimeZone = 'UTC'");
    if (options.pseudonymisationKey) registerPseudonymiseFunction(connection, options.pseudonymisationKey);
    const types = new Map(schema.map(([n, t]) => [n.toLowerCase(), t]));
    const known = new Set(types.keys());
    for (const c of batchColumns(spec)) {
      if (!known.has(c.toLowerCase())) throw new Error(`column "${c}" of table ${spec.name} is in no file`);
    }
    const names = options.names ?? defaultTableNames(spec);
    // In the cloud the program declares the suppression list (the job only reads it); locally the
    // applier stands in for that declaration, empty unless the caller seeded it on the connection.
    if (spec.pseudonymise.length > 0) await connection.run(duckdbSuppressionDdl(q(suppressionTableName(names))));
    return new DuckDbCdcApplier(spec, names, connection, types, instance);
  }

  /** Applies one batch of files through every step (or up to `stopAfter`). */
  async applyBatch(files: readonly string[], options: ApplyOptions = {}): Promise<BatchResult> {
    if (files.length === 0) return { files: [], rowsRead: 0 };
    await this.registerBatch(files);
    for (const step of this.sql.steps) {
      if (step.kind === "check") {
        const row = (await this.connection.runAndReadAll(step.sql)).getRowObjectsJson()[0] ?? {};
        const problems = Object.fromEntries(
          Object.entries(row)
            .map(([k, v]) => [k, Number(v ?? 0)] as const)
            .filter(([, v]) => v > 0),
        );
        if (Object.keys(problems).length > 0) throw new CdcValidationError(problems, await this.explain(step));
      } else {
        await this.connection.run(step.sql);
      }
      if (step.name === options.stopAfter) break;
    }
    const count = (
      await this.connection.runAndReadAll(`SELECT count(*) AS n FROM ${q(BATCH_VIEW)}`)
    ).getRowObjectsJson()[0];
    return { files: [...files], rowsRead: Number(count?.n ?? 0) };
  }

  /**
   * Deletes tombstones whose delete was committed before `horizon` (`tombstoneHorizon(now, hours)`);
   * returns how many. The caller guarantees the precondition the Glue job checks: no raw file is
   * pending, so no change older than the horizon can still arrive out of order.
   */
  async purgeTombstones(horizon: string): Promise<number> {
    if (!(await this.tableExists(this.names.tombstones))) return 0;
    return (await this.connection.run(purgeTombstonesSql(this.sql, horizon))).rowsChanged;
  }

  /** Files the ledger has recorded as applied, in path order. */
  async appliedFiles(): Promise<string[]> {
    if (!(await this.tableExists(this.names.ledger))) return [];
    const rows = (
      await this.connection.runAndReadAll(`SELECT file_path FROM ${q(this.names.ledger)} ORDER BY file_path`)
    ).getRowObjectsJson();
    return rows.map((r) => String(r.file_path));
  }

  /** The curated table: table columns only, sorted by key, values JSON-safe. */
  async rows(): Promise<JsonRow[]> {
    if (!(await this.tableExists(this.names.table))) return [];
    const described = (await this.connection.runAndReadAll(`DESCRIBE ${q(this.names.table)}`)).getRowObjectsJson();
    const typeOf = new Map(described.map((r) => [String(r.column_name), String(r.column_type)]));
    const select = tableColumns(this.spec)
      .map((c) => `${jsonSafe(q(c), typeOf.get(c) ?? "VARCHAR")} AS ${q(c)}`)
      .join(", ");
    const order = this.spec.keyColumns.map((k) => `${q(k)} ASC NULLS FIRST`).join(", ");
    return (
      await this.connection.runAndReadAll(`SELECT ${select} FROM ${q(this.names.table)} ORDER BY ${order}`)
    ).getRowObjectsJson();
  }

  /** Raw query access for tests and diagnostics (e.g. the tombstone table). */
  async query(sql: string): Promise<JsonRow[]> {
    return (await this.connection.runAndReadAll(sql)).getRowObjectsJson();
  }

  close(): void {
    if (this.ownsInstance) {
      this.connection.closeSync();
      this.ownsInstance.closeSync();
    }
  }

  /** What a failed check found, one line per key: `key (k=v, ...) in <files>`. */
  private async explain(step: CdcStep): Promise<string[]> {
    if (!step.explain) return [];
    const rows = (await this.connection.runAndReadAll(step.explain)).getRowObjectsJson();
    return rows.map((r) => explainLine(this.spec.keyColumns, r));
  }

  private async tableExists(name: string): Promise<boolean> {
    const rows = await this.query(`SELECT count(*) AS n FROM duckdb_tables() WHERE table_name = ${lit(name)}`);
    return Number(rows[0]?.n ?? 0) > 0;
  }

  /**
   * `cdc_batch`: every table column and the op/ts/seq columns, typed as in the whole folder, plus
   * file path and row index for the tie-break. Mirrors glue_job.py's read_batch().
   */
  private async registerBatch(files: readonly string[]): Promise<void> {
    const present = new Set((await readParquetSchema(this.connection, files)).map(([n]) => n.toLowerCase()));
    const meta = [this.spec.opColumn, this.spec.timestampColumn, this.spec.changeSeqColumn];
    const select = [...batchColumns(this.spec), ...meta].map((c) => {
      const type = this.types.get(c.toLowerCase()) ?? "VARCHAR";
      return present.has(c.toLowerCase()) ? `CAST(${q(c)} AS ${type}) AS ${q(c)}` : `CAST(NULL AS ${type}) AS ${q(c)}`;
    });
    await this.connection.run(
      `CREATE OR REPLACE TEMPORARY VIEW ${q(BATCH_VIEW)} AS SELECT ${select.join(", ")}, ` +
        `${q(SOURCE_FILE_COLUMN)}, file_row_number AS ${q(SOURCE_ROW_COLUMN)} ` +
        `FROM read_parquet(${fileList(files)}, union_by_name = true, filename = ${lit(SOURCE_FILE_COLUMN)}, file_row_number = true)`,
    );
  }
}

/** One row of a check's `explain` query as a line; glue_job.py's `explain_line` prints the same. */
export function explainLine(keyColumns: readonly string[], row: Readonly<Record<string, Json>>): string {
  const key = keyColumns.map((k) => `${k}=${JSON.stringify(row[k] ?? null)}`).join(", ");
  return `duplicate full-load key (${key}) in ${String(row.files)}`;
}

/**
 * JSON-safe rendering, decided by type: exact strings for DECIMAL and 64/128-bit integers (JSON
 * numbers are doubles; proto3's JSON mapping renders int64 as a string for the same reason),
 * ISO-8601 for timestamps (UTC with `Z` for TIMESTAMPTZ; a zone-less TIMESTAMP is printed without
 * a zone rather than claimed to be UTC), base64 for BLOB.
 */
export function jsonSafe(expr: string, type: string): string {
  const t = type.toUpperCase();
  if (t === "TIMESTAMP WITH TIME ZONE" || t === "TIMESTAMPTZ")
    return `strftime(timezone('UTC', ${expr}), '%Y-%m-%dT%H:%M:%S.%fZ')`;
  if (t.startsWith("TIMESTAMP")) return `strftime(CAST(${expr} AS TIMESTAMP), '%Y-%m-%dT%H:%M:%S.%f')`;
  if (t === "BLOB") return `to_base64(${expr})`;
  if (/^(TINYINT|SMALLINT|INTEGER|UTINYINT|USMALLINT|UINTEGER|FLOAT|DOUBLE|BOOLEAN)$/.test(t)) return expr;
  if (t.startsWith("STRUCT") || t.endsWith("[]") || t.startsWith("MAP")) return `CAST(to_json(${expr}) AS VARCHAR)`;
  return `CAST(${expr} AS VARCHAR)`;
}

export interface ReplayOptions {
  readonly table: string;
  readonly keyColumns: readonly string[];
  readonly opColumn?: string;
  readonly timestampColumn?: string;
  readonly changeSeqColumn?: string;
  readonly maxFilesPerBatch?: number;
  /** Raw columns left out of the table (direct identifiers: `piiColumns` in the stack). */
  readonly excludeColumns?: readonly string[];
  /** Pseudonyms to derive, as in the stack's table config. */
  readonly pseudonymise?: ReadonlyArray<{ readonly column: string; readonly as: string }>;
  /** The cell key, required with `pseudonymise`. */
  readonly pseudonymisationKey?: Buffer;
}

export interface ReplayResult {
  readonly spec: CdcTableSpec;
  readonly batches: readonly BatchResult[];
  readonly rows: readonly JsonRow[];
}

/**
 * Replays files the way the cloud job does: ordered (full load first, then by path), cut into
 * batches, each batch through every step. The table's columns are every column of the files
 * minus the CDC metadata columns.
 */
export async function replayFiles(files: readonly string[], options: ReplayOptions): Promise<ReplayResult> {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    const ordered = orderFiles(files);
    const perFile = await readFileSchemas(connection, ordered);
    const schema = await readParquetSchema(connection, ordered);
    const spec = specFromSchema(schema, options);
    const problems = schemaProblems(spec, perFile);
    if (problems.length > 0) throw new CdcInputError(problems);
    const applier = await DuckDbCdcApplier.create(spec, schema, {
      connection,
      pseudonymisationKey: options.pseudonymisationKey,
    });
    const batches: BatchResult[] = [];
    for (const batch of toBatches(ordered, options.maxFilesPerBatch ?? DEFAULT_MAX_FILES_PER_BATCH)) {
      batches.push(await applier.applyBatch(batch));
    }
    return { spec, batches, rows: await applier.rows() };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/**
 * Builds and validates the spec from the files' schema: every file column but the CDC metadata and the
 * excluded ones. Unknown key, excluded or pseudonymised columns fail here.
 */
export function specFromSchema(schema: ColumnTypes, options: ReplayOptions): CdcTableSpec {
  const opColumn = options.opColumn ?? DMS_DEFAULTS.opColumn;
  const timestampColumn = options.timestampColumn ?? DMS_DEFAULTS.timestampColumn;
  const changeSeqColumn = options.changeSeqColumn ?? DMS_DEFAULTS.changeSeqColumn;
  const meta = new Set([opColumn, timestampColumn, changeSeqColumn].map((c) => c.toLowerCase()));
  const raw = schema.map(([n]) => n).filter((n) => !meta.has(n.toLowerCase()));
  const byLower = new Map(raw.map((c) => [c.toLowerCase(), c]));
  const find = (c: string): string => {
    const found = byLower.get(c.toLowerCase());
    if (!found) throw new UnknownColumnError(c, raw);
    return found;
  };
  const excluded = new Set((options.excludeColumns ?? []).map((c) => find(c).toLowerCase()));
  const columns = raw.filter((c) => !excluded.has(c.toLowerCase()));
  const keyColumns = options.keyColumns.map(find);
  const pseudonymise = (options.pseudonymise ?? []).map((p) => ({ column: find(p.column), as: p.as }));
  return parseTableSpec({
    name: options.table,
    keyColumns,
    columns,
    opColumn,
    timestampColumn,
    changeSeqColumn,
    pseudonymise,
  });
}

export class UnknownColumnError extends Error {
  constructor(
    readonly column: string,
    readonly available: readonly string[],
  ) {
    super(`column "${column}" is not a column of the files (columns: ${available.join(", ")})`);
    this.name = "UnknownColumnError";
  }
}

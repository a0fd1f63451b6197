/**
 * The MERGE that brings landed API records into the source's curated Iceberg table, rendered for Athena
 * (engine v3, the scheduled query) and for DuckDB (the local twin the tests run). Both renderings come
 * from one spec and differ only in function names, the source relation and the object-path column.
 *
 * Idempotent: per id only the landed line with the greatest cursor is taken (ties: the greatest object
 * key), and a row is updated only when that cursor is newer than the stored one, so re-running the MERGE
 * over the same objects changes nothing, and an older version landed late never overwrites a newer one.
 */
import type { CursorType } from "./config";

/** Iceberg types a declared column may have. */
export const API_COLUMN_TYPE = /^(string|long|double|boolean|date|timestamptz|decimal\((\d{1,2}),\s*(\d{1,2})\))$/;

/** Columns the curated table always has (declared columns may not use these names). */
export const RESERVED_COLUMNS = ["record_id", "record_cursor", "source_object"] as const;

export interface ApiColumn {
  /** Curated column name (lower case). */
  readonly name: string;
  /** Iceberg type (`API_COLUMN_TYPE`). */
  readonly type: string;
  /** JSON pointer of the value inside a record, segments of letters, digits and `_` only. */
  readonly field: string;
}

export interface ApiTableSpec {
  readonly cursorType: CursorType;
  readonly columns: readonly ApiColumn[];
}

export type ApiDialect = "athena" | "duckdb";

/** The curated Iceberg table's columns: the id (identifier field), the cursor, the lineage, the declared columns. */
export function curatedColumns(
  spec: ApiTableSpec,
): { id: number; name: string; type: string; required: boolean; doc: string }[] {
  const cursorType = { timestamp: "timestamptz", number: "double", string: "string" }[spec.cursorType];
  return [
    { id: 1, name: "record_id", type: "string", required: true, doc: "the record's id in the API (dedupe key)" },
    { id: 2, name: "record_cursor", type: cursorType, required: false, doc: "the record's cursor value (last change)" },
    { id: 3, name: "source_object", type: "string", required: false, doc: "landing object the row came from" },
    ...spec.columns.map((c, i) => ({
      id: 4 + i,
      name: c.name,
      type: c.type,
      required: false,
      doc: `record ${c.field}`,
    })),
  ];
}

/** `/a/b` as the JSONPath both engines read (`$.a.b`); pointer segments are plain names (validated in config). */
export function jsonPath(pointer: string): string {
  const segments = pointer.slice(1).split("/");
  if (!pointer.startsWith("/") || segments.some((s) => !/^[A-Za-z0-9_]+$/.test(s)))
    throw new Error(`'${pointer}' must be a JSON pointer of plain names (/a/b)`);
  return `$.${segments.join(".")}`;
}

const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;

function sqlType(type: string, dialect: ApiDialect): string {
  const decimal = /^decimal\((\d{1,2}),\s*(\d{1,2})\)$/.exec(type);
  if (decimal) return `DECIMAL(${decimal[1]}, ${decimal[2]})`;
  const types: Record<string, [athena: string, duckdb: string]> = {
    string: ["VARCHAR", "VARCHAR"],
    long: ["BIGINT", "BIGINT"],
    double: ["DOUBLE", "DOUBLE"],
    boolean: ["BOOLEAN", "BOOLEAN"],
    date: ["DATE", "DATE"],
    timestamptz: ["TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"],
  };
  const t = types[type];
  if (!t) throw new Error(`unsupported column type ${type}`);
  return t[dialect === "athena" ? 0 : 1];
}

/** A text value as a column of `type`: CAST fails the MERGE on a bad value (loud, not a silent NULL). */
function castText(expr: string, type: string, dialect: ApiDialect): string {
  // Athena reads ISO-8601 instants with `from_iso8601_timestamp` (a CAST accepts only `YYYY-MM-DD hh:mm:ss`).
  if (type === "timestamptz" && dialect === "athena") return `from_iso8601_timestamp(${expr})`;
  return `CAST(${expr} AS ${sqlType(type, dialect)})`;
}

export interface MergeRefs {
  /** The curated table, qualified (`"db"."table"`) or not. */
  readonly target: string;
  /** The landed lines: a table (Athena: the Glue external table) or a table function (DuckDB `read_json`). */
  readonly source: string;
  /** Only landing partitions (`dt`) of the last this-many days. @default every partition */
  readonly lookbackDays?: number;
}

/** The MERGE statement. */
export function mergeSql(spec: ApiTableSpec, dialect: ApiDialect, refs: MergeRefs): string {
  const cursorCast = { timestamp: "timestamptz", number: "double", string: "string" }[spec.cursorType];
  const extract = dialect === "athena" ? "json_extract_scalar" : "json_extract_string";
  const objectColumn = dialect === "athena" ? `"$path"` : "filename";
  const declared = spec.columns.map(
    (c) => `${castText(`${extract}(record, '${jsonPath(c.field)}')`, c.type, dialect)} AS ${ident(c.name)}`,
  );
  const window =
    refs.lookbackDays === undefined
      ? ""
      : dialect === "athena"
        ? `\n    WHERE dt >= date_format(current_date - interval '${refs.lookbackDays}' day, '%Y-%m-%d')`
        : `\n    WHERE dt >= strftime(current_date - INTERVAL ${refs.lookbackDays} DAY, '%Y-%m-%d')`;
  const names = ["record_id", "record_cursor", "source_object", ...spec.columns.map((c) => c.name)].map(ident);
  return `MERGE INTO ${refs.target} AS t
USING (
  SELECT ${names.join(", ")}
  FROM (
    SELECT id AS record_id,
      ${castText("cursor", cursorCast, dialect)} AS record_cursor,
      ${objectColumn} AS source_object,${declared.map((d) => `\n      ${d},`).join("")}
      row_number() OVER (PARTITION BY id ORDER BY ${castText("cursor", cursorCast, dialect)} DESC, ${objectColumn} DESC) AS rn
    FROM ${refs.source}${window}
  ) AS landed
  WHERE rn = 1
) AS s
ON t.record_id = s.record_id
WHEN MATCHED AND s.record_cursor > t.record_cursor THEN UPDATE SET ${names
    .slice(1)
    .map((n) => `${n} = s.${n}`)
    .join(", ")}
WHEN NOT MATCHED THEN INSERT (${names.join(", ")}) VALUES (${names.map((n) => `s.${n}`).join(", ")})`;
}

/** DuckDB's relation over a folder of landed objects (the local twin of the Glue external table). */
export function duckdbLanding(folder: string): string {
  const glob = `${folder.replace(/\/$/, "")}/**/*.ndjson.gz`.replace(/'/g, "''");
  return `read_json('${glob}', format = 'newline_delimited', columns = {id: 'VARCHAR', cursor: 'VARCHAR', record: 'VARCHAR'}, filename = true, hive_partitioning = true)`;
}

/** The curated table in DuckDB, typed like the Iceberg table. */
export function duckdbCreateTable(spec: ApiTableSpec, table: string): string {
  const cols = curatedColumns(spec).map(
    (c) => `${ident(c.name)} ${sqlType(c.type, "duckdb")}${c.required ? " NOT NULL PRIMARY KEY" : ""}`,
  );
  return `CREATE TABLE ${ident(table)} (${cols.join(", ")})`;
}

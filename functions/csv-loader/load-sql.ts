/**
 * The load of one validated file into the feed's Iceberg table, as SQL for Athena (engine version 3, in
 * the cloud) and DuckDB (the tests): a duplicate-key check, then a MERGE on the feed's key.
 *
 * Idempotent by construction: every row carries `_source_order` (the file's creation time, then its id),
 * and a matched row is replaced only by a row of a strictly later file. Re-applying a file (a re-delivered
 * event, a retried invocation, a crash between the MERGE and the landing delete) matches its own rows and
 * changes nothing; a late re-delivery of an older file loses to what newer files wrote.
 *
 * Both engines read the validated copy (NDJSON of strings) through a relation named like the staging
 * table: in Athena the Glue table over `validated/` (partition projection on `file_id`), in DuckDB a view
 * over the one file. The casts are the same in both; the validator has already proven each one succeeds.
 */
import {
  columnName,
  curatedColumns,
  FILE_ID_COLUMN,
  keyColumns,
  LINE_COLUMN,
  SOURCE_FILE_COLUMN,
  SOURCE_ORDER_COLUMN,
  sqlType,
  type CsvColumn,
  type CsvFeed,
  type Dialect,
} from "./feed";

/** A double-quoted identifier (both engines). */
export const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;
/** A single-quoted string literal (both engines). */
export const literal = (value: string): string => `'${value.replace(/'/g, "''")}'`;

/** Tables the statements name, qualified as the engine needs (`"db"."table"` in Athena). */
export interface LoadTables {
  readonly staging: string;
  readonly curated: string;
}

/** The typed value of a staged string column. */
export function castExpression(c: CsvColumn, dialect: Dialect, source = "s"): string {
  const col = `${source}.${ident(columnName(c))}`;
  switch (c.type) {
    case "string":
      return col;
    case "boolean":
      return `(lower(${col}) = 'true')`;
    case "timestamp":
      // The validator accepts `T` or a blank between date and time; both engines' casts take the blank.
      return `CAST(replace(${col}, 'T', ' ') AS ${sqlType(c, dialect)})`;
    default:
      return `CAST(${col} AS ${sqlType(c, dialect)})`;
  }
}

const FILE_ID = /^[0-9a-f]{32}$/;
const ORDER = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z#[0-9a-f]{32}$/;

function checked(fileId: string, order?: string): void {
  if (!FILE_ID.test(fileId)) throw new Error(`file id '${fileId}' is not 32 hex digits`);
  if (order !== undefined && !ORDER.test(order)) throw new Error(`source order '${order}' is not <ISO time>#<file id>`);
}

/** Keys present more than once in the file, with how often and the first two lines (at most 20 keys). */
export function duplicateKeysSql(feed: CsvFeed, tables: LoadTables, fileId: string): string {
  checked(fileId);
  const keys = keyColumns(feed).map((c) => ident(columnName(c)));
  return [
    `SELECT ${keys.join(", ")}, count(*) AS n, min(${ident(LINE_COLUMN)}) AS first_line, max(${ident(LINE_COLUMN)}) AS last_line`,
    `FROM ${tables.staging}`,
    `WHERE ${ident(FILE_ID_COLUMN)} = ${literal(fileId)}`,
    `GROUP BY ${keys.join(", ")}`,
    `HAVING count(*) > 1`,
    `ORDER BY first_line`,
    `LIMIT 20`,
  ].join("\n");
}

/** The MERGE of one validated file into the curated table. */
export function mergeSql(
  feed: CsvFeed,
  tables: LoadTables,
  dialect: Dialect,
  file: { readonly fileId: string; readonly sourceFile: string; readonly order: string },
): string {
  checked(file.fileId, file.order);
  const cols = curatedColumns(feed);
  const names = [...cols.map((c) => ident(columnName(c))), ident(SOURCE_FILE_COLUMN), ident(SOURCE_ORDER_COLUMN)];
  const select = [
    ...cols.map((c) => `${castExpression(c, dialect)} AS ${ident(columnName(c))}`),
    `${literal(file.sourceFile)} AS ${ident(SOURCE_FILE_COLUMN)}`,
    `${literal(file.order)} AS ${ident(SOURCE_ORDER_COLUMN)}`,
  ];
  const on = keyColumns(feed)
    .map((c) => `t.${ident(columnName(c))} = s.${ident(columnName(c))}`)
    .join(" AND ");
  const order = ident(SOURCE_ORDER_COLUMN);
  // The key columns are equal on a match: only the others are set.
  const keys = new Set(keyColumns(feed).map((c) => ident(columnName(c))));
  const updated = names.filter((n) => !keys.has(n));
  return [
    `MERGE INTO ${tables.curated} AS t`,
    `USING (`,
    `  SELECT ${select.join(",\n    ")}`,
    `  FROM ${tables.staging} AS s`,
    `  WHERE s.${ident(FILE_ID_COLUMN)} = ${literal(file.fileId)}`,
    `) AS s`,
    `ON ${on}`,
    `WHEN MATCHED AND s.${order} > t.${order} THEN UPDATE SET ${updated.map((n) => `${n} = s.${n}`).join(", ")}`,
    `WHEN NOT MATCHED THEN INSERT (${names.join(", ")}) VALUES (${names.map((n) => `s.${n}`).join(", ")})`,
  ].join("\n");
}

/**
 * The suppression list the merges consult: the pseudonyms of erased data subjects (issue 14, ADR 0013).
 *
 * The erasure worker deletes a subject's rows from every registered table and then inserts each of the
 * subject's pseudonyms here. A source can replay that subject afterwards (a DMS reload, a resync, a
 * re-delivered file); a merge that pseudonymises a column treats a change carrying a suppressed pseudonym
 * as a delete of its key (merge-sql.ts, `latestView`), so the erased subject does not come back.
 *
 * One Iceberg table per cell in the curated Glue database, declared by the program (never created by a
 * job at run time), with the columns below. The table holds pseudonyms only: it is the record that an
 * erasure took place (GDPR Art. 17(3)(b), LGPD Art. 16 I), not the subject's data.
 */

import { SUPPRESSION_TABLE } from "../subject-rights/registry";

/** Glue/Iceberg name of the suppression list, in the cell's curated database (one constant, the registry's). */
export { SUPPRESSION_TABLE };

/** The column the merges join on: a pseudonym (HMAC-SHA256 under the cell key, lower-case hex). */
export const SUPPRESSION_PSEUDONYM_COLUMN = "pseudonym";

/**
 * The table's Iceberg schema, in the shape `IcebergTable` takes (components/aws/ingestion/plan-rules.ts,
 * `IcebergColumn`). `suppressed_at` is an Iceberg `timestamp` (without zone, UTC by convention): Athena's
 * Iceberg DDL and writes support only that timestamp type
 * (https://docs.aws.amazon.com/athena/latest/ug/querying-iceberg-supported-data-types.html), and the
 * erasure worker inserts through Athena.
 */
export const SUPPRESSION_SCHEMA: ReadonlyArray<{
  readonly id: number;
  readonly name: string;
  readonly type: string;
  readonly required: boolean;
  readonly doc: string;
}> = [
  {
    id: 1,
    name: SUPPRESSION_PSEUDONYM_COLUMN,
    type: "string",
    required: true,
    doc: "pseudonym of an erased subject (HMAC-SHA256 under the cell key, lower-case hex)",
  },
  { id: 2, name: "request_id", type: "string", required: false, doc: "the erasure request that added it" },
  { id: 3, name: "suppressed_at", type: "timestamp", required: false, doc: "when it was added (UTC)" },
];

const DUCKDB_TYPES: Readonly<Record<string, string>> = { string: "VARCHAR", timestamp: "TIMESTAMP" };

/**
 * The local twin of the declared table, for DuckDB (the applier, the tests): same columns, same
 * nullability. `CREATE ... IF NOT EXISTS` because a test seeds it before the applier runs.
 * @param name the table's (possibly dotted) name, already quoted for DuckDB.
 */
export function duckdbSuppressionDdl(name: string): string {
  const cols = SUPPRESSION_SCHEMA.map(
    (c) => `"${c.name}" ${DUCKDB_TYPES[c.type] ?? "VARCHAR"}${c.required ? " NOT NULL" : ""}`,
  );
  return `CREATE TABLE IF NOT EXISTS ${name} (${cols.join(", ")})`;
}

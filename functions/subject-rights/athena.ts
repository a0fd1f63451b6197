/**
 * The AWS worker's SQL engine: Athena (engine version 3) in the cell's workgroup, over the Iceberg tables
 * of the personal-data registry.
 *
 * Values and identifiers are kept apart:
 * - identifiers (database, table, column names) come only from the registry, are checked against
 *   AWS_IDENTIFIER and double-quoted (`quoteIdentifier`);
 * - values (pseudonyms, the request id) travel as `ExecutionParameters` wherever Athena accepts them.
 *   Athena accepts execution parameters only in SELECT, INSERT INTO, CTAS and UNLOAD, and only in the
 *   WHERE clause (Athena user guide, "Use parameterized queries", considerations and limitations). So the
 *   count and the access export are parameterised; the Iceberg DELETE and the suppression INSERT's
 *   VALUES cannot be. Those take values only through `hexLiteral`/`uuidLiteral`, which refuse anything but
 *   64 lower-case hex digits or a lower-case UUID: no quote, backslash or space can reach the SQL text.
 * - An execution parameter is itself SQL literal text: a string must be single-quoted in the value
 *   (same page: "enclose them in single quotes").
 */
import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  type ColumnInfo,
} from "@aws-sdk/client-athena";
import { AWS_IDENTIFIER, textColumnsOf, type RegisteredTable } from "./registry";

const PSEUDONYM = /^[0-9a-f]{64}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A registry name as a quoted identifier; anything but a plain lower-case identifier is refused. */
export function quoteIdentifier(name: string): string {
  if (!AWS_IDENTIFIER.test(name)) throw new Error(`'${name}' is not a plain identifier (${String(AWS_IDENTIFIER)})`);
  return `"${name}"`;
}

/** `"db"."table"`. */
export const qualified = (database: string, table: string): string =>
  `${quoteIdentifier(database)}.${quoteIdentifier(table)}`;

/** A pseudonym as a SQL string literal, for the statements Athena takes no parameters in. */
export function hexLiteral(value: string): string {
  if (!PSEUDONYM.test(value)) throw new Error("refused as a SQL literal: not a pseudonym (64 lower-case hex digits)");
  return `'${value}'`;
}

/** A request id as a SQL string literal (same reason as hexLiteral). */
export function uuidLiteral(value: string): string {
  if (!UUID.test(value)) throw new Error("refused as a SQL literal: not a lower-case UUID");
  return `'${value}'`;
}

/** An execution parameter holding a string (Athena's parameters are literal text: quotes doubled). */
export const stringParameter = (value: string): string => `'${value.replace(/'/g, "''")}'`;

export interface Statement {
  readonly sql: string;
  /** Execution parameters, in the order of the `?` in `sql`. */
  readonly parameters: readonly string[];
}

/**
 * The subject's rows: any subject column holding one of the pseudonyms, or any text column containing one
 * (`strpos(lower(col), p) > 0`, Trino's 1-based position, 0 when absent; lower() so a producer that wrote
 * the hex in upper case is matched too). A substring match is a match on the subject: a pseudonym is 64 hex
 * digits of an HMAC-SHA256, which another text contains by chance with negligible probability (about
 * 16^-64 per position). Text columns are visited after the subject columns, so parameters follow the `?`
 * in that order.
 */
function predicate(t: RegisteredTable, pseudonyms: readonly string[], parameterised: boolean): Statement {
  if (pseudonyms.length === 0) throw new Error("no pseudonyms: a predicate would match nothing or everything");
  const value = (p: string): string => (parameterised ? "?" : hexLiteral(p));
  const values = pseudonyms.map(value).join(", ");
  const keyed = t.subjectColumns.map((c) => `${quoteIdentifier(c)} IN (${values})`);
  const text = textColumnsOf(t).flatMap((c) =>
    pseudonyms.map((p) => `strpos(lower(${quoteIdentifier(c)}), ${value(p)}) > 0`),
  );
  if (keyed.length + text.length === 0)
    throw new Error(`${t.dataset}.${t.table}: no subject or text column: a predicate would match nothing`);
  const sql = [...keyed, ...text].join(" OR ");
  const parameters = parameterised
    ? [...t.subjectColumns, ...textColumnsOf(t)].flatMap(() => pseudonyms.map(stringParameter))
    : [];
  return { sql, parameters };
}

/** `SELECT count(*)` of the subject's rows (parameterised). */
export function countStatement(t: RegisteredTable, pseudonyms: readonly string[]): Statement {
  const where = predicate(t, pseudonyms, true);
  return {
    sql: `SELECT count(*) AS n FROM ${qualified(t.dataset, t.table)} WHERE ${where.sql}`,
    parameters: where.parameters,
  };
}

/** `SELECT *` of the subject's rows, for an access export (parameterised). */
export function selectStatement(t: RegisteredTable, pseudonyms: readonly string[]): Statement {
  const where = predicate(t, pseudonyms, true);
  return { sql: `SELECT * FROM ${qualified(t.dataset, t.table)} WHERE ${where.sql}`, parameters: where.parameters };
}

/** Iceberg `DELETE` of the subject's rows (validated literals: Athena takes no parameters in DELETE). */
export function deleteStatement(t: RegisteredTable, pseudonyms: readonly string[]): Statement {
  return {
    sql: `DELETE FROM ${qualified(t.dataset, t.table)} WHERE ${predicate(t, pseudonyms, false).sql}`,
    parameters: [],
  };
}

/** Which of the pseudonyms the suppression table already holds (parameterised). */
export function suppressedStatement(database: string, table: string, pseudonyms: readonly string[]): Statement {
  return {
    sql: `SELECT DISTINCT pseudonym FROM ${qualified(database, table)} WHERE pseudonym IN (${pseudonyms.map(() => "?").join(", ")})`,
    parameters: pseudonyms.map(stringParameter),
  };
}

/**
 * Adds pseudonyms to the suppression table (validated literals: parameters may stand only in a WHERE
 * clause). `suppressed_at` is timestamp(6), Athena's Iceberg timestamp; current_timestamp has a zone.
 */
export function suppressStatement(
  database: string,
  table: string,
  pseudonyms: readonly string[],
  requestId: string,
): Statement {
  const rows = pseudonyms.map((p) => `(${hexLiteral(p)}, ${uuidLiteral(requestId)})`).join(", ");
  return {
    sql:
      `INSERT INTO ${qualified(database, table)} (pseudonym, request_id, suppressed_at) ` +
      `SELECT v.pseudonym, v.request_id, CAST(current_timestamp AS timestamp(6)) FROM (VALUES ${rows}) AS v (pseudonym, request_id)`,
    parameters: [],
  };
}

export interface QueryResult {
  readonly columns: readonly { readonly name: string; readonly type: string }[];
  /** Cell values as Athena returns them (text), null for SQL NULL. */
  readonly rows: readonly (readonly (string | null)[])[];
}

/** What the worker needs of a SQL engine (Athena here; DuckDB behind the loopback fake in tests). */
export interface SqlEngine {
  query(statement: Statement): Promise<QueryResult>;
  execute(statement: Statement): Promise<void>;
}

export interface AthenaEngineOptions {
  /** The cell's workgroup: its result location, encryption and engine version apply. */
  readonly workgroup: string;
  /** First wait between GetQueryExecution polls, doubled up to maxPollMs. @default 250 */
  readonly firstPollMs?: number;
  /** @default 5000 */
  readonly maxPollMs?: number;
  /** Give up (and stop the query) after this long. @default 840000 (14 min, inside Lambda's 15) */
  readonly timeoutMs?: number;
}

export class QueryFailedError extends Error {}

export class AthenaEngine implements SqlEngine {
  constructor(
    private readonly client: AthenaClient,
    private readonly options: AthenaEngineOptions,
  ) {}

  async execute(statement: Statement): Promise<void> {
    await this.run(statement);
  }

  async query(statement: Statement): Promise<QueryResult> {
    const id = await this.run(statement);
    let columns: ColumnInfo[] | undefined;
    const rows: (string | null)[][] = [];
    let token: string | undefined;
    let first = true;
    do {
      const page = await this.client.send(
        new GetQueryResultsCommand({ QueryExecutionId: id, NextToken: token, MaxResults: 1000 }),
      );
      columns ??= page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? [];
      const data = page.ResultSet?.Rows ?? [];
      // A SELECT's first row of the first page is the header (Athena API reference, GetQueryResults).
      for (const row of first ? data.slice(1) : data) {
        rows.push((row.Data ?? []).map((d) => (d.VarCharValue === undefined ? null : d.VarCharValue)));
      }
      first = false;
      token = page.NextToken;
    } while (token);
    return { columns: (columns ?? []).map((c) => ({ name: c.Name ?? "", type: c.Type ?? "varchar" })), rows };
  }

  private async run(statement: Statement): Promise<string> {
    const start = await this.client.send(
      new StartQueryExecutionCommand({
        QueryString: statement.sql,
        WorkGroup: this.options.workgroup,
        ...(statement.parameters.length > 0 ? { ExecutionParameters: [...statement.parameters] } : {}),
      }),
    );
    const id = start.QueryExecutionId;
    if (!id) throw new QueryFailedError("StartQueryExecution returned no QueryExecutionId");
    const deadline = Date.now() + (this.options.timeoutMs ?? 840_000);
    let wait = this.options.firstPollMs ?? 250;
    for (;;) {
      const out = await this.client.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
      const status = out.QueryExecution?.Status;
      switch (status?.State) {
        case "SUCCEEDED":
          return id;
        case "FAILED":
        case "CANCELLED":
          throw new QueryFailedError(
            `Athena query ${id} ${status.State}: ${status.StateChangeReason ?? status.AthenaError?.ErrorMessage ?? "no reason given"}`,
          );
      }
      if (Date.now() > deadline)
        throw new QueryFailedError(`Athena query ${id} still ${status?.State} after the timeout`);
      await new Promise((r) => setTimeout(r, wait));
      wait = Math.min(wait * 2, this.options.maxPollMs ?? 5000);
    }
  }
}

/**
 * A result row as a JSON object, typed by Athena's column types: integers and floating point as numbers
 * (bigint as a string beyond 2^53, where a JSON number would lose digits), boolean as boolean, the rest
 * (varchar, timestamp, decimal, arrays, maps) as the text Athena returns.
 */
export function rowObject(result: QueryResult, row: readonly (string | null)[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  result.columns.forEach((c, i) => {
    const v = row[i] ?? null;
    const type = c.type.toLowerCase();
    if (v === null) out[c.name] = null;
    else if (/^(tinyint|smallint|integer|int|bigint)$/.test(type))
      out[c.name] = Number.isSafeInteger(Number(v)) ? Number(v) : v;
    else if (/^(double|float|real)$/.test(type)) out[c.name] = Number(v);
    else if (type === "boolean") out[c.name] = v === "true";
    else out[c.name] = v;
  });
  return out;
}

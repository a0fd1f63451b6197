/**
 * BigQuery standard SQL as DuckDB runs it: the handful of BigQuery-only spellings the views
 * (components/gcp/clickstream/view-sql.ts) and the notebooks use, rewritten mechanically with "now"
 * pinned, over a table shaped like the UDF's (functions/dataflow-udf/clickstream_table_schema.json).
 * One translation for the view tests (test/clickstream/view-sql.test.ts), the notebooks' queries
 * (test/notebooks) and the data dictionary's column types (test/docs/data-dictionary.test.ts).
 */
import { readFileSync } from "node:fs";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { UDF_SCHEMA_FILE } from "../../components/gcp/clickstream/clickstream-table";

/** Splits `a, b, c` at top-level commas. */
function splitArgs(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of s) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      out.push(cur.trim());
      cur = "";
    } else cur += ch;
  }
  out.push(cur.trim());
  return out;
}

/** Rewrites calls `NAME(args)` (balanced parentheses, not part of a longer identifier) with `f(args)`. */
function rewriteCalls(sql: string, name: string, f: (args: string[]) => string): string {
  let out = "";
  let i = 0;
  for (;;) {
    let at = sql.indexOf(`${name}(`, i);
    while (at > 0 && /\w/.test(sql[at - 1])) at = sql.indexOf(`${name}(`, at + 1);
    if (at < 0) return out + sql.slice(i);
    let depth = 0;
    let j = at + name.length;
    for (; j < sql.length; j++) {
      if (sql[j] === "(") depth++;
      if (sql[j] === ")" && --depth === 0) break;
    }
    out += sql.slice(i, at) + f(splitArgs(sql.slice(at + name.length + 1, j)));
    i = j + 1;
  }
}

const UNIT_SECONDS: Record<string, number> = { SECOND: 1, MINUTE: 60, HOUR: 3600, DAY: 86_400 };

/** A literal for a named parameter: Date -> TIMESTAMP, number, string. */
export type Param = Date | number | string;

function literal(v: Param): string {
  if (v instanceof Date) return `TIMESTAMP '${v.toISOString().replace("T", " ").replace("Z", "")}'`;
  if (typeof v === "number") return String(v);
  return `'${v.split("'").join("''")}'`;
}

export interface Translation {
  /** "Now", as `YYYY-MM-DD HH:MM:SS` (UTC). */
  readonly now: string;
  /** Backticked BigQuery names -> DuckDB relations. */
  readonly tables?: Readonly<Record<string, string>>;
  /** Named parameters (`@name`). */
  readonly params?: Readonly<Record<string, Param>>;
}

export function toDuckDb(sql: string, t: Translation): string {
  let s = sql;
  for (const [bq, duck] of Object.entries(t.tables ?? {})) s = s.split(`\`${bq}\``).join(duck);
  for (const [name, value] of Object.entries(t.params ?? {})) {
    s = s.replace(new RegExp(`@${name}\\b`, "g"), literal(value));
  }
  const left = /@\w+/.exec(s);
  if (left) throw new Error(`parameter ${left[0]} has no value`);
  s = s.split("CURRENT_TIMESTAMP()").join(`TIMESTAMP '${t.now}'`);
  s = s.split("CURRENT_DATE()").join(`DATE '${t.now.slice(0, 10)}'`);
  // `UNNEST(GENERATE_TIMESTAMP_ARRAY(a, b, step)) AS x` -> `generate_series(a, b, step) AS _series(x)`:
  // DuckDB names a table function's column with `AS t(x)`.
  s = rewriteCalls(s, "UNNEST", ([arg]) => {
    const m = /^GENERATE_TIMESTAMP_ARRAY\(([\s\S]*)\)$/.exec(arg);
    if (!m) throw new Error(`UNNEST of ${arg}: only GENERATE_TIMESTAMP_ARRAY is translated`);
    return `generate_series(${m[1]})\u0000`;
  });
  s = s.replace(/\u0000 AS (\w+)/g, " AS _series($1)");
  s = rewriteCalls(s, "TIMESTAMP_SUB", ([ts, interval]) => `(${ts} - ${interval})`);
  s = rewriteCalls(s, "TIMESTAMP_ADD", ([ts, interval]) => `(${ts} + ${interval})`);
  s = rewriteCalls(s, "DATE_SUB", ([d, interval]) => `CAST(${d} - ${interval} AS DATE)`);
  s = rewriteCalls(s, "DATE_DIFF", ([a, b, unit]) => `date_diff('${unit.toLowerCase()}', ${b}, ${a})`);
  // BigQuery counts whole units between the two (truncating), not unit boundaries crossed.
  s = rewriteCalls(
    s,
    "TIMESTAMP_DIFF",
    ([a, b, unit]) => `CAST(trunc((epoch(${a}) - epoch(${b})) / ${UNIT_SECONDS[unit]}) AS BIGINT)`,
  );
  // BigQuery's UNIX_SECONDS rounds down to the beginning of the second.
  s = rewriteCalls(s, "UNIX_SECONDS", ([ts]) => `CAST(floor(epoch(${ts})) AS BIGINT)`);
  s = rewriteCalls(s, "TIMESTAMP_TRUNC", ([ts, unit]) => `date_trunc('${unit.toLowerCase()}', ${ts})`);
  s = rewriteCalls(s, "SAFE_DIVIDE", ([a, b]) => `((${a}) / NULLIF(${b}, 0))`);
  s = rewriteCalls(s, "DATE", ([ts]) => `CAST(${ts} AS DATE)`);
  s = s.replace(
    /ARRAY_AGG\((\w+) IGNORE NULLS ORDER BY (\w+)( DESC)? LIMIT (\d+)\)/g,
    (_m, x, o, desc, n) =>
      `list_slice(array_agg(${x} ORDER BY ${o}${desc ?? ""}) FILTER (WHERE ${x} IS NOT NULL), 1, ${n})`,
  );
  s = s.split("[SAFE_OFFSET(0)]").join("[1]");
  s = s.split("COUNTIF(").join("count_if(");
  s = s.split("JSON_VALUE(").join("json_extract_string(");
  s = s.split("SAFE_CAST(").join("TRY_CAST(");
  s = s.split("* EXCEPT (").join("* EXCLUDE (");
  return s;
}

/** One row of the events table, in the fixtures' shorthand. */
export interface Ev {
  id: string;
  at: string;
  user?: string;
  anon?: string;
  type?: string;
  name?: string;
  consent?: "granted" | "denied";
  props?: Record<string, unknown>;
  path?: string;
  received?: string;
}

const DUCK_TYPES: Record<string, string> = { STRING: "VARCHAR", TIMESTAMP: "TIMESTAMP", JSON: "VARCHAR" };

/** A DuckDB database with `events_src` (the UDF's columns) holding `events`. */
export async function withEvents(events: readonly Ev[], run: (c: DuckDBConnection) => Promise<void>): Promise<void> {
  const instance = await DuckDBInstance.create(":memory:");
  const c = await instance.connect();
  try {
    const columns = JSON.parse(readFileSync(UDF_SCHEMA_FILE, "utf8")) as { name: string; type: string }[];
    await c.run(`CREATE TABLE events_src (${columns.map((col) => `${col.name} ${DUCK_TYPES[col.type]}`).join(", ")})`);
    const q = (v: string | undefined) => (v === undefined ? "NULL" : `'${v.split("'").join("''")}'`);
    for (const e of events) {
      const row: Record<string, string> = {
        message_id: q(e.id),
        event_type: q(e.type ?? "track"),
        event_name: q(e.name),
        user_pseudo_id: q(e.user),
        anonymous_pseudo_id: q(e.anon),
        consent: q(e.consent ?? "granted"),
        event_timestamp: `TIMESTAMP '${e.at}'`,
        received_at: `TIMESTAMP '${e.received ?? e.at}'`,
        page_path: q(e.path),
        properties: q(e.props === undefined ? undefined : JSON.stringify(e.props)),
      };
      await c.run(`INSERT INTO events_src (${Object.keys(row).join(", ")}) VALUES (${Object.values(row).join(", ")})`);
    }
    await run(c);
  } finally {
    c.closeSync();
  }
}

export async function rowsOf(c: DuckDBConnection, duckSql: string): Promise<Record<string, unknown>[]> {
  const reader = await c.runAndReadAll(duckSql);
  return reader.getRowObjectsJson() as Record<string, unknown>[];
}

/** Column names and DuckDB types of a query's result, without running it over data. */
export async function describeQuery(c: DuckDBConnection, duckSql: string): Promise<{ name: string; type: string }[]> {
  const rows = await rowsOf(c, `DESCRIBE ${duckSql}`);
  return rows.map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
}

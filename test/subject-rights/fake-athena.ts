/**
 * Athena on loopback, as far as the AWS subject-rights worker uses it: StartQueryExecution,
 * GetQueryExecution (QUEUED, then RUNNING, then SUCCEEDED or FAILED, so the worker's polling runs) and
 * GetQueryResults (header row first, paginated by MaxResults/NextToken), with the SQL executed on DuckDB.
 *
 * Athena's `"db"."table"` is DuckDB's `"schema"."table"`, so the SQL runs unchanged: the fake translates
 * nothing. ExecutionParameters arrive as Athena takes them, SQL literal text (`'abc'`, `42`), and are bound
 * as prepared-statement parameters, never pasted into the SQL: a parameter that is not a single literal is
 * refused, as Athena refuses it.
 */
import { DuckDBConnection, DuckDBInstance, type DuckDBValue } from "@duckdb/node-api";
import * as http from "node:http";
import type { AddressInfo } from "node:net";

interface Execution {
  readonly id: string;
  readonly sql: string;
  readonly workgroup: string | undefined;
  readonly parameters: readonly string[];
  readonly columns: readonly { Name: string; Type: string }[];
  readonly rows: readonly (readonly (string | null)[])[];
  readonly error: string | undefined;
  polls: number;
}

/** DuckDB column type -> the type name Athena reports in ColumnInfo. */
function athenaType(duck: string): string {
  const t = duck.toUpperCase();
  if (t === "VARCHAR") return "varchar";
  if (t === "BIGINT" || t === "HUGEINT") return "bigint";
  if (t === "INTEGER") return "integer";
  if (t === "DOUBLE" || t === "FLOAT") return "double";
  if (t === "BOOLEAN") return "boolean";
  if (t.startsWith("TIMESTAMP")) return "timestamp";
  if (t === "DATE") return "date";
  if (t.startsWith("DECIMAL")) return "decimal";
  return "varchar";
}

/** An execution parameter (SQL literal text) as a bound value. */
function bindValue(literal: string): DuckDBValue {
  const s = /^'((?:[^']|'')*)'$/.exec(literal);
  if (s) return s[1].replace(/''/g, "'");
  if (/^-?\d+$/.test(literal)) return BigInt(literal);
  throw new Error(`execution parameter ${JSON.stringify(literal)} is not a single literal`);
}

export class FakeAthena {
  /** Every query started, in order, as the worker sent it. */
  readonly executions: Execution[] = [];
  /** Queries whose SQL matches are FAILED with this reason (injected faults). */
  readonly failOn: { pattern: RegExp; reason: string }[] = [];
  /** Rows per GetQueryResults page at most, whatever MaxResults asks (small, to exercise pagination). @default 1000 */
  pageSize = 1000;
  private server: http.Server | undefined;

  private constructor(readonly db: DuckDBConnection) {}

  static async create(): Promise<FakeAthena> {
    return new FakeAthena(await (await DuckDBInstance.create(":memory:")).connect());
  }

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => void this.handle(req, Buffer.concat(chunks), res));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.db.closeSync();
  }

  /** Every row of a table, as JSON objects, in a stable order (for whole-table comparisons). */
  async rows(database: string, table: string): Promise<Record<string, unknown>[]> {
    const r = await this.db.runAndReadAll(`SELECT * FROM "${database}"."${table}" ORDER BY ALL`);
    return r.getRowObjectsJson() as Record<string, unknown>[];
  }

  private async run(
    sql: string,
    parameters: readonly string[],
  ): Promise<Pick<Execution, "columns" | "rows" | "error">> {
    const injected = this.failOn.find((f) => f.pattern.test(sql));
    if (injected) return { columns: [], rows: [], error: injected.reason };
    try {
      const reader = await this.db.runAndReadAll(sql, parameters.map(bindValue));
      if (/^\s*(DELETE|INSERT|UPDATE|MERGE)\b/i.test(sql)) return { columns: [], rows: [], error: undefined };
      const types = reader.columnTypes().map((t) => athenaType(t.toString()));
      const columns = reader.columnNames().map((Name, i) => ({ Name, Type: types[i] }));
      const rows = reader
        .getRowsJson()
        .map((row) => row.map((v) => (v === null ? null : typeof v === "string" ? v : JSON.stringify(v))));
      return { columns, rows, error: undefined };
    } catch (e) {
      return { columns: [], rows: [], error: (e as Error).message };
    }
  }

  private async handle(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): Promise<void> {
    const target = String(req.headers["x-amz-target"] ?? "");
    const json = (status: number, doc: unknown): void =>
      void res.writeHead(status, { "content-type": "application/x-amz-json-1.1" }).end(JSON.stringify(doc));
    const input = JSON.parse(body.toString("utf8") || "{}") as Record<string, unknown>;
    const find = (): Execution | undefined => this.executions.find((e) => e.id === input.QueryExecutionId);
    switch (target) {
      case "AmazonAthena.StartQueryExecution": {
        const sql = String(input.QueryString);
        const parameters = (input.ExecutionParameters as string[] | undefined) ?? [];
        const id = `q-${this.executions.length + 1}`;
        const done = await this.run(sql, parameters);
        this.executions.push({
          id,
          sql,
          workgroup: input.WorkGroup as string | undefined,
          parameters,
          ...done,
          polls: 0,
        });
        return json(200, { QueryExecutionId: id });
      }
      case "AmazonAthena.GetQueryExecution": {
        const e = find();
        if (!e) return json(400, { __type: "InvalidRequestException", Message: "no such query" });
        const state = e.polls === 0 ? "QUEUED" : e.polls === 1 ? "RUNNING" : e.error ? "FAILED" : "SUCCEEDED";
        e.polls++;
        return json(200, {
          QueryExecution: {
            QueryExecutionId: e.id,
            Query: e.sql,
            WorkGroup: e.workgroup,
            Status: { State: state, ...(state === "FAILED" ? { StateChangeReason: e.error } : {}) },
          },
        });
      }
      case "AmazonAthena.GetQueryResults": {
        const e = find();
        if (!e || e.error || e.polls < 3)
          return json(400, { __type: "InvalidRequestException", Message: "query has not succeeded" });
        const header = e.columns.length > 0 ? [{ Data: e.columns.map((c) => ({ VarCharValue: c.Name })) }] : [];
        const all = [
          ...header,
          ...e.rows.map((r) => ({ Data: r.map((v) => (v === null ? {} : { VarCharValue: v })) })),
        ];
        const from = Number(input.NextToken ?? 0);
        const size = Math.min(Number(input.MaxResults ?? 1000), this.pageSize);
        const next = from + size < all.length ? String(from + size) : undefined;
        return json(200, {
          ResultSet: {
            Rows: all.slice(from, from + size),
            ResultSetMetadata: { ColumnInfo: e.columns.map((c) => ({ ...c, Label: c.Name })) },
          },
          ...(next ? { NextToken: next } : {}),
        });
      }
    }
    return json(400, { __type: "UnknownOperationException", Message: target });
  }
}

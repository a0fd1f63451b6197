/**
 * BigQuery's REST API (v2) on loopback, as far as the official `@google-cloud/bigquery` client calls it for
 * the subject-rights worker: jobs.query (`POST /projects/{p}/queries`, the client's fast path of
 * `query()`), jobs.insert (`POST /projects/{p}/jobs`, `createQueryJob()`), jobs.get and
 * jobs.getQueryResults. The GoogleSQL is executed on DuckDB after a small, explicit translation
 * (backquoted `project.dataset.table` -> one quoted DuckDB name, `IN UNNEST(@p)` -> `IN (SELECT unnest($p))`,
 * `FROM UNNEST(@p) AS x` -> `FROM unnest($p) AS _u(x)` (DuckDB names an unnested column by a column alias),
 * `SAFE_CAST(e AS STRING)` -> `TRY_CAST(e AS VARCHAR)`, `@p` -> `$p`; STRPOS and LOWER are DuckDB functions
 * as they are), with the named query parameters bound as DuckDB values, never spliced into the text: a
 * query that put a value in its SQL would find nothing here. DML answers `numDmlAffectedRows` as BigQuery
 * does (JobStatistics2 and QueryResponse).
 */
import {
  BIGINT,
  BOOLEAN,
  DOUBLE,
  type DuckDBConnection,
  DuckDBInstance,
  type DuckDBType,
  type DuckDBValue,
  LIST,
  VARCHAR,
  listValue,
} from "@duckdb/node-api";
import * as http from "node:http";
import type { AddressInfo } from "node:net";

interface QueryParameter {
  name: string;
  parameterType: { type: string; arrayType?: { type: string } };
  parameterValue: { value?: string; arrayValues?: { value: string }[] };
}

interface Executed {
  schema: { fields: { name: string; type: string; mode: string }[] };
  rows: { f: { v: string | null }[] }[];
  dml: boolean;
  affected: number;
}

interface StoredJob {
  id: string;
  projectId: string;
  location: string;
  query: string;
  result: Executed;
}

const SCALAR: Record<string, DuckDBType> = { STRING: VARCHAR, INT64: BIGINT, FLOAT64: DOUBLE, BOOL: BOOLEAN };

/** GoogleSQL as the worker writes it -> DuckDB SQL. Throws on a construct this fake does not translate. */
export function toDuckDb(sql: string): string {
  return (
    sql
      .replace(/`([^`]+)`/g, (_m, name: string) => `"${name.replace(/"/g, '""')}"`)
      .replace(/IN\s+UNNEST\(\s*@([A-Za-z_][A-Za-z0-9_]*)\s*\)/gi, "IN (SELECT unnest($$$1))")
      .replace(
        /FROM\s+UNNEST\(\s*@([A-Za-z_][A-Za-z0-9_]*)\s*\)\s+AS\s+([A-Za-z_][A-Za-z0-9_]*)/gi,
        "FROM unnest($$$1) AS _u($2)",
      )
      // A BLOB's text in DuckDB escapes non-printable bytes (`\x22`) where BigQuery decodes UTF-8 (NULL when
      // invalid): the same for the ASCII hex of a pseudonym, which is all the workers look for.
      .replace(/SAFE_CAST\(([^()]*?)\s+AS\s+STRING\s*\)/gi, "TRY_CAST($1 AS VARCHAR)")
      .replace(/@([A-Za-z_][A-Za-z0-9_]*)/g, "$$$1")
  );
}

export class FakeBigQuery {
  /** Statements received, as sent by the client (GoogleSQL), in order. */
  readonly statements: string[] = [];
  /** The parameters of each statement, by name (`statements[i]` <-> `parameters[i]`). */
  readonly parameters: Record<string, unknown>[] = [];
  /** A statement matching this fails with a 400 invalidQuery (a per-table failure). */
  failOn: RegExp | undefined;
  /**
   * Tables created with `requirePartitionFilter`, by `project.dataset.table`, with their partitioning column:
   * a statement on one without a constant bound on that column fails, as BigQuery refuses it.
   */
  readonly partitionFilters = new Map<string, string>();
  private readonly jobs = new Map<string, StoredJob>();
  private server: http.Server | undefined;
  private nextJob = 1;

  private constructor(readonly db: DuckDBConnection) {}

  static async create(): Promise<FakeBigQuery> {
    const db = await (await DuckDBInstance.create(":memory:")).connect();
    await db.run("SET TimeZone = 'UTC'");
    return new FakeBigQuery(db);
  }

  /** The DuckDB name of `project.dataset.table` (seed tables under it). */
  static table(id: string): string {
    return `"${id}"`;
  }

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        this.handle(req, Buffer.concat(chunks), res).catch((err: unknown) => {
          const message = err instanceof Error ? err.message : String(err);
          res
            .writeHead(400, { "content-type": "application/json" })
            .end(JSON.stringify({ error: { code: 400, message, errors: [{ reason: "invalidQuery", message }] } }));
        });
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.db.closeSync();
  }

  /** Rows of a seeded table, sorted by its first column (for assertions). */
  async rows(id: string): Promise<Record<string, unknown>[]> {
    const r = await this.db.runAndReadAll(`SELECT * FROM ${FakeBigQuery.table(id)} ORDER BY 1`);
    return r.getRowObjectsJson() as Record<string, unknown>[];
  }

  private async execute(sql: string, params: QueryParameter[] = []): Promise<Executed> {
    this.statements.push(sql);
    const values: Record<string, DuckDBValue> = {};
    const types: Record<string, DuckDBType> = {};
    const seen: Record<string, unknown> = {};
    for (const p of params) {
      const t = p.parameterType;
      if (t.type === "ARRAY") {
        const element = SCALAR[t.arrayType?.type ?? ""];
        if (element === undefined) throw new Error(`fake BigQuery: unsupported array type ${t.arrayType?.type}`);
        const items = (p.parameterValue.arrayValues ?? []).map((v) => v.value);
        values[p.name] = listValue(items.map((v) => (element === BIGINT ? BigInt(v) : v)));
        types[p.name] = LIST(element);
        seen[p.name] = items;
      } else {
        const scalar = SCALAR[t.type];
        if (scalar === undefined) throw new Error(`fake BigQuery: unsupported parameter type ${t.type}`);
        values[p.name] = p.parameterValue.value ?? null;
        types[p.name] = scalar;
        seen[p.name] = p.parameterValue.value;
      }
    }
    this.parameters.push(seen);
    if (this.failOn?.test(sql)) throw new Error(`fake failure for: ${sql}`);
    for (const [id, column] of this.partitionFilters) {
      if (sql.includes(`\`${id}\``) && !new RegExp(`\`${column}\`\\s*>=\\s*TIMESTAMP '`).test(sql))
        throw new Error(
          `Cannot query over table '${id}' without a filter over column(s) '${column}' that can be used for partition elimination`,
        );
    }
    const reader = await this.db.runAndReadAll(toDuckDb(sql), values, types);
    const dml = /^\s*(DELETE|UPDATE|INSERT|MERGE)\b/i.test(sql);
    if (dml) return { schema: { fields: [] }, rows: [], dml, affected: reader.rowsChanged };
    const names = reader.columnNames();
    const colTypes = reader.columnTypes().map((t) => t.toString());
    const fields = names.map((name, i) => ({ name, type: bqType(colTypes[i]), mode: "NULLABLE" }));
    const rows = reader.getRowsJS().map((row) => ({ f: row.map((v, i) => ({ v: cell(v, fields[i].type) })) }));
    return { schema: { fields }, rows, dml, affected: 0 };
  }

  private response(job: StoredJob): Record<string, unknown> {
    const r = job.result;
    return {
      kind: "bigquery#getQueryResultsResponse",
      jobReference: { projectId: job.projectId, jobId: job.id, location: job.location },
      jobComplete: true,
      schema: r.schema,
      rows: r.rows,
      totalRows: String(r.rows.length),
      ...(r.dml ? { numDmlAffectedRows: String(r.affected) } : {}),
    };
  }

  private jobResource(job: StoredJob): Record<string, unknown> {
    const r = job.result;
    return {
      kind: "bigquery#job",
      id: `${job.projectId}:${job.location}.${job.id}`,
      jobReference: { projectId: job.projectId, jobId: job.id, location: job.location },
      configuration: { query: { query: job.query, useLegacySql: false } },
      status: { state: "DONE" },
      statistics: {
        query: {
          statementType: r.dml ? /^\s*(\w+)/.exec(job.query)![1].toUpperCase() : "SELECT",
          ...(r.dml ? { numDmlAffectedRows: String(r.affected) } : {}),
        },
      },
    };
  }

  private async handle(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    const json = (status: number, doc: unknown): void =>
      void res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(doc));
    const path = url.pathname.replace(/^\/bigquery\/v2/, "");
    const input = body.length > 0 ? (JSON.parse(body.toString("utf8")) as Record<string, unknown>) : {};

    let m = /^\/projects\/([^/]+)\/queries$/.exec(path);
    if (m !== null && req.method === "POST") {
      const q = input as {
        query: string;
        queryParameters?: QueryParameter[];
        location?: string;
        useLegacySql?: boolean;
      };
      if (q.useLegacySql !== false) throw new Error("fake BigQuery: legacy SQL");
      const job = this.store(m[1], q.location, q.query, await this.execute(q.query, q.queryParameters));
      return json(200, { ...this.response(job), kind: "bigquery#queryResponse" });
    }
    m = /^\/projects\/([^/]+)\/jobs$/.exec(path);
    if (m !== null && req.method === "POST") {
      const j = input as {
        jobReference?: { jobId?: string; location?: string };
        configuration: { query: { query: string; queryParameters?: QueryParameter[]; useLegacySql?: boolean } };
      };
      const q = j.configuration.query;
      if (q.useLegacySql !== false) throw new Error("fake BigQuery: legacy SQL");
      const job = this.store(
        m[1],
        j.jobReference?.location,
        q.query,
        await this.execute(q.query, q.queryParameters),
        j.jobReference?.jobId,
      );
      return json(200, this.jobResource(job));
    }
    m = /^\/projects\/([^/]+)\/(jobs|queries)\/([^/]+)$/.exec(path);
    if (m !== null && req.method === "GET") {
      const job = this.jobs.get(m[3]);
      if (job === undefined) {
        return json(404, { error: { code: 404, message: `Not found: Job ${m[3]}`, errors: [{ reason: "notFound" }] } });
      }
      return json(200, m[2] === "jobs" ? this.jobResource(job) : this.response(job));
    }
    json(404, { error: { code: 404, message: `fake BigQuery does not serve ${req.method} ${path}` } });
  }

  private store(
    projectId: string,
    location: string | undefined,
    query: string,
    result: Executed,
    id?: string,
  ): StoredJob {
    const job: StoredJob = { id: id ?? `job_${this.nextJob++}`, projectId, location: location ?? "EU", query, result };
    this.jobs.set(job.id, job);
    return job;
  }
}

function bqType(duck: string): string {
  if (/^(BIGINT|INTEGER|SMALLINT|TINYINT|HUGEINT|UBIGINT|UINTEGER)$/.test(duck)) return "INTEGER";
  if (/^(DOUBLE|FLOAT|REAL)$/.test(duck)) return "FLOAT";
  if (duck === "BOOLEAN") return "BOOLEAN";
  if (duck.startsWith("TIMESTAMP")) return "TIMESTAMP";
  if (duck === "DATE") return "DATE";
  return "STRING";
}

/** A cell as BigQuery's REST API sends it: text; TIMESTAMP as epoch microseconds (useInt64Timestamp). */
function cell(v: unknown, type: string): string | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) {
    if (type === "DATE") return v.toISOString().slice(0, 10);
    return String(BigInt(v.getTime()) * 1000n);
  }
  return String(v);
}

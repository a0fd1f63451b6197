/**
 * The AWS side of a data-subject request (issue 14, items 4 and 5), run by the requests table's
 * DynamoDB stream (INSERT records only, one per invocation; components/aws/rights/worker-wiring.ts):
 * - erasure: first add each pseudonym not yet there to `<curated db>.subject_suppression`, which the CDC
 *   merges consult so a source replaying the subject cannot bring the rows back; then, per registered AWS
 *   (Iceberg) table, count the subject's rows, DELETE them when there are any, and count again (must be 0);
 * - access: per registered AWS table, SELECT the subject's rows into a JSON-lines object of the exports
 *   bucket, `requests/<requestId>/aws/<database>.<table>.jsonl` (SSE-KMS by the bucket's default, expired
 *   by lifecycle after EXPORT_EXPIRY_DAYS);
 * - then an audit record `<ts>-aws-done.json`, then `awsStatus` "done" with the result, only while it is
 *   still "pending" (a re-run keeps the first result; its own audit record says what it found: 0 rows).
 * A failing table throws: the invocation fails and Lambda retries the record (twice, then the dead-letter
 * queue and its alarm). Every step is idempotent, so a retry redoes only what is left.
 */
import { AthenaClient } from "@aws-sdk/client-athena";
import { DynamoDBClient, type AttributeValue } from "@aws-sdk/client-dynamodb";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import {
  AthenaEngine,
  countStatement,
  deleteStatement,
  rowObject,
  selectStatement,
  suppressedStatement,
  suppressStatement,
  type SqlEngine,
} from "./athena";
import { REQUESTS_PREFIX, S3AuditLog, stamp, type AuditLog } from "./audit";
import {
  DynamoRequestStore,
  fromItem,
  type AwsExport,
  type AwsResult,
  type AwsTableOutcome,
  type RequestRecord,
} from "./records";
import {
  inflateRegistry,
  parseRegistry,
  REGISTRY_DEFLATED_ENV,
  SUPPRESSION_TABLE,
  tablesOf,
  type PersonalDataRegistry,
  type RegisteredTable,
} from "./registry";

export interface ExportStore {
  readonly bucket: string;
  /** Writes the object (replacing an earlier attempt's). */
  write(key: string, body: string): Promise<void>;
  /** The authenticated link to the object. */
  link(key: string): string;
}

export interface AwsWorkerDeps {
  readonly registry: PersonalDataRegistry;
  readonly engine: SqlEngine;
  readonly requests: { completeAws(requestId: string, result: AwsResult): Promise<boolean> };
  readonly audit: AuditLog;
  readonly exports: ExportStore;
  /** The curated Glue database holding SUPPRESSION_TABLE. */
  readonly suppressionDatabase: string;
  readonly cell: string;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

/** The registered AWS tables the worker visits: the suppression table is the erasure's own record, not the subject's data. */
export function subjectTables(deps: Pick<AwsWorkerDeps, "registry" | "suppressionDatabase">): RegisteredTable[] {
  return tablesOf(deps.registry, "aws").filter(
    (t) => !(t.dataset === deps.suppressionDatabase && t.table === SUPPRESSION_TABLE),
  );
}

const outcome = (t: RegisteredTable, rows: number): AwsTableOutcome => ({
  table: `${t.dataset}.${t.table}`,
  holds: t.holds,
  dataClass: t.dataClass,
  rows,
});

async function count(engine: SqlEngine, t: RegisteredTable, pseudonyms: readonly string[]): Promise<number> {
  const r = await engine.query(countStatement(t, pseudonyms));
  return Number(r.rows[0]?.[0] ?? 0);
}

async function erase(
  r: RequestRecord,
  deps: AwsWorkerDeps,
): Promise<{ tables: AwsTableOutcome[]; suppressed: number }> {
  // Suppress first, then delete: a merge that read the list before the insert and commits after the DELETE
  // could otherwise bring the subject's rows back once.
  const present = await deps.engine.query(
    suppressedStatement(deps.suppressionDatabase, SUPPRESSION_TABLE, r.pseudonyms),
  );
  const known = new Set(present.rows.map((row) => row[0]));
  const missing = r.pseudonyms.filter((p) => !known.has(p));
  if (missing.length > 0)
    await deps.engine.execute(suppressStatement(deps.suppressionDatabase, SUPPRESSION_TABLE, missing, r.requestId));
  const tables: AwsTableOutcome[] = [];
  for (const t of subjectTables(deps)) {
    const before = await count(deps.engine, t, r.pseudonyms);
    if (before > 0) {
      await deps.engine.execute(deleteStatement(t, r.pseudonyms));
      const after = await count(deps.engine, t, r.pseudonyms);
      if (after !== 0) throw new Error(`${t.dataset}.${t.table}: ${after} of the subject's rows remain after DELETE`);
    }
    tables.push(outcome(t, before));
  }
  return { tables, suppressed: missing.length };
}

async function exportRows(
  r: RequestRecord,
  deps: AwsWorkerDeps,
): Promise<{ tables: AwsTableOutcome[]; exports: AwsExport[] }> {
  const tables: AwsTableOutcome[] = [];
  const exports: AwsExport[] = [];
  for (const t of subjectTables(deps)) {
    const result = await deps.engine.query(selectStatement(t, r.pseudonyms));
    tables.push(outcome(t, result.rows.length));
    if (result.rows.length === 0) continue;
    const key = `${REQUESTS_PREFIX}${r.requestId}/aws/${t.dataset}.${t.table}.jsonl`;
    await deps.exports.write(key, result.rows.map((row) => `${JSON.stringify(rowObject(result, row))}\n`).join(""));
    exports.push({
      table: `${t.dataset}.${t.table}`,
      rows: result.rows.length,
      object: `s3://${deps.exports.bucket}/${key}`,
      link: deps.exports.link(key),
    });
  }
  return { tables, exports };
}

/** Processes one request on AWS: the result this run found, and whether it was the first (false: a re-run). */
export async function processRequest(
  r: RequestRecord,
  deps: AwsWorkerDeps,
): Promise<{ readonly result: AwsResult; readonly first: boolean }> {
  const done =
    r.kind === "erasure"
      ? { ...(await erase(r, deps)), exports: [] }
      : { ...(await exportRows(r, deps)), suppressed: 0 };
  const completedAt = (deps.now?.() ?? new Date()).toISOString();
  const result: AwsResult = { completedAt, tables: done.tables, exports: done.exports, suppressed: done.suppressed };
  await deps.audit.append(r.requestId, `${stamp(completedAt)}-aws-done.json`, {
    event: "aws-done",
    cell: deps.cell,
    requestId: r.requestId,
    kind: r.kind,
    requestedBy: r.requestedBy,
    receivedAt: r.receivedAt,
    at: completedAt,
    pseudonyms: r.pseudonyms.length,
    tables: result.tables,
    rows: result.tables.reduce((n, t) => n + t.rows, 0),
    exports: result.exports,
    suppressed: result.suppressed,
  });
  const first = await deps.requests.completeAws(r.requestId, result);
  return { result, first };
}

/** S3 exports: the bucket's default encryption (SSE-KMS, lake key) applies; the answer must say so. */
export class S3ExportStore implements ExportStore {
  constructor(
    private readonly client: S3Client,
    readonly bucket: string,
    private readonly region: string,
  ) {}

  async write(key: string, body: string): Promise<void> {
    const out = await this.client.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: "application/x-ndjson" }),
    );
    // Requesting `aws:kms` without a key id would pick the AWS-managed aws/s3 key, so the bucket default
    // (the lake key) is relied on and checked: an export not under KMS is an error, not a warning.
    if (out.ServerSideEncryption !== "aws:kms" && out.ServerSideEncryption !== "aws:kms:dsse")
      throw new Error(`export ${key} was stored with ${out.ServerSideEncryption ?? "no"} encryption, not SSE-KMS`);
  }

  link(key: string): string {
    return `https://${this.region}.console.aws.amazon.com/s3/object/${this.bucket}?region=${this.region}&prefix=${encodeURIComponent(key)}`;
  }
}

/** The part of a DynamoDB stream event the worker reads (Lambda developer guide, "Using Lambda with DynamoDB"). */
export interface StreamEvent {
  readonly Records: readonly {
    readonly eventName?: string;
    readonly dynamodb?: { readonly NewImage?: Record<string, AttributeValue> };
  }[];
}

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};

let deps: AwsWorkerDeps | undefined;
function depsFromEnv(): AwsWorkerDeps {
  const region = env("AWS_REGION");
  const s3 = new S3Client({});
  return {
    registry: parseRegistry(inflateRegistry(env(REGISTRY_DEFLATED_ENV))),
    engine: new AthenaEngine(new AthenaClient({}), { workgroup: env("WORKGROUP") }),
    requests: new DynamoRequestStore(new DynamoDBClient({}), env("REQUESTS_TABLE")),
    audit: new S3AuditLog(s3, env("AUDIT_BUCKET")),
    exports: new S3ExportStore(s3, env("EXPORTS_BUCKET"), region),
    suppressionDatabase: env("SUPPRESSION_DATABASE"),
    cell: env("CELL"),
  };
}

/** The Lambda handler; `wire` replaces the environment's clients (tests). */
export async function handler(event: StreamEvent, wire: AwsWorkerDeps = (deps ??= depsFromEnv())): Promise<void> {
  for (const record of event.Records) {
    // The mapping filters on INSERT already; a MODIFY (a status update) must never re-run a request.
    if (record.eventName !== "INSERT" || !record.dynamodb?.NewImage) continue;
    const request = fromItem(record.dynamodb.NewImage);
    const { result, first } = await processRequest(request, wire);
    console.log(
      JSON.stringify({
        level: "INFO",
        message: "request done on AWS",
        requestId: request.requestId,
        kind: request.kind,
        first,
        rows: result.tables.reduce((n, t) => n + t.rows, 0),
      }),
    );
  }
}

/**
 * One cell's AWS side of the subject-rights process on loopback: the fake DynamoDB/S3/Secrets Manager,
 * the fake Athena over DuckDB tables seeded with several subjects (pseudonyms computed by the real
 * Pseudonymiser under a test key), and the real intake and worker wired to them through the real SDK
 * clients.
 */
import { AthenaClient } from "@aws-sdk/client-athena";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { Pseudonymiser } from "../../functions/collector/privacy";
import { AthenaEngine } from "../../functions/subject-rights/athena";
import { S3AuditLog } from "../../functions/subject-rights/audit";
import {
  handler as intakeHandler,
  secretPseudonymiser,
  type FunctionUrlEvent,
} from "../../functions/subject-rights/aws-intake";
import { handler as workerHandler, S3ExportStore, type AwsWorkerDeps } from "../../functions/subject-rights/aws-worker";
import type { IntakeDeps } from "../../functions/subject-rights/intake";
import { DynamoRequestStore, type RequestRecord, fromItem } from "../../functions/subject-rights/records";
import { parseRegistry, type PersonalDataRegistry } from "../../functions/subject-rights/registry";
import { FakeAthena } from "./fake-athena";
import { FakeAws } from "./fake-aws";

export const KEY_HEX = "5f".repeat(16) + "a0".repeat(16);
export const SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:dev-eu-pseudonymisation-AbCdEf";
export const REQUESTS_TABLE = "dev-eu-subject-requests";
export const AUDIT_BUCKET = "dev-eu-subject-audit";
export const EXPORTS_BUCKET = "dev-eu-subject-exports";
export const CURATED = "dev_eu_curated";
export const MARTS = "dev_eu_marts";
export const OFFICER = "arn:aws:sts::111122223333:assumed-role/dev-eu-privacy-officers/dpo@example.org";

export const pseudonymiser = new Pseudonymiser(Buffer.from(KEY_HEX, "hex"));
export const h = (v: string): string => pseudonymiser.hash(v);

/** The people in the seeded tables; identifiers as a source would send them. */
export const SUBJECTS = {
  alice: { userId: "u-1001", anonymousId: "anon-a1", email: "alice@example.com" },
  bob: { userId: "u-1002", anonymousId: "anon-b1", email: "bob@example.org" },
  carol: { userId: "u-1003", anonymousId: "anon-c1", email: "carol@example.net" },
} as const;
export type SubjectName = keyof typeof SUBJECTS;

export const REGISTRY: PersonalDataRegistry = parseRegistry(
  JSON.stringify({
    cell: "eu",
    tables: [
      {
        cloud: "aws",
        dataset: CURATED,
        table: "customers",
        subjectColumns: ["customer_id", "email"],
        dataClass: "curated",
        holds: "customer master data",
      },
      {
        cloud: "aws",
        dataset: CURATED,
        table: "orders",
        subjectColumns: ["customer_id"],
        dataClass: "curated",
        holds: "orders",
      },
      {
        cloud: "aws",
        dataset: MARTS,
        table: "sessions",
        subjectColumns: ["user_id", "anonymous_id"],
        dataClass: "marts",
        holds: "web sessions",
      },
      // Registered like any personal table; the worker must not erase from its own suppression list.
      {
        cloud: "aws",
        dataset: CURATED,
        table: "subject_suppression",
        subjectColumns: ["pseudonym"],
        dataClass: "curated",
        holds: "erased subjects",
      },
      {
        cloud: "gcp",
        dataset: "lake-eu-dev.curated",
        table: "events",
        subjectColumns: ["user_id"],
        dataClass: "clickstream",
        holds: "events",
      },
    ],
    prefixes: [],
  }),
);

/** Seeds the Iceberg stand-ins: every subject has rows in every table, sessions also by device only. */
async function seed(athena: FakeAthena): Promise<void> {
  await athena.db.run(`
    CREATE SCHEMA ${CURATED}; CREATE SCHEMA ${MARTS};
    CREATE TABLE ${CURATED}.customers (customer_id VARCHAR, email VARCHAR, country VARCHAR, segment VARCHAR);
    CREATE TABLE ${CURATED}.orders (order_id BIGINT, customer_id VARCHAR, amount DOUBLE, placed_at TIMESTAMP, paid BOOLEAN);
    CREATE TABLE ${MARTS}.sessions (session_id VARCHAR, user_id VARCHAR, anonymous_id VARCHAR, pages INTEGER);
    CREATE TABLE ${CURATED}.subject_suppression (pseudonym VARCHAR, request_id VARCHAR, suppressed_at TIMESTAMP);`);
  let order = 1;
  for (const [name, s] of Object.entries(SUBJECTS)) {
    await athena.db.run(`INSERT INTO ${CURATED}.customers VALUES (?, ?, ?, ?)`, [
      h(s.userId),
      h(s.email),
      "PT",
      `seg-${name}`,
    ]);
    for (let i = 0; i < 3; i++) {
      await athena.db.run(`INSERT INTO ${CURATED}.orders VALUES (?, ?, ?, TIMESTAMP '2026-11-0${i + 1} 10:00:00', ?)`, [
        BigInt(order++),
        h(s.userId),
        10.5 * (i + 1),
        i % 2 === 0,
      ]);
    }
    await athena.db.run(`INSERT INTO ${MARTS}.sessions VALUES (?, ?, ?, ?), (?, NULL, ?, ?)`, [
      `s-${name}-1`,
      h(s.userId),
      h(s.anonymousId),
      4,
      `s-${name}-2`,
      h(s.anonymousId),
      2,
    ]);
  }
  // A row of nobody registered: a guest order.
  await athena.db.run(`INSERT INTO ${CURATED}.orders VALUES (999, NULL, 1.0, TIMESTAMP '2026-11-05 00:00:00', true)`);
}

export class AwsCell {
  readonly aws = new FakeAws();
  athena!: FakeAthena;
  intake!: IntakeDeps;
  worker!: AwsWorkerDeps;
  store!: DynamoRequestStore;
  s3!: S3Client;
  private clock = Date.parse("2026-12-04T09:00:00Z");

  /** A clock that moves one second per read, so every audit record gets its own key. */
  now = (): Date => new Date((this.clock += 1000));

  /** The fake AWS endpoint (for clients a test builds itself). */
  awsEndpoint = "";

  async start(): Promise<void> {
    this.athena = await FakeAthena.create();
    await seed(this.athena);
    const [endpoint, athenaEndpoint] = await Promise.all([this.aws.start(), this.athena.start()]);
    this.awsEndpoint = endpoint;
    const base = { region: "eu-west-1", credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "test" } };
    this.aws.secrets.set(SECRET_ARN, KEY_HEX);
    this.s3 = new S3Client({ ...base, endpoint, forcePathStyle: true });
    this.store = new DynamoRequestStore(new DynamoDBClient({ ...base, endpoint }), REQUESTS_TABLE);
    const audit = new S3AuditLog(this.s3, AUDIT_BUCKET);
    this.intake = {
      store: this.store,
      audit,
      pseudonymiser: secretPseudonymiser(new SecretsManagerClient({ ...base, endpoint }), SECRET_ARN),
      cell: "eu",
      jurisdiction: "eu",
      now: this.now,
    };
    this.worker = {
      registry: REGISTRY,
      engine: new AthenaEngine(new AthenaClient({ ...base, endpoint: athenaEndpoint }), {
        workgroup: "dev-eu-subject-rights",
        firstPollMs: 1,
        maxPollMs: 4,
      }),
      requests: this.store,
      audit,
      exports: new S3ExportStore(this.s3, EXPORTS_BUCKET, "eu-west-1"),
      suppressionDatabase: CURATED,
      cell: "eu",
      now: this.now,
    };
  }

  async stop(): Promise<void> {
    await Promise.all([this.aws.close(), this.athena.close()]);
  }

  /** A function URL call (payload format 2.0) signed by `caller`. */
  async call(
    method: string,
    path: string,
    body?: unknown,
    /** null: no IAM caller in the event. */
    caller: string | null = OFFICER,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const event: FunctionUrlEvent = {
      rawPath: path,
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
      isBase64Encoded: false,
      requestContext: {
        http: { method, path },
        ...(caller === null ? {} : { authorizer: { iam: { userArn: caller } } }),
      },
    };
    const res = await intakeHandler(event, this.intake);
    return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, unknown> };
  }

  /** The request's item as stored. */
  item(requestId: string): RequestRecord {
    const item = this.aws.table(REQUESTS_TABLE).get(requestId);
    if (!item) throw new Error(`no item ${requestId}`);
    return fromItem(item as never);
  }

  /** Delivers the stored item to the worker as the stream would: an INSERT record with its NewImage. */
  async stream(requestId: string): Promise<void> {
    const item = this.aws.table(REQUESTS_TABLE).get(requestId)!;
    await workerHandler({ Records: [{ eventName: "INSERT", dynamodb: { NewImage: item as never } }] }, this.worker);
  }

  /** The audit records of a request, by key suffix, parsed. */
  auditRecords(requestId: string): { key: string; record: Record<string, unknown> }[] {
    const prefix = `${AUDIT_BUCKET}/requests/${requestId}/`;
    return [...this.aws.objects.entries()]
      .filter(([k]) => k.startsWith(prefix))
      .map(([k, o]) => ({
        key: k.slice(prefix.length),
        record: JSON.parse(o.body.toString("utf8")) as Record<string, unknown>,
      }))
      .sort((a, b) => a.key.localeCompare(b.key));
  }

  /** Every registered AWS table's full contents (and the suppression table), for before/after comparisons. */
  async snapshot(): Promise<Record<string, Record<string, unknown>[]>> {
    return {
      customers: await this.athena.rows(CURATED, "customers"),
      orders: await this.athena.rows(CURATED, "orders"),
      sessions: await this.athena.rows(MARTS, "sessions"),
      suppression: (await this.athena.rows(CURATED, "subject_suppression")).map(({ pseudonym, request_id }) => ({
        pseudonym,
        request_id,
      })),
    };
  }
}

/** A request body for one of the seeded subjects (or any identifiers). */
export function body(
  requestId: string,
  kind: "access" | "erasure",
  subject: { userIds?: string[]; anonymousIds?: string[]; emails?: string[] },
): Record<string, unknown> {
  return { requestId, kind, jurisdiction: "eu", subject };
}

/** Whether a seeded row belongs to one of these pseudonyms (any subject column). */
export function owned(row: Record<string, unknown>, pseudonyms: readonly string[]): boolean {
  return ["customer_id", "email", "user_id", "anonymous_id"].some((c) => pseudonyms.includes(row[c] as string));
}

/**
 * Registers mocha hooks that give each test a fresh started `AwsCell`, with the handlers' one JSON log line
 * per call (CloudWatch) kept out of the test report. Returns a getter for the current test's cell.
 */
export function freshCellPerTest(): () => AwsCell {
  let cell: AwsCell | undefined;
  let quiet: typeof console.log;
  beforeEach(async () => {
    quiet = console.log;
    console.log = () => undefined;
    cell = new AwsCell();
    await cell.start();
  });
  afterEach(async () => {
    console.log = quiet;
    await cell?.stop();
  });
  return () => {
    if (!cell) throw new Error("no cell outside a test");
    return cell;
  };
}

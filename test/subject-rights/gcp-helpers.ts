/**
 * Shared set-up of the GCP worker tests: the real BigQuery and Storage clients pointed at the loopback
 * fakes, DuckDB tables seeded with several subjects, and in-memory request store and audit log.
 */
import { BigQuery, type BigQueryOptions } from "@google-cloud/bigquery";
import { createHash, randomUUID } from "node:crypto";
import { OAuth2Client } from "google-auth-library";
import { BigQuerySubjectTables } from "../../functions/subject-rights/bigquery";
import type {
  AuditLog,
  GcpResult,
  GcpWorkerDeps,
  PendingRequest,
  RequestStore,
} from "../../functions/subject-rights/gcp-worker";
import { gcsExportStore } from "../../functions/subject-rights/gcp-server";
import type { PersonalDataRegistry } from "../../functions/subject-rights/registry";
import { SuppressionObject } from "../../functions/subject-rights/suppression";
import { FakeBigQuery } from "./fake-bigquery";
import { FakeGcs } from "./fake-gcs";

export const PROJECT = "lake-eu-prod";
export const EVENTS = `${PROJECT}.clickstream.events`;
export const ORDERS = `${PROJECT}.curated.orders`;
export const EXPORTS_BUCKET = "lake-eu-exports";
export const SUPPRESSION_BUCKET = "lake-eu-suppression";

/** A subject's pseudonym for one identifier (the tests only need distinct 64-hex values). */
export function pseudo(id: string): string {
  return createHash("sha256").update(`test-key:${id}`).digest("hex");
}

export const REGISTRY: PersonalDataRegistry = {
  cell: "eu",
  tables: [
    {
      cloud: "gcp",
      dataset: `${PROJECT}.clickstream`,
      table: "events",
      subjectColumns: ["user_id", "anonymous_id"],
      // As the clickstream table: BigQuery refuses a statement without a filter on it (the fake too).
      partitionFilterColumn: "received_at",
      dataClass: "personal",
      holds: "clickstream events",
    },
    {
      cloud: "gcp",
      dataset: `${PROJECT}.curated`,
      table: "orders",
      subjectColumns: ["customer"],
      dataClass: "personal",
      holds: "orders",
    },
    // An AWS table: the GCP worker must leave it to the AWS worker.
    {
      cloud: "aws",
      dataset: "curated",
      table: "orders",
      subjectColumns: ["customer"],
      dataClass: "personal",
      holds: "orders",
    },
  ],
  prefixes: [],
};

/** Seeds both tables: alice (user and anonymous ids), bob, carol and dave; alice's anonymous events have no user id. */
export async function seed(bq: FakeBigQuery): Promise<void> {
  const a = pseudo("alice");
  const aAnon = pseudo("alice-anon");
  const b = pseudo("bob");
  const c = pseudo("carol");
  await bq.db.run(
    `CREATE TABLE ${FakeBigQuery.table(EVENTS)} (message_id VARCHAR, user_id VARCHAR, anonymous_id VARCHAR, event VARCHAR, amount BIGINT, received_at TIMESTAMP)`,
  );
  await bq.db.run(`INSERT INTO ${FakeBigQuery.table(EVENTS)} VALUES
    ('m1', '${a}', '${aAnon}', 'Signed In', 1, TIMESTAMP '2026-11-01 10:00:00'),
    ('m2', NULL, '${aAnon}', 'Page Viewed', 2, TIMESTAMP '2026-11-01 10:01:00'),
    ('m3', '${b}', '${pseudo("bob-anon")}', 'Signed In', 3, TIMESTAMP '2026-11-02 09:00:00'),
    ('m4', '${c}', NULL, 'Order Completed', 4, TIMESTAMP '2026-11-03 12:00:00'),
    ('m5', NULL, '${pseudo("dave-anon")}', 'Page Viewed', 5, TIMESTAMP '2026-11-04 08:00:00'),
    ('m6', '${b}', NULL, 'Order Completed', 6, TIMESTAMP '2026-11-05 18:30:00')`);
  await bq.db.run(`CREATE TABLE ${FakeBigQuery.table(ORDERS)} (order_id VARCHAR, customer VARCHAR, total DOUBLE)`);
  await bq.db.run(`INSERT INTO ${FakeBigQuery.table(ORDERS)} VALUES
    ('o1', '${a}', 10.5), ('o2', '${b}', 20.0), ('o3', '${a}', 7.25), ('o4', '${c}', 3.0)`);
}

/** A BigQuery client that needs no network for auth: an OAuth2 client holding an unexpired fake token. */
export function bigQueryClient(endpoint: string): BigQuery {
  const auth = new OAuth2Client();
  auth.setCredentials({ access_token: "test-token", expiry_date: Date.now() + 3_600_000 });
  // The cast: the client's types name its own copy of google-auth-library's classes (same runtime class).
  const authClient = auth as unknown as BigQueryOptions["authClient"];
  return new BigQuery({ apiEndpoint: endpoint, projectId: PROJECT, location: "EU", authClient });
}

interface StoredRequest {
  request: PendingRequest;
  gcpStatus: "pending" | "done";
  result?: GcpResult;
  firstPass?: GcpResult;
}

export class MemoryRequests implements RequestStore {
  readonly items = new Map<string, StoredRequest>();

  add(request: PendingRequest): void {
    this.items.set(request.requestId, { request, gcpStatus: "pending" });
  }

  reopen(requestId: string): void {
    this.items.get(requestId)!.gcpStatus = "pending";
  }

  async pending(): Promise<PendingRequest[]> {
    return [...this.items.values()]
      .filter((i) => i.gcpStatus === "pending")
      .map((i) => (i.firstPass !== undefined ? { ...i.request, gcpSuppressedAt: i.firstPass.completedAt } : i.request));
  }

  async firstPassDone(requestId: string, result: GcpResult): Promise<boolean> {
    const item = this.items.get(requestId);
    if (item === undefined || item.gcpStatus !== "pending" || item.firstPass !== undefined) return false;
    item.firstPass = result;
    return true;
  }

  async complete(requestId: string, result: GcpResult): Promise<boolean> {
    const item = this.items.get(requestId);
    if (item === undefined || item.gcpStatus !== "pending") return false;
    item.gcpStatus = "done";
    item.result = result;
    return true;
  }
}

export class MemoryAudit implements AuditLog {
  readonly records = new Map<string, unknown>();

  async append(requestId: string, name: string, record: unknown): Promise<void> {
    const key = `requests/${requestId}/${name}`;
    if (this.records.has(key)) throw new Error(`audit record ${key} exists (append-only)`);
    this.records.set(key, JSON.parse(JSON.stringify(record)));
  }
}

export interface GcpWorld {
  bq: FakeBigQuery;
  gcs: FakeGcs;
  requests: MemoryRequests;
  audit: MemoryAudit;
  deps: GcpWorkerDeps;
  /** Moves the worker's clock forward (past the erasure settle time). */
  advance(ms: number): void;
  close(): Promise<void>;
}

/** Fakes started, tables seeded, the worker's dependencies wired to the real clients. */
export async function gcpWorld(): Promise<GcpWorld> {
  const bq = await FakeBigQuery.create();
  bq.partitionFilters.set(EVENTS, "received_at");
  await seed(bq);
  const bqEndpoint = await bq.start();
  const gcs = new FakeGcs();
  const gcsEndpoint = await gcs.start();
  const storageOptions = { apiEndpoint: gcsEndpoint, projectId: PROJECT };
  const requests = new MemoryRequests();
  const audit = new MemoryAudit();
  let tick = Date.parse("2026-12-04T04:00:00.000Z");
  const deps: GcpWorkerDeps = {
    registry: REGISTRY,
    requests,
    audit,
    tables: new BigQuerySubjectTables(bigQueryClient(bqEndpoint), "EU"),
    exports: gcsExportStore(EXPORTS_BUCKET, storageOptions),
    suppression: new SuppressionObject(SUPPRESSION_BUCKET, storageOptions),
    // A new second per call: each run's audit record gets its own name.
    now: () => new Date((tick += 1000)),
    log: () => undefined,
  };
  return {
    bq,
    gcs,
    requests,
    audit,
    deps,
    advance: (ms) => {
      tick += ms;
    },
    close: async () => {
      await gcs.close();
      await bq.close();
    },
  };
}

/** A pending request of the `eu` jurisdiction for the subjects `ids` (their pseudonyms, as the intake stores them). */
export function request(kind: "access" | "erasure", ids: string[]): PendingRequest {
  return {
    requestId: randomUUID(),
    kind,
    jurisdiction: "eu",
    pseudonyms: ids.map(pseudo),
    receivedAt: "2026-12-04T03:00:00.000Z",
  };
}

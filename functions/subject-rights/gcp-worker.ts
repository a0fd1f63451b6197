/**
 * The GCP side of a data-subject request (issue 14, items 4 and 5), run hourly by Cloud Scheduler through
 * gcp-server.ts. For every request whose `gcpStatus` is still "pending":
 * - erasure, in two passes: first the pseudonyms go into the suppression object the collector reads
 *   (suppression.ts), then per registered GCP table the subject's rows are counted and DELETEd
 *   (parameterised DML, bigquery.ts). Events the collector accepted before it re-read the list (up to its
 *   refresh interval) are still on their way through Pub/Sub and Dataflow when that DELETE runs, so the
 *   request is not done yet: a later run, at least `settleMs` after the first pass, deletes again
 *   (stragglers, usually none) and only then completes it;
 * - access: per registered GCP table, SELECT the subject's rows into a JSON-lines object of the exports
 *   bucket (`requests/<requestId>/gcp/<project>.<dataset>.<table>.jsonl`), linked by its authenticated
 *   `storage.cloud.google.com` URL (only principals with read on the bucket can open it);
 * - then an audit record `<ts>-gcp-done.json` in the AWS audit bucket, and `gcpStatus` "done" under the
 *   condition that it is still "pending" (two overlapping runs cannot both complete a request).
 * The audit record is written before the status: a request marked done always has its record, and a run
 * that dies in between repeats the work, which finds nothing left to delete (re-running changes nothing).
 * A request with a failing table stays pending and is retried by the next run.
 *
 * The clients are injected (interfaces below) so the core runs against loopback fakes in tests; the
 * server wires the real ones.
 */
import type { SubjectTables } from "./bigquery";
import { tableId } from "./bigquery";
import type { PersonalDataRegistry, RegisteredTable } from "./registry";
import type { SuppressionMerge } from "./suppression";

/** A request as the worker reads it from the requests table (raw identifiers are never stored). */
export interface PendingRequest {
  readonly requestId: string;
  readonly kind: "access" | "erasure";
  readonly jurisdiction: string;
  /** The subject's pseudonyms (HMAC-SHA256 under the cell key, lower-case hex). */
  readonly pseudonyms: readonly string[];
  readonly receivedAt: string;
  /** Erasure: when the first pass wrote the suppression object and deleted (absent before it). */
  readonly gcpSuppressedAt?: string;
}

/**
 * Time from the first erasure pass to the second: longer than the collector's suppression refresh (60 s)
 * plus the clickstream pipeline's latency to BigQuery (Pub/Sub and Dataflow streaming: seconds to a few
 * minutes), with a wide margin. With the hourly schedule the second pass is the next run.
 */
export const ERASURE_SETTLE_MS = 30 * 60 * 1000;

/** Rows found (and, for an erasure, deleted) in one table. */
export interface TableOutcome {
  /** `project.dataset.table`. */
  readonly table: string;
  readonly holds: string;
  readonly dataClass: string;
  readonly rows: number;
}

export interface ExportLink {
  readonly table: string;
  readonly rows: number;
  /** `gs://bucket/object`. */
  readonly object: string;
  /** Authenticated browser URL (`https://storage.cloud.google.com/<bucket>/<object>`). */
  readonly link: string;
}

/** What the worker writes back to the request record. */
export interface GcpResult {
  readonly completedAt: string;
  readonly tables: readonly TableOutcome[];
  readonly exports: readonly ExportLink[];
  /** Pseudonyms newly added to the suppression object (erasure). */
  readonly suppressed: number;
}

export interface RequestStore {
  /** Every request whose gcpStatus is "pending". */
  pending(): Promise<PendingRequest[]>;
  /** gcpStatus "pending" -> "done" with the result; false when it was no longer pending. */
  complete(requestId: string, result: GcpResult): Promise<boolean>;
  /**
   * Records an erasure's first pass (gcpSuppressedAt = result.completedAt, and its result), only while the
   * request is pending without one; false otherwise (another run did it).
   */
  firstPassDone(requestId: string, result: GcpResult): Promise<boolean>;
}

export interface AuditLog {
  /** Appends `requests/<requestId>/<name>` (never overwrites). */
  append(requestId: string, name: string, record: unknown): Promise<void>;
}

export interface ExportStore {
  readonly bucket: string;
  /** Writes the object (replacing an earlier attempt's) and returns nothing; the link is derived. */
  write(object: string, body: string): Promise<void>;
}

export interface SuppressionWriter {
  add(pseudonyms: readonly string[]): Promise<SuppressionMerge>;
}

export interface GcpWorkerDeps {
  readonly registry: PersonalDataRegistry;
  readonly requests: RequestStore;
  readonly audit: AuditLog;
  readonly tables: SubjectTables;
  readonly exports: ExportStore;
  readonly suppression: SuppressionWriter;
  /** @default () => new Date() */
  readonly now?: () => Date;
  /** Least time between an erasure's two passes. @default ERASURE_SETTLE_MS */
  readonly settleMs?: number;
  /** @default structured JSON lines on stderr */
  readonly log?: (severity: "INFO" | "WARNING" | "ERROR", message: string, fields?: Record<string, unknown>) => void;
}

export interface RunSummary {
  readonly done: readonly string[];
  /** Erasures whose first pass ran now (suppressed and deleted; the second pass is due after settleMs). */
  readonly firstPass: readonly string[];
  /** Erasures waiting for their second pass (settleMs not yet over). */
  readonly waiting: readonly string[];
  /** Requests left pending (a table or a write failed), with the error. */
  readonly failed: readonly { requestId: string; error: string }[];
  /** Completed by another run meanwhile (the conditional update found them done). */
  readonly skipped: readonly string[];
}

/** The export object of one table for one request. */
export function exportObject(requestId: string, table: string): string {
  return `requests/${requestId}/gcp/${table}.jsonl`;
}

/** The authenticated console URL of an object (Cloud Storage docs, "Authenticated browser downloads"). */
export function exportLink(bucket: string, object: string): string {
  return `https://storage.cloud.google.com/${bucket}/${object.split("/").map(encodeURIComponent).join("/")}`;
}

function defaultLog(severity: string, message: string, fields?: Record<string, unknown>): void {
  process.stderr.write(`${JSON.stringify({ severity, message, component: "subject-rights-gcp", ...fields })}\n`);
}

/** requestIds are uuids (intake checks them); checked again here because they become object names. */
const REQUEST_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function processRequest(
  deps: GcpWorkerDeps,
  gcpTables: readonly RegisteredTable[],
  r: PendingRequest,
): Promise<GcpResult> {
  if (!REQUEST_ID.test(r.requestId)) throw new Error(`requestId ${JSON.stringify(r.requestId)} is not a uuid`);
  const tables: TableOutcome[] = [];
  const exports: ExportLink[] = [];
  let suppressed = 0;
  // Suppression before the DELETEs (and again on the second pass, where it adds nothing): from here on
  // the collector stops publishing the subject within its refresh interval.
  if (r.kind === "erasure" && r.pseudonyms.length > 0) suppressed = (await deps.suppression.add(r.pseudonyms)).added;
  for (const t of gcpTables) {
    const id = tableId(t);
    let rows: number;
    if (r.pseudonyms.length === 0) rows = 0;
    else if (r.kind === "erasure") {
      // Count first: the DELETE of a table without the subject is skipped (no DML job, no table version).
      const found = await deps.tables.count(t, r.pseudonyms);
      rows = found > 0 ? await deps.tables.erase(t, r.pseudonyms) : 0;
    } else {
      const found = await deps.tables.select(t, r.pseudonyms);
      rows = found.length;
      if (rows > 0) {
        const object = exportObject(r.requestId, id);
        await deps.exports.write(object, found.map((row) => JSON.stringify(row)).join("\n") + "\n");
        exports.push({
          table: id,
          rows,
          object: `gs://${deps.exports.bucket}/${object}`,
          link: exportLink(deps.exports.bucket, object),
        });
      }
    }
    tables.push({ table: id, holds: t.holds, dataClass: t.dataClass, rows });
  }
  return { completedAt: (deps.now ?? (() => new Date()))().toISOString(), tables, exports, suppressed };
}

/** One run over every pending request; never throws for one request's failure. */
export async function runGcpWorker(deps: GcpWorkerDeps): Promise<RunSummary> {
  const log = deps.log ?? defaultLog;
  const gcpTables = deps.registry.tables.filter((t) => t.cloud === "gcp");
  // Fail the whole run on a bad registry entry, before any request is touched.
  for (const t of gcpTables) tableId(t);
  const pending = await deps.requests.pending();
  const done: string[] = [];
  const firstPass: string[] = [];
  const waiting: string[] = [];
  const failed: { requestId: string; error: string }[] = [];
  const skipped: string[] = [];
  const now = deps.now ?? (() => new Date());
  const settleMs = deps.settleMs ?? ERASURE_SETTLE_MS;
  for (const r of pending) {
    try {
      const twoPass = r.kind === "erasure" && r.pseudonyms.length > 0;
      if (twoPass && r.gcpSuppressedAt !== undefined && now().getTime() - Date.parse(r.gcpSuppressedAt) < settleMs) {
        waiting.push(r.requestId);
        continue;
      }
      const first = twoPass && r.gcpSuppressedAt === undefined;
      const result = await processRequest(deps, gcpTables, r);
      // Named like the intake's `<receivedAt>-received.json`: ISO time first, so a listing is chronological.
      await deps.audit.append(r.requestId, `${result.completedAt}-gcp-${first ? "first-pass" : "done"}.json`, {
        requestId: r.requestId,
        cell: deps.registry.cell,
        cloud: "gcp",
        kind: r.kind,
        jurisdiction: r.jurisdiction,
        receivedAt: r.receivedAt,
        pass: first ? "first: suppressed and deleted; a second pass deletes stragglers" : twoPass ? "second" : "only",
        ...result,
      });
      if (first) {
        if (await deps.requests.firstPassDone(r.requestId, result)) firstPass.push(r.requestId);
        else skipped.push(r.requestId);
        log("INFO", "erasure first pass done", { requestId: r.requestId, suppressed: result.suppressed });
      } else if (await deps.requests.complete(r.requestId, result)) {
        done.push(r.requestId);
        const rows = result.tables.reduce((n, t) => n + t.rows, 0);
        log("INFO", "request done", { requestId: r.requestId, kind: r.kind, rows, suppressed: result.suppressed });
      } else skipped.push(r.requestId);
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      failed.push({ requestId: r.requestId, error });
      log("ERROR", "request failed, left pending for the next run", { requestId: r.requestId, error });
    }
  }
  return { done, firstPass, waiting, failed, skipped };
}

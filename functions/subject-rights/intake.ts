/**
 * The intake of data-subject requests (issue 14, item 3), independent of Lambda: the handler
 * (aws-intake.ts) turns a function URL event into an `IntakeRequest` and wires the stores.
 *
 * - `POST /requests` (or `/`): 400/422 with every problem; a new requestId -> pseudonymise, record
 *   (conditional put), audit `received` -> 202 with the record; the same requestId again with the same
 *   body -> 200 with the stored record (idempotent); with another body -> 409.
 * - `GET /requests/<id>` -> 200 with the record (status per cloud, rows per table, export links) / 404.
 *
 * The raw identifiers exist only in this invocation's memory: the record and the audit trail hold the
 * pseudonyms (record) or counts (audit), so neither store can re-identify the subject without the key.
 */
import type { Pseudonymiser } from "../collector/privacy";
import { AuditRecordExists, stamp, type AuditLog } from "./audit";
import type { RequestRecord, RequestStore } from "./records";
import { isRequestId, parseRequest, pseudonymsOf, requestHash, type Jurisdiction } from "./request";

export interface IntakeRequest {
  readonly method: string;
  readonly path: string;
  readonly body: string;
  /** The signed caller's IAM ARN; undefined when the event carries none. */
  readonly caller: string | undefined;
}

export interface IntakeResponse {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

export interface IntakeDeps {
  readonly store: RequestStore;
  readonly audit: AuditLog;
  /** The cell's pseudonymiser; called only for a new, valid request (the key is read on demand). */
  readonly pseudonymiser: () => Promise<Pseudonymiser>;
  readonly cell: string;
  readonly jurisdiction: Jurisdiction;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

/** The record as returned to the operator: everything but the pseudonyms (not needed to follow a request). */
export function publicView(r: RequestRecord): Record<string, unknown> {
  return {
    requestId: r.requestId,
    kind: r.kind,
    jurisdiction: r.jurisdiction,
    requestedBy: r.requestedBy,
    receivedAt: r.receivedAt,
    identifierCounts: r.identifierCounts,
    aws: { status: r.awsStatus, ...(r.awsResult ?? {}) },
    gcp: { status: r.gcpStatus, ...(r.gcpResult ?? {}) },
  };
}

/** The `received` audit record of a request. */
export function receivedRecord(r: RequestRecord, cell: string): Record<string, unknown> {
  return {
    event: "received",
    cell,
    requestId: r.requestId,
    kind: r.kind,
    jurisdiction: r.jurisdiction,
    requestedBy: r.requestedBy,
    at: r.receivedAt,
    identifierCounts: r.identifierCounts,
    pseudonyms: r.pseudonyms.length,
    requestHash: r.requestHash,
  };
}

/**
 * Writes the `received` record; one that exists already (a retried POST whose first attempt wrote it)
 * is the same record, so it counts as written.
 */
async function auditReceived(deps: IntakeDeps, r: RequestRecord): Promise<void> {
  try {
    await deps.audit.append(r.requestId, `${stamp(r.receivedAt)}-received.json`, receivedRecord(r, deps.cell));
  } catch (e) {
    if (!(e instanceof AuditRecordExists)) throw e;
  }
}

const problem = (status: number, problems: readonly string[]): IntakeResponse => ({
  status,
  body: { error: status === 409 ? "conflict" : "invalid request", problems },
});

export async function handleIntake(req: IntakeRequest, deps: IntakeDeps): Promise<IntakeResponse> {
  if (req.caller === undefined) return problem(403, ["the request carries no IAM caller (the URL needs AWS_IAM)"]);
  const path = req.path.replace(/\/+$/, "") || "/";
  const get = /^\/requests\/([^/]+)$/.exec(path);
  if (req.method === "GET" && get) {
    const id = decodeURIComponent(get[1]).toLowerCase();
    if (!isRequestId(id)) return problem(400, [`'${get[1]}' is not a request id (a UUID)`]);
    const record = await deps.store.get(id);
    return record ? { status: 200, body: publicView(record) } : { status: 404, body: { error: `no request ${id}` } };
  }
  if (req.method === "POST" && (path === "/" || path === "/requests")) return post(req, deps);
  return { status: 404, body: { error: `no route ${req.method} ${req.path}: POST /requests, GET /requests/<id>` } };
}

async function post(req: IntakeRequest, deps: IntakeDeps): Promise<IntakeResponse> {
  const parsed = parseRequest(req.body, deps.jurisdiction);
  if (!parsed.ok) return problem(parsed.status, parsed.problems);
  const request = parsed.request;
  const hash = requestHash(request);
  const replay = async (existing: RequestRecord): Promise<IntakeResponse> => {
    if (existing.requestHash !== hash)
      return problem(409, [`request ${request.requestId} exists with a different body; use a new requestId`]);
    await auditReceived(deps, existing);
    return { status: 200, body: publicView(existing) };
  };
  const existing = await deps.store.get(request.requestId);
  if (existing) return replay(existing);

  const pseudonymiser = await deps.pseudonymiser();
  const s = request.subject;
  const record: RequestRecord = {
    requestId: request.requestId,
    kind: request.kind,
    jurisdiction: request.jurisdiction,
    pseudonyms: pseudonymsOf(s, pseudonymiser),
    identifierCounts: {
      userIds: s.userIds?.length ?? 0,
      anonymousIds: s.anonymousIds?.length ?? 0,
      emails: s.emails?.length ?? 0,
    },
    requestHash: hash,
    requestedBy: req.caller!,
    receivedAt: (deps.now?.() ?? new Date()).toISOString(),
    awsStatus: "pending",
    gcpStatus: "pending",
  };
  if (!(await deps.store.create(record))) {
    // Another POST of the same requestId won the conditional put between our read and write.
    const winner = await deps.store.get(request.requestId);
    if (winner) return replay(winner);
    throw new Error(`request ${request.requestId}: conditional put refused but no item found`);
  }
  await auditReceived(deps, record);
  return { status: 202, body: publicView(record) };
}

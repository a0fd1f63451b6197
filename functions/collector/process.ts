/**
 * The CPU-bound part of a request, from the raw body to the Pub/Sub message payloads: JSON parse, write
 * key from the body, Spec validation, consent, pseudonymisation, IP truncation, re-serialisation.
 * Pure (no I/O, no shared state but the caches of the Pseudonymiser it is given), so it runs the same
 * on the event-loop thread (small bodies) and on the transform worker (large bodies, see worker-pool.ts).
 */
import {
  EventError,
  type EventType,
  MAX_EVENT_BYTES,
  type TransformedEvent,
  transformEventJson,
  validateEvent,
} from "./event";
import { type Json, type JsonObject, Pseudonymiser } from "./privacy";

export type Route = EventType | "batch";

/** What the thread that did the work needs to know about the request. */
export interface Job {
  readonly route: Route;
  /** Write key from `Authorization: Basic` (already checked against the key list), if any. */
  readonly headerKey: string | undefined;
  readonly receivedAt: string;
  readonly clientIp: string | undefined;
}

/** Settings the transformation needs (a subset of CollectorConfig that crosses to a worker). */
export interface TransformSettings {
  readonly writeKeys: ReadonlyMap<string, string>;
  readonly hmacKey: Buffer;
  readonly consentCategory: string;
}

export interface Rejected {
  readonly ok: false;
  readonly status: number;
  readonly message: string;
}

export interface Transformed {
  readonly ok: true;
  /** Events in the request, including those the consent rule dropped (the in-flight reservation counts them). */
  readonly count: number;
  /** What to publish, one per event that consent allows. */
  readonly events: TransformedEvent[];
}

export type Processed = Rejected | Transformed;

function isObject(v: Json | undefined): v is JsonObject {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function reject(status: number, message: string): Rejected {
  return { ok: false, status, message };
}

export class BodyProcessor {
  private readonly pseudonymiser: Pseudonymiser;

  constructor(private readonly settings: TransformSettings) {
    this.pseudonymiser = new Pseudonymiser(settings.hmacKey);
  }

  process(raw: Uint8Array, job: Job): Processed {
    // Parsed as JSON whatever the Content-Type: analytics.js sends text/plain to avoid a CORS preflight.
    let body: Json;
    try {
      // On the event-loop thread raw is already a Buffer; the worker receives a plain Uint8Array.
      const text = Buffer.isBuffer(raw)
        ? raw.toString("utf8")
        : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString("utf8");
      body = JSON.parse(text) as Json;
    } catch (err) {
      return reject(400, `malformed JSON: ${(err as Error).message}`);
    }
    if (!isObject(body)) return reject(400, "body must be a JSON object");
    const bodyKey = body.writeKey;
    const writeKey = job.headerKey ?? (typeof bodyKey === "string" && bodyKey !== "" ? bodyKey : undefined);
    if (writeKey === undefined) return reject(401, "missing write key (Basic auth user name or writeKey in the body)");
    const source = this.settings.writeKeys.get(writeKey);
    if (source === undefined) return reject(401, "unknown write key");

    const route = job.route;
    let events: JsonObject[];
    try {
      if (route === "batch") {
        const batch = body.batch;
        if (!Array.isArray(batch)) throw new EventError("batch: must be an array of events");
        const shared = isObject(body.context) ? body.context : undefined;
        // Per-event size only matters when the whole body could hold an oversize event.
        const checkSize = raw.byteLength > MAX_EVENT_BYTES;
        for (let i = 0; i < batch.length; i++) {
          const ev = batch[i];
          validateEvent(ev, `batch[${i}]`);
          if (checkSize && Buffer.byteLength(JSON.stringify(ev)) > MAX_EVENT_BYTES) {
            throw new EventError(`batch[${i}]: event exceeds ${MAX_EVENT_BYTES} bytes`);
          }
          // Batch-level context (some SDKs put library/consent there) fills keys the event lacks.
          if (shared !== undefined) ev.context = isObject(ev.context) ? { ...shared, ...ev.context } : { ...shared };
        }
        events = batch as JsonObject[];
      } else {
        // The path names the type; a body `type` that disagrees is a client bug worth reporting.
        if (body.type !== undefined && body.type !== route) {
          throw new EventError(`type: "${String(body.type)}" does not match the ${route} endpoint`);
        }
        body.type = route;
        validateEvent(body, "event");
        events = [body];
      }
    } catch (err) {
      if (err instanceof EventError) return reject(400, err.message);
      throw err;
    }
    const ctx = { source, receivedAt: job.receivedAt, clientIp: job.clientIp };
    const out: TransformedEvent[] = [];
    for (let i = 0; i < events.length; i++) {
      const m = transformEventJson(events[i], this.pseudonymiser, ctx, this.settings.consentCategory);
      if (m !== undefined) out.push(m);
    }
    return { ok: true, count: events.length, events: out };
  }
}

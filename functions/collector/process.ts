/**
 * The CPU-bound part of a request, from the raw body to the Pub/Sub message payloads: JSON parse, write
 * key from the body, Spec validation, consent, pseudonymisation, IP truncation, re-serialisation.
 * Pure (no I/O, no shared state but the caches of the Pseudonymiser it is given), so it runs the same
 * on the event-loop thread (small bodies) and on the transform worker (large bodies, see worker-pool.ts).
 */
import { isUtf8 } from "node:buffer";
import {
  EventError,
  type EventType,
  MAX_EVENT_BYTES,
  type TransformedEvent,
  transformEventJson,
  validateEvent,
} from "./event";
import { type Json, type JsonObject, Pseudonymiser } from "./privacy";
import type { SuppressionList } from "./suppression";

export type Route = EventType | "batch";

/**
 * Deepest nesting of objects and arrays in an event, the event itself being level 1 (a batch's events
 * are level 1 too, and its batch-level `context` is level 2, the level it takes in each event). Segment's
 * Spec events need about 5 (`properties.products[].variant.x`). A bound is needed because everything
 * after the parse that walks an event recurses (JSON.stringify, the privacy rules): V8's JSON.parse
 * takes 200,000 nested arrays iteratively, JSON.stringify then throws RangeError (stack overflow).
 */
export const MAX_NESTING_DEPTH = 32;

/**
 * Largest batch-level `context`, as JSON. Segment merges it into every event of the batch
 * (segment.com/docs/connections/sources/catalog/libraries/server/http-api/#batch), so it is published
 * once per event: a 400 KB context on 1,000 tiny events would publish 400 MB from a 483 KB request.
 * SDKs put the library, consent and locale there (a few hundred bytes); 8 KB leaves room for a page
 * and a user agent.
 */
export const MAX_BATCH_CONTEXT_BYTES = 8 * 1024;

/**
 * Largest batch once its batch-level context is merged into the events that inherit it: the body plus
 * the context once per event without a context of its own, counted before any event is transformed.
 * 4 × the 500 KB request limit: a 2 KB mobile context on 500 events passes; 600 tiny events with a
 * 7.9 KB context (4.7 MB to transform and publish from a 30 KB request) do not, and are refused before
 * the work, so neither memory nor CPU is multiplied by events × context.
 */
export const MAX_MERGED_BATCH_BYTES = 2 * 1024 * 1024;

/**
 * Largest total of a batch's events as published (JSON, batch context merged into each, identifiers
 * replaced by 64-character pseudonyms): 8 × the 500 KB request limit, a backstop behind
 * MAX_MERGED_BATCH_BYTES. A 500 KB batch of the smallest valid events (~50 bytes each) publishes
 * ~2.5 MB; with this bound a request never turns into more than 4 MiB of messages.
 */
export const MAX_PUBLISHED_BATCH_BYTES = 4 * 1024 * 1024;

/**
 * Pub/Sub's limit on an attribute value (cloud.google.com/pubsub/quotas#resource_limits). `messageId`
 * travels as an attribute, and one message over the limit fails the whole Publish call, with the other
 * requests' events batched into it: checked here, per event, so a bad one is this request's 400.
 */
export const MAX_MESSAGE_ID_BYTES = 1024;

/** Room for `,"context":` and a separating comma when an event inherits the batch context. */
const MERGE_OVERHEAD_BYTES = 16;

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
  /** Query parameters kept in clear besides `utm_*` (COLLECTOR_QUERY_ALLOWLIST). */
  readonly queryAllowList?: readonly string[];
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
  /** Events dropped because their subject was erased (suppression.ts); counted in `count`. */
  readonly suppressed: number;
}

export type Processed = Rejected | Transformed;

function isObject(v: Json | undefined): v is JsonObject {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function reject(status: number, message: string): Rejected {
  return { ok: false, status, message };
}

/**
 * True when no object or array in the body is nested deeper than MAX_NESTING_DEPTH, levels counted as
 * MAX_NESTING_DEPTH describes. Recursive, but bounded: it returns as soon as a container is past the
 * limit, so it never goes more than MAX_NESTING_DEPTH + 1 frames deep whatever the input. Every request
 * pays it: ~0.25 µs for an analytics.js event (a few typeof checks per value; an explicit-stack loop
 * measured twice as slow).
 */
function withinDepth(body: JsonObject, batch: boolean): boolean {
  for (const key in body) {
    const v = body[key];
    if (v === null || typeof v !== "object") continue;
    if (batch && key === "batch" && Array.isArray(v)) {
      // The batch array is transparent: its events are level 1.
      for (let i = 0; i < v.length; i++) {
        const e = v[i];
        if (e !== null && typeof e === "object" && !containerWithin(e, 1)) return false;
      }
    } else if (!containerWithin(v, 2)) return false;
  }
  return true;
}

/** `v` is at level `level`: it and everything in it within MAX_NESTING_DEPTH. */
function containerWithin(v: Json[] | JsonObject, level: number): boolean {
  if (level > MAX_NESTING_DEPTH) return false;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (x !== null && typeof x === "object" && !containerWithin(x, level + 1)) return false;
    }
  } else {
    for (const k in v) {
      const x = v[k];
      if (x !== null && typeof x === "object" && !containerWithin(x, level + 1)) return false;
    }
  }
  return true;
}

/** The path of the first container past MAX_NESTING_DEPTH (slow path: only once withinDepth said no). */
function tooDeepPath(body: JsonObject, batch: boolean): string {
  const stack: { v: Json; d: number; path: string }[] = [];
  for (const key in body) {
    const v = body[key];
    if (v === null || typeof v !== "object") continue;
    if (batch && key === "batch" && Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], d: 1, path: `batch[${i}]` });
    } else stack.push({ v, d: 2, path: pathKey("", key) });
  }
  while (stack.length > 0) {
    const { v, d, path } = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    if (d > MAX_NESTING_DEPTH) return path;
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], d: d + 1, path: `${path}[${i}]` });
    } else {
      const keys = Object.keys(v);
      for (let i = keys.length - 1; i >= 0; i--) stack.push({ v: v[keys[i]], d: d + 1, path: pathKey(path, keys[i]) });
    }
  }
  return "body";
}

/** `a.b`, with a key that would make the message unreadable (long, odd characters) shown as JSON, cut short. */
function pathKey(path: string, key: string): string {
  const k = /^[A-Za-z0-9_$-]{1,64}$/.test(key) ? key : `[${JSON.stringify(key.slice(0, 64))}]`;
  return path === "" ? k : k.startsWith("[") ? `${path}${k}` : `${path}.${k}`;
}

/** The identifiers that name the subject of an event (suppression.ts); groupId names a group, not a person. */
const SUBJECT_FIELDS = ["userId", "anonymousId", "previousId"] as const;

export class BodyProcessor {
  private readonly pseudonymiser: Pseudonymiser;

  /** `suppression`: erased subjects whose events are dropped. @default none (nothing suppressed) */
  constructor(
    private readonly settings: TransformSettings,
    private readonly suppression?: SuppressionList,
  ) {
    this.pseudonymiser = new Pseudonymiser(settings.hmacKey, settings.queryAllowList);
  }

  /**
   * True when one of the event's subject ids is suppressed. Validated ids are hashable; the pseudonyms
   * land in the Pseudonymiser's cache, so the transformation that follows for a kept event hashes nothing twice.
   */
  private isSuppressed(ev: JsonObject, list: SuppressionList): boolean {
    for (const f of SUBJECT_FIELDS) {
      const v = ev[f];
      if ((typeof v === "string" && v !== "") || typeof v === "number") {
        if (list.has(this.pseudonymiser.hash(v))) return true;
      }
    }
    return false;
  }

  process(raw: Uint8Array, job: Job): Processed {
    // Parsed as JSON whatever the Content-Type: analytics.js sends text/plain to avoid a CORS preflight.
    let body: Json;
    // Invalid UTF-8 would decode to U+FFFD, merging different identifiers onto one pseudonym (issue 11,
    // item 9): rejected. isUtf8 (node:buffer, simdutf) validates without decoding; the JSON text is RFC
    // 8259 §8.1 UTF-8.
    if (!isUtf8(raw)) return reject(400, "body is not valid UTF-8");
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
    if (!withinDepth(body, route === "batch")) {
      return reject(400, `${tooDeepPath(body, route === "batch")}: nested deeper than ${MAX_NESTING_DEPTH} levels`);
    }
    let events: JsonObject[];
    // The batch-level context as JSON: each event that inherits it gets its own copy, parsed from this.
    let sharedText: string | undefined;
    try {
      if (route === "batch") {
        const batch = body.batch;
        if (!Array.isArray(batch)) throw new EventError("batch: must be an array of events");
        let sharedBytes = 0;
        if (isObject(body.context)) {
          sharedText = JSON.stringify(body.context);
          sharedBytes = Buffer.byteLength(sharedText);
          if (sharedBytes > MAX_BATCH_CONTEXT_BYTES) {
            throw new EventError(
              `context: batch-level context is ${sharedBytes} bytes, more than ${MAX_BATCH_CONTEXT_BYTES} (it is merged into every event)`,
            );
          }
        }
        // The per-event limit holds on the event as published, batch context included; it can only be
        // exceeded when the whole body plus that context could hold an oversize event.
        const checkSize = raw.byteLength + sharedBytes + MERGE_OVERHEAD_BYTES > MAX_EVENT_BYTES;
        let inheriting = 0;
        for (let i = 0; i < batch.length; i++) {
          const ev = batch[i];
          validateEvent(ev, `batch[${i}]`);
          checkMessageId(ev, `batch[${i}]`);
          if (!isObject(ev.context)) inheriting++;
          if (checkSize) {
            let size = Buffer.byteLength(JSON.stringify(ev));
            // size + context is an upper bound of the merged size; measure exactly only near the limit.
            if (sharedText !== undefined && size + sharedBytes + MERGE_OVERHEAD_BYTES > MAX_EVENT_BYTES) {
              const ctx = isObject(ev.context) ? { ...(body.context as JsonObject), ...ev.context } : body.context;
              size = Buffer.byteLength(JSON.stringify({ ...ev, context: ctx }));
            }
            if (size > MAX_EVENT_BYTES) {
              throw new EventError(
                `batch[${i}]: event exceeds ${MAX_EVENT_BYTES} bytes${sharedText !== undefined ? " with the batch-level context merged in" : ""}`,
              );
            }
          }
        }
        if (raw.byteLength + inheriting * sharedBytes > MAX_MERGED_BATCH_BYTES) {
          throw new EventError(
            `batch: ${inheriting} events × the ${sharedBytes}-byte batch-level context exceed ${MAX_MERGED_BATCH_BYTES} bytes once merged; send smaller batches or less context`,
          );
        }
        events = batch as JsonObject[];
      } else {
        // The path names the type; a body `type` that disagrees is a client bug worth reporting.
        if (body.type !== undefined && body.type !== route) {
          throw new EventError(`type: "${String(body.type)}" does not match the ${route} endpoint`);
        }
        body.type = route;
        validateEvent(body, "event");
        checkMessageId(body, "event");
        events = [body];
      }
    } catch (err) {
      if (err instanceof EventError) return reject(400, err.message);
      throw err;
    }
    const ctx = { source, receivedAt: job.receivedAt, clientIp: job.clientIp };
    const out: TransformedEvent[] = [];
    // UTF-8 bytes published so far: an upper bound (3 bytes per UTF-16 unit) until that passes the
    // budget, then exact. Ordinary batches never need the exact count (no per-event byteLength).
    let published = 0;
    let exact = false;
    let suppressed = 0;
    // Empty list (the usual case): no hashing, no lookup.
    const list = this.suppression !== undefined && this.suppression.size > 0 ? this.suppression : undefined;
    for (let i = 0; i < events.length; i++) {
      const ev = events[i];
      // Before consent and transformation: an erased subject's event is dropped whatever it holds.
      if (list !== undefined && this.isSuppressed(ev, list)) {
        suppressed++;
        events[i] = EMPTY;
        continue;
      }
      if (sharedText !== undefined) {
        // The privacy rules rewrite nested objects (context.device, context.traits) in place: every
        // event gets its own copy of the batch context, or the second event would hash the first's
        // pseudonyms again. Parsing the ≤ 8 KB text is the cheapest deep copy of plain JSON.
        const own = JSON.parse(sharedText) as JsonObject;
        ev.context = isObject(ev.context) ? Object.assign(own, ev.context) : own;
      }
      const m = transformEventJson(ev, this.pseudonymiser, ctx, this.settings.consentCategory);
      // The event and its copy of the context are garbage from here.
      events[i] = EMPTY;
      if (m === undefined) continue;
      out.push(m);
      if (!exact) {
        published += 3 * m.json.length;
        if (published > MAX_PUBLISHED_BATCH_BYTES) {
          exact = true;
          published = 0;
          for (let j = 0; j < out.length; j++) published += Buffer.byteLength(out[j].json);
        }
      } else published += Buffer.byteLength(m.json);
      if (exact && published > MAX_PUBLISHED_BATCH_BYTES) {
        return reject(
          400,
          `batch: the events as published (batch-level context merged into each) exceed ${MAX_PUBLISHED_BATCH_BYTES} bytes; send smaller batches`,
        );
      }
    }
    return { ok: true, count: events.length, events: out, suppressed };
  }
}

const EMPTY: JsonObject = {};

function checkMessageId(ev: JsonObject, where: string): void {
  const id = ev.messageId;
  if (typeof id === "string" && id.length > MAX_MESSAGE_ID_BYTES / 3 && Buffer.byteLength(id) > MAX_MESSAGE_ID_BYTES) {
    throw new EventError(`${where}.messageId: longer than ${MAX_MESSAGE_ID_BYTES} bytes (Pub/Sub's attribute limit)`);
  }
}

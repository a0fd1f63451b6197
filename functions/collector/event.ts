/**
 * Segment Spec events (segment.com/docs/connections/spec/common): validation, consent, pseudonymisation.
 * One event in, one Pub/Sub message (or nothing) out.
 */
import { createHash } from "node:crypto";
import {
  analyticsConsent,
  type Json,
  type JsonObject,
  OMITTED,
  Pseudonymiser,
  scrubIdentifyingFields,
  truncateIp,
} from "./privacy";

export const EVENT_TYPES = ["track", "identify", "page", "screen", "group", "alias"] as const;
export type EventType = (typeof EVENT_TYPES)[number];
const TYPE_SET: ReadonlySet<string> = new Set(EVENT_TYPES);

/**
 * Segment's HTTP Tracking API limits: "a maximum of 32KB per call (the batch endpoint accepts a maximum
 * of 500KB per batch and 32KB per contained event)", answered with 400 when exceeded
 * (segment.com/docs/connections/sources/catalog/libraries/server/http-api/#max-request-size).
 * Measured after decompression, as Segment does, so gzip cannot smuggle a larger payload.
 */
export const MAX_EVENT_BYTES = 32 * 1024;
export const MAX_BATCH_BYTES = 500 * 1024;

/** A client error: the message names the problem and the field, and becomes a 400. */
export class EventError extends Error {}

export interface RequestContext {
  readonly source: string;
  readonly receivedAt: string;
  /** Client IP as seen by the front end, used when the event has no `context.ip`. */
  readonly clientIp: string | undefined;
}

export interface OutgoingMessage {
  readonly data: Buffer;
  readonly attributes: Record<string, string>;
}

const ID_FIELDS = ["userId", "anonymousId", "previousId", "groupId"];
const STRING_FIELDS = ["messageId", "event", "name", "category"];
const DATE_FIELDS = ["timestamp", "originalTimestamp", "sentAt"];
const OBJECT_FIELDS = ["context", "properties", "traits", "integrations"];
const REDUCED_FIELDS = ["event", "name", "category", "timestamp", "originalTimestamp", "sentAt"];

function isObject(v: Json | undefined): v is JsonObject {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function isId(v: Json | undefined): v is string | number {
  return (typeof v === "string" && v !== "") || (typeof v === "number" && Number.isFinite(v));
}

/** Checks one event against the Spec; throws EventError naming the field. `where` prefixes the message. */
export function validateEvent(ev: Json, where: string): asserts ev is JsonObject {
  if (!isObject(ev)) throw new EventError(`${where}: event must be a JSON object`);
  const type = ev.type;
  if (typeof type !== "string" || !TYPE_SET.has(type)) {
    throw new EventError(`${where}.type: must be one of ${EVENT_TYPES.join(", ")}`);
  }
  for (const f of ID_FIELDS) {
    const v = ev[f];
    if (v !== undefined && v !== null && !isId(v))
      throw new EventError(`${where}.${f}: must be a non-empty string or a number`);
  }
  for (const f of STRING_FIELDS) {
    const v = ev[f];
    if (v !== undefined && v !== null && typeof v !== "string") throw new EventError(`${where}.${f}: must be a string`);
  }
  for (const f of DATE_FIELDS) {
    const v = ev[f];
    if (v !== undefined && v !== null && (typeof v !== "string" || Number.isNaN(Date.parse(v)))) {
      throw new EventError(`${where}.${f}: must be an ISO-8601 date string`);
    }
  }
  for (const f of OBJECT_FIELDS) {
    const v = ev[f];
    if (v !== undefined && v !== null && !isObject(v)) throw new EventError(`${where}.${f}: must be an object`);
  }
  // Spec: every call needs a userId or an anonymousId (alias: userId and previousId).
  if (type === "alias") {
    if (!isId(ev.previousId)) throw new EventError(`${where}.previousId: required for alias`);
    if (!isId(ev.userId)) throw new EventError(`${where}.userId: required for alias`);
  } else if (!isId(ev.userId) && !isId(ev.anonymousId)) {
    throw new EventError(`${where}: userId or anonymousId is required`);
  }
  if (type === "track" && (typeof ev.event !== "string" || ev.event === "")) {
    throw new EventError(`${where}.event: required for track`);
  }
  if (type === "group" && !isId(ev.groupId)) throw new EventError(`${where}.groupId: required for group`);
}

/**
 * messageId is what Dataflow/BigQuery de-duplicate on. Every Segment/RudderStack SDK sets one; for a
 * hand-written caller that does not, the id is derived from the event's own content (minus `sentAt`,
 * which SDKs refresh on each retry), so a retried request gets the same id instead of a new random one.
 */
function ensureMessageId(ev: JsonObject, source: string): string {
  if (typeof ev.messageId === "string" && ev.messageId !== "") return ev.messageId;
  const { sentAt: _sentAt, ...rest } = ev;
  void _sentAt;
  return `derived-${createHash("sha256").update(source).update(JSON.stringify(rest)).digest("hex").slice(0, 32)}`;
}

const DEVICE_IDS = ["id", "advertisingId"];

/**
 * Applies the consent rule, pseudonymisation and IP truncation to a validated event (in place, it is
 * ours) and serialises it. Returns undefined when consent allows nothing.
 *
 * Consent denied or unproven (see README, "Consent"):
 * - identify, group, alias exist only to link identities: dropped.
 * - track, page, screen are reduced to an anonymous count (type, event/name, times, messageId, source,
 *   library): no identifier, property, trait, URL or IP, so the record is not personal data
 *   (GDPR Recital 26) and supports only aggregate audience measurement.
 */
export function transformEvent(
  ev: JsonObject,
  p: Pseudonymiser,
  req: RequestContext,
  consentCategory: string,
): OutgoingMessage | undefined {
  const out = transformEventJson(ev, p, req, consentCategory);
  if (out === undefined) return undefined;
  return {
    data: Buffer.from(out.json),
    // messageId as an attribute: Dataflow's Pub/Sub source can de-duplicate on it (PubsubIO idAttribute).
    // Only one attribute: each costs encoding work per message, and type/consent are in the data.
    attributes: { messageId: out.messageId },
  };
}

/** A transformed event: its JSON text (the message data) and its messageId (the message attribute). */
export interface TransformedEvent {
  readonly json: string;
  readonly messageId: string;
}

/** transformEvent without the final UTF-8 encoding (which callers may batch into one buffer). */
export function transformEventJson(
  ev: JsonObject,
  p: Pseudonymiser,
  req: RequestContext,
  consentCategory: string,
): TransformedEvent | undefined {
  const type = ev.type as EventType;
  const messageId = ensureMessageId(ev, req.source);
  const consent = analyticsConsent(ev, consentCategory);
  let out: JsonObject;
  if (consent === "denied") {
    if (type === "identify" || type === "group" || type === "alias") return undefined;
    const context = isObject(ev.context) ? ev.context : undefined;
    out = {
      messageId,
      type,
      consent,
      source: req.source,
      receivedAt: req.receivedAt,
    };
    for (const f of REDUCED_FIELDS) {
      const v = ev[f];
      if (v !== undefined && v !== null) out[f] = v;
    }
    if (context !== undefined && isObject(context.library)) out.context = { library: context.library };
  } else {
    // Fields are removed with OMITTED (undefined, left out by JSON.stringify), not `delete` (see privacy.ts).
    out = ev;
    out.messageId = messageId;
    out.consent = consent;
    out.source = req.source;
    out.receivedAt = req.receivedAt;
    if (out.writeKey !== undefined) out.writeKey = OMITTED;
    for (const f of ID_FIELDS) {
      const v = out[f];
      if (isId(v)) out[f] = p.hash(v);
      else if (v !== undefined) out[f] = OMITTED;
    }
    if (isObject(out.traits)) scrubIdentifyingFields(out.traits, p);
    if (isObject(out.properties)) scrubIdentifyingFields(out.properties, p);
    const context: JsonObject = isObject(out.context) ? out.context : (out.context = {});
    if (isObject(context.traits)) scrubIdentifyingFields(context.traits, p);
    if (isObject(context.device)) {
      for (const f of DEVICE_IDS) {
        const v = context.device[f];
        if (isId(v)) context.device[f] = p.hash(v);
        else if (v !== undefined) context.device[f] = OMITTED;
      }
    }
    const rawIp = typeof context.ip === "string" ? context.ip : req.clientIp;
    const ip = rawIp === undefined ? undefined : truncateIp(rawIp);
    if (ip !== undefined) context.ip = ip;
    else if (context.ip !== undefined) context.ip = OMITTED;
  }
  return { json: JSON.stringify(envelope(out)), messageId };
}

/**
 * The published message: the topic's Pub/Sub schema fields only (components/gcp/clickstream/event-topic.ts,
 * `CLICKSTREAM_EVENT_FIELDS`), every one a string. Pub/Sub rejects a message with a field its schema
 * lacks, and the whole Publish request with it, so nothing a tracker sends reaches the topic unless the
 * schema declares it: Segment's free-form objects travel as their JSON text, `integrations` and any other
 * top-level key are dropped (data minimisation). Ids are already pseudonyms (hex strings).
 */
const ENVELOPE_STRINGS = [
  "messageId",
  "type",
  "consent",
  "source",
  "receivedAt",
  "timestamp",
  "originalTimestamp",
  "sentAt",
  "event",
  "name",
  "category",
  ...ID_FIELDS,
];
const ENVELOPE_JSON = ["context", "properties", "traits"];

function envelope(out: JsonObject): JsonObject {
  const e: JsonObject = {};
  for (const f of ENVELOPE_STRINGS) {
    const v = out[f];
    if (typeof v === "string") e[f] = v;
  }
  for (const f of ENVELOPE_JSON) {
    const v = out[f];
    if (isObject(v)) e[f] = JSON.stringify(v);
  }
  return e;
}

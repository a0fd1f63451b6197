/**
 * Segment Spec events (segment.com/docs/connections/spec/common): validation, consent, pseudonymisation.
 * One event in, one Pub/Sub message (or nothing) out.
 */
import {
  analyticsConsent,
  type Json,
  type JsonObject,
  LONE_SURROGATE,
  MAX_IDENTIFIER_CHARS,
  OMITTED,
  Pseudonymiser,
  scrubEntry,
  scrubIdentifyingFields,
  scrubText,
  scrubValue,
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

function isObject(v: Json | undefined): v is JsonObject {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function isId(v: Json | undefined): v is string | number {
  return (typeof v === "string" && v !== "") || (typeof v === "number" && Number.isFinite(v));
}

/**
 * Why an identifier cannot be pseudonymised faithfully, or undefined if it can (issue 11, items 4 and 9).
 * Two people must never share a pseudonym, so these are 400s, not silent rewrites:
 * - a JSON number beyond Number.MAX_SAFE_INTEGER (2^53 - 1) or with a fraction is not the text sent once
 *   parsed (`12345678901234567890` reads as 12345678901234567000);
 * - an unpaired UTF-16 surrogate (`"\ud800"` in JSON) has no UTF-8 form: every one would hash as U+FFFD;
 * - longer than MAX_IDENTIFIER_CHARS: ids are short (uuid4), and long unique ones only fill memory.
 */
function idProblem(v: string | number): string | undefined {
  if (typeof v === "number") {
    return Number.isSafeInteger(v)
      ? undefined
      : "a numeric id must be an integer within ±(2^53 - 1) to be hashed exactly; send it as a string";
  }
  if (v.length > MAX_IDENTIFIER_CHARS) return `longer than ${MAX_IDENTIFIER_CHARS} characters`;
  if (LONE_SURROGATE.test(v)) return "not valid Unicode (an unpaired surrogate)";
  return undefined;
}

/** An identifier that may be hashed (see idProblem). */
function isHashableId(v: Json | undefined): v is string | number {
  return isId(v) && idProblem(v) === undefined;
}

const DEVICE_ID_FIELDS = ["id", "advertisingId"];

/** Checks one event against the Spec; throws EventError naming the field. `where` prefixes the message. */
export function validateEvent(ev: Json, where: string): asserts ev is JsonObject {
  if (!isObject(ev)) throw new EventError(`${where}: event must be a JSON object`);
  const type = ev.type;
  if (typeof type !== "string" || !TYPE_SET.has(type)) {
    throw new EventError(`${where}.type: must be one of ${EVENT_TYPES.join(", ")}`);
  }
  for (const f of ID_FIELDS) {
    const v = ev[f];
    if (v === undefined || v === null) continue;
    if (!isId(v)) throw new EventError(`${where}.${f}: must be a non-empty string or a number`);
    const problem = idProblem(v);
    if (problem !== undefined) throw new EventError(`${where}.${f}: ${problem}`);
  }
  const device = isObject(ev.context) ? ev.context.device : undefined;
  if (isObject(device)) {
    for (const f of DEVICE_ID_FIELDS) {
      const v = device[f];
      const problem = isId(v) ? idProblem(v) : undefined;
      if (problem !== undefined) throw new EventError(`${where}.context.device.${f}: ${problem}`);
    }
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
 * hand-written caller that does not, the id is derived from the event's own content, so a retried request
 * gets the same id instead of a new random one: an HMAC with the cell key (not a plain hash, which a
 * dictionary of e-mail addresses reverses: issue 11, item 8) of the source and the event as published
 * with consent (already pseudonymised), without `sentAt` (SDKs refresh it on each retry), `receivedAt`,
 * `consent` and the IP taken from the connection (both may differ between retries).
 */
function derivedMessageId(ev: JsonObject, p: Pseudonymiser, source: string): string {
  const e = grantedEnvelope(ev, p, source, "", undefined);
  e.messageId = OMITTED;
  e.consent = OMITTED;
  e.receivedAt = OMITTED;
  e.sentAt = OMITTED;
  return `derived-${p.digest(JSON.stringify(e)).slice(0, 32)}`;
}

/**
 * Applies the consent rule, pseudonymisation and IP truncation to a validated event and serialises it.
 * Returns undefined when consent allows nothing. Pure: the event is read, never modified (events of a
 * batch share its context objects).
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
  const consent = analyticsConsent(ev, consentCategory);
  let e: JsonObject;
  if (consent === "denied") {
    if (type === "identify" || type === "group" || type === "alias") return undefined;
    e = deniedEnvelope(ev, p, req);
  } else {
    e = grantedEnvelope(ev, p, req.source, req.receivedAt, req.clientIp);
  }
  const messageId =
    typeof ev.messageId === "string" && ev.messageId !== "" ? ev.messageId : derivedMessageId(ev, p, req.source);
  e.messageId = messageId;
  return { json: JSON.stringify(e), messageId };
}

/**
 * The published message: the topic's Pub/Sub schema fields only (components/gcp/clickstream/event-topic.ts,
 * `CLICKSTREAM_EVENT_FIELDS`), every one a string. Pub/Sub rejects a message with a field its schema
 * lacks, and the whole Publish request with it, so nothing a tracker sends reaches the topic unless the
 * schema declares it: Segment's free-form objects travel as their JSON text, `integrations` and any other
 * top-level key are dropped (data minimisation). Ids are pseudonyms (hex strings). Built field by field
 * in this order; `messageId` is set last (it may be derived from the rest).
 */
const TIME_FIELDS = ["timestamp", "originalTimestamp", "sentAt"];
const TEXT_FIELDS = ["event", "name", "category"];

/** The event with analytics consent: every identifier pseudonymised, the value rules everywhere. */
function grantedEnvelope(
  ev: JsonObject,
  p: Pseudonymiser,
  source: string,
  receivedAt: string,
  clientIp: string | undefined,
): JsonObject {
  const e: JsonObject = { messageId: "", type: ev.type as string, consent: "granted", source, receivedAt };
  copyTimesAndText(e, ev, p);
  for (const f of ID_FIELDS) {
    const v = ev[f];
    if (isHashableId(v)) e[f] = p.hash(v);
  }
  e.context = JSON.stringify(scrubContext(isObject(ev.context) ? ev.context : undefined, p, clientIp));
  if (isObject(ev.properties)) e.properties = JSON.stringify(scrubIdentifyingFields(ev.properties, p, false));
  if (isObject(ev.traits)) e.traits = JSON.stringify(scrubIdentifyingFields(ev.traits, p, true));
  return e;
}

/**
 * `context` with the rules at every depth (`context.traits` is a person), `device.id`/`advertisingId`
 * hashed, `device.token` (a push token: it addresses the device) and `device.name` (often the owner's
 * name: "Alice's iPhone") dropped, and the truncated IP. A new object; the event's is not modified.
 */
function scrubContext(ctx: JsonObject | undefined, p: Pseudonymiser, clientIp: string | undefined): JsonObject {
  const out: JsonObject = {};
  let rawIp = clientIp;
  if (ctx !== undefined) {
    for (const key in ctx) {
      const v = ctx[key];
      if (key === "ip") {
        if (typeof v === "string") rawIp = v;
        continue;
      }
      const c = key === "device" && isObject(v) ? scrubDevice(v, p) : scrubEntry(key, v, p, 1, false, false);
      if (c !== undefined) out[key] = c;
    }
  }
  const ip = rawIp === undefined ? undefined : truncateIp(rawIp);
  if (ip !== undefined) out.ip = ip;
  return out;
}

function scrubDevice(device: JsonObject, p: Pseudonymiser): JsonObject {
  const out: JsonObject = {};
  for (const key in device) {
    const v = device[key];
    let c: Json;
    if (key === "id" || key === "advertisingId") c = isHashableId(v) ? p.hash(v) : OMITTED;
    else if (key === "name") c = OMITTED;
    else c = scrubEntry(key, v, p, 2, false, false);
    if (c !== undefined) out[key] = c;
  }
  return out;
}

/** The time fields as sent and the free-text fields (`event`, `name`, `category`) scrubbed: both envelopes. */
function copyTimesAndText(e: JsonObject, ev: JsonObject, p: Pseudonymiser): void {
  for (const f of TIME_FIELDS) {
    const v = ev[f];
    if (typeof v === "string") e[f] = v;
  }
  for (const f of TEXT_FIELDS) {
    const v = ev[f];
    if (typeof v === "string") e[f] = scrubText(v, p);
  }
}

/** Without consent: the anonymous count record (see transformEventJson). */
function deniedEnvelope(ev: JsonObject, p: Pseudonymiser, req: RequestContext): JsonObject {
  const e: JsonObject = {
    messageId: "",
    type: ev.type as string,
    consent: "denied",
    source: req.source,
    receivedAt: req.receivedAt,
  };
  copyTimesAndText(e, ev, p);
  const context = isObject(ev.context) ? ev.context : undefined;
  if (context !== undefined && isObject(context.library)) {
    e.context = JSON.stringify({ library: scrubValue(context.library, p, 2, false) });
  }
  return e;
}

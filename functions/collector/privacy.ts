/**
 * Privacy at the edge (GDPR Art. 25 and 32, LGPD Art. 46): what leaves the collector never carries a
 * direct identifier or a full IP address.
 *
 * Pseudonymisation (GDPR Art. 4(5), LGPD Art. 13 §4): identifiers become HMAC-SHA256(cell key, value),
 * lower-case hex. A keyed hash, not a plain one, because user ids and e-mails are guessable and a plain
 * SHA-256 is reversed by a dictionary; the key lives in Secret Manager, so re-identification needs it.
 * The same cell key is used on AWS, so join keys are equal on both clouds.
 */
import { createHmac, createSecretKey, type KeyObject } from "node:crypto";
import { isIP } from "node:net";

/** A JSON object as parsed from the request. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/**
 * Assigned to a field to remove it from the serialised event: JSON.stringify leaves out undefined
 * properties. Cheaper than `delete`, which turns the object into a slow dictionary-mode object (and is a
 * runtime call even for an absent field); same JSON. Only for objects that are serialised, not read, after.
 */
export const OMITTED = undefined as unknown as Json;

/**
 * Pseudonyms computed recently, by identifier. One HMAC costs ~1.8 µs (OpenSSL re-keys on every
 * createHmac), and identifiers repeat heavily: every event of a device's batch carries the same
 * anonymousId/userId, and a session sends dozens of events. Bounded in entries and in bytes, and simply
 * emptied when full: the cheapest eviction (an LRU such as `lru-cache` would reorder on every hit, on the
 * hottest path), and a miss only costs one HMAC. Values longer than MAX_IDENTIFIER_CHARS (free-text
 * property values that the value rules hash) are hashed but never cached, so unique long strings cannot
 * fill memory (issue 11, item 4: 30,000-character ids once held ~1 GB). Process memory only.
 */
const PSEUDONYM_CACHE_MAX = 50_000;
export const PSEUDONYM_CACHE_MAX_BYTES = 16 * 1024 * 1024;
/**
 * Estimated bytes of one cache entry besides its key: the 64-character hex value (~80 bytes as a V8
 * string), the key's string header and the Map's entry and hash-table slack. Keys count 2 bytes a
 * character (V8's two-byte strings; one-byte strings use half, so the estimate errs high).
 */
const CACHE_ENTRY_OVERHEAD_BYTES = 160;

/**
 * Longest `userId`, `anonymousId`, `previousId`, `groupId`, `context.device.id`/`advertisingId` accepted
 * (longer: 400 naming the field). Segment's Tracking API documents no maximum for these fields (only
 * 32 KB per event) and recommends uuid4, 36 characters (twilio.com/docs/segment/guides/working-with-ids);
 * 256 also covers any e-mail address used as an id (RFC 5321 §4.5.3.1.3: a path is at most 256 octets).
 */
export const MAX_IDENTIFIER_CHARS = 256;

/** A UTF-16 surrogate without its pair: UTF-8 cannot encode it (Node writes U+FFFD, merging values). */
export const LONE_SURROGATE = /\p{Cs}/u;

/** RFC 2104 §3: keys shorter than the hash output (32 bytes for SHA-256) weaken HMAC. */
export const MIN_HMAC_KEY_BYTES = 32;

/**
 * The cell key as stored (`PseudonymisationKey`: hex in Secret Manager and Secrets Manager), or base64;
 * hex first because it is unambiguous. Surrounding whitespace (a trailing newline from a secret file)
 * is ignored. The caller checks the length against MIN_HMAC_KEY_BYTES. glue_job.py's `decode_key` is
 * the same rule.
 */
export function decodeHmacKey(text: string): Buffer {
  const t = text.trim();
  return /^[0-9a-fA-F]+$/.test(t) && t.length % 2 === 0 ? Buffer.from(t, "hex") : Buffer.from(t, "base64");
}

/** Marks the UTF-16 form of an ill-formed string: 0xFF never occurs in UTF-8, so no well-formed value collides. */
const ILL_FORMED_PREFIX = Buffer.from([0xff]);

export class Pseudonymiser {
  private readonly key: KeyObject;
  private readonly cache = new Map<string, string>();
  private cacheBytes = 0;
  /** Query parameter names (lower-case) kept in clear besides `utm_*` (COLLECTOR_QUERY_ALLOWLIST; see scrubUrl). */
  readonly queryAllowList: ReadonlySet<string>;

  constructor(key: Buffer, queryAllowList: readonly string[] = []) {
    // A KeyObject is imported once instead of on each HMAC.
    this.key = createSecretKey(key);
    this.queryAllowList = new Set(queryAllowList.map((n) => n.trim().toLowerCase()).filter((n) => n !== ""));
  }

  /** HMAC-SHA256 of the UTF-8 value, hex. Numbers are hashed as their decimal text so `42` and `"42"` join. */
  hash(value: string | number): string {
    const text = typeof value === "string" ? value : String(value);
    let h = this.cache.get(text);
    if (h === undefined) {
      h = this.digest(text);
      if (text.length <= MAX_IDENTIFIER_CHARS) {
        const bytes = 2 * text.length + CACHE_ENTRY_OVERHEAD_BYTES;
        if (this.cache.size >= PSEUDONYM_CACHE_MAX || this.cacheBytes + bytes > PSEUDONYM_CACHE_MAX_BYTES) {
          this.cache.clear();
          this.cacheBytes = 0;
        }
        this.cache.set(text, h);
        this.cacheBytes += bytes;
      }
    }
    return h;
  }

  /** HMAC-SHA256 hex of any text, uncached (derived message ids). */
  digest(text: string): string {
    const mac = createHmac("sha256", this.key);
    // Lone surrogates would become U+FFFD in UTF-8 and merge different values onto one pseudonym;
    // such text is hashed as its exact UTF-16 code units instead, marked so it cannot meet a UTF-8 form.
    if (LONE_SURROGATE.test(text)) mac.update(ILL_FORMED_PREFIX).update(Buffer.from(text, "utf16le"));
    else mac.update(text);
    return mac.digest("hex");
  }

  /** What the cache holds (tests): entries and the characters of their keys. O(entries). */
  cacheFootprint(): { entries: number; keyChars: number } {
    let keyChars = 0;
    for (const k of this.cache.keys()) keyChars += k.length;
    return { entries: this.cache.size, keyChars };
  }
}

/** Lower-case, `_`, `-`, `.` and white space removed: `user_email`, `emailAddress`, `E-Mail` compare equal. */
export function normaliseKey(key: string): string {
  return key.toLowerCase().replace(/[_\-.\s]/g, "");
}

const normEmail = (v: string): string => v.trim().toLowerCase();
const normPhone = (v: string): string => v.replace(/[^0-9+]/g, "");
const normExact = (v: string): string => v;
const normLower = (v: string): string => v.trim().toLowerCase();

/**
 * What happens to a value, by its key (README, "Privacy rules"). Rules apply at every depth of
 * `context`, `properties` and `traits`.
 * - hash: kept as an HMAC join key (normalised first, so the same e-mail typed with a capital letter
 *   still joins);
 * - remove: direct identifiers with no analytic use as a pseudonym;
 * - person: removed only inside a person (traits, context.traits, or an object under a key such as
 *   `customer`, `shipping`): a bare `name` names a product, page, library or campaign elsewhere;
 * - coarsen: latitude/longitude rounded to 1 decimal (~11 km);
 * - externalIds: Segment's `externalIds[]` (spec: identify), each `id` hashed;
 * - personScope: the value describes a person (see `person`).
 */
type KeyRule =
  | { readonly kind: "hash"; readonly norm: (v: string) => string }
  | { readonly kind: "remove" | "person" | "coarsen" | "externalIds" | "personScope" | "keep" };

const KEEP: KeyRule = { kind: "keep" };
const REMOVE: KeyRule = { kind: "remove" };
const PERSON: KeyRule = { kind: "person" };
const COARSEN: KeyRule = { kind: "coarsen" };
const EXTERNAL_IDS: KeyRule = { kind: "externalIds" };
const PERSON_SCOPE: KeyRule = { kind: "personScope" };
const HASH_EMAIL: KeyRule = { kind: "hash", norm: normEmail };
const HASH_PHONE: KeyRule = { kind: "hash", norm: normPhone };
const HASH_EXACT: KeyRule = { kind: "hash", norm: normExact };
const HASH_LOWER: KeyRule = { kind: "hash", norm: normLower };

/** Exact normalised names. */
const EXACT_RULES = new Map<string, KeyRule>([
  ["username", HASH_LOWER],
  ["userid", HASH_EXACT],
  ["customerid", HASH_EXACT],
  ["mobile", HASH_PHONE],
  ["mobilenumber", HASH_PHONE],
  ["cell", HASH_PHONE],
  ["tel", HASH_PHONE],
  ["telephone", HASH_PHONE],
  ["fax", HASH_PHONE],
  ["whatsapp", HASH_PHONE],
  ["msisdn", HASH_PHONE],
  ["name", PERSON],
  ["displayname", PERSON],
  ["nickname", PERSON],
  ["title", KEEP],
  ["street", REMOVE],
  ["postalcode", REMOVE],
  ["postcode", REMOVE],
  ["zip", REMOVE],
  ["zipcode", REMOVE],
  ["cep", REMOVE],
  ["dob", REMOVE],
  ["cpf", REMOVE],
  ["cnpj", REMOVE],
  ["rg", REMOVE],
  ["ssn", REMOVE],
  ["nationalid", REMOVE],
  ["taxid", REMOVE],
  ["passport", REMOVE],
  ["ip", REMOVE],
  ["creditcard", REMOVE],
  ["cardnumber", REMOVE],
  ["cvv", REMOVE],
  ["iban", REMOVE],
  ["latitude", COARSEN],
  ["longitude", COARSEN],
  ["lat", COARSEN],
  ["lng", COARSEN],
  ["lon", COARSEN],
  ["externalids", EXTERNAL_IDS],
  ...[
    "traits",
    "user",
    "customer",
    "person",
    "contact",
    "recipient",
    "buyer",
    "payer",
    "shopper",
    "guest",
    "member",
    "profile",
    "owner",
    "sender",
    "billing",
    "shipping",
    "patient",
    "employee",
  ].map((k): [string, KeyRule] => [k, PERSON_SCOPE]),
]);

/** Substrings of normalised names, in order (e-mail before address: `emailAddress` is an e-mail). */
const CONTAINS_RULES: readonly (readonly [string, KeyRule])[] = [
  ["email", HASH_EMAIL],
  ["phone", HASH_PHONE],
  ["password", REMOVE],
  ["secret", REMOVE],
  ["token", REMOVE],
  ["address", REMOVE],
  ["firstname", REMOVE],
  ["lastname", REMOVE],
  ["fullname", REMOVE],
  ["middlename", REMOVE],
  ["surname", REMOVE],
  ["givenname", REMOVE],
  ["familyname", REMOVE],
  ["maidenname", REMOVE],
  ["birth", REMOVE],
];

function classify(key: string): KeyRule {
  const n = normaliseKey(key);
  const exact = EXACT_RULES.get(n);
  if (exact !== undefined) return exact;
  for (const [part, rule] of CONTAINS_RULES) if (n.includes(part)) return rule;
  return KEEP;
}

/**
 * Rule per raw key name: names repeat across events, the normalisation need not run for each. Bounded
 * in entries, and only short names are cached, so unique long keys cannot fill memory.
 */
const keyRules = new Map<string, KeyRule>();
const KEY_RULE_CACHE_MAX = 10_000;
const KEY_RULE_CACHE_MAX_KEY_CHARS = 64;

function ruleFor(key: string): KeyRule {
  let rule = keyRules.get(key);
  if (rule === undefined) {
    rule = classify(key);
    if (key.length <= KEY_RULE_CACHE_MAX_KEY_CHARS) {
      if (keyRules.size >= KEY_RULE_CACHE_MAX) keyRules.clear();
      keyRules.set(key, rule);
    }
  }
  return rule;
}

/**
 * The value rules, for any string anywhere (the safety net behind the key rules): an e-mail address
 * (anywhere in the text) or an international phone number is replaced by its HMAC, normalised as the
 * `email`/`phone` key rules normalise, so the pseudonym is the same wherever the identifier appears.
 * A URL's query string and fragment are scrubbed (see scrubUrl).
 *
 * E-mail: the whole text, if it is one address (RFC 5322 `atext` local part, dot-separated domain
 * labels); else each address inside it, with a local part that stops at URL delimiters.
 * Phone: E.164-ish (ITU-T E.164: at most 15 digits after the country code's `+`), written with optional
 * spaces, dots, hyphens and parentheses, 7-15 digits; or a national number with a bracketed area code
 * (`(11) 98765-4321`). A bare digit string is not treated as a phone (order ids, timestamps); the key
 * rules catch those under phone-like names.
 */
const EMAIL_WHOLE =
  /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;
const EMAIL_INSIDE =
  /[A-Za-z0-9!$%'*+^_`{|}~.-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+/g;
const PHONE_INTL_INSIDE = /\+[\s(]{0,2}\d[\d\s().-]{5,24}\d/g;
const PHONE_INTL_WHOLE = /^\+[\s(]{0,2}\d[\d\s().-]{5,24}\d$/;
const PHONE_NATIONAL_WHOLE = /^\(\d{1,4}\)[\s.-]?\d[\d\s.-]{2,18}\d$/;
const URL_START = /^(?:[A-Za-z][A-Za-z0-9+.-]*:|[/?#])/;
/** A character some value rule starts from: `@` (e-mail), `+` or a leading `(` (phone), `?`/`#` (URL). */
const SUSPECT = /[@+?#]|^\(/;

function digitCount(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) n++;
  }
  return n;
}

/** The value rules for one string; returns the same string when nothing matched (no allocation). */
export function scrubText(s: string, p: Pseudonymiser): string {
  // Most strings hold none of these: one precompiled scan, no allocation.
  if (!SUSPECT.test(s)) return s;
  // A whole address first: RFC 5322 allows `/`, `?` and `#` in its local part, which would look like a URL.
  if (s.indexOf("@") >= 0 && EMAIL_WHOLE.test(s.trim())) return p.hash(normEmail(s));
  if ((s.indexOf("?") >= 0 || s.indexOf("#") >= 0) && URL_START.test(s)) return scrubUrl(s, p);
  return scrubPlain(s, p);
}

function scrubPlain(s: string, p: Pseudonymiser): string {
  const t = s.trim();
  if (s.indexOf("@") >= 0) {
    if (EMAIL_WHOLE.test(t)) return p.hash(normEmail(t));
    s = s.replace(EMAIL_INSIDE, (m) => p.hash(normEmail(m)));
  }
  if (s.indexOf("+") >= 0) {
    s = s.replace(PHONE_INTL_INSIDE, (m) => {
      const d = digitCount(m);
      return d >= 7 && d <= 15 ? p.hash(normPhone(m)) : m;
    });
  }
  if (s.charCodeAt(0) === 40 && PHONE_NATIONAL_WHOLE.test(t)) {
    const d = digitCount(t);
    if (d >= 8 && d <= 15) return p.hash(normPhone(t));
  }
  return s;
}

/**
 * Query parameters kept in clear (after the value rules): `utm_*` (campaign attribution,
 * ga-dev-tools' campaign URL builder) and the configured allow-list; every other parameter's value is
 * replaced by its HMAC (same normalisation as the value rules when it is an e-mail or phone), its name
 * kept. A fragment with `name=value` pairs (OAuth's implicit flow puts tokens there, RFC 6749 §4.2.2)
 * is treated the same way. The path is scrubbed with the value rules.
 */
function decodeParam(raw: string, plusIsSpace: boolean): string | undefined {
  try {
    return decodeURIComponent(plusIsSpace ? raw.replace(/\+/g, " ") : raw);
  } catch {
    return undefined;
  }
}

/** A query value's pseudonym: an e-mail or phone normalised as everywhere else, any other value as sent. */
function hashParamValue(v: string, p: Pseudonymiser): string {
  const t = v.trim();
  if (EMAIL_WHOLE.test(t)) return p.hash(normEmail(t));
  if (PHONE_INTL_WHOLE.test(t) || PHONE_NATIONAL_WHOLE.test(t)) {
    const d = digitCount(t);
    if (d >= 7 && d <= 15) return p.hash(normPhone(t));
  }
  return p.hash(v);
}

function scrubParams(params: string, p: Pseudonymiser): string {
  const parts = params.split("&");
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (part === "") continue;
    const eq = part.indexOf("=");
    const rawKey = eq < 0 ? part : part.slice(0, eq);
    const rawValue = eq < 0 ? undefined : part.slice(eq + 1);
    const decodedKey = decodeParam(rawKey, true) ?? rawKey;
    const cleanKey = scrubText(decodedKey, p);
    const keyText = cleanKey === decodedKey ? rawKey : encodeURIComponent(cleanKey);
    if (rawValue === undefined || rawValue === "") {
      parts[i] = rawValue === undefined ? keyText : `${keyText}=`;
      continue;
    }
    const name = decodedKey.toLowerCase();
    let valueText: string;
    if (name.startsWith("utm_") || p.queryAllowList.has(name)) {
      // '+' is a space in form encoding but may be a literal '+' (an E.164 number) left unencoded.
      const literal = decodeParam(rawValue, false) ?? rawValue;
      const cleanLiteral = scrubText(literal, p);
      if (cleanLiteral !== literal) valueText = encodeURIComponent(cleanLiteral);
      else {
        const spaced = decodeParam(rawValue, true) ?? rawValue;
        const cleanSpaced = scrubText(spaced, p);
        valueText = cleanSpaced === spaced ? rawValue : encodeURIComponent(cleanSpaced);
      }
    } else {
      valueText = hashParamValue(decodeParam(rawValue, true) ?? rawValue, p);
    }
    parts[i] = `${keyText}=${valueText}`;
  }
  return parts.join("&");
}

/** A URL (absolute, path-relative or just `?query`): path through the value rules, query and fragment scrubbed. */
export function scrubUrl(url: string, p: Pseudonymiser): string {
  let rest = url;
  let fragment: string | undefined;
  const h = rest.indexOf("#");
  if (h >= 0) {
    fragment = rest.slice(h + 1);
    rest = rest.slice(0, h);
  }
  let query: string | undefined;
  const q = rest.indexOf("?");
  if (q >= 0) {
    query = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }
  let out = scrubPlain(rest, p);
  if (query !== undefined) out += `?${scrubParams(query, p)}`;
  if (fragment !== undefined) out += `#${fragment.includes("=") ? scrubParams(fragment, p) : scrubPlain(fragment, p)}`;
  return out;
}

/**
 * Deepest level the rules walk (the event's top-level objects are level 1). Deeper subtrees are dropped,
 * not published unchecked; process.ts rejects such bodies before this with a 400 of its own.
 */
export const MAX_SCRUB_DEPTH = 64;

/** Applies a hash rule to one value: strings and safe integers hashed, booleans and null kept, the rest dropped. */
function hashValue(v: Json, norm: (v: string) => string, p: Pseudonymiser, depth: number, person: boolean): Json {
  if (typeof v === "string") {
    const n = norm(v);
    return n === "" ? OMITTED : p.hash(n);
  }
  // Beyond 2^53 a JSON number is no longer the digits sent (issue 11, item 9): dropped, never merged.
  if (typeof v === "number") return Number.isSafeInteger(v) ? p.hash(v) : OMITTED;
  if (v === null || typeof v === "boolean") return v;
  if (Array.isArray(v)) {
    if (depth >= MAX_SCRUB_DEPTH) return OMITTED;
    let copy: Json[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const e = v[i];
      const c =
        typeof e === "string" || typeof e === "number"
          ? hashValue(e, norm, p, depth + 1, person)
          : scrubValue(e, p, depth + 1, person);
      if (c !== e) (copy ??= v.slice())[i] = c === undefined ? null : c;
    }
    return copy ?? v;
  }
  return scrubObject(v, p, depth + 1, person);
}

function coarsen(v: Json): Json {
  const n = typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : NaN;
  if (!Number.isFinite(n)) return OMITTED;
  const r = Math.round(n * 10) / 10;
  return typeof v === "string" ? String(r) : r;
}

function scrubExternalIds(v: Json, p: Pseudonymiser, depth: number, person: boolean): Json {
  if (!Array.isArray(v) || depth >= MAX_SCRUB_DEPTH) return OMITTED;
  let copy: Json[] | undefined;
  for (let i = 0; i < v.length; i++) {
    const e = v[i];
    let c: Json;
    if (isPlainObject(e)) {
      const rest = scrubObject(e, p, depth + 1, person);
      const id = e.id;
      c = { ...rest, id: id === undefined ? OMITTED : hashValue(id, normExact, p, depth + 1, person) };
    } else c = scrubValue(e, p, depth + 1, person);
    if (c !== e) (copy ??= v.slice())[i] = c === undefined ? null : c;
  }
  return copy ?? v;
}

function isPlainObject(v: Json | undefined): v is JsonObject {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/**
 * The rules applied to one value at `depth`; `person` when inside a person's object. Pure: returns the
 * value itself when nothing changed (no allocation for untouched subtrees) and a copy otherwise, never
 * modifying its input (a batch's shared context is read by every event of the batch: issue 11, item 2).
 */
export function scrubValue(v: Json, p: Pseudonymiser, depth: number, person: boolean): Json {
  if (typeof v === "string") return scrubText(v, p);
  if (v === null || typeof v !== "object") return v;
  if (depth > MAX_SCRUB_DEPTH) return OMITTED;
  if (!Array.isArray(v)) return scrubObject(v, p, depth, person);
  let copy: Json[] | undefined;
  for (let i = 0; i < v.length; i++) {
    const e = v[i];
    const c = scrubValue(e, p, depth + 1, person);
    // JSON.stringify writes undefined array elements as null: same as an explicit null.
    if (c !== e) (copy ??= v.slice())[i] = c === undefined ? null : c;
  }
  return copy ?? v;
}

/**
 * The key and value rules for one object (see scrubValue). `personHere`: this object's own keys are a
 * person's (a bare `name` at the top level of `properties` is removed, as it always was), its children
 * follow `person`.
 */
export function scrubObject(
  obj: JsonObject,
  p: Pseudonymiser,
  depth: number,
  person: boolean,
  personHere = person,
): JsonObject {
  if (depth > MAX_SCRUB_DEPTH) return OMITTED as unknown as JsonObject;
  let copy: JsonObject | undefined;
  for (const key in obj) {
    const v = obj[key];
    const c = scrubEntry(key, v, p, depth, person, personHere);
    if (c !== v) (copy ??= { ...obj })[key] = c;
  }
  return copy ?? obj;
}

/** The rules for one key and its value, in an object at `depth` (see scrubObject); OMITTED removes it. */
export function scrubEntry(
  key: string,
  v: Json,
  p: Pseudonymiser,
  depth: number,
  person: boolean,
  personHere: boolean,
): Json {
  const rule = ruleFor(key);
  switch (rule.kind) {
    case "keep":
      return scrubValue(v, p, depth + 1, person);
    case "hash":
      return hashValue(v, rule.norm, p, depth, person);
    case "remove":
      return OMITTED;
    case "person":
      return personHere ? OMITTED : scrubValue(v, p, depth + 1, person);
    case "personScope":
      return scrubValue(v, p, depth + 1, true);
    case "coarsen":
      return coarsen(v);
    case "externalIds":
      return scrubExternalIds(v, p, depth, person);
  }
}

/**
 * The rules for a top-level `traits` (a person: `person` true) or `properties` (`person` false: a bare
 * `name` is removed at its top level only, where it was always removed; `products[].name` is a product's).
 * Returns the scrubbed object; the input is never modified.
 */
export function scrubIdentifyingFields(obj: JsonObject, p: Pseudonymiser, person: boolean): JsonObject {
  return scrubObject(obj, p, 1, person, true);
}

/**
 * IP truncation, the rule Google Analytics applies for IP anonymisation
 * (support.google.com/analytics/answer/2763052): IPv4 keeps /24 (last octet zeroed), IPv6 keeps /48
 * (last 80 bits zeroed). A /48 is the block a provider assigns to one site (RIPE-690), so it still
 * gives country/region for analytics but no longer points at a device or subscriber line.
 * Returns undefined for anything that is not an IP address.
 */
export function truncateIp(ip: string): string | undefined {
  let addr = ip.trim();
  // IPv4-mapped IPv6 (`::ffff:1.2.3.4`) is what node reports for IPv4 clients on dual-stack sockets.
  if (addr.toLowerCase().startsWith("::ffff:") && isIP(addr.slice(7)) === 4) addr = addr.slice(7);
  const family = isIP(addr);
  if (family === 4) {
    return addr.slice(0, addr.lastIndexOf(".")) + ".0";
  }
  if (family === 6) {
    const groups = expandIpv6(addr);
    return `${groups
      .slice(0, 3)
      .map((g) => g.toString(16))
      .join(":")}::`;
  }
  return undefined;
}

function expandIpv6(addr: string): number[] {
  let text = addr.split("%")[0]; // zone id (`fe80::1%eth0`) is local only
  // A trailing dotted IPv4 (`::1.2.3.4`) is two groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const o = v4[1].split(".").map(Number);
    text = text.slice(0, -v4[1].length) + `${((o[0] << 8) | o[1]).toString(16)}:${((o[2] << 8) | o[3]).toString(16)}`;
  }
  const [head, tail] = text.split("::");
  const h = head === "" ? [] : head.split(":");
  const t = tail === undefined || tail === "" ? [] : tail.split(":");
  const zeros = tail === undefined ? 0 : 8 - h.length - t.length;
  return [...h, ...new Array<string>(zeros).fill("0"), ...t].map((g) => parseInt(g, 16));
}

/** What consent allows for one event. */
export type ConsentDecision = "granted" | "denied";

/**
 * The consent rule (documented in README.md, "Consent"):
 * analytics consent is `context.consent.categoryPreferences[<category>] === true`, the category name
 * compared case-insensitively (Segment Consent Management's shape; the category is configurable because
 * each consent banner names it). Anything else (false, missing, malformed) is "denied": under GDPR
 * Art. 7(1) and LGPD Art. 8 §2 the controller must be able to prove consent, so no proof means no consent.
 */
export function analyticsConsent(event: JsonObject, category: string): ConsentDecision {
  const context = event.context;
  if (context === null || typeof context !== "object" || Array.isArray(context)) return "denied";
  const consent = context.consent;
  if (consent === null || typeof consent !== "object" || Array.isArray(consent)) return "denied";
  const prefs = consent.categoryPreferences;
  if (prefs === null || typeof prefs !== "object" || Array.isArray(prefs)) return "denied";
  for (const key of Object.keys(prefs)) {
    if (key.toLowerCase() === category) return prefs[key] === true ? "granted" : "denied";
  }
  return "denied";
}

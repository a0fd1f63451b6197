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
 * anonymousId/userId, and a session sends dozens of events. Bounded, and simply emptied when full: the
 * cheapest eviction, and a miss only costs one HMAC. It lives in process memory only, like the request.
 */
const PSEUDONYM_CACHE_MAX = 50_000;

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

export class Pseudonymiser {
  private readonly key: KeyObject;
  private readonly cache = new Map<string, string>();

  constructor(key: Buffer) {
    // A KeyObject is imported once instead of on each HMAC.
    this.key = createSecretKey(key);
  }

  /** HMAC-SHA256 of the UTF-8 value, hex. Numbers are hashed as their decimal text so `42` and `"42"` join. */
  hash(value: string | number): string {
    const text = typeof value === "string" ? value : String(value);
    let h = this.cache.get(text);
    if (h === undefined) {
      h = createHmac("sha256", this.key).update(text).digest("hex");
      if (this.cache.size >= PSEUDONYM_CACHE_MAX) this.cache.clear();
      this.cache.set(text, h);
    }
    return h;
  }
}

/**
 * Identifying trait/property names, compared after lower-casing and removing `_`, `-` and spaces,
 * so `first_name`, `firstName` and `First Name` all match.
 * - HASHED: contact points kept as HMAC join keys (normalised first, so the same e-mail typed with a
 *   capital letter still joins): they drive consented marketing matching downstream.
 * - REMOVED: names, postal address, birth date and similar have no analytic use as a pseudonym and
 *   are direct identifiers; they stay in the operational systems, never in the lake.
 */
const HASHED_TRAITS = new Map<string, (v: string) => string>([
  ["email", (v) => v.trim().toLowerCase()],
  ["phone", (v) => v.replace(/[^0-9+]/g, "")],
  ["phonenumber", (v) => v.replace(/[^0-9+]/g, "")],
  ["mobile", (v) => v.replace(/[^0-9+]/g, "")],
  ["username", (v) => v.trim().toLowerCase()],
  ["userid", (v) => v],
  ["customerid", (v) => v],
]);
const REMOVED_TRAITS = new Set([
  "name",
  "firstname",
  "lastname",
  "fullname",
  "middlename",
  "address",
  "street",
  "streetaddress",
  "postalcode",
  "zip",
  "zipcode",
  "birthday",
  "birthdate",
  "dateofbirth",
  "dob",
  "cpf",
  "cnpj",
  "rg",
  "ssn",
  "nationalid",
  "taxid",
  "passport",
  "ip",
  "ipaddress",
  "password",
  "creditcard",
  "cardnumber",
  "iban",
]);

type KeyRule = ((v: string) => string) | "remove" | "keep";

/** Rule per raw key name: names repeat across events, the regex need not run for each. Bounded like the pseudonym cache. */
const keyRules = new Map<string, KeyRule>();
const KEY_RULE_CACHE_MAX = 10_000;

function ruleFor(key: string): KeyRule {
  let rule = keyRules.get(key);
  if (rule === undefined) {
    const norm = key.toLowerCase().replace(/[_\-\s]/g, "");
    rule = HASHED_TRAITS.get(norm) ?? (REMOVED_TRAITS.has(norm) ? "remove" : "keep");
    if (keyRules.size >= KEY_RULE_CACHE_MAX) keyRules.clear();
    keyRules.set(key, rule);
  }
  return rule;
}

/** Applies the trait rule to the top-level keys of a traits or properties object, in place (removal: OMITTED). */
export function scrubIdentifyingFields(obj: JsonObject, p: Pseudonymiser): void {
  for (const key in obj) {
    const rule = ruleFor(key);
    if (rule === "keep") continue;
    if (rule === "remove") {
      obj[key] = OMITTED;
      continue;
    }
    const v = obj[key];
    if (typeof v === "string" && v !== "") obj[key] = p.hash(rule(v));
    else if (typeof v === "number") obj[key] = p.hash(v);
    else obj[key] = OMITTED;
  }
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

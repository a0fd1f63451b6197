/**
 * Property tests of the privacy rules (issue 11, item 7): e-mail addresses, phone numbers, names and
 * postal addresses, under random spellings of their keys or under neutral keys, at random (bounded)
 * depths of `properties`, `context` and `traits`, and in the query strings of URLs. Through the whole
 * transformation (BodyProcessor: the raw body in, the Pub/Sub payloads out), nothing e-mail-shaped or
 * phone-shaped survives, no generated value appears in clear, and one identifier gets one pseudonym
 * wherever it is placed.
 */
import { createHmac } from "node:crypto";
import { expect } from "chai";
import fc from "fast-check";
import { BodyProcessor, type Job } from "../../../functions/collector/process";
import { publishedStrings } from "./helpers/published";

const KEY_HEX = "8f1c3a5e7b9d0f2143658709badcfe1032547698a0b1c2d3e4f5061728394a5b";
const WRITE_KEY = "wk";
const processor = new BodyProcessor({
  writeKeys: new Map([[WRITE_KEY, "web"]]),
  hmacKey: Buffer.from(KEY_HEX, "hex"),
  consentCategory: "analytics",
  queryAllowList: ["ref"],
});
const JOB: Job = {
  route: "batch",
  headerKey: WRITE_KEY,
  receivedAt: "2024-01-01T00:00:00.000Z",
  clientIp: "192.0.2.1",
};

function hmac(value: string): string {
  return createHmac("sha256", Buffer.from(KEY_HEX, "hex")).update(value).digest("hex");
}

// ---- Generators ----------------------------------------------------------------------------------

/** Joins words with a random separator the key rules ignore, in random case: `user_email`, `E-Mail`, `emailAddress`. */
function spelling(words: readonly string[][]): fc.Arbitrary<string> {
  return fc
    .tuple(fc.constantFrom(...words), fc.constantFrom("", "_", "-", " "))
    .chain(([parts, sep]) => fc.mixedCase(fc.constant(parts.join(sep))));
}

const EMAIL_KEY = spelling([
  ["email"],
  ["e", "mail"],
  ["user", "email"],
  ["email", "address"],
  ["contact", "email"],
  ["billing", "email"],
  ["customer", "e", "mail"],
]);
const PHONE_KEY = spelling([
  ["phone"],
  ["phone", "number"],
  ["mobile"],
  ["tel"],
  ["telephone"],
  ["whatsapp"],
  ["home", "phone"],
]);
/** Removed anywhere. */
const NAME_KEY = spelling([["first", "name"], ["last", "name"], ["full", "name"], ["surname"], ["given", "name"]]);
const ADDRESS_KEY = spelling([
  ["address"],
  ["street", "address"],
  ["shipping", "address"],
  ["postal", "code"],
  ["zip"],
]);
/** Keys no rule matches, for containers and for values the value rules must catch on their own. */
const NEUTRAL_KEY = fc.constantFrom("items", "meta", "data", "info", "payload", "list", "x", "note", "comment", "misc");
const URL_KEY = fc.constantFrom("url", "referrer", "search", "href", "link", "landing");

/** E.164-ish: `+`, a country code, then groups with random separators, 8-15 digits in all; or `(11) 98765-4321`. */
const PHONE = fc
  .tuple(
    fc.integer({ min: 1, max: 999 }),
    fc.array(fc.stringMatching(/^[0-9]{2,4}$/), { minLength: 2, maxLength: 4 }),
    fc.constantFrom(" ", "-", ".", ""),
    fc.boolean(),
    fc.boolean(),
  )
  .map(([cc, groups, sep, parens, national]) => {
    const [area, ...rest] = groups;
    if (national) return `(${area}) ${rest.join(sep === "" ? "-" : sep)}`;
    return `+${cc}${sep === "" ? "" : " "}${parens ? `(${area})` : area}${sep}${rest.join(sep)}`;
  })
  .filter((p) => {
    const digits = p.replace(/\D/g, "").length;
    return digits >= 8 && digits <= 15;
  });

const EMAIL = fc.emailAddress().filter((e) => e.length <= 200);

/** Values removed with their keys: a marker that must not reappear anywhere. */
const MARKER = fc.stringMatching(/^[A-Z][a-z]{3,8}[0-9]{4}$/).map((s) => `Zq${s}`);

type Root = "properties" | "traits" | "context" | "context.traits";
const ROOT = fc.constantFrom<Root>("properties", "traits", "context", "context.traits");

/** A path of 0-5 neutral containers (objects or one-element arrays). */
const PATH = fc.array(fc.oneof(NEUTRAL_KEY, fc.constant(0)), { maxLength: 5 });

type Placement =
  | { kind: "email"; id: number; root: Root; path: (string | number)[]; key: string }
  | { kind: "phone"; id: number; root: Root; path: (string | number)[]; key: string }
  | { kind: "url"; id: number; root: Root; path: (string | number)[]; key: string; param: string; email: boolean }
  | { kind: "marker"; root: Root; path: (string | number)[]; key: string; value: string };

const PLACEMENT: fc.Arbitrary<Placement> = fc.oneof(
  fc.record({
    kind: fc.constant("email" as const),
    id: fc.integer({ min: 0, max: 1 }),
    root: ROOT,
    path: PATH,
    // A key the rules match, or a neutral one (the value rules must catch it).
    key: fc.oneof(EMAIL_KEY, NEUTRAL_KEY),
  }),
  fc.record({
    kind: fc.constant("phone" as const),
    id: fc.integer({ min: 0, max: 1 }),
    root: ROOT,
    path: PATH,
    key: fc.oneof(PHONE_KEY, NEUTRAL_KEY),
  }),
  fc.record({
    kind: fc.constant("url" as const),
    id: fc.integer({ min: 0, max: 1 }),
    root: ROOT,
    path: PATH,
    key: URL_KEY,
    param: fc.constantFrom("email", "e", "to", "q", "utm_term", "utm_content", "ref", "contact"),
    email: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant("marker" as const),
    root: ROOT,
    path: PATH,
    key: fc.oneof(NAME_KEY, ADDRESS_KEY),
    value: MARKER,
  }),
);

// ---- Building the event and reading the output ----------------------------------------------------

type J = null | boolean | number | string | J[] | { [k: string]: J };

function rootObject(ev: { [k: string]: J }, root: Root): { [k: string]: J } {
  const parts = root.split(".");
  let o = ev;
  for (const p of parts) o = (o[p] ??= {}) as { [k: string]: J };
  return o;
}

/** Puts `value` at root.p<i>.<path...>.<key>; the `p<i>` container keeps placements apart. */
function place(ev: { [k: string]: J }, i: number, pl: Placement, value: J): void {
  const leaf: { [k: string]: J } = { [pl.key]: value };
  let node: J = leaf;
  for (let j = pl.path.length - 1; j >= 0; j--) {
    const step = pl.path[j];
    node = typeof step === "number" ? [node] : { [step]: node };
  }
  rootObject(ev, pl.root)[`p${i}`] = node;
}

/** Every key and string value of a published message, the JSON-text fields parsed, and their URL-decoded forms. */
const strings = (payload: string): string[] => publishedStrings(JSON.parse(payload) as unknown, { decoded: true });

const EMAIL_SHAPED = /[^\s@"]+@[^\s@"]+\.[^\s@"]+/;
const PHONE_SHAPED = /(?:\+[\s(]*\d|\(\d{1,4}\)[\s.-]?\d)[\d\s().-]{5,}\d/;

function occurrences(text: string, needle: string): number {
  let n = 0;
  for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + needle.length)) n++;
  return n;
}

describe("collector privacy rules: properties (issue 11, item 7)", () => {
  it("no e-mail- or phone-shaped value, name or address survives, and each identifier has one pseudonym everywhere", () => {
    fc.assert(
      fc.property(
        fc.tuple(EMAIL, EMAIL).filter(([a, b]) => a.toLowerCase() !== b.toLowerCase()),
        fc.tuple(PHONE, PHONE).filter(([a, b]) => a.replace(/[^0-9+]/g, "") !== b.replace(/[^0-9+]/g, "")),
        fc.array(PLACEMENT, { minLength: 1, maxLength: 12 }),
        (emails, phones, placements) => {
          const ev: { [k: string]: J } = {
            type: "track",
            event: "Viewed",
            anonymousId: "anon-1",
            messageId: "m-1",
            context: { consent: { categoryPreferences: { Analytics: true } } },
          };
          const expected = new Map<string, number>();
          const expect1 = (h: string): void => void expected.set(h, (expected.get(h) ?? 0) + 1);
          const emailHash = (i: number): string => hmac(emails[i].trim().toLowerCase());
          const phoneHash = (i: number): string => hmac(phones[i].replace(/[^0-9+]/g, ""));
          placements.forEach((pl, i) => {
            if (pl.kind === "email") {
              place(ev, i, pl, emails[pl.id]);
              expect1(emailHash(pl.id));
            } else if (pl.kind === "phone") {
              place(ev, i, pl, phones[pl.id]);
              expect1(phoneHash(pl.id));
            } else if (pl.kind === "url") {
              const value = pl.email ? emails[pl.id] : phones[pl.id];
              place(ev, i, pl, `https://shop.example/a/b?utm_source=x&${pl.param}=${encodeURIComponent(value)}#top`);
              expect1(pl.email ? emailHash(pl.id) : phoneHash(pl.id));
            } else {
              place(ev, i, pl, pl.value);
            }
          });
          const r = processor.process(Buffer.from(JSON.stringify({ batch: [ev] })), JOB);
          if (!r.ok) throw new Error(`rejected: ${r.status} ${r.message}`);
          expect(r.events).to.have.length(1);
          const payload = r.events[0].json;
          const all = strings(payload);
          const text = all.join("\n");
          for (const s of all) {
            expect(s, "e-mail-shaped").to.not.match(EMAIL_SHAPED);
            expect(s, "phone-shaped").to.not.match(PHONE_SHAPED);
          }
          for (const e of emails) {
            expect(text).to.not.contain(e);
            expect(text).to.not.contain(e.toLowerCase());
          }
          for (const p of phones) {
            expect(text).to.not.contain(p);
            expect(text).to.not.contain(p.replace(/\D/g, ""));
          }
          for (const pl of placements) if (pl.kind === "marker") expect(text).to.not.contain(pl.value);
          // One pseudonym per identifier, wherever it was placed: each placement left exactly its HMAC.
          // (The text is each string once plus its decoded form, equal for hex: count in the raw payload.)
          for (const [h, n] of expected) expect(occurrences(payload, h), h).to.equal(n);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("a batch's shared context is not modified: every event gets the same pseudonyms for it", () => {
    fc.assert(
      fc.property(EMAIL, PHONE, fc.integer({ min: 2, max: 5 }), (email, phone, n) => {
        const shared = {
          consent: { categoryPreferences: { Analytics: true } },
          device: { id: "device-1" },
          traits: { email, nested: [{ phone }] },
        };
        const batch = Array.from({ length: n }, (_, i) => ({ type: "track", event: "E", anonymousId: `a${i}` }));
        const r = processor.process(Buffer.from(JSON.stringify({ batch, context: shared })), JOB);
        if (!r.ok) throw new Error(`rejected: ${r.status} ${r.message}`);
        const contexts = r.events.map((e) => (JSON.parse(e.json) as { context: string }).context);
        for (const c of contexts) {
          expect(JSON.parse(c)).to.deep.include({
            device: { id: hmac("device-1") },
            traits: {
              email: hmac(email.trim().toLowerCase()),
              nested: [{ phone: hmac(phone.replace(/[^0-9+]/g, "")) }],
            },
          });
        }
      }),
      { numRuns: 50 },
    );
  });
});

/**
 * Issue 11, items 4 and 7-11: hostile and careless input against the collector as deployed (child
 * process on loopback), publishing through the real Pub/Sub client to the fake Publisher. Every
 * assertion reads the messages exactly as the topic receives them (`fake.rawEvents()`).
 */
import { createHash, createHmac } from "node:crypto";
import { expect } from "chai";
import { publishedStrings } from "./helpers/published";
import { type CollectorProcess, TEST_HMAC_KEY_HEX } from "./helpers/collector-process";
import { FakePubSub } from "./helpers/fake-pubsub";
import { useCollectorFixture } from "./helpers/fixture";
import { basic, request } from "./helpers/http";
import { MAX_IDENTIFIER_CHARS, PSEUDONYM_CACHE_MAX_BYTES, Pseudonymiser } from "../../../functions/collector/privacy";

const WRITE_KEY = "wk_web_0123456789abcdef";
const ALLOWED_ORIGIN = "https://shop.example";
const GRANTED = { consent: { categoryPreferences: { Analytics: true } } };
const EMAIL = "Alice.Example@Mail.example.com";
const PHONE = "+55 11 98765-4321";

function hmac(value: string): string {
  return createHmac("sha256", Buffer.from(TEST_HMAC_KEY_HEX, "hex")).update(value).digest("hex");
}

/** Every string in a published message, the JSON-text fields (context, properties, traits) parsed. */
const allStrings = (raw: Record<string, unknown>): string[] => publishedStrings(raw);

function parsed(raw: Record<string, unknown>, field: "context" | "properties" | "traits"): Record<string, unknown> {
  return JSON.parse(raw[field] as string) as Record<string, unknown>;
}

describe("collector under hostile and careless input: privacy (issue 11)", function () {
  let fake: FakePubSub;
  let collector: CollectorProcess;

  useCollectorFixture(
    {
      COLLECTOR_WRITE_KEYS: `${WRITE_KEY}=web`,
      METADATA_SERVER_DETECTION: "none",
      COLLECTOR_CORS_ORIGINS: ALLOWED_ORIGIN,
      COLLECTOR_QUERY_ALLOWLIST: "ref",
    },
    (f, c) => ([fake, collector] = [f, c]),
  );

  function post(path: string, body: string | Buffer, headers: Record<string, string> = {}) {
    return request(`${collector.url}${path}`, "POST", body, { authorization: basic(WRITE_KEY), ...headers });
  }

  describe("item 4: identifiers are bounded in length, the pseudonym cache in bytes", () => {
    for (const field of ["anonymousId", "userId", "groupId", "previousId"]) {
      it(`a ${field} of 30,000 characters is a 400 naming the field, and nothing is published`, async () => {
        const ev = { type: "identify", userId: "u", anonymousId: "a", previousId: "p", groupId: "g", context: GRANTED };
        const r = await post("/v1/batch", JSON.stringify({ batch: [{ ...ev, [field]: "x".repeat(30_000) }] }));
        expect(r.status).to.equal(400);
        expect(r.json().error).to.equal(`batch[0].${field}: longer than ${MAX_IDENTIFIER_CHARS} characters`);
        expect(fake.messages).to.have.length(0);
      });
    }

    it("context.device.id over the maximum is a 400; an id of exactly the maximum is accepted", async () => {
      const long = await post(
        "/v1/track",
        JSON.stringify({ anonymousId: "a", event: "E", context: { ...GRANTED, device: { id: "d".repeat(257) } } }),
      );
      expect(long.status).to.equal(400);
      expect(long.json().error).to.equal(`event.context.device.id: longer than ${MAX_IDENTIFIER_CHARS} characters`);
      const max = "m".repeat(MAX_IDENTIFIER_CHARS);
      const ok = await post("/v1/track", JSON.stringify({ anonymousId: max, event: "E", context: GRANTED }));
      expect(ok.status).to.equal(200);
      expect(fake.rawEvents()[0].anonymousId).to.equal(hmac(max));
    });

    it("the cache holds at most PSEUDONYM_CACHE_MAX_BYTES, whatever the values hashed", () => {
      const p = new Pseudonymiser(Buffer.from(TEST_HMAC_KEY_HEX, "hex"));
      // The cache's own estimate: 2 bytes a key character plus 160 per entry.
      const bytes = (): number => {
        const { entries, keyChars } = p.cacheFootprint();
        return 2 * keyChars + 160 * entries;
      };
      // Long free-text values (the value rules hash them): 30 MB if they were cached.
      for (let i = 0; i < 1_500; i++) p.hash(`${i}:${"v".repeat(10_000)}`);
      expect(bytes()).to.be.at.most(PSEUDONYM_CACHE_MAX_BYTES);
      // Unique ids of the longest length, fewer than the entry bound: 33 MB if only entries were counted.
      const id = (i: number): string => `${i}:`.padEnd(MAX_IDENTIFIER_CHARS, "i");
      for (let i = 0; i < 49_000; i++) p.hash(id(i));
      expect(bytes()).to.be.at.most(PSEUDONYM_CACHE_MAX_BYTES);
      // Still a cache: the last id hashed is served from it.
      expect(p.cacheFootprint().entries).to.be.greaterThan(0);
      expect(p.hash(id(48_999))).to.equal(hmac(id(48_999)));
    });
  });

  describe("item 7: no identifier is published in clear, wherever it is placed", () => {
    it("nested properties, key variants, unknown top-level fields, URLs, externalIds, location, push token", async () => {
      const q = `email=${encodeURIComponent(EMAIL)}&utm_source=news&ref=home&tel=${encodeURIComponent(PHONE)}`;
      const ev = {
        type: "page",
        anonymousId: "anon-1",
        name: "Checkout",
        customer_email: EMAIL, // an unknown top-level field
        properties: {
          url: `https://shop.example/checkout?${q}#access_token=secret-token-1`,
          referrer: `https://mail.example/inbox?to=${encodeURIComponent(EMAIL)}`,
          search: `?${q}`,
          products: [{ sku: "s-1", name: "Blue shoe", email: EMAIL, buyer: { name: "Alice Example" } }],
          user_email: EMAIL,
          emailAddress: EMAIL,
          "E-Mail": EMAIL,
          note: `call me on ${PHONE} or write to ${EMAIL}`,
          contact: PHONE,
        },
        context: {
          ...GRANTED,
          page: { url: `https://shop.example/p?${q}`, referrer: `https://x.example/?e=${EMAIL}`, search: `?${q}` },
          externalIds: [{ id: "crm-778", type: "crm_id", collection: "users", encoding: "none" }],
          location: { latitude: 51.507351, longitude: -0.127758, city: "London" },
          device: { id: "dev-1", token: "apns-push-token-abc", name: "Alice's iPhone", model: "iPhone16,2" },
          traits: { contact: { firstName: "Alice", name: "Alice Example", mobile: "11987654321" } },
        },
        traits: { user: { name: "Alice Example" } },
      };
      const r = await post("/v1/page", JSON.stringify(ev), { "content-type": "text/plain" });
      expect(r.status).to.equal(200);
      const [raw] = fake.rawEvents();
      const strings = allStrings(raw);
      const text = strings.join("\n");
      for (const clear of [
        EMAIL,
        EMAIL.toLowerCase(),
        encodeURIComponent(EMAIL),
        "Alice",
        "+55",
        "98765",
        "11987654321",
        "crm-778",
        "apns-push-token",
        "secret-token-1",
        "51.507",
        "-0.127",
      ]) {
        expect(text, clear).to.not.contain(clear);
      }
      expect(raw).to.not.have.property("customer_email");

      const h = hmac(EMAIL.toLowerCase());
      const props = parsed(raw, "properties");
      expect(props.user_email).to.equal(h);
      expect(props.emailAddress).to.equal(h);
      expect(props["E-Mail"]).to.equal(h);
      expect(props.contact).to.equal(hmac("+5511987654321"));
      expect(props.products).to.deep.equal([{ sku: "s-1", name: "Blue shoe", email: h, buyer: {} }]);
      expect(props.note).to.equal(`call me on ${hmac("+5511987654321")} or write to ${h}`);
      const scrubbedQuery = `email=${h}&utm_source=news&ref=home&tel=${hmac("+5511987654321")}`;
      expect(props.url).to.equal(
        `https://shop.example/checkout?${scrubbedQuery}#access_token=${hmac("secret-token-1")}`,
      );
      expect(props.search).to.equal(`?${scrubbedQuery}`);
      expect(props.referrer).to.equal(`https://mail.example/inbox?to=${h}`);

      const context = parsed(raw, "context");
      expect(context.page).to.deep.equal({
        url: `https://shop.example/p?${scrubbedQuery}`,
        referrer: `https://x.example/?e=${h}`,
        search: `?${scrubbedQuery}`,
      });
      expect(context.externalIds).to.deep.equal([
        { id: hmac("crm-778"), type: "crm_id", collection: "users", encoding: "none" },
      ]);
      expect(context.location).to.deep.equal({ latitude: 51.5, longitude: -0.1, city: "London" });
      expect(context.device).to.deep.equal({ id: hmac("dev-1"), model: "iPhone16,2" });
      expect(context.traits).to.deep.equal({ contact: { mobile: hmac("11987654321") } });
      expect(parsed(raw, "traits")).to.deep.equal({ user: {} });
      expect(raw.name).to.equal("Checkout");
    });

    it("the same e-mail gets the same pseudonym under an e-mail key, as a free-text value and in a URL", async () => {
      const r = await post(
        "/v1/track",
        JSON.stringify({
          userId: "u",
          event: "Signed Up",
          context: GRANTED,
          properties: { Email: `  ${EMAIL} `, other: EMAIL, link: `/welcome?who=${encodeURIComponent(EMAIL)}` },
          traits: { deep: [{ EMAIL_ADDRESS: EMAIL.toUpperCase() }] },
        }),
      );
      expect(r.status).to.equal(200);
      const [raw] = fake.rawEvents();
      const h = hmac(EMAIL.toLowerCase());
      expect(parsed(raw, "properties")).to.deep.equal({ Email: h, other: h, link: `/welcome?who=${h}` });
      expect(parsed(raw, "traits")).to.deep.equal({ deep: [{ EMAIL_ADDRESS: h }] });
    });
  });

  describe("item 8: a derived messageId cannot be reversed with a dictionary", () => {
    it("is an HMAC with the cell key, not a plain SHA-256 of the event", async () => {
      const dictionary = ["bob@example.com", "carol@example.com", "alice@example.com"];
      const body = { userId: "alice@example.com", event: "Order Completed", timestamp: "2024-01-01T00:00:00.000Z" };
      const r = await post("/v1/track", JSON.stringify({ ...body, context: GRANTED }));
      expect(r.status).to.equal(200);
      const [raw] = fake.rawEvents();
      expect(raw.messageId).to.match(/^derived-[0-9a-f]{32}$/);
      // The attack that worked: rebuild each candidate's raw event and hash it as the collector did.
      for (const candidate of dictionary) {
        for (const ev of [
          { ...body, userId: candidate, context: GRANTED, type: "track" },
          { type: "track", ...body, userId: candidate, context: GRANTED },
        ]) {
          const guess = `derived-${createHash("sha256").update("web").update(JSON.stringify(ev)).digest("hex").slice(0, 32)}`;
          expect(raw.messageId).to.not.equal(guess);
        }
      }
      // And the id still identifies the event: a retry (new sentAt) gets the same one, another user another.
      await post("/v1/track", JSON.stringify({ ...body, context: GRANTED, sentAt: "2024-01-01T00:00:05.000Z" }));
      await post("/v1/track", JSON.stringify({ ...body, userId: "bob@example.com", context: GRANTED }));
      const [, retry, other] = fake.rawEvents();
      expect(retry.messageId).to.equal(raw.messageId);
      expect(other.messageId).to.not.equal(raw.messageId);
    });
  });

  describe("item 9: identifiers that cannot be hashed faithfully are rejected, never merged", () => {
    it("a numeric id beyond 2^53 is a 400 naming the field; a safe integer is hashed as its digits", async () => {
      const big = await post("/v1/track", '{"userId":12345678901234567890,"event":"E","context":{}}');
      expect(big.status).to.equal(400);
      expect(big.json().error).to.match(/^event\.userId: a numeric id must be an integer/);
      const frac = await post("/v1/track", '{"anonymousId":1.5,"event":"E"}');
      expect(frac.status).to.equal(400);
      expect(frac.json().error).to.match(/^event\.anonymousId: /);
      expect(fake.messages).to.have.length(0);
      const ok = await post("/v1/track", JSON.stringify({ userId: 9007199254740991, event: "E", context: GRANTED }));
      expect(ok.status).to.equal(200);
      expect(fake.rawEvents()[0].userId).to.equal(hmac("9007199254740991"));
    });

    it("bodies that are not valid UTF-8 are a 400; three different ids are not merged onto U+FFFD", async () => {
      for (const bad of [[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80]]) {
        const body = Buffer.concat([
          Buffer.from('{"anonymousId":"id-'),
          Buffer.from(bad),
          Buffer.from(`","event":"E","context":${JSON.stringify(GRANTED)}}`),
        ]);
        const r = await post("/v1/track", body);
        expect(r.status, JSON.stringify(bad)).to.equal(400);
        expect(r.json().error).to.equal("body is not valid UTF-8");
      }
      expect(fake.messages).to.have.length(0);
    });

    it("an unpaired surrogate escaped in the JSON is a 400 naming the field", async () => {
      const r = await post("/v1/track", '{"anonymousId":"id-\\ud800","event":"E"}');
      expect(r.status).to.equal(400);
      expect(r.json().error).to.equal("event.anonymousId: not valid Unicode (an unpaired surrogate)");
      expect(fake.messages).to.have.length(0);
    });
  });

  describe("item 10: the origin allow-list holds for writes, not only for reading answers", () => {
    const beacon = JSON.stringify({ writeKey: WRITE_KEY, anonymousId: "a", event: "E", context: GRANTED });

    it("a text/plain POST (sendBeacon, fetch no-cors) from an origin not allowed gets 403 and stores nothing", async () => {
      const r = await request(`${collector.url}/v1/t`, "POST", beacon, {
        origin: "https://evil.example",
        "content-type": "text/plain;charset=UTF-8",
      });
      expect(r.status).to.equal(403);
      expect(r.headers["access-control-allow-origin"]).to.equal(undefined);
      const nullOrigin = await request(`${collector.url}/v1/t`, "POST", beacon, { origin: "null" });
      expect(nullOrigin.status).to.equal(403);
      expect(fake.messages).to.have.length(0);
    });

    it("the allowed origin and callers without Origin (server SDKs) are served", async () => {
      const browser = await request(`${collector.url}/v1/t`, "POST", beacon, {
        origin: ALLOWED_ORIGIN,
        "content-type": "text/plain",
      });
      expect(browser.status).to.equal(200);
      expect(browser.headers["access-control-allow-origin"]).to.equal(ALLOWED_ORIGIN);
      const server = await request(`${collector.url}/v1/t`, "POST", beacon, {});
      expect(server.status).to.equal(200);
      expect(fake.messages).to.have.length(2);
    });
  });

  describe("item 11: analytics.js telemetry (/v1/m)", () => {
    it("is answered 200 and nothing is published", async () => {
      const metrics = JSON.stringify({
        series: [{ type: "Counter", metric: "analytics_js.invoke", value: 1, tags: { method: "page" } }],
      });
      const r = await request(`${collector.url}/v1/m`, "POST", metrics, {
        origin: ALLOWED_ORIGIN,
        "content-type": "text/plain",
      });
      expect(r.status).to.equal(200);
      expect(r.headers["access-control-allow-origin"]).to.equal(ALLOWED_ORIGIN);
      const pre = await request(`${collector.url}/v1/m`, "OPTIONS", undefined, { origin: ALLOWED_ORIGIN });
      expect(pre.status).to.equal(204);
      expect(fake.messages).to.have.length(0);
    });
  });
});

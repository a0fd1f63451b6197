/**
 * The collector as deployed (child process running the deployed `main()` on loopback), driven by real
 * tracker SDKs and hand-made bad requests, publishing through the real @google-cloud/pubsub client to
 * a local gRPC Publisher.
 */
import { createHmac } from "node:crypto";
import * as http from "node:http";
import { gzipSync } from "node:zlib";
import { Analytics } from "@segment/analytics-node";
import { expect } from "chai";
import { type CollectorProcess, startCollectorProcess, TEST_HMAC_KEY_HEX } from "./helpers/collector-process";
import { FakePubSub } from "./helpers/fake-pubsub";
import { useCollectorFixture } from "./helpers/fixture";
import { basic, request } from "./helpers/http";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const RudderAnalytics = require("@rudderstack/rudder-sdk-node") as new (
  writeKey: string,
  options: Record<string, unknown>,
) => {
  track(e: Record<string, unknown>): void;
  identify(e: Record<string, unknown>): void;
  page(e: Record<string, unknown>): void;
  flush(): Promise<unknown>;
};

const WRITE_KEY = "wk_web_0123456789abcdef";
const WRITE_KEY_SERVER = "wk_srv_0123456789abcdef";
const KEYS = `${WRITE_KEY}=web,${WRITE_KEY_SERVER}=server`;
const GRANTED = { consent: { categoryPreferences: { Analytics: true, Advertising: false } } };
const DENIED = { consent: { categoryPreferences: { Analytics: false } } };

function hmac(value: string): string {
  return createHmac("sha256", Buffer.from(TEST_HMAC_KEY_HEX, "hex")).update(value).digest("hex");
}

/** Waits (bounded) until `cond` holds, polling. Not a timing assertion: the bound only stops a hang. */
async function until(cond: () => boolean, what: string, maxMs = 20_000): Promise<void> {
  for (let waited = 0; !cond(); waited += 20) {
    if (waited >= maxMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

type Ev = Record<string, unknown> & { context?: Record<string, unknown> };

function byMessageId(fake: FakePubSub): Map<string, Ev> {
  const m = new Map<string, Ev>();
  for (const e of fake.events()) m.set(e.messageId as string, e as Ev);
  return m;
}

const BASE_ENV = { COLLECTOR_WRITE_KEYS: KEYS, METADATA_SERVER_DETECTION: "none" };

describe("collector (as deployed, real SDKs, real Pub/Sub client)", function () {
  let fake: FakePubSub;
  let collector: CollectorProcess;

  useCollectorFixture(BASE_ENV, (f, c) => ([fake, collector] = [f, c]));

  it("Segment analytics-node: every event arrives exactly once, pseudonymised, consent respected", async () => {
    const analytics = new Analytics({
      writeKey: WRITE_KEY,
      host: collector.url,
      maxEventsInBatch: 20,
      flushInterval: 50,
    });
    const sent: { messageId: string; consent: "granted" | "denied"; type: string; userId: string }[] = [];
    analytics.on("track", (ctx) =>
      sent.push({
        messageId: ctx.event.messageId!,
        consent: ctx.event.context?.consent ? "granted" : "denied",
        type: "track",
        userId: String(ctx.event.userId),
      }),
    );
    for (let i = 0; i < 50; i++) {
      analytics.track({
        userId: `user-${i}`,
        anonymousId: `anon-${i}`,
        event: "Product Viewed",
        properties: { sku: `sku-${i}`, email: `Person${i}@Example.com `, name: "Jane Doe" },
        context: {
          ...(i % 5 === 0 ? DENIED : GRANTED),
          ip: "203.0.113.77",
          traits: { email: `person${i}@example.com` },
        },
      });
    }
    analytics.identify({
      userId: "user-1",
      traits: {
        email: "Jane@Example.com",
        firstName: "Jane",
        last_name: "Doe",
        plan: "gold",
        phone: "+55 (11) 99999-0000",
      },
      context: GRANTED,
    });
    analytics.identify({ userId: "user-2", traits: { email: "x@example.com" }, context: DENIED });
    analytics.page({
      anonymousId: "anon-p",
      name: "Home",
      properties: { path: "/" },
      context: { ...GRANTED, ip: "2001:db8:85a3:1234:5678:8a2e:370:7334" },
    });
    analytics.screen({ userId: "user-3", name: "Cart", context: GRANTED });
    analytics.group({ userId: "user-4", groupId: "household-9", traits: { name: "Doe family" }, context: GRANTED });
    analytics.alias({ userId: "user-5", previousId: "anon-5", context: GRANTED });
    await analytics.closeAndFlush({ timeout: 20_000 });

    const got = byMessageId(fake);
    const counts = fake.countsByMessageId();
    for (const [id, n] of counts) expect(n, `messageId ${id} arrived ${n} times`).to.equal(1);
    // 50 tracks + identify(granted) + page + screen + group + alias; identify(denied) is dropped.
    expect(fake.messages.length).to.equal(55);
    for (const s of sent) {
      const e = got.get(s.messageId);
      expect(e, `track ${s.messageId}`).to.not.equal(undefined);
    }
    const raw = JSON.stringify(fake.events());
    expect(raw).to.not.match(/user-\d|anon-\d|Jane|Doe|example\.com|203\.0\.113\.77|household-9/i);

    const granted = fake.events().filter((e) => e.type === "track" && e.consent === "granted") as Ev[];
    const denied = fake.events().filter((e) => e.type === "track" && e.consent === "denied") as Ev[];
    expect(granted).to.have.length(40);
    expect(denied).to.have.length(10);
    const g0 = granted.find((e) => e.userId === hmac("user-1"))!;
    expect(g0.anonymousId).to.equal(hmac("anon-1"));
    expect((g0.properties as Record<string, unknown>).email).to.equal(hmac("person1@example.com"));
    expect(g0.properties).to.not.have.property("name");
    expect((g0.properties as Record<string, unknown>).sku).to.equal("sku-1");
    expect((g0.context!.traits as Record<string, unknown>).email).to.equal(hmac("person1@example.com"));
    expect(g0.context!.ip).to.equal("203.0.113.0");
    expect(g0.source).to.equal("web");
    for (const d of denied) {
      expect(Object.keys(d).sort()).to.deep.equal([
        "consent",
        "context",
        "event",
        "messageId",
        "receivedAt",
        "source",
        "timestamp",
        "type",
      ]);
      expect(Object.keys(d.context!)).to.deep.equal(["library"]);
    }
    const identify = fake.events().find((e) => e.type === "identify") as Ev;
    expect(identify.userId).to.equal(hmac("user-1"));
    expect(identify.traits).to.deep.equal({
      email: hmac("jane@example.com"),
      plan: "gold",
      phone: hmac("+5511999990000"),
    });
    const page = fake.events().find((e) => e.type === "page") as Ev;
    expect(page.context!.ip).to.equal("2001:db8:85a3::");
    const group = fake.events().find((e) => e.type === "group") as Ev;
    expect(group.groupId).to.equal(hmac("household-9"));
    expect(group.traits).to.deep.equal({});
    const alias = fake.events().find((e) => e.type === "alias") as Ev;
    expect(alias.previousId).to.equal(hmac("anon-5"));
    // The Pub/Sub attributes carry the de-duplication key.
    for (const m of fake.messages)
      expect(m.attributes.messageId).to.equal((JSON.parse(m.data.toString()) as Ev).messageId);
  });

  it("RudderStack Node SDK (gzip bodies): every event arrives exactly once, pseudonymised", async () => {
    const rudder = new RudderAnalytics(WRITE_KEY_SERVER, {
      dataPlaneUrl: collector.url,
      flushAt: 10,
      flushInterval: 100,
      logLevel: "error",
    });
    for (let i = 0; i < 30; i++) {
      rudder.track({
        userId: `r-user-${i}`,
        event: "Checkout Started",
        properties: { total: i, phone: "+351 912 345 678" },
        context: GRANTED,
      });
    }
    rudder.identify({
      anonymousId: "r-anon",
      traits: { email: "r@example.org", address: { city: "Lisbon" } },
      context: GRANTED,
    });
    rudder.page({ userId: "r-user-x", name: "Landing", context: DENIED });
    await rudder.flush();
    await until(() => fake.messages.length >= 32, "rudder events");
    const counts = fake.countsByMessageId();
    expect(counts.size).to.equal(32);
    for (const n of counts.values()) expect(n).to.equal(1);
    const evs = fake.events() as Ev[];
    expect(JSON.stringify(evs)).to.not.match(/r-user|r-anon|example\.org|Lisbon|912 345/);
    const t = evs.find((e) => e.type === "track" && e.userId === hmac("r-user-7"))!;
    expect(t.properties).to.deep.equal({ total: 7, phone: hmac("+351912345678") });
    expect(t.source).to.equal("server");
    const p = evs.find((e) => e.type === "page")!;
    expect(p.consent).to.equal("denied");
    expect(p).to.not.have.property("userId");
  });

  describe("bad input gets its 4xx and publishes nothing", () => {
    const auth = { authorization: basic(WRITE_KEY), "content-type": "application/json" };
    const track = (extra: Record<string, unknown> = {}) =>
      JSON.stringify({ userId: "u", event: "E", context: GRANTED, ...extra });
    const cases: {
      name: string;
      path: string;
      body: Buffer | string;
      headers: Record<string, string>;
      status: number;
      error: RegExp;
    }[] = [
      {
        name: "malformed JSON",
        path: "/v1/track",
        body: '{"userId": "u", "event": ',
        headers: auth,
        status: 400,
        error: /malformed JSON/,
      },
      {
        name: "JSON that is not an object",
        path: "/v1/track",
        body: "[1,2]",
        headers: auth,
        status: 400,
        error: /JSON object/,
      },
      {
        name: "userId of the wrong type",
        path: "/v1/track",
        body: track({ userId: { id: 1 } }),
        headers: auth,
        status: 400,
        error: /event\.userId/,
      },
      {
        name: "properties of the wrong type",
        path: "/v1/track",
        body: track({ properties: "x" }),
        headers: auth,
        status: 400,
        error: /event\.properties: must be an object/,
      },
      {
        name: "bad timestamp",
        path: "/v1/track",
        body: track({ timestamp: "yesterday" }),
        headers: auth,
        status: 400,
        error: /event\.timestamp/,
      },
      {
        name: "track without event name",
        path: "/v1/t",
        body: JSON.stringify({ userId: "u" }),
        headers: auth,
        status: 400,
        error: /event\.event: required/,
      },
      {
        name: "no userId nor anonymousId",
        path: "/v1/page",
        body: JSON.stringify({ name: "x" }),
        headers: auth,
        status: 400,
        error: /userId or anonymousId/,
      },
      {
        name: "type disagreeing with the path",
        path: "/v1/identify",
        body: track({ type: "track" }),
        headers: auth,
        status: 400,
        error: /does not match/,
      },
      {
        name: "batch that is not an array",
        path: "/v1/batch",
        body: JSON.stringify({ batch: {} }),
        headers: auth,
        status: 400,
        error: /batch: must be an array/,
      },
      {
        name: "bad event inside a batch",
        path: "/v1/b",
        body: JSON.stringify({
          batch: [
            { type: "track", userId: "u", event: "E" },
            { type: "bogus", userId: "u" },
          ],
        }),
        headers: auth,
        status: 400,
        error: /batch\[1\]\.type/,
      },
      {
        name: "single event over 32 KB",
        path: "/v1/track",
        body: track({ properties: { blob: "x".repeat(33 * 1024) } }),
        headers: auth,
        status: 400,
        error: /exceeds 32768 bytes/,
      },
      {
        name: "batch event over 32 KB",
        path: "/v1/batch",
        body: JSON.stringify({
          batch: [{ type: "track", userId: "u", event: "E", properties: { blob: "x".repeat(33 * 1024) } }],
        }),
        headers: auth,
        status: 400,
        error: /batch\[0\]: event exceeds 32768/,
      },
      {
        name: "batch over 500 KB",
        path: "/v1/batch",
        body: JSON.stringify({
          batch: Array.from({ length: 60 }, () => ({
            type: "track",
            userId: "u",
            event: "E",
            properties: { blob: "x".repeat(10_000) },
          })),
        }),
        headers: auth,
        status: 400,
        error: /exceeds 512000 bytes/,
      },
      {
        name: "gzip bomb (small on the wire, over 500 KB inflated)",
        path: "/v1/batch",
        body: gzipSync(JSON.stringify({ batch: [], pad: " ".repeat(5_000_000) })),
        headers: { ...auth, "content-encoding": "gzip" },
        status: 400,
        error: /after decompression/,
      },
      {
        name: "bad gzip",
        path: "/v1/batch",
        body: Buffer.from("definitely not gzip"),
        headers: { ...auth, "content-encoding": "gzip" },
        status: 400,
        error: /invalid gzip body/,
      },
      {
        name: "unsupported content-encoding",
        path: "/v1/track",
        body: track(),
        headers: { ...auth, "content-encoding": "br" },
        status: 415,
        error: /unsupported content-encoding/,
      },
      {
        name: "missing write key",
        path: "/v1/track",
        body: track(),
        headers: { "content-type": "application/json" },
        status: 401,
        error: /missing write key/,
      },
      {
        name: "unknown write key (Basic auth)",
        path: "/v1/track",
        body: track(),
        headers: { authorization: basic("nope") },
        status: 401,
        error: /unknown write key/,
      },
      {
        name: "unknown write key (body)",
        path: "/v1/track",
        body: track({ writeKey: "nope" }),
        headers: {},
        status: 401,
        error: /unknown write key/,
      },
      { name: "unknown path", path: "/v2/track", body: track(), headers: auth, status: 404, error: /unknown path/ },
      { name: "GET on an event path", path: "/v1/track", body: "", headers: auth, status: 405, error: /not allowed/ },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const before = fake.publishCalls;
        const r = await request(
          collector.url + c.path,
          c.name.startsWith("GET") ? "GET" : "POST",
          c.name.startsWith("GET") ? undefined : c.body,
          c.headers,
        );
        expect(r.status, r.text).to.equal(c.status);
        expect(r.headers["content-type"]).to.match(/^application\/json/);
        expect(r.json().success).to.equal(false);
        expect(r.json().error).to.match(c.error);
        expect(fake.messages).to.have.length(0);
        expect(fake.publishCalls).to.equal(before);
      });
    }
  });

  describe("protocol details", () => {
    it("answers an Expect: 100-continue upload over every limit with 400, without asking for the body", async () => {
      const auth = { authorization: basic(WRITE_KEY) };
      const { status, continued } = await new Promise<{ status: number; continued: boolean }>((resolve, reject) => {
        let continued = false;
        const req = http.request(
          `${collector.url}/v1/batch`,
          { method: "POST", agent: false, headers: { ...auth, "content-length": "900000", expect: "100-continue" } },
          (res) => {
            res.resume();
            res.on("end", () => resolve({ status: res.statusCode ?? 0, continued }));
          },
        );
        req.on("continue", () => (continued = true));
        req.on("error", reject);
        req.flushHeaders();
      });
      expect(status).to.equal(400);
      expect(continued, "100 Continue sent for a body no route accepts").to.equal(false);
    });

    it("parses text/plain bodies with writeKey in the body (analytics.js) and the short paths", async () => {
      const r = await request(
        `${collector.url}/v1/p`,
        "POST",
        JSON.stringify({ writeKey: WRITE_KEY, anonymousId: "a1", name: "Home", messageId: "m-text", context: GRANTED }),
        { "content-type": "text/plain" },
      );
      expect(r.status, r.text).to.equal(200);
      expect(r.json()).to.deep.equal({ success: true });
      expect(fake.events()).to.have.length(1);
      expect(fake.events()[0]).to.include({ type: "page", messageId: "m-text", anonymousId: hmac("a1") });
      expect(fake.events()[0]).to.not.have.property("writeKey");
    });

    it("answers a CORS preflight, and CORS headers on the POST", async () => {
      const pre = await request(`${collector.url}/v1/batch`, "OPTIONS", undefined, {
        origin: "https://shop.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type,authorization,content-encoding",
      });
      expect(pre.status).to.equal(204);
      expect(pre.headers["access-control-allow-origin"]).to.equal("*");
      expect(pre.headers["access-control-allow-methods"]).to.contain("POST");
      expect(pre.headers["access-control-allow-headers"]).to.contain("content-encoding");
      const r = await request(`${collector.url}/v1/track`, "POST", JSON.stringify({ userId: "u", event: "E" }), {
        origin: "https://shop.example",
        authorization: basic(WRITE_KEY),
      });
      expect(r.status).to.equal(200);
      expect(r.headers["access-control-allow-origin"]).to.equal("*");
    });

    it("derives a stable messageId when the caller sends none, so a retry de-duplicates", async () => {
      const body = { userId: "u", event: "E", timestamp: "2024-01-01T00:00:00.000Z" };
      await request(
        `${collector.url}/v1/track`,
        "POST",
        JSON.stringify({ ...body, sentAt: "2024-01-01T00:00:01.000Z" }),
        { authorization: basic(WRITE_KEY) },
      );
      await request(
        `${collector.url}/v1/track`,
        "POST",
        JSON.stringify({ ...body, sentAt: "2024-01-01T00:00:09.000Z" }),
        { authorization: basic(WRITE_KEY) },
      );
      const [a, b] = fake.events();
      expect(a.messageId).to.match(/^derived-[0-9a-f]{32}$/);
      expect(b.messageId).to.equal(a.messageId);
    });

    it("a large batch (transform worker thread) publishes exactly what the same events sent one by one (event-loop thread) do", async () => {
      const events: Record<string, unknown>[] = [];
      for (let i = 0; i < 24; i++) {
        const type = ["track", "page", "identify", "screen", "group", "alias"][i % 6];
        const ev: Record<string, unknown> = {
          type,
          userId: i % 4 === 0 ? i : `user-${i}`,
          anonymousId: `anon-${i}`,
          timestamp: "2024-01-01T00:00:00.000Z",
          properties: {
            sku: `sku-${i}`,
            email: ` Person${i}@Example.com`,
            first_name: "Jane",
            price: 1.5,
            "Phone Number": "+55 (11) 9999-000" + (i % 10),
          },
          traits: { email: "Jane@Example.com", lastName: "Doe", plan: "gold", customerId: 42 },
          context: {
            ...(i % 3 === 0 ? DENIED : GRANTED),
            ip: i % 2 === 0 ? "203.0.113.77" : "2001:db8:1234:5678::1",
            device: { id: `dev-${i}`, advertisingId: 7 },
            library: { name: "x", version: "1" },
            traits: { username: " JaneD " },
            note: "ünïcødé ✓",
          },
        };
        if (type === "track") ev.event = "Product Viewed";
        if (type === "page" || type === "screen") ev.name = "Home";
        if (type === "group") ev.groupId = `g-${i}`;
        if (type === "alias") ev.previousId = `prev-${i}`;
        if (i % 5 !== 1) ev.messageId = `m-worker-${i}`; // the others get derived ids
        events.push(ev);
      }
      const batchBody = JSON.stringify({ batch: events });
      expect(Buffer.byteLength(batchBody)).to.be.greaterThan(4096); // the worker's threshold
      const r = await request(`${collector.url}/v1/batch`, "POST", batchBody, { authorization: basic(WRITE_KEY) });
      expect(r.status, r.text).to.equal(200);
      const fromBatch = fake.events();
      const batchIds = fake.messages.map((m) => m.attributes.messageId);
      fake.messages.length = 0;
      for (const ev of events) {
        const one = JSON.stringify(ev);
        expect(Buffer.byteLength(one)).to.be.lessThan(4096);
        const s = await request(`${collector.url}/v1/${ev.type as string}`, "POST", one, {
          authorization: basic(WRITE_KEY),
        });
        expect(s.status, s.text).to.equal(200);
      }
      const fromSingles = fake.events();
      // identify/group/alias with consent denied are dropped on both paths.
      expect(fromBatch).to.have.length(
        events.length -
          events.filter((e, i) => i % 3 === 0 && ["identify", "group", "alias"].includes(e.type as string)).length,
      );
      const strip = (e: Record<string, unknown>) => ({ ...e, receivedAt: undefined });
      expect(fromBatch.map(strip)).to.deep.equal(fromSingles.map(strip));
      expect(batchIds).to.deep.equal(fromBatch.map((e) => e.messageId));
      for (const e of fromBatch) expect(JSON.stringify(e)).to.not.match(/Jane|Doe|Person|203\.0\.113\.77|5678::1/);
      expect(collector.stderr()).to.not.contain("transform worker unavailable");
    });

    it("a large batch rejected in the transform worker gets the same 400/401 as on the event-loop thread", async () => {
      const good = { type: "track", userId: "u", event: "E", properties: { pad: "x".repeat(300) } };
      const bad = [...Array.from({ length: 20 }, () => good), { type: "track", userId: "u" }];
      const r = await request(`${collector.url}/v1/batch`, "POST", JSON.stringify({ batch: bad }), {
        authorization: basic(WRITE_KEY),
      });
      expect(r.status).to.equal(400);
      expect(r.json().error).to.equal("batch[20].event: required for track");
      const k = await request(
        `${collector.url}/v1/batch`,
        "POST",
        JSON.stringify({ writeKey: "wk_nope", batch: bad.slice(0, 20) }),
      );
      expect(k.status).to.equal(401);
      expect(k.json().error).to.equal("unknown write key");
      const j = await request(`${collector.url}/v1/batch`, "POST", `{"batch":[${JSON.stringify(good).repeat(20)}`, {
        authorization: basic(WRITE_KEY),
      });
      expect(j.status).to.equal(400);
      expect(j.json().error).to.match(/^malformed JSON/);
      expect(fake.messages).to.have.length(0);
    });

    it("a batch over the 1,000-message Publish limit is answered 200 only once every Publish call is acknowledged", async () => {
      const n = 1_200;
      const body = JSON.stringify({
        batch: Array.from({ length: n }, (_, i) => ({
          type: "track",
          userId: "u",
          event: "E",
          messageId: `m-split-${i}`,
          context: GRANTED,
        })),
      });
      const calls = fake.publishCalls;
      fake.setMode("stall");
      let answered = false;
      const pending = request(`${collector.url}/v1/batch`, "POST", body, { authorization: basic(WRITE_KEY) }).then(
        (r) => {
          answered = true;
          return r;
        },
      );
      await until(() => fake.heldCalls >= 2, "both Publish calls to reach the backend");
      expect(answered, "answered before Pub/Sub acknowledged").to.equal(false);
      fake.setMode("ok");
      const r = await pending;
      expect(r.status, r.text).to.equal(200);
      expect(fake.publishCalls - calls).to.be.at.least(2);
      const counts = fake.countsByMessageId();
      expect(counts.size).to.equal(n);
      for (let i = 0; i < n; i++) expect(counts.get(`m-split-${i}`), `m-split-${i}`).to.equal(1);
    });
  });

  describe("when Pub/Sub fails or stalls", () => {
    it("answers 503 while the backend is unavailable, and the SDK's retries deliver every event after recovery", async () => {
      const c = await startCollectorProcess({
        ...BASE_ENV,
        PUBSUB_EMULATOR_HOST: fake.host,
        COLLECTOR_PUBLISH_TIMEOUT_MS: "500",
      });
      try {
        fake.setMode("fail");
        const direct = await request(
          `${c.url}/v1/track`,
          "POST",
          JSON.stringify({ userId: "u", event: "E", messageId: "m-fail", context: GRANTED }),
          { authorization: basic(WRITE_KEY) },
        );
        expect(direct.status).to.equal(503);
        expect(direct.headers["retry-after"]).to.equal("1");
        const analytics = new Analytics({
          writeKey: WRITE_KEY,
          host: c.url,
          maxEventsInBatch: 10,
          flushInterval: 20,
          maxRetries: 20,
        });
        const ids: string[] = [];
        analytics.on("track", (ctx) => ids.push(ctx.event.messageId!));
        for (let i = 0; i < 25; i++) analytics.track({ userId: `u${i}`, event: "E", context: GRANTED });
        await until(() => fake.publishCalls > 5, "publish attempts against the failing backend");
        fake.setMode("ok");
        await analytics.closeAndFlush({ timeout: 30_000 });
        const counts = fake.countsByMessageId();
        for (const id of ids) expect(counts.get(id) ?? 0, `event ${id}`).to.be.at.least(1);
        expect(ids).to.have.length(25);
      } finally {
        await c.stop();
      }
    });

    it("answers 503 when Pub/Sub rejects the publish outright", async () => {
      fake.setMode("reject");
      const r = await request(
        `${collector.url}/v1/track`,
        "POST",
        JSON.stringify({ userId: "u", event: "E", context: GRANTED }),
        { authorization: basic(WRITE_KEY) },
      );
      expect(r.status).to.equal(503);
      expect(r.json().error).to.match(/unavailable/);
    });

    it("sheds load with 429 + Retry-After once in-flight events hit the bound while stalled, then drains", async () => {
      const c = await startCollectorProcess({
        ...BASE_ENV,
        PUBSUB_EMULATOR_HOST: fake.host,
        COLLECTOR_PUBLISH_TIMEOUT_MS: "300",
        COLLECTOR_MAX_IN_FLIGHT_EVENTS: "5",
      });
      try {
        fake.setMode("stall");
        const batch = (n: number, tag: string) =>
          JSON.stringify({
            batch: Array.from({ length: n }, (_, i) => ({
              type: "track",
              userId: "u",
              event: "E",
              messageId: `${tag}-${i}`,
              context: GRANTED,
            })),
          });
        const first = await request(`${c.url}/v1/batch`, "POST", batch(4, "a"), { authorization: basic(WRITE_KEY) });
        expect(first.status).to.equal(503); // accepted by the client, not acknowledged in time
        const second = await request(`${c.url}/v1/batch`, "POST", batch(4, "b"), { authorization: basic(WRITE_KEY) });
        expect(second.status).to.equal(429);
        expect(second.headers["retry-after"]).to.equal("1");
        fake.setMode("ok");
        await until(() => fake.countsByMessageId().has("a-3"), "stalled publishes to complete");
        // The acknowledgement reaches the collector a moment after the backend recorded the messages;
        // retry on 429 as an SDK would (bounded).
        let third = await request(`${c.url}/v1/batch`, "POST", batch(4, "b"), { authorization: basic(WRITE_KEY) });
        for (let attempt = 0; third.status === 429 && attempt < 100; attempt++) {
          await new Promise((r) => setTimeout(r, 20));
          third = await request(`${c.url}/v1/batch`, "POST", batch(4, "b"), { authorization: basic(WRITE_KEY) });
        }
        expect(third.status).to.equal(200);
        const counts = fake.countsByMessageId();
        for (const id of ["a-0", "a-1", "a-2", "a-3", "b-0", "b-1", "b-2", "b-3"])
          expect(counts.get(id), id).to.equal(1);
      } finally {
        await c.stop();
      }
    });

    it("on SIGTERM, answers the in-flight request, flushes Pub/Sub and exits 0", async () => {
      const c = await startCollectorProcess({ ...BASE_ENV, PUBSUB_EMULATOR_HOST: fake.host });
      fake.setMode("stall");
      const pending = request(
        `${c.url}/v1/track`,
        "POST",
        JSON.stringify({ userId: "u", event: "E", messageId: "m-term", context: GRANTED }),
        { authorization: basic(WRITE_KEY) },
      );
      await until(() => fake.heldCalls > 0, "the publish to reach the backend");
      const exit = c.stop("SIGTERM");
      await new Promise((r) => setTimeout(r, 100));
      fake.setMode("ok");
      const reply = await pending;
      expect(reply.status).to.equal(200);
      expect(await exit).to.equal(0);
      expect(fake.countsByMessageId().get("m-term")).to.equal(1);
    });
  });
});

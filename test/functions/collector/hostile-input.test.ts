/**
 * Hostile and careless input (issue 11, items 1, 2, 3, 5, 6): the collector as deployed (child process
 * running the deployed `main()` on loopback), real HTTP, publishing through the real
 * @google-cloud/pubsub client to the local gRPC Publisher. `npm run hostile:collector` drives the same
 * probes at full size and measures memory; these tests pin the behaviour.
 */
import { createHmac } from "node:crypto";
import * as net from "node:net";
import { expect } from "chai";
import { type CollectorProcess, startCollectorProcess, TEST_HMAC_KEY_HEX } from "./helpers/collector-process";
import { FakePubSub } from "./helpers/fake-pubsub";
import { useCollectorFixture } from "./helpers/fixture";
import { basic, type Reply, request } from "./helpers/http";

const WRITE_KEY = "wk_hostile_0123456789abcdef";
const GRANTED = { consent: { categoryPreferences: { Analytics: true } } };
const BASE_ENV = { COLLECTOR_WRITE_KEYS: `${WRITE_KEY}=web`, METADATA_SERVER_DETECTION: "none" };
const AUTH = { authorization: basic(WRITE_KEY) };

/** Computed here, independently of the collector's Pseudonymiser. */
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

function post(c: CollectorProcess, path: string, body: unknown): Promise<Reply> {
  return request(`${c.url}${path}`, "POST", typeof body === "string" ? body : JSON.stringify(body), AUTH);
}

type Ev = Record<string, unknown> & { context?: Record<string, Record<string, unknown>> };

/** `depth` arrays nested in one another: `[[...[]...]]`. */
function nestedArrays(depth: number): string {
  return "[".repeat(depth) + "]".repeat(depth);
}

describe("collector: hostile and careless input (issue 11)", function () {
  let fake: FakePubSub;
  let collector: CollectorProcess;

  useCollectorFixture(BASE_ENV, (f, c) => ([fake, collector] = [f, c]));

  describe("batch-level context (item 1: limits hold on what is published)", () => {
    it("rejects a batch-level context over 8 KB with 400 naming it, publishing nothing", async () => {
      // The probe: 1,000 tiny events and a 400 KB batch-level context (grew the process to 2 GB).
      const body = {
        batch: Array.from({ length: 1000 }, (_, i) => ({ type: "track", event: "E", userId: `u${i}` })),
        context: { ...GRANTED, blob: "x".repeat(400 * 1024) },
      };
      const r = await post(collector, "/v1/batch", body);
      expect(r.status).to.equal(400);
      expect(r.json().error).to.match(/^context: batch-level context is \d+ bytes, more than 8192/);
      expect(fake.messages).to.have.length(0);
    });

    it("applies the 32 KB per-event limit to the event with the batch context merged in, naming the event", async () => {
      const context = { ...GRANTED, note: "c".repeat(7 * 1024) };
      const small = { type: "track", event: "E", userId: "u0", messageId: "small" };
      // 26 KB on its own (under 32 KB), ~33 KB once the 7 KB context is merged in.
      const big = { type: "track", event: "E", userId: "u1", properties: { text: "p".repeat(26 * 1024) } };
      const r = await post(collector, "/v1/batch", { batch: [small, big], context });
      expect(r.status).to.equal(400);
      expect(r.json().error).to.equal("batch[1]: event exceeds 32768 bytes with the batch-level context merged in");
      expect(fake.messages).to.have.length(0);
      // The same event with a context it can carry is accepted.
      const ok = await post(collector, "/v1/batch", { batch: [small, big], context: GRANTED });
      expect(ok.status).to.equal(200);
      expect(fake.messages).to.have.length(2);
    });

    it("rejects a batch whose events × batch context exceed 2 MiB once merged, before transforming any", async () => {
      // Each event is ~40 bytes; the 7.9 KB context is published once per event: 600 × 7.9 KB ≈ 4.7 MB
      // from a 30 KB request.
      const body = {
        batch: Array.from({ length: 600 }, (_, i) => ({ type: "track", event: "E", userId: `u${i}` })),
        context: { ...GRANTED, note: "n".repeat(7900) },
      };
      const r = await post(collector, "/v1/batch", body);
      expect(r.status).to.equal(400);
      expect(r.json().error).to.equal(
        "batch: 600 events × the 7964-byte batch-level context exceed 2097152 bytes once merged; send smaller batches or less context",
      );
      expect(fake.messages).to.have.length(0);
      // 100 of them are fine (~0.8 MB published).
      const ok = await post(collector, "/v1/batch", { ...body, batch: body.batch.slice(0, 100) });
      expect(ok.status).to.equal(200);
      expect(fake.messages).to.have.length(100);
    });
  });

  describe("shared batch context (item 2: each event's transformation is pure)", () => {
    for (const [name, extra] of [
      ["event-loop thread (small body)", 0],
      ["transform worker (body ≥ 4 KB)", 6000],
    ] as const) {
      it(`three events sharing context.device.id and context.traits.email get the same single HMAC: ${name}`, async () => {
        const body = {
          batch: [0, 1, 2].map((i) => ({
            type: "track",
            event: "E",
            anonymousId: `anon-${i}`,
            messageId: `shared-${i}`,
            properties: { pad: "p".repeat(extra / 3) },
          })),
          context: {
            ...GRANTED,
            device: { id: "device-42", advertisingId: "ad-7" },
            traits: { email: "Shared.Person@Example.com", firstName: "Shared" },
          },
        };
        const r = await post(collector, "/v1/batch", body);
        expect(r.status).to.equal(200);
        const events = fake.events() as Ev[];
        expect(events.map((e) => e.messageId).sort()).to.deep.equal(["shared-0", "shared-1", "shared-2"]);
        for (const e of events) {
          expect(e.context!.device.id, `${String(e.messageId)} device.id`).to.equal(hmac("device-42"));
          expect(e.context!.device.advertisingId, `${String(e.messageId)} advertisingId`).to.equal(hmac("ad-7"));
          expect(e.context!.traits.email, `${String(e.messageId)} traits.email`).to.equal(
            hmac("shared.person@example.com"),
          );
          expect(e.context!.traits).to.not.have.property("firstName");
        }
      });
    }

    it("an event's own context keys override the batch context's, as Segment merges them", async () => {
      const body = {
        batch: [
          { type: "track", event: "E", userId: "u", messageId: "own", context: { device: { id: "own-device" } } },
          { type: "track", event: "E", userId: "u", messageId: "inherited" },
        ],
        context: { ...GRANTED, device: { id: "batch-device" }, locale: "pt-BR" },
      };
      expect((await post(collector, "/v1/batch", body)).status).to.equal(200);
      const byId = new Map((fake.events() as Ev[]).map((e) => [e.messageId, e]));
      expect(byId.get("own")!.context!.device.id).to.equal(hmac("own-device"));
      expect(byId.get("own")!.context!.locale).to.equal("pt-BR");
      expect(byId.get("inherited")!.context!.device.id).to.equal(hmac("batch-device"));
    });
  });

  describe("nesting depth (item 3)", () => {
    it("answers 400 naming the field for 200,000 nested arrays in the batch-level context, not 500", async () => {
      const body = `{"batch":[{"type":"track","event":"E","userId":"u"}],"context":{"x":${nestedArrays(200_000)}}}`;
      expect(body.length).to.be.greaterThan(400_000);
      const r = await post(collector, "/v1/batch", body);
      expect(r.status).to.equal(400);
      // The batch context is level 2 of each event, so x is level 3 and the first array past 32 is x's 30th.
      expect(r.json().error).to.equal(`context.x${"[0]".repeat(30)}: nested deeper than 32 levels`);
      expect(fake.messages).to.have.length(0);
    });

    it("counts levels the same for an event sent alone (event-loop thread) and in a batch (worker)", async () => {
      // properties is level 2, so `a` holding 30 nested arrays reaches level 32 (allowed), 31 is one too many.
      const event = (depth: number, id: string) => ({
        type: "track",
        event: "E",
        userId: "u",
        messageId: id,
        context: GRANTED,
        properties: { a: JSON.parse(nestedArrays(depth)) as unknown },
      });
      expect((await post(collector, "/v1/track", event(30, "alone-ok"))).status).to.equal(200);
      const alone = await post(collector, "/v1/track", event(31, "alone-deep"));
      expect(alone.status).to.equal(400);
      expect(alone.json().error).to.equal(`properties.a${"[0]".repeat(30)}: nested deeper than 32 levels`);

      const pad = { type: "track", event: "Pad", userId: "u", context: GRANTED, properties: { p: "p".repeat(5000) } };
      expect((await post(collector, "/v1/batch", { batch: [pad, event(30, "batch-ok")] })).status).to.equal(200);
      const inBatch = await post(collector, "/v1/batch", { batch: [pad, event(31, "batch-deep")] });
      expect(inBatch.status).to.equal(400);
      expect(inBatch.json().error).to.equal(`batch[1].properties.a${"[0]".repeat(30)}: nested deeper than 32 levels`);
      expect(fake.messages.map((m) => m.attributes.messageId).sort()).to.include.members(["alone-ok", "batch-ok"]);
      expect(fake.messages).to.have.length(3);
    });
  });

  it("rejects a messageId over Pub/Sub's 1,024-byte attribute limit with 400 (it would fail the shared Publish call)", async () => {
    const ev = { type: "track", event: "E", userId: "u", context: GRANTED };
    const r = await post(collector, "/v1/batch", {
      batch: [
        { ...ev, messageId: "ok" },
        { ...ev, messageId: "m".repeat(1025) },
      ],
    });
    expect(r.status).to.equal(400);
    expect(r.json().error).to.equal("batch[1].messageId: longer than 1024 bytes (Pub/Sub's attribute limit)");
    expect((await post(collector, "/v1/track", { ...ev, messageId: "m".repeat(1024) })).status).to.equal(200);
  });

  describe("in-flight bound in bytes (item 5)", () => {
    it("sheds 31 KB events with 429 once the bytes waiting for a stalled Pub/Sub reach the bound; every accepted event is delivered", async () => {
      const c = await startCollectorProcess({
        ...BASE_ENV,
        PUBSUB_EMULATOR_HOST: fake.host,
        COLLECTOR_MAX_IN_FLIGHT_BYTES: String(200 * 1024),
        COLLECTOR_PUBLISH_TIMEOUT_MS: "60000",
      });
      try {
        fake.setMode("stall");
        const event = (i: number) => ({
          type: "track",
          event: "E",
          userId: `u${i}`,
          messageId: `big-${i}`,
          context: GRANTED,
          properties: { blob: "b".repeat(31 * 1024 - 200) },
        });
        // One at a time, so the outcome does not depend on timing: each request either is answered
        // (shed) or reaches the stalled backend as its own Publish call.
        const pending: { id: string; reply: Promise<Reply> }[] = [];
        let shed = 0;
        for (let i = 0; i < 20; i++) {
          let answer: Reply | undefined;
          const reply = post(c, "/v1/track", event(i));
          void reply.then((r) => (answer = r));
          await until(() => answer !== undefined || fake.heldCalls > pending.length, `request ${i} to settle`);
          if (answer !== undefined) {
            expect(answer.status, `request ${i}`).to.equal(429);
            expect(answer.headers["retry-after"]).to.equal("1");
            shed++;
          } else pending.push({ id: `big-${i}`, reply });
        }
        // 200 KB holds six of these (~31 KB published each); the 50,000-event bound alone accepted all twenty.
        expect(pending.length).to.be.within(2, 7);
        expect(shed).to.equal(20 - pending.length);
        fake.setMode("ok");
        const accepted: string[] = [];
        for (const p of pending) {
          expect((await p.reply).status, p.id).to.equal(200);
          accepted.push(p.id);
        }
        const counts = fake.countsByMessageId();
        for (const id of accepted) expect(counts.get(id), id).to.equal(1);
        expect(fake.messages).to.have.length(accepted.length);
      } finally {
        await c.stop();
      }
    });
  });

  describe("body timeout (item 6)", () => {
    let c: CollectorProcess;
    /**
     * The three exchanges, started together once the collector is up: each waits out the body timeout (1 s)
     * and Node's 1 s check interval, so one after another they idled a core for six seconds. Each case
     * below awaits and checks its own.
     */
    let exchanges: { stalled: Promise<string>; slowloris: Promise<string>; keepAlive: Promise<KeepAlive> };
    /** Events the Publisher had acknowledged before the exchanges (a count each test's reset leaves alone). */
    let acknowledgedBefore: number;
    before(async () => {
      c = await startCollectorProcess({
        ...BASE_ENV,
        PUBSUB_EMULATOR_HOST: fake.host,
        COLLECTOR_BODY_TIMEOUT_MS: "1000",
      });
      const stalledBody = JSON.stringify({
        type: "track",
        event: "E",
        userId: "u",
        messageId: "stalled",
        context: GRANTED,
      });
      acknowledgedBefore = fake.acknowledged;
      exchanges = {
        stalled: rawExchange(
          `POST /v1/track HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH.authorization}\r\n` +
            `Content-Length: ${stalledBody.length + 500}\r\n\r\n${stalledBody}`,
        ),
        slowloris: rawExchange(`POST /v1/track HTTP/1.1\r\nHost: x\r\nX-Slow: a`),
        keepAlive: keepAliveExchange(),
      };
      // Awaited by their cases; a failure before then is theirs to report, not an unhandled rejection.
      for (const p of Object.values(exchanges)) p.catch(() => undefined);
    });
    after(async () => {
      await c?.stop();
    });

    /** Writes `text` on a fresh connection; resolves with everything received once the server closes it. */
    function rawExchange(text: string): Promise<string> {
      return new Promise<string>((resolve, reject) => {
        const socket = net.connect(c.port, "127.0.0.1");
        let got = "";
        socket.on("data", (d: Buffer) => (got += d.toString("latin1")));
        socket.on("error", reject);
        socket.on("close", () => resolve(got));
        socket.write(text);
      });
    }

    interface KeepAlive {
      /** Whether the connection was closed after its idle time between the two requests. */
      closedWhileIdle: boolean;
      /** Everything received on the connection. */
      got: string;
    }

    /** Two requests on one connection, idle between them for longer than the body timeout. */
    async function keepAliveExchange(): Promise<KeepAlive> {
      const body = JSON.stringify({ type: "track", event: "E", userId: "u", context: GRANTED });
      const req = (id: string) => {
        const json = JSON.stringify({ ...(JSON.parse(body) as object), messageId: id });
        return (
          `POST /v1/track HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH.authorization}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${json.length}\r\n\r\n${json}`
        );
      };
      const socket = net.connect(c.port, "127.0.0.1");
      let got = "";
      let closed = false;
      socket.on("data", (d: Buffer) => (got += d.toString("latin1")));
      socket.on("close", () => (closed = true));
      try {
        socket.write(req("keepalive-1"));
        await until(() => /\r\n\r\n\{"success":true\}/.test(got), "the first answer");
        // Idle for longer than the body timeout plus Node's 1 s check interval.
        await new Promise((r) => setTimeout(r, 2500));
        const closedWhileIdle = closed;
        if (!closed) {
          socket.write(req("keepalive-2"));
          await until(() => got.split('{"success":true}').length === 3, "the second answer");
        }
        return { closedWhileIdle, got };
      } finally {
        socket.destroy();
      }
    }

    it("answers 408 and closes a request that declares 500 more bytes than it sends", async () => {
      expect(await exchanges.stalled).to.match(/^HTTP\/1\.1 408 /);
      // Nothing of it was published: since the exchanges started, the Publisher acknowledged the keep-alive
      // case's events only.
      const keepAliveEvents = (await exchanges.keepAlive).got.split('{"success":true}').length - 1;
      expect(fake.acknowledged - acknowledgedBefore).to.equal(keepAliveEvents);
      // The collector is still healthy and serving.
      expect((await request(`${c.url}/health`, "GET", undefined)).status).to.equal(200);
    });

    it("answers 408 to headers that never end (slowloris)", async () => {
      expect(await exchanges.slowloris).to.match(/^HTTP\/1\.1 408 /);
    });

    it("does not time out an idle keep-alive connection between requests (the front end reuses them)", async () => {
      const { closedWhileIdle, got } = await exchanges.keepAlive;
      expect(closedWhileIdle).to.equal(false);
      expect(got.split('{"success":true}')).to.have.length(3);
      expect(got).to.not.match(/408/);
    });
  });
});

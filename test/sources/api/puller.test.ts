/**
 * The API puller's real code (functions/api-puller) against a real HTTP server on loopback that paginates,
 * rate-limits and fails transiently; the cursor in the conditional in-memory store, pages as files. Every
 * case counts what landed: each record version exactly once, whatever crashed in between.
 */
import { expect } from "chai";
import { CursorConflictError, MemoryCursorStore } from "../../../functions/api-puller/cursor-store";
import { RequestFailedError, backoffMs, retryAfterMs } from "../../../functions/api-puller/http";
import { linkNext } from "../../../functions/api-puller/puller";
import { payments, type Payment } from "./fake-api";
import { crashingSink, Harness, landedCounts } from "./harness";

const N = 95; // 5 pages of 20, the last one short

function expectExactlyOnce(h: Harness, expected: readonly Payment[]): void {
  const counts = landedCounts(h.lines());
  const want = new Set(expected.map((p) => `${p.id}@${p.updated_at}`));
  const twice = [...counts].filter(([, n]) => n > 1).map(([k]) => k);
  const missing = [...want].filter((k) => !counts.has(k));
  const extra = [...counts.keys()].filter((k) => !want.has(k));
  expect({ twice, missing, extra }).to.deep.equal({ twice: [], missing: [], extra: [] });
  expect(h.lines()).to.have.length(expected.length);
}

describe("API puller against a loopback API", () => {
  let h: Harness;
  afterEach(async () => h?.stop());

  for (const style of ["cursor", "next-link", "page", "since"] as const) {
    it(`${style} pagination: one pass lands every record once and leaves the watermark at the last`, async () => {
      h = await new Harness(style).start();
      h.api.records = payments(N);
      const r = await h.run();
      expect(r.outcome).to.equal("caught-up");
      expect(r.pages).to.equal(5);
      expect(r.records).to.equal(N);
      expectExactlyOnce(h, h.api.records);
      const { state } = await h.store.load("payments-br");
      expect(state.watermark).to.equal(h.api.records[N - 1].updated_at);
      expect(state.idsAtWatermark).to.deep.equal([h.api.records[N - 1].id]);
      expect(state.pass).to.equal(null);
      expect(state.lease).to.equal(null);
      expect(h.api.requests.every((q) => q.authorised)).to.equal(true);
      // The landed record is the API's, untouched.
      const line = h.lines().find((l) => l.id === "p00007")!;
      expect(JSON.parse(line.record)).to.deep.equal(h.api.byId().get("p00007"));
    });
  }

  it("waits what Retry-After says (seconds and HTTP date), retries 500/503, a dropped connection and a cut body", async () => {
    h = await new Harness("cursor").start();
    h.api.records = payments(N);
    h.api.faults = [
      { kind: "status", status: 429, retryAfter: "seconds", after: 7 },
      { kind: "status", status: 503 },
      { kind: "ok" },
      { kind: "drop" },
      { kind: "status", status: 429, retryAfter: "date", after: 4 },
      { kind: "status", status: 500 },
      { kind: "ok" },
      { kind: "truncate" },
    ];
    const r = await h.run();
    expect(r.outcome).to.equal("caught-up");
    expectExactlyOnce(h, h.api.records);
    // Page 1 after a 429 and a 503; page 2 after a drop, a 429 and a 500; page 3 after a cut body.
    expect(h.api.requests.map((q) => q.fault ?? "ok")).to.deep.equal([
      "429",
      "503",
      "ok",
      "drop",
      "429",
      "500",
      "ok",
      "truncate",
      "ok",
      "ok",
      "ok",
    ]);
    // Retry-After exactly: 7 s, and until the HTTP date (whole seconds, so up to 1 s short of 4 s ahead).
    const dated = h.api.requests.find((q) => q.retryAfter !== undefined && q.retryAfter.includes("GMT"))!;
    const untilDate = Date.parse(dated.retryAfter!) - dated.at;
    expect(untilDate).to.be.within(3001, 4000);
    expect(h.clock.sleeps).to.include(7000);
    expect(h.clock.sleeps).to.include(untilDate);
    expect(r.waits).to.deep.equal({ rateLimited: 2, transient: 4 });
  });

  it("since (keyset) pagination: records updated during the pass land in their new version, none skipped", async () => {
    h = await new Harness("since").start();
    h.api.records = payments(N);
    const original = [...h.api.records];
    let puts = 0;
    // After page 2 landed, a record already landed and one not yet fetched change (each moves to the end).
    const sink = {
      put: async (key: string, body: Buffer) => {
        await h.sink.put(key, body);
        if (++puts !== 2) return;
        h.api.records = h.api.records.map((p) =>
          p.id === "p00003" || p.id === "p00060"
            ? { ...p, status: "refunded", updated_at: "2026-11-09T00:00:00.000Z" }
            : p,
        );
      },
    };
    const r = await h.run({ sink });
    expect(r.outcome).to.equal("caught-up");
    const changed = h.api.records.filter((p) => p.status === "refunded");
    expect(changed).to.have.length(2);
    // Every original version except p00060's (changed before it was fetched), and both new versions.
    expectExactlyOnce(h, [...original.filter((p) => p.id !== "p00060"), ...changed]);
  });

  it("since pagination refuses a full page it cannot move past (more ties than a page holds)", async () => {
    h = await new Harness("since").start();
    const at = Date.parse("2026-11-01T00:00:00Z");
    h.api.records = payments(25).map((p) => ({ ...p, updated_at: new Date(at).toISOString() }));
    const err = (await h.run().catch((e: unknown) => e)) as Error;
    expect(err.message).to.equal(
      "payments-br: a full page at since=2026-11-01T00:00:00.000Z has nothing new: more than 20 records share that cursor value, or the API ignores 'since'; raise pageSize",
    );
    // The first page (20 of the 25) landed and is acknowledged; nothing is lost once pageSize is raised.
    expect(h.lines()).to.have.length(20);
    expect((await h.run({ config: { pageSize: 50 } })).outcome).to.equal("caught-up");
    expectExactlyOnce(h, h.api.records);
  });

  it("spaces request starts by the rate limit", async () => {
    h = await new Harness("cursor").start({ requestsPerSecond: 2 });
    h.api.records = payments(N);
    const start = h.clock.now();
    await h.run();
    // 5 requests at 2/s: the 2nd to 5th wait for their slot, so the pass spans 2 virtual seconds.
    expect(h.clock.now() - start).to.equal(2000);
    expect(h.clock.sleeps).to.deep.equal([500, 500, 500, 500]);
  });

  for (const when of ["after", "before"] as const) {
    it(`crash ${when} page 3's object is written: the restart lands the rest, nothing twice`, async () => {
      h = await new Harness("cursor").start();
      h.api.records = payments(N);
      const err = await h.run({ sink: crashingSink(h.sink, 3, when) }).catch((e: Error) => e);
      expect(String(err)).to.contain(`crash ${when} put 3`);
      const { state } = await h.store.load("payments-br");
      // Pages 1 and 2 acknowledged; the cursor points at page 3; the lease was given back.
      expect(state.pass?.pages).to.equal(2);
      expect(state.lease).to.equal(null);
      expect(h.objects()).to.have.length(when === "after" ? 3 : 2);
      const keysBefore = h.objects();

      const r = await h.run();
      expect(r.outcome).to.equal("caught-up");
      expect(r.pages).to.equal(3);
      expect(h.objects()).to.have.length(5);
      // The re-fetched page went to the key it had: overwritten, not added.
      expect(h.objects()).to.include.members(keysBefore);
      expectExactlyOnce(h, h.api.records);
    });
  }

  it("crash while the cursor is written: the lease holds off the next run until it lapses, then nothing is lost or doubled", async () => {
    h = await new Harness("cursor").start();
    h.api.records = payments(N);
    let saves = 0;
    const flaky = new MemoryCursorStore();
    const failing = {
      load: (s: string) => flaky.load(s),
      // The claim and page 1's ack succeed; then the store becomes unreachable (release included).
      save: async (s: string, state: Parameters<MemoryCursorStore["save"]>[1], v: number) => {
        if (++saves > 2) throw new Error("DynamoDB unreachable");
        return flaky.save(s, state, v);
      },
    };
    await h.run({ store: failing }).then(
      () => expect.fail("the run should fail"),
      (e: Error) => expect(e.message).to.equal("DynamoDB unreachable"),
    );
    expect((await flaky.load("payments-br")).state.lease?.owner).to.equal("run-1");
    const held = await h.run({ store: flaky });
    expect(held.outcome).to.equal("held");
    expect(held.pages).to.equal(0);
    h.clock.t += 16 * 60_000;
    const r = await h.run({ store: flaky });
    expect(r.outcome).to.equal("caught-up");
    expectExactlyOnce(h, h.api.records);
  });

  it("two overlapping runs: one proceeds, the other stops at the conditional write; each record once", async () => {
    h = await new Harness("cursor").start();
    h.api.records = payments(N);
    const [a, b] = await Promise.allSettled([h.run(), h.run()]);
    const outcomes = [a, b].map((x) =>
      x.status === "fulfilled"
        ? x.value.outcome
        : x.reason instanceof CursorConflictError
          ? "conflict"
          : String(x.reason),
    );
    expect(outcomes.filter((o) => o === "caught-up")).to.have.length(1);
    expect(outcomes.filter((o) => o === "conflict" || o === "held")).to.have.length(1);
    expectExactlyOnce(h, h.api.records);
  });

  it("the next run lands only what changed: updates, late arrivals at the watermark, nothing already landed", async () => {
    h = await new Harness("cursor").start();
    h.api.records = payments(N);
    await h.run();
    const first = [...h.api.records];
    const watermark = first[N - 1].updated_at;
    // Two updates (new cursor), a new record in the same instant as the watermark (the API's `since` is
    // inclusive, so the last one is sent again and must not land twice), and 30 new ones.
    const updated = [
      { ...first[4], status: "refunded", updated_at: "2026-11-02T00:00:00.000Z" },
      { ...first[60], status: "disputed", updated_at: "2026-11-02T00:00:01.000Z" },
    ];
    const late = { ...payments(1, Date.parse(watermark), 900)[0] };
    const fresh = payments(30, Date.parse("2026-11-03T00:00:00Z"), 1000);
    h.api.records = [...first.filter((p) => p.id !== first[4].id && p.id !== first[60].id), ...updated, late, ...fresh];
    const r = await h.run();
    expect(r.outcome).to.equal("caught-up");
    expect(r.records).to.equal(2 + 1 + 30);
    expect(r.skipped).to.equal(1);
    expectExactlyOnce(h, [...first, ...updated, late, ...fresh]);
    // A run with nothing new lands nothing (the record at the watermark is skipped again).
    const quiet = await h.run();
    expect([quiet.records, quiet.objects.length]).to.deep.equal([0, 0]);
    expectExactlyOnce(h, [...first, ...updated, late, ...fresh]);
  });

  it("a page budget per run: the pass continues where the last run stopped", async () => {
    h = await new Harness("next-link").start({ maxPagesPerRun: 2 });
    h.api.records = payments(N);
    const outcomes = [];
    for (let i = 0; i < 3; i++) outcomes.push((await h.run()).outcome);
    expect(outcomes).to.deep.equal(["more-pages", "more-pages", "caught-up"]);
    expectExactlyOnce(h, h.api.records);
  });

  it("stops between pages at the run's deadline and the next run continues the pass", async () => {
    h = await new Harness("cursor").start({ requestsPerSecond: 2 });
    h.api.records = payments(N);
    const stopAt = h.clock.now() + 1100;
    // Request starts at +0, +500, +1000 ms (before the deadline), +1500 (the 4th page, started at +1000).
    const r = await h.run({ deadline: () => stopAt });
    expect([r.outcome, r.pages]).to.deep.equal(["more-pages", 4]);
    expect((await h.store.load("payments-br")).state.lease).to.equal(null);
    expect((await h.run()).outcome).to.equal("caught-up");
    expectExactlyOnce(h, h.api.records);
  });

  it("retry cap reached: a clear error, the cursor where it was, nothing landed for the page", async () => {
    h = await new Harness("cursor").start();
    h.api.records = payments(N);
    await h.run({ config: { maxPagesPerRun: 2 } });
    const before = (await h.store.load("payments-br")).state;
    h.api.failAlways = 503;
    const requestsBefore = h.api.requests.length;
    const err = await h.run().catch((e: unknown) => e);
    expect(err).to.be.instanceOf(RequestFailedError);
    expect((err as Error).message).to.match(
      /^GET http:\/\/127\.0\.0\.1:\d+\/v2\/payments failed after 6 attempts; last: HTTP 503/,
    );
    expect((err as RequestFailedError).attempts).to.equal(6);
    expect(h.api.requests.length - requestsBefore).to.equal(6);
    const after = (await h.store.load("payments-br")).state;
    expect({ ...after, lease: null }).to.deep.equal({ ...before, lease: null });
    expect(after.lease).to.equal(null);
    expect(h.objects()).to.have.length(2);
    // Backoff doubles per attempt up to the cap, jittered (random 0.5): 250, 500, 1000, 2000, 4000 ms.
    expect(h.clock.sleeps.slice(-5)).to.deep.equal([250, 500, 1000, 2000, 4000]);
    // Once the API recovers, the pass completes with every record once.
    h.api.failAlways = undefined;
    expect((await h.run()).outcome).to.equal("caught-up");
    expectExactlyOnce(h, h.api.records);
  });

  it("a 401 is not retried: one attempt and the reason", async () => {
    h = await new Harness("cursor").start();
    h.api.records = payments(3);
    h.api.failAlways = 401;
    const err = (await h.run().catch((e: unknown) => e)) as RequestFailedError;
    expect(err.attempts).to.equal(1);
    expect(err.message).to.contain("failed with HTTP 401");
    expect(err.message).to.contain("not retried");
  });

  it("a record without its id fails the run before anything of the page lands", async () => {
    h = await new Harness("cursor").start();
    h.api.records = payments(5);
    (h.api.records[2] as Partial<Payment>).id = undefined;
    const err = (await h.run().catch((e: unknown) => e)) as Error;
    expect(err.message).to.contain("record 2 of a page of payments-br has no id at '/id'");
    expect(h.objects()).to.deep.equal([]);
  });

  it("refuses a next link to another origin (the credential would follow it)", async () => {
    h = await new Harness("next-link").start({ pagination: { style: "next-link", nextLinkPointer: "/evil" } });
    h.api.records = payments(3);
    const evil = h.api as unknown as { page: (u: URL) => Record<string, unknown> };
    const page = evil.page.bind(h.api);
    evil.page = (u: URL) => ({ ...page(u), evil: "https://attacker.example/steal" });
    const err = (await h.run().catch((e: unknown) => e)) as Error;
    expect(err.message).to.contain("leaves the API's origin");
  });
});

describe("API puller HTTP rules", () => {
  it("reads Retry-After as seconds or an HTTP date (RFC 9110 §10.2.3)", () => {
    const now = Date.parse("2026-12-01T10:00:00Z");
    expect(retryAfterMs("120", now)).to.equal(120_000);
    expect(retryAfterMs("Tue, 01 Dec 2026 10:00:30 GMT", now)).to.equal(30_000);
    expect(retryAfterMs("Tue, 01 Dec 2026 09:00:00 GMT", now)).to.equal(0);
    expect(retryAfterMs("soon", now)).to.equal(undefined);
    expect(retryAfterMs(null, now)).to.equal(undefined);
  });

  it("caps the jittered backoff", () => {
    const policy = { maxAttempts: 9, baseDelayMs: 500, maxDelayMs: 4000, requestTimeoutMs: 1, requestsPerSecond: 1 };
    expect([0, 1, 2, 3, 4, 8].map((a) => backoffMs(policy, a, 0.999999))).to.deep.equal([
      499, 999, 1999, 3999, 3999, 3999,
    ]);
    expect(backoffMs(policy, 3, 0)).to.equal(0);
  });

  it("finds rel=next in a Link header (RFC 8288)", () => {
    expect(linkNext('<https://a/x?page=2>; rel="next", <https://a/x?page=9>; rel="last"')).to.equal(
      "https://a/x?page=2",
    );
    expect(linkNext('<https://a/x?page=1>; rel="prev"')).to.equal(undefined);
    expect(linkNext(null)).to.equal(undefined);
  });
});

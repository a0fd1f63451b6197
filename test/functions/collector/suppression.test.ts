/**
 * Issue 14, item 4: a subject erased and then re-sent by a tracker stays suppressed. The collector as
 * deployed (child process, the deployed `main()`) reads the suppression object through the real
 * `@google-cloud/storage` client from a loopback GCS (STORAGE_EMULATOR_HOST), written by the GCP
 * subject-rights worker's own writer (functions/subject-rights/suppression.ts); events go through the
 * real Pub/Sub client to the local Publisher. Suppressed events are answered 200 (the tracker must not
 * retry them) and never published, on both the event-loop thread (small bodies) and the transform worker
 * (bodies of 4 KB and more); everyone else's events pass.
 */
import { Analytics } from "@segment/analytics-node";
import { expect } from "chai";
import { createHmac } from "node:crypto";
import { ConfigError, loadConfig } from "../../../functions/collector/config";
import {
  type SuppressionFetch,
  SuppressionList,
  SuppressionLoader,
  formatSuppressionList,
} from "../../../functions/collector/suppression";
import { SUPPRESSION_OBJECT } from "../../../functions/subject-rights/registry";
import { SuppressionObject } from "../../../functions/subject-rights/suppression";
import { FakeGcs } from "../../subject-rights/fake-gcs";
import { type CollectorProcess, startCollectorProcess, TEST_HMAC_KEY_HEX } from "./helpers/collector-process";
import { FakePubSub } from "./helpers/fake-pubsub";
import { basic, request } from "./helpers/http";

const WRITE_KEY = "wk_web_0123456789abcdef";
const BUCKET = "lake-eu-suppression";
const GRANTED = { consent: { categoryPreferences: { analytics: true } } };

function hmac(value: string): string {
  return createHmac("sha256", Buffer.from(TEST_HMAC_KEY_HEX, "hex")).update(value).digest("hex");
}

async function until(cond: () => boolean, what: string, maxMs = 20_000): Promise<void> {
  for (let waited = 0; !cond(); waited += 25) {
    if (waited >= maxMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function track(ids: { userId?: string; anonymousId?: string }, event: string, padding = 0): Record<string, unknown> {
  return {
    type: "track",
    ...ids,
    event,
    messageId: `${event}-${ids.userId ?? ids.anonymousId}-${Math.random().toString(36).slice(2)}`,
    properties: padding > 0 ? { note: "x".repeat(padding) } : {},
    context: GRANTED,
  };
}

/** The pseudonymous subject ids of every published event. */
function publishedSubjects(fake: FakePubSub): string[] {
  return fake
    .events()
    .flatMap((e) => [e.userId, e.anonymousId, e.previousId].filter((v): v is string => typeof v === "string"));
}

describe("collector: suppression of erased subjects", function () {
  this.timeout(90_000);
  let gcs: FakeGcs;
  let gcsUrl: string;
  let pubsub: FakePubSub;
  let collector: CollectorProcess | undefined;

  const env = () => ({
    COLLECTOR_WRITE_KEYS: `${WRITE_KEY}=web`,
    PUBSUB_EMULATOR_HOST: pubsub.host,
    STORAGE_EMULATOR_HOST: gcsUrl,
    SUPPRESSION_OBJECT_URI: `gs://${BUCKET}/${SUPPRESSION_OBJECT}`,
    COLLECTOR_SUPPRESSION_REFRESH_SECONDS: "1",
    // No metadata server on loopback: google-auth-library's probe for one would only add a delay.
    METADATA_SERVER_DETECTION: "none",
  });
  const erase = (ids: string[]) =>
    new SuppressionObject(BUCKET, { apiEndpoint: gcsUrl, projectId: "test-project" }).add(ids.map(hmac));
  const send = (body: unknown, path = "/v1/track") =>
    request(`${collector!.url}${path}`, "POST", JSON.stringify(body), {
      authorization: basic(WRITE_KEY),
      "content-type": "application/json",
    });

  beforeEach(async () => {
    gcs = new FakeGcs();
    gcsUrl = await gcs.start();
    pubsub = new FakePubSub();
    await pubsub.start();
  });
  afterEach(async () => {
    await collector?.stop();
    collector = undefined;
    await pubsub.stop();
    await gcs.close();
  });

  it("a subject erased while the collector runs, then re-sent by trackers, stays suppressed; others pass", async () => {
    // No object yet (no erasure ever ran in the cell): the collector starts and suppresses nothing.
    collector = await startCollectorProcess(env());
    expect((await send(track({ userId: "alice" }, "Before Erasure"))).status).to.equal(200);
    expect((await send(track({ userId: "bob" }, "Before Erasure"))).status).to.equal(200);
    await until(() => pubsub.messages.length === 2, "two events published");
    expect(publishedSubjects(pubsub)).to.include(hmac("alice"));

    // The GCP worker's erasure of alice adds her pseudonyms (user id and anonymous id).
    expect((await erase(["alice", "alice-anon"])).added).to.equal(2);
    await until(() => /suppression list generation \d+: 2 pseudonyms/.test(collector!.stderr()), "the list reloaded");
    pubsub.messages.length = 0;

    // Re-sent by analytics-node (a server SDK's queue), by user id and by anonymous id only.
    const analytics = new Analytics({
      writeKey: WRITE_KEY,
      host: collector.url,
      maxEventsInBatch: 10,
      flushInterval: 50,
    });
    const failures: unknown[] = [];
    analytics.on("error", (e) => failures.push(e));
    analytics.track({ userId: "alice", event: "Resent", context: GRANTED });
    analytics.track({ anonymousId: "alice-anon", event: "Resent Anonymous", context: GRANTED });
    analytics.track({ userId: "bob", event: "Kept", context: GRANTED });
    analytics.identify({ userId: "alice", traits: { plan: "pro" }, context: GRANTED });
    await analytics.closeAndFlush();
    expect(failures).to.deep.equal([]);

    // A single event (event-loop thread) and a 4 KB+ batch (transform worker), both answered 200.
    const single = await send(track({ userId: "alice" }, "Single"));
    expect(single.status).to.equal(200);
    expect(single.json()).to.deep.equal({ success: true });
    const batch = [
      track({ userId: "alice" }, "Batched", 1500),
      track({ userId: "carol" }, "Batched", 1500),
      track({ anonymousId: "alice-anon" }, "Batched", 1500),
      track({ userId: "bob", anonymousId: "bob-anon" }, "Batched", 1500),
    ];
    expect(JSON.stringify({ batch }).length).to.be.greaterThan(4096);
    expect((await send({ batch }, "/v1/batch")).status).to.equal(200);

    await until(() => pubsub.messages.length >= 3, "the others' events");
    // Give a stray late publish of alice's events the chance to show up before asserting its absence.
    await new Promise((r) => setTimeout(r, 300));
    const subjects = publishedSubjects(pubsub);
    expect(subjects).to.not.include(hmac("alice"));
    expect(subjects).to.not.include(hmac("alice-anon"));
    expect(
      pubsub
        .events()
        .map((e) => `${e.event as string}:${e.userId as string}`)
        .sort(),
    ).to.deep.equal([`Batched:${hmac("bob")}`, `Batched:${hmac("carol")}`, `Kept:${hmac("bob")}`].sort());
    // Counted: alice's 3 from the SDK (two tracks, the identify), the single, 2 in the batch.
    await until(() => /suppressed events since start: 6/.test(collector!.stderr()), "the count logged");
  });

  it("a collector started after the erasure suppresses from its first request", async () => {
    await erase(["dave"]);
    collector = await startCollectorProcess(env());
    expect((await send(track({ userId: "dave" }, "Resent"))).status).to.equal(200);
    expect((await send(track({ userId: "erin" }, "Kept"))).status).to.equal(200);
    await until(() => pubsub.messages.length === 1, "erin's event");
    await new Promise((r) => setTimeout(r, 200));
    expect(publishedSubjects(pubsub)).to.deep.equal([hmac("erin")]);
  });

  it("does not start when the suppression object cannot be read (erased subjects would pass meanwhile)", async () => {
    gcs.put(BUCKET, SUPPRESSION_OBJECT, "not a pseudonym\n");
    let caught: unknown;
    await startCollectorProcess(env(), 20_000).catch((e: unknown) => (caught = e));
    expect(String(caught)).to.match(/collector exited with 1[\s\S]*line 1: not a pseudonym/);
  });
});

describe("collector: suppression list loading", () => {
  const quiet = { log: () => undefined };
  const found = (generation: string, ids: string[]): SuppressionFetch => ({
    kind: "found",
    generation,
    text: formatSuppressionList(ids.map(hmac)),
  });

  it("keeps the last good list when a refresh fails, and reads only a changed generation", async () => {
    const answers: (SuppressionFetch | Error)[] = [
      found("1", ["a"]),
      new Error("GCS unavailable"),
      { kind: "unchanged" },
      found("2", ["a", "b"]),
    ];
    const asked: (string | undefined)[] = [];
    const list = new SuppressionList();
    const loader = new SuppressionLoader(
      list,
      async (known) => {
        asked.push(known);
        const a = answers.shift()!;
        if (a instanceof Error) throw a;
        return a;
      },
      quiet,
    );
    await loader.refresh();
    expect(list.has(hmac("a"))).to.equal(true);
    await loader.refresh().catch(() => undefined);
    expect(list.has(hmac("a"))).to.equal(true);
    await loader.refresh();
    await loader.refresh();
    expect([list.has(hmac("a")), list.has(hmac("b")), list.size]).to.deep.equal([true, true, 2]);
    expect(asked).to.deep.equal([undefined, "1", "1", "1"]);
  });

  it("an object deleted by hand un-suppresses, with a warning", async () => {
    const logged: string[] = [];
    const answers: SuppressionFetch[] = [found("1", ["a"]), { kind: "missing" }];
    const list = new SuppressionList();
    const loader = new SuppressionLoader(list, async () => answers.shift()!, {
      log: (s, m) => logged.push(`${s} ${m}`),
    });
    await loader.refresh();
    await loader.refresh();
    expect(list.size).to.equal(0);
    expect(logged).to.include("WARNING suppression object is gone: no subject is suppressed");
  });

  it("config: SUPPRESSION_OBJECT_URI is optional and must be gs://bucket/object", () => {
    const base = {
      GOOGLE_CLOUD_PROJECT: "p",
      COLLECTOR_TOPIC: "t",
      COLLECTOR_WRITE_KEYS: "k",
      COLLECTOR_HMAC_KEY: TEST_HMAC_KEY_HEX,
    };
    expect(loadConfig(base).suppression).to.equal(undefined);
    expect(
      loadConfig({ ...base, SUPPRESSION_OBJECT_URI: `gs://${BUCKET}/${SUPPRESSION_OBJECT}` }).suppression,
    ).to.deep.equal({
      bucket: BUCKET,
      object: SUPPRESSION_OBJECT,
    });
    expect(loadConfig(base).suppressionRefreshMs).to.equal(60_000);
    expect(() => loadConfig({ ...base, SUPPRESSION_OBJECT_URI: "s3://x/y" })).to.throw(
      ConfigError,
      /SUPPRESSION_OBJECT_URI/,
    );
  });
});

/**
 * `npm run hostile:collector`: the hostile-input suite (issue 11). Starts the collector as deployed (its
 * `main()` in a child process, deployed defaults, publishing through the real @google-cloud/pubsub client
 * to the local gRPC Publisher), drives it with one probe after another on loopback, samples the
 * collector process's RSS (/proc/<pid>/status VmRSS, every 20 ms; the transform worker is a thread of the
 * same process) and reports per probe: peak RSS, status codes, 5xx, messages acknowledged (answered 200)
 * against published, and whether any raw identifier sent reached Pub/Sub.
 *
 * Pass criteria (issue 11, "Done when"): peak RSS under 400 MB in every probe; no 5xx except in the
 * probe where Pub/Sub stalls; every event answered 200 published; no raw identifier published.
 * Every probe is bounded in requests and time; the whole suite takes about two minutes. Exits 1 if a
 * criterion fails.
 */
import { createHmac } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import { gzipSync } from "node:zlib";
import { startCollectorProcess, TEST_HMAC_KEY_HEX } from "../../test/functions/collector/helpers/collector-process";
import { FakePubSub } from "../../test/functions/collector/helpers/fake-pubsub";

const WRITE_KEY = "wk_hostile_0123456789abcdef";
const AUTH = `Basic ${Buffer.from(`${WRITE_KEY}:`).toString("base64")}`;
const GRANTED = { consent: { categoryPreferences: { Analytics: true } } };
const RSS_LIMIT_MB = 400;
/** Cloud Run's maxInstanceRequestConcurrency for the collector (collector-service.ts). */
const OPEN_REQUESTS = 250;
/** Substrings of every raw identifier the probes send (ids, e-mail domain, tokens): none may be published. */
const LEAK_MARKERS = ["raw-user-", "raw-anon-", "raw-device-", "leak-check.example", "-raw-"];

interface ProbeResult {
  name: string;
  seconds: number;
  peakRssMb: number;
  statuses: Map<string, number>;
  fiveXx: number;
  /** Events answered 200 (consent granted, so each must be published). */
  acknowledged: number;
  /** Of those, how many reached the fake Pub/Sub. */
  published: number;
  leaked: string[];
  /** 5xx expected (Pub/Sub made to fail). */
  pubsubFails: boolean;
  notes: string[];
}

interface Sent {
  status: number | "error";
  /** messageIds of the consented events in the request (expected published when status is 200). */
  ids: readonly string[];
}

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

function hmac(value: string): string {
  return createHmac("sha256", Buffer.from(TEST_HMAC_KEY_HEX, "hex")).update(value).digest("hex");
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const fake = new FakePubSub();
  await fake.start();
  const collector = await startCollectorProcess({
    COLLECTOR_WRITE_KEYS: `${WRITE_KEY}=web`,
    METADATA_SERVER_DETECTION: "none",
    PUBSUB_EMULATOR_HOST: fake.host,
  });
  const pid = collector.child.pid!;
  const port = collector.port;
  let peak = 0;
  const sampler = setInterval(() => {
    const r = rssMb(pid);
    if (r > peak) peak = r;
  }, 20);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 600 });
  const results: ProbeResult[] = [];
  const startRss = rssMb(pid);

  /** One POST; never throws (a connection error is the status "error"). */
  function post(
    path: string,
    body: string | Buffer,
    ids: readonly string[],
    headers: Record<string, string> = {},
    keepAlive = true,
  ): Promise<Sent> {
    return new Promise<Sent>((resolve) => {
      const req = http.request(
        {
          host: "127.0.0.1",
          port,
          path,
          method: "POST",
          agent: keepAlive ? agent : false,
          headers: { authorization: AUTH, ...headers },
        },
        (res) => {
          res.resume();
          res.on("end", () => resolve({ status: res.statusCode ?? 0, ids }));
          res.on("error", () => resolve({ status: "error", ids }));
        },
      );
      req.on("error", () => resolve({ status: "error", ids }));
      req.setTimeout(60_000, () => req.destroy());
      req.end(body);
    });
  }

  async function probe(
    name: string,
    rawValues: readonly string[],
    run: (note: (s: string) => void) => Promise<Sent[]>,
    pubsubFails = false,
  ): Promise<void> {
    fake.setMode("ok");
    fake.messages.length = 0;
    // Settle between probes, so one probe's garbage is not the next one's peak.
    await sleep(300);
    peak = rssMb(pid);
    const notes: string[] = [];
    const t0 = performance.now();
    const sent = await run((s) => notes.push(s));
    const seconds = (performance.now() - t0) / 1000;
    const statuses = new Map<string, number>();
    let fiveXx = 0;
    for (const s of sent) {
      statuses.set(String(s.status), (statuses.get(String(s.status)) ?? 0) + 1);
      if (typeof s.status === "number" && s.status >= 500) fiveXx++;
    }
    // The acknowledgement leaves the collector after Pub/Sub recorded the messages: all are in by now.
    const publishedIds = new Set(fake.messages.map((m) => m.attributes.messageId));
    let acknowledged = 0;
    let published = 0;
    for (const s of sent) {
      if (s.status !== 200) continue;
      for (const id of s.ids) {
        acknowledged++;
        if (publishedIds.has(id)) published++;
      }
    }
    // Every raw value this suite sends contains one of LEAK_MARKERS: one scan per marker, not per value.
    const data = fake.messages
      .map((m) => m.data.toString("utf8"))
      .join("\n")
      .toLowerCase();
    const leaked = [...LEAK_MARKERS, ...rawValues]
      .filter((v) => data.includes(v.toLowerCase()))
      .map((v) => {
        const at = data.indexOf(v.toLowerCase());
        return data.slice(Math.max(0, at - 20), at + v.length + 20);
      });
    results.push({
      name,
      seconds,
      peakRssMb: peak,
      statuses,
      fiveXx,
      acknowledged,
      published,
      leaked,
      pubsubFails,
      notes,
    });
    process.stderr.write(`${name}: done in ${seconds.toFixed(1)} s, peak RSS ${peak.toFixed(0)} MB\n`);
  }

  /** Runs `n` tasks with at most `concurrency` at a time. */
  async function pool<T>(n: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
    const out: T[] = new Array<T>(n);
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(n, concurrency) }, async () => {
        while (next < n) {
          const i = next++;
          out[i] = await task(i);
        }
      }),
    );
    return out;
  }

  /** A raw socket exchange; resolves with what came back and how long the server kept the socket. */
  function raw(text: string | Buffer, maxMs: number): Promise<{ reply: string; ms: number }> {
    return new Promise((resolve) => {
      const t0 = performance.now();
      const s = net.connect(port, "127.0.0.1");
      let reply = "";
      const timer = setTimeout(() => s.destroy(), maxMs);
      s.on("data", (d: Buffer) => (reply += d.toString("latin1")));
      s.on("error", () => undefined);
      s.on("close", () => {
        clearTimeout(timer);
        resolve({ reply, ms: performance.now() - t0 });
      });
      s.write(text);
    });
  }
  const statusOf = (reply: string): number | "error" => {
    const m = /^HTTP\/1\.1 (\d{3})/.exec(reply);
    return m ? Number(m[1]) : "error";
  };

  // A normal event carrying raw identifiers that must never be published.
  const ident = (tag: string, i: number) => ({
    userId: `raw-user-${tag}-${i}`,
    anonymousId: `raw-anon-${tag}-${i}`,
    email: `raw.${tag}.${i}@leak-check.example`,
  });
  const track = (tag: string, i: number, extra: Record<string, unknown> = {}) => {
    const id = ident(tag, i);
    return {
      type: "track",
      event: "Product Viewed",
      userId: id.userId,
      anonymousId: id.anonymousId,
      messageId: `${tag}-${i}`,
      properties: { sku: "G-32", email: id.email },
      context: { ...GRANTED, ip: "203.0.113.77", traits: { email: id.email } },
      ...extra,
    };
  };

  // --- probes ---------------------------------------------------------------------------------------
  await probe("baseline: 2,000 analytics.js-shaped events, 50 connections", [], () =>
    pool(2000, 50, (i) => post("/v1/track", JSON.stringify(track("base", i)), [`base-${i}`])),
  );

  await probe("1. batch context 400 KB × 1,000 tiny events (20 requests)", [], () =>
    pool(20, 4, () =>
      post(
        "/v1/batch",
        JSON.stringify({
          batch: Array.from({ length: 1000 }, (_, i) => ({ type: "track", event: "E", userId: `raw-user-amp-${i}` })),
          context: { ...GRANTED, blob: "x".repeat(400 * 1024) },
        }),
        [],
      ),
    ),
  );

  await probe("1b. batch context 7.9 KB × 600 tiny events (100 requests)", [], () =>
    pool(100, 8, () =>
      post(
        "/v1/batch",
        JSON.stringify({
          batch: Array.from({ length: 600 }, (_, i) => ({ type: "track", event: "E", userId: `raw-user-amp2-${i}` })),
          context: { ...GRANTED, note: "n".repeat(7900) },
        }),
        [],
      ),
    ),
  );

  await probe("1c. batch context 7.9 KB × 100 events, accepted (50 requests)", [], () =>
    pool(50, 8, (r) => {
      const ids = Array.from({ length: 100 }, (_, i) => `amp3-${r * 100 + i}`);
      return post(
        "/v1/batch",
        JSON.stringify({
          batch: ids.map((id, i) => ({
            type: "track",
            event: "E",
            userId: `raw-user-amp3-${r * 100 + i}`,
            messageId: id,
          })),
          context: { ...GRANTED, note: "n".repeat(7900) },
        }),
        ids,
      );
    }),
  );

  let pure = false;
  await probe("2. three events sharing a batch context's device.id and traits.email", [], async (note) => {
    const sent = await post(
      "/v1/batch",
      JSON.stringify({
        batch: [0, 1, 2].map((i) => ({
          type: "track",
          event: "E",
          anonymousId: `raw-anon-shared-${i}`,
          messageId: `shared-${i}`,
        })),
        context: {
          ...GRANTED,
          device: { id: "raw-device-shared" },
          traits: { email: "raw.shared@leak-check.example" },
        },
      }),
      ["shared-0", "shared-1", "shared-2"],
    );
    const events = fake.events() as { context: { device: { id: string }; traits: { email: string } } }[];
    pure =
      events.length === 3 &&
      events.every(
        (e) =>
          e.context.device.id === hmac("raw-device-shared") &&
          e.context.traits.email === hmac("raw.shared@leak-check.example"),
      );
    note(`all three carry the single HMAC of the raw values: ${pure ? "yes" : "NO"}`);
    return [sent];
  });

  await probe("3. 200,000 nested arrays in the batch context (10 requests)", [], () => {
    const body = `{"batch":[{"type":"track","event":"E","userId":"u"}],"context":{"x":${"[".repeat(200_000)}${"]".repeat(200_000)}}}`;
    return pool(10, 2, () => post("/v1/batch", body, []));
  });

  await probe("4. unique 30,000-character anonymousIds, 15 per batch, for 10 s", [], async () => {
    const sent: Sent[] = [];
    const end = performance.now() + 10_000;
    let n = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (performance.now() < end) {
          const k = n++;
          const batch = Array.from({ length: 15 }, (_, i) => ({
            type: "track",
            event: "E",
            anonymousId: `${String(k * 15 + i).padStart(10, "0")}${"a".repeat(29_990)}`,
            messageId: `long-${k}-${i}`,
            context: GRANTED,
          }));
          sent.push(
            await post(
              "/v1/batch",
              JSON.stringify({ batch }),
              batch.map((e) => e.messageId),
            ),
          );
        }
      }),
    );
    return sent;
  });

  /** Pub/Sub stalled for `stallMs` while `open` requests of 31 KB events are kept open, then recovery. */
  const stalled = (name: string, open: number, stallMs: number) =>
    probe(
      name,
      [],
      async (note) => {
        fake.setMode("stall");
        const sent: Sent[] = [];
        const pending: Promise<void>[] = [];
        let outstanding = 0;
        const stallEnd = performance.now() + stallMs;
        const blob = "b".repeat(31 * 1024 - 400);
        // Open loop: a new request as soon as one is answered, `open` of them at all times, as many
        // browsers and servers would send them. The issue's 128 senders reached 1.2 GB before the
        // bound counted bytes.
        for (let k = 0; performance.now() < stallEnd; k++) {
          while (outstanding >= open && performance.now() < stallEnd) await sleep(2);
          if (performance.now() >= stallEnd) break;
          outstanding++;
          const ev = { ...track("stall", k), properties: { blob } };
          pending.push(
            post("/v1/track", JSON.stringify(ev), [`stall-${k}`], {}, false).then((r) => {
              outstanding--;
              sent.push(r);
            }),
          );
        }
        note(
          `${pending.length} requests; RSS at the end of the stall ${rssMb(pid).toFixed(0)} MB; Publish calls held ${fake.heldCalls}`,
        );
        fake.setMode("ok");
        await Promise.all(pending);
        return sent;
      },
      true,
    );
  await probe("6. body declared 500 bytes longer than sent (20 connections)", [], async (note) => {
    const body = JSON.stringify(track("stalled", 0));
    const text = `POST /v1/track HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH}\r\nContent-Length: ${body.length + 500}\r\n\r\n${body}`;
    const replies = await Promise.all(Array.from({ length: 20 }, () => raw(text, 30_000)));
    note(
      `connection released after ${Math.min(...replies.map((r) => r.ms / 1000)).toFixed(1)}-${Math.max(...replies.map((r) => r.ms / 1000)).toFixed(1)} s`,
    );
    return replies.map((r) => ({ status: statusOf(r.reply), ids: [] }));
  });

  await probe("slowloris: 300 connections, one header byte every 500 ms", [], async (note) => {
    const replies = await Promise.all(
      Array.from(
        { length: 300 },
        () =>
          new Promise<{ reply: string; ms: number }>((resolve) => {
            const t0 = performance.now();
            const s = net.connect(port, "127.0.0.1");
            let reply = "";
            const header = "POST /v1/track HTTP/1.1\r\nHost: x\r\nX-Slow: " + "a".repeat(200);
            let i = 0;
            const tick = setInterval(() => (i < header.length ? s.write(header[i++]) : undefined), 500);
            const stop = setTimeout(() => s.destroy(), 30_000);
            s.on("data", (d: Buffer) => (reply += d.toString("latin1")));
            s.on("error", () => undefined);
            s.on("close", () => {
              clearInterval(tick);
              clearTimeout(stop);
              resolve({ reply, ms: performance.now() - t0 });
            });
          }),
      ),
    );
    note(
      `connections released after ${Math.min(...replies.map((r) => r.ms / 1000)).toFixed(1)}-${Math.max(...replies.map((r) => r.ms / 1000)).toFixed(1)} s`,
    );
    return replies.map((r) => ({ status: statusOf(r.reply), ids: [] }));
  });

  await probe("gzip bomb: 200 MB of zeros in ~200 KB of gzip (20 requests)", [], () => {
    const bomb = gzipSync(Buffer.alloc(200 * 1024 * 1024), { level: 9 });
    return pool(20, 4, () => post("/v1/batch", bomb, [], { "content-encoding": "gzip" }));
  });

  await probe("pipelining: 1,000 requests in one write on one connection", [], async (note) => {
    const reqs = Array.from({ length: 1000 }, (_, i) => {
      const body = JSON.stringify(track("pipe", i));
      return `POST /v1/track HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    });
    const { reply } = await new Promise<{ reply: string; ms: number }>((resolve) => {
      const s = net.connect(port, "127.0.0.1");
      let got = "";
      const t0 = performance.now();
      const stop = setTimeout(() => s.destroy(), 30_000);
      s.on("data", (d: Buffer) => {
        got += d.toString("latin1");
        if (got.split("HTTP/1.1 ").length - 1 >= 1000) s.end();
      });
      s.on("error", () => undefined);
      s.on("close", () => {
        clearTimeout(stop);
        resolve({ reply: got, ms: performance.now() - t0 });
      });
      s.write(reqs.join(""));
    });
    const statuses = [...reply.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
    note(`${statuses.length} responses, in order`);
    return statuses.map((status, i) => ({ status, ids: [`pipe-${i}`] }));
  });

  await probe("smuggling-shaped: Content-Length with Transfer-Encoding, two Content-Lengths", [], async () => {
    const body = JSON.stringify(track("smug", 0));
    const a = await raw(
      `POST /v1/track HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH}\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
      5000,
    );
    const b = await raw(
      `POST /v1/track HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH}\r\nContent-Length: ${body.length}\r\nContent-Length: 5\r\n\r\n${body}`,
      5000,
    );
    return [a, b].map((r) => ({ status: statusOf(r.reply), ids: [] }));
  });

  await probe("500 concurrent connections, one event each", [], () =>
    Promise.all(
      Array.from({ length: 500 }, (_, i) =>
        request500(port, JSON.stringify(track("conc", i))).then((status) => ({ status, ids: [`conc-${i}`] })),
      ),
    ),
  );

  await probe("messageId of 2 KB (over Pub/Sub's 1 KB attribute limit)", [], async () => [
    await post("/v1/track", JSON.stringify({ ...track("mid", 0), messageId: "m".repeat(2048) }), []),
  ]);

  // Item 7's placements (the privacy rules; fixed in privacy.ts/event.ts): each raw value must not reach Pub/Sub.
  // The first value of each is what must not be published (all but the phone contain a LEAK_MARKERS entry).
  const placements: [string, Record<string, unknown>][] = [
    [
      "nested-prop@leak-check.example",
      { properties: { products: [{ sku: "a", email: "nested-prop@leak-check.example" }] } },
    ],
    ["variant-key@leak-check.example", { properties: { user_email: "variant-key@leak-check.example" } }],
    ["camel-key@leak-check.example", { traits: { emailAddress: "camel-key@leak-check.example" } }],
    ["top-level@leak-check.example", { contactEmail: "top-level@leak-check.example" }],
    [
      "query-url@leak-check.example",
      { context: { ...GRANTED, page: { url: "https://shop.example/?email=query-url@leak-check.example" } } },
    ],
    ["external-id-raw-7781", { context: { ...GRANTED, externalIds: [{ id: "external-id-raw-7781", type: "crm" }] } }],
    ["push-token-raw-99213", { context: { ...GRANTED, device: { token: "push-token-raw-99213" } } }],
    ["free-text@leak-check.example", { properties: { comment: "write to free-text@leak-check.example" } }],
    ["+5511987654321", { properties: { contact: "+55 11 98765-4321" } }],
  ];
  await probe("privacy placements (item 7): e-mails, tokens and ids in 9 placements", ["98765-4321"], () =>
    Promise.all(
      placements.map(([, extra], i) => {
        const ev = { ...track("place", i), ...extra };
        return post("/v1/track", JSON.stringify(ev), [`place-${i}`]);
      }),
    ),
  );

  // Last: after a stall the heap stays grown (V8 keeps what it took), which would count in later probes.
  // The deployed container concurrency (collector-service.ts: 250; Cloud Run's front end queues the rest).
  await stalled(
    "5. Pub/Sub stalled 12 s: 31 KB events, 250 requests open (the deployed concurrency)",
    OPEN_REQUESTS,
    12_000,
  );
  // Four times that, so the 32 MiB bound is reached within the probe (at 250, after ~40 s of stall).
  await stalled(
    "5b. Pub/Sub stalled 25 s: 31 KB events, 1,000 requests open (4 × the deployed concurrency)",
    4 * OPEN_REQUESTS,
    25_000,
  );

  clearInterval(sampler);
  agent.destroy();
  await collector.stop();
  await fake.stop();

  // --- report ----------------------------------------------------------------------------------------
  let failed = false;
  const lines = [
    `Collector RSS at start: ${startRss.toFixed(0)} MB (Node ${process.version}).`,
    "",
    "| probe | s | peak RSS MB | statuses | 5xx | acknowledged / published | raw identifier published |",
    "|---|---:|---:|---|---:|---|---|",
  ];
  for (const r of results) {
    const problems: string[] = [];
    if (!(r.peakRssMb < RSS_LIMIT_MB)) problems.push(`peak RSS ${r.peakRssMb.toFixed(0)} MB`);
    if (r.fiveXx > 0 && !r.pubsubFails) problems.push(`${r.fiveXx} 5xx`);
    if (r.published !== r.acknowledged) problems.push(`${r.acknowledged - r.published} acknowledged events lost`);
    if (r.leaked.length > 0) problems.push(`leaked ${r.leaked.length}`);
    if (r.name.startsWith("2.") && !pure) problems.push("shared context hashed more than once");
    if (problems.length > 0) failed = true;
    const statuses = [...r.statuses]
      .sort()
      .map(([s, n]) => `${s}×${n}`)
      .join(", ");
    lines.push(
      `| ${r.name}${r.notes.length > 0 ? ` (${r.notes.join("; ")})` : ""} | ${r.seconds.toFixed(1)} | ${r.peakRssMb.toFixed(0)} | ${statuses} | ${r.fiveXx} | ${r.acknowledged} / ${r.published} | ${r.leaked.length === 0 ? "none" : r.leaked.slice(0, 3).join(", ")} |`,
    );
    if (problems.length > 0) lines.push(`|   ↳ FAIL: ${problems.join("; ")} | | | | | | |`);
  }
  lines.push("", failed ? "Result: FAIL" : "Result: every probe passed");
  process.stdout.write(`${lines.join("\n")}\n`);
  process.exit(failed ? 1 : 0);
}

/** One request on its own connection (so 500 are open at once), answered status or "error". */
function request500(port: number, body: string): Promise<number | "error"> {
  return new Promise((resolve) => {
    const req = http.request(
      { host: "127.0.0.1", port, path: "/v1/track", method: "POST", agent: false, headers: { authorization: AUTH } },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", () => resolve("error"));
    req.end(body);
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});

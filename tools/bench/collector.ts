/**
 * `npm run bench:collector`: autocannon on loopback against
 *   - the collector as deployed (its `main()` in a child process, publishing through the real
 *     @google-cloud/pubsub client to a local gRPC Publisher), and
 *   - a bare node:http server answering 200 (child process),
 * for single-event requests and 20-event batches. Prints events/s, requests/s, p99 and the ratio to
 * the bare server, and whether the targets are met. Exits 0 either way: a miss is printed, not thrown.
 *
 * Targets (2-core machine): single events ≥ 0.35 × the bare server's request rate; batches ≥ 60,000
 * events/s per collector process.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import autocannon from "autocannon";
import { collectorInstances } from "../../functions/collector/index";
import { PROJECT_ROOT } from "../../components/project-root";
import { startCollectorProcess } from "../../test/functions/collector/helpers/collector-process";
import { TSX_NODE_ARGS } from "../tsx-loader";
import { FakePubSub } from "../../test/functions/collector/helpers/fake-pubsub";
import { BATCH_SIZE, benchBatchBody, benchSingleBody, WRITE_KEY } from "./lib/bodies";

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const WARMUP_S = 3;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 100);
const TARGET_SINGLE_RATIO = 0.35;
/** Foreign-CPU differences below this (cores, summed over a pair's two runs) count as equally quiet. */
const FOREIGN_TIE_CORES = 0.1;
const TARGET_BATCH_EPS = 60_000;

interface Row {
  readonly name: string;
  /** Events per CPU-second of the server process (the machine is shared: this is the contention-free figure). */
  readonly eventsPerCpuSecond: number;
  readonly reqPerSec: number;
  readonly eventsPerSec: number;
  readonly p99: number;
  readonly errors: number;
  /**
   * CPU-seconds per second that processes other than the server and this benchmark used during the run
   * (machine busy time from /proc/stat minus both): the other engineers' load, measured rather than guessed.
   */
  readonly foreignCores: number;
}

/** Busy (non-idle, non-iowait) CPU-seconds of the whole machine so far, from /proc/stat. */
function machineBusySeconds(): number {
  try {
    const cpu = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = cpu;
    return (user + nice + system + irq + softirq + (steal ?? 0)) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}

function ownCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** User+system CPU seconds of a process so far, from /proc (Linux). */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}
const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ, 100 on every mainstream Linux ABI

async function run(
  url: string,
  body: string,
  eventsPerRequest: number,
  name: string,
  duration: number,
  pid: number | undefined,
): Promise<Row> {
  const cpu0 = cpuSeconds(pid);
  const busy0 = machineBusySeconds();
  const own0 = ownCpuSeconds();
  const result = await autocannon({
    url,
    method: "POST",
    connections: CONNECTIONS,
    duration,
    headers: {
      "content-type": "application/json",
      authorization: `Basic ${Buffer.from(`${WRITE_KEY}:`).toString("base64")}`,
    },
    body,
  });
  const ok = result["2xx"];
  const cpu = cpuSeconds(pid) - cpu0;
  const foreign = machineBusySeconds() - busy0 - cpu - (ownCpuSeconds() - own0);
  return {
    name,
    eventsPerCpuSecond: (ok * eventsPerRequest) / cpu,
    reqPerSec: ok / duration,
    eventsPerSec: (ok * eventsPerRequest) / duration,
    p99: result.latency.p99,
    errors: result.non2xx + result.errors + result.timeouts,
    foreignCores: Math.max(0, foreign / duration),
  };
}

function startBare(): Promise<{ port: number; pid: number | undefined; stop: () => void }> {
  const child = spawn(process.execPath, [...TSX_NODE_ARGS, path.join("tools", "bench", "lib", "bare-server.ts")], {
    cwd: PROJECT_ROOT,
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("bare server did not start")), 30_000);
    child.stdout.on("data", (d: Buffer) => {
      const m = /"port":(\d+)/.exec(d.toString());
      if (m) {
        clearTimeout(timer);
        resolve({ port: Number(m[1]), pid: child.pid, stop: () => child.kill("SIGTERM") });
      }
    });
  });
}

async function main(): Promise<void> {
  const fake = new FakePubSub(false);
  await fake.start();
  const collector = await startCollectorProcess({
    PUBSUB_EMULATOR_HOST: fake.host,
    METADATA_SERVER_DETECTION: "none",
    COLLECTOR_WRITE_KEYS: `${WRITE_KEY}=bench`,
    COLLECTOR_MAX_IN_FLIGHT_EVENTS: "200000",
  });
  const bare = await startBare();
  const single = benchSingleBody();
  const batch = benchBatchBody();
  const bareUrl = `http://127.0.0.1:${bare.port}`;
  // The machine may be shared: the scenarios run ROUNDS times, interleaved (bare, collector, bare,
  // collector...). Each collector scenario is compared with the bare run just before it, and the pair
  // from the quietest round is reported, so the ratio is never taken across rounds. "Quietest" is measured:
  // the CPU other processes (other engineers' builds and tests) used during the pair's two runs, from
  // /proc/stat; it used to be inferred from the highest bare rate, which picked rounds where the load
  // arrived only during the collector's run.
  const scenarios = [
    ["bare node:http, single", `${bareUrl}/v1/track`, single, 1, bare.pid],
    ["collector, single event", `${collector.url}/v1/track`, single, 1, collector.child.pid],
    ["bare node:http, 20-event batch", `${bareUrl}/v1/batch`, batch, BATCH_SIZE, bare.pid],
    ["collector, 20-event batch", `${collector.url}/v1/batch`, batch, BATCH_SIZE, collector.child.pid],
  ] as const;
  const rows: Row[] = [];
  const loadBefore = os.loadavg()[0];
  try {
    for (const [name, url, body, n, pid] of scenarios) await run(url, body, n, name, WARMUP_S, pid); // JIT warm-up
    for (let round = 0; round < ROUNDS; round++) {
      const results: Row[] = [];
      for (const [name, url, body, n, pid] of scenarios) {
        const row = await run(url, body, n, name, DURATION_S, pid);
        results.push(row);
        process.stderr.write(
          `  round ${round + 1}: ${name}: ${Math.round(row.eventsPerSec)} events/s, other processes ${row.foreignCores.toFixed(2)} cores\n`,
        );
      }
      for (const pair of [0, 2]) {
        // The quietest pair: least CPU used by other processes during its two runs (measured, /proc/stat);
        // differences under FOREIGN_TIE_CORES are noise, and then the former rule decides (highest bare rate).
        const quiet = (r: readonly Row[], i: number) => r[i].foreignCores + r[i + 1].foreignCores;
        const diff = rows[pair] === undefined ? -Infinity : quiet(results, pair) - quiet(rows, pair);
        if (
          diff <= -FOREIGN_TIE_CORES ||
          (Math.abs(diff) < FOREIGN_TIE_CORES && results[pair].reqPerSec > rows[pair].reqPerSec)
        ) {
          rows[pair] = results[pair];
          rows[pair + 1] = results[pair + 1];
        }
      }
    }
  } finally {
    bare.stop();
    await collector.stop();
    await fake.stop();
  }
  const [bareSingle, colSingle, bareBatch, colBatch] = rows;
  const singleRatio = colSingle.reqPerSec / bareSingle.reqPerSec;
  const batchRatio = colBatch.reqPerSec / bareBatch.reqPerSec;
  const fmt = (n: number, d = 0) => n.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
  const lines = [
    `collector benchmark ${new Date().toISOString()} | ${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"} | Node ${process.version}`,
    `autocannon: ${CONNECTIONS} connections, ${DURATION_S} s per scenario, ${ROUNDS} interleaved rounds, each pair (bare, collector) from the round where other processes used the least CPU, after ${WARMUP_S} s warm-up, loopback; 1-min load average before: ${loadBefore.toFixed(2)}`,
    "",
    "| scenario | events/s | requests/s | p99 ms | ratio to bare (req/s) | events per server CPU-second | non-2xx+errors | other processes (cores) |",
    "|---|---:|---:|---:|---:|---:|---:|---:|",
    ...rows.map(
      (r, i) =>
        `| ${r.name} | ${fmt(r.eventsPerSec)} | ${fmt(r.reqPerSec)} | ${fmt(r.p99)} | ${i % 2 === 1 ? fmt(i === 1 ? singleRatio : batchRatio, 2) : "1.00"} | ${fmt(r.eventsPerCpuSecond)} | ${r.errors} | ${fmt(r.foreignCores, 2)} |`,
    ),
    "",
    `target single events ≥ ${TARGET_SINGLE_RATIO} × bare: ${fmt(singleRatio, 2)} → ${singleRatio >= TARGET_SINGLE_RATIO ? "MET" : "MISSED"}`,
    `target batches ≥ ${fmt(TARGET_BATCH_EPS)} events/s: ${fmt(colBatch.eventsPerSec)} → ${colBatch.eventsPerSec >= TARGET_BATCH_EPS ? "MET" : "MISSED"}`,
    `Pub/Sub endpoint acknowledged ${fmt(fake.acknowledged)} messages in ${fake.publishCalls} Publish calls`,
    "",
    "sizing example (collectorInstances with this run's single-event figure, 1.5 headroom):",
    ...[
      [100_000_000, 3],
      [1_000_000_000, 3],
    ].map(([perDay, peak]) => {
      const s = collectorInstances({
        eventsPerDay: perDay,
        peakFactor: peak,
        measuredEventsPerSecondPerInstance: colSingle.eventsPerSec,
      });
      return `  ${fmt(perDay)} events/day, peak ×${peak}: min ${s.min}, max ${s.max}`;
    }),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`benchmark failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);

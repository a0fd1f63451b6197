/**
 * `tsx tools/bench/profile-collector.ts [single|batch] [seconds]`: runs the collector (as deployed, child
 * process) under the benchmark's load with `node --cpu-prof`, then prints the self time by function and by
 * package. The .cpuprofile lands in $PROFILE_DIR (default /tmp/collector-prof) for Chrome DevTools.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import autocannon from "autocannon";
import { startCollectorProcess } from "../../test/functions/collector/helpers/collector-process";
import { FakePubSub } from "../../test/functions/collector/helpers/fake-pubsub";
import { benchBatchBody, benchSingleBody, WRITE_KEY } from "./lib/bodies";

interface ProfileNode {
  id: number;
  children?: number[];
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
}

async function main(): Promise<void> {
  const shape = process.argv[2] === "single" ? "single" : "batch";
  const seconds = Number(process.argv[3] ?? 10);
  const dir = process.env.PROFILE_DIR ?? "/tmp/collector-prof";
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const fake = new FakePubSub(false);
  await fake.start();
  const collector = await startCollectorProcess(
    {
      PUBSUB_EMULATOR_HOST: fake.host,
      METADATA_SERVER_DETECTION: "none",
      COLLECTOR_WRITE_KEYS: `${WRITE_KEY}=bench`,
      COLLECTOR_MAX_IN_FLIGHT_EVENTS: "200000",
    },
    30_000,
    ["--cpu-prof", `--cpu-prof-dir=${dir}`],
  );
  const url = `${collector.url}/v1/${shape === "single" ? "track" : "batch"}`;
  const body = shape === "single" ? benchSingleBody() : benchBatchBody();
  const headers = {
    "content-type": "application/json",
    authorization: `Basic ${Buffer.from(`${WRITE_KEY}:`).toString("base64")}`,
  };
  await autocannon({ url, method: "POST", connections: 100, duration: 3, headers, body });
  const r = await autocannon({ url, method: "POST", connections: 100, duration: seconds, headers, body });
  process.stdout.write(
    `${shape}: ${Math.round((r["2xx"] * (shape === "single" ? 1 : 20)) / seconds)} events/s (profiling overhead included)\n`,
  );
  await collector.stop();
  await fake.stop();
  // One profile per thread (event loop, transform worker, tsx's loader thread), busiest first.
  const files = fs.readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"));
  if (files.length === 0) throw new Error("no profile written");
  files.sort((x, y) => fs.statSync(path.join(dir, y)).size - fs.statSync(path.join(dir, x)).size);
  for (const file of files.slice(0, 2)) report(path.join(dir, file));
}

function report(file: string): void {
  process.stdout.write(`\n=== ${path.basename(file)}\n`);
  const profile = JSON.parse(fs.readFileSync(file, "utf8")) as { nodes: ProfileNode[] };
  const total = profile.nodes.reduce((s, n) => s + n.hitCount, 0);
  const byFn = new Map<string, number>();
  const byPkg = new Map<string, number>();
  for (const n of profile.nodes) {
    const { functionName, url: u, lineNumber } = n.callFrame;
    const short = u.replace(/^.*node_modules\//, "").replace(/^file:\/\/.*\/work\/main\//, "");
    const fnKey = `${functionName || "(anon)"} ${short}:${lineNumber + 1}`;
    byFn.set(fnKey, (byFn.get(fnKey) ?? 0) + n.hitCount);
    const pkg =
      u === ""
        ? functionName
        : u.startsWith("node:")
          ? "node:" + u.slice(5).split("/")[0]
          : (/node_modules\/((@[^/]+\/)?[^/]+)/.exec(u)?.[1] ?? short);
    byPkg.set(pkg, (byPkg.get(pkg) ?? 0) + n.hitCount);
  }
  const top = (m: Map<string, number>, k: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(([name, hits]) => `${((100 * hits) / total).toFixed(1).padStart(5)}%  ${name}`)
      .join("\n");
  // Inclusive time of the busiest functions (a function counted once per stack even when recursive).
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inclusive = new Map<string, number>();
  for (const n of profile.nodes) {
    if (n.hitCount === 0) continue;
    const seen = new Set<string>();
    for (let id: number | undefined = n.id; id !== undefined; id = parent.get(id)) {
      const f = byId.get(id)!.callFrame;
      const key = `${f.functionName || "(anon)"} ${f.url.replace(/^.*node_modules\//, "").replace(/^file:\/\/.*\/work\/main\//, "")}:${f.lineNumber + 1}`;
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + n.hitCount);
    }
  }
  process.stdout.write(`\ninclusive time by function:\n${top(inclusive, Number(process.env.PROFILE_TOP ?? 60))}\n`);
  process.stdout.write(`\nself time by package/file:\n${top(byPkg, 25)}\n\nself time by function:\n${top(byFn, 45)}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);

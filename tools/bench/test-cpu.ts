/**
 * Where a command's CPU time goes, by kind of process: runs the command (default `npm test`) and samples
 * /proc every 100 ms for every process it starts, directly or not, then prints the CPU seconds (user +
 * system) of each kind (mocha workers, plan workers, the served pack, the type check, the CLIs the tests
 * start...) with how many processes of that kind ran. Linux only (/proc).
 *
 *   npm run bench:test-cpu                 # npm test
 *   npm run bench:test-cpu -- npx mocha test/cdc/merge-property.test.ts
 *
 * A process is followed from the first sample that sees it to its last, also after its parent has ended
 * (an orphan keeps its place); one that lives less than a sample period, or whose parent ended before a
 * sample saw it, is missed. The total is printed beside the kernel's figure for the processes the command
 * waited for, which misses the killed and orphaned ones instead. The figures in README "Tests" come from here.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";

/** Kinds, first match wins: a label and a pattern over the process's command line. */
const KINDS: ReadonlyArray<readonly [string, RegExp]> = [
  ["mocha worker", /mocha\/lib\/nodejs\/worker\.js/],
  ["plan worker", /tools\/plan\/worker\.ts/],
  ["served pack (analyzer)", /tools\/policy\/serve-pack\.ts/],
  ["CSV streaming probe", /stream-probe\.ts/],
  ["type check (tsc)", /\btsc\b/],
  ["cdc:replay CLI", /cdc-replay\.ts/],
  ["collector (local server)", /functions\/collector\/local\.ts|dist\/server\.js/],
  ["mocha (main)", /\.bin\/mocha|mocha\/bin/],
  ["python", /python/],
  ["esbuild", /esbuild/],
];

const HZ = 100; // USER_HZ: the unit of utime and stime in /proc/<pid>/stat on Linux
const PERIOD_MS = 100;

interface Seen {
  readonly pid: number;
  readonly command: string;
  cpu: number;
}

/** utime + stime (seconds), parent pid and start time of `pid`, or undefined once it is gone. */
function stat(pid: number): { cpu: number; ppid: number; start: string } | undefined {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) is in parentheses and may hold spaces: split after its closing one.
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { ppid: Number(fields[1]), cpu: (Number(fields[11]) + Number(fields[12])) / HZ, start: fields[19] };
  } catch {
    return undefined;
  }
}

function commandOf(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
  } catch {
    return "";
  }
}

function main(): void {
  if (os.platform() !== "linux") throw new Error("tools/bench/test-cpu.ts reads /proc: Linux only");
  const argv = process.argv.slice(2);
  const [cmd, ...args] = argv.length > 0 ? argv : ["npm", "test"];
  const started = Date.now();
  const child = spawn(cmd, args, { stdio: "inherit" });
  const tree = new Map<string, Seen>(); // pid:start -> process
  const sample = (): void => {
    const now: Array<{ pid: number; key: string; ppid: number; cpu: number }> = [];
    for (const entry of fs.readdirSync("/proc")) {
      const pid = Number(entry);
      if (!Number.isInteger(pid)) continue;
      const s = stat(pid);
      if (s) now.push({ pid, key: `${pid}:${s.start}`, ppid: s.ppid, cpu: s.cpu });
    }
    // The tree's live processes, then (to a fixed point) every process whose parent is one of them. Keyed by
    // pid and start time, and parents looked up among live processes only, so a reused pid joins nothing.
    const live = new Set<number>([child.pid!]);
    for (const p of now) if (tree.has(p.key)) live.add(p.pid);
    for (let grew = true; grew;) {
      grew = false;
      for (const p of now) {
        if (live.has(p.pid) || !live.has(p.ppid)) continue;
        live.add(p.pid);
        grew = true;
      }
    }
    for (const p of now) {
      if (!live.has(p.pid)) continue;
      const known = tree.get(p.key);
      if (known) known.cpu = p.cpu;
      else tree.set(p.key, { pid: p.pid, command: commandOf(p.pid), cpu: p.cpu });
    }
  };
  const timer = setInterval(sample, PERIOD_MS);
  sample();
  child.on("exit", (code) => {
    clearInterval(timer);
    sample();
    const wall = (Date.now() - started) / 1000;
    // cutime + cstime of this process: the children it reaped, with the descendants they reaped.
    const self = fs.readFileSync("/proc/self/stat", "utf8");
    const own = self.slice(self.lastIndexOf(")") + 2).split(" ");
    const waited = (Number(own[13]) + Number(own[14])) / HZ;
    const byKind = new Map<string, { cpu: number; n: number }>();
    for (const p of tree.values()) {
      const kind = KINDS.find(([, re]) => re.test(p.command))?.[0] ?? "other";
      const k = byKind.get(kind) ?? { cpu: 0, n: 0 };
      k.cpu += p.cpu;
      k.n++;
      byKind.set(kind, k);
    }
    const total = [...byKind.values()].reduce((a, k) => a + k.cpu, 0);
    const rows = [...byKind.entries()].sort((a, b) => b[1].cpu - a[1].cpu);
    console.log(`\n${[cmd, ...args].join(" ")}: exit ${code}, ${wall.toFixed(0)} s wall`);
    console.log(`| process kind | processes | CPU-s | share |\n| --- | --: | --: | --: |`);
    for (const [kind, k] of rows) {
      console.log(`| ${kind} | ${k.n} | ${k.cpu.toFixed(1)} | ${((100 * k.cpu) / total).toFixed(0)}% |`);
    }
    console.log(`| all sampled | ${tree.size} | ${total.toFixed(1)} | |`);
    console.log(`(the kernel's figure for the processes the command waited for: ${waited.toFixed(1)} CPU-s)`);
    process.exitCode = code ?? 1;
  });
}

main();

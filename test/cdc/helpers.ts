/** Shared helpers for the CDC tests: run the real CLI, shuffle deterministically. */
import { spawn } from "node:child_process";
import { PROJECT_ROOT } from "../../components/project-root";
import { TSX_NODE_ARGS } from "../../tools/tsx-loader";

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Who runs the CLI: another user (file permissions hold even when the suite runs as root), extra env. */
export interface CliOptions {
  readonly uid?: number;
  readonly gid?: number;
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * Runs `tools/cdc-replay.ts <args>` from the repo root under tsx, as `npm run cdc:replay` does, in one
 * process: `npx tsx` would add npx's resolution and tsx's own parent process to every case.
 */
export function runCli(args: readonly string[], opts: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...TSX_NODE_ARGS, "tools/cdc-replay.ts", ...args], {
      cwd: PROJECT_ROOT,
      uid: opts.uid,
      gid: opts.gid,
      env: { ...process.env, NO_COLOR: "1", ...opts.env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

export function parseJsonLines(stdout: string): unknown[] {
  return stdout
    .split("\n")
    .filter((l) => l.trim().length > 0)
    .map((l) => JSON.parse(l) as unknown);
}

/** Seeded shuffle (mulberry32) so a failing example is reproducible. */
export function shuffled<T>(xs: readonly T[], seed: number): T[] {
  let a = seed >>> 0;
  const rnd = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

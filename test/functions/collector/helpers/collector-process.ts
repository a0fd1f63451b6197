/**
 * Starts the collector the way `npm run collector:local` does (tsx running functions/collector/local.ts,
 * the deployed `main()`), as a child process on loopback, port chosen by the OS.
 */
import { type ChildProcess, spawn } from "node:child_process";
import * as path from "node:path";
import { PROJECT_ROOT } from "../../../../components/project-root";
import { TSX_NODE_ARGS } from "../../../../tools/tsx-loader";

export const TEST_HMAC_KEY_HEX = "8f1c3a5e7b9d0f2143658709badcfe1032547698a0b1c2d3e4f5061728394a5b";

export interface CollectorProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly url: string;
  stderr(): string;
  /** Sends the signal and resolves with the exit code (bounded: SIGKILL after `killAfterMs`). */
  stop(signal?: NodeJS.Signals, killAfterMs?: number): Promise<number | null>;
}

export async function startCollectorProcess(
  env: Record<string, string>,
  startTimeoutMs = 30_000,
  nodeArgs: readonly string[] = [],
): Promise<CollectorProcess> {
  const child = spawn(
    process.execPath,
    [...nodeArgs, ...TSX_NODE_ARGS, path.join("functions", "collector", "local.ts")],
    {
      cwd: PROJECT_ROOT,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "",
        PORT: "0",
        GOOGLE_CLOUD_PROJECT: "test-project",
        COLLECTOR_TOPIC: "clickstream",
        COLLECTOR_HMAC_KEY: TEST_HMAC_KEY_HEX,
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stderr = "";
  let stdout = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`collector did not start in ${startTimeoutMs} ms:\n${stderr}`));
    }, startTimeoutMs);
    child.stdout?.on("data", (d: Buffer) => {
      stdout += d.toString();
      const m = /"message":"listening","port":(\d+)/.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`collector exited with ${code}:\n${stderr}`));
    });
  });
  return {
    child,
    port,
    url: `http://127.0.0.1:${port}`,
    stderr: () => stderr,
    stop: async (signal = "SIGTERM", killAfterMs = 15_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), killAfterMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

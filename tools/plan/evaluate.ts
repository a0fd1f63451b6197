/**
 * The offline plan: evaluates `index.ts` for a stack under Pulumi mocks, with the stack's own
 * `Pulumi.<stack>.yaml` (secure values as placeholders), and returns every resource the program would
 * register. Tests, `npm start`, the policy gate, the diagram and the deck all start here.
 *
 *   const plan = await evaluateStack({ stack: "prod" });
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import type { Socket } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { StackConfigError } from "../../components/config/validate";
import { PROJECT_ROOT } from "../../components/project-root";
import { TSX_NODE_ARGS } from "../tsx-loader";
import { applyOverrides, readStackConfig } from "./stack-config";
import type { EvaluateOptions, Plan } from "./types";
import type { ServeReply, ServeRequest, WorkerResult } from "./worker";

export type { EvaluateOptions, Plan, PlanMode, PlannedInvoke, PlannedProvider, PlannedResource } from "./types";

/** The stack config is invalid: nothing was declared. `problems` has one line per problem. */
export class PlanConfigError extends Error {
  constructor(
    message: string,
    readonly problems: readonly string[],
  ) {
    super(message);
    this.name = "PlanConfigError";
  }
}

/** The program itself failed (a bug, an unmocked invoke): the message carries its stack trace. */
export class PlanProgramError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PlanProgramError";
  }
}

/** The project name from `Pulumi.yaml`. */
export function projectName(): string {
  const doc = parse(fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), "utf8")) as { name: string };
  return doc.name;
}

/** Stacks that have a `Pulumi.<stack>.yaml` in the project root. */
export function listStacks(): string[] {
  return fs
    .readdirSync(PROJECT_ROOT)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
}

/** The worker's environment: component inputs skipped (faster) unless the caller records them. */
function workerEnv(opts: EvaluateOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PULUMI_NODEJS_SKIP_COMPONENT_INPUTS: "true" };
  if (opts.recordComponentInputs) delete env.PULUMI_NODEJS_SKIP_COMPONENT_INPUTS;
  return env;
}

export async function evaluateStack(opts: EvaluateOptions): Promise<Plan> {
  let base: ReturnType<typeof readStackConfig>;
  try {
    base = readStackConfig(opts.stack, opts.stackFile);
  } catch (e) {
    // A stack file that is not valid YAML is a config error like any other: its problems, not a trace.
    if (e instanceof StackConfigError) throw new PlanConfigError(e.message, e.problems);
    throw e;
  }
  const config = applyOverrides(base.config, opts.configOverrides);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lakehouse-plan-"));
  const inFile = path.join(dir, "input.json");
  const outFile = path.join(dir, "result.json");
  fs.writeFileSync(
    inFile,
    JSON.stringify({
      project: projectName(),
      stack: opts.stack,
      stackFile: base.stackFile,
      config,
      secretKeys: base.secretKeys.filter((k) => k in config),
      // A first preview is a preview: outputs are unknown only while nothing is being updated.
      preview: opts.mode === "first-preview" ? true : (opts.preview ?? true),
      mode: opts.mode ?? "realistic",
      program: path.resolve(PROJECT_ROOT, opts.program ?? "index.ts"),
      out: outFile,
    }),
  );
  try {
    let result = await runWorker(inFile, outFile, workerEnv(opts));
    // Plans evaluate without stack traces (a third of their time, see worker.ts); a program that
    // failed runs once more with them, so its error comes with the trace that leads to the bug.
    if (!result.ok && result.kind === "program" && process.env.LAKEHOUSE_PLAN_STACK_TRACES !== "1") {
      result = await runWorker(inFile, outFile, { ...workerEnv(opts), LAKEHOUSE_PLAN_STACK_TRACES: "1" });
    }
    if (!result.ok) {
      if (result.kind === "config") throw new PlanConfigError(result.message, result.problems);
      throw new PlanProgramError(result.message);
    }
    return result.plan;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * One evaluation in a worker process: a serving worker of this process when one is idle (see worker.ts
 * `serve`: a fresh Pulumi runtime store and a fresh load of the program per evaluation, packages kept
 * loaded), else a new one. `LAKEHOUSE_PLAN_WORKERS=fresh` evaluates every plan in a new process instead.
 */
async function runWorker(inFile: string, outFile: string, env: NodeJS.ProcessEnv): Promise<WorkerResult> {
  fs.rmSync(outFile, { force: true });
  const { code, stderr } =
    process.env.LAKEHOUSE_PLAN_WORKERS === "fresh" ? await runFresh(inFile, env) : await runServed(inFile, env);
  if (!fs.existsSync(outFile)) {
    throw new PlanProgramError(`The offline plan worker exited with ${code} and no result:\n${stderr}`);
  }
  return JSON.parse(fs.readFileSync(outFile, "utf8")) as WorkerResult;
}

const WORKER = path.join(__dirname, "worker.ts");

/** One evaluation in a process of its own, which ends with it. */
function runFresh(inFile: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...TSX_NODE_ARGS, WORKER, inFile], {
      cwd: PROJECT_ROOT,
      stdio: ["ignore", "ignore", "pipe"],
      env,
    });
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", reject);
    child.on("close", (c) => resolve({ code: c, stderr: err }));
  });
}

/** The variables a serving worker takes per evaluation; every other one must match its own. */
const PER_EVALUATION = ["PULUMI_NODEJS_SKIP_COMPONENT_INPUTS", "LAKEHOUSE_PLAN_STACK_TRACES"] as const;

interface ServingWorker {
  readonly child: ChildProcess;
  /** The worker's environment without the per-evaluation variables: it serves only callers with the same. */
  readonly envKey: string;
  stderr: string;
  exited: boolean;
}

/** Idle serving workers, at most MAX_IDLE: a plan worker holds a few hundred MB once it has run a plan. */
const idle: ServingWorker[] = [];
const MAX_IDLE = 2;

function envKeyOf(env: NodeJS.ProcessEnv): string {
  const rest = Object.entries(env).filter(([k]) => !(PER_EVALUATION as readonly string[]).includes(k));
  return JSON.stringify(rest.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function startServing(env: NodeJS.ProcessEnv, envKey: string): ServingWorker {
  const child = spawn(process.execPath, [...TSX_NODE_ARGS, WORKER, "--serve"], {
    cwd: PROJECT_ROOT,
    stdio: ["ignore", "ignore", "pipe", "ipc"],
    env,
  });
  const w: ServingWorker = { child, envKey, stderr: "", exited: false };
  child.stderr?.on("data", (d: Buffer) => (w.stderr += d.toString()));
  child.on("exit", () => {
    w.exited = true;
    const at = idle.indexOf(w);
    if (at !== -1) idle.splice(at, 1);
  });
  // An idle worker never keeps this process alive; it exits when this process does (its IPC closes).
  (child.stderr as Socket | null)?.unref();
  (child.channel as { unref(): void } | undefined)?.unref();
  child.unref();
  return w;
}

/** `reuse`: an idle worker may serve (false: a new one, after an idle worker ended as it was taken). */
function runServed(
  inFile: string,
  env: NodeJS.ProcessEnv,
  reuse = true,
): Promise<{ code: number | null; stderr: string }> {
  const envKey = envKeyOf(env);
  const at = reuse ? idle.findIndex((w) => w.envKey === envKey && !w.exited) : -1;
  const w = at !== -1 ? idle.splice(at, 1)[0] : startServing(env, envKey);
  w.stderr = "";
  const request: ServeRequest = { inFile, env: Object.fromEntries(PER_EVALUATION.map((k) => [k, env[k] ?? null])) };
  return new Promise((resolve, reject) => {
    const done = (): void => {
      w.child.off("message", onMessage);
      w.child.off("exit", onExit);
      w.child.off("error", onError);
      w.child.unref();
    };
    const onMessage = (reply: ServeReply): void => {
      done();
      // A worker that does not serve on exits by itself (worker.ts `serve`).
      if (reply.serving && !w.exited) {
        if (idle.length < MAX_IDLE) idle.push(w);
        else w.child.kill();
      }
      resolve({ code: 0, stderr: w.stderr });
    };
    const onExit = (code: number | null): void => {
      done();
      // An idle worker can end just as it is taken (worker.ts ends one that sees a stray rejection):
      // the evaluation runs again in a new worker, whose exit, if it comes, is the evaluation's own.
      if (at !== -1) resolve(runServed(inFile, env, false));
      else resolve({ code, stderr: w.stderr });
    };
    const onError = (e: Error): void => {
      done();
      w.child.kill();
      if (at !== -1) resolve(runServed(inFile, env, false));
      else reject(e);
    };
    w.child.on("message", onMessage);
    w.child.on("exit", onExit);
    w.child.on("error", onError);
    w.child.ref();
    w.child.send(request);
  });
}

/** The process ids of this process's idle plan workers (tests: which worker serves next). */
export function idlePlanWorkers(): number[] {
  return idle.map((w) => w.child.pid ?? -1);
}

/** Ends this process's idle plan workers (they also end with it; this frees their memory sooner). */
export function closePlanWorkers(): void {
  for (const w of idle.splice(0)) w.child.kill();
}

/**
 * The offline plan: evaluates `index.ts` for a stack under Pulumi mocks, with the stack's own
 * `Pulumi.<stack>.yaml` (secure values as placeholders), and returns every resource the program would
 * register. Tests, `npm start`, the policy gate, the diagram and the deck all start here.
 *
 *   const plan = await evaluateStack({ stack: "prod" });
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { StackConfigError } from "../../components/config/validate";
import { applyOverrides, PROJECT_ROOT, readStackConfig } from "./stack-config";
import type { EvaluateOptions, Plan } from "./types";
import type { WorkerResult } from "./worker";

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

/** One evaluation in a fresh process (the Pulumi runtime's state is process-global). */
async function runWorker(inFile: string, outFile: string, env: NodeJS.ProcessEnv): Promise<WorkerResult> {
  fs.rmSync(outFile, { force: true });
  const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", path.join(__dirname, "worker.ts"), inFile], {
      cwd: PROJECT_ROOT,
      stdio: ["ignore", "ignore", "pipe"],
      env,
    });
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", reject);
    child.on("close", (c) => resolve({ code: c, stderr: err }));
  });
  if (!fs.existsSync(outFile)) {
    throw new PlanProgramError(`The offline plan worker exited with ${code} and no result:\n${stderr}`);
  }
  return JSON.parse(fs.readFileSync(outFile, "utf8")) as WorkerResult;
}

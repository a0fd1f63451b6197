/**
 * Serving plan workers (tools/plan/worker.ts `serve`, evaluate.ts `runServed`): a worker that has already
 * evaluated other plans gives the same plan, byte for byte, as a process that evaluates only that one;
 * a config error (found before anything is declared) leaves the worker serving; an idle worker that
 * ends as it is taken is replaced; a program error ends its worker, and still comes with its stack trace
 * after a plan without.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import {
  closePlanWorkers,
  evaluateStack,
  idlePlanWorkers,
  PlanConfigError,
  PlanProgramError,
  type EvaluateOptions,
  type Plan,
} from "../../tools/plan/evaluate";
import { planOf } from "../helpers/plan";

/** The record without its timing, as JSON text: equal text is an identical plan. */
const text = (plan: Plan): string => JSON.stringify({ ...plan, durationMs: 0 });

/** An evaluation in a one-shot process of its own (`LAKEHOUSE_PLAN_WORKERS=fresh`). */
async function oneShot(opts: EvaluateOptions): Promise<Plan> {
  process.env.LAKEHOUSE_PLAN_WORKERS = "fresh";
  try {
    return await evaluateStack(opts);
  } finally {
    delete process.env.LAKEHOUSE_PLAN_WORKERS;
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Resolves once `pid` has exited (a failed worker exits right after its reply). */
async function exited(pid: number): Promise<void> {
  for (let i = 0; i < 200 && alive(pid); i++) await new Promise((r) => setTimeout(r, 25));
}

describe("plan workers: one worker, many plans, each as if alone", function () {
  this.timeout(120_000);
  /** The worker that serves every plan here until the kill test replaces it. */
  let worker: number;

  before(async () => {
    closePlanWorkers();
    // Another mode first, so the plans below run in a worker with history.
    await evaluateStack({ stack: "dev", mode: "first-preview" });
    expect(idlePlanWorkers()).to.have.length(1);
    worker = idlePlanWorkers()[0];
  });
  after(() => closePlanWorkers());

  it("dev, served after a first preview, is the one-shot process's plan byte for byte", async () => {
    const served = await evaluateStack({ stack: "dev" });
    expect(idlePlanWorkers()).to.deep.equal([worker]);
    expect(served.resources.length).to.be.greaterThan(500);
    expect(text(served)).to.equal(text(await oneShot({ stack: "dev" })));
  });

  it("prod, served third by the same worker, is the plan of a worker's first evaluation byte for byte", async () => {
    const served = await evaluateStack({ stack: "prod" });
    expect(idlePlanWorkers()).to.deep.equal([worker]);
    expect(text(served)).to.equal(text(await planOf("prod")));
  });

  it("a config error, found before anything is declared, leaves the worker serving the next plan as if alone", async () => {
    const failed = await evaluateStack({ stack: "dev", configOverrides: { "lakehouse:erasureSlaDays": 2 } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failed).to.be.instanceOf(PlanConfigError);
    expect((failed as PlanConfigError).problems.join("\n")).to.contain("lakehouse:erasureSlaDays");
    expect(idlePlanWorkers()).to.deep.equal([worker]);
    const again = await evaluateStack({ stack: "dev", mode: "first-preview" });
    expect(idlePlanWorkers()).to.deep.equal([worker]);
    expect(text(again)).to.equal(text(await planOf("dev", "first-preview")));
  });

  it("an idle worker that ends just as it is taken: the plan runs in a new one", async () => {
    process.kill(worker, "SIGKILL");
    const plan = await evaluateStack({ stack: "dev", mode: "first-preview" });
    expect(idlePlanWorkers()).to.have.length(1).and.not.include(worker);
    worker = idlePlanWorkers()[0];
    expect(text(plan)).to.equal(text(await planOf("dev", "first-preview")));
  });

  it("a program error after a plan without stack traces comes with its trace, and ends the worker", async () => {
    // Traces asked for by the caller: the worker, which ran a plan without them, turns them back on.
    process.env.LAKEHOUSE_PLAN_STACK_TRACES = "1";
    const failed = await evaluateStack({ stack: "dev", program: "test/fixtures/programs/throws.ts" })
      .then(
        () => undefined,
        (e: unknown) => e,
      )
      .finally(() => delete process.env.LAKEHOUSE_PLAN_STACK_TRACES);
    expect(failed).to.be.instanceOf(PlanProgramError);
    expect((failed as Error).message).to.contain("fixture: the program fails after its first resource");
    expect((failed as Error).message).to.match(/programs\/throws\.ts:9:/);
    await exited(worker);
    expect(alive(worker)).to.equal(false);
    expect(idlePlanWorkers()).to.deep.equal([]);
  });
});

describe("plan workers: the runtime's promise tracking, lightened", () => {
  it("is what the runtime calls: every use of debuggablePromise reads it from the module's exports", () => {
    // tools/plan/worker.ts replaces the export (lightDebuggablePromise); a use that bound the function
    // at load time would keep the original, silently.
    const root = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
    const uses: string[] = [];
    // Every module of the SDK but proto/ and vendor/ (generated gRPC messages and a vendored TypeScript,
    // which call nothing of the runtime) and its own dependencies.
    const walk = (dir: string): void => {
      for (const e of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
        const f = path.join(dir, e.name);
        if (e.isDirectory() && !["node_modules", "proto", "vendor"].includes(f)) walk(f);
        else if (e.isFile() && f.endsWith(".js") && f !== path.join("runtime", "debuggable.js")) {
          const text = fs.readFileSync(path.join(root, f), "utf8");
          if (!text.includes("debuggablePromise")) continue;
          for (const m of text.matchAll(/.{0,24}debuggablePromise.{0,1}/g)) uses.push(`${f}: ${m[0]}`);
        }
      }
    };
    walk("");
    expect(uses.length, "the runtime tracks its RPC promises").to.be.greaterThan(10);
    expect(uses.filter((u) => !/debuggable_1\.debuggablePromise\)?\(/.test(u))).to.deep.equal([]);
  });
});

/**
 * Mocha global fixture (`--require`d by `npm test`): evaluates the repository stacks' plans once, before
 * any test file runs, two at a time, and leaves them as JSON files for every test process to read
 * (`planOf` in ./plan.ts). `npm test` runs the test files in parallel worker processes; without this,
 * each worker would evaluate the same four plans again.
 *
 * The directory travels to the workers in LAKEHOUSE_TEST_PLANS (mocha forks its workers after the
 * global setup, so they inherit it). A test process started without it (`npx mocha one.test.ts`)
 * evaluates what it needs itself.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { closePlanWorkers, evaluateStack, type PlanMode } from "../../tools/plan/evaluate";

export const PLANS_DIR_ENV = "LAKEHOUSE_TEST_PLANS";

/** The plans most test files read; anything else is evaluated on demand in the process that needs it. */
const SHARED: readonly { stack: string; mode: PlanMode }[] = [
  { stack: "prod", mode: "realistic" },
  { stack: "prod", mode: "first-preview" },
  { stack: "dev", mode: "realistic" },
  { stack: "dev", mode: "first-preview" },
];

export function planFile(dir: string, stack: string, mode: PlanMode): string {
  return path.join(dir, `${stack}.${mode}.json`);
}

export async function mochaGlobalSetup(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lakehouse-test-plans-"));
  // Two evaluations at a time: each is one single-threaded worker process.
  const queue = [...SHARED];
  const run = async (): Promise<void> => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      const plan = await evaluateStack(next);
      fs.writeFileSync(planFile(dir, next.stack, next.mode), JSON.stringify(plan));
    }
  };
  await Promise.all([run(), run()]);
  // This process evaluates nothing more; the test files' processes start plan workers of their own.
  closePlanWorkers();
  process.env[PLANS_DIR_ENV] = dir;
}

export function mochaGlobalTeardown(): void {
  const dir = process.env[PLANS_DIR_ENV];
  if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
}

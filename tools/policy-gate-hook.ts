/**
 * The compliance gate as `npm start` runs it after the plan. Kept apart so the preview does not depend on
 * how the gate is implemented.
 */
import type { Plan } from "./plan/evaluate";

/** Runs the policy pack over a plan, prints the result, and returns the exit code (0 = no mandatory violation). */
export async function gateStack(plan: Plan): Promise<number> {
  console.log(`Policy gate: not wired yet for stack '${plan.stack}'.`);
  return 0;
}

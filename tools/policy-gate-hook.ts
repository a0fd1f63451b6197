/**
 * The compliance gate as `npm start` runs it after the plan: the same pack, through the same analyzer
 * driver, as `npm run policy`.
 */
import type { Plan } from "./plan/evaluate";
import { formatGateResult, runPolicyGate } from "./policy/gate";

/** Runs the policy pack over a plan, prints the result, and returns the exit code (0 = no mandatory violation). */
export async function gateStack(plan: Plan): Promise<number> {
  const result = await runPolicyGate(plan);
  console.log(formatGateResult(result));
  return result.passed ? 0 : 1;
}

/**
 * `npm run policy [-- --stack <name>] [-- --config <pack-config.json>] [-- --mode realistic|first-preview] [-- --json]`
 *
 * Evaluates every stack in the repo (Pulumi.<stack>.yaml) offline and runs the compliance pack over
 * each through the pack's own analyzer, as `pulumi preview --policy-pack policy` does in CI, in both
 * plan modes (realistic outputs, and every provider-computed output unknown as in a first preview;
 * ADR 0010) unless `--mode` picks one. Exits 1 on any mandatory violation or rejected stack config.
 */
import { readFileSync } from "node:fs";
import type { PolicyPackConfig } from "@pulumi/policy";
import { listStacks, type PlanMode } from "./plan/evaluate";
import { startAnalyzer } from "./policy/analyzer";
import { formatGateResult, gateStack, type GateResult } from "./policy/gate";

interface Args {
  readonly stacks: string[];
  readonly stackFile?: string;
  readonly config?: string;
  readonly json: boolean;
  readonly modes: PlanMode[];
}

const MODES: readonly PlanMode[] = ["realistic", "first-preview"];

function parseArgs(argv: readonly string[]): Args {
  const stacks: string[] = [];
  let stackFile: string | undefined;
  let config: string | undefined;
  let json = false;
  const modes: PlanMode[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--stack" || a === "-s") stacks.push(value());
    else if (a.startsWith("--stack=")) stacks.push(a.slice("--stack=".length));
    else if (a === "--stack-file") stackFile = value();
    else if (a === "--config" || a === "--policy-pack-config") config = value();
    else if (a === "--json") json = true;
    else if (a === "--mode") {
      const m = value();
      if (!MODES.includes(m as PlanMode)) throw new Error(`--mode must be one of ${MODES.join(", ")}`);
      modes.push(m as PlanMode);
    } else if (a === "--first-preview") modes.push("first-preview");
    else
      throw new Error(
        `unknown argument '${a}' (use --stack <name>, --stack-file <file>, --config <file>, --mode <mode>, --json)`,
      );
  }
  return { stacks, stackFile, config, json, modes: modes.length > 0 ? modes : [...MODES] };
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const stacks = args.stacks.length > 0 ? args.stacks : listStacks();
  if (stacks.length === 0) {
    console.error("No Pulumi.<stack>.yaml found at the project root.");
    return 1;
  }
  const packConfig = args.config ? (JSON.parse(readFileSync(args.config, "utf8")) as PolicyPackConfig) : undefined;
  const session = await startAnalyzer();
  const results: GateResult[] = [];
  try {
    for (const stack of stacks) {
      for (const mode of args.modes) {
        const result = await gateStack({ stack, stackFile: args.stackFile, mode }, { session, packConfig });
        results.push(result);
        if (!args.json) console.log(`[${mode}] ${formatGateResult(result)}\n`);
      }
    }
  } finally {
    await session.close();
  }
  if (args.json) console.log(JSON.stringify(results, null, 2));
  const failed = [...new Set(results.filter((r) => !r.passed).map((r) => r.stack))];
  console.log(
    failed.length === 0
      ? `Policy gate passed for ${stacks.join(", ")} (${args.modes.join(" and ")}).`
      : `Policy gate FAILED for ${failed.join(", ")}.`,
  );
  return failed.length === 0 ? 0 : 1;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
      process.exit(2);
    },
  );
}

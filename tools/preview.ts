/**
 * `npm start [-- --stack <name>] [--summary] [--first-preview]`: the offline plan of a stack, printed in the spirit of
 * `pulumi preview`: the resource tree (cells, components, resources), counts by cloud and type, the
 * time it took, then the compliance gate. Exits non-zero on invalid config or a mandatory violation.
 */
import { parseArgs } from "node:util";
import { evaluateStack, listStacks, PlanConfigError, type Plan, type PlannedResource } from "./plan/evaluate";
import { formatGateResult, runPolicyGate } from "./policy/gate";
import { cellErasureBounds } from "../components/config/erasure-budget";
import { deriveCellSpecs } from "../components/config/spec";
import { parseStackConfig } from "../components/config/validate";

const { values } = parseArgs({
  options: {
    stack: { type: "string", default: "dev" },
    summary: { type: "boolean", default: false },
    "no-policy": { type: "boolean", default: false },
    "first-preview": { type: "boolean", default: false },
  },
});
const mode = values["first-preview"] ? "first-preview" : "realistic";
const stack = values.stack ?? "dev";

const color = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code: number, s: string) => (color ? `\u001b[${code}m${s}\u001b[0m` : s);
const green = (s: string) => paint(32, s);
const red = (s: string) => paint(31, s);
const dim = (s: string) => paint(2, s);
const bold = (s: string) => paint(1, s);

function tree(plan: Plan): string[] {
  const children = new Map<string | undefined, PlannedResource[]>();
  for (const r of plan.resources) {
    const list = children.get(r.parent) ?? [];
    list.push(r);
    children.set(r.parent, list);
  }
  const typeWidth = Math.min(70, Math.max(...plan.resources.map((r) => r.type.length)) + 8);
  const lines: string[] = [];
  const walk = (r: PlannedResource, indent: string, last: boolean, root: boolean) => {
    const branch = root ? "" : `${indent}${last ? "└─ " : "├─ "}`;
    const flags = [r.protect ? "protected" : "", r.provider?.region ? r.provider.region : ""]
      .filter(Boolean)
      .join(", ");
    lines.push(` ${green("+")}   ${(branch + r.type).padEnd(typeWidth)} ${r.name}${flags ? dim(`  [${flags}]`) : ""}`);
    const kids = children.get(r.urn) ?? [];
    kids.forEach((k, i) => walk(k, root ? "" : `${indent}${last ? "   " : "│  "}`, i === kids.length - 1, false));
  };
  for (const r of children.get(undefined) ?? []) walk(r, "", true, true);
  return lines;
}

function counts(plan: Plan): string[] {
  const custom = plan.resources.filter((r) => r.custom);
  const byCloud = new Map<string, number>();
  const byType = new Map<string, number>();
  const byCell = new Map<string, number>();
  for (const r of custom) {
    const pkg = r.type.startsWith("pulumi:providers:") ? "providers" : r.type.split(":")[0];
    byCloud.set(pkg, (byCloud.get(pkg) ?? 0) + 1);
    byType.set(r.type, (byType.get(r.type) ?? 0) + 1);
    byCell.set(r.cell ?? "-", (byCell.get(r.cell ?? "-") ?? 0) + 1);
  }
  const out = [bold("Resources by cell:")];
  for (const [k, v] of [...byCell].sort()) out.push(`    ${String(v).padStart(5)}  ${k}`);
  out.push(bold("Resources by cloud:"));
  for (const [k, v] of [...byCloud].sort((a, b) => b[1] - a[1])) out.push(`    ${String(v).padStart(5)}  ${k}`);
  out.push(bold("Resources by type:"));
  for (const [k, v] of [...byType].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))) {
    out.push(`    ${String(v).padStart(5)}  ${k}`);
  }
  return out;
}

/** Per cell, each store's erasure bound (policy/contract/erasure-bounds.ts) against the configured SLA. */
function erasureBounds(plan: Plan): string[] {
  const specs = deriveCellSpecs(parseStackConfig(plan.config, plan.stackFile), plan.stackFile);
  const out = [bold("Erasure bound (days from a request until erased data is physically gone):")];
  for (const spec of specs) {
    out.push(`  cell ${spec.name} (SLA ${spec.erasure.slaDays} days)`);
    for (const b of cellErasureBounds(spec)) {
      const verdict = b.exempt !== undefined ? dim("kept") : b.days <= b.slaDays ? green("ok") : red("OVER");
      out.push(`    ${b.store.padEnd(42)} ${b.reachedBy.padEnd(22)} ${String(b.days).padStart(5)}  ${verdict}`);
    }
  }
  return out;
}

async function main(): Promise<number> {
  const started = Date.now();
  console.log(
    `Previewing stack '${stack}' offline (Pulumi mocks, secure values as placeholders, ${
      mode === "first-preview" ? "as a first preview: every provider-computed output unknown" : "realistic outputs"
    })\n`,
  );
  let plan: Plan;
  try {
    plan = await evaluateStack({ stack, mode });
  } catch (e) {
    if (e instanceof PlanConfigError) {
      console.error(red(e.message));
      return 2;
    }
    if (e instanceof Error && e.message.startsWith("No stack file")) {
      console.error(red(`${e.message}. Stacks: ${listStacks().join(", ")}`));
      return 2;
    }
    throw e;
  }
  if (!values.summary) {
    console.log(`     ${"Type".padEnd(40)} Name`);
    for (const l of tree(plan)) console.log(l);
    console.log("");
  }
  for (const l of counts(plan)) console.log(l);
  const custom = plan.resources.filter((r) => r.custom).length;
  console.log(
    `\nResources:\n    ${green(`+ ${plan.resources.length} to create`)} (${custom} cloud resources, ${plan.resources.length - custom} components)`,
  );
  console.log("");
  for (const l of erasureBounds(plan)) console.log(l);
  console.log(`\nStack file: ${plan.stackFile}; secret keys as placeholders: ${plan.secretKeys.join(", ") || "none"}`);
  console.log(
    `Evaluated in ${(plan.durationMs / 1000).toFixed(1)}s (program) / ${((Date.now() - started) / 1000).toFixed(1)}s (total)`,
  );
  if (values["no-policy"]) return 0;
  console.log("");
  const gate = await runPolicyGate(plan);
  console.log(formatGateResult(gate));
  return gate.passed ? 0 : 1;
}

main().then(
  // Exit once stdout is flushed: into a pipe (`npm start | grep`) it is asynchronous, and an immediate
  // exit cut the report, verdict line included.
  (code) => process.stdout.write("", () => process.exit(code)),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);

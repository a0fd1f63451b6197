/**
 * The offline compliance gate: runs the policy pack over an offline plan through the pack's own
 * analyzer (configure, then analyze per resource, then analyzeStack once), as `pulumi preview
 * --policy-pack policy` would, and reports violations in the CLI's format.
 *
 * API (used by tools/policy-gate.ts and `npm start`):
 *   runPolicyGate(plan, opts?)       -> GateResult        one evaluated plan
 *   gateStack(evaluateOpts, opts?)   -> GateResult        evaluate a stack, then gate it
 *   formatGateResult(result)         -> string            preview-style text
 *   policyCoverage(types)            -> Coverage          resource types covered by a specific rule
 */
import type { EnforcementLevel, PolicyPackConfig } from "@pulumi/policy";
import { buildPackConfig, DEFAULT_SETTINGS, type SettingsOverrides } from "../../policy/config";
import { NAMESPACE } from "../../components/config/namespace";
import { matchesType } from "../../policy/rules/common";
import { defaultLevels, rules } from "../../policy/policies";
import { evaluateStack } from "../plan/evaluate";
import type { EvaluateOptions, Plan } from "../plan/types";
import { startAnalyzer, type AnalyzerDiagnostic, type AnalyzerSession } from "./analyzer";
import { providerIndex, type ResourceInput } from "./requests";

export interface GateDiagnostic extends AnalyzerDiagnostic {
  /** The violation text without the policy description prefix. */
  readonly detail: string;
  readonly stage: "analyze" | "analyzeStack";
  readonly resourceType?: string;
  readonly resourceName?: string;
}

export interface Coverage {
  /** Distinct custom resource types in the plan (providers and components excluded). */
  readonly types: readonly string[];
  /** Types inspected by at least one rule other than the residency catch-all. */
  readonly covered: readonly string[];
  readonly uncovered: readonly string[];
}

export interface GateResult {
  readonly stack: string;
  readonly packName: string;
  readonly packVersion: string;
  /** Resources sent to `analyze`. */
  readonly analyzed: number;
  readonly diagnostics: readonly GateDiagnostic[];
  readonly mandatory: number;
  readonly advisory: number;
  /** The stack's config was rejected before any resource was declared (PlanConfigError). */
  readonly configProblems?: readonly string[];
  readonly coverage: Coverage;
  /** True when there is no mandatory violation and the config was valid. */
  readonly passed: boolean;
}

export interface GateOptions {
  /** Pack settings (jurisdictions, bounds) over the defaults. */
  readonly settings?: SettingsOverrides;
  /** Enforcement level per policy over the rules' defaults. */
  readonly enforcementLevels?: Readonly<Record<string, EnforcementLevel>>;
  /** A complete pack config, used as is (takes precedence over `settings`/`enforcementLevels`). */
  readonly packConfig?: PolicyPackConfig;
  /** Reuse a running analyzer (tests, several stacks); otherwise one is started and closed. */
  readonly session?: AnalyzerSession;
  /** Parallel `analyze` calls. @default 16 */
  readonly concurrency?: number;
}

/** The pack config the gate sends with `configure`: every policy, its level, the settings. */
export function gatePackConfig(
  opts: Pick<GateOptions, "settings" | "enforcementLevels" | "packConfig"> = {},
): PolicyPackConfig {
  return (
    opts.packConfig ??
    buildPackConfig(
      rules.map((r) => r.name),
      { settings: opts.settings, enforcementLevels: opts.enforcementLevels, defaultLevels },
    )
  );
}

export function policyCoverage(types: Iterable<string>): Coverage {
  const all = [...new Set(types)].sort();
  const specific = rules.filter((r) => !r.catchAll);
  const covered = all.filter((t) => specific.some((r) => matchesType(r.resourceTypes, t)));
  return { types: all, covered, uncovered: all.filter((t) => !covered.includes(t)) };
}

function detailOf(d: AnalyzerDiagnostic): string {
  return d.description && d.message.startsWith(`${d.description}\n`)
    ? d.message.slice(d.description.length + 1)
    : d.message;
}

async function inBatches<T, R>(items: readonly T[], size: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) out.push(...(await Promise.all(items.slice(i, i + size).map(fn))));
  return out;
}

/**
 * Runs the gate over resources (a plan's, or fixtures). Custom resources and providers are analyzed
 * one by one; everything (components included) goes to analyzeStack, as the engine does.
 */
export async function runPolicyGateOnResources(
  stack: string,
  resources: readonly ResourceInput[],
  opts: GateOptions = {},
): Promise<GateResult> {
  const session = opts.session ?? (await startAnalyzer());
  try {
    await session.configure(gatePackConfig(opts));
    const providers = providerIndex(resources);
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const analyzable = resources.filter((r) => r.custom !== false || r.type.startsWith("pulumi:providers:"));
    const perResource = await inBatches(analyzable, opts.concurrency ?? 16, async (r) =>
      (await session.analyze(r, providers)).map((d) => ({ d, r, stage: "analyze" as const })),
    );
    const stackDiags = (await session.analyzeStack(resources)).map((d) => ({
      d,
      r: byUrn.get(d.urn),
      stage: "analyzeStack" as const,
    }));
    const diagnostics: GateDiagnostic[] = [...perResource.flat(), ...stackDiags].map(({ d, r, stage }) => ({
      ...d,
      // The engine attributes a resource diagnostic without a URN to the resource analyzed.
      urn: d.urn || (stage === "analyze" && r ? r.urn : ""),
      detail: detailOf(d),
      stage,
      resourceType: r?.type,
      resourceName: r?.name,
    }));
    const mandatory = diagnostics.filter((d) => d.enforcementLevel === "mandatory").length;
    const coverage = policyCoverage(
      resources.filter((r) => r.custom !== false && !r.type.startsWith("pulumi:")).map((r) => r.type),
    );
    return {
      stack,
      packName: session.packName,
      packVersion: session.packVersion,
      analyzed: analyzable.length,
      diagnostics,
      mandatory,
      advisory: diagnostics.filter((d) => d.enforcementLevel === "advisory").length,
      coverage,
      passed: mandatory === 0,
    };
  } finally {
    if (!opts.session) await session.close();
  }
}

/**
 * The pack settings a stack's own config implies, under the caller's: every jurisdiction's `erasureSlaDays` is
 * the stack's `lakehouse:erasureSlaDays`, so the rules hold stores to the SLA the stack promises, not only to the
 * legal ceiling (the same value `--policy-pack-config` carries for `pulumi preview`: policy/README.md).
 */
export function stackSettings(config: Readonly<Record<string, string>>, over?: SettingsOverrides): SettingsOverrides {
  const sla = Number(config[`${NAMESPACE}:erasureSlaDays`]);
  if (!Number.isInteger(sla) || sla < 1) return over ?? {};
  const ids = new Set([...Object.keys(DEFAULT_SETTINGS.jurisdictions), ...Object.keys(over?.jurisdictions ?? {})]);
  return {
    ...over,
    jurisdictions: Object.fromEntries(
      [...ids].map((id) => [id, { erasureSlaDays: sla, ...(over?.jurisdictions?.[id] ?? {}) }]),
    ),
  };
}

/** Runs the gate over an evaluated plan, with the stack's erasure SLA in the pack settings (`stackSettings`). */
export function runPolicyGate(plan: Plan, opts: GateOptions = {}): Promise<GateResult> {
  return runPolicyGateOnResources(plan.stack, plan.resources, {
    ...opts,
    settings: stackSettings(plan.config, opts.settings),
  });
}

function configProblemsOf(e: unknown): readonly string[] | undefined {
  if (typeof e !== "object" || e === null) return undefined;
  const problems: unknown = (e as { problems?: unknown }).problems;
  return Array.isArray(problems) && problems.every((p) => typeof p === "string") ? (problems as string[]) : undefined;
}

/**
 * Evaluates a stack offline (tools/plan/evaluate.ts) and gates it. A stack whose config is rejected
 * (PlanConfigError) fails the gate with the config problems: nothing was declared to analyze.
 */
export async function gateStack(evaluate: EvaluateOptions, opts: GateOptions = {}): Promise<GateResult> {
  let plan: Plan;
  try {
    plan = await evaluateStack(evaluate);
  } catch (e) {
    const problems = configProblemsOf(e);
    if (!problems) throw e;
    return {
      stack: evaluate.stack,
      packName: "lakehouse-compliance",
      packVersion: "",
      analyzed: 0,
      diagnostics: [],
      mandatory: 0,
      advisory: 0,
      configProblems: problems,
      coverage: policyCoverage([]),
      passed: false,
    };
  }
  return runPolicyGate(plan, opts);
}

/** Preview-style report ("Policy Violations:"), grouped by resource, mandatory first. */
export function formatGateResult(result: GateResult): string {
  const lines: string[] = [];
  const pack = `${result.packName}@v${result.packVersion}`;
  lines.push(`Stack ${result.stack}: ${result.analyzed} resources analyzed by ${pack}`);
  if (result.configProblems) {
    lines.push(`    error: the stack config was rejected before any resource was declared:`);
    for (const p of result.configProblems) lines.push(`      - ${p}`);
  }
  const shown = [...result.diagnostics].sort((a, b) =>
    a.enforcementLevel === b.enforcementLevel
      ? a.urn.localeCompare(b.urn)
      : a.enforcementLevel === "mandatory"
        ? -1
        : 1,
  );
  if (shown.length > 0) {
    lines.push("", "Policy Violations:");
    for (const d of shown) {
      const where = d.resourceName ? ` (${d.resourceName}: ${d.resourceType})` : d.urn ? ` (${d.urn})` : "";
      lines.push(`    [${d.enforcementLevel}]  ${d.policyPackName} v${d.policyPackVersion}  ${d.policyName}${where}`);
      for (const l of d.message.split("\n")) lines.push(`    ${l}`);
    }
  }
  const c = result.coverage;
  const pct = c.types.length === 0 ? 100 : Math.round((100 * c.covered.length) / c.types.length);
  lines.push(
    "",
    `Coverage: ${c.covered.length}/${c.types.length} resource types in the plan are inspected by at least one specific rule (${pct}%)` +
      (c.types.length > 0 ? "; the residency rule inspects every aws/gcp resource." : "."),
  );
  if (c.uncovered.length > 0) lines.push(`    not covered by a specific rule: ${c.uncovered.join(", ")}`);
  lines.push(
    result.passed
      ? `PASSED: ${result.mandatory} mandatory, ${result.advisory} advisory violation(s).`
      : `FAILED: ${result.configProblems ? "invalid stack config" : `${result.mandatory} mandatory violation(s)`}, ${result.advisory} advisory.`,
  );
  return lines.join("\n");
}

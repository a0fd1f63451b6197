/**
 * Shared access to offline plans in tests: each repository stack is evaluated once per run (by the
 * global fixture, ./global-plans.ts) or, without it, once per test process; plus small queries over
 * the record.
 */
import * as fs from "node:fs";
import { parseStackConfig, type LakehouseConfig } from "../../components/config";
import { evaluateStack, type Plan, type PlanMode, type PlannedResource } from "../../tools/plan/evaluate";
import { readStackConfig } from "../../tools/plan/stack-config";
import { PLANS_DIR_ENV, planFile } from "./global-plans";

const cache = new Map<string, Promise<Plan>>();

/**
 * The offline plan of a repository stack (`dev`, `prod`), evaluated once per process and mode:
 * `realistic` (every output invented) or `first-preview` (every provider-computed output unknown).
 */
export function planOf(stack: string, mode: PlanMode = "realistic"): Promise<Plan> {
  const key = `${stack}:${mode}`;
  let p = cache.get(key);
  if (!p) {
    // Evaluated once for the whole run by the global fixture (./global-plans.ts) when there is one.
    const dir = process.env[PLANS_DIR_ENV];
    const file = dir === undefined ? undefined : planFile(dir, stack, mode);
    p =
      file !== undefined && fs.existsSync(file)
        ? fs.promises.readFile(file, "utf8").then((t) => JSON.parse(t) as Plan)
        : evaluateStack({ stack, mode });
    cache.set(key, p);
  }
  return p;
}

/** The plan of a stack as its first `pulumi preview` sees it (nothing exists yet). */
export const firstPreviewOf = (stack: string): Promise<Plan> => planOf(stack, "first-preview");

/** The validated config of a repository stack, as the program sees it. */
export function configOf(stack: string): LakehouseConfig {
  const { config, stackFile } = readStackConfig(stack);
  return parseStackConfig(config, stackFile);
}

/** Resources of one type (optionally in one cell). */
export function ofType(plan: Plan, type: string, cell?: string): PlannedResource[] {
  return plan.resources.filter((r) => r.type === type && (cell === undefined || r.cell === cell));
}

/** The single resource of a type whose logical name matches. */
export function named(plan: Plan, type: string, name: string | RegExp): PlannedResource {
  const found = plan.resources.filter(
    (r) => r.type === type && (typeof name === "string" ? r.name === name : name.test(r.name)),
  );
  if (found.length !== 1) {
    throw new Error(`expected exactly one ${type} named ${String(name)}, found ${found.length}`);
  }
  return found[0];
}

/** Resources whose inputs reference `value` at `key` (e.g. split S3 settings joined to a bucket by name). */
export function joinedTo(plan: Plan, type: string, key: string, value: unknown): PlannedResource[] {
  return plan.resources.filter((r) => r.type === type && r.inputs[key] === value);
}

/** Direct and indirect children of a resource. */
export function descendants(plan: Plan, urn: string): PlannedResource[] {
  const out: PlannedResource[] = [];
  const walk = (u: string) => {
    for (const r of plan.resources) {
      if (r.parent === u) {
        out.push(r);
        walk(r.urn);
      }
    }
  };
  walk(urn);
  return out;
}

/** URNs `r` waits for, through dependencies of dependencies (components expanded to their children). */
export function waitsFor(plan: Plan, r: PlannedResource): Set<string> {
  const byUrn = new Map(plan.resources.map((x) => [x.urn, x]));
  const seen = new Set<string>();
  const todo = [...r.dependencies];
  while (todo.length > 0) {
    const u = todo.pop()!;
    if (seen.has(u)) continue;
    seen.add(u);
    const d = byUrn.get(u);
    if (!d) continue;
    todo.push(...d.dependencies);
    if (!d.custom) todo.push(...plan.resources.filter((c) => c.parent === u).map((c) => c.urn));
  }
  return seen;
}

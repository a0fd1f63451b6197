/**
 * `npx tsx tools/plan/snapshot.ts <dir>` writes the offline plan of every repository stack, in both
 * modes, as stable JSON (`<dir>/<stack>.<mode>.json`: per resource its type, name, parent, provider,
 * protection, dependencies and inputs, sorted by URN). `--diff <before-dir> <after-dir>` prints what
 * changed between two snapshots: resources added or removed, and every input that differs.
 *
 * It exists for refactors that must leave the plan unchanged in substance: take a snapshot before,
 * one after, and read the diff (docs/plan-diffs/ keeps the ones that went with a change).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { evaluateStack, listStacks, type Plan, type PlanMode } from "./evaluate";

interface Entry {
  readonly type: string;
  readonly parent?: string;
  readonly provider?: string;
  readonly protect: boolean;
  readonly retainOnDelete: boolean;
  readonly dependencies: readonly string[];
  readonly inputs: unknown;
}

/** Keys sorted at every depth, so two snapshots differ only where the plan does. */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(
      Object.keys(v as object)
        .sort()
        .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

export function snapshotOf(plan: Plan): Record<string, Entry> {
  const out: Record<string, Entry> = {};
  for (const r of [...plan.resources].sort((a, b) => a.urn.localeCompare(b.urn))) {
    out[r.urn] = {
      type: r.type,
      parent: r.parent,
      provider: r.provider === undefined ? undefined : `${r.provider.pkg}:${r.provider.name}`,
      protect: r.protect,
      retainOnDelete: r.retainOnDelete,
      dependencies: [...r.dependencies].sort(),
      inputs: canonical(r.inputs),
    };
  }
  return out;
}

function flatten(v: unknown, prefix: string, out: Map<string, string>): void {
  if (v !== null && typeof v === "object") {
    const entries = Array.isArray(v) ? v.map((x, i) => [String(i), x] as const) : Object.entries(v as object);
    if (entries.length === 0) out.set(prefix, JSON.stringify(v));
    for (const [k, x] of entries) flatten(x, prefix === "" ? k : `${prefix}.${k}`, out);
  } else out.set(prefix, JSON.stringify(v));
}

/**
 * A resource's identity across a refactor: its type and logical name. The URN also carries the parent
 * chain, which changes when a resource moves under a new component (with an alias, so a real update
 * keeps it); such a move is reported once, and the resource is then compared like any other.
 */
function identity(urn: string): string {
  // urn:pulumi:<stack>::<project>::<parent types $-joined>$<type>::<name>
  const parts = urn.split("::");
  const type = (parts[2] ?? "").split("$").pop() ?? "";
  return `${type}::${parts.slice(3).join("::")}`;
}

/** The entry with every URN it mentions (parent, dependencies) replaced by that resource's identity. */
function byIdentity(e: Entry): Entry {
  return {
    ...e,
    parent: e.parent === undefined ? undefined : identity(e.parent),
    dependencies: e.dependencies.map(identity).sort(),
  };
}

/** Lines describing how `after` differs from `before`: resources gone, new, moved, and changed fields. */
export function diffSnapshots(before: Record<string, Entry>, after: Record<string, Entry>): string[] {
  const index = (snap: Record<string, Entry>) => {
    const m = new Map<string, { urn: string; entry: Entry }>();
    for (const [urn, entry] of Object.entries(snap)) m.set(identity(urn), { urn, entry: byIdentity(entry) });
    return m;
  };
  const a = index(before);
  const b = index(after);
  const lines: string[] = [];
  for (const [id, x] of a) if (!b.has(id)) lines.push(`- ${x.urn}`);
  for (const [id, x] of b) if (!a.has(id)) lines.push(`+ ${x.urn}`);
  for (const [id, x] of a) {
    const y = b.get(id);
    if (y === undefined) continue;
    const fa = new Map<string, string>();
    const fb = new Map<string, string>();
    flatten(x.entry, "", fa);
    flatten(y.entry, "", fb);
    const keys = [...new Set([...fa.keys(), ...fb.keys()])].sort();
    const changed = keys.filter((k) => fa.get(k) !== fb.get(k));
    if (x.urn !== y.urn) lines.push(`> ${x.urn}\n    moved to ${y.urn}`);
    if (changed.length === 0) continue;
    lines.push(`~ ${y.urn}`);
    for (const k of changed) lines.push(`    ${k}: ${fa.get(k) ?? "(absent)"} → ${fb.get(k) ?? "(absent)"}`);
  }
  return lines;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === "--diff" && args.length === 3) {
    let total = 0;
    for (const f of fs
      .readdirSync(args[1])
      .filter((n) => n.endsWith(".json"))
      .sort()) {
      const read = (d: string) => JSON.parse(fs.readFileSync(path.join(d, f), "utf8")) as Record<string, Entry>;
      const lines = diffSnapshots(read(args[1]), read(args[2]));
      total += lines.length;
      console.log(`${f}: ${lines.length === 0 ? "unchanged" : `${lines.length} lines`}`);
      for (const l of lines) console.log(`  ${l}`);
    }
    process.exitCode = total === 0 ? 0 : 1;
    return;
  }
  if (args.length !== 1) {
    console.error("usage: snapshot.ts <dir> | --diff <before-dir> <after-dir>");
    process.exitCode = 2;
    return;
  }
  fs.mkdirSync(args[0], { recursive: true });
  for (const stack of listStacks()) {
    for (const mode of ["realistic", "first-preview"] as PlanMode[]) {
      const plan = await evaluateStack({ stack, mode });
      const file = path.join(args[0], `${stack}.${mode}.json`);
      fs.writeFileSync(file, `${JSON.stringify(snapshotOf(plan), null, 1)}\n`);
      console.log(`${file}: ${plan.resources.length} resources`);
    }
  }
}

if (require.main === module) void main();

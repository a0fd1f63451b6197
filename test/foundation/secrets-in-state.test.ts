import { expect } from "chai";
import { secretPlaceholder } from "../../components/config/placeholders";
import { evaluateStack, type Plan, type PlannedResource } from "../../tools/plan/evaluate";
import { configOf } from "../helpers/plan";

/**
 * Issue 11, item 15: no configured secret reaches the state in clear. The SDK records every resource's
 * inputs in the state, components' included (ComponentResource sends its args unless
 * PULUMI_NODEJS_SKIP_COMPONENT_INPUTS is set, @pulumi/pulumi resource.js, which `pulumi up` does not set),
 * and encrypts only the values marked secret. So the plan is evaluated recording component inputs, and
 * every input value that is not marked secret must be free of every configured secret.
 */

/** The configured secrets of a plan: the offline plan's stand-in for each `secure:` leaf, by key. */
function configuredSecrets(plan: Plan): Map<string, string> {
  const found = new Map<string, string>();
  const walk = (v: unknown, at: string): void => {
    if (typeof v === "string") {
      if (v === secretPlaceholder(at)) found.set(at, v);
    } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${at}[${i}]`));
    else if (typeof v === "object" && v !== null) for (const [k, x] of Object.entries(v)) walk(x, `${at}.${k}`);
  };
  for (const key of plan.secretKeys) {
    const raw = plan.config[key];
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // a plain string value
    }
    walk(value, key);
  }
  return found;
}

/** Every string leaf of a resource's inputs, with its path and whether the engine received it as a secret. */
function leaves(r: PlannedResource): { path: string; value: string; secret: boolean }[] {
  const secretPaths = new Set(r.secretPaths ?? []);
  const out: { path: string; value: string; secret: boolean }[] = [];
  const walk = (v: unknown, at: string, secret: boolean): void => {
    const s = secret || secretPaths.has(at);
    if (typeof v === "string") out.push({ path: at, value: v, secret: s });
    else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${at}[${i}]`, s));
    else if (typeof v === "object" && v !== null)
      for (const [k, x] of Object.entries(v)) walk(x, at ? `${at}.${k}` : k, s);
  };
  walk(r.inputs, "", false);
  return out;
}

describe("secrets never reach the state in clear (issue 11, item 15)", function () {
  // Two evaluations recording component inputs (~15-20 s each on a shared machine).
  this.timeout(240_000);

  for (const stack of ["dev", "prod"]) {
    describe(stack, () => {
      let plan: Plan;
      let secrets: Map<string, string>;
      before(async () => {
        plan = await evaluateStack({ stack, recordComponentInputs: true });
        secrets = configuredSecrets(plan);
      });

      it("the plan records component inputs, as `pulumi up` does, and knows the stack's secrets", () => {
        const cell = plan.resources.find((r) => r.type === "lakehouse:cell:Cell");
        expect(cell, "a Cell component").to.not.equal(undefined);
        // The cell receives its derived spec and the validated config (components/config/spec.ts).
        expect(Object.keys(cell!.inputs)).to.include.members(["spec", "config"]);
        // dev: one source password and the write keys; prod: ten passwords and the write keys.
        expect(secrets.size).to.be.at.least(2);
        expect([...secrets.keys()]).to.include("lakehouse:collectorWriteKeys");
      });

      it("no configured secret appears in any resource's or component's inputs outside a secret", () => {
        const leaks: string[] = [];
        for (const r of plan.resources) {
          for (const leaf of leaves(r)) {
            if (leaf.secret) continue;
            for (const [key, value] of secrets) {
              if (leaf.value.includes(value)) leaks.push(`${r.type} ${r.name} inputs.${leaf.path}: ${key}`);
            }
          }
        }
        expect(leaks, `${leaks.length} secret value(s) recorded in clear`).to.deep.equal([]);
      });

      it("each secret reaches the resource that stores it, marked secret", () => {
        const insideSecret = (type: string, value: string) =>
          plan.resources
            .filter((r) => r.type === type)
            .some((r) => leaves(r).some((l) => l.secret && l.value.includes(value)));
        const config = configOf(stack);
        const used = new Set(config.sources.transactional.map((s) => s.credentials));
        expect(used.size).to.be.greaterThan(0);
        for (const name of used) {
          const key = `lakehouse:sourceCredentials.${name}.password`;
          const value = secrets.get(key);
          expect(value, key).to.be.a("string");
          expect(insideSecret("aws:secretsmanager/secretVersion:SecretVersion", value!), key).to.equal(true);
        }
        expect(
          insideSecret("gcp:secretmanager/secretVersion:SecretVersion", secrets.get("lakehouse:collectorWriteKeys")!),
        ).to.equal(true);
      });
    });
  }
});

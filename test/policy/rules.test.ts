/**
 * Each rule: the compliant baseline passes, and one-field mutations (./cases.ts) produce exactly the
 * expected violation (policy name and message), with the pack's policies called in process
 * (tools/policy/in-process.ts; in-process.test.ts holds its answers to the served pack's).
 *
 * The baseline is the dev stack's plan plus one fixture per type the plan lacks (./helpers.ts).
 */
import { expect } from "chai";
import { rules } from "../../policy/policies";
import type { ResourceInput } from "../../tools/policy/requests";
import { planOf } from "../helpers/plan";
import { CASES } from "./cases";
import { closeSession, fixtures, gate, lines, NEVER_COMPLIANT, planBaseline } from "./helpers";

describe("policy pack: rules", function () {
  this.timeout(300_000);
  let baseline: readonly ResourceInput[] = [];
  let prod: readonly ResourceInput[] = [];
  before(async () => {
    baseline = await planBaseline();
    prod = (await planOf("prod")).resources;
  });
  after(closeSession);

  it("passes the compliant baseline with no diagnostic at all", async () => {
    const r = await gate(baseline);
    expect(lines(r.diagnostics)).to.deep.equal([]);
    expect(r.passed).to.equal(true);
  });

  it("passes the prod plan, the baseline of the deletion-protection cases, with no diagnostic at all", async () => {
    expect(lines((await gate(prod)).diagnostics)).to.deep.equal([]);
  });

  it("covers every resource type of the baseline with a specific rule", async () => {
    const r = await gate(baseline);
    expect(r.coverage.uncovered).to.deep.equal([]);
  });

  it("hand-writes one fixture per type, and only for types the dev plan does not declare", async () => {
    const plan = await planOf("dev");
    const types = fixtures(plan).map((f) => f.type);
    expect(types.filter((t, i) => types.indexOf(t) !== i)).to.deep.equal([]);
    expect(types.filter((t) => plan.resources.some((r) => r.type === t))).to.deep.equal([]);
  });

  it("holds a resource of every type a specific rule names, but those no resource may be", () => {
    const present = new Set(baseline.map((r) => r.type));
    const named = new Set(rules.filter((r) => !r.catchAll).flatMap((r) => r.resourceTypes));
    const missing = [...named].filter((t) => !t.includes("*") && !present.has(t)).sort();
    expect(missing).to.deep.equal([...NEVER_COMPLIANT].sort());
  });

  for (const [title, build, expected, on] of CASES) {
    it(`${title} -> ${expected.length === 0 ? "no violation" : expected.map((e) => e.split(":")[0]).join(", ")}`, async () => {
      const r = await gate(build(on === "prod" ? prod : baseline));
      expect(lines(r.diagnostics)).to.deep.equal([...expected].sort());
      for (const d of r.diagnostics) {
        const rule = rules.find((x) => x.name === d.policyName);
        expect(d.enforcementLevel, d.policyName).to.equal(rule?.enforcementLevel);
      }
    });
  }

  it("every mandatory rule is broken by at least one mutation above", () => {
    const broken = new Set(CASES.flatMap(([, , e]) => e.map((x) => x.split(":")[0])));
    const untested = rules.filter((r) => r.enforcementLevel === "mandatory" && !broken.has(r.name)).map((r) => r.name);
    expect(untested).to.deep.equal([]);
  });
});

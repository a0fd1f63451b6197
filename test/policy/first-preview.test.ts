/**
 * The gate as a first `pulumi preview` of a new stack sees the program (ADR 0010): every
 * provider-computed output unknown. The first `pulumi up` previews first and stops on a mandatory
 * violation, so every stack must pass in this mode too; the checks a first preview defers ("checked
 * when known") must all have run, and passed, on the realistic plan.
 */
import { expect } from "chai";
import { checkedWhenKnownMessage } from "../../policy/rules/common";
import { evaluateStack, PlanProgramError } from "../../tools/plan/evaluate";
import type { Plan, PlannedResource } from "../../tools/plan/types";
import { runPolicyGate, type GateResult } from "../../tools/policy/gate";
import { UNKNOWN } from "../../tools/policy/requests";
import { firstPreviewOf, planOf } from "../helpers/plan";
import { closeSession, servedSession, session } from "./helpers";

const STACKS = ["dev", "prod"];
const DEFERRED = /checked when known/;

/** The gate with the pack called in process, or (`served`) served over gRPC as the engine runs it. */
async function gate(plan: Plan, served = false): Promise<GateResult> {
  return runPolicyGate(plan, { session: await (served ? servedSession() : session()) });
}

const mandatory = (r: GateResult): string[] =>
  r.diagnostics.filter((d) => d.enforcementLevel === "mandatory").map((d) => `${d.policyName}: ${d.detail}`);

describe("policy gate: the first preview of a new stack", function () {
  this.timeout(300_000);
  after(closeSession);

  for (const stack of STACKS) {
    it(`${stack}: the plan really is a first preview (ids, ARNs and derived policies are unknown)`, async () => {
      const plan = await firstPreviewOf(stack);
      expect(plan.mode).to.equal("first-preview");
      const custom = plan.resources.filter((r) => r.custom && !r.type.startsWith("pulumi:providers:"));
      expect(custom.every((r) => r.id === undefined)).to.equal(true);
      const policies = plan.resources.filter((r) => r.type === "aws:iam/rolePolicy:RolePolicy");
      expect(policies.length).to.be.greaterThan(0);
      expect(policies.filter((r) => r.inputs.policy === UNKNOWN).length).to.be.greaterThan(0);
      // Config facts stay known: every GCP resource's project and every provider's region.
      const providers = plan.resources.filter((r) => r.type.startsWith("pulumi:providers:aws"));
      expect(providers.every((p) => typeof p.inputs.region === "string" && p.inputs.region !== UNKNOWN)).to.equal(true);
    });

    it(`${stack}: passes with zero mandatory violations as a first preview`, async () => {
      const result = await gate(await firstPreviewOf(stack), true);
      expect(mandatory(result)).to.deep.equal([]);
      expect(result.passed).to.equal(true);
      // What the first preview defers is named, one advisory per unknown reference.
      expect(result.diagnostics.filter((d) => DEFERRED.test(d.detail)).length).to.be.greaterThan(0);
    });

    it(`${stack}: the realistic plan leaves nothing "checked when known" (every deferred check ran and passed)`, async () => {
      const result = await gate(await planOf(stack));
      expect(mandatory(result)).to.deep.equal([]);
      expect(result.diagnostics.filter((d) => DEFERRED.test(d.detail)).map((d) => d.detail)).to.deep.equal([]);
    });
  }

  it("a known violation still fails a first preview (a bucket moved out of the jurisdiction, a public member)", async () => {
    const plan = await firstPreviewOf("dev");
    const bucket = plan.resources.find((r) => r.type === "gcp:storage/bucket:Bucket");
    const member = plan.resources.find(
      (r) => r.type === "gcp:storage/bucketIAMMember:BucketIAMMember" || r.type === "gcp:projects/iAMMember:IAMMember",
    );
    expect(bucket, "a GCS bucket in the dev plan").to.not.equal(undefined);
    expect(member, "an IAM member in the dev plan").to.not.equal(undefined);
    const moved = (r: PlannedResource): PlannedResource => {
      if (r === bucket)
        return { ...r, inputs: { ...r.inputs, location: "US" }, outputs: { ...r.outputs, location: "US" } };
      if (r === member)
        return { ...r, inputs: { ...r.inputs, member: "allUsers" }, outputs: { ...r.outputs, member: "allUsers" } };
      return r;
    };
    const result = await gate({ ...plan, resources: plan.resources.map(moved) });
    const failed = result.diagnostics.filter((d) => d.enforcementLevel === "mandatory");
    expect(failed.some((d) => d.policyName === "resource-residency" && d.resourceName === bucket!.name)).to.equal(true);
    expect(failed.some((d) => d.policyName === "no-public-principals" && d.resourceName === member!.name)).to.equal(
      true,
    );
    expect(result.passed).to.equal(false);
  });

  it("the advisory text is the pack's own message", () => {
    expect(checkedWhenKnownMessage("policy")).to.match(DEFERRED);
  });
});

describe("offline plan: nothing declared goes missing", function () {
  this.timeout(120_000);

  for (const stack of ["dev", "prod"]) {
    it(`${stack}: the first preview declares the same resources as the realistic plan (none hidden behind an apply)`, async () => {
      const urns = (p: Plan) => p.resources.map((r) => r.urn).sort();
      expect(urns(await firstPreviewOf(stack))).to.deep.equal(urns(await planOf(stack)));
    });
  }

  it("a resource whose input throws inside an apply fails the plan, naming it", async () => {
    const failed = await evaluateStack({ stack: "dev", program: "test/fixtures/programs/lost-resource.ts" }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failed).to.be.instanceOf(PlanProgramError);
    expect((failed as Error).message).to.contain("gcp:pubsub/topic:Topic::lost");
    expect((failed as Error).message).to.not.contain("Topic::kept");
  });
});

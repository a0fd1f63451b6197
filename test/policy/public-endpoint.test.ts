/**
 * The one public endpoint: an allUsers invoker grant passes only on the service of this stack that is
 * labelled as the reviewed tracking API (ADR 0005). Applied to the real prod plan with one change.
 */
import { expect } from "chai";
import type { Plan, PlannedResource } from "../../tools/plan/evaluate";
import { runPolicyGate } from "../../tools/policy/gate";
import { planOf } from "../helpers/plan";
import { closeSession, session } from "./helpers";

const SERVICE = "gcp:cloudrunv2/service:Service";
const MEMBER = "gcp:cloudrunv2/serviceIamMember:ServiceIamMember";

describe("policy pack: the public tracking endpoint", function () {
  after(closeSession);

  async function prodWith(change: (r: PlannedResource) => PlannedResource | undefined): Promise<Plan> {
    const prod = await planOf("prod");
    let done = false;
    const resources = prod.resources.map((r) => {
      if (done) return r;
      const next = change(r);
      if (next === undefined) return r;
      done = true;
      return next;
    });
    expect(done, "the change applied to a resource of the prod plan").to.equal(true);
    return { ...prod, resources };
  }

  const violations = async (plan: Plan) =>
    (await runPolicyGate(plan, { session: await session() })).diagnostics
      .filter((d) => d.enforcementLevel === "mandatory" && d.policyName === "public-endpoint-declared")
      .map((d) => d.detail);

  it("the collector's allUsers invoker grant passes: it invokes the labelled tracking API", async () => {
    const prod = await planOf("prod");
    const publicGrants = prod.resources.filter((r) => r.type === MEMBER && r.inputs.member === "allUsers");
    expect(publicGrants.length).to.equal(2); // one collector per cell
    expect(await violations(prod)).to.deep.equal([]);
  });

  it("fails when the invoked service loses the public-endpoint label", async () => {
    const plan = await prodWith((r) => {
      if (
        r.type !== SERVICE ||
        (r.inputs.labels as Record<string, string> | undefined)?.["public-endpoint"] === undefined
      ) {
        return undefined;
      }
      const labels = { ...(r.inputs.labels as Record<string, string>) };
      delete labels["public-endpoint"];
      return { ...r, inputs: { ...r.inputs, labels }, outputs: { ...r.outputs, labels } };
    });
    const found = await violations(plan);
    expect(found).to.have.length(1);
    expect(found[0]).to.match(
      /^gcp:cloudrunv2\/serviceIamMember:ServiceIamMember '.+' opens gcp:cloudrunv2\/service:Service '.+' to allUsers, but that service is not labelled public-endpoint=tracking-api\.$/,
    );
  });

  it("fails when allUsers may invoke a service that is not declared in the stack", async () => {
    const plan = await prodWith((r) => {
      if (r.type !== MEMBER || r.inputs.member !== "allUsers") return undefined;
      const inputs = { ...r.inputs, name: "someone-elses-service" };
      return { ...r, inputs, outputs: { ...r.outputs, ...inputs }, propertyDependencies: {} };
    });
    const found = await violations(plan);
    expect(found).to.have.length(1);
    expect(found[0]).to.match(/opens a service that is not declared in this stack to allUsers\.$/);
  });

  it("fails when a service without the label disables invoker IAM", async () => {
    const plan = await prodWith((r) => {
      if (r.type !== SERVICE) return undefined;
      const labels = { ...((r.inputs.labels as Record<string, string> | undefined) ?? {}) };
      delete labels["public-endpoint"];
      const inputs = { ...r.inputs, labels, invokerIamDisabled: true };
      return { ...r, inputs, outputs: { ...r.outputs, ...inputs } };
    });
    const found = await violations(plan);
    expect(
      found.some((f) => /disables invoker IAM \(anyone may call it\) without the public-endpoint label\.$/.test(f)),
    ).to.equal(true);
  });
});

/**
 * Issue 10, finding 3 (Storage Transfer lookup): on a fresh project the Storage Transfer API is enabled by
 * this same program, so the lookup of the Storage Transfer service agent must wait for that enablement.
 * The invoke carries `dependsOn` on the API's `projects.Service`: the engine holds the call until the
 * Service exists (and answers "unknown" in a preview where it is still to be created), and the Node SDK
 * without the engine's gate (the mocks) issues it only once the Service's id is known
 * (@pulumi/pulumi runtime/invoke.js, `invokeAsync`).
 */
import { expect } from "chai";
import type { Plan, PlannedResource } from "../../tools/plan/evaluate";
import { firstPreviewOf, planOf } from "../helpers/plan";

const STS_LOOKUP = "gcp:storage/getTransferProjectServiceAccount:getTransferProjectServiceAccount";
const SERVICE = "gcp:projects/service:Service";

const transferApi = (plan: Plan): PlannedResource[] =>
  plan.resources.filter((r) => r.type === SERVICE && r.inputs.service === "storagetransfer.googleapis.com");
const one = (plan: Plan, type: string, name: RegExp): PlannedResource => {
  const found = plan.resources.filter((r) => r.type === type && name.test(r.name));
  expect(found, `${type} ${String(name)}`).to.have.length(1);
  return found[0];
};

describe("first deploy: the Storage Transfer lookup waits for its API (issue 10, finding 3)", () => {
  it("dev (realistic): the agent's identity reaches the AWS trust policy and the agent grant through the API's enablement", async () => {
    const plan = await planOf("dev");
    const apis = transferApi(plan).map((s) => s.urn);
    expect(apis, "storagetransfer.googleapis.com enabled by the program").to.have.length.greaterThan(0);

    // Values from the lookup flow where they should: the Google subject of the project's agent.
    const role = one(plan, "aws:iam/role:Role", /federation-in-country-transfer-role$/);
    const trust = JSON.parse(String(role.inputs.assumeRolePolicy)) as {
      Statement: { Condition: { StringEquals: Record<string, string[]> } }[];
    };
    const subjects = trust.Statement[0].Condition.StringEquals["accounts.google.com:sub"];
    expect(subjects).to.have.length(2);
    for (const s of subjects) expect(s).to.match(/^\d{21}$/);
    const agentGrant = one(plan, "gcp:serviceaccount/iAMMember:IAMMember", /federation-in-country-sts-agent$/);
    expect(String(agentGrant.inputs.member)).to.match(/@storage-transfer-service\.iam\.gserviceaccount\.com$/);

    // ... and carry the lookup's dependency on the API: the engine orders the invoke (and everything
    // that reads its result) after the `projects.Service` that enables it.
    for (const [r, prop] of [
      [role, "assumeRolePolicy"],
      [agentGrant, "member"],
    ] as const) {
      const deps = r.propertyDependencies[prop] ?? [];
      expect(
        apis.some((a) => deps.includes(a)),
        `${r.name}.${prop} depends on the Storage Transfer API`,
      ).to.equal(true);
    }
  });

  it("dev (realistic): the lookup is issued once, for the cell's project", async () => {
    const plan = await planOf("dev");
    const calls = plan.invokes.filter((i) => i.token === STS_LOOKUP);
    expect(calls).to.have.length(1);
    expect(calls[0].inputs.project).to.equal("acme-lakehouse-br-dev");
  });

  it("dev (first preview): the lookup is not issued while the API is still to be enabled", async () => {
    const plan = await firstPreviewOf("dev");
    expect(transferApi(plan)).to.have.length.greaterThan(0);
    expect(
      plan.invokes.filter((i) => i.token === STS_LOOKUP),
      "getTransferProjectServiceAccount called before storagetransfer.googleapis.com exists",
    ).to.have.length(0);
  });
});

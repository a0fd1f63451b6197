/**
 * Issue 10, finding 14: the `gcp.resourceLocations` org policy needs roles/orgpolicy.policyAdmin, grantable
 * at organization level only, so it is optional per cell (`cells[].gcp.orgPolicy`): `enforce` (default)
 * declares it, `skip` leaves it out and keeps every other guardrail (Data Access audit logs).
 */
import { expect } from "chai";
import { evaluateStack, type Plan } from "../../tools/plan/evaluate";
import { readStackConfig } from "../../tools/plan/stack-config";
import { ofType, planOf } from "../helpers/plan";

const ORG_POLICY = "gcp:orgpolicy/policy:Policy";

describe("the resource-locations org policy is optional per cell", () => {
  it("is enforced by default on every cell's project", async () => {
    const plan = await planOf("dev");
    const policies = ofType(plan, ORG_POLICY).filter((p) => String(p.inputs.name).endsWith("gcp.resourceLocations"));
    const cells = JSON.parse(readStackConfig("dev").config["lakehouse:cells"]) as { gcp: { project: string } }[];
    expect(policies.map((p) => p.inputs.parent)).to.have.members(cells.map((c) => `projects/${c.gcp.project}`));
  });

  it("is left out with orgPolicy: skip, keeping the Data Access audit logs", async function () {
    this.timeout(300_000);
    const cells = JSON.parse(readStackConfig("dev").config["lakehouse:cells"]) as { gcp: Record<string, unknown> }[];
    const skipped = cells.map((c) => ({ ...c, gcp: { ...c.gcp, orgPolicy: "skip" } }));
    const plan: Plan = await evaluateStack({ stack: "dev", configOverrides: { "lakehouse:cells": skipped } });
    expect(ofType(plan, ORG_POLICY)).to.deep.equal([]);
    expect(ofType(plan, "gcp:projects/iAMAuditConfig:IAMAuditConfig").length).to.be.greaterThan(0);
  });
});

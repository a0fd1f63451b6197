/**
 * Issue 10, finding 13: prod's cells live in two AWS accounts, and one ambient credential (CI's OIDC role,
 * a person's SSO session) deploys both. So each cell's AWS provider assumes the cell's deploy role from
 * config (`assumeRoles`, @pulumi/aws 7 ProviderAssumeRole) and still refuses any other account; every AWS
 * resource and data-source call goes through that provider, never an ambient default one; and a deploy role
 * in another account is a config error naming the key and the stack file.
 */
import { expect } from "chai";
import { parseStackConfig, StackConfigError } from "../../components/config";
import type { Plan, PlannedResource } from "../../tools/plan/evaluate";
import { readStackConfig } from "../../tools/plan/stack-config";
import { configOf, ofType, planOf } from "../helpers/plan";

/** Provider inputs reach the engine JSON-encoded when they are not strings (provider config is a string map). */
const json = (v: unknown): unknown => (typeof v === "string" && /^[[{]/.test(v) ? JSON.parse(v) : v);

for (const stack of ["prod", "dev"]) {
  describe(`each cell assumes its deploy role (${stack})`, () => {
    let plan: Plan;
    before(async function () {
      this.timeout(180_000);
      plan = await planOf(stack);
    });
    const config = configOf(stack);

    for (const cell of config.cells) {
      const provider = (): PlannedResource => {
        const found = ofType(plan, "pulumi:providers:aws", cell.name);
        expect(found, `AWS providers of cell ${cell.name}`).to.have.length(1);
        return found[0];
      };

      it(`cell ${cell.name}: the provider assumes ${cell.aws.deployRoleArn} and allows only ${cell.aws.accountId}`, () => {
        const { inputs } = provider();
        expect(json(inputs.assumeRoles)).to.deep.equal([
          { roleArn: cell.aws.deployRoleArn, sessionName: `lakehouse-${config.environment}-${cell.name}` },
        ]);
        expect(json(inputs.allowedAccountIds)).to.deep.equal([cell.aws.accountId]);
        expect(inputs.region).to.equal(cell.aws.region);
      });

      it(`cell ${cell.name}: every AWS resource goes through that provider`, () => {
        const urn = provider().urn;
        const aws = plan.resources.filter((r) => r.custom && r.type.startsWith("aws:") && r.cell === cell.name);
        expect(aws.length).to.be.greaterThan(0);
        const elsewhere = aws.filter((r) => r.provider?.urn !== urn || r.provider.isDefault);
        expect(elsewhere.map((r) => `${r.type} ${r.name}`)).to.deep.equal([]);
      });
    }

    it("no AWS resource or data-source call uses an ambient default provider", () => {
      const defaults = plan.resources.filter((r) => r.custom && r.type.startsWith("aws:") && r.provider?.isDefault);
      expect(defaults.map((r) => r.name)).to.deep.equal([]);
      const ambientInvokes = plan.invokes.filter((i) => i.token.startsWith("aws:") && i.provider === undefined);
      expect(ambientInvokes.map((i) => i.token)).to.deep.equal([]);
    });
  });
}

describe("a deploy role in another account is rejected", () => {
  it("names the key, both accounts and the stack file", () => {
    const { config, stackFile } = readStackConfig("prod");
    const cells = JSON.parse(config["lakehouse:cells"]) as { aws: { accountId: string; deployRoleArn: string } }[];
    // eu's role ARN pasted into br: the provider would assume a role in eu's account.
    cells[0].aws.deployRoleArn = cells[1].aws.deployRoleArn;
    let error: unknown;
    try {
      parseStackConfig({ ...config, "lakehouse:cells": JSON.stringify(cells) }, stackFile);
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(StackConfigError);
    const e = error as StackConfigError;
    expect(e.stackFile).to.equal(stackFile);
    expect(e.message).to.include("Pulumi.prod.yaml");
    expect(e.problems).to.deep.equal([
      `lakehouse:cells[0].aws.deployRoleArn: the role is in account ${cells[1].aws.accountId}, but the cell deploys ` +
        `into ${cells[0].aws.accountId} (cells[].aws.accountId); use the deploy role created in ${cells[0].aws.accountId}`,
    ]);
  });

  it("accepts the repository's stacks (each role in its cell's account)", () => {
    for (const stack of ["dev", "prod"]) {
      for (const cell of configOf(stack).cells) {
        expect(cell.aws.deployRoleArn.split(":")[4], `${stack} ${cell.name}`).to.equal(cell.aws.accountId);
      }
    }
  });
});

/**
 * The offline gate over the repository's stacks: every stack passes with zero mandatory violations;
 * the bad-residency fixture is rejected (by the config validator before anything is declared, and by
 * the pack when the same change reaches it with validation bypassed).
 */
import { expect } from "chai";
import type { Plan, PlannedResource } from "../../tools/plan/types";
import { formatGateResult, gateStack, runPolicyGate } from "../../tools/policy/gate";
import { planOf } from "../helpers/plan";
import { closeSession, servedSession, session } from "./helpers";

const STACKS = ["dev", "prod"];

describe("policy gate: repository stacks", function () {
  this.timeout(300_000);
  after(closeSession);

  for (const stack of STACKS) {
    it(`${stack} passes with zero mandatory violations (the pack served over gRPC, as the engine runs it)`, async () => {
      const result = await runPolicyGate(await planOf(stack), { session: await servedSession() });
      const mandatory = result.diagnostics.filter((d) => d.enforcementLevel === "mandatory");
      expect(mandatory.map((d) => `${d.policyName}: ${d.detail}`)).to.deep.equal([]);
      expect(result.passed).to.equal(true);
      expect(result.analyzed).to.be.greaterThan(50);
    });
  }

  it("prints the coverage of the prod plan's resource types", async () => {
    const result = await runPolicyGate(await planOf("prod"), { session: await session() });
    const c = result.coverage;
    console.log(
      `      coverage (prod): ${c.covered.length}/${c.types.length} resource types covered by a specific rule; uncovered: ${c.uncovered.join(", ") || "none"}`,
    );
    // The plan grows as areas land; every aws/gcp type is at least under the residency catch-all, and
    // a type that appears gets a specific rule soon after (100% when this was written: 99/99 types).
    expect(c.covered.length / c.types.length).to.be.greaterThan(0.9);
    expect(c.types.filter((t) => !/^(aws|gcp):/.test(t) && !t.startsWith("random:"))).to.deep.equal([]);
    expect(formatGateResult(result)).to.match(/^PASSED: 0 mandatory/m);
  });
});

describe("policy gate: the bad-residency fixture", function () {
  this.timeout(300_000);
  after(closeSession);

  it("is rejected: its br cell is outside Brazil and it tries to turn encryption off", async () => {
    const result = await gateStack(
      { stack: "bad-residency", stackFile: "test/fixtures/Pulumi.bad-residency.yaml" },
      { session: await session() },
    );
    expect(result.passed).to.equal(false);
    expect(result.configProblems).to.deep.equal([
      "lakehouse:encryption: unknown key",
      "lakehouse:cells[0].aws.region: 'us-east-1' is outside jurisdiction 'br' (LGPD); allowed: sa-east-1",
      "lakehouse:cells[0].gcp.region: 'us-central1' is outside jurisdiction 'br' (LGPD); allowed: southamerica-east1",
    ]);
    expect(formatGateResult(result)).to.contain("FAILED: invalid stack config");
  });

  it("is rejected by the pack too when config validation is bypassed (same regions, no S3 or BigQuery CMEK)", async () => {
    const dev = await planOf("dev");
    const moved: PlannedResource[] = dev.resources
      .filter(
        (r) => r.type !== "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
      )
      .map((r) => {
        if (r.type === "pulumi:providers:aws") return { ...r, inputs: { ...r.inputs, region: "us-east-1" } };
        if (r.type === "pulumi:providers:gcp") return { ...r, inputs: { ...r.inputs, region: "us-central1" } };
        if (r.type === "gcp:bigquery/dataset:Dataset") {
          const { defaultEncryptionConfiguration: _drop, ...inputs } = r.inputs;
          void _drop;
          return { ...r, inputs, outputs: { ...r.outputs, defaultEncryptionConfiguration: undefined } };
        }
        return r;
      });
    const plan: Plan = { ...dev, stack: "bad-residency", resources: moved };
    const result = await runPolicyGate(plan, { session: await session() });
    const details = result.diagnostics
      .filter((d) => d.enforcementLevel === "mandatory")
      .map((d) => `${d.policyName}: ${d.detail}`);
    expect(result.passed).to.equal(false);
    const providers = dev.resources.filter(
      (r) => r.type === "pulumi:providers:aws" || r.type === "pulumi:providers:gcp",
    );
    for (const p of providers) {
      const expected =
        p.type === "pulumi:providers:aws"
          ? `resource-residency: pulumi:providers:aws '${p.name}' is in 'us-east-1' (region), outside jurisdiction 'br' (LGPD); allowed AWS regions: sa-east-1.`
          : `resource-residency: pulumi:providers:gcp '${p.name}' is in 'us-central1' (region), outside jurisdiction 'br' (LGPD); allowed GCP locations: southamerica-east1.`;
      expect(details).to.include(expected);
    }
    for (const b of dev.resources.filter((r) => r.type === "aws:s3/bucket:Bucket")) {
      expect(details).to.include(
        `resource-residency: aws:s3/bucket:Bucket '${b.name}' is in 'us-east-1' (provider region), outside jurisdiction 'br' (LGPD); allowed AWS regions: sa-east-1.`,
      );
      expect(details).to.include(
        `s3-bucket-cmk-encryption: aws:s3/bucket:Bucket '${b.name}' has no BucketServerSideEncryptionConfiguration, so it is encrypted with the S3-managed key only.`,
      );
    }
    const datasets = dev.resources.filter(
      (r) => r.type === "gcp:bigquery/dataset:Dataset" && !String(r.inputs.location ?? "").startsWith("aws-"),
    );
    expect(datasets.length).to.be.greaterThan(0);
    for (const d of datasets) {
      expect(details).to.include(
        `bigquery-cmek: gcp:bigquery/dataset:Dataset '${d.name}' has no customer-managed key: set defaultEncryptionConfiguration.kmsKeyName.`,
      );
    }
  });
});

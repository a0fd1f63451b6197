/**
 * Preview unknowns and the pack config. The cases that name a protobuf request (AnalyzeRequest,
 * AnalyzeStackRequest, ConfigureAnalyzerRequest, GetAnalyzerInfo) go to the pack served by
 * `@pulumi/policy/server`, the engine's sentinel values and all; the others call the policies in process.
 */
import { expect } from "chai";
import { DEFAULT_SETTINGS, readSettings } from "../../policy/config";
import { checkedWhenKnownMessage, unknownMessage } from "../../policy/rules/common";
import { JURISDICTIONS } from "../../components/config/jurisdictions";
import { gatePackConfig } from "../../tools/policy/gate";
import { providerIndex, UNKNOWN } from "../../tools/policy/requests";
import { closeSession, gate, mutate, planBaseline, servedSession } from "./helpers";

describe("policy pack: unknown values at preview", function () {
  this.timeout(120_000);
  after(closeSession);

  it("an unknown location fails the residency rule closed (AnalyzeRequest with the sentinel)", async () => {
    const s = await servedSession();
    await s.configure(gatePackConfig());
    const resources = mutate(await planBaseline(), "br-gcp-staging", (i) => (i.location = UNKNOWN));
    const bucket = resources.find((r) => r.type === "gcp:storage/bucket:Bucket" && r.name === "br-gcp-staging")!;
    const diags = await s.analyze(bucket, providerIndex(resources));
    expect(diags.map((d) => [d.policyName, d.enforcementLevel, d.message])).to.deep.equal([
      [
        "resource-residency",
        "mandatory",
        `Every resource and provider is located in its cell's jurisdiction.\n${unknownMessage("location")}`,
      ],
    ]);
  });

  it("an unknown retention value is checked when known: an advisory naming it, not a silent pass", async () => {
    const r = await gate(
      mutate(await planBaseline(), "br-ingestion-merge-logs-output", (i) => (i.retentionInDays = UNKNOWN)),
    );
    expect(r.diagnostics.map((d) => [d.policyName, d.enforcementLevel, d.detail])).to.deep.equal([
      ["log-retention", "advisory", checkedWhenKnownMessage("retentionInDays")],
    ]);
    expect(r.passed).to.equal(true);
  });

  it("the same rule enforces the value once it is known (as the update sends it)", async () => {
    const r = await gate(
      mutate(await planBaseline(), "br-ingestion-merge-logs-output", (i) => (i.retentionInDays = 3650)),
    );
    expect(r.diagnostics.map((d) => [d.policyName, d.enforcementLevel])).to.deep.equal([
      ["log-retention", "mandatory"],
    ]);
    expect(r.passed).to.equal(false);
  });

  it("an unknown bucket policy is checked when known and names the resource (AnalyzeStackRequest)", async () => {
    const s = await servedSession();
    await s.configure(gatePackConfig());
    const resources = mutate(await planBaseline(), "br-aws-raw-policy", (i) => (i.policy = UNKNOWN));
    const diags = await s.analyzeStack(resources);
    const tls = diags.filter((d) => d.policyName === "s3-tls-only");
    expect(tls.map((d) => [d.enforcementLevel, d.urn.endsWith("::br-aws-raw-policy")])).to.deep.equal([
      ["advisory", true],
    ]);
    expect(tls[0].message).to.contain(
      checkedWhenKnownMessage("policy", "aws:s3/bucketPolicy:BucketPolicy 'br-aws-raw-policy'"),
    );
  });

  it("a stack rule goes on past an unknown: a known violation on another resource still fails", async () => {
    const unknownRaw = mutate(await planBaseline(), "br-aws-raw-policy", (i) => (i.policy = UNKNOWN));
    const landing = unknownRaw.find(
      (r) => r.type === "aws:s3/bucketPolicy:BucketPolicy" && r.name !== "br-aws-raw-policy",
    )!;
    const broken = mutate(unknownRaw, landing.name, (i) => (i.policy = JSON.stringify({ Statement: [] })));
    const r = await gate(broken);
    const tls = r.diagnostics.filter((d) => d.policyName === "s3-tls-only");
    expect(tls.map((d) => [d.enforcementLevel, d.resourceName ?? d.urn.split("::").pop()]).sort()).to.deep.equal([
      ["advisory", "br-aws-raw-policy"],
      ["mandatory", landing.name],
    ]);
    expect(r.passed).to.equal(false);
  });

  it("an unknown reference joined by a property dependency is verified at preview, not deferred", async () => {
    const baseline = await planBaseline();
    const r = await gate(mutate(baseline, "br-pseudonymisation-key-aws-version", (i) => (i.secretId = UNKNOWN)));
    expect(r.diagnostics).to.deep.equal([]);
    // Without the dependency the join cannot be made: checked when known, never "not declared".
    const unjoined = mutate(baseline, "br-pseudonymisation-key-aws-version", (i, m) => {
      i.secretId = UNKNOWN;
      m.propertyDependencies = {};
    });
    const d = (await gate(unjoined)).diagnostics;
    expect(d.map((x) => [x.policyName, x.enforcementLevel])).to.deep.equal([
      ["secret-versions-in-managed-secrets", "advisory"],
    ]);
  });

  it("an unknown key reference (a key created in the same update) is an advisory that names it, not a silent pass", async () => {
    const r = await gate(
      mutate(await planBaseline(), "br-ingestion-alerts-topic", (i) => (i.kmsMasterKeyId = UNKNOWN)),
    );
    expect(r.passed).to.equal(true);
    expect(r.diagnostics.map((d) => [d.policyName, d.enforcementLevel, d.detail])).to.deep.equal([
      [
        "stores-cmek",
        "advisory",
        "aws:sns/topic:Topic 'br-ingestion-alerts-topic': 'kmsMasterKeyId' is unknown during preview; it is assumed to reference a customer-managed key created in this update and is checked again at `pulumi up`.",
      ],
    ]);
  });

  it("unknown provider default tags fail closed (the jurisdiction cannot be told)", async () => {
    const r = await gate(mutate(await planBaseline(), "br-gcp", (i) => (i.defaultLabels = UNKNOWN)));
    expect(r.passed).to.equal(false);
    expect(r.diagnostics.every((d) => d.enforcementLevel === "mandatory")).to.equal(true);
    expect(r.diagnostics.some((d) => d.detail === unknownMessage("defaultLabels"))).to.equal(true);
  });
});

describe("policy pack: config", function () {
  this.timeout(120_000);
  after(closeSession);

  it("defaults match the program's residency table (components/config/jurisdictions.ts)", () => {
    for (const [id, j] of Object.entries(JURISDICTIONS)) {
      const mine = DEFAULT_SETTINGS.jurisdictions[id];
      expect(mine.law, id).to.equal(j.law);
      expect(mine.awsRegions, id).to.deep.equal(j.awsRegions);
      // The pack also allows the jurisdiction's BigQuery Omni locations (aws-*), which are not GCP regions.
      expect(
        mine.gcpLocations.filter((l) => !l.startsWith("aws-")),
        id,
      ).to.deep.equal(j.gcpRegions);
      expect(mine.retentionCeilingDays, id).to.deep.equal(j.retentionCeilingDays);
      expect(mine.auditFloorDays, id).to.equal(j.auditFloorDays);
      expect(mine.erasureSlaCeilingDays, id).to.equal(j.erasureSlaCeilingDays);
    }
    expect(DEFAULT_SETTINGS.bigQueryTimeTravelHours).to.deep.equal({ min: 48, max: 168 });
  });

  it("merges a partial config over the defaults", () => {
    const s = readSettings({ jurisdictions: { br: { auditFloorDays: 365 } }, maxKeyRotationDays: 90 });
    expect(s.jurisdictions.br.auditFloorDays).to.equal(365);
    expect(s.jurisdictions.br.awsRegions).to.deep.equal(["sa-east-1"]);
    expect(s.jurisdictions.eu.erasureSlaCeilingDays).to.equal(30);
    expect(s.maxKeyRotationDays).to.equal(90);
  });

  it("configure() changes the bounds the rules apply", async () => {
    const r = await gate(await planBaseline(), {
      settings: { jurisdictions: { br: { awsRegions: ["eu-west-1"] } } },
    });
    expect(r.diagnostics.filter((d) => d.policyName === "resource-residency").map((d) => d.detail)).to.include(
      "pulumi:providers:aws 'br-aws' is in 'sa-east-1' (region), outside jurisdiction 'br' (LGPD); allowed AWS regions: eu-west-1.",
    );
  });

  it("configure() sets the enforcement level per policy (advisory passes, disabled is silent)", async () => {
    const broken = mutate(await planBaseline(), "br-aws-lake-key", (i) => (i.enableKeyRotation = false));
    const advisory = await gate(broken, { enforcementLevels: { "kms-key-rotation": "advisory" } });
    expect(advisory.diagnostics.map((d) => [d.policyName, d.enforcementLevel])).to.deep.equal([
      ["kms-key-rotation", "advisory"],
    ]);
    expect(advisory.passed).to.equal(true);
    const disabled = await gate(broken, { enforcementLevels: { "kms-key-rotation": "disabled" } });
    expect(disabled.diagnostics).to.deep.equal([]);
  });

  it("getAnalyzerInfo lists every policy of the pack", async () => {
    const s = await servedSession();
    expect(s.packName).to.equal("lakehouse-compliance");
    expect(s.policies.map((p) => p.name).sort()).to.deep.equal(Object.keys(gatePackConfig()).sort());
  });
});

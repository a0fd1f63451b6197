/**
 * Rules that cover the networking, alerting and scheduling types of the plan: behaviour that the
 * one-mutation table in rules.test.ts cannot express (advisories of mandatory rules, the cron reader,
 * and the rules applied to the real prod plan with one field changed).
 */
import { expect } from "chai";
import { cronLongestGapDays } from "../../policy/rules/retention";
import { runPolicyGate } from "../../tools/policy/gate";
import { UNKNOWN } from "../../tools/policy/requests";
import type { Plan, PlannedResource } from "../../tools/plan/types";
import { planOf } from "../helpers/plan";
import { closeSession, gate, lines, mutate, planBaseline, session } from "./helpers";

describe("policy pack: coverage rules", function () {
  this.timeout(300_000);
  after(closeSession);

  it("an endpoint without a policy is an advisory naming AWS's full-access default, not a pass", async () => {
    const r = await gate(mutate(await planBaseline(), "br-ingestion-network-s3", (i) => delete i.policy));
    expect(r.passed).to.equal(true);
    expect(r.diagnostics.map((d) => [d.policyName, d.enforcementLevel, d.detail])).to.deep.equal([
      [
        "vpc-endpoints-private",
        "advisory",
        "aws:ec2/vpcEndpoint:VpcEndpoint 'br-ingestion-network-s3' has no endpoint policy, so AWS applies the default policy that allows every action on every resource of 'com.amazonaws.sa-east-1.s3'.",
      ],
    ]);
  });

  it("an alert policy without notification channels is an advisory (incidents reach nobody)", async () => {
    const r = await gate(
      mutate(await planBaseline(), "br-clickstream-alerts-dead-letters", (i) => (i.notificationChannels = [])),
    );
    expect(r.passed).to.equal(true);
    expect(r.diagnostics.map((d) => [d.policyName, d.enforcementLevel, d.detail])).to.deep.equal([
      [
        "alerts-routed-in-jurisdiction",
        "advisory",
        "gcp:monitoring/alertPolicy:AlertPolicy 'br-clickstream-alerts-dead-letters' has no notificationChannels: its incidents show only in the Cloud console and notify nobody.",
      ],
    ]);
  });

  it("joins fall back on dependencies when a referenced id or ARN is unknown at preview (no fail-closed on a reference)", async () => {
    const baseline = await planBaseline();
    let r = mutate(baseline, "br-ingestion-orders-source", (i) => (i.certificateArn = UNKNOWN));
    r = mutate(r, "br-ingestion-subnets", (i) => (i.subnetIds = [UNKNOWN]));
    r = mutate(r, "br-ingestion-orders-events", (i) => (i.arn = UNKNOWN), "aws:cloudwatch/eventTarget:EventTarget");
    r = mutate(r, "br-ingestion-orders-cdclatencysource", (i) => (i.alarmActions = [UNKNOWN]));
    r = mutate(r, "br-ingestion-network-flow-logs", (i) => (i.logDestination = UNKNOWN), "aws:ec2/flowLog:FlowLog");
    r = mutate(r, "br-gcp-keys-pubsub-agent", (_i, x) => (x.outputs = { email: UNKNOWN, member: UNKNOWN }));
    expect(lines((await gate(r)).diagnostics)).to.deep.equal([]);
    // Without the dependency, the same unknown certificate cannot be placed: reported, not passed.
    const orphan = mutate(baseline, "br-ingestion-orders-source", (i, x) => {
      i.certificateArn = UNKNOWN;
      x.propertyDependencies = {};
    });
    expect(lines((await gate(orphan)).diagnostics)).to.deep.equal([
      "dms-tls-trust: aws:dms/endpoint:Endpoint 'br-ingestion-orders-source' verifies the source against 'a certificate created elsewhere', a certificate not declared in this stack.",
    ]);
  });

  it("the eu erasure SLA (30 days) accepts a fortnightly merge that br (15 days) rejects", async () => {
    const fortnightly = mutate(
      await planBaseline(),
      "br-ingestion-merge-orders-schedule",
      (i) => (i.schedule = "cron(0 2 1,17 * ? *)"),
    );
    expect(lines((await gate(fortnightly)).diagnostics)).to.deep.equal([
      "erasure-propagation-scheduled: aws:glue/trigger:Trigger 'br-ingestion-merge-orders-schedule' can leave 16 days between runs ('cron(0 2 1,17 * ? *)'); the LGPD erasure SLA is 15 days.",
    ]);
    const relaxed = await gate(fortnightly, { settings: { jurisdictions: { br: { erasureSlaCeilingDays: 30 } } } });
    expect(lines(relaxed.diagnostics)).to.deep.equal([]);
  });

  it("reads the longest gap between runs of a cron expression", () => {
    expect(cronLongestGapDays("cron(0/15 * * * ? *)")).to.equal(1);
    expect(cronLongestGapDays("cron(0 2 ? * MON *)")).to.equal(7);
    expect(cronLongestGapDays("cron(0 2 ? * MON-FRI *)")).to.equal(3);
    expect(cronLongestGapDays("cron(0 2 */10 * ? *)")).to.equal(10);
    expect(cronLongestGapDays("cron(0 2 1 * ? *)")).to.equal(31);
    expect(cronLongestGapDays("cron(0 2 * 1,7 ? *)")).to.equal(186);
    expect(cronLongestGapDays("cron(0 2 L * ? *)")).to.equal(undefined);
    expect(cronLongestGapDays("rate(1 day)")).to.equal(undefined);
  });

  /** The prod plan with `fn` applied to the first resource of `type` (outputs follow the inputs). */
  async function prodWith(
    type: string,
    fn: (inputs: Record<string, unknown>) => void,
  ): Promise<{ plan: Plan; changed: PlannedResource }> {
    const prod = await planOf("prod");
    let changed: PlannedResource | undefined;
    const resources = prod.resources.map((r) => {
      if (changed || r.type !== type) return r;
      const inputs = structuredClone(r.inputs);
      fn(inputs);
      changed = { ...r, inputs, outputs: { ...r.outputs, ...inputs } };
      return changed;
    });
    if (!changed) throw new Error(`no ${type} in the prod plan`);
    return { plan: { ...prod, resources }, changed };
  }

  const mandatoryOf = async (plan: Plan) =>
    (await runPolicyGate(plan, { session: await session() })).diagnostics
      .filter((d) => d.enforcementLevel === "mandatory")
      .map((d) => `${d.policyName}: ${d.detail}`);

  it("on the prod plan: a flow log of rejected traffic only fails its VPC (the join works on real URNs and ids)", async () => {
    const { plan, changed } = await prodWith("aws:ec2/flowLog:FlowLog", (i) => (i.trafficType = "REJECT"));
    const vpc = plan.resources.find((r) => r.urn === changed.propertyDependencies.vpcId?.[0]);
    expect(await mandatoryOf(plan)).to.deep.equal([
      `network-flow-logs: aws:ec2/flowLog:FlowLog '${changed.name}' records 'REJECT' traffic only; set trafficType to 'ALL' (accepted connections are the ones that move data).`,
      `network-flow-logs: aws:ec2/vpc:Vpc '${vpc?.name}' has no flow log recording ALL traffic.`,
    ]);
  });

  it("on the prod plan: an internet route in the ingestion route table fails the table, its associations and the DMS subnet group", async () => {
    const { plan, changed } = await prodWith(
      "aws:ec2/routeTable:RouteTable",
      (i) => (i.routes = [{ cidrBlock: "0.0.0.0/0", gatewayId: "igw-0123" }]),
    );
    const found = await mandatoryOf(plan);
    const cell = changed.name.split("-")[0];
    expect(found).to.include(
      `private-network-routing: aws:ec2/routeTable:RouteTable '${changed.name}' routes to the internet: 0.0.0.0/0 -> internet gateway 'igw-0123'.`,
    );
    const associations = plan.resources.filter(
      (r) =>
        r.type === "aws:ec2/routeTableAssociation:RouteTableAssociation" &&
        r.propertyDependencies.routeTableId?.includes(changed.urn),
    );
    expect(associations.length).to.equal(3);
    for (const a of associations)
      expect(found).to.include(
        `private-network-routing: aws:ec2/routeTableAssociation:RouteTableAssociation '${a.name}' puts a subnet behind aws:ec2/routeTable:RouteTable '${changed.name}', which routes to the internet.`,
      );
    expect(found.filter((f) => f.includes(`ReplicationSubnetGroup '${cell}-`)).length).to.equal(3);
  });

  it("on the prod plan: a DMS target writing SSE-S3 into another cell's bucket fails encryption and residency", async () => {
    const prod = await planOf("prod");
    const euRaw = prod.resources.find(
      (r) => r.type === "aws:s3/bucket:Bucket" && r.cell === "eu" && r.name.endsWith("-raw"),
    );
    const { plan, changed } = await prodWith("aws:dms/s3Endpoint:S3Endpoint", (i) => {
      i.encryptionMode = "SSE_S3";
      i.bucketName = euRaw?.outputs.bucket;
    });
    const plan2: Plan = {
      ...plan,
      resources: plan.resources.map((r) =>
        r.urn === changed.urn ? { ...r, propertyDependencies: { ...r.propertyDependencies, bucketName: [] } } : r,
      ),
    };
    expect(await mandatoryOf(plan2)).to.deep.equal([
      `stores-cmek: aws:dms/s3Endpoint:S3Endpoint '${changed.name}' writes with encryptionMode 'SSE_S3'; set it to 'SSE_KMS' with serverSideEncryptionKmsKeyId.`,
      `replication-residency: aws:dms/s3Endpoint:S3Endpoint '${changed.name}' writes CDC files to aws:s3/bucket:Bucket '${euRaw?.name}' in 'eu-west-1' (jurisdiction 'eu'), outside its own jurisdiction 'br'.`,
    ]);
  });
});

/**
 * Event streams in the offline plans. prod: one private, encrypted MSK cluster per cell that declares kafka,
 * one Firehose stream per topic into the cell's curated Iceberg tables, least-privilege roles, alarms to the
 * cell's ingestion alerts, and the policy gate passes. dev: the existing-Kafka path (MSK Connect), whose
 * connectors appear only once `networkReady`.
 */
import { expect } from "chai";
import { runPolicyGate } from "../../../tools/policy/gate";
import { inProcessAnalyzer } from "../../../tools/policy/in-process";
import { evaluateStack } from "../../../tools/plan/evaluate";
import { readStackConfig } from "../../../tools/plan/stack-config";
import type { Plan, PlannedResource } from "../../../tools/plan/types";
import { configOf, ofType, planOf } from "../../helpers/plan";

const CLUSTER = "aws:msk/cluster:Cluster";
const FIREHOSE = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream";
const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";

const named = (plan: Plan, type: string, name: string): PlannedResource => {
  const r = plan.resources.find((x) => x.type === type && x.name === name);
  if (!r) throw new Error(`no ${type} ${name}`);
  return r;
};
/** The inline policy of the ServiceRole named `role`. */
const policyOf = (plan: Plan, role: string) =>
  JSON.parse(String(named(plan, "aws:iam/rolePolicy:RolePolicy", role).inputs.policy)) as {
    Statement: { Sid: string; Action: string | string[]; Resource: string | string[] }[];
  };
const arr = (v: string | string[]) => (Array.isArray(v) ? v : [v]);

describe("event streams in the plans", function () {
  this.timeout(600_000);

  it("prod: each cell declaring kafka gets one private, IAM-only MSK cluster under its lake key, topics sized from scale", async () => {
    const prod = await planOf("prod");
    const cells = [...new Set(configOf("prod").sources.kafka.map((k) => k.cell))];
    expect(cells).to.deep.equal(["br", "eu"]);
    for (const cell of cells) {
      const clusters = ofType(prod, CLUSTER, cell);
      expect(clusters.map((c) => c.name)).to.deep.equal([`${cell}-sources-web-events-${cell}-cluster`]);
      const c = clusters[0].inputs as Record<string, any>;
      const lakeKey = ofType(prod, "aws:kms/key:Key", cell).find((k) => k.name === `${cell}-aws-lake-key`);
      expect(c.encryptionInfo.encryptionAtRestKmsKeyArn).to.equal(lakeKey?.outputs.arn);
      expect(c.encryptionInfo.encryptionInTransit).to.deep.equal({ clientBroker: "TLS", inCluster: true });
      expect(c.clientAuthentication).to.deep.equal({ sasl: { iam: true, scram: false }, unauthenticated: false });
      expect(c.brokerNodeGroupInfo.connectivityInfo.publicAccess).to.deep.equal({ type: "DISABLED" });
      expect(c.brokerNodeGroupInfo.instanceType).to.equal("kafka.m7g.xlarge");
      expect(c.numberOfBrokerNodes).to.equal(9);
      // Brokers in the cell's private ingestion subnets, behind a group open to the VPC on the Kafka IAM ports only.
      const subnets = ofType(prod, "aws:ec2/subnet:Subnet", cell).map((s) => s.id);
      expect(c.brokerNodeGroupInfo.clientSubnets).to.have.members(subnets);
      const sg = named(
        prod,
        "aws:ec2/securityGroup:SecurityGroup",
        `${cell}-sources-web-events-${cell}-cluster-brokers`,
      );
      const vpc = ofType(prod, "aws:ec2/vpc:Vpc", cell)[0];
      expect((sg.inputs.ingress as any[]).map((i) => [i.fromPort, i.toPort, i.cidrBlocks])).to.deep.equal([
        [9098, 9098, [vpc.inputs.cidrBlock]],
        [14001, 14100, [vpc.inputs.cidrBlock]],
      ]);
      expect(sg.inputs.egress).to.deep.equal([]);
      const topics = ofType(prod, "aws:msk/topic:Topic", cell).map((t) => [t.inputs.name, t.inputs.partitionCount]);
      expect(topics.sort()).to.deep.equal([
        ["cart-events", 21],
        ["loyalty-balances", 3],
        ["search-events", 21],
      ]);
    }
  });

  it("prod: one Firehose stream per topic, private MSK source, into the cell's curated table, errors under the raw bucket", async () => {
    const prod = await planOf("prod");
    for (const cell of ["br", "eu"]) {
      const streams = ofType(prod, FIREHOSE, cell);
      expect(streams.map((s) => s.inputs.name).sort()).to.deep.equal(
        ["cart-events", "loyalty-balances", "search-events"].map(
          (t) => `lakehouse-prod-${cell}-web-events-${cell}-${t}`,
        ),
      );
      const raw = ofType(prod, "aws:s3/bucket:Bucket", cell).find((b) => b.name.endsWith("-raw"));
      const curated = ofType(prod, "aws:glue/catalogDatabase:CatalogDatabase", cell).find((d) =>
        d.name.endsWith("curated"),
      );
      for (const s of streams) {
        const i = s.inputs as Record<string, any>;
        expect(i.destination).to.equal("iceberg");
        expect(i.mskSourceConfiguration.authenticationConfiguration.connectivity).to.equal("PRIVATE");
        const table = i.icebergConfiguration.destinationTableConfigurations[0];
        expect(table.databaseName).to.equal(curated?.outputs.name);
        expect(i.icebergConfiguration.s3Configuration.bucketArn).to.equal(raw?.outputs.arn);
        expect(i.icebergConfiguration.s3Configuration.kmsKeyArn).to.match(/^arn:aws:kms:/);
        expect(i.icebergConfiguration.s3BackupMode).to.equal("FailedDataOnly");
        expect(table.s3ErrorOutputPrefix).to.equal(
          `kafka/web-events-${cell}/${i.mskSourceConfiguration.topicName}/errors/`,
        );
        expect(i.icebergConfiguration.cloudwatchLoggingOptions.enabled).to.equal(true);
      }
      const keyed = streams.find(
        (s) => s.inputs.name === `lakehouse-prod-${cell}-web-events-${cell}-loyalty-balances`,
      )!;
      expect((keyed.inputs as any).icebergConfiguration.appendOnly).to.equal(false);
      expect((keyed.inputs as any).icebergConfiguration.destinationTableConfigurations[0].uniqueKeys).to.deep.equal([
        "customer_pseudo_id",
      ]);
      // The schemaless topics go through the landing-record processor.
      const cart = streams.find((s) => String(s.inputs.name).endsWith("cart-events"))!;
      expect((cart.inputs as any).icebergConfiguration.processingConfiguration.processors[0].type).to.equal("Lambda");
    }
  });

  it("prod: a stream's role reads its topic only and writes its table's prefix and its error prefix only", async () => {
    const prod = await planOf("prod");
    const doc = policyOf(prod, "br-sources-web-events-br-cart-events-role");
    const bySid = Object.fromEntries(doc.Statement.map((s) => [s.Sid, arr(s.Resource)]));
    expect(bySid.MskTopic).to.have.length(1);
    expect(bySid.MskTopic[0]).to.match(/:topic\/lakehouse-prod-br-web-events-br(\/[^/]+)?\/cart-events$/);
    expect(bySid.TableFiles[0]).to.match(/\/curated\/web-events-br\/web_events_br_cart_events\/\*$/);
    expect(bySid.ErrorRecords[0]).to.match(/\/kafka\/web-events-br\/cart-events\/errors\/\*$/);
    expect(bySid.IcebergTable.filter((r) => r.includes(":table/"))).to.have.length(1);
    expect(bySid.IcebergTable.find((r) => r.includes(":table/"))).to.match(/\/web_events_br_cart_events$/);
    for (const s of doc.Statement) for (const a of arr(s.Action)) expect(a, s.Sid).not.to.include("*");
    // Producers get a policy to attach: connect, and write the source's three topics only.
    const producers = named(prod, "aws:iam/policy:Policy", "br-sources-web-events-br-cluster-producers");
    const p = JSON.parse(String(producers.inputs.policy)) as typeof doc;
    expect(p.Statement.map((s) => [s.Sid, arr(s.Action)])).to.deep.equal([
      ["Connect", ["kafka-cluster:Connect"]],
      ["WriteTopics", ["kafka-cluster:DescribeTopic", "kafka-cluster:WriteData"]],
    ]);
    expect(arr(p.Statement[1].Resource).map((r) => r.slice(r.lastIndexOf("/") + 1))).to.deep.equal([
      "cart-events",
      "search-events",
      "loyalty-balances",
    ]);
  });

  it("prod: freshness and failed-row alarms per stream, disk alarms per broker, all to the cell's ingestion alerts", async () => {
    const prod = await planOf("prod");
    const topic = ofType(prod, "aws:sns/topic:Topic", "br").find((t) =>
      String(t.inputs.name).endsWith("ingestion-alerts"),
    );
    const alarms = ofType(prod, ALARM, "br").filter((a) => a.name.startsWith("br-sources-web-events-br"));
    const metrics = alarms.map((a) => String(a.inputs.metricName));
    expect(metrics.filter((m) => m === "DeliveryToIceberg.DataFreshness")).to.have.length(3);
    expect(metrics.filter((m) => m === "DeliveryToIceberg.FailedRowCount")).to.have.length(3);
    expect(metrics.filter((m) => m === "KafkaDataLogsDiskUsed")).to.have.length(9);
    for (const a of alarms) expect(a.inputs.alarmActions, a.name).to.deep.equal([topic?.outputs.arn]);
  });

  it("prod: the policy gate passes, with no diagnostic on an event-stream resource", async () => {
    // The pack's policies in process (test/policy/in-process.test.ts holds them to the served pack).
    const result = await runPolicyGate(await planOf("prod"), { session: inProcessAnalyzer() });
    expect(result.passed).to.equal(true);
    const mine = result.diagnostics.filter((d) => /web-events/.test(d.detail ?? ""));
    expect(mine).to.deep.equal([]);
  });

  it("dev: an existing Kafka deploys its secret, role, worker config and tables; connectors only once networkReady", async () => {
    const dev = await planOf("dev");
    expect(ofType(dev, CLUSTER)).to.deep.equal([]);
    expect(ofType(dev, "aws:mskconnect/workerConfiguration:WorkerConfiguration").map((w) => w.name)).to.deep.equal([
      "br-sources-partner-events-connect-worker",
    ]);
    expect(ofType(dev, "aws:mskconnect/connector:Connector")).to.deep.equal([]);
    const secret = named(dev, "aws:secretsmanager/secret:Secret", "br-sources-partner-events-connect-credentials");
    expect(secret.inputs.kmsKeyId).to.match(/^arn:aws:kms:/);
    const tables = ofType(dev, "aws:glue/catalogTable:CatalogTable").filter((t) =>
      String(t.inputs.name).startsWith("partner_events_"),
    );
    expect(tables.map((t) => t.inputs.name).sort()).to.deep.equal([
      "partner_events_partner_clicks",
      "partner_events_shipment_status",
    ]);

    const { config } = readStackConfig("dev");
    const sources = JSON.parse(config["lakehouse:sources"]) as { kafka: Record<string, unknown>[] };
    sources.kafka[0].networkReady = true;
    const ready = await evaluateStack({ stack: "dev", configOverrides: { "lakehouse:sources": sources } });
    const connectors = ofType(ready, "aws:mskconnect/connector:Connector");
    expect(connectors.map((c) => c.inputs.name).sort()).to.deep.equal([
      "lakehouse-dev-br-partner-events-partner-clicks",
      "lakehouse-dev-br-partner-events-shipment-status",
    ]);
    for (const c of connectors) {
      const i = c.inputs as Record<string, any>;
      expect(i.kafkaClusterEncryptionInTransit).to.deep.equal({ encryptionType: "TLS" });
      expect(i.kafkaCluster.apacheKafkaCluster.bootstrapServers).to.equal(
        "kafka-1.dev.acme.internal:9096,kafka-2.dev.acme.internal:9096",
      );
      expect(JSON.stringify(i.connectorConfiguration)).not.to.include("replace-with");
    }
    const errored = ofType(ready, ALARM).filter((a) => a.inputs.metricName === "ErroredTaskCount");
    expect(errored).to.have.length(2);
    const gate = await runPolicyGate(ready, { session: inProcessAnalyzer() });
    expect(gate.passed).to.equal(true);
  });
});

/**
 * Stream sizing at the prod scale (100 million transactions and 2 billion clickstream events a day, peak x4)
 * and at 10x and 100x: MB/s per topic and partition, the cluster each mode needs, and the documented limit that
 * binds first in sa-east-1 (br) and eu-west-1 (eu). The figures are the ADR's (docs/adr/0011).
 */
import { expect } from "chai";
import type { KafkaSource, Scale } from "../../../components/config/schema";
import { firehoseUpsertMiBps, MSK_SERVERLESS } from "../../../components/aws/sources/kafka/limits";
import {
  cellStreamProblems,
  chooseBrokers,
  HEADROOM,
  sizeStream,
  sizeTopic,
} from "../../../components/aws/sources/kafka/stream-sizing";
import { scaleOf } from "../../../components/aws/sources/event-stream";
import { deriveSizing } from "../../../components/config/sizing";

const PROD: Scale = { transactionsPerDay: 100_000_000, clickstreamEventsPerDay: 2_000_000_000, peakFactor: 4 };
const times = (k: number): Scale => ({
  ...PROD,
  transactionsPerDay: PROD.transactionsPerDay * k,
  clickstreamEventsPerDay: PROD.clickstreamEventsPerDay * k,
});
const source = (over: Partial<KafkaSource> = {}): KafkaSource => ({
  name: "web-events-br",
  cell: "br",
  mode: "msk-provisioned",
  topics: ["cart-events", "search-events"],
  networkReady: false,
  ...over,
});
const at = "lakehouse:sources.kafka[0]";

describe("kafka stream sizing", () => {
  it("1x prod: two clickstream topics peak at 47.4 MB/s each, 21 partitions of 2.3 MB/s, 9 m7g.xlarge brokers", () => {
    const s = sizeStream(source(), PROD, "sa-east-1", 2, at);
    expect(s.problems).to.deep.equal([]);
    expect(
      s.topics.map((t) => [t.topic, Math.round(t.peakEventsPerSecond), +t.peakMBps.toFixed(1), t.partitions]),
    ).to.deep.equal([
      ["cart-events", 46_296, 47.4, 21],
      ["search-events", 46_296, 47.4, 21],
    ]);
    expect(+s.topics[0].peakMBpsPerPartition.toFixed(2)).to.equal(2.26);
    expect(+s.peakMBps.toFixed(1)).to.equal(94.8);
    expect(s.brokers).to.deep.equal({ instanceType: "kafka.m7g.xlarge", count: 9, storageGiB: 2385 });
  });

  it("10x: throughput moves the cluster up to m7g.8xlarge, and 72 h of broker storage sets the count; MSK Serverless no longer fits", () => {
    const s = sizeStream(source(), times(10), "sa-east-1", 2, at);
    expect(s.problems).to.deep.equal([]);
    expect(s.topics[0].partitions).to.equal(192);
    // 948 MB/s x2 fits 12 m7g.8xlarge; 214,600 GiB of retention at <= 16,384 GiB per broker needs 15.
    expect(s.brokers).to.deep.equal({ instanceType: "kafka.m7g.8xlarge", count: 15, storageGiB: 14306 });
    // Serverless would take it (in eu-west-1 only) up to 200 MBps and 120 partitions per cluster.
    const serverless = sizeStream(source({ mode: "msk-serverless" }), times(10), "eu-west-1", 2, at);
    expect(serverless.problems).to.deep.equal([
      `${at}.mode: 948.1 MB/s at peak (x2 headroom) exceeds MSK Serverless's 200 MBps per cluster; use 'msk-provisioned' or split the topics over several sources`,
      `${at}.topics: 384 partitions exceed MSK Serverless's 120 per cluster; use 'msk-provisioned' or split the topics over several sources`,
    ]);
  });

  it("100x: broker storage for the retention window binds (60 brokers per cluster), then brokers per account (90)", () => {
    const s = sizeStream(source(), times(100), "sa-east-1", 2, at);
    expect(s.brokers?.instanceType).to.equal("kafka.m7g.16xlarge");
    expect(s.problems).to.deep.equal([
      `${at}.brokers: 132 kafka.m7g.16xlarge brokers (9481.5 MB/s at peak, 2145767 GiB for 72 h of retention) exceed the 60 per MSK cluster; split the topics over several sources (clusters) or cells`,
    ]);
    // One topic per source halves each cluster, but not enough, and the account then holds 132 brokers.
    const halves = [0, 1].map((i) =>
      sizeStream(source({ name: `w${i}`, topics: [`t${i}`] }), times(100), "sa-east-1", 2, at),
    );
    expect(halves.map((h) => h.brokers?.count)).to.deep.equal([66, 66]);
    expect(cellStreamProblems(halves, "cell br")).to.deep.equal([
      "cell br: 132 MSK brokers exceed 90 per account; split the cell or ask AWS for more",
    ]);
  });

  it("keyed (upsert) topics bind first, and five times earlier in sa-east-1 than in eu-west-1", () => {
    expect([firehoseUpsertMiBps("sa-east-1"), firehoseUpsertMiBps("eu-west-1")]).to.deep.equal([1, 5]);
    const keyed = (eventsPerDay: number) =>
      source({
        topics: [
          {
            name: "balances",
            columns: [{ name: "id", type: "string" }],
            keys: ["id"],
            eventsPerDay,
            recordBytes: 1024,
          },
        ],
      });
    // 3 million events/day at x4 peak: 142 events/s, 0.14 MiB/s: fine everywhere.
    expect(sizeStream(keyed(3_000_000), PROD, "sa-east-1", 1, at).problems).to.deep.equal([]);
    // 50 million/day: 2.26 MiB/s: over São Paulo's 1 MiB/s, under Ireland's 5.
    expect(sizeStream(keyed(50_000_000), PROD, "sa-east-1", 1, at).problems).to.deep.equal([
      `${at}.topics[0].keys: 'balances' peaks at 2.3 MiB/s, above the 1 MiB/s a Firehose stream that updates Iceberg rows is planned at in sa-east-1; drop keys (append only, deduplicate downstream) or split the topic`,
    ]);
    expect(sizeStream(keyed(50_000_000), PROD, "eu-west-1", 1, at).problems).to.deep.equal([]);
  });

  it("MSK Serverless is not offered in sa-east-1", () => {
    const s = sizeStream(
      source({ mode: "msk-serverless", topics: [{ name: "t", eventsPerDay: 1_000_000 }] }),
      PROD,
      "sa-east-1",
      1,
      at,
    );
    expect(s.problems).to.deep.equal([`${at}.mode: MSK Serverless is not offered in sa-east-1; use 'msk-provisioned'`]);
  });

  it("partitions keep every partition under the serverless 5 MBps at HEADROOM x peak, whatever the volume", () => {
    for (const eventsPerDay of [1, 1e5, 1e7, 3.3e8, 1e9, 7.7e9, 1e11]) {
      const t = sizeTopic(source(), { name: "t", eventsPerDay }, PROD, 1);
      expect(t.partitions % 3, `${eventsPerDay}`).to.equal(0);
      expect(t.peakMBpsPerPartition * HEADROOM).to.be.at.most(MSK_SERVERLESS.partitionIngressMBps);
    }
  });

  it("brokers: a fixed type is kept; the count always spans the three AZs and holds the partition replicas", () => {
    expect(chooseBrokers(1, 30, { instanceType: "kafka.m7g.2xlarge" }).type.instanceType).to.equal("kafka.m7g.2xlarge");
    const { type, count } = chooseBrokers(1, 5000);
    expect(count % 3).to.equal(0);
    expect(type.maxPartitions * count).to.be.at.least(5000);
  });

  it("existing Kafka: MSK Connect workers from the peak, capped per connector", () => {
    const existing = source({
      mode: "existing",
      bootstrapServers: ["k:9096"],
      auth: { type: "sasl-scram", credentials: "c" },
    });
    expect(
      sizeStream(existing, { ...PROD, clickstreamEventsPerDay: 50_000_000 }, "sa-east-1", 2, at).connect,
    ).to.deep.equal({
      mcuPerWorker: 2,
      minWorkers: 1,
      maxWorkers: 1,
    });
    expect(sizeStream(existing, PROD, "sa-east-1", 2, at).problems).to.deep.equal([
      `${at}.topics: 94.8 MB/s at peak needs 24 MSK Connect workers, above 10 per connector; split the topics over several sources`,
    ]);
  });

  it("the component recovers the scale from the cell's sizing", () => {
    const scale = scaleOf(deriveSizing(PROD));
    expect(scale.clickstreamEventsPerDay).to.equal(PROD.clickstreamEventsPerDay);
    expect(scale.peakFactor).to.be.closeTo(4, 1e-9);
  });
});

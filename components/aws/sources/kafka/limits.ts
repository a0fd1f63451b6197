/**
 * The documented limits an event-streaming source runs into, per service and region, each with its source.
 * Pure data: the sizing (./stream-sizing.ts), config validation and the ADR read the same numbers
 * (docs/adr/0011-event-streams-into-iceberg.md). A number marked "planning" is ours, not AWS's: replace it
 * with measured figures (CloudWatch `BytesInPerSec`, `DataFreshness`) once the stream runs.
 */

import { AWS_STREAM_FACTS } from "../../../config/regions";

/** Decimal megabyte: MSK quotas are stated in MBps. Firehose's in MiB/s are converted with MIB. */
export const MB = 1_000_000;
export const MIB = 1024 * 1024;

/**
 * MSK Serverless quotas ("Amazon MSK quota", MSK developer guide, section "MSK Serverless quota"): per cluster
 * 200 MBps in and 400 MBps out, per partition 5 MBps in and 10 MBps out, 120 partitions, 3 clusters per account.
 * The partition count is the value of the table we could verify; AWS raises quotas over time, so check
 * Service Quotas before relying on a larger one.
 */
export const MSK_SERVERLESS = {
  clusterIngressMBps: 200,
  clusterEgressMBps: 400,
  partitionIngressMBps: 5,
  partitionEgressMBps: 10,
  maxPartitions: 120,
  clustersPerAccount: 3,
} as const;

/**
 * MSK provisioned (Standard brokers): 60 brokers per KRaft cluster (30 with ZooKeeper) and 90 per account
 * ("Amazon MSK quota", "Amazon MSK Standard broker quota"); partitions per broker, leaders and followers, from
 * "Best practices for Standard brokers" ("Right-size your cluster: Number of partitions per broker": large and
 * xlarge 1000, 2xlarge 2000, 4xlarge and up 4000). Multi-VPC private connectivity, which Firehose's private
 * MSK source needs, "doesn't support t3.small" ("Amazon MSK multi-VPC private connectivity in a single
 * Region"), so only m7g brokers are offered.
 */
export const MSK_PROVISIONED = {
  brokersPerCluster: 60,
  brokersPerAccount: 90,
  replicationFactor: 3,
  availabilityZones: 3,
} as const;

/** A broker type with its documented partition ceiling and our planning ingress. */
export interface BrokerType {
  readonly instanceType: string;
  /** Partitions (leaders and followers) per broker (MSK best practices). */
  readonly maxPartitions: number;
  /**
   * Planning: MB/s of producer ingress one broker sustains with replication factor 3 and the 40% CPU headroom
   * MSK asks for ("Monitor CPU usage": keep CPU User + System under 60%), below the default 250 MiB/s EBS
   * volume throughput ("Provisioning storage throughput") divided by the three replica writes.
   */
  readonly planningIngressMBps: number;
}

/** The broker ladder, smallest first. */
export const BROKER_TYPES: readonly BrokerType[] = [
  { instanceType: "kafka.m7g.large", maxPartitions: 1000, planningIngressMBps: 12 },
  { instanceType: "kafka.m7g.xlarge", maxPartitions: 1000, planningIngressMBps: 25 },
  { instanceType: "kafka.m7g.2xlarge", maxPartitions: 2000, planningIngressMBps: 50 },
  { instanceType: "kafka.m7g.4xlarge", maxPartitions: 4000, planningIngressMBps: 100 },
  { instanceType: "kafka.m7g.8xlarge", maxPartitions: 4000, planningIngressMBps: 180 },
  { instanceType: "kafka.m7g.12xlarge", maxPartitions: 4000, planningIngressMBps: 240 },
  { instanceType: "kafka.m7g.16xlarge", maxPartitions: 4000, planningIngressMBps: 300 },
];

/**
 * Firehose with an Apache Iceberg Tables destination ("Considerations and limitations", Amazon Data Firehose
 * developer guide): the destination exists in every Region except China, GovCloud, Asia Pacific (Taipei,
 * Malaysia, New Zealand) and Mexico (Central). A stream that updates or deletes rows (unique keys) is held to
 * 5 MiB/s in US East (N. Virginia), US West (Oregon) and Europe (Ireland) and 1 MiB/s in every other Region
 * (the figure the guide gives for Direct PUT; for a Kafka source the guide gives none, so we plan keyed
 * streams against it); with `AppendOnly` "Firehose automatically scales to match your throughput".
 */
export const FIREHOSE_ICEBERG = {
  unsupportedRegions: [
    "cn-north-1",
    "cn-northwest-1",
    "us-gov-east-1",
    "us-gov-west-1",
    "ap-east-2",
    "ap-southeast-5",
    "ap-southeast-6",
    "mx-central-1",
  ],
  /**
   * Firehose streams per account and Region: 50 by default, adjustable ("Amazon Kinesis Data Firehose
   * Quota", Firehose developer guide).
   */
  streamsPerRegion: 50,
} as const;

/** The upsert (keyed) throughput a Firehose Iceberg stream is planned at in `region`, MiB/s (components/config/regions.ts). */
export const firehoseUpsertMiBps = (region: string): number =>
  Object.hasOwn(AWS_STREAM_FACTS, region) ? AWS_STREAM_FACTS[region].firehoseIcebergUpsertMiBps : 1;

/** Whether MSK Serverless is offered in `region` (components/config/regions.ts). */
export const mskServerlessOffered = (region: string): boolean =>
  Object.hasOwn(AWS_STREAM_FACTS, region) && AWS_STREAM_FACTS[region].mskServerless;

/**
 * MSK Connect: 60 workers per account ("Amazon MSK quota", "MSK Connect quota"). Planning: one MCU (1 vCPU,
 * 4 GiB) sinks about 4 MB/s of JSON into Iceberg; replace with the connector's measured throughput.
 */
export const MSK_CONNECT = {
  workersPerAccount: 60,
  mcuPerWorker: 2,
  planningMBpsPerMcu: 4,
  /** Planning: autoscaling's ceiling per connector; more means splitting the source (more connectors). */
  maxWorkersPerConnector: 10,
} as const;

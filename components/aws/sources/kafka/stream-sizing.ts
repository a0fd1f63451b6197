/**
 * Stream sizing: what `lakehouse:scale` means for an event-streaming source, in MB/s at peak per topic, per
 * partition and per cluster, and which documented limit binds first (./limits.ts). Pure, so the numbers are
 * table-tested at 1x, 10x and 100x (test/sources/kafka/sizing.test.ts) and validation reports every limit a
 * config exceeds, with the fix, before anything is deployed.
 */
import type { KafkaSource, KafkaTopicConfig, Scale } from "../../../config/schema";
import {
  BROKER_TYPES,
  FIREHOSE_ICEBERG,
  firehoseUpsertMiBps,
  MB,
  MIB,
  MSK_CONNECT,
  MSK_PROVISIONED,
  MSK_SERVERLESS,
  mskServerlessOffered,
  type BrokerType,
} from "./limits";

const SECONDS_PER_DAY = 86_400;

/** Average event size when config gives none: a Segment-style JSON event (ids, context, a few properties). */
export const DEFAULT_RECORD_BYTES = 1024;

/**
 * Capacity kept above the peak: after an outage a consumer (Firehose, MSK Connect) must catch up while the
 * producers keep writing, so every stage is sized for twice the peak.
 */
export const HEADROOM = 2;

/**
 * Ingress each partition is sized for, MB/s: the MSK Serverless per-partition ceiling (5 MBps), which also
 * keeps one Firehose or connector task per partition well inside what one consumer thread reads.
 */
export const PARTITION_TARGET_MBPS = MSK_SERVERLESS.partitionIngressMBps;

/** Brokers a sized cluster aims to stay within, so that doubling traffic is a broker-count change, not a new cluster. */
export const TARGET_BROKERS = 15;

/** Hours a topic keeps events: replay after a day-long delivery outage, well inside any erasure SLA. */
export const TOPIC_RETENTION_HOURS = 72;

/** EBS storage per broker ("Amazon MSK quota": 16384 GiB maximum per broker). */
export const MAX_BROKER_STORAGE_GIB = 16_384;

/** One topic of a source, normalised (a bare topic name becomes `{ name }`). */
export const topicConfig = (t: KafkaSource["topics"][number]): KafkaTopicConfig =>
  typeof t === "string" ? { name: t } : t;

export interface TopicSizing {
  readonly topic: string;
  readonly eventsPerDay: number;
  readonly recordBytes: number;
  /** Events per second at peak (`peakFactor` times the daily average). */
  readonly peakEventsPerSecond: number;
  /** MB/s at peak. */
  readonly peakMBps: number;
  /** Partitions: config, else enough for HEADROOM x peak at PARTITION_TARGET_MBPS, a multiple of 3 (AZs). */
  readonly partitions: number;
  /** MB/s per partition at peak (evenly spread: events keyed by a high-cardinality id or round-robin). */
  readonly peakMBpsPerPartition: number;
  /** Whether the topic upserts on keys (Firehose keyed stream) rather than appending. */
  readonly keyed: boolean;
}

export interface ClusterSizing {
  /** Broker type and count (provisioned only). */
  readonly brokers?: { readonly instanceType: string; readonly count: number; readonly storageGiB: number };
  /** MSK Connect workers (existing only). */
  readonly connect?: { readonly mcuPerWorker: number; readonly minWorkers: number; readonly maxWorkers: number };
}

export interface StreamSizing extends ClusterSizing {
  readonly source: string;
  readonly mode: KafkaSource["mode"];
  readonly topics: readonly TopicSizing[];
  /** Sum of the topics' peaks, MB/s. */
  readonly peakMBps: number;
  /** Every documented limit the source exceeds at this scale, each naming the fix. */
  readonly problems: readonly string[];
}

const roundUpTo = (n: number, step: number): number => Math.ceil(n / step) * step;

/**
 * Topics of a cell's kafka sources that declare no `eventsPerDay`: they share the cell's clickstream volume
 * equally (the event platform carries the site's interaction events).
 */
export const sharingTopics = (sources: readonly Pick<KafkaSource, "topics">[]): number =>
  sources.reduce((n, s) => n + s.topics.filter((t) => topicConfig(t).eventsPerDay === undefined).length, 0);

/** The peak load and partitions of one topic. `topicsInCell` (sharingTopics) share the clickstream when the topic sets no volume. */
export function sizeTopic(
  source: Pick<KafkaSource, "partitions">,
  topic: KafkaTopicConfig,
  scale: Scale,
  topicsInCell: number,
): TopicSizing {
  const eventsPerDay = topic.eventsPerDay ?? scale.clickstreamEventsPerDay / Math.max(1, topicsInCell);
  const recordBytes = topic.recordBytes ?? DEFAULT_RECORD_BYTES;
  const peakEventsPerSecond = (eventsPerDay / SECONDS_PER_DAY) * scale.peakFactor;
  const peakMBps = (peakEventsPerSecond * recordBytes) / MB;
  const sized = roundUpTo(Math.max(3, Math.ceil((peakMBps * HEADROOM) / PARTITION_TARGET_MBPS)), 3);
  const partitions = topic.partitions ?? source.partitions ?? sized;
  return {
    topic: topic.name,
    eventsPerDay,
    recordBytes,
    peakEventsPerSecond,
    peakMBps,
    partitions,
    peakMBpsPerPartition: peakMBps / partitions,
    keyed: (topic.keys ?? []).length > 0,
  };
}

/** EBS volumes are sized to be 80% full at the end of the retention window (the disk alarm fires at 85%). */
export const STORAGE_FILL = 0.8;

/** GiB the cluster stores: the retention window at the average rate, three replicas, at STORAGE_FILL. */
export const clusterStorageGiB = (averageMBps: number): number =>
  (averageMBps * MB * TOPIC_RETENTION_HOURS * 3600 * MSK_PROVISIONED.replicationFactor) / STORAGE_FILL / 1024 ** 3;

/**
 * The smallest broker type whose cluster holds the peak and the partitions within TARGET_BROKERS (else the
 * largest), and enough of them for the peak, the partition replicas and at least `minBrokers` (storage).
 */
export function chooseBrokers(
  peakMBps: number,
  partitionReplicas: number,
  fixed?: KafkaSource["brokers"],
  minBrokers: number = MSK_PROVISIONED.availabilityZones,
): { type: BrokerType; count: number } {
  const countFor = (b: BrokerType) =>
    roundUpTo(
      Math.max(
        MSK_PROVISIONED.availabilityZones,
        Math.ceil((peakMBps * HEADROOM) / b.planningIngressMBps),
        Math.ceil(partitionReplicas / b.maxPartitions),
      ),
      MSK_PROVISIONED.availabilityZones,
    );
  const type =
    BROKER_TYPES.find((b) => b.instanceType === fixed?.instanceType) ??
    BROKER_TYPES.find((b) => countFor(b) <= TARGET_BROKERS) ??
    BROKER_TYPES[BROKER_TYPES.length - 1];
  return {
    type,
    count: fixed?.count ?? Math.max(countFor(type), roundUpTo(minBrokers, MSK_PROVISIONED.availabilityZones)),
  };
}

/**
 * Sizes one source of a cell and lists the limits it exceeds.
 * @param at the config key of the source, for messages (`lakehouse:sources.kafka[0]`)
 * @param topicsInCell topics of the cell's kafka sources without `eventsPerDay` (sharingTopics)
 */
export function sizeStream(
  source: KafkaSource,
  scale: Scale,
  region: string,
  topicsInCell: number,
  at = "",
): StreamSizing {
  const topics = source.topics.map((t) => sizeTopic(source, topicConfig(t), scale, topicsInCell));
  const peakMBps = topics.reduce((s, t) => s + t.peakMBps, 0);
  const problems: string[] = [];
  const where = (i: number) => `${at}.topics[${i}]`;
  const mb = (n: number) => `${n.toFixed(1)} MB/s`;

  // Firehose (new clusters): keyed topics are held to the Region's per-stream upsert figure.
  if (source.mode !== "existing") {
    if ((FIREHOSE_ICEBERG.unsupportedRegions as readonly string[]).includes(region))
      problems.push(
        `${at}.mode: Firehose has no Apache Iceberg destination in ${region}; use mode 'existing' (MSK Connect)`,
      );
    const limit = firehoseUpsertMiBps(region);
    topics.forEach((t, i) => {
      const peakMiBps = (t.peakMBps * MB) / MIB;
      if (t.keyed && peakMiBps > limit)
        problems.push(
          `${where(i)}.keys: '${t.topic}' peaks at ${peakMiBps.toFixed(1)} MiB/s, above the ${limit} MiB/s a Firehose stream ` +
            `that updates Iceberg rows is planned at in ${region}; drop keys (append only, deduplicate downstream) ` +
            `or split the topic`,
        );
    });
  }
  let cluster: ClusterSizing = {};
  if (source.mode === "msk-serverless") {
    if (!mskServerlessOffered(region))
      problems.push(`${at}.mode: MSK Serverless is not offered in ${region}; use 'msk-provisioned'`);
    if (peakMBps * HEADROOM > MSK_SERVERLESS.clusterIngressMBps)
      problems.push(
        `${at}.mode: ${mb(peakMBps)} at peak (x${HEADROOM} headroom) exceeds MSK Serverless's ${MSK_SERVERLESS.clusterIngressMBps} MBps ` +
          `per cluster; use 'msk-provisioned' or split the topics over several sources`,
      );
    const partitions = topics.reduce((s, t) => s + t.partitions, 0);
    if (partitions > MSK_SERVERLESS.maxPartitions)
      problems.push(
        `${at}.topics: ${partitions} partitions exceed MSK Serverless's ${MSK_SERVERLESS.maxPartitions} per cluster; ` +
          `use 'msk-provisioned' or split the topics over several sources`,
      );
    topics.forEach((t, i) => {
      if (t.peakMBpsPerPartition > MSK_SERVERLESS.partitionIngressMBps)
        problems.push(
          `${where(i)}.partitions: ${mb(t.peakMBpsPerPartition)} per partition at peak exceeds MSK Serverless's ` +
            `${MSK_SERVERLESS.partitionIngressMBps} MBps; raise partitions to ${Math.ceil(t.peakMBps / MSK_SERVERLESS.partitionIngressMBps)} or more`,
        );
    });
  } else if (source.mode === "msk-provisioned") {
    const replicas = topics.reduce((s, t) => s + t.partitions, 0) * MSK_PROVISIONED.replicationFactor;
    const storage = clusterStorageGiB(peakMBps / scale.peakFactor);
    const { type, count } = chooseBrokers(
      peakMBps,
      replicas,
      source.brokers,
      Math.ceil(storage / MAX_BROKER_STORAGE_GIB),
    );
    const capacity = type.planningIngressMBps * count;
    if (count > MSK_PROVISIONED.brokersPerCluster)
      problems.push(
        `${at}.brokers: ${count} ${type.instanceType} brokers (${mb(peakMBps)} at peak, ${Math.round(storage)} GiB for ` +
          `${TOPIC_RETENTION_HOURS} h of retention) exceed the ${MSK_PROVISIONED.brokersPerCluster} per MSK cluster; split the ` +
          `topics over several sources (clusters) or cells`,
      );
    else if (peakMBps * HEADROOM > capacity)
      problems.push(
        `${at}.brokers: ${count} ${type.instanceType} brokers hold ${mb(capacity)}, below ${mb(peakMBps)} at peak x${HEADROOM}; ` +
          `remove brokers.count/instanceType to size from scale, or raise them`,
      );
    if (replicas > type.maxPartitions * count)
      problems.push(
        `${at}.topics: ${replicas} partition replicas exceed ${type.maxPartitions} per ${type.instanceType} broker x ${count}; ` +
          `use fewer partitions or more brokers`,
      );
    // Storage: the retention window spread over the brokers (clusterStorageGiB), at least 100 GiB each.
    const storageGiB = source.brokers?.storageGiB ?? Math.max(100, Math.ceil(storage / count));
    if (storageGiB > MAX_BROKER_STORAGE_GIB)
      problems.push(
        `${at}.brokers: ${storageGiB} GiB per broker exceeds MSK's ${MAX_BROKER_STORAGE_GIB} GiB; add brokers`,
      );
    cluster = {
      brokers: { instanceType: type.instanceType, count, storageGiB: Math.min(storageGiB, MAX_BROKER_STORAGE_GIB) },
    };
  } else {
    const perWorker = MSK_CONNECT.mcuPerWorker * MSK_CONNECT.planningMBpsPerMcu;
    const maxWorkers = Math.max(1, Math.ceil((peakMBps * HEADROOM) / perWorker));
    if (maxWorkers > MSK_CONNECT.maxWorkersPerConnector)
      problems.push(
        `${at}.topics: ${mb(peakMBps)} at peak needs ${maxWorkers} MSK Connect workers, above ${MSK_CONNECT.maxWorkersPerConnector} ` +
          `per connector; split the topics over several sources`,
      );
    cluster = {
      connect: {
        mcuPerWorker: MSK_CONNECT.mcuPerWorker,
        minWorkers: 1,
        maxWorkers: Math.min(maxWorkers, MSK_CONNECT.maxWorkersPerConnector),
      },
    };
  }
  return { source: source.name, mode: source.mode, topics, peakMBps, problems, ...cluster };
}

/**
 * Account-wide limits of a cell's sources together: brokers per account, MSK Serverless clusters, MSK Connect
 * workers, Firehose streams per Region.
 */
export function cellStreamProblems(sized: readonly StreamSizing[], cellAt: string): string[] {
  const problems: string[] = [];
  const brokers = sized.reduce((s, x) => s + (x.brokers?.count ?? 0), 0);
  if (brokers > MSK_PROVISIONED.brokersPerAccount)
    problems.push(
      `${cellAt}: ${brokers} MSK brokers exceed ${MSK_PROVISIONED.brokersPerAccount} per account; split the cell or ask AWS for more`,
    );
  const serverless = sized.filter((x) => x.mode === "msk-serverless").length;
  if (serverless > MSK_SERVERLESS.clustersPerAccount)
    problems.push(
      `${cellAt}: ${serverless} MSK Serverless clusters exceed ${MSK_SERVERLESS.clustersPerAccount} per account`,
    );
  const workers = sized.reduce((s, x) => s + (x.connect?.maxWorkers ?? 0), 0);
  if (workers > MSK_CONNECT.workersPerAccount)
    problems.push(`${cellAt}: ${workers} MSK Connect workers exceed ${MSK_CONNECT.workersPerAccount} per account`);
  const streams = sized.filter((x) => x.mode !== "existing").reduce((s, x) => s + x.topics.length, 0);
  if (streams > FIREHOSE_ICEBERG.streamsPerRegion)
    problems.push(
      `${cellAt}: ${streams} Firehose streams exceed ${FIREHOSE_ICEBERG.streamsPerRegion} per Region; ask AWS for more`,
    );
  return problems;
}

/**
 * Every size in the lakehouse derives from the scale config here, in one place, so that growth is
 * a config change and the formulas are reviewable (and table-tested).
 */
import type { Scale } from "./schema";

const SECONDS_PER_DAY = 86_400;

/** DMS Serverless capacity units a replication config accepts (AWS DMS Serverless docs, "Supported capacity units"). */
export const DMS_CAPACITY_UNITS = [1, 2, 4, 8, 16, 32, 64, 128, 192, 256, 384] as const;

/**
 * Changes per second one DCU sustains for row-by-row CDC into S3 Parquet: a conservative planning
 * figure (one DCU is 2 GiB of memory); replace it with the CloudWatch CDCLatencySource history once live.
 */
export const CHANGES_PER_SECOND_PER_DCU = 500;

/** Rows written to the lake per business transaction (order, lines, payment, stock moves). */
export const ROWS_PER_TRANSACTION = 6;

/** Events per second one Dataflow streaming worker (n2-standard-2 style) handles for Pub/Sub to BigQuery. */
export const EVENTS_PER_SECOND_PER_DATAFLOW_WORKER = 4_000;

export interface Sizing {
  /** Average and peak business transactions per second. */
  readonly transactionsPerSecond: { readonly average: number; readonly peak: number };
  /** Average and peak clickstream events per second. */
  readonly eventsPerSecond: { readonly average: number; readonly peak: number };
  /** DMS Serverless capacity per transactional source (min, max DCU). */
  readonly dmsCapacity: { readonly min: number; readonly max: number };
  /** Dataflow autoscaling ceiling. */
  readonly dataflowMaxWorkers: number;
  /** Athena per-query bytes-scanned cutoff. */
  readonly athenaBytesScannedCutoff: number;
  /** Kafka partitions per topic, enough for the peak with one consumer thread per partition. */
  readonly kafkaPartitions: number;
}

function snapUp(value: number, allowed: readonly number[]): number {
  return allowed.find((a) => a >= value) ?? allowed[allowed.length - 1];
}

/**
 * Derives sizes from scale.
 * @param scale the stack's scale config
 * @param transactionalSources how many transactional sources share the cell's transaction volume
 */
export function deriveSizing(scale: Scale, transactionalSources = 1): Sizing {
  const tpsAvg = scale.transactionsPerDay / SECONDS_PER_DAY;
  const tpsPeak = tpsAvg * scale.peakFactor;
  const epsAvg = scale.clickstreamEventsPerDay / SECONDS_PER_DAY;
  const epsPeak = epsAvg * scale.peakFactor;
  const changesPerSourcePeak = (tpsPeak * ROWS_PER_TRANSACTION) / Math.max(1, transactionalSources);
  const maxDcu = snapUp(Math.ceil(changesPerSourcePeak / CHANGES_PER_SECOND_PER_DCU), DMS_CAPACITY_UNITS);
  // Minimum: enough for the average rate, never below 1 DCU, never above max.
  const avgDcu = snapUp(
    Math.ceil((tpsAvg * ROWS_PER_TRANSACTION) / Math.max(1, transactionalSources) / CHANGES_PER_SECOND_PER_DCU),
    DMS_CAPACITY_UNITS,
  );
  const GiB = 1024 ** 3;
  return {
    transactionsPerSecond: { average: tpsAvg, peak: tpsPeak },
    eventsPerSecond: { average: epsAvg, peak: epsPeak },
    dmsCapacity: { min: Math.min(avgDcu, maxDcu), max: maxDcu },
    // Twice the peak need: a streaming job must catch up after an outage, not just keep pace.
    dataflowMaxWorkers: Math.max(2, Math.ceil((2 * epsPeak) / EVENTS_PER_SECOND_PER_DATAFLOW_WORKER)),
    // 1 GiB per million daily transactions, between 10 GiB and 1 TiB: stops runaway scans, not reports.
    athenaBytesScannedCutoff: Math.min(1024 * GiB, Math.max(10 * GiB, Math.ceil(scale.transactionsPerDay / 1e6) * GiB)),
    // One partition per ~1,000 peak events/s, at least 6, rounded to a multiple of 3 brokers.
    kafkaPartitions: Math.max(6, Math.ceil(epsPeak / 1_000 / 3) * 3),
  };
}

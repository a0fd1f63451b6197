/**
 * The erasure budget: how many days each stage of a deletion may take so that, from the request, no
 * copy of the subject's data is readable or restorable after the SLA. The program sizes its stores
 * with it and the pack checks stores against it, so the two cannot disagree about the arithmetic.
 *
 * A request is served in stages. First the live copy goes: the erasure workers delete rows and objects,
 * and a deletion captured at a source reaches the curated tables with the next CDC merge (every 15
 * minutes), all within `LIVE_DELETION_DAYS`. Then every copy that deletion leaves behind must age out
 * in what is left of the SLA, minus however late its cleaner may run:
 * - object versions (S3, GCS), soft-deleted GCS objects and lifecycle-expired copies (exports):
 *   lifecycle lags eligibility by up to `LIFECYCLE_LAG_DAYS`;
 * - Iceberg snapshots and orphan files: retention plus the interval between maintenance runs;
 * - BigQuery time travel: followed by a fail-safe no configuration shortens.
 * Stream messages are not reached by a deletion at all: they age out from publication, so a stream
 * retains them at most the whole SLA.
 */
import { BIGQUERY_FAIL_SAFE_DAYS } from "./jurisdictions";

/** Days from the request until the live copy is gone: the erasure workers' deletes and the next CDC merge. */
export const LIVE_DELETION_DAYS = 1;

/**
 * Days object lifecycle may act after an object becomes eligible. S3 rounds the expiry up to the next
 * midnight UTC and then queues the removal (docs.aws.amazon.com/AmazonS3/latest/userguide/intro-lifecycle-rules.html,
 * "How Amazon S3 calculates when an object became noncurrent"; lifecycle-expire-general-considerations.html);
 * Cloud Storage also acts asynchronously once an object meets a rule's conditions
 * (cloud.google.com/storage/docs/lifecycle).
 */
export const LIFECYCLE_LAG_DAYS = 2;

/** What each stage of an erasure may take, in days, within an SLA. A value below 1 means the SLA is too short for that stage. */
export interface ErasureBudget {
  /** Days from the request until no copy remains. */
  readonly slaDays: number;
  /** Days to delete the live rows and objects. */
  readonly liveDeletionDays: number;
  /**
   * Days an object copy may be kept before lifecycle removes it: S3 and GCS noncurrent versions (counted
   * from when they became noncurrent), soft-deleted GCS objects and lifecycle-expired exports.
   */
  readonly objectCopyDays: number;
  /** Days for Iceberg snapshot (or orphan-file) retention plus the interval between maintenance runs. */
  readonly icebergMaintenanceDays: number;
  /** Days of BigQuery time travel; BigQuery's fixed fail-safe follows them. */
  readonly timeTravelDays: number;
  /** Days a stream (Pub/Sub, Kinesis) may retain a message. */
  readonly messageRetentionDays: number;
}

/** The erasure budget for an SLA of `slaDays` days. */
export function erasureBudget(slaDays: number): ErasureBudget {
  const afterLive = slaDays - LIVE_DELETION_DAYS;
  return {
    slaDays,
    liveDeletionDays: LIVE_DELETION_DAYS,
    objectCopyDays: afterLive - LIFECYCLE_LAG_DAYS,
    icebergMaintenanceDays: afterLive,
    timeTravelDays: afterLive - BIGQUERY_FAIL_SAFE_DAYS,
    messageRetentionDays: slaDays,
  };
}

/** The shortest SLA whose budget gives `stage` at least `days` days (every stage grows day for day with the SLA). */
export function shortestErasureSla(
  stage: Exclude<keyof ErasureBudget, "slaDays" | "liveDeletionDays">,
  days: number,
): number {
  return days - erasureBudget(0)[stage];
}

/** Longest snapshot retention the Iceberg optimizers are given, days (`maintenanceForSla`, iceberg-table.ts). */
export const ICEBERG_MAX_SNAPSHOT_RETENTION_DAYS = 7;
/** Interval between the Iceberg retention optimizer's runs, days (`maintenanceForSla`). */
export const ICEBERG_MAINTENANCE_RUN_DAYS = 1;

/**
 * Days the data files of a deleted Iceberg row outlive its delete: snapshot retention (bounded by the budget's
 * Iceberg stage less a run interval, at most a week) plus the interval between retention runs.
 */
export function icebergShareDays(slaDays: number): number {
  const retention = Math.min(
    ICEBERG_MAX_SNAPSHOT_RETENTION_DAYS,
    erasureBudget(slaDays).icebergMaintenanceDays - ICEBERG_MAINTENANCE_RUN_DAYS,
  );
  return retention + ICEBERG_MAINTENANCE_RUN_DAYS;
}

/**
 * A source that shows no deletes to an incremental read (Cassandra, Elasticsearch): a row deleted there leaves
 * the curated table at the next reconcile (a full read every `reconcileHours`), which waits up to
 * `scheduleGapDays` for its run, then its files at snapshot expiry. Returns those days in total, the Iceberg
 * share of them, and the most reconcile hours that still fit the SLA (0 or less: none does).
 */
export function reconciledDeletion(
  reconcileHours: number,
  scheduleGapDays: number,
  slaDays: number,
): { readonly totalDays: number; readonly icebergDays: number; readonly roomHours: number } {
  const icebergDays = icebergShareDays(slaDays);
  return {
    totalDays: reconcileHours / 24 + scheduleGapDays + icebergDays,
    icebergDays,
    roomHours: Math.floor((slaDays - scheduleGapDays - icebergDays) * 24),
  };
}

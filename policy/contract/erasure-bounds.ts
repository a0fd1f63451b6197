/**
 * The erasure bound of each store: the days from an erasure request until the last copy of the subject's data
 * is physically gone there, and how the erasure reaches it. The budget (./erasure.ts) says what each stage may
 * take; this module adds the stages of each store in sequence, with the lifecycle settings the components
 * really declare (they take them from here), so that `npm start` prints the bound per cell, validation rejects
 * a setting whose bound exceeds the configured SLA, and nothing computes it a second way.
 *
 * Paths:
 * - deleted by the workers: the erasure workers delete the rows (Iceberg via Athena, BigQuery DML) within
 *   `LIVE_DELETION_DAYS`; the copies the delete leaves age out after it (Iceberg snapshots, then the noncurrent
 *   versions of the files snapshot expiry removed; BigQuery time travel, then its fail-safe).
 * - expires: files nobody rewrites on erasure (raw CDC files, landing pages, query results, staging, exports):
 *   lifecycle expires the current object (a delete marker on a versioned bucket, the object becoming
 *   noncurrent), then the noncurrent version, each up to `LIFECYCLE_LAG_DAYS` late, then soft delete if any.
 *   Counted from the request, for an object written at that moment (the worst case; later writes of the
 *   subject are suppressed at ingestion).
 * - ages out: stream messages (Pub/Sub, Kafka, SQS dead letters) no delete reaches; kept at most their retention.
 * - kept: the legal record of the request itself (pseudonyms only), which GDPR Art. 17(3)(b) and LGPD Art. 16(I)
 *   let the controller keep to prove compliance; not subject to the SLA.
 */
import { BIGQUERY_FAIL_SAFE_DAYS, type DataClass } from "./jurisdictions";
import { icebergShareDays, LIFECYCLE_LAG_DAYS, LIVE_DELETION_DAYS } from "./erasure";

/** How an erasure reaches a store. */
export type ErasureReach = "deleted by the workers" | "expires" | "ages out" | "kept (legal record)";

/** One store's bound. */
export interface ErasureBound {
  /** The store, as the README and `npm start` name it. */
  readonly store: string;
  readonly cloud: "aws" | "gcp";
  readonly reachedBy: ErasureReach;
  /** Days from the request until the last copy is physically gone (for a kept record: how long it is kept). */
  readonly days: number;
  /** The configured erasure SLA the bound is held to. */
  readonly slaDays: number;
  /** The config key (without namespace) whose value sets most of the bound: the one to change when it is over. */
  readonly key: string;
  /** Why the SLA does not apply (the legal record); such a row is never over the SLA. */
  readonly exempt?: string;
}

/** Longest life of an Athena query result in the query-results bucket, days (it is a copy of what was queried). */
export const QUERY_RESULTS_MAX_DAYS = 7;
/** Longest life of a Dataflow staging/temp object in the GCS staging bucket, days. */
export const STAGING_MAX_DAYS = 30;

/**
 * Days a bucket whose objects expire after `expirationDays` may keep noncurrent versions, so that an object
 * written at the request is gone within the SLA: what the SLA leaves after the expiry, two lifecycle lags and
 * any soft delete, at least the 1 day S3 and Cloud Storage lifecycle rules accept (a bound above the SLA is
 * then reported by validation, not hidden).
 */
export function expiringNoncurrentDays(slaDays: number, expirationDays: number, softDeleteDays = 0): number {
  return Math.max(1, slaDays - expirationDays - 2 * LIFECYCLE_LAG_DAYS - softDeleteDays);
}

/** The longest expiry that still fits the SLA: two lifecycle lags, a day of old versions and any soft delete after it. */
export function longestExpiryWithinSla(slaDays: number, softDeleteDays = 0): number {
  return slaDays - 2 * LIFECYCLE_LAG_DAYS - 1 - softDeleteDays;
}

/** Days until an object that expires by lifecycle is physically gone: expiry, lag, noncurrent versions, lag, soft delete. */
export function expiredObjectDays(expirationDays: number, noncurrentDays: number, softDeleteDays = 0): number {
  return expirationDays + LIFECYCLE_LAG_DAYS + noncurrentDays + LIFECYCLE_LAG_DAYS + softDeleteDays;
}

/**
 * Days the Iceberg warehouse keeps noncurrent versions: the data files snapshot expiry removes become noncurrent
 * only then, after the live delete and the Iceberg share, so what the SLA leaves after those and a lifecycle lag.
 */
export function warehouseNoncurrentDays(slaDays: number): number {
  return Math.max(1, slaDays - LIVE_DELETION_DAYS - icebergShareDays(slaDays) - LIFECYCLE_LAG_DAYS);
}

/** A stream that keeps messages a number of days (no delete reaches one message). */
export interface StreamRetention {
  readonly store: string;
  readonly cloud: "aws" | "gcp";
  readonly days: number;
  readonly key: string;
}

/** A bucket beyond the storage cores whose objects hold personal data and expire (in-country copy, exports). */
export interface ExpiringStore {
  readonly store: string;
  readonly cloud: "aws" | "gcp";
  readonly expirationDays: number;
  readonly noncurrentDays: number;
  /** Cloud Storage soft delete, days. @default 0 */
  readonly softDeleteDays?: number;
  readonly key: string;
}

export interface ErasureBoundsInput {
  /** The configured erasure SLA, days (`erasureSlaDays`). */
  readonly slaDays: number;
  /** BigQuery time travel, hours (`bigqueryTimeTravelHours`). */
  readonly timeTravelHours: number;
  /** The cell's retention per data class. */
  readonly retention: Readonly<Record<DataClass, number>>;
  /** The cell's streams and their retention (their components compute it). @default [] */
  readonly streams?: readonly StreamRetention[];
  /** Further expiring buckets holding personal data. @default [] */
  readonly expiring?: readonly ExpiringStore[];
  /** Days the requests table keeps a request record (the legal record). @default retention.audit */
  readonly recordDays?: number;
}

/** The storage cores' buckets that expire, with the settings `AwsStorageCore`/`GcpStorageCore` declare. */
export function coreExpiringStores(slaDays: number, retention: Readonly<Record<DataClass, number>>): ExpiringStore[] {
  const queryResults = Math.min(QUERY_RESULTS_MAX_DAYS, retention.curated);
  const staging = Math.min(STAGING_MAX_DAYS, retention.raw);
  return [
    {
      store: "S3 raw zone (CDC files)",
      cloud: "aws",
      expirationDays: retention.raw,
      noncurrentDays: expiringNoncurrentDays(slaDays, retention.raw),
      key: "retention.raw",
    },
    {
      store: "S3 landing zone (API pages, CSV drops)",
      cloud: "aws",
      expirationDays: retention.raw,
      noncurrentDays: expiringNoncurrentDays(slaDays, retention.raw),
      key: "retention.raw",
    },
    {
      store: "S3 Athena query results",
      cloud: "aws",
      expirationDays: queryResults,
      noncurrentDays: expiringNoncurrentDays(slaDays, queryResults),
      key: "retention.curated",
    },
    {
      store: "GCS Dataflow staging",
      cloud: "gcp",
      expirationDays: staging,
      noncurrentDays: expiringNoncurrentDays(slaDays, staging),
      softDeleteDays: 0,
      key: "retention.raw",
    },
  ];
}

/** Every store's bound for one cell: the lake's tables, the storage cores' buckets, then the given streams and buckets. */
export function erasureBounds(input: ErasureBoundsInput): ErasureBound[] {
  const { slaDays, retention } = input;
  const row = (r: Omit<ErasureBound, "slaDays">): ErasureBound => ({ ...r, slaDays });
  const expired = (s: ExpiringStore): ErasureBound =>
    row({
      store: s.store,
      cloud: s.cloud,
      reachedBy: "expires",
      days: expiredObjectDays(s.expirationDays, s.noncurrentDays, s.softDeleteDays ?? 0),
      key: s.key,
    });
  return [
    row({
      store: "Iceberg tables (S3 warehouse)",
      cloud: "aws",
      reachedBy: "deleted by the workers",
      days: LIVE_DELETION_DAYS + icebergShareDays(slaDays) + warehouseNoncurrentDays(slaDays) + LIFECYCLE_LAG_DAYS,
      key: "erasureSlaDays",
    }),
    row({
      store: "BigQuery tables",
      cloud: "gcp",
      reachedBy: "deleted by the workers",
      // Time travel is set in whole days (48..168 hours, a multiple of 24); the fail-safe follows it.
      days: LIVE_DELETION_DAYS + Math.ceil(input.timeTravelHours / 24) + BIGQUERY_FAIL_SAFE_DAYS,
      key: "bigqueryTimeTravelHours",
    }),
    ...coreExpiringStores(slaDays, retention).map(expired),
    ...(input.expiring ?? []).map(expired),
    ...(input.streams ?? []).map((s) => row({ ...s, reachedBy: "ages out" })),
    row({
      store: "DynamoDB requests table (pseudonyms)",
      cloud: "aws",
      reachedBy: "kept (legal record)",
      days: input.recordDays ?? retention.audit,
      key: "retention.audit",
      exempt:
        "the proof that the request was served (GDPR Art. 17(3)(b), LGPD Art. 16(I)); other tables' backups hold no personal data",
    }),
  ];
}

/** The bounds over the SLA (a kept legal record never is). */
export function boundsOverSla(bounds: readonly ErasureBound[]): ErasureBound[] {
  return bounds.filter((b) => b.exempt === undefined && b.days > b.slaDays);
}

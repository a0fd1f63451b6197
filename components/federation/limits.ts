/**
 * Limits of the federation paths and the sizes derived from scale, as pure functions (table-tested in
 * test/federation/limits.test.ts). The BigQuery Omni limits are stated in components/federation/README.md;
 * the ones the stack config can break are checked here and fail the program before any resource is declared.
 */
import { OMNI_AWS_REGIONS } from "../config/jurisdictions";
import type { CellConfig, Scale } from "../config/schema";

const GiB = 1024 ** 3;
const GB = 1e9;

/**
 * Bytes one cross-cloud transfer (`CREATE TABLE AS SELECT` from an Omni region into a BigQuery region)
 * may move: 60 GB per transfer, each subquery sent to the remote region being one transfer
 * (BigQuery Omni introduction, "cross-cloud tools" table).
 */
export const OMNI_CROSS_CLOUD_TRANSFER_BYTES = 60 * GB;
/** Largest result an interactive Omni query returns to Google Cloud (BigQuery Omni limitations). */
export const OMNI_MAX_RESULT_BYTES = 20 * GiB;
/** The IAM role an Omni connection assumes must allow 12-hour sessions (Omni "Connect to Amazon S3"). */
export const OMNI_ROLE_MAX_SESSION_SECONDS = 12 * 3600;

/**
 * Bytes per row of the daily orders feed (`order_date` DATE 8 B, `customer_pseudo_id` 64 hex chars
 * + 2 B, `orders` INT64 8 B, plus per-row overhead): a planning figure, rounded up.
 */
export const ORDERS_FEED_ROW_BYTES = 96;

/** Bytes the daily orders feed moves in one run: at most one row per order (one customer per order). */
export const dailyFeedBytes = (scale: Scale): number => scale.transactionsPerDay * ORDERS_FEED_ROW_BYTES;

/** The Omni location paired with a cell's AWS region, or undefined (br: no Omni in South America). */
export const omniLocationOf = (cell: CellConfig): string | undefined =>
  Object.hasOwn(OMNI_AWS_REGIONS, cell.aws.region) ? OMNI_AWS_REGIONS[cell.aws.region] : undefined;

/**
 * The daily orders feed of an Omni cell breaks BigQuery Omni's 60 GB per cross-cloud transfer: the
 * problem, naming the cell as `cell` says (validation passes `cells[<i>]`), or none. Validation checks it
 * for every `federation: omni` cell (components/config/validate.ts), with Omni's region pairing.
 */
export function omniTransferProblems(cell: string, scale: Scale): string[] {
  const bytes = dailyFeedBytes(scale);
  if (bytes <= OMNI_CROSS_CLOUD_TRANSFER_BYTES) return [];
  return [
    `lakehouse:scale.transactionsPerDay: ${scale.transactionsPerDay} orders a day make a daily Omni ` +
      `cross-cloud transfer of ${(bytes / GB).toFixed(1)} GB for ${cell} (federation: omni), above BigQuery ` +
      `Omni's 60 GB per transfer; use federation 'in-country-copy' for this cell or split the feed`,
  ];
}

/** BI Engine's largest reservation per project and location (BigQuery quotas, "BI Engine"). */
export const BI_ENGINE_MAX_BYTES = 250 * GiB;

/**
 * BI Engine capacity for the dashboards over the marts: 1 GiB per 100 million daily clickstream events
 * (the dashboards' working set is the recent event partitions plus the small daily orders feed), at
 * least 1 GiB, at most BI Engine's 250 GiB.
 */
export function biEngineBytes(scale: Scale): number {
  const gib = Math.ceil(scale.clickstreamEventsPerDay / 100_000_000);
  return Math.min(BI_ENGINE_MAX_BYTES, Math.max(1, gib) * GiB);
}

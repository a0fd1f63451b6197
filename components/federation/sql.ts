/**
 * SQL of the federation layer, generated from config in one place and table-tested:
 * the daily orders feed (Athena UNLOAD for the in-country path, a BigQuery Omni cross-cloud INSERT for
 * the Omni path) and the PII-free marts (BigQuery views).
 *
 * Contracts with the other layers (README of this folder):
 * - curated orders (`<source>_<table>` in the curated Glue database, the ingestion layer's name) carry
 *   `customer_pseudo_id`, the keyed
 *   HMAC of the customer id computed by the curated merge with the cell's pseudonymisation key, and the
 *   order timestamp column named in the table's `partitionBy` (`day(CREATED_AT)` -> `created_at`);
 * - clickstream events (`clickstream_raw.events`) carry `event_timestamp`, `event_type`, `user_pseudo_id`
 *   (the same HMAC for logged-in users, so it equals `customer_pseudo_id`) and `anonymous_pseudo_id`.
 * No query here selects a configured `piiColumns` column: the feed is an allow-list of three columns.
 */
import { curatedTableName } from "../aws/ingestion/plan-rules";
import type { LakehouseConfig } from "../config/schema";

export interface OrdersTable {
  /** Curated Glue/Iceberg table name, e.g. `orders_br_orders`. */
  readonly table: string;
  /** The order timestamp column (lower case). */
  readonly timestampColumn: string;
  /** Direct-identifier columns of the table (must never be selected). */
  readonly piiColumns: readonly string[];
}

/** The cell's orders table: the first transactional table named `orders`, or undefined. */
export function ordersTableOf(config: Pick<LakehouseConfig, "sources">, cell: string): OrdersTable | undefined {
  for (const source of config.sources.transactional.filter((s) => s.cell === cell)) {
    const t = source.tables.find((x) => x.name.toLowerCase() === "orders");
    if (!t) continue;
    const day = (t.partitionBy ?? [])
      .map((p) => /^(?:day|hour|month|year)\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)$/.exec(p)?.[1])
      .find(Boolean);
    return {
      // The ingestion layer's own naming (`<source>_<table>`), imported so the names cannot drift.
      table: curatedTableName(source.name, t),
      timestampColumn: (day ?? "created_at").toLowerCase(),
      piiColumns: (t.piiColumns ?? []).map((c) => c.toLowerCase()),
    };
  }
  return undefined;
}

/** Columns of the daily orders feed, in order, with their BigQuery types. */
export const FEED_COLUMNS = [
  { name: "order_date", type: "DATE", mode: "REQUIRED", description: "UTC day of the orders" },
  {
    name: "customer_pseudo_id",
    type: "STRING",
    mode: "REQUIRED",
    description: "Keyed HMAC of the customer id (cell key)",
  },
  { name: "orders", type: "INT64", mode: "REQUIRED", description: "Orders of the customer that day" },
] as const;

function assertNoPii(orders: OrdersTable): void {
  for (const c of [orders.timestampColumn, "customer_pseudo_id"]) {
    if (orders.piiColumns.includes(c)) {
      throw new Error(
        `The orders feed would select '${c}', a piiColumns column of ${orders.table}: marts must stay PII-free`,
      );
    }
  }
}

/** Placeholder EventBridge Scheduler replaces with the scheduled time (`2026-01-02T01:00:00Z`). */
export const SCHEDULED_TIME = "<aws.scheduler.scheduled-time>";

/**
 * Athena (Trino) UNLOAD of yesterday's orders feed to Parquet under `<s3Prefix><scheduled time>/`
 * (UNLOAD refuses a non-empty target, so each run writes its own prefix).
 */
export function athenaFeedUnload(orders: OrdersTable, database: string, s3Prefix: string): string {
  const day = `date_trunc('day', from_iso8601_timestamp('${SCHEDULED_TIME}'))`;
  return [
    "UNLOAD (",
    `  ${athenaDailyAggregate(orders, database, day)}`,
    `) TO '${s3Prefix}${SCHEDULED_TIME}/' WITH (format = 'PARQUET', compression = 'SNAPPY')`,
  ].join("\n");
}

/**
 * BigQuery cross-cloud INSERT INTO SELECT run in the Omni location: reads the federated Iceberg table in
 * AWS and moves only yesterday's aggregate into the feed table in the colocated BigQuery region. What the
 * docs allow ("Load data with BigQuery Omni operations", Filter data > Limitations): a result of at most
 * 60 GiB, a colocated destination region, and a destination that is NOT a clustered table (the feed table
 * is unclustered in Omni cells; `Federation` passes `clustered: false`). Scheduled queries are
 * at-least-once; the marts read the feed through MAX() per (day, customer), so a re-run is harmless.
 */
export function omniFeedInsert(orders: OrdersTable, project: string, lakeDataset: string, feedTable: string): string {
  assertNoPii(orders);
  const ts = `\`${orders.timestampColumn}\``;
  return [
    `INSERT INTO \`${feedTable}\` (order_date, customer_pseudo_id, orders)`,
    `SELECT DATE(${ts}) AS order_date, customer_pseudo_id, COUNT(*) AS orders`,
    `FROM \`${project}.${lakeDataset}.${orders.table}\``,
    `WHERE DATE(${ts}) = DATE_SUB(@run_date, INTERVAL 1 DAY) AND customer_pseudo_id IS NOT NULL`,
    "GROUP BY 1, 2",
  ].join("\n");
}

export interface MartSources {
  /** `project.clickstream_raw.events`. */
  readonly events: string;
  /** `project.lake_feed.orders_daily`. */
  readonly ordersFeed: string;
  /** Days of history the views cover (bounds bytes scanned by dashboards). */
  readonly lookbackDays: number;
}

/** The feed deduplicated (a retried feed run may have inserted the same day twice). */
const feed = (s: MartSources) =>
  `SELECT order_date, customer_pseudo_id, MAX(orders) AS orders FROM \`${s.ordersFeed}\` ` +
  `WHERE order_date >= DATE_SUB(CURRENT_DATE(), INTERVAL ${s.lookbackDays} DAY) GROUP BY order_date, customer_pseudo_id`;
const events = (s: MartSources) =>
  `SELECT DATE(event_timestamp) AS day, event_type, user_pseudo_id, anonymous_pseudo_id FROM \`${s.events}\` ` +
  `WHERE DATE(event_timestamp) >= DATE_SUB(CURRENT_DATE(), INTERVAL ${s.lookbackDays} DAY)`;

/** Daily KPIs: traffic, orders, buyers and the share of logged-in visitors who ordered that day. */
export function kpiDailyView(s: MartSources): string {
  return [
    `WITH feed AS (${feed(s)}),`,
    `ev AS (${events(s)}),`,
    "traffic AS (",
    "  SELECT day, COUNT(*) AS events, COUNTIF(event_type = 'page') AS page_views,",
    "    COUNT(DISTINCT COALESCE(user_pseudo_id, anonymous_pseudo_id)) AS visitors,",
    "    COUNT(DISTINCT user_pseudo_id) AS known_visitors",
    "  FROM ev GROUP BY day),",
    "sales AS (",
    "  SELECT order_date AS day, SUM(orders) AS orders, COUNT(DISTINCT customer_pseudo_id) AS buyers",
    "  FROM feed GROUP BY order_date),",
    "converted AS (",
    "  SELECT f.order_date AS day, COUNT(DISTINCT f.customer_pseudo_id) AS converted_visitors",
    "  FROM feed AS f JOIN (SELECT DISTINCT day, user_pseudo_id FROM ev WHERE user_pseudo_id IS NOT NULL) AS v",
    "    ON v.day = f.order_date AND v.user_pseudo_id = f.customer_pseudo_id",
    "  GROUP BY f.order_date)",
    "SELECT t.day, t.events, t.page_views, t.visitors, t.known_visitors,",
    "  IFNULL(s.orders, 0) AS orders, IFNULL(s.buyers, 0) AS buyers,",
    "  IFNULL(c.converted_visitors, 0) AS converted_visitors,",
    "  SAFE_DIVIDE(IFNULL(c.converted_visitors, 0), t.known_visitors) AS conversion_rate",
    "FROM traffic AS t LEFT JOIN sales AS s USING (day) LEFT JOIN converted AS c USING (day)",
  ].join("\n");
}

/** Segment rules, first match wins (recency in days since the last order or visit). */
export const SEGMENT_RULES = [
  ["loyal", "o.orders >= 5 AND DATE_DIFF(CURRENT_DATE(), o.last_order_date, DAY) <= 30"],
  ["active_buyer", "o.orders >= 1 AND DATE_DIFF(CURRENT_DATE(), o.last_order_date, DAY) <= 30"],
  ["lapsed_buyer", "o.orders >= 1"],
  ["engaged_browser", "e.active_days >= 3"],
] as const;
export const DEFAULT_SEGMENT = "casual_browser";

/** One row per pseudonymous customer: behaviour and orders over the window, and a segment. */
export function customerSegmentsView(s: MartSources): string {
  return [
    `WITH feed AS (${feed(s)}),`,
    `ev AS (${events(s)}),`,
    "o AS (SELECT customer_pseudo_id, SUM(orders) AS orders, MIN(order_date) AS first_order_date, MAX(order_date) AS last_order_date",
    "  FROM feed GROUP BY customer_pseudo_id),",
    "e AS (SELECT user_pseudo_id AS customer_pseudo_id, COUNT(*) AS events, COUNT(DISTINCT day) AS active_days, MAX(day) AS last_seen",
    "  FROM ev WHERE user_pseudo_id IS NOT NULL GROUP BY user_pseudo_id)",
    "SELECT customer_pseudo_id, IFNULL(o.orders, 0) AS orders, o.first_order_date, o.last_order_date,",
    "  IFNULL(e.events, 0) AS events, IFNULL(e.active_days, 0) AS active_days, e.last_seen,",
    "  CASE",
    ...SEGMENT_RULES.map(([seg, rule]) => `    WHEN ${rule} THEN '${seg}'`),
    `    ELSE '${DEFAULT_SEGMENT}'`,
    "  END AS segment",
    "FROM o FULL OUTER JOIN e USING (customer_pseudo_id)",
  ].join("\n");
}

/** Smallest group a segment summary shows (k-anonymity for business users' dashboards). */
export const MIN_SEGMENT_SIZE = 10;

/** Segment sizes for dashboards: no identifiers, groups under MIN_SEGMENT_SIZE suppressed. */
export function segmentSummaryView(segmentsView: string): string {
  return [
    "SELECT segment, COUNT(*) AS customers, SUM(orders) AS orders, AVG(active_days) AS avg_active_days",
    `FROM \`${segmentsView}\``,
    "GROUP BY segment",
    `HAVING COUNT(*) >= ${MIN_SEGMENT_SIZE}`,
  ].join("\n");
}

/** Yesterday's orders per pseudonymous customer, in Athena SQL, relative to a day expression. */
function athenaDailyAggregate(orders: OrdersTable, database: string, day: string): string {
  assertNoPii(orders);
  const ts = `"${orders.timestampColumn}"`;
  return (
    `SELECT CAST(${ts} AS date) AS order_date, customer_pseudo_id, COUNT(*) AS orders ` +
    `FROM "${database}"."${orders.table}" ` +
    `WHERE ${ts} >= date_add('day', -1, ${day}) AND ${ts} < ${day} AND customer_pseudo_id IS NOT NULL ` +
    "GROUP BY 1, 2"
  );
}

/**
 * The AWS marts' nightly upsert of yesterday into the Iceberg `orders_daily` mart (Athena MERGE on
 * Iceberg): re-running a night replaces its rows, so retries are harmless.
 */
export function athenaMartsMerge(orders: OrdersTable, curatedDb: string, martsDb: string, table: string): string {
  const day = `date_trunc('day', from_iso8601_timestamp('${SCHEDULED_TIME}'))`;
  return [
    `MERGE INTO "${martsDb}"."${table}" AS t`,
    `USING (${athenaDailyAggregate(orders, curatedDb, day)}) AS s`,
    "ON t.order_date = s.order_date AND t.customer_pseudo_id = s.customer_pseudo_id",
    "WHEN MATCHED THEN UPDATE SET orders = s.orders",
    "WHEN NOT MATCHED THEN INSERT (order_date, customer_pseudo_id, orders) VALUES (s.order_date, s.customer_pseudo_id, s.orders)",
  ].join("\n");
}

/** Retention as data: the AWS mart drops days older than the marts retention every night. */
export function athenaMartsExpire(martsDb: string, table: string, retentionDays: number): string {
  return `DELETE FROM "${martsDb}"."${table}" WHERE order_date < date_add('day', -${retentionDays}, current_date)`;
}

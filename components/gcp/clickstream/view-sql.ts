/**
 * SQL of the clickstream views (BigQuery standard SQL), pure so it is table-tested. Every query filters
 * on `event_timestamp` (the table requires a partition filter), de-duplicates on `message_id` (the
 * pipeline is at-least-once) and reads only consented rows where it needs a visitor.
 */

/** Segment e-commerce spec event names for the funnel steps (segment.com/docs/connections/spec/ecommerce/v2). */
export const FUNNEL_STEPS = [
  { column: "viewed_product", event: "Product Viewed" },
  { column: "added_to_cart", event: "Product Added" },
  { column: "started_checkout", event: "Checkout Started" },
  { column: "completed_order", event: "Order Completed" },
] as const;

/** Inactivity that closes a session (the web analytics convention, e.g. GA4's default session timeout). */
export const SESSION_TIMEOUT_MINUTES = 30;

export interface ViewSqlOptions {
  /** Fully qualified events table, `project.dataset.table` (no backticks). */
  readonly eventsTable: string;
  /** Days of history the sessions and funnel views look at. */
  readonly lookbackDays: number;
  /** Days of history the ML features look at. */
  readonly featureLookbackDays: number;
  /** How many recent product categories the features keep. */
  readonly lastCategories: number;
}

/**
 * What the views read from a row of the UDF's schema (functions/dataflow-udf/clickstream_table_schema.json),
 * as `expression AS name`. Explicit, never `*`: the network-address and quasi-identifier columns
 * (ip_truncated, user_agent, context, traits) are policy-tagged and no view needs them. Product and
 * order fields come from the Segment e-commerce spec's event properties.
 */
export const VIEW_COLUMNS: readonly (readonly [expression: string, name: string])[] = [
  ["message_id", "message_id"],
  ["event_type", "event_type"],
  ["event_name", "event_name"],
  ["event_timestamp", "event_timestamp"],
  ["received_at", "received_at"],
  ["consent", "consent"],
  ["page_path", "page_path"],
  ["JSON_VALUE(campaign, '$.source')", "campaign_source"],
  ["JSON_VALUE(campaign, '$.medium')", "campaign_medium"],
  ["JSON_VALUE(properties, '$.product_id')", "product_id"],
  ["JSON_VALUE(properties, '$.category')", "product_category"],
  ["JSON_VALUE(properties, '$.order_id')", "order_id"],
  ["SAFE_CAST(JSON_VALUE(properties, '$.revenue') AS NUMERIC)", "revenue"],
  ["JSON_VALUE(properties, '$.currency')", "currency"],
];

/** The visitor: the signed-in user's pseudonym, else the device/browser pseudonym. */
export const VISITOR_EXPRESSION = "COALESCE(user_pseudo_id, anonymous_pseudo_id)";

/** De-duplicated events in the last `interval` (one row per message_id), with the visitor's pseudonym. */
function recentEvents(o: ViewSqlOptions, interval: string, consentedOnly: boolean): string {
  const columns = VIEW_COLUMNS.map(([e, n]) => (e === n ? n : `${e} AS ${n}`)).join(",\n      ");
  return `SELECT * EXCEPT (row_number) FROM (
    SELECT
      ${columns},
      ${VISITOR_EXPRESSION} AS visitor_id,
      ROW_NUMBER() OVER (PARTITION BY message_id ORDER BY received_at) AS row_number
    FROM \`${o.eventsTable}\`
    WHERE event_timestamp >= TIMESTAMP_SUB(CURRENT_TIMESTAMP(), INTERVAL ${interval})${consentedOnly ? "\n      AND consent = 'granted'" : ""}
  ) WHERE row_number = 1`;
}

/** Sessions: a new session starts after {@link SESSION_TIMEOUT_MINUTES} minutes of inactivity. */
export function sessionsSql(o: ViewSqlOptions): string {
  return `WITH events AS (
  ${recentEvents(o, `${o.lookbackDays} DAY`, true)}
), gaps AS (
  SELECT visitor_id, event_timestamp, event_type, event_name, page_path, campaign_source, campaign_medium, revenue,
    TIMESTAMP_DIFF(event_timestamp, LAG(event_timestamp) OVER (PARTITION BY visitor_id ORDER BY event_timestamp), MINUTE) AS gap_minutes
  FROM events
  WHERE visitor_id IS NOT NULL
), numbered AS (
  SELECT *,
    COUNTIF(gap_minutes IS NULL OR gap_minutes >= ${SESSION_TIMEOUT_MINUTES})
      OVER (PARTITION BY visitor_id ORDER BY event_timestamp ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS session_number
  FROM gaps
)
SELECT
  visitor_id,
  session_number,
  CONCAT(visitor_id, '-', CAST(session_number AS STRING)) AS session_id,
  MIN(event_timestamp) AS session_start,
  MAX(event_timestamp) AS session_end,
  TIMESTAMP_DIFF(MAX(event_timestamp), MIN(event_timestamp), SECOND) AS duration_seconds,
  COUNT(*) AS events,
  COUNTIF(event_type = 'page') AS page_views,
  ARRAY_AGG(page_path IGNORE NULLS ORDER BY event_timestamp LIMIT 1)[SAFE_OFFSET(0)] AS landing_page,
  ARRAY_AGG(campaign_source IGNORE NULLS ORDER BY event_timestamp LIMIT 1)[SAFE_OFFSET(0)] AS campaign_source,
  ARRAY_AGG(campaign_medium IGNORE NULLS ORDER BY event_timestamp LIMIT 1)[SAFE_OFFSET(0)] AS campaign_medium,
  COUNTIF(event_name = 'Order Completed') AS orders,
  SUM(IF(event_name = 'Order Completed', revenue, 0)) AS revenue,
  MAX(event_timestamp) >= TIMESTAMP_SUB(CURRENT_TIMESTAMP(), INTERVAL ${SESSION_TIMEOUT_MINUTES} MINUTE) AS is_active
FROM numbered
GROUP BY visitor_id, session_number`;
}

/** Funnel per day: visitors who reached each step after the previous one (strict order). */
export function funnelSql(o: ViewSqlOptions): string {
  const firsts = FUNNEL_STEPS.map(
    (s) => `MIN(IF(event_name = '${s.event}', event_timestamp, NULL)) AS ${s.column}_at`,
  ).join(",\n    ");
  // Reaching step i means every earlier step happened, each no later than the next (strict order).
  const chainOf = (i: number) =>
    FUNNEL_STEPS.slice(0, i + 1)
      .map((step, j) =>
        j === 0 ? `${step.column}_at IS NOT NULL` : `${step.column}_at >= ${FUNNEL_STEPS[j - 1].column}_at`,
      )
      .join(" AND ");
  const reached = FUNNEL_STEPS.map((s, i) => `COUNTIF(${chainOf(i)}) AS ${s.column}`).join(",\n  ");
  return `WITH events AS (
  ${recentEvents(o, `${o.lookbackDays} DAY`, true)}
), steps AS (
  SELECT DATE(event_timestamp) AS day, visitor_id,
    ${firsts}
  FROM events
  WHERE visitor_id IS NOT NULL AND event_type = 'track'
  GROUP BY day, visitor_id
)
SELECT
  day,
  ${reached},
  SAFE_DIVIDE(COUNTIF(${chainOf(FUNNEL_STEPS.length - 1)}), COUNTIF(${chainOf(0)})) AS view_to_order_rate
FROM steps
GROUP BY day`;
}

/** KPIs of the last hour, per minute (anonymous consent-denied counts included: they are not personal data). */
export function lastHourKpisSql(o: ViewSqlOptions): string {
  return `WITH events AS (
  ${recentEvents(o, "1 HOUR", false)}
)
SELECT
  TIMESTAMP_TRUNC(event_timestamp, MINUTE) AS minute,
  COUNT(*) AS events,
  COUNTIF(event_type = 'page') AS page_views,
  COUNT(DISTINCT visitor_id) AS identified_visitors,
  COUNTIF(event_name = 'Product Viewed') AS product_views,
  COUNTIF(event_name = 'Product Added') AS add_to_carts,
  COUNTIF(event_name = 'Checkout Started') AS checkouts,
  COUNTIF(event_name = 'Order Completed') AS orders,
  SUM(IF(event_name = 'Order Completed', revenue, 0)) AS revenue,
  ANY_VALUE(currency) AS currency,
  SAFE_DIVIDE(COUNTIF(consent = 'granted'), COUNT(*)) AS consent_rate
FROM events
GROUP BY minute`;
}

/**
 * ML features per pseudonymous visitor, the Vertex AI feature view's source, one row per `entity_id` (the
 * feature view's key). The view is associated with the feature view directly, so the sync serves every
 * column as a feature and looks up no time: such a source holds only the latest values, one row per entity,
 * and needs no `feature_timestamp` ("Prepare data source", Vertex AI Feature Store). The sync converts a
 * TIMESTAMP feature to an int64 in a unit the docs do not state, so `last_event_unix_seconds` carries the
 * same instant in seconds for the online readers (notebooks/offers/features.py).
 */
export function userFeaturesSql(o: ViewSqlOptions): string {
  return `WITH events AS (
  ${recentEvents(o, `${o.featureLookbackDays} DAY`, true)}
)
SELECT
  visitor_id AS entity_id,
  MAX(event_timestamp) AS feature_timestamp,
  UNIX_SECONDS(MAX(event_timestamp)) AS last_event_unix_seconds,
  TIMESTAMP_DIFF(CURRENT_TIMESTAMP(), MAX(event_timestamp), SECOND) AS recency_seconds,
  COUNT(*) AS frequency_events,
  COUNT(DISTINCT DATE(event_timestamp)) AS active_days,
  COUNTIF(event_name = 'Product Viewed') AS product_views,
  COUNTIF(event_name = 'Product Added') AS add_to_carts,
  COUNTIF(event_name = 'Order Completed') AS orders,
  COALESCE(SUM(IF(event_name = 'Order Completed', revenue, 0)), 0) AS monetary,
  ARRAY_AGG(product_category IGNORE NULLS ORDER BY event_timestamp DESC LIMIT ${o.lastCategories}) AS last_categories
FROM events
WHERE visitor_id IS NOT NULL
GROUP BY visitor_id`;
}

export const VIEWS = {
  sessions: {
    sql: sessionsSql,
    description: `Sessions (${SESSION_TIMEOUT_MINUTES}-minute inactivity), consented visitors`,
  },
  funnel: { sql: funnelSql, description: "Daily funnel: product view -> add to cart -> checkout -> order" },
  kpis_last_hour: { sql: lastHourKpisSql, description: "Per-minute KPIs of the last hour" },
  user_features: {
    sql: userFeaturesSql,
    description: "ML features per pseudonymous visitor (Vertex AI feature view source)",
  },
} as const;
export type ViewName = keyof typeof VIEWS;

/**
 * What each column of the program's BigQuery views means. A view's SQL carries no column descriptions
 * (the views are created with a query, not a schema), so they live here, next to the data dictionary
 * that prints them (tools/data-dictionary.ts). test/docs/data-dictionary.test.ts runs every view's SQL
 * on DuckDB and requires these names, in this order, with these types: a column added to a view
 * without a line here fails the tests.
 */
import { FUNNEL_STEPS, SESSION_TIMEOUT_MINUTES } from "../../components/gcp/clickstream/view-sql";
import { MIN_SEGMENT_SIZE, SEGMENT_RULES, DEFAULT_SEGMENT } from "../../components/federation/sql";

export interface ViewColumn {
  readonly name: string;
  /** BigQuery standard SQL type of the result column. */
  readonly type: string;
  readonly description: string;
  /**
   * Columns of `clickstream_raw.events` the value is computed from that carry a policy tag: readers of
   * the column need that tag's fine-grained reader grant too.
   */
  readonly from?: readonly string[];
}

const VISITOR_FROM = ["user_pseudo_id", "anonymous_pseudo_id"] as const;

const FUNNEL_LABELS: Record<(typeof FUNNEL_STEPS)[number]["column"], string> = {
  viewed_product: "viewed a product",
  added_to_cart: "then added one to the cart",
  started_checkout: "then started a checkout",
  completed_order: "then completed an order",
};

/**
 * The features of `clickstream_views.user_features` (the Vertex AI feature view's source). `entity_id` is
 * the feature view's key; every other column is served as a feature (components/gcp/clickstream/view-sql.ts).
 */
export const USER_FEATURES: readonly ViewColumn[] = [
  {
    name: "entity_id",
    type: "STRING",
    description:
      "The visitor: the signed-in user's pseudonym, else the device's (`COALESCE(user_pseudo_id, anonymous_pseudo_id)`); the feature view's entity key",
    from: VISITOR_FROM,
  },
  {
    name: "feature_timestamp",
    type: "TIMESTAMP",
    description:
      "Time of the visitor's latest consented event in the look-back window (served online as an int64 of an unstated unit: online readers use `last_event_unix_seconds`)",
  },
  {
    name: "last_event_unix_seconds",
    type: "INT64",
    description: "The same instant in seconds since 1970-01-01 UTC, as the online store serves it",
  },
  {
    name: "recency_seconds",
    type: "INT64",
    description: "Seconds from that latest event to the time the view is read (the online store: to its last sync)",
  },
  {
    name: "frequency_events",
    type: "INT64",
    description: "Events of the visitor in the look-back window (30 days by default)",
  },
  {
    name: "active_days",
    type: "INT64",
    description: "Distinct UTC days with at least one event in the look-back window",
  },
  { name: "product_views", type: "INT64", description: "`Product Viewed` events in the look-back window" },
  { name: "add_to_carts", type: "INT64", description: "`Product Added` events in the look-back window" },
  { name: "orders", type: "INT64", description: "`Order Completed` events in the look-back window" },
  {
    name: "monetary",
    type: "NUMERIC",
    description: "Sum of the `revenue` property of those orders (0 without orders), in the orders' currency",
  },
  {
    name: "last_categories",
    type: "ARRAY<STRING>",
    description: "`category` property of the latest events that carry one, newest first (5 by default)",
  },
];

/** Columns of each view the program creates, keyed `dataset.view`. */
export const VIEW_COLUMNS: Readonly<Record<string, readonly ViewColumn[]>> = {
  "clickstream_views.sessions": [
    {
      name: "visitor_id",
      type: "STRING",
      description: "The visitor's pseudonym (user, else device)",
      from: VISITOR_FROM,
    },
    {
      name: "session_number",
      type: "INT64",
      description: "1 for the visitor's first session in the window, then 2, 3, ...",
    },
    { name: "session_id", type: "STRING", description: "`<visitor_id>-<session_number>`", from: VISITOR_FROM },
    { name: "session_start", type: "TIMESTAMP", description: "First event of the session" },
    { name: "session_end", type: "TIMESTAMP", description: "Last event of the session" },
    { name: "duration_seconds", type: "INT64", description: "Seconds from the first to the last event" },
    { name: "events", type: "INT64", description: "Events in the session (de-duplicated)" },
    { name: "page_views", type: "INT64", description: "`page` events in the session" },
    { name: "landing_page", type: "STRING", description: "Path of the session's first page with a path" },
    { name: "campaign_source", type: "STRING", description: "UTM source of the session's first event that has one" },
    { name: "campaign_medium", type: "STRING", description: "UTM medium of the session's first event that has one" },
    { name: "orders", type: "INT64", description: "`Order Completed` events in the session" },
    { name: "revenue", type: "NUMERIC", description: "Sum of the orders' `revenue` property" },
    {
      name: "is_active",
      type: "BOOL",
      description: `Last event less than ${SESSION_TIMEOUT_MINUTES} minutes ago: the session may still grow`,
    },
  ],
  "clickstream_views.funnel": [
    { name: "day", type: "DATE", description: "UTC day" },
    ...FUNNEL_STEPS.map((s) => ({
      name: s.column,
      type: "INT64",
      description: `Visitors who ${FUNNEL_LABELS[s.column]} that day (\`${s.event}\`), each step no earlier than the previous`,
    })),
    {
      name: "view_to_order_rate",
      type: "FLOAT64",
      description: "Visitors who completed the whole funnel / visitors who viewed a product",
    },
  ],
  "clickstream_views.kpis_last_hour": [
    { name: "minute", type: "TIMESTAMP", description: "Minute of the last hour" },
    { name: "events", type: "INT64", description: "Events that minute, consent denied included (anonymous counts)" },
    { name: "page_views", type: "INT64", description: "`page` events" },
    {
      name: "identified_visitors",
      type: "INT64",
      description: "Distinct pseudonymous visitors (consented events carry one)",
    },
    { name: "product_views", type: "INT64", description: "`Product Viewed` events" },
    { name: "add_to_carts", type: "INT64", description: "`Product Added` events" },
    { name: "checkouts", type: "INT64", description: "`Checkout Started` events" },
    { name: "orders", type: "INT64", description: "`Order Completed` events" },
    { name: "revenue", type: "NUMERIC", description: "Sum of the orders' `revenue` property" },
    {
      name: "currency",
      type: "STRING",
      description: "A currency seen that minute (one shop currency per cell assumed)",
    },
    { name: "consent_rate", type: "FLOAT64", description: "Share of the minute's events with consent granted" },
  ],
  "clickstream_views.user_features": USER_FEATURES,
  "marts.kpi_daily": [
    { name: "day", type: "DATE", description: "UTC day" },
    { name: "events", type: "INT64", description: "Clickstream events that day" },
    { name: "page_views", type: "INT64", description: "`page` events that day" },
    { name: "visitors", type: "INT64", description: "Distinct visitors (user, else device pseudonym)" },
    { name: "known_visitors", type: "INT64", description: "Distinct signed-in visitors" },
    { name: "orders", type: "INT64", description: "Orders that day, from the lake's order feed" },
    { name: "buyers", type: "INT64", description: "Distinct customers who ordered that day" },
    { name: "converted_visitors", type: "INT64", description: "Signed-in visitors who also ordered that day" },
    { name: "conversion_rate", type: "FLOAT64", description: "converted_visitors / known_visitors" },
  ],
  "marts.customer_segments": [
    {
      name: "customer_pseudo_id",
      type: "STRING",
      description: "The customer's pseudonym (keyed HMAC under the cell key), from orders or signed-in events",
      from: ["user_pseudo_id"],
    },
    { name: "orders", type: "INT64", description: "Orders in the window" },
    { name: "first_order_date", type: "DATE", description: "First order day in the window" },
    { name: "last_order_date", type: "DATE", description: "Last order day in the window" },
    { name: "events", type: "INT64", description: "Signed-in clickstream events in the window" },
    { name: "active_days", type: "INT64", description: "Days with signed-in events in the window" },
    { name: "last_seen", type: "DATE", description: "Last day with a signed-in event" },
    {
      name: "segment",
      type: "STRING",
      description: `First matching rule: ${SEGMENT_RULES.map(([s, rule]) => `\`${s}\` (${rule.replace(/\b[oe]\./g, "")})`).join(", ")}, else \`${DEFAULT_SEGMENT}\``,
    },
  ],
  "marts.segment_summary": [
    { name: "segment", type: "STRING", description: "Segment of customer_segments" },
    {
      name: "customers",
      type: "INT64",
      description: `Customers in it (segments under ${MIN_SEGMENT_SIZE} are not shown)`,
    },
    { name: "orders", type: "INT64", description: "Their orders in the window" },
    { name: "avg_active_days", type: "FLOAT64", description: "Their mean active days" },
  ],
};

/**
 * Meanings for the Glue columns the program declares without a comment, by table kind (the table name
 * pattern) and column; `*` matches any column of that kind.
 */
export const GLUE_COLUMN_FALLBACKS: readonly { table: RegExp; column: string; description: string }[] = [
  { table: /^api_.+_landing$/, column: "id", description: "The record's id in the API" },
  { table: /^api_.+_landing$/, column: "cursor", description: "The paging cursor the page was fetched with" },
  { table: /^api_.+_landing$/, column: "record", description: "The record as the API returned it (JSON text)" },
  { table: /^csv_.+_validated$/, column: "_line", description: "Line of the row in the delivered file" },
  {
    table: /^csv_.+_validated$/,
    column: "*",
    description: "Column of the feed as delivered, as text (declared in `lakehouse:sources`)",
  },
];

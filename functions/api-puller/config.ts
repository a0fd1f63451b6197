/**
 * What one API puller run needs to know, as the deployment hands it over: a JSON document in the
 * `API_PULLER_CONFIG` environment variable (names, ARNs and settings only; the credentials are read from
 * Secrets Manager at run time, never from the environment). The same type is rendered by the component
 * (components/aws/sources/api-source.ts) and parsed here, so the two cannot drift.
 */

/** The cursor table's key attribute (the component creates the table with it). */
export const CURSOR_KEY = "source";

/** The run's metrics (EMF): namespace and dimension, read by the component's lag alarm. */
export const METRIC_NAMESPACE = "Lakehouse/ApiSources";
export const METRIC_DIMENSION = "Source";

/** How the API says where the next page is. */
export const PAGINATION_STYLES = ["cursor", "next-link", "page", "since"] as const;
export type PaginationStyle = (typeof PAGINATION_STYLES)[number];

/** How cursor values compare: ISO-8601 instants, numbers, or plain strings (byte order). */
export const CURSOR_TYPES = ["timestamp", "number", "string"] as const;
export type CursorType = (typeof CURSOR_TYPES)[number];

/** How the credential becomes a header value: `Bearer <password>`, `Basic base64(user:password)`, or the password as is. */
export const AUTH_SCHEMES = ["bearer", "basic", "raw"] as const;
export type AuthScheme = (typeof AUTH_SCHEMES)[number];

export type Pagination =
  | {
      /** The body carries an opaque token for the next page; it goes back in `tokenParam`. */
      readonly style: "cursor";
      /** Query parameter the token is sent in. */
      readonly tokenParam: string;
      /** JSON pointer of the next token in the body (absent, null or "" = last page). */
      readonly nextTokenPointer: string;
    }
  | {
      /** The next page's full URL: in the body (`nextLinkPointer`) or, without it, the `Link: <...>; rel="next"` header. */
      readonly style: "next-link";
      /** JSON pointer of the next URL in the body. @default the Link header */
      readonly nextLinkPointer?: string;
    }
  | {
      /**
       * Keyset by the cursor itself: the API returns records sorted by the cursor field, ascending; the next
       * page asks `since=<greatest cursor of this page>` (ids at that value skipped). Stable while records
       * change during a pass: an updated record moves forward and is fetched again, never skipped.
       */
      readonly style: "since";
    }
  | {
      /** Numbered pages; a page with fewer than `pageSize` records is the last. */
      readonly style: "page";
      /** Query parameter of the page number. */
      readonly pageParam: string;
      /** Number of the first page (0 or 1). */
      readonly firstPage: number;
    };

export interface PullerConfig {
  /** The source's name (`lakehouse:sources.apis[].name`): the cursor's key and the landing prefix. */
  readonly source: string;
  /** The collection's URL: `baseUrl` + `path`. */
  readonly url: string;
  /** Query parameter the watermark is sent in (records whose cursor is at or after it). */
  readonly sinceParam: string;
  /** JSON pointer, inside a record, of its cursor value (e.g. `/updated_at`). */
  readonly cursorPointer: string;
  /** How cursor values compare. */
  readonly cursorType: CursorType;
  /** JSON pointer, inside a record, of its id (the dedupe key). */
  readonly idPointer: string;
  /** JSON pointer of the records array in a response body (`""` = the body is the array). */
  readonly recordsPointer: string;
  readonly pagination: Pagination;
  /** Records asked for per page. */
  readonly pageSize: number;
  /** Query parameter of the page size. */
  readonly pageSizeParam: string;
  /** Authentication, when the API needs it. */
  readonly auth?: {
    /** Header carrying the credential (e.g. `Authorization`, `X-Api-Key`). */
    readonly header: string;
    readonly scheme: AuthScheme;
    /** Secrets Manager secret holding `{"username": ..., "password": ...}`. */
    readonly secretArn: string;
  };
  /** Requests started per second at most (the API's documented rate limit). */
  readonly requestsPerSecond: number;
  /** Pages fetched per run at most; the rest waits for the next run (the cursor remembers where). */
  readonly maxPagesPerRun: number;
  /** Attempts per request (the first included) before the run fails. */
  readonly maxAttempts: number;
  /** First backoff delay in ms; doubles per attempt, with full jitter. */
  readonly baseDelayMs: number;
  /** Longest backoff delay in ms. */
  readonly maxDelayMs: number;
  /** Per-request timeout in ms. */
  readonly requestTimeoutMs: number;
  /** The landing bucket and the source's prefix in it (`api/<source>/`). */
  readonly landing: { readonly bucket: string; readonly prefix: string; readonly kmsKeyArn?: string };
  /** The DynamoDB table holding the cursor (one item, key `source`). */
  readonly cursorTable: string;
}

/** Defaults of the optional settings, shared by the config schema's documentation and the component. */
export const PULLER_DEFAULTS = {
  path: "",
  sinceParam: "since",
  cursorType: "timestamp" as CursorType,
  idField: "/id",
  recordsPointer: "/data",
  pageSize: 100,
  pageSizeParam: "limit",
  tokenParam: "cursor",
  nextTokenPointer: "/next_cursor",
  pageParam: "page",
  firstPage: 1,
  authHeader: "Authorization",
  authScheme: "bearer" as AuthScheme,
  requestsPerSecond: 5,
  maxPagesPerRun: 200,
  maxAttempts: 6,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  requestTimeoutMs: 30_000,
} as const;

/** A field name (`updated_at`) or a JSON pointer (`/meta/updated_at`) as a pointer. */
export const asPointer = (field: string): string => (field.startsWith("/") || field === "" ? field : `/${field}`);

/** Parses and checks the environment's config document (fails the run at start, not mid-way). */
export function parsePullerConfig(text: string | undefined): PullerConfig {
  if (!text) throw new Error("API_PULLER_CONFIG is not set");
  const c = JSON.parse(text) as PullerConfig;
  const missing = (["source", "url", "cursorPointer", "idPointer", "cursorTable"] as const).filter(
    (k) => typeof c[k] !== "string" || c[k] === "",
  );
  if (missing.length > 0) throw new Error(`API_PULLER_CONFIG lacks ${missing.join(", ")}`);
  if (!c.landing?.bucket || !c.landing.prefix) throw new Error("API_PULLER_CONFIG lacks landing.bucket/prefix");
  return c;
}

/**
 * Minutes between runs of an EventBridge Scheduler `rate(value unit)` expression (units minute(s), hour(s),
 * day(s): EventBridge Scheduler user guide, "Schedule types"); undefined for `cron(...)` and anything else.
 */
export function rateMinutes(expression: string): number | undefined {
  const m = /^rate\((\d+) (minutes?|hours?|days?)\)$/.exec(expression.trim());
  if (!m) return undefined;
  const per = m[2].startsWith("minute") ? 1 : m[2].startsWith("hour") ? 60 : 1440;
  return Number(m[1]) * per;
}

/** An EventBridge Scheduler recurring expression: `rate(...)` or a six-field `cron(...)`. */
export const SCHEDULE_EXPRESSION = /^(rate\(\d+ (minutes?|hours?|days?)\)|cron\(\S+ \S+ \S+ \S+ \S+ \S+\))$/;

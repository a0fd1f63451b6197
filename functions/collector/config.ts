/**
 * The collector's settings, read once from environment variables at start-up.
 * Every variable is listed in README.md (the deployment contract); a bad value stops the process at
 * start rather than failing requests later.
 */
import { totalmem } from "node:os";
import { decodeHmacKey, MIN_HMAC_KEY_BYTES } from "./privacy";
import { parseGcsUri } from "./suppression";

export interface CollectorConfig {
  /** TCP port; Cloud Run injects PORT. */
  readonly port: number;
  /** Interface to bind; loopback locally, all interfaces in the container. */
  readonly host: string;
  /** GCP project that owns the topic. */
  readonly projectId: string;
  /** Pub/Sub topic short name or full `projects/<p>/topics/<t>` path. */
  readonly topic: string;
  /** Accepted write keys mapped to the source label written on each event. */
  readonly writeKeys: ReadonlyMap<string, string>;
  /** The cell's HMAC key for pseudonymisation (secret). */
  readonly hmacKey: Buffer;
  /** Consent category (case-insensitive) in `context.consent.categoryPreferences` that allows analytics. */
  readonly consentCategory: string;
  /** CORS allowed origins; `*` for any. */
  readonly corsOrigins: readonly string[];
  /** Query parameters kept in clear in URLs besides `utm_*` (README, "Privacy rules"); others are hashed. */
  readonly queryAllowList: readonly string[];
  /** Events accepted but not yet acknowledged by Pub/Sub before requests are shed with 429. */
  readonly maxInFlightEvents: number;
  /** Bytes of messages accepted but not yet acknowledged by Pub/Sub before requests are shed with 429. */
  readonly maxInFlightBytes: number;
  /** Longest a request may take from its first byte to the end of its body before 408 (server.requestTimeout). */
  readonly bodyTimeoutMs: number;
  /** Longest a request waits for Pub/Sub before answering 503 so the SDK retries. */
  readonly publishTimeoutMs: number;
  /** Seconds suggested to clients in `Retry-After` when shedding load. */
  readonly retryAfterSeconds: number;
  /**
   * The suppression object of erased subjects (SUPPRESSION_OBJECT_URI, `gs://bucket/object`).
   * @default undefined: nothing is suppressed
   */
  readonly suppression?: { readonly bucket: string; readonly object: string };
  /** Time between reads of the suppression object (COLLECTOR_SUPPRESSION_REFRESH_SECONDS). @default 60_000 */
  readonly suppressionRefreshMs: number;
}

export class ConfigError extends Error {}

/** The instance memory the collector is deployed with (collector-service.ts: Cloud Run `memory: "512Mi"`). */
const DEPLOYED_MEMORY_BYTES = 512 * 1024 * 1024;

/**
 * The default COLLECTOR_MAX_IN_FLIGHT_BYTES: a sixteenth of the instance memory, 32 MiB at the deployed
 * 512 MiB. Measured (README, "Hostile input"): with Pub/Sub stalled and requests arriving without pause,
 * 64 MiB in flight took the process (~130 MB at rest) to 445 MB (the messages, their protobuf encoding
 * in the pending calls, the bodies of the requests being shed); normal operation keeps a few MB in
 * flight (Pub/Sub acknowledges in tens of ms). The memory is
 * the container's limit when Node can read it (`process.constrainedMemory()`, the cgroup limit; Node
 * docs, "process.constrainedMemory()"), else the deployed 512 MiB.
 */
export function defaultMaxInFlightBytes(
  constrained: number | undefined = process.constrainedMemory?.(),
  total: number = totalmem(),
): number {
  const memory =
    constrained !== undefined && Number.isFinite(constrained) && constrained > 0 && constrained <= total
      ? constrained
      : DEPLOYED_MEMORY_BYTES;
  return Math.floor(memory / 16);
}

function int(env: NodeJS.ProcessEnv, name: string, def: number, min: number, max: number, errors: string[]): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    errors.push(`${name} must be an integer in [${min}, ${max}], got "${raw}"`);
    return def;
  }
  return n;
}

/** Parses `key` or `key=label` entries separated by commas. */
export function parseWriteKeys(raw: string): Map<string, string> {
  const keys = new Map<string, string>();
  for (const entry of raw.split(",")) {
    const trimmed = entry.trim();
    if (trimmed === "") continue;
    const eq = trimmed.indexOf("=");
    const key = eq < 0 ? trimmed : trimmed.slice(0, eq);
    const label = eq < 0 ? "default" : trimmed.slice(eq + 1);
    keys.set(key, label);
  }
  return keys;
}

/** Reads and checks every variable, reporting all problems together. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): CollectorConfig {
  const errors: string[] = [];
  const projectId = env.GOOGLE_CLOUD_PROJECT ?? env.COLLECTOR_PROJECT ?? "";
  if (projectId === "") errors.push("GOOGLE_CLOUD_PROJECT (or COLLECTOR_PROJECT) is required");
  const topic = env.COLLECTOR_TOPIC ?? "";
  if (topic === "") errors.push("COLLECTOR_TOPIC is required");
  const writeKeys = parseWriteKeys(env.COLLECTOR_WRITE_KEYS ?? "");
  if (writeKeys.size === 0) errors.push("COLLECTOR_WRITE_KEYS must list at least one write key");
  const hmacKey = decodeHmacKey(env.COLLECTOR_HMAC_KEY ?? "");
  if (hmacKey.length < MIN_HMAC_KEY_BYTES) {
    errors.push(`COLLECTOR_HMAC_KEY must decode (hex or base64) to at least ${MIN_HMAC_KEY_BYTES} bytes`);
  }
  const suppressionUri = env.SUPPRESSION_OBJECT_URI ?? "";
  const suppression = suppressionUri === "" ? undefined : parseGcsUri(suppressionUri);
  if (suppressionUri !== "" && suppression === undefined) {
    errors.push(`SUPPRESSION_OBJECT_URI must be gs://<bucket>/<object>, got "${suppressionUri}"`);
  }
  const config: CollectorConfig = {
    port: int(env, "PORT", 8080, 0, 65535, errors),
    host: env.COLLECTOR_HOST ?? "0.0.0.0",
    projectId,
    topic,
    writeKeys,
    hmacKey,
    consentCategory: (env.COLLECTOR_CONSENT_CATEGORY ?? "analytics").toLowerCase(),
    corsOrigins: (env.COLLECTOR_CORS_ORIGINS ?? "*")
      .split(",")
      .map((o) => o.trim())
      .filter((o) => o !== ""),
    queryAllowList: (env.COLLECTOR_QUERY_ALLOWLIST ?? "")
      .split(",")
      .map((o) => o.trim())
      .filter((o) => o !== ""),
    maxInFlightEvents: int(env, "COLLECTOR_MAX_IN_FLIGHT_EVENTS", 50_000, 1, 10_000_000, errors),
    maxInFlightBytes: int(env, "COLLECTOR_MAX_IN_FLIGHT_BYTES", defaultMaxInFlightBytes(), 1024, 2 ** 40, errors),
    bodyTimeoutMs: int(env, "COLLECTOR_BODY_TIMEOUT_MS", 10_000, 100, 600_000, errors),
    publishTimeoutMs: int(env, "COLLECTOR_PUBLISH_TIMEOUT_MS", 10_000, 100, 600_000, errors),
    retryAfterSeconds: int(env, "COLLECTOR_RETRY_AFTER_SECONDS", 1, 1, 3600, errors),
    ...(suppression !== undefined ? { suppression } : {}),
    suppressionRefreshMs: 1000 * int(env, "COLLECTOR_SUPPRESSION_REFRESH_SECONDS", 60, 1, 3600, errors),
  };
  if (errors.length > 0) throw new ConfigError(`collector configuration:\n  - ${errors.join("\n  - ")}`);
  return config;
}

/**
 * GET with the manners an external API expects: at most `requestsPerSecond` request starts, 429 answered by
 * waiting what `Retry-After` says (seconds or an HTTP date, RFC 9110 §10.2.3), 5xx, 408, timeouts and
 * dropped connections retried with capped exponential backoff and full jitter ("Exponential Backoff And
 * Jitter", AWS Architecture Blog), and a clear error once the attempts are spent. Time is injected
 * (`Clock`) so tests run the real code without waiting.
 */

/** Time as the puller sees it; the Lambda uses the real one, tests a virtual one. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  sleep(ms: number): Promise<void>;
  /** Uniform in [0, 1): the jitter. */
  random(): number;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: () => Math.random(),
};

export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly requestTimeoutMs: number;
  readonly requestsPerSecond: number;
}

/** The run gave up on a request: every attempt failed, or the failure cannot be retried. */
export class RequestFailedError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly attempts: number,
  ) {
    super(message);
    this.name = "RequestFailedError";
  }
}

/** Statuses worth another attempt: rate limited, timed out, or a server-side failure. */
const RETRYABLE = new Set([408, 429, 500, 502, 503, 504]);

/**
 * `Retry-After` in ms: delay-seconds or an HTTP-date (RFC 9110 §10.2.3); undefined when absent or
 * unreadable (then the backoff applies). A date in the past means "now".
 */
export function retryAfterMs(header: string | null, now: number): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Full jitter: uniform in [0, min(max, base·2^attempt)). `attempt` counts from 0. */
export const backoffMs = (policy: RetryPolicy, attempt: number, random: number): number =>
  Math.floor(random * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt));

/** The URL without its query string: query values can carry tokens, so errors and logs never show them. */
export const redact = (url: string): string => url.split("?")[0];

export interface Response {
  readonly status: number;
  readonly headers: Headers;
  readonly body: unknown;
}

export interface Retries {
  /** Waits taken, by cause, for the run's metrics and logs. */
  readonly waits: { rateLimited: number; transient: number };
}

/**
 * One polite HTTP client per run: rate limit across requests, retries per request. `deadline` (epoch ms) is
 * when the run must stop: a wait that would end after it fails the request now, with the reason.
 */
export class PoliteClient implements Retries {
  readonly waits = { rateLimited: 0, transient: 0 };
  private nextStart = 0;

  constructor(
    private readonly policy: RetryPolicy,
    private readonly clock: Clock,
    private readonly deadline: () => number = () => Number.POSITIVE_INFINITY,
  ) {}

  async getJson(url: string, headers: Readonly<Record<string, string>>): Promise<Response> {
    const { policy, clock } = this;
    let last = "";
    let lastStatus: number | undefined;
    for (let attempt = 0; attempt < policy.maxAttempts; attempt++) {
      await this.pace();
      let wait: number;
      try {
        const res = await fetch(url, {
          headers: { accept: "application/json", ...headers },
          signal: AbortSignal.timeout(policy.requestTimeoutMs),
        });
        const text = await res.text();
        if (res.ok) return { status: res.status, headers: res.headers, body: parseBody(text, url) };
        lastStatus = res.status;
        last = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ""}`;
        if (!RETRYABLE.has(res.status))
          throw new RequestFailedError(
            `GET ${redact(url)} failed with ${last}, which is not retried: ${text.slice(0, 200)}`,
            res.status,
            attempt + 1,
          );
        const after = res.status === 429 ? retryAfterMs(res.headers.get("retry-after"), clock.now()) : undefined;
        wait = after ?? backoffMs(policy, attempt, clock.random());
        if (res.status === 429) this.waits.rateLimited++;
        else this.waits.transient++;
      } catch (e) {
        if (e instanceof RequestFailedError || e instanceof SyntaxError) throw e;
        // fetch rejects on a refused or dropped connection and on the timeout's abort.
        const err = e as Error & { cause?: { code?: string; message?: string } };
        last = `${err.name}: ${err.message}${err.cause ? ` (${err.cause.code ?? err.cause.message ?? ""})` : ""}`;
        lastStatus = undefined;
        wait = backoffMs(policy, attempt, clock.random());
        this.waits.transient++;
      }
      if (attempt + 1 >= policy.maxAttempts) break;
      if (clock.now() + wait > this.deadline())
        throw new RequestFailedError(
          `GET ${redact(url)}: ${last}; the next attempt (in ${Math.ceil(wait / 1000)} s) would end after the run's deadline`,
          lastStatus,
          attempt + 1,
        );
      await clock.sleep(wait);
      // A Retry-After wait also holds back the next request start.
      this.nextStart = Math.max(this.nextStart, clock.now());
    }
    throw new RequestFailedError(
      `GET ${redact(url)} failed after ${policy.maxAttempts} attempts; last: ${last}`,
      lastStatus,
      policy.maxAttempts,
    );
  }

  /** Spaces request starts `1000 / requestsPerSecond` ms apart. */
  private async pace(): Promise<void> {
    const now = this.clock.now();
    if (now < this.nextStart) await this.clock.sleep(this.nextStart - now);
    this.nextStart = Math.max(now, this.nextStart) + 1000 / this.policy.requestsPerSecond;
  }
}

function parseBody(text: string, url: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new SyntaxError(`GET ${redact(url)} answered 2xx with a body that is not JSON: ${text.slice(0, 120)}`);
  }
}

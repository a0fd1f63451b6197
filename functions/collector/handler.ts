/**
 * The HTTP side of the Segment Tracking API (segment.com/docs/connections/sources/catalog/libraries/server/http-api):
 * `POST /v1/{track,identify,page,screen,group,alias,batch}` and the one-letter forms analytics.js and
 * the mobile SDKs use (`/v1/t` ...). Plain `node:http` request/response: no framework in the hot path
 * (README, "Deployment contract": why not the Functions Framework; ADR 0005).
 *
 * A request is plain callbacks from the body's `end` to the answer: no promise, no `await`, no closure
 * and no timer of its own (README, "Benchmark": each of those cost microseconds per request). The wait
 * for Pub/Sub is one `AckWait` object, which the publisher calls back and `AckDeadlines` expires.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { BodyError, readBody } from "./body";
import type { CollectorConfig } from "./config";
import { MAX_BATCH_BYTES, MAX_EVENT_BYTES, type OutgoingMessage } from "./event";
import { BodyProcessor, type Job, type Processed, type Rejected, type Route } from "./process";
import { messagesBytes, type Publisher, type Waiter } from "./publisher";
import type { SuppressionList } from "./suppression";
import { type TransformWorker, WORKER_MIN_BODY_BYTES, type WorkerReply } from "./worker-pool";

const ROUTES: ReadonlyMap<string, Route> = new Map<string, Route>([
  ["/v1/track", "track"],
  ["/v1/t", "track"],
  ["/v1/identify", "identify"],
  ["/v1/i", "identify"],
  ["/v1/page", "page"],
  ["/v1/p", "page"],
  ["/v1/screen", "screen"],
  ["/v1/s", "screen"],
  ["/v1/group", "group"],
  ["/v1/g", "group"],
  ["/v1/alias", "alias"],
  ["/v1/a", "alias"],
  ["/v1/batch", "batch"],
  ["/v1/b", "batch"],
  // analytics.js posts batches to /v1/import in some configurations; same body shape as /v1/batch.
  ["/v1/import", "batch"],
]);

const JSON_TYPE = "application/json; charset=utf-8";
/** analytics.js's own telemetry endpoint (see `metrics` in createCollector). */
const METRICS_PATH = "/v1/m";
/**
 * The body is a string, not a Buffer: node:http then sends status line, headers and body as one string
 * (one chunk to the socket instead of a header string plus a buffer).
 */
const OK_BODY = '{"success":true}';
/** The 200's headers as a flat [name, value, ...] list, built once (writeHead takes it as is). */
const OK_HEADERS: readonly string[] = ["content-type", JSON_TYPE, "content-length", String(OK_BODY.length)];

export interface Collector {
  (req: IncomingMessage, res: ServerResponse): void;
  /** Stops accepting events (answers 503 + Connection: close) ahead of shutdown. */
  drain(): void;
}

function errorBody(message: string): string {
  return JSON.stringify({ success: false, error: message });
}

/** `Authorization: Basic base64(writeKey + ":")`, the SDKs' form; undefined when absent or not Basic. */
function basicUser(header: string): string | undefined {
  if (header.length < 7 || header.slice(0, 6).toLowerCase() !== "basic ") return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  const user = colon < 0 ? decoded : decoded.slice(0, colon);
  return user === "" ? undefined : user;
}

/** Distinct Authorization values remembered (each maps to a configured key; the SDKs send the same one every time). */
const AUTH_CACHE_MAX = 256;

type Ready =
  | Rejected
  | { readonly ok: true; readonly count: number; readonly suppressed: number; readonly messages: OutgoingMessage[] };

function inline(r: Processed): Ready {
  if (!r.ok) return r;
  const messages: OutgoingMessage[] = new Array<OutgoingMessage>(r.events.length);
  for (let i = 0; i < r.events.length; i++) {
    const e = r.events[i];
    messages[i] = { data: Buffer.from(e.json), attributes: { messageId: e.messageId } };
  }
  return { ok: true, count: r.count, suppressed: r.suppressed, messages };
}

function fromWorker(reply: WorkerReply): Ready {
  if (!reply.ok) {
    if (reply.crash !== undefined) log("ERROR", "request failed in the transform worker", reply.crash);
    return { ok: false, status: reply.status, message: reply.message };
  }
  const data = Buffer.from(reply.data);
  const messages: OutgoingMessage[] = new Array<OutgoingMessage>(reply.ids.length);
  let start = 0;
  for (let i = 0; i < reply.ids.length; i++) {
    const end = reply.ends[i];
    messages[i] = { data: data.subarray(start, end), attributes: { messageId: reply.ids[i] } };
    start = end;
  }
  return { ok: true, count: reply.count, suppressed: reply.suppressed, messages };
}

/** What an AckWait needs from its collector. */
interface AckTarget {
  acked(req: IncomingMessage, res: ServerResponse): void;
  failed(req: IncomingMessage, res: ServerResponse, err: unknown): void;
  expired(req: IncomingMessage, res: ServerResponse): void;
}

/**
 * One request waiting for Pub/Sub to acknowledge its events. The first of acknowledgement, failure or
 * deadline answers; later ones find it answered and do nothing. Once answered it drops the request and
 * response: the publisher's batch (and through it grpc-js objects that can outlive the call) point here.
 */
class AckWait implements Waiter {
  answered = false;
  /** performance.now() past which the request is answered 503. */
  deadline = 0;
  private req: IncomingMessage | undefined;
  private res: ServerResponse | undefined;

  constructor(
    req: IncomingMessage,
    res: ServerResponse,
    private readonly target: AckTarget,
  ) {
    this.req = req;
    this.res = res;
  }

  resolve(): void {
    const { req, res } = this;
    if (!this.answer() || req === undefined || res === undefined) return;
    this.target.acked(req, res);
  }

  reject(err: unknown): void {
    const { req, res } = this;
    if (!this.answer() || req === undefined || res === undefined) return;
    this.target.failed(req, res, err);
  }

  expire(): void {
    const { req, res } = this;
    if (!this.answer() || req === undefined || res === undefined) return;
    this.target.expired(req, res);
  }

  /** false if already answered; else marks it answered and lets go of the request. */
  private answer(): boolean {
    if (this.answered) return false;
    this.answered = true;
    this.req = undefined;
    this.res = undefined;
    return true;
  }
}

/**
 * The publish deadlines of waiting requests, with one timer for all of them instead of one per request.
 * Every wait gets the same timeout, so arrival order is deadline order: a FIFO whose answered head is
 * dropped as it goes, and a timer set for the oldest unanswered request's deadline.
 */
class AckDeadlines {
  private queue: (AckWait | undefined)[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly timeoutMs: number) {}

  add(wait: AckWait): void {
    wait.deadline = performance.now() + this.timeoutMs;
    this.queue.push(wait);
    if (this.timer === undefined) this.arm(this.timeoutMs);
  }

  /** Drops answered requests from the head (called after each answer). */
  trim(): void {
    const q = this.queue;
    let h = this.head;
    while (h < q.length && q[h]!.answered) q[h++] = undefined;
    if (h === q.length) {
      q.length = 0;
      h = 0;
    } else if (h >= 1024 && h * 2 >= q.length) {
      q.copyWithin(0, h);
      q.length -= h;
      h = 0;
    }
    this.head = h;
  }

  private arm(ms: number): void {
    this.timer = setTimeout(() => this.sweep(), Math.max(1, Math.ceil(ms)));
    // The HTTP server (and the Pub/Sub channel) keep the process alive, not this timer.
    this.timer.unref();
  }

  private sweep(): void {
    this.timer = undefined;
    const now = performance.now();
    const q = this.queue;
    while (this.head < q.length) {
      const wait = q[this.head]!;
      if (!wait.answered && wait.deadline > now) break;
      q[this.head++] = undefined;
      wait.expire();
    }
    this.trim();
    if (this.head < q.length) this.arm(q[this.head]!.deadline - now);
  }
}

/**
 * `suppression`: erased subjects whose events are answered 200 and never published (suppression.ts).
 * @default none (nothing suppressed)
 */
export function createCollector(
  config: CollectorConfig,
  publisher: Publisher,
  transformWorker?: Pick<TransformWorker, "available" | "run">,
  suppression?: SuppressionList,
): Collector {
  const processor = new BodyProcessor(config, suppression);
  const worker = transformWorker ?? { available: false, run: () => false };
  const anyOrigin = config.corsOrigins.includes("*");
  const origins = new Set(config.corsOrigins);
  const retryAfter = String(config.retryAfterSeconds);
  const deadlines = new AckDeadlines(config.publishTimeoutMs);
  const authUsers = new Map<string, string>();
  let draining = false;
  // new Date().toISOString() once per millisecond, not once per request.
  let isoMs = -1;
  let iso = "";

  function receivedAt(): string {
    const now = Date.now();
    if (now !== isoMs) {
      isoMs = now;
      iso = new Date(now).toISOString();
    }
    return iso;
  }

  function writeKeyOf(header: string | undefined): string | undefined {
    if (header === undefined) return undefined;
    const known = authUsers.get(header);
    if (known !== undefined) return known;
    const user = basicUser(header);
    if (user !== undefined && config.writeKeys.has(user)) {
      if (authUsers.size >= AUTH_CACHE_MAX) authUsers.clear();
      authUsers.set(header, user);
    }
    return user;
  }

  /**
   * Answers with a JSON body. `extra` is a flat [name, value, ...] list; CORS and, while draining,
   * `Connection: close` are added here.
   */
  function send(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    body: string,
    extra?: readonly string[],
  ): void {
    const origin = req.headers.origin;
    let headers: readonly string[];
    if (status === 200 && body === OK_BODY && extra === undefined && origin === undefined && !draining) {
      headers = OK_HEADERS;
    } else {
      const h = ["content-type", JSON_TYPE, "content-length", String(Buffer.byteLength(body))];
      let close = false;
      if (extra !== undefined) {
        for (let i = 0; i < extra.length; i += 2) {
          h.push(extra[i], extra[i + 1]);
          if (extra[i] === "connection") close = true;
        }
      }
      corsHeaders(origin, h);
      if (draining && !close) h.push("connection", "close");
      headers = h;
    }
    res.writeHead(status, headers as string[]);
    res.end(body);
  }

  function corsHeaders(origin: string | undefined, h: string[]): void {
    if (origin === undefined) return;
    if (anyOrigin) h.push("access-control-allow-origin", "*");
    else if (origins.has(origin)) h.push("access-control-allow-origin", origin, "vary", "Origin");
  }

  function fail(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    message: string,
    extra?: readonly string[],
  ): void {
    send(req, res, status, errorBody(message), extra);
  }

  /** A bug: 500 if nothing was answered yet, else the connection is cut. */
  function internalError(req: IncomingMessage, res: ServerResponse, err: unknown): void {
    log("ERROR", "request failed", err);
    try {
      if (!res.headersSent) fail(req, res, 500, "internal error");
      else res.destroy();
    } catch (e) {
      log("ERROR", "answering a failed request", e);
      res.destroy();
    }
  }

  const target: AckTarget = {
    // 200 only once Pub/Sub has acknowledged every event: an SDK that gets 200 drops its copy.
    acked(req, res) {
      deadlines.trim();
      try {
        send(req, res, 200, OK_BODY);
      } catch (err) {
        internalError(req, res, err);
      }
    },
    failed(req, res, err) {
      deadlines.trim();
      log("ERROR", "publish failed", err);
      try {
        fail(req, res, 503, "event store unavailable, retry later", ["retry-after", retryAfter]);
      } catch (e) {
        internalError(req, res, e);
      }
    },
    // The client keeps retrying in the background; a later duplicate is removed downstream by messageId.
    expired(req, res) {
      try {
        fail(req, res, 503, `Pub/Sub did not acknowledge within ${config.publishTimeoutMs} ms, retry later`, [
          "retry-after",
          retryAfter,
        ]);
      } catch (err) {
        internalError(req, res, err);
      }
    },
  };

  function preflight(req: IncomingMessage, res: ServerResponse): void {
    const h = [
      "access-control-allow-methods",
      "POST, OPTIONS",
      // analytics.js sends text/plain (a CORS "simple" type, no preflight); server SDKs and custom
      // callers send JSON with Authorization and possibly Content-Encoding, which need the preflight.
      "access-control-allow-headers",
      req.headers["access-control-request-headers"] ?? "Content-Type, Authorization, Content-Encoding",
      // Browsers cap this (Chromium at 2 h, Firefox at 24 h; MDN Access-Control-Max-Age); the cap wins.
      "access-control-max-age",
      "86400",
      "content-length",
      "0",
    ];
    corsHeaders(req.headers.origin, h);
    res.writeHead(204, h);
    res.end();
  }

  function handleEvents(req: IncomingMessage, res: ServerResponse, route: Route): void {
    const headerKey = writeKeyOf(req.headers.authorization);
    if (headerKey !== undefined && !config.writeKeys.has(headerKey)) {
      fail(req, res, 401, "unknown write key");
      return;
    }
    readBody(req, route === "batch" ? MAX_BATCH_BYTES : MAX_EVENT_BYTES, (err, raw) => {
      try {
        if (raw === undefined) {
          // Stop reading an oversize upload: answer now and close the connection.
          if (err instanceof BodyError) fail(req, res, err.status, err.message, ["connection", "close"]);
          else fail(req, res, 400, "request body could not be read", ["connection", "close"]);
          return;
        }
        const job: Job = { route, headerKey, receivedAt: receivedAt(), clientIp: clientIp(req) };
        if (raw.length >= WORKER_MIN_BODY_BYTES && worker.available) {
          const queued = worker.run(raw, job, (reply) => {
            try {
              // undefined: the worker is gone; same code on this thread.
              publish(req, res, reply === undefined ? inline(processor.process(raw, job)) : fromWorker(reply));
            } catch (e) {
              internalError(req, res, e);
            }
          });
          if (queued) return;
        }
        // Small bodies, or the worker is gone: same code on this thread.
        publish(req, res, inline(processor.process(raw, job)));
      } catch (e) {
        internalError(req, res, e);
      }
    });
  }

  function publish(req: IncomingMessage, res: ServerResponse, result: Ready): void {
    if (!result.ok) {
      fail(req, res, result.status, result.message);
      return;
    }
    const count = result.count;
    const messages = result.messages;
    // Acknowledged like consent drops (200: the tracker must not retry them), counted, never published.
    if (result.suppressed > 0 && suppression !== undefined) suppression.dropped += result.suppressed;
    if (count === 0) {
      send(req, res, 200, OK_BODY);
      return;
    }
    // Events and bytes both bound what waits for Pub/Sub (README, "Hostile input").
    if (!publisher.tryReserve(count, messagesBytes(messages))) {
      fail(req, res, 429, "collector is shedding load, retry later", ["retry-after", retryAfter]);
      return;
    }
    publisher.release(count - messages.length);
    if (messages.length === 0) {
      send(req, res, 200, OK_BODY);
      return;
    }
    const wait = new AckWait(req, res, target);
    deadlines.add(wait);
    publisher.publish(messages, wait);
  }

  /**
   * analytics.js 2.x (analytics-next) posts its own telemetry (`{"series":[...]}`: counters of its
   * plugins and retries, no user data) to `<apiHost>/m`, i.e. `/v1/m`, and ignores the answer. It is
   * answered 200 without reading the body, storing or publishing anything: a 404 for every page view
   * only filled the browser console and the request logs. Preflights get the usual CORS answer.
   */
  function metrics(req: IncomingMessage, res: ServerResponse): void {
    if (req.method === "OPTIONS") preflight(req, res);
    else if (req.method === "POST") send(req, res, 200, OK_BODY, ["connection", "close"]);
    else fail(req, res, 405, `method ${req.method ?? ""} not allowed, use POST`, ["allow", "POST, OPTIONS"]);
  }

  const collector = ((req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    let path = q < 0 ? url : url.slice(0, q);
    if (path.length > 1 && path.endsWith("/")) path = path.slice(0, -1);
    const route = ROUTES.get(path);
    try {
      if (route === undefined) {
        if (path === "/health" && req.method === "GET") {
          send(req, res, draining ? 503 : 200, draining ? errorBody("draining") : OK_BODY);
        } else if (path === METRICS_PATH) {
          metrics(req, res);
        } else {
          fail(req, res, 404, `unknown path ${path} (expected /v1/track|identify|page|screen|group|alias|batch)`);
        }
        return;
      }
      if (req.method === "OPTIONS") {
        preflight(req, res);
        return;
      }
      if (req.method !== "POST") {
        fail(req, res, 405, `method ${req.method ?? ""} not allowed, use POST`, ["allow", "POST, OPTIONS"]);
        return;
      }
      // CORS only stops a page from reading the answer: a text/plain POST (navigator.sendBeacon,
      // fetch with mode "no-cors") is a "simple request" sent without a preflight (Fetch standard,
      // "CORS-safelisted request-header"), so the allow-list is enforced on the write itself. Browsers
      // always send Origin on a cross-origin POST (and on same-origin POSTs); server SDKs send none.
      const origin = req.headers.origin;
      if (origin !== undefined && !anyOrigin && !origins.has(origin)) {
        fail(req, res, 403, `origin ${JSON.stringify(origin.slice(0, 200))} is not allowed (COLLECTOR_CORS_ORIGINS)`, [
          "connection",
          "close",
        ]);
        return;
      }
      if (draining) {
        fail(req, res, 503, "collector is shutting down, retry", ["retry-after", "1"]);
        return;
      }
      handleEvents(req, res, route);
    } catch (err) {
      internalError(req, res, err);
    }
  }) as Collector;
  collector.drain = () => {
    draining = true;
  };
  return collector;
}

function clientIp(req: IncomingMessage): string | undefined {
  // Cloud Run's front end puts the caller's address in X-Forwarded-For (first entry). The value only
  // feeds a truncated, analytics-grade IP, so a spoofed header costs accuracy, not security.
  const xff = req.headers["x-forwarded-for"];
  if (typeof xff === "string" && xff !== "") {
    const comma = xff.indexOf(",");
    return (comma < 0 ? xff : xff.slice(0, comma)).trim();
  }
  return req.socket.remoteAddress;
}

/** One JSON line per entry: Cloud Logging reads `severity` and `message` from structured stdout/stderr. */
export function log(severity: "INFO" | "WARNING" | "ERROR", message: string, err?: unknown): void {
  const entry: Record<string, unknown> = { severity, message, component: "collector" };
  if (err !== undefined) entry.error = err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`${JSON.stringify(entry)}\n`);
}

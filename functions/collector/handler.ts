/**
 * The HTTP side of the Segment Tracking API (segment.com/docs/connections/sources/catalog/libraries/server/http-api):
 * `POST /v1/{track,identify,page,screen,group,alias,batch}` and the one-letter forms analytics.js and
 * the mobile SDKs use (`/v1/t` ...). Plain `node:http` request/response: no framework in the hot path
 * (see README, "Why not the Functions Framework").
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import { BodyError, readBody } from "./body";
import type { CollectorConfig } from "./config";
import { MAX_BATCH_BYTES, MAX_EVENT_BYTES, type OutgoingMessage } from "./event";
import { BodyProcessor, type Job, type Processed, type Rejected, type Route } from "./process";
import type { Publisher } from "./publisher";
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
const OK_BODY = Buffer.from('{"success":true}');

export interface Collector {
  (req: IncomingMessage, res: ServerResponse): void;
  /** Stops accepting events (answers 503 + Connection: close) ahead of shutdown. */
  drain(): void;
}

function errorBody(message: string): Buffer {
  return Buffer.from(JSON.stringify({ success: false, error: message }));
}

/** `Authorization: Basic base64(writeKey + ":")`, the SDKs' form; undefined when absent or not Basic. */
function basicUser(header: string | undefined): string | undefined {
  if (header === undefined || header.length < 7 || header.slice(0, 6).toLowerCase() !== "basic ") return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  const user = colon < 0 ? decoded : decoded.slice(0, colon);
  return user === "" ? undefined : user;
}

type Ready = Rejected | { readonly ok: true; readonly count: number; readonly messages: OutgoingMessage[] };

function inline(r: Processed): Ready {
  if (!r.ok) return r;
  const messages: OutgoingMessage[] = new Array<OutgoingMessage>(r.events.length);
  for (let i = 0; i < r.events.length; i++) {
    const e = r.events[i];
    messages[i] = { data: Buffer.from(e.json), attributes: { messageId: e.messageId } };
  }
  return { ok: true, count: r.count, messages };
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
  return { ok: true, count: reply.count, messages };
}

export function createCollector(
  config: CollectorConfig,
  publisher: Publisher,
  transformWorker?: Pick<TransformWorker, "available" | "run">,
): Collector {
  const processor = new BodyProcessor(config);
  const worker = transformWorker ?? { available: false, run: () => false };
  const anyOrigin = config.corsOrigins.includes("*");
  const origins = new Set(config.corsOrigins);
  let draining = false;

  function corsHeaders(req: IncomingMessage, headers: OutgoingHttpHeaders): void {
    const origin = req.headers.origin;
    if (origin === undefined) return;
    if (anyOrigin) headers["access-control-allow-origin"] = "*";
    else if (origins.has(origin)) {
      headers["access-control-allow-origin"] = origin;
      headers.vary = "Origin";
    }
  }

  function send(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    body: Buffer,
    extra?: OutgoingHttpHeaders,
  ): void {
    const headers: OutgoingHttpHeaders =
      extra === undefined
        ? { "content-type": JSON_TYPE, "content-length": body.length }
        : { "content-type": JSON_TYPE, "content-length": body.length, ...extra };
    corsHeaders(req, headers);
    if (draining) headers.connection = "close";
    res.writeHead(status, headers);
    res.end(body);
  }

  function fail(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    message: string,
    extra?: OutgoingHttpHeaders,
  ): void {
    send(req, res, status, errorBody(message), extra);
  }

  function preflight(req: IncomingMessage, res: ServerResponse): void {
    const headers: OutgoingHttpHeaders = {
      "access-control-allow-methods": "POST, OPTIONS",
      // analytics.js sends text/plain (a CORS "simple" type, no preflight); server SDKs and custom
      // callers send JSON with Authorization and possibly Content-Encoding, which need the preflight.
      "access-control-allow-headers":
        req.headers["access-control-request-headers"] ?? "Content-Type, Authorization, Content-Encoding",
      // Browsers cap this (Chromium at 2 h, Firefox at 24 h; MDN Access-Control-Max-Age); the cap wins.
      "access-control-max-age": "86400",
      "content-length": 0,
    };
    corsHeaders(req, headers);
    res.writeHead(204, headers);
    res.end();
  }

  async function handleEvents(req: IncomingMessage, res: ServerResponse, route: Route): Promise<void> {
    const headerKey = basicUser(req.headers.authorization);
    if (headerKey !== undefined && !config.writeKeys.has(headerKey)) {
      fail(req, res, 401, "unknown write key");
      return;
    }
    const limit = route === "batch" ? MAX_BATCH_BYTES : MAX_EVENT_BYTES;
    let raw: Buffer;
    try {
      raw = await readBody(req, limit);
    } catch (err) {
      if (err instanceof BodyError) {
        // Stop reading an oversize upload: answer now and close the connection.
        fail(req, res, err.status, err.message, { connection: "close" });
      } else {
        fail(req, res, 400, "request body could not be read", { connection: "close" });
      }
      return;
    }
    const job: Job = { route, headerKey, receivedAt: new Date().toISOString(), clientIp: clientIp(req) };
    let result: Ready | undefined;
    if (raw.length >= WORKER_MIN_BODY_BYTES && worker.available) {
      result = await new Promise<Ready | undefined>((resolve) => {
        if (!worker.run(raw, job, (reply) => resolve(reply === undefined ? undefined : fromWorker(reply))))
          resolve(undefined);
      });
    }
    // Small bodies, or the worker is gone: same code on this thread.
    result ??= inline(processor.process(raw, job));
    if (!result.ok) {
      fail(req, res, result.status, result.message);
      return;
    }
    const count = result.count;
    const messages = result.messages;
    if (count === 0) {
      send(req, res, 200, OK_BODY);
      return;
    }
    if (!publisher.tryReserve(count)) {
      fail(req, res, 429, "collector is shedding load, retry later", {
        "retry-after": String(config.retryAfterSeconds),
      });
      return;
    }
    publisher.release(count - messages.length);
    if (messages.length === 0) {
      send(req, res, 200, OK_BODY);
      return;
    }
    // 200 only once Pub/Sub has acknowledged every event: an SDK that gets 200 drops its copy.
    // One timer and one settlement per request (no Promise.race): the first of ack, failure or timeout answers.
    await new Promise<void>((settle) => {
      let answered = false;
      const timer = setTimeout(() => {
        answered = true;
        // The client keeps retrying in the background; a later duplicate is removed downstream by messageId.
        fail(req, res, 503, `Pub/Sub did not acknowledge within ${config.publishTimeoutMs} ms, retry later`, {
          "retry-after": String(config.retryAfterSeconds),
        });
        settle();
      }, config.publishTimeoutMs);
      publisher.publish(messages).then(
        () => {
          if (answered) return;
          clearTimeout(timer);
          send(req, res, 200, OK_BODY);
          settle();
        },
        (err: unknown) => {
          if (answered) return;
          clearTimeout(timer);
          log("ERROR", "publish failed", err);
          fail(req, res, 503, "event store unavailable, retry later", {
            "retry-after": String(config.retryAfterSeconds),
          });
          settle();
        },
      );
    });
  }

  const collector = ((req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    let path = q < 0 ? url : url.slice(0, q);
    if (path.length > 1 && path.endsWith("/")) path = path.slice(0, -1);
    const route = ROUTES.get(path);
    if (route === undefined) {
      if (path === "/health" && req.method === "GET") {
        send(req, res, draining ? 503 : 200, draining ? errorBody("draining") : OK_BODY);
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
      fail(req, res, 405, `method ${req.method ?? ""} not allowed, use POST`, { allow: "POST, OPTIONS" });
      return;
    }
    if (draining) {
      fail(req, res, 503, "collector is shutting down, retry", { "retry-after": "1" });
      return;
    }
    handleEvents(req, res, route).catch((err: unknown) => {
      log("ERROR", "request failed", err);
      if (!res.headersSent) fail(req, res, 500, "internal error");
      else res.destroy();
    });
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

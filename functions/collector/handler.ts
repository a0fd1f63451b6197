/**
 * The HTTP side of the Segment Tracking API (segment.com/docs/connections/sources/catalog/libraries/server/http-api):
 * `POST /v1/{track,identify,page,screen,group,alias,batch}` and the one-letter forms analytics.js and
 * the mobile SDKs use (`/v1/t` ...). Plain `node:http` request/response: no framework in the hot path
 * (see README, "Why not the Functions Framework").
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import { BodyError, readBody } from "./body";
import type { CollectorConfig } from "./config";
import {
  EventError,
  type EventType,
  MAX_BATCH_BYTES,
  MAX_EVENT_BYTES,
  type OutgoingMessage,
  type RequestContext,
  transformEvent,
  validateEvent,
} from "./event";
import { type Json, type JsonObject, Pseudonymiser } from "./privacy";
import type { Publisher } from "./publisher";

type Route = EventType | "batch";

const ROUTES: ReadonlyMap<string, Route> = new Map<string, Route>([
  ["/v1/track", "track"], ["/v1/t", "track"],
  ["/v1/identify", "identify"], ["/v1/i", "identify"],
  ["/v1/page", "page"], ["/v1/p", "page"],
  ["/v1/screen", "screen"], ["/v1/s", "screen"],
  ["/v1/group", "group"], ["/v1/g", "group"],
  ["/v1/alias", "alias"], ["/v1/a", "alias"],
  ["/v1/batch", "batch"], ["/v1/b", "batch"],
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

function isObject(v: Json | undefined): v is JsonObject {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

export function createCollector(config: CollectorConfig, publisher: Publisher): Collector {
  const pseudonymiser = new Pseudonymiser(config.hmacKey);
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

  function send(req: IncomingMessage, res: ServerResponse, status: number, body: Buffer, extra?: OutgoingHttpHeaders): void {
    const headers: OutgoingHttpHeaders = { "content-type": JSON_TYPE, "content-length": body.length, ...extra };
    corsHeaders(req, headers);
    if (draining) headers.connection = "close";
    res.writeHead(status, headers);
    res.end(body);
  }

  function fail(req: IncomingMessage, res: ServerResponse, status: number, message: string, extra?: OutgoingHttpHeaders): void {
    send(req, res, status, errorBody(message), extra);
  }

  function preflight(req: IncomingMessage, res: ServerResponse): void {
    const headers: OutgoingHttpHeaders = {
      "access-control-allow-methods": "POST, OPTIONS",
      // analytics.js sends text/plain (a CORS "simple" type, no preflight); server SDKs and custom
      // callers send JSON with Authorization and possibly Content-Encoding, which need the preflight.
      "access-control-allow-headers": req.headers["access-control-request-headers"] ?? "Content-Type, Authorization, Content-Encoding",
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
    // Parsed as JSON whatever the Content-Type: analytics.js sends text/plain to avoid a CORS preflight.
    let body: Json;
    try {
      body = JSON.parse(raw.toString("utf8")) as Json;
    } catch (err) {
      fail(req, res, 400, `malformed JSON: ${(err as Error).message}`);
      return;
    }
    if (!isObject(body)) {
      fail(req, res, 400, "body must be a JSON object");
      return;
    }
    const bodyKey = body.writeKey;
    const writeKey = headerKey ?? (typeof bodyKey === "string" && bodyKey !== "" ? bodyKey : undefined);
    if (writeKey === undefined) {
      fail(req, res, 401, "missing write key (Basic auth user name or writeKey in the body)");
      return;
    }
    const source = config.writeKeys.get(writeKey);
    if (source === undefined) {
      fail(req, res, 401, "unknown write key");
      return;
    }

    let events: JsonObject[];
    try {
      if (route === "batch") {
        const batch = body.batch;
        if (!Array.isArray(batch)) throw new EventError("batch: must be an array of events");
        const shared = isObject(body.context) ? body.context : undefined;
        // Per-event size only matters when the whole body could hold an oversize event.
        const checkSize = raw.length > MAX_EVENT_BYTES;
        for (let i = 0; i < batch.length; i++) {
          const ev = batch[i];
          validateEvent(ev, `batch[${i}]`);
          if (checkSize && Buffer.byteLength(JSON.stringify(ev)) > MAX_EVENT_BYTES) {
            throw new EventError(`batch[${i}]: event exceeds ${MAX_EVENT_BYTES} bytes`);
          }
          // Batch-level context (some SDKs put library/consent there) fills keys the event lacks.
          if (shared !== undefined) ev.context = isObject(ev.context) ? { ...shared, ...ev.context } : { ...shared };
        }
        events = batch as JsonObject[];
      } else {
        // The path names the type; a body `type` that disagrees is a client bug worth reporting.
        if (body.type !== undefined && body.type !== route) {
          throw new EventError(`type: "${String(body.type)}" does not match the ${route} endpoint`);
        }
        body.type = route;
        validateEvent(body, "event");
        events = [body];
      }
    } catch (err) {
      if (err instanceof EventError) {
        fail(req, res, 400, err.message);
        return;
      }
      throw err;
    }
    if (events.length === 0) {
      send(req, res, 200, OK_BODY);
      return;
    }
    if (!publisher.tryReserve(events.length)) {
      fail(req, res, 429, "collector is shedding load, retry later", { "retry-after": String(config.retryAfterSeconds) });
      return;
    }
    const ctx: RequestContext = {
      source,
      receivedAt: new Date().toISOString(),
      clientIp: clientIp(req),
    };
    const messages: OutgoingMessage[] = [];
    for (const ev of events) {
      const m = transformEvent(ev, pseudonymiser, ctx, config.consentCategory);
      if (m !== undefined) messages.push(m);
    }
    publisher.release(events.length - messages.length);
    if (messages.length === 0) {
      send(req, res, 200, OK_BODY);
      return;
    }
    // 200 only once Pub/Sub has acknowledged every event: an SDK that gets 200 drops its copy.
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(resolve, config.publishTimeoutMs, "timeout");
    });
    try {
      const result = await Promise.race([publisher.publish(messages), timeout]);
      if (result === "timeout") {
        // The client keeps retrying in the background; a later duplicate is removed downstream by messageId.
        fail(req, res, 503, `Pub/Sub did not acknowledge within ${config.publishTimeoutMs} ms, retry later`, {
          "retry-after": String(config.retryAfterSeconds),
        });
        return;
      }
      send(req, res, 200, OK_BODY);
    } catch (err) {
      log("ERROR", "publish failed", err);
      fail(req, res, 503, "event store unavailable, retry later", { "retry-after": String(config.retryAfterSeconds) });
    } finally {
      clearTimeout(timer);
    }
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
  if (err !== undefined) entry.error = err instanceof Error ? err.stack ?? err.message : String(err);
  process.stderr.write(`${JSON.stringify(entry)}\n`);
}

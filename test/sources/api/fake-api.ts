/**
 * A paginated JSON API on loopback (node:http), as external APIs behave: an incremental filter (`since`,
 * inclusive), three pagination styles, a bearer token, and faults on demand: 429 with Retry-After in
 * seconds or as an HTTP date, 500/503, a connection dropped before any response, a body cut off mid-way.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import type { Clock } from "../../../functions/api-puller/http";
import type { PaginationStyle } from "../../../functions/api-puller/config";

export interface Payment {
  id: string;
  updated_at: string;
  amount: number;
  status: string;
  customer: { email: string };
}

export type Fault =
  | {
      readonly kind: "status";
      readonly status: number;
      readonly retryAfter?: "seconds" | "date";
      readonly after?: number;
    }
  | { readonly kind: "ok" }
  | { readonly kind: "drop" }
  | { readonly kind: "truncate" };

export const TOKEN = "test-token-3f9a";

/** `n` payments, one second apart from `start`, ids `p00001`... */
export function payments(n: number, start = Date.parse("2026-11-01T00:00:00Z"), from = 1): Payment[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `p${String(from + i).padStart(5, "0")}`,
    updated_at: new Date(start + i * 1000).toISOString(),
    amount: (from + i) * 10 + 0.5,
    status: "captured",
    customer: { email: `c${from + i}@example.com` },
  }));
}

export class FakeApi {
  records: Payment[] = [];
  /** Faults served, in order, by the next requests (one each). */
  faults: Fault[] = [];
  /** When set, every request answers with this status. */
  failAlways: number | undefined;
  /** Every request: its URL and whether it was authorised. */
  readonly requests: { url: string; authorised: boolean; at: number; fault?: string; retryAfter?: string }[] = [];
  private server: http.Server | undefined;
  private base = "";

  constructor(
    readonly style: PaginationStyle,
    private readonly clock: Clock,
  ) {}

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return `${this.base}/v2/payments`;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Records by id (the last version wins), for assertions. */
  byId(): Map<string, Payment> {
    return new Map(this.records.map((r) => [r.id, r]));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? "/", this.base);
    const authorised = req.headers.authorization === `Bearer ${TOKEN}`;
    const fault =
      this.failAlways !== undefined ? ({ kind: "status", status: this.failAlways } as Fault) : this.faults.shift();
    const served = fault?.kind === "status" ? String(fault.status) : fault?.kind === "ok" ? undefined : fault?.kind;
    const request: (typeof this.requests)[number] = {
      url: url.toString(),
      authorised,
      at: this.clock.now(),
      fault: served,
    };
    this.requests.push(request);
    if (fault?.kind === "drop") {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === "status") {
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (fault.retryAfter === "seconds") headers["retry-after"] = String(fault.after ?? 3);
      if (fault.retryAfter === "date")
        headers["retry-after"] = new Date(this.clock.now() + (fault.after ?? 2) * 1000).toUTCString();
      request.retryAfter = headers["retry-after"];
      res.writeHead(fault.status, headers).end(JSON.stringify({ error: `injected ${fault.status}` }));
      return;
    }
    if (!authorised) {
      res.writeHead(401, { "content-type": "application/json" }).end('{"error":"unauthorised"}');
      return;
    }
    const body = JSON.stringify(this.page(url));
    if (fault?.kind === "truncate") {
      res.writeHead(200, { "content-type": "application/json", "content-length": String(body.length) });
      res.write(body.slice(0, Math.floor(body.length / 2)));
      setImmediate(() => res.socket?.destroy());
      return;
    }
    const headers: Record<string, string> = { "content-type": "application/json" };
    res.writeHead(200, headers).end(body);
  }

  private page(url: URL): Record<string, unknown> {
    const since = url.searchParams.get("since");
    const limit = Number(url.searchParams.get("limit") ?? "100");
    const matching = this.records
      .filter((r) => since === null || Date.parse(r.updated_at) >= Date.parse(since))
      .sort((a, b) => Date.parse(a.updated_at) - Date.parse(b.updated_at) || a.id.localeCompare(b.id));
    let offset = 0;
    if (this.style === "cursor" && url.searchParams.has("cursor"))
      offset = (JSON.parse(Buffer.from(url.searchParams.get("cursor")!, "base64url").toString()) as { o: number }).o;
    if (this.style === "next-link") offset = Number(url.searchParams.get("offset") ?? "0");
    if (this.style === "page") offset = (Number(url.searchParams.get("page") ?? "1") - 1) * limit;
    // "since": keyset by the cursor, always from the first record at or after `since`.
    const data = matching.slice(offset, offset + limit);
    const more = offset + limit < matching.length;
    if (this.style === "cursor")
      return {
        data,
        next_cursor: more ? Buffer.from(JSON.stringify({ o: offset + limit })).toString("base64url") : null,
      };
    if (this.style === "next-link") {
      const next = new URLSearchParams(url.searchParams);
      next.set("offset", String(offset + limit));
      // A relative link, as many APIs send: the puller resolves it against the collection URL.
      return { data, links: { next: more ? `/v2/payments?${next.toString()}` : null } };
    }
    return { data };
  }
}

/** Virtual time: `sleep` advances it at once and records the wait. */
export class VirtualClock implements Clock {
  readonly sleeps: number[] = [];
  constructor(public t = Date.parse("2026-12-01T10:00:00Z")) {}
  now(): number {
    return this.t;
  }
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.t += ms;
  }
  random(): number {
    return 0.5;
  }
}

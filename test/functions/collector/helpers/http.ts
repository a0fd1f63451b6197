/** A minimal HTTP client for hand-made (often bad) requests, on node:http so nothing is normalised away. */
import * as http from "node:http";

export interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
  json(): { success?: boolean; error?: string };
}

/** Bodies above this go out with `Expect: 100-continue` (curl's threshold is 1 MB; ours sits below the 500 KB limit). */
const LARGE_BODY_BYTES = 256 * 1024;

export function request(
  url: string,
  method: string,
  body: Buffer | string | undefined,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const data = body === undefined ? undefined : typeof body === "string" ? Buffer.from(body) : body;
  const all = { ...headers };
  if (data !== undefined && !Object.keys(all).some((h) => h.toLowerCase() === "content-length")) {
    all["content-length"] = String(data.length);
  }
  // Like curl, a large upload asks first (`Expect: 100-continue`) and is sent only after the 100.
  const asksFirst = data !== undefined && data.length > LARGE_BODY_BYTES && !("expect" in all);
  if (asksFirst) all.expect = "100-continue";
  return new Promise<Reply>((resolve, reject) => {
    let settled = false;
    let answered = false;
    const req = http.request(url, { method, headers: all, agent: false }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        settled = true;
        const text = Buffer.concat(chunks).toString("utf8");
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text,
          json: () => JSON.parse(text) as { success?: boolean; error?: string },
        });
        // An early answer to an upload still in flight: the rest of the body is not wanted.
        if (!req.writableEnded) req.destroy();
      });
      res.on("error", (err) => {
        if (!settled) reject(err);
      });
    });
    req.on("error", (err) => {
      if (!settled) setTimeout(() => (settled ? undefined : reject(err)), 200);
    });
    if (data === undefined) {
      req.end();
      return;
    }
    // The body goes in 64 KB pieces with a turn of the event loop between them, and stops once the
    // server has answered, as curl does: the collector answers an oversize upload at once and closes,
    // and a client that kept writing would race the close (EPIPE, the answer reset away) on a busy machine.
    let offset = 0;
    const pump = (): void => {
      if (answered || req.destroyed) return;
      if (offset >= data.length) {
        req.end();
        return;
      }
      const end = Math.min(offset + 64 * 1024, data.length);
      const more = req.write(data.subarray(offset, end));
      offset = end;
      if (more) setImmediate(pump);
      else req.once("drain", pump);
    };
    if (asksFirst) req.once("continue", () => setImmediate(pump));
    else pump();
  });
}

export function basic(writeKey: string): string {
  return `Basic ${Buffer.from(`${writeKey}:`).toString("base64")}`;
}

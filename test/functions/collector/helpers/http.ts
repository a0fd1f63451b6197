/** A minimal HTTP client for hand-made (often bad) requests, on node:http so nothing is normalised away. */
import * as http from "node:http";

export interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
  json(): { success?: boolean; error?: string };
}

export function request(
  url: string,
  method: string,
  body: Buffer | string | undefined,
  headers: Record<string, string> = {},
): Promise<Reply> {
  return new Promise<Reply>((resolve, reject) => {
    let settled = false;
    const req = http.request(url, { method, headers, agent: false }, (res) => {
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
      });
      res.on("error", (err) => {
        if (!settled) reject(err);
      });
    });
    // The server may answer an oversize upload and close before reading it all: the reply still counts.
    req.on("error", (err) => {
      if (!settled) setTimeout(() => (settled ? undefined : reject(err)), 200);
    });
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

export function basic(writeKey: string): string {
  return `Basic ${Buffer.from(`${writeKey}:`).toString("base64")}`;
}

/**
 * Cloud Storage's JSON API on loopback, as far as the official `@google-cloud/storage` client uses it for
 * the subject-rights worker and the collector: object metadata GET, media download (`alt=media`, of the
 * live or a named generation) and the single-request multipart upload, with the `ifGenerationMatch`
 * precondition evaluated (412 `conditionNotMet` otherwise; 0 = "no live object",
 * cloud.google.com/storage/docs/request-preconditions). The real client talks to it (`apiEndpoint`), so
 * URLs, query parameters and error mapping are the client's own.
 */
import { createHash } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export interface StoredObject {
  readonly data: Buffer;
  readonly generation: number;
  readonly contentType: string;
}

export class FakeGcs {
  /** Live objects by `bucket/name`. */
  readonly objects = new Map<string, StoredObject>();
  /** Every generation ever written, by `bucket/name#generation` (downloads of a named generation). */
  private readonly versions = new Map<string, StoredObject>();
  /** Requests served, in order (`GET b/o`, `UPLOAD b/o ifGenerationMatch=1`...). */
  readonly calls: string[] = [];
  /**
   * Called after a precondition passed and before the write is applied: a test makes another writer land
   * in between (the 412 path). Runs at most once per registration.
   */
  beforeWrite: ((key: string) => Promise<void>) | undefined;
  private server: http.Server | undefined;
  private nextGeneration = 1_700_000_000_000_000;

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        this.handle(req, Buffer.concat(chunks), res).catch((err: unknown) => {
          res
            .writeHead(500, { "content-type": "application/json" })
            .end(JSON.stringify({ error: { code: 500, message: String(err) } }));
        });
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Puts an object directly (test set-up), as a new generation. */
  put(bucket: string, name: string, data: string | Buffer, contentType = "text/plain"): StoredObject {
    const obj: StoredObject = {
      data: Buffer.isBuffer(data) ? data : Buffer.from(data),
      generation: this.nextGeneration++,
      contentType,
    };
    this.objects.set(`${bucket}/${name}`, obj);
    this.versions.set(`${bucket}/${name}#${obj.generation}`, obj);
    return obj;
  }

  text(bucket: string, name: string): string | undefined {
    return this.objects.get(`${bucket}/${name}`)?.data.toString("utf8");
  }

  private resource(bucket: string, name: string, o: StoredObject): Record<string, string> {
    return {
      kind: "storage#object",
      id: `${bucket}/${name}/${o.generation}`,
      bucket,
      name,
      generation: String(o.generation),
      metageneration: "1",
      contentType: o.contentType,
      size: String(o.data.length),
      // The client checks its upload against these (CRC32C by default) and deletes the object on a mismatch.
      crc32c: crc32c(o.data),
      md5Hash: createHash("md5").update(o.data).digest("base64"),
    };
  }

  private async handle(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    const json = (status: number, doc: unknown): void =>
      void res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(doc));
    const error = (status: number, reason: string, message: string): void =>
      json(status, { error: { code: status, message, errors: [{ reason, message }] } });

    const upload = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(url.pathname);
    if (upload !== null && req.method === "POST") {
      const bucket = decodeURIComponent(upload[1]);
      const { metadata, data } = multipart(req.headers["content-type"] ?? "", body);
      const name = String(metadata.name ?? url.searchParams.get("name"));
      const key = `${bucket}/${name}`;
      const match = url.searchParams.get("ifGenerationMatch");
      this.calls.push(`UPLOAD ${key}${match !== null ? ` ifGenerationMatch=${match}` : ""}`);
      const live = this.objects.get(key);
      if (match !== null && String(live?.generation ?? 0) !== match) {
        return error(412, "conditionNotMet", "At least one of the pre-conditions you specified did not hold.");
      }
      const hook = this.beforeWrite;
      if (hook !== undefined) {
        this.beforeWrite = undefined;
        await hook(key);
        // The precondition is evaluated atomically with the write in GCS: re-checked here.
        if (match !== null && String(this.objects.get(key)?.generation ?? 0) !== match) {
          return error(412, "conditionNotMet", "At least one of the pre-conditions you specified did not hold.");
        }
      }
      const stored = this.put(bucket, name, data, String(metadata.contentType ?? "application/octet-stream"));
      return json(200, this.resource(bucket, name, stored));
    }

    // Without the /storage/v1 prefix too: STORAGE_EMULATOR_HOST (the client's own variable, used by the
    // collector's process tests) becomes the client's base URL as is.
    const object = /^(?:\/download)?(?:\/storage\/v1)?\/b\/([^/]+)\/o\/(.+)$/.exec(url.pathname);
    if (object !== null && req.method === "GET") {
      const bucket = decodeURIComponent(object[1]);
      const name = decodeURIComponent(object[2]);
      const key = `${bucket}/${name}`;
      const generation = url.searchParams.get("generation");
      const media = url.searchParams.get("alt") === "media";
      this.calls.push(`${media ? "MEDIA" : "GET"} ${key}${generation !== null ? `#${generation}` : ""}`);
      const o = generation !== null ? this.versions.get(`${key}#${generation}`) : this.objects.get(key);
      if (o === undefined) return error(404, "notFound", `No such object: ${key}`);
      if (!media) return json(200, this.resource(bucket, name, o));
      res.writeHead(200, {
        "content-type": o.contentType,
        "content-length": String(o.data.length),
        "x-goog-generation": String(o.generation),
      });
      res.end(o.data);
      return;
    }
    error(404, "notFound", `fake GCS does not serve ${req.method} ${url.pathname}`);
  }
}

/** The two parts of a `multipart/related` upload: the JSON metadata and the media. */
function multipart(contentType: string, body: Buffer): { metadata: Record<string, unknown>; data: Buffer } {
  const m = /boundary="?([^";]+)"?/.exec(contentType);
  if (m === null) return { metadata: {}, data: body };
  const delimiter = Buffer.from(`--${m[1]}`);
  const parts: Buffer[] = [];
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const start = at + delimiter.length;
    const next = body.indexOf(delimiter, start);
    if (next < 0) break;
    parts.push(body.subarray(start, next));
    at = next;
  }
  const content = (part: Buffer): Buffer => {
    const sep = part.indexOf("\r\n\r\n");
    const data = part.subarray(sep + 4);
    // Each part ends with CRLF before the next delimiter.
    return data.subarray(
      0,
      data.length >= 2 && data.subarray(-2).toString() === "\r\n" ? data.length - 2 : data.length,
    );
  };
  const metadata =
    parts[0] !== undefined ? (JSON.parse(content(parts[0]).toString("utf8")) as Record<string, unknown>) : {};
  return { metadata, data: parts[1] !== undefined ? content(parts[1]) : Buffer.alloc(0) };
}

/** CRC32C (Castagnoli, reflected polynomial 0x82F63B78) as GCS reports it: big-endian, base64 (RFC 4960 App. B). */
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32c(data: Buffer): string {
  let c = 0xffffffff;
  for (const b of data) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  const out = Buffer.alloc(4);
  out.writeUInt32BE((c ^ 0xffffffff) >>> 0);
  return out.toString("base64");
}

/**
 * Request body reading with hard limits, before any parsing.
 * Limits apply to the decompressed size (MAX_BATCH_BYTES) and are enforced while reading, so neither a
 * large upload nor a gzip bomb (a few KB that inflate to GBs) can exhaust the instance's memory.
 */
import type { IncomingMessage } from "node:http";
import { gunzip, inflate, type InputType, type ZlibOptions } from "node:zlib";

export class BodyError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

type Inflater = (buf: InputType, options: ZlibOptions, cb: (err: Error | null, result: Buffer) => void) => void;

/**
 * Compressed bodies are read whole, then inflated with `maxOutputLength`, which makes zlib stop with
 * ERR_BUFFER_TOO_LARGE at the limit instead of allocating the full output. Deflate's worst case adds
 * 5 bytes per 16 KB block (RFC 1951 §3.2.4), so a compressed body may exceed the plain limit only by a
 * small margin; the slack below covers it plus the gzip header.
 */
const COMPRESSED_SLACK_BYTES = 4 * 1024;

export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const encoding = (req.headers["content-encoding"] ?? "identity").toLowerCase().trim();
  let inflater: Inflater | undefined;
  if (encoding === "gzip" || encoding === "x-gzip") inflater = gunzip as Inflater;
  else if (encoding === "deflate") inflater = inflate as Inflater;
  else if (encoding !== "identity" && encoding !== "") {
    return Promise.reject(new BodyError(415, `unsupported content-encoding "${encoding}" (use gzip, deflate or none)`));
  }
  const wireLimit = inflater === undefined ? limit : limit + COMPRESSED_SLACK_BYTES;
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > wireLimit) {
    return Promise.reject(new BodyError(400, `request body exceeds ${limit} bytes`));
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on("data", (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > wireLimit) {
        failed = true;
        chunks.length = 0;
        reject(new BodyError(400, `request body exceeds ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on("error", (err) => {
      if (!failed) {
        failed = true;
        reject(err);
      }
    });
    req.on("end", () => {
      if (failed) return;
      const raw = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);
      if (inflater === undefined) {
        resolve(raw);
        return;
      }
      inflater(raw, { maxOutputLength: limit }, (err, out) => {
        if (err === null) resolve(out);
        else if ((err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") {
          reject(new BodyError(400, `request body exceeds ${limit} bytes after decompression`));
        } else reject(new BodyError(400, `invalid ${encoding} body: ${err.message}`));
      });
    });
  });
}

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

/**
 * True when the request declares a body no route accepts (over the batch limit, compressed slack
 * included): answered 400 before the body is read, and, for a client that sent `Expect: 100-continue`,
 * without asking for the body (server.ts).
 */
export function declaresOversizeBody(req: IncomingMessage, largestLimit: number): boolean {
  const declared = Number(req.headers["content-length"]);
  return Number.isFinite(declared) && declared > largestLimit + COMPRESSED_SLACK_BYTES;
}

/** Called once: with the (decompressed) body, or with the error and no body. */
export type BodyCallback = (err: Error | undefined, body: Buffer | undefined) => void;

/**
 * Reads the whole body, then calls `done` once. A callback rather than a promise: the collector answers
 * most requests without a single promise (README, "Benchmark").
 */
export function readBody(req: IncomingMessage, limit: number, done: BodyCallback): void {
  const encoding = (req.headers["content-encoding"] ?? "identity").toLowerCase().trim();
  let inflater: Inflater | undefined;
  if (encoding === "gzip" || encoding === "x-gzip") inflater = gunzip as Inflater;
  else if (encoding === "deflate") inflater = inflate as Inflater;
  else if (encoding !== "identity" && encoding !== "") {
    done(new BodyError(415, `unsupported content-encoding "${encoding}" (use gzip, deflate or none)`), undefined);
    return;
  }
  const wireLimit = inflater === undefined ? limit : limit + COMPRESSED_SLACK_BYTES;
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > wireLimit) {
    done(new BodyError(400, `request body exceeds ${limit} bytes`), undefined);
    return;
  }
  // Usually one chunk (a browser's event is under 1 KB): kept as is, no array until a second one.
  let first: Buffer | undefined;
  let chunks: Buffer[] | undefined;
  let size = 0;
  let failed = false;
  req.on("data", (chunk: Buffer) => {
    if (failed) return;
    size += chunk.length;
    if (size > wireLimit) {
      failed = true;
      first = undefined;
      chunks = undefined;
      done(new BodyError(400, `request body exceeds ${limit} bytes`), undefined);
      return;
    }
    if (first === undefined) first = chunk;
    else (chunks ??= [first]).push(chunk);
  });
  req.on("error", (err) => {
    if (!failed) {
      failed = true;
      done(err, undefined);
    }
  });
  req.on("end", () => {
    if (failed) return;
    const raw = chunks !== undefined ? Buffer.concat(chunks, size) : (first ?? Buffer.alloc(0));
    if (inflater === undefined) {
      done(undefined, raw);
      return;
    }
    inflater(raw, { maxOutputLength: limit }, (err, out) => {
      if (err === null) done(undefined, out);
      else if ((err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") {
        done(new BodyError(400, `request body exceeds ${limit} bytes after decompression`), undefined);
      } else done(new BodyError(400, `invalid ${encoding} body: ${err.message}`), undefined);
    });
  });
}

/**
 * Validates one CSV object as the Lambda does (chunks in, canonical NDJSON out through a sink that, like the
 * multipart upload, holds at most one 16 MiB part) in a fresh process, and prints what it cost as JSON:
 * rows, bytes in and out, the process's peak RSS (`process.resourceUsage().maxRSS`, a true high-water mark
 * kept by the kernel) and the highest V8 heap seen between chunks. A separate process so that the figure
 * is the validator's, not the test runner's.
 *
 * The object is a file read in 1 MiB chunks, or the example feed's rows generated as they are read
 * (./generated-prices.ts; `generated` then says how many rows and bytes were handed to the validator).
 *
 * Usage: node --require tsx/cjs test/sources/csv/stream-probe.ts <file.csv> <feed.json>
 *        node --require tsx/cjs test/sources/csv/stream-probe.ts --generate <bytes> <feed.json>
 */
import * as fs from "node:fs";
import type { CsvFeed } from "../../../functions/csv-loader/feed";
import { validateCsv } from "../../../functions/csv-loader/validate";
import { pricesCsv, type Generated } from "./generated-prices";

const PART_BYTES = 16 << 20;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const generate = args[0] === "--generate";
  const [source, feedFile] = generate ? args.slice(1) : args;
  const feed = JSON.parse(fs.readFileSync(feedFile, "utf8")) as CsvFeed;
  const generated: Generated = { rows: 0, bytes: 0 };
  const input = generate
    ? pricesCsv(Number(source), generated)
    : fs.createReadStream(source, { highWaterMark: 1 << 20 });
  const started = process.hrtime.bigint();
  let heapPeak = 0;
  let out = 0;
  let part: Buffer[] = [];
  let partBytes = 0;
  const result = await validateCsv(input, feed, async (chunk) => {
    part.push(chunk);
    partBytes += chunk.length;
    out += chunk.length;
    if (partBytes >= PART_BYTES) {
      part = [];
      partBytes = 0;
    }
    heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  process.stdout.write(
    `${JSON.stringify({
      valid: result.valid,
      rows: result.rows,
      errors: result.errors.slice(0, 3),
      bytesIn: result.bytes,
      bytesOut: out,
      maxRssBytes: process.resourceUsage().maxRSS * 1024,
      heapPeakBytes: heapPeak,
      seconds,
      ...(generate ? { generated } : {}),
    })}\n`,
  );
}

void main();

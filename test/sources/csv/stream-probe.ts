/**
 * Validates one file as the Lambda does (file chunks in, canonical NDJSON out through a sink that, like the
 * multipart upload, holds at most one 16 MiB part) in a fresh process, and prints what it cost as JSON:
 * rows, bytes in and out, the process's peak RSS (`process.resourceUsage().maxRSS`, a true high-water mark
 * kept by the kernel) and the highest V8 heap seen between chunks. A separate process so that the figure
 * is the validator's, not the test runner's.
 *
 * Usage: node --require tsx/cjs test/sources/csv/stream-probe.ts <file.csv> <feed.json>
 */
import * as fs from "node:fs";
import type { CsvFeed } from "../../../functions/csv-loader/feed";
import { validateCsv } from "../../../functions/csv-loader/validate";

const PART_BYTES = 16 << 20;

async function main(): Promise<void> {
  const [file, feedFile] = process.argv.slice(2);
  const feed = JSON.parse(fs.readFileSync(feedFile, "utf8")) as CsvFeed;
  const started = process.hrtime.bigint();
  let heapPeak = 0;
  let out = 0;
  let part: Buffer[] = [];
  let partBytes = 0;
  const result = await validateCsv(fs.createReadStream(file, { highWaterMark: 1 << 20 }), feed, async (chunk) => {
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
    })}\n`,
  );
}

void main();

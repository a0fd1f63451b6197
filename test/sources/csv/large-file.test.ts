/**
 * A CSV file of more than 1 GiB, generated in the test's temp folder, validated as the Lambda validates
 * (chunks in, canonical rows out in parts) in a fresh process: every row is read and the process's peak
 * memory stays a small fraction of the file, so the validator streams. A non-streaming validator could
 * not pass: the file alone is 1 GiB, more than V8's largest string (2^29 - 24 characters).
 *
 * The figures it prints are in functions/csv-loader/README.md ("Streaming"). No time is asserted.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import { PROJECT_ROOT } from "../../../components/project-root";
import { TSX_NODE_ARGS } from "../../../tools/tsx-loader";
import { feedOf, PRICES_HEADER } from "./harness";

const GIB = 1024 ** 3;
/**
 * Peak RSS allowed: 320 MiB, under a third of the file. Measured: 165-210 MiB for the 1 GiB file, 97 MiB
 * for a 1.4 MB one, 75 MiB for Node with tsx alone (README, "Streaming"): what the file adds is the
 * validator's constant working set (one chunk, one part, V8's young generation), not the file.
 */
const RSS_BOUND = 320 * 1024 ** 2;

/** Writes rows of the stack files' example feed until the file passes `bytes`; returns the row count. */
function generate(file: string, bytes: number): number {
  const fd = fs.openSync(file, "w");
  fs.writeSync(fd, PRICES_HEADER);
  let written = Buffer.byteLength(PRICES_HEADER);
  let rows = 0;
  // One block of 100,000 rows, written again and again with its block number patched in: generating
  // each row anew would cost more than validating it.
  const perBlock = 100_000;
  const lines: string[] = [];
  for (let i = 0; i < perBlock; i++) {
    const price = `${(i * 7919) % 100_000}.${String(i % 10_000).padStart(4, "0")}`;
    const ts =
      i % 5 === 0
        ? ""
        : `2026-${String(1 + (i % 12)).padStart(2, "0")}-${String(1 + (i % 28)).padStart(2, "0")} 0${i % 10}:15:00.${i % 1000}`;
    const currency = i % 17 === 0 ? '"R$, reais"' : "BRL";
    lines.push(
      `SKU-000000-${i},SUP-${i % 997},${price},${currency},2026-01-${String(1 + (i % 28)).padStart(2, "0")},${ts}\n`,
    );
  }
  const block = Buffer.from(lines.join(""));
  const offsets: number[] = [];
  for (let at = block.indexOf("SKU-"); at !== -1; at = block.indexOf("SKU-", at + 1)) offsets.push(at + 4);
  for (let n = 0; written < bytes; n++) {
    const tag = String(n).padStart(6, "0");
    for (const at of offsets) block.write(tag, at, "latin1");
    fs.writeSync(fd, block);
    written += block.length;
    rows += perBlock;
  }
  fs.closeSync(fd);
  return rows;
}

describe("CSV loader: a file over 1 GiB streams", function () {
  this.timeout(15 * 60_000);
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "csv-large-"));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("validates every row of a 1 GiB file with a peak RSS under a third of its size", () => {
    const file = path.join(dir, "prices.csv");
    const rows = generate(file, GIB);
    const size = fs.statSync(file).size;
    expect(size).to.be.at.least(GIB);
    const feed = feedOf({
      name: "supplier-prices",
      key: ["sku", "supplier_id", "valid_from"],
      columns: [
        { name: "sku", type: "string", nullable: false },
        { name: "supplier_id", type: "string", nullable: false },
        { name: "price", type: "decimal", precision: 18, scale: 4, nullable: false },
        { name: "currency", type: "string" },
        { name: "valid_from", type: "date", nullable: false },
        { name: "updated_at", type: "timestamp" },
      ],
    });
    const feedFile = path.join(dir, "feed.json");
    fs.writeFileSync(feedFile, JSON.stringify(feed));
    const probe = spawnSync(process.execPath, [...TSX_NODE_ARGS, "test/sources/csv/stream-probe.ts", file, feedFile], {
      cwd: PROJECT_ROOT,
      encoding: "utf8",
    });
    expect(probe.status, probe.stderr).to.equal(0);
    const r = JSON.parse(probe.stdout) as {
      valid: boolean;
      rows: number;
      errors: unknown[];
      bytesIn: number;
      bytesOut: number;
      maxRssBytes: number;
      heapPeakBytes: number;
      seconds: number;
    };
    const mib = (b: number): string => (b / 1024 ** 2).toFixed(0);
    console.log(
      `      ${mib(size)} MiB, ${rows} rows in ${r.seconds.toFixed(1)} s (${mib(r.bytesIn / r.seconds)} MiB/s); ` +
        `peak RSS ${mib(r.maxRssBytes)} MiB, peak heap ${mib(r.heapPeakBytes)} MiB; ${mib(r.bytesOut)} MiB of NDJSON out`,
    );
    expect(r.errors).to.deep.equal([]);
    expect(r).to.include({ valid: true, rows, bytesIn: size });
    expect(r.bytesOut).to.be.greaterThan(size);
    expect(r.maxRssBytes).to.be.lessThan(RSS_BOUND);
  });
});

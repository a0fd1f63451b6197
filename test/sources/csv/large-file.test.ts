/**
 * A CSV object of more than 1 GiB validated as the Lambda validates (chunks in, canonical rows out in parts)
 * in a fresh process: every row is read and the process's peak memory stays a small fraction of the
 * object, so the validator streams. A non-streaming validator could not pass: the object alone is 1 GiB,
 * more than V8's largest string (2^29 - 24 characters).
 *
 * The rows are generated in the probe as they are read (./generated-prices.ts), in the 1 MiB chunks of a
 * file stream: the Lambda reads an S3 stream, never a file, and writing the gigabyte to disk first only
 * cost time. The figures it prints are in functions/csv-loader/README.md ("Streaming"). No time is asserted.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import { PROJECT_ROOT } from "../../../components/project-root";
import { TSX_NODE_ARGS } from "../../../tools/tsx-loader";
import { pricesCsv, PRICES_HEADER, type Generated } from "./generated-prices";
import { feedOf } from "./harness";

const GIB = 1024 ** 3;
/**
 * Peak RSS allowed: 320 MiB, under a third of the object. Measured: 165-210 MiB for 1 GiB, 97 MiB for
 * 1.4 MB, 75 MiB for Node with tsx alone (README, "Streaming"): what the gigabyte adds is the validator's
 * constant working set (one chunk, one part, V8's young generation), not the object.
 */
const RSS_BOUND = 320 * 1024 ** 2;

describe("CSV loader: an object over 1 GiB streams", function () {
  this.timeout(15 * 60_000);
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "csv-large-"));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("validates every row of a 1 GiB object with a peak RSS under a third of its size", () => {
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
    const probe = spawnSync(
      process.execPath,
      [...TSX_NODE_ARGS, "test/sources/csv/stream-probe.ts", "--generate", String(GIB), feedFile],
      {
        cwd: PROJECT_ROOT,
        encoding: "utf8",
      },
    );
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
      generated: { rows: number; bytes: number };
    };
    const { rows, bytes: size } = r.generated;
    expect(size).to.be.at.least(GIB);
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

  it("is fed what a file stream would give: 1 MiB chunks cut anywhere, the header, then every counted row", async () => {
    const totals: Generated = { rows: 0, bytes: 0 };
    const chunks: Buffer[] = [];
    for await (const c of pricesCsv(3 << 20, totals)) chunks.push(c);
    const all = Buffer.concat(chunks);
    expect(chunks.slice(0, -1).every((c) => c.length === 1 << 20)).to.equal(true);
    expect(all.length)
      .to.equal(totals.bytes)
      .and.be.at.least(3 << 20);
    expect(all.subarray(0, PRICES_HEADER.length).toString()).to.equal(PRICES_HEADER);
    const lines = all.toString("latin1").split("\n");
    expect(lines.pop()).to.equal("");
    expect(lines.length - 1).to.equal(totals.rows);
    // Each block of rows is numbered: no two rows of the object share a key.
    const keys = new Set(lines.slice(1).map((l) => l.split(",").slice(0, 2).join(",") + "," + l.split(",").at(-2)));
    expect(keys.size).to.equal(totals.rows);
  });
});

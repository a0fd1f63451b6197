/**
 * The CSV loader end to end on a folder and DuckDB (the same pipeline and SQL as the Lambda with S3 and
 * Athena): a good file lands typed in the feed's table; each kind of bad file is quarantined with a
 * report that says why and where, never loaded and never left behind; a re-delivered file loads once.
 */
import { expect } from "chai";
import {
  quarantineFileKey,
  quarantinePrefix,
  quarantineReportKey,
  validatedKey,
  validatedPrefix,
} from "../../../functions/csv-loader/feed";
import { DuckDbEngine } from "../../../functions/csv-loader/local";
import { processDelivery, type Outcome, type QuarantineReport } from "../../../functions/csv-loader/pipeline";
import { feedOf, Lake, PRICES, PRICES_HEADER } from "./harness";

const GOOD =
  PRICES_HEADER +
  "SKU-1,SUP-1,10.5,BRL,2026-01-01,2026-01-01 08:00:00\n" +
  '"SKU-2, large","SUP-1","0.0001",,2026-01-01,2026-01-01T08:00:00.123456\n' +
  'SKU-3,SUP-2,-3,"BR""L",2028-02-29,\n';

function quarantined(o: Outcome): QuarantineReport {
  if (o.status !== "quarantined") throw new Error(`expected a quarantine, got ${o.status}`);
  return o.report;
}

describe("CSV loader (local: folder + DuckDB)", function () {
  this.timeout(60_000);
  let lake: Lake;
  beforeEach(async () => {
    lake = await Lake.create();
  });
  afterEach(() => lake.close());

  /** The report of a quarantined delivery, checked against what is on disk: file moved, report beside it. */
  async function refused(name: string, body: string | Buffer, feed = PRICES): Promise<QuarantineReport> {
    const d = lake.put(feed, name, body);
    const report = quarantined(await lake.process(feed, d));
    expect(lake.landingExists(d), "left in landing").to.equal(false);
    expect(lake.rawFiles(`${quarantinePrefix(feed.name)}${report.fileId}/`)).to.deep.equal(
      [quarantineFileKey(feed.name, report.fileId, d.key), quarantineReportKey(feed.name, report.fileId)].sort(),
    );
    expect(lake.report(quarantineReportKey(feed.name, report.fileId))).to.deep.equal(report);
    expect(lake.rawFiles(validatedPrefix(feed.name)), "validated copy").to.deep.equal([]);
    expect(await lake.rows(feed), "rows loaded from a refused file").to.deep.equal([]);
    expect(report).to.include({ feed: feed.name, quarantinedAt: "2026-12-01T10:05:00.000Z" });
    expect(report.file).to.deep.equal({ bucket: "landing", key: d.key, size: d.size });
    return report;
  }

  it("loads a good file typed: quoted delimiters and quotes, empty fields as NULL, leap day, µs timestamps", async () => {
    const d = lake.put(PRICES, "prices-2026-01.csv", GOOD);
    const outcome = await lake.process(PRICES, d);
    expect(outcome).to.deep.include({ status: "loaded", rows: 3 });
    expect(await lake.rows(PRICES)).to.deep.equal([
      {
        sku: "SKU-1",
        supplier_id: "SUP-1",
        price: "10.5000",
        currency: "BRL",
        valid_from: "2026-01-01",
        updated_at: "2026-01-01 08:00:00",
      },
      {
        sku: "SKU-2, large",
        supplier_id: "SUP-1",
        price: "0.0001",
        currency: null,
        valid_from: "2026-01-01",
        updated_at: "2026-01-01 08:00:00.123456",
      },
      {
        sku: "SKU-3",
        supplier_id: "SUP-2",
        price: "-3.0000",
        currency: 'BR"L',
        valid_from: "2028-02-29",
        updated_at: null,
      },
    ]);
    expect(lake.landingExists(d)).to.equal(false);
    expect(lake.rawFiles(validatedPrefix(PRICES.name))).to.deep.equal([validatedKey(PRICES.name, outcome.fileId)]);
    expect(lake.rawFiles(quarantinePrefix(PRICES.name))).to.deep.equal([]);
  });

  it("reads the same rows DuckDB's own CSV reader reads from the file", async () => {
    const d = lake.put(PRICES, "same.csv", GOOD);
    const path = lake.store.landingPath(d.key);
    const direct = await lake.connection.runAndReadAll(
      `SELECT sku, supplier_id, CAST(price AS DECIMAL(18,4)) AS price, currency, valid_from, updated_at
       FROM read_csv('${path}', header = true, delim = ',', quote = '"', escape = '"',
         columns = {sku: 'VARCHAR', supplier_id: 'VARCHAR', price: 'VARCHAR', currency: 'VARCHAR', valid_from: 'DATE', updated_at: 'TIMESTAMP'})
       ORDER BY ALL`,
    );
    const expected = direct.getRowObjectsJson();
    await lake.process(PRICES, d);
    expect(await lake.rows(PRICES)).to.deep.equal(expected);
  });

  it("loads a re-delivered file once, however often the event comes (row count unchanged, nothing quarantined)", async () => {
    const d = lake.put(PRICES, "twice.csv", GOOD);
    const first = await lake.process(PRICES, d);
    // Re-delivery after the landing object was removed (the cloud reads it by version; here the validated
    // copy is found and the idempotent load re-runs), then the same upload arriving again.
    const second = await lake.process(PRICES, d);
    const again = lake.put(PRICES, "twice.csv", GOOD);
    const third = await lake.process(PRICES, again);
    expect([first, second, third].map((o) => [o.status, o.fileId])).to.deep.equal([
      ["loaded", first.fileId],
      ["loaded", first.fileId],
      ["loaded", first.fileId],
    ]);
    const rows = await lake.rows(PRICES, true);
    expect(rows).to.have.length(3);
    expect(new Set(rows.map((r) => r._source_order)).size).to.equal(1);
    expect(lake.rawFiles(quarantinePrefix(PRICES.name))).to.deep.equal([]);
  });

  it("completes a run that crashed before or after its MERGE on the next delivery: every row once", async () => {
    const crash = (when: "before" | "after") =>
      new (class extends DuckDbEngine {
        override async merge(...args: Parameters<DuckDbEngine["merge"]>): Promise<void> {
          if (when === "after") await super.merge(...args);
          throw new Error(`crash ${when} the MERGE`);
        }
      })(lake.connection, lake.store);
    for (const when of ["before", "after"] as const) {
      const d = lake.put(PRICES, `crash-${when}.csv`, GOOD.replace(/SKU-/g, `${when}-`));
      await processDelivery(PRICES, d, lake.store, crash(when)).then(
        () => expect.fail("the crash did not happen"),
        (e: Error) => expect(e.message).to.equal(`crash ${when} the MERGE`),
      );
      expect(lake.landingExists(d), "a crashed run must leave the file in landing").to.equal(true);
      expect((await lake.process(PRICES, d)).status).to.equal("loaded");
      expect(lake.landingExists(d)).to.equal(false);
    }
    const rows = await lake.rows(PRICES);
    expect(rows.map((r) => r.sku)).to.deep.equal([
      "after-1",
      "after-2, large",
      "after-3",
      "before-1",
      "before-2, large",
      "before-3",
    ]);
  });

  it("merges on the key: a later file updates and adds rows; an older file delivered late changes nothing", async () => {
    await lake.process(PRICES, lake.put(PRICES, "jan.csv", GOOD, "2026-12-01T10:00:00Z"));
    const feb = PRICES_HEADER + "SKU-1,SUP-1,11,BRL,2026-01-01,2026-02-01 08:00:00\nSKU-4,SUP-2,4,USD,2026-02-01,\n";
    await lake.process(PRICES, lake.put(PRICES, "feb.csv", feb, "2026-12-01T11:00:00Z"));
    const late = PRICES_HEADER + "SKU-1,SUP-1,9.99,BRL,2026-01-01,2025-12-01 08:00:00\n";
    expect((await lake.process(PRICES, lake.put(PRICES, "late.csv", late, "2026-12-01T09:00:00Z"))).status).to.equal(
      "loaded",
    );
    const rows = await lake.rows(PRICES);
    expect(rows.map((r) => [r.sku, r.price])).to.deep.equal([
      ["SKU-1", "11.0000"],
      ["SKU-2, large", "0.0001"],
      ["SKU-3", "-3.0000"],
      ["SKU-4", "4.0000"],
    ]);
  });

  it("quarantines a file whose header lacks a column", async () => {
    const r = await refused("missing.csv", "sku,supplier_id,price,valid_from,updated_at\nSKU-1,SUP-1,1,2026-01-01,\n");
    expect(r).to.deep.include({ reason: "header-mismatch", complete: false, counts: { "header-mismatch": 1 } });
    expect(r.errors[0]).to.deep.include({ kind: "header-mismatch", line: 1 });
    expect(r.errors[0].message).to.match(/missing currency$/);
  });

  it("quarantines a file with an extra column, and one with reordered columns", async () => {
    const extra = await refused(
      "extra.csv",
      "sku,supplier_id,price,currency,valid_from,updated_at,note\nA,B,1,BRL,2026-01-01,,x\n",
    );
    expect(extra.errors[0].message).to.match(/extra note$/);
    const reordered = await refused(
      "reordered.csv",
      "supplier_id,sku,price,currency,valid_from,updated_at\nB,A,1,BRL,2026-01-01,\n",
    );
    expect(reordered.errors[0].message).to.match(/reordered: expected sku, supplier_id, price/);
  });

  it("quarantines rows with missing or extra fields in a file without header", async () => {
    const headless = feedOf({ ...PRICES, header: false });
    const r = await refused("headless.csv", "A,B,1,BRL,2026-01-01,\nA,B,1,BRL\nA,B,1,BRL,2026-01-01,,x\n", headless);
    expect(r.errors).to.deep.equal([
      { kind: "column-count", line: 2, message: "4 fields where 6 columns are declared (missing columns)" },
      { kind: "column-count", line: 3, message: "7 fields where 6 columns are declared (extra columns)" },
    ]);
  });

  it("quarantines bad types and NULLs in required columns, listing every one with line, column and value", async () => {
    const body =
      PRICES_HEADER +
      "SKU-1,SUP-1,ten,BRL,2026-01-01,\n" +
      "SKU-2,SUP-1,1.23456,BRL,2026-02-30,2026-01-01 24:00:00\n" +
      ",SUP-1,1,BRL,2026-01-01,\n" +
      "SKU-4,SUP-1,,BRL,2026-01-01,2026-01-01 08:00\n";
    const r = await refused("types.csv", body);
    expect(r).to.deep.include({
      reason: "bad-type",
      rows: 4,
      complete: true,
      counts: { "bad-type": 5, "null-in-required-column": 2 },
    });
    expect(r.errors.map((e) => [e.kind, e.line, e.column, e.columnName, e.value])).to.deep.equal([
      ["bad-type", 2, 3, "price", "ten"],
      ["bad-type", 3, 3, "price", "1.23456"],
      ["bad-type", 3, 5, "valid_from", "2026-02-30"],
      ["bad-type", 3, 6, "updated_at", "2026-01-01 24:00:00"],
      ["null-in-required-column", 4, 1, "sku", undefined],
      ["null-in-required-column", 5, 3, "price", undefined],
      ["bad-type", 5, 6, "updated_at", "2026-01-01 08:00"],
    ]);
    expect(r.errors[1].message).to.equal("decimal: more than 4 digits after the point");
  });

  it("checks integer ranges, booleans and doubles, and never shows a pii column's value", async () => {
    const feed = feedOf({
      name: "loyalty",
      key: ["id"],
      columns: [
        { name: "id", type: "bigint" },
        { name: "points", type: "int" },
        { name: "ratio", type: "double" },
        { name: "opt_in", type: "boolean" },
        { name: "email", type: "int", pii: true },
      ],
    });
    const body =
      "id,points,ratio,opt_in,email\n9223372036854775808,2147483648,1e,yes,someone@example.com\n1,-2147483648,-1.5E+3,TRUE,7\n";
    const r = await refused("ranges.csv", body, feed);
    expect(r.errors.map((e) => [e.columnName, e.value, e.message])).to.deep.equal([
      ["id", "9223372036854775808", "bigint: out of the bigint range"],
      ["points", "2147483648", "int: out of the int range"],
      ["ratio", "1e", "double: not a number"],
      ["opt_in", "yes", "boolean: not true or false"],
      ["email", "<pii>", "int: not an integer"],
    ]);
  });

  it("keeps pii columns out of the curated table (they stay in the raw zone's validated copy)", async () => {
    const feed = feedOf({
      name: "contacts",
      key: ["id"],
      columns: [
        { name: "id", type: "int" },
        { name: "email", type: "string", pii: true },
        { name: "opt_in", type: "boolean" },
      ],
    });
    await lake.process(feed, lake.put(feed, "c.csv", "id,email,opt_in\n1,a@example.com,true\n2,,False\n"));
    expect(await lake.rows(feed)).to.deep.equal([
      { id: 1, opt_in: true },
      { id: 2, opt_in: false },
    ]);
  });

  it("quarantines a truncated file: a last line without line break, or a quote never closed", async () => {
    const cut = await refused("cut.csv", PRICES_HEADER + "SKU-1,SUP-1,1,BRL,2026-01-01,\nSKU-2,SUP-1,2,BR");
    expect(cut.errors.map((e) => [e.kind, e.line])).to.deep.equal([
      ["column-count", 3],
      ["missing-final-newline", 3],
    ]);
    // Cut between two fields: the count still matches, only the missing line break tells.
    const between = await refused("between.csv", PRICES_HEADER + "SKU-1,SUP-1,1,BRL,2026-01-01,");
    expect(between).to.deep.include({ reason: "missing-final-newline", counts: { "missing-final-newline": 1 } });
    const quote = await refused("quote.csv", PRICES_HEADER + 'SKU-1,SUP-1,1,"BRL\n');
    expect(quote.errors).to.deep.equal([
      {
        kind: "unterminated-quote",
        line: 2,
        column: 4,
        message: "a quoted field is never closed: the file ends inside it (truncated?)",
      },
    ]);
  });

  it("accepts a last line without line break when the feed says so, and CRLF line ends", async () => {
    const feed = feedOf({ ...PRICES, requireFinalNewline: false });
    const body = PRICES_HEADER.replace("\n", "\r\n") + "SKU-1,SUP-1,1,BRL,2026-01-01,\r\nSKU-2,SUP-1,2,BRL,2026-01-01,";
    expect(await lake.process(feed, lake.put(feed, "crlf.csv", body))).to.deep.include({ status: "loaded", rows: 2 });
    expect((await lake.rows(feed)).map((r) => [r.sku, r.currency])).to.deep.equal([
      ["SKU-1", "BRL"],
      ["SKU-2", "BRL"],
    ]);
  });

  it("quarantines an empty file (0 bytes, or a byte-order mark only); a header-only file loads nothing", async () => {
    const empty = await refused("empty.csv", "");
    expect(empty).to.deep.include({ reason: "empty-file", rows: 0 });
    expect(empty.errors[0].message).to.equal("the file is empty (0 bytes)");
    expect((await refused("bom.csv", Buffer.from([0xef, 0xbb, 0xbf]))).reason).to.equal("empty-file");
    expect(await lake.process(PRICES, lake.put(PRICES, "header.csv", PRICES_HEADER))).to.deep.include({
      status: "loaded",
      rows: 0,
    });
  });

  it("quarantines latin-1 bytes in a UTF-8 feed, naming the line and byte; a windows-1252 feed reads them", async () => {
    const body = Buffer.concat([
      Buffer.from(PRICES_HEADER + "SKU-1,SUP-1,1,BRL,2026-01-01,\nSKU-2,Sup Jo"),
      Buffer.from([0xe3, 0x6f]), // "ão" in latin-1
      Buffer.from(",2,BRL,2026-01-01,\n"),
    ]);
    const r = await refused("latin1.csv", body);
    expect(r).to.deep.include({ reason: "encoding", complete: false });
    expect(r.errors[0]).to.deep.include({
      kind: "encoding",
      line: 3,
      byteOffset: body.indexOf(0xe3),
      value: "0xe3 0x6f 0x2c 0x32",
    });
    const cp1252 = feedOf({ ...PRICES, name: "prices-legacy", encoding: "windows-1252" });
    expect((await lake.process(cp1252, lake.put(cp1252, "latin1.csv", body))).status).to.equal("loaded");
    expect((await lake.rows(cp1252)).map((r) => r.supplier_id)).to.deep.equal(["SUP-1", "Sup João"]);
  });

  it("reads UTF-8 split across read chunks and strips a byte-order mark", async () => {
    const body = Buffer.from(`\uFEFF${PRICES_HEADER}SKU-€,São Paulo 🚚,1,BRL,2026-01-01,\n`);
    await lake.process(PRICES, lake.put(PRICES, "utf8.csv", body));
    expect((await lake.rows(PRICES)).map((r) => [r.sku, r.supplier_id])).to.deep.equal([["SKU-€", "São Paulo 🚚"]]);
  });

  it("quarantines a file with a duplicate key, naming the key and its lines, and removes its validated copy", async () => {
    const body =
      PRICES_HEADER + "A,S,1,BRL,2026-01-01,\nB,S,1,BRL,2026-01-01,\nA,S,2,BRL,2026-01-01,\nA,S,3,BRL,2026-01-01,\n";
    const r = await refused("dupes.csv", body);
    expect(r.errors).to.deep.equal([
      {
        kind: "duplicate-key",
        line: 5,
        value: '{"sku":"A","supplier_id":"S","valid_from":"2026-01-01"}',
        message:
          'key {"sku":"A","supplier_id":"S","valid_from":"2026-01-01"} appears 3 times (first on line 2); the key must be unique in a file',
      },
    ]);
  });

  it("a re-delivered quarantined file stays quarantined once, and is not loaded", async () => {
    const bad = PRICES_HEADER + "A,S,x,BRL,2026-01-01,\n";
    const d = lake.put(PRICES, "bad.csv", bad);
    const first = await lake.process(PRICES, d);
    const again = await lake.process(PRICES, lake.put(PRICES, "bad.csv", bad));
    expect([first.status, again.status]).to.deep.equal(["quarantined", "already-quarantined"]);
    expect(lake.rawFiles(quarantinePrefix(PRICES.name))).to.have.length(2);
    expect(lake.landingExists(d)).to.equal(false);
  });

  it("quarantines a file over the feed's size limit without reading it", async () => {
    const small = feedOf({ ...PRICES, maxFileMiB: 1 });
    const r = await refused("big.csv", PRICES_HEADER + "x".repeat(1024 * 1024), small);
    expect(r).to.deep.include({ reason: "too-large", rows: 0 });
  });
});

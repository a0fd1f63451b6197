/**
 * The MERGE from landed API pages into the curated table, on DuckDB over the NDJSON objects the real puller
 * wrote (the Athena rendering is the same spec; its text is checked below). Counted: one row per id, the
 * latest version, across a crash and restart, a re-run of the MERGE, and a later incremental pass.
 */
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { expect } from "chai";
import { gzipSync } from "node:zlib";
import { duckdbCreateTable, duckdbLanding, mergeSql, type ApiTableSpec } from "../../../functions/api-puller/merge-sql";
import { payments, type Payment } from "./fake-api";
import { crashingSink, Harness } from "./harness";

const SPEC: ApiTableSpec = {
  cursorType: "timestamp",
  columns: [
    { name: "amount", type: "decimal(12,2)", field: "/amount" },
    { name: "status", type: "string", field: "/status" },
  ],
};

async function curated(c: DuckDBConnection): Promise<Map<string, { cursor: string; amount: string; status: string }>> {
  const rows = await c.runAndReadAll(
    `SELECT record_id, strftime(record_cursor AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ'), CAST(amount AS VARCHAR), status FROM api_payments_br ORDER BY record_id`,
  );
  return new Map(
    rows
      .getRows()
      .map(([id, cursor, amount, status]) => [
        String(id),
        { cursor: String(cursor), amount: String(amount), status: String(status) },
      ]),
  );
}

function expectMatches(
  table: Map<string, { cursor: string; amount: string; status: string }>,
  latest: readonly Payment[],
): void {
  expect(table.size).to.equal(latest.length);
  for (const p of latest) {
    expect(table.get(p.id), p.id).to.deep.equal({
      cursor: p.updated_at,
      amount: p.amount.toFixed(2),
      status: p.status,
    });
  }
}

describe("API landing -> curated MERGE on DuckDB", () => {
  let h: Harness;
  let c: DuckDBConnection;
  beforeEach(async () => {
    h = await new Harness("cursor").start();
    c = await (await DuckDBInstance.create(":memory:")).connect();
    await c.run("SET TimeZone = 'UTC'");
    await c.run(duckdbCreateTable(SPEC, "api_payments_br"));
  });
  afterEach(async () => {
    c.closeSync();
    await h.stop();
  });
  const merge = () => c.run(mergeSql(SPEC, "duckdb", { target: "api_payments_br", source: duckdbLanding(h.folder) }));

  it("after a crash and a restart, then twice: one row per record, the API's values", async () => {
    h.api.records = payments(95);
    await h.run({ sink: crashingSink(h.sink, 2, "after") }).catch(() => undefined);
    expect((await h.run()).outcome).to.equal("caught-up");
    await merge();
    expectMatches(await curated(c), h.api.records);
    await merge();
    expectMatches(await curated(c), h.api.records);
    const columns = await c.runAndReadAll(
      "SELECT column_name FROM information_schema.columns WHERE table_name = 'api_payments_br'",
    );
    // Only declared columns reach the curated table: the customer's e-mail stays in the landing zone.
    expect(columns.getRows().map(([n]) => n)).to.deep.equal([
      "record_id",
      "record_cursor",
      "source_object",
      "amount",
      "status",
    ]);
  });

  it("an incremental pass updates changed rows and adds new ones; an older version landed late changes nothing", async () => {
    h.api.records = payments(40);
    await h.run();
    await merge();
    const changed = { ...h.api.records[3], status: "refunded", amount: 1.25, updated_at: "2026-11-05T00:00:00.000Z" };
    const added = payments(5, Date.parse("2026-11-06T00:00:00Z"), 500);
    h.api.records = [...h.api.records.filter((p) => p.id !== changed.id), changed, ...added];
    await h.run();
    await merge();
    expectMatches(await curated(c), h.api.records);
    // A replayed object holding the old version of p00004 (e.g. restored from a backup) must not win.
    const old = payments(40)[3];
    await h.sink.put(
      "api/payments-br/dt=2026-12-09/zzzz-replayed.ndjson.gz",
      gzipSync(`${JSON.stringify({ id: old.id, cursor: old.updated_at, record: JSON.stringify(old) })}\n`),
    );
    await merge();
    expectMatches(await curated(c), h.api.records);
  });

  it("renders the same MERGE for Athena over the Glue table, with the landing window", () => {
    const sql = mergeSql(SPEC, "athena", {
      target: `"lakehouse_prod_br_curated"."api_payments_br"`,
      source: `"lakehouse_prod_br_raw"."api_payments_br_landing"`,
      lookbackDays: 3,
    });
    expect(sql).to.contain(`MERGE INTO "lakehouse_prod_br_curated"."api_payments_br" AS t`);
    expect(sql).to.contain(`from_iso8601_timestamp(cursor) AS record_cursor`);
    expect(sql).to.contain(`CAST(json_extract_scalar(record, '$.amount') AS DECIMAL(12, 2)) AS "amount"`);
    expect(sql).to.contain(`"$path" AS source_object`);
    expect(sql).to.contain(`WHERE dt >= date_format(current_date - interval '3' day, '%Y-%m-%d')`);
    expect(sql).to.contain(`WHEN MATCHED AND s.record_cursor > t.record_cursor THEN UPDATE SET`);
  });
});

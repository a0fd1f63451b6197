/**
 * The load's SQL: the Athena rendering is the DuckDB one the other tests execute, but for the types Trino
 * spells differently; values from outside (object keys, ids) cannot change the statement.
 */
import { expect } from "chai";
import { duplicateKeysSql, mergeSql } from "../../../functions/csv-loader/load-sql";
import { Lake, PRICES, PRICES_HEADER } from "./harness";

const FILE = {
  fileId: "a".repeat(32),
  sourceFile: "s3://landing/csv/supplier-prices/x.csv",
  order: `2026-12-01T10:00:00.000Z#${"a".repeat(32)}`,
};
const TABLES = { staging: '"raw"."csv_supplier_prices_validated"', curated: '"curated"."csv_supplier_prices"' };

describe("CSV loader: load SQL", () => {
  it("renders the same MERGE for Athena and DuckDB but for Trino's type names", () => {
    const athena = mergeSql(PRICES, TABLES, "athena", FILE);
    const duckdb = mergeSql(PRICES, TABLES, "duckdb", FILE);
    expect(athena).to.include("CAST(replace(s.\"updated_at\", 'T', ' ') AS TIMESTAMP(6))");
    expect(athena.replace("TIMESTAMP(6)", "TIMESTAMP").replace(/\bvarchar\b/g, "VARCHAR")).to.equal(duckdb);
    expect(athena).to.match(
      /WHEN MATCHED AND s\."_source_order" > t\."_source_order" THEN UPDATE SET "price" = s\."price", "currency"/,
    );
    expect(athena).not.to.match(/UPDATE SET[^\n]*"sku" =/);
  });

  it("refuses a file id or order that is not what the loader computes", () => {
    expect(() => duplicateKeysSql(PRICES, TABLES, "x' OR '1'='1")).to.throw(/file id/);
    expect(() => mergeSql(PRICES, TABLES, "athena", { ...FILE, order: "2026'; DROP TABLE x; --" })).to.throw(
      /source order/,
    );
  });

  it("loads a file whose name holds a quote, recording it as it is", async () => {
    const lake = await Lake.create();
    try {
      const d = lake.put(PRICES, "o'brien's prices.csv", `${PRICES_HEADER}A,S,1,BRL,2026-01-01,\n`);
      expect((await lake.process(PRICES, d)).status).to.equal("loaded");
      expect((await lake.rows(PRICES, true)).map((r) => r._source_file)).to.deep.equal([
        "s3://landing/csv/supplier-prices/o'brien's prices.csv",
      ]);
    } finally {
      lake.close();
    }
  });
});

/**
 * The pure rules behind the ingestion components: TLS per engine, table mappings, partition parsing,
 * the minimal Iceberg schema, maintenance bounded by the erasure SLA, and subnet splitting.
 */
import { expect } from "chai";
import fc from "fast-check";
import { splitCidr } from "../../components/aws/ingestion/network";
import { maintenanceForSla } from "../../components/aws/ingestion/iceberg-table";
import {
  curatedTableName,
  curatedSchema,
  LEDGER_SCHEMA,
  mergeColumns,
  tombstoneSchema,
  parsePartition,
  sslModeFor,
  tableMappings,
} from "../../components/aws/ingestion/plan-rules";
import { generateMergeSql } from "../../functions/cdc-merge/merge-sql";
import { DMS_DEFAULTS, parseTableSpec } from "../../functions/cdc-merge/spec";

describe("ingestion plan rules", function () {
  describe("sslModeFor", function () {
    const ca = "-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----";
    const wallet = "UkVQTEFDRQ==";
    const cases = [
      { engine: "mysql", ca, mode: "verify-full" },
      { engine: "sqlserver", ca, mode: "verify-full" },
      { engine: "sqlserver", ca: undefined, mode: "require" },
    ] as const;
    for (const c of cases) {
      it(`${c.engine} ${c.ca ? "with" : "without"} a CA -> ${c.mode}`, function () {
        expect(sslModeFor({ name: "s", engine: c.engine, caCertificatePem: c.ca })).to.equal(c.mode);
      });
    }
    it("oracle with an Oracle wallet -> verify-ca", function () {
      expect(sslModeFor({ name: "s", engine: "oracle", caCertificateWallet: wallet })).to.equal("verify-ca");
    });
    it("rejects oracle with a PEM only: DMS verifies Oracle against a wallet", function () {
      expect(() => sslModeFor({ name: "orders", engine: "oracle", caCertificatePem: ca })).to.throw(
        /lakehouse:sources\.transactional 'orders'.*needs caCertificateWallet/,
      );
    });
    it("rejects mysql without a CA, naming the key", function () {
      expect(() => sslModeFor({ name: "orders", engine: "mysql", caCertificatePem: undefined })).to.throw(
        /lakehouse:sources\.transactional 'orders'.*needs caCertificatePem/,
      );
    });
  });

  describe("tableMappings", function () {
    it("selects each table, removes excluded columns and adds the change sequence, with unique rule ids", function () {
      const { rules } = tableMappings([
        { schema: "S", name: "A", keys: ["ID"], excludeColumns: ["SECRET", "HASH"] },
        { schema: "S", name: "B", keys: ["ID"] },
      ]);
      expect(rules.map((r) => r["rule-action"])).to.deep.equal([
        "include",
        "remove-column",
        "remove-column",
        "add-column",
        "include",
        "add-column",
      ]);
      expect(new Set(rules.map((r) => r["rule-id"])).size).to.equal(rules.length);
      expect(rules[1]["object-locator"]).to.deep.equal({
        "schema-name": "S",
        "table-name": "A",
        "column-name": "SECRET",
      });
      expect(rules[3]).to.include({
        value: DMS_DEFAULTS.changeSeqColumn,
        expression: "$AR_H_CHANGE_SEQ",
        "rule-target": "column",
      });
    });
  });

  describe("parsePartition", function () {
    const cases: [string, { column: string; transform: string; name: string }][] = [
      ["day(CREATED_AT)", { column: "CREATED_AT", transform: "day", name: "created_at_day" }],
      ["bucket(32, ORDER_ID)", { column: "ORDER_ID", transform: "bucket[32]", name: "order_id_bucket" }],
      ["truncate(4,sku)", { column: "sku", transform: "truncate[4]", name: "sku_truncate" }],
      ["identity(country)", { column: "country", transform: "identity", name: "country" }],
      ["region", { column: "region", transform: "identity", name: "region" }],
    ];
    for (const [spec, want] of cases) it(spec, () => expect(parsePartition(spec)).to.deep.equal(want));
    it("rejects what Iceberg cannot do", () =>
      expect(() => parsePartition("week(ts)")).to.throw(/not an Iceberg transform/));
  });

  describe("curatedSchema", function () {
    const orders = {
      schema: "SALES",
      name: "ORDERS",
      keys: ["ORDER_ID"],
      partitionBy: ["day(CREATED_AT)", "bucket(8, ORDER_ID)"],
    };
    it("without columns: keys (required string), partition sources and the merge's hidden columns, no DMS metadata", function () {
      const { columns, partitions } = curatedSchema(orders);
      expect(columns.map((c) => [c.id, c.name, c.type, c.required])).to.deep.equal([
        [1, "order_id", "string", true],
        [2, "created_at", "timestamptz", false],
        [3, "_cdc_watermark", "string", false],
        [4, "_cdc_source_file", "string", false],
      ]);
      expect(partitions.map((p) => p.column)).to.deep.equal(["CREATED_AT", "ORDER_ID"]);
      expect(mergeColumns(orders)).to.deep.equal({ columns: ["order_id", "created_at"], pseudonymise: [] });
    });
    it("with columns: their types and order, without piiColumns and excludeColumns", function () {
      const customers = {
        schema: "c",
        name: "customers",
        keys: ["customer_id"],
        piiColumns: ["email"],
        excludeColumns: ["password_hash"],
        columns: [
          { name: "customer_id", type: "long" },
          { name: "email", type: "string" },
          { name: "password_hash", type: "string" },
          { name: "Country", type: "string" },
        ],
      };
      expect(curatedSchema(customers).columns.map((c) => `${c.name}:${c.type}:${c.required}`)).to.deep.equal([
        "customer_id:long:true",
        "country:string:false",
        "_cdc_watermark:string:false",
        "_cdc_source_file:string:false",
      ]);
      expect(mergeColumns(customers)).to.deep.equal({ columns: ["customer_id", "country"], pseudonymise: [] });
    });
    it("pseudonyms: a string column after the source columns, derived (not copied) by the merge, even from a piiColumn", function () {
      const orders = {
        schema: "s",
        name: "orders",
        keys: ["order_id"],
        piiColumns: ["CUSTOMER_ID"],
        pseudonymise: [{ column: "CUSTOMER_ID", as: "customer_pseudo_id" }],
        columns: [
          { name: "order_id", type: "long" },
          { name: "CUSTOMER_ID", type: "long" },
          { name: "total", type: "decimal(18,2)" },
        ],
      };
      const columns = curatedSchema(orders).columns;
      expect(columns.map((c) => `${c.name}:${c.type}`)).to.deep.equal([
        "order_id:long",
        "total:decimal(18,2)",
        "customer_pseudo_id:string",
        "_cdc_watermark:string",
        "_cdc_source_file:string",
      ]);
      expect(columns.find((c) => c.name === "customer_pseudo_id")?.doc).to.match(/HMAC-SHA256.*customer_id/);
      expect(mergeColumns(orders)).to.deep.equal({
        columns: ["order_id", "total"],
        pseudonymise: [{ column: "customer_id", as: "customer_pseudo_id" }],
      });
      // The spec the Glue job runs reads customer_id from the raw batch but never writes it.
      const spark = generateMergeSql(
        parseTableSpec({ name: "t", keyColumns: ["order_id"], ...mergeColumns(orders) }),
        "spark",
      ).steps;
      const merge = spark.find((st) => st.name === "mergeTable")!.sql;
      expect(merge).to.include("`customer_pseudo_id`").and.not.include("`customer_id`");
    });
    const bad: [string, object, RegExp][] = [
      ["a key that is PII", { keys: ["id"], piiColumns: ["ID"] }, /id is a key or partition source/],
      [
        "a key missing from columns",
        { keys: ["id"], columns: [{ name: "x", type: "long" }] },
        /key id is not in columns/,
      ],
      [
        "a partition source missing from columns",
        { keys: ["id"], partitionBy: ["day(ts)"], columns: [{ name: "id", type: "long" }] },
        /partition source ts is not in columns/,
      ],
      [
        "a time transform on a non-time column",
        { keys: ["id"], partitionBy: ["day(id)"], columns: [{ name: "id", type: "long" }] },
        /day\(id\) needs a date or timestamp column, not long/,
      ],
      [
        "a duplicate column",
        {
          keys: ["id"],
          columns: [
            { name: "id", type: "long" },
            { name: "ID", type: "long" },
          ],
        },
        /declared twice/,
      ],
    ];
    for (const [what, table, message] of bad) {
      it(`refuses ${what}`, () =>
        expect(() => curatedSchema({ schema: "s", name: "t", ...(table as { keys: string[] }) })).to.throw(message));
    }
    it("declares the tombstone and ledger tables with the columns the merge's create steps give them", function () {
      const table = {
        schema: "s",
        name: "t",
        keys: ["a", "b"],
        columns: [
          { name: "a", type: "long" },
          { name: "b", type: "int" },
          { name: "c", type: "string" },
        ],
      };
      expect(tombstoneSchema(table).map((c) => `${c.id}:${c.name}:${c.type}:${c.required}`)).to.deep.equal([
        "1:a:long:true",
        "2:b:int:true",
        "3:_cdc_watermark:string:false",
      ]);
      const steps = generateMergeSql(
        parseTableSpec({ name: "t", keyColumns: ["a", "b"], ...mergeColumns(table) }),
        "spark",
      ).steps;
      const ledgerSql = steps.find((st) => st.name === "createLedger")!.sql;
      for (const c of LEDGER_SCHEMA) expect(ledgerSql).to.include(`AS ${c.name}`);
      const tombSql = steps.find((st) => st.name === "createTombstones")!.sql;
      expect(tombSql).to.include("`_cdc_watermark`");
      expect(ledgerSql).to.include("CAST(NULL AS BIGINT) AS row_count");
    });
    it("names curated tables in Glue's lower-case alphabet", function () {
      expect(curatedTableName("orders-br", { schema: "SALES", name: "ORDER_LINES", keys: ["X"] })).to.equal(
        "orders_br_order_lines",
      );
    });
  });

  describe("maintenanceForSla", function () {
    it("keeps snapshot expiry, its run interval and a day for the delete itself inside the SLA, for every SLA", function () {
      fc.assert(
        fc.property(fc.integer({ min: 3, max: 365 }), (sla) => {
          const m = maintenanceForSla(sla);
          return (
            1 + m.snapshotRetentionDays + m.runRateHours / 24 <= sla &&
            m.snapshotRetentionDays >= 1 &&
            m.orphanFileRetentionDays >= 1 &&
            m.orphanFileRetentionDays <= sla &&
            m.snapshotsToRetain >= 1
          );
        }),
      );
    });
    it("refuses an SLA too short for any snapshot retention", () =>
      expect(() => maintenanceForSla(2)).to.throw(/erasureSlaDays 2/));
  });

  describe("splitCidr", function () {
    it("splits a /22 into three /24s (rounded up to four)", function () {
      expect(splitCidr("10.80.0.0/22", 3)).to.deep.equal(["10.80.0.0/24", "10.80.1.0/24", "10.80.2.0/24"]);
    });
    it("splits a /16 into /18s", function () {
      expect(splitCidr("172.20.0.0/16", 3)).to.deep.equal(["172.20.0.0/18", "172.20.64.0/18", "172.20.128.0/18"]);
    });
  });
});

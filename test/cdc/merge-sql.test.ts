/**
 * The generated SQL itself: spec validation, the DMS constants the infrastructure imports, the
 * watermark's ordering (run on DuckDB), and the Spark rendering. No Spark runs here, so the Spark
 * text is checked structurally: after mapping the known dialect differences it must equal the
 * DuckDB text that the other tests execute.
 */
import { DuckDBInstance } from "@duckdb/node-api";
import { expect } from "chai";
import fc from "fast-check";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import {
  CHANGE_SEQ_WIDTH,
  DMS_DEFAULTS,
  DMS_S3_ENDPOINT_SETTINGS,
  GLUE_JOB_DEFAULT_ARGUMENTS,
  GLUE_JOB_SCRIPT,
  HIDDEN_COLUMNS,
  HORIZON_PLACEHOLDER,
  STEP_ORDER,
  TOMBSTONE_RETENTION_HOURS,
  dmsChangeSeqRule,
  generateMergeSql,
  orderFiles,
  parseTableSpec,
  purgeTombstonesSql,
  renderGlueJobConfig,
  tombstoneHorizon,
  toBatches,
  watermarkExpression,
  type CdcStepName,
  type CdcTableSpecInput,
} from "../../functions/cdc-merge";

const spec = parseTableSpec({
  name: "orders",
  keyColumns: ["tenant", "order_id"],
  columns: ["tenant", "order_id", "status", "amount"],
});
const names = {
  table: "glue_catalog.sales.orders",
  tombstones: "glue_catalog.sales.orders__cdc_tombstones",
  ledger: "glue_catalog.sales.orders__cdc_ledger",
};
const duck = generateMergeSql(spec, "duckdb", names);
const spark = generateMergeSql(spec, "spark", names);
const step = (sql: typeof duck, name: CdcStepName): string => sql.steps.find((s) => s.name === name)?.sql ?? "";

/** Maps the Spark rendering onto DuckDB's spelling of the same thing. */
function sparkToDuckSpelling(sql: string): string {
  return sql
    .replace(/`/g, '"')
    .replace(/ <=> /g, " IS NOT DISTINCT FROM ")
    .replace(/\bt\.("[^"]+") = /g, "$1 = "); // qualified UPDATE SET targets
}

describe("cdc merge SQL generation", () => {
  describe("table spec", () => {
    it("fills the DMS defaults", () => {
      expect(spec.opColumn).to.equal("Op");
      expect(spec.timestampColumn).to.equal(DMS_DEFAULTS.timestampColumn);
      expect(spec.changeSeqColumn).to.equal(DMS_DEFAULTS.changeSeqColumn);
    });

    const cases: ReadonlyArray<readonly [string, CdcTableSpecInput, string]> = [
      [
        "unknown key column",
        { name: "t", keyColumns: ["nope"], columns: ["id"] },
        'key column "nope" is not one of the table\'s columns',
      ],
      ["reserved prefix", { name: "t", keyColumns: ["id"], columns: ["id", "_cdc_x"] }, "reserved prefix"],
      [
        "metadata listed as a column",
        { name: "t", keyColumns: ["id"], columns: ["id", "Op"] },
        'CDC metadata column "Op"',
      ],
      ["duplicate column", { name: "t", keyColumns: ["id"], columns: ["id", "ID"] }, "duplicate column"],
      ["not an identifier", { name: "t; drop", keyColumns: ["id"], columns: ["id"] }, "plain identifier"],
      ["no key", { name: "t", keyColumns: [], columns: ["id"] }, "keyColumns"],
    ];
    for (const [label, input, message] of cases) {
      it(`rejects: ${label}`, () => {
        expect(() => parseTableSpec(input))
          .to.throw(/invalid CDC table spec/)
          .with.property("message")
          .that.contains(message);
      });
    }
  });

  describe("DMS contract the infrastructure imports", () => {
    it("endpoint settings use the same column names the merge reads", () => {
      expect(DMS_S3_ENDPOINT_SETTINGS.timestampColumnName).to.equal(DMS_DEFAULTS.timestampColumn);
      expect(DMS_S3_ENDPOINT_SETTINGS).to.include({
        dataFormat: "parquet",
        parquetVersion: "parquet-2-0",
        preserveTransactions: false,
        includeOpForFullLoad: false,
        cdcInsertsAndUpdates: false,
      });
    });

    it("the add-column rule writes $AR_H_CHANGE_SEQ into the change-seq column", () => {
      const rule = dmsChangeSeqRule("10");
      expect(rule).to.include({
        "rule-type": "transformation",
        "rule-action": "add-column",
        "rule-target": "column",
        value: DMS_DEFAULTS.changeSeqColumn,
        expression: "$AR_H_CHANGE_SEQ",
      });
      expect(rule["data-type"].length).to.be.at.least(35); // AR_H_CHANGE_SEQ has 35 digits
      expect(CHANGE_SEQ_WIDTH).to.be.at.least(35);
    });
  });

  describe("both dialects, same steps", () => {
    it("render the same steps in the same order, tombstones before the table, ledger last", () => {
      expect(duck.steps.map((s) => s.name)).to.deep.equal(STEP_ORDER);
      expect(spark.steps.map((s) => s.name)).to.deep.equal(STEP_ORDER);
      expect(STEP_ORDER.indexOf("mergeTombstones")).to.be.below(STEP_ORDER.indexOf("mergeTable"));
      expect(STEP_ORDER[STEP_ORDER.length - 1]).to.equal("recordLedger");
    });

    for (const name of ["latestView", "mergeTombstones", "mergeTable", "recordLedger"] as const) {
      it(`${name}: the Spark text is the DuckDB text up to quoting, null-safe equality and SET qualification`, () => {
        expect(sparkToDuckSpelling(step(spark, name))).to.equal(step(duck, name));
      });
    }

    it("dedupe: ROW_NUMBER by key ordered by watermark then file and row, not QUALIFY (Spark has none)", () => {
      for (const sql of [step(duck, "latestView"), step(spark, "latestView")]) {
        expect(sql).to.match(
          /row_number\(\) OVER \(PARTITION BY .tenant., .order_id. ORDER BY ._cdc_watermark. DESC, ._cdc_src_file. DESC, ._cdc_src_row. DESC\)/,
        );
        expect(sql).to.not.match(/QUALIFY/i);
      }
    });

    it("watermark guard: every change to the table needs a strictly newer watermark; stale upserts lose to tombstones", () => {
      const wm = HIDDEN_COLUMNS.watermark;
      for (const [sql, q] of [
        [step(duck, "mergeTable"), '"'],
        [step(spark, "mergeTable"), "`"],
      ] as const) {
        expect(sql).to.contain(
          `WHEN MATCHED AND s.${q}_cdc_op${q} = 'D' AND s.${q}${wm}${q} > t.${q}${wm}${q} THEN DELETE`,
        );
        expect(sql).to.contain(
          `WHEN MATCHED AND s.${q}_cdc_op${q} <> 'D' AND s.${q}${wm}${q} > t.${q}${wm}${q} THEN UPDATE SET`,
        );
        expect(sql).to.contain(`WHEN NOT MATCHED AND s.${q}_cdc_op${q} <> 'D' THEN INSERT`);
        expect(sql).to.contain(`OR l.${q}${wm}${q} > d.${q}${wm}${q}`);
      }
    });

    it("null-safe key equality in each dialect's spelling", () => {
      expect(step(duck, "mergeTable")).to.contain(
        't."tenant" IS NOT DISTINCT FROM s."tenant" AND t."order_id" IS NOT DISTINCT FROM s."order_id"',
      );
      expect(step(spark, "mergeTable")).to.contain("t.`tenant` <=> s.`tenant` AND t.`order_id` <=> s.`order_id`");
    });

    it("Spark creates Iceberg v2 tables; DuckDB plain tables", () => {
      for (const name of ["createTable", "createTombstones", "createLedger"] as const) {
        expect(step(spark, name)).to.match(
          /^CREATE TABLE IF NOT EXISTS `glue_catalog`\.`sales`\.`orders[a-z_]*` USING iceberg TBLPROPERTIES \('format-version' = '2'/,
        );
        expect(step(duck, name)).to.not.contain("iceberg");
      }
    });

    it("watermark: same fixed-width shape in both (UTC micros, seq left-padded to 40)", () => {
      expect(watermarkExpression(spec, "spark")).to.contain(
        "date_format(CAST(`dms_commit_ts` AS TIMESTAMP), 'yyyy-MM-dd HH:mm:ss.SSSSSS')",
      );
      expect(watermarkExpression(spec, "duckdb")).to.contain(
        // Through TIMESTAMPTZ: a VARCHAR -> TIMESTAMP cast would drop a UTC offset (hostile-replay.test.ts).
        `strftime(CAST(CAST("dms_commit_ts" AS TIMESTAMPTZ) AS TIMESTAMP), '%Y-%m-%d %H:%M:%S.%f')`,
      );
      for (const d of ["spark", "duckdb"] as const) {
        expect(watermarkExpression(spec, d)).to.contain(`, ${CHANGE_SEQ_WIDTH}, '0')`);
        expect(watermarkExpression(spec, d)).to.contain("'0000-00-00 00:00:00.000000'");
      }
    });

    it("validation counters are the same in both dialects", () => {
      const counters = (sql: string): string[] => [...sql.matchAll(/ AS ([a-z_]+),?$/gm)].map((m) => m[1] ?? "");
      expect(counters(step(spark, "validate"))).to.deep.equal(counters(step(duck, "validate")));
      expect(counters(step(duck, "validate"))).to.include.members([
        "unknown_op",
        "cdc_row_without_change_seq",
        "unparsable_commit_ts",
      ]);
    });
  });

  describe("watermark order on DuckDB", function () {
    this.timeout(30_000);
    it("string order of the watermark equals (phase, commit ts, change seq) order, for DMS strings and zoned timestamps", async () => {
      const instance = await DuckDBInstance.create(":memory:");
      const c = await instance.connect();
      await c.run("SET TimeZone = 'UTC'");
      const wm = watermarkExpression(spec, "duckdb");
      const change = fc.record({
        load: fc.boolean(),
        micros: fc.bigInt({ min: 946_684_800_000_000n, max: 4_102_444_799_999_999n }), // 2000..2099
        seq: fc.bigInt({ min: 0n, max: 10n ** 35n - 1n }),
      });
      try {
        await fc.assert(
          fc.asyncProperty(
            fc.boolean(),
            fc.array(change, { minLength: 2, maxLength: 12 }),
            async (asTimestamptz, xs) => {
              // Typed TIMESTAMPTZ (an instant) or DMS's `yyyy-MM-dd HH:mm:ss.SSSSSS` string, per batch.
              const rows = xs.map((x, i) => {
                const ts = asTimestamptz
                  ? `make_timestamptz(${x.micros})`
                  : `strftime(make_timestamp(${x.micros}), '%Y-%m-%d %H:%M:%S.%f')`;
                return `SELECT ${i} AS i, ${x.load ? "NULL" : "'U'"} AS "Op", ${ts} AS "dms_commit_ts", '${x.seq.toString().padStart(35, "0")}' AS "dms_change_seq"`;
              });
              const got = (
                await c.runAndReadAll(`SELECT i, ${wm} AS wm FROM (${rows.join(" UNION ALL ")}) ORDER BY wm, i`)
              ).getRowObjectsJson();
              for (const r of got) expect(String(r.wm)).to.match(/^[01]#\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}#\d{40}$/);
              const expected = xs
                .map((x, i) => ({ i, key: [x.load ? 0 : 1, x.micros, x.seq] as const }))
                .sort(
                  (a, b) =>
                    a.key[0] - b.key[0] ||
                    Number(a.key[1] - b.key[1]) ||
                    (a.key[2] < b.key[2] ? -1 : a.key[2] > b.key[2] ? 1 : 0) ||
                    a.i - b.i,
                )
                .map((x) => x.i);
              // Ties on the watermark are broken by i in both, so the orders are comparable.
              expect(got.map((r) => Number(r.i))).to.deep.equal(expected);
            },
          ),
          { numRuns: 50 },
        );
      } finally {
        c.closeSync();
        instance.closeSync();
      }
    });
  });

  describe("Glue job config and script", () => {
    const config = renderGlueJobConfig(spec, { database: "sales" });

    it("carries the Spark steps for the Glue catalog names and survives JSON", () => {
      // The suppression list sits beside the table; a table without pseudonyms does not read it.
      expect(config.names).to.deep.equal({ ...names, suppression: "glue_catalog.sales.subject_suppression" });
      expect(config.suppressionTable).to.equal(null);
      expect(JSON.parse(JSON.stringify(config))).to.deep.equal(config);
      expect(config.steps.map((s) => s.sql)).to.deep.equal(spark.steps.map((s) => s.sql));
      expect(config.stepOrder).to.deep.equal(STEP_ORDER);
      expect(GLUE_JOB_DEFAULT_ARGUMENTS["--datalake-formats"]).to.equal("iceberg");
      expect(fs.existsSync(GLUE_JOB_SCRIPT)).to.equal(true);
    });

    // python3 is on every machine this runs on (Glue's own language): a missing interpreter fails the test.
    it("glue_job.py compiles, and its file ordering/batching/ledger helpers agree with files.ts", () => {
      const listed = [
        "s3://raw/dms/sales/orders/2024/06/02/20240602-000000001.parquet",
        "s3://raw/dms/sales/orders/LOAD0000000A.parquet",
        "s3://raw/dms/sales/orders/2024/06/01/20240601-235959999.parquet",
        "s3://raw/dms/sales/orders/LOAD00000009.parquet",
        "s3://raw/dms/sales/orders/LOAD00000001.parquet",
        "s3://raw/dms/sales/orders/2024/06/01/20240601-000000001.parquet",
        "s3://raw/dms/sales/orders/notes.txt",
      ];
      const applied = [
        "s3://raw/dms/sales/orders/LOAD00000001.parquet",
        "s3://raw/dms/sales/orders/2024/06/02/20240602-000000001.parquet",
      ];
      const script = [
        "import json, sys, py_compile",
        // Bytecode goes to a temp file, never into the source tree.
        `import tempfile; py_compile.compile(${JSON.stringify(GLUE_JOB_SCRIPT)}, cfile=tempfile.mktemp(suffix=".pyc"), doraise=True)`,
        `sys.path.insert(0, ${JSON.stringify(GLUE_JOB_SCRIPT.replace(/\/glue_job\.py$/, ""))})`,
        "import glue_job as g",
        "d = json.load(sys.stdin)",
        "pending = g.pending_files(d['listed'], d['applied'])",
        "print(json.dumps({'pending': pending, 'batches': g.to_batches(pending, 2),",
        "  'rejected': g.rejected_counters({'unknown_op': 0, 'cdc_row_without_change_seq': 3, 'x': None}),",
        "  'quoted': g.quote('glue_catalog.sales.or`ders')}))",
      ].join("\n");
      const res = spawnSync("python3", ["-c", script], {
        input: JSON.stringify({ listed, applied }),
        encoding: "utf8",
        env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" },
      });
      expect(res.status, res.stderr).to.equal(0);
      const out = JSON.parse(res.stdout) as {
        pending: string[];
        batches: string[][];
        rejected: Record<string, number>;
        quoted: string;
      };
      const expected = orderFiles(listed.filter((p) => p.endsWith(".parquet") && !applied.includes(p)));
      expect(out.pending).to.deep.equal(expected);
      expect(out.pending[0]).to.match(/LOAD00000009/);
      expect(out.pending[1]).to.match(/LOAD0000000A/);
      expect(out.batches).to.deep.equal(toBatches(expected, 2));
      expect(out.rejected).to.deep.equal({ cdc_row_without_change_seq: 3 });
      expect(out.quoted).to.equal("`glue_catalog`.`sales`.`or``ders`");
    });
  });

  describe("tombstone purge", () => {
    it("is one DELETE below a checked horizon, the same in both dialects up to quoting", () => {
      expect(duck.purgeTombstones).to.equal(
        `DELETE FROM "glue_catalog"."sales"."orders__cdc_tombstones" WHERE "_cdc_watermark" < '${HORIZON_PLACEHOLDER}'`,
      );
      expect(sparkToDuckSpelling(spark.purgeTombstones)).to.equal(duck.purgeTombstones);
      expect(purgeTombstonesSql(duck, "1#2026-11-25 10:00:00.123000")).to.match(/< '1#2026-11-25 10:00:00\.123000'$/);
      for (const bad of [
        "1#2026-11-25 10:00:00",
        "0#2026-11-25 10:00:00.000000",
        "1#2026-11-25 10:00:00.000000' OR 1=1 --",
      ])
        expect(() => purgeTombstonesSql(duck, bad), bad).to.throw(/not a tombstone horizon/);
    });

    it("the horizon is the same in TypeScript and in the Glue job's Python, and orders like watermarks", () => {
      const nows = ["2026-11-26T10:00:00.000Z", "2024-03-01T00:30:00.5Z", "2024-01-01T05:59:59.999Z"];
      const hours = [23, 1, 0.5, 48];
      const py = spawnSync(
        "python3",
        [
          "-c",
          [
            "import json, sys",
            `sys.path.insert(0, ${JSON.stringify(GLUE_JOB_SCRIPT.replace(/\/glue_job\.py$/, ""))})`,
            "from datetime import datetime",
            "import glue_job as g",
            "d = json.load(sys.stdin)",
            "out = [g.tombstone_horizon(datetime.fromisoformat(n.replace('Z', '+00:00')), h) for n in d['nows'] for h in d['hours']]",
            "try:\n    g.purge_sql(d['cfg'], \"1#x' OR 1=1\")\n    bad = 'accepted'\nexcept ValueError as e:\n    bad = str(e)",
            "print(json.dumps({'horizons': out, 'sql': g.purge_sql(d['cfg'], out[0]), 'bad': bad}))",
          ].join("\n"),
        ],
        {
          input: JSON.stringify({ nows, hours, cfg: renderGlueJobConfig(spec, { database: "sales" }) }),
          encoding: "utf8",
          env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" },
        },
      );
      expect(py.status, py.stderr).to.equal(0);
      const out = JSON.parse(py.stdout) as { horizons: string[]; sql: string; bad: string };
      const ts = nows.flatMap((n) => hours.map((h) => tombstoneHorizon(new Date(n), h)));
      expect(out.horizons).to.deep.equal(ts);
      expect(ts[0]).to.equal("1#2026-11-25 11:00:00.000000");
      expect(out.sql).to.equal(purgeTombstonesSql(spark, ts[0]!));
      expect(out.bad).to.match(/not a tombstone horizon/);
      // A delete committed just before the horizon sorts below it; one at or after it does not.
      expect(`1#2026-11-25 10:59:59.999999#${"9".repeat(CHANGE_SEQ_WIDTH)}` < ts[0]!).to.equal(true);
      expect(`1#2026-11-25 11:00:00.000000#${"0".repeat(CHANGE_SEQ_WIDTH)}` < ts[0]!).to.equal(false);
      expect(`0#2030-01-01 00:00:00.000000#${"9".repeat(CHANGE_SEQ_WIDTH)}` < ts[0]!).to.equal(true);
      expect(() => tombstoneHorizon(new Date(), 0)).to.throw(/positive/);
    });

    it("the Glue config carries the purge and a retention that fits the erasure budget's first day", () => {
      const cfg = renderGlueJobConfig(spec, { database: "sales" });
      expect(cfg.purgeTombstones).to.deep.equal({
        sql: generateMergeSql(spec, "spark", cfg.names).purgeTombstones,
        placeholder: HORIZON_PLACEHOLDER,
        retentionHours: TOMBSTONE_RETENTION_HOURS,
      });
      // Retention + the 15-minute schedule stays within the day maintenanceForSla budgets.
      expect(TOMBSTONE_RETENTION_HOURS + 0.25).to.be.at.most(24);
    });
  });
});

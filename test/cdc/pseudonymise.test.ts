/**
 * The curated merge's pseudonyms are the collector's pseudonyms: the same HMAC in the collector (Node),
 * the local replay (a DuckDB scalar function) and the Glue job (Python), so curated orders join the
 * clickstream on `customer_pseudo_id = user_pseudo_id`. The replay really runs on DuckDB over
 * DMS-shaped Parquet; the Python helpers run in python3; the collector and the Dataflow UDF run as
 * deployed code.
 */
import { DuckDBInstance } from "@duckdb/node-api";
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as vm from "node:vm";
import {
  DuckDbCdcApplier,
  GLUE_JOB_SCRIPT,
  PSEUDONYMISE_FUNCTION,
  decodePseudonymisationKey,
  generateMergeSql,
  parseTableSpec,
  readParquetSchema,
  registerPseudonymiseFunction,
  renderGlueJobConfig,
  replayFiles,
  tableColumns,
} from "../../functions/cdc-merge";
import { transformEventJson } from "../../functions/collector/event";
import { Pseudonymiser } from "../../functions/collector/privacy";
import { DmsWriter, SourceModel, type ColumnDef, type Row } from "./dms-fixtures";
import { parseJsonLines, runCli } from "./helpers";

const KEY_HEX = "8f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0";
const KEY = Buffer.from(KEY_HEX, "hex");
const VALUES = ["42", "0", "-7", "José Ñúñez", "日本語", "🙂", "O'Brien", "", "x".repeat(1000)];

/** Runs python3 with glue_job importable; no bytecode is written into the source tree. */
function python(script: string, input: unknown): unknown {
  const res = spawnSync(
    "python3",
    [
      "-c",
      [`import json, sys`, `sys.path.insert(0, ${JSON.stringify(path.dirname(GLUE_JOB_SCRIPT))})`, script].join("\n"),
    ],
    { input: JSON.stringify(input), encoding: "utf8", env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" } },
  );
  expect(res.status, res.stderr).to.equal(0);
  return JSON.parse(res.stdout) as unknown;
}

const ORDER_COLUMNS: readonly ColumnDef[] = [
  { name: "order_id", type: "INTEGER", render: (v) => v },
  { name: "customer_id", type: "BIGINT", render: (v) => v },
  { name: "status", type: "VARCHAR", render: (v) => v },
];
const order = (id: number, customer: number | string, status = "new"): Row => ({
  order_id: id,
  customer_id: customer,
  status,
});

const tempDirs: string[] = [];
after(() => {
  for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
});

/** Seeds, updates (one moves to another customer), deletes; writes LOAD + CDC files. */
async function orderFiles(): Promise<{ files: string[]; model: SourceModel }> {
  const model = new SourceModel(ORDER_COLUMNS, ["order_id"]);
  model.seed([order(1, 42), order(2, 42), order(3, 7)]);
  model.commit([{ op: "I", row: order(4, "9007199254740993") }]); // beyond 2^53: hashed from its exact text
  model.commit([{ op: "U", row: order(2, 43, "paid") }]);
  model.commit([{ op: "D", row: order(3, 7) }]);
  model.commit([{ op: "I", row: order(5, 42) }]);
  const w = await DmsWriter.create(ORDER_COLUMNS);
  tempDirs.push(w.dir);
  try {
    const files = [
      await w.writeLoad("sales/orders/LOAD00000001.parquet", model.fullLoad),
      await w.writeCdc("sales/orders/20240601-000000001.parquet", model.log.slice(0, 2)),
      await w.writeCdc("sales/orders/20240601-000000002.parquet", model.log.slice(2)),
    ];
    return { files, model };
  } finally {
    w.close();
  }
}

describe("pseudonymisation in the curated merge", () => {
  const collector = new Pseudonymiser(KEY);

  it("the collector's HMAC is HMAC-SHA256 (RFC 4231 test case 6)", () => {
    const rfcKey = Buffer.alloc(131, 0xaa);
    expect(new Pseudonymiser(rfcKey).hash("Test Using Larger Than Block-Size Key - Hash Key First")).to.equal(
      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
    );
  });

  it("collector, DuckDB function and Glue job's Python give the same pseudonym for every value", async () => {
    const instance = await DuckDBInstance.create(":memory:");
    const connection = await instance.connect();
    try {
      registerPseudonymiseFunction(connection, KEY);
      const literals = VALUES.map((v, i) => `(${i}, '${v.split("'").join("''")}')`).join(", ");
      const duck = (
        await connection.runAndReadAll(
          `SELECT ${PSEUDONYMISE_FUNCTION}(v) AS h FROM (VALUES ${literals}) AS t(i, v) ORDER BY i`,
        )
      ).getRowObjectsJson();
      // Integers reach the function through the step's CAST(... AS VARCHAR): their decimal text.
      const fromBigint = (
        await connection.runAndReadAll(
          `SELECT ${PSEUDONYMISE_FUNCTION}(CAST(CAST(42 AS BIGINT) AS VARCHAR)) AS h, ${PSEUDONYMISE_FUNCTION}(NULL) AS n`,
        )
      ).getRowObjectsJson()[0];
      const py = python(
        [
          "import glue_job as g",
          "d = json.load(sys.stdin)",
          "key = g.decode_key(d['key'])",
          "print(json.dumps({'values': [g.pseudonymise(key, v) for v in d['values']],",
          "  'int': g.pseudonymise(key, 42), 'none': g.pseudonymise(key, None)}))",
        ].join("\n"),
        { key: KEY_HEX, values: VALUES },
      ) as { values: string[]; int: string; none: null };
      const expected = VALUES.map((v) => collector.hash(v));
      expect(duck.map((r) => r.h)).to.deep.equal(expected);
      expect(py.values).to.deep.equal(expected);
      expect(fromBigint?.h).to.equal(collector.hash(42)).and.to.equal(py.int);
      expect(fromBigint?.n).to.equal(null);
      expect(py.none).to.equal(null);
      for (const h of expected) expect(h).to.match(/^[0-9a-f]{64}$/);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });

  it("the key decodes the same way (hex or base64) in TypeScript and Python, and a short key is refused by both", () => {
    const b64 = KEY.toString("base64");
    expect(decodePseudonymisationKey(KEY_HEX)).to.deep.equal(KEY);
    expect(decodePseudonymisationKey(` ${b64}\n`)).to.deep.equal(KEY);
    expect(() => decodePseudonymisationKey("abcd")).to.throw(/at least 32 bytes/);
    const py = python(
      [
        "import glue_job as g",
        "d = json.load(sys.stdin)",
        "out = {'hex': g.decode_key(d['hex']).hex(), 'b64': g.decode_key(d['b64']).hex()}",
        "try:\n    g.decode_key('abcd')\n    out['short'] = 'accepted'\nexcept ValueError as e:\n    out['short'] = str(e)",
        "print(json.dumps(out))",
      ].join("\n"),
      { hex: KEY_HEX, b64: ` ${b64}\n` },
    ) as Record<string, string>;
    expect(py.hex).to.equal(KEY_HEX);
    expect(py.b64).to.equal(KEY_HEX);
    expect(py.short).to.match(/at least 32 bytes/);
    expect(() => registerPseudonymiseFunction({} as never, Buffer.alloc(16))).to.throw(/at least 32 bytes/);
  });

  it("the replay writes the pseudonym, follows updates and deletes, and never writes the raw customer id", async () => {
    const { files, model } = await orderFiles();
    const result = await replayFiles(files, {
      table: "orders",
      keyColumns: ["order_id"],
      excludeColumns: ["customer_id"],
      pseudonymise: [{ column: "customer_id", as: "customer_pseudo_id" }],
      pseudonymisationKey: KEY,
      maxFilesPerBatch: 1,
    });
    expect(tableColumns(result.spec)).to.deep.equal(["order_id", "status", "customer_pseudo_id"]);
    const expected = model
      .liveRows()
      .sort((a, b) => Number(a.order_id) - Number(b.order_id))
      .map((r) => ({
        order_id: r.order_id,
        status: r.status,
        customer_pseudo_id: collector.hash(String(r.customer_id)),
      }));
    expect(result.rows).to.deep.equal(expected);
    expect(result.rows.map((r) => r.order_id)).to.deep.equal([1, 2, 4, 5]);
    // Order 2 moved to customer 43; order 4's id is above 2^53 and hashed from its exact text.
    expect(result.rows[1]?.customer_pseudo_id).to.equal(collector.hash("43"));
    expect(result.rows[2]?.customer_pseudo_id).to.equal(collector.hash("9007199254740993"));
  });

  it("the curated table, its tombstones and its ledger hold no raw customer id", async () => {
    const { files } = await orderFiles();
    const instance = await DuckDBInstance.create(":memory:");
    const connection = await instance.connect();
    try {
      const schema = await readParquetSchema(connection, files);
      const spec = parseTableSpec({
        name: "orders",
        keyColumns: ["order_id"],
        columns: ["order_id", "status"],
        pseudonymise: [{ column: "customer_id", as: "customer_pseudo_id" }],
      });
      const applier = await DuckDbCdcApplier.create(spec, schema, { connection, pseudonymisationKey: KEY });
      for (const f of files) await applier.applyBatch([f]);
      const raw = new Set(["7", "42", "43", "9007199254740993"]);
      for (const table of [applier.names.table, applier.names.tombstones, applier.names.ledger]) {
        const cols = (await applier.query(`DESCRIBE "${table}"`)).map((r) => String(r.column_name));
        expect(cols, table).to.not.include("customer_id");
        const values = (await applier.query(`SELECT * FROM "${table}"`)).flatMap((r) => Object.values(r).map(String));
        expect(
          values.filter((v) => raw.has(v)),
          table,
        ).to.deep.equal([]);
      }
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });

  it("a spec that pseudonymises needs the key: the applier and the CLI refuse to run without it", async () => {
    const { files } = await orderFiles();
    const spec = parseTableSpec({
      name: "orders",
      keyColumns: ["order_id"],
      columns: ["order_id", "status"],
      pseudonymise: [{ column: "customer_id", as: "customer_pseudo_id" }],
    });
    let error: unknown;
    try {
      await DuckDbCdcApplier.create(spec, [["order_id", "INTEGER"]]);
    } catch (e) {
      error = e;
    }
    expect(String(error)).to.match(/pseudonymises customer_id: a pseudonymisation key is required/);
    const dir = path.dirname(path.dirname(path.dirname(files[0]!)));
    const env = process.env.CDC_PSEUDONYMISATION_KEY;
    delete process.env.CDC_PSEUDONYMISATION_KEY;
    try {
      const args = [dir, "--table", "orders", "--key", "order_id", "--exclude", "customer_id"];
      const missing = await runCli([...args, "--pseudonymise", "customer_id:customer_pseudo_id", "--json"]);
      expect(missing.code).to.equal(2);
      expect(missing.stderr).to.match(/needs the cell key in CDC_PSEUDONYMISATION_KEY/);
      const malformed = await runCli([...args, "--pseudonymise", "customer_id", "--json"]);
      expect(malformed.code).to.equal(2);
      expect(malformed.stderr).to.match(/expects col:as pairs/);
      process.env.CDC_PSEUDONYMISATION_KEY = KEY_HEX;
      const ok = await runCli([...args, "--pseudonymise", "customer_id:customer_pseudo_id", "--json"]);
      expect(ok.code, ok.stderr).to.equal(0);
      expect(parseJsonLines(ok.stdout)).to.deep.equal([
        { order_id: 1, status: "new", customer_pseudo_id: collector.hash("42") },
        { order_id: 2, status: "paid", customer_pseudo_id: collector.hash("43") },
        { order_id: 4, status: "new", customer_pseudo_id: collector.hash("9007199254740993") },
        { order_id: 5, status: "new", customer_pseudo_id: collector.hash("42") },
      ]);
    } finally {
      if (env === undefined) delete process.env.CDC_PSEUDONYMISATION_KEY;
      else process.env.CDC_PSEUDONYMISATION_KEY = env;
    }
  });

  it("curated orders join the clickstream: the collector and the Dataflow UDF give the customer's events the same id", async () => {
    const { files } = await orderFiles();
    const { rows } = await replayFiles(files, {
      table: "orders",
      keyColumns: ["order_id"],
      excludeColumns: ["customer_id"],
      pseudonymise: [{ column: "customer_id", as: "customer_pseudo_id" }],
      pseudonymisationKey: KEY,
    });
    const context = vm.createContext({});
    const udfFile = path.join(__dirname, "..", "..", "functions", "dataflow-udf", "clickstream_udf.js");
    vm.runInContext(fs.readFileSync(udfFile, "utf8"), context);
    const udf = (context as { clickstreamToRow: (payload: string) => string }).clickstreamToRow;
    // analytics.js sends ids as strings; some server SDKs send the numeric id: both must join.
    for (const userId of ["42", 42]) {
      const event = {
        type: "track",
        event: "Order Completed",
        userId,
        anonymousId: "device-1",
        messageId: `m-${typeof userId}`,
        timestamp: "2026-11-26T10:00:00.000Z",
        context: { consent: { categoryPreferences: { analytics: true } } },
      };
      const out = transformEventJson(
        event,
        collector,
        { source: "web", receivedAt: "2026-11-26T10:00:01.000Z", clientIp: "203.0.113.9" },
        "analytics",
      );
      const row = JSON.parse(udf(out!.json)) as { user_pseudo_id: string };
      const joined = rows.filter((r) => r.customer_pseudo_id === row.user_pseudo_id).map((r) => r.order_id);
      expect(joined, `userId ${JSON.stringify(userId)}`).to.deep.equal([1, 5]);
    }
  });

  it("the Spark steps call the function on the raw column, and the Glue job refuses to run without the key's ARN", () => {
    const spec = parseTableSpec({
      name: "orders",
      keyColumns: ["order_id"],
      columns: ["order_id", "status"],
      pseudonymise: [{ column: "customer_id", as: "customer_pseudo_id" }],
    });
    const steps = generateMergeSql(spec, "spark").steps;
    const changes = steps.find((s) => s.name === "changesView")!.sql;
    expect(changes).to.include(`${PSEUDONYMISE_FUNCTION}(CAST(\`customer_id\` AS STRING)) AS \`customer_pseudo_id\``);
    // Past the changes view, nothing reads the raw column, except the checks: they only count (the
    // full-load check compares pseudonyms, HMAC of the raw value, to the table's) and write nothing.
    for (const s of steps.filter((x) => !["changesView", "validate", "validateFullLoad"].includes(x.name)))
      expect(s.sql, s.name).to.not.include("`customer_id`");
    const cfg = renderGlueJobConfig(spec, { database: "curated" });
    expect(cfg.batchColumns).to.deep.equal(["order_id", "status", "customer_id"]);
    const py = python(
      [
        "import glue_job as g",
        "cfg = json.load(sys.stdin)",
        "out = {'none_needed': g.register_pseudonymise(None, dict(cfg, pseudonymise=[]), None)}",
        "try:\n    g.register_pseudonymise(None, cfg, None)\n    out['missing'] = 'ran'\nexcept ValueError as e:\n    out['missing'] = str(e)",
        "print(json.dumps(out))",
      ].join("\n"),
      cfg,
    ) as Record<string, string | null>;
    expect(py.none_needed).to.equal(null);
    expect(py.missing).to.match(/--pseudonymisation_secret_arn is required/);
  });
});

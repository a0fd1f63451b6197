/**
 * A subject erased and then re-sent by the source stays suppressed (issue 14, item 6): the CDC merge
 * consults the cell's suppression list. The merge runs for real on DuckDB over DMS-shaped Parquet; the
 * erasure is done the way the AWS worker does it (delete the subject's rows, insert the pseudonyms into
 * `subject_suppression`); the expected table is computed from an independent model of the source.
 */
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { expect } from "chai";
import fc from "fast-check";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  DuckDbCdcApplier,
  GLUE_JOB_SCRIPT,
  LATEST_VIEW,
  SUPPRESSION_SCHEMA,
  SUPPRESSION_TABLE,
  generateMergeSql,
  parseTableSpec,
  readParquetSchema,
  renderGlueJobConfig,
  type CdcTableSpec,
  type JsonRow,
} from "../../functions/cdc-merge";
import { Pseudonymiser } from "../../functions/collector/privacy";
import { SUPPRESSION_COLUMNS } from "../../components/aws/rights/rights-stores";
import { DmsWriter, SourceModel, type ColumnDef, type Op, type Row } from "./dms-fixtures";
import { shuffled } from "./helpers";

const KEY = Buffer.from("8f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0", "hex");
const hash = (v: string): string => new Pseudonymiser(KEY).hash(v);

const COLUMNS: readonly ColumnDef[] = [
  { name: "order_id", type: "INTEGER", render: (v) => v },
  { name: "customer_id", type: "BIGINT", render: (v) => v },
  { name: "gift_email", type: "VARCHAR", render: (v) => v },
  { name: "status", type: "VARCHAR", render: (v) => v },
];
/** Two subject columns: a row is the erased subject's when either pseudonym is theirs. */
const SPEC: CdcTableSpec = parseTableSpec({
  name: "orders",
  keyColumns: ["order_id"],
  columns: ["order_id", "status"],
  pseudonymise: [
    { column: "customer_id", as: "customer_pseudo_id" },
    { column: "gift_email", as: "recipient_pseudo_id" },
  ],
});
const order = (id: number, customer: number, status = "new", gift: string | null = null): Row => ({
  order_id: id,
  customer_id: customer,
  gift_email: gift,
  status,
});

/** The erased subject: customer 42, who is also the gift recipient ana@example.com. */
const ERASED = { customerId: "42", email: "ana@example.com" };
const ERASED_PSEUDONYMS = [hash(ERASED.customerId), hash(ERASED.email)];
const isErased = (r: Row): boolean => String(r.customer_id) === ERASED.customerId || r.gift_email === ERASED.email;

/** The curated rows the model's source state should give, the erased subject's left out. */
function expectedRows(model: SourceModel): JsonRow[] {
  return model
    .liveRows()
    .filter((r) => !isErased(r))
    .sort((a, b) => Number(a.order_id) - Number(b.order_id))
    .map((r) => ({
      order_id: r.order_id,
      status: r.status,
      customer_pseudo_id: hash(String(r.customer_id)),
      recipient_pseudo_id: r.gift_email === null ? null : hash(String(r.gift_email)),
    }));
}

interface Scenario {
  readonly model: SourceModel;
  /** Files the source shipped before the erasure. */
  readonly before: string[];
  /** Files it shipped after: the erased subject updated, inserted, handed a row; others changed. */
  readonly after: string[];
}

const tempDirs: string[] = [];
after(() => {
  for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
});

async function scenario(): Promise<Scenario> {
  const model = new SourceModel(COLUMNS, ["order_id"]);
  model.seed([order(1, 42), order(2, 7), order(3, 9), order(4, 42), order(5, 9, "new", ERASED.email)]);
  model.commit([{ op: "I", row: order(6, 42) }]);
  model.commit([{ op: "U", row: order(2, 7, "paid") }]);
  model.commit([{ op: "I", row: order(7, 9, "new", "bob@example.com") }]);
  const cut = model.log.length;
  // After the erasure the source still has the subject (erasure reached the lake, not the source).
  model.commit([{ op: "U", row: order(1, 42, "shipped") }]);
  model.commit([{ op: "I", row: order(8, 42) }]);
  model.commit([{ op: "U", row: order(3, 9, "paid") }]);
  model.commit([{ op: "I", row: order(9, 7) }]);
  // Order 7's gift now goes to the erased subject: the row becomes theirs.
  model.commit([{ op: "U", row: order(7, 9, "new", ERASED.email) }]);
  model.commit([{ op: "D", row: order(4, 42) }]);
  model.commit([{ op: "U", row: order(2, 7, "refunded") }]);
  const w = await DmsWriter.create(COLUMNS);
  tempDirs.push(w.dir);
  try {
    return {
      model,
      before: [
        await w.writeLoad("sales/orders/LOAD00000001.parquet", model.fullLoad),
        await w.writeCdc("sales/orders/20240601-000000001.parquet", model.log.slice(0, cut)),
      ],
      after: [
        await w.writeCdc("sales/orders/20240601-000000002.parquet", model.log.slice(cut, cut + 3)),
        await w.writeCdc("sales/orders/20240601-000000003.parquet", model.log.slice(cut + 3)),
      ],
    };
  } finally {
    w.close();
  }
}

/** The subject's rows out of the curated table (the worker's DELETE, same predicate over both columns). */
async function deleteRows(connection: DuckDBConnection, pseudonyms: readonly string[]): Promise<void> {
  const list = pseudonyms.map((p) => `'${p}'`).join(", ");
  await connection.run(`DELETE FROM orders WHERE customer_pseudo_id IN (${list}) OR recipient_pseudo_id IN (${list})`);
}

/** What the AWS erasure worker does to an Iceberg table: delete the subject's rows, then record them. */
async function erase(connection: DuckDBConnection, requestId: string, pseudonyms: readonly string[]): Promise<void> {
  await deleteRows(connection, pseudonyms);
  await suppress(connection, requestId, pseudonyms);
}

async function suppress(connection: DuckDBConnection, requestId: string, pseudonyms: readonly string[]): Promise<void> {
  for (const p of pseudonyms)
    await connection.run(
      `INSERT INTO ${SUPPRESSION_TABLE} (pseudonym, request_id, suppressed_at) VALUES ('${p}', '${requestId}', current_timestamp)`,
    );
}

async function withApplier<T>(
  files: readonly string[],
  fn: (applier: DuckDbCdcApplier, connection: DuckDBConnection) => Promise<T>,
): Promise<T> {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    const schema = await readParquetSchema(connection, files);
    const applier = await DuckDbCdcApplier.create(SPEC, schema, { connection, pseudonymisationKey: KEY });
    return await fn(applier, connection);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

const pseudonymsIn = (rows: readonly JsonRow[]): string[] =>
  rows.flatMap((r) => [r.customer_pseudo_id, r.recipient_pseudo_id]).filter((p): p is string => typeof p === "string");

describe("cdc merge: erased subjects stay suppressed", () => {
  it("a subject erased and then re-sent by the source stays absent; everyone else merges normally", async () => {
    const s = await scenario();
    await withApplier([...s.before, ...s.after], async (applier, connection) => {
      for (const f of s.before) await applier.applyBatch([f]);
      // Before the erasure the subject is in the table (orders 1, 4, 6, and 5 as gift recipient).
      expect(
        (await applier.rows()).filter((r) => ERASED_PSEUDONYMS.some((p) => pseudonymsIn([r]).includes(p))).length,
      ).to.equal(4);

      // Two requests for the same subject list the customer pseudonym twice.
      await erase(connection, "req-1", ERASED_PSEUDONYMS);
      await erase(connection, "req-2", [hash(ERASED.customerId)]);
      for (const f of s.after) await applier.applyBatch([f]);
      // The source replays everything it ever sent (a resync), old files after new ones.
      await applier.applyBatch([...s.before, ...s.after]);
      for (const f of s.before) await applier.applyBatch([f]);

      const rows = await applier.rows();
      expect(rows).to.deep.equal(expectedRows(s.model));
      expect(rows.map((r) => r.order_id)).to.deep.equal([2, 3, 9]);
      expect(rows.find((r) => r.order_id === 2)?.status).to.equal("refunded");
      expect(rows.find((r) => r.order_id === 3)?.status).to.equal("paid");
      for (const p of ERASED_PSEUDONYMS) expect(pseudonymsIn(rows)).to.not.include(p);
      // A pseudonym listed twice does not duplicate a change (Spark rejects a target row matched twice).
      const perKey = await applier.query(`SELECT order_id, count(*) AS n FROM "${LATEST_VIEW}" GROUP BY order_id`);
      expect(perKey.filter((r) => Number(r.n) !== 1)).to.deep.equal([]);
      // The merge reads the list and never writes it.
      const listed = await applier.query(`SELECT pseudonym, request_id FROM ${SUPPRESSION_TABLE} ORDER BY request_id`);
      expect(listed.map((r) => r.request_id)).to.deep.equal(["req-1", "req-1", "req-2"]);
    });
  });

  it("without the suppression entry the same replay brings the subject back (the list is what keeps them out)", async () => {
    const s = await scenario();
    await withApplier([...s.before, ...s.after], async (applier, connection) => {
      for (const f of s.before) await applier.applyBatch([f]);
      await deleteRows(connection, ERASED_PSEUDONYMS); // deleted, but nothing suppressed
      for (const f of s.after) await applier.applyBatch([f]);
      for (const f of s.before) await applier.applyBatch([f]);
      const back = (await applier.rows()).filter((r) => ERASED_PSEUDONYMS.some((p) => pseudonymsIn([r]).includes(p)));
      // Updated order 1, new order 8, replayed orders 5 and 6, and order 7 now gifted to the subject.
      expect(back.map((r) => r.order_id)).to.deep.equal([1, 5, 6, 7, 8]);
    });
  });

  it("re-running the merge after the erasure is idempotent: table and tombstones stay the same", async () => {
    const s = await scenario();
    await withApplier([...s.before, ...s.after], async (applier, connection) => {
      for (const f of s.before) await applier.applyBatch([f]);
      await erase(connection, "req-1", ERASED_PSEUDONYMS);
      for (const f of s.after) await applier.applyBatch([f]);
      const rowsBeforeReplay = await applier.rows();
      const snapshot = async (): Promise<{ rows: JsonRow[]; tombstones: JsonRow[] }> => ({
        rows: await applier.rows(),
        tombstones: await applier.query(`SELECT * FROM "${applier.names.tombstones}" ORDER BY order_id`),
      });
      // A first replay of everything may only add tombstones (keys of the subject seen again); the
      // table does not change. From then on, re-running changes nothing at all.
      await applier.applyBatch([...s.before, ...s.after]);
      const first = await snapshot();
      expect(first.rows).to.deep.equal(rowsBeforeReplay).and.to.deep.equal(expectedRows(s.model));
      for (const f of [...s.before, ...s.after]) await applier.applyBatch([f]);
      for (const f of [...s.after, ...s.before]) await applier.applyBatch([f]);
      await applier.applyBatch([...s.after, ...s.before]);
      expect(await snapshot()).to.deep.equal(first);
    });
  });

  it("a suppressed upsert is applied as a delete: its tombstone stops an older change of the key coming back", async () => {
    const s = await scenario();
    await withApplier([...s.before, ...s.after], async (applier, connection) => {
      await suppress(connection, "req-1", ERASED_PSEUDONYMS); // before anything was merged
      // Order 7: inserted for bob (before), then gifted to the erased subject (after). The later file
      // comes first; the older insert arriving late must not resurrect bob's version of the row.
      await applier.applyBatch([s.after[1]!]);
      await applier.applyBatch([s.before[1]!]);
      const rows = await applier.rows();
      expect(rows.map((r) => r.order_id)).to.not.include(7);
      const tomb = await applier.query(`SELECT order_id FROM "${applier.names.tombstones}" ORDER BY order_id`);
      expect(tomb.map((r) => r.order_id)).to.include(7);
    });
  });

  it("property: for any change log, erasure point and replay order, the table is the source minus the erased", async function () {
    this.timeout(120_000);
    const customers = [7, 9, 42];
    const gifts = [null, "ana@example.com", "bob@example.com"];
    const opArb = fc.record({ key: fc.nat(4), delete: fc.boolean(), customer: fc.nat(2), gift: fc.nat(2) });
    const arb = fc.record({
      seeded: fc.uniqueArray(fc.nat(4), { maxLength: 4 }),
      commits: fc.array(fc.array(opArb, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 8 }),
      cut: fc.nat(30),
      erasedCustomers: fc.subarray(customers),
      erasedGifts: fc.subarray(["ana@example.com", "bob@example.com"]),
      seed: fc.integer(),
    });
    await fc.assert(
      fc.asyncProperty(arb, async (a) => {
        const row = (key: number, o: { customer: number; gift: number }, v: number): Row =>
          order(key, customers[o.customer]!, `v${v}`, gifts[o.gift] ?? null);
        const model = new SourceModel(COLUMNS, ["order_id"]);
        model.seed(a.seeded.map((k) => row(k, { customer: k % 3, gift: 0 }, 0)));
        a.commits.forEach((ops, i) => {
          const present = new Set(model.liveRows().map((r) => r.order_id));
          const changes = ops.map((o, j): { op: Op; row: Row } => {
            // Only what a database can produce: insert when absent, update or delete when present.
            const op: Op = !present.has(o.key) ? "I" : o.delete ? "D" : "U";
            if (op === "D") present.delete(o.key);
            else present.add(o.key);
            return { op, row: row(o.key, o, i * 10 + j) };
          });
          model.commit(changes);
        });
        const cut = a.cut % (model.log.length + 1);
        const erased = [...a.erasedCustomers.map(String), ...a.erasedGifts].map(hash);
        const w = await DmsWriter.create(COLUMNS);
        tempDirs.push(w.dir);
        const before: string[] = [];
        const afterFiles: string[] = [];
        try {
          if (model.fullLoad.length > 0) before.push(await w.writeLoad("t/LOAD00000001.parquet", model.fullLoad));
          if (cut > 0) before.push(await w.writeCdc("t/20240601-000000001.parquet", model.log.slice(0, cut)));
          if (cut < model.log.length)
            afterFiles.push(await w.writeCdc("t/20240601-000000002.parquet", model.log.slice(cut)));
        } finally {
          w.close();
        }
        const all = [...before, ...afterFiles];
        if (all.length === 0) return;
        await withApplier(all, async (applier, connection) => {
          for (const f of before) await applier.applyBatch([f]);
          if (erased.length > 0) {
            if (before.length > 0) await deleteRows(connection, erased);
            await suppress(connection, "req-p", erased);
          }
          for (const f of afterFiles) await applier.applyBatch([f]);
          for (const f of shuffled(all, a.seed)) await applier.applyBatch([f]);
          await applier.applyBatch(shuffled(all, a.seed + 1));
          const gone = (r: Row): boolean =>
            a.erasedCustomers.includes(Number(r.customer_id)) || a.erasedGifts.includes(String(r.gift_email));
          const expected = model
            .liveRows()
            .filter((r) => !gone(r))
            .sort((x, y) => Number(x.order_id) - Number(y.order_id))
            .map((r) => ({
              order_id: r.order_id,
              status: r.status,
              customer_pseudo_id: hash(String(r.customer_id)),
              recipient_pseudo_id: r.gift_email === null ? null : hash(String(r.gift_email)),
            }));
          expect(await applier.rows()).to.deep.equal(expected);
        });
      }),
      { numRuns: 25 },
    );
  });

  it("a table without pseudonyms does not read the list, and the applier does not create it", async () => {
    const plain = parseTableSpec({ name: "orders", keyColumns: ["order_id"], columns: ["order_id", "status"] });
    for (const dialect of ["duckdb", "spark"] as const)
      for (const step of generateMergeSql(plain, dialect).steps) expect(step.sql).to.not.include(SUPPRESSION_TABLE);
    const s = await scenario();
    const instance = await DuckDBInstance.create(":memory:");
    const connection = await instance.connect();
    try {
      const schema = await readParquetSchema(connection, s.before);
      const applier = await DuckDbCdcApplier.create(plain, schema, { connection });
      for (const f of s.before) await applier.applyBatch([f]);
      const tables = await applier.query(`SELECT table_name FROM duckdb_tables() ORDER BY table_name`);
      expect(tables.map((r) => r.table_name)).to.deep.equal(["orders", "orders__cdc_ledger", "orders__cdc_tombstones"]);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });

  it("the Spark steps read the list beside the table, with the same joins as the DuckDB steps that ran", () => {
    const spark = generateMergeSql(SPEC, "spark").steps.find((x) => x.name === "latestView")!.sql;
    const duck = generateMergeSql(SPEC, "duckdb").steps.find((x) => x.name === "latestView")!.sql;
    expect(spark.replace(/`/g, '"')).to.equal(duck);
    expect(spark).to.include("LEFT JOIN (SELECT DISTINCT `pseudonym` AS `_cdc_suppressed` FROM `subject_suppression`)");
    expect(spark.match(/LEFT JOIN/g)).to.have.length(2);
    const cfg = renderGlueJobConfig(SPEC, { database: "curated" });
    expect(cfg.suppressionTable).to.equal("glue_catalog.curated.subject_suppression");
    expect(cfg.steps.find((x) => x.name === "latestView")!.sql).to.include(
      "FROM `glue_catalog`.`curated`.`subject_suppression`)",
    );
    // The table the program declares is the table the merge (and the local twin) assume.
    const shape = (cols: typeof SUPPRESSION_SCHEMA) =>
      cols.map(({ id, name, type, required }) => ({ id, name, type, required }));
    expect(shape(SUPPRESSION_COLUMNS)).to.deep.equal(shape(SUPPRESSION_SCHEMA));
    expect(SUPPRESSION_SCHEMA.find((c) => c.name === "pseudonym")).to.include({ type: "string", required: true });
  });

  // python3 is on every machine this runs on (Glue's own language): a missing interpreter fails the test.
  it("the Glue job checks the declared list before any batch and never creates it", () => {
    const cfg = renderGlueJobConfig(SPEC, { database: "curated" });
    const script = [
      "import json, sys",
      `sys.path.insert(0, ${JSON.stringify(path.dirname(GLUE_JOB_SCRIPT))})`,
      "import glue_job as g",
      "cfg = json.load(sys.stdin)",
      "class T:",
      "    def __init__(self, s): self.s = s",
      "    def simpleString(self): return self.s",
      "class F:",
      "    def __init__(self, n, t): self.name, self.dataType = n, T(t)",
      "class Spark:",
      "    def __init__(self, cols): self.cols, self.asked = cols, []",
      "    def table(self, name):",
      "        self.asked.append(name)",
      "        if self.cols is None: raise RuntimeError('Table or view not found: subject_suppression')",
      "        return type('D', (), {'schema': type('S', (), {'fields': [F(n, t) for n, t in self.cols]})})()",
      "    def sql(self, q): raise AssertionError('the check runs no SQL: ' + q)",
      "def run(spark, c):",
      "    try:\n        g.require_suppression_table(spark, c)\n        return 'ok'\n    except ValueError as e:\n        return str(e)",
      "ok = Spark([('pseudonym', 'string'), ('request_id', 'string'), ('suppressed_at', 'timestamp')])",
      "out = {'ok': run(ok, cfg), 'asked': ok.asked, 'missing': run(Spark(None), cfg),",
      "       'wrong': run(Spark([('pseudonym', 'bigint')]), cfg), 'plain': run(None, dict(cfg, suppressionTable=None))}",
      "print(json.dumps(out))",
    ].join("\n");
    const res = spawnSync("python3", ["-c", script], {
      input: JSON.stringify(cfg),
      encoding: "utf8",
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" },
    });
    expect(res.status, res.stderr).to.equal(0);
    const out = JSON.parse(res.stdout) as Record<string, unknown>;
    expect(out.ok).to.equal("ok");
    expect(out.asked).to.deep.equal(["`glue_catalog`.`curated`.`subject_suppression`"]);
    expect(out.missing).to.match(
      /suppression list glue_catalog\.curated\.subject_suppression cannot be read \(Table or view not found.*declared by the program/,
    );
    expect(out.wrong).to.match(/has no string column 'pseudonym'/);
    expect(out.plain).to.equal("ok");
  });
});

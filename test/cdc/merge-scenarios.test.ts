/**
 * The cases, each against an independent model of the source database. The SQL really
 * runs on DuckDB; the CLI cases spawn the real `tools/cdc-replay.ts`.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  CdcValidationError,
  DuckDbCdcApplier,
  HIDDEN_COLUMNS,
  LATEST_VIEW,
  STEP_ORDER,
  readParquetSchema,
  replayFiles,
  specFromSchema,
  type JsonRow,
} from "../../functions/cdc-merge";
import { DuckDBInstance } from "@duckdb/node-api";
import {
  DmsWriter,
  ORDERS_KEYS,
  SourceModel,
  UNICODE_NAMES,
  tsValue,
  type ChangeRecord,
  type Row,
} from "./dms-fixtures";
import { parseJsonLines, runCli, shuffled } from "./helpers";

const KEYS = [...ORDERS_KEYS];

function order(id: number, patch: Partial<Record<string, string | number | null>> = {}): Row {
  return {
    tenant: id % 2 === 0 ? "eu" : "br",
    order_id: id,
    customer_name: `customer ${id}`,
    amount: `${id}.2500`,
    updated_at: tsValue(1_717_200_000_000_000n + BigInt(id) * 1_000_001n, 0),
    note: null,
    ...patch,
  };
}

const tempDirs: string[] = [];

async function withWriter<T>(fn: (w: DmsWriter) => Promise<T>): Promise<T> {
  const w = await DmsWriter.create();
  tempDirs.push(w.dir);
  try {
    return await fn(w);
  } finally {
    w.close();
  }
}

/** A fresh applier over the given files' schema, for tests that control the batches. */
async function applierFor(files: readonly string[]): Promise<{ applier: DuckDbCdcApplier; close: () => void }> {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  const schema = await readParquetSchema(connection, files);
  const spec = specFromSchema(schema, { table: "orders", keyColumns: KEYS });
  const applier = await DuckDbCdcApplier.create(spec, schema, { connection });
  return {
    applier,
    close: () => {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

async function replay(files: readonly string[], maxFilesPerBatch?: number): Promise<readonly JsonRow[]> {
  return (await replayFiles(files, { table: "orders", keyColumns: KEYS, maxFilesPerBatch })).rows;
}

describe("cdc merge: DMS change files applied on DuckDB", function () {
  this.timeout(30_000);
  after(() => {
    for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it("plain inserts, updates and deletes (through the CLI, --json)", async () => {
    const m = new SourceModel();
    m.commit([
      { op: "I", row: order(1) },
      { op: "I", row: order(2) },
      { op: "I", row: order(3) },
    ]);
    m.commit([{ op: "U", row: order(1, { customer_name: "renamed", amount: "99.0000" }) }]);
    m.commit([{ op: "D", row: order(2) }]);
    m.commit([{ op: "I", row: order(4) }]);
    const dir = await withWriter(async (w) => {
      await w.writeCdc("sales/orders/20240601-000000001.parquet", m.log.slice(0, 3));
      await w.writeCdc("sales/orders/20240601-000000002.parquet", m.log.slice(3));
      return w.dir;
    });
    const out = await runCli([dir, "--table", "orders", "--key", "tenant,order_id", "--json"]);
    expect(out.stderr).to.not.match(/cdc:replay/);
    expect(out.code).to.equal(0);
    expect(parseJsonLines(out.stdout)).to.deep.equal(m.expectedJson());
    expect(m.expectedJson()).to.have.length(3); // the test itself is not vacuous
  });

  it("several changes to one key inside one commit resolve by change sequence", async () => {
    const m = new SourceModel();
    m.commit([
      { op: "I", row: order(1) },
      { op: "U", row: order(1, { note: "first" }) },
      { op: "U", row: order(1, { note: "second" }) },
      { op: "I", row: order(2) },
      { op: "D", row: order(2) },
      { op: "I", row: order(3) },
      { op: "D", row: order(3) },
      { op: "I", row: order(3, { note: "back" }) },
    ]);
    // The whole commit shares one commit timestamp: only the change sequence orders it.
    expect(new Set(m.log.map((c) => c.commitTs)).size).to.equal(1);
    // Reverse the rows in the file so file order points the wrong way.
    const files = await withWriter(async (w) => [await w.writeCdc("20240601-000000001.parquet", [...m.log].reverse())]);
    expect(await replay(files)).to.deep.equal(m.expectedJson());
  });

  it("two commits with the same timestamp are ordered by the change sequence", async () => {
    const m = new SourceModel();
    m.commit([{ op: "I", row: order(1) }]);
    m.commit([{ op: "U", row: order(1, { note: "same ts, later seq" }) }], { sameTsAsPrevious: true });
    const files = await withWriter(async (w) => [
      await w.writeCdc("b.parquet", [m.log[0] as ChangeRecord]),
      await w.writeCdc("a.parquet", [m.log[1] as ChangeRecord]),
    ]);
    expect(await replay(files)).to.deep.equal(m.expectedJson());
    expect(await replay(files, 1)).to.deep.equal(m.expectedJson());
  });

  it("delete then re-insert, in one batch and across batches", async () => {
    const m = new SourceModel();
    m.commit([
      { op: "I", row: order(1) },
      { op: "I", row: order(2) },
    ]);
    m.commit([{ op: "D", row: order(1) }]);
    m.commit([{ op: "I", row: order(1, { customer_name: "reborn" }) }]);
    m.commit([{ op: "D", row: order(2) }]);
    const files = await withWriter(async (w) =>
      Promise.all(m.log.map((c, i) => w.writeCdc(`2024060${i}-0000.parquet`, [c]))),
    );
    const expected = m.expectedJson();
    expect(expected.map((r) => r.customer_name)).to.deep.equal(["reborn"]);
    expect(await replay(files)).to.deep.equal(expected);
    expect(await replay(files, 1)).to.deep.equal(expected);
  });

  it("a delete is remembered: an older insert/update arriving in a later batch does not resurrect the row", async () => {
    const m = new SourceModel();
    m.commit([{ op: "I", row: order(1) }]);
    m.commit([{ op: "U", row: order(1, { note: "late update" }) }]);
    m.commit([{ op: "D", row: order(1) }]);
    const [ins, upd, del] = m.log as [ChangeRecord, ChangeRecord, ChangeRecord];
    const files = await withWriter(async (w) => ({
      ins: await w.writeCdc("1.parquet", [ins]),
      upd: await w.writeCdc("2.parquet", [upd]),
      del: await w.writeCdc("3.parquet", [del]),
    }));
    const { applier, close } = await applierFor(Object.values(files));
    try {
      await applier.applyBatch([files.ins, files.del]); // insert + delete seen first
      expect(await applier.rows()).to.deep.equal([]);
      await applier.applyBatch([files.upd]); // the older update arrives late, alone
      expect(await applier.rows()).to.deep.equal(m.expectedJson());
      expect(await applier.rows()).to.deep.equal([]);
      // The tombstone holds the delete's watermark: the reason the update was dropped.
      const tomb = await applier.query(`SELECT "${HIDDEN_COLUMNS.watermark}" AS wm FROM "orders__cdc_tombstones"`);
      expect(tomb).to.have.length(1);
      expect(String(tomb[0]?.wm)).to.match(new RegExp(`^1#${del.commitTs.replace(/[.]/g, "\\.")}#0+${del.changeSeq}$`));
      // Also: a late delete never removes a newer row.
      await applier.applyBatch([files.ins]);
      expect(await applier.rows()).to.deep.equal([]);
    } finally {
      close();
    }
  });

  it("an erased key leaves the tombstones once its delete is older than the purge horizon, and the table stays right", async () => {
    const m = new SourceModel();
    m.commit([
      { op: "I", row: order(1) },
      { op: "I", row: order(2) },
    ]);
    m.commit([{ op: "D", row: order(1) }]);
    m.commit([{ op: "D", row: order(2) }]);
    m.commit([{ op: "I", row: order(3) }]);
    const [, , del1, del2, ins3] = m.log as ChangeRecord[];
    const files = await withWriter(async (w) => [
      await w.writeCdc("1.parquet", m.log.slice(0, 3)),
      await w.writeCdc("2.parquet", m.log.slice(3)),
    ]);
    const { applier, close } = await applierFor(files);
    const tombstoneKeys = async () =>
      (await applier.query(`SELECT order_id FROM "orders__cdc_tombstones" ORDER BY order_id`)).map((r) => r.order_id);
    try {
      for (const f of files) await applier.applyBatch([f]);
      expect(await tombstoneKeys()).to.deep.equal([1, 2]);
      // Horizon at the first delete's commit: it is not older than the horizon, so nothing goes.
      expect(await applier.purgeTombstones(`1#${del1!.commitTs}`)).to.equal(0);
      // Horizon between the two deletes: only order 1's key goes.
      expect(await applier.purgeTombstones(`1#${del2!.commitTs}`)).to.equal(1);
      expect(await tombstoneKeys()).to.deep.equal([2]);
      expect(await applier.purgeTombstones(`1#${ins3!.commitTs}`)).to.equal(1);
      expect(await tombstoneKeys()).to.deep.equal([]);
      expect(await applier.rows()).to.deep.equal(m.expectedJson());
      // A DMS restart from an old checkpoint re-delivers a contiguous run of changes, deletes included:
      // replayed in order, it converges even without the purged tombstones.
      for (const f of files) await applier.applyBatch([f]);
      expect(await applier.rows()).to.deep.equal(m.expectedJson());
    } finally {
      close();
    }
  });

  it("a late, older delete does not remove a newer row", async () => {
    const m = new SourceModel();
    m.commit([{ op: "I", row: order(1) }]);
    m.commit([{ op: "D", row: order(1) }]);
    m.commit([{ op: "I", row: order(1, { note: "new life" }) }]);
    const files = await withWriter(async (w) => Promise.all(m.log.map((c, i) => w.writeCdc(`f${i}.parquet`, [c]))));
    const { applier, close } = await applierFor(files);
    try {
      await applier.applyBatch([files[0] as string]);
      await applier.applyBatch([files[2] as string]);
      await applier.applyBatch([files[1] as string]); // the delete arrives last
      expect(await applier.rows()).to.deep.equal(m.expectedJson());
      expect(m.expectedJson()).to.have.length(1);
    } finally {
      close();
    }
  });

  it("files delivered twice: same object re-applied, and re-emitted under a new name", async () => {
    const m = new SourceModel();
    m.commit([
      { op: "I", row: order(1) },
      { op: "I", row: order(2) },
    ]);
    m.commit([{ op: "U", row: order(1, { note: "x" }) }]);
    m.commit([{ op: "D", row: order(2) }]);
    m.commit([{ op: "I", row: order(2, { note: "again" }) }]);
    const files = await withWriter(async (w) => {
      const a = await w.writeCdc("20240601-0001.parquet", m.log.slice(0, 3));
      const b = await w.writeCdc("20240601-0002.parquet", m.log.slice(3));
      // DMS restarting from an older checkpoint writes the same changes into a new object.
      const again = path.join(w.dir, "20240601-0003.parquet");
      fs.copyFileSync(a, again);
      return { a, b, again };
    });
    expect(await replay([files.a, files.b, files.again])).to.deep.equal(m.expectedJson());
    expect(await replay([files.a, files.b, files.again], 1)).to.deep.equal(m.expectedJson());
    const { applier, close } = await applierFor([files.a, files.b]);
    try {
      await applier.applyBatch([files.a, files.b]);
      const once = await applier.query(`SELECT * FROM "orders" ORDER BY order_id`);
      await applier.applyBatch([files.a, files.b]); // a retried batch
      await applier.applyBatch([files.a]); // an overlapping one
      expect(await applier.query(`SELECT * FROM "orders" ORDER BY order_id`)).to.deep.equal(once);
      expect(await applier.rows()).to.deep.equal(m.expectedJson());
      expect(await applier.appliedFiles()).to.deep.equal([files.a, files.b].sort());
    } finally {
      close();
    }
  });

  it("rows out of order within and across files, and files applied in any order", async () => {
    const m = new SourceModel();
    for (let i = 1; i <= 6; i++) m.commit([{ op: "I", row: order(i) }]);
    for (let i = 1; i <= 6; i++) m.commit([{ op: "U", row: order(i, { amount: `${i * 10}.0000` }) }]);
    m.commit([
      { op: "D", row: order(3) },
      { op: "D", row: order(4) },
    ]);
    m.commit([{ op: "U", row: order(5, { note: "last" }) }]);
    const mixed = shuffled(m.log, 42);
    const files = await withWriter(async (w) =>
      Promise.all(
        [0, 1, 2, 3].map((i) =>
          w.writeCdc(
            `2024060${i}-0000.parquet`,
            mixed.filter((_, j) => j % 4 === i),
          ),
        ),
      ),
    );
    for (const [seed, batch] of [
      [1, 1],
      [2, 2],
      [3, 4],
    ] as const) {
      const { applier, close } = await applierFor(files);
      try {
        const order_ = shuffled(files, seed);
        for (let i = 0; i < order_.length; i += batch) await applier.applyBatch(order_.slice(i, i + batch));
        expect(await applier.rows(), `seed ${seed}`).to.deep.equal(m.expectedJson());
      } finally {
        close();
      }
    }
  });

  it("full load followed by CDC, with a LOAD file delivered after the CDC it precedes (through the CLI)", async () => {
    const m = new SourceModel();
    m.seed([order(1), order(2), order(3)]);
    m.commit([{ op: "U", row: order(1, { note: "after load" }) }]);
    m.commit([{ op: "D", row: order(2) }]);
    m.commit([{ op: "I", row: order(4) }]);
    const dir = await withWriter(async (w) => {
      // LOAD files carry the *transfer* time in the ts column, which can be later than the commits
      // of the changes DMS cached during the load; they must still rank before every CDC change.
      const slowLoad = m.fullLoad.slice(0, 2).map((r) => ({ ...r, transferTs: "2030-01-01 00:00:00.000000" }));
      await w.writeLoad("hr/orders/LOAD00000001.parquet", slowLoad, { withTimestamp: true });
      await w.writeLoad("hr/orders/LOAD0000000A.parquet", m.fullLoad.slice(2)); // hex counter, no ts column
      await w.writeCdc("hr/orders/20240601-120000000.parquet", m.log);
      return w.dir;
    });
    const out = await runCli([dir, "--table", "orders", "--key", "tenant,order_id", "--json", "--batch-files", "1"]);
    expect(out.code, out.stderr).to.equal(0);
    expect(parseJsonLines(out.stdout)).to.deep.equal(m.expectedJson());

    // Same files, but the first LOAD file only arrives after the CDC file was applied.
    const load1 = path.join(dir, "hr/orders/LOAD00000001.parquet");
    const loadA = path.join(dir, "hr/orders/LOAD0000000A.parquet");
    const cdc = path.join(dir, "hr/orders/20240601-120000000.parquet");
    const { applier, close } = await applierFor([load1, loadA, cdc]);
    try {
      await applier.applyBatch([loadA, cdc]);
      await applier.applyBatch([load1]);
      expect(await applier.rows()).to.deep.equal(m.expectedJson());
    } finally {
      close();
    }
  });

  it("NULLs, decimals, timestamps with zones and unicode survive exactly (human output too)", async () => {
    const m = new SourceModel();
    const rows = UNICODE_NAMES.map((name, i) =>
      order(i + 1, {
        customer_name: name,
        amount:
          ["0.0001", "-12345678901234.5678", "99999999999999.9999", null, "0.0000", "1.1000", "-0.5000"][i] ?? null,
        updated_at:
          i === 3
            ? null
            : tsValue(1_700_000_000_123_456n + BigInt(i) * 3_600_000_000n, [-180, 330, 0, 0, 60, -600, 840][i] ?? 0),
        note: i % 2 === 0 ? null : `nota ${name}`,
      }),
    );
    m.seed(rows.slice(0, 3));
    m.commit(rows.slice(3).map((row) => ({ op: "I" as const, row })));
    m.commit([{ op: "U", row: { ...(rows[0] as Row), customer_name: null, amount: null, note: "ünïcödé → ✓" } }]);
    const dir = await withWriter(async (w) => {
      await w.writeLoad("LOAD00000001.parquet", m.fullLoad);
      // Commit timestamps written as TIMESTAMPTZ at -03:00 instead of DMS's UTC string.
      await w.writeCdc("20240601-000000001.parquet", m.log, { commitTsAsTimestamptz: true });
      return w.dir;
    });
    const out = await runCli([dir, "--table", "orders", "--key", "tenant,order_id", "--json"]);
    expect(out.code, out.stderr).to.equal(0);
    const got = parseJsonLines(out.stdout);
    expect(got).to.deep.equal(m.expectedJson());
    expect(got).to.deep.include({ ...m.expectedJson()[0] });
    expect(JSON.stringify(got)).to.contain("-12345678901234.5678").and.contain("日本語の名前").and.contain('Z"');

    const human = await runCli([dir, "--table", "orders", "--key", "tenant,order_id"]);
    expect(human.code, human.stderr).to.equal(0);
    expect(human.stdout)
      .to.contain("customer_name")
      .and.contain("Ωμέγα")
      .and.contain("NULL")
      .and.contain(`${rows.length} row(s) in orders`);
  });

  it("custom op/ts/seq column names (--op-col, --ts-col, --seq-col) and their absence from the output", async () => {
    const m = new SourceModel();
    m.commit([{ op: "I", row: order(1) }]);
    m.commit([{ op: "U", row: order(1, { note: "n" }) }]);
    const dir = await withWriter(async (w) => {
      await w.writeCdc("x.parquet", m.log, {
        opColumn: "operation",
        timestampColumn: "tx_commit_time",
        changeSeqColumn: "seq",
      });
      return w.dir;
    });
    const out = await runCli([
      dir,
      "--table",
      "orders",
      "--key",
      "tenant,order_id",
      "--json",
      "--op-col",
      "operation",
      "--ts-col",
      "tx_commit_time",
      "--seq-col",
      "seq",
    ]);
    expect(out.code, out.stderr).to.equal(0);
    const got = parseJsonLines(out.stdout) as Record<string, unknown>[];
    expect(got).to.deep.equal(m.expectedJson());
    expect(Object.keys(got[0] ?? {})).to.not.include.members([
      "operation",
      "tx_commit_time",
      "seq",
      HIDDEN_COLUMNS.watermark,
    ]);
  });

  it("a crash between the tombstone merge and the table merge converges when the batch is re-run", async () => {
    const m = new SourceModel();
    m.commit([
      { op: "I", row: order(1) },
      { op: "I", row: order(2) },
    ]);
    m.commit([
      { op: "D", row: order(1) },
      { op: "U", row: order(2, { note: "u" }) },
    ]);
    m.commit([{ op: "I", row: order(3) }]);
    const files = await withWriter(async (w) => [
      await w.writeCdc("1.parquet", m.log.slice(0, 2)),
      await w.writeCdc("2.parquet", m.log.slice(2, 4)),
      await w.writeCdc("3.parquet", m.log.slice(4)),
    ]);
    const { applier, close } = await applierFor(files);
    try {
      await applier.applyBatch([files[0] as string]);
      await applier.applyBatch([files[1] as string], { stopAfter: "mergeTombstones" });
      expect(await applier.appliedFiles()).to.deep.equal([files[0]]); // the ledger did not record it
      await applier.applyBatch([files[1] as string, files[2] as string]); // the next run picks it up again
      expect(await applier.rows()).to.deep.equal(m.expectedJson());
    } finally {
      close();
    }
  });

  it("a crash after any step, followed by an older late change and the retry, converges", async () => {
    const m = new SourceModel();
    m.commit([
      { op: "I", row: order(1) },
      { op: "I", row: order(2) },
    ]);
    m.commit([{ op: "U", row: order(1, { note: "late" }) }]);
    m.commit([
      { op: "D", row: order(1) },
      { op: "U", row: order(2, { note: "kept" }) },
    ]);
    const files = await withWriter(async (w) => ({
      first: await w.writeCdc("1.parquet", m.log.slice(0, 2)),
      late: await w.writeCdc("2.parquet", m.log.slice(2, 3)),
      crashed: await w.writeCdc("3.parquet", m.log.slice(3)),
    }));
    for (const step of STEP_ORDER) {
      const { applier, close } = await applierFor(Object.values(files));
      try {
        await applier.applyBatch([files.first]);
        await applier.applyBatch([files.crashed], { stopAfter: step });
        await applier.applyBatch([files.late]);
        await applier.applyBatch([files.crashed]);
        expect(await applier.rows(), `crash after ${step}`).to.deep.equal(m.expectedJson());
      } finally {
        close();
      }
    }
  });

  it("dedupes to one change per key before MERGE (DuckDB would not reject duplicates; Spark and Athena do)", async () => {
    const m = new SourceModel();
    m.commit([
      { op: "I", row: order(1) },
      { op: "U", row: order(1, { note: "a" }) },
      { op: "U", row: order(1, { note: "b" }) },
    ]);
    const files = await withWriter(async (w) => [await w.writeCdc("1.parquet", m.log)]);
    const { applier, close } = await applierFor(files);
    try {
      await applier.applyBatch(files);
      const perKey = await applier.query(`SELECT tenant, order_id, count(*) AS n FROM "${LATEST_VIEW}" GROUP BY ALL`);
      expect(perKey.map((r) => Number(r.n))).to.deep.equal([1]);
      expect(await applier.rows()).to.deep.equal(m.expectedJson());
    } finally {
      close();
    }
  });

  it("rejects a batch with an unknown Op or an unordered CDC row, writing nothing", async () => {
    const files = await withWriter(async (w) => [
      await w.writeRaw(
        "bad.parquet",
        `SELECT * FROM (VALUES ('X', '2024-06-01 00:00:00.000000', 'br', 1, '00000000000000000000000000000000001'),
                               ('U', NULL, 'br', 2, NULL)) AS v("Op", dms_commit_ts, tenant, order_id, dms_change_seq)`,
      ),
    ]);
    const instance = await DuckDBInstance.create(":memory:");
    const connection = await instance.connect();
    try {
      const schema = await readParquetSchema(connection, files);
      const applier = await DuckDbCdcApplier.create(
        specFromSchema(schema, { table: "orders", keyColumns: KEYS }),
        schema,
        { connection },
      );
      const err = await applier.applyBatch(files).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(CdcValidationError);
      expect((err as CdcValidationError).problems).to.deep.equal({
        unknown_op: 1,
        cdc_row_without_commit_ts: 1,
        cdc_row_without_change_seq: 1,
      });
      expect(await applier.rows()).to.deep.equal([]);
      expect(await applier.appliedFiles()).to.deep.equal([]);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });
});

/**
 * Property: any change log of a source table, shipped as DMS files cut at random points, with rows
 * shuffled inside files, files duplicated (re-emitted under new names), delivered in any order, in
 * batches of any size, with batches retried, converges to the source's final state.
 */
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { expect } from "chai";
import fc from "fast-check";
import * as fs from "node:fs";
import * as path from "node:path";
import { DuckDbCdcApplier, HIDDEN_COLUMNS, readParquetSchema, specFromSchema } from "../../functions/cdc-merge";
import {
  DmsWriter,
  ORDERS_KEYS,
  SourceModel,
  UNICODE_NAMES,
  tsValue,
  type ChangeRecord,
  type Op,
  type Row,
} from "./dms-fixtures";
import { shuffled } from "./helpers";

const AMOUNTS = ["0.0000", "1.5000", "-2.2500", "99999999999999.9999", null, "0.0001"];
const OFFSETS = [0, -180, 330, 60, -600];

function rowFor(key: number, v: number): Row {
  return {
    tenant: key % 2 === 0 ? "eu" : "br",
    order_id: key,
    customer_name: UNICODE_NAMES[v % UNICODE_NAMES.length] ?? null,
    amount: AMOUNTS[v % AMOUNTS.length] ?? null,
    updated_at:
      v % 5 === 4 ? null : tsValue(1_700_000_000_000_000n + BigInt(v) * 7_777_777n, OFFSETS[v % OFFSETS.length] ?? 0),
    note: v % 3 === 0 ? null : `v${v}`,
  };
}

const opArb = fc.record({ key: fc.nat(5), kind: fc.nat(2), value: fc.nat(20) });
const scenarioArb = fc.record({
  seeded: fc.uniqueArray(fc.nat(5), { maxLength: 4 }),
  loadWithTs: fc.boolean(),
  commits: fc.array(fc.record({ ops: fc.array(opArb, { minLength: 1, maxLength: 4 }), sameTs: fc.boolean() }), {
    minLength: 1,
    maxLength: 10,
  }),
  cuts: fc.uniqueArray(fc.nat(40), { maxLength: 5 }),
  duplicates: fc.array(fc.nat(20), { maxLength: 3 }),
  shuffleSeed: fc.integer(),
  batchSize: fc.integer({ min: 1, max: 4 }),
  retries: fc.array(fc.nat(20), { maxLength: 2 }),
});

type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;

function buildModel(s: Scenario): SourceModel {
  const m = new SourceModel();
  m.seed(s.seeded.map((k) => rowFor(k, k)));
  s.commits.forEach((c, i) => {
    const present = new Set(m.liveRows().map((r) => r.order_id));
    const changes: Array<{ op: Op; row: Row }> = [];
    for (const o of c.ops) {
      // Only changes a real database can produce: insert when absent, update/delete when present.
      const op: Op = !present.has(o.key) ? "I" : o.kind === 1 ? "D" : "U";
      if (op === "D") present.delete(o.key);
      else present.add(o.key);
      changes.push({ op, row: rowFor(o.key, o.value) });
    }
    m.commit(changes, { sameTsAsPrevious: i > 0 && c.sameTs });
  });
  return m;
}

/**
 * One DuckDB instance for the suite (creating and closing two per example was a fifth of its time); one thread,
 * as each example is a few rows, where DuckDB's worker threads cost more than they bring.
 */
let instance: DuckDBInstance;
let examples = 0;

/**
 * A DMS writer and a connection for one example, each example in a database of its own: the applier's tables
 * are created in a fresh in-memory database attached for the example (and its temporary views are the
 * connection's), detached and removed afterwards with the example's files.
 */
async function withFixtures(fn: (w: DmsWriter, connection: DuckDBConnection) => Promise<void>): Promise<void> {
  const w = await DmsWriter.create(undefined, undefined, instance);
  const connection = await instance.connect();
  const db = `example_${++examples}`;
  await connection.run(`ATTACH ':memory:' AS ${db}; USE ${db}`);
  try {
    await fn(w, connection);
  } finally {
    await connection.run(`USE memory; DETACH ${db}`);
    connection.closeSync();
    w.close();
    fs.rmSync(w.dir, { recursive: true, force: true });
  }
}

describe("cdc merge property: random logs, cut, shuffled, duplicated and batched, converge", function () {
  this.timeout(60_000);
  before(async () => {
    instance = await DuckDBInstance.create(":memory:", { threads: "1" });
  });
  after(() => instance.closeSync());

  it("equals the source's final state", async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (s) => {
        const m = buildModel(s);
        await withFixtures(async (w, connection) => {
          const files: string[] = [];
          if (m.fullLoad.length > 0)
            files.push(await w.writeLoad("LOAD00000001.parquet", m.fullLoad, { withTimestamp: s.loadWithTs }));
          const cuts = [0, ...s.cuts.filter((c) => c > 0 && c < m.log.length).sort((a, b) => a - b), m.log.length];
          for (let i = 0; i + 1 < cuts.length; i++) {
            const part = m.log.slice(cuts[i], cuts[i + 1]);
            if (part.length > 0)
              files.push(await w.writeCdc(`2024060${i}-000000.parquet`, shuffled(part, s.shuffleSeed + i)));
          }
          s.duplicates.forEach((d, i) => {
            const src = files[d % files.length] as string;
            const copy = path.join(w.dir, `20240609-dup${i}.parquet`);
            fs.copyFileSync(src, copy);
            files.push(copy);
          });

          const schema = await readParquetSchema(connection, files);
          const spec = specFromSchema(schema, { table: "orders", keyColumns: [...ORDERS_KEYS] });
          const applier = await DuckDbCdcApplier.create(spec, schema, { connection });
          const delivered = shuffled(files, s.shuffleSeed);
          const batches: string[][] = [];
          for (let i = 0; i < delivered.length; i += s.batchSize) batches.push(delivered.slice(i, i + s.batchSize));
          for (const r of s.retries) batches.push(batches[r % batches.length] ?? []);
          for (const b of batches) await applier.applyBatch(b);

          expect(await applier.rows()).to.deep.equal(m.expectedJson());
        });
      }),
      { numRuns: 60 },
    );
  });

  /**
   * The tombstone purge's precondition, as the Glue job meets it: every change older than the horizon
   * has been applied before the purge (the job purges only when no file is pending). Changes newer than
   * the horizon may arrive before or after it, in any order: their tombstones must survive the purge to
   * stop an older change of the same group arriving late. Files are still duplicated, shuffled and
   * batched at random.
   */
  it("still equals the source's final state when tombstones older than the next change are purged in between", async () => {
    let purged = 0;
    await fc.assert(
      fc.asyncProperty(scenarioArb, fc.nat(40), fc.nat(), async (s, splitAt, earlyMask) => {
        const m = buildModel(s);
        const split = splitAt % (m.log.length + 1);
        await withFixtures(async (w, connection) => {
          let n = 0;
          const writeSide = async (log: readonly ChangeRecord[], seed: number): Promise<string[]> => {
            const files: string[] = [];
            const cuts = [0, ...s.cuts.filter((c) => c > 0 && c < log.length).sort((a, b) => a - b), log.length];
            for (let i = 0; i + 1 < cuts.length; i++) {
              const part = log.slice(cuts[i], cuts[i + 1]);
              if (part.length > 0) files.push(await w.writeCdc(`f${n++}.parquet`, shuffled(part, seed + i)));
            }
            s.duplicates.forEach((d) => {
              if (files.length === 0) return;
              const copy = path.join(w.dir, `dup${n++}.parquet`);
              fs.copyFileSync(files[d % files.length] as string, copy);
              files.push(copy);
            });
            return shuffled(files, seed);
          };
          const before = await writeSide(m.log.slice(0, split), s.shuffleSeed);
          if (m.fullLoad.length > 0)
            before.unshift(await w.writeLoad("LOAD00000001.parquet", m.fullLoad, { withTimestamp: s.loadWithTs }));
          const newer = await writeSide(m.log.slice(split), s.shuffleSeed + 1);
          // Some newer files arrive before the purge, in any order with the older ones.
          const early = newer.filter((_, i) => ((earlyMask >>> (i % 30)) & 1) === 1);
          const after = newer.filter((f) => !early.includes(f));
          before.push(...early);
          const all = [...before, ...after];
          const schema = await readParquetSchema(connection, all);
          const spec = specFromSchema(schema, { table: "orders", keyColumns: [...ORDERS_KEYS] });
          const applier = await DuckDbCdcApplier.create(spec, schema, { connection });
          const deliver = async (files: readonly string[]): Promise<void> => {
            for (let i = 0; i < files.length; i += s.batchSize)
              await applier.applyBatch(files.slice(i, i + s.batchSize));
          };
          await deliver(shuffled(before, s.shuffleSeed + 2));
          const next = m.log[split];
          const horizon = `1#${next ? next.commitTs : "9999-12-31 23:59:59.999999"}`;
          purged += await applier.purgeTombstones(horizon);
          const exists = await applier.query(
            `SELECT count(*) AS n FROM duckdb_tables() WHERE table_name = '${applier.names.tombstones}'`,
          );
          const kept =
            Number(exists[0]?.n) === 0
              ? [{ n: 0 }]
              : await applier.query(
                  `SELECT count(*) AS n FROM "${applier.names.tombstones}" WHERE "${HIDDEN_COLUMNS.watermark}" < '${horizon}'`,
                );
          expect(Number(kept[0]?.n)).to.equal(0);
          await deliver(after);
          expect(await applier.rows()).to.deep.equal(m.expectedJson());
        });
      }),
      { numRuns: 60 },
    );
    // Not vacuous: the generated logs did delete, and the purge did remove tombstones.
    expect(purged).to.be.greaterThan(0);
  });
});

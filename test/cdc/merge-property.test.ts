/**
 * Property: any change log of a source table, shipped as DMS files cut at random points, with rows
 * shuffled inside files, files duplicated (re-emitted under new names), delivered in any order, in
 * batches of any size, with batches retried, converges to the source's final state.
 */
import { DuckDBInstance } from "@duckdb/node-api";
import { expect } from "chai";
import fc from "fast-check";
import * as fs from "node:fs";
import * as path from "node:path";
import { DuckDbCdcApplier, readParquetSchema, specFromSchema } from "../../functions/cdc-merge";
import { DmsWriter, ORDERS_KEYS, SourceModel, UNICODE_NAMES, tsValue, type Op, type Row } from "./dms-fixtures";
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

describe("cdc merge property: random logs, cut, shuffled, duplicated and batched, converge", function () {
  this.timeout(60_000);

  it("equals the source's final state", async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (s) => {
        const m = buildModel(s);
        const w = await DmsWriter.create();
        const instance = await DuckDBInstance.create(":memory:");
        const connection = await instance.connect();
        try {
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
        } finally {
          connection.closeSync();
          instance.closeSync();
          w.close();
          fs.rmSync(w.dir, { recursive: true, force: true });
        }
      }),
      { numRuns: 60 },
    );
  });
});

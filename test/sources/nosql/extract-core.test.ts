/**
 * The NoSQL extraction's incremental logic, run for real: the Python helpers in python3 (their unittest
 * suite), and the MERGE they generate on DuckDB, driven run after run by the same planning and watermark
 * functions the Glue job calls, against a source that changes, deletes and receives late writes, with
 * crashes between the commit and the state write.
 */
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { expect } from "chai";
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import * as path from "node:path";
import * as readline from "node:readline";
import { NOSQL_CORE_MODULE } from "../../../functions/nosql-extract/cloud-config";
import { shuffled } from "../../cdc/helpers";

const CORE_DIR = path.dirname(NOSQL_CORE_MODULE);
const S = 1_000_000;

/**
 * One python3 process importing extract_core, answering `[fn, args]` lines with `{"ok": result}`: the
 * functions the Glue job calls, called the way it calls them, without a process per call.
 */
class PythonCore {
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly lines: AsyncIterator<string>;

  constructor() {
    const loop = [
      "import json, sys",
      `sys.path.insert(0, ${JSON.stringify(CORE_DIR)})`,
      "import extract_core",
      "for line in sys.stdin:",
      "    fn, args = json.loads(line)",
      "    try:",
      "        out = {'ok': getattr(extract_core, fn)(*args)}",
      "    except Exception as e:",
      "        out = {'error': repr(e)}",
      "    print(json.dumps(out), flush=True)",
    ].join("\n");
    this.proc = spawn("python3", ["-c", loop], { env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" } });
    this.lines = readline.createInterface({ input: this.proc.stdout })[Symbol.asyncIterator]();
  }

  async call(fn: string, ...args: unknown[]): Promise<unknown> {
    this.proc.stdin.write(JSON.stringify([fn, args]) + "\n");
    const next = await this.lines.next();
    if (next.done) throw new Error("python3 exited");
    const out = JSON.parse(next.value) as { ok?: unknown; error?: string };
    if (out.error !== undefined) throw new Error(`${fn}: ${out.error}`);
    return out.ok;
  }

  close(): void {
    this.proc.stdin.end();
  }
}

/** One call in a fresh python3 (setup, where a process per call costs nothing). */
function py(fn: string, ...args: unknown[]): unknown {
  const script = [
    "import json, sys",
    `sys.path.insert(0, ${JSON.stringify(CORE_DIR)})`,
    "import extract_core",
    `print(json.dumps(getattr(extract_core, ${JSON.stringify(fn)})(*json.load(sys.stdin))))`,
  ].join("\n");
  const res = spawnSync("python3", ["-c", script], {
    input: JSON.stringify(args),
    encoding: "utf8",
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" },
  });
  expect(res.status, res.stderr).to.equal(0);
  return JSON.parse(res.stdout) as unknown;
}

interface Row {
  readonly id: number;
  readonly v: string;
  readonly ver: number;
}
type State = { watermark: number | null; lastReconcileAt: number | null; runs: number; version: 1 };

const COLUMNS = ["id", "v"];
const sqlOf = (reconcile: boolean) => py("merge_sql", "duckdb", "lake.t", ["id"], COLUMNS, reconcile) as string;

async function lake(): Promise<{ db: DuckDBConnection; close: () => void }> {
  const instance = await DuckDBInstance.create(":memory:");
  const db = await instance.connect();
  await db.run(`ATTACH ':memory:' AS lake`);
  await db.run(`CREATE TABLE lake.t (id INTEGER NOT NULL, v VARCHAR, _source_version BIGINT, _extracted_at BIGINT)`);
  await db.run(`CREATE TABLE nosql_batch (id INTEGER, v VARCHAR, _source_version BIGINT, _extracted_at BIGINT)`);
  return { db, close: () => (db.closeSync(), instance.closeSync()) };
}

async function loadBatch(db: DuckDBConnection, rows: readonly Row[], at: number): Promise<void> {
  await db.run(`DELETE FROM nosql_batch`);
  for (const r of rows)
    await db.run(`INSERT INTO nosql_batch VALUES ($1, $2, $3, $4)`, [r.id, r.v, BigInt(r.ver), BigInt(at)]);
}

async function table(db: DuckDBConnection): Promise<string[]> {
  const reader = await db.runAndReadAll(`SELECT id, v, _source_version, _extracted_at FROM lake.t ORDER BY id`);
  return reader.getRowObjectsJson().map((r) => JSON.stringify(r));
}

describe("nosql extraction: the Python helpers (python3)", function () {
  this.timeout(60_000);

  it("passes its unittest suite", () => {
    const res = spawnSync("python3", ["-m", "unittest", "discover", "-s", __dirname, "-p", "test_*.py", "-v"], {
      encoding: "utf8",
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" },
    });
    expect(res.status, res.stderr).to.equal(0);
    const ran = /Ran (\d+) tests/.exec(res.stderr);
    expect(Number(ran?.[1])).to.be.at.least(20);
    expect(res.stderr).to.match(/\nOK\s*$/);
  });
});

describe("nosql extraction: the MERGE on DuckDB", function () {
  this.timeout(120_000);
  const incremental = sqlOf(false);
  const reconcile = sqlOf(true);

  it("inserts new keys, applies only newer versions, and re-running the same batch changes nothing", async () => {
    const { db, close } = await lake();
    try {
      await loadBatch(
        db,
        [
          { id: 1, v: "a", ver: 10 },
          { id: 2, v: "b", ver: 10 },
        ],
        100,
      );
      await db.run(incremental);
      await loadBatch(
        db,
        [
          { id: 1, v: "a2", ver: 20 }, // newer: applied
          { id: 2, v: "stale", ver: 5 }, // older (a late re-read): ignored
          { id: 3, v: "c", ver: 15 }, // new key
          { id: 3, v: "c-old", ver: 12 }, // same key twice in a batch: the newest wins
        ],
        200,
      );
      await db.run(incremental);
      const after = await table(db);
      expect(after).to.deep.equal([
        JSON.stringify({ id: 1, v: "a2", _source_version: "20", _extracted_at: "200" }),
        JSON.stringify({ id: 2, v: "b", _source_version: "10", _extracted_at: "100" }),
        JSON.stringify({ id: 3, v: "c", _source_version: "15", _extracted_at: "200" }),
      ]);
      // The same batch again, even stamped with a later run time: not one value moves.
      await db.run(`UPDATE nosql_batch SET _extracted_at = 300`);
      await db.run(incremental);
      expect(await table(db)).to.deep.equal(after);
    } finally {
      close();
    }
  });

  it("deletes only in a reconcile, the keys the full read did not return", async () => {
    const { db, close } = await lake();
    try {
      await loadBatch(
        db,
        [1, 2, 3].map((id) => ({ id, v: `x${id}`, ver: 10 })),
        1,
      );
      await db.run(reconcile);
      await loadBatch(db, [{ id: 1, v: "x1", ver: 10 }], 2);
      await db.run(incremental);
      expect(await table(db)).to.have.length(3);
      await loadBatch(
        db,
        [
          { id: 1, v: "x1", ver: 10 },
          { id: 3, v: "x3", ver: 10 },
        ],
        3,
      );
      await db.run(reconcile);
      expect((await table(db)).map((r) => (JSON.parse(r) as { id: number }).id)).to.deep.equal([1, 3]);
    } finally {
      close();
    }
  });

  it("converges to the source across runs with late writes, deletes and crashes before the state write", async () => {
    const { db, close } = await lake();
    const core = new PythonCore();
    try {
      const source = new Map<number, Row>();
      let state = (await core.call("initial_state")) as State;
      let now = 1_700_000_000;
      let nextVersion = now * S;
      const overlap = 600;
      let crashes = 0;
      let reconciles = 0;
      for (let run = 0; run < 30; run++) {
        // The source changes between runs: inserts, updates, deletes, and a late write whose version is
        // older than the watermark but inside the overlap (a client clock behind).
        for (const id of shuffled([...Array(12).keys()], run).slice(0, 5)) {
          const roll = (id * 7 + run * 13) % 10;
          if (roll < 2) source.delete(id);
          else {
            nextVersion += 1_000 * S;
            const late = roll === 9 && state.watermark !== null;
            const ver = late ? state.watermark! - 100 * S : nextVersion;
            source.set(id, { id, v: `v${run}-${id}`, ver: Math.max(ver, source.get(id)?.ver ?? 0) + 1 });
          }
        }
        now += 3 * 3600;
        nextVersion = Math.max(nextVersion, now * S);
        const plan = (await core.call("plan_run", state, now, overlap, 24)) as {
          reconcile: boolean;
          lower: number | null;
        };
        const batch = [...source.values()].filter((r) => plan.lower === null || r.ver > plan.lower);
        await loadBatch(db, batch, now);
        await db.run(plan.reconcile ? reconcile : incremental);
        if (plan.reconcile) reconciles++;
        // Every fourth run crashes after its commit, before writing the state: the state stays as it was.
        if (run % 4 === 3) {
          crashes++;
          continue;
        }
        const max = batch.length > 0 ? Math.max(...batch.map((r) => r.ver)) : null;
        const advanced = await core.call("advance", state, max, plan.reconcile, now);
        state = (await core.call("parse_state", await core.call("dump_state", advanced))) as State;
        // Between reconciles the lake may still hold deleted rows, never a stale version of a live one.
        const rows = (await table(db)).map((r) => JSON.parse(r) as { id: number; v: string });
        for (const r of rows) {
          const src = source.get(r.id);
          if (src) expect(r.v, `run ${run}, id ${r.id}`).to.equal(src.v);
        }
        expect(rows.filter((r) => source.has(r.id))).to.have.length(source.size);
      }
      // A final reconcile (a full read): the lake is exactly the source.
      const final = (await core.call("plan_run", state, now + 25 * 3600, overlap, 24)) as { reconcile: boolean };
      expect(final.reconcile).to.equal(true);
      await loadBatch(db, [...source.values()], now + 25 * 3600);
      await db.run(reconcile);
      const rows = (await table(db)).map((r) => JSON.parse(r) as { id: number; v: string; _source_version: string });
      expect(rows.map((r) => [r.id, r.v, Number(r._source_version)])).to.deep.equal(
        [...source.values()].sort((a, b) => a.id - b.id).map((r) => [r.id, r.v, r.ver]),
      );
      expect(crashes).to.be.greaterThan(5);
      expect(reconciles).to.be.greaterThan(2);
    } finally {
      core.close();
      close();
    }
  });
});

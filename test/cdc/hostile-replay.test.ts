/**
 * Careless and hostile input to `npm run cdc:replay` (issue 11, item 14): each case once made the
 * replay print a wrong table with exit 0, or a stack trace. Every case runs the real CLI on
 * DMS-shaped Parquet written by DuckDB; the rules the Glue job must apply identically run in python3
 * on the same files' schemas (Spark itself does not run here: see the README's "Known limits").
 */
import { DuckDBInstance } from "@duckdb/node-api";
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  GLUE_JOB_SCRIPT,
  generateMergeSql,
  parseTableSpec,
  readFileSchemas,
  renderGlueJobConfig,
  schemaProblems,
  specFromSchema,
  watermarkExpression,
  type CdcTableSpecInput,
  type FileSchema,
} from "../../functions/cdc-merge";
import { DmsWriter } from "./dms-fixtures";
import { parseJsonLines, runCli, type CliResult } from "./helpers";

const KEY_ARGS = ["--table", "orders", "--key", "tenant,order_id"];
const SEQ = (n: number): string => `'${String(n).padStart(35, "0")}'`;
/** A CDC row: Op, commit ts, tenant, order_id, note, change seq. */
const cdc = (op: string, ts: string, id: number | string, note: string, seq: number): string =>
  `('${op}', '${ts}', 'br', ${typeof id === "number" ? id : `'${id}'`}, '${note}', ${SEQ(seq)})`;
const CDC_COLS = `AS v("Op", dms_commit_ts, tenant, order_id, note, dms_change_seq)`;
const cdcFile = (rows: readonly string[]): string => `SELECT * FROM (VALUES ${rows.join(", ")}) ${CDC_COLS}`;

const tempDirs: string[] = [];

async function folder(fn: (w: DmsWriter) => Promise<void>): Promise<string> {
  const w = await DmsWriter.create();
  tempDirs.push(w.dir);
  try {
    await fn(w);
  } finally {
    w.close();
  }
  return w.dir;
}

/** No stack frame leaks into the message: the operator gets sentences, not `    at ...` lines. */
function expectCleanError(out: CliResult, code: number): void {
  expect(out.code, out.stderr).to.equal(code);
  expect(out.stderr).to.not.match(/^\s+at /m);
  expect(out.stdout).to.equal("");
}

/** python3 with glue_job importable; no bytecode is written into the source tree. */
function python(script: string, input: unknown): unknown {
  const res = spawnSync(
    "python3",
    [
      "-c",
      ["import json, sys", `sys.path.insert(0, ${JSON.stringify(path.dirname(GLUE_JOB_SCRIPT))})`, script].join("\n"),
    ],
    { input: JSON.stringify(input), encoding: "utf8", env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" } },
  );
  expect(res.status, res.stderr).to.equal(0);
  return JSON.parse(res.stdout) as unknown;
}

async function schemasOf(files: readonly string[]): Promise<FileSchema[]> {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    return await readFileSchemas(connection, files);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

describe("cdc:replay refuses what it would get wrong (hostile and careless input)", function () {
  this.timeout(60_000);
  after(() => {
    for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
  });

  describe("--op-col naming a column the files do not have", () => {
    it("is an error naming the column and the CDC files, not a table with every delete ignored", async () => {
      const dir = await folder(async (w) => {
        await w.writeRaw(
          "20240601-000000001.parquet",
          cdcFile([
            cdc("I", "2024-06-01 10:00:00.000000", 1, "x", 1),
            cdc("I", "2024-06-01 10:00:00.000000", 2, "y", 2),
          ]),
        );
        await w.writeRaw("20240601-000000002.parquet", cdcFile([cdc("D", "2024-06-01 11:00:00.000000", 1, "x", 3)]));
      });
      // The files are fine with the default: the delete applies.
      const ok = await runCli([dir, ...KEY_ARGS, "--json"]);
      expect(ok.code, ok.stderr).to.equal(0);
      expect(parseJsonLines(ok.stdout)).to.deep.equal([{ tenant: "br", order_id: 2, note: "y" }]);

      const out = await runCli([dir, ...KEY_ARGS, "--json", "--op-col", "op_type"]);
      expectCleanError(out, 2);
      expect(out.stderr).to.contain(
        `no column "op_type" (the CDC op column) in 2 CDC file(s): ${path.join(dir, "20240601-000000001.parquet")}, ${path.join(dir, "20240601-000000002.parquet")}`,
      );
    });

    it("one CDC file without the op column among good ones is named; a full-load-only folder still replays", async () => {
      const dir = await folder(async (w) => {
        await w.writeRaw("20240601-000000001.parquet", cdcFile([cdc("I", "2024-06-01 10:00:00.000000", 1, "x", 1)]));
        await w.writeRaw(
          "20240601-000000002.parquet",
          `SELECT '2024-06-01 11:00:00.000000' AS dms_commit_ts, 'br' AS tenant, 1 AS order_id, 'gone' AS note, ${SEQ(2)} AS dms_change_seq`,
        );
      });
      const out = await runCli([dir, ...KEY_ARGS]);
      expectCleanError(out, 2);
      expect(out.stderr).to.match(
        /no column "Op" \(the CDC op column\) in 1 CDC file\(s\): \S+20240601-000000002\.parquet;/,
      );

      const loadOnly = await folder(async (w) => {
        await w.writeRaw("LOAD00000001.parquet", `SELECT 'br' AS tenant, 1 AS order_id, 'x' AS note`);
      });
      const ok = await runCli([loadOnly, ...KEY_ARGS, "--json"]);
      expect(ok.code, ok.stderr).to.equal(0);
      expect(parseJsonLines(ok.stdout)).to.deep.equal([{ tenant: "br", order_id: 1, note: "x" }]);
    });
  });

  describe("two full-load rows with the same key", () => {
    it("in one LOAD file: the batch is rejected, naming the key and the file", async () => {
      const dir = await folder(async (w) => {
        await w.writeRaw(
          "LOAD00000001.parquet",
          `SELECT * FROM (VALUES ('br', 1, 'first'), ('br', 1, 'second'), ('br', 2, 'other')) AS v(tenant, order_id, note)`,
        );
      });
      const out = await runCli([dir, ...KEY_ARGS, "--json"]);
      expectCleanError(out, 1);
      expect(out.stderr).to.contain("1 × duplicate_full_load_key");
      expect(out.stderr).to.contain(
        `duplicate full-load key (tenant="br", order_id=1) in ${path.join(dir, "LOAD00000001.parquet")}`,
      );
    });

    it("the same row twice in one LOAD file is a duplicate too (a table scan yields a key once)", async () => {
      const dir = await folder(async (w) => {
        await w.writeRaw(
          "LOAD00000001.parquet",
          `SELECT * FROM (VALUES ('br', 1, 'same'), ('br', 1, 'same')) AS v(tenant, order_id, note)`,
        );
      });
      const out = await runCli([dir, ...KEY_ARGS]);
      expectCleanError(out, 1);
      expect(out.stderr).to.contain("1 × duplicate_full_load_key");
    });

    it("in two LOAD files, in one batch or across batches: rejected, naming both files", async () => {
      const dir = await folder(async (w) => {
        await w.writeRaw("LOAD00000001.parquet", `SELECT 'br' AS tenant, 1 AS order_id, 'first' AS note`);
        await w.writeRaw("LOAD00000002.parquet", `SELECT 'br' AS tenant, 1 AS order_id, 'second' AS note`);
      });
      const [f1, f2] = ["LOAD00000001.parquet", "LOAD00000002.parquet"].map((f) => path.join(dir, f));
      const oneBatch = await runCli([dir, ...KEY_ARGS]);
      expectCleanError(oneBatch, 1);
      expect(oneBatch.stderr).to.contain(`duplicate full-load key (tenant="br", order_id=1) in ${f1}, ${f2}`);

      const twoBatches = await runCli([dir, ...KEY_ARGS, "--batch-files", "1"]);
      expectCleanError(twoBatches, 1);
      expect(twoBatches.stderr).to.contain("1 × full_load_key_loaded_differently");
      expect(twoBatches.stderr).to.contain(`duplicate full-load key (tenant="br", order_id=1) in ${f2}, ${f1}`);
    });

    it("a re-delivered identical copy of a LOAD file is harmless and accepted, in any batching", async () => {
      const dir = await folder(async (w) => {
        await w.writeRaw(
          "LOAD00000001.parquet",
          `SELECT * FROM (VALUES ('br', 1, 'x'), ('eu', 2, NULL)) AS v(tenant, order_id, note)`,
        );
        fs.copyFileSync(path.join(w.dir, "LOAD00000001.parquet"), path.join(w.dir, "LOAD00000002.parquet"));
      });
      for (const batch of ["200", "1"]) {
        const out = await runCli([dir, ...KEY_ARGS, "--json", "--batch-files", batch]);
        expect(out.code, out.stderr).to.equal(0);
        expect(parseJsonLines(out.stdout)).to.deep.equal([
          { tenant: "br", order_id: 1, note: "x" },
          { tenant: "eu", order_id: 2, note: null },
        ]);
      }
    });
  });

  describe("commit timestamps with a UTC offset", () => {
    // Wall clocks that order the other way round from the instants they name.
    const rows = [
      cdc("I", "2024-06-01 06:00:00.000000", 1, "initial", 1),
      cdc("U", "2024-06-01 12:00:00.000000+05:30", 1, "a", 2), // 06:30 UTC
      cdc("U", "2024-06-01 07:00:00.000000Z", 1, "b", 3), // 07:00 UTC: the last change
      cdc("I", "2024-06-01 06:00:00.000000", 2, "two", 4),
      cdc("U", "2024-06-01 10:00:00.000000+00:00", 2, "updated", 5), // 10:00 UTC
      cdc("D", "2024-06-01 09:00:00.000000-03:00", 2, "updated", 6), // 12:00 UTC: the delete is last
    ];

    it("are normalised to UTC: the replay orders changes by the instant, as Spark does", async () => {
      const dir = await folder(async (w) => {
        await w.writeRaw("20240601-000000001.parquet", cdcFile(rows));
      });
      const out = await runCli([dir, ...KEY_ARGS, "--json"]);
      expect(out.code, out.stderr).to.equal(0);
      expect(parseJsonLines(out.stdout)).to.deep.equal([{ tenant: "br", order_id: 1, note: "b" }]);
    });

    it("the DuckDB watermark of each ts equals the UTC instant Spark's cast gives (python3 reference), and the job pins UTC", async () => {
      const dir = await folder(async (w) => {
        await w.writeRaw("20240601-000000001.parquet", cdcFile(rows));
      });
      const file = path.join(dir, "20240601-000000001.parquet");
      const spec = parseTableSpec({
        name: "orders",
        keyColumns: ["tenant", "order_id"],
        columns: ["tenant", "order_id", "note"],
      });
      const instance = await DuckDBInstance.create(":memory:");
      const c = await instance.connect();
      let got: Array<{ ts: string; wm: string }>;
      try {
        await c.run("SET TimeZone = 'UTC'"); // as the applier does
        got = (
          await c.runAndReadAll(
            `SELECT dms_commit_ts AS ts, ${watermarkExpression(spec, "duckdb")} AS wm FROM read_parquet('${file}') ORDER BY dms_change_seq`,
          )
        ).getRowObjectsJson() as Array<{ ts: string; wm: string }>;
      } finally {
        c.closeSync();
        instance.closeSync();
      }
      // Spark's CAST(string AS TIMESTAMP) honours a `Z` or `±HH:MM` suffix and reads a zone-less string
      // in spark.sql.session.timeZone (UTC in the job); Python's datetime models exactly that here.
      const expected = python(
        [
          "from datetime import datetime, timezone",
          "def utc(s):",
          "    t = datetime.fromisoformat(s.replace('Z', '+00:00'))",
          "    t = t.replace(tzinfo=timezone.utc) if t.tzinfo is None else t.astimezone(timezone.utc)",
          "    return t.strftime('%Y-%m-%d %H:%M:%S.%f')",
          "print(json.dumps([utc(s) for s in json.load(sys.stdin)]))",
        ].join("\n"),
        got.map((r) => r.ts),
      ) as string[];
      expect(got.map((r) => r.wm.split("#")[1])).to.deep.equal(expected);
      expect(expected).to.include("2024-06-01 06:30:00.000000").and.include("2024-06-01 12:00:00.000000");
      // The Spark rendering casts to TIMESTAMP (an instant) and formats in the session zone, pinned to UTC.
      expect(watermarkExpression(spec, "spark")).to.contain(
        "date_format(CAST(`dms_commit_ts` AS TIMESTAMP), 'yyyy-MM-dd HH:mm:ss.SSSSSS')",
      );
      expect(fs.readFileSync(GLUE_JOB_SCRIPT, "utf8")).to.contain('conf.set("spark.sql.session.timeZone", "UTC")');
      const validate = generateMergeSql(spec, "duckdb").steps.find((s) => s.name === "validate")?.sql ?? "";
      expect(validate).to.contain(`TRY_CAST("dms_commit_ts" AS TIMESTAMPTZ) IS NULL`);
    });
  });

  describe("a key column whose type changes between files", () => {
    it("INTEGER 1 then VARCHAR '01': an error naming the column, both files and both types", async () => {
      const dir = await folder(async (w) => {
        await w.writeRaw("20240601-000000001.parquet", cdcFile([cdc("I", "2024-06-01 10:00:00.000000", 1, "x", 1)]));
        await w.writeRaw("20240601-000000002.parquet", cdcFile([cdc("D", "2024-06-01 11:00:00.000000", "01", "x", 2)]));
      });
      const out = await runCli([dir, ...KEY_ARGS, "--json"]);
      expectCleanError(out, 2);
      expect(out.stderr).to.contain(
        `key column "order_id" changes type between files: INTEGER in ${path.join(dir, "20240601-000000001.parquet")}, VARCHAR in ${path.join(dir, "20240601-000000002.parquet")}`,
      );
    });

    it("a widened integer (INTEGER then BIGINT) keeps every value and is accepted", async () => {
      const dir = await folder(async (w) => {
        await w.writeRaw("20240601-000000001.parquet", cdcFile([cdc("I", "2024-06-01 10:00:00.000000", 1, "x", 1)]));
        await w.writeRaw(
          "20240601-000000002.parquet",
          `SELECT 'U' AS "Op", '2024-06-01 11:00:00.000000' AS dms_commit_ts, 'br' AS tenant, CAST(1 AS BIGINT) AS order_id, 'y' AS note, ${SEQ(2)} AS dms_change_seq`,
        );
      });
      const out = await runCli([dir, ...KEY_ARGS, "--json"]);
      expect(out.code, out.stderr).to.equal(0);
      expect(parseJsonLines(out.stdout)).to.deep.equal([{ tenant: "br", order_id: "1", note: "y" }]);
    });

    it("the Glue job's schema_problems (python3) gives the same messages as the replay, on the same files", async () => {
      const dir = await folder(async (w) => {
        await w.writeRaw("LOAD00000001.parquet", `SELECT 'br' AS tenant, 1 AS order_id, 7 AS customer_id, 'x' AS note`);
        await w.writeRaw(
          "20240601-000000001.parquet",
          `SELECT 'U' AS "Op", '2024-06-01 11:00:00' AS dms_commit_ts, 'br' AS tenant, CAST(1 AS BIGINT) AS order_id, '007' AS customer_id, 'y' AS note, ${SEQ(1)} AS dms_change_seq`,
        );
        await w.writeRaw(
          "20240601-000000002.parquet",
          `SELECT '2024-06-01 12:00:00' AS dms_commit_ts, 'br' AS tenant, '01' AS order_id, 7 AS customer_id, 'z' AS note`,
        );
      });
      const files = ["LOAD00000001.parquet", "20240601-000000001.parquet", "20240601-000000002.parquet"].map((f) =>
        path.join(dir, f),
      );
      const schemas = await schemasOf(files);
      const union: Array<readonly [string, string]> = [
        ["Op", "VARCHAR"],
        ["dms_commit_ts", "VARCHAR"],
        ["tenant", "VARCHAR"],
        ["order_id", "VARCHAR"],
        ["customer_id", "VARCHAR"],
        ["note", "VARCHAR"],
        ["dms_change_seq", "VARCHAR"],
      ];
      const specs: CdcTableSpecInput[] = [
        specFromSchema(union, {
          table: "orders",
          keyColumns: ["tenant", "order_id"],
          pseudonymise: [{ column: "customer_id", as: "customer_pseudo_id" }],
        }),
        specFromSchema(union, { table: "orders", keyColumns: ["tenant"], opColumn: "op_type" }),
      ];
      const tableTypes = new Map([["tenant", "int"]]);
      for (const input of specs) {
        const spec = parseTableSpec(input);
        const ts = [schemaProblems(spec, schemas), schemaProblems(spec, schemas, tableTypes)];
        const py = python(
          [
            "import glue_job as g",
            "d = json.load(sys.stdin)",
            "print(json.dumps([g.schema_problems(d['cfg'], d['schemas']), g.schema_problems(d['cfg'], d['schemas'], d['table'])]))",
          ].join("\n"),
          { cfg: renderGlueJobConfig(spec, { database: "sales" }), schemas, table: Object.fromEntries(tableTypes) },
        );
        expect(py).to.deep.equal(ts);
        expect(ts[0]?.length).to.be.greaterThan(0);
      }
      const [first] = specs.map((s) => schemaProblems(parseTableSpec(s), schemas));
      expect(first).to.deep.equal([
        `no column "Op" (the CDC op column) in 1 CDC file(s): ${files[2]}; its rows would be applied as full-load rows and its deletes ignored`,
        `no column "dms_change_seq" (the change sequence column) in 1 CDC file(s): ${files[2]}; its rows would be applied as full-load rows and its deletes ignored`,
        `key column "order_id" changes type between files: INTEGER in ${files[0]}, VARCHAR in ${files[2]}; values of different types do not match, so a change could miss its row`,
        `pseudonymised column "customer_id" changes type between files: INTEGER in ${files[0]}, VARCHAR in ${files[1]}; values of different types do not match, so a change could miss its row`,
      ]);
      expect(schemaProblems(parseTableSpec(specs[1]!), schemas, tableTypes)).to.include(
        `key column "tenant" changes type between files: int in the table, VARCHAR in ${files[0]}; values of different types do not match, so a change could miss its row`,
      );
    });
  });

  describe("unreadable input: a clear error naming the path, never a stack trace", () => {
    it("a file that is not Parquet, and a truncated one: each named", async () => {
      const dir = await folder(async (w) => {
        const good = await w.writeRaw(
          "20240601-000000001.parquet",
          cdcFile([cdc("I", "2024-06-01 10:00:00.000000", 1, "x", 1)]),
        );
        fs.writeFileSync(path.join(w.dir, "20240601-000000002.parquet"), "this is not parquet\n");
        const bytes = fs.readFileSync(good);
        fs.mkdirSync(path.join(w.dir, "sub"));
        fs.writeFileSync(path.join(w.dir, "sub", "20240601-000000003.parquet"), bytes.subarray(0, bytes.length - 20));
      });
      const out = await runCli([dir, ...KEY_ARGS]);
      expectCleanError(out, 2);
      expect(out.stderr).to.contain(
        `cdc:replay: ${path.join(dir, "20240601-000000002.parquet")}: cannot be read as Parquet: `,
      );
      expect(out.stderr).to.contain(
        `cdc:replay: ${path.join(dir, "sub", "20240601-000000003.parquet")}: cannot be read as Parquet: `,
      );
      expect(out.stderr).to.not.contain("20240601-000000001.parquet");
    });

    it("a sub-folder the user may not read (run as nobody: root reads everything)", async function () {
      const dir = await folder(async (w) => {
        await w.writeRaw("20240601-000000001.parquet", cdcFile([cdc("I", "2024-06-01 10:00:00.000000", 1, "x", 1)]));
        fs.mkdirSync(path.join(w.dir, "locked"));
        await w.writeRaw(
          "locked/20240601-000000002.parquet",
          cdcFile([cdc("D", "2024-06-01 11:00:00.000000", 1, "x", 2)]),
        );
      });
      const home = fs.mkdtempSync(path.join(os.tmpdir(), "cdc-home-"));
      tempDirs.push(home);
      // mkdtemp makes 0700 folders: let the other user in, except into `locked`.
      for (const d of [dir, home]) fs.chmodSync(d, 0o777);
      for (const f of fs.readdirSync(dir)) fs.chmodSync(path.join(dir, f), 0o755);
      fs.chmodSync(path.join(dir, "locked"), 0o000);
      const nobody = 65534;
      const asOther = process.getuid?.() === 0;
      const out = asOther ? await runCliAs(nobody, nobody, [dir, ...KEY_ARGS], home) : await runCli([dir, ...KEY_ARGS]);
      fs.chmodSync(path.join(dir, "locked"), 0o755); // so the cleanup can remove it
      expectCleanError(out, 2);
      expect(out.stderr).to.contain(
        `cdc:replay: ${path.join(dir, "locked")}: cannot be read: EACCES (permission denied)`,
      );
    });

    it("a dangling symbolic link and a link loop: named, not skipped", async () => {
      const dir = await folder(async (w) => {
        await w.writeRaw("20240601-000000001.parquet", cdcFile([cdc("I", "2024-06-01 10:00:00.000000", 1, "x", 1)]));
        fs.symlinkSync(path.join(w.dir, "gone.parquet"), path.join(w.dir, "20240601-000000002.parquet"));
        fs.symlinkSync("loop", path.join(w.dir, "loop"));
      });
      const out = await runCli([dir, ...KEY_ARGS]);
      expectCleanError(out, 2);
      expect(out.stderr).to.contain(
        `cdc:replay: ${path.join(dir, "20240601-000000002.parquet")}: cannot be read: ENOENT`,
      );
      expect(out.stderr).to.contain(`cdc:replay: ${path.join(dir, "loop")}: cannot be read: ELOOP`);
    });

    it("a linked folder is followed (its changes are applied), once even when linked twice", async () => {
      const target = await folder(async (w) => {
        await w.writeRaw("20240601-000000002.parquet", cdcFile([cdc("D", "2024-06-01 11:00:00.000000", 1, "x", 2)]));
      });
      const dir = await folder(async (w) => {
        await w.writeRaw(
          "20240601-000000001.parquet",
          cdcFile([
            cdc("I", "2024-06-01 10:00:00.000000", 1, "x", 1),
            cdc("I", "2024-06-01 10:00:00.000000", 2, "y", 3),
          ]),
        );
        fs.symlinkSync(target, path.join(w.dir, "linked"));
        fs.symlinkSync(target, path.join(w.dir, "linked-again"));
        fs.symlinkSync(w.dir, path.join(w.dir, "self"));
      });
      const out = await runCli([dir, ...KEY_ARGS, "--json"]);
      expect(out.code, out.stderr).to.equal(0);
      expect(parseJsonLines(out.stdout)).to.deep.equal([{ tenant: "br", order_id: 2, note: "y" }]);
    });
  });
});

/** Runs the CLI as another user, so file permissions hold even when the suite runs as root. */
const runCliAs = (uid: number, gid: number, args: readonly string[], home: string): Promise<CliResult> =>
  runCli(args, {
    uid,
    gid,
    env: { HOME: home, npm_config_cache: path.join(home, "npm-cache"), npm_config_update_notifier: "false" },
  });

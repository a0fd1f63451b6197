/**
 * npm run cdc:replay -- <folder> --table <name> --key <col,...> [--op-col Op] [--ts-col <col>]
 *                       [--seq-col <col>] [--batch-files N] [--exclude <col,...>]
 *                       [--pseudonymise <col:as,...>] [--json]
 *
 * Applies a folder of DMS-format Parquet files (full-load LOAD*.parquet and CDC files, found
 * recursively) with the same SQL steps the Glue job runs, on DuckDB, and prints the final table.
 * With --json: one JSON object per row per line, sorted by key, table columns only.
 * --exclude leaves raw columns out of the table (the stack's `piiColumns`); --pseudonymise derives
 * `as` = HMAC-SHA256 of `col` under the key in CDC_PSEUDONYMISATION_KEY (hex or base64, the cell key
 * as stored in Secrets Manager), exactly as the Glue job does (the stack's `pseudonymise`).
 * Exit codes: 0 ok, 1 the merge failed (e.g. a batch was rejected), 2 bad usage or input (an
 * unreadable path or file, or files whose schemas would make the merge silently wrong).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import {
  CdcInputError,
  CdcValidationError,
  DEFAULT_MAX_FILES_PER_BATCH,
  DMS_DEFAULTS,
  UnknownColumnError,
  decodePseudonymisationKey,
  replayFiles,
  tableColumns,
  type JsonRow,
} from "../functions/cdc-merge";

class UsageError extends Error {}

const USAGE = `usage: npm run cdc:replay -- <folder> --table <name> --key <col,...> [--op-col ${DMS_DEFAULTS.opColumn}] [--ts-col ${DMS_DEFAULTS.timestampColumn}] [--seq-col ${DMS_DEFAULTS.changeSeqColumn}] [--batch-files ${DEFAULT_MAX_FILES_PER_BATCH}] [--exclude <col,...>] [--pseudonymise <col:as,...>] [--json]
  --pseudonymise reads the key from CDC_PSEUDONYMISATION_KEY (hex or base64, at least 32 bytes)`;

/** A file-system error as one line naming the path, e.g. `EACCES (permission denied)`. */
function fsProblem(p: string, e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const reason = err.code
    ? `${err.code} (${err.message.split(":")[1]?.split(",")[0]?.trim() ?? err.message})`
    : err.message;
  return `${p}: cannot be read: ${reason}`;
}

/**
 * Every *.parquet under `dir`, recursively. Symbolic links are followed (a local copy of a raw prefix
 * may link to files elsewhere; S3 has no links), so a dangling link or a loop is an error like any
 * unreadable folder. Every problem is collected and reported with its path: skipping a folder
 * silently would drop its changes from the replay.
 */
function listParquet(dir: string, problems: string[], visited = new Set<string>()): string[] {
  const out: string[] = [];
  let entries: fs.Dirent[];
  try {
    const real = fs.realpathSync(dir);
    if (visited.has(real)) return out; // a link back to a folder already listed
    visited.add(real);
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    problems.push(fsProblem(dir, e));
    return out;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    let stat: Pick<fs.Stats, "isDirectory" | "isFile">;
    try {
      stat = entry.isSymbolicLink() ? fs.statSync(full) : entry;
    } catch (e) {
      problems.push(fsProblem(full, e));
      continue;
    }
    if (stat.isDirectory()) out.push(...listParquet(full, problems, visited));
    else if (entry.name.toLowerCase().endsWith(".parquet")) {
      if (stat.isFile()) out.push(full);
      else problems.push(`${full}: not a regular file`);
    }
  }
  return out;
}

function formatTable(columns: readonly string[], rows: readonly JsonRow[]): string {
  const cell = (v: JsonRow[string] | undefined): string =>
    v === null || v === undefined ? "NULL" : typeof v === "object" ? JSON.stringify(v) : String(v);
  const grid = [columns.slice(), ...rows.map((r) => columns.map((c) => cell(r[c])))];
  const widths = columns.map((_, i) => Math.max(...grid.map((line) => [...(line[i] ?? "")].length)));
  const render = (line: string[]): string =>
    line.map((v, i) => v + " ".repeat((widths[i] ?? 0) - [...v].length)).join(" | ");
  const sep = widths.map((w) => "-".repeat(w)).join("-+-");
  return [render(grid[0] ?? []), sep, ...grid.slice(1).map(render)].join("\n");
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        table: { type: "string" },
        key: { type: "string" },
        "op-col": { type: "string", default: DMS_DEFAULTS.opColumn },
        "ts-col": { type: "string", default: DMS_DEFAULTS.timestampColumn },
        "seq-col": { type: "string", default: DMS_DEFAULTS.changeSeqColumn },
        "batch-files": { type: "string", default: String(DEFAULT_MAX_FILES_PER_BATCH) },
        exclude: { type: "string", default: "" },
        pseudonymise: { type: "string", default: "" },
        json: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length !== 1)
    throw new UsageError(
      positionals.length === 0 ? "missing <folder>" : `expected one folder, got ${positionals.length}`,
    );
  const folder = path.resolve(positionals[0] ?? "");
  if (!fs.existsSync(folder) || !fs.statSync(folder).isDirectory()) throw new UsageError(`folder not found: ${folder}`);
  if (!values.table) throw new UsageError("missing --table <name>");
  const keys = (values.key ?? "")
    .split(",")
    .map((k) => k.trim())
    .filter((k) => k.length > 0);
  if (keys.length === 0) throw new UsageError("missing --key <col,...>");
  const batchFiles = Number(values["batch-files"]);
  if (!Number.isInteger(batchFiles) || batchFiles < 1)
    throw new UsageError(`--batch-files must be a positive integer, got ${values["batch-files"]}`);
  const list = (v: string | undefined): string[] =>
    (v ?? "")
      .split(",")
      .map((x) => x.trim())
      .filter((x) => x.length > 0);
  const pseudonymise = list(values.pseudonymise).map((pair) => {
    const [column, as, ...rest] = pair.split(":");
    if (!column || !as || rest.length > 0) throw new UsageError(`--pseudonymise expects col:as pairs, got '${pair}'`);
    return { column, as };
  });
  let pseudonymisationKey: Buffer | undefined;
  if (pseudonymise.length > 0) {
    const raw = process.env.CDC_PSEUDONYMISATION_KEY;
    if (!raw) throw new UsageError("--pseudonymise needs the cell key in CDC_PSEUDONYMISATION_KEY");
    try {
      pseudonymisationKey = decodePseudonymisationKey(raw);
    } catch (e) {
      throw new UsageError(`CDC_PSEUDONYMISATION_KEY: ${(e as Error).message}`);
    }
  }
  const listingProblems: string[] = [];
  const files = listParquet(folder, listingProblems);
  if (listingProblems.length > 0) throw new CdcInputError(listingProblems);
  if (files.length === 0) throw new UsageError(`no *.parquet files under ${folder}`);

  let result;
  try {
    result = await replayFiles(files, {
      table: values.table,
      keyColumns: keys,
      opColumn: values["op-col"],
      timestampColumn: values["ts-col"],
      changeSeqColumn: values["seq-col"],
      maxFilesPerBatch: batchFiles,
      excludeColumns: list(values.exclude),
      pseudonymise,
      pseudonymisationKey,
    });
  } catch (e) {
    if (e instanceof UnknownColumnError || (e instanceof Error && e.message.startsWith("invalid CDC table spec")))
      throw new UsageError(e.message);
    throw e;
  }
  const columns = tableColumns(result.spec);
  if (values.json) {
    for (const row of result.rows)
      process.stdout.write(`${JSON.stringify(Object.fromEntries(columns.map((c) => [c, row[c] ?? null])))}\n`);
  } else {
    console.log(formatTable(columns, result.rows));
    console.log(
      `\n${result.rows.length} row(s) in ${values.table}; ${files.length} file(s) applied in ${result.batches.length} batch(es)`,
    );
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof UsageError) {
      console.error(`cdc:replay: ${e.message}\n${USAGE}`);
      process.exitCode = 2;
    } else if (e instanceof CdcInputError) {
      // Input the replay would get wrong or cannot read: every problem, each naming its file or column.
      console.error(e.problems.map((p) => `cdc:replay: ${p}`).join("\n"));
      process.exitCode = 2;
    } else if (e instanceof CdcValidationError) {
      console.error(`cdc:replay: ${e.message}`);
      process.exitCode = 1;
    } else {
      console.error(`cdc:replay: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      process.exitCode = 1;
    }
  },
);

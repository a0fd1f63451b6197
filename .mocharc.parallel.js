// `npm test`: every test file, in parallel worker processes (one per core, at least two: the plan
// workers, DuckDB and the CLI tests spend much of their time in child processes and native threads),
// after one global fixture that evaluates the repository stacks' plans once for all of them
// (test/helpers/global-plans.ts). A single file (`npx mocha test/x.test.ts`) uses .mocharc.json alone.
//
// The slowest files go first, longest first: every file that took 2 s or more in a whole run (2026-12-04,
// durations in the README, "Tests"), then every other file in path order. Longest first keeps both
// workers busy to the end; a 7 s file left to path order ran alone for the last 6 s of the run.
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const base = require("./.mocharc.json");

const SLOWEST_FIRST = [
  "test/sources/csv/large-file.test.ts",
  "test/foundation/plan-worker.test.ts",
  "test/policy/in-process.test.ts",
  "test/cdc/merge-property.test.ts",
  "test/policy/gate.test.ts",
  "test/policy/first-preview.test.ts",
  "test/cdc/hostile-replay.test.ts",
  "test/cdc/suppression.test.ts",
  "test/functions/collector/hostile-input.test.ts",
  "test/ingestion/edge-cases.test.ts",
  "test/cdc/merge-scenarios.test.ts",
  "test/functions/collector/collector.test.ts",
  "test/subject-rights/gcp-worker-archive.test.ts",
  "test/foundation/secrets-in-state.test.ts",
  "test/policy/unknowns-and-config.test.ts",
  "test/functions/collector/suppression.test.ts",
  "test/policy/rules.test.ts",
  "test/clickstream/collector-build.test.ts",
  "test/clickstream/retention.test.ts",
  "test/notebooks/python.test.ts",
  "test/sources/nosql/nosql-plan.test.ts",
];

const all = fs
  .readdirSync(path.join(__dirname, "test"), { recursive: true })
  .filter((f) => f.endsWith(".test.ts"))
  .map((f) => path.join("test", f).split(path.sep).join("/"))
  .sort();
for (const f of SLOWEST_FIRST) {
  if (!all.includes(f)) throw new Error(`.mocharc.parallel.js: ${f} (SLOWEST_FIRST) is not a test file`);
}

module.exports = {
  ...base,
  parallel: true,
  jobs: Math.max(2, os.availableParallelism()),
  require: [...base.require, "test/helpers/global-plans.ts"],
  spec: [...SLOWEST_FIRST, ...all.filter((f) => !SLOWEST_FIRST.includes(f))],
};

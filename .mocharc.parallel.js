// `npm test`: every test file, in parallel worker processes (one per core, at least two: the plan
// workers, DuckDB and the CLI tests spend much of their time in child processes and native threads),
// after one global fixture that evaluates the repository stacks' plans once for all of them
// (test/helpers/global-plans.ts). A single file (`npx mocha test/x.test.ts`) uses .mocharc.json alone.
//
// The slowest files go first (longest first keeps both workers busy to the end instead of leaving one
// file running alone; figures in the README, "Tests"), then every other file in path order.
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const base = require("./.mocharc.json");

const SLOWEST_FIRST = [
  "test/sources/csv/large-file.test.ts",
  "test/cdc/merge-property.test.ts",
  "test/policy/in-process.test.ts",
  "test/policy/first-preview.test.ts",
  "test/policy/gate.test.ts",
  "test/ingestion/edge-cases.test.ts",
  "test/sources/nosql/nosql-plan.test.ts",
  "test/foundation/secrets-in-state.test.ts",
  "test/foundation/plan-worker.test.ts",
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

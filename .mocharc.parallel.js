// `npm test`: every test file, in parallel worker processes (one per core, at least two: the plan
// workers, DuckDB and the CLI tests spend much of their time in child processes and native threads),
// after one global fixture that evaluates the repository stacks' plans once for all of them
// (test/helpers/global-plans.ts). A single file (`npx mocha test/x.test.ts`) uses .mocharc.json alone.
const os = require("node:os");
const base = require("./.mocharc.json");

module.exports = {
  ...base,
  parallel: true,
  jobs: Math.max(2, os.availableParallelism()),
  require: [...base.require, "test/helpers/global-plans.ts"],
  spec: ["test/**/*.test.ts"],
};

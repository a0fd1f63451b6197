/**
 * Every config problem in one pass (issue 12, item 2): one stack file with six problems that used to be
 * found one run at a time, some of them only by a component's constructor (a stack trace, and the next
 * problem never reported). Validation reports all of them in one StackConfigError naming the stack file,
 * and the offline plan stops with it before the program declares any resource.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import { parse, stringify } from "yaml";
import { curatedSchemaProblems } from "../../components/aws/ingestion/plan-rules";
import { parseStackConfig, StackConfigError } from "../../components/config";
import { evaluateStack, PlanConfigError } from "../../tools/plan/evaluate";
import { PROJECT_ROOT } from "../../components/project-root";
import { readStackConfig } from "../../tools/plan/stack-config";

type Json = Record<string, any>;

/** The stack the fixture is evaluated as: the name Pulumi gives its file, `Pulumi.<stack>.yaml`. */
const STACK = "many-problems";
const STACK_FILE = `Pulumi.${STACK}.yaml`;

/** The dev stack file with six problems, one of each kind a component used to throw on. */
function manyProblems(config: Json): void {
  const sources = config["lakehouse:sources"];
  const orders = sources.transactional[0];
  // The same table again under another case: both become the curated table orders_orders.
  orders.tables.push({ ...structuredClone(orders.tables[0]), name: "Orders" });
  // MySQL without the CA DMS verifies the server with (DmsSource: no TLS mode without it).
  delete orders.caCertificatePem;
  // A partition spec that is no Iceberg transform (the curated schema could not be derived).
  orders.tables[0].partitionBy = ["day(created_at"];
  // A credentials entry that does not exist (TransactionalIngestion found no secret for the source).
  orders.credentials = "orders-replica";
  // An ingestion VPC too small to split into one subnet per availability zone.
  config["lakehouse:cells"][0].network = { vpcCidr: "10.90.0.0/26" };
  // No room for Iceberg snapshot retention (maintenanceForSla: "needs at least 3").
  config["lakehouse:erasureSlaDays"] = 2;
}

/** Each problem the fixture must produce, with its key. */
const EXPECTED: readonly string[] = [
  "lakehouse:cells[0].network.vpcCidr: must be an IPv4 CIDR from /16 to /24",
  "lakehouse:erasureSlaDays: 2 days leaves no room for Iceberg snapshot retention",
  "lakehouse:sources.transactional[0].tables[0].partitionBy[0]: partitionBy 'day(created_at' is not an Iceberg transform",
  "lakehouse:sources.transactional[0].tables[2]: 'orders.Orders' maps to the curated table orders_orders like sources.transactional[0].tables[0]",
  "lakehouse:sources.transactional[0].caCertificatePem: is required for engine mysql",
  "lakehouse:sources.transactional[0].credentials: no entry 'orders-replica' in lakehouse:sourceCredentials",
  // Not a constructor's throw but the same pass: with a 2-day SLA, dev's 48 hours of BigQuery time travel
  // (plus the live delete and the 7-day fail-safe) cannot fit either, and that is said at once too.
  "lakehouse:bigqueryTimeTravelHours: 48 hours of time travel",
];

/** Problems must match EXPECTED one to one: each expected prefix once, and nothing else. */
function expectExactly(problems: readonly string[]): void {
  const listing = `\n${problems.join("\n")}`;
  for (const e of EXPECTED) {
    expect(
      problems.filter((p) => p.startsWith(e)),
      `${e} once in:${listing}`,
    ).to.have.length(1);
  }
  expect(problems, listing).to.have.length(EXPECTED.length);
}

describe("every config problem in one pass (issue 12, item 2)", function () {
  this.timeout(120_000);
  let dir: string;
  let file: string;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "one-pass-"));
    file = path.join(dir, STACK_FILE);
    const doc = parse(fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.dev.yaml"), "utf8")) as { config: Json };
    manyProblems(doc.config);
    fs.writeFileSync(file, stringify(doc));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("validation reports all seven in one StackConfigError naming the stack file", function () {
    const { config, secretKeys } = readStackConfig(STACK, file);
    let error: unknown;
    try {
      parseStackConfig(config, STACK_FILE, secretKeys);
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(StackConfigError);
    const e = error as StackConfigError;
    expect(e.stackFile).to.equal(STACK_FILE);
    expect(e.message).to.match(
      new RegExp(`^Invalid stack config in ${STACK_FILE.replace(/\./g, "\\.")} \\(7 problems\\)`),
    );
    expectExactly(e.problems);
    for (const p of e.problems) expect(e.message).to.contain(`  - ${p}\n`);
  });

  it("the offline plan stops with the same problems before declaring any resource", async function () {
    let error: unknown;
    try {
      await evaluateStack({ stack: STACK, stackFile: file });
    } catch (e) {
      error = e;
    }
    // A PlanConfigError, not a PlanProgramError (a constructor's stack trace): the program's loadConfig
    // threw, and it runs before the first resource (index.ts).
    expect(error, String(error)).to.be.instanceOf(PlanConfigError);
    const e = error as PlanConfigError;
    expect(e.message).to.contain(`Invalid stack config in ${STACK_FILE} (7 problems)`);
    expect(e.message).to.contain("no resource was declared");
    expectExactly(e.problems);
  });

  it("erasureSlaDays 2 is refused by Iceberg, 9 by BigQuery time travel and the stores' bounds, 12 accepted; a /26 ingestion VPC is refused, alone", function () {
    const base = parse(fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.dev.yaml"), "utf8")) as { config: Json };
    const { config: devRaw, secretKeys } = readStackConfig("dev");
    // One change at a time: that key's own problem, nothing else.
    const one = (key: string, change: (config: Json) => void): readonly string[] => {
      const copy = structuredClone(base.config);
      change(copy);
      const raw = { ...devRaw, [key]: JSON.stringify(copy[key]) };
      try {
        parseStackConfig(raw, "Pulumi.dev.yaml", secretKeys);
      } catch (e) {
        return (e as StackConfigError).problems;
      }
      return [];
    };
    expect(
      one("lakehouse:erasureSlaDays", (c) => (c["lakehouse:erasureSlaDays"] = 2)).filter((p) =>
        p.startsWith("lakehouse:erasureSlaDays"),
      ),
    ).to.deep.equal([
      "lakehouse:erasureSlaDays: 2 days leaves no room for Iceberg snapshot retention: erased rows leave the current " +
        "snapshot within 1 day, old snapshots are kept at least 1 day and expire on a daily run, so physical removal " +
        "needs at least 3 days",
    ]);
    // 9 days fit Iceberg's maintenance but not dev's 48 hours of time travel after the live delete and
    // before BigQuery's 7-day fail-safe: refused under the time-travel key, with the SLA that would fit. Nor
    // do they fit the daily reconcile of the NoSQL sources (a delete at the source is seen only by a full read).
    const reconcile = (kind: string, cron: string) =>
      `lakehouse:sources.${kind}[0].reconcileEveryHours: a row deleted at the source can stay in the lake 10 days ` +
      `(reconcile every 24 h, up to 1 day(s) between runs of '${cron}', 8 days of snapshot retention), beyond the ` +
      `erasure SLA of 9 days; schedule the job more often`;
    // The stores' bounds (components/config/erasure-budget.ts) are over 9 days as well, each under the key that
    // sets them: the warehouse's snapshot expiry then old versions, dev's 7 days of raw files, query results.
    const bound = (key: string, value: number) =>
      `lakehouse:${key}: ${value} days keeps erased personal data in cell 'br' past the erasure SLA of 9 days`;
    const nine = one("lakehouse:erasureSlaDays", (c) => (c["lakehouse:erasureSlaDays"] = 9));
    expect(nine.filter((p) => !/keeps erased personal data in cell/.test(p))).to.deep.equal([
      "lakehouse:bigqueryTimeTravelHours: 48 hours of time travel, after a day for the live delete and before " +
        "BigQuery's 7-day fail-safe, keeps erased rows longer than the erasure SLA of 9 days (erasureSlaDays 10 or more fits it)",
      reconcile("cassandra", "cron(0 3 * * ? *)"),
      reconcile("elasticsearch", "cron(30 3 * * ? *)"),
    ]);
    expect(nine.filter((p) => /keeps erased personal data in cell/.test(p)).map((p) => p.split(" (")[0])).to.deep.equal(
      [bound("erasureSlaDays", 9), bound("retention.raw", 7), bound("retention.curated", 90)],
    );
    // 12 days is the shortest SLA every store of dev fits (the warehouse: 1 + 8 days of Iceberg + 1 + 2 of lifecycle).
    expect(one("lakehouse:erasureSlaDays", (c) => (c["lakehouse:erasureSlaDays"] = 11))).to.have.length(3);
    expect(one("lakehouse:erasureSlaDays", (c) => (c["lakehouse:erasureSlaDays"] = 12))).to.deep.equal([]);
    // 3 days fit Iceberg's maintenance; BigQuery's time travel and fail-safe then refuse it under their own key,
    // and the stores' bounds under theirs.
    expect(
      one("lakehouse:erasureSlaDays", (c) => (c["lakehouse:erasureSlaDays"] = 3))
        .filter((p) => p.startsWith("lakehouse:erasureSlaDays"))
        .map((p) => p.split(" (")[0]),
    ).to.deep.equal([
      "lakehouse:erasureSlaDays: 3 days keeps erased personal data in cell 'br' past the erasure SLA of 3 days",
    ]);
    expect(
      one("lakehouse:cells", (c) => (c["lakehouse:cells"][0].network = { vpcCidr: "10.90.0.0/26" })),
    ).to.deep.equal(["lakehouse:cells[0].network.vpcCidr: must be an IPv4 CIDR from /16 to /24"]);
  });

  it("the curated schema's rules run in collecting mode: every problem of a table, not the first throw", function () {
    const problems = curatedSchemaProblems({
      schema: "s",
      name: "t",
      keys: ["id", "missing"],
      partitionBy: ["day(ts)", "day(created_at"],
      columns: [
        { name: "id", type: "long" },
        { name: "ID", type: "long" },
      ],
    });
    expect(problems).to.deep.equal([
      "table s.t: partitionBy 'day(created_at' is not an Iceberg transform (identity, year/month/day/hour(col), bucket(n, col), truncate(n, col))",
      "table s.t: column id declared twice",
      "table s.t: key missing is not in columns",
      "table s.t: partition source ts is not in columns",
    ]);
  });
});

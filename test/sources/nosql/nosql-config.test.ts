/**
 * Config of the NoSQL sources: every problem of a Cassandra or Elasticsearch entry is reported at once,
 * with its key and the stack file; defaults are documented values; the reconcile interval is bounded by
 * the erasure SLA with the same maintenance the curated tables get.
 */
import { expect } from "chai";
import { parseStackConfig, StackConfigError } from "../../../components/config/validate";
import { icebergShareDays } from "../../../components/aws/sources/nosql-rules";
import { maintenanceForSla } from "../../../components/aws/ingestion/iceberg-table";
import { readStackConfig } from "../../../tools/plan/stack-config";

function devWith(change: (sources: any) => void): { problems: string[]; file: string } {
  const { config, stackFile } = readStackConfig("dev");
  const sources = JSON.parse(config["lakehouse:sources"]);
  change(sources);
  try {
    parseStackConfig({ ...config, "lakehouse:sources": JSON.stringify(sources) }, stackFile);
    return { problems: [], file: stackFile };
  } catch (e) {
    if (!(e instanceof StackConfigError)) throw e;
    expect(e.message).to.include(stackFile);
    return { problems: [...e.problems], file: stackFile };
  }
}

const cassandra = (extra: Record<string, unknown> = {}) => ({
  name: "sessions",
  cell: "br",
  contactPoints: ["cassandra-1.dev.acme.internal"],
  keyspace: "sessions",
  credentials: "orders",
  schedule: "cron(0 2 * * ? *)",
  tables: [
    {
      name: "carts",
      keys: ["cart_id"],
      columns: [
        { name: "cart_id", type: "uuid" },
        { name: "items", type: "string" },
      ],
    },
  ],
  ...extra,
});

describe("nosql sources: config", function () {
  this.timeout(60_000);

  it("fills the documented defaults", () => {
    const { config, stackFile } = readStackConfig("dev");
    const sources = JSON.parse(config["lakehouse:sources"]);
    sources.cassandra = [cassandra()];
    const parsed = parseStackConfig({ ...config, "lakehouse:sources": JSON.stringify(sources) }, stackFile);
    expect(parsed.sources.cassandra[0]).to.deep.include({
      port: 9042,
      consistency: "LOCAL_QUORUM",
      splitSizeMb: 64,
      overlapSeconds: 600,
      reconcileEveryHours: 24,
      workers: 2,
      networkReady: false,
    });
    expect(parsed.sources.elasticsearch[0].indices[0].cursorField).to.equal("updated_at");
  });

  it("reports every problem of both kinds in one error, each with its key", () => {
    const { problems } = devWith((s) => {
      s.cassandra = [
        cassandra({
          schedule: "rate(1 day)",
          networkReady: true,
          tables: [
            {
              name: "carts",
              keys: ["cart_id", "ghost"],
              columns: [
                { name: "cart_id", type: "uuid" },
                { name: "_source_version", type: "long" },
              ],
            },
            {
              name: "keys_only",
              keys: ["a", "b"],
              columns: [
                { name: "a", type: "int" },
                { name: "b", type: "int" },
              ],
            },
          ],
        }),
      ];
      s.elasticsearch[0].endpoint = "http://search.dev.acme.internal:9200";
      s.elasticsearch[0].indices.push({ name: "logs-*", columns: [{ name: "doc_id", type: "string" }] });
      s.elasticsearch[0].credentials = "nobody";
    });
    const expected = [
      /^lakehouse:sources\.cassandra\[0\]\.schedule: must be a Glue cron expression/,
      /^lakehouse:sources\.cassandra\[0\]\.connectorJar: is required with networkReady: true/,
      /^lakehouse:sources\.cassandra\[0\]\.tables\[0\]\.keys\[1\]: key 'ghost' is not one of the columns/,
      /^lakehouse:sources\.cassandra\[0\]\.tables\[0\]\.columns\[1\]\.name: '_source_version' is added by the extraction/,
      /^lakehouse:sources\.cassandra\[0\]\.tables\[1\]\.columns: needs at least one regular \(non-key\) column/,
      /^lakehouse:sources\.elasticsearch\[0\]\.endpoint: must use https/,
      /^lakehouse:sources\.elasticsearch\[0\]\.indices\[1\]\.name: must be one index or alias name/,
      /^lakehouse:sources\.elasticsearch\[0\]\.indices\[1\]\.columns\[0\]\.name: 'doc_id' is the document _id/,
      /^lakehouse:sources\.elasticsearch\[0\]\.credentials: no entry 'nobody' in lakehouse:sourceCredentials/,
    ];
    for (const re of expected)
      expect(
        problems.some((p) => re.test(p)),
        `${re} in\n${problems.join("\n")}`,
      ).to.equal(true);
  });

  it("refuses a reconcile interval that keeps deleted rows past the erasure SLA, and says what fits", () => {
    const { problems } = devWith((s) => {
      s.elasticsearch[0].reconcileEveryHours = 200;
      s.cassandra = [cassandra({ schedule: "cron(0 2 ? * MON *)", reconcileEveryHours: 168 })];
    });
    expect(problems).to.include(
      "lakehouse:sources.elasticsearch[0].reconcileEveryHours: a row deleted at the source can stay in the lake 17.33 days " +
        "(reconcile every 200 h, up to 1 day(s) between runs of 'cron(30 3 * * ? *)', 8 days of snapshot retention), " +
        "beyond the erasure SLA of 15 days; use at most 144 hours",
    );
    expect(problems.some((p) => p.startsWith("lakehouse:sources.cassandra[0].reconcileEveryHours:"))).to.equal(true);
    expect(devWith((s) => (s.elasticsearch[0].reconcileEveryHours = 144)).problems).to.deep.equal([]);
  });

  it("bounds the reconcile with the maintenance the curated tables really get (maintenanceForSla)", () => {
    for (let sla = 3; sla <= 60; sla++) {
      const m = maintenanceForSla(sla);
      expect(icebergShareDays(sla), `SLA ${sla}`).to.equal(m.snapshotRetentionDays + m.runRateHours / 24);
    }
  });
});

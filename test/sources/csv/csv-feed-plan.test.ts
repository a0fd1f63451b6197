/**
 * The CSV feeds as the dev and prod plans declare them: per configured feed, an arrival rule on its landing
 * prefix, a loader invocable by that rule only, a role confined to the feed's prefixes and tables, the
 * staging and Iceberg tables the SQL of the local tests runs against, and alarms to the cell's topic.
 */
import { expect } from "chai";
import { CSV_LOADER_ENTRY } from "../../../components/aws/sources/csv-feed";
import { bundleFunction } from "../../../components/aws/sources/source-function";
import { curatedTableName, landingPrefix, stagingTableName } from "../../../functions/csv-loader/feed";
import { duplicateKeysSql, mergeSql } from "../../../functions/csv-loader/load-sql";
import type { Plan, PlannedResource } from "../../../tools/plan/evaluate";
import { configOf, named, planOf } from "../../helpers/plan";

const FUNCTION = "aws:lambda/function:Function";
const POLICY = "aws:iam/rolePolicy:RolePolicy";
const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";
const GLUE_TABLE = "aws:glue/catalogTable:CatalogTable";
const RULE = "aws:cloudwatch/eventRule:EventRule";
const TARGET = "aws:cloudwatch/eventTarget:EventTarget";
const PERMISSION = "aws:lambda/permission:Permission";
const LF = "aws:lakeformation/permissions:Permissions";

type Statement = { Sid: string; Action: string | string[]; Resource: string | string[]; Condition?: unknown };
const statements = (p: PlannedResource): Statement[] =>
  (JSON.parse(p.inputs.policy as string) as { Statement: Statement[] }).Statement;
const list = (v: string | string[]): string[] => (Array.isArray(v) ? v : [v]);

describe("CSV loader bundle", () => {
  it("bundles the handler with the SDK left to the runtime and nothing of the local engine (DuckDB)", () => {
    const js = bundleFunction(CSV_LOADER_ENTRY);
    const required = [...js.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]).sort();
    expect(required.filter((r) => !r.startsWith("node:") && !["buffer", "crypto", "fs"].includes(r))).to.deep.equal([
      "@aws-sdk/client-athena",
      "@aws-sdk/client-s3",
    ]);
    // esbuild's CommonJS export of `handler` (Lambda's `index.handler`).
    expect(js).to.match(/\bhandler: \(\) => handler\b/);
    expect(js).not.to.include("@duckdb");
  });
});

for (const stack of ["dev", "prod"] as const) {
  describe(`CSV feeds in the ${stack} plan`, () => {
    let plan: Plan;
    before(async () => {
      plan = await planOf(stack);
    });
    const config = configOf(stack);
    const prefix = (cell: string) => `lakehouse-${config.environment}-${cell}`;

    it("declares one loader per configured feed, and none other", () => {
      const loaders = plan.resources.filter((r) => r.type === FUNCTION && /-csv-/.test(String(r.inputs.name)));
      expect(loaders.map((f) => f.inputs.name).sort()).to.deep.equal(
        config.sources.csvFeeds.map((f) => `${prefix(f.cell)}-csv-${f.name}`).sort(),
      );
      expect(config.sources.csvFeeds.length).to.be.greaterThan(0);
    });

    for (const feed of config.sources.csvFeeds) {
      const logical = `${feed.cell}-sources-${feed.name}`;
      const bucket = (kind: string) => `${prefix(feed.cell)}-${kind}-`;

      it(`${feed.cell}/${feed.name}: S3 arrivals under its landing prefix reach the loader, and only they may invoke it`, () => {
        const rule = named(plan, RULE, `${logical}-arrivals`);
        const pattern = JSON.parse(rule.inputs.eventPattern as string) as {
          detail: { bucket: { name: string[] }; object: { key: { prefix: string }[] } };
        };
        expect(pattern).to.deep.include({ source: ["aws.s3"], "detail-type": ["Object Created"] });
        expect(pattern.detail.bucket.name).to.have.length(1);
        expect(pattern.detail.bucket.name[0].startsWith(bucket("landing"))).to.equal(true);
        expect(pattern.detail.object.key).to.deep.equal([{ prefix: landingPrefix(feed.name) }]);
        const fn = named(plan, FUNCTION, `${logical}-loader`);
        const permission = named(plan, PERMISSION, `${logical}-invoke`);
        expect(permission.inputs).to.deep.include({
          action: "lambda:InvokeFunction",
          principal: "events.amazonaws.com",
          function: fn.inputs.name,
          sourceArn: rule.outputs.arn,
        });
        const target = named(plan, TARGET, `${logical}-arrivals`);
        expect(target.inputs).to.deep.include({ rule: rule.outputs.name, arn: fn.outputs.arn });
        // Not before the loader may invoke, read and write its tables.
        const grants = plan.resources.filter((r) => r.type === LF && r.name.startsWith(`${logical}-lf-`));
        expect(grants).to.have.length(4);
        for (const needed of [permission, ...grants]) expect(target.dependencies).to.include(needed.urn);
      });

      it(`${feed.cell}/${feed.name}: the loader runs one file at a time, with its declaration and names only in its environment`, () => {
        const fn = named(plan, FUNCTION, `${logical}-loader`);
        expect(fn.inputs).to.deep.include({ reservedConcurrentExecutions: 1, timeout: 900, memorySize: 2048 });
        expect(fn.inputs.vpcConfig).to.equal(undefined);
        const env = (fn.inputs.environment as { variables: Record<string, string> }).variables;
        expect(Object.keys(env).sort()).to.deep.equal([
          "CURATED_DATABASE",
          "FEED",
          "LAKE_KEY_ARN",
          "RAW_BUCKET",
          "RAW_DATABASE",
          "WORKGROUP",
        ]);
        expect(JSON.parse(env.FEED)).to.deep.equal(feed);
        expect(env.RAW_BUCKET.startsWith(bucket("raw"))).to.equal(true);
        expect(env.WORKGROUP).to.equal(`${prefix(feed.cell)}-csv-${feed.name}`);
      });

      it(`${feed.cell}/${feed.name}: the loader's role reaches its feed's prefixes, tables and workgroup only`, () => {
        const s = statements(named(plan, POLICY, `${logical}-loader-role`));
        for (const st of s) for (const a of list(st.Action)) expect(a, st.Sid).not.to.include("*");
        // Every object ARN, as `<bucket kind>:<key pattern>`.
        const objects = s
          .flatMap((st) => list(st.Resource))
          .filter((r) => r.startsWith("arn:aws:s3:::") && r.includes("/"))
          .map((r) => {
            const m = new RegExp(`^arn:aws:s3:::${prefix(feed.cell)}-(landing|raw|warehouse)-\\d{12}/(.*)$`).exec(r);
            return m ? `${m[1]}:${m[2]}` : r;
          });
        expect(objects.sort()).to.deep.equal(
          [`landing:csv/${feed.name}/*`, `raw:csv/${feed.name}/*`, `warehouse:curated/csv/${feed.name}/*`].sort(),
        );
        const lists = s.filter((st) => list(st.Action).includes("s3:ListBucket"));
        expect(lists.map((st) => st.Condition)).to.deep.equal([
          { StringLike: { "s3:prefix": [`csv/${feed.name}/*`] } },
          { StringLike: { "s3:prefix": [`curated/csv/${feed.name}/*`] } },
        ]);
        const glue = s
          .filter((st) => list(st.Action).some((a) => a.startsWith("glue:")))
          .flatMap((st) => list(st.Resource));
        expect(
          glue
            .filter((r) => r.includes(":table/"))
            .map((r) => r.split("/").pop())
            .sort(),
        ).to.deep.equal([curatedTableName(feed.name), stagingTableName(feed.name)].sort());
        const athena = s
          .filter((st) => list(st.Action).some((a) => a.startsWith("athena:")))
          .flatMap((st) => list(st.Resource));
        expect(athena.map((r) => r.split("/").pop())).to.deep.equal([`${prefix(feed.cell)}-csv-${feed.name}`]);
      });

      it(`${feed.cell}/${feed.name}: the tables are the ones the load SQL names: Iceberg keyed on the feed key, staging projected per file`, () => {
        const iceberg = named(plan, GLUE_TABLE, `${logical}-table`);
        expect(iceberg.inputs.name).to.equal(curatedTableName(feed.name));
        const schema = (
          iceberg.inputs.openTableFormatInput as {
            icebergInput: {
              icebergTableInput: {
                schema: { identifierFieldIds: number[]; fields: { id: number; name: string; type: string }[] };
              };
            };
          }
        ).icebergInput.icebergTableInput.schema;
        const curated = feed.columns.filter((c) => !c.pii).map((c) => c.name.toLowerCase());
        expect(schema.fields.map((f) => f.name)).to.deep.equal([...curated, "_source_file", "_source_order"]);
        expect(schema.identifierFieldIds.map((id) => schema.fields.find((f) => f.id === id)!.name)).to.deep.equal(
          feed.key.map((k) => k.toLowerCase()),
        );
        const staging = named(plan, GLUE_TABLE, `${logical}-validated`);
        expect(staging.inputs.name).to.equal(stagingTableName(feed.name));
        expect(staging.inputs.parameters).to.deep.include({
          "projection.enabled": "true",
          "projection.file_id.type": "injected",
        });
        const location = (staging.inputs.storageDescriptor as { location: string }).location;
        expect(location).to.match(new RegExp(`^s3://${bucket("raw")}\\d+/csv/${feed.name}/validated/$`));
        expect((staging.inputs.parameters as Record<string, string>)["storage.location.template"]).to.equal(
          `${location}file_id=\${file_id}/`,
        );
        // The load's SQL names exactly these tables and the projected partition.
        const sql = mergeSql(feed, { staging: "s", curated: "c" }, "athena", {
          fileId: "0".repeat(32),
          sourceFile: "s3://l/k",
          order: `2026-01-01T00:00:00.000Z#${"0".repeat(32)}`,
        });
        expect(sql).to.include(`WHERE s."file_id" = '${"0".repeat(32)}'`);
        expect(duplicateKeysSql(feed, { staging: "s", curated: "c" }, "0".repeat(32))).to.include(
          "HAVING count(*) > 1",
        );
      });

      it(`${feed.cell}/${feed.name}: quarantines, lag, dropped arrivals, errors and dead letters alarm the cell's ingestion topic`, () => {
        const alarms = plan.resources.filter((r) => r.type === ALARM && r.name.startsWith(`${logical}-`));
        expect(alarms.map((a) => a.name.slice(logical.length + 1)).sort()).to.deep.equal([
          "dropped",
          "lag",
          "loader-dead-letters",
          "loader-errors",
          "quarantined",
        ]);
        const topics = new Set(alarms.flatMap((a) => a.inputs.alarmActions as string[]));
        expect([...topics]).to.have.length(1);
        expect([...topics][0]).to.match(new RegExp(`:${prefix(feed.cell)}-ingestion-alerts$`));
        const quarantined = alarms.find((a) => a.name.endsWith("-quarantined"))!;
        expect(quarantined.inputs).to.deep.include({
          namespace: "Lakehouse/CsvFeeds",
          metricName: "QuarantinedFiles",
          dimensions: { Feed: feed.name },
        });
        for (const a of alarms) expect(String(a.inputs.alarmDescription)).to.match(/runbook: [\w/.-]+README\.md/);
      });
    }
  });
}

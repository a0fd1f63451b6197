/**
 * The API sources as the dev and prod plans declare them: one puller per configured API, outside the VPC,
 * one run at a time, its cursor table, least-privilege roles, the schedules, the landing and curated
 * tables, the MERGE the tests run on DuckDB, and the alarms to the cell's ingestion topic.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import type { PlannedResource } from "../../../tools/plan/evaluate";
import type { Plan } from "../../../tools/plan/evaluate";
import { apiNames, athenaMerge } from "../../../components/aws/sources/api-plan";
import { parsePullerConfig } from "../../../functions/api-puller/config";
import { configOf, named, planOf } from "../../helpers/plan";

const FUNCTION = "aws:lambda/function:Function";
const TABLE = "aws:dynamodb/table:Table";
const POLICY = "aws:iam/rolePolicy:RolePolicy";
const SCHEDULE = "aws:scheduler/schedule:Schedule";
const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";
const GLUE_TABLE = "aws:glue/catalogTable:CatalogTable";

type Statement = { Sid: string; Action: string | string[]; Resource: string | string[]; Condition?: unknown };
const statements = (p: PlannedResource): Statement[] =>
  (JSON.parse(p.inputs.policy as string) as { Statement: Statement[] }).Statement;

for (const stack of ["dev", "prod"] as const) {
  describe(`API sources in the ${stack} plan`, () => {
    let plan: Plan;
    before(async () => {
      plan = await planOf(stack);
    });
    const config = configOf(stack);
    const prefix = (cell: string) => `lakehouse-${config.environment}-${cell}`;

    it("declares one puller per configured API, and none other", () => {
      const pullers = plan.resources.filter((r) => r.type === FUNCTION && /-api-/.test(String(r.inputs.name)));
      expect(pullers.map((f) => f.inputs.name).sort()).to.deep.equal(
        config.sources.apis.map((a) => `${prefix(a.cell)}-api-${a.name}`).sort(),
      );
    });

    for (const api of config.sources.apis) {
      const logical = `${api.cell}-sources-${api.name}`;
      const names = apiNames(prefix(api.cell), api);

      it(`${api.name}: the puller runs outside the VPC, one at a time, with names and ARNs only in its environment`, () => {
        const fn = named(plan, FUNCTION, `${logical}-puller`);
        expect(fn.inputs.vpcConfig).to.equal(undefined);
        expect(fn.inputs.reservedConcurrentExecutions).to.equal(1);
        expect(fn.inputs.timeout).to.equal(api.timeoutSeconds);
        const env = (fn.inputs.environment as { variables: Record<string, string> }).variables;
        expect(Object.keys(env)).to.deep.equal(["API_PULLER_CONFIG"]);
        const c = parsePullerConfig(env.API_PULLER_CONFIG);
        expect(c.url).to.equal(`${api.baseUrl}${api.path}`);
        expect(c.landing.prefix).to.equal(`api/${api.name}/`);
        expect(c.cursorTable).to.equal(`${names.id}-cursor`);
        const secret = named(plan, "aws:secretsmanager/secret:Secret", `${logical}-credentials`);
        expect(c.auth?.secretArn).to.equal(secret.outputs.arn);
        // The credential never reaches the function's configuration (state, console): only its secret's ARN.
        expect(env.API_PULLER_CONFIG).not.to.match(/password|replace-with/i);
      });

      it(`${api.name}: the cursor table is encrypted with the lake key, recoverable, protected in prod`, () => {
        const t = named(plan, TABLE, `${logical}-cursor`);
        expect(t.inputs.hashKey).to.equal("source");
        const sse = t.inputs.serverSideEncryption as { enabled: boolean; kmsKeyArn: string };
        expect(sse.enabled).to.equal(true);
        expect(sse.kmsKeyArn).to.match(/^arn:aws:kms:/);
        expect(t.inputs.pointInTimeRecovery).to.deep.equal({ enabled: true });
        expect(t.inputs.deletionProtectionEnabled).to.equal(config.protect);
      });

      it(`${api.name}: the puller may put landing objects under its prefix, use its cursor and read its own secret, nothing else`, () => {
        const s = statements(named(plan, POLICY, `${logical}-puller-role`));
        const own = s.filter((x) => !["OwnLogs", "DeadLetters", "DeadLettersKey", "EnvironmentKey"].includes(x.Sid));
        const byId = Object.fromEntries(own.map((x) => [x.Sid, x]));
        expect(Object.keys(byId).sort()).to.deep.equal([
          "ApiCredential",
          "Cursor",
          "CursorKey",
          "LandPages",
          "LandingKey",
          "SecretKey",
        ]);
        expect(byId.LandPages.Action).to.deep.equal(["s3:PutObject"]);
        expect(byId.LandPages.Resource).to.match(
          new RegExp(`^arn:aws:s3:::[a-z0-9-]+-landing-\\d+/api/${api.name}/\\*$`),
        );
        expect(byId.Cursor.Action).to.deep.equal(["dynamodb:GetItem", "dynamodb:PutItem"]);
        expect(byId.Cursor.Resource).to.equal(named(plan, TABLE, `${logical}-cursor`).outputs.arn);
        expect(byId.ApiCredential.Resource).to.equal(
          named(plan, "aws:secretsmanager/secret:Secret", `${logical}-credentials`).outputs.arn,
        );
        for (const k of ["LandingKey", "CursorKey", "SecretKey"])
          expect(byId[k].Condition).to.have.nested.property("StringEquals.kms:ViaService");
      });

      it(`${api.name}: the pull schedule invokes this function only, as a role that may do nothing else`, () => {
        const schedule = named(plan, SCHEDULE, `${logical}-pull`);
        const fn = named(plan, FUNCTION, `${logical}-puller`);
        const target = schedule.inputs.target as { arn: string; roleArn: string };
        expect(schedule.inputs.scheduleExpression).to.equal(api.schedule);
        expect(schedule.inputs.kmsKeyArn).to.match(/^arn:aws:kms:/);
        expect(target.arn).to.equal(fn.outputs.arn);
        const s = statements(named(plan, POLICY, `${logical}-invoker`));
        expect(s).to.deep.equal([
          { Sid: "InvokePuller", Effect: "Allow", Action: ["lambda:InvokeFunction"], Resource: fn.outputs.arn },
        ]);
        const role = named(plan, "aws:iam/role:Role", `${logical}-invoker`);
        expect(target.roleArn).to.equal(role.outputs.arn);
        expect(role.inputs.assumeRolePolicy).to.contain("scheduler.amazonaws.com");
      });

      it(`${api.name}: the landing table reads the gzip NDJSON pages by day; the curated table has the declared columns only`, () => {
        const landing = named(plan, GLUE_TABLE, `${logical}-landing-table`);
        expect(landing.inputs.name).to.equal(names.landingTable);
        const sd = landing.inputs.storageDescriptor as {
          location: string;
          serDeInfo: { serializationLibrary: string };
        };
        expect(sd.location).to.match(new RegExp(`^s3://[a-z0-9-]+-landing-\\d+/api/${api.name}/$`));
        expect(sd.serDeInfo.serializationLibrary).to.equal("org.openx.data.jsonserde.JsonSerDe");
        const params = landing.inputs.parameters as Record<string, string>;
        expect(params["storage.location.template"]).to.equal(`${sd.location}dt=\${dt}/`);
        const curated = named(plan, GLUE_TABLE, `${logical}-table`);
        const fields = (
          curated.inputs.openTableFormatInput as {
            icebergInput: { icebergTableInput: { schema: { fields: { name: string }[] } } };
          }
        ).icebergInput.icebergTableInput.schema.fields.map((f) => f.name);
        expect(fields).to.deep.equal([
          "record_id",
          "record_cursor",
          "source_object",
          ...api.columns.map((c) => c.name),
        ]);
      });

      it(`${api.name}: the MERGE schedule runs the tested MERGE in its own workgroup, after its grants and tables`, async () => {
        const schedule = named(plan, SCHEDULE, `${logical}-merge-schedule`);
        const input = JSON.parse((schedule.inputs.target as { input: string }).input) as {
          QueryString: string;
          WorkGroup: string;
        };
        const landing = named(plan, GLUE_TABLE, `${logical}-landing-table`);
        const curated = named(plan, GLUE_TABLE, `${logical}-table`);
        const expected = await new Promise<string>((resolve) =>
          athenaMerge(api, names, String(landing.inputs.databaseName), String(curated.inputs.databaseName)).apply(
            resolve,
          ),
        );
        expect(input.QueryString).to.equal(expected);
        expect(input.WorkGroup).to.equal(names.id);
        const deps = new Set(schedule.dependencies);
        for (const grant of ["raw-database", "landing-table", "curated-database", "curated-table"])
          expect(
            deps.has(named(plan, "aws:lakeformation/permissions:Permissions", `${logical}-merge-${grant}`).urn),
            grant,
          ).to.equal(true);
      });

      it(`${api.name}: errors, dead letters, pull lag and MERGE lag page the cell's ingestion topic; failed MERGEs too`, () => {
        const topic = named(plan, "aws:sns/topic:Topic", `${api.cell}-ingestion-alerts-topic`).outputs.arn;
        for (const suffix of ["puller-errors", "puller-dead-letters", "lag", "merge-lag"]) {
          const alarm = named(plan, ALARM, `${logical}-${suffix}`);
          expect(alarm.inputs.alarmActions, suffix).to.deep.equal([topic]);
        }
        const lag = named(plan, ALARM, `${logical}-lag`);
        expect(lag.inputs).to.include({
          namespace: "Lakehouse/ApiSources",
          metricName: "CaughtUp",
          treatMissingData: "breaching",
        });
        expect(lag.inputs.dimensions).to.deep.equal({ Source: api.name });
        const expectedLag = api.maxLagMinutes ?? 3 * Number(/^rate\((\d+) minutes\)$/.exec(api.schedule)![1]);
        expect(lag.inputs.period).to.equal(expectedLag * 60);
        // Each alarm names its runbook section, and the section exists.
        const readme = readFileSync(path.join(__dirname, "../../../functions/api-puller/README.md"), "utf8");
        for (const suffix of ["lag", "merge-lag"]) {
          const description = String(named(plan, ALARM, `${logical}-${suffix}`).inputs.alarmDescription);
          const section = /functions\/api-puller\/README\.md, "([^"]+)"/.exec(description)?.[1];
          expect(readme, `${suffix}: ${description}`).to.match(new RegExp(`^### ${section}\\b`, "m"));
        }
        const target = named(plan, "aws:cloudwatch/eventTarget:EventTarget", `${logical}-merge-failures`);
        expect(target.inputs.arn).to.equal(topic);
        const rule = named(plan, "aws:cloudwatch/eventRule:EventRule", `${logical}-merge-failures`);
        expect(JSON.parse(rule.inputs.eventPattern as string)).to.deep.equal({
          source: ["aws.athena"],
          "detail-type": ["Athena Query State Change"],
          detail: { currentState: ["FAILED"], workgroupName: [names.id] },
        });
      });
    }
  });
}

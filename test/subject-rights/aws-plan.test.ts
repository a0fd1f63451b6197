/**
 * The data-subject request machinery on AWS as the prod (and dev) plans declare it, per cell (issue 14,
 * "Done when: the prod plan holds intake, workers, suppression and audit store per cell"): an intake that
 * only the privacy officers' role can call, through an AWS_IAM function URL; a worker fed by the requests
 * table's stream with bounded retries and a dead-letter queue; the Object-Locked audit bucket; exports that
 * expire and that only the officers read; the suppression table; and roles that can do only their part.
 */
import { expect } from "chai";
import { EXPORT_EXPIRY_DAYS, inflateRegistry, SUPPRESSION_TABLE } from "../../functions/subject-rights/registry";
import { gcpWorkerStatements, type RightsAccessScope } from "../../components/aws/rights/rights-access";
import { WORKER_TABLE_PERMISSIONS } from "../../components/aws/rights/worker-wiring";
import type { Plan, PlannedResource } from "../../tools/plan/evaluate";
import { configOf, named, ofType, planOf } from "../helpers/plan";

const FUNCTION = "aws:lambda/function:Function";
const URL = "aws:lambda/functionUrl:FunctionUrl";
const PERMISSION = "aws:lambda/permission:Permission";
const MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping";
const TABLE = "aws:dynamodb/table:Table";
const BUCKET = "aws:s3/bucket:Bucket";
const POLICY = "aws:iam/rolePolicy:RolePolicy";
const ROLE = "aws:iam/role:Role";
const LF = "aws:lakeformation/permissions:Permissions";

type Statement = {
  Sid: string;
  Effect: string;
  Principal?: unknown;
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
};
const statementsOf = (r: PlannedResource, key = "policy"): Statement[] =>
  (JSON.parse(String(r.inputs[key])) as { Statement: Statement[] }).Statement;
const arr = (v: string | string[]): string[] => (Array.isArray(v) ? v : [v]);
const bySid = (s: Statement[]): Record<string, Statement> => Object.fromEntries(s.map((x) => [x.Sid, x]));
/** Statements every SourceFunction role has (its logs, dead letters, environment key). */
const BASE = ["OwnLogs", "DeadLetters", "DeadLettersKey", "EnvironmentKey"];
const own = (r: PlannedResource): Record<string, Statement> =>
  bySid(statementsOf(r).filter((s) => !BASE.includes(s.Sid)));
const joined = (plan: Plan, type: string, bucket: unknown): PlannedResource[] =>
  plan.resources.filter((r) => r.type === type && r.inputs.bucket === bucket);

for (const stack of ["prod", "dev"] as const) {
  describe(`data-subject requests on AWS in the ${stack} plan`, () => {
    let plan: Plan;
    before(async function () {
      this.timeout(600_000);
      plan = await planOf(stack);
    });
    const config = configOf(stack);

    for (const cell of config.cells) {
      const n = `${cell.name}-subject-rights`;
      const prefix = `lakehouse-${config.environment}-${cell.name}`;
      const account = cell.aws.accountId;
      const officersRole = `arn:aws:iam::${account}:role/${prefix}-privacy-officers`;
      const fn = (suffix: string) => named(plan, FUNCTION, `${n}-${suffix}`);

      it(`${cell.name}: the intake is reachable only through an AWS_IAM function URL, by the privacy officers' role`, () => {
        const intake = fn("intake");
        expect(intake.inputs.name).to.equal(`${prefix}-subject-rights-intake`);
        const url = named(plan, URL, `${n}-intake-url`);
        expect(url.inputs.authorizationType).to.equal("AWS_IAM");
        expect(url.inputs.functionName).to.equal(intake.outputs.name);
        const permissions = ofType(plan, PERMISSION, cell.name).filter(
          (p) => p.inputs.function === intake.outputs.name,
        );
        const role = named(plan, ROLE, `${n}-privacy-officers`);
        expect(role.inputs.name).to.equal(`${prefix}-privacy-officers`);
        expect(role.outputs.arn).to.equal(officersRole);
        expect(
          permissions.map((p) => ({
            principal: p.inputs.principal,
            action: p.inputs.action,
            auth: p.inputs.functionUrlAuthType,
            viaUrl: p.inputs.invokedViaFunctionUrl,
          })),
        ).to.have.deep.members([
          { principal: officersRole, action: "lambda:InvokeFunctionUrl", auth: "AWS_IAM", viaUrl: undefined },
          // Since October 2025 a function URL call also needs lambda:InvokeFunction; only through the URL.
          { principal: officersRole, action: "lambda:InvokeFunction", auth: undefined, viaUrl: true },
        ]);
        // The role is a persona role: its principals are the configured officers of this cell's account.
        const trust = statementsOf(role, "assumeRolePolicy");
        const expected = (config.personas.privacyOfficers?.awsPrincipals ?? []).filter((a) =>
          a.startsWith(`arn:aws:iam::${account}:`),
        );
        expect(trust.map((s) => s.Principal)).to.deep.equal([{ AWS: expected }]);
        expect(role.inputs.tags).to.deep.include({ persona: "privacy-officers" });
      });

      it(`${cell.name}: the intake's environment names its stores and the cell, never a secret value`, () => {
        const env = (fn("intake").inputs.environment as { variables: Record<string, string> }).variables;
        expect(Object.keys(env).sort()).to.deep.equal(
          ["AUDIT_BUCKET", "CELL", "JURISDICTION", "PSEUDONYMISATION_SECRET_ARN", "REQUESTS_TABLE"].sort(),
        );
        expect(env.CELL).to.equal(cell.name);
        expect(env.JURISDICTION).to.equal(cell.jurisdiction);
        expect(env.REQUESTS_TABLE).to.equal(`${prefix}-subject-requests`);
        expect(env.AUDIT_BUCKET).to.equal(`${prefix}-rights-audit-${account}`);
        expect(env.PSEUDONYMISATION_SECRET_ARN).to.match(/^arn:aws:secretsmanager:/);
      });

      it(`${cell.name}: the requests table holds pseudonyms under the lake key, recoverable, streaming new images`, () => {
        const t = named(plan, TABLE, `${n}-requests`);
        expect(t.inputs.name).to.equal(`${prefix}-subject-requests`);
        expect(t.inputs.hashKey).to.equal("requestId");
        expect(t.inputs.attributes).to.deep.equal([{ name: "requestId", type: "S" }]);
        const lakeKey = named(plan, "aws:kms/key:Key", `${cell.name}-aws-lake-key`).outputs.arn;
        expect(t.inputs.serverSideEncryption).to.deep.equal({ enabled: true, kmsKeyArn: lakeKey });
        expect(t.inputs.pointInTimeRecovery).to.deep.equal({ enabled: true });
        expect(t.inputs.streamEnabled).to.equal(true);
        expect(t.inputs.streamViewType).to.equal("NEW_IMAGE");
        expect(t.inputs.deletionProtectionEnabled).to.equal(config.protect);
      });

      it(`${cell.name}: the worker runs for each new request only, with bounded retries and a dead-letter queue`, () => {
        const worker = fn("worker");
        const m = named(plan, MAPPING, `${n}-worker-stream`);
        expect(m.inputs.functionName).to.equal(worker.outputs.arn);
        expect(m.propertyDependencies.eventSourceArn).to.include(named(plan, TABLE, `${n}-requests`).urn);
        expect(m.inputs.filterCriteria).to.deep.equal({ filters: [{ pattern: '{"eventName":["INSERT"]}' }] });
        expect(m.inputs.startingPosition).to.equal("TRIM_HORIZON");
        expect(m.inputs.batchSize).to.equal(1);
        expect(m.inputs.bisectBatchOnFunctionError).to.equal(true);
        expect(m.inputs.maximumRetryAttempts).to.equal(2);
        const dlq = named(plan, "aws:sqs/queue:Queue", `${n}-worker-dead-letters`);
        expect(m.inputs.destinationConfig).to.deep.equal({ onFailure: { destinationArn: dlq.outputs.arn } });
        expect(dlq.inputs.kmsMasterKeyId).to.match(/^arn:aws:kms:/);
        // The mapping waits for the worker's Lake Formation grants: no request is processed before it may query.
        const grants = ofType(plan, LF, cell.name).filter((g) => g.name.startsWith(`${n}-worker-lf-`));
        expect(grants.length).to.be.greaterThan(1);
        for (const g of grants) expect(m.dependencies).to.include(g.urn);
        const env = (worker.inputs.environment as { variables: Record<string, string> }).variables;
        expect(Object.keys(env).sort()).to.deep.equal(
          [
            "AUDIT_BUCKET",
            "CELL",
            "EXPORTS_BUCKET",
            "REGISTRY_DEFLATED",
            "REQUESTS_TABLE",
            "SUPPRESSION_DATABASE",
            "WORKGROUP",
          ].sort(),
        );
        expect(env.SUPPRESSION_DATABASE).to.equal(`${config.environment}_${cell.name}_curated`);
        expect(JSON.parse(inflateRegistry(env.REGISTRY_DEFLATED))).to.have.property("cell", cell.name);
        // Lambda refuses a function whose environment variables exceed 4 KB in all (a hard quota, "Lambda
        // quotas"); counted here as the JSON of the map, more than Lambda counts (names and values).
        expect(JSON.stringify(env).length, "worker environment size").to.be.at.most(4096);
      });

      it(`${cell.name}: the audit bucket is Object-Locked for the audit retention (COMPLIANCE when protected), under the logs key`, () => {
        const b = named(plan, BUCKET, `${n}-audit`);
        expect(b.inputs.bucket).to.equal(`${prefix}-rights-audit-${account}`);
        expect(b.inputs.objectLockEnabled).to.equal(true);
        expect(b.inputs.tags).to.deep.include({ "data-classification": "audit" });
        const [lock] = joined(
          plan,
          "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
          b.inputs.bucket,
        );
        expect(lock.inputs.rule).to.deep.equal({
          defaultRetention: { mode: config.protect ? "COMPLIANCE" : "GOVERNANCE", days: config.retention.audit },
        });
        if (stack === "prod") expect(config.protect).to.equal(true);
        const [sse] = joined(
          plan,
          "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
          b.inputs.bucket,
        );
        const logsKey = named(plan, "aws:kms/key:Key", `${cell.name}-aws-logs-key`).outputs.arn;
        expect(JSON.stringify(sse.inputs.rules)).to.include(String(logsKey));
      });

      it(`${cell.name}: exports expire after ${EXPORT_EXPIRY_DAYS} days and only the privacy officers' role may read them`, () => {
        const b = named(plan, BUCKET, `${n}-exports`);
        expect(b.inputs.bucket).to.equal(`${prefix}-rights-exports-${account}`);
        const [lifecycle] = joined(
          plan,
          "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
          b.inputs.bucket,
        );
        const [rule] = lifecycle.inputs.rules as {
          expiration: { days: number };
          noncurrentVersionExpiration: unknown;
        }[];
        expect(rule.expiration.days).to.equal(EXPORT_EXPIRY_DAYS);
        expect(rule.noncurrentVersionExpiration).to.deep.equal({ noncurrentDays: 1 });
        const [policy] = joined(plan, "aws:s3/bucketPolicy:BucketPolicy", b.inputs.bucket);
        const deny = bySid(statementsOf(policy)).OnlyPrivacyOfficersRead;
        expect(deny).to.deep.include({ Effect: "Deny", Principal: "*" });
        expect(deny.Condition).to.deep.equal({ ArnNotEquals: { "aws:PrincipalArn": officersRole } });
        const [pab] = joined(plan, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", b.inputs.bucket);
        expect(pab.inputs.restrictPublicBuckets).to.equal(true);
      });

      it(`${cell.name}: the suppression table is an Iceberg table of the curated database, maintained within the SLA`, () => {
        const t = named(plan, "aws:glue/catalogTable:CatalogTable", `${n}-suppression`);
        expect(t.inputs.name).to.equal(SUPPRESSION_TABLE);
        expect(t.inputs.databaseName).to.equal(`${config.environment}_${cell.name}_curated`);
        const input = (
          t.inputs.openTableFormatInput as { icebergInput: { icebergTableInput: Record<string, unknown> } }
        ).icebergInput.icebergTableInput;
        const fields = (input.schema as { fields: { name: string; type: string }[] }).fields;
        expect(fields.map((f) => [f.name, f.type])).to.deep.equal([
          ["pseudonym", "string"],
          ["request_id", "string"],
          ["suppressed_at", "timestamp"],
        ]);
        expect(String(input.location)).to.match(/-warehouse-\d{12}\/curated\/subject_rights\/subject_suppression\/$/);
        const optimizers = ofType(plan, "aws:glue/catalogTableOptimizer:CatalogTableOptimizer", cell.name).filter((o) =>
          o.name.startsWith(`${n}-suppression-`),
        );
        expect(optimizers.map((o) => o.inputs.type).sort()).to.deep.equal(
          ["compaction", "orphan_file_deletion", "retention"].sort(),
        );
      });

      it(`${cell.name}: the CDC merge schedules are created after the suppression table (the first run consults it)`, () => {
        const table = named(plan, "aws:glue/catalogTable:CatalogTable", `${n}-suppression`);
        const schedules = ofType(plan, "aws:glue/trigger:Trigger", cell.name).filter((t) =>
          String(t.inputs.name).startsWith(`${prefix}-cdc-merge-`),
        );
        expect(schedules, "a cell with transactional sources has merge schedules").to.not.be.empty;
        for (const t of schedules) {
          expect(t.inputs.startOnCreation, t.name).to.equal(true);
          expect(t.dependencies, t.name).to.include(table.urn);
        }
      });

      it(`${cell.name}: the intake may put and read requests, read the cell key and only create audit records`, () => {
        const s = own(named(plan, POLICY, `${n}-intake-role`));
        expect(Object.keys(s).sort()).to.deep.equal(
          [
            "AppendAuditRecords",
            "AuditKey",
            "PseudonymisationKey",
            "PseudonymisationKeyDecrypt",
            "RequestRecords",
            "RequestsTableKey",
          ].sort(),
        );
        expect(arr(s.RequestRecords.Action)).to.deep.equal(["dynamodb:PutItem", "dynamodb:GetItem"]);
        expect(s.RequestRecords.Resource).to.equal(named(plan, TABLE, `${n}-requests`).outputs.arn);
        expect(arr(s.AppendAuditRecords.Action)).to.deep.equal(["s3:PutObject"]);
        expect(s.AppendAuditRecords.Resource).to.equal(`arn:aws:s3:::${prefix}-rights-audit-${account}/requests/*`);
        expect(s.PseudonymisationKey.Action).to.deep.equal(["secretsmanager:GetSecretValue"]);
        expect(s.RequestsTableKey.Condition).to.deep.equal({
          StringEquals: { "kms:ViaService": `dynamodb.${cell.aws.region}.amazonaws.com` },
        });
      });

      it(`${cell.name}: the worker reaches the registered tables and the suppression table only, and never reads exports or rewrites audit`, () => {
        const s = own(named(plan, POLICY, `${n}-worker-role`));
        const actions = Object.values(s).flatMap((x) => arr(x.Action));
        for (const a of actions) expect(a, a).not.to.match(/\*|Delete(Table|Database|Bucket)|glue:Create|PutBucket/);
        expect(arr(s.WriteExports.Action)).to.deep.equal(["s3:PutObject", "s3:AbortMultipartUpload"]);
        expect(arr(s.AppendAuditRecords.Action)).to.deep.equal(["s3:PutObject"]);
        expect(arr(s.RequestsStream.Resource)).to.deep.equal([
          `${String(named(plan, TABLE, `${n}-requests`).outputs.arn)}/stream/*`,
        ]);
        const glue = arr(s.RegisteredTables.Resource);
        const db = `${config.environment}_${cell.name}_curated`;
        expect(glue).to.include(`arn:aws:glue:${cell.aws.region}:${account}:table/${db}/${SUPPRESSION_TABLE}`);
        expect(glue.filter((r) => r.endsWith("/*"))).to.deep.equal([]);
        // Lake Formation: the worker's role, DESCRIBE on the database, the four row permissions on each table.
        const role = named(plan, ROLE, `${n}-worker-role`).outputs.arn;
        const grants = ofType(plan, LF, cell.name).filter((g) => g.name.startsWith(`${n}-worker-lf-`));
        for (const g of grants) {
          expect(g.inputs.principal).to.equal(role);
          const table = g.inputs.table as { databaseName?: string; name?: string; wildcard?: boolean } | undefined;
          if (table) {
            expect(table.wildcard, g.name).to.equal(undefined);
            expect(g.inputs.permissions).to.deep.equal([...WORKER_TABLE_PERMISSIONS]);
            expect(glue).to.include(
              `arn:aws:glue:${cell.aws.region}:${account}:table/${table.databaseName}/${table.name}`,
            );
          } else {
            expect(g.inputs.permissions).to.deep.equal(["DESCRIBE"]);
          }
        }
        expect(
          grants.some((g) => (g.inputs.table as { name?: string } | undefined)?.name === SUPPRESSION_TABLE),
        ).to.equal(true);
      });

      it(`${cell.name}: the privacy officers may call the intake URL (AWS_IAM only) and read exports, nothing else`, () => {
        const s = bySid(statementsOf(named(plan, POLICY, `${n}-privacy-officers`)));
        expect(Object.keys(s).sort()).to.deep.equal(["CallIntake", "ExportsKey", "ListExports", "ReadExports"]);
        expect(s.CallIntake.Action).to.deep.equal(["lambda:InvokeFunctionUrl"]);
        expect(s.CallIntake.Resource).to.equal(fn("intake").outputs.arn);
        expect(s.CallIntake.Condition).to.deep.equal({ StringEquals: { "lambda:FunctionUrlAuthType": "AWS_IAM" } });
        expect(s.ReadExports.Resource).to.equal(`arn:aws:s3:::${prefix}-rights-exports-${account}/requests/*`);
      });
    }
  });
}

describe("the GCP worker's AWS role", () => {
  const scope: RightsAccessScope = {
    region: "eu-west-1",
    accountId: "222222222222",
    requestsTableArn: "arn:aws:dynamodb:eu-west-1:222222222222:table/t",
    auditBucketArn: "arn:aws:s3:::audit",
    exportsBucketArn: "arn:aws:s3:::exports",
    lakeKeyArn: "arn:aws:kms:eu-west-1:222222222222:key/lake",
    logsKeyArn: "arn:aws:kms:eu-west-1:222222222222:key/logs",
  };

  it("reads and updates requests and appends audit records, nothing else (no exports, no deletes)", () => {
    const s = bySid(gcpWorkerStatements(scope) as Statement[]);
    expect(Object.keys(s).sort()).to.deep.equal([
      "AppendAuditRecords",
      "AuditKey",
      "RequestRecords",
      "RequestsTableKey",
    ]);
    expect(s.RequestRecords.Action).to.deep.equal(["dynamodb:Scan", "dynamodb:GetItem", "dynamodb:UpdateItem"]);
    expect(s.RequestRecords.Resource).to.equal(scope.requestsTableArn);
    expect(s.AuditKey.Action).to.deep.equal(["kms:GenerateDataKey"]);
    expect(s.AuditKey.Condition).to.deep.equal({ StringEquals: { "kms:ViaService": "s3.eu-west-1.amazonaws.com" } });
  });
});

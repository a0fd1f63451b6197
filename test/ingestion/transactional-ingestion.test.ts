/**
 * Transactional ingestion on the recorded dev and prod plans: per cell, one DMS Serverless replication per
 * declared source with the right engine endpoint, TLS, Secrets Manager credentials and S3 Parquet target;
 * Iceberg tables with their optimizers; the Glue merge job and schedule; the private network; least privilege.
 */
import { expect } from "chai";
import { GLUE_JOB_DEFAULT_ARGUMENTS, GLUE_VERSION } from "../../functions/cdc-merge/cloud-config";
import { ICEBERG_TABLE_PROPERTIES } from "../../functions/cdc-merge/merge-sql";
import { DMS_DEFAULTS } from "../../functions/cdc-merge/spec";
import { deriveSizing, parseStackConfig, type LakehouseConfig } from "../../components/config";
import { curatedTableName, parsePartition, STRICTEST_SSL_MODE } from "../../components/aws/ingestion/plan-rules";
import type { Plan, PlannedResource } from "../../tools/plan/evaluate";
import { descendants, named, ofType, planOf } from "../helpers/plan";

const T = {
  ingestion: "lakehouse:aws:TransactionalIngestion",
  replication: "aws:dms/replicationConfig:ReplicationConfig",
  endpoint: "aws:dms/endpoint:Endpoint",
  s3Endpoint: "aws:dms/s3Endpoint:S3Endpoint",
  certificate: "aws:dms/certificate:Certificate",
  secret: "aws:secretsmanager/secret:Secret",
  secretVersion: "aws:secretsmanager/secretVersion:SecretVersion",
  key: "aws:kms/key:Key",
  table: "aws:glue/catalogTable:CatalogTable",
  optimizer: "aws:glue/catalogTableOptimizer:CatalogTableOptimizer",
  job: "aws:glue/job:Job",
  trigger: "aws:glue/trigger:Trigger",
  securityConfiguration: "aws:glue/securityConfiguration:SecurityConfiguration",
  subnet: "aws:ec2/subnet:Subnet",
  securityGroup: "aws:ec2/securityGroup:SecurityGroup",
  vpcEndpoint: "aws:ec2/vpcEndpoint:VpcEndpoint",
  flowLog: "aws:ec2/flowLog:FlowLog",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  topic: "aws:sns/topic:Topic",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  role: "aws:iam/role:Role",
  bucket: "aws:s3/bucket:Bucket",
  database: "aws:glue/catalogDatabase:CatalogDatabase",
} as const;

interface Ctx {
  plan: Plan;
  config: LakehouseConfig;
}

const byName = (rs: readonly PlannedResource[], name: string, type?: string): PlannedResource => {
  const found = rs.filter((r) => r.name === name && (type === undefined ? r.custom : r.type === type));
  if (found.length !== 1) throw new Error(`expected one ${name}, found ${found.length}`);
  return found[0];
};
/** The cell's transactional ingestion with the network and alert topic it shares with the cell's other sources. */
const sub = (ctx: Ctx, cell: string): PlannedResource[] =>
  [
    named(ctx.plan, T.ingestion, `${cell}-ingestion`),
    named(ctx.plan, "lakehouse:aws:IngestionNetwork", `${cell}-ingestion-network`),
    named(ctx.plan, "lakehouse:aws:IngestionAlerts", `${cell}-ingestion-alerts`),
  ].flatMap((c) => descendants(ctx.plan, c.urn));
/** ARN of the cell's pseudonymisation key in Secrets Manager. */
const keySecretArn = (ctx: Ctx, cell: string) =>
  named(ctx.plan, "aws:secretsmanager/secret:Secret", `${cell}-pseudonymisation-key-aws`).outputs.arn;
const lakeKeyArn = (ctx: Ctx, cell: string) => named(ctx.plan, T.key, `${cell}-aws-lake-key`).outputs.arn;
const parse = (v: unknown): any => (typeof v === "string" ? JSON.parse(v) : v);
const actionsOf = (s: { Action?: string | string[] }): string[] =>
  Array.isArray(s.Action) ? s.Action : s.Action ? [s.Action] : [];

for (const stack of ["dev", "prod"] as const) {
  describe(`transactional ingestion (${stack} plan)`, function () {
    const ctx = {} as Ctx;
    before(async function () {
      ctx.plan = await planOf(stack);
      ctx.config = parseStackConfig(ctx.plan.config, ctx.plan.stackFile);
    });

    it("declares one ingestion per cell that has transactional sources", function () {
      const cells = ctx.config.cells
        .filter((c) => ctx.config.sources.transactional.some((s) => s.cell === c.name))
        .map((c) => `${c.name}-ingestion`);
      expect(ofType(ctx.plan, T.ingestion).map((r) => r.name)).to.have.members(cells);
      expect(cells.length).to.be.greaterThan(0);
    });

    it("creates every ingestion resource through the cell's provider, in the cell's region", function () {
      for (const cell of ctx.config.cells) {
        const rs = sub(ctx, cell.name).filter((r) => r.custom);
        expect(rs.length).to.be.greaterThan(50);
        for (const r of rs) {
          expect(r.provider?.isDefault, `${r.type} ${r.name}`).to.equal(false);
          expect(r.provider?.name, `${r.type} ${r.name}`).to.equal(`${cell.name}-aws`);
          expect(r.provider?.region, `${r.type} ${r.name}`).to.equal(cell.aws.region);
        }
      }
    });

    describe("DMS", function () {
      it("has one full-load-and-CDC replication per declared source, sized by deriveSizing", function () {
        for (const cell of ctx.config.cells) {
          const sources = ctx.config.sources.transactional.filter((s) => s.cell === cell.name);
          const rs = sub(ctx, cell.name);
          const replications = rs.filter((r) => r.type === T.replication);
          expect(replications.map((r) => r.name)).to.have.members(
            sources.map((s) => `${cell.name}-ingestion-${s.name}-replication`),
          );
          const capacity = deriveSizing(ctx.config.scale, sources.length).dmsCapacity;
          for (const r of replications) {
            expect(r.inputs.replicationType).to.equal("full-load-and-cdc");
            const compute = r.inputs.computeConfig as Record<string, unknown>;
            expect(compute.minCapacityUnits).to.equal(capacity.min);
            expect(compute.maxCapacityUnits).to.equal(capacity.max);
            expect(compute.kmsKeyId).to.equal(lakeKeyArn(ctx, cell.name));
            expect(compute.multiAz).to.equal(stack === "prod");
            expect(compute.replicationSubnetGroupId).to.equal(`lakehouse-${stack}-${cell.name}-ingestion`);
            const sg = byName(rs, `${cell.name}-ingestion-network-dms`, T.securityGroup);
            expect(compute.vpcSecurityGroupIds).to.deep.equal([sg.id]);
          }
        }
      });

      it("connects to each source with its engine, the strictest TLS mode and its CA, credentials from Secrets Manager only", function () {
        for (const cell of ctx.config.cells) {
          const rs = sub(ctx, cell.name);
          for (const s of ctx.config.sources.transactional.filter((x) => x.cell === cell.name)) {
            const base = `${cell.name}-ingestion-${s.name}`;
            const endpoint = byName(rs, `${base}-source`, T.endpoint);
            const replication = byName(rs, `${base}-replication`, T.replication);
            const secret = byName(
              rs.filter((r) => r.type === T.secret),
              `${base}-credentials`,
            );
            const cert = byName(rs, `${base}-ca`, T.certificate);
            expect(replication.inputs.sourceEndpointArn).to.equal(endpoint.outputs.endpointArn);
            expect(endpoint.inputs.endpointType).to.equal("source");
            expect(endpoint.inputs.engineName).to.equal(s.engine);
            expect(endpoint.inputs.databaseName).to.equal(s.database);
            expect(endpoint.inputs.sslMode).to.equal(STRICTEST_SSL_MODE[s.engine]);
            expect(endpoint.inputs.sslMode).to.equal(s.engine === "oracle" ? "verify-ca" : "verify-full");
            expect(endpoint.inputs.certificateArn).to.equal(cert.outputs.certificateArn);
            expect(cert.inputs.certificatePem).to.equal(s.caCertificatePem);
            expect(endpoint.inputs.secretsManagerArn).to.equal(secret.outputs.arn);
            expect(endpoint.inputs.secretsManagerAccessRoleArn).to.match(/^arn:aws:iam::\d{12}:role\//);
            for (const plain of ["password", "username", "serverName", "port", "extraConnectionAttributes"]) {
              expect(endpoint.inputs, `${s.name} ${plain}`).not.to.have.property(plain);
            }
            expect(secret.inputs.kmsKeyId).to.equal(lakeKeyArn(ctx, cell.name));
            const version = rs.find((r) => r.type === T.secretVersion && r.inputs.secretId === secret.outputs.arn);
            const value = JSON.parse(String(version?.inputs.secretString));
            expect(value).to.include({
              host: s.host,
              port: s.port,
              username: ctx.config.sourceCredentials[s.credentials].username,
            });
          }
        }
      });

      it("lets each secret-access role read only its own secret", function () {
        for (const cell of ctx.config.cells) {
          const rs = sub(ctx, cell.name);
          for (const s of ctx.config.sources.transactional.filter((x) => x.cell === cell.name)) {
            const base = `${cell.name}-ingestion-${s.name}`;
            const secret = byName(
              rs.filter((r) => r.type === T.secret),
              `${base}-credentials`,
            );
            const policy = parse(
              byName(
                rs.filter((r) => r.type === T.rolePolicy),
                `${base}-secret-access`,
              ).inputs.policy,
            );
            const read = policy.Statement.find((st: any) => actionsOf(st).includes("secretsmanager:GetSecretValue"));
            expect(read.Resource).to.equal(secret.outputs.arn);
            const role = byName(
              rs.filter((r) => r.type === T.role),
              `${base}-secret-access`,
            );
            expect(parse(role.inputs.assumeRolePolicy).Statement[0].Principal.Service).to.equal(
              `dms.${cell.aws.region}.amazonaws.com`,
            );
          }
        }
      });

      it("writes Parquet 2.0 with SSE-KMS under the lake key into raw/cdc/<source>, with the merge's timestamp column", function () {
        for (const cell of ctx.config.cells) {
          const rs = sub(ctx, cell.name);
          const raw = named(ctx.plan, T.bucket, `${cell.name}-aws-raw`);
          for (const s of ctx.config.sources.transactional.filter((x) => x.cell === cell.name)) {
            const base = `${cell.name}-ingestion-${s.name}`;
            const target = byName(rs, `${base}-target`, T.s3Endpoint);
            expect(target.type).to.equal(T.s3Endpoint);
            expect(byName(rs, `${base}-replication`, T.replication).inputs.targetEndpointArn).to.equal(
              target.outputs.endpointArn,
            );
            expect(target.inputs).to.include({
              endpointType: "target",
              dataFormat: "parquet",
              parquetVersion: "parquet-2-0",
              encryptionMode: "SSE_KMS",
              timestampColumnName: DMS_DEFAULTS.timestampColumn,
              bucketName: raw.outputs.bucket,
              bucketFolder: `cdc/${s.name}`,
              cdcInsertsOnly: false,
              cdcInsertsAndUpdates: false,
            });
            expect(target.inputs.serverSideEncryptionKmsKeyId).to.equal(lakeKeyArn(ctx, cell.name));
            expect(target.inputs.preserveTransactions ?? false).to.equal(false);
            const policy = parse(
              byName(
                rs.filter((r) => r.type === T.rolePolicy),
                `${base}-target`,
              ).inputs.policy,
            );
            const write = policy.Statement.find((st: any) => actionsOf(st).includes("s3:PutObject"));
            expect(write.Resource).to.equal(`${raw.outputs.arn}/cdc/${s.name}/*`);
          }
        }
      });

      it("maps every configured table, drops excludeColumns and adds the change sequence", function () {
        for (const cell of ctx.config.cells) {
          const rs = sub(ctx, cell.name);
          for (const s of ctx.config.sources.transactional.filter((x) => x.cell === cell.name)) {
            const rules = JSON.parse(
              String(byName(rs, `${cell.name}-ingestion-${s.name}-replication`, T.replication).inputs.tableMappings),
            ).rules as any[];
            const ids = rules.map((r) => r["rule-id"]);
            expect(new Set(ids).size).to.equal(ids.length);
            const selections = rules.filter((r) => r["rule-type"] === "selection");
            expect(
              selections.map((r) => `${r["object-locator"]["schema-name"]}.${r["object-locator"]["table-name"]}`),
            ).to.have.members(s.tables.map((t) => `${t.schema}.${t.name}`));
            expect(selections.every((r) => r["rule-action"] === "include")).to.equal(true);
            for (const t of s.tables) {
              const on = (r: any) =>
                r["object-locator"]["schema-name"] === t.schema && r["object-locator"]["table-name"] === t.name;
              const removed = rules
                .filter((r) => on(r) && r["rule-action"] === "remove-column")
                .map((r) => r["object-locator"]["column-name"]);
              expect(removed).to.have.members(t.excludeColumns ?? []);
              const seq = rules.filter((r) => on(r) && r["rule-action"] === "add-column");
              expect(seq).to.have.length(1);
              expect(seq[0]).to.include({ value: DMS_DEFAULTS.changeSeqColumn, expression: "$AR_H_CHANGE_SEQ" });
            }
          }
          // The prod customers tables drop password_hash: make sure the stack really exercises the rule.
          if (stack === "prod")
            expect(
              JSON.stringify(rs.filter((r) => r.type === T.replication).map((r) => r.inputs.tableMappings)),
            ).to.include("password_hash");
        }
      });

      it("alarms on CDC latency at source and target into an SNS topic encrypted with a customer-managed key", function () {
        for (const cell of ctx.config.cells) {
          const rs = sub(ctx, cell.name);
          const topic = byName(rs, `${cell.name}-ingestion-alerts-topic`, T.topic);
          const alertsKey = byName(rs, `${cell.name}-ingestion-alerts-key`, T.key);
          expect(topic.inputs.kmsMasterKeyId).to.equal(alertsKey.outputs.arn);
          const keyPolicy = parse(alertsKey.inputs.policy);
          expect(keyPolicy.Statement.map((s: any) => s.Principal.Service).filter(Boolean)).to.include(
            "cloudwatch.amazonaws.com",
          );
          for (const s of ctx.config.sources.transactional.filter((x) => x.cell === cell.name)) {
            for (const metric of ["CDCLatencySource", "CDCLatencyTarget"]) {
              const alarm = byName(rs, `${cell.name}-ingestion-${s.name}-${metric.toLowerCase()}`, T.alarm);
              expect(alarm.inputs).to.include({
                namespace: "AWS/DMS",
                metricName: metric,
                comparisonOperator: "GreaterThanThreshold",
              });
              expect(alarm.inputs.alarmActions).to.deep.equal([topic.outputs.arn]);
            }
          }
        }
      });
    });

    describe("network", function () {
      it("is private: subnets in three AZs without public IPs, no internet or NAT gateway, no open ingress", function () {
        for (const cell of ctx.config.cells) {
          const rs = sub(ctx, cell.name);
          const subnets = rs.filter((r) => r.type === T.subnet);
          expect(subnets.map((s) => s.inputs.availabilityZone)).to.have.members(
            ["a", "b", "c"].map((z) => `${cell.aws.region}${z}`),
          );
          for (const s of subnets) expect(s.inputs.mapPublicIpOnLaunch).to.equal(false);
          for (const forbidden of ["internetGateway", "natGateway", "eip", "egressOnlyInternetGateway"]) {
            expect(rs.filter((r) => r.type.startsWith(`aws:ec2/${forbidden}:`))).to.have.length(0);
          }
          for (const sg of rs.filter((r) => r.type === T.securityGroup)) {
            for (const rule of (sg.inputs.ingress as any[]) ?? [])
              expect(rule.cidrBlocks ?? []).not.to.include("0.0.0.0/0");
            for (const rule of (sg.inputs.egress as any[]) ?? [])
              expect(rule.cidrBlocks ?? []).not.to.include("0.0.0.0/0");
          }
        }
      });

      it("opens DMS egress only to the sources' ports and HTTPS to the endpoints", function () {
        for (const cell of ctx.config.cells) {
          const rs = sub(ctx, cell.name);
          const ports = [
            ...new Set(ctx.config.sources.transactional.filter((s) => s.cell === cell.name).map((s) => s.port)),
          ];
          const dms = byName(rs, `${cell.name}-ingestion-network-dms`, T.securityGroup);
          const egress = dms.inputs.egress as any[];
          expect(egress.map((e) => e.fromPort)).to.have.members([...ports, 443, 443]);
          expect(dms.inputs.ingress).to.deep.equal([]);
        }
      });

      it("has the S3 gateway endpoint and the interface endpoints DMS Serverless needs", function () {
        for (const cell of ctx.config.cells) {
          const endpoints = sub(ctx, cell.name).filter((r) => r.type === T.vpcEndpoint);
          const services = Object.fromEntries(
            endpoints.map((e) => [String(e.inputs.serviceName).split(".").pop(), e.inputs.vpcEndpointType]),
          );
          expect(services).to.include({
            s3: "Gateway",
            secretsmanager: "Interface",
            kms: "Interface",
            sts: "Interface",
            logs: "Interface",
            monitoring: "Interface",
          });
          // Endpoint policies: named actions, this account's principals (and buckets, for S3) only.
          for (const e of endpoints) {
            const st = parse(e.inputs.policy).Statement[0];
            expect(actionsOf(st).length, String(e.name)).to.be.greaterThan(0);
            for (const a of actionsOf(st)) expect(a).not.to.match(/\*/);
            expect(st.Condition.StringEquals["aws:PrincipalAccount"]).to.equal(cell.aws.accountId);
            if (e.inputs.vpcEndpointType === "Gateway")
              expect(st.Condition.StringEquals["s3:ResourceAccount"]).to.equal(cell.aws.accountId);
          }
          for (const e of endpoints)
            expect(String(e.inputs.serviceName)).to.equal(
              `com.amazonaws.${cell.aws.region}.${String(e.inputs.serviceName).split(".").pop()}`,
            );
        }
      });

      it("sends flow logs to a KMS-encrypted log group kept retention.logs days", function () {
        for (const cell of ctx.config.cells) {
          const rs = sub(ctx, cell.name);
          const group = byName(
            rs.filter((r) => r.type === T.logGroup),
            `${cell.name}-ingestion-network-flow-logs`,
          );
          const flow = byName(
            rs.filter((r) => r.type === T.flowLog),
            `${cell.name}-ingestion-network-flow-logs`,
          );
          expect(flow.inputs.logDestination).to.equal(group.outputs.arn);
          expect(group.inputs.kmsKeyId).to.equal(named(ctx.plan, T.key, `${cell.name}-aws-logs-key`).outputs.arn);
          const logs = { ...ctx.config.retention, ...(cell.retention ?? {}) }.logs;
          expect(group.inputs.retentionInDays).to.equal(logs);
          for (const g of rs.filter((r) => r.type === T.logGroup)) {
            expect(g.inputs.kmsKeyId, g.name).to.be.a("string");
            expect(g.inputs.retentionInDays, g.name).to.equal(logs);
          }
        }
      });
    });

    describe("Iceberg and the merge", function () {
      it("registers one format-v2 Iceberg table per source table in the curated database, partitioned from config", function () {
        for (const cell of ctx.config.cells) {
          const rs = sub(ctx, cell.name);
          const curated = named(ctx.plan, T.database, `${cell.name}-aws-catalog-curated`);
          const warehouse = named(ctx.plan, T.bucket, `${cell.name}-aws-warehouse`);
          for (const s of ctx.config.sources.transactional.filter((x) => x.cell === cell.name)) {
            for (const t of s.tables) {
              const name = curatedTableName(s.name, t);
              const table = rs.find((r) => r.type === T.table && r.inputs.name === name);
              expect(table, name).to.not.equal(undefined);
              expect(table!.inputs.databaseName).to.equal(curated.outputs.name);
              const iceberg = (table!.inputs.openTableFormatInput as any).icebergInput;
              expect(iceberg).to.include({ metadataOperation: "CREATE", version: "2" });
              expect(iceberg.icebergTableInput.location).to.equal(
                `s3://${warehouse.outputs.bucket}/curated/${s.name}/${name}/`,
              );
              expect(iceberg.icebergTableInput.properties).to.deep.equal(ICEBERG_TABLE_PROPERTIES);
              const fields = iceberg.icebergTableInput.schema.fields as any[];
              const names = fields.map((f) => f.name);
              expect(names).to.include.members([
                ...t.keys.map((k) => k.toLowerCase()),
                "_cdc_watermark",
                "_cdc_source_file",
              ]);
              // Direct identifiers and excluded columns never reach the curated zone.
              const dropped = [...(t.piiColumns ?? []), ...(t.excludeColumns ?? [])].map((c) => c.toLowerCase());
              expect(names.filter((n) => dropped.includes(n))).to.deep.equal([]);
              const declared = (t.columns ?? []).filter((c) => !dropped.includes(c.name.toLowerCase()));
              expect(names.slice(0, declared.length)).to.deep.equal(declared.map((c) => c.name.toLowerCase()));
              for (const c of declared)
                expect(fields.find((f) => f.name === c.name.toLowerCase()).type).to.equal(c.type);
              for (const f of fields)
                expect(f.required, f.name).to.equal(t.keys.map((k) => k.toLowerCase()).includes(f.name));
              for (const meta of ["op", DMS_DEFAULTS.timestampColumn, DMS_DEFAULTS.changeSeqColumn])
                expect(names).not.to.include(meta);
              const spec = iceberg.icebergTableInput.partitionSpec.fields as any[];
              expect(spec.map((f) => f.transform)).to.deep.equal(
                (t.partitionBy ?? []).map((p) => parsePartition(p).transform),
              );
              for (const f of spec)
                expect(fields.find((x) => x.id === f.sourceId)?.name).to.equal(
                  parsePartition((t.partitionBy ?? [])[spec.indexOf(f)]).column.toLowerCase(),
                );
            }
          }
          // The merge's tombstone and ledger tables are declared too (so they get maintenance), as siblings.
          for (const s of ctx.config.sources.transactional.filter((x) => x.cell === cell.name)) {
            for (const t of s.tables) {
              const name = curatedTableName(s.name, t);
              for (const [suffix, want] of [
                ["__cdc_tombstones", [...t.keys.map((k) => k.toLowerCase()), "_cdc_watermark"]],
                ["__cdc_ledger", ["file_path", "max_watermark", "row_count", "applied_at"]],
              ] as const) {
                const table = rs.find((r) => r.type === T.table && r.inputs.name === `${name}${suffix}`);
                expect(table, `${name}${suffix}`).to.not.equal(undefined);
                const input = (table!.inputs.openTableFormatInput as any).icebergInput.icebergTableInput;
                expect(input.schema.fields.map((f: any) => f.name)).to.deep.equal(want);
                expect(input.location).to.equal(`s3://${warehouse.outputs.bucket}/curated/${s.name}/${name}${suffix}/`);
              }
            }
          }
          if (stack === "prod") {
            const orders = rs.find((r) => r.type === T.table && r.inputs.name === `orders_${cell.name}_orders`)!;
            expect(
              (orders.inputs.openTableFormatInput as any).icebergInput.icebergTableInput.partitionSpec.fields[0],
            ).to.include({ transform: "day", name: "created_at_day" });
          }
        }
      });

      it("maintains every table: compaction, snapshot expiry and orphan deletion within the erasure SLA", function () {
        for (const cell of ctx.config.cells) {
          const rs = sub(ctx, cell.name);
          const tables = rs.filter((r) => r.type === T.table);
          const optimizers = rs.filter((r) => r.type === T.optimizer);
          expect(optimizers).to.have.length(tables.length * 3);
          for (const table of tables) {
            const mine = optimizers.filter(
              (o) => o.inputs.tableName === table.inputs.name && o.inputs.databaseName === table.inputs.databaseName,
            );
            expect(mine.map((o) => o.inputs.type)).to.have.members(["compaction", "retention", "orphan_file_deletion"]);
            for (const o of mine) expect((o.inputs.configuration as any).enabled).to.equal(true);
            const retention = (mine.find((o) => o.inputs.type === "retention")!.inputs.configuration as any)
              .retentionConfiguration.icebergConfiguration;
            expect(retention.cleanExpiredFiles).to.equal(true);
            expect(retention.numberOfSnapshotsToRetain).to.be.at.least(1);
            expect(retention.snapshotRetentionPeriodInDays + retention.runRateInHours / 24).to.be.at.most(
              ctx.config.erasureSlaDays,
            );
            const orphan = (mine.find((o) => o.inputs.type === "orphan_file_deletion")!.inputs.configuration as any)
              .orphanFileDeletionConfiguration.icebergConfiguration;
            expect(orphan.orphanFileRetentionPeriodInDays).to.be.at.most(ctx.config.erasureSlaDays);
          }
        }
      });

      it("runs one Glue 5.0 job per table with the encrypted security configuration, scheduled per source", function () {
        for (const cell of ctx.config.cells) {
          const rs = sub(ctx, cell.name);
          const sources = ctx.config.sources.transactional.filter((x) => x.cell === cell.name);
          const jobs = rs.filter((r) => r.type === T.job);
          expect(jobs).to.have.length(sources.reduce((n, s) => n + s.tables.length, 0));
          const sec = byName(rs, `${cell.name}-ingestion-merge-security`, T.securityConfiguration);
          const enc = sec.inputs.encryptionConfiguration as any;
          expect(enc.s3Encryption[0] ?? enc.s3Encryption).to.include({
            s3EncryptionMode: "SSE-KMS",
            kmsKeyArn: lakeKeyArn(ctx, cell.name),
          });
          expect(enc.cloudwatchEncryption.cloudwatchEncryptionMode).to.equal("SSE-KMS");
          expect(enc.jobBookmarksEncryption.jobBookmarksEncryptionMode).to.equal("CSE-KMS");
          for (const job of jobs) {
            expect(job.inputs.glueVersion).to.equal(GLUE_VERSION);
            expect(job.inputs.securityConfiguration).to.equal(sec.outputs.name);
            expect(job.inputs.defaultArguments).to.include(GLUE_JOB_DEFAULT_ARGUMENTS);
            expect(job.inputs.defaultArguments).to.include({ "--job-bookmark-option": "job-bookmark-disable" });
            expect(String((job.inputs.defaultArguments as any)["--config_s3_uri"])).to.match(
              /^s3:\/\/.+\/_system\/glue\/cdc-merge\/config\/.+\.json$/,
            );
            expect((job.inputs.executionProperty as any).maxConcurrentRuns).to.equal(1);
            const prefix = String((job.inputs.defaultArguments as any)["--custom-logGroup-prefix"]);
            for (const stream of ["error", "output"]) {
              const group = rs.find((r) => r.type === T.logGroup && r.inputs.name === `${prefix}/${stream}`);
              expect(group, `${prefix}/${stream}`).to.not.equal(undefined);
            }
          }
          // The per-table config the job executes carries exactly the curated table's business columns.
          for (const src of sources) {
            for (const t of src.tables) {
              const name = curatedTableName(src.name, t);
              const object = rs.find(
                (r) =>
                  r.type === "aws:s3/bucketObjectv2:BucketObjectv2" &&
                  String(r.inputs.key).endsWith(`/config/${src.name}/${name}.json`),
              );
              const cfg = JSON.parse(String(object?.inputs.content));
              expect(cfg.table).to.equal(name);
              expect(cfg.names.table).to.equal(
                `glue_catalog.${named(ctx.plan, T.database, `${cell.name}-aws-catalog-curated`).outputs.name}.${name}`,
              );
              const table = rs.find((r) => r.type === T.table && r.inputs.name === name)!;
              const fields = (table.inputs.openTableFormatInput as any).icebergInput.icebergTableInput.schema
                .fields as any[];
              expect([...cfg.columns, ...cfg.pseudonymise.map((p: { as: string }) => p.as)]).to.deep.equal(
                fields.map((f) => f.name).filter((n: string) => !n.startsWith("_cdc_")),
              );
              // Pseudonymising tables read the cell key, and only they are given its ARN.
              const job = jobs.find(
                (j) => j.inputs.description === `CDC merge of ${src.name} ${t.schema}.${t.name} into Iceberg`,
              )!;
              const keyArg = (job.inputs.defaultArguments as any)["--pseudonymisation_secret_arn"];
              expect(cfg.pseudonymise).to.deep.equal(
                (t.pseudonymise ?? []).map((p) => ({ column: p.column.toLowerCase(), as: p.as.toLowerCase() })),
              );
              if (cfg.pseudonymise.length > 0) {
                expect(keyArg).to.equal(keySecretArn(ctx, cell.name));
              } else expect(keyArg).to.equal(undefined);
              expect(cfg.keyColumns).to.deep.equal(t.keys.map((k) => k.toLowerCase()));
              expect(cfg.timestampColumn).to.equal(DMS_DEFAULTS.timestampColumn);
              expect(cfg.changeSeqColumn).to.equal(DMS_DEFAULTS.changeSeqColumn);
            }
          }
          // The merge role may read the cell's pseudonymisation key, and no other secret.
          const mergePolicy = parse(byName(rs, `${cell.name}-ingestion-merge-role`, T.rolePolicy).inputs.policy);
          const keyReads = mergePolicy.Statement.filter((st: any) =>
            actionsOf(st).some((a) => a.startsWith("secretsmanager:")),
          );
          expect(keyReads.map((st: any) => [actionsOf(st), st.Resource])).to.deep.equal(
            sources.some((src) => src.tables.some((t) => (t.pseudonymise ?? []).length > 0))
              ? [[["secretsmanager:GetSecretValue"], keySecretArn(ctx, cell.name)]]
              : [],
          );
          const triggers = rs.filter((r) => r.type === T.trigger);
          expect(triggers).to.have.length(sources.length);
          for (const tr of triggers) {
            expect(tr.inputs.type).to.equal("SCHEDULED");
            expect(tr.inputs.schedule).to.match(/^cron\(/);
            expect(tr.inputs.startOnCreation).to.equal(true);
          }
          expect(triggers.flatMap((tr) => (tr.inputs.actions as any[]).map((a) => a.jobName))).to.have.members(
            jobs.map((j) => j.inputs.name),
          );
        }
      });
    });

    it("IAM policies of the ingestion allow named actions only", function () {
      for (const cell of ctx.config.cells) {
        const docs = sub(ctx, cell.name)
          .filter((r) => r.type === T.rolePolicy || r.type === T.key || r.type === "aws:sns/topicPolicy:TopicPolicy")
          .map((r) => [r.name, parse(r.inputs.policy)] as const);
        expect(docs.length).to.be.greaterThan(5);
        for (const [name, doc] of docs) {
          for (const st of doc.Statement) {
            if (st.Effect !== "Allow") continue;
            expect(st, name).not.to.have.property("NotAction");
            for (const a of actionsOf(st)) expect(a, name).not.to.match(/\*/);
          }
        }
      }
    });

    it("protects the new stateful resources when the stack is protected", function () {
      for (const cell of ctx.config.cells) {
        for (const r of sub(ctx, cell.name).filter(
          (x) => x.type === T.secret || x.type === T.table || x.type === T.replication,
        )) {
          expect(r.protect, r.name).to.equal(ctx.config.protect);
        }
      }
    });
  });
}

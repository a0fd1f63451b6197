/**
 * The scheduled CDC merge on Glue Spark: the job script and one JSON config per table (rendered by
 * functions/cdc-merge from the same spec the local replay tests), a Glue security configuration that
 * encrypts S3 output, logs and bookmarks with customer-managed keys, a least-privilege job role with its
 * Lake Formation grants, one Glue job per table and one scheduled trigger per source.
 *
 * Exactly-once: the merge is idempotent by construction (a change applies only if its watermark is
 * greater than the stored one; tombstones stop late resurrections; the ledger picks the files of the
 * next run), so a retried or overlapping run cannot double-apply. One job per table with
 * `maxConcurrentRuns: 1` additionally keeps two runs from racing on one table's Iceberg commits, and Glue
 * job bookmarks stay off because the ledger, not the bookmark, decides which files are new.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  GLUE_JOB_DEFAULT_ARGUMENTS,
  GLUE_JOB_SCRIPT,
  GLUE_VERSION,
  renderGlueJobConfig,
} from "../../../functions/cdc-merge/cloud-config";
import type { CdcTableSpec } from "../../../functions/cdc-merge/spec";
import type { TableConfig } from "../../config/schema";
import { classification } from "../../conventions";
import { rawPrefix } from "./plan-rules";
import { serviceTrustPolicy } from "../service-trust";

/** Where the job's script and configs live: the warehouse bucket has no age-based expiry (raw does). */
export const JOB_ARTIFACTS_PREFIX = "_system/glue/cdc-merge/";
/** Spark scratch space: in the raw bucket, whose lifecycle expires what a crashed run leaves behind. */
export const JOB_TEMP_PREFIX = "_tmp/glue/cdc-merge/";
/** The Spark catalog name glue_job.py registers for the Glue Data Catalog. */
export const SPARK_CATALOG = "glue_catalog";

export interface CdcMergeTable {
  readonly source: string;
  readonly table: TableConfig;
  /** The merge spec of the table (parsed once, by the ingestion that also names its Iceberg tables). */
  readonly spec: CdcTableSpec;
  /** Curated Glue table name. */
  readonly tableName: string;
  /** Waits for the Iceberg table (and its optimizers) to exist. */
  readonly ready: pulumi.Input<string>;
}

export interface CdcMergeJobsArgs {
  /** `lakehouse-<env>-<cell>`. */
  readonly namePrefix: string;
  readonly accountId: string;
  readonly region: string;
  readonly tables: readonly CdcMergeTable[];
  readonly curatedDatabaseName: pulumi.Input<string>;
  /**
   * The cell's pseudonymisation key in Secrets Manager, encrypted with the lake key. Jobs of tables that
   * pseudonymise a column read it (`--pseudonymisation_secret_arn`); only then may the role.
   */
  readonly pseudonymisationSecretArn: pulumi.Input<string>;
  readonly lakeKeyArn: pulumi.Input<string>;
  readonly logsKeyArn: pulumi.Input<string>;
  readonly rawBucketName: pulumi.Input<string>;
  readonly rawBucketArn: pulumi.Input<string>;
  readonly warehouseBucketName: pulumi.Input<string>;
  readonly warehouseBucketArn: pulumi.Input<string>;
  /** Glue schedule expression. @default "cron(0/15 * * * ? *)" (every 15 minutes) */
  readonly schedule?: string;
  /** G.1X workers per job. @default 2 */
  readonly workers?: number;
  readonly alertTopicArn: pulumi.Input<string>;
  /** Days job logs are kept (`retention.logs`). */
  readonly logRetentionDays: number;
}

export class CdcMergeJobs extends pulumi.ComponentResource {
  public readonly role: aws.iam.Role;
  public readonly securityConfiguration: aws.glue.SecurityConfiguration;
  public readonly jobs: readonly aws.glue.Job[];
  public readonly triggers: readonly aws.glue.Trigger[];

  constructor(name: string, args: CdcMergeJobsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:aws:CdcMergeJobs", name, args, opts);
    const child = { parent: this };
    const { accountId, region } = args;
    const glueArn = (r: string) => `arn:aws:glue:${region}:${accountId}:${r}`;

    this.securityConfiguration = new aws.glue.SecurityConfiguration(
      `${name}-security`,
      {
        name: `${args.namePrefix}-cdc-merge`,
        encryptionConfiguration: {
          s3Encryption: { s3EncryptionMode: "SSE-KMS", kmsKeyArn: args.lakeKeyArn },
          cloudwatchEncryption: { cloudwatchEncryptionMode: "SSE-KMS", kmsKeyArn: args.logsKeyArn },
          jobBookmarksEncryption: { jobBookmarksEncryptionMode: "CSE-KMS", kmsKeyArn: args.lakeKeyArn },
        },
      },
      child,
    );

    this.role = new aws.iam.Role(
      `${name}-role`,
      {
        description: "Glue CDC merge: reads raw DMS files, writes curated Iceberg tables",
        assumeRolePolicy: serviceTrustPolicy("glue.amazonaws.com", accountId),
      },
      child,
    );
    const db = pulumi.output(args.curatedDatabaseName);
    const pseudonymises = (t: CdcMergeTable): boolean => t.spec.pseudonymise.length > 0;
    const readsKey = args.tables.some(pseudonymises);
    const policy = new aws.iam.RolePolicy(
      `${name}-role`,
      {
        role: this.role.id,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "ReadRawCdc",
              Effect: "Allow",
              Action: ["s3:GetObject"],
              Resource: pulumi.interpolate`${args.rawBucketArn}/cdc/*`,
            },
            {
              Sid: "ListRawCdcAndTemp",
              Effect: "Allow",
              Action: ["s3:ListBucket"],
              Resource: args.rawBucketArn,
              Condition: { StringLike: { "s3:prefix": ["cdc/*", `${JOB_TEMP_PREFIX}*`] } },
            },
            {
              Sid: "SparkTemp",
              Effect: "Allow",
              Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
              Resource: pulumi.interpolate`${args.rawBucketArn}/${JOB_TEMP_PREFIX}*`,
            },
            {
              Sid: "ReadJobArtifacts",
              Effect: "Allow",
              Action: ["s3:GetObject"],
              Resource: pulumi.interpolate`${args.warehouseBucketArn}/${JOB_ARTIFACTS_PREFIX}*`,
            },
            {
              Sid: "WriteCuratedIceberg",
              Effect: "Allow",
              Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
              Resource: pulumi.interpolate`${args.warehouseBucketArn}/curated/*`,
            },
            {
              Sid: "ListCurated",
              Effect: "Allow",
              Action: ["s3:ListBucket"],
              Resource: args.warehouseBucketArn,
              Condition: { StringLike: { "s3:prefix": ["curated/*", `${JOB_ARTIFACTS_PREFIX}*`] } },
            },
            ...(readsKey
              ? [
                  {
                    // The HMAC key the job pseudonymises customer ids with (decrypted with the lake key).
                    Sid: "PseudonymisationKey",
                    Effect: "Allow",
                    Action: ["secretsmanager:GetSecretValue"],
                    Resource: args.pseudonymisationSecretArn,
                  },
                ]
              : []),
            {
              Sid: "LakeKey",
              Effect: "Allow",
              Action: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
              Resource: args.lakeKeyArn,
            },
            {
              Sid: "CuratedCatalog",
              Effect: "Allow",
              Action: ["glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:CreateTable", "glue:UpdateTable"],
              Resource: [
                glueArn("catalog"),
                pulumi.interpolate`${glueArn("database")}/${db}`,
                pulumi.interpolate`${glueArn("table")}/${db}/*`,
              ],
            },
            {
              // Lake Formation vends data access per request; the action has no resource-level scoping.
              Sid: "LakeFormationDataAccess",
              Effect: "Allow",
              Action: ["lakeformation:GetDataAccess"],
              Resource: "*",
            },
            {
              Sid: "JobLogs",
              Effect: "Allow",
              Action: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:AssociateKmsKey"],
              Resource: [`arn:aws:logs:${region}:${accountId}:log-group:/aws-glue/*`],
            },
            {
              Sid: "EncryptedLogs",
              Effect: "Allow",
              Action: ["kms:GenerateDataKey", "kms:Decrypt", "kms:Encrypt"],
              Resource: args.logsKeyArn,
            },
            {
              Sid: "JobMetrics",
              Effect: "Allow",
              Action: ["cloudwatch:PutMetricData"],
              Resource: "*",
              Condition: { StringEquals: { "cloudwatch:namespace": "Glue" } },
            },
          ],
        }),
      },
      child,
    );
    // Lake Formation governs the catalog (no IAMAllowedPrincipals): IAM alone does not open the tables.
    const lfDatabase = new aws.lakeformation.Permissions(
      `${name}-lf-database`,
      {
        principal: this.role.arn,
        permissions: ["DESCRIBE", "CREATE_TABLE"],
        database: { name: args.curatedDatabaseName },
      },
      child,
    );
    const lfTables = new aws.lakeformation.Permissions(
      `${name}-lf-tables`,
      {
        principal: this.role.arn,
        permissions: ["DESCRIBE", "SELECT", "INSERT", "DELETE", "ALTER"],
        table: { databaseName: args.curatedDatabaseName, wildcard: true },
      },
      child,
    );

    const artifacts = (key: string) =>
      pulumi.interpolate`s3://${args.warehouseBucketName}/${JOB_ARTIFACTS_PREFIX}${key}`;
    const script = new aws.s3.BucketObjectv2(
      `${name}-script`,
      {
        bucket: args.warehouseBucketName,
        key: `${JOB_ARTIFACTS_PREFIX}glue_job.py`,
        source: new pulumi.asset.FileAsset(GLUE_JOB_SCRIPT),
        contentType: "text/x-python",
        serverSideEncryption: "aws:kms",
        kmsKeyId: args.lakeKeyArn,
        tags: classification("none"),
      },
      child,
    );

    // Glue 5.0 writes driver/executor logs to `<--custom-logGroup-prefix>/error` and `/output` (Glue user
    // guide, "Logging for AWS Glue jobs"); declared here so they are KMS-encrypted and expire. The prefix
    // stays under /aws-glue/ where the role may write.
    const logPrefix = `/aws-glue/jobs/${args.namePrefix}-cdc-merge`;
    const logGroups = ["error", "output"].map(
      (stream) =>
        new aws.cloudwatch.LogGroup(
          `${name}-logs-${stream}`,
          {
            name: `${logPrefix}/${stream}`,
            kmsKeyId: args.logsKeyArn,
            retentionInDays: args.logRetentionDays,
            tags: classification("logs"),
          },
          child,
        ),
    );
    const workers = args.workers ?? 2;
    const schedule = args.schedule ?? "cron(0/15 * * * ? *)";
    const jobs: aws.glue.Job[] = [];
    const bySource = new Map<string, { job: aws.glue.Job; t: CdcMergeTable }[]>();
    for (const t of args.tables) {
      const configKey = `config/${t.source}/${t.tableName}.json`;
      const config = new aws.s3.BucketObjectv2(
        `${name}-${t.tableName.replace(/_/g, "-")}-config`,
        {
          bucket: args.warehouseBucketName,
          key: `${JOB_ARTIFACTS_PREFIX}${configKey}`,
          content: db.apply((database) =>
            JSON.stringify(renderGlueJobConfig(t.spec, { catalog: SPARK_CATALOG, database }), null, 2),
          ),
          contentType: "application/json",
          serverSideEncryption: "aws:kms",
          kmsKeyId: args.lakeKeyArn,
          tags: classification("none"),
        },
        child,
      );
      const job = new aws.glue.Job(
        `${name}-${t.tableName.replace(/_/g, "-")}`,
        {
          name: `${args.namePrefix}-cdc-merge-${t.tableName.replace(/_/g, "-")}`,
          description: `CDC merge of ${t.source} ${t.table.schema}.${t.table.name} into Iceberg`,
          roleArn: pulumi.all([this.role.arn, policy.id, lfDatabase.id, lfTables.id, t.ready]).apply(([arn]) => arn),
          glueVersion: GLUE_VERSION,
          command: {
            name: "glueetl",
            pythonVersion: "3",
            scriptLocation: pulumi.all([script.id, artifacts("glue_job.py")]).apply(([, uri]) => uri),
          },
          securityConfiguration: this.securityConfiguration.name,
          workerType: "G.1X",
          numberOfWorkers: workers,
          executionClass: "STANDARD",
          // Serialises commits per table; a schedule tick during a long run is skipped, not queued.
          executionProperty: { maxConcurrentRuns: 1 },
          maxRetries: 0,
          timeout: 60,
          defaultArguments: {
            ...GLUE_JOB_DEFAULT_ARGUMENTS,
            "--job-bookmark-option": "job-bookmark-disable",
            "--enable-glue-datacatalog": "true",
            "--TempDir": pulumi.interpolate`s3://${args.rawBucketName}/${JOB_TEMP_PREFIX}`,
            "--custom-logGroup-prefix": pulumi.all(logGroups.map((g) => g.name)).apply(() => logPrefix),
            "--config_s3_uri": pulumi.all([config.id, artifacts(configKey)]).apply(([, uri]) => uri),
            "--source_s3_prefix": pulumi.interpolate`s3://${args.rawBucketName}/${rawPrefix(t.source, t.table)}`,
            "--warehouse_s3_uri": pulumi.interpolate`s3://${args.warehouseBucketName}/curated/`,
            ...(pseudonymises(t) ? { "--pseudonymisation_secret_arn": args.pseudonymisationSecretArn } : {}),
          },
          tags: classification("curated"),
        },
        child,
      );
      jobs.push(job);
      const list = bySource.get(t.source) ?? [];
      list.push({ job, t });
      bySource.set(t.source, list);
    }
    this.jobs = jobs;
    this.triggers = [...bySource.entries()].map(
      ([source, list]) =>
        new aws.glue.Trigger(
          `${name}-${source}-schedule`,
          {
            name: `${args.namePrefix}-cdc-merge-${source}`,
            description: `CDC merge of ${source}, every table`,
            type: "SCHEDULED",
            schedule,
            startOnCreation: true,
            actions: list.map(({ job }) => ({ jobName: job.name })),
          },
          child,
        ),
    );

    // Failed, timed-out or stopped merge runs go to the alert topic.
    const failures = new aws.cloudwatch.EventRule(
      `${name}-failures`,
      {
        name: `${args.namePrefix}-cdc-merge-failures`,
        description: "CDC merge job runs that did not succeed",
        eventPattern: pulumi.jsonStringify({
          source: ["aws.glue"],
          "detail-type": ["Glue Job State Change"],
          detail: { jobName: jobs.map((j) => j.name), state: ["FAILED", "TIMEOUT", "ERROR", "STOPPED"] },
        }),
      },
      child,
    );
    new aws.cloudwatch.EventTarget(`${name}-failures`, { rule: failures.name, arn: args.alertTopicArn }, child);

    this.registerOutputs({ jobNames: jobs.map((j) => j.name) });
  }
}

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
import { ServiceRole } from "../iam/service-role";
import {
  glueTables,
  lakeFormationDataAccess,
  listPrefixes,
  LOGS_WRITE,
  putMetricData,
  readObjects,
  readSecret,
  readWriteObjects,
  useKey,
  writeLogsUnder,
  type Statement,
} from "../iam/statements";

/** Where the job's script and configs live: the warehouse bucket has no age-based expiry (raw does). */
export const JOB_ARTIFACTS_PREFIX = "_system/glue/cdc-merge/";
/** Spark scratch space: in the raw bucket, whose lifecycle expires what a crashed run leaves behind. */
export const JOB_TEMP_PREFIX = "_tmp/glue/cdc-merge/";
/** The Spark catalog name glue_job.py registers for the Glue Data Catalog. */
export const SPARK_CATALOG = "glue_catalog";

export interface CdcMergeTable {
  /** The source's name (`sources.transactional[].name`): one trigger per source. */
  readonly source: string;
  /** The table as configured. */
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
  readonly resourcePrefix: string;
  /** The cell's account (catalog and log-group ARNs). */
  readonly accountId: string;
  /** The cell's region (catalog and log-group ARNs). */
  readonly region: string;
  /** One job per table. */
  readonly tables: readonly CdcMergeTable[];
  /** The curated Glue database the tables live in. */
  readonly curatedDatabaseName: pulumi.Input<string>;
  /**
   * The cell's pseudonymisation key in Secrets Manager, encrypted with the lake key. Jobs of tables that
   * pseudonymise a column read it (`--pseudonymisation_secret_arn`); only then may the role.
   */
  readonly pseudonymisationSecretArn: pulumi.Input<string>;
  /** The lake key: data files, job artifacts, bookmarks. */
  readonly lakeKeyArn: pulumi.Input<string>;
  /** The logs key: the jobs' CloudWatch logs. */
  readonly logsKeyArn: pulumi.Input<string>;
  /** The raw bucket: CDC files to read (`cdc/`) and Spark scratch space. */
  readonly rawBucketName: pulumi.Input<string>;
  /** Its ARN, for the role's prefix-scoped policy. */
  readonly rawBucketArn: pulumi.Input<string>;
  /** The warehouse bucket: curated Iceberg files and the job's artifacts. */
  readonly warehouseBucketName: pulumi.Input<string>;
  /** Its ARN, for the role's prefix-scoped policy. */
  readonly warehouseBucketArn: pulumi.Input<string>;
  /** Glue schedule expression. @default "cron(0/15 * * * ? *)" (every 15 minutes) */
  readonly schedule?: string;
  /** G.1X workers per job. @default 2 */
  readonly workers?: number;
  /** Where failed runs are reported. */
  readonly alertTopicArn: pulumi.Input<string>;
  /**
   * A value of the suppression table (its id): the schedules are created once it exists, so the first run
   * finds the table the merge consults (the merge fails a run without it: `require_suppression_table`).
   * @default none (the schedules start on creation)
   */
  readonly suppressionTableReady?: pulumi.Input<string>;
  /** Days job logs are kept (`retention.logs`). */
  readonly logRetentionDays: number;
}

export class CdcMergeJobs extends pulumi.ComponentResource {
  public readonly role: ServiceRole;
  public readonly securityConfiguration: aws.glue.SecurityConfiguration;
  public readonly jobs: readonly aws.glue.Job[];
  public readonly triggers: readonly aws.glue.Trigger[];

  constructor(name: string, args: CdcMergeJobsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:aws:CdcMergeJobs", name, args, opts);
    const child = { parent: this };

    this.securityConfiguration = new aws.glue.SecurityConfiguration(
      `${name}-security`,
      {
        name: `${args.resourcePrefix}-cdc-merge`,
        encryptionConfiguration: {
          s3Encryption: { s3EncryptionMode: "SSE-KMS", kmsKeyArn: args.lakeKeyArn },
          cloudwatchEncryption: { cloudwatchEncryptionMode: "SSE-KMS", kmsKeyArn: args.logsKeyArn },
          jobBookmarksEncryption: { jobBookmarksEncryptionMode: "CSE-KMS", kmsKeyArn: args.lakeKeyArn },
        },
      },
      child,
    );

    this.role = new ServiceRole(
      `${name}-role`,
      {
        service: "glue.amazonaws.com",
        accountId: args.accountId,
        description: "Glue CDC merge: reads raw DMS files, writes curated Iceberg tables",
        statements: mergeRoleStatements(args),
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
    // A job runs as a role that holds its policy and both grants (and only once its tables exist).
    const roleArn = (t: CdcMergeTable) =>
      pulumi.all([this.role.arn, lfDatabase.id, lfTables.id, t.ready]).apply(([arn]) => arn);

    this.jobs = this.createJobs(name, args, roleArn);
    this.triggers = this.createTriggers(name, args);
    this.alertOnFailures(name, args);
    this.registerOutputs({ jobNames: this.jobs.map((j) => j.name) });
  }

  /** The script, per table its config object and Glue job, and the log groups the jobs write to. */
  private createJobs(
    name: string,
    args: CdcMergeJobsArgs,
    roleArn: (t: CdcMergeTable) => pulumi.Output<string>,
  ): aws.glue.Job[] {
    const child = { parent: this };
    const db = pulumi.output(args.curatedDatabaseName);
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
    const logPrefix = `/aws-glue/jobs/${args.resourcePrefix}-cdc-merge`;
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
    return args.tables.map((t) => {
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
      return new aws.glue.Job(
        `${name}-${t.tableName.replace(/_/g, "-")}`,
        {
          name: `${args.resourcePrefix}-cdc-merge-${t.tableName.replace(/_/g, "-")}`,
          description: `CDC merge of ${t.source} ${t.table.schema}.${t.table.name} into Iceberg`,
          roleArn: roleArn(t),
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
    });
  }

  /** One scheduled trigger per source, starting the jobs of all its tables. */
  private createTriggers(name: string, args: CdcMergeJobsArgs): aws.glue.Trigger[] {
    const schedule = args.schedule ?? "cron(0/15 * * * ? *)";
    const bySource = new Map<string, aws.glue.Job[]>();
    args.tables.forEach((t, i) => bySource.set(t.source, [...(bySource.get(t.source) ?? []), this.jobs[i]]));
    return [...bySource.entries()].map(
      ([source, jobs]) =>
        new aws.glue.Trigger(
          `${name}-${source}-schedule`,
          {
            name: `${args.resourcePrefix}-cdc-merge-${source}`,
            // Carries the suppression table as a dependency (an output's resources become the trigger's
            // dependencies): `startOnCreation` must not start a run before the table exists.
            description: pulumi
              .output(args.suppressionTableReady ?? "")
              .apply(() => `CDC merge of ${source}, every table`),
            type: "SCHEDULED",
            schedule,
            startOnCreation: true,
            actions: jobs.map((job) => ({ jobName: job.name })),
          },
          { parent: this },
        ),
    );
  }

  /** Failed, timed-out or stopped merge runs go to the alert topic. */
  private alertOnFailures(name: string, args: CdcMergeJobsArgs): void {
    const failures = new aws.cloudwatch.EventRule(
      `${name}-failures`,
      {
        name: `${args.resourcePrefix}-cdc-merge-failures`,
        description: "CDC merge job runs that did not succeed",
        eventPattern: pulumi.jsonStringify({
          source: ["aws.glue"],
          "detail-type": ["Glue Job State Change"],
          detail: { jobName: this.jobs.map((j) => j.name), state: ["FAILED", "TIMEOUT", "ERROR", "STOPPED"] },
        }),
      },
      { parent: this },
    );
    new aws.cloudwatch.EventTarget(
      `${name}-failures`,
      { rule: failures.name, arn: args.alertTopicArn },
      { parent: this },
    );
  }
}

const pseudonymises = (t: CdcMergeTable): boolean => t.spec.pseudonymise.length > 0;

/**
 * The merge role's policy: read raw CDC files, use the Spark scratch prefix, read the job's artifacts,
 * read and write the curated Iceberg tables (files and catalog), the pseudonymisation key only when some
 * table pseudonymises, and write its logs and `Glue` metrics.
 */
export function mergeRoleStatements(args: CdcMergeJobsArgs): Statement[] {
  const scope = { region: args.region, accountId: args.accountId };
  return [
    readObjects("ReadRawCdc", args.rawBucketArn, "cdc/"),
    listPrefixes("ListRawCdcAndTemp", args.rawBucketArn, ["cdc/", JOB_TEMP_PREFIX]),
    readWriteObjects("SparkTemp", args.rawBucketArn, JOB_TEMP_PREFIX),
    readObjects("ReadJobArtifacts", args.warehouseBucketArn, JOB_ARTIFACTS_PREFIX),
    readWriteObjects("WriteCuratedIceberg", args.warehouseBucketArn, "curated/"),
    listPrefixes("ListCurated", args.warehouseBucketArn, ["curated/", JOB_ARTIFACTS_PREFIX]),
    // The HMAC key the job pseudonymises customer ids with (decrypted with the lake key).
    ...(args.tables.some(pseudonymises) ? [readSecret("PseudonymisationKey", args.pseudonymisationSecretArn)] : []),
    useKey("LakeKey", args.lakeKeyArn),
    glueTables(
      "CuratedCatalog",
      ["glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:CreateTable", "glue:UpdateTable"],
      scope,
      args.curatedDatabaseName,
    ),
    lakeFormationDataAccess(),
    writeLogsUnder("JobLogs", scope, ["/aws-glue/"], [...LOGS_WRITE, "logs:AssociateKmsKey"]),
    useKey("EncryptedLogs", args.logsKeyArn, ["kms:GenerateDataKey", "kms:Decrypt", "kms:Encrypt"]),
    putMetricData("JobMetrics", "Glue"),
  ];
}

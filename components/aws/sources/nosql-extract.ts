/**
 * The scheduled extraction of one NoSQL source (Cassandra, Elasticsearch/OpenSearch) into Iceberg tables of
 * the cell's curated database, on Glue 5.0 Spark inside the cell's private ingestion VPC: the job's
 * security group, its curated tables (with optimizers sized from the erasure SLA), its security
 * configuration, a least-privilege role, the job, its schedule, and alarms on failed runs and on lag.
 *
 * The per-kind parts (the credentials secret, the Glue connection, the job config) are made by
 * `CassandraExtract` and `ElasticsearchExtract` (./cassandra-extract.ts, ./elasticsearch-extract.ts),
 * which hand this component plain data. Semantics and runbook: functions/nosql-extract/README.md.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  NOSQL_CORE_MODULE,
  NOSQL_JOB_SCRIPT,
  NOSQL_METRIC_NAMESPACE,
  NOSQL_STATE_PREFIX,
  NOSQL_TEMP_PREFIX,
} from "../../../functions/nosql-extract/cloud-config";
import { GLUE_VERSION } from "../../../functions/cdc-merge/cloud-config";
import { cronLongestGapDays } from "../../../policy/rules/retention";
import { classification } from "../../conventions";
import { IcebergTable, maintenanceForSla } from "../ingestion/iceberg-table";
import type { IcebergColumn } from "../ingestion/plan-rules";
import { ServiceRole } from "../iam/service-role";
import { TableOptimizerRole } from "../iam/table-optimizer-role";
import type { AwsSourceContext } from "./context";
import { artifact, extractRoleStatements, jobSecurityGroup, placement } from "./nosql-extract-parts";

/** The Spark catalog name nosql_job.py registers for the Glue Data Catalog. */
export const NOSQL_SPARK_CATALOG = "glue_catalog";

export interface NoSqlTable {
  /** Curated Glue table name (`<source>_<table>`). */
  readonly glueTable: string;
  /** What it holds (the Glue description). */
  readonly description: string;
  /** Its schema, extraction columns included (`curatedColumns`). */
  readonly columns: readonly IcebergColumn[];
}

export interface NoSqlExtractJobArgs {
  /** What the source lands into and reports to. */
  readonly context: AwsSourceContext;
  /** `cassandra` or `elasticsearch`: names and descriptions. */
  readonly kind: "cassandra" | "elasticsearch";
  /** The source's config name. */
  readonly source: string;
  /** Glue cron of the runs. */
  readonly schedule: string;
  /** G.1X workers. */
  readonly workers: number;
  /** Schedule the job (the VPC reaches the source). Unscheduled jobs get no trigger and no lag alarm. */
  readonly scheduled: boolean;
  /** TCP ports of the source the job's security group may reach. */
  readonly sourcePorts: readonly number[];
  /** The curated tables the job merges into. */
  readonly tables: readonly NoSqlTable[];
  /** The job config document (`renderCassandraConfig`/`renderElasticsearchConfig`), as JSON. */
  readonly configJson: pulumi.Input<string>;
  /** The source's credentials secret (lake key): the job (or its connection) reads it. */
  readonly secretArn: pulumi.Input<string>;
  /** Pass the secret to the job as `--secret_arn` (Cassandra; the OpenSearch connection reads it itself). */
  readonly secretArgument: boolean;
  /**
   * The source's Glue connection, placed in a private subnet of the ingestion VPC with the job's security
   * group: `NETWORK` (VPC placement only) or `OPENSEARCH` (Glue's native connector; its `SparkProperties`
   * name the secret).
   */
  readonly connection: {
    readonly type: "NETWORK" | "OPENSEARCH";
    /** `connectionProperties`. @default {} */
    readonly properties?: Readonly<Record<string, pulumi.Input<string>>>;
  };
  /** Extra JARs on the job's classpath, as local files uploaded next to the script. @default [] */
  readonly extraJars?: readonly string[];
}

export class NoSqlExtractJob extends pulumi.ComponentResource {
  public readonly securityGroup: aws.ec2.SecurityGroup;
  public readonly connection: aws.glue.Connection;
  public readonly tables: Readonly<Record<string, IcebergTable>>;
  public readonly job: aws.glue.Job;
  public readonly trigger: aws.glue.Trigger | undefined;
  public readonly jobName: pulumi.Output<string>;

  constructor(name: string, args: NoSqlExtractJobArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:aws:NoSqlExtractJob", name, {}, opts);
    const child = { parent: this };
    const ctx = args.context;
    const id = `${ctx.resourcePrefix}-${args.kind}-${args.source}`;
    const network = ctx.network();
    this.securityGroup = jobSecurityGroup(`${name}-sg`, id, network, args.sourcePorts, child);
    const at = placement(network, id);
    this.connection = new aws.glue.Connection(
      `${name}-connection`,
      {
        name: id,
        description: `${args.kind} source ${args.source}, from a private subnet of the ingestion VPC`,
        connectionType: args.connection.type,
        connectionProperties: { ...(args.connection.properties ?? {}) },
        physicalConnectionRequirements: {
          subnetId: at.subnetId,
          availabilityZone: at.availabilityZone,
          securityGroupIdLists: [this.securityGroup.id],
        },
        tags: classification("none"),
      },
      child,
    );

    // Table optimizers of this source's tables only (Glue user guide, "Table optimization prerequisites").
    const prefix = `curated/${args.source}/`;
    const optimizer = new TableOptimizerRole(
      `${name}-optimizer`,
      {
        accountId: ctx.accountId,
        region: ctx.region,
        description: `Glue table optimizers of the ${args.kind} source ${args.source}`,
        warehouseBucketArn: ctx.warehouse.arn,
        prefix,
        lakeKeyArn: ctx.lakeKeyArn,
        databaseName: ctx.curatedDatabaseName,
        tables: args.tables.map((t) => t.glueTable),
        sidLabel: "Source",
      },
      child,
    );
    const warehouse = pulumi.all([ctx.warehouse.name, ctx.warehouse.ready]).apply(([b]) => b);
    const maintenance = maintenanceForSla(ctx.erasureSlaDays);
    this.tables = Object.fromEntries(
      args.tables.map((t) => [
        t.glueTable,
        new IcebergTable(
          `${name}-${t.glueTable.replace(/_+/g, "-")}`,
          {
            accountId: ctx.accountId,
            databaseName: ctx.curatedDatabaseName,
            tableName: t.glueTable,
            columns: t.columns,
            description: t.description,
            location: pulumi.interpolate`s3://${warehouse}/${prefix}${t.glueTable}/`,
            optimizerRoleArn: optimizer.arn,
            maintenance,
            personalData: ctx.personalData,
          },
          child,
        ),
      ]),
    );

    const security = new aws.glue.SecurityConfiguration(
      `${name}-security`,
      {
        name: id,
        encryptionConfiguration: {
          s3Encryption: { s3EncryptionMode: "SSE-KMS", kmsKeyArn: ctx.lakeKeyArn },
          cloudwatchEncryption: { cloudwatchEncryptionMode: "SSE-KMS", kmsKeyArn: ctx.logsKeyArn },
          jobBookmarksEncryption: { jobBookmarksEncryptionMode: "CSE-KMS", kmsKeyArn: ctx.lakeKeyArn },
        },
      },
      child,
    );
    this.job = this.createJob(name, id, args, security);
    this.jobName = this.job.name;
    this.trigger = args.scheduled
      ? new aws.glue.Trigger(
          `${name}-schedule`,
          {
            name: id,
            description: `Extraction of ${args.kind} source ${args.source} into Iceberg`,
            type: "SCHEDULED",
            schedule: args.schedule,
            startOnCreation: true,
            actions: [{ jobName: this.job.name }],
          },
          child,
        )
      : undefined;
    this.alarms(name, id, args);
    this.registerOutputs({ jobName: this.jobName, tables: Object.keys(this.tables) });
  }

  /** The artifacts, the role (and its Lake Formation grants), the log groups and the job. */
  private createJob(
    name: string,
    id: string,
    args: NoSqlExtractJobArgs,
    security: aws.glue.SecurityConfiguration,
  ): aws.glue.Job {
    const child = { parent: this };
    const ctx = args.context;
    const script = artifact(`${name}-script`, ctx, "nosql_job.py", new pulumi.asset.FileAsset(NOSQL_JOB_SCRIPT), child);
    const core = artifact(`${name}-core`, ctx, "extract_core.py", new pulumi.asset.FileAsset(NOSQL_CORE_MODULE), child);
    const config = artifact(`${name}-config`, ctx, `config/${args.source}.json`, args.configJson, child);
    const jars = (args.extraJars ?? []).map((file, i) =>
      artifact(`${name}-jar-${i}`, ctx, `jars/${file.split("/").pop()}`, new pulumi.asset.FileAsset(file), child),
    );
    const logPrefix = `/aws-glue/jobs/${id}`;
    const logGroups = ["error", "output"].map(
      (stream) =>
        new aws.cloudwatch.LogGroup(
          `${name}-logs-${stream}`,
          {
            name: `${logPrefix}/${stream}`,
            kmsKeyId: ctx.logsKeyArn,
            retentionInDays: ctx.retention.logs,
            tags: classification("logs"),
          },
          child,
        ),
    );
    const role = new ServiceRole(
      `${name}-role`,
      {
        service: "glue.amazonaws.com",
        accountId: ctx.accountId,
        description: `Glue extraction of the ${args.kind} source ${args.source} into its curated Iceberg tables`,
        statements: extractRoleStatements({
          context: ctx,
          source: args.source,
          logPrefix,
          tables: args.tables.map((t) => t.glueTable),
          secretArn: args.secretArn,
          connectionNames: [this.connection.name],
          subnetIds: ctx.network().subnetIds,
          securityGroupId: this.securityGroup.id,
        }),
      },
      child,
    );
    // Lake Formation governs the catalog: IAM alone does not open the tables. This source's tables only.
    const lfDatabase = new aws.lakeformation.Permissions(
      `${name}-lf-database`,
      { principal: role.arn, permissions: ["DESCRIBE"], database: { name: ctx.curatedDatabaseName } },
      child,
    );
    const lfTables = Object.values(this.tables).map(
      (t, i) =>
        new aws.lakeformation.Permissions(
          `${name}-lf-table-${i}`,
          {
            principal: role.arn,
            permissions: ["DESCRIBE", "SELECT", "INSERT", "DELETE", "ALTER"],
            table: { databaseName: ctx.curatedDatabaseName, name: t.name },
          },
          child,
        ),
    );
    // The job runs as a role that holds its policy and grants, once its tables (and optimizers) exist.
    const ready = Object.values(this.tables).flatMap((t) => Object.values(t.optimizers).map((o) => o.id));
    const roleArn = pulumi.all([role.arn, lfDatabase.id, ...lfTables.map((g) => g.id), ...ready]).apply(([arn]) => arn);
    const uri = (o: aws.s3.BucketObjectv2) => pulumi.interpolate`s3://${o.bucket}/${o.key}`;
    return new aws.glue.Job(
      `${name}-job`,
      {
        name: id,
        description: `Extraction of the ${args.kind} source ${args.source} into Iceberg (functions/nosql-extract)`,
        roleArn,
        glueVersion: GLUE_VERSION,
        command: { name: "glueetl", pythonVersion: "3", scriptLocation: uri(script) },
        securityConfiguration: security.name,
        connections: [this.connection.name],
        workerType: "G.1X",
        numberOfWorkers: args.workers,
        executionClass: "STANDARD",
        // One run at a time: two runs would race on the state and the tables' commits.
        executionProperty: { maxConcurrentRuns: 1 },
        maxRetries: 0,
        timeout: 240,
        defaultArguments: {
          "--datalake-formats": "iceberg",
          "--enable-metrics": "true",
          "--enable-continuous-cloudwatch-log": "true",
          "--job-language": "python",
          // The state objects, not Glue bookmarks, say what was read.
          "--job-bookmark-option": "job-bookmark-disable",
          "--enable-glue-datacatalog": "true",
          "--extra-py-files": uri(core),
          ...(jars.length > 0 ? { "--extra-jars": pulumi.all(jars.map(uri)).apply((u) => u.join(",")) } : {}),
          "--TempDir": pulumi.interpolate`s3://${ctx.raw.name}/${NOSQL_TEMP_PREFIX}${args.source}/`,
          "--custom-logGroup-prefix": pulumi.all(logGroups.map((g) => g.name)).apply(() => logPrefix),
          "--config_s3_uri": uri(config),
          "--state_s3_uri": pulumi.interpolate`s3://${ctx.warehouse.name}/${NOSQL_STATE_PREFIX}${args.source}/`,
          "--warehouse_s3_uri": pulumi.interpolate`s3://${ctx.warehouse.name}/curated/`,
          ...(args.secretArgument ? { "--secret_arn": args.secretArn } : {}),
        },
        tags: classification("curated"),
      },
      child,
    );
  }

  /** Failed runs (EventBridge) and, when scheduled, no successful run of a table in two schedule gaps. */
  private alarms(name: string, id: string, args: NoSqlExtractJobArgs): void {
    const ctx = args.context;
    const failures = new aws.cloudwatch.EventRule(
      `${name}-failures`,
      {
        name: `${id}-failures`,
        description: `Runs of the ${args.kind} extraction ${args.source} that did not succeed`,
        eventPattern: pulumi.jsonStringify({
          source: ["aws.glue"],
          "detail-type": ["Glue Job State Change"],
          detail: { jobName: [this.job.name], state: ["FAILED", "TIMEOUT", "ERROR", "STOPPED"] },
        }),
      },
      { parent: this },
    );
    new aws.cloudwatch.EventTarget(
      `${name}-failures`,
      { rule: failures.name, arn: ctx.alerts.topicArn },
      { parent: this },
    );
    if (!args.scheduled) return;
    // A run publishes RowsMerged per table after its commit (0 rows included). The window is two of the
    // schedule's longest gaps, in hours, capped by CloudWatch's 7-day evaluation limit (Period x
    // EvaluationPeriods <= 604,800 s: CloudWatch API reference, PutMetricAlarm).
    const gapDays = cronLongestGapDays(args.schedule) ?? 1;
    const hours = Math.min(168, Math.ceil(gapDays * 24 * 2));
    for (const t of args.tables) {
      new aws.cloudwatch.MetricAlarm(
        `${name}-${t.glueTable.replace(/_+/g, "-")}-lag`,
        {
          name: `${id}-${t.glueTable}-lag`,
          alarmDescription:
            `No successful extraction of ${t.glueTable} in ${hours} hours (two schedule gaps): the curated ` +
            `table is stale. Runbook: functions/nosql-extract/README.md#runbook`,
          namespace: NOSQL_METRIC_NAMESPACE,
          metricName: "RowsMerged",
          dimensions: { Source: args.source, Table: t.glueTable },
          statistic: "SampleCount",
          period: 3600,
          evaluationPeriods: hours,
          datapointsToAlarm: hours,
          threshold: 1,
          comparisonOperator: "LessThanThreshold",
          // No datapoint is no run: the alarm fires when nothing at all arrived in the window.
          treatMissingData: "breaching",
          alarmActions: [ctx.alerts.topicArn],
          okActions: [ctx.alerts.topicArn],
          tags: classification("logs"),
        },
        { parent: this },
      );
    }
  }
}

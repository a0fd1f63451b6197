/**
 * One external API into the lake: EventBridge Scheduler invokes the puller (functions/api-puller, a
 * SourceFunction) every `schedule`; it pages through what changed since its cursor (DynamoDB, lake key,
 * point-in-time recovery) and lands gzip NDJSON under `s3://<landing>/api/<name>/`; a second schedule
 * MERGEs the landed records on their id into the curated Iceberg table `api_<name>` with Athena, through a
 * Glue external table over the landing prefix. Alarms: the function's errors and dead letters
 * (SourceFunction), no caught-up pull within `maxLagMinutes`, failed MERGEs, no successful MERGE in three
 * MERGE intervals. Runbook: functions/api-puller/README.md.
 *
 * The function runs outside the cell's VPC: the API is on the internet and the ingestion VPC has no route
 * there (no NAT, by design: components/aws/ingestion/README.md). Lambda outside a VPC reaches the internet
 * and the AWS APIs over TLS; what it may do is bounded by its role (functions/api-puller/README.md, "Why
 * outside the VPC").
 */
import * as aws from "@pulumi/aws";
import { credentialSecret } from "../credential-secret";
import * as pulumi from "@pulumi/pulumi";
import type { ApiSource as ApiSourceConfig } from "../../config/schema";
import { classification } from "../../conventions";
import { athenaQuerySchedule } from "../../federation/athena-schedule";
import { AnalystWorkgroup } from "../analyst-workgroup";
import { ServiceRole } from "../iam/service-role";
import { allow } from "../iam/statements";
import { TableOptimizerRole } from "../iam/table-optimizer-role";
import { IcebergTable, maintenanceForSla } from "../ingestion/iceberg-table";
import { CURSOR_KEY, METRIC_DIMENSION, METRIC_NAMESPACE } from "../../../functions/api-puller/config";
import { curatedColumns } from "../../../functions/api-puller/merge-sql";
import {
  apiNames,
  apiTableSpec,
  athenaMerge,
  lagWindowSeconds,
  mergeLagSeconds,
  mergeStatements,
  pullerConfig,
  pullerStatements,
  type ApiNames,
} from "./api-plan";
import type { AwsSourceContext } from "./context";
import { SourceFunction } from "./source-function";

export interface ApiSourceArgs {
  /** What the source lands into and reports to (keys, buckets, databases, alerts, retention, protect). */
  readonly context: AwsSourceContext;
  /** One `lakehouse:sources.apis[]` entry; every setting's default is in components/config/schema.ts. */
  readonly source: ApiSourceConfig;
}

export class ApiSource extends pulumi.ComponentResource {
  public readonly puller: SourceFunction;
  public readonly cursors: aws.dynamodb.Table;
  public readonly secret: aws.secretsmanager.Secret | undefined;
  public readonly pullSchedule: aws.scheduler.Schedule;
  public readonly landingTable: aws.glue.CatalogTable;
  public readonly table: IcebergTable;
  public readonly mergeSchedule: aws.scheduler.Schedule;

  constructor(name: string, args: ApiSourceArgs, opts?: pulumi.ComponentResourceOptions) {
    // Args hold the credential (a secret Output): recorded as {} like SourceFunction, never in the state.
    super("lakehouse:aws:ApiSource", name, {}, opts);
    const { context, source } = args;
    const child = { parent: this };
    const names = apiNames(context.resourcePrefix, source);

    this.secret = source.credentials ? this.credentialSecret(name, args) : undefined;
    this.cursors = new aws.dynamodb.Table(
      `${name}-cursor`,
      {
        name: `${names.id}-cursor`,
        billingMode: "PAY_PER_REQUEST",
        hashKey: CURSOR_KEY,
        attributes: [{ name: CURSOR_KEY, type: "S" }],
        serverSideEncryption: { enabled: true, kmsKeyArn: context.lakeKeyArn },
        // The cursor is the one record of what landed: restorable to any second of the last 35 days.
        pointInTimeRecovery: { enabled: true },
        deletionProtectionEnabled: context.protect,
        tags: classification("raw"),
      },
      child,
    );
    this.puller = new SourceFunction(
      `${name}-puller`,
      {
        context,
        functionName: names.functionName,
        description: `Pulls ${source.baseUrl}${source.path} into the landing bucket`,
        entry: "functions/api-puller/index.ts",
        statements: pullerStatements(names, {
          region: context.region,
          landingBucketArn: context.landing.arn,
          lakeKeyArn: context.lakeKeyArn,
          cursorTableArn: this.cursors.arn,
          secretArn: this.secret?.arn,
        }),
        environment: {
          API_PULLER_CONFIG: pulumi.jsonStringify(
            pullerConfig(source, names, {
              landingBucket: pulumi.all([context.landing.name, context.landing.ready]).apply(([b]) => b),
              lakeKeyArn: context.lakeKeyArn,
              cursorTable: this.cursors.name,
              secretArn: this.secret?.arn,
            }),
          ),
        },
        timeoutSeconds: source.timeoutSeconds,
        memoryMb: 512,
        // One run at a time per API: a tick that finds a run going waits in Lambda's queue instead of racing it.
        reservedConcurrency: 1,
      },
      child,
    );
    this.pullSchedule = this.schedulePulls(name, args, names);
    ({ landing: this.landingTable, table: this.table } = this.tables(name, args, names));
    this.mergeSchedule = this.scheduleMerge(name, args, names);
    this.lagAlarm(name, args, names);
    this.registerOutputs({ function: this.puller.name, table: this.table.name });
  }

  /** The API's credential (`lakehouse:sourceCredentials`), in Secrets Manager under the lake key: read at run time only. */
  private credentialSecret(name: string, { context, source }: ApiSourceArgs): aws.secretsmanager.Secret {
    const cred = Object.hasOwn(context.credentials, source.credentials!)
      ? context.credentials[source.credentials!]
      : undefined;
    if (!cred)
      throw new Error(`lakehouse:sourceCredentials has no entry '${source.credentials}' for API ${source.name}`);
    return credentialSecret(
      name,
      {
        secretName: `${context.resourcePrefix}/api/${source.name}`,
        description: `Credential of the ${source.name} API (${source.baseUrl})`,
        kmsKeyId: context.lakeKeyArn,
        credential: cred,
      },
      this,
    );
  }

  /** Every `schedule`, as a role that may invoke this function only (no resource policy on the function needed). */
  private schedulePulls(name: string, { context, source }: ApiSourceArgs, names: ApiNames): aws.scheduler.Schedule {
    const invoker = new ServiceRole(
      `${name}-invoker`,
      {
        service: "scheduler.amazonaws.com",
        accountId: context.accountId,
        description: `EventBridge Scheduler starts the ${source.name} API puller`,
        statements: [allow("InvokePuller", ["lambda:InvokeFunction"], this.puller.arn)],
      },
      { parent: this },
    );
    return new aws.scheduler.Schedule(
      `${name}-pull`,
      {
        name: `${names.id}-pull`,
        description: `Pulls the ${source.name} API (functions/api-puller)`,
        scheduleExpression: source.schedule,
        scheduleExpressionTimezone: "UTC",
        kmsKeyArn: context.lakeKeyArn,
        flexibleTimeWindow: { mode: "OFF" },
        target: {
          arn: this.puller.arn,
          roleArn: invoker.arn,
          input: JSON.stringify({ source: source.name }),
          // Scheduler invokes asynchronously; Lambda's own retries and dead letters take it from there.
          retryPolicy: { maximumRetryAttempts: 2, maximumEventAgeInSeconds: 3600 },
        },
      },
      { parent: this },
    );
  }

  /** The Glue external table over the landing prefix (raw database) and the curated Iceberg table. */
  private tables(name: string, { context, source }: ApiSourceArgs, names: ApiNames) {
    const landingUri = pulumi.interpolate`s3://${context.landing.name}/${names.landingPrefix}`;
    const landing = new aws.glue.CatalogTable(
      `${name}-landing-table`,
      {
        catalogId: context.accountId,
        databaseName: context.rawDatabaseName,
        name: names.landingTable,
        description: `Pages of the ${source.name} API as landed (gzip NDJSON: id, cursor, record)`,
        tableType: "EXTERNAL_TABLE",
        // Partition projection: Athena derives the `dt` partitions from the key template, no crawler or
        // MSCK REPAIR (Athena user guide, "Use partition projection with Amazon Athena").
        parameters: {
          ...classification("raw"),
          classification: "json",
          "projection.enabled": "true",
          "projection.dt.type": "date",
          "projection.dt.format": "yyyy-MM-dd",
          "projection.dt.range": "2025-01-01,NOW",
          "projection.dt.interval": "1",
          "projection.dt.interval.unit": "DAYS",
          "storage.location.template": pulumi.interpolate`${landingUri}dt=\${dt}/`,
        },
        partitionKeys: [{ name: "dt", type: "string" }],
        storageDescriptor: {
          location: landingUri,
          inputFormat: "org.apache.hadoop.mapred.TextInputFormat",
          outputFormat: "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
          serDeInfo: { serializationLibrary: "org.openx.data.jsonserde.JsonSerDe" },
          columns: [
            { name: "id", type: "string" },
            { name: "cursor", type: "string" },
            { name: "record", type: "string" },
          ],
        },
      },
      { parent: this },
    );
    const optimizer = new TableOptimizerRole(
      `${name}-optimizer`,
      {
        accountId: context.accountId,
        region: context.region,
        description: `Glue optimizers of the ${names.curatedTable} Iceberg table`,
        warehouseBucketArn: context.warehouse.arn,
        prefix: names.warehousePrefix,
        lakeKeyArn: context.lakeKeyArn,
        databaseName: context.curatedDatabaseName,
        tables: [names.curatedTable],
        sidLabel: "Api",
      },
      { parent: this },
    );
    const warehouse = pulumi.all([context.warehouse.name, context.warehouse.ready]).apply(([b]) => b);
    const table = new IcebergTable(
      `${name}-table`,
      {
        accountId: context.accountId,
        databaseName: context.curatedDatabaseName,
        tableName: names.curatedTable,
        columns: curatedColumns(apiTableSpec(source)),
        description: `The ${source.name} API's records, latest version per id (declared columns only)`,
        location: pulumi.interpolate`s3://${warehouse}/${names.warehousePrefix}`,
        optimizerRoleArn: optimizer.arn,
        maintenance: maintenanceForSla(context.erasureSlaDays),
        personalData: context.personalData,
      },
      { parent: this },
    );
    // Every field of every record lands here, declared columns or not ("Fields not listed, personal data
    // included, stay in the landing zone only"): the prefix is personal data, erased by the bucket's expiry.
    context.personalData?.prefix({
      cloud: "aws",
      bucket: context.landing.name,
      prefix: names.landingPrefix,
      dataClass: "raw",
      expiresAfterDays: context.retention.raw,
      holds: `Pages of the ${source.name} API as landed: whole records, undeclared fields included`,
    });
    return { landing, table };
  }

  /** The MERGE: own workgroup (results in the raw bucket), a role with its Lake Formation grants, a schedule, failure alerts. */
  private scheduleMerge(name: string, { context, source }: ApiSourceArgs, names: ApiNames): aws.scheduler.Schedule {
    const workgroup = new AnalystWorkgroup(
      `${name}-workgroup`,
      {
        workgroupName: names.id,
        outputLocation: pulumi.interpolate`s3://${context.raw.name}/${names.resultsPrefix}`,
        kmsKeyArn: context.lakeKeyArn,
        bytesScannedCutoffPerQuery: context.sizing.athenaBytesScannedCutoff,
      },
      { parent: this },
    );
    const role = new ServiceRole(
      `${name}-merge`,
      {
        service: "scheduler.amazonaws.com",
        accountId: context.accountId,
        description: `EventBridge Scheduler MERGEs the ${source.name} API's landed records into ${names.curatedTable}`,
        statements: mergeStatements(names, {
          ...context,
          workgroupName: workgroup.name,
          landingBucketArn: context.landing.arn,
          rawBucketArn: context.raw.arn,
          warehouseBucketArn: context.warehouse.arn,
        }),
      },
      { parent: this },
    );
    const grants = this.mergeGrants(name, context, role.arn);
    const failures = new aws.cloudwatch.EventRule(
      `${name}-merge-failures`,
      {
        name: `${names.id}-merge-failures`,
        description: `Failed MERGEs of the ${source.name} API (runbook: functions/api-puller/README.md)`,
        // Athena's only event type (Athena user guide, "Monitor Athena query events with EventBridge").
        eventPattern: pulumi.jsonStringify({
          source: ["aws.athena"],
          "detail-type": ["Athena Query State Change"],
          detail: { currentState: ["FAILED"], workgroupName: [workgroup.name] },
        }),
      },
      { parent: this },
    );
    new aws.cloudwatch.EventTarget(
      `${name}-merge-failures`,
      { rule: failures.name, arn: context.alerts.topicArn },
      { parent: this },
    );
    this.mergeLagAlarm(name, context, source, names, workgroup.name);
    return athenaQuerySchedule(
      `${name}-merge-schedule`,
      {
        scheduleName: `${names.id}-merge`,
        description: `MERGE of the ${source.name} API's landed records into ${names.curatedTable}`,
        scheduleExpression: source.mergeSchedule,
        query: athenaMerge(source, names, context.rawDatabaseName, context.curatedDatabaseName),
        workgroupName: workgroup.name,
        database: context.curatedDatabaseName,
        roleArn: role.arn,
        kmsKeyArn: context.lakeKeyArn,
      },
      { parent: this, dependsOn: [...grants, this.table, this.landingTable] },
    );
  }

  /** Lake Formation: the MERGE reads the landing table (raw) and reads and writes its curated table. */
  private mergeGrants(
    name: string,
    context: AwsSourceContext,
    principal: pulumi.Output<string>,
  ): aws.lakeformation.Permissions[] {
    const catalogId = context.accountId;
    const grant = (id: string, permissions: string[], target: Partial<aws.lakeformation.PermissionsArgs>) =>
      new aws.lakeformation.Permissions(
        `${name}-merge-${id}`,
        { principal, catalogId, permissions, ...target },
        { parent: this },
      );
    return [
      grant("raw-database", ["DESCRIBE"], { database: { catalogId, name: context.rawDatabaseName } }),
      grant("landing-table", ["DESCRIBE", "SELECT"], {
        table: { catalogId, databaseName: context.rawDatabaseName, name: this.landingTable.name },
      }),
      grant("curated-database", ["DESCRIBE"], { database: { catalogId, name: context.curatedDatabaseName } }),
      grant("curated-table", ["DESCRIBE", "SELECT", "INSERT", "DELETE"], {
        table: { catalogId, databaseName: context.curatedDatabaseName, name: this.table.name },
      }),
    ];
  }

  /** Lag of the pull: no run that caught up (`CaughtUp`, the puller's EMF metric) within `maxLagMinutes`. */
  private lagAlarm(name: string, { context, source }: ApiSourceArgs, names: ApiNames): void {
    const topic = context.alerts.topicArn;
    new aws.cloudwatch.MetricAlarm(
      `${name}-lag`,
      {
        name: `${names.id}-lag`,
        alarmDescription: `${source.name} API not caught up in ${lagWindowSeconds(source) / 60} min (runbook: functions/api-puller/README.md, "Lag")`,
        namespace: METRIC_NAMESPACE,
        metricName: "CaughtUp",
        dimensions: { [METRIC_DIMENSION]: source.name },
        statistic: "Sum",
        // One period as long as the allowed lag (a multiple of 60 s; up to a day with one evaluation period:
        // CloudWatch API reference, PutMetricAlarm "Period").
        period: lagWindowSeconds(source),
        evaluationPeriods: 1,
        threshold: 1,
        comparisonOperator: "LessThanThreshold",
        // No datapoint means no run reported: failing or not running at all is lag too.
        treatMissingData: "breaching",
        alarmActions: [topic],
        okActions: [topic],
      },
      { parent: this },
    );
  }

  /** Lag of the MERGE: no successful DML query in its workgroup over three MERGE intervals. */
  private mergeLagAlarm(
    name: string,
    context: AwsSourceContext,
    source: ApiSourceConfig,
    names: ApiNames,
    workgroup: pulumi.Output<string>,
  ): void {
    const topic = context.alerts.topicArn;
    new aws.cloudwatch.MetricAlarm(
      `${name}-merge-lag`,
      {
        name: `${names.id}-merge-lag`,
        alarmDescription: `No successful MERGE of the ${source.name} API in ${mergeLagSeconds(source) / 60} min (runbook: functions/api-puller/README.md, "MERGE")`,
        // Athena publishes per-query metrics when the workgroup enables them (AnalystWorkgroup does):
        // Athena user guide, "Monitor Athena query metrics with CloudWatch".
        namespace: "AWS/Athena",
        metricName: "TotalExecutionTime",
        dimensions: { WorkGroup: workgroup, QueryState: "SUCCEEDED", QueryType: "DML" },
        statistic: "SampleCount",
        period: mergeLagSeconds(source),
        evaluationPeriods: 1,
        threshold: 1,
        comparisonOperator: "LessThanThreshold",
        treatMissingData: "breaching",
        alarmActions: [topic],
        okActions: [topic],
      },
      { parent: this },
    );
  }
}

/**
 * One CSV feed of a cell: files dropped under `s3://<landing>/csv/<feed>/` reach the loader Lambda through
 * EventBridge (S3 "Object Created", the landing bucket's EventBridge notifications made by `AwsSources`),
 * which validates each file while streaming it, keeps a canonical copy under the raw bucket's
 * `csv/<feed>/validated/`, and MERGEs it on the feed's key into the curated Iceberg table `csv_<feed>`
 * with Athena; a file that fails goes to `csv/<feed>/quarantine/` with a JSON report and raises an alarm.
 * The loader's logic and its runbook: functions/csv-loader/ (README.md).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  columnName,
  curatedColumns,
  curatedTableName,
  FILE_ID_COLUMN,
  icebergType,
  keyColumns,
  landingPrefix,
  LINE_COLUMN,
  quarantinePrefix,
  SOURCE_FILE_COLUMN,
  SOURCE_ORDER_COLUMN,
  stagingTableName,
  validatedPrefix,
} from "../../../functions/csv-loader/feed";
import { METRIC_DIMENSION, METRIC_NAMESPACE } from "../../../functions/csv-loader/metrics";
import type { CsvFeed } from "../../config/schema";
import { classification } from "../../conventions";
import { athenaWorkgroupArn } from "../../federation/athena-schedule";
import { AnalystWorkgroup } from "../analyst-workgroup";
import { TableOptimizerRole } from "../iam/table-optimizer-role";
import {
  allow,
  glueTables,
  lakeFormationDataAccess,
  listPrefixes,
  objectsUnder,
  useKey,
  type Statement,
} from "../iam/statements";
import { IcebergTable, maintenanceForSla } from "../ingestion/iceberg-table";
import { PSEUDONYM_COLUMN } from "../../privacy/personal-data";
import type { IcebergColumn } from "../ingestion/plan-rules";
import type { AwsSourceContext } from "./context";
import { SourceFunction } from "./source-function";

/** The loader's entry file (bundled by SourceFunction at plan time). */
export const CSV_LOADER_ENTRY = "functions/csv-loader/handler.ts";

export interface CsvFeedSourceArgs {
  /** What the feed lands into and reports to. */
  readonly context: AwsSourceContext;
  /** The feed as declared (`lakehouse:sources.csvFeeds[]`, defaults applied). */
  readonly source: CsvFeed;
  /** Memory of the loader, MB (CPU grows with it: 1,769 MB is one vCPU). @default 2048 */
  readonly memoryMb?: number;
  /** Age of the oldest file waiting for the loader before the lag alarm, minutes. @default 60 */
  readonly maxLagMinutes?: number;
}

/** Where a feed's objects live, derived once (names and prefixes). */
export function csvFeedNames(context: AwsSourceContext, feed: CsvFeed) {
  return {
    id: `${context.resourcePrefix}-csv-${feed.name}`,
    functionName: `csv-${feed.name}`,
    landing: landingPrefix(feed.name),
    rawFeed: `csv/${feed.name}/`,
    validated: validatedPrefix(feed.name),
    quarantine: quarantinePrefix(feed.name),
    results: `csv/${feed.name}/athena-results/`,
    warehouse: `curated/csv/${feed.name}/`,
    curatedTable: curatedTableName(feed.name),
    stagingTable: stagingTableName(feed.name),
  };
}
type Names = ReturnType<typeof csvFeedNames>;

/**
 * A feed with `pii` or pseudonym columns holds personal data in its files: as dropped (landing bucket),
 * validated and quarantined (raw bucket), each erased by its bucket's expiry (`retention.raw`).
 */
function declarePersonalFiles(context: AwsSourceContext, feed: CsvFeed, n: Names): void {
  const personal = feed.columns.filter((c) => c.pii || PSEUDONYM_COLUMN.test(c.name.toLowerCase())).map((c) => c.name);
  if (!context.personalData || personal.length === 0) return;
  const files = [
    { bucket: context.landing.name, prefix: n.landing, what: "as dropped" },
    { bucket: context.raw.name, prefix: n.rawFeed, what: "validated and quarantined" },
  ];
  for (const f of files) {
    context.personalData.prefix({
      cloud: "aws",
      bucket: f.bucket,
      prefix: f.prefix,
      dataClass: "raw",
      expiresAfterDays: context.retention.raw,
      holds: `CSV files of feed ${feed.name} ${f.what}, with ${personal.join(", ")}`,
    });
  }
}

export class CsvFeedSource extends pulumi.ComponentResource {
  public readonly table: IcebergTable;
  public readonly stagingTable: aws.glue.CatalogTable;
  public readonly loader: SourceFunction;
  public readonly rule: aws.cloudwatch.EventRule;

  constructor(name: string, args: CsvFeedSourceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:aws:CsvFeed", name, {}, opts);
    const { context, source } = args;
    const child = { parent: this };
    const n = csvFeedNames(context, source);

    this.stagingTable = stagingTable(`${name}-validated`, context, source, n, child);
    declarePersonalFiles(context, source, n);
    const optimizer = new TableOptimizerRole(
      `${name}-optimizer`,
      {
        accountId: context.accountId,
        region: context.region,
        description: `Glue optimizers of the ${n.curatedTable} Iceberg table`,
        warehouseBucketArn: context.warehouse.arn,
        prefix: n.warehouse,
        lakeKeyArn: context.lakeKeyArn,
        databaseName: context.curatedDatabaseName,
        tables: [n.curatedTable],
        sidLabel: "CsvFeed",
      },
      child,
    );
    const warehouse = pulumi.all([context.warehouse.name, context.warehouse.ready]).apply(([b]) => b);
    this.table = new IcebergTable(
      `${name}-table`,
      {
        accountId: context.accountId,
        databaseName: context.curatedDatabaseName,
        tableName: n.curatedTable,
        columns: curatedSchema(source),
        description: `CSV feed ${source.name}: latest row per key (${source.key.join(", ")}); pii columns stay in raw`,
        location: pulumi.interpolate`s3://${warehouse}/${n.warehouse}`,
        optimizerRoleArn: optimizer.arn,
        maintenance: maintenanceForSla(context.erasureSlaDays),
        personalData: context.personalData,
      },
      child,
    );
    // Its own workgroup: query results under the feed's raw prefix, so the loader writes nowhere else.
    const workgroup = new AnalystWorkgroup(
      `${name}-workgroup`,
      {
        workgroupName: n.id,
        outputLocation: pulumi.interpolate`s3://${context.raw.name}/${n.results}`,
        kmsKeyArn: context.lakeKeyArn,
        // A load scans its validated copy (~2.4x the CSV as NDJSON) and the feed's table: never below three
        // times the largest file accepted, or the MERGE of a large valid file would be cancelled.
        bytesScannedCutoffPerQuery: Math.max(
          context.sizing.athenaBytesScannedCutoff,
          3 * source.maxFileMiB * 1024 ** 2,
        ),
      },
      child,
    );
    this.loader = new SourceFunction(
      `${name}-loader`,
      {
        context,
        functionName: n.functionName,
        description: `Validates and loads the ${source.name} CSV feed (functions/csv-loader)`,
        entry: CSV_LOADER_ENTRY,
        statements: loaderStatements(context, n, workgroup.name),
        environment: {
          FEED: JSON.stringify(source),
          RAW_BUCKET: context.raw.name,
          LAKE_KEY_ARN: context.lakeKeyArn,
          WORKGROUP: workgroup.name,
          RAW_DATABASE: context.rawDatabaseName,
          CURATED_DATABASE: context.curatedDatabaseName,
        },
        // Lambda's maximum (15 min): a 4 GiB file streams through in a few minutes (README, "Streaming").
        timeoutSeconds: 900,
        memoryMb: args.memoryMb ?? 2048,
        // One file at a time per feed: two MERGEs on one Iceberg table would conflict at commit. Throttled
        // events wait in Lambda's asynchronous queue (retried up to 6 hours), watched by the lag alarm.
        reservedConcurrency: 1,
      },
      child,
    );
    const grants = loaderGrants(name, context, n, this.loader.role.arn, [this.table.table, this.stagingTable], this);
    this.rule = this.trigger(name, context, n, grants);
    feedAlarms(name, context, source, n, this.loader, args.maxLagMinutes ?? 60, this);
    this.registerOutputs({ table: this.table.name, loader: this.loader.arn });
  }

  /** S3 "Object Created" in the feed's landing prefix invokes the loader, once the loader may act. */
  private trigger(
    name: string,
    context: AwsSourceContext,
    n: Names,
    after: pulumi.Resource[],
  ): aws.cloudwatch.EventRule {
    const rule = new aws.cloudwatch.EventRule(
      `${name}-arrivals`,
      {
        name: `${n.id}-arrivals`,
        description: `Files arriving under ${n.landing} of the landing bucket`,
        // S3 user guide, "Using EventBridge": detail-type "Object Created", matched on bucket and key prefix.
        eventPattern: pulumi.jsonStringify({
          source: ["aws.s3"],
          "detail-type": ["Object Created"],
          detail: { bucket: { name: [context.landing.name] }, object: { key: [{ prefix: n.landing }] } },
        }),
      },
      { parent: this },
    );
    const permission = this.loader.allowInvoke(`${name}-invoke`, "events.amazonaws.com", rule.arn, context.accountId);
    new aws.cloudwatch.EventTarget(
      `${name}-arrivals`,
      {
        rule: rule.name,
        arn: this.loader.arn,
        // EventBridge's own retries of a failed delivery (Lambda unavailable): a day, as many as it takes.
        retryPolicy: { maximumEventAgeInSeconds: 86_400, maximumRetryAttempts: 185 },
      },
      { parent: this, dependsOn: [permission, ...after] },
    );
    return rule;
  }
}

/** The curated columns with Iceberg ids; the key columns are required (the table's identifier fields). */
export function curatedSchema(feed: CsvFeed): IcebergColumn[] {
  const keys = new Set(keyColumns(feed).map(columnName));
  const columns = curatedColumns(feed).map((c, i) => ({
    id: i + 1,
    name: columnName(c),
    type: icebergType(c),
    required: keys.has(columnName(c)),
    doc: `${c.type} column of the CSV feed ${feed.name}`,
  }));
  const next = columns.length + 1;
  return [
    ...columns,
    {
      id: next,
      name: SOURCE_FILE_COLUMN,
      type: "string",
      required: false,
      doc: "Landing object the row was loaded from",
    },
    {
      id: next + 1,
      name: SOURCE_ORDER_COLUMN,
      type: "string",
      required: false,
      doc: "Order of that file (creation time#file id): a row is replaced only by a later file's",
    },
  ];
}

/**
 * The Glue table Athena reads validated copies through (raw database): NDJSON of strings read by the Hive
 * JSON SerDe (Athena user guide, "JSON SerDe libraries": the OpenX SerDe may return non-deterministic
 * results), one partition per file projected from the query's `file_id` (`injected`: Athena user guide,
 * "Use dynamic ID partitioning"), so a load reads its own file only and no partition is ever registered.
 */
function stagingTable(
  name: string,
  context: AwsSourceContext,
  feed: CsvFeed,
  n: Names,
  opts: pulumi.CustomResourceOptions,
): aws.glue.CatalogTable {
  const location = pulumi.interpolate`s3://${context.raw.name}/${n.validated}`;
  return new aws.glue.CatalogTable(
    name,
    {
      catalogId: context.accountId,
      databaseName: context.rawDatabaseName,
      name: n.stagingTable,
      description: `Validated files of the CSV feed ${feed.name} (canonical NDJSON, all strings)`,
      tableType: "EXTERNAL_TABLE",
      parameters: {
        ...classification("raw"),
        classification: "json",
        "projection.enabled": "true",
        [`projection.${FILE_ID_COLUMN}.type`]: "injected",
        "storage.location.template": pulumi.interpolate`${location}${FILE_ID_COLUMN}=\${${FILE_ID_COLUMN}}/`,
      },
      partitionKeys: [{ name: FILE_ID_COLUMN, type: "string" }],
      storageDescriptor: {
        location,
        inputFormat: "org.apache.hadoop.mapred.TextInputFormat",
        outputFormat: "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
        serDeInfo: { serializationLibrary: "org.apache.hive.hcatalog.data.JsonSerDe" },
        columns: [
          ...feed.columns.map((c) => ({ name: columnName(c), type: "string" })),
          { name: LINE_COLUMN, type: "bigint" },
        ],
      },
    },
    opts,
  );
}

/**
 * The loader's policy: its feed's landing prefix (read by version, delete), its feed's raw prefix
 * (validated copies, quarantine, query results), its table's files, the lake key, its two Glue tables,
 * its workgroup, and Lake Formation data access.
 */
export function loaderStatements(
  context: AwsSourceContext,
  n: Names,
  workgroupName: pulumi.Input<string>,
): Statement[] {
  const scope = { region: context.region, accountId: context.accountId };
  return [
    // GetObjectVersion: the loader reads and copies the exact version the event names.
    allow(
      "ReadLanding",
      ["s3:GetObject", "s3:GetObjectVersion", "s3:DeleteObject"],
      objectsUnder(context.landing.arn, n.landing),
    ),
    allow(
      "FeedRawObjects",
      ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
      objectsUnder(context.raw.arn, n.rawFeed),
    ),
    // Without ListBucket a missing object reads as 403, not 404; Athena lists the validated prefix.
    listPrefixes("ListFeedRaw", context.raw.arn, [n.rawFeed]),
    allow("RawBucketLocation", ["s3:GetBucketLocation"], context.raw.arn),
    allow(
      "CuratedFiles",
      ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
      objectsUnder(context.warehouse.arn, n.warehouse),
    ),
    listPrefixes("ListCurated", context.warehouse.arn, [n.warehouse]),
    useKey("LakeKey", context.lakeKeyArn),
    glueTables(
      "StagingTable",
      ["glue:GetDatabase", "glue:GetTable", "glue:GetPartitions"],
      scope,
      context.rawDatabaseName,
      [n.stagingTable],
    ),
    glueTables(
      "CuratedTable",
      ["glue:GetDatabase", "glue:GetTable", "glue:UpdateTable"],
      scope,
      context.curatedDatabaseName,
      [n.curatedTable],
    ),
    allow(
      "Workgroup",
      ["athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults", "athena:GetWorkGroup"],
      athenaWorkgroupArn(scope, workgroupName),
    ),
    lakeFormationDataAccess(),
  ];
}

/** Lake Formation (the catalog has no IAMAllowedPrincipals): read the staging table, read and write the feed's table. */
function loaderGrants(
  name: string,
  context: AwsSourceContext,
  n: Names,
  principal: pulumi.Output<string>,
  tables: readonly pulumi.Resource[],
  parent: pulumi.Resource,
): aws.lakeformation.Permissions[] {
  const catalogId = context.accountId;
  const grant = (id: string, permissions: string[], target: Partial<aws.lakeformation.PermissionsArgs>) =>
    new aws.lakeformation.Permissions(
      `${name}-lf-${id}`,
      { principal, catalogId, permissions, ...target },
      { parent, dependsOn: [...tables] },
    );
  return [
    grant("raw-database", ["DESCRIBE"], { database: { catalogId, name: context.rawDatabaseName } }),
    grant("staging-table", ["DESCRIBE", "SELECT"], {
      table: { catalogId, databaseName: context.rawDatabaseName, name: n.stagingTable },
    }),
    grant("curated-database", ["DESCRIBE"], { database: { catalogId, name: context.curatedDatabaseName } }),
    grant("curated-table", ["DESCRIBE", "SELECT", "INSERT", "DELETE", "ALTER"], {
      table: { catalogId, databaseName: context.curatedDatabaseName, name: n.curatedTable },
    }),
  ];
}

/**
 * Beyond the loader's own errors and dead-letter alarms (SourceFunction): a quarantined file, and lag
 * (an arrival waiting too long in Lambda's asynchronous queue, or one Lambda dropped). Runbooks:
 * functions/csv-loader/README.md.
 */
function feedAlarms(
  name: string,
  context: AwsSourceContext,
  feed: CsvFeed,
  n: Names,
  loader: SourceFunction,
  maxLagMinutes: number,
  parent: pulumi.Resource,
): void {
  const topic = context.alerts.topicArn;
  const alarm = (suffix: string, a: Omit<aws.cloudwatch.MetricAlarmArgs, "alarmActions" | "okActions" | "name">) =>
    new aws.cloudwatch.MetricAlarm(
      `${name}-${suffix}`,
      { name: `${n.id}-${suffix}`, ...a, alarmActions: [topic], okActions: [topic] },
      { parent },
    );
  alarm("quarantined", {
    alarmDescription: `A file of the CSV feed ${feed.name} was quarantined (runbook: functions/csv-loader/README.md, "Quarantined file")`,
    namespace: METRIC_NAMESPACE,
    metricName: "QuarantinedFiles",
    dimensions: { [METRIC_DIMENSION]: feed.name },
    statistic: "Sum",
    period: 300,
    evaluationPeriods: 1,
    threshold: 0,
    comparisonOperator: "GreaterThanThreshold",
    treatMissingData: "notBreaching",
  });
  // Lambda's asynchronous invocation metrics (Lambda developer guide, "Types of metrics for Lambda
  // functions"): AsyncEventAge, the time an event waited before it was invoked; AsyncEventsDropped, events
  // Lambda gave up on without running (too old, or throttled past their age).
  alarm("lag", {
    alarmDescription: `Files of the CSV feed ${feed.name} wait more than ${maxLagMinutes} min for the loader (runbook: functions/csv-loader/README.md, "Lag")`,
    namespace: "AWS/Lambda",
    metricName: "AsyncEventAge",
    dimensions: { FunctionName: loader.name },
    statistic: "Maximum",
    period: 300,
    evaluationPeriods: 1,
    threshold: maxLagMinutes * 60_000,
    comparisonOperator: "GreaterThanThreshold",
    treatMissingData: "notBreaching",
  });
  alarm("dropped", {
    alarmDescription: `Lambda dropped arrivals of the CSV feed ${feed.name} (runbook: functions/csv-loader/README.md, "Dropped arrivals")`,
    namespace: "AWS/Lambda",
    metricName: "AsyncEventsDropped",
    dimensions: { FunctionName: loader.name },
    statistic: "Sum",
    period: 300,
    evaluationPeriods: 1,
    threshold: 0,
    comparisonOperator: "GreaterThanThreshold",
    treatMissingData: "notBreaching",
  });
}

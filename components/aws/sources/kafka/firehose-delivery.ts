/**
 * One topic of a new MSK cluster delivered into its curated Iceberg table by Amazon Data Firehose: the MSK
 * source over private connectivity (one topic per stream: `mskSourceConfiguration.topicName`), the Apache
 * Iceberg Tables destination in the cell's Glue catalog (append only, or upserts on the topic's keys), records
 * Firehose cannot deliver written under the topic's error prefix of the raw bucket with the lake key (never
 * dropped), its own role kept to its topic, its table, its prefixes and its log group, a Lake Formation grant on
 * its table only, and alarms on freshness and failed rows to the cell's alert topic.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { classification } from "../../../conventions";
import { ServiceRole } from "../../iam/service-role";
import {
  allow,
  glueTables,
  lakeFormationDataAccess,
  listPrefixes,
  objectsUnder,
  readWriteObjects,
  useKey,
  type Statement,
} from "../../iam/statements";
import type { AwsSourceContext } from "../context";
import type { TopicTable } from "./topic-tables";

/** Alarm when the oldest undelivered record is older than this: Firehose's buffering limit (15 min). */
export const FRESHNESS_ALARM_SECONDS = 900;

/** Where a topic's undeliverable records go in the raw bucket. */
export const errorPrefix = (source: string, topic: string): string => `kafka/${source}/${topic}/errors/`;

/** `arn:aws:kafka:<r>:<a>:cluster/<name>/<uuid>` -> the ARN of one of its topics, or (`*`) its consumer groups. */
export const kafkaResourceArn = (clusterArn: string, kind: "topic" | "group", name: string): string =>
  `${clusterArn.replace(":cluster/", `:${kind}/`)}/${name}`;

export interface FirehoseDeliveryArgs {
  readonly context: AwsSourceContext;
  readonly source: string;
  readonly table: TopicTable;
  /** The topic's Iceberg table (exists before the stream). */
  readonly tableReady: pulumi.Input<string>;
  /** The MSK cluster's ARN, resolved once its topics and Firehose policy exist. */
  readonly clusterArn: pulumi.Input<string>;
  /** The landing-record processor (schemaless tables only). */
  readonly processorArn?: pulumi.Input<string>;
}

/** What a stream's role may do: read its topic, write its table and its error prefix, log, invoke its processor. */
export function streamStatements(
  args: FirehoseDeliveryArgs,
  clusterArn: pulumi.Output<string>,
  logGroupArn: pulumi.Input<string>,
): pulumi.Input<Statement>[] {
  const { context, source, table } = args;
  const scope = { region: context.region, accountId: context.accountId };
  const errors = errorPrefix(source, table.topic);
  const tablePrefix = `curated/${source}/${table.tableName}/`;
  return [
    // The MSK source: connect, read its one topic, keep its consumer group's offsets (IAM access control
    // actions, MSK developer guide "IAM access control").
    allow(
      "MskCluster",
      ["kafka:GetBootstrapBrokers", "kafka:DescribeCluster", "kafka:DescribeClusterV2", "kafka-cluster:Connect"],
      clusterArn,
    ),
    allow(
      "MskTopic",
      ["kafka-cluster:DescribeTopic", "kafka-cluster:DescribeTopicDynamicConfiguration", "kafka-cluster:ReadData"],
      clusterArn.apply((a) => kafkaResourceArn(a, "topic", table.topic)),
    ),
    allow(
      "MskGroup",
      ["kafka-cluster:DescribeGroup", "kafka-cluster:AlterGroup"],
      clusterArn.apply((a) => kafkaResourceArn(a, "group", "*")),
    ),
    // The destination: its table only, through the catalog and Lake Formation.
    glueTables(
      "IcebergTable",
      ["glue:GetDatabase", "glue:GetTable", "glue:UpdateTable"],
      scope,
      context.curatedDatabaseName,
      [table.tableName],
    ),
    lakeFormationDataAccess(),
    readWriteObjects("TableFiles", context.warehouse.arn, tablePrefix),
    allow("ErrorRecords", ["s3:PutObject", "s3:AbortMultipartUpload"], objectsUnder(context.raw.arn, errors)),
    allow("Buckets", ["s3:GetBucketLocation"], [context.warehouse.arn, context.raw.arn]),
    listPrefixes("ListTable", context.warehouse.arn, [tablePrefix]),
    listPrefixes("ListErrors", context.raw.arn, [errors]),
    useKey("LakeKey", context.lakeKeyArn, ["kms:GenerateDataKey", "kms:Decrypt"], `s3.${context.region}.amazonaws.com`),
    allow("OwnLogs", ["logs:PutLogEvents"], pulumi.interpolate`${logGroupArn}:log-stream:*`),
    ...(args.processorArn
      ? [allow("LandingProcessor", ["lambda:InvokeFunction", "lambda:GetFunctionConfiguration"], args.processorArn)]
      : []),
  ];
}

export class FirehoseDelivery extends pulumi.ComponentResource {
  public readonly stream: aws.kinesis.FirehoseDeliveryStream;
  public readonly role: ServiceRole;

  constructor(name: string, args: FirehoseDeliveryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:aws:FirehoseDelivery", name, {}, opts);
    const { context, source, table } = args;
    const child = { parent: this };
    const streamName = `${context.resourcePrefix}-${source}-${table.topic}`.slice(0, 64);
    const errors = errorPrefix(source, table.topic);
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      {
        name: `/aws/kinesisfirehose/${streamName}`,
        kmsKeyId: context.logsKeyArn,
        retentionInDays: context.retention.logs,
        tags: classification("logs"),
      },
      child,
    );
    const logStream = new aws.cloudwatch.LogStream(
      `${name}-delivery`,
      { name: "DestinationDelivery", logGroupName: logGroup.name },
      child,
    );
    const clusterArn = pulumi.output(args.clusterArn);
    this.role = new ServiceRole(
      `${name}-role`,
      {
        service: "firehose.amazonaws.com",
        accountId: context.accountId,
        description: `Firehose delivers topic ${table.topic} of ${source} into ${table.tableName}`,
        statements: streamStatements(args, clusterArn, logGroup.arn),
      },
      child,
    );
    // The catalog is governed by Lake Formation (components/aws/lake-catalog.ts): IAM alone does not open a table.
    const grant = new aws.lakeformation.Permissions(
      `${name}-lf`,
      {
        principal: this.role.arn,
        permissions: ["DESCRIBE", "SELECT", "INSERT", "DELETE", "ALTER"],
        // The table's name once the table (and its optimizers) exist: a grant on a missing table fails.
        table: { databaseName: context.curatedDatabaseName, name: args.tableReady },
      },
      child,
    );
    const logging = { enabled: true, logGroupName: logGroup.name, logStreamName: logStream.name };
    this.stream = new aws.kinesis.FirehoseDeliveryStream(
      name,
      {
        name: streamName,
        destination: "iceberg",
        mskSourceConfiguration: {
          mskClusterArn: clusterArn,
          topicName: table.topic,
          authenticationConfiguration: { connectivity: "PRIVATE", roleArn: this.role.arn },
        },
        icebergConfiguration: {
          roleArn: pulumi.all([this.role.arn, grant.id, args.tableReady]).apply(([arn]) => arn),
          catalogArn: `arn:aws:glue:${context.region}:${context.accountId}:catalog`,
          // Keyed topics update rows; the rest append, which Firehose scales automatically ("Considerations
          // and limitations": AppendOnly).
          appendOnly: table.uniqueKeys.length === 0,
          destinationTableConfigurations: [
            {
              databaseName: context.curatedDatabaseName,
              tableName: table.tableName,
              ...(table.uniqueKeys.length > 0 ? { uniqueKeys: [...table.uniqueKeys] } : {}),
              s3ErrorOutputPrefix: errors,
            },
          ],
          bufferingInterval: 300,
          bufferingSize: 128,
          retryDuration: 7200,
          s3BackupMode: "FailedDataOnly",
          s3Configuration: {
            bucketArn: context.raw.arn,
            roleArn: this.role.arn,
            errorOutputPrefix: errors,
            prefix: errors,
            compressionFormat: "GZIP",
            kmsKeyArn: context.lakeKeyArn,
          },
          cloudwatchLoggingOptions: logging,
          ...(args.processorArn
            ? {
                processingConfiguration: {
                  enabled: true,
                  processors: [
                    { type: "Lambda", parameters: [{ parameterName: "LambdaArn", parameterValue: args.processorArn }] },
                  ],
                },
              }
            : {}),
        },
        tags: classification("curated"),
      },
      child,
    );
    this.alarms(name, streamName, context, table);
    this.registerOutputs({ arn: this.stream.arn });
  }

  /** Freshness (Firehose's own advice: alarm past the 15-minute buffering limit) and any row sent to the error prefix. */
  private alarms(name: string, streamName: string, context: AwsSourceContext, table: TopicTable): void {
    const alarm = (suffix: string, metricName: string, statistic: string, threshold: number, description: string) =>
      new aws.cloudwatch.MetricAlarm(
        `${name}-${suffix}`,
        {
          name: `${streamName}-${suffix}`,
          alarmDescription: description,
          namespace: "AWS/Firehose",
          metricName,
          dimensions: { DeliveryStreamName: streamName },
          statistic,
          period: 300,
          evaluationPeriods: suffix === "freshness" ? 3 : 1,
          threshold,
          comparisonOperator: "GreaterThanThreshold",
          treatMissingData: "notBreaching",
          alarmActions: [context.alerts.topicArn],
          okActions: [context.alerts.topicArn],
        },
        { parent: this },
      );
    alarm(
      "freshness",
      "DeliveryToIceberg.DataFreshness",
      "Maximum",
      FRESHNESS_ALARM_SECONDS,
      `${table.topic} -> ${table.tableName}: oldest undelivered event older than ${FRESHNESS_ALARM_SECONDS}s for 15 minutes`,
    );
    alarm(
      "failed-rows",
      "DeliveryToIceberg.FailedRowCount",
      "Sum",
      0,
      `${table.topic} -> ${table.tableName}: rows Firehose could not deliver, kept in s3://<raw>/${errorPrefix("<source>", table.topic)}`,
    );
  }
}

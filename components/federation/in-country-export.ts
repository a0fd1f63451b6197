/**
 * The AWS half of the in-country copy (br cells; ADR 0006): every night EventBridge Scheduler starts an
 * Athena UNLOAD in the cell's region that writes yesterday's PII-free orders aggregate as Parquet into a
 * short-lived exports bucket in the same region. The scheduler's role reads curated through Lake
 * Formation and writes only the exports prefix.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AnalystWorkgroup } from "../aws/analyst-workgroup";
import { SecureBucket } from "../aws/secure-bucket";
import { athenaFeedUnload, type OrdersTable } from "./sql";
import { noncurrentDaysForErasure } from "../conventions";

export interface InCountryExportArgs {
  readonly namePrefix: string;
  readonly cell: string;
  readonly accountId: string;
  readonly region: string;
  readonly curatedDatabaseName: pulumi.Input<string>;
  readonly warehouseBucketArn: pulumi.Input<string>;
  readonly queryResultsBucketName: pulumi.Input<string>;
  readonly queryResultsBucketArn: pulumi.Input<string>;
  readonly accessLogsBucketName: pulumi.Input<string>;
  readonly lakeKeyArn: pulumi.Input<string>;
  readonly orders: OrdersTable;
  /** The curated orders table's Glue name, from its resource, so the column grant waits for the table. */
  readonly ordersTableName: pulumi.Input<string>;
  /** Days an export object lives (the copy moves it within the hour; this bounds leftovers). */
  readonly expirationDays: number;
  readonly erasureSlaDays: number;
  /** Athena per-query cutoff. */
  readonly bytesScannedCutoffPerQuery: number;
  /** EventBridge Scheduler expression, UTC. @default "cron(0 1 * * ? *)" */
  readonly schedule?: string;
}

/** The prefix exports land under and the copy reads from. */
export const EXPORT_PREFIX = "orders_daily/";

export class InCountryExport extends pulumi.ComponentResource {
  public readonly bucket: SecureBucket;
  public readonly schedule: aws.scheduler.Schedule;
  public readonly role: aws.iam.Role;

  constructor(name: string, args: InCountryExportArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:federation:InCountryExport", name, args, opts);
    const { accountId, region } = args;
    this.bucket = new SecureBucket(
      `${name}-bucket`,
      {
        bucketName: `${args.namePrefix}-${args.cell}-federation-exports-${accountId}`,
        kmsKeyArn: args.lakeKeyArn,
        dataClass: "curated",
        expirationDays: args.expirationDays,
        noncurrentVersionExpirationDays: Math.min(args.expirationDays, noncurrentDaysForErasure(args.erasureSlaDays)),
        accessLogs: { bucket: args.accessLogsBucketName, prefix: "s3/federation-exports/" },
      },
      { parent: this },
    );
    const workgroup = new AnalystWorkgroup(
      `${name}-workgroup`,
      {
        workgroupName: `${args.namePrefix}-${args.cell}-federation-exports`,
        outputLocation: pulumi.interpolate`s3://${args.queryResultsBucketName}/federation-exports/`,
        kmsKeyArn: args.lakeKeyArn,
        bytesScannedCutoffPerQuery: args.bytesScannedCutoffPerQuery,
      },
      { parent: this },
    );

    const roleName = `${args.namePrefix}-${args.cell}-federation-export`;
    this.role = new aws.iam.Role(
      `${name}-role`,
      {
        name: roleName,
        description: `EventBridge Scheduler runs the nightly in-country export of cell ${args.cell}`,
        assumeRolePolicy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { Service: "scheduler.amazonaws.com" },
              Action: "sts:AssumeRole",
              Condition: { StringEquals: { "aws:SourceAccount": accountId } },
            },
          ],
        }),
      },
      { parent: this },
    );
    const db = args.curatedDatabaseName;
    const policy = new aws.iam.RolePolicy(
      `${name}-access`,
      {
        role: this.role.name,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "RunExport",
              Effect: "Allow",
              Action: ["athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetWorkGroup"],
              Resource: pulumi.interpolate`arn:aws:athena:${region}:${accountId}:workgroup/${workgroup.name}`,
            },
            {
              Sid: "CuratedCatalog",
              Effect: "Allow",
              Action: ["glue:GetDatabase", "glue:GetTable", "glue:GetPartitions"],
              Resource: [
                `arn:aws:glue:${region}:${accountId}:catalog`,
                pulumi.interpolate`arn:aws:glue:${region}:${accountId}:database/${db}`,
                pulumi.interpolate`arn:aws:glue:${region}:${accountId}:table/${db}/${args.orders.table}`,
              ],
            },
            {
              Sid: "LakeFormationCredentials",
              Effect: "Allow",
              Action: ["lakeformation:GetDataAccess"],
              Resource: "*",
            },
            {
              Sid: "ReadCuratedOrders",
              Effect: "Allow",
              Action: ["s3:GetObject"],
              Resource: pulumi.interpolate`${args.warehouseBucketArn}/curated/*`,
            },
            {
              Sid: "ListCurated",
              Effect: "Allow",
              Action: ["s3:ListBucket", "s3:GetBucketLocation"],
              Resource: args.warehouseBucketArn,
              Condition: { StringLike: { "s3:prefix": ["curated/*"] } },
            },
            {
              Sid: "WriteExports",
              Effect: "Allow",
              Action: [
                "s3:PutObject",
                "s3:GetObject",
                "s3:ListBucket",
                "s3:GetBucketLocation",
                "s3:AbortMultipartUpload",
              ],
              Resource: [this.bucket.arn, pulumi.interpolate`${this.bucket.arn}/${EXPORT_PREFIX}*`],
            },
            {
              Sid: "AthenaResults",
              Effect: "Allow",
              Action: [
                "s3:PutObject",
                "s3:GetObject",
                "s3:ListBucket",
                "s3:GetBucketLocation",
                "s3:AbortMultipartUpload",
              ],
              Resource: [
                args.queryResultsBucketArn,
                pulumi.interpolate`${args.queryResultsBucketArn}/federation-exports/*`,
              ],
            },
            {
              Sid: "LakeKey",
              Effect: "Allow",
              Action: ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
              Resource: args.lakeKeyArn,
            },
          ],
        }),
      },
      { parent: this },
    );
    // Column-level grant: Lake Formation itself refuses any column outside the feed's allow-list.
    const lfGrants = [
      new aws.lakeformation.Permissions(
        `${name}-curated-database`,
        {
          principal: this.role.arn,
          catalogId: accountId,
          permissions: ["DESCRIBE"],
          database: { catalogId: accountId, name: db },
        },
        { parent: this },
      ),
      new aws.lakeformation.Permissions(
        `${name}-orders-columns`,
        {
          principal: this.role.arn,
          catalogId: accountId,
          permissions: ["SELECT"],
          tableWithColumns: {
            catalogId: accountId,
            databaseName: db,
            name: args.ordersTableName,
            columnNames: [args.orders.timestampColumn, "customer_pseudo_id"],
          },
        },
        { parent: this },
      ),
    ];

    const query = pulumi
      .all([db, this.bucket.name])
      .apply(([database, bucket]) => athenaFeedUnload(args.orders, database, `s3://${bucket}/${EXPORT_PREFIX}`));
    this.schedule = new aws.scheduler.Schedule(
      `${name}-schedule`,
      {
        name: `${args.namePrefix}-${args.cell}-federation-export`,
        description: "Nightly UNLOAD of yesterday's PII-free orders feed, in-country (ADR 0006)",
        scheduleExpression: args.schedule ?? "cron(0 1 * * ? *)",
        scheduleExpressionTimezone: "UTC",
        // The schedule stores its target input (the query text) encrypted with the lake key.
        kmsKeyArn: args.lakeKeyArn,
        // Exact time: the copy finds the export under the scheduled time it computes from its own run time.
        flexibleTimeWindow: { mode: "OFF" },
        target: {
          arn: "arn:aws:scheduler:::aws-sdk:athena:startQueryExecution",
          roleArn: this.role.arn,
          input: pulumi.jsonStringify({
            QueryString: query,
            WorkGroup: workgroup.name,
            QueryExecutionContext: { Catalog: "AwsDataCatalog", Database: db },
          }),
          retryPolicy: { maximumRetryAttempts: 3, maximumEventAgeInSeconds: 3600 },
        },
      },
      { parent: this, dependsOn: [policy, ...lfGrants] },
    );
    this.registerOutputs({ bucket: this.bucket.name, schedule: this.schedule.arn });
  }
}

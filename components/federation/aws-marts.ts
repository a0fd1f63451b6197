/**
 * The marts on AWS, for analysts who query with Athena (the storage core's analysts workgroup): an
 * Iceberg `orders_daily` table in the marts Glue database (PII-free: day, pseudonymous customer, orders),
 * upserted every night from curated by an Athena MERGE, and trimmed to the marts retention by an Athena
 * DELETE. Maintenance (compaction, snapshot expiry, orphan files) is the ingestion layer's IcebergTable,
 * bounded by the erasure SLA like every Iceberg table of the lake.
 *
 * The clickstream lives in BigQuery only, so the joined KPIs and segments are BigQuery marts (marts.ts);
 * this is the orders side analysts on AWS can read without any access to curated.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { IcebergTable, maintenanceForSla } from "../aws/ingestion/iceberg-table";
import { AnalystWorkgroup } from "../aws/analyst-workgroup";
import { athenaMartsExpire, athenaMartsMerge, type OrdersTable } from "./sql";
import { serviceTrustPolicy } from "../aws/service-trust";

export interface AthenaMartsArgs {
  readonly namePrefix: string;
  readonly cell: string;
  readonly accountId: string;
  readonly region: string;
  readonly curatedDatabaseName: pulumi.Input<string>;
  readonly martsDatabaseName: pulumi.Input<string>;
  readonly warehouseBucketName: pulumi.Input<string>;
  readonly warehouseBucketArn: pulumi.Input<string>;
  readonly queryResultsBucketName: pulumi.Input<string>;
  readonly queryResultsBucketArn: pulumi.Input<string>;
  readonly lakeKeyArn: pulumi.Input<string>;
  readonly orders: OrdersTable;
  /** The curated orders table's Glue name, from its resource, so the column grant waits for the table. */
  readonly ordersTableName: pulumi.Input<string>;
  /** Days a mart row is kept (`retention.marts`). */
  readonly retentionDays: number;
  readonly erasureSlaDays: number;
  readonly bytesScannedCutoffPerQuery: number;
}

/** The AWS mart table's name and schema. */
export const AWS_MART_TABLE = "orders_daily";

export class AthenaMarts extends pulumi.ComponentResource {
  public readonly table: IcebergTable;
  public readonly schedules: readonly aws.scheduler.Schedule[];

  constructor(name: string, args: AthenaMartsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:federation:AthenaMarts", name, args, opts);
    const { accountId, region } = args;
    const child = { parent: this };
    const glue = (db: pulumi.Input<string>, table: string) => [
      pulumi.interpolate`arn:aws:glue:${region}:${accountId}:database/${db}`,
      pulumi.interpolate`arn:aws:glue:${region}:${accountId}:table/${db}/${table}`,
    ];
    const trust = (service: string) => serviceTrustPolicy(service, accountId);

    // Glue table optimizers of the mart (Glue user guide, "Table optimization prerequisites").
    const optimizerRole = new aws.iam.Role(
      `${name}-optimizer`,
      {
        name: `${args.namePrefix}-${args.cell}-marts-optimizer`,
        description: "Glue optimizers of the AWS marts",
        assumeRolePolicy: trust("glue.amazonaws.com"),
      },
      child,
    );
    const optimizerPolicy = new aws.iam.RolePolicy(
      `${name}-optimizer`,
      {
        role: optimizerRole.name,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "MartFiles",
              Effect: "Allow",
              Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
              Resource: pulumi.interpolate`${args.warehouseBucketArn}/marts/*`,
            },
            {
              Sid: "ListMarts",
              Effect: "Allow",
              Action: ["s3:ListBucket"],
              Resource: args.warehouseBucketArn,
              Condition: { StringLike: { "s3:prefix": ["marts/*"] } },
            },
            {
              Sid: "LakeKey",
              Effect: "Allow",
              Action: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
              Resource: args.lakeKeyArn,
            },
            {
              Sid: "MartTable",
              Effect: "Allow",
              Action: ["glue:GetTable", "glue:UpdateTable"],
              Resource: [
                `arn:aws:glue:${region}:${accountId}:catalog`,
                ...glue(args.martsDatabaseName, AWS_MART_TABLE),
              ],
            },
            { Sid: "LakeFormationDataAccess", Effect: "Allow", Action: ["lakeformation:GetDataAccess"], Resource: "*" },
            {
              Sid: "OptimizerLogs",
              Effect: "Allow",
              Action: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
              Resource: ["iceberg-compaction", "iceberg-retention", "iceberg-orphan-file-deletion"].map(
                (g) => `arn:aws:logs:${region}:${accountId}:log-group:/aws-glue/${g}/*`,
              ),
            },
          ],
        }),
      },
      child,
    );

    // The optimizers run as this role once created: like the ingestion's, it holds its Lake Formation
    // grant (on the marts tables) before the table and its optimizers exist, so they never start without it.
    const optimizerLf = new aws.lakeformation.Permissions(
      `${name}-optimizer-lf`,
      {
        principal: optimizerRole.arn,
        catalogId: accountId,
        permissions: ["DESCRIBE", "SELECT", "INSERT", "DELETE", "ALTER"],
        table: { catalogId: accountId, databaseName: args.martsDatabaseName, wildcard: true },
      },
      child,
    );
    this.table = new IcebergTable(
      `${name}-orders-daily`,
      {
        accountId,
        databaseName: args.martsDatabaseName,
        tableName: AWS_MART_TABLE,
        description: "Orders per pseudonymous customer and UTC day (PII-free mart, Athena MERGE nightly)",
        columns: [
          { id: 1, name: "order_date", type: "date", required: true, doc: "UTC day of the orders" },
          { id: 2, name: "customer_pseudo_id", type: "string", required: true, doc: "keyed HMAC of the customer id" },
          { id: 3, name: "orders", type: "long", required: false, doc: "orders of the customer that day" },
        ],
        partitions: [{ column: "order_date", transform: "month", name: "order_date_month" }],
        location: pulumi.interpolate`s3://${args.warehouseBucketName}/marts/${AWS_MART_TABLE}/`,
        optimizerRoleArn: pulumi.all([optimizerRole.arn, optimizerPolicy.id, optimizerLf.id]).apply(([arn]) => arn),
        maintenance: maintenanceForSla(args.erasureSlaDays),
      },
      child,
    );

    const workgroup = new AnalystWorkgroup(
      `${name}-workgroup`,
      {
        workgroupName: `${args.namePrefix}-${args.cell}-marts-refresh`,
        outputLocation: pulumi.interpolate`s3://${args.queryResultsBucketName}/marts-refresh/`,
        kmsKeyArn: args.lakeKeyArn,
        bytesScannedCutoffPerQuery: args.bytesScannedCutoffPerQuery,
      },
      child,
    );
    const role = new aws.iam.Role(
      `${name}-refresh`,
      {
        name: `${args.namePrefix}-${args.cell}-marts-refresh`,
        description: "EventBridge Scheduler refreshes the AWS marts with Athena",
        assumeRolePolicy: trust("scheduler.amazonaws.com"),
      },
      child,
    );
    const policy = new aws.iam.RolePolicy(
      `${name}-refresh`,
      {
        role: role.name,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "RunRefresh",
              Effect: "Allow",
              Action: ["athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetWorkGroup"],
              Resource: pulumi.interpolate`arn:aws:athena:${region}:${accountId}:workgroup/${workgroup.name}`,
            },
            {
              Sid: "Catalog",
              Effect: "Allow",
              Action: ["glue:GetDatabase", "glue:GetTable", "glue:GetPartitions", "glue:UpdateTable"],
              Resource: [
                `arn:aws:glue:${region}:${accountId}:catalog`,
                ...glue(args.curatedDatabaseName, args.orders.table),
                ...glue(args.martsDatabaseName, AWS_MART_TABLE),
              ],
            },
            {
              Sid: "LakeFormationCredentials",
              Effect: "Allow",
              Action: ["lakeformation:GetDataAccess"],
              Resource: "*",
            },
            {
              Sid: "ReadCurated",
              Effect: "Allow",
              Action: ["s3:GetObject"],
              Resource: pulumi.interpolate`${args.warehouseBucketArn}/curated/*`,
            },
            {
              Sid: "WriteMarts",
              Effect: "Allow",
              Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
              Resource: pulumi.interpolate`${args.warehouseBucketArn}/marts/${AWS_MART_TABLE}/*`,
            },
            {
              Sid: "ListWarehouse",
              Effect: "Allow",
              Action: ["s3:ListBucket", "s3:GetBucketLocation"],
              Resource: args.warehouseBucketArn,
              Condition: { StringLike: { "s3:prefix": ["curated/*", `marts/${AWS_MART_TABLE}/*`] } },
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
              Resource: [args.queryResultsBucketArn, pulumi.interpolate`${args.queryResultsBucketArn}/marts-refresh/*`],
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
      child,
    );
    const lf = [
      new aws.lakeformation.Permissions(
        `${name}-refresh-curated-database`,
        {
          principal: role.arn,
          catalogId: accountId,
          permissions: ["DESCRIBE"],
          database: { catalogId: accountId, name: args.curatedDatabaseName },
        },
        child,
      ),
      // Column-level: the refresh can read only what the mart is built from.
      new aws.lakeformation.Permissions(
        `${name}-refresh-orders-columns`,
        {
          principal: role.arn,
          catalogId: accountId,
          permissions: ["SELECT"],
          tableWithColumns: {
            catalogId: accountId,
            databaseName: args.curatedDatabaseName,
            name: args.ordersTableName,
            columnNames: [args.orders.timestampColumn, "customer_pseudo_id"],
          },
        },
        child,
      ),
      new aws.lakeformation.Permissions(
        `${name}-refresh-mart`,
        {
          principal: role.arn,
          catalogId: accountId,
          permissions: ["DESCRIBE", "SELECT", "INSERT", "DELETE"],
          table: { catalogId: accountId, databaseName: args.martsDatabaseName, name: this.table.name },
        },
        child,
      ),
    ];

    const schedule = (id: string, cron: string, query: pulumi.Input<string>, description: string) =>
      new aws.scheduler.Schedule(
        `${name}-${id}`,
        {
          name: `${args.namePrefix}-${args.cell}-marts-${id}`,
          description,
          scheduleExpression: cron,
          scheduleExpressionTimezone: "UTC",
          // The schedule stores its target input (the query text) encrypted with the lake key.
          kmsKeyArn: args.lakeKeyArn,
          flexibleTimeWindow: { mode: "OFF" },
          target: {
            arn: "arn:aws:scheduler:::aws-sdk:athena:startQueryExecution",
            roleArn: role.arn,
            input: pulumi.jsonStringify({
              QueryString: query,
              WorkGroup: workgroup.name,
              QueryExecutionContext: { Catalog: "AwsDataCatalog", Database: args.martsDatabaseName },
            }),
            retryPolicy: { maximumRetryAttempts: 3, maximumEventAgeInSeconds: 3600 },
          },
        },
        { parent: this, dependsOn: [policy, optimizerLf, ...lf] },
      );
    const dbs = pulumi.all([args.curatedDatabaseName, args.martsDatabaseName]);
    this.schedules = [
      schedule(
        "refresh",
        "cron(30 1 * * ? *)",
        dbs.apply(([curated, marts]) => athenaMartsMerge(args.orders, curated, marts, AWS_MART_TABLE)),
        "Nightly upsert of yesterday's orders per pseudonymous customer into the AWS marts",
      ),
      schedule(
        "expire",
        "cron(0 4 * * ? *)",
        dbs.apply(([, marts]) => athenaMartsExpire(marts, AWS_MART_TABLE, args.retentionDays)),
        "Nightly deletion of mart days older than the marts retention",
      ),
    ];
    this.registerOutputs({ table: this.table.name });
  }
}

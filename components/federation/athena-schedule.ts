/**
 * The scheduled Athena query, shared by the AWS marts (nightly MERGE and DELETE) and the in-country
 * export (nightly UNLOAD): EventBridge Scheduler calls Athena's StartQueryExecution through its universal
 * target (EventBridge Scheduler user guide, "Using universal targets"), as a role that may run queries in
 * one workgroup only, reads the curated orders through a column-level Lake Formation grant, and writes
 * only the prefixes its queries write.
 *
 * Functions, not a component: each caller keeps its children (and so their URNs) where they always were.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { allow, objectsUnder, type GlueScope, type Statement } from "../aws/iam/statements";
import type { OrdersTable } from "./sql";

/** What a scheduled query needs of its workgroup: start a query, follow it, read the workgroup's settings. */
export const ATHENA_RUN = ["athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetWorkGroup"] as const;

/** `arn:aws:athena:<region>:<account>:workgroup/<name>`. */
export const athenaWorkgroupArn = (scope: GlueScope, workgroupName: pulumi.Input<string>): pulumi.Output<string> =>
  pulumi.interpolate`arn:aws:athena:${scope.region}:${scope.accountId}:workgroup/${workgroupName}`;

/** Run queries in one workgroup (`actions` @default ATHENA_RUN). */
export const runAthenaQueries = (
  sid: string,
  scope: GlueScope,
  workgroupName: pulumi.Input<string>,
  actions: readonly string[] = ATHENA_RUN,
): Statement => allow(sid, actions, athenaWorkgroupArn(scope, workgroupName));

/** What Athena does, as the caller, where a query writes (its results, or an UNLOAD's Parquet files). */
export const QUERY_OUTPUT = [
  "s3:PutObject",
  "s3:GetObject",
  "s3:ListBucket",
  "s3:GetBucketLocation",
  "s3:AbortMultipartUpload",
] as const;

/** Write query output under `prefix` of a bucket (`actions` @default QUERY_OUTPUT). */
export const writeQueryOutput = (
  sid: string,
  bucketArn: pulumi.Input<string>,
  prefix: string,
  actions: readonly string[] = QUERY_OUTPUT,
): Statement => allow(sid, actions, [bucketArn, objectsUnder(bucketArn, prefix)]);

/**
 * List a bucket and read its location, only under the given prefixes (`s3:prefix` StringLike `<prefix>*`).
 * `s3:GetBucketLocation` carries no `s3:prefix` key, so under this condition it is not granted in effect
 * (IAM user guide, "Condition keys that are not present"); kept as the plan always had it.
 */
export const listPrefixesWithLocation = (
  sid: string,
  bucketArn: pulumi.Input<string>,
  prefixes: readonly string[],
): Statement =>
  allow(sid, ["s3:ListBucket", "s3:GetBucketLocation"], bucketArn, {
    StringLike: { "s3:prefix": prefixes.map((p) => `${p}*`) },
  });

/** What a role that reads the curated orders is granted in Lake Formation. */
export interface OrdersReadGrantsArgs {
  /** The role the grants go to. */
  readonly principal: pulumi.Input<string>;
  /** The account whose Data Catalog holds the tables (the grants' `catalogId`). */
  readonly accountId: string;
  /** The curated Glue database. */
  readonly curatedDatabaseName: pulumi.Input<string>;
  /** The curated orders table's Glue name, from its resource, so the column grant waits for the table. */
  readonly ordersTableName: pulumi.Input<string>;
  /** The orders table's shape (its timestamp column is granted). */
  readonly orders: OrdersTable;
}

/**
 * `<prefix>-curated-database` (DESCRIBE) and `<prefix>-orders-columns` (SELECT on the day and the
 * pseudonymous customer only): Lake Formation itself refuses any other column of the orders.
 */
export function ordersReadGrants(
  prefix: string,
  args: OrdersReadGrantsArgs,
  opts: pulumi.CustomResourceOptions,
): aws.lakeformation.Permissions[] {
  const { accountId: catalogId } = args;
  return [
    new aws.lakeformation.Permissions(
      `${prefix}-curated-database`,
      {
        principal: args.principal,
        catalogId,
        permissions: ["DESCRIBE"],
        database: { catalogId, name: args.curatedDatabaseName },
      },
      opts,
    ),
    new aws.lakeformation.Permissions(
      `${prefix}-orders-columns`,
      {
        principal: args.principal,
        catalogId,
        permissions: ["SELECT"],
        tableWithColumns: {
          catalogId,
          databaseName: args.curatedDatabaseName,
          name: args.ordersTableName,
          columnNames: [args.orders.timestampColumn, "customer_pseudo_id"],
        },
      },
      opts,
    ),
  ];
}

export interface AthenaQueryScheduleArgs {
  /** Physical name of the schedule. */
  readonly scheduleName: string;
  /** What the query does (shown in the console). */
  readonly description: string;
  /** EventBridge Scheduler expression, evaluated in UTC (e.g. `cron(0 1 * * ? *)`). */
  readonly scheduleExpression: string;
  /** The SQL text. */
  readonly query: pulumi.Input<string>;
  /** The workgroup the query runs in (its output location, encryption and scan cutoff apply). */
  readonly workgroupName: pulumi.Input<string>;
  /** The Glue database the query's unqualified table names resolve in. */
  readonly database: pulumi.Input<string>;
  /** The role the scheduler assumes; it needs `runAthenaQueries` on the workgroup. */
  readonly roleArn: pulumi.Input<string>;
  /** The key the schedule encrypts its target input (the query text) with. */
  readonly kmsKeyArn: pulumi.Input<string>;
}

/** A schedule that starts one Athena query; `opts` carries its parent and what it waits for. */
export function athenaQuerySchedule(
  name: string,
  args: AthenaQueryScheduleArgs,
  opts: pulumi.CustomResourceOptions,
): aws.scheduler.Schedule {
  return new aws.scheduler.Schedule(
    name,
    {
      name: args.scheduleName,
      description: args.description,
      scheduleExpression: args.scheduleExpression,
      scheduleExpressionTimezone: "UTC",
      // The schedule stores its target input (the query text) encrypted with this key.
      kmsKeyArn: args.kmsKeyArn,
      // Exact time: the in-country copy finds an export under the scheduled time it computes from its own
      // run time (in-country-copy.ts `loadParams`).
      flexibleTimeWindow: { mode: "OFF" },
      target: {
        arn: "arn:aws:scheduler:::aws-sdk:athena:startQueryExecution",
        roleArn: args.roleArn,
        input: pulumi.jsonStringify({
          QueryString: args.query,
          WorkGroup: args.workgroupName,
          QueryExecutionContext: { Catalog: "AwsDataCatalog", Database: args.database },
        }),
        retryPolicy: { maximumRetryAttempts: 3, maximumEventAgeInSeconds: 3600 },
      },
    },
    opts,
  );
}

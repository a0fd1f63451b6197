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
import { ServiceRole } from "../aws/iam/service-role";
import {
  allow,
  glueCatalogArn,
  glueDatabaseArn,
  glueTableArn,
  lakeFormationDataAccess,
  objectsUnder,
  readObjects,
  S3_READ_WRITE,
  useKey,
  type Statement,
} from "../aws/iam/statements";
import { TableOptimizerRole } from "../aws/iam/table-optimizer-role";
import {
  athenaQuerySchedule,
  listPrefixesWithLocation,
  ordersReadGrants,
  runAthenaQueries,
  writeQueryOutput,
} from "./athena-schedule";
import { athenaMartsExpire, athenaMartsMerge, type OrdersTable } from "./sql";
import type { PersonalDataCatalog } from "../privacy/personal-data";

export interface AthenaMartsArgs {
  /** `lakehouse-<environment>-<cell>`: every physical name the marts create starts with it. */
  readonly resourcePrefix: string;
  /** The cell's AWS account. */
  readonly accountId: string;
  /** The cell's AWS region. */
  readonly region: string;
  /** The curated Glue database the refresh reads the orders from. */
  readonly curatedDatabaseName: pulumi.Input<string>;
  /** The marts Glue database the mart table lives in. */
  readonly martsDatabaseName: pulumi.Input<string>;
  /** The warehouse bucket: curated tables under `curated/`, the mart under `marts/`. */
  readonly warehouseBucketName: pulumi.Input<string>;
  /** ARN of the warehouse bucket. */
  readonly warehouseBucketArn: pulumi.Input<string>;
  /** The query-results bucket; the refresh workgroup writes under `marts-refresh/`. */
  readonly queryResultsBucketName: pulumi.Input<string>;
  /** ARN of the query-results bucket. */
  readonly queryResultsBucketArn: pulumi.Input<string>;
  /** The lake key: warehouse objects, query results and the schedules' query text. */
  readonly lakeKeyArn: pulumi.Input<string>;
  /** The curated orders table the mart is built from. */
  readonly orders: OrdersTable;
  /**
   * The cell's registry of personal data, where this component declares what it stores about a person
   * (components/privacy/personal-data.ts). @default not declared
   */
  readonly personalData?: PersonalDataCatalog;
  /** The curated orders table's Glue name, from its resource, so the column grant waits for the table. */
  readonly ordersTableName: pulumi.Input<string>;
  /** Days a mart row is kept (`retention.marts`). */
  readonly retentionDays: number;
  /** The erasure SLA in days; bounds the mart table's snapshot and orphan-file maintenance. */
  readonly erasureSlaDays: number;
  /** Bytes one refresh query may scan before Athena cancels it. */
  readonly bytesScannedCutoffPerQuery: number;
}

/** The AWS mart table's name and schema. */
export const AWS_MART_TABLE = "orders_daily";

/** The mart's files, under the warehouse bucket. */
const MART_PREFIX = `marts/${AWS_MART_TABLE}/`;

/**
 * The refresh role's policy: run queries in its workgroup, read the curated orders (Lake Formation
 * narrows that to two columns), read and write the mart table's files, write its query results.
 */
export function refreshStatements(args: AthenaMartsArgs, workgroupName: pulumi.Input<string>): Statement[] {
  const scope = { region: args.region, accountId: args.accountId };
  const warehouse = args.warehouseBucketArn;
  return [
    runAthenaQueries("RunRefresh", scope, workgroupName),
    allow(
      "Catalog",
      ["glue:GetDatabase", "glue:GetTable", "glue:GetPartitions", "glue:UpdateTable"],
      [
        glueCatalogArn(scope),
        glueDatabaseArn(scope, args.curatedDatabaseName),
        glueTableArn(scope, args.curatedDatabaseName, args.orders.table),
        glueDatabaseArn(scope, args.martsDatabaseName),
        glueTableArn(scope, args.martsDatabaseName, AWS_MART_TABLE),
      ],
    ),
    lakeFormationDataAccess("LakeFormationCredentials"),
    readObjects("ReadCurated", warehouse, "curated/"),
    allow("WriteMarts", [...S3_READ_WRITE, "s3:AbortMultipartUpload"], objectsUnder(warehouse, MART_PREFIX)),
    listPrefixesWithLocation("ListWarehouse", warehouse, ["curated/", MART_PREFIX]),
    writeQueryOutput("AthenaResults", args.queryResultsBucketArn, "marts-refresh/"),
    useKey("LakeKey", args.lakeKeyArn, ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"]),
  ];
}

export class AthenaMarts extends pulumi.ComponentResource {
  public readonly table: IcebergTable;
  public readonly schedules: readonly aws.scheduler.Schedule[];

  constructor(name: string, args: AthenaMartsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:federation:AthenaMarts", name, args, opts);
    const { accountId } = args;

    // The optimizers run as this role once created: like the ingestion's, it holds its Lake Formation
    // grant (on the marts tables) before the table and its optimizers exist, so they never start without it.
    const optimizer = new TableOptimizerRole(
      `${name}-optimizer`,
      {
        accountId,
        region: args.region,
        description: "Glue optimizers of the AWS marts",
        roleName: `${args.resourcePrefix}-marts-optimizer`,
        warehouseBucketArn: args.warehouseBucketArn,
        prefix: "marts/",
        lakeKeyArn: args.lakeKeyArn,
        databaseName: args.martsDatabaseName,
        tables: [AWS_MART_TABLE],
        sidLabel: "Mart",
        lakeFormationCatalogId: accountId,
      },
      { parent: this },
    );
    this.table = this.martTable(name, args, optimizer.arn);

    const workgroup = new AnalystWorkgroup(
      `${name}-workgroup`,
      {
        workgroupName: `${args.resourcePrefix}-marts-refresh`,
        outputLocation: pulumi.interpolate`s3://${args.queryResultsBucketName}/marts-refresh/`,
        kmsKeyArn: args.lakeKeyArn,
        bytesScannedCutoffPerQuery: args.bytesScannedCutoffPerQuery,
      },
      { parent: this },
    );
    const refresh = new ServiceRole(
      `${name}-refresh`,
      {
        service: "scheduler.amazonaws.com",
        accountId,
        description: "EventBridge Scheduler refreshes the AWS marts with Athena",
        roleName: `${args.resourcePrefix}-marts-refresh`,
        statements: refreshStatements(args, workgroup.name),
      },
      { parent: this },
    );
    // Column-level: the refresh can read only what the mart is built from.
    const grants = [
      ...ordersReadGrants(`${name}-refresh`, { ...args, principal: refresh.arn }, { parent: this }),
      new aws.lakeformation.Permissions(
        `${name}-refresh-mart`,
        {
          principal: refresh.arn,
          catalogId: accountId,
          permissions: ["DESCRIBE", "SELECT", "INSERT", "DELETE"],
          table: { catalogId: accountId, databaseName: args.martsDatabaseName, name: this.table.name },
        },
        { parent: this },
      ),
    ];
    this.schedules = this.nightlyQueries(name, args, refresh.arn, workgroup.name, [optimizer.grant, ...grants]);
    this.registerOutputs({ table: this.table.name });
  }

  /** The Iceberg mart table, maintained by the optimizers running as `optimizerRoleArn`. */
  private martTable(name: string, args: AthenaMartsArgs, optimizerRoleArn: pulumi.Input<string>): IcebergTable {
    return new IcebergTable(
      `${name}-orders-daily`,
      {
        accountId: args.accountId,
        databaseName: args.martsDatabaseName,
        tableName: AWS_MART_TABLE,
        description: "Orders per pseudonymous customer and UTC day (PII-free mart, Athena MERGE nightly)",
        columns: [
          { id: 1, name: "order_date", type: "date", required: true, doc: "UTC day of the orders" },
          { id: 2, name: "customer_pseudo_id", type: "string", required: true, doc: "keyed HMAC of the customer id" },
          { id: 3, name: "orders", type: "long", required: false, doc: "orders of the customer that day" },
        ],
        partitions: [{ column: "order_date", transform: "month", name: "order_date_month" }],
        location: pulumi.interpolate`s3://${args.warehouseBucketName}/${MART_PREFIX}`,
        optimizerRoleArn,
        maintenance: maintenanceForSla(args.erasureSlaDays),
        // One row per pseudonymous customer and day: personal data (GDPR Recital 26), erased with the source.
        personalData: args.personalData,
      },
      { parent: this },
    );
  }

  /** The nightly MERGE (refresh) and DELETE (expire), run once every grant they need exists. */
  private nightlyQueries(
    name: string,
    args: AthenaMartsArgs,
    roleArn: pulumi.Input<string>,
    workgroupName: pulumi.Input<string>,
    grants: readonly pulumi.Resource[],
  ): aws.scheduler.Schedule[] {
    const dbs = pulumi.all([args.curatedDatabaseName, args.martsDatabaseName]);
    const schedule = (id: string, cron: string, query: pulumi.Input<string>, description: string) =>
      athenaQuerySchedule(
        `${name}-${id}`,
        {
          scheduleName: `${args.resourcePrefix}-marts-${id}`,
          description,
          scheduleExpression: cron,
          query,
          workgroupName,
          database: args.martsDatabaseName,
          roleArn,
          kmsKeyArn: args.lakeKeyArn,
        },
        // The role's ARN waits for its policy; the grants are the rest of what a run needs.
        { parent: this, dependsOn: [...grants] },
      );
    return [
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
  }
}

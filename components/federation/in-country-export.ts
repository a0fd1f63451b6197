/**
 * The AWS half of the in-country copy (br cells; ADR 0006): every night EventBridge Scheduler starts an
 * Athena UNLOAD in the cell's region that writes yesterday's PII-free orders aggregate as Parquet into a
 * short-lived exports bucket in the same region. The scheduler's role reads curated through Lake
 * Formation and writes only the exports prefix.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AnalystWorkgroup } from "../aws/analyst-workgroup";
import { s3BucketName } from "../aws/bucket-names";
import {
  glueTables,
  lakeFormationDataAccess,
  policyDocument,
  readObjects,
  useKey,
  type Statement,
} from "../aws/iam/statements";
import { SecureBucket } from "../aws/secure-bucket";
import { serviceTrustPolicy } from "../aws/service-trust";
import { noncurrentDaysForErasure } from "../conventions";
import type { PersonalDataCatalog } from "../privacy/personal-data";
import {
  athenaQuerySchedule,
  listPrefixesWithLocation,
  ordersReadGrants,
  runAthenaQueries,
  writeQueryOutput,
} from "./athena-schedule";
import { athenaFeedUnload, type OrdersTable } from "./sql";

export interface InCountryExportArgs {
  /** `lakehouse-<environment>-<cell>`: every physical name of the export starts with it. */
  readonly resourcePrefix: string;
  /** The cell (`br`), for descriptions. */
  readonly cell: string;
  /** The cell's AWS account. */
  readonly accountId: string;
  /** The cell's AWS region: the export runs and lands there. */
  readonly region: string;
  /** The curated Glue database the UNLOAD reads the orders from. */
  readonly curatedDatabaseName: pulumi.Input<string>;
  /** ARN of the warehouse bucket (curated tables under `curated/`). */
  readonly warehouseBucketArn: pulumi.Input<string>;
  /** The query-results bucket; the export workgroup writes under `federation-exports/`. */
  readonly queryResultsBucketName: pulumi.Input<string>;
  /** ARN of the query-results bucket. */
  readonly queryResultsBucketArn: pulumi.Input<string>;
  /** The access-logs bucket the exports bucket logs into. */
  readonly accessLogsBucketName: pulumi.Input<string>;
  /** The lake key: exports, query results and the schedule's query text. */
  readonly lakeKeyArn: pulumi.Input<string>;
  /** The curated orders table the feed is built from. */
  readonly orders: OrdersTable;
  /** The curated orders table's Glue name, from its resource, so the column grant waits for the table. */
  readonly ordersTableName: pulumi.Input<string>;
  /** Days an export object lives (the copy moves it within the hour; this bounds leftovers). */
  readonly expirationDays: number;
  /**
   * The cell's registry of personal data, where this component declares what it stores about a person
   * (components/privacy/personal-data.ts). @default not declared
   */
  readonly personalData?: PersonalDataCatalog;
  /** The erasure SLA in days; bounds how long a noncurrent export version survives. */
  readonly erasureSlaDays: number;
  /** Athena per-query cutoff, bytes. */
  readonly bytesScannedCutoffPerQuery: number;
  /** EventBridge Scheduler expression, UTC. @default "cron(0 1 * * ? *)" */
  readonly schedule?: string;
}

/** The prefix exports land under and the copy reads from. */
export const EXPORT_PREFIX = "orders_daily/";

/**
 * The export role's policy: run queries in its workgroup, read the curated orders (Lake Formation narrows
 * that to two columns), write the UNLOAD under the exports prefix and the query results.
 */
export function exportStatements(
  args: InCountryExportArgs,
  workgroupName: pulumi.Input<string>,
  exportsBucketArn: pulumi.Input<string>,
): Statement[] {
  const scope = { region: args.region, accountId: args.accountId };
  return [
    runAthenaQueries("RunExport", scope, workgroupName),
    glueTables(
      "CuratedCatalog",
      ["glue:GetDatabase", "glue:GetTable", "glue:GetPartitions"],
      scope,
      args.curatedDatabaseName,
      [args.orders.table],
    ),
    lakeFormationDataAccess("LakeFormationCredentials"),
    readObjects("ReadCuratedOrders", args.warehouseBucketArn, "curated/"),
    listPrefixesWithLocation("ListCurated", args.warehouseBucketArn, ["curated/"]),
    writeQueryOutput("WriteExports", exportsBucketArn, EXPORT_PREFIX),
    writeQueryOutput("AthenaResults", args.queryResultsBucketArn, "federation-exports/"),
    useKey("LakeKey", args.lakeKeyArn, ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"]),
  ];
}

export class InCountryExport extends pulumi.ComponentResource {
  public readonly bucket: SecureBucket;
  public readonly schedule: aws.scheduler.Schedule;
  public readonly role: aws.iam.Role;

  constructor(name: string, args: InCountryExportArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:federation:InCountryExport", name, args, opts);
    this.bucket = new SecureBucket(
      `${name}-bucket`,
      {
        bucketName: s3BucketName(args.resourcePrefix, "federation-exports", args.accountId),
        kmsKeyArn: args.lakeKeyArn,
        dataClass: "curated",
        expirationDays: args.expirationDays,
        noncurrentVersionExpirationDays: Math.min(args.expirationDays, noncurrentDaysForErasure(args.erasureSlaDays)),
        accessLogs: { bucket: args.accessLogsBucketName, prefix: "s3/federation-exports/" },
      },
      { parent: this },
    );
    args.personalData?.prefix({
      cloud: "aws",
      bucket: this.bucket.name,
      prefix: EXPORT_PREFIX,
      dataClass: "curated",
      expiresAfterDays: args.expirationDays,
      holds:
        "Nightly exports of orders per pseudonymous customer and day (customer_pseudo_id), until the copy moves them",
    });
    const workgroup = new AnalystWorkgroup(
      `${name}-workgroup`,
      {
        workgroupName: `${args.resourcePrefix}-federation-exports`,
        outputLocation: pulumi.interpolate`s3://${args.queryResultsBucketName}/federation-exports/`,
        kmsKeyArn: args.lakeKeyArn,
        bytesScannedCutoffPerQuery: args.bytesScannedCutoffPerQuery,
      },
      { parent: this },
    );

    // A plain role and policy rather than a ServiceRole: they keep the logical names (`-role`, `-access`)
    // existing stacks know them by, which a ServiceRole (one name for both) cannot alias.
    this.role = new aws.iam.Role(
      `${name}-role`,
      {
        name: `${args.resourcePrefix}-federation-export`,
        description: `EventBridge Scheduler runs the nightly in-country export of cell ${args.cell}`,
        assumeRolePolicy: serviceTrustPolicy("scheduler.amazonaws.com", args.accountId),
      },
      { parent: this },
    );
    const policy = new aws.iam.RolePolicy(
      `${name}-access`,
      { role: this.role.name, policy: policyDocument(exportStatements(args, workgroup.name, this.bucket.arn)) },
      { parent: this },
    );
    const grants = ordersReadGrants(name, { ...args, principal: this.role.arn }, { parent: this });

    const query = pulumi
      .all([args.curatedDatabaseName, this.bucket.name])
      .apply(([database, bucket]) => athenaFeedUnload(args.orders, database, `s3://${bucket}/${EXPORT_PREFIX}`));
    this.schedule = athenaQuerySchedule(
      `${name}-schedule`,
      {
        scheduleName: `${args.resourcePrefix}-federation-export`,
        description: "Nightly UNLOAD of yesterday's PII-free orders feed, in-country (ADR 0006)",
        scheduleExpression: args.schedule ?? "cron(0 1 * * ? *)",
        query,
        workgroupName: workgroup.name,
        database: args.curatedDatabaseName,
        roleArn: this.role.arn,
        kmsKeyArn: args.lakeKeyArn,
      },
      { parent: this, dependsOn: [policy, ...grants] },
    );
    this.registerOutputs({ bucket: this.bucket.name, schedule: this.schedule.arn });
  }
}

/**
 * The AWS half of a cell's secure storage core: two customer-managed keys (lake data; logs), the lake
 * buckets, the audit and access-log buckets, the CloudTrail trail, the Glue catalog with Lake Formation,
 * and the analysts' Athena workgroup. Everything is created through the cell's AWS provider (opts).
 */
import * as pulumi from "@pulumi/pulumi";
import type { Retention } from "../config/schema";
import { AnalystWorkgroup } from "./analyst-workgroup";
import { AuditTrail } from "./audit-trail";
import { s3BucketName, type BucketPurpose } from "./bucket-names";
import { expiringNoncurrentDays, QUERY_RESULTS_MAX_DAYS, warehouseNoncurrentDays } from "../../policy/contract";
import { CustomerManagedKey, type KeyServiceGrant } from "./customer-managed-key";
import { allowService } from "./iam/statements";
import { LakeCatalog } from "./lake-catalog";
import { bucketArn, SecureBucket } from "./secure-bucket";

export const LAKE_BUCKETS = ["landing", "raw", "warehouse", "query-results"] as const;
export type LakeBucket = (typeof LAKE_BUCKETS)[number];

export interface AwsStorageCoreArgs {
  /** `lakehouse-<environment>`: the start of every physical name. */
  readonly namePrefix: string;
  /** `dev`, `prod`...: the start of the Glue database names (`<environment>_<cell>_raw`). */
  readonly environment: string;
  /** The cell (`br`, `eu`): in every name, so two cells of one account never collide. */
  readonly cell: string;
  /** The cell's AWS account: bucket names end with it, key and bucket policies name it. */
  readonly accountId: string;
  /** The cell's AWS region (CloudTrail and CloudWatch Logs ARNs in the key policy). */
  readonly region: string;
  /** Days each data class is kept (the cell's jurisdiction's retention). */
  readonly retention: Retention;
  /** Days within which an erasure must be physical: bounds noncurrent-version expiry of the lake buckets. */
  readonly erasureSlaDays: number;
  /** Bytes one analyst query may scan (the workgroup's cutoff, from the scale config). */
  readonly athenaBytesScannedCutoff: number;
  /** The role that deploys the cell (config `cells[].aws.deployRoleArn`): always a Lake Formation admin. */
  readonly deployRoleArn: string;
  /** Further Lake Formation administrators (IAM role ARNs in this account). */
  readonly lakeAdmins: readonly string[];
  /** Production: audit evidence in COMPLIANCE mode (nobody, root included, can shorten it). */
  readonly protect: boolean;
}

export class AwsStorageCore extends pulumi.ComponentResource {
  public readonly lakeKey: CustomerManagedKey;
  public readonly logsKey: CustomerManagedKey;
  public readonly buckets: Readonly<Record<LakeBucket | "audit" | "access-logs", SecureBucket>>;
  public readonly catalog: LakeCatalog;
  public readonly trail: AuditTrail;
  public readonly workgroup: AnalystWorkgroup;

  constructor(name: string, args: AwsStorageCoreArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:aws:StorageCore", name, args, opts);
    const { accountId, region } = args;
    const trailName = `${args.namePrefix}-${args.cell}-lake`;
    const trailArn = `arn:aws:cloudtrail:${region}:${accountId}:trail/${trailName}`;

    this.lakeKey = new CustomerManagedKey(
      `${name}-lake-key`,
      { description: `Lake data of cell ${args.cell}`, alias: `${args.namePrefix}-${args.cell}-lake`, accountId },
      { parent: this },
    );
    this.logsKey = new CustomerManagedKey(
      `${name}-logs-key`,
      {
        description: `Audit and access logs of cell ${args.cell}`,
        alias: `${args.namePrefix}-${args.cell}-logs`,
        accountId,
        serviceGrants: logsKeyGrants(accountId, region, trailArn),
      },
      { parent: this },
    );

    const logBuckets = this.createLogBuckets(name, args, trailArn);
    const lake = this.createLakeBuckets(name, args, logBuckets["access-logs"]);
    this.buckets = { ...lake, audit: logBuckets.audit, "access-logs": logBuckets["access-logs"] };

    this.trail = new AuditTrail(
      `${name}-trail`,
      {
        trailName,
        auditBucketName: logBuckets.audit.name,
        auditBucketReady: logBuckets.audit.ready,
        kmsKeyArn: this.logsKey.arn,
        dataEventBucketArns: LAKE_BUCKETS.map((b) => lake[b].arn),
      },
      { parent: this },
    );

    const dbPrefix = `${args.environment}_${args.cell}`.replace(/-/g, "_");
    this.catalog = new LakeCatalog(
      `${name}-catalog`,
      {
        accountId,
        databasePrefix: dbPrefix,
        kmsKeyArn: this.lakeKey.arn,
        deployRoleArn: args.deployRoleArn,
        admins: args.lakeAdmins,
        locations: {
          raw: pulumi.interpolate`s3://${lake.raw.name}/`,
          curated: pulumi.interpolate`s3://${lake.warehouse.name}/curated/`,
          marts: pulumi.interpolate`s3://${lake.warehouse.name}/marts/`,
        },
      },
      { parent: this },
    );

    this.workgroup = new AnalystWorkgroup(
      `${name}-analysts`,
      {
        workgroupName: `${args.namePrefix}-${args.cell}-analysts`,
        outputLocation: pulumi.interpolate`s3://${lake["query-results"].name}/athena/`,
        kmsKeyArn: this.lakeKey.arn,
        bytesScannedCutoffPerQuery: args.athenaBytesScannedCutoff,
      },
      { parent: this },
    );

    this.registerOutputs({
      lakeKeyArn: this.lakeKey.arn,
      buckets: Object.fromEntries(Object.entries(this.buckets).map(([k, b]) => [k, b.name])),
      databases: this.catalog.databaseNames,
    });
  }

  /** `<namePrefix>-<cell>-<purpose>-<account>` (./bucket-names.ts, which validation checks too). */
  private physical(args: AwsStorageCoreArgs, purpose: BucketPurpose): string {
    return s3BucketName(`${args.namePrefix}-${args.cell}`, purpose, args.accountId);
  }

  /** The access-log bucket and the Object-Locked audit bucket CloudTrail writes to, both under the logs key. */
  private createLogBuckets(
    name: string,
    args: AwsStorageCoreArgs,
    trailArn: string,
  ): Record<"access-logs" | "audit", SecureBucket> {
    const { accountId, retention } = args;
    const accessLogsName = this.physical(args, "access-logs");
    const auditName = this.physical(args, "audit");
    // Server access logs cannot go to a bucket with an Object Lock default retention (S3 user guide,
    // "Enabling Amazon S3 server access logging"), so they get their own bucket next to the audit one.
    const accessLogs = new SecureBucket(
      `${name}-access-logs`,
      {
        bucketName: accessLogsName,
        kmsKeyArn: this.logsKey.arn,
        dataClass: "logs",
        expirationDays: retention.logs,
        noncurrentVersionExpirationDays: retention.logs,
        extraStatements: [
          allowService(
            "S3ServerAccessLogsWrite",
            "logging.s3.amazonaws.com",
            "s3:PutObject",
            `${bucketArn(accessLogsName)}/*`,
            {
              ArnLike: { "aws:SourceArn": `arn:aws:s3:::${args.namePrefix}-${args.cell}-*` },
              StringEquals: { "aws:SourceAccount": accountId },
            },
          ),
        ],
      },
      { parent: this },
    );
    const audit = new SecureBucket(
      `${name}-audit`,
      {
        bucketName: auditName,
        kmsKeyArn: this.logsKey.arn,
        dataClass: "audit",
        expirationDays: retention.audit,
        noncurrentVersionExpirationDays: retention.audit,
        objectLock: { mode: args.protect ? "COMPLIANCE" : "GOVERNANCE", days: retention.audit },
        accessLogs: { bucket: accessLogs.name, prefix: "s3/audit/" },
        extraStatements: [
          allowService("CloudTrailAclCheck", "cloudtrail.amazonaws.com", "s3:GetBucketAcl", bucketArn(auditName), {
            StringEquals: { "aws:SourceArn": trailArn },
          }),
          allowService(
            "CloudTrailWrite",
            "cloudtrail.amazonaws.com",
            "s3:PutObject",
            `${bucketArn(auditName)}/cloudtrail/AWSLogs/${accountId}/*`,
            { StringEquals: { "s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": trailArn } },
          ),
        ],
      },
      { parent: this },
    );
    return { "access-logs": accessLogs, audit };
  }

  /** The four lake buckets under the lake key, their old versions expiring within the erasure SLA. */
  private createLakeBuckets(
    name: string,
    args: AwsStorageCoreArgs,
    accessLogs: SecureBucket,
  ): Record<LakeBucket, SecureBucket> {
    const { retention, erasureSlaDays: sla } = args;
    // Old versions live what the erasure bound leaves them (policy/contract/erasure-bounds.ts): after the
    // expiry of an expiring bucket, after the live delete and snapshot expiry in the warehouse.
    const lake = (purpose: LakeBucket, dataClass: "raw" | "curated", expirationDays: number | undefined) =>
      new SecureBucket(
        `${name}-${purpose}`,
        {
          bucketName: this.physical(args, purpose),
          kmsKeyArn: this.lakeKey.arn,
          dataClass,
          expirationDays,
          ...(expirationDays === undefined ? { tableFormat: "iceberg" as const } : {}),
          noncurrentVersionExpirationDays:
            expirationDays === undefined ? warehouseNoncurrentDays(sla) : expiringNoncurrentDays(sla, expirationDays),
          accessLogs: { bucket: accessLogs.name, prefix: `s3/${purpose}/` },
        },
        { parent: this },
      );
    return {
      landing: lake("landing", "raw", retention.raw),
      raw: lake("raw", "raw", retention.raw),
      // Iceberg owns deletion in the warehouse (row deletes, snapshot expiry, orphan cleanup); an age-based
      // expiry of live data files would corrupt tables. Noncurrent versions still expire within the SLA.
      warehouse: lake("warehouse", "curated", undefined),
      // Query results are copies of whatever was queried: keep them a week at most.
      "query-results": lake("query-results", "curated", Math.min(QUERY_RESULTS_MAX_DAYS, retention.curated)),
    };
  }
}

/**
 * What the logs key lets services do as themselves: CloudTrail (this cell's trail only), S3 server access
 * logging and CloudWatch Logs (this account and region).
 */
export function logsKeyGrants(accountId: string, region: string, trailArn: string): KeyServiceGrant[] {
  return [
    // The three statements a trail's key needs, as "Configure AWS KMS key policies for CloudTrail"
    // lists them (docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html),
    // each limited to this cell's trail by aws:SourceArn as that page recommends.
    {
      // S3 asks KMS for a data key on behalf of CloudTrail with the trail's ARN as encryption context
      // ("How AWS CloudTrail uses AWS KMS", KMS developer guide: both calls are GenerateDataKey, so
      // the named action replaces the documented `GenerateDataKey*`).
      sid: "CloudTrailEncryptsLogs",
      service: "cloudtrail.amazonaws.com",
      actions: ["kms:GenerateDataKey"],
      condition: {
        StringLike: { "kms:EncryptionContext:aws:cloudtrail:arn": `arn:aws:cloudtrail:*:${accountId}:trail/*` },
        StringEquals: { "aws:SourceArn": trailArn },
      },
    },
    {
      // DescribeKey carries no encryption context, so it must not sit under the condition above:
      // the documented statement conditions it on aws:SourceArn only.
      sid: "CloudTrailDescribesKey",
      service: "cloudtrail.amazonaws.com",
      actions: ["kms:DescribeKey"],
      condition: { StringEquals: { "aws:SourceArn": trailArn } },
    },
    {
      // The audit bucket uses an S3 Bucket Key (SecureBucket): "kms:Decrypt permissions are required
      // to create or update a trail with SSE-KMS encryption enabled" on such a bucket (same page,
      // "Granting decrypt permissions"; the statement for the CloudTrail principal has no context condition).
      sid: "CloudTrailDecryptsWithBucketKey",
      service: "cloudtrail.amazonaws.com",
      actions: ["kms:Decrypt"],
      condition: { StringEquals: { "aws:SourceArn": trailArn } },
    },
    {
      // S3 server access logging writes SSE-KMS objects only with a customer-managed key it may use.
      sid: "S3ServerAccessLogging",
      service: "logging.s3.amazonaws.com",
      actions: ["kms:GenerateDataKey", "kms:Decrypt"],
      condition: { StringEquals: { "aws:SourceAccount": accountId } },
    },
    {
      sid: "CloudWatchLogs",
      service: `logs.${region}.amazonaws.com`,
      actions: [
        "kms:Encrypt",
        "kms:Decrypt",
        "kms:ReEncryptFrom",
        "kms:ReEncryptTo",
        "kms:GenerateDataKey",
        "kms:DescribeKey",
      ],
      condition: { ArnLike: { "kms:EncryptionContext:aws:logs:arn": `arn:aws:logs:${region}:${accountId}:*` } },
    },
  ];
}

/**
 * The AWS half of a cell's secure storage core: two customer-managed keys (lake data; logs), the lake
 * buckets, the audit and access-log buckets, the CloudTrail trail, the Glue catalog with Lake Formation,
 * and the analysts' Athena workgroup. Everything is created through the cell's AWS provider (opts).
 */
import * as pulumi from "@pulumi/pulumi";
import type { Retention } from "../config/schema";
import { AnalystWorkgroup } from "./analyst-workgroup";
import { AuditTrail } from "./audit-trail";
import { noncurrentDaysForErasure } from "../conventions";
import { CustomerManagedKey } from "./customer-managed-key";
import { LakeCatalog } from "./lake-catalog";
import { bucketArn, SecureBucket } from "./secure-bucket";

export const LAKE_BUCKETS = ["landing", "raw", "warehouse", "query-results"] as const;
export type LakeBucket = (typeof LAKE_BUCKETS)[number];

export interface AwsStorageCoreArgs {
  /** `lakehouse-<environment>`: the start of every physical name. */
  readonly namePrefix: string;
  readonly environment: string;
  readonly cell: string;
  readonly accountId: string;
  readonly region: string;
  readonly retention: Retention;
  readonly erasureSlaDays: number;
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
    const { accountId, region, retention } = args;
    const physical = (purpose: string) => `${args.namePrefix}-${args.cell}-${purpose}-${accountId}`;
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
        serviceGrants: [
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
        ],
      },
      { parent: this },
    );

    // Server access logs cannot go to a bucket with an Object Lock default retention (S3 user guide,
    // "Enabling Amazon S3 server access logging"), so they get their own bucket next to the audit one.
    const accessLogs = new SecureBucket(
      `${name}-access-logs`,
      {
        bucketName: physical("access-logs"),
        kmsKeyArn: this.logsKey.arn,
        dataClass: "logs",
        expirationDays: retention.logs,
        noncurrentVersionExpirationDays: retention.logs,
        extraStatements: [
          {
            Sid: "S3ServerAccessLogsWrite",
            Effect: "Allow",
            Principal: { Service: "logging.s3.amazonaws.com" },
            Action: "s3:PutObject",
            Resource: `${bucketArn(physical("access-logs"))}/*`,
            Condition: {
              ArnLike: { "aws:SourceArn": `arn:aws:s3:::${args.namePrefix}-${args.cell}-*` },
              StringEquals: { "aws:SourceAccount": accountId },
            },
          },
        ],
      },
      { parent: this },
    );
    const logsTo = (purpose: string) => ({ bucket: accessLogs.name, prefix: `s3/${purpose}/` });

    const audit = new SecureBucket(
      `${name}-audit`,
      {
        bucketName: physical("audit"),
        kmsKeyArn: this.logsKey.arn,
        dataClass: "audit",
        expirationDays: retention.audit,
        noncurrentVersionExpirationDays: retention.audit,
        objectLock: { mode: args.protect ? "COMPLIANCE" : "GOVERNANCE", days: retention.audit },
        accessLogs: logsTo("audit"),
        extraStatements: [
          {
            Sid: "CloudTrailAclCheck",
            Effect: "Allow",
            Principal: { Service: "cloudtrail.amazonaws.com" },
            Action: "s3:GetBucketAcl",
            Resource: bucketArn(physical("audit")),
            Condition: { StringEquals: { "aws:SourceArn": trailArn } },
          },
          {
            Sid: "CloudTrailWrite",
            Effect: "Allow",
            Principal: { Service: "cloudtrail.amazonaws.com" },
            Action: "s3:PutObject",
            Resource: `${bucketArn(physical("audit"))}/cloudtrail/AWSLogs/${accountId}/*`,
            Condition: {
              StringEquals: { "s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": trailArn },
            },
          },
        ],
      },
      { parent: this },
    );

    const noncurrent = noncurrentDaysForErasure(args.erasureSlaDays);
    const lake = (purpose: LakeBucket, dataClass: "raw" | "curated", expirationDays: number | undefined) =>
      new SecureBucket(
        `${name}-${purpose}`,
        {
          bucketName: physical(purpose),
          kmsKeyArn: this.lakeKey.arn,
          dataClass,
          expirationDays,
          ...(expirationDays === undefined ? { tableFormat: "iceberg" as const } : {}),
          noncurrentVersionExpirationDays: noncurrent,
          accessLogs: logsTo(purpose),
        },
        { parent: this },
      );
    const landing = lake("landing", "raw", retention.raw);
    const raw = lake("raw", "raw", retention.raw);
    // Iceberg owns deletion in the warehouse (row deletes, snapshot expiry, orphan cleanup); an age-based
    // expiry of live data files would corrupt tables. Noncurrent versions still expire within the SLA.
    const warehouse = lake("warehouse", "curated", undefined);
    // Query results are copies of whatever was queried: keep them a week at most.
    const queryResults = lake("query-results", "curated", Math.min(7, retention.curated));

    this.buckets = {
      landing,
      raw,
      warehouse,
      "query-results": queryResults,
      audit,
      "access-logs": accessLogs,
    };

    this.trail = new AuditTrail(
      `${name}-trail`,
      {
        trailName,
        auditBucketName: audit.name,
        auditBucketReady: audit.ready,
        kmsKeyArn: this.logsKey.arn,
        dataEventBucketArns: [landing.arn, raw.arn, warehouse.arn, queryResults.arn],
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
          raw: pulumi.interpolate`s3://${raw.name}/`,
          curated: pulumi.interpolate`s3://${warehouse.name}/curated/`,
          marts: pulumi.interpolate`s3://${warehouse.name}/marts/`,
        },
      },
      { parent: this },
    );

    this.workgroup = new AnalystWorkgroup(
      `${name}-analysts`,
      {
        workgroupName: `${args.namePrefix}-${args.cell}-analysts`,
        outputLocation: pulumi.interpolate`s3://${queryResults.name}/athena/`,
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
}

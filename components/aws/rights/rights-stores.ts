/**
 * The stores of a cell's data-subject requests (ADR 0013): the requests table (pseudonyms only, never a
 * raw identifier), the Object-Locked audit bucket, the short-lived exports bucket and the suppression
 * Iceberg table the merges anti-join.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { EXPORT_EXPIRY_DAYS, SUPPRESSION_TABLE } from "../../../functions/subject-rights/registry";
import { classification } from "../../conventions";
import type { Retention } from "../../config/schema";
import { s3BucketName } from "../bucket-names";
import { TableOptimizerRole } from "../iam/table-optimizer-role";
import { statement } from "../iam/statements";
import { IcebergTable, maintenanceForSla } from "../ingestion/iceberg-table";
import type { IcebergColumn } from "../ingestion/plan-rules";
import { SecureBucket } from "../secure-bucket";
import type { AwsSourceContext } from "../sources/context";
import { REQUESTS_PREFIX } from "./rights-access";

/** The warehouse prefix of the suppression table (under `curated/`, where the curated Lake Formation location is). */
export const SUPPRESSION_PREFIX = `curated/subject_rights/${SUPPRESSION_TABLE}/`;

/** `<curated db>.subject_suppression`: one row per suppressed pseudonym (ADR 0013, "Suppression"). */
export const SUPPRESSION_COLUMNS: readonly IcebergColumn[] = [
  {
    id: 1,
    name: "pseudonym",
    type: "string",
    required: true,
    doc: "HMAC-SHA256 of a subject identifier under the cell key (hex)",
  },
  { id: 2, name: "request_id", type: "string", required: false, doc: "The erasure request that suppressed it" },
  { id: 3, name: "suppressed_at", type: "timestamp", required: false, doc: "When the worker recorded it (UTC)" },
];

/**
 * The requests table: one item per request (pk `requestId`), under the lake key, restorable for 35 days,
 * its stream (new images) feeding the AWS worker.
 */
export function requestsTable(name: string, context: AwsSourceContext, parent: pulumi.Resource): aws.dynamodb.Table {
  return new aws.dynamodb.Table(
    name,
    {
      name: `${context.resourcePrefix}-subject-requests`,
      billingMode: "PAY_PER_REQUEST",
      hashKey: "requestId",
      attributes: [{ name: "requestId", type: "S" }],
      serverSideEncryption: { enabled: true, kmsKeyArn: context.lakeKeyArn },
      pointInTimeRecovery: { enabled: true },
      // The worker needs the request as written (kind, pseudonyms), not the old image.
      streamEnabled: true,
      streamViewType: "NEW_IMAGE",
      deletionProtectionEnabled: context.protect,
      // The record of who asked what and what was done: kept as audit evidence (GDPR Art. 5(2), LGPD Art. 37).
      tags: classification("audit"),
    },
    { parent },
  );
}

/**
 * The audit bucket: like the cell's CloudTrail bucket (storage-core.ts), under the logs key, Object Lock
 * for `retention.audit` days, in COMPLIANCE mode when the stack protects its state (prod; GOVERNANCE
 * elsewhere, so a dev stack can be torn down), access-logged.
 */
export function auditBucket(
  name: string,
  context: AwsSourceContext,
  accessLogsBucket: pulumi.Input<string>,
  parent: pulumi.Resource,
): SecureBucket {
  const retention: Retention = context.retention;
  return new SecureBucket(
    name,
    {
      bucketName: s3BucketName(context.resourcePrefix, "rights-audit", context.accountId),
      kmsKeyArn: context.logsKeyArn,
      dataClass: "audit",
      expirationDays: retention.audit,
      noncurrentVersionExpirationDays: retention.audit,
      objectLock: { mode: context.protect ? "COMPLIANCE" : "GOVERNANCE", days: retention.audit },
      accessLogs: { bucket: accessLogsBucket, prefix: "s3/rights-audit/" },
    },
    { parent },
  );
}

/**
 * The exports bucket: access exports under `requests/<id>/`, expired after EXPORT_EXPIRY_DAYS (and their
 * old versions a day later). Only the privacy officers' role may read an object: the policy denies
 * `s3:GetObject` to every other principal, administrators included (the workers only write).
 */
export function exportsBucket(
  name: string,
  context: AwsSourceContext,
  accessLogsBucket: pulumi.Input<string>,
  officersRoleArn: string,
  parent: pulumi.Resource,
): SecureBucket {
  const bucketName = s3BucketName(context.resourcePrefix, "rights-exports", context.accountId);
  return new SecureBucket(
    name,
    {
      bucketName,
      kmsKeyArn: context.lakeKeyArn,
      // Rows of curated tables (pseudonymised); the class whose erasure bound the pack applies.
      dataClass: "curated",
      expirationDays: EXPORT_EXPIRY_DAYS,
      noncurrentVersionExpirationDays: 1,
      accessLogs: { bucket: accessLogsBucket, prefix: "s3/rights-exports/" },
      extraStatements: [
        statement({
          sid: "OnlyPrivacyOfficersRead",
          effect: "Deny",
          principal: "*",
          actions: ["s3:GetObject", "s3:GetObjectVersion"],
          resources: `arn:aws:s3:::${bucketName}/${REQUESTS_PREFIX}*`,
          condition: { ArnNotEquals: { "aws:PrincipalArn": officersRoleArn } },
        }),
      ],
    },
    { parent },
  );
}

/** The suppression table in the curated database, maintained within the erasure SLA like every curated table. */
export function suppressionTable(name: string, context: AwsSourceContext, parent: pulumi.Resource): IcebergTable {
  const child = { parent };
  const optimizer = new TableOptimizerRole(
    `${name}-optimizer`,
    {
      accountId: context.accountId,
      region: context.region,
      description: `Glue optimizers of the ${SUPPRESSION_TABLE} Iceberg table`,
      warehouseBucketArn: context.warehouse.arn,
      prefix: SUPPRESSION_PREFIX,
      lakeKeyArn: context.lakeKeyArn,
      databaseName: context.curatedDatabaseName,
      tables: [SUPPRESSION_TABLE],
      sidLabel: "Suppression",
    },
    child,
  );
  return new IcebergTable(
    name,
    {
      accountId: context.accountId,
      databaseName: context.curatedDatabaseName,
      tableName: SUPPRESSION_TABLE,
      columns: SUPPRESSION_COLUMNS,
      description: "Pseudonyms of erased subjects: the merges skip their rows (ADR 0013); pseudonyms only",
      location: pulumi.interpolate`s3://${context.warehouse.name}/${SUPPRESSION_PREFIX}`,
      optimizerRoleArn: optimizer.arn,
      maintenance: maintenanceForSla(context.erasureSlaDays),
    },
    child,
  );
}

/**
 * An S3 bucket that is secure by default: SSE-KMS with a customer-managed key and bucket keys,
 * versioning, a full public access block, `BucketOwnerEnforced` (no ACLs), a policy that denies any
 * request without TLS 1.2+, lifecycle rules from the retention config (noncurrent versions too) and
 * server access logging into the cell's access-log bucket. Each setting is its own v7 resource, joined
 * to the bucket by name; the policy pack checks the join.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { classification } from "../conventions";
import type { DataClass } from "../config/jurisdictions";

/** A bucket policy statement added to the secure defaults (e.g. a service that writes logs). */
export type PolicyStatement = pulumi.Input<Record<string, unknown>>;

export interface SecureBucketArgs {
  /** Globally unique bucket name. */
  readonly bucketName: string;
  /** Customer-managed KMS key for SSE-KMS. */
  readonly kmsKeyArn: pulumi.Input<string>;
  /** The data class stored, for retention bounds and tagging. */
  readonly dataClass: DataClass;
  /**
   * Days until current objects expire. `undefined` only with `tableFormat`, where the table format owns
   * deletion (Iceberg warehouse: expiring live data files by age would corrupt tables).
   */
  readonly expirationDays: number | undefined;
  /** The open table format that owns deletion of live objects (tagged, so the policy pack knows). @default none */
  readonly tableFormat?: "iceberg";
  /** Days until noncurrent versions expire: bounds how long erased data survives as old versions. */
  readonly noncurrentVersionExpirationDays: number;
  /** Where server access logs go. @default no access logging (only for the access-log bucket itself) */
  readonly accessLogs?: { readonly bucket: pulumi.Input<string>; readonly prefix: string };
  /** Object Lock default retention (audit evidence). @default none */
  readonly objectLock?: { readonly mode: "COMPLIANCE" | "GOVERNANCE"; readonly days: number };
  /** Extra statements for the bucket policy (service writers); see `bucketArn()`. @default [] */
  readonly extraStatements?: readonly PolicyStatement[];
}

/** The ARN of a bucket by name (S3 ARNs carry neither region nor account). */
export const bucketArn = (bucketName: string): string => `arn:aws:s3:::${bucketName}`;

export class SecureBucket extends pulumi.ComponentResource {
  public readonly bucket: aws.s3.Bucket;
  public readonly name: pulumi.Output<string>;
  public readonly arn: pulumi.Output<string>;
  /** Resolves once encryption, blocking and the policy are in place: depend on this, not on the bare bucket. */
  public readonly ready: pulumi.Output<string>;

  constructor(name: string, args: SecureBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:aws:SecureBucket", name, args, opts);
    if (args.expirationDays === undefined && args.tableFormat === undefined) {
      throw new Error(`SecureBucket ${name}: an expiration is required unless a table format owns deletion`);
    }
    const child = { parent: this };
    this.bucket = new aws.s3.Bucket(
      name,
      {
        bucket: args.bucketName,
        // Never empty a bucket of personal data as a side effect of a Pulumi operation.
        forceDestroy: false,
        objectLockEnabled: args.objectLock !== undefined,
        tags: { ...classification(args.dataClass), ...(args.tableFormat ? { "table-format": args.tableFormat } : {}) },
      },
      child,
    );
    const bucketName = this.bucket.bucket;

    const sse = new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-sse`,
      {
        bucket: bucketName,
        rules: [
          {
            applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: args.kmsKeyArn },
            // Bucket keys cut KMS requests (and cost) by ~99% without weakening the envelope.
            bucketKeyEnabled: true,
          },
        ],
      },
      child,
    );
    const versioning = new aws.s3.BucketVersioning(
      `${name}-versioning`,
      { bucket: bucketName, versioningConfiguration: { status: "Enabled" } },
      child,
    );
    const pab = new aws.s3.BucketPublicAccessBlock(
      `${name}-public-access-block`,
      {
        bucket: bucketName,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      },
      child,
    );
    const ownership = new aws.s3.BucketOwnershipControls(
      `${name}-ownership`,
      { bucket: bucketName, rule: { objectOwnership: "BucketOwnerEnforced" } },
      child,
    );
    const arn = this.bucket.arn;
    const policy = new aws.s3.BucketPolicy(
      `${name}-policy`,
      {
        bucket: bucketName,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "DenyInsecureTransport",
              Effect: "Deny",
              Principal: "*",
              Action: "s3:*",
              Resource: [arn, pulumi.interpolate`${arn}/*`],
              Condition: { Bool: { "aws:SecureTransport": "false" } },
            },
            {
              Sid: "DenyOutdatedTls",
              Effect: "Deny",
              Principal: "*",
              Action: "s3:*",
              Resource: [arn, pulumi.interpolate`${arn}/*`],
              Condition: { NumericLessThan: { "s3:TlsVersion": "1.2" } },
            },
            ...(args.extraStatements ?? []),
          ],
        }),
      },
      // A policy write races the public access block on a new bucket (S3 returns AccessDenied).
      { parent: this, dependsOn: [pab] },
    );
    const lifecycle = new aws.s3.BucketLifecycleConfiguration(
      `${name}-lifecycle`,
      {
        bucket: bucketName,
        rules: [
          {
            id: "retention",
            status: "Enabled",
            filter: {},
            ...(args.expirationDays !== undefined ? { expiration: { days: args.expirationDays } } : {}),
            noncurrentVersionExpiration: { noncurrentDays: args.noncurrentVersionExpirationDays },
            // Parts of abandoned uploads are invisible, billed, and may hold personal data.
            abortIncompleteMultipartUpload: { daysAfterInitiation: 2 },
          },
        ],
      },
      { parent: this, dependsOn: [versioning] },
    );
    const extras: pulumi.Resource[] = [];
    if (args.accessLogs) {
      extras.push(
        new aws.s3.BucketLogging(
          `${name}-access-logging`,
          {
            bucket: bucketName,
            targetBucket: args.accessLogs.bucket,
            targetPrefix: args.accessLogs.prefix,
            targetObjectKeyFormat: { partitionedPrefix: { partitionDateSource: "EventTime" } },
          },
          child,
        ),
      );
    }
    if (args.objectLock) {
      extras.push(
        new aws.s3.BucketObjectLockConfiguration(
          `${name}-object-lock`,
          {
            bucket: bucketName,
            objectLockEnabled: "Enabled",
            rule: { defaultRetention: { mode: args.objectLock.mode, days: args.objectLock.days } },
          },
          { parent: this, dependsOn: [versioning] },
        ),
      );
    }
    this.name = bucketName;
    this.arn = arn;
    this.ready = pulumi
      .all([bucketName, sse.id, pab.id, ownership.id, policy.id, lifecycle.id, ...extras.map((e) => e.urn)])
      .apply(([n]) => n);
    this.registerOutputs({ name: this.name, arn: this.arn });
  }
}

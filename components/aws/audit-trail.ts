/**
 * A CloudTrail trail for the cell: management events plus S3 data events on the lake buckets
 * (who read or changed which object: GDPR Art. 30 and 32, LGPD Art. 37), encrypted with the logs key,
 * with log file validation, delivered to the cell's Object-Locked audit bucket.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface AuditTrailArgs {
  /** Physical trail name (its ARN is in the logs key's and the audit bucket's policies). */
  readonly trailName: string;
  /** The Object-Locked bucket the trail delivers to (under `cloudtrail/`). */
  readonly auditBucketName: pulumi.Input<string>;
  /** The logs key the trail's log files are encrypted with. */
  readonly kmsKeyArn: pulumi.Input<string>;
  /** ARNs of the buckets whose object-level reads and writes are recorded. */
  readonly dataEventBucketArns: readonly pulumi.Input<string>[];
  /** Resolves when the audit bucket's policy lets CloudTrail write. */
  readonly auditBucketReady: pulumi.Input<string>;
}

export class AuditTrail extends pulumi.ComponentResource {
  public readonly trail: aws.cloudtrail.Trail;
  public readonly arn: pulumi.Output<string>;

  constructor(name: string, args: AuditTrailArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:aws:AuditTrail", name, args, opts);
    this.trail = new aws.cloudtrail.Trail(
      name,
      {
        name: args.trailName,
        // Wait for the bucket policy: CloudTrail validates write access at creation.
        s3BucketName: pulumi.all([args.auditBucketName, args.auditBucketReady]).apply(([n]) => n),
        s3KeyPrefix: "cloudtrail",
        kmsKeyId: args.kmsKeyArn,
        enableLogFileValidation: true,
        // Regional on purpose: a multi-region trail would gather other regions' events into this cell.
        isMultiRegionTrail: false,
        includeGlobalServiceEvents: false,
        enableLogging: true,
        advancedEventSelectors: [
          {
            name: "Management events",
            fieldSelectors: [{ field: "eventCategory", equals: ["Management"] }],
          },
          {
            name: "S3 object reads and writes in the lake",
            fieldSelectors: [
              { field: "eventCategory", equals: ["Data"] },
              { field: "resources.type", equals: ["AWS::S3::Object"] },
              { field: "resources.ARN", startsWiths: args.dataEventBucketArns.map((a) => pulumi.interpolate`${a}/`) },
            ],
          },
        ],
      },
      { parent: this },
    );
    this.arn = this.trail.arn;
    this.registerOutputs({ arn: this.arn });
  }
}

/**
 * A Cloud Storage bucket that is secure by default: in the cell region, CMEK, uniform bucket-level
 * access (no object ACLs), public access prevention enforced, versioning, lifecycle deletion of live
 * and noncurrent objects from the retention config, and a soft-delete window inside the erasure SLA.
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { classification } from "../conventions";
import type { DataClass } from "../config/jurisdictions";

export interface SecureGcsBucketArgs {
  /** The GCP project. */
  readonly project: string;
  /** Globally unique bucket name (at most 63 characters). */
  readonly bucketName: string;
  /** The cell's region (a single region: dual- and multi-regions would leave the jurisdiction). */
  readonly location: string;
  /** Cloud KMS key for the bucket's default encryption (waits on the Cloud Storage agent's grant). */
  readonly kmsKeyName: pulumi.Input<string>;
  /** Data class: the `data-classification` label. */
  readonly dataClass: DataClass;
  /** Days after which objects, live or not, are deleted (the data class's retention). */
  readonly expirationDays: number;
  /** Days a replaced or deleted object version survives (inside the erasure SLA). */
  readonly noncurrentVersionExpirationDays: number;
  /** Soft-delete window in days (0 disables; Google's default is 7). */
  readonly softDeleteDays: number;
  /** Production: the bucket cannot be deleted through Pulumi. */
  readonly protect: boolean;
}

export class SecureGcsBucket extends pulumi.ComponentResource {
  public readonly bucket: gcp.storage.Bucket;
  public readonly name: pulumi.Output<string>;
  public readonly url: pulumi.Output<string>;

  constructor(name: string, args: SecureGcsBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:gcp:SecureGcsBucket", name, args, opts);
    this.bucket = new gcp.storage.Bucket(
      name,
      {
        project: args.project,
        name: args.bucketName,
        // The API reports locations upper-case; writing it so avoids a perpetual diff.
        location: args.location.toUpperCase(),
        storageClass: "STANDARD",
        encryption: { defaultKmsKeyName: args.kmsKeyName },
        uniformBucketLevelAccess: true,
        publicAccessPrevention: "enforced",
        versioning: { enabled: true },
        softDeletePolicy: { retentionDurationSeconds: args.softDeleteDays * 86_400 },
        lifecycleRules: [
          { action: { type: "Delete" }, condition: { age: args.expirationDays, withState: "ANY" } },
          {
            action: { type: "Delete" },
            condition: { daysSinceNoncurrentTime: args.noncurrentVersionExpirationDays, withState: "ARCHIVED" },
          },
          { action: { type: "AbortIncompleteMultipartUpload" }, condition: { age: 2 } },
        ],
        forceDestroy: false,
        labels: classification(args.dataClass),
        ...(args.protect ? { deletionPolicy: "PREVENT" } : {}),
      },
      { parent: this },
    );
    this.name = this.bucket.name;
    this.url = this.bucket.url;
    this.registerOutputs({ name: this.name });
  }
}

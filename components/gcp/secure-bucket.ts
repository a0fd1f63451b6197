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
  readonly project: string;
  readonly bucketName: string;
  /** The cell's region (a single region: dual- and multi-regions would leave the jurisdiction). */
  readonly location: string;
  readonly kmsKeyName: pulumi.Input<string>;
  readonly dataClass: DataClass;
  readonly expirationDays: number;
  readonly noncurrentVersionExpirationDays: number;
  /** Soft-delete window in days (0 disables; Google's default is 7). */
  readonly softDeleteDays: number;
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

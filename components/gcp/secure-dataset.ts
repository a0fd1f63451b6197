/**
 * A BigQuery dataset that is secure by default: in the cell region, CMEK as the default for every table,
 * default table and partition expiration from the retention config, and a time travel window bounded by
 * the erasure SLA (time travel keeps deleted rows readable for that long).
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { classification, daysToMs } from "../conventions";
import type { DataClass } from "../config/jurisdictions";

export interface SecureDatasetArgs {
  readonly project: string;
  readonly datasetId: string;
  readonly location: string;
  readonly description: string;
  /** KMS key id (waits on the BigQuery agent's grant). */
  readonly kmsKeyName: pulumi.Input<string>;
  readonly dataClass: DataClass;
  /** Expiration of tables and partitions, in days. */
  readonly expirationDays: number;
  /** 48-168 hours in whole days. */
  readonly maxTimeTravelHours: number;
  readonly protect: boolean;
}

export class SecureDataset extends pulumi.ComponentResource {
  public readonly dataset: gcp.bigquery.Dataset;
  public readonly datasetId: pulumi.Output<string>;

  constructor(name: string, args: SecureDatasetArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:gcp:SecureDataset", name, args, opts);
    this.dataset = new gcp.bigquery.Dataset(
      name,
      {
        project: args.project,
        datasetId: args.datasetId,
        location: args.location,
        description: args.description,
        defaultEncryptionConfiguration: { kmsKeyName: args.kmsKeyName },
        defaultTableExpirationMs: daysToMs(args.expirationDays),
        defaultPartitionExpirationMs: daysToMs(args.expirationDays),
        maxTimeTravelHours: String(args.maxTimeTravelHours),
        // Physical bytes billing also makes time travel and fail-safe storage visible on the bill.
        storageBillingModel: "PHYSICAL",
        deleteContentsOnDestroy: false,
        deletionPolicy: args.protect ? "PREVENT" : "DELETE",
        labels: classification(args.dataClass),
      },
      { parent: this },
    );
    this.datasetId = this.dataset.datasetId;
    this.registerOutputs({ datasetId: this.datasetId });
  }
}

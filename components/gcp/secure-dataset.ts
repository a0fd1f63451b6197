/**
 * A BigQuery dataset that is secure by default: in the cell region, CMEK as the default for every table,
 * default partition expiration from the retention config (tables in these datasets are partitioned by
 * time, so retention is enforced per partition), and a time travel window bounded by
 * the erasure SLA (time travel keeps deleted rows readable for that long).
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { classification, daysToMs } from "../conventions";
import type { DataClass } from "../config/jurisdictions";

export interface SecureDatasetArgs {
  /** The GCP project. */
  readonly project: string;
  /** Dataset id (letters, digits, underscores). */
  readonly datasetId: string;
  /** The cell's region. */
  readonly location: string;
  /** What the dataset holds, for people browsing BigQuery. */
  readonly description: string;
  /** KMS key id (waits on the BigQuery agent's grant). */
  readonly kmsKeyName: pulumi.Input<string>;
  /** Data class: the `data-classification` label. */
  readonly dataClass: DataClass;
  /** Expiration of partitions (the retention of partitioned tables), in days. */
  readonly expirationDays: number;
  /** Also expire whole tables after `expirationDays` (scratch datasets only). @default false */
  readonly expireTables?: boolean;
  /** 48-168 hours in whole days. */
  readonly maxTimeTravelHours: number;
  /** Production: the dataset cannot be deleted through Pulumi. */
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
        // Partitions age out row by row; a default *table* expiration would instead delete whole
        // long-lived tables (and authorized views) a fixed time after they were created. Only scratch
        // datasets, whose tables are disposable, expire tables.
        defaultPartitionExpirationMs: daysToMs(args.expirationDays),
        ...(args.expireTables ? { defaultTableExpirationMs: daysToMs(args.expirationDays) } : {}),
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

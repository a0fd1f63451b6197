/**
 * The lake feed: a BigQuery dataset in the cell's GCP region (`lake_feed`, CMEK, retention from config)
 * holding `orders_daily`, the PII-free daily aggregate of curated orders per pseudonymous customer that
 * the marts join with the clickstream. Both federation paths fill it (Omni cross-cloud INSERT in eu,
 * in-country copy in br), so the marts are the same SQL in every cell and always run in the cell region.
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { classification, daysToMs } from "../conventions";
import { SecureDataset } from "../gcp/secure-dataset";
import { FEED_COLUMNS } from "./sql";
import type { PersonalDataCatalog } from "../privacy/personal-data";

export interface LakeFeedArgs {
  /** The cell's GCP project. */
  readonly project: string;
  /** The cell's GCP region: the feed dataset's location. */
  readonly region: string;
  /** The cell's BigQuery Cloud KMS key (waits on the agent's grant). */
  readonly kmsKeyName: pulumi.Input<string>;
  /** Days a feed partition is kept: the curated retention (it is derived from curated data). */
  readonly retentionDays: number;
  /** The dataset's time-travel window, hours (`lakehouse:bigqueryTimeTravelHours`). */
  readonly maxTimeTravelHours: number;
  /** Keep the dataset and table from being deleted with the stack (`lakehouse:protect`). */
  readonly protect: boolean;
  /** The feed dataset's id. @default "lake_feed" */
  readonly datasetId?: string;
  /**
   * Cluster `orders_daily` by `customer_pseudo_id`. False where the feed is written by a cross-cloud
   * INSERT INTO SELECT (Omni), which cannot target a clustered table.
   * @default true
   */
  readonly clustered?: boolean;
  /**
   * The cell's registry of personal data, where this component declares what it stores about a person
   * (components/privacy/personal-data.ts). @default not declared
   */
  readonly personalData?: PersonalDataCatalog;
}

export class LakeFeed extends pulumi.ComponentResource {
  public readonly dataset: SecureDataset;
  public readonly datasetId: pulumi.Output<string>;
  public readonly ordersDaily: gcp.bigquery.Table;
  /** `project.dataset.orders_daily`. */
  public readonly ordersDailyRef: pulumi.Output<string>;

  constructor(name: string, args: LakeFeedArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:federation:LakeFeed", name, args, opts);
    this.dataset = new SecureDataset(
      `${name}-dataset`,
      {
        project: args.project,
        datasetId: args.datasetId ?? "lake_feed",
        location: args.region,
        description: "PII-free daily aggregates of the curated lake (pseudonymous keys), fed by the federation path",
        kmsKeyName: args.kmsKeyName,
        dataClass: "curated",
        expirationDays: args.retentionDays,
        maxTimeTravelHours: args.maxTimeTravelHours,
        protect: args.protect,
      },
      { parent: this },
    );
    this.datasetId = this.dataset.datasetId;
    this.ordersDaily = new gcp.bigquery.Table(
      `${name}-orders-daily`,
      {
        project: args.project,
        datasetId: this.dataset.datasetId,
        tableId: "orders_daily",
        description: "Orders per pseudonymous customer and UTC day (no order ids, no direct identifiers)",
        schema: JSON.stringify(FEED_COLUMNS),
        // One partition per day: the in-country load (MIRROR) replaces exactly its day; erasure and retention act per day.
        timePartitioning: { type: "DAY", field: "order_date", expirationMs: daysToMs(args.retentionDays) },
        ...((args.clustered ?? true) ? { clusterings: ["customer_pseudo_id"] } : {}),
        // Encrypted with the dataset's default CMEK; stated again so the table never falls back to Google keys.
        encryptionConfiguration: { kmsKeyName: args.kmsKeyName },
        deletionProtection: args.protect,
        labels: classification("curated"),
      },
      { parent: this },
    );
    this.ordersDailyRef = pulumi.interpolate`${args.project}.${this.dataset.datasetId}.${this.ordersDaily.tableId}`;
    // Without direct identifiers, but one row per customer and day: pseudonymous data is personal data
    // (GDPR Recital 26, LGPD Art. 13 §4), so the subject's rows are erased and exported like the source's.
    args.personalData?.table({
      cloud: "gcp",
      dataset: pulumi.interpolate`${args.project}.${this.dataset.datasetId}`,
      table: this.ordersDaily.tableId,
      subjectColumns: ["customer_pseudo_id"],
      dataClass: "curated",
      holds: "Orders per pseudonymous customer and UTC day, fed from the curated orders",
    });
    this.registerOutputs({ datasetId: this.datasetId, ordersDaily: this.ordersDailyRef });
  }
}

/**
 * Marketing's real-time views and the ML features, in a dataset of their own (`clickstream_views`),
 * authorised on `clickstream_raw`: consumers get the views, never the raw events table.
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { classification, daysToMs } from "../../conventions";
import { VIEWS, type ViewName, type ViewSqlOptions } from "./view-sql";

export const VIEWS_DATASET_ID = "clickstream_views";

export interface MarketingViewsArgs {
  /** The cell's GCP project. */
  readonly project: string;
  /** The cell's GCP region: the views' dataset location. */
  readonly region: string;
  /** Dataset id of `clickstream_raw` (the views are authorised there). */
  readonly sourceDatasetId: pulumi.Input<string>;
  /** `project.dataset.table` of the events table. */
  readonly eventsTable: pulumi.Input<string>;
  /** Cloud KMS key for BigQuery (keyRing.keys.bigquery.id). */
  readonly kmsKeyName: pulumi.Input<string>;
  /** 48-168 hours, as the other datasets. */
  readonly maxTimeTravelHours: number;
  /** Clickstream retention in days (bounds every look-back). */
  readonly retentionDays: number;
  /** Days the sessions and funnel views cover. @default 2 */
  readonly lookbackDays?: number;
  /** Days the ML features cover. @default 30 */
  readonly featureLookbackDays?: number;
  /** Recent categories kept per visitor. @default 5 */
  readonly lastCategories?: number;
  /** Production: the views' dataset and views cannot be deleted through Pulumi. */
  readonly protect: boolean;
}

export class MarketingViews extends pulumi.ComponentResource {
  public readonly dataset: gcp.bigquery.Dataset;
  public readonly views: Readonly<Record<ViewName, gcp.bigquery.Table>>;
  /** `bq://project.dataset.user_features`, the Vertex AI feature view source. */
  public readonly featuresUri: pulumi.Output<string>;
  public readonly datasetId: pulumi.Output<string>;

  constructor(name: string, args: MarketingViewsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:gcp:MarketingViews", name, args, opts);
    const bound = (days: number) => Math.max(1, Math.min(days, args.retentionDays));
    this.dataset = new gcp.bigquery.Dataset(
      name,
      {
        project: args.project,
        datasetId: VIEWS_DATASET_ID,
        location: args.region,
        description: "Real-time marketing views and ML features over clickstream_raw.events (authorised views)",
        defaultEncryptionConfiguration: { kmsKeyName: args.kmsKeyName },
        // Views store nothing, so no default *table* expiration (it would delete the views themselves);
        // anything materialised here expires with the clickstream retention through its partitions.
        defaultPartitionExpirationMs: daysToMs(args.retentionDays),
        maxTimeTravelHours: String(args.maxTimeTravelHours),
        storageBillingModel: "PHYSICAL",
        deleteContentsOnDestroy: false,
        deletionPolicy: args.protect ? "PREVENT" : "DELETE",
        labels: classification("clickstream"),
      },
      { parent: this },
    );
    this.datasetId = this.dataset.datasetId;

    const views = {} as Record<ViewName, gcp.bigquery.Table>;
    for (const [viewId, spec] of Object.entries(VIEWS) as [ViewName, (typeof VIEWS)[ViewName]][]) {
      const query = pulumi.output(args.eventsTable).apply((eventsTable) => {
        const o: ViewSqlOptions = {
          eventsTable,
          lookbackDays: bound(args.lookbackDays ?? 2),
          featureLookbackDays: bound(args.featureLookbackDays ?? 30),
          lastCategories: args.lastCategories ?? 5,
        };
        return spec.sql(o);
      });
      const view = new gcp.bigquery.Table(
        `${name}-${viewId.replace(/_/g, "-")}`,
        {
          project: args.project,
          datasetId: this.dataset.datasetId,
          tableId: viewId,
          description: spec.description,
          view: { query, useLegacySql: false },
          deletionProtection: args.protect,
          labels: classification("clickstream"),
        },
        { parent: this },
      );
      // Authorised view: readers of this view need no access to clickstream_raw. Column policy tags
      // still apply to the identifying columns a view exposes.
      new gcp.bigquery.DatasetAccess(
        `${name}-${viewId.replace(/_/g, "-")}-authorised`,
        {
          project: args.project,
          datasetId: args.sourceDatasetId,
          view: { projectId: args.project, datasetId: this.dataset.datasetId, tableId: viewId },
        },
        { parent: this, dependsOn: [view] },
      );
      views[viewId] = view;
    }
    this.views = views;
    this.featuresUri = pulumi.interpolate`bq://${args.project}.${this.dataset.datasetId}.user_features`;
    this.registerOutputs({ datasetId: this.datasetId, featuresUri: this.featuresUri });
  }
}

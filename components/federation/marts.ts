/**
 * The PII-free marts of a cell, in the cell's BigQuery region: KPI and customer-segment views joining
 * the clickstream with the lake feed, authorized on their source datasets (consumers of `marts` need no
 * access to `clickstream_raw` or `lake_feed`: BigQuery "Authorized views"), and a BI Engine reservation
 * sized from the scale config for the dashboards.
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { classification } from "../conventions";
import { customerSegmentsView, kpiDailyView, segmentSummaryView } from "./sql";

export interface MartsArgs {
  /** The cell's GCP project. */
  readonly project: string;
  /** The cell's GCP region: the BI Engine reservation's location. */
  readonly region: string;
  /** The marts dataset (created by the storage core). */
  readonly martsDatasetId: pulumi.Input<string>;
  /** The clickstream dataset the views read, to authorize them on. */
  readonly clickstreamDatasetId: pulumi.Input<string>;
  /** The lake feed dataset the views read, to authorize them on. */
  readonly feedDatasetId: pulumi.Input<string>;
  /** `project.dataset.table` of the clickstream events. */
  readonly eventsRef: pulumi.Input<string>;
  /** `project.dataset.table` of the orders feed. */
  readonly ordersFeedRef: pulumi.Input<string>;
  /** Days of history the views cover. */
  readonly lookbackDays: number;
  /** BI Engine reservation, bytes (see limits.ts `biEngineBytes`). */
  readonly biEngineBytes: number;
  /**
   * Resources that create the source tables (BigQuery validates a view's query when it is created).
   * @default none
   */
  readonly sourcesReady?: readonly pulumi.Resource[];
  /** The project's API enablements (`ProjectServices.enabled`), the BigQuery Reservation API (BI Engine) among them. */
  readonly apiEnablements: readonly pulumi.Resource[];
}

/** The views of the marts, by table id. */
export const MART_VIEWS = ["kpi_daily", "customer_segments", "segment_summary"] as const;
export type MartView = (typeof MART_VIEWS)[number];

export class Marts extends pulumi.ComponentResource {
  public readonly views: Readonly<Record<MartView, gcp.bigquery.Table>>;
  public readonly biEngine: gcp.bigquery.BiReservation;

  constructor(name: string, args: MartsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:federation:Marts", name, args, opts);
    const { project } = args;
    const sources = pulumi
      .all([args.eventsRef, args.ordersFeedRef])
      .apply(([events, ordersFeed]) => ({ events, ordersFeed, lookbackDays: args.lookbackDays }));
    const view = (id: MartView, query: pulumi.Input<string>, description: string, after: pulumi.Resource[] = []) =>
      new gcp.bigquery.Table(
        `${name}-${id.replace(/_/g, "-")}`,
        {
          project,
          datasetId: args.martsDatasetId,
          tableId: id,
          description,
          view: { query, useLegacySql: false },
          // A view stores nothing; dropping it loses no data, and protection would block schema changes.
          deletionProtection: false,
          labels: classification("marts"),
        },
        { parent: this, dependsOn: [...after, ...(args.sourcesReady ?? [])] },
      );
    const kpi = view(
      "kpi_daily",
      sources.apply(kpiDailyView),
      "Daily traffic, orders, buyers and conversion (aggregates only)",
    );
    const segments = view(
      "customer_segments",
      sources.apply(customerSegmentsView),
      "Behaviour and orders per pseudonymous customer, with a segment (no direct identifiers)",
    );
    const summary = view(
      "segment_summary",
      pulumi.interpolate`${project}.${args.martsDatasetId}.${segments.tableId}`.apply(segmentSummaryView),
      "Segment sizes for dashboards (groups under 10 customers suppressed)",
      [segments],
    );
    this.views = { kpi_daily: kpi, customer_segments: segments, segment_summary: summary };

    // Authorized views: the views read the sources on their own authority, so marts readers need no
    // grant on clickstream_raw or lake_feed (and get none: components/federation/persona-matrix.ts).
    const authorize = (source: string, datasetId: pulumi.Input<string>) =>
      [kpi, segments].map(
        (v) =>
          new gcp.bigquery.DatasetAccess(
            `${name}-authorize-${source}-${v === kpi ? "kpi-daily" : "customer-segments"}`,
            { project, datasetId, view: { projectId: project, datasetId: args.martsDatasetId, tableId: v.tableId } },
            { parent: this },
          ),
      );
    authorize("clickstream", args.clickstreamDatasetId);
    authorize("feed", args.feedDatasetId);
    // segment_summary reads only customer_segments, in the same dataset: no authorization needed.

    this.biEngine = new gcp.bigquery.BiReservation(
      `${name}-bi-engine`,
      {
        project,
        location: args.region,
        size: args.biEngineBytes,
        // Spend the capacity on what the dashboards' views scan, not on every table of the project.
        preferredTables: [
          { projectId: project, datasetId: args.clickstreamDatasetId, tableId: "events" },
          { projectId: project, datasetId: args.feedDatasetId, tableId: "orders_daily" },
        ],
      },
      { parent: this, dependsOn: [...args.apiEnablements] },
    );
    this.registerOutputs({ views: MART_VIEWS.map((v) => v) });
  }
}

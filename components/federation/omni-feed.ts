/**
 * The Omni half of the lake feed (eu cells): a BigQuery scheduled query that runs in the Omni location
 * (so the Iceberg data is read and aggregated in AWS eu-west-1) and moves only yesterday's PII-free
 * aggregate into `lake_feed.orders_daily` in the cell's BigQuery region by cross-cloud INSERT, as a
 * dedicated service account that may use the connection, read the federated dataset and write the feed.
 * A cross-cloud INSERT INTO SELECT cannot write a clustered table (BigQuery docs, "Load data with BigQuery
 * Omni operations"): the feed table of an Omni cell is unclustered (`LakeFeed` `clustered: false`).
 */
import { DATASET_READER, DATASET_WRITER } from "../gcp/dataset-grants";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { omniFeedInsert, type OrdersTable } from "./sql";

export interface OmniFeedArgs {
  /** The cell's GCP project. */
  readonly project: string;
  /** Its number (the BigQuery Data Transfer service agent is named from it). */
  readonly projectNumber: pulumi.Input<string>;
  /** The cell, for the service account id and display names. */
  readonly cell: string;
  /** The Omni location (`aws-eu-west-1`) the query runs in. */
  readonly omniLocation: string;
  /** The Omni connection (id and connection id). */
  readonly connection: gcp.bigquery.Connection;
  /** The Glue-federated dataset id. */
  readonly lakeDatasetId: pulumi.Input<string>;
  /** The lake feed dataset id. */
  readonly feedDatasetId: pulumi.Input<string>;
  /** `project.dataset.table` of the feed table. */
  readonly feedTableRef: pulumi.Input<string>;
  /** The curated orders table (in the federated dataset) the feed is built from. */
  readonly orders: OrdersTable;
  /** The cell's BigQuery key: the transfer's destination tables are CMEK-encrypted. */
  readonly kmsKeyName: pulumi.Input<string>;
  /** The transfer's schedule, Data Transfer Service syntax, UTC. @default "every day 02:00" */
  readonly schedule?: string;
}

export class OmniFeed extends pulumi.ComponentResource {
  public readonly serviceAccount: gcp.serviceaccount.Account;
  public readonly transfer: gcp.bigquery.DataTransferConfig;

  constructor(name: string, args: OmniFeedArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:federation:OmniFeed", name, args, opts);
    const { project } = args;
    this.serviceAccount = new gcp.serviceaccount.Account(
      `${name}-sa`,
      { project, accountId: `${args.cell}-omni-feed`.slice(0, 30), displayName: `Omni lake feed of cell ${args.cell}` },
      { parent: this },
    );
    const member = pulumi.interpolate`serviceAccount:${this.serviceAccount.email}`;
    const grants: pulumi.Resource[] = [
      new gcp.bigquery.ConnectionIamMember(
        `${name}-use-connection`,
        {
          project,
          location: args.omniLocation,
          connectionId: args.connection.connectionId,
          role: "roles/bigquery.connectionUser",
          member,
        },
        { parent: this },
      ),
      new gcp.bigquery.DatasetAccess(
        `${name}-read-lake`,
        {
          project,
          datasetId: args.lakeDatasetId,
          role: DATASET_READER,
          userByEmail: this.serviceAccount.email,
        },
        { parent: this },
      ),
      new gcp.bigquery.DatasetAccess(
        `${name}-write-feed`,
        {
          project,
          datasetId: args.feedDatasetId,
          role: DATASET_WRITER,
          userByEmail: this.serviceAccount.email,
        },
        { parent: this },
      ),
      new gcp.projects.IAMMember(`${name}-jobs`, { project, role: "roles/bigquery.jobUser", member }, { parent: this }),
      // The Data Transfer Service agent mints tokens for the query's service account.
      new gcp.serviceaccount.IAMMember(
        `${name}-dts-agent`,
        {
          serviceAccountId: this.serviceAccount.name,
          role: "roles/iam.serviceAccountTokenCreator",
          member: pulumi.interpolate`serviceAccount:service-${args.projectNumber}@gcp-sa-bigquerydatatransfer.iam.gserviceaccount.com`,
        },
        { parent: this },
      ),
    ];
    const query = pulumi
      .all([args.lakeDatasetId, args.feedTableRef])
      .apply(([lake, feed]) => omniFeedInsert(args.orders, project, lake, feed));
    this.transfer = new gcp.bigquery.DataTransferConfig(
      `${name}-transfer`,
      {
        project,
        displayName: `lake feed ${args.cell}: orders_daily via Omni`,
        dataSourceId: "scheduled_query",
        // The query runs where the data is: the Omni location, inside the EU (AWS eu-west-1).
        location: args.omniLocation,
        schedule: args.schedule ?? "every day 02:00",
        serviceAccountName: this.serviceAccount.email,
        params: { query },
        encryptionConfiguration: { kmsKeyName: args.kmsKeyName },
        emailPreferences: { enableFailureEmail: true },
      },
      { parent: this, dependsOn: grants },
    );
    this.registerOutputs({ transfer: this.transfer.name });
  }
}

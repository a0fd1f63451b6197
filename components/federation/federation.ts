/**
 * One SQL surface across clouds, per cell: how BigQuery reaches the Iceberg lake (Omni in cells with an
 * Omni region, an in-country copy otherwise), the lake feed both paths fill, the PII-free marts, and the
 * persona grants on both clouds. Spans both clouds: pass the cell's AWS and GCP providers in `providers`.
 */
import * as pulumi from "@pulumi/pulumi";
import type { IcebergTable } from "../aws/ingestion/iceberg-table";
import type { AwsStorageCore } from "../aws/storage-core";
import { stackFileName, type NonSecretConfig } from "../config/load";
import type { CellConfig, Retention } from "../config/schema";
import { StackConfigError } from "../config/validate";
import type { GcpStorageCore } from "../gcp/storage-core";
import { AthenaMarts } from "./aws-marts";
import { InCountryCopy } from "./in-country-copy";
import { LakeFeed } from "./lake-feed";
import { biEngineBytes, omniLimitProblems, omniLocationOf } from "./limits";
import { Marts } from "./marts";
import { OmniFeed } from "./omni-feed";
import { OmniFederation } from "./omni";
import { AwsPersonaAccess } from "./personas-aws";
import { GcpPersonaAccess } from "./personas-gcp";
import { ordersTableOf } from "./sql";
import { noncurrentDaysForErasure } from "../conventions";

export interface FederationArgs {
  readonly cell: CellConfig;
  /** The stack config; the federation needs none of its secrets. */
  readonly config: NonSecretConfig;
  readonly retention: Retention;
  /** The cell's storage cores (keys, buckets, catalog, datasets). */
  readonly aws: AwsStorageCore;
  readonly gcp: GcpStorageCore;
  /** Resources that create `clickstream_raw.events` (the marts' views need it to exist). @default [] */
  readonly clickstreamReady?: readonly pulumi.Resource[];
  /**
   * The curated Iceberg tables by Glue name (the ingestion layer's `tables`): column grants on the
   * orders table name it through its resource, so they wait for the table to exist.
   * @default {} (then the cell has no orders table and no grant names one)
   */
  readonly curatedTables?: Readonly<Record<string, IcebergTable>>;
}

/** Days of history the marts cover: 90, or less where a source's retention is shorter. */
export const martLookbackDays = (r: Retention): number => Math.min(90, r.clickstream, r.curated);

/** Days an in-country export may linger: the copy takes it within hours; never beyond the erasure SLA. */
export const exportExpirationDays = (erasureSlaDays: number): number =>
  Math.min(3, noncurrentDaysForErasure(erasureSlaDays));

/** APIs this layer needs beyond the storage core's (BI Engine, break-glass, the in-country transfer). */
export function federationServices(cell: CellConfig): string[] {
  return [
    "bigqueryreservation.googleapis.com",
    "privilegedaccessmanager.googleapis.com",
    ...(cell.federation === "in-country-copy" ? ["storagetransfer.googleapis.com"] : []),
  ];
}

/** The Glue name of a curated table, read from its resource (so a dependency), or a clear error. */
function curatedTableNameOf(tables: Readonly<Record<string, IcebergTable>>, table: string): pulumi.Output<string> {
  const t = Object.hasOwn(tables, table) ? tables[table] : undefined;
  if (!t) throw new Error(`The curated table ${table} is not declared by the ingestion layer: grants cannot name it`);
  return t.name;
}

export class Federation extends pulumi.ComponentResource {
  public readonly omni?: OmniFederation;
  public readonly inCountry?: InCountryCopy;
  public readonly feed: LakeFeed;
  public readonly marts: Marts;
  /** The orders mart on AWS for Athena analysts; undefined when the cell has no orders table. */
  public readonly awsMarts?: AthenaMarts;
  public readonly awsPersonas: AwsPersonaAccess;
  public readonly gcpPersonas: GcpPersonaAccess;

  constructor(name: string, args: FederationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:federation:Federation", name, args, opts);
    const { cell, config, retention } = args;
    const aws = args.aws;
    const gcp = args.gcp;
    const namePrefix = `lakehouse-${config.environment}`;
    const project = cell.gcp.project;
    const accountId = cell.aws.accountId;
    const child = { parent: this };

    // A scale that breaks an Omni limit is a config error, reported like validation's (stack file, key, fix).
    const problems = omniLimitProblems(cell, config.scale);
    if (problems.length > 0) throw new StackConfigError(stackFileName(), problems);

    // The cell enables every API it uses once, `federationServices(cell)` included (components/gcp/cell-apis.ts).
    const servicesReady = gcp.services.ready;

    this.feed = new LakeFeed(
      `${name}-feed`,
      {
        project,
        region: cell.gcp.region,
        kmsKeyName: gcp.keyRing.keys.bigquery.id,
        retentionDays: retention.curated,
        maxTimeTravelHours: config.bigqueryTimeTravelHours,
        protect: config.protect,
        // The Omni feed fills the table by cross-cloud INSERT INTO SELECT, which "does not support
        // transferring data into clustered table" (BigQuery docs, "Load data with BigQuery Omni
        // operations", Filter data > Limitations). The in-country load (a load job) may cluster.
        clustered: cell.federation !== "omni",
      },
      child,
    );
    const orders = ordersTableOf(config, cell.name);
    const curatedDb = aws.catalog.databaseNames.curated;
    const curatedDatasets: pulumi.Input<string>[] = [gcp.datasets.curated.datasetId, this.feed.datasetId];

    if (cell.federation === "omni") {
      const omniLocation = omniLocationOf(cell);
      if (omniLocation === undefined)
        throw new Error(`Cell '${cell.name}': no BigQuery Omni location for ${cell.aws.region}`);
      this.omni = new OmniFederation(
        `${name}-omni`,
        {
          namePrefix,
          cell: cell.name,
          accountId,
          awsRegion: cell.aws.region,
          omniLocation,
          project,
          curatedDatabaseName: curatedDb,
          warehouseBucketArn: aws.buckets.warehouse.arn,
          lakeKeyArn: aws.lakeKey.arn,
          protect: config.protect,
        },
        child,
      );
      curatedDatasets.push(this.omni.datasetId);
      if (orders) {
        new OmniFeed(
          `${name}-omni-feed`,
          {
            project,
            projectNumber: gcp.keyRing.projectNumber,
            cell: cell.name,
            omniLocation,
            connection: this.omni.connection,
            lakeDatasetId: this.omni.datasetId,
            feedDatasetId: this.feed.datasetId,
            feedTableRef: this.feed.ordersDailyRef,
            orders,
            kmsKeyName: gcp.keyRing.keys.bigquery.id,
          },
          child,
        );
      }
    } else if (orders) {
      this.inCountry = new InCountryCopy(
        `${name}-in-country`,
        {
          namePrefix,
          cell: cell.name,
          accountId,
          region: cell.aws.region,
          curatedDatabaseName: curatedDb,
          warehouseBucketArn: aws.buckets.warehouse.arn,
          queryResultsBucketName: aws.buckets["query-results"].name,
          queryResultsBucketArn: aws.buckets["query-results"].arn,
          accessLogsBucketName: aws.buckets["access-logs"].name,
          lakeKeyArn: aws.lakeKey.arn,
          orders,
          // Named through the table resource: the column grant waits until the table exists.
          ordersTableName: curatedTableNameOf(args.curatedTables ?? {}, orders.table),
          expirationDays: exportExpirationDays(config.erasureSlaDays),
          erasureSlaDays: config.erasureSlaDays,
          bytesScannedCutoffPerQuery: 10 * 1024 ** 3,
          project,
          projectNumber: gcp.keyRing.projectNumber,
          gcpRegion: cell.gcp.region,
          storageKmsKeyName: gcp.keyRing.keys.storage.id,
          bigqueryKmsKeyName: gcp.keyRing.keys.bigquery.id,
          feedDatasetId: this.feed.datasetId,
          feedTableId: this.feed.ordersDaily.tableId,
          protect: config.protect,
          servicesReady,
        },
        child,
      );
    }

    this.marts = new Marts(
      `${name}-marts`,
      {
        project,
        region: cell.gcp.region,
        martsDatasetId: gcp.datasets.marts.datasetId,
        clickstreamDatasetId: gcp.datasets.clickstream_raw.datasetId,
        feedDatasetId: this.feed.datasetId,
        eventsRef: pulumi.interpolate`${project}.${gcp.datasets.clickstream_raw.datasetId}.events`,
        ordersFeedRef: this.feed.ordersDailyRef,
        lookbackDays: martLookbackDays(retention),
        biEngineBytes: biEngineBytes(config.scale),
        sourcesReady: [this.feed.ordersDaily, ...(args.clickstreamReady ?? [])],
        servicesReady,
      },
      child,
    );

    if (orders) {
      this.awsMarts = new AthenaMarts(
        `${name}-aws-marts`,
        {
          namePrefix,
          cell: cell.name,
          accountId,
          region: cell.aws.region,
          curatedDatabaseName: curatedDb,
          martsDatabaseName: aws.catalog.databaseNames.marts,
          warehouseBucketName: aws.buckets.warehouse.name,
          warehouseBucketArn: aws.buckets.warehouse.arn,
          queryResultsBucketName: aws.buckets["query-results"].name,
          queryResultsBucketArn: aws.buckets["query-results"].arn,
          lakeKeyArn: aws.lakeKey.arn,
          orders,
          // Named through the table resource: the column grant waits until the table exists.
          ordersTableName: curatedTableNameOf(args.curatedTables ?? {}, orders.table),
          retentionDays: retention.marts,
          erasureSlaDays: config.erasureSlaDays,
          bytesScannedCutoffPerQuery: 10 * 1024 ** 3,
        },
        child,
      );
    }

    const warehouse = aws.buckets.warehouse.arn;
    this.awsPersonas = new AwsPersonaAccess(
      `${name}-aws-personas`,
      {
        namePrefix,
        cell: cell.name,
        accountId,
        region: cell.aws.region,
        personas: config.personas,
        databases: aws.catalog.databaseNames,
        zonePrefixes: {
          raw: pulumi.interpolate`${aws.buckets.raw.arn}/`,
          curated: pulumi.interpolate`${warehouse}/curated/`,
          marts: pulumi.interpolate`${warehouse}/marts/`,
          audit: pulumi.interpolate`${aws.buckets.audit.arn}/cloudtrail/`,
        },
        zoneBuckets: { raw: aws.buckets.raw.arn, curated: warehouse, marts: warehouse, audit: aws.buckets.audit.arn },
        lakeKeyArn: aws.lakeKey.arn,
        logsKeyArn: aws.logsKey.arn,
        workgroupName: aws.workgroup.name,
        queryResultsBucketArn: aws.buckets["query-results"].arn,
      },
      child,
    );
    this.gcpPersonas = new GcpPersonaAccess(
      `${name}-gcp-personas`,
      {
        project,
        namePrefix,
        cell: cell.name,
        personas: config.personas,
        datasets: {
          clickstream: [gcp.datasets.clickstream_raw.datasetId],
          curated: curatedDatasets,
          marts: [gcp.datasets.marts.datasetId],
        },
        servicesReady,
      },
      child,
    );
    this.registerOutputs({ feed: this.feed.datasetId });
  }
}

/**
 * One SQL surface across clouds, per cell: how BigQuery reaches the Iceberg lake (Omni in cells with an
 * Omni region, an in-country copy otherwise), the lake feed both paths fill, the PII-free marts, and the
 * persona grants on both clouds. Spans both clouds: pass the cell's AWS and GCP providers in `providers`.
 */
import * as pulumi from "@pulumi/pulumi";
import type { IcebergTable } from "../aws/ingestion/iceberg-table";
import type { AwsStorageCore } from "../aws/storage-core";
import type { NonSecretConfig } from "../config/load";
import type { CellConfig, Retention } from "../config/schema";
import type { GcpStorageCore } from "../gcp/storage-core";
import { AthenaMarts } from "./aws-marts";
import { InCountryCopy } from "./in-country-copy";
import { LakeFeed } from "./lake-feed";
import { biEngineBytes, omniLocationOf } from "./limits";
import { Marts } from "./marts";
import { OmniFeed } from "./omni-feed";
import { OmniFederation } from "./omni";
import { AwsPersonaAccess } from "./personas-aws";
import { GcpPersonaAccess, type PersonaWorkload } from "./personas-gcp";
import { ordersTableOf, type OrdersTable } from "./sql";
import { noncurrentDaysForErasure } from "../conventions";
import type { PersonalDataCatalog } from "../privacy/personal-data";

export interface FederationArgs {
  /** The cell (`lakehouse:cells[]`): its jurisdiction, regions, account, project and federation choice. */
  readonly cell: CellConfig;
  /** The stack config; the federation needs none of its secrets. */
  readonly config: NonSecretConfig;
  /** Retention days per data class of the cell's jurisdiction (feed, marts, lookback). */
  readonly retention: Retention;
  /** The cell's AWS storage core (keys, buckets, catalog, analysts' workgroup). */
  readonly aws: AwsStorageCore;
  /** The cell's GCP storage core (key ring, datasets, enabled APIs). */
  readonly gcp: GcpStorageCore;
  /** Resources that create `clickstream_raw.events` (the marts' views need it to exist). @default [] */
  readonly clickstreamReady?: readonly pulumi.Resource[];
  /**
   * Datasets of the clickstream zone beside `clickstream_raw` (the views dataset `clickstream_views`),
   * granted with it to the personas that read the zone. @default []
   */
  readonly clickstreamDatasets?: readonly pulumi.Input<string>[];
  /** Service accounts acting for a persona (the notebooks' account), given its dataset reads. @default [] */
  readonly personaWorkloads?: readonly PersonaWorkload[];
  /**
   * The curated Iceberg tables by Glue name (the ingestion layer's `tables`): column grants on the
   * orders table name it through its resource, so they wait for the table to exist.
   * @default {} (then the cell has no orders table and no grant names one)
   */
  readonly curatedTables?: Readonly<Record<string, IcebergTable>>;
  /**
   * The cell's registry of personal data, where this component declares what it stores about a person
   * (components/privacy/personal-data.ts). @default not declared
   */
  readonly personalData?: PersonalDataCatalog;
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

/** Bytes one scheduled Athena query of this layer (mart refresh, in-country export) may scan: 10 GiB. */
const SCHEDULED_QUERY_SCAN_CUTOFF_BYTES = 10 * 1024 ** 3;

/** The cell's curated orders: their shape and their Glue table's name (read from its resource). */
interface CuratedOrders {
  readonly orders: OrdersTable;
  readonly tableName: pulumi.Output<string>;
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
    const { cell, config } = args;
    // Omni's limits that config can break (no Omni region, a feed above one transfer) are validation
    // problems (components/config/validate.ts), reported with the others before any resource is declared.

    // Every physical name of the layer starts with it (clickstream calls it the same).
    const resourcePrefix = `lakehouse-${config.environment}-${cell.name}`;
    const orders = ordersTableOf(config, cell.name);
    // Named through the table resource: the column grants wait until the table exists.
    const curated: CuratedOrders | undefined = orders && {
      orders,
      tableName: curatedTableNameOf(args.curatedTables ?? {}, orders.table),
    };

    this.feed = this.lakeFeed(name, args);
    const curatedDatasets: pulumi.Input<string>[] = [args.gcp.datasets.curated.datasetId, this.feed.datasetId];
    if (cell.federation === "omni") {
      this.omni = this.omniFederation(name, args, resourcePrefix, orders);
      curatedDatasets.push(this.omni.datasetId);
    } else if (curated) {
      this.inCountry = this.inCountryCopy(name, args, resourcePrefix, curated);
    }
    this.marts = this.bigqueryMarts(name, args);
    if (curated) this.awsMarts = this.athenaMarts(name, args, resourcePrefix, curated);
    this.awsPersonas = this.awsPersonaAccess(name, args, resourcePrefix);
    this.gcpPersonas = new GcpPersonaAccess(
      `${name}-gcp-personas`,
      {
        project: cell.gcp.project,
        resourcePrefix,
        cell: cell.name,
        personas: config.personas,
        datasets: {
          clickstream: [args.gcp.datasets.clickstream_raw.datasetId, ...(args.clickstreamDatasets ?? [])],
          curated: curatedDatasets,
          marts: [args.gcp.datasets.marts.datasetId],
        },
        // The cell enables every API it uses once, `federationServices(cell)` included (components/gcp/cell-apis.ts).
        apiEnablements: args.gcp.services.enabled,
        workloads: args.personaWorkloads,
      },
      { parent: this },
    );
    this.registerOutputs({ feed: this.feed.datasetId });
  }

  private lakeFeed(name: string, args: FederationArgs): LakeFeed {
    const { cell, config } = args;
    return new LakeFeed(
      `${name}-feed`,
      {
        project: cell.gcp.project,
        region: cell.gcp.region,
        kmsKeyName: args.gcp.keyRing.keys.bigquery.id,
        retentionDays: args.retention.curated,
        maxTimeTravelHours: config.bigqueryTimeTravelHours,
        protect: config.protect,
        // The Omni feed fills the table by cross-cloud INSERT INTO SELECT, which "does not support
        // transferring data into clustered table" (BigQuery docs, "Load data with BigQuery Omni
        // operations", Filter data > Limitations). The in-country load (a load job) may cluster.
        clustered: cell.federation !== "omni",
        personalData: args.personalData,
      },
      { parent: this },
    );
  }

  /** Omni over the Glue catalog, and the Omni feed of the orders when the cell has them. */
  private omniFederation(
    name: string,
    args: FederationArgs,
    resourcePrefix: string,
    orders: OrdersTable | undefined,
  ): OmniFederation {
    const { cell, config } = args;
    const project = cell.gcp.project;
    const omniLocation = omniLocationOf(cell);
    if (omniLocation === undefined)
      throw new Error(`Cell '${cell.name}': no BigQuery Omni location for ${cell.aws.region}`);
    const omni = new OmniFederation(
      `${name}-omni`,
      {
        resourcePrefix,
        cell: cell.name,
        accountId: cell.aws.accountId,
        awsRegion: cell.aws.region,
        omniLocation,
        project,
        curatedDatabaseName: args.aws.catalog.databaseNames.curated,
        warehouseBucketArn: args.aws.buckets.warehouse.arn,
        lakeKeyArn: args.aws.lakeKey.arn,
        protect: config.protect,
      },
      { parent: this },
    );
    if (orders) {
      new OmniFeed(
        `${name}-omni-feed`,
        {
          project,
          projectNumber: args.gcp.keyRing.projectNumber,
          cell: cell.name,
          omniLocation,
          connection: omni.connection,
          lakeDatasetId: omni.datasetId,
          feedDatasetId: this.feed.datasetId,
          feedTableRef: this.feed.ordersDailyRef,
          orders,
          kmsKeyName: args.gcp.keyRing.keys.bigquery.id,
        },
        { parent: this },
      );
    }
    return omni;
  }

  private inCountryCopy(
    name: string,
    args: FederationArgs,
    resourcePrefix: string,
    curated: CuratedOrders,
  ): InCountryCopy {
    const { cell, config } = args;
    const aws = args.aws;
    return new InCountryCopy(
      `${name}-in-country`,
      {
        resourcePrefix,
        cell: cell.name,
        accountId: cell.aws.accountId,
        region: cell.aws.region,
        curatedDatabaseName: aws.catalog.databaseNames.curated,
        warehouseBucketArn: aws.buckets.warehouse.arn,
        queryResultsBucketName: aws.buckets["query-results"].name,
        queryResultsBucketArn: aws.buckets["query-results"].arn,
        accessLogsBucketName: aws.buckets["access-logs"].name,
        lakeKeyArn: aws.lakeKey.arn,
        orders: curated.orders,
        ordersTableName: curated.tableName,
        expirationDays: exportExpirationDays(config.erasureSlaDays),
        erasureSlaDays: config.erasureSlaDays,
        bytesScannedCutoffPerQuery: SCHEDULED_QUERY_SCAN_CUTOFF_BYTES,
        project: cell.gcp.project,
        projectNumber: args.gcp.keyRing.projectNumber,
        gcpRegion: cell.gcp.region,
        storageKmsKeyName: args.gcp.keyRing.keys.storage.id,
        bigqueryKmsKeyName: args.gcp.keyRing.keys.bigquery.id,
        feedDatasetId: this.feed.datasetId,
        feedTableId: this.feed.ordersDaily.tableId,
        protect: config.protect,
        personalData: args.personalData,
        apiEnablements: args.gcp.services.enabled,
      },
      { parent: this },
    );
  }

  /** The BigQuery marts: views over the clickstream and the lake feed, with BI Engine. */
  private bigqueryMarts(name: string, args: FederationArgs): Marts {
    const { cell, config } = args;
    const project = cell.gcp.project;
    const gcp = args.gcp;
    return new Marts(
      `${name}-marts`,
      {
        project,
        region: cell.gcp.region,
        martsDatasetId: gcp.datasets.marts.datasetId,
        clickstreamDatasetId: gcp.datasets.clickstream_raw.datasetId,
        feedDatasetId: this.feed.datasetId,
        eventsRef: pulumi.interpolate`${project}.${gcp.datasets.clickstream_raw.datasetId}.events`,
        ordersFeedRef: this.feed.ordersDailyRef,
        lookbackDays: martLookbackDays(args.retention),
        biEngineBytes: biEngineBytes(config.scale),
        sourcesReady: [this.feed.ordersDaily, ...(args.clickstreamReady ?? [])],
        apiEnablements: gcp.services.enabled,
      },
      { parent: this },
    );
  }

  private athenaMarts(name: string, args: FederationArgs, resourcePrefix: string, curated: CuratedOrders): AthenaMarts {
    const { cell, config } = args;
    const aws = args.aws;
    return new AthenaMarts(
      `${name}-aws-marts`,
      {
        resourcePrefix,
        accountId: cell.aws.accountId,
        region: cell.aws.region,
        curatedDatabaseName: aws.catalog.databaseNames.curated,
        martsDatabaseName: aws.catalog.databaseNames.marts,
        warehouseBucketName: aws.buckets.warehouse.name,
        warehouseBucketArn: aws.buckets.warehouse.arn,
        queryResultsBucketName: aws.buckets["query-results"].name,
        queryResultsBucketArn: aws.buckets["query-results"].arn,
        lakeKeyArn: aws.lakeKey.arn,
        orders: curated.orders,
        ordersTableName: curated.tableName,
        retentionDays: args.retention.marts,
        erasureSlaDays: config.erasureSlaDays,
        bytesScannedCutoffPerQuery: SCHEDULED_QUERY_SCAN_CUTOFF_BYTES,
        personalData: args.personalData,
      },
      { parent: this },
    );
  }

  private awsPersonaAccess(name: string, args: FederationArgs, resourcePrefix: string): AwsPersonaAccess {
    const { cell } = args;
    const aws = args.aws;
    const warehouse = aws.buckets.warehouse.arn;
    return new AwsPersonaAccess(
      `${name}-aws-personas`,
      {
        resourcePrefix,
        cell: cell.name,
        accountId: cell.aws.accountId,
        region: cell.aws.region,
        personas: args.config.personas,
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
      { parent: this },
    );
  }
}

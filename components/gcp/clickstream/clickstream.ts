/**
 * A cell's real-time clickstream on GCP, composed end to end:
 * collector (Cloud Run, source archive run on Google's Node.js base image, ADR 0009) -> Pub/Sub topic (schema, CMEK, regional storage, DLQ)
 * -> Dataflow (Pub/Sub to BigQuery flex template + JS UDF, private workers)
 * -> BigQuery `clickstream_raw.events` (partitioned, clustered, CMEK, policy tags)
 * -> marketing views and ML features -> Vertex AI Feature Online Store + endpoint; Workbench notebooks.
 * Everything runs through the cell's GCP provider (opts) in the cell region.
 */
import * as pulumi from "@pulumi/pulumi";
import type { PersonaConfig, Retention, Scale, WorkbenchConfig } from "../../config/schema";
import type { Sizing } from "../../config/sizing";
import type { GcpStorageCore } from "../storage-core";
import { ClickstreamAlerts } from "./alerts";
import { ClickstreamTable } from "./clickstream-table";
import { CollectorService } from "./collector-service";
import { EventTopic } from "./event-topic";
import { MarketingViews } from "./marketing-views";
import { MlServing } from "./ml-serving";
import { ClickstreamNetwork } from "./network";
import { StreamToBigQuery } from "./stream-to-bigquery";
import { Workbench } from "./workbench";

/**
 * APIs the clickstream layer uses on top of the storage core's. The cell enables them once with the
 * others (components/gcp/cell-apis.ts) and makes each resource wait for its own (api-requirements.ts).
 * No Cloud Build or Artifact Registry: the collector runs from a source archive (ADR 0009).
 */
export const CLICKSTREAM_SERVICES = [
  "aiplatform.googleapis.com",
  "compute.googleapis.com",
  "dataflow.googleapis.com",
  "monitoring.googleapis.com",
  "notebooks.googleapis.com",
  "pubsub.googleapis.com",
  "run.googleapis.com",
] as const;

export interface ClickstreamArgs {
  readonly project: string;
  readonly region: string;
  /** `lakehouse-<environment>-<cell>`: every physical name starts with it. */
  readonly resourcePrefix: string;
  /** The cell's GCP storage core: keys, datasets, staging bucket. */
  readonly storage: GcpStorageCore;
  /** The cell's pseudonymisation key secret (`projects/<p>/secrets/<id>`). */
  readonly pseudonymisationSecretId: pulumi.Input<string>;
  readonly retention: Retention;
  readonly scale: Scale;
  readonly sizing: Sizing;
  readonly maxTimeTravelHours: number;
  /** Days within which an erasure is physically complete (bounds the Pub/Sub replay window). */
  readonly erasureSlaDays: number;
  /** Collector write keys (secret config): a secret Output, so that the state records it encrypted. */
  readonly writeKeys: pulumi.Output<string[]>;
  readonly workbench: WorkbenchConfig;
  /** Personas relevant to ML: data scientists (notebooks, Vertex) and the marketing application (predict). */
  readonly dataScientists?: PersonaConfig;
  readonly marketingApp?: PersonaConfig;
  readonly protect: boolean;
  /** Addresses told when a clickstream alert fires. @default [] */
  readonly alertEmails?: readonly string[];
}

export class Clickstream extends pulumi.ComponentResource {
  public readonly network: ClickstreamNetwork;
  public readonly topic: EventTopic;
  public readonly collector: CollectorService;
  public readonly table: ClickstreamTable;
  public readonly pipeline: StreamToBigQuery;
  public readonly views: MarketingViews;
  public readonly ml: MlServing;
  public readonly workbench: Workbench;
  public readonly alerts: ClickstreamAlerts;

  constructor(name: string, args: ClickstreamArgs, opts?: pulumi.ComponentResourceOptions) {
    // Every cloud resource below waits for its API through the cell's transformation (api-requirements.ts).
    super("lakehouse:gcp:Clickstream", name, args, opts);
    const child = { parent: this };
    const { project, region, storage } = args;
    const prefix = args.resourcePrefix;
    const keys = storage.keyRing.keys;
    const projectNumber = storage.keyRing.projectNumber;
    const stagingBucket = storage.staging.name;

    this.network = new ClickstreamNetwork(`${name}-network`, { project, region, resourcePrefix: prefix }, child);

    this.topic = new EventTopic(
      `${name}-topic`,
      {
        project,
        region,
        resourcePrefix: prefix,
        kmsKeyName: keys.pubsub.id,
        projectNumber,
        retentionDays: args.retention.clickstream,
        erasureSlaDays: args.erasureSlaDays,
      },
      child,
    );

    this.collector = new CollectorService(
      `${name}-collector`,
      {
        project,
        region,
        resourcePrefix: prefix,
        projectNumber,
        apis: storage.services,
        keyRingId: storage.keyRing.keyRing.id,
        secretsKmsKeyName: keys.secrets.id,
        stagingBucket,
        topicId: this.topic.topicId,
        topicName: this.topic.topic.name,
        pseudonymisationSecretId: args.pseudonymisationSecretId,
        writeKeys: args.writeKeys,
        eventsPerDay: args.scale.clickstreamEventsPerDay,
        peakFactor: args.scale.peakFactor,
        peakEventsPerSecond: args.sizing.eventsPerSecond.peak,
        protect: args.protect,
      },
      child,
    );

    const raw = storage.datasets.clickstream_raw;
    this.table = new ClickstreamTable(
      `${name}-events`,
      {
        project,
        region,
        resourcePrefix: prefix,
        datasetId: raw.datasetId,
        kmsKeyName: keys.bigquery.id,
        retentionDays: args.retention.clickstream,
        protect: args.protect,
      },
      child,
    );

    this.pipeline = new StreamToBigQuery(
      `${name}-dataflow`,
      {
        project,
        region,
        resourcePrefix: prefix,
        subscriptionId: this.topic.subscriptionId,
        subscriptionName: this.topic.subscription.name,
        outputTableSpec: this.table.tableSpec,
        deadletterTableSpec: this.table.deadletterTableSpec,
        datasetId: raw.datasetId,
        stagingBucket,
        networkSelfLink: this.network.networkSelfLink,
        subnetworkSelfLink: this.network.subnetworkSelfLink,
        kmsKeyName: keys.dataflow.id,
        maxWorkers: args.sizing.dataflowMaxWorkers,
      },
      child,
    );

    this.views = new MarketingViews(
      `${name}-views`,
      {
        project,
        region,
        sourceDatasetId: raw.datasetId,
        eventsTable: this.table.tableRef,
        kmsKeyName: keys.bigquery.id,
        maxTimeTravelHours: args.maxTimeTravelHours,
        retentionDays: args.retention.clickstream,
        protect: args.protect,
      },
      child,
    );

    this.ml = new MlServing(
      `${name}-ml`,
      {
        project,
        region,
        resourcePrefix: prefix,
        kmsKeyName: keys.vertex.id,
        projectNumber,
        featuresUri: this.views.featuresUri,
        featuresDatasetId: this.views.datasetId,
        identifyingPolicyTags: [this.table.policyTags["pseudonymous-id"].name],
        eventsPerSecond: args.sizing.eventsPerSecond,
        predictors: args.marketingApp?.gcpMembers ?? [],
        modelBuilders: args.dataScientists?.gcpMembers ?? [],
        protect: args.protect,
      },
      child,
    );

    this.workbench = new Workbench(
      `${name}-workbench`,
      {
        project,
        region,
        resourcePrefix: prefix,
        keyRingId: storage.keyRing.keyRing.id,
        projectNumber,
        apis: storage.services,
        networkSelfLink: this.network.networkSelfLink,
        subnetworkSelfLink: this.network.subnetworkSelfLink,
        readableDatasets: [storage.datasets.curated.datasetId, storage.datasets.marts.datasetId],
        config: args.workbench,
        users: args.dataScientists?.gcpMembers ?? [],
        protect: args.protect,
      },
      child,
    );

    this.alerts = new ClickstreamAlerts(
      `${name}-alerts`,
      {
        project,
        resourcePrefix: prefix,
        dataflowSubscription: this.topic.subscription.name,
        deadLetterSubscription: this.topic.deadLetterSubscription.name,
        jobName: this.pipeline.job.name,
        collectorService: this.collector.service.name,
        emails: args.alertEmails,
      },
      child,
    );

    this.registerOutputs({
      collectorUrl: this.collector.url,
      topic: this.topic.topicId,
      eventsTable: this.table.tableSpec,
      endpoint: this.ml.endpoint.id,
    });
  }
}

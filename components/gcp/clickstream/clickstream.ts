/**
 * A cell's real-time clickstream on GCP, composed end to end:
 * collector (Cloud Run, source archive run on Google's Node.js base image, ADR 0009) -> Pub/Sub topic (schema, CMEK, regional storage, DLQ)
 * -> Dataflow (Pub/Sub to BigQuery flex template + JS UDF, private workers)
 * -> BigQuery `clickstream_raw.events` (partitioned, clustered, CMEK, policy tags)
 * -> marketing views and ML features -> Vertex AI Feature Online Store + endpoint; Workbench notebooks
 * (with a PyPI mirror in Artifact Registry and a notebooks bucket).
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
import type { PersonalDataCatalog } from "../../privacy/personal-data";

/**
 * APIs the clickstream layer uses on top of the storage core's. The cell enables them once with the
 * others (components/gcp/cell-apis.ts) and makes each resource wait for its own (api-requirements.ts).
 * No Cloud Build: the collector runs from a source archive (ADR 0009); Artifact Registry only holds the
 * notebooks' PyPI mirror (package-mirror.ts).
 */
export const CLICKSTREAM_SERVICES = [
  "aiplatform.googleapis.com",
  "artifactregistry.googleapis.com",
  "compute.googleapis.com",
  "dataflow.googleapis.com",
  "monitoring.googleapis.com",
  "notebooks.googleapis.com",
  "pubsub.googleapis.com",
  "run.googleapis.com",
] as const;

export interface ClickstreamArgs {
  /** The cell's GCP project. */
  readonly project: string;
  /** The cell's GCP region: every clickstream resource lives there. */
  readonly region: string;
  /** `lakehouse-<environment>-<cell>`: every physical name starts with it. */
  readonly resourcePrefix: string;
  /** The cell's GCP storage core: keys, datasets, staging bucket. */
  readonly storage: GcpStorageCore;
  /** The cell's pseudonymisation key secret (`projects/<p>/secrets/<id>`). */
  readonly pseudonymisationSecretId: pulumi.Input<string>;
  /** Retention per data class, in days (the clickstream class bounds the topic, table and views). */
  readonly retention: Retention;
  /** Configured traffic: clickstream events per day and their peak factor (collector sizing). */
  readonly scale: Scale;
  /** Sizes derived from the scale (deriveSizing): peak events per second, Dataflow workers. */
  readonly sizing: Sizing;
  /** BigQuery time-travel window of the views' dataset, in hours. */
  readonly maxTimeTravelHours: number;
  /** Days within which an erasure is physically complete (bounds the Pub/Sub replay window). */
  readonly erasureSlaDays: number;
  /** Collector write keys (secret config): a secret Output, so that the state records it encrypted. */
  readonly writeKeys: pulumi.Output<string[]>;
  /** Notebook instances for data scientists. */
  readonly workbench: WorkbenchConfig;
  /** Data scientists: notebooks and Vertex model building. @default none (no grants) */
  readonly dataScientists?: PersonaConfig;
  /** The marketing application: may call the offers endpoint and read online features. @default none (no grants) */
  readonly marketingApp?: PersonaConfig;
  /** Production: deletion protection on every stateful resource of the layer. */
  readonly protect: boolean;
  /** Addresses told when a clickstream alert fires. @default [] */
  readonly alertEmails?: readonly string[];
  /**
   * The cell's registry of personal data, where this component declares what it stores about a person
   * (components/privacy/personal-data.ts). @default not declared
   */
  readonly personalData?: PersonalDataCatalog;
  /** `gs://` URI of the subject-rights suppression list the collector reads. @default unset (none) */
  readonly suppressionObjectUri?: pulumi.Input<string>;
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
    const { project, region } = args;
    this.network = new ClickstreamNetwork(
      `${name}-network`,
      { project, region, resourcePrefix: args.resourcePrefix },
      { parent: this },
    );
    this.topic = this.createTopic(name, args);
    this.collector = this.createCollector(name, args, this.topic);
    this.table = this.createTable(name, args);
    this.pipeline = this.createPipeline(name, args);
    this.views = this.createViews(name, args);
    this.ml = this.createMlServing(name, args);
    this.workbench = this.createWorkbench(name, args);
    this.alerts = new ClickstreamAlerts(
      `${name}-alerts`,
      {
        project,
        resourcePrefix: args.resourcePrefix,
        dataflowSubscription: this.topic.subscription.name,
        deadLetterSubscription: this.topic.deadLetterSubscription.name,
        jobName: this.pipeline.job.name,
        collectorService: this.collector.service.name,
        endpointId: this.ml.endpointNumericId,
        emails: args.alertEmails,
      },
      { parent: this },
    );
    this.registerOutputs({
      collectorUrl: this.collector.url,
      topic: this.topic.topicId,
      eventsTable: this.table.tableSpec,
      endpoint: this.ml.endpoint.id,
      notebookServiceAccount: this.workbench.serviceAccount.email,
    });
  }

  /** The events' topic, kept for the Pub/Sub replay window the erasure SLA allows. */
  private createTopic(name: string, args: ClickstreamArgs): EventTopic {
    return new EventTopic(
      `${name}-topic`,
      {
        project: args.project,
        region: args.region,
        resourcePrefix: args.resourcePrefix,
        kmsKeyName: args.storage.keyRing.keys.pubsub.id,
        projectNumber: args.storage.keyRing.projectNumber,
        retentionDays: args.retention.clickstream,
        erasureSlaDays: args.erasureSlaDays,
      },
      { parent: this },
    );
  }

  /** The public tracking endpoint, sized from the configured event volume. */
  private createCollector(name: string, args: ClickstreamArgs, topic: EventTopic): CollectorService {
    const { storage } = args;
    return new CollectorService(
      `${name}-collector`,
      {
        project: args.project,
        region: args.region,
        resourcePrefix: args.resourcePrefix,
        projectNumber: storage.keyRing.projectNumber,
        apis: storage.services,
        keyRingId: storage.keyRing.keyRing.id,
        secretsKmsKeyName: storage.keyRing.keys.secrets.id,
        stagingBucket: storage.staging.name,
        topicId: topic.topicId,
        topicName: topic.topic.name,
        pseudonymisationSecretId: args.pseudonymisationSecretId,
        writeKeys: args.writeKeys,
        eventsPerDay: args.scale.clickstreamEventsPerDay,
        peakFactor: args.scale.peakFactor,
        peakEventsPerSecond: args.sizing.eventsPerSecond.peak,
        suppressionObjectUri: args.suppressionObjectUri,
        protect: args.protect,
      },
      { parent: this },
    );
  }

  /** `clickstream_raw.events` in the storage core's dataset. */
  private createTable(name: string, args: ClickstreamArgs): ClickstreamTable {
    return new ClickstreamTable(
      `${name}-events`,
      {
        project: args.project,
        region: args.region,
        resourcePrefix: args.resourcePrefix,
        datasetId: args.storage.datasets.clickstream_raw.datasetId,
        kmsKeyName: args.storage.keyRing.keys.bigquery.id,
        retentionDays: args.retention.clickstream,
        protect: args.protect,
        personalData: args.personalData,
      },
      { parent: this },
    );
  }

  /** Dataflow from the topic's subscription into the table, on the clickstream network's private workers. */
  private createPipeline(name: string, args: ClickstreamArgs): StreamToBigQuery {
    return new StreamToBigQuery(
      `${name}-dataflow`,
      {
        project: args.project,
        region: args.region,
        resourcePrefix: args.resourcePrefix,
        subscriptionId: this.topic.subscriptionId,
        subscriptionName: this.topic.subscription.name,
        outputTableSpec: this.table.tableSpec,
        deadletterTableSpec: this.table.deadletterTableSpec,
        datasetId: args.storage.datasets.clickstream_raw.datasetId,
        stagingBucket: args.storage.staging.name,
        networkSelfLink: this.network.networkSelfLink,
        subnetworkSelfLink: this.network.subnetworkSelfLink,
        kmsKeyName: args.storage.keyRing.keys.dataflow.id,
        maxWorkers: args.sizing.dataflowMaxWorkers,
      },
      { parent: this },
    );
  }

  /** Marketing's real-time views and the ML features over the events table. */
  private createViews(name: string, args: ClickstreamArgs): MarketingViews {
    return new MarketingViews(
      `${name}-views`,
      {
        project: args.project,
        region: args.region,
        sourceDatasetId: args.storage.datasets.clickstream_raw.datasetId,
        eventsTable: this.table.tableRef,
        kmsKeyName: args.storage.keyRing.keys.bigquery.id,
        maxTimeTravelHours: args.maxTimeTravelHours,
        retentionDays: args.retention.clickstream,
        protect: args.protect,
      },
      { parent: this },
    );
  }

  /** Feature serving and the offers endpoint: the marketing app predicts, data scientists build models. */
  private createMlServing(name: string, args: ClickstreamArgs): MlServing {
    return new MlServing(
      `${name}-ml`,
      {
        project: args.project,
        region: args.region,
        resourcePrefix: args.resourcePrefix,
        kmsKeyName: args.storage.keyRing.keys.vertex.id,
        projectNumber: args.storage.keyRing.projectNumber,
        featuresUri: this.views.featuresUri,
        featuresDatasetId: this.views.datasetId,
        identifyingPolicyTags: [this.table.policyTags["pseudonymous-id"].name],
        eventsPerSecond: args.sizing.eventsPerSecond,
        predictors: args.marketingApp?.gcpMembers ?? [],
        modelBuilders: args.dataScientists?.gcpMembers ?? [],
        protect: args.protect,
      },
      { parent: this },
    );
  }

  /**
   * Data scientists' notebooks. Their account reads the clickstream zone here (events table, views, the
   * pseudonym tag); the curated and marts zones come from the persona layer, which takes the account as a
   * `dataScientists` workload (components/federation/personas-gcp.ts).
   */
  private createWorkbench(name: string, args: ClickstreamArgs): Workbench {
    const { storage, project, region } = args;
    const dataset = storage.datasets.clickstream_raw.datasetId;
    return new Workbench(
      `${name}-workbench`,
      {
        project: args.project,
        region: args.region,
        resourcePrefix: args.resourcePrefix,
        keyRingId: storage.keyRing.keyRing.id,
        projectNumber: storage.keyRing.projectNumber,
        apis: storage.services,
        networkSelfLink: this.network.networkSelfLink,
        subnetworkSelfLink: this.network.subnetworkSelfLink,
        readableDatasets: [this.views.datasetId],
        readableTables: [{ datasetId: dataset, tableId: this.table.table.tableId }],
        readablePolicyTags: [this.table.policyTags["pseudonymous-id"].name],
        storageKmsKeyName: storage.keyRing.keys.storage.id,
        retentionDays: args.retention.clickstream,
        erasureSlaDays: args.erasureSlaDays,
        // The contract with notebooks/ (workbench-startup.ts NOTEBOOK_METADATA_KEYS): every name they need.
        notebookMetadata: {
          "lakehouse-project": project,
          "lakehouse-region": region,
          "lakehouse-events-table": this.table.tableRef,
          "lakehouse-features-view": pulumi.interpolate`${project}.${this.views.datasetId}.${this.views.views.user_features.tableId}`,
          "lakehouse-feature-online-store": this.ml.featureStore.name,
          "lakehouse-feature-view": this.ml.featureView.name,
          "lakehouse-endpoint-id": this.ml.endpointNumericId,
          "lakehouse-vertex-kms-key": storage.keyRing.keys.vertex.id,
        },
        config: args.workbench,
        users: args.dataScientists?.gcpMembers ?? [],
        protect: args.protect,
      },
      { parent: this },
    );
  }
}

/**
 * Pub/Sub -> BigQuery streaming with Google's `PubSub_to_BigQuery_Flex` template and our JS UDF
 * (functions/dataflow-udf), in the cell region, on private workers in the cell's subnetwork, encrypted
 * with the cell's Dataflow key, as its own service account with narrow grants.
 */
import * as path from "node:path";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { classification } from "../../conventions";
import { DATASET_WRITER } from "../dataset-grants";
import { serviceAccountId } from "./naming";

/** The UDF contract with functions/dataflow-udf (its README): file and function name. */
export const DATAFLOW_UDF = {
  file: path.join(__dirname, "..", "..", "..", "functions", "dataflow-udf", "clickstream_udf.js"),
  functionName: "clickstreamToRow",
} as const;

/**
 * Google-provided templates are published in a bucket per region (`gs://dataflow-templates-REGION/`);
 * launching from the cell region's bucket keeps the launch in the region
 * (cloud.google.com/dataflow/docs/guides/templates/provided-templates). `latest` tracks releases; pin a
 * dated version (`2025-06-03-00_RC00`) through `templateVersion` for reproducible launches.
 */
export function pubsubToBigQueryTemplatePath(region: string, version = "latest"): string {
  return `gs://dataflow-templates-${region}/${version}/flex/PubSub_to_BigQuery_Flex`;
}

/** Dataflow workers talk to each other on these ports (shuffle/streaming), and nothing else is needed. */
export const DATAFLOW_WORKER_PORTS = "12345-12346";

export interface StreamToBigQueryArgs {
  /** The cell's GCP project. */
  readonly project: string;
  /** The cell's GCP region: the job and its workers run there. */
  readonly region: string;
  /** `lakehouse-<environment>-<cell>`: physical names start with it. */
  readonly resourcePrefix: string;
  /** `projects/<p>/subscriptions/<s>`. */
  readonly subscriptionId: pulumi.Input<string>;
  /** Subscription short name, for the subscriber grant. */
  readonly subscriptionName: pulumi.Input<string>;
  /** `project:dataset.table` of the events table. */
  readonly outputTableSpec: pulumi.Input<string>;
  /** `project:dataset.table` of the dead-letter table (rows the UDF or BigQuery rejected). */
  readonly deadletterTableSpec: pulumi.Input<string>;
  /** Dataset the job writes to (bigquery.dataEditor there only). */
  readonly datasetId: pulumi.Input<string>;
  /** The staging bucket's name: template files, the UDF and the job's temporary files. */
  readonly stagingBucket: pulumi.Input<string>;
  /** The clickstream network's self link. */
  readonly networkSelfLink: pulumi.Input<string>;
  /** The clickstream subnet's self link: workers get private addresses only. */
  readonly subnetworkSelfLink: pulumi.Input<string>;
  /** Cloud KMS key for Dataflow (keyRing.keys.dataflow.id). */
  readonly kmsKeyName: pulumi.Input<string>;
  /** Autoscaling ceiling (deriveSizing().dataflowMaxWorkers). */
  readonly maxWorkers: number;
  /** Worker machine type (the sizing's per-worker rate assumes 2 vCPUs). @default "n2-standard-2" */
  readonly machineType?: string;
  /** Template release. @default "latest" */
  readonly templateVersion?: string;
  /** UDF file and function. @default {@link DATAFLOW_UDF} */
  readonly udf?: { readonly file: string; readonly functionName: string };
}

export class StreamToBigQuery extends pulumi.ComponentResource {
  public readonly serviceAccount: gcp.serviceaccount.Account;
  public readonly udfObject: gcp.storage.BucketObject;
  public readonly firewall: gcp.compute.Firewall;
  public readonly job: gcp.dataflow.FlexTemplateJob;

  constructor(name: string, args: StreamToBigQueryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:gcp:StreamToBigQuery", name, args, opts);
    const child = { parent: this };
    const { project, region } = args;
    const udf = args.udf ?? DATAFLOW_UDF;

    this.serviceAccount = new gcp.serviceaccount.Account(
      `${name}-sa`,
      {
        project,
        accountId: serviceAccountId(args.resourcePrefix, "dataflow"),
        displayName: "Clickstream Dataflow workers",
      },
      child,
    );
    const member = this.serviceAccount.member;
    // No primitive role; project scope only where Dataflow offers nothing narrower (the worker role).
    const grants: pulumi.Resource[] = [
      new gcp.projects.IAMMember(`${name}-worker`, { project, role: "roles/dataflow.worker", member }, child),
      new gcp.pubsub.SubscriptionIAMMember(
        `${name}-subscriber`,
        { project, subscription: args.subscriptionName, role: "roles/pubsub.subscriber", member },
        child,
      ),
      // PubsubIO reads the subscription's metadata (backlog, watermark) besides pulling.
      new gcp.pubsub.SubscriptionIAMMember(
        `${name}-subscription-viewer`,
        { project, subscription: args.subscriptionName, role: "roles/pubsub.viewer", member },
        child,
      ),
      // A dataset ACL entry, not DatasetIamMember: the dataset IAM resources fight with DatasetAccess and
      // remove the authorised views on clickstream_raw (see DATASET_WRITER in dataset-grants.ts).
      new gcp.bigquery.DatasetAccess(
        `${name}-writer`,
        { project, datasetId: args.datasetId, role: DATASET_WRITER, userByEmail: this.serviceAccount.email },
        child,
      ),
      // Reads the UDF and template files, writes and cleans its temp/staging files: one bucket only.
      new gcp.storage.BucketIAMMember(
        `${name}-staging`,
        { bucket: args.stagingBucket, role: "roles/storage.objectUser", member },
        child,
      ),
    ];

    this.firewall = new gcp.compute.Firewall(
      `${name}-workers`,
      {
        project,
        name: `${args.resourcePrefix}-dataflow-workers`,
        network: args.networkSelfLink,
        description: "Dataflow worker-to-worker traffic only",
        direction: "INGRESS",
        priority: 1000,
        allows: [{ protocol: "tcp", ports: [DATAFLOW_WORKER_PORTS] }],
        sourceServiceAccounts: [this.serviceAccount.email],
        targetServiceAccounts: [this.serviceAccount.email],
        logConfig: { metadata: "INCLUDE_ALL_METADATA" },
      },
      child,
    );

    this.udfObject = new gcp.storage.BucketObject(
      `${name}-udf`,
      {
        bucket: args.stagingBucket,
        name: `dataflow/udf/${path.basename(udf.file)}`,
        source: new pulumi.asset.FileAsset(udf.file),
        contentType: "application/javascript",
      },
      child,
    );

    const gcs = (p: string) => pulumi.interpolate`gs://${args.stagingBucket}/${p}`;
    this.job = new gcp.dataflow.FlexTemplateJob(
      name,
      {
        project,
        region,
        name: `${args.resourcePrefix}-clickstream-to-bigquery`,
        containerSpecGcsPath: pubsubToBigQueryTemplatePath(region, args.templateVersion),
        parameters: {
          inputSubscription: args.subscriptionId,
          outputTableSpec: args.outputTableSpec,
          outputDeadletterTable: args.deadletterTableSpec,
          javascriptTextTransformGcsPath: pulumi.interpolate`gs://${args.stagingBucket}/${this.udfObject.name}`,
          javascriptTextTransformFunctionName: udf.functionName,
          // Storage Write API, at-least-once: cheaper and lower latency than exactly-once streams;
          // duplicates (also possible from SDK retries) are removed on message_id by the views.
          useStorageWriteApi: "true",
          useStorageWriteApiAtLeastOnce: "true",
        },
        enableStreamingEngine: true,
        ipConfiguration: "WORKER_IP_PRIVATE",
        network: args.networkSelfLink,
        subnetwork: args.subnetworkSelfLink,
        kmsKeyName: args.kmsKeyName,
        serviceAccountEmail: this.serviceAccount.email,
        machineType: args.machineType ?? "n2-standard-2",
        maxWorkers: args.maxWorkers,
        autoscalingAlgorithm: "THROUGHPUT_BASED",
        tempLocation: gcs("dataflow/temp"),
        stagingLocation: gcs("dataflow/staging"),
        // Drain on delete/replace: in-flight messages are written, not dropped.
        onDelete: "drain",
        labels: { ...classification("clickstream") },
      },
      { parent: this, dependsOn: [...grants, this.firewall] },
    );
    this.registerOutputs({ jobId: this.job.jobId });
  }
}

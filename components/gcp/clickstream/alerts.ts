/**
 * Alerts that say the clickstream is losing or delaying data, before marketing notices: messages in the
 * dead-letter queue, a growing backlog in front of Dataflow, a stale BigQuery watermark, and collector
 * 5xx answers (SDKs retry those, so a burst means events are waiting on devices).
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { daysToDuration } from "../../conventions";

export interface ClickstreamAlertsArgs {
  /** The cell's GCP project. */
  readonly project: string;
  /** `lakehouse-<environment>-<cell>`: alert and channel display names start with it. */
  readonly resourcePrefix: string;
  /** The Dataflow job's subscription id (short name), whose backlog age pages. */
  readonly dataflowSubscription: pulumi.Input<string>;
  /** The dead-letter subscription id (short name): any message there pages. */
  readonly deadLetterSubscription: pulumi.Input<string>;
  /** The Dataflow job's name. */
  readonly jobName: pulumi.Input<string>;
  /** The collector's Cloud Run service name, whose 5xx rate pages. */
  readonly collectorService: pulumi.Input<string>;
  /** Backlog age that pages, in seconds. @default 600 */
  readonly maxBacklogAgeSeconds?: number;
  /** Collector 5xx per second that pages. @default 1 */
  readonly maxServerErrorsPerSecond?: number;
  /** Addresses notified by e-mail channels created here. @default [] (incidents open in Cloud Monitoring only) */
  readonly emails?: readonly string[];
}

export class ClickstreamAlerts extends pulumi.ComponentResource {
  public readonly policies: readonly gcp.monitoring.AlertPolicy[];

  constructor(name: string, args: ClickstreamAlertsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:gcp:ClickstreamAlerts", name, args, opts);
    const backlog = args.maxBacklogAgeSeconds ?? 600;
    const channels = (args.emails ?? []).map(
      (email, i) =>
        new gcp.monitoring.NotificationChannel(
          `${name}-email-${i}`,
          {
            project: args.project,
            displayName: `${args.resourcePrefix}: ${email}`,
            type: "email",
            labels: { email_address: email },
          },
          { parent: this },
        ).name,
    );
    const alert = (
      suffix: string,
      displayName: string,
      filter: pulumi.Input<string>,
      threshold: number,
      aligner: string,
      runbook: string,
    ) =>
      new gcp.monitoring.AlertPolicy(
        `${name}-${suffix}`,
        {
          project: args.project,
          displayName: `${args.resourcePrefix}: ${displayName}`,
          combiner: "OR",
          severity: "ERROR",
          conditions: [
            {
              displayName,
              conditionThreshold: {
                filter,
                comparison: "COMPARISON_GT",
                thresholdValue: threshold,
                duration: "300s",
                aggregations: [{ alignmentPeriod: "60s", perSeriesAligner: aligner }],
              },
            },
          ],
          documentation: { mimeType: "text/markdown", content: runbook },
          notificationChannels: channels,
          alertStrategy: { autoClose: daysToDuration(7) },
          userLabels: { component: "clickstream" },
        },
        { parent: this },
      );
    this.policies = [
      alert(
        "dead-letters",
        "clickstream messages dead-lettered",
        pulumi.interpolate`resource.type = "pubsub_subscription" AND resource.labels.subscription_id = "${args.deadLetterSubscription}" AND metric.type = "pubsub.googleapis.com/subscription/num_undelivered_messages"`,
        0,
        "ALIGN_MAX",
        "Messages Pub/Sub could not deliver to Dataflow. Inspect the DLQ hold subscription, fix the cause, then republish them to the topic within the replay window (never older than the last honoured erasure).",
      ),
      alert(
        "backlog",
        "clickstream backlog older than allowed",
        pulumi.interpolate`resource.type = "pubsub_subscription" AND resource.labels.subscription_id = "${args.dataflowSubscription}" AND metric.type = "pubsub.googleapis.com/subscription/oldest_unacked_message_age"`,
        backlog,
        "ALIGN_MAX",
        "Dataflow is not keeping up or is stopped. Check the job's autoscaling (maxWorkers from scale) and errors; messages expire from the subscription after its retention.",
      ),
      alert(
        "freshness",
        "clickstream table watermark is stale",
        pulumi.interpolate`resource.type = "dataflow_job" AND resource.labels.job_name = "${args.jobName}" AND metric.type = "dataflow.googleapis.com/job/data_watermark_age"`,
        backlog,
        "ALIGN_MAX",
        "Rows reach BigQuery late: real-time views and features are stale. Check the job and the BigQuery write errors (events_deadletter).",
      ),
      alert(
        "collector-errors",
        "collector answering 5xx",
        pulumi.interpolate`resource.type = "cloud_run_revision" AND resource.labels.service_name = "${args.collectorService}" AND metric.type = "run.googleapis.com/request_count" AND metric.labels.response_code_class = "5xx"`,
        args.maxServerErrorsPerSecond ?? 1,
        "ALIGN_RATE",
        "The collector sheds load or cannot publish (503 = Pub/Sub slow, SDKs retry). Check max instances (collectorInstances), Pub/Sub publish errors and the collector's logs.",
      ),
    ];
    this.registerOutputs({ policies: this.policies.map((p) => p.name) });
  }
}

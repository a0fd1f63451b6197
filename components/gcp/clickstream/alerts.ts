/**
 * Alerts that say the clickstream is losing or delaying data, before marketing notices: messages in the
 * dead-letter queue, a growing backlog in front of Dataflow, a stale BigQuery watermark, and collector
 * 5xx answers (SDKs retry those, so a burst means events are waiting on devices); and the offers endpoint
 * serving no model, which leaves marketing's personalised offers without predictions.
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
  /**
   * The offers endpoint's numeric id: pages when it has no deployed model. @default none (no endpoint alert)
   */
  readonly endpointId?: pulumi.Input<string>;
  /** Minutes the endpoint may go without a serving replica before it pages. @default 10 */
  readonly endpointWithoutModelMinutes?: number;
  /** Backlog age that pages, in seconds. @default 600 */
  readonly maxBacklogAgeSeconds?: number;
  /** Collector 5xx per second that pages. @default 1 */
  readonly maxServerErrorsPerSecond?: number;
  /** Addresses notified by e-mail channels created here. @default [] (incidents open in Cloud Monitoring only) */
  readonly emails?: readonly string[];
}

export class ClickstreamAlerts extends pulumi.ComponentResource {
  public readonly policies: readonly gcp.monitoring.AlertPolicy[];
  /** The endpoint-without-model policy, when the endpoint is known. */
  public readonly endpointWithoutModel?: gcp.monitoring.AlertPolicy;

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
    if (args.endpointId !== undefined) {
      this.endpointWithoutModel = this.endpointAlert(name, args, args.endpointId, channels);
      this.policies = [...this.policies, this.endpointWithoutModel];
    }
    this.registerOutputs({ policies: this.policies.map((p) => p.name) });
  }

  /**
   * The endpoint serves no model. `aiplatform.googleapis.com/prediction/online/replicas` (GAUGE, on the
   * `aiplatform.googleapis.com/Endpoint` resource, label `endpoint_id`) is the "number of active replicas
   * used by the deployed model", sampled every 60 s (Cloud Monitoring metrics list, aiplatform): a deployed
   * model always has at least one replica, so no replicas means no model. Two conditions, either pages:
   * - the series stops (the model was undeployed): a metric-absence condition. Monitoring meets it only
   *   after the series has written one point since the policy was created or changed (docs "Create
   *   metric-absence alerting policies"), so a fresh cell whose first model is still to be deployed does
   *   not page;
   * - the series reports fewer than one replica (a model scaled to zero replicas serves nothing either).
   */
  private endpointAlert(
    name: string,
    args: ClickstreamAlertsArgs,
    endpointId: pulumi.Input<string>,
    channels: pulumi.Input<string>[],
  ): gcp.monitoring.AlertPolicy {
    const minutes = args.endpointWithoutModelMinutes ?? 10;
    const filter = pulumi.interpolate`resource.type = "aiplatform.googleapis.com/Endpoint" AND resource.labels.endpoint_id = "${endpointId}" AND metric.type = "aiplatform.googleapis.com/prediction/online/replicas"`;
    // Summed over the deployed models of the endpoint: one series per endpoint.
    const aggregations = [
      {
        alignmentPeriod: "60s",
        perSeriesAligner: "ALIGN_MAX",
        crossSeriesReducer: "REDUCE_SUM",
        groupByFields: ["resource.label.endpoint_id"],
      },
    ];
    const displayName = "offers endpoint has no deployed model";
    return new gcp.monitoring.AlertPolicy(
      `${name}-endpoint-no-model`,
      {
        project: args.project,
        displayName: `${args.resourcePrefix}: ${displayName}`,
        combiner: "OR",
        severity: "CRITICAL",
        conditions: [
          {
            displayName: "endpoint replicas stopped reporting (model undeployed)",
            // Absence durations are whole minutes, at least 120 s (MetricAbsence.duration).
            conditionAbsent: { filter, duration: `${Math.max(2, minutes) * 60}s`, aggregations },
          },
          {
            displayName: "endpoint serving with no replica",
            conditionThreshold: {
              filter,
              comparison: "COMPARISON_LT",
              thresholdValue: 1,
              duration: `${minutes * 60}s`,
              aggregations,
            },
          },
        ],
        documentation: {
          mimeType: "text/markdown",
          content:
            'The offers endpoint serves no model: the marketing application\'s predict calls fail and personalised offers fall back to defaults. Deploy the last good model again (the deployment notebook in `notebooks/` or `gcloud ai endpoints deploy-model`, components/gcp/clickstream/README.md "Serving path") and check why it was undeployed (Cloud Audit Logs, `UndeployModel`).',
        },
        notificationChannels: channels,
        alertStrategy: { autoClose: daysToDuration(7) },
        userLabels: { component: "clickstream" },
      },
      { parent: this },
    );
  }
}

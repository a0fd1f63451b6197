/**
 * Where ingestion alarms go: an SNS topic encrypted with its own customer-managed key. CloudWatch alarms
 * and EventBridge publish to an SSE-KMS topic only if the key policy lets them use the key as themselves
 * (SNS developer guide, "Enable compatibility between event sources from AWS services and encrypted
 * topics"), and the storage core's logs key is not ours to widen, so the alerts get a key of their own.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { classification } from "../../conventions";
import { CustomerManagedKey } from "../customer-managed-key";
import { allowService, denyInsecureTransport, staticPolicyDocument } from "../iam/statements";

export interface IngestionAlertsArgs {
  /** `lakehouse-<env>-<cell>`: the start of the topic's and the key alias's names. */
  readonly resourcePrefix: string;
  /** The account whose alarms and rules may publish (`aws:SourceAccount`). */
  readonly accountId: string;
  /** The topic's region (its ARN is needed in its own policy before it exists). */
  readonly region: string;
  /** Addresses subscribed to the topic (each confirms by e-mail). @default [] */
  readonly emails?: readonly string[];
}

export class IngestionAlerts extends pulumi.ComponentResource {
  public readonly key: CustomerManagedKey;
  public readonly topic: aws.sns.Topic;
  public readonly topicArn: pulumi.Output<string>;

  constructor(name: string, args: IngestionAlertsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:aws:IngestionAlerts", name, args, opts);
    const topicName = `${args.resourcePrefix}-ingestion-alerts`;
    const topicArn = `arn:aws:sns:${args.region}:${args.accountId}:${topicName}`;
    const publish = ["kms:GenerateDataKey", "kms:Decrypt"];
    this.key = new CustomerManagedKey(
      `${name}-key`,
      {
        description: `Ingestion alerts of ${args.resourcePrefix}`,
        alias: `${args.resourcePrefix}-ingestion-alerts`,
        accountId: args.accountId,
        serviceGrants: [
          {
            sid: "CloudWatchAlarmsPublish",
            service: "cloudwatch.amazonaws.com",
            actions: publish,
            condition: { StringEquals: { "aws:SourceAccount": args.accountId } },
          },
          {
            sid: "EventBridgePublish",
            service: "events.amazonaws.com",
            actions: publish,
            condition: { StringEquals: { "aws:SourceAccount": args.accountId } },
          },
        ],
      },
      { parent: this },
    );
    this.topic = new aws.sns.Topic(
      `${name}-topic`,
      { name: topicName, kmsMasterKeyId: this.key.arn, tags: classification("logs") },
      { parent: this },
    );
    new aws.sns.TopicPolicy(
      `${name}-topic-policy`,
      {
        arn: this.topic.arn,
        policy: staticPolicyDocument([
          allowService(
            "AlarmsAndEventsOfThisAccount",
            ["cloudwatch.amazonaws.com", "events.amazonaws.com"],
            "sns:Publish",
            topicArn,
            { StringEquals: { "aws:SourceAccount": args.accountId } },
          ),
          denyInsecureTransport("DenyInsecureTransport", "sns:Publish", topicArn),
        ]),
      },
      { parent: this },
    );
    (args.emails ?? []).forEach(
      (email, i) =>
        new aws.sns.TopicSubscription(
          `${name}-email-${i}`,
          { topic: this.topic.arn, protocol: "email", endpoint: email },
          { parent: this },
        ),
    );
    this.topicArn = this.topic.arn;
    this.registerOutputs({ topicArn: this.topicArn });
  }
}

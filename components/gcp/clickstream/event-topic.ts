/**
 * The clickstream topic: where the collector publishes pseudonymised events and Dataflow reads them.
 * A schema guards the envelope, the cell's Pub/Sub key encrypts messages, the message storage policy
 * keeps them in the cell region (in transit too), and the Dataflow subscription dead-letters messages
 * that cannot be delivered instead of retrying them forever.
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { erasureBudget } from "../../../policy/contract";
import { classification, daysToDuration } from "../../conventions";

/** Pub/Sub topic message retention ceiling: 31 days (cloud.google.com/pubsub/docs/replay-overview). */
export const PUBSUB_MAX_TOPIC_RETENTION_DAYS = 31;
/** Subscription message retention ceiling: 7 days (cloud.google.com/pubsub/docs/subscription-properties). */
export const PUBSUB_MAX_SUBSCRIPTION_RETENTION_DAYS = 7;

/**
 * The published message's top-level string fields, in field-number order (numbers 1-15 are those of
 * the first revision, so a subscriber decoding either revision sees the same numbers).
 */
export const CLICKSTREAM_EVENT_STRING_FIELDS = [
  "messageId",
  "type",
  "consent",
  "source",
  "receivedAt",
  "timestamp",
  "originalTimestamp",
  "sentAt",
  "event",
  "name",
  "category",
  "userId",
  "anonymousId",
  "previousId",
  "groupId",
] as const;

/**
 * Segment's free-form objects, published as their JSON text (after the collector's privacy rules).
 * A Pub/Sub schema must be one top-level type with no imports (cloud.google.com/pubsub/docs/schemas,
 * "Important information about schemas"), so `google.protobuf.Struct` is not available, and a proto3
 * message or map cannot hold arbitrary JSON; Avro's JSON encoding cannot either, and would also make
 * the collector wrap every optional value as `{"string": ...}` (avro.apache.org/docs/1.11.1/specification,
 * "JSON Encoding": unions). Segment's `integrations` (destination routing) and any other top-level key
 * a tracker sends are not published (data minimisation, GDPR Art. 5(1)(c)).
 */
export const CLICKSTREAM_EVENT_JSON_FIELDS = ["context", "properties", "traits"] as const;

/** Every top-level field the schema declares: anything else in a published message is rejected. */
export const CLICKSTREAM_EVENT_FIELDS: readonly string[] = [
  ...CLICKSTREAM_EVENT_STRING_FIELDS,
  ...CLICKSTREAM_EVENT_JSON_FIELDS,
];

/**
 * The published message's envelope, exactly as the collector writes it (functions/collector/event.ts
 * `transformEventJson`): proto3, JSON encoding, one `string` per field. Every field is optional because a
 * consent-denied event keeps only the counting fields.
 *
 * Pub/Sub parses a JSON-encoded message with the schema's proto3 JSON mapping, whose parsers "should
 * reject unknown fields by default" (protobuf.dev/programming-guides/json, "JSON Options"): a field the
 * collector publishes and this schema lacks fails the publish, and one invalid message fails the whole
 * Publish request (github.com/googleapis/google-cloud-go/issues/8179), i.e. every event batched with it.
 * test/clickstream/pubsub-schema.test.ts runs the collector's real transformation and validates every
 * message against this text with a strict proto3 JSON parser.
 */
export const CLICKSTREAM_EVENT_PROTO = [
  'syntax = "proto3";',
  "message ClickstreamEvent {",
  ...CLICKSTREAM_EVENT_FIELDS.map((f, i) => `  optional string ${f} = ${i + 1};`),
  "}",
].join("\n");

/** The topic's message retention: the replay window, bounded by retention, the erasure budget and Pub/Sub. */
export function replayWindowDays(a: { retentionDays: number; erasureSlaDays: number; replayDays?: number }): number {
  const erasable = erasureBudget(a.erasureSlaDays).messageRetentionDays;
  return Math.max(1, Math.min(a.replayDays ?? 7, a.retentionDays, erasable, PUBSUB_MAX_TOPIC_RETENTION_DAYS));
}

export interface EventTopicArgs {
  /** The cell's GCP project. */
  readonly project: string;
  /** The cell's GCP region: the only region messages may be stored in. */
  readonly region: string;
  /** Resource-name prefix (`lakehouse-prod-br`). */
  readonly resourcePrefix: string;
  /** Cloud KMS key for Pub/Sub (keyRing.keys.pubsub.id). */
  readonly kmsKeyName: pulumi.Input<string>;
  /** Project number, for the Pub/Sub service agent's address. */
  readonly projectNumber: pulumi.Input<string>;
  /** Clickstream retention in days (an upper bound of the replay window). */
  readonly retentionDays: number;
  /**
   * Days within which an erasure must be physically complete (an upper bound of the replay window):
   * Pub/Sub cannot delete one subject's messages, so a message must age out within the SLA, and a
   * replay must never re-deliver a message older than an honoured erasure.
   */
  readonly erasureSlaDays: number;
  /** Days the topic keeps messages for replay (seek) after a pipeline fix. @default 7 */
  readonly replayDays?: number;
  /** Deliveries before a message is dead-lettered (5-100). @default 10 */
  readonly maxDeliveryAttempts?: number;
  /** Validate published messages against {@link CLICKSTREAM_EVENT_PROTO}. @default true */
  readonly enforceSchema?: boolean;
}

export class EventTopic extends pulumi.ComponentResource {
  public readonly schema: gcp.pubsub.Schema;
  public readonly topic: gcp.pubsub.Topic;
  public readonly deadLetterTopic: gcp.pubsub.Topic;
  public readonly subscription: gcp.pubsub.Subscription;
  /** Holds undeliverable messages until an operator replays or drops them. */
  public readonly deadLetterSubscription: gcp.pubsub.Subscription;
  /** `projects/<p>/topics/<t>`. */
  public readonly topicId: pulumi.Output<string>;
  /** `projects/<p>/subscriptions/<s>`, resolves once the service agent may dead-letter from it. */
  public readonly subscriptionId: pulumi.Output<string>;

  constructor(name: string, args: EventTopicArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:gcp:ClickstreamEventTopic", name, args, opts);
    const maxDeliveryAttempts = args.maxDeliveryAttempts ?? 10;
    if (maxDeliveryAttempts < 5 || maxDeliveryAttempts > 100) {
      throw new RangeError("maxDeliveryAttempts must be within 5-100 (Pub/Sub dead-letter limits)");
    }
    const retentionDays = replayWindowDays(args);
    // Residency (GDPR Art. 44, LGPD Art. 33): messages persist and travel only in the cell region.
    const messageStoragePolicy = { allowedPersistenceRegions: [args.region], enforceInTransit: true };
    const labels = classification("clickstream");

    this.schema = new gcp.pubsub.Schema(
      `${name}-schema`,
      {
        project: args.project,
        name: `${args.resourcePrefix}-clickstream-event`,
        type: "PROTOCOL_BUFFER",
        definition: CLICKSTREAM_EVENT_PROTO,
      },
      { parent: this },
    );
    this.topic = new gcp.pubsub.Topic(
      name,
      {
        project: args.project,
        name: `${args.resourcePrefix}-clickstream`,
        kmsKeyName: args.kmsKeyName,
        messageStoragePolicy,
        messageRetentionDuration: daysToDuration(retentionDays),
        schemaSettings: args.enforceSchema === false ? undefined : { schema: this.schema.id, encoding: "JSON" },
        labels,
      },
      { parent: this },
    );
    this.deadLetterTopic = new gcp.pubsub.Topic(
      `${name}-dlq`,
      {
        project: args.project,
        name: `${args.resourcePrefix}-clickstream-dlq`,
        kmsKeyName: args.kmsKeyName,
        messageStoragePolicy,
        messageRetentionDuration: daysToDuration(retentionDays),
        labels,
      },
      { parent: this },
    );
    const subscriptionRetention = daysToDuration(Math.min(retentionDays, PUBSUB_MAX_SUBSCRIPTION_RETENTION_DAYS));
    this.subscription = new gcp.pubsub.Subscription(
      `${name}-dataflow`,
      {
        project: args.project,
        name: `${args.resourcePrefix}-clickstream-dataflow`,
        topic: this.topic.id,
        // Dataflow extends deadlines itself; 60 s covers a worker restart without redelivery storms.
        ackDeadlineSeconds: 60,
        messageRetentionDuration: subscriptionRetention,
        deadLetterPolicy: { deadLetterTopic: this.deadLetterTopic.id, maxDeliveryAttempts },
        retryPolicy: { minimumBackoff: "10s", maximumBackoff: "600s" },
        // A streaming pipeline's subscription must never expire when the job is paused (default: 31 days idle).
        expirationPolicy: { ttl: "" },
        labels,
      },
      { parent: this },
    );
    this.deadLetterSubscription = new gcp.pubsub.Subscription(
      `${name}-dlq-hold`,
      {
        project: args.project,
        name: `${args.resourcePrefix}-clickstream-dlq-hold`,
        topic: this.deadLetterTopic.id,
        messageRetentionDuration: subscriptionRetention,
        expirationPolicy: { ttl: "" },
        labels,
      },
      { parent: this },
    );

    // The Pub/Sub service agent forwards to the DLQ: it must publish there and acknowledge the source
    // (cloud.google.com/pubsub/docs/handling-failures#grant_forwarding_permissions).
    const agent = pulumi.interpolate`serviceAccount:service-${args.projectNumber}@gcp-sa-pubsub.iam.gserviceaccount.com`;
    const publish = new gcp.pubsub.TopicIAMMember(
      `${name}-dlq-agent-publisher`,
      { project: args.project, topic: this.deadLetterTopic.name, role: "roles/pubsub.publisher", member: agent },
      { parent: this },
    );
    const subscribe = new gcp.pubsub.SubscriptionIAMMember(
      `${name}-dlq-agent-subscriber`,
      { project: args.project, subscription: this.subscription.name, role: "roles/pubsub.subscriber", member: agent },
      { parent: this },
    );
    this.topicId = this.topic.id;
    this.subscriptionId = pulumi.all([this.subscription.id, publish.etag, subscribe.etag]).apply(([id]) => id);
    this.registerOutputs({ topicId: this.topicId, subscriptionId: this.subscriptionId });
  }
}

/**
 * A new MSK cluster for one event-streaming source, private and encrypted: IAM authentication only, TLS
 * between clients and brokers and between brokers, the lake key at rest (provisioned; MSK Serverless offers
 * AWS-managed keys only), brokers in the cell's private ingestion subnets behind a security group that admits
 * the Kafka IAM ports from the VPC only, multi-VPC private connectivity with a cluster policy that lets Firehose
 * (and only Firehose, for this account) open its private connection, the topics with partitions sized from
 * scale and a retention inside the erasure SLA, broker logs in an encrypted, expiring log group, and disk alarms.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { erasureBudget } from "../../../../policy/contract";
import type { KafkaSource } from "../../../config/schema";
import { classification } from "../../../conventions";
import { allow, allowService, policyDocument, staticPolicyDocument } from "../../iam/statements";
import type { AwsSourceContext } from "../context";
import { MSK_PROVISIONED } from "./limits";
import { TOPIC_RETENTION_HOURS, type StreamSizing } from "./stream-sizing";

/**
 * Kafka 3.8 (MSK's recommended version, "Supported Apache Kafka versions") in KRaft mode: `<version>.kraft`
 * creates a KRaft cluster ("KRaft mode", MSK developer guide), 60 brokers per cluster instead of 30.
 */
export const KAFKA_VERSION = "3.8.x.kraft";

/**
 * Broker ports from inside AWS with IAM authentication: 9098 ("Port information", MSK developer guide); the
 * multi-VPC private connectivity endpoints use 14001-14100 (assumption to verify on the first deployment: the
 * connectivity's bootstrap string names the ports it uses).
 */
export const KAFKA_IAM_PORTS: readonly (readonly [number, number])[] = [
  [9098, 9098],
  [14001, 14100],
];

/** Broker-level settings: no topic appears by accident, every write is on two replicas, unclean leaders never. */
export const BROKER_PROPERTIES = [
  "auto.create.topics.enable=false",
  `default.replication.factor=${MSK_PROVISIONED.replicationFactor}`,
  "min.insync.replicas=2",
  "unclean.leader.election.enable=false",
  `log.retention.hours=${TOPIC_RETENTION_HOURS}`,
].join("\n");

export interface KafkaClusterArgs {
  readonly context: AwsSourceContext;
  readonly source: KafkaSource;
  /** The source's sizing (brokers, partitions). */
  readonly sizing: StreamSizing;
  /** The ingestion VPC's CIDR: the only network admitted to the brokers. */
  readonly vpcCidr: pulumi.Input<string>;
}

export class KafkaCluster extends pulumi.ComponentResource {
  /** The cluster's ARN (provisioned or serverless). */
  public readonly arn: pulumi.Output<string>;
  /** `kafka-cluster:*` resources are named from the cluster's name and UUID; its topics and groups share the ARN's tail. */
  public readonly clusterName: string;
  public readonly securityGroup: aws.ec2.SecurityGroup;
  /** Resolves once the topics and the Firehose cluster policy exist. */
  public readonly ready: pulumi.Output<string>;
  /**
   * What the source's producers may do, to attach to their roles: connect, and describe and write the source's
   * topics only (IAM access control, MSK developer guide: `kafka-cluster:*` actions on cluster and topic ARNs).
   */
  public readonly producerPolicy: aws.iam.Policy;

  constructor(name: string, args: KafkaClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:aws:KafkaCluster", name, {}, opts);
    const { context, source, sizing } = args;
    const child = { parent: this };
    const network = context.network();
    this.clusterName = `${context.resourcePrefix}-${source.name}`;
    this.securityGroup = new aws.ec2.SecurityGroup(
      `${name}-brokers`,
      {
        vpcId: network.vpcId,
        description: `MSK brokers of ${source.name}: Kafka IAM ports from the ingestion VPC only`,
        ingress: KAFKA_IAM_PORTS.map(([fromPort, toPort]) => ({
          description: `Kafka (IAM) ${fromPort}-${toPort} from the ingestion VPC`,
          protocol: "tcp",
          fromPort,
          toPort,
          cidrBlocks: [args.vpcCidr],
        })),
        egress: [],
        tags: { Name: `${this.clusterName}-brokers` },
      },
      child,
    );
    const cluster = source.mode === "msk-serverless" ? this.serverless(name, args) : this.provisioned(name, args);
    this.arn = cluster.arn;
    // Firehose's private MSK source needs a cluster policy letting its principal create the VPC connection
    // ("Configure source settings for Amazon MSK", Firehose developer guide), here only for this account.
    const policy = new aws.msk.ClusterPolicy(
      `${name}-firehose`,
      {
        clusterArn: cluster.arn,
        policy: cluster.arn.apply((arn) =>
          staticPolicyDocument([
            allowService("FirehosePrivateConnection", "firehose.amazonaws.com", "kafka:CreateVpcConnection", arn, {
              StringEquals: { "aws:SourceAccount": context.accountId },
            }),
          ]),
        ),
      },
      child,
    );
    const topics = cluster instanceof aws.msk.Cluster ? this.topics(name, cluster, sizing, context) : [];
    this.ready = pulumi.all([cluster.arn, policy.id, ...topics.map((t) => t.id)]).apply(([arn]) => arn);
    const topicArn = (topic: string) => cluster.arn.apply((a) => `${a.replace(":cluster/", ":topic/")}/${topic}`);
    this.producerPolicy = new aws.iam.Policy(
      `${name}-producers`,
      {
        name: `${this.clusterName}-producers`,
        description: `Producers of ${source.name}: connect to its MSK cluster and write its topics only`,
        policy: policyDocument([
          allow("Connect", ["kafka-cluster:Connect"], cluster.arn),
          allow(
            "WriteTopics",
            ["kafka-cluster:DescribeTopic", "kafka-cluster:WriteData"],
            sizing.topics.map((t) => topicArn(t.topic)),
          ),
        ]),
      },
      child,
    );
    this.registerOutputs({ arn: this.arn });
  }

  /** A provisioned cluster: KRaft, m7g brokers over the three AZs, the lake key, IAM only, broker logs. */
  private provisioned(name: string, { context, sizing }: KafkaClusterArgs): aws.msk.Cluster {
    const child = { parent: this };
    const brokers = sizing.brokers!;
    const logs = new aws.cloudwatch.LogGroup(
      `${name}-broker-logs`,
      {
        name: `/lakehouse/${this.clusterName}/msk-brokers`,
        kmsKeyId: context.logsKeyArn,
        retentionInDays: context.retention.logs,
        tags: classification("logs"),
      },
      child,
    );
    const configuration = new aws.msk.Configuration(
      `${name}-config`,
      {
        name: `${this.clusterName}-brokers`,
        kafkaVersions: [KAFKA_VERSION],
        serverProperties: BROKER_PROPERTIES,
      },
      child,
    );
    const cluster = new aws.msk.Cluster(
      name,
      {
        clusterName: this.clusterName,
        kafkaVersion: KAFKA_VERSION,
        numberOfBrokerNodes: brokers.count,
        brokerNodeGroupInfo: {
          instanceType: brokers.instanceType,
          clientSubnets: context.network().subnetIds,
          securityGroups: [this.securityGroup.id],
          storageInfo: { ebsStorageInfo: { volumeSize: brokers.storageGiB } },
          connectivityInfo: {
            publicAccess: { type: "DISABLED" },
            // Multi-VPC private connectivity for IAM: what Firehose's PRIVATE MSK source connects through.
            vpcConnectivity: { clientAuthentication: { sasl: { iam: true } } },
          },
        },
        clientAuthentication: { sasl: { iam: true, scram: false }, unauthenticated: false },
        encryptionInfo: {
          encryptionAtRestKmsKeyArn: context.lakeKeyArn,
          encryptionInTransit: { clientBroker: "TLS", inCluster: true },
        },
        configurationInfo: { arn: configuration.arn, revision: configuration.latestRevision },
        loggingInfo: { brokerLogs: { cloudwatchLogs: { enabled: true, logGroup: logs.name } } },
        tags: { ...classification("raw") },
      },
      { ...child, dependsOn: [context.network()] },
    );
    // MSK's advice: act before a broker's data volume passes 85% ("Monitor disk space", MSK best practices).
    for (let broker = 1; broker <= brokers.count; broker++) {
      new aws.cloudwatch.MetricAlarm(
        `${name}-disk-${broker}`,
        {
          name: `${this.clusterName}-broker-${broker}-disk`,
          alarmDescription: `${this.clusterName}: broker ${broker} data volume above 85% (raise storageGiB or brokers)`,
          namespace: "AWS/Kafka",
          metricName: "KafkaDataLogsDiskUsed",
          dimensions: { "Cluster Name": this.clusterName, "Broker ID": String(broker) },
          statistic: "Maximum",
          period: 300,
          evaluationPeriods: 3,
          threshold: 85,
          comparisonOperator: "GreaterThanThreshold",
          treatMissingData: "breaching",
          alarmActions: [context.alerts.topicArn],
          okActions: [context.alerts.topicArn],
        },
        { parent: this },
      );
    }
    return cluster;
  }

  /** MSK Serverless: IAM is its only authentication ("What is MSK Serverless?"); the brokers sit behind our SG. */
  private serverless(name: string, { context }: KafkaClusterArgs): aws.msk.ServerlessCluster {
    return new aws.msk.ServerlessCluster(
      name,
      {
        clusterName: this.clusterName,
        clientAuthentication: { sasl: { iam: { enabled: true } } },
        vpcConfigs: [{ subnetIds: context.network().subnetIds, securityGroupIds: [this.securityGroup.id] }],
        tags: { ...classification("raw") },
      },
      { parent: this },
    );
  }

  /** The topics, with the sized partitions and a retention that never outlives the erasure SLA. */
  private topics(
    name: string,
    cluster: aws.msk.Cluster,
    sizing: StreamSizing,
    context: AwsSourceContext,
  ): aws.msk.Topic[] {
    const retentionHours = Math.min(
      TOPIC_RETENTION_HOURS,
      erasureBudget(context.erasureSlaDays).messageRetentionDays * 24,
    );
    return sizing.topics.map(
      (t) =>
        new aws.msk.Topic(
          `${name}-${t.topic.replace(/[^A-Za-z0-9-]/g, "-")}`,
          {
            clusterArn: cluster.arn,
            name: t.topic,
            partitionCount: t.partitions,
            replicationFactor: MSK_PROVISIONED.replicationFactor,
            configs: JSON.stringify({
              "retention.ms": String(retentionHours * 3_600_000),
              "cleanup.policy": "delete",
              "min.insync.replicas": "2",
            }),
          },
          { parent: this },
        ),
    );
  }
}

/**
 * An existing Kafka (bootstrap servers you run) delivered into Iceberg by MSK Connect with the Apache Iceberg
 * sink connector: the credentials in Secrets Manager (lake key), read by the workers through the MSK config
 * provider so no secret ever sits in the connector configuration; TLS to the brokers (SASL/SCRAM or mTLS over
 * it); workers in the cell's private subnets, out only to the brokers' ports and the VPC endpoints; one
 * connector per topic (its own converter, upsert keys and failure isolation); worker logs in an encrypted,
 * expiring log group; alarms on failed tasks and on a stalled sink. Plugin and connectors are created only
 * once `networkReady` (a connector that cannot reach its brokers fails its creation).
 */
import * as aws from "@pulumi/aws";
import { credentialSecret } from "../../credential-secret";
import * as pulumi from "@pulumi/pulumi";
import type { SourceCredential } from "../../../config/load";
import type { KafkaSource } from "../../../config/schema";
import { classification } from "../../../conventions";
import { ServiceRole } from "../../iam/service-role";
import {
  allow,
  glueTables,
  lakeFormationDataAccess,
  listPrefixes,
  objectsUnder,
  readSecret,
  readWriteObjects,
  useKey,
} from "../../iam/statements";
import type { AwsSourceContext } from "../context";
import type { StreamSizing } from "./stream-sizing";
import type { TopicTable } from "./topic-tables";

/** MSK Connect's Kafka Connect version (MSK Connect API `KafkaConnectVersion`). */
export const KAFKA_CONNECT_VERSION = "3.7.x";

/**
 * Where the connector plugin must be uploaded before `networkReady`: the Apache Iceberg Kafka Connect runtime
 * (built from the Apache Iceberg release, `kafka-connect/kafka-connect-runtime`, or Iceberg's published
 * runtime zip) with the MSK config providers jar added (README, "Event streams: first deployment").
 */
export const pluginKey = (version: string): string =>
  `_system/kafka-connect/iceberg-kafka-connect-runtime-${version}.zip`;
export const ICEBERG_CONNECT_VERSION = "1.9.2";

/** The mTLS client keystore's key in the landing bucket. */
export const keystoreKey = (source: string): string => `_system/kafka/${source}/client.p12`;

/** The Kafka ports of the bootstrap servers. */
export const brokerPorts = (servers: readonly string[]): number[] =>
  [...new Set(servers.map((s) => Number(s.slice(s.lastIndexOf(":") + 1))))].sort((a, b) => a - b);

/**
 * The sink's configuration for one topic (Apache Iceberg, "Kafka Connect" docs: `iceberg.tables`,
 * `iceberg.catalog.*`, upsert mode with id columns). Landing tables keep the value as text: `StringConverter`,
 * then Kafka Connect's `HoistField` wraps it as `payload` and `InsertField` adds partition, offset and timestamp.
 * Failures stop the task (`errors.tolerance=none`): nothing is skipped, the offset stays, the alarm fires.
 */
export function connectorConfiguration(a: {
  readonly topic: TopicTable;
  readonly database: string;
  readonly warehouse: string;
  readonly region: string;
  readonly lakeKeyArn: string;
  readonly secretArn: string;
  readonly source: Pick<KafkaSource, "auth" | "name">;
  readonly landingBucket: string;
}): Record<string, string> {
  const { topic, source } = a;
  const secret = (field: string) => `\${secretsmanager:${a.secretArn}:${field}}`;
  const auth: Record<string, string> =
    source.auth?.type === "mtls"
      ? {
          "consumer.override.security.protocol": "SSL",
          "consumer.override.ssl.keystore.type": "PKCS12",
          "consumer.override.ssl.keystore.location": `\${s3import:${a.region}:${a.landingBucket}/${keystoreKey(source.name)}}`,
          "consumer.override.ssl.keystore.password": secret("password"),
        }
      : {
          "consumer.override.security.protocol": "SASL_SSL",
          "consumer.override.sasl.mechanism": source.auth?.mechanism ?? "SCRAM-SHA-512",
          "consumer.override.sasl.jaas.config": `org.apache.kafka.common.security.scram.ScramLoginModule required username="${secret("username")}" password="${secret("password")}";`,
        };
  const value: Record<string, string> = topic.landing
    ? {
        "value.converter": "org.apache.kafka.connect.storage.StringConverter",
        transforms: "wrap,meta",
        "transforms.wrap.type": "org.apache.kafka.connect.transforms.HoistField$Value",
        "transforms.wrap.field": "payload",
        "transforms.meta.type": "org.apache.kafka.connect.transforms.InsertField$Value",
        "transforms.meta.partition.field": "kafka_partition",
        "transforms.meta.offset.field": "kafka_offset",
        "transforms.meta.timestamp.field": "arrived_at",
      }
    : {
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter.schemas.enable": "false",
        ...(topic.uniqueKeys.length > 0
          ? {
              "iceberg.tables.upsert-mode-enabled": "true",
              "iceberg.tables.default-id-columns": topic.uniqueKeys.join(","),
            }
          : {}),
      };
  return {
    "connector.class": "org.apache.iceberg.connect.IcebergSinkConnector",
    topics: topic.topic,
    "tasks.max": "4",
    "key.converter": "org.apache.kafka.connect.storage.StringConverter",
    ...value,
    "iceberg.tables": `${a.database}.${topic.tableName}`,
    "iceberg.tables.auto-create-enabled": "false",
    "iceberg.tables.evolve-schema-enabled": "false",
    "iceberg.control.commit.interval-ms": "300000",
    "iceberg.catalog.catalog-impl": "org.apache.iceberg.aws.glue.GlueCatalog",
    "iceberg.catalog.io-impl": "org.apache.iceberg.aws.s3.S3FileIO",
    "iceberg.catalog.warehouse": a.warehouse,
    "iceberg.catalog.client.region": a.region,
    "iceberg.catalog.s3.sse.type": "kms",
    "iceberg.catalog.s3.sse.key": a.lakeKeyArn,
    "errors.tolerance": "none",
    "errors.log.enable": "true",
    // Events carry personal data: log that a record failed, never its content.
    "errors.log.include.messages": "false",
    ...auth,
  };
}

export interface ConnectDeliveryArgs {
  readonly context: AwsSourceContext;
  readonly source: KafkaSource;
  readonly sizing: StreamSizing;
  readonly tables: readonly TopicTable[];
  /** Resolves once the topics' Iceberg tables exist. */
  readonly tablesReady: pulumi.Input<string>;
  /** The VPC's CIDR (workers reach the interface endpoints there). */
  readonly vpcCidr: pulumi.Input<string>;
}

export class ConnectDelivery extends pulumi.ComponentResource {
  public readonly secret: aws.secretsmanager.Secret;
  public readonly role: ServiceRole;
  public readonly connectors: readonly aws.mskconnect.Connector[];

  constructor(name: string, args: ConnectDeliveryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:aws:ConnectDelivery", name, {}, opts);
    const { context, source, tables } = args;
    const child = { parent: this };
    const id = `${context.resourcePrefix}-${source.name}`;
    const cred =
      source.auth && Object.hasOwn(context.credentials, source.auth.credentials)
        ? context.credentials[source.auth.credentials]
        : undefined;
    if (!cred)
      throw new Error(`kafka source ${source.name}: no lakehouse:sourceCredentials entry for auth.credentials`);
    this.secret = this.credentialsSecret(name, id, context, cred);
    const scope = { region: context.region, accountId: context.accountId };
    const prefix = `curated/${source.name}/`;
    this.role = new ServiceRole(
      `${name}-role`,
      {
        service: "kafkaconnect.amazonaws.com",
        accountId: context.accountId,
        description: `MSK Connect sinks ${source.name} into its Iceberg tables`,
        statements: [
          readSecret("ReadOwnSecret", this.secret.arn),
          useKey(
            "DecryptSecret",
            context.lakeKeyArn,
            ["kms:Decrypt"],
            `secretsmanager.${context.region}.amazonaws.com`,
          ),
          glueTables(
            "IcebergTables",
            ["glue:GetDatabase", "glue:GetTable", "glue:UpdateTable"],
            scope,
            context.curatedDatabaseName,
            tables.map((t) => t.tableName),
          ),
          lakeFormationDataAccess(),
          readWriteObjects("TableFiles", context.warehouse.arn, prefix),
          listPrefixes("ListTables", context.warehouse.arn, [prefix]),
          useKey(
            "LakeKey",
            context.lakeKeyArn,
            ["kms:GenerateDataKey", "kms:Decrypt"],
            `s3.${context.region}.amazonaws.com`,
          ),
          ...(source.auth?.type === "mtls"
            ? [allow("ReadKeystore", ["s3:GetObject"], objectsUnder(context.landing.arn, keystoreKey(source.name)))]
            : []),
        ],
      },
      child,
    );
    const grants = tables.map(
      (t) =>
        new aws.lakeformation.Permissions(
          `${name}-lf-${t.tableName.replace(/_/g, "-")}`,
          {
            principal: this.role.arn,
            permissions: ["DESCRIBE", "SELECT", "INSERT", "DELETE", "ALTER"],
            // Named once the tables exist: a grant on a missing table fails.
            table: {
              databaseName: context.curatedDatabaseName,
              name: pulumi.output(args.tablesReady).apply(() => t.tableName),
            },
          },
          child,
        ),
    );
    const logs = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      {
        name: `/lakehouse/${id}/msk-connect`,
        kmsKeyId: context.logsKeyArn,
        retentionInDays: context.retention.logs,
        tags: classification("logs"),
      },
      child,
    );
    const network = context.network();
    const sg = this.workersSecurityGroup(name, id, args);
    // The MSK config providers resolve `${secretsmanager:...}` and `${s3import:...}` at run time ("Externalize
    // sensitive information using config providers", MSK developer guide).
    const worker = new aws.mskconnect.WorkerConfiguration(
      `${name}-worker`,
      {
        name: `${id}-worker`,
        propertiesFileContent: [
          "key.converter=org.apache.kafka.connect.storage.StringConverter",
          "value.converter=org.apache.kafka.connect.storage.StringConverter",
          "config.providers=secretsmanager,s3import",
          "config.providers.secretsmanager.class=com.amazonaws.kafka.config.providers.SecretsManagerConfigProvider",
          `config.providers.secretsmanager.param.region=${context.region}`,
          "config.providers.s3import.class=com.amazonaws.kafka.config.providers.S3ImportConfigProvider",
          `config.providers.s3import.param.region=${context.region}`,
        ].join("\n"),
      },
      child,
    );
    this.connectors = source.networkReady
      ? this.createConnectors(name, id, args, { sg, logs, worker, grants, subnets: network.subnetIds })
      : [];
    this.registerOutputs({ secretArn: this.secret.arn });
  }

  /** The workers' security group: out to the brokers' ports in the sources' networks, the endpoints and S3 only. */
  private workersSecurityGroup(name: string, id: string, args: ConnectDeliveryArgs): aws.ec2.SecurityGroup {
    const { context, source } = args;
    const network = context.network();
    const child = { parent: this };
    return new aws.ec2.SecurityGroup(
      `${name}-workers`,
      {
        vpcId: network.vpcId,
        description: `MSK Connect workers of ${source.name}: out to the Kafka brokers and the VPC endpoints only`,
        ingress: [],
        egress: [
          ...brokerPorts(source.bootstrapServers ?? []).map((port) => ({
            description: `Kafka brokers on ${port}`,
            protocol: "tcp",
            fromPort: port,
            toPort: port,
            cidrBlocks: [...network.sourceCidrs],
          })),
          {
            description: "VPC interface endpoints",
            protocol: "tcp",
            fromPort: 443,
            toPort: 443,
            cidrBlocks: [args.vpcCidr],
          },
          // The Iceberg files: S3 through the gateway endpoint, reached by the region's S3 prefix list.
          {
            description: "S3 gateway endpoint",
            protocol: "tcp",
            fromPort: 443,
            toPort: 443,
            prefixListIds: [network.s3PrefixListId],
          },
        ],
        tags: { Name: `${id}-connect-workers` },
      },
      child,
    );
  }

  /** The secret the workers read: SCRAM username/password, or the keystore password. */
  private credentialsSecret(
    name: string,
    id: string,
    context: AwsSourceContext,
    cred: SourceCredential,
  ): aws.secretsmanager.Secret {
    return credentialSecret(
      name,
      {
        secretName: `${id}/kafka`,
        description: `Kafka client credentials of ${id}`,
        kmsKeyId: context.lakeKeyArn,
        credential: cred,
      },
      this,
    );
  }

  /** The plugin (uploaded by the operator) and one connector per topic, with their alarms. */
  private createConnectors(
    name: string,
    id: string,
    { context, source, sizing, tables, tablesReady }: ConnectDeliveryArgs,
    r: {
      sg: aws.ec2.SecurityGroup;
      logs: aws.cloudwatch.LogGroup;
      worker: aws.mskconnect.WorkerConfiguration;
      grants: aws.lakeformation.Permissions[];
      subnets: pulumi.Input<string>[];
    },
  ): aws.mskconnect.Connector[] {
    const plugin = new aws.mskconnect.CustomPlugin(
      `${name}-plugin`,
      {
        name: `${id}-iceberg-sink`,
        contentType: "ZIP",
        location: { s3: { bucketArn: context.landing.arn, fileKey: pluginKey(ICEBERG_CONNECT_VERSION) } },
      },
      { parent: this },
    );
    const connect = sizing.connect!;
    return tables.map((t) => {
      const connectorName = `${id}-${t.topic}`.slice(0, 128);
      const connector = new aws.mskconnect.Connector(
        `${name}-${t.topic.replace(/[^A-Za-z0-9-]/g, "-")}`,
        {
          name: connectorName,
          kafkaconnectVersion: KAFKA_CONNECT_VERSION,
          capacity: {
            autoscaling: {
              mcuCount: connect.mcuPerWorker,
              minWorkerCount: connect.minWorkers,
              maxWorkerCount: connect.maxWorkers,
              scaleInPolicy: { cpuUtilizationPercentage: 20 },
              scaleOutPolicy: { cpuUtilizationPercentage: 60 },
            },
          },
          connectorConfiguration: pulumi
            .all([
              context.curatedDatabaseName,
              context.warehouse.name,
              context.lakeKeyArn,
              this.secret.arn,
              context.landing.name,
              tablesReady,
            ])
            .apply(([database, warehouse, lakeKeyArn, secretArn, landingBucket]) =>
              connectorConfiguration({
                topic: t,
                database,
                warehouse: `s3://${warehouse}/curated/${source.name}/`,
                region: context.region,
                lakeKeyArn,
                secretArn,
                source,
                landingBucket,
              }),
            ),
          kafkaCluster: {
            apacheKafkaCluster: {
              bootstrapServers: (source.bootstrapServers ?? []).join(","),
              vpc: { securityGroups: [r.sg.id], subnets: r.subnets },
            },
          },
          // Authentication is SASL/SCRAM or mTLS in the consumer overrides; the connection is always TLS.
          kafkaClusterClientAuthentication: { authenticationType: "NONE" },
          kafkaClusterEncryptionInTransit: { encryptionType: "TLS" },
          logDelivery: { workerLogDelivery: { cloudwatchLogs: { enabled: true, logGroup: r.logs.name } } },
          plugins: [{ customPlugin: { arn: plugin.arn, revision: plugin.latestRevision } }],
          serviceExecutionRoleArn: pulumi.all([this.role.arn, ...r.grants.map((g) => g.id)]).apply(([arn]) => arn),
          workerConfiguration: { arn: r.worker.arn, revision: r.worker.latestRevision },
        },
        { parent: this },
      );
      this.alarm(
        `${name}-${t.topic.replace(/[^A-Za-z0-9-]/g, "-")}-errored`,
        connectorName,
        "ErroredTaskCount",
        "GreaterThanThreshold",
        0,
        context,
        "a task failed (the connector stopped at the failing record; nothing was skipped)",
      );
      this.alarm(
        `${name}-${t.topic.replace(/[^A-Za-z0-9-]/g, "-")}-stalled`,
        connectorName,
        "SinkRecordSendRate",
        "LessThanOrEqualToThreshold",
        0,
        context,
        "no record sent to Iceberg for 30 minutes (lag growing or brokers unreachable)",
      );
      return connector;
    });
  }

  private alarm(
    name: string,
    connectorName: string,
    metricName: string,
    comparisonOperator: string,
    threshold: number,
    context: AwsSourceContext,
    what: string,
  ): aws.cloudwatch.MetricAlarm {
    return new aws.cloudwatch.MetricAlarm(
      name,
      {
        name: `${connectorName}-${metricName}`,
        alarmDescription: `${connectorName}: ${what}`,
        namespace: "AWS/KafkaConnect",
        metricName,
        dimensions: { ConnectorName: connectorName },
        statistic: metricName === "ErroredTaskCount" ? "Maximum" : "Sum",
        period: 300,
        evaluationPeriods: metricName === "ErroredTaskCount" ? 1 : 6,
        threshold,
        comparisonOperator,
        treatMissingData: "breaching",
        alarmActions: [context.alerts.topicArn],
        okActions: [context.alerts.topicArn],
      },
      { parent: this },
    );
  }
}

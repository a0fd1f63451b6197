/**
 * One event-streaming source of a cell (`lakehouse:sources.kafka[]`) landing in Iceberg tables of the cell's
 * curated database (docs/adr/0011-event-streams-into-iceberg.md):
 *
 * - `msk-provisioned` / `msk-serverless`: a new private MSK cluster (./kafka/msk-cluster.ts) and one Firehose
 *   stream per topic into its table (./kafka/firehose-delivery.ts); schemaless topics go through the
 *   landing-record processor (functions/event-stream/landing-record.ts);
 * - `existing`: your Kafka, read by MSK Connect with the Apache Iceberg sink (./kafka/connect-delivery.ts).
 *
 * Either way the topics' tables are declared here with their optimizers sized from the erasure SLA, sizes come
 * from `lakehouse:scale` (./kafka/stream-sizing.ts), and failures and lag alarm on the cell's ingestion topic.
 */
import * as pulumi from "@pulumi/pulumi";
import type { KafkaSource, Scale } from "../../config/schema";
import type { Sizing } from "../../config/sizing";
import { TableOptimizerRole } from "../iam/table-optimizer-role";
import { IcebergTable, maintenanceForSla } from "../ingestion/iceberg-table";
import type { AwsSourceContext } from "./context";
import { pseudonymColumns } from "../../privacy/personal-data";
import { ConnectDelivery } from "./kafka/connect-delivery";
import { errorPrefix, FirehoseDelivery } from "./kafka/firehose-delivery";
import { KafkaCluster } from "./kafka/msk-cluster";
import { sharingTopics, sizeStream, type StreamSizing } from "./kafka/stream-sizing";
import { topicTables, type TopicTable } from "./kafka/topic-tables";
import { SourceFunction } from "./source-function";

/** The scale a cell's sizing was derived from (components/config/sizing.ts keeps the average and the peak). */
export function scaleOf(sizing: Sizing): Scale {
  const { average, peak } = sizing.eventsPerSecond;
  return {
    transactionsPerDay: Math.round(sizing.transactionsPerSecond.average * 86_400),
    clickstreamEventsPerDay: Math.round(average * 86_400),
    peakFactor: average > 0 ? peak / average : 1,
  };
}

export interface EventStreamSourceArgs {
  /** What the source lands into and reports to. */
  readonly context: AwsSourceContext;
  /** The source as configured. */
  readonly source: KafkaSource;
  /**
   * Topics of the cell's kafka sources without `eventsPerDay` (`sharingTopics`): they share the cell's
   * clickstream volume equally. @default this source's own such topics
   */
  readonly topicsInCell?: number;
}

export class EventStreamSource extends pulumi.ComponentResource {
  public readonly sizing: StreamSizing;
  public readonly tables: Readonly<Record<string, IcebergTable>>;
  /** New clusters only. */
  public readonly cluster: KafkaCluster | undefined;
  /** Per topic (new clusters). */
  public readonly deliveries: Readonly<Record<string, FirehoseDelivery>>;
  /** Existing Kafka only. */
  public readonly connect: ConnectDelivery | undefined;

  constructor(name: string, args: EventStreamSourceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:aws:EventStreamSource", name, {}, opts);
    const { context, source } = args;
    const child = { parent: this };
    this.sizing = sizeStream(
      source,
      scaleOf(context.sizing),
      context.region,
      args.topicsInCell ?? sharingTopics([source]),
    );
    // Config validation reports these with the stack file first (components/aws/sources/kafka/config-rules.ts).
    if (this.sizing.problems.length > 0) throw new Error(this.sizing.problems.join("; "));
    const topics = topicTables(source);
    const tables = this.declareTables(name, context, source, topics);
    this.tables = Object.fromEntries(topics.map((t, i) => [t.tableName, tables[i]]));
    if (source.mode !== "existing") declareErrorFiles(context, source.name, topics);
    const tablesReady = pulumi
      .all(tables.flatMap((t) => Object.values(t.optimizers).map((o) => o.id)))
      .apply(() => source.name);
    const network = context.network();
    // The only network admitted to the brokers / left by the workers.
    const vpcCidr = network.vpcCidr;

    if (source.mode === "existing") {
      this.cluster = undefined;
      this.deliveries = {};
      this.connect = new ConnectDelivery(
        `${name}-connect`,
        { context, source, sizing: this.sizing, tables: topics, tablesReady, vpcCidr },
        child,
      );
    } else {
      this.connect = undefined;
      this.cluster = new KafkaCluster(`${name}-cluster`, { context, source, sizing: this.sizing, vpcCidr }, child);
      const processor = topics.some((t) => t.landing)
        ? new SourceFunction(
            `${name}-landing`,
            {
              context,
              functionName: `${source.name}-landing`,
              description: `Wraps schemaless events of ${source.name} as landing rows for Firehose`,
              entry: "functions/event-stream/landing-record.ts",
              statements: [],
              timeoutSeconds: 60,
              memoryMb: 256,
            },
            child,
          )
        : undefined;
      this.deliveries = Object.fromEntries(
        topics.map((t, i) => [
          t.topic,
          new FirehoseDelivery(
            `${name}-${t.topic.replace(/[^A-Za-z0-9-]/g, "-")}`,
            {
              context,
              source: source.name,
              table: t,
              tableReady: pulumi.all(Object.values(tables[i].optimizers).map((o) => o.id)).apply(() => t.tableName),
              clusterArn: this.cluster!.ready,
              processorArn: t.landing ? processor?.arn : undefined,
            },
            child,
          ),
        ]),
      );
    }
    // The partitions each topic was sized for: MSK Serverless topics are created from these by the operator.
    this.registerOutputs({
      tables: Object.keys(this.tables),
      partitions: Object.fromEntries(this.sizing.topics.map((t) => [t.topic, t.partitions])),
    });
  }

  /** The topics' Iceberg tables under `curated/<source>/`, maintained inside the erasure SLA by their own optimizer role. */
  private declareTables(
    name: string,
    context: AwsSourceContext,
    source: KafkaSource,
    topics: readonly TopicTable[],
  ): IcebergTable[] {
    const prefix = `curated/${source.name}/`;
    const optimizer = new TableOptimizerRole(
      `${name}-optimizer`,
      {
        accountId: context.accountId,
        region: context.region,
        description: `Glue table optimizers of the Iceberg tables of ${source.name}`,
        warehouseBucketArn: context.warehouse.arn,
        prefix,
        lakeKeyArn: context.lakeKeyArn,
        databaseName: context.curatedDatabaseName,
        tables: topics.map((t) => t.tableName),
        sidLabel: "Stream",
      },
      { parent: this },
    );
    const maintenance = maintenanceForSla(context.erasureSlaDays);
    const warehouse = pulumi.all([context.warehouse.name, context.warehouse.ready]).apply(([bucket]) => bucket);
    return topics.map(
      (t) =>
        new IcebergTable(
          `${name}-${t.tableName.replace(/_+/g, "-")}`,
          {
            accountId: context.accountId,
            databaseName: context.curatedDatabaseName,
            tableName: t.tableName,
            columns: t.columns,
            partitions: t.partitions,
            description: t.landing
              ? `Events of Kafka topic ${t.topic} (${source.name}), as received: JSON payload with partition, offset, arrival`
              : `Events of Kafka topic ${t.topic} (${source.name})${t.uniqueKeys.length > 0 ? `, upserted on ${t.uniqueKeys.join(", ")}` : ""}`,
            location: pulumi.interpolate`s3://${warehouse}/${prefix}${t.tableName}/`,
            optimizerRoleArn: optimizer.arn,
            maintenance,
            personalData: context.personalData,
            // Producers publish pseudonyms only (README of the sources): the workers find a subject's events
            // by the pseudonym inside the JSON text.
            ...(t.landing ? { textColumns: ["payload"] } : {}),
          },
          { parent: this },
        ),
    );
  }
}

/**
 * Firehose writes the events it could not deliver under the topic's error prefix of the raw bucket
 * (`s3ErrorOutputPrefix`): personal data when the topic's events are (a pseudonym column, or a schemaless
 * payload whose content is not declared), erased by the raw bucket's expiry.
 */
function declareErrorFiles(context: AwsSourceContext, source: string, topics: readonly TopicTable[]): void {
  for (const t of topics) {
    const keys = pseudonymColumns(t.columns.map((c) => c.name));
    if (!t.landing && keys.length === 0) continue;
    context.personalData?.prefix({
      cloud: "aws",
      bucket: context.raw.name,
      prefix: errorPrefix(source, t.topic),
      dataClass: "raw",
      expiresAfterDays: context.retention.raw,
      holds: `Events of Kafka topic ${t.topic} (${source}) Firehose could not deliver${t.landing ? " (schemaless JSON)" : `, with ${keys.join(", ")}`}`,
    });
  }
}

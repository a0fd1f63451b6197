/**
 * The cell's AWS sources beyond the relational databases: event streams (Kafka), Cassandra, Elasticsearch,
 * CSV feeds and external APIs, one component per configured entry, each landing in Iceberg tables of the
 * cell's curated database through the shared context (keys, buckets, network, alerts). Every kind the config
 * schema accepts deploys something here (test/sources/every-kind.test.ts).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { CellSources } from "../../config/spec";
import type { AwsSourceContext } from "./context";
import { ApiSource } from "./api-source";
import { EventStreamSource } from "./event-stream";
import { sharingTopics } from "./kafka/stream-sizing";
import { CassandraExtract } from "./cassandra-extract";
import { ElasticsearchExtract } from "./elasticsearch-extract";
import { CsvFeedSource } from "./csv-feed";

/** The source kinds this component deploys (`transactional` is `TransactionalIngestion`'s). */
export const AWS_SOURCE_KINDS = ["kafka", "cassandra", "elasticsearch", "csvFeeds", "apis"] as const;
export type AwsSourceKind = (typeof AWS_SOURCE_KINDS)[number];

/** Whether the cell declares any source this component deploys. */
export function hasAwsSources(sources: CellSources): boolean {
  return AWS_SOURCE_KINDS.some((kind) => sources[kind].length > 0);
}

export interface AwsSourcesArgs {
  /** What every source lands into and reports to. */
  readonly context: AwsSourceContext;
  /** The cell's sources by kind (`CellSpec.sources`). */
  readonly sources: CellSources;
}

export class AwsSources extends pulumi.ComponentResource {
  /** S3 -> EventBridge notifications of the landing bucket (one per bucket), when a feed listens for arrivals. */
  public readonly landingEvents: aws.s3.BucketNotification | undefined;
  /** The components made per kind, by source name. */
  public readonly byKind: { readonly [K in AwsSourceKind]: Readonly<Record<string, pulumi.ComponentResource>> };

  constructor(name: string, args: AwsSourcesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:aws:Sources", name, {}, opts);
    const { context, sources } = args;
    const child = { parent: this };
    // A bucket has one notification configuration (S3 API PutBucketNotificationConfiguration replaces it
    // whole), so it is made once here for every feed. EventBridge then receives every object event of the
    // bucket; each feed's rule matches its own prefix (S3 user guide, "Using EventBridge").
    this.landingEvents =
      sources.csvFeeds.length > 0
        ? new aws.s3.BucketNotification(
            `${name}-landing-events`,
            { bucket: context.landing.name, eventbridge: true },
            child,
          )
        : undefined;
    const each = <S extends { readonly name: string }>(
      list: readonly S[],
      make: (source: S) => pulumi.ComponentResource,
    ): Record<string, pulumi.ComponentResource> => Object.fromEntries(list.map((s) => [s.name, make(s)]));
    this.byKind = {
      kafka: each(
        sources.kafka,
        (source) =>
          new EventStreamSource(
            `${name}-${source.name}`,
            { context, source, topicsInCell: sharingTopics(sources.kafka) },
            child,
          ),
      ),
      cassandra: each(
        sources.cassandra,
        (source) => new CassandraExtract(`${name}-${source.name}`, { context, source }, child),
      ),
      elasticsearch: each(
        sources.elasticsearch,
        (source) => new ElasticsearchExtract(`${name}-${source.name}`, { context, source }, child),
      ),
      csvFeeds: each(
        sources.csvFeeds,
        (source) => new CsvFeedSource(`${name}-${source.name}`, { context, source }, child),
      ),
      apis: each(sources.apis, (source) => new ApiSource(`${name}-${source.name}`, { context, source }, child)),
    };
    this.registerOutputs({});
  }
}

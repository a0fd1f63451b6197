/**
 * One Elasticsearch/OpenSearch source (`lakehouse:sources.elasticsearch[]`) into Iceberg: its credentials
 * in Secrets Manager (lake key), an `OPENSEARCH` Glue connection (Glue 4.0+ "OpenSearch Service
 * connections": HTTP basic credentials from a Secrets Manager secret named by the connection) in a private
 * subnet, TLS to the cluster, and the shared extraction (./nosql-extract.ts).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  curatedColumns,
  ES_KEY_COLUMN,
  nosqlTableName,
  renderElasticsearchConfig,
} from "../../../functions/nosql-extract/cloud-config";
import type { ElasticsearchSource } from "../../config/schema";
import { credentialsSecret } from "./cassandra-extract";
import type { AwsSourceContext } from "./context";
import { NOSQL_SPARK_CATALOG, NoSqlExtractJob } from "./nosql-extract";

/** The secret keys the Glue OpenSearch connection reads (Pulumi registry, aws.glue.Connection, "OpenSearch Service Connection"). */
export const OPENSEARCH_SECRET_KEYS = { user: "opensearch.net.http.auth.user", pass: "opensearch.net.http.auth.pass" };

export interface ElasticsearchExtractArgs {
  /** What the source lands into and reports to. */
  readonly context: AwsSourceContext;
  /** The config entry. */
  readonly source: ElasticsearchSource;
}

/** The endpoint's origin and port (443 when the URL names none). */
export function endpointParts(endpoint: string): { readonly origin: string; readonly port: number } {
  const url = new URL(endpoint);
  return { origin: `${url.protocol}//${url.hostname}`, port: url.port === "" ? 443 : Number(url.port) };
}

export class ElasticsearchExtract extends pulumi.ComponentResource {
  public readonly secret: aws.secretsmanager.Secret;
  public readonly extraction: NoSqlExtractJob;

  constructor(name: string, args: ElasticsearchExtractArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:aws:ElasticsearchExtract", name, {}, opts);
    const { context: ctx, source } = args;
    const { origin, port } = endpointParts(source.endpoint);
    this.secret = credentialsSecret(
      name,
      ctx,
      "elasticsearch",
      source.name,
      source.credentials,
      (u, p) => ({
        [OPENSEARCH_SECRET_KEYS.user]: u,
        [OPENSEARCH_SECRET_KEYS.pass]: p,
      }),
      this,
    );
    const connectionName = `${ctx.resourcePrefix}-elasticsearch-${source.name}`;
    const config = pulumi
      .output(ctx.curatedDatabaseName)
      .apply((database) =>
        JSON.stringify(
          renderElasticsearchConfig(source, { catalog: NOSQL_SPARK_CATALOG, database, connectionName }),
          null,
          2,
        ),
      );
    this.extraction = new NoSqlExtractJob(
      `${name}-extract`,
      {
        context: ctx,
        kind: "elasticsearch",
        source: source.name,
        schedule: source.schedule,
        workers: source.workers,
        scheduled: source.networkReady,
        sourcePorts: [port],
        tables: source.indices.map((ix) => ({
          glueTable: nosqlTableName(source.name, ix.name),
          description: `Index ${ix.name} of ${source.name}, extracted on ${ix.cursorField}`,
          columns: curatedColumns([ES_KEY_COLUMN, ...ix.columns], [ES_KEY_COLUMN.name], `index ${ix.name}`),
        })),
        configJson: config,
        secretArn: this.secret.arn,
        secretArgument: false,
        connection: {
          type: "OPENSEARCH",
          properties: {
            SparkProperties: pulumi.jsonStringify({
              secretId: this.secret.name,
              "opensearch.nodes": origin,
              "opensearch.port": String(port),
              // Only the declared endpoint (a load balancer or coordinating nodes), never discovered
              // data-node addresses the security group does not open.
              "opensearch.nodes.wan.only": "true",
              "opensearch.net.ssl": "true",
            }),
          },
        },
      },
      { parent: this },
    );
    this.registerOutputs({ jobName: this.extraction.jobName });
  }
}

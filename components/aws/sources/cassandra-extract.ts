/**
 * One Cassandra source (`lakehouse:sources.cassandra[]`) into Iceberg: its credentials in Secrets Manager
 * (lake key), its job config, and the shared extraction (./nosql-extract.ts) with a `NETWORK` Glue
 * connection in a private subnet. Glue has no Cassandra connection type ("Connection types and options
 * for ETL in AWS Glue for Spark" lists none), so the job reads through the Spark Cassandra Connector, an
 * assembly JAR the operator provides (`connectorJar`), with TLS on and the credentials it reads from the
 * secret (`--secret_arn`).
 */
import * as aws from "@pulumi/aws";
import { credentialSecret } from "../credential-secret";
import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { curatedColumns, nosqlTableName, renderCassandraConfig } from "../../../functions/nosql-extract/cloud-config";
import type { CassandraSource } from "../../config/schema";
import { PROJECT_ROOT } from "../../project-root";
import type { AwsSourceContext } from "./context";
import { NOSQL_SPARK_CATALOG, NoSqlExtractJob } from "./nosql-extract";

export interface CassandraExtractArgs {
  /** What the source lands into and reports to. */
  readonly context: AwsSourceContext;
  /** The config entry. */
  readonly source: CassandraSource;
}

export class CassandraExtract extends pulumi.ComponentResource {
  public readonly secret: aws.secretsmanager.Secret;
  public readonly extraction: NoSqlExtractJob;

  constructor(name: string, args: CassandraExtractArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:aws:CassandraExtract", name, {}, opts);
    const { context: ctx, source } = args;
    // Validation has checked the file (connectorJarProblem), and that a scheduled job has one.
    const jar = source.connectorJar !== undefined ? path.resolve(PROJECT_ROOT, source.connectorJar) : undefined;
    this.secret = credentialsSecret(
      name,
      ctx,
      "cassandra",
      source.name,
      source.credentials,
      (u, p) => ({
        username: u,
        password: p,
      }),
      this,
    );
    const config = pulumi
      .output(ctx.curatedDatabaseName)
      .apply((database) =>
        JSON.stringify(renderCassandraConfig(source, { catalog: NOSQL_SPARK_CATALOG, database }), null, 2),
      );
    this.extraction = new NoSqlExtractJob(
      `${name}-extract`,
      {
        context: ctx,
        kind: "cassandra",
        source: source.name,
        schedule: source.schedule,
        workers: source.workers,
        scheduled: source.networkReady,
        sourcePorts: [source.port],
        tables: source.tables.map((t) => ({
          glueTable: nosqlTableName(source.name, t.name),
          description: `Cassandra ${source.keyspace}.${t.name} of ${source.name}, extracted on WRITETIME`,
          columns: curatedColumns(t.columns, t.keys, `${source.keyspace}.${t.name}`),
        })),
        configJson: config,
        secretArn: this.secret.arn,
        secretArgument: true,
        connection: { type: "NETWORK" },
        extraJars: jar !== undefined ? [jar] : [],
      },
      { parent: this },
    );
    this.registerOutputs({ jobName: this.extraction.jobName });
  }
}

/**
 * The source's credentials as a secret encrypted with the lake key; `shape` lays out the JSON the reader
 * expects. The password stays a secret Output end to end.
 */
export function credentialsSecret(
  name: string,
  ctx: AwsSourceContext,
  kind: string,
  source: string,
  credentials: string,
  shape: (username: string, password: string) => Record<string, string>,
  parent: pulumi.Resource,
): aws.secretsmanager.Secret {
  // Own properties only: `credentials: constructor` must not find Object.prototype's.
  const cred = Object.hasOwn(ctx.credentials, credentials) ? ctx.credentials[credentials] : undefined;
  if (!cred) throw new Error(`lakehouse:sourceCredentials has no entry '${credentials}' for source ${source}`);
  return credentialSecret(
    name,
    {
      secretName: `${ctx.resourcePrefix}/${kind}/${source}`,
      description: `Credentials of the ${kind} source ${source} (read by its Glue extraction)`,
      kmsKeyId: ctx.lakeKeyArn,
      credential: cred,
      shape,
    },
    parent,
  );
}

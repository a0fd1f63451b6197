/**
 * What the NoSQL extraction job needs, rendered at deploy time from the validated source config: the
 * script and its helper module (assets), one JSON document per source (`renderJobConfig`), the curated
 * tables' columns, and the check of the Cassandra connector JAR the operator provides.
 *
 * The MERGE and the queries are generated at run time by extract_core.py from this document, the same
 * functions the tests run (test/sources/nosql/): nothing is written twice.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { CassandraSource, ElasticsearchSource } from "../../components/config/schema";
import type { IcebergColumn } from "../../components/aws/ingestion/plan-rules";

/** The Glue entry script. */
export const NOSQL_JOB_SCRIPT = path.join(__dirname, "nosql_job.py");
/** The pure helpers the script imports (`--extra-py-files`). */
export const NOSQL_CORE_MODULE = path.join(__dirname, "extract_core.py");
/** Script, helper and configs in the warehouse bucket (no age-based expiry there). */
export const NOSQL_ARTIFACTS_PREFIX = "_system/glue/nosql-extract/";
/** Per-table extraction state (watermark, last reconcile): must outlive every run, so warehouse too. */
export const NOSQL_STATE_PREFIX = "_system/nosql-extract/state/";
/** Spark scratch space in the raw bucket, whose lifecycle expires what a crashed run leaves. */
export const NOSQL_TEMP_PREFIX = "_tmp/glue/nosql-extract/";
/** The CloudWatch namespace the job publishes `RowsMerged` and `WatermarkAgeSeconds` to (nosql_job.py). */
export const NOSQL_METRIC_NAMESPACE = "Lakehouse/Sources";
/** The columns the extraction adds to every curated table (extract_core.py). */
export const VERSION_COLUMN = "_source_version";
export const EXTRACTED_AT_COLUMN = "_extracted_at";

/** A class every Spark Cassandra Connector 3.x assembly holds (the extensions the job registers). */
export const CASSANDRA_CONNECTOR_MARKER = "com/datastax/spark/connector/CassandraSparkExtensions";
/** The connector release the README tells the operator to download (Scala 2.12, Spark 3.5: Glue 5.0). */
export const CASSANDRA_CONNECTOR_ARTIFACT = "com.datastax.spark:spark-cassandra-connector-assembly_2.12:3.5.1";

/** Spark SQL type of an Iceberg primitive (the job casts each batch to the table's types). */
export function sparkType(icebergType: string): string {
  const t = icebergType.replace(/\s+/g, "");
  const simple: Record<string, string> = {
    boolean: "boolean",
    int: "int",
    long: "bigint",
    float: "float",
    double: "double",
    date: "date",
    timestamp: "timestamp_ntz",
    timestamptz: "timestamp",
    string: "string",
    uuid: "string",
    binary: "binary",
  };
  if (Object.hasOwn(simple, t)) return simple[t];
  if (/^decimal\(\d{1,2},\d{1,2}\)$/.test(t)) return t;
  throw new Error(`no Spark type for Iceberg type '${icebergType}'`);
}

/** `<source>_<table>`, lower case, with every character Glue does not keep in a table name as `_`. */
export function nosqlTableName(source: string, table: string): string {
  return `${source}_${table}`.toLowerCase().replace(/[^a-z0-9_]/g, "_");
}

/** One curated column as the job config carries it. */
export interface JobColumn {
  readonly name: string;
  readonly sparkType: string;
  /** Elasticsearch: the `_source` path. */
  readonly field?: string;
}

export interface JobTable {
  /** The CQL table or the index. */
  readonly name: string;
  readonly glueTable: string;
  readonly keys: readonly string[];
  readonly columns: readonly JobColumn[];
  /** Elasticsearch only. */
  readonly cursorField?: string;
}

/** The JSON document nosql_job.py loads from `--config_s3_uri`. */
export interface NoSqlJobConfig {
  readonly version: 1;
  readonly kind: "cassandra" | "elasticsearch";
  readonly source: string;
  readonly catalog: string;
  readonly database: string;
  readonly overlapSeconds: number;
  readonly reconcileEveryHours: number;
  readonly tables: readonly JobTable[];
  // Cassandra
  readonly contactPoints?: readonly string[];
  readonly port?: number;
  readonly localDc?: string;
  readonly consistency?: string;
  readonly splitSizeMb?: number;
  readonly keyspace?: string;
  // Elasticsearch
  readonly connectionName?: string;
}

const lower = (s: string) => s.toLowerCase();

/** The curated columns of a Cassandra table or an index, extraction columns last (Iceberg ids from 1). */
export function curatedColumns(
  columns: readonly { readonly name: string; readonly type: string }[],
  keys: readonly string[],
  what: string,
): IcebergColumn[] {
  const keySet = new Set(keys.map(lower));
  const all = [
    ...columns.map((c) => ({
      name: lower(c.name),
      type: c.type.replace(/\s+/g, ""),
      required: keySet.has(lower(c.name)),
      doc: keySet.has(lower(c.name)) ? `key of ${what}` : `${c.name} of ${what}`,
    })),
    { name: VERSION_COLUMN, type: "long", required: false, doc: "version at the source (microseconds)" },
    { name: EXTRACTED_AT_COLUMN, type: "timestamptz", required: false, doc: "when the extraction merged the row" },
  ];
  return all.map((c, i) => ({ id: i + 1, ...c }));
}

/** The Elasticsearch document key column: `_id`. */
export const ES_KEY_COLUMN = { name: "doc_id", type: "string" } as const;

export interface RenderOptions {
  /** Spark catalog name of the Glue Data Catalog. */
  readonly catalog: string;
  /** The curated Glue database. */
  readonly database: string;
}

export function renderCassandraConfig(source: CassandraSource, o: RenderOptions): NoSqlJobConfig {
  return {
    version: 1,
    kind: "cassandra",
    source: source.name,
    catalog: o.catalog,
    database: o.database,
    overlapSeconds: source.overlapSeconds,
    reconcileEveryHours: source.reconcileEveryHours,
    contactPoints: source.contactPoints,
    port: source.port,
    ...(source.localDc !== undefined ? { localDc: source.localDc } : {}),
    consistency: source.consistency,
    splitSizeMb: source.splitSizeMb,
    keyspace: source.keyspace,
    tables: source.tables.map((t) => ({
      name: t.name,
      glueTable: nosqlTableName(source.name, t.name),
      keys: t.keys.map(lower),
      columns: t.columns.map((c) => ({ name: lower(c.name), sparkType: sparkType(c.type) })),
    })),
  };
}

export function renderElasticsearchConfig(
  source: ElasticsearchSource,
  o: RenderOptions & { readonly connectionName: string },
): NoSqlJobConfig {
  return {
    version: 1,
    kind: "elasticsearch",
    source: source.name,
    catalog: o.catalog,
    database: o.database,
    overlapSeconds: source.overlapSeconds,
    reconcileEveryHours: source.reconcileEveryHours,
    connectionName: o.connectionName,
    tables: source.indices.map((ix) => ({
      name: ix.name,
      glueTable: nosqlTableName(source.name, ix.name),
      keys: [ES_KEY_COLUMN.name],
      cursorField: ix.cursorField,
      columns: [
        { name: ES_KEY_COLUMN.name, sparkType: "string" },
        ...ix.columns.map((c) => ({ name: lower(c.name), sparkType: sparkType(c.type), field: c.field ?? c.name })),
      ],
    })),
  };
}

/**
 * Why the file at `jar` (relative to `root`) is not the connector JAR the job needs, or undefined when it
 * is: it must exist and hold the Spark Cassandra Connector (a JAR lists its entries' names in clear in its
 * central directory). A job deployed without it would only fail at its first run, so config validation
 * reports this with the other problems, before anything is declared.
 */
export function connectorJarProblem(jar: string, root: string): string | undefined {
  const file = path.resolve(root, jar);
  if (!fs.existsSync(file))
    return (
      `'${jar}' does not exist. Download ${CASSANDRA_CONNECTOR_ARTIFACT} from Maven ` +
      `Central to that path (functions/nosql-extract/README.md, "The Cassandra connector JAR").`
    );
  if (!fs.statSync(file).isFile()) return `'${jar}' is not a file; download ${CASSANDRA_CONNECTOR_ARTIFACT}.`;
  const bytes = fs.readFileSync(file);
  if (bytes.subarray(0, 4).toString("latin1") !== "PK\u0003\u0004" || !bytes.includes(CASSANDRA_CONNECTOR_MARKER))
    return (
      `'${jar}' is not the Spark Cassandra Connector assembly (no ${CASSANDRA_CONNECTOR_MARKER} ` +
      `in it); download ${CASSANDRA_CONNECTOR_ARTIFACT}.`
    );
  return undefined;
}

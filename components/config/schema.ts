/**
 * The stack config schema (`lakehouse:` namespace). Every key is typed here and validated at run
 * time, because `pulumi.Config.requireObject<T>` does not check types (pulumi/pulumi#8520).
 * Components never read config: `index.ts` loads it once and hands typed args down.
 */
import { z } from "zod";
import { DATA_CLASSES, JURISDICTIONS, type DataClass, type JurisdictionId } from "./jurisdictions";
import { AUTH_SCHEMES, CURSOR_TYPES, rateMinutes, SCHEDULE_EXPRESSION } from "../../functions/api-puller/config";
import { API_COLUMN_TYPE, RESERVED_COLUMNS } from "../../functions/api-puller/merge-sql";

const positiveDays = z.number().int("must be a whole number of days").positive("must be greater than 0");
const name = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,19}$/, "must be 1-20 lowercase letters, digits or '-', starting with a letter");
const identifier = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_$#]{0,127}$/, "must be a SQL identifier (letters, digits, _, $, #)");

/** Retention in days per data class. */
/** Days per data class: one key per class of the contract (policy/contract), every one required. */
export const retentionSchema = z.strictObject(
  Object.fromEntries(DATA_CLASSES.map((c) => [c, positiveDays])) as Record<DataClass, typeof positiveDays>,
);
const retentionOverrideSchema = retentionSchema.partial();

export const FEDERATION_MODES = ["omni", "in-country-copy"] as const;

export const cellSchema = z.strictObject({
  /** Short cell name, used in every resource name of the cell (`br`, `eu`, `br2`...). */
  name,
  /** The law the cell's data falls under. */
  jurisdiction: z.enum(Object.keys(JURISDICTIONS) as [JurisdictionId, ...JurisdictionId[]]),
  aws: z.strictObject({
    region: z.string().min(1),
    /** The AWS account the cell deploys into (the provider refuses any other: `allowedAccountIds`). */
    accountId: z.string().regex(/^\d{12}$/, "must be a 12-digit AWS account id"),
    /**
     * The IAM role in `accountId` that deploys the cell: the cell's AWS provider assumes it
     * (`assumeRoles`), so one ambient credential deploys every account, and it is made a Lake Formation
     * data lake administrator (the deployer must be one to grant anything).
     */
    deployRoleArn: z
      .string()
      .regex(
        /^arn:aws:iam::\d{12}:role\/[\w+=,.@\/-]{1,512}$/,
        "must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)",
      ),
  }),
  gcp: z.strictObject({
    project: z
      .string()
      .regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, "must be a GCP project id (6-30 lowercase letters, digits, '-')"),
    region: z.string().min(1),
    /**
     * The `gcp.resourceLocations` organization policy on the cell's project. Setting it needs
     * `orgpolicy.policies.create`/`update` (roles/orgpolicy.policyAdmin), which Google grants only at
     * organization level ("Lowest-level resources where you can grant this role: Organization",
     * cloud.google.com/iam/docs/roles-permissions/orgpolicy): an organization admin grants it to the deployer
     * first (docs/first-deploy.md).
     * `skip` leaves the project without the runtime guardrail; residency is then enforced by the policy
     * pack only (every resource's location is checked before it is created). @default "enforce"
     */
    orgPolicy: z.enum(["enforce", "skip"]).default("enforce"),
  }),
  /** How BigQuery reaches the Iceberg lake: Omni (needs an Omni region) or an in-country copy. */
  federation: z.enum(FEDERATION_MODES),
  /** Per-cell retention overrides (a stricter jurisdiction may need shorter windows). */
  retention: retentionOverrideSchema.optional(),
  /** The cell's ingestion network (DMS Serverless). @default a new VPC 10.80.0.0/22 reaching RFC 1918 sources */
  network: z
    .strictObject({
      /** CIDR of the ingestion VPC (a /16 to /24 that does not overlap the sources' networks). @default "10.80.0.0/22" */
      vpcCidr: z
        .string()
        .regex(/^\d{1,3}(\.\d{1,3}){3}\/(1[6-9]|2[0-4])$/, "must be an IPv4 CIDR from /16 to /24")
        .optional(),
      /** Networks the sources live in, reached over Direct Connect/VPN/peering. @default RFC 1918 ranges */
      sourceCidrs: z
        .array(z.string().regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, "must be an IPv4 CIDR"))
        .min(1)
        .optional(),
      /**
       * An existing VPC to run DMS in instead of creating one (its owner keeps routing to the sources).
       * Needs `vpcCidr` (its CIDR, for the security groups) and `subnetIds`. @default a new VPC
       */
      vpcId: z
        .string()
        .regex(/^vpc-[0-9a-f]{8,17}$/, "must be a VPC id (vpc-...)")
        .optional(),
      /** Private subnets of `vpcId` in at least two availability zones (DMS subnet group). */
      subnetIds: z
        .array(z.string().regex(/^subnet-[0-9a-f]{8,17}$/, "must be a subnet id (subnet-...)"))
        .min(2)
        .optional(),
      /** Route tables of those subnets: the S3 gateway endpoint is attached to them. */
      routeTableIds: z
        .array(z.string().regex(/^rtb-[0-9a-f]{8,17}$/, "must be a route table id (rtb-...)"))
        .min(1)
        .optional(),
    })
    .superRefine((n, ctx) => {
      if (n.vpcId === undefined) {
        for (const key of ["subnetIds", "routeTableIds"] as const) {
          if (n[key] !== undefined)
            ctx.addIssue({ code: "custom", path: [key], message: "only with vpcId (an existing VPC)" });
        }
        return;
      }
      if (!n.subnetIds) ctx.addIssue({ code: "custom", path: ["subnetIds"], message: "is required with vpcId" });
      if (!n.routeTableIds)
        ctx.addIssue({ code: "custom", path: ["routeTableIds"], message: "is required with vpcId" });
      if (!n.vpcCidr)
        ctx.addIssue({
          code: "custom",
          path: ["vpcCidr"],
          message: "is required with vpcId (the existing VPC's CIDR)",
        });
    })
    .optional(),
});

export const scaleSchema = z.strictObject({
  /** Business transactions per day across the cell's transactional sources. */
  transactionsPerDay: z.number().int().positive(),
  /** Website/app tracking events per day. */
  clickstreamEventsPerDay: z.number().int().positive(),
  /** Peak-hour rate over the daily average rate. */
  peakFactor: z.number().min(1, "must be at least 1 (peak can't be below the average)").max(50),
});

/**
 * The join key of orders and clickstream: every cell's `orders` table must pseudonymise its customer id
 * into this column (the marts and both federation paths join it to the collector's `user_pseudo_id`).
 */
export const ORDERS_CUSTOMER_PSEUDONYM = "customer_pseudo_id";

/** Iceberg types whose text is the same in Spark, DuckDB and at the edge, so their HMAC joins. */
export const PSEUDONYMISABLE_TYPES: readonly string[] = ["string", "int", "long", "uuid"];

const tableSchema = z.strictObject({
  schema: identifier,
  name: identifier,
  /** Primary-key columns, used by the CDC merge. */
  keys: z.array(identifier).min(1, "needs at least one key column"),
  /** Iceberg partition spec, e.g. `day(order_ts)`, `bucket(16, customer_id)`. */
  partitionBy: z.array(z.string().min(1)).optional(),
  /**
   * Columns of the curated Iceberg table with their Iceberg types (keys and partition sources included);
   * `piiColumns` and `excludeColumns` never reach it. @default keys (as string) and partition sources only
   */
  columns: z
    .array(
      z.strictObject({
        name: identifier,
        type: z
          .string()
          .regex(
            /^(boolean|int|long|float|double|date|time|timestamp|timestamptz|string|uuid|binary|decimal\(\d{1,2},\s*\d{1,2}\))$/,
            "must be an Iceberg primitive type (boolean, int, long, float, double, date, time, timestamp, timestamptz, string, uuid, binary, decimal(P,S))",
          ),
      }),
    )
    .min(1)
    .optional(),
  /** Columns never replicated (dropped by DMS table mappings). */
  excludeColumns: z.array(identifier).optional(),
  /** Columns holding direct identifiers: restricted raw zone only, never in marts. */
  piiColumns: z.array(identifier).optional(),
  /**
   * Pseudonyms the curated table carries: column `as` (a string) holds the keyed HMAC-SHA256 of raw column
   * `column` under the cell's pseudonymisation key, the same function the clickstream collector applies to
   * `userId`, so the two join. `column` may be a `piiColumns` column: then only its pseudonym reaches the
   * curated zone. Pseudonymise string or integer columns (their text is the same in every engine).
   */
  pseudonymise: z.array(z.strictObject({ column: identifier, as: identifier })).optional(),
});

export const SOURCE_ENGINES = ["oracle", "mysql", "sqlserver"] as const;

const transactionalSourceSchema = z.strictObject({
  name,
  cell: name,
  engine: z.enum(SOURCE_ENGINES),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  database: z.string().min(1),
  /** Name of the `lakehouse:sourceCredentials` entry holding username/password (set with --secret). */
  credentials: z.string().min(1),
  /**
   * PEM of the CA that signed the source's TLS certificate, for MySQL and SQL Server: DMS verifies the
   * server with it (`verify-full`). Not for Oracle (see `caCertificateWallet`). @default none: SQL Server
   * falls back to `require`; MySQL supports no unverified TLS mode in DMS, so the plan fails without it.
   */
  caCertificatePem: z.string().startsWith("-----BEGIN CERTIFICATE-----", "must be a PEM certificate").optional(),
  /**
   * Oracle only, and required for it: the base64 of an auto-login Oracle wallet (`cwallet.sso`) holding the
   * CA that signed the source's TLS certificate. DMS verifies Oracle (`verify-ca`) only against a wallet,
   * never a PEM ("SSL support for an Oracle endpoint", DMS user guide). Build it with
   * `orapki wallet add -wallet <dir> -trusted_cert -cert ca.pem -auto_login_only`, then `base64 -w0 cwallet.sso`.
   * A wallet of trusted certificates only is public data; never upload the server's own wallet (it holds
   * the server's private key). @default none
   */
  caCertificateWallet: z
    .string()
    .regex(/^[A-Za-z0-9+/]+={0,2}$/, "must be the base64 of an Oracle wallet file (cwallet.sso)")
    .optional(),
  /**
   * Whether the network path from the cell's ingestion VPC to this source exists (VPN, Direct Connect or
   * peering, routes and firewall rules for `host`:`port`). Only then is the replication started: a
   * started DMS Serverless replication that cannot reach its source waits and fails instead of deploying.
   * First `up` with `false`, connect the network, set `true`, `up` again
   * (components/aws/ingestion/README.md, "First deployment"). @default false
   */
  networkReady: z.boolean().default(false),
  tables: z.array(tableSchema).min(1, "needs at least one table"),
});

/** How an event-streaming source reaches the lake (docs/adr/0011-event-streams-into-iceberg.md). */
export const KAFKA_MODES = ["msk-provisioned", "msk-serverless", "existing"] as const;
/** Client authentication to an existing Kafka cluster. */
export const KAFKA_AUTH_TYPES = ["sasl-scram", "mtls"] as const;

const kafkaColumnSchema = z.strictObject({
  name: identifier,
  type: z
    .string()
    .regex(
      /^(boolean|int|long|float|double|date|timestamp|timestamptz|string|decimal\(\d{1,2},\s*\d{1,2}\))$/,
      "must be an Iceberg primitive type (boolean, int, long, float, double, date, timestamp, timestamptz, string, decimal(P,S))",
    ),
});

const kafkaTopicSchema = z.strictObject({
  /** The Kafka topic (Kafka's legal names: 1-249 letters, digits, '.', '_', '-'). */
  name: z.string().regex(/^[A-Za-z0-9._-]{1,249}$/, "must be a Kafka topic name (letters, digits, '.', '_', '-')"),
  /** The curated Iceberg table the topic lands in. @default `<source>_<topic>`, lower case, `_` for other characters */
  table: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,127}$/, "must be a Glue table name (lower-case letters, digits, '_')")
    .optional(),
  /**
   * The event's top-level JSON fields as table columns (Firehose maps first-level fields to columns of the same
   * name). @default none: a schemaless landing table (`payload` string holding the event JSON, `kafka_partition`,
   * `kafka_offset`, `arrived_at`)
   */
  columns: z.array(kafkaColumnSchema).min(1).optional(),
  /**
   * Unique keys (needs `columns`): each event upserts the row with the same keys (Firehose `uniqueKeys`; a
   * stream with keys is bounded by Firehose's per-stream throughput). @default none: append only
   */
  keys: z.array(identifier).min(1).optional(),
  /** Iceberg partition spec of a typed table (`day(ts)`, `bucket(16, id)`). @default `day(arrived_at)` for landing tables, unpartitioned otherwise */
  partitionBy: z.array(z.string().min(1)).optional(),
  /** Peak-sizing input: events per day on the topic. @default the cell's clickstreamEventsPerDay shared equally by the cell's topics */
  eventsPerDay: z.number().int().positive().optional(),
  /** Peak-sizing input: average event size in bytes. @default 1024 */
  recordBytes: z.number().int().min(16).max(8_000_000).optional(),
  /** Partitions of the topic (new clusters only). @default sized from the topic's peak (stream sizing) */
  partitions: z.number().int().min(1).max(10_000).optional(),
});

export const kafkaSourceSchema = z.strictObject({
  name,
  cell: name,
  /**
   * `msk-provisioned`: a new MSK cluster sized from scale, delivered by Firehose; `msk-serverless`: a new MSK
   * Serverless cluster (only where AWS offers it; AWS-managed key at rest); `existing`: your Kafka, read by MSK
   * Connect with the Iceberg sink. @default "msk-provisioned"
   */
  mode: z.enum(KAFKA_MODES).default("msk-provisioned"),
  /** Topics to land in the lake: a name, or an object with its table, columns and keys. */
  topics: z
    .array(z.union([z.string().regex(/^[A-Za-z0-9._-]{1,249}$/, "must be a Kafka topic name"), kafkaTopicSchema]))
    .min(1),
  /** Partitions per topic (new clusters), unless the topic sets its own. @default sized from the topic's peak */
  partitions: z.number().int().positive().optional(),
  /** New provisioned clusters: broker type and count. @default the smallest type that fits the peak in <= 15 brokers */
  brokers: z
    .strictObject({
      /** `kafka.m7g.*` broker type (t3.small lacks the multi-VPC connectivity Firehose needs). */
      instanceType: z
        .string()
        .regex(
          /^kafka\.m7g\.(large|xlarge|2xlarge|4xlarge|8xlarge|12xlarge|16xlarge)$/,
          "must be a kafka.m7g.* broker type",
        )
        .optional(),
      /** Brokers, a multiple of the 3 availability zones. */
      count: z
        .number()
        .int()
        .min(3)
        .max(60)
        .multipleOf(3, "must be a multiple of 3 (one per availability zone)")
        .optional(),
      /** EBS storage per broker, GiB. @default sized for the retention window at peak */
      storageGiB: z.number().int().min(1).max(16_384).optional(),
    })
    .optional(),
  /** `existing`: bootstrap servers (`host:port`), reached privately from the cell's ingestion VPC. */
  bootstrapServers: z
    .array(z.string().regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, "must be host:port"))
    .min(1)
    .optional(),
  /**
   * `existing`: how MSK Connect authenticates, always over TLS. `sasl-scram`: username/password from
   * `lakehouse:sourceCredentials.<credentials>`; `mtls`: the client keystore (PKCS#12) uploaded to
   * `s3://<landing>/_system/kafka/<source>/client.p12`, its password in `sourceCredentials.<credentials>.password`.
   */
  auth: z
    .strictObject({
      type: z.enum(KAFKA_AUTH_TYPES),
      /** SASL mechanism. @default "SCRAM-SHA-512" */
      mechanism: z.enum(["SCRAM-SHA-512", "SCRAM-SHA-256"]).optional(),
      /** The `lakehouse:sourceCredentials` entry. */
      credentials: z.string().min(1),
    })
    .optional(),
  /**
   * `existing`: the route from the ingestion VPC to the brokers exists and the connector plugin is uploaded;
   * only then is the connector created (it fails at creation when it cannot connect). @default false
   */
  networkReady: z.boolean().default(false),
});

/** An Iceberg primitive type, as the curated tables of the NoSQL sources declare their columns. */
const nosqlIcebergType = z
  .string()
  .regex(
    /^(boolean|int|long|float|double|date|timestamp|timestamptz|string|uuid|binary|decimal\(\d{1,2},\s*\d{1,2}\))$/,
    "must be an Iceberg primitive type (boolean, int, long, float, double, date, timestamp, timestamptz, string, uuid, binary, decimal(P,S))",
  );
/** Column names the extraction adds to every NoSQL curated table (functions/nosql-extract/extract_core.py). */
export const NOSQL_RESERVED_COLUMNS: readonly string[] = ["_source_version", "_extracted_at"];
/** A Glue trigger schedule: Glue triggers take `cron(...)` only (no `rate(...)`). */
const glueCron = z
  .string()
  .regex(/^cron\(\S+( \S+){5}\)$/, "must be a Glue cron expression with six fields, e.g. cron(0 2 * * ? *)");
/** What every scheduled NoSQL extraction shares (functions/nosql-extract/README.md). */
const nosqlExtractFields = {
  name,
  cell: name,
  /** Name of the `lakehouse:sourceCredentials` entry (username/password, set with --secret). */
  credentials: z.string().min(1),
  /** When the extraction job runs (Glue trigger, UTC). */
  schedule: glueCron,
  /**
   * Seconds below the watermark an incremental run reads again: writes that arrive late with an older
   * version (client clocks, index refresh). Re-read rows are no-ops. @default 600
   */
  overlapSeconds: z.number().int().min(0).max(86400).default(600),
  /**
   * Hours between full reads that also delete the rows the source no longer has (neither source exposes
   * deletes to an incremental read): a row erased at the source leaves the lake within this plus one
   * schedule, so it must fit the erasure SLA (checked with erasureSlaDays). @default 24
   */
  reconcileEveryHours: z
    .number()
    .positive()
    .max(24 * 30)
    .default(24),
  /** G.1X workers of the job (2-100). @default 2 */
  workers: z.number().int().min(2).max(100).default(2),
  /**
   * Whether the ingestion VPC reaches the source (VPN, Direct Connect or peering; firewall open to the VPC
   * CIDR). Only then is the job scheduled: until then it exists unscheduled (first `up` with `false`,
   * connect, set `true`, `up` again). @default false
   */
  networkReady: z.boolean().default(false),
};
/** Checks of a NoSQL table's columns against its keys: keys are columns, names unique and not reserved. */
const nosqlColumnsProblems = (
  columns: readonly { readonly name: string }[],
  keys: readonly string[],
  ctx: z.RefinementCtx,
): void => {
  const names = columns.map((c) => c.name.toLowerCase());
  names.forEach((n, i) => {
    if (names.indexOf(n) !== i)
      ctx.addIssue({ code: "custom", path: ["columns", i, "name"], message: `duplicate column '${n}'` });
    if (NOSQL_RESERVED_COLUMNS.includes(n))
      ctx.addIssue({
        code: "custom",
        path: ["columns", i, "name"],
        message: `'${n}' is added by the extraction; rename the column`,
      });
  });
  keys.forEach((k, i) => {
    if (!names.includes(k.toLowerCase()))
      ctx.addIssue({ code: "custom", path: ["keys", i], message: `key '${k}' is not one of the columns` });
  });
};

const cassandraTableSchema = z
  .strictObject({
    /** The CQL table. */
    name: identifier,
    /** Its primary key (partition and clustering columns): the MERGE key of the curated table. */
    keys: z.array(identifier).min(1, "needs at least one key column"),
    /**
     * Columns landed in `<source>_<table>` with their Iceberg types, keys included. At least one must be a
     * regular (non-key) column: its WRITETIME is the row's version. Non-frozen collections have no
     * WRITETIME before Cassandra 5: land them frozen, or leave them out.
     */
    columns: z
      .array(z.strictObject({ name: identifier, type: nosqlIcebergType }))
      .min(2, "needs the key columns and at least one regular column"),
  })
  .superRefine((t, ctx) => {
    nosqlColumnsProblems(t.columns, t.keys, ctx);
    const keys = new Set(t.keys.map((k) => k.toLowerCase()));
    if (t.columns.every((c) => keys.has(c.name.toLowerCase())))
      ctx.addIssue({
        code: "custom",
        path: ["columns"],
        message: "needs at least one regular (non-key) column: its WRITETIME is the row's version",
      });
  });

export const CASSANDRA_CONSISTENCY = ["LOCAL_QUORUM", "LOCAL_ONE", "QUORUM", "ONE", "ALL"] as const;

const cassandraSourceSchema = z
  .strictObject({
    ...nosqlExtractFields,
    /** Host names or private IPs of Cassandra nodes (no scheme, no port), reached privately from the VPC. */
    contactPoints: z
      .array(z.string().regex(/^[A-Za-z0-9.-]{1,253}$/, "must be a host name or IPv4 address, without port"))
      .min(1),
    /** The native-protocol port, with client encryption on (the job always uses TLS). @default 9042 */
    port: z.number().int().min(1).max(65535).default(9042),
    /** The data centre the job reads from (`spark.cassandra.connection.localDC`). @default the driver's choice */
    localDc: z.string().min(1).optional(),
    /** Read consistency (`spark.cassandra.input.consistency.level`). @default "LOCAL_QUORUM" */
    consistency: z.enum(CASSANDRA_CONSISTENCY).default("LOCAL_QUORUM"),
    /** Approximate MB of a token-range split, i.e. of one Spark partition of the scan. @default 64 */
    splitSizeMb: z.number().int().min(8).max(1024).default(64),
    keyspace: identifier,
    tables: z.array(cassandraTableSchema).min(1),
    /**
     * Path (from the repository root) of the Spark Cassandra Connector assembly JAR for Scala 2.12 and Spark
     * 3.5, e.g. `vendor/spark-cassandra-connector-assembly_2.12-3.5.1.jar` from Maven Central: Glue ships no
     * Cassandra connector, the stack uploads this file and adds it to the job (`--extra-jars`). Required once
     * `networkReady` is true; config validation rejects a path that is missing or is not that connector. @default none
     */
    connectorJar: z
      .string()
      .regex(/\.jar$/, "must be the path of a .jar file")
      .optional(),
  })
  .superRefine((c, ctx) => {
    if (c.networkReady && c.connectorJar === undefined)
      ctx.addIssue({
        code: "custom",
        path: ["connectorJar"],
        message:
          "is required with networkReady: true (the Spark Cassandra Connector assembly JAR; functions/nosql-extract/README.md)",
      });
  });

const elasticsearchIndexSchema = z
  .strictObject({
    /** One concrete index or alias (no wildcard, no comma). */
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]{0,199}$/, "must be one index or alias name (lowercase, no wildcard or comma)"),
    /**
     * The date field that every indexing of a document sets (last modified): the incremental cursor and the
     * row's version. A document without it is only landed by a reconcile. @default "updated_at"
     */
    cursorField: z.string().min(1).default("updated_at"),
    /**
     * Columns landed in `<source>_<index>`, besides `doc_id` (the document `_id`, the MERGE key): each a
     * `field` path of `_source` (@default the column name) with its Iceberg type.
     */
    columns: z
      .array(z.strictObject({ name: identifier, type: nosqlIcebergType, field: z.string().min(1).optional() }))
      .min(1),
  })
  .superRefine((t, ctx) => {
    nosqlColumnsProblems(t.columns, [], ctx);
    t.columns.forEach((c, i) => {
      if (c.name.toLowerCase() === "doc_id")
        ctx.addIssue({
          code: "custom",
          path: ["columns", i, "name"],
          message: "'doc_id' is the document _id, added by the extraction",
        });
    });
  });

const elasticsearchSourceSchema = z.strictObject({
  ...nosqlExtractFields,
  /** `https://host:port` of the cluster (OpenSearch, or Elasticsearch 7.10 and older), reached privately. */
  endpoint: z.string().url().startsWith("https://", "must use https"),
  indices: z.array(elasticsearchIndexSchema).min(1),
});

const CSV_TYPES = ["string", "int", "bigint", "decimal", "double", "boolean", "date", "timestamp"] as const;
/** Encodings a CSV feed may arrive in (WHATWG labels: `iso-8859-1` decodes as windows-1252, a superset). */
export const CSV_ENCODINGS = ["utf-8", "iso-8859-1", "windows-1252"] as const;
const csvColumnSchema = z.strictObject({
  name: identifier,
  type: z.enum(CSV_TYPES),
  /** Whether an empty field (NULL) is accepted. Key columns never are. @default true */
  nullable: z.boolean().default(true),
  /** A direct identifier: validated and kept in the raw zone only, never loaded into the curated table. @default false */
  pii: z.boolean().default(false),
  /** `decimal` only: total digits (1-38). @default 18 */
  precision: z.number().int().min(1).max(38).optional(),
  /** `decimal` only: digits after the point (0-precision). @default 2 */
  scale: z.number().int().min(0).max(38).optional(),
});
/**
 * A CSV feed: files dropped under `s3://<landing>/csv/<name>/` are validated against this declaration on
 * arrival and MERGEd into the curated Iceberg table `csv_<name>` on `key`, or quarantined with a report
 * (functions/csv-loader/README.md).
 */
const csvFeedSchema = z
  .strictObject({
    name,
    cell: name,
    /** Field separator (one character; not a quote or line break). @default "," */
    delimiter: z
      .string()
      .length(1)
      .refine((d) => !['"', "\r", "\n"].includes(d), "must not be a double quote or a line break")
      .default(","),
    /** Whether the first line names the columns (then it must list `columns` exactly, in order). @default true */
    header: z.boolean().default(true),
    /** The bytes' encoding; a byte sequence invalid in it quarantines the file. @default "utf-8" */
    encoding: z.enum(CSV_ENCODINGS).default("utf-8"),
    /** The MERGE key: columns unique within a file and identifying a row across files (non-null). */
    key: z.array(identifier).min(1, "needs at least one key column"),
    /** The columns, in file order. */
    columns: z.array(csvColumnSchema).min(1),
    /**
     * Whether the last line must end with a line break. A file cut short (an interrupted upload or export)
     * usually ends mid-line; with this on it is quarantined even when the cut falls between fields.
     * @default true
     */
    requireFinalNewline: z.boolean().default(true),
    /**
     * Largest file accepted, MiB (at most 4096: a quarantined file is moved with one CopyObject, which
     * copies up to 5 GB); larger ones are quarantined unread. @default 4096
     */
    maxFileMiB: z.number().int().min(1).max(4096).default(4096),
  })
  .superRefine((feed, ctx) => {
    const names = feed.columns.map((c) => c.name.toLowerCase());
    names.forEach((n, i) => {
      if (names.indexOf(n) !== i)
        ctx.addIssue({
          code: "custom",
          path: ["columns", i, "name"],
          message: `duplicate column '${n}' (case-insensitive)`,
        });
    });
    feed.key.forEach((k, i) => {
      const column = feed.columns.find((c) => c.name.toLowerCase() === k.toLowerCase());
      if (!column) ctx.addIssue({ code: "custom", path: ["key", i], message: `'${k}' is not a column of the feed` });
      else if (column.pii)
        ctx.addIssue({
          code: "custom",
          path: ["key", i],
          message: `'${k}' is a pii column; the key reaches the curated table`,
        });
    });
    feed.columns.forEach((c, i) => {
      if (c.type !== "decimal" && (c.precision !== undefined || c.scale !== undefined))
        ctx.addIssue({
          code: "custom",
          path: ["columns", i],
          message: "precision and scale are for decimal columns only",
        });
      if (c.type === "decimal" && (c.scale ?? 2) > (c.precision ?? 18))
        ctx.addIssue({ code: "custom", path: ["columns", i, "scale"], message: "must not exceed precision" });
    });
  });

/** A field of a record: a top-level name (`updated_at`) or a JSON pointer of plain names (`/meta/updated_at`). */
const apiField = z
  .string()
  .regex(/^(\/?[A-Za-z0-9_]+)(\/[A-Za-z0-9_]+)*$/, "must be a field name or a JSON pointer of plain names (/a/b)");
/** A JSON pointer into a response body (RFC 6901); `""` is the body itself. */
const jsonPointer = z.string().regex(/^(\/[^/]*)*$/, "must be a JSON pointer ('' or /a/b)");
/** A query parameter name. */
const queryParam = z.string().regex(/^[A-Za-z0-9_.\[\]-]{1,64}$/, "must be a query parameter name");

/**
 * An external API pulled incrementally by a scheduled Lambda into the landing bucket, then MERGEd into the
 * curated table `api_<name>` (functions/api-puller/README.md, which justifies each default).
 */
export const apiSourceSchema = z
  .strictObject({
    name,
    cell: name,
    /** The API's base URL (https only: the credential travels with every request). */
    baseUrl: z.string().url().startsWith("https://", "must use https"),
    /** The collection's path, appended to `baseUrl` (e.g. `/payments`). @default "" (baseUrl is the collection) */
    path: z
      .string()
      .regex(/^(\/[A-Za-z0-9._~%-]+)*\/?$/, "must be a URL path such as /payments")
      .default(""),
    /** EventBridge Scheduler expression of the pulls (`rate(15 minutes)`, `cron(0/15 * * * ? *)`), UTC. */
    schedule: z.string().regex(SCHEDULE_EXPRESSION, "must be rate(N minutes|hours|days) or cron(6 fields)"),
    /** The record's incremental cursor (last-change field): a name or a JSON pointer inside the record. */
    cursorField: apiField,
    /** How cursor values compare: `timestamp` (ISO-8601), `number`, or `string` (byte order). @default "timestamp" */
    cursorType: z.enum(CURSOR_TYPES).default("timestamp"),
    /** Query parameter the watermark is sent in; the API returns records whose cursor is at or after it. @default "since" */
    sinceParam: queryParam.default("since"),
    /** The record's id, the dedupe key of the landing and of the MERGE. @default "id" */
    idField: apiField.default("id"),
    /** JSON pointer of the records array in a response (`""`: the body is the array). @default "/data" */
    recordsPointer: jsonPointer.default("/data"),
    /**
     * Where the next page is. `cursor`: a token in the body (`nextTokenPointer`, default `/next_cursor`) sent back
     * in `tokenParam` (default `cursor`); `next-link`: a URL in the body (`nextLinkPointer`) or, without it, the
     * `Link: rel="next"` header; `page`: numbered pages (`pageParam` default `page`, `firstPage` default 1), the
     * last one short; `since`: keyset by the cursor (records sorted by it, ascending; the next page asks
     * `sinceParam` = the page's last cursor), the one style safe on offset-paginated APIs whose records change
     * during a pass. @default { style: "cursor", tokenParam: "cursor", nextTokenPointer: "/next_cursor" }
     */
    pagination: z
      .discriminatedUnion("style", [
        z.strictObject({
          style: z.literal("cursor"),
          tokenParam: queryParam.default("cursor"),
          nextTokenPointer: jsonPointer.default("/next_cursor"),
        }),
        z.strictObject({ style: z.literal("next-link"), nextLinkPointer: jsonPointer.optional() }),
        z.strictObject({
          style: z.literal("page"),
          pageParam: queryParam.default("page"),
          firstPage: z.number().int().min(0).max(1).default(1),
        }),
        z.strictObject({ style: z.literal("since") }),
      ])
      .default({ style: "cursor", tokenParam: "cursor", nextTokenPointer: "/next_cursor" }),
    /** Records per page asked for. @default 100 */
    pageSize: z.number().int().min(1).max(10_000).default(100),
    /** Query parameter of the page size. @default "limit" */
    pageSizeParam: queryParam.default("limit"),
    /** `lakehouse:sourceCredentials` entry: `password` is the token or key, `username` for `basic`. @default none (a public API) */
    credentials: z.string().min(1).optional(),
    /**
     * How the credential is sent: header name and scheme (`bearer`: `Bearer <password>`, `basic`:
     * `Basic base64(username:password)`, `raw`: the password as is, e.g. `X-Api-Key`). Only with `credentials`.
     * @default { header: "Authorization", scheme: "bearer" }
     */
    auth: z
      .strictObject({
        header: z
          .string()
          .regex(/^[A-Za-z0-9-]{1,64}$/, "must be an HTTP header name")
          .default("Authorization"),
        scheme: z.enum(AUTH_SCHEMES).default("bearer"),
      })
      .optional(),
    /** Request starts per second at most: the API's rate limit (429s are honoured on top). @default 5 */
    requestsPerSecond: z.number().positive().max(100).default(5),
    /** Pages per run at most; a longer backlog continues on the next run. @default 200 */
    maxPagesPerRun: z.number().int().min(1).max(10_000).default(200),
    /** Attempts per request (429, 5xx, timeouts, dropped connections) before the run fails. @default 6 */
    maxAttempts: z.number().int().min(1).max(20).default(6),
    /** Lambda timeout of a run, seconds (60-900). @default 600 */
    timeoutSeconds: z.number().int().min(60).max(900).default(600),
    /**
     * Record fields carried into the curated table (Iceberg types), each from `field` (a name or JSON pointer,
     * default the column's name). Fields not listed, personal data included, stay in the landing zone only.
     * @default [] (the curated table holds record_id, record_cursor and source_object)
     */
    columns: z
      .array(
        z.strictObject({
          name: z.string().regex(/^[a-z][a-z0-9_]{0,127}$/, "must be a lower-case column name"),
          type: z
            .string()
            .regex(API_COLUMN_TYPE, "must be string, long, double, boolean, date, timestamptz or decimal(P,S)"),
          field: apiField.optional(),
        }),
      )
      .default([]),
    /** EventBridge Scheduler expression of the Athena MERGE into the curated table. @default "rate(1 hour)" */
    mergeSchedule: z
      .string()
      .regex(SCHEDULE_EXPRESSION, "must be rate(N minutes|hours|days) or cron(6 fields)")
      .default("rate(1 hour)"),
    /** Landing days each MERGE reads (a pass lands under the day it started). @default 3 */
    mergeLookbackDays: z.number().int().min(1).max(30).default(3),
    /**
     * Minutes without a run that caught up before the lag alarm fires (at most a day, a CloudWatch alarm's
     * window). @default three schedule intervals for `rate(...)`; required with a `cron(...)` schedule
     */
    maxLagMinutes: z.number().int().min(5).max(1440).optional(),
  })
  .superRefine((api, ctx) => {
    const interval = rateMinutes(api.schedule);
    if (interval === undefined && api.maxLagMinutes === undefined)
      ctx.addIssue({ code: "custom", path: ["maxLagMinutes"], message: "is required with a cron(...) schedule" });
    const lag = api.maxLagMinutes ?? (interval === undefined ? undefined : 3 * interval);
    if (lag !== undefined && interval !== undefined && lag < interval)
      ctx.addIssue({
        code: "custom",
        path: ["maxLagMinutes"],
        message: `${lag} minutes is shorter than the schedule's interval (${interval}): the alarm would fire between runs`,
      });
    if (api.maxLagMinutes === undefined && lag !== undefined && lag > 1440)
      ctx.addIssue({
        code: "custom",
        path: ["maxLagMinutes"],
        message: `three intervals of ${api.schedule} exceed a day (a CloudWatch alarm's window): set maxLagMinutes`,
      });
    if (api.auth !== undefined && api.credentials === undefined)
      ctx.addIssue({ code: "custom", path: ["auth"], message: "needs credentials (the secret it sends)" });
    const seen = new Set<string>();
    api.columns.forEach((c, i) => {
      if ((RESERVED_COLUMNS as readonly string[]).includes(c.name))
        ctx.addIssue({
          code: "custom",
          path: ["columns", i, "name"],
          message: `'${c.name}' is reserved (${RESERVED_COLUMNS.join(", ")})`,
        });
      if (seen.has(c.name))
        ctx.addIssue({ code: "custom", path: ["columns", i, "name"], message: `duplicate column '${c.name}'` });
      seen.add(c.name);
    });
  });
export type ApiSource = z.output<typeof apiSourceSchema>;

export const sourcesSchema = z.strictObject({
  transactional: z.array(transactionalSourceSchema).default([]),
  kafka: z.array(kafkaSourceSchema).default([]),
  cassandra: z.array(cassandraSourceSchema).default([]),
  elasticsearch: z.array(elasticsearchSourceSchema).default([]),
  csvFeeds: z.array(csvFeedSchema).default([]),
  apis: z.array(apiSourceSchema).default([]),
});

export const PERSONAS = [
  "platformEngineers",
  "dataEngineers",
  "dataScientists",
  "analysts",
  "businessUsers",
  "marketingApp",
  "compliance",
  "breakGlass",
  // File data-subject requests (the cell's intake) and read their exports (components/aws/rights).
  "privacyOfficers",
] as const;
export type PersonaId = (typeof PERSONAS)[number];

const personaSchema = z.strictObject({
  /** GCP principals (`group:...`, `serviceAccount:...`); never `allUsers`/`allAuthenticatedUsers`. */
  gcpMembers: z
    .array(
      z
        .string()
        .regex(
          /^(group|serviceAccount|user|principalSet):.+/,
          "must be a GCP principal such as group:name@example.com",
        ),
    )
    .default([]),
  /** AWS principals allowed to assume the persona's role (account root, role or SSO role ARNs). */
  awsPrincipals: z.array(z.string().regex(/^arn:aws:iam::\d{12}:.+/, "must be an IAM ARN")).default([]),
});

export const personasSchema = z.strictObject(
  Object.fromEntries(PERSONAS.map((p) => [p, personaSchema.optional()])) as Record<
    PersonaId,
    z.ZodOptional<typeof personaSchema>
  >,
);

const credentialSchema = z.strictObject({ username: z.string().min(1), password: z.string().min(1) });

/** Every key of the `lakehouse:` namespace. A key not listed here is an error (typo guard). */
export const lakehouseSchema = z.strictObject({
  environment: z.enum(["dev", "staging", "prod"]),
  cells: z.array(cellSchema).min(1, "at least one cell is required"),
  scale: scaleSchema,
  retention: retentionSchema,
  /** Days within which an erasure request is physically complete on both clouds. */
  erasureSlaDays: positiveDays,
  /** BigQuery time travel window in hours (48-168, whole days). */
  bigqueryTimeTravelHours: z.number().int(),
  /** Protect stateful resources (`protect`, `retainOnDelete` and the clouds' deletion protection). */
  protect: z.boolean(),
  sources: sourcesSchema.default({
    transactional: [],
    kafka: [],
    cassandra: [],
    elasticsearch: [],
    csvFeeds: [],
    apis: [],
  }),
  personas: personasSchema.default({}),
  /** Credentials for the declared sources, by name; set with `pulumi config set --secret --path`. */
  sourceCredentials: z.record(z.string(), credentialSchema).default({}),
  /** Vertex AI Workbench instances for data scientists, per cell. */
  workbench: z
    .strictObject({
      /** Instances per cell (one per data scientist or per team). @default 1 */
      instances: z.number().int().min(0).max(50).default(1),
      /** Compute Engine machine type. @default "e2-standard-4" */
      machineType: z
        .string()
        .regex(/^[a-z][a-z0-9]*-[a-z0-9-]+$/, "must be a Compute Engine machine type such as e2-standard-4")
        .default("e2-standard-4"),
      /** Idle minutes before the instance shuts itself down (10-1440). @default 60 */
      idleTimeoutMinutes: z.number().int().min(10, "must be at least 10").max(1440, "must be at most 1440").default(60),
      /**
       * Zone suffix of the instances (`b` puts europe-west1 cells in `europe-west1-b`); must exist in every
       * cell's GCP region (components/config/regions.ts). @default the first zone of each cell's region
       */
      zoneSuffix: z
        .string()
        .regex(/^[a-z]$/, "must be a zone suffix such as b")
        .optional(),
    })
    .default({ instances: 1, machineType: "e2-standard-4", idleTimeoutMinutes: 60 }),
  /**
   * Who is told when an alarm fires (ingestion latency/failures, clickstream loss or delay): e-mail
   * addresses subscribed to each cell's alert topics and Cloud Monitoring channels. @default []
   */
  alertEmails: z.array(z.string().email("must be an e-mail address")).default([]),
  /**
   * Write keys accepted by the clickstream collector, comma-separated (or a JSON array);
   * set with `pulumi config set --secret lakehouse:collectorWriteKeys "key1,key2"`.
   */
  collectorWriteKeys: z
    .preprocess(
      (v) =>
        typeof v === "string"
          ? v
              .split(",")
              .map((k) => k.trim())
              .filter((k) => k.length > 0)
          : v,
      z.array(z.string().min(16, "must be at least 16 characters")),
    )
    .default([]),
});

export type LakehouseConfigInput = z.input<typeof lakehouseSchema>;
export type LakehouseConfig = z.output<typeof lakehouseSchema>;
export type CellConfig = z.output<typeof cellSchema>;
export type Retention = z.output<typeof retentionSchema>;
export type Scale = z.output<typeof scaleSchema>;
export type Sources = z.output<typeof sourcesSchema>;
export type TransactionalSource = z.output<typeof transactionalSourceSchema>;
export type KafkaSource = z.output<typeof kafkaSourceSchema>;
export type KafkaTopicConfig = z.output<typeof kafkaTopicSchema>;
export type TableConfig = z.output<typeof tableSchema>;
export type CassandraSource = z.output<typeof cassandraSourceSchema>;
export type ElasticsearchSource = z.output<typeof elasticsearchSourceSchema>;
export type CsvFeed = z.output<typeof csvFeedSchema>;
export type CsvColumn = z.output<typeof csvColumnSchema>;
export type Personas = z.output<typeof personasSchema>;
export type PersonaConfig = z.output<typeof personaSchema>;
export type WorkbenchConfig = LakehouseConfig["workbench"];

export const RETENTION_KEYS: readonly (keyof Retention)[] = DATA_CLASSES;

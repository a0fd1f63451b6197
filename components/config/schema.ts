/**
 * The stack config schema (`lakehouse:` namespace). Every key is typed here and validated at run
 * time, because `pulumi.Config.requireObject<T>` does not check types (pulumi/pulumi#8520).
 * Components never read config: `index.ts` loads it once and hands typed args down.
 */
import { z } from "zod";
import { DATA_CLASSES, JURISDICTIONS, type DataClass, type JurisdictionId } from "./jurisdictions";

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

const kafkaSourceSchema = z.strictObject({
  name,
  cell: name,
  /** Topics to land in the lake. */
  topics: z.array(z.string().min(1)).min(1),
  /** Partitions per topic, for MSK sizing. @default 12 */
  partitions: z.number().int().positive().optional(),
});

const cassandraSourceSchema = z.strictObject({
  name,
  cell: name,
  contactPoints: z.array(z.string().min(1)).min(1),
  keyspace: identifier,
  tables: z.array(identifier).min(1),
  credentials: z.string().min(1),
  /** Snapshot schedule (EventBridge/Glue cron). */
  schedule: z.string().min(1),
});

const elasticsearchSourceSchema = z.strictObject({
  name,
  cell: name,
  endpoint: z.string().url(),
  indices: z.array(z.string().min(1)).min(1),
  credentials: z.string().min(1),
  schedule: z.string().min(1),
});

const CSV_TYPES = ["string", "int", "bigint", "decimal", "double", "boolean", "date", "timestamp"] as const;
const csvFeedSchema = z.strictObject({
  name,
  cell: name,
  delimiter: z.string().length(1).optional(),
  header: z.boolean().optional(),
  columns: z
    .array(
      z.strictObject({
        name: identifier,
        type: z.enum(CSV_TYPES),
        nullable: z.boolean().optional(),
        pii: z.boolean().optional(),
      }),
    )
    .min(1),
});

const apiSourceSchema = z.strictObject({
  name,
  cell: name,
  baseUrl: z.string().url().startsWith("https://", "must use https"),
  schedule: z.string().min(1),
  /** Field of the response used as the incremental cursor. */
  cursorField: z.string().min(1),
  credentials: z.string().min(1).optional(),
});

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
export type TableConfig = z.output<typeof tableSchema>;
export type Personas = z.output<typeof personasSchema>;
export type PersonaConfig = z.output<typeof personaSchema>;
export type WorkbenchConfig = LakehouseConfig["workbench"];

export const RETENTION_KEYS: readonly (keyof Retention)[] = DATA_CLASSES;

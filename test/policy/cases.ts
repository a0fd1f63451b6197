/**
 * The rule cases: one-field mutations of the compliant baseline (./helpers.ts) and the exact violations
 * each must produce (policy name and message). rules.test.ts runs each on its own; in-process.test.ts
 * runs them all at once through both the served and the in-process pack and compares the answers.
 *
 * A case names the plan resource it breaks by its logical name, so the messages below are the
 * program's own.
 */
import { PUBLIC_ENDPOINT_LABEL } from "../../policy/contract";
import type { ResourceInput } from "../../tools/policy/requests";
import { mutate, without } from "./helpers";

export type Build = (baseline: readonly ResourceInput[]) => ResourceInput[];
/**
 * `on`: the baseline the case breaks. `prod` is the prod stack's plan, for the deletion-protection rule:
 * it reads the `environment` tag and the `protect` option, which dev deliberately leaves off.
 */
export type Case = readonly [title: string, resources: Build, expected: readonly string[], on?: "prod"];

const set =
  (name: string, fn: (i: Record<string, unknown>) => void, type?: string): Build =>
  (b) =>
    mutate(b, name, fn, type);
const drop =
  (name: string, type?: string): Build =>
  (b) =>
    without(b, name, type);
const rec = (v: unknown): Record<string, unknown> => v as Record<string, unknown>;
const first = (v: unknown): Record<string, unknown> => (v as Record<string, unknown>[])[0];

/** The resource of `type` named `name` in the baseline. */
function find(b: readonly ResourceInput[], type: string, name: string): ResourceInput {
  const r = b.find((x) => x.type === type && x.name === name);
  if (!r) throw new Error(`no ${type} named ${name} in the baseline`);
  return r;
}

/**
 * A resource the program never declares, added to the baseline by a case (on the cell's provider of its
 * package); `deps`: its property dependencies, by input.
 */
const added =
  (
    type: string,
    name: string,
    inputs: (b: readonly ResourceInput[]) => Record<string, unknown>,
    deps: (b: readonly ResourceInput[]) => Record<string, string[]> = () => ({}),
  ): Build =>
  (b) => {
    const pkg = type.split(":")[0];
    const provider = b.find((r) => r.provider?.pkg === pkg && !r.provider.isDefault)?.provider;
    if (!provider) throw new Error(`no ${pkg} provider in the baseline`);
    const propertyDependencies = deps(b);
    const stackPrefix = provider.urn.split("::").slice(0, 2).join("::");
    return [
      ...b,
      {
        urn: `${stackPrefix}::${type}::${name}`,
        type,
        name,
        custom: true,
        inputs: inputs(b),
        outputs: {},
        provider,
        dependencies: Object.values(propertyDependencies).flat(),
        propertyDependencies,
      },
    ];
  };

const FLOW_LOG = "aws:ec2/flowLog:FlowLog";
const LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup";
const EVENT_RULE = "aws:cloudwatch/eventRule:EventRule";
const EVENT_TARGET = "aws:cloudwatch/eventTarget:EventTarget";
const DMS_TARGET = "aws:dms/s3Endpoint:S3Endpoint";

export const CASES: readonly Case[] = [
  // ---- encryption
  [
    "S3 SSE with AES256",
    set("br-aws-raw-sse", (i) => (rec(first(i.rules).applyServerSideEncryptionByDefault).sseAlgorithm = "AES256")),
    [
      "s3-bucket-cmk-encryption: aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration 'br-aws-raw-sse' uses sseAlgorithm 'AES256'; only 'aws:kms' or 'aws:kms:dsse' with a customer-managed key is allowed.",
    ],
  ],
  [
    "S3 SSE with the AWS-managed key",
    set(
      "br-aws-raw-sse",
      (i) => (rec(first(i.rules).applyServerSideEncryptionByDefault).kmsMasterKeyId = "alias/aws/s3"),
    ),
    [
      "s3-bucket-cmk-encryption: aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration 'br-aws-raw-sse' uses the AWS-managed key 'alias/aws/s3' in rules[0].applyServerSideEncryptionByDefault.kmsMasterKeyId; use a customer-managed KMS key.",
    ],
  ],
  [
    "S3 bucket without SSE configuration",
    drop("br-aws-raw-sse"),
    [
      "s3-bucket-cmk-encryption: aws:s3/bucket:Bucket 'br-aws-raw' has no BucketServerSideEncryptionConfiguration, so it is encrypted with the S3-managed key only.",
    ],
  ],
  [
    "KMS key without rotation",
    set("br-aws-lake-key", (i) => (i.enableKeyRotation = false)),
    ["kms-key-rotation: aws:kms/key:Key 'br-aws-lake-key' does not rotate: set enableKeyRotation to true."],
  ],
  [
    "Cloud KMS key rotating every 2 years",
    set("br-gcp-keys-bigquery", (i) => (i.rotationPeriod = "63072000s")),
    [
      "kms-key-rotation: gcp:kms/cryptoKey:CryptoKey 'br-gcp-keys-bigquery' rotates every '63072000s'; the maximum is 365 days.",
    ],
  ],
  [
    "BigQuery dataset without CMEK",
    // The feed table and the transfer into the dataset rely on its default key (compliant while it has
    // one), so they lose their key with it.
    (b) =>
      [
        set("br-federation-feed-orders-daily", (i) => delete i.encryptionConfiguration),
        set("br-federation-in-country-load", (i) => delete i.encryptionConfiguration),
        set("br-federation-feed-dataset", (i) => delete i.defaultEncryptionConfiguration),
      ].reduce<ResourceInput[]>((acc, step) => step(acc), [...b]),
    [
      "bigquery-cmek: gcp:bigquery/dataTransferConfig:DataTransferConfig 'br-federation-in-country-load' has no customer-managed key: set encryptionConfiguration.kmsKeyName or write into a dataset with defaultEncryptionConfiguration.",
      "bigquery-cmek: gcp:bigquery/dataset:Dataset 'br-federation-feed-dataset' has no customer-managed key: set defaultEncryptionConfiguration.kmsKeyName.",
      "bigquery-cmek: gcp:bigquery/table:Table 'br-federation-feed-orders-daily' has no customer-managed key: set encryptionConfiguration.kmsKeyName or create it in a dataset of this stack with defaultEncryptionConfiguration.",
    ],
  ],
  [
    "Pub/Sub topic without CMEK",
    set("br-clickstream-topic", (i) => delete i.kmsKeyName),
    [
      "stores-cmek: gcp:pubsub/topic:Topic 'br-clickstream-topic' has no customer-managed key: set kmsKeyName (messages are stored at rest for up to the retention period).",
    ],
  ],
  [
    "GCS bucket without CMEK",
    set("br-gcp-staging", (i) => delete i.encryption),
    [
      "objects-cmek: gcp:storage/bucketObject:BucketObject 'br-clickstream-collector-source' has no kmsKeyName and its bucket 'acme-lakehouse-br-dev-lakehouse-dev-br-staging' is not a bucket of this stack with encryption.defaultKmsKeyName.",
      "objects-cmek: gcp:storage/bucketObject:BucketObject 'br-clickstream-dataflow-udf' has no kmsKeyName and its bucket 'acme-lakehouse-br-dev-lakehouse-dev-br-staging' is not a bucket of this stack with encryption.defaultKmsKeyName.",
      "objects-cmek: gcp:storage/bucketObject:BucketObject 'br-gcp-rights-source' has no kmsKeyName and its bucket 'acme-lakehouse-br-dev-lakehouse-dev-br-staging' is not a bucket of this stack with encryption.defaultKmsKeyName.",
      "stores-cmek: gcp:storage/bucket:Bucket 'br-gcp-staging' has no customer-managed key: set encryption.defaultKmsKeyName.",
    ],
  ],
  [
    "Secret Manager replica without CMEK",
    set(
      "br-pseudonymisation-key-gcp",
      (i) => delete first(rec(rec(i.replication).userManaged).replicas).customerManagedEncryption,
    ),
    [
      "stores-cmek: gcp:secretmanager/secret:Secret 'br-pseudonymisation-key-gcp' has no customer-managed key: set customerManagedEncryption.kmsKeyName on replica 0.",
    ],
  ],
  [
    "Secrets Manager secret without CMK",
    set("br-pseudonymisation-key-aws", (i) => delete i.kmsKeyId),
    [
      "stores-cmek: aws:secretsmanager/secret:Secret 'br-pseudonymisation-key-aws' has no customer-managed key: set kmsKeyId (without it Secrets Manager uses aws/secretsmanager).",
    ],
  ],
  [
    "Dataflow job without CMEK",
    set("br-clickstream-dataflow", (i) => delete i.kmsKeyName),
    [
      "stores-cmek: gcp:dataflow/flexTemplateJob:FlexTemplateJob 'br-clickstream-dataflow' has no customer-managed key: set kmsKeyName (Dataflow state and shuffle data).",
    ],
  ],
  [
    "Vertex endpoint without CMEK",
    set("br-clickstream-ml-endpoint", (i) => delete i.encryptionSpec),
    [
      "stores-cmek: gcp:vertex/aiEndpoint:AiEndpoint 'br-clickstream-ml-endpoint' has no customer-managed key: set encryptionSpec.kmsKeyName.",
    ],
  ],
  [
    "Workbench boot disk with Google-managed key",
    set("br-clickstream-workbench-1", (i) => (rec(rec(i.gceSetup).bootDisk).diskEncryption = "GMEK")),
    [
      "stores-cmek: gcp:workbench/instance:Instance 'br-clickstream-workbench-1' bootDisk uses 'GMEK' encryption; set gceSetup.bootDisk.diskEncryption to 'CMEK' with a kmsKey.",
    ],
  ],
  [
    "Log group without CMK",
    set("br-ingestion-merge-logs-output", (i) => delete i.kmsKeyId),
    [
      "stores-cmek: aws:cloudwatch/logGroup:LogGroup 'br-ingestion-merge-logs-output' has no customer-managed key: set kmsKeyId (log events can carry personal data).",
    ],
  ],
  [
    "SNS topic with the AWS-managed key",
    set("br-ingestion-alerts-topic", (i) => (i.kmsMasterKeyId = "alias/aws/sns")),
    [
      "stores-cmek: aws:sns/topic:Topic 'br-ingestion-alerts-topic' uses the AWS-managed key 'alias/aws/sns' in kmsMasterKeyId; use a customer-managed KMS key.",
    ],
  ],
  [
    "MSK without CMK at rest",
    set("br-kafka", (i) => delete rec(i.encryptionInfo).encryptionAtRestKmsKeyArn),
    [
      "stores-cmek: aws:msk/cluster:Cluster 'br-kafka' has no customer-managed key: set encryptionInfo.encryptionAtRestKmsKeyArn.",
    ],
  ],
  [
    "DynamoDB cursor table on the AWS-owned key",
    set("br-sources-payments-cursor", (i) => (rec(i.serverSideEncryption).enabled = false)),
    [
      "stores-cmek: aws:dynamodb/table:Table 'br-sources-payments-cursor' is encrypted with an AWS-owned key: set serverSideEncryption.enabled with a customer-managed kmsKeyArn.",
    ],
  ],
  [
    "DynamoDB cursor table on aws/dynamodb",
    set("br-sources-payments-cursor", (i) => delete rec(i.serverSideEncryption).kmsKeyArn),
    [
      "stores-cmek: aws:dynamodb/table:Table 'br-sources-payments-cursor' has no customer-managed key: set serverSideEncryption.kmsKeyArn (without it, aws/dynamodb).",
    ],
  ],
  [
    "DynamoDB cursor table without point-in-time recovery",
    set("br-sources-payments-cursor", (i) => (rec(i.pointInTimeRecovery).enabled = false)),
    [
      "dynamodb-point-in-time-recovery: aws:dynamodb/table:Table 'br-sources-payments-cursor' has no point-in-time recovery: set pointInTimeRecovery.enabled to true.",
    ],
  ],
  [
    "Kinesis stream unencrypted",
    set("br-events", (i) => (i.encryptionType = "NONE")),
    [
      "stores-cmek: aws:kinesis/stream:Stream 'br-events' is not encrypted: set encryptionType to 'KMS' with a customer-managed kmsKeyId.",
    ],
  ],
  [
    "Firehose with the AWS-owned key",
    set("br-events-to-lake", (i) => (rec(i.serverSideEncryption).keyType = "AWS_OWNED_CMK")),
    [
      "stores-cmek: aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream 'br-events-to-lake' buffers Direct PUT records without a customer-managed key: set serverSideEncryption { enabled: true, keyType: 'CUSTOMER_MANAGED_CMK', keyArn }.",
    ],
  ],
  [
    "Glue catalog unencrypted",
    set(
      "br-aws-catalog-encryption",
      (i) => (rec(rec(i.dataCatalogEncryptionSettings).encryptionAtRest).catalogEncryptionMode = "DISABLED"),
    ),
    [
      "glue-catalog-encryption: aws:glue/dataCatalogEncryptionSettings:DataCatalogEncryptionSettings 'br-aws-catalog-encryption' leaves the catalog unencrypted (catalogEncryptionMode 'DISABLED'); use 'SSE-KMS'.",
    ],
  ],
  [
    "Glue job without security configuration",
    set("br-ingestion-merge-orders-orders", (i) => delete i.securityConfiguration),
    [
      "analytics-engines-cmk: aws:glue/job:Job 'br-ingestion-merge-orders-orders' has no securityConfiguration: its S3 output, logs and bookmarks are not encrypted with a customer-managed key.",
    ],
  ],
  [
    "Athena results with SSE-S3",
    set(
      "br-aws-analysts",
      (i) => (rec(rec(rec(i.configuration).resultConfiguration).encryptionConfiguration).encryptionOption = "SSE_S3"),
    ),
    [
      "analytics-engines-cmk: aws:athena/workgroup:Workgroup 'br-aws-analysts' writes query results with encryption 'SSE_S3'; use 'SSE_KMS' or 'CSE_KMS' with a kmsKeyArn.",
    ],
  ],
  [
    "Secret version in an undeclared secret",
    (b) =>
      without(
        mutate(b, "br-pseudonymisation-key-aws-version", (_i, r) => (r.propertyDependencies = {})),
        "br-pseudonymisation-key-aws",
      ),
    [
      "secret-versions-in-managed-secrets: aws:secretsmanager/secretVersion:SecretVersion 'br-pseudonymisation-key-aws-version' is stored in a secret that is not declared in this stack.",
    ],
  ],
  // ---- transit
  [
    "Bucket policy without the TLS deny",
    set("br-aws-raw-policy", (i) => (i.policy = JSON.stringify({ Statement: [] }))),
    [
      "s3-tls-only: aws:s3/bucketPolicy:BucketPolicy 'br-aws-raw-policy' does not deny requests without TLS (no Deny on aws:SecureTransport = false).",
    ],
  ],
  [
    "DMS endpoint without TLS",
    set("br-ingestion-orders-source", (i) => (i.sslMode = "none")),
    [
      "tls-in-transit: aws:dms/endpoint:Endpoint 'br-ingestion-orders-source' connects to mysql with sslMode 'none'; use 'require', 'verify-ca' or 'verify-full'.",
    ],
  ],
  [
    "MSK accepting plaintext",
    set("br-kafka", (i) => (rec(rec(i.encryptionInfo).encryptionInTransit).clientBroker = "TLS_PLAINTEXT")),
    [
      "tls-in-transit: aws:msk/cluster:Cluster 'br-kafka' allows 'TLS_PLAINTEXT' between clients and brokers; set encryptionInTransit.clientBroker to 'TLS'.",
    ],
  ],
  [
    "Glue connection outside the VPC",
    set("br-sources-catalog-search-extract-connection", (i) => delete rec(i.physicalConnectionRequirements).subnetId),
    [
      "glue-connection-private-tls: aws:glue/connection:Connection 'br-sources-catalog-search-extract-connection' is not placed in a VPC subnet: set physicalConnectionRequirements.subnetId to a private subnet.",
    ],
  ],
  [
    "Glue connection without a security group",
    set(
      "br-sources-catalog-search-extract-connection",
      (i) => (rec(i.physicalConnectionRequirements).securityGroupIdLists = []),
    ),
    [
      "glue-connection-private-tls: aws:glue/connection:Connection 'br-sources-catalog-search-extract-connection' has no security group: set physicalConnectionRequirements.securityGroupIdLists.",
    ],
  ],
  [
    "OpenSearch connection over http with its password in the properties",
    set("br-sources-catalog-search-extract-connection", (i) => {
      const props = rec(i.connectionProperties);
      const spark = JSON.parse(props.SparkProperties as string) as Record<string, string>;
      spark["opensearch.nodes"] = "http://search.dev.acme.internal";
      spark["opensearch.net.http.auth.pass"] = "hunter2";
      props.SparkProperties = JSON.stringify(spark);
    }),
    [
      "glue-connection-private-tls: aws:glue/connection:Connection 'br-sources-catalog-search-extract-connection' holds a password in its properties (opensearch.net.http.auth.pass); reference a Secrets Manager secret with SECRET_ID (secretId in SparkProperties).",
      "glue-connection-private-tls: aws:glue/connection:Connection 'br-sources-catalog-search-extract-connection' reaches OpenSearch without TLS: use an https:// opensearch.nodes and set opensearch.net.ssl to 'true'.",
    ],
  ],
  [
    "JDBC Glue connection without TLS",
    set("br-sources-catalog-search-extract-connection", (i) => {
      i.connectionType = "JDBC";
      i.connectionProperties = { JDBC_CONNECTION_URL: "jdbc:mysql://db:3306/x", SECRET_ID: "s" };
    }),
    [
      "glue-connection-private-tls: aws:glue/connection:Connection 'br-sources-catalog-search-extract-connection' does not enforce TLS: set JDBC_ENFORCE_SSL to 'true'.",
    ],
  ],
  // ---- residency
  [
    "S3 bucket overriding its region",
    set("br-aws-raw", (i) => (i.region = "us-east-1"), "aws:s3/bucket:Bucket"),
    [
      "replication-residency: aws:dms/s3Endpoint:S3Endpoint 'br-ingestion-orders-target' writes CDC files to aws:s3/bucket:Bucket 'br-aws-raw' in 'us-east-1' (jurisdiction 'br'), outside its own jurisdiction 'br'.",
      "resource-residency: aws:s3/bucket:Bucket 'br-aws-raw' is in 'us-east-1' (region), outside jurisdiction 'br' (LGPD); allowed AWS regions: sa-east-1.",
    ],
  ],
  [
    "S3 export bucket overriding its region",
    set("br-federation-in-country-export-bucket", (i) => (i.region = "us-east-1"), "aws:s3/bucket:Bucket"),
    [
      "replication-residency: gcp:storage/transferJob:TransferJob 'br-federation-in-country-transfer' copies from aws:s3/bucket:Bucket 'br-federation-in-country-export-bucket' in 'us-east-1' (jurisdiction 'br'), outside its own jurisdiction 'br'.",
      "resource-residency: aws:s3/bucket:Bucket 'br-federation-in-country-export-bucket' is in 'us-east-1' (region), outside jurisdiction 'br' (LGPD); allowed AWS regions: sa-east-1.",
    ],
  ],
  [
    "Pub/Sub storage policy in the US",
    set("br-clickstream-topic", (i) => (rec(i.messageStoragePolicy).allowedPersistenceRegions = ["us-central1"])),
    [
      "resource-residency: gcp:pubsub/topic:Topic 'br-clickstream-topic' is in 'us-central1' (messageStoragePolicy.allowedPersistenceRegions), outside jurisdiction 'br' (LGPD); allowed GCP locations: southamerica-east1.",
    ],
  ],
  [
    "BigQuery connection without location",
    set("br-lake-connection", (i) => delete i.location),
    [
      "bigquery-explicit-location: gcp:bigquery/connection:Connection 'br-lake-connection' states no location; BigQuery would place it in the US multi-region.",
    ],
  ],
  [
    "Dataflow job in Chile",
    set("br-clickstream-dataflow", (i) => (i.region = "southamerica-west1")),
    [
      "resource-residency: gcp:dataflow/flexTemplateJob:FlexTemplateJob 'br-clickstream-dataflow' is in 'southamerica-west1' (region), outside jurisdiction 'br' (LGPD); allowed GCP locations: southamerica-east1.",
    ],
  ],
  [
    "Secret Manager with automatic replication",
    set(
      "br-pseudonymisation-key-gcp",
      (i) => (i.replication = { auto: { customerManagedEncryption: { kmsKeyName: "k" } } }),
    ),
    [
      "resource-residency: gcp:secretmanager/secret:Secret 'br-pseudonymisation-key-gcp' is in 'global (automatic replication)' (replication.auto), outside jurisdiction 'br' (LGPD); allowed GCP locations: southamerica-east1.",
    ],
  ],
  [
    "S3 replication to an undeclared bucket",
    (b) =>
      mutate(b, "br-raw-replication", (i, r) => {
        rec(first(i.rules).destination).bucket = "arn:aws:s3:::somewhere-else";
        r.propertyDependencies = { ...r.propertyDependencies, rules: [] };
      }),
    [
      "replication-residency: aws:s3/bucketReplicationConfig:BucketReplicationConfig 'br-raw-replication' replicates to 'arn:aws:s3:::somewhere-else', a bucket not declared in this stack, so its region cannot be verified.",
    ],
  ],
  [
    "Org policy allowing the US",
    set(
      "br-gcp-guardrails-resource-locations",
      (i) =>
        (first(rec(i.spec).rules).values = { allowedValues: ["in:southamerica-east1-locations", "in:us-locations"] }),
    ),
    [
      "gcp-resource-locations-guardrail: gcp:orgpolicy/policy:Policy 'br-gcp-guardrails-resource-locations' allows 'in:us-locations', outside jurisdiction 'br' (LGPD); allowed GCP locations: southamerica-east1.",
    ],
  ],
  [
    "Resource on a default provider (no jurisdiction anywhere)",
    (b) => mutate(b, "br-pseudonymisation-key-gcp", (_i, r) => (r.provider = undefined)),
    [
      "resource-residency: gcp:secretmanager/secret:Secret 'br-pseudonymisation-key-gcp' has no 'jurisdiction' or 'cell' tag/label naming a configured jurisdiction (br, eu) on the resource or its provider, so its residency cannot be checked.",
    ],
  ],
  // ---- retention
  [
    "S3 raw kept 2 years",
    set("br-aws-raw-lifecycle", (i) => (first(i.rules).expiration = { days: 730 })),
    [
      "s3-retention: aws:s3/bucket:Bucket 'br-aws-raw' keeps 'raw' data 730 days (lifecycle expiration.days); the LGPD ceiling for 'raw' is 400 days.",
    ],
  ],
  [
    "S3 noncurrent versions beyond the erasure SLA",
    set("br-aws-raw-lifecycle", (i) => (first(i.rules).noncurrentVersionExpiration = { noncurrentDays: 20 })),
    [
      "s3-retention: aws:s3/bucket:Bucket 'br-aws-raw' keeps noncurrent versions 20 days; the LGPD erasure SLA is 15 days.",
    ],
  ],
  [
    "Audit bucket locked too briefly",
    set("br-aws-audit-object-lock", (i) => (rec(rec(i.rule).defaultRetention).days = 90)),
    [
      "s3-retention: aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration 'br-aws-audit-object-lock' locks audit logs for 90 days; the LGPD minimum is 183 days.",
    ],
  ],
  [
    "GCS bucket without a Delete rule",
    set("br-gcp-staging", (i) => (i.lifecycleRules = [])),
    [
      "gcs-retention: gcp:storage/bucket:Bucket 'br-gcp-staging' is versioned but never deletes noncurrent versions: an erased object survives as an old version.",
      "gcs-retention: gcp:storage/bucket:Bucket 'br-gcp-staging' keeps 'raw' data forever: set a Delete lifecycle rule's condition.age (at most 400 days in LGPD).",
    ],
  ],
  [
    "BigQuery time travel beyond the SLA",
    set("br-gcp-clickstream-raw", (i) => (i.maxTimeTravelHours = "216")),
    [
      "bigquery-retention: gcp:bigquery/dataset:Dataset 'br-gcp-clickstream-raw' has maxTimeTravelHours 216; allowed 48 to 168.",
      "bigquery-retention: gcp:bigquery/dataset:Dataset 'br-gcp-clickstream-raw' keeps erased rows 16 days (time travel 9 + fail-safe 7); the LGPD erasure SLA is 15 days.",
    ],
  ],
  [
    "BigQuery dataset without expiration",
    set("br-gcp-clickstream-raw", (i) => delete i.defaultPartitionExpirationMs),
    [
      "bigquery-retention: gcp:bigquery/dataset:Dataset 'br-gcp-clickstream-raw' keeps 'clickstream' data forever: set defaultPartitionExpirationMs or defaultTableExpirationMs (at most 395 days in LGPD).",
    ],
  ],
  [
    "Log group kept forever",
    set("br-ingestion-merge-logs-output", (i) => delete i.retentionInDays),
    [
      "log-retention: aws:cloudwatch/logGroup:LogGroup 'br-ingestion-merge-logs-output' keeps 'logs' data forever: set retentionInDays (at most 400 days in LGPD).",
    ],
  ],
  [
    "Audit log bucket below the floor",
    set("br-logs-audit", (i) => (i.retentionDays = 90)),
    [
      "log-retention: gcp:logging/projectBucketConfig:ProjectBucketConfig 'br-logs-audit' keeps audit logs 90 days (retentionDays); the LGPD minimum is 183 days.",
    ],
  ],
  [
    "Pub/Sub topic retaining 31 days",
    set("br-clickstream-topic", (i) => (i.messageRetentionDuration = "2678400s")),
    [
      "stream-retention: gcp:pubsub/topic:Topic 'br-clickstream-topic' retains messages 31 days (messageRetentionDuration); the LGPD erasure SLA is 15 days.",
    ],
  ],
  [
    "Iceberg snapshots kept 30 days",
    set(
      "br-ingestion-orders-orders-retention",
      (i) =>
        (rec(rec(rec(i.configuration).retentionConfiguration).icebergConfiguration).snapshotRetentionPeriodInDays = 30),
    ),
    [
      "iceberg-snapshot-expiry: aws:glue/catalogTableOptimizer:CatalogTableOptimizer 'br-ingestion-orders-orders-retention' keeps snapshots 30 days (+1 between runs); the LGPD erasure SLA is 15 days.",
    ],
  ],
  [
    "Iceberg table without snapshot expiry",
    drop("br-ingestion-orders-orders-retention"),
    [
      "iceberg-snapshot-expiry: aws:glue/catalogTable:CatalogTable 'br-ingestion-orders-orders' is an Iceberg table without a 'retention' CatalogTableOptimizer: erased rows stay in old snapshots.",
    ],
  ],
  // ---- public access
  [
    "Public access block partly off",
    set("br-aws-raw-public-access-block", (i) => (i.restrictPublicBuckets = false)),
    [
      "s3-no-public-access: aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock 'br-aws-raw-public-access-block' leaves restrictPublicBuckets off.",
    ],
  ],
  [
    "GCS public access prevention inherited",
    set("br-gcp-staging", (i) => delete i.publicAccessPrevention),
    [
      "no-public-network-exposure: gcp:storage/bucket:Bucket 'br-gcp-staging' has publicAccessPrevention 'inherited'; set it to 'enforced'.",
    ],
  ],
  [
    "Dataset role for allUsers",
    set("br-federation-gcp-personas-analysts-jobs-0", (i) => (i.member = "allUsers")),
    [
      "no-public-principals: gcp:projects/iAMMember:IAMMember 'br-federation-gcp-personas-analysts-jobs-0' grants 'roles/bigquery.jobUser' to 'allUsers'.",
    ],
  ],
  [
    "allUsers invoker on a function not labelled as the tracking API",
    set("br-collector", (i) => delete i.labels),
    [
      "public-endpoint-declared: gcp:cloudfunctionsv2/functionIamMember:FunctionIamMember 'br-collector-public' opens gcp:cloudfunctionsv2/function:Function 'br-collector' to allUsers, but that service is not labelled public-endpoint=tracking-api.",
    ],
  ],
  [
    "allUsers invoker on a Cloud Run service not labelled as the tracking API",
    set("br-clickstream-collector", (i) => delete rec(i.labels)[PUBLIC_ENDPOINT_LABEL.key]),
    [
      "public-endpoint-declared: gcp:cloudrunv2/serviceIamMember:ServiceIamMember 'br-clickstream-collector-public-invoker' opens gcp:cloudrunv2/service:Service 'br-clickstream-collector' to allUsers, but that service is not labelled public-endpoint=tracking-api.",
    ],
  ],
  [
    "allUsers invoker on the subject-rights worker (private: only its schedule may call it)",
    set("br-gcp-rights-invoker", (i) => (i.member = "allUsers")),
    [
      "public-endpoint-declared: gcp:cloudrunv2/serviceIamMember:ServiceIamMember 'br-gcp-rights-invoker' opens gcp:cloudrunv2/service:Service 'br-gcp-rights-worker' to allUsers, but that service is not labelled public-endpoint=tracking-api.",
    ],
  ],
  [
    "Scheduler job calling its target without a token",
    set("br-gcp-rights-schedule", (i) => delete rec(i.httpTarget).oidcToken),
    [
      "scheduled-calls-authenticated: gcp:cloudscheduler/job:Job 'br-gcp-rights-schedule' calls its target without a token: set httpTarget.oidcToken or httpTarget.oauthToken.",
    ],
  ],
  [
    "Scheduler job calling over plain HTTP",
    set("br-gcp-rights-schedule", (i) => (rec(i.httpTarget).uri = "http://worker.example/run")),
    [
      "scheduled-calls-authenticated: gcp:cloudscheduler/job:Job 'br-gcp-rights-schedule' calls 'http://worker.example/run' without TLS: use an https:// uri.",
    ],
  ],
  [
    "Scheduler job signing as the default compute account",
    set(
      "br-gcp-rights-schedule",
      (i) => (rec(rec(i.httpTarget).oidcToken).serviceAccountEmail = "123456789-compute@developer.gserviceaccount.com"),
    ),
    [
      "scheduled-calls-authenticated: gcp:cloudscheduler/job:Job 'br-gcp-rights-schedule' signs its calls as '123456789-compute@developer.gserviceaccount.com': use a service account dedicated to the schedule.",
    ],
  ],
  [
    "Scheduler job with a token but no account",
    set("br-gcp-rights-schedule", (i) => delete rec(rec(i.httpTarget).oidcToken).serviceAccountEmail),
    [
      "scheduled-calls-authenticated: gcp:cloudscheduler/job:Job 'br-gcp-rights-schedule' sets oidcToken without a serviceAccountEmail.",
    ],
  ],
  [
    "Scheduler job publishing to Pub/Sub (no HTTP target: Google authenticates it)",
    set("br-gcp-rights-schedule", (i) => {
      delete i.httpTarget;
      i.pubsubTarget = { topicName: "projects/p/topics/t", data: "e30=" };
    }),
    [],
  ],
  [
    "Workbench with a public IP",
    set("br-clickstream-workbench-1", (i) => (rec(i.gceSetup).disablePublicIp = false)),
    [
      "no-public-network-exposure: gcp:workbench/instance:Instance 'br-clickstream-workbench-1' gets a public IP: set gceSetup.disablePublicIp to true.",
    ],
  ],
  [
    "Dataflow workers with public IPs",
    set("br-clickstream-dataflow", (i) => (i.ipConfiguration = "WORKER_IP_PUBLIC")),
    [
      "no-public-network-exposure: gcp:dataflow/flexTemplateJob:FlexTemplateJob 'br-clickstream-dataflow' gives workers public IPs (ipConfiguration 'WORKER_IP_PUBLIC'); set 'WORKER_IP_PRIVATE'.",
    ],
  ],
  [
    "Security group open to the internet",
    set("br-ingestion-network-endpoints", (i) => (first(i.ingress).cidrBlocks = ["0.0.0.0/0"])),
    [
      "no-public-network-exposure: aws:ec2/securityGroup:SecurityGroup 'br-ingestion-network-endpoints' ingress 0 is open to the internet.",
    ],
  ],
  [
    "CSV loader's object events sent to a queue of another account",
    set("br-sources-landing-events", (i) => {
      i.eventbridge = false;
      i.queues = [{ queueArn: "arn:aws:sqs:sa-east-1:999999999999:elsewhere", events: ["s3:ObjectCreated:*"] }];
    }),
    [
      "invocations-scoped: aws:s3/bucketNotification:BucketNotification 'br-sources-landing-events' sends object events (keys can name people) to 'arn:aws:sqs:sa-east-1:999999999999:elsewhere', outside the bucket's account 111111111111.",
    ],
  ],
  [
    "The data-subject request intake's URL without authentication",
    set("br-subject-rights-intake-url", (i) => (i.authorizationType = "NONE")),
    [
      "invocations-scoped: aws:lambda/functionUrl:FunctionUrl 'br-subject-rights-intake-url' has authorizationType 'NONE': anyone on the internet can call it.",
    ],
  ],
  [
    "The intake's URL permission granted for an unauthenticated URL",
    set("br-subject-rights-intake-url-officers", (i) => (i.functionUrlAuthType = "NONE")),
    [
      "invocations-scoped: aws:lambda/permission:Permission 'br-subject-rights-intake-url-officers' grants lambda:InvokeFunctionUrl for auth type 'NONE': set functionUrlAuthType to AWS_IAM.",
    ],
  ],
  [
    "The request worker's stream mapping retrying forever, its failures dropped",
    set("br-subject-rights-worker-stream", (i) => {
      delete i.destinationConfig;
      i.maximumRetryAttempts = -1;
    }),
    [
      "function-failures-kept: aws:lambda/eventSourceMapping:EventSourceMapping 'br-subject-rights-worker-stream' has no on-failure destination: stream records that fail every retry are dropped.",
      "function-failures-kept: aws:lambda/eventSourceMapping:EventSourceMapping 'br-subject-rights-worker-stream' retries a failing batch until its records expire (maximumRetryAttempts -1), blocking the shard: set a bound.",
    ],
  ],
  [
    "A puller whose failed runs are dropped (no on-failure destination)",
    set("br-sources-payments-puller-async", (i) => delete i.destinationConfig),
    [
      "function-failures-kept: aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig 'br-sources-payments-puller-async' has no on-failure destination: events that fail every retry are dropped.",
      "function-failures-kept: aws:lambda/function:Function 'br-sources-payments-puller' drops asynchronous events after its last retry: give it an on-failure destination or a dead-letter queue.",
    ],
  ],
  [
    "A loader logging to the log group Lambda makes itself",
    set("br-sources-supplier-prices-loader", (i) => delete i.loggingConfig, "aws:lambda/function:Function"),
    [
      "function-failures-kept: aws:lambda/function:Function 'br-sources-supplier-prices-loader' logs to the log group Lambda creates itself (no key, kept forever): set loggingConfig.logGroup.",
    ],
  ],
  [
    "A loader's environment under an AWS-managed key",
    set("br-sources-supplier-prices-loader", (i) => delete i.kmsKeyArn, "aws:lambda/function:Function"),
    [
      "compute-cmek: aws:lambda/function:Function 'br-sources-supplier-prices-loader' has no customer-managed key: set kmsKeyArn to encrypt its environment variables.",
    ],
  ],
  [
    "The notebooks' PyPI mirror (an Artifact Registry remote repository) without a customer-managed key",
    set("br-clickstream-workbench-pypi", (i) => delete i.kmsKeyName, "gcp:artifactregistry/repository:Repository"),
    [
      "compute-cmek: gcp:artifactregistry/repository:Repository 'br-clickstream-workbench-pypi' has no customer-managed key: set kmsKeyName (images, or the packages a remote repository caches).",
    ],
  ],
  [
    "A dead-letter queue without a customer-managed key, keeping failed events 16 days",
    set(
      "br-sources-payments-puller-dead-letters",
      (i) => {
        delete i.kmsMasterKeyId;
        i.messageRetentionSeconds = 16 * 86_400;
      },
      "aws:sqs/queue:Queue",
    ),
    [
      "stores-cmek: aws:sqs/queue:Queue 'br-sources-payments-puller-dead-letters' has no customer-managed key: set kmsMasterKeyId (failed events wait here with their data).",
      "stream-retention: aws:sqs/queue:Queue 'br-sources-payments-puller-dead-letters' retains messages 16 days (messageRetentionSeconds); the LGPD erasure SLA is 15 days.",
    ],
  ],
  [
    "CSV loader invocable by EventBridge for any rule (no sourceArn)",
    set("br-sources-supplier-prices-invoke", (i) => delete i.sourceArn),
    [
      "invocations-scoped: aws:lambda/permission:Permission 'br-sources-supplier-prices-invoke' lets events.amazonaws.com invoke the function for any resource in any account: set sourceArn.",
    ],
  ],
  [
    "CSV loader invocable by anyone",
    set("br-sources-supplier-prices-invoke", (i) => (i.principal = "*")),
    [
      "invocations-scoped: aws:lambda/permission:Permission 'br-sources-supplier-prices-invoke' lets any principal invoke the function.",
    ],
  ],
  // ---- least privilege
  [
    "Primitive editor role",
    set("br-federation-gcp-personas-analysts-jobs-0", (i) => (i.role = "roles/editor")),
    [
      "no-primitive-roles: gcp:projects/iAMMember:IAMMember 'br-federation-gcp-personas-analysts-jobs-0' grants the primitive role 'roles/editor'.",
    ],
  ],
  [
    "Wildcard S3 actions",
    set(
      "br-ingestion-merge-role",
      (i) => (i.policy = JSON.stringify({ Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "*" }] })),
      "aws:iam/rolePolicy:RolePolicy",
    ),
    ["no-wildcard-actions: aws:iam/rolePolicy:RolePolicy 'br-ingestion-merge-role' policy statement 0 allows 's3:*'."],
  ],
  [
    "AdministratorAccess attached",
    set(
      "br-ingestion-dms-vpc-role",
      (i) => (i.policyArn = "arn:aws:iam::aws:policy/AdministratorAccess"),
      "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    ),
    [
      "no-wildcard-actions: aws:iam/rolePolicyAttachment:RolePolicyAttachment 'br-ingestion-dms-vpc-role' attaches the broad managed policy 'arn:aws:iam::aws:policy/AdministratorAccess'.",
    ],
  ],
  [
    "Function on the default compute account",
    set("br-collector", (i) => (i.serviceConfig = {})),
    [
      "dedicated-service-accounts: gcp:cloudfunctionsv2/function:Function 'br-collector' runs as the default compute service account: set serviceConfig.serviceAccountEmail.",
    ],
  ],
  [
    "Cloud Run service on the default compute account",
    set("br-clickstream-collector", (i) => delete rec(i.template).serviceAccount),
    [
      "dedicated-service-accounts: gcp:cloudrunv2/service:Service 'br-clickstream-collector' runs as the default compute service account: set template.serviceAccount.",
    ],
  ],
  [
    "IAM_ALLOWED_PRINCIPALS default",
    set(
      "br-aws-catalog-lake-formation",
      (i) => (i.createTableDefaultPermissions = [{ principal: "IAM_ALLOWED_PRINCIPALS", permissions: ["ALL"] }]),
    ),
    [
      "lake-formation-no-iam-allowed-principals: aws:lakeformation/dataLakeSettings:DataLakeSettings 'br-aws-catalog-lake-formation' grants createTableDefaultPermissions to IAM_ALLOWED_PRINCIPALS.",
    ],
  ],
  // ---- audit
  [
    "Trail without S3 data events",
    set("br-aws-trail", (i) => (i.advancedEventSelectors = [])),
    [
      "cloudtrail-data-events: aws:cloudtrail/trail:Trail 'br-aws-trail' does not record S3 data events (eventCategory Data on AWS::S3::Object).",
      "cloudtrail-data-events: aws:s3/bucket:Bucket 'br-aws-access-logs' is in an AWS account/region (provider 'br-aws') without a CloudTrail trail recording S3 data events.",
    ],
  ],
  [
    "Data Access logs without DATA_READ",
    set("br-gcp-guardrails-audit-bigquery", (i) => (i.auditLogConfigs = [{ logType: "DATA_WRITE" }])),
    [
      "gcp-data-access-logs: GCP project 'acme-lakehouse-br-dev' does not record Data Access logs for bigquery.googleapis.com (first resource: gcp:bigquery/dataset:Dataset 'br-gcp-clickstream-raw').",
      "gcp-data-access-logs: gcp:projects/iAMAuditConfig:IAMAuditConfig 'br-gcp-guardrails-audit-bigquery' for 'bigquery.googleapis.com' does not enable DATA_READ.",
    ],
  ],
  [
    "Bucket without access logging",
    drop("br-aws-raw-access-logging"),
    ["s3-access-logging: aws:s3/bucket:Bucket 'br-aws-raw' has no server access logging."],
  ],
  // ---- networks (private routing, flow logs, endpoints, GCP networks)
  [
    "Route table with a default route to an internet gateway",
    set("br-ingestion-network-private", (i) => (i.routes = [{ cidrBlock: "0.0.0.0/0", gatewayId: "igw-0123" }])),
    [
      "private-network-routing: aws:dms/replicationSubnetGroup:ReplicationSubnetGroup 'br-ingestion-subnets' uses aws:ec2/subnet:Subnet 'br-ingestion-network-private-a', whose aws:ec2/routeTable:RouteTable 'br-ingestion-network-private' routes to the internet.",
      "private-network-routing: aws:dms/replicationSubnetGroup:ReplicationSubnetGroup 'br-ingestion-subnets' uses aws:ec2/subnet:Subnet 'br-ingestion-network-private-b', whose aws:ec2/routeTable:RouteTable 'br-ingestion-network-private' routes to the internet.",
      "private-network-routing: aws:dms/replicationSubnetGroup:ReplicationSubnetGroup 'br-ingestion-subnets' uses aws:ec2/subnet:Subnet 'br-ingestion-network-private-c', whose aws:ec2/routeTable:RouteTable 'br-ingestion-network-private' routes to the internet.",
      "private-network-routing: aws:ec2/routeTable:RouteTable 'br-ingestion-network-private' routes to the internet: 0.0.0.0/0 -> internet gateway 'igw-0123'.",
      "private-network-routing: aws:ec2/routeTableAssociation:RouteTableAssociation 'br-ingestion-network-private-a' puts a subnet behind aws:ec2/routeTable:RouteTable 'br-ingestion-network-private', which routes to the internet.",
      "private-network-routing: aws:ec2/routeTableAssociation:RouteTableAssociation 'br-ingestion-network-private-b' puts a subnet behind aws:ec2/routeTable:RouteTable 'br-ingestion-network-private', which routes to the internet.",
      "private-network-routing: aws:ec2/routeTableAssociation:RouteTableAssociation 'br-ingestion-network-private-c' puts a subnet behind aws:ec2/routeTable:RouteTable 'br-ingestion-network-private', which routes to the internet.",
    ],
  ],
  [
    "A separate route to a NAT gateway",
    added(
      "aws:ec2/route:Route",
      "br-nat-route",
      (b) => ({
        // The table's physical id, as the program would pass `table.id`.
        routeTableId: (find(b, "aws:ec2/routeTable:RouteTable", "br-ingestion-network-private") as { id?: string }).id,
        destinationCidrBlock: "0.0.0.0/0",
        natGatewayId: "nat-0456",
      }),
      (b) => ({ routeTableId: [find(b, "aws:ec2/routeTable:RouteTable", "br-ingestion-network-private").urn] }),
    ),
    [
      "private-network-routing: aws:dms/replicationSubnetGroup:ReplicationSubnetGroup 'br-ingestion-subnets' uses aws:ec2/subnet:Subnet 'br-ingestion-network-private-a', whose aws:ec2/routeTable:RouteTable 'br-ingestion-network-private' routes to the internet.",
      "private-network-routing: aws:dms/replicationSubnetGroup:ReplicationSubnetGroup 'br-ingestion-subnets' uses aws:ec2/subnet:Subnet 'br-ingestion-network-private-b', whose aws:ec2/routeTable:RouteTable 'br-ingestion-network-private' routes to the internet.",
      "private-network-routing: aws:dms/replicationSubnetGroup:ReplicationSubnetGroup 'br-ingestion-subnets' uses aws:ec2/subnet:Subnet 'br-ingestion-network-private-c', whose aws:ec2/routeTable:RouteTable 'br-ingestion-network-private' routes to the internet.",
      "private-network-routing: aws:ec2/routeTable:RouteTable 'br-ingestion-network-private' routes to the internet: 0.0.0.0/0 -> NAT gateway 'nat-0456'.",
      "private-network-routing: aws:ec2/routeTableAssociation:RouteTableAssociation 'br-ingestion-network-private-a' puts a subnet behind aws:ec2/routeTable:RouteTable 'br-ingestion-network-private', which routes to the internet.",
      "private-network-routing: aws:ec2/routeTableAssociation:RouteTableAssociation 'br-ingestion-network-private-b' puts a subnet behind aws:ec2/routeTable:RouteTable 'br-ingestion-network-private', which routes to the internet.",
      "private-network-routing: aws:ec2/routeTableAssociation:RouteTableAssociation 'br-ingestion-network-private-c' puts a subnet behind aws:ec2/routeTable:RouteTable 'br-ingestion-network-private', which routes to the internet.",
    ],
  ],
  [
    "Subnet associated with a route table declared elsewhere",
    drop("br-ingestion-network-private"),
    [
      "private-network-routing: aws:ec2/routeTableAssociation:RouteTableAssociation 'br-ingestion-network-private-a' associates route table 'br-ingestion-network-private-a0c8f8d', which is not declared in this stack, so its routes cannot be verified.",
      "private-network-routing: aws:ec2/routeTableAssociation:RouteTableAssociation 'br-ingestion-network-private-b' associates route table 'br-ingestion-network-private-a0c8f8d', which is not declared in this stack, so its routes cannot be verified.",
      "private-network-routing: aws:ec2/routeTableAssociation:RouteTableAssociation 'br-ingestion-network-private-c' associates route table 'br-ingestion-network-private-a0c8f8d', which is not declared in this stack, so its routes cannot be verified.",
    ],
  ],
  [
    "DMS subnet group with a subnet declared elsewhere",
    set("br-ingestion-subnets", (i) => (i.subnetIds = [...(i.subnetIds as string[]), "subnet-elsewhere"])),
    [
      "private-network-routing: aws:dms/replicationSubnetGroup:ReplicationSubnetGroup 'br-ingestion-subnets' uses subnets that are not declared in this stack, so their routes and public IP settings cannot be verified.",
    ],
  ],
  [
    "Flow log of rejected traffic only",
    set("br-ingestion-network-flow-logs", (i) => (i.trafficType = "REJECT"), FLOW_LOG),
    [
      "network-flow-logs: aws:ec2/flowLog:FlowLog 'br-ingestion-network-flow-logs' records 'REJECT' traffic only; set trafficType to 'ALL' (accepted connections are the ones that move data).",
      "network-flow-logs: aws:ec2/vpc:Vpc 'br-ingestion-network-vpc' has no flow log recording ALL traffic.",
    ],
  ],
  [
    "VPC without flow logs",
    drop("br-ingestion-network-flow-logs", FLOW_LOG),
    ["network-flow-logs: aws:ec2/vpc:Vpc 'br-ingestion-network-vpc' has no flow log."],
  ],
  [
    "Flow logs to a log group declared elsewhere",
    drop("br-ingestion-network-flow-logs", LOG_GROUP),
    [
      "network-flow-logs: aws:ec2/flowLog:FlowLog 'br-ingestion-network-flow-logs' delivers to 'arn:aws:logs:sa-east-1:111111111111:log-group:/lakehouse/lakehouse-dev-br/ingestion/vpc-flow-logs', which is not a log group or bucket declared in this stack, so its encryption and retention cannot be verified.",
    ],
  ],
  [
    "GCP subnetwork without flow logs",
    set("br-clickstream-network-subnet", (i) => delete i.logConfig),
    [
      "network-flow-logs: gcp:compute/subnetwork:Subnetwork 'br-clickstream-network-subnet' has no flow logs: set logConfig.",
    ],
  ],
  [
    "Interface endpoint without private DNS",
    set("br-ingestion-network-kms", (i) => (i.privateDnsEnabled = false)),
    [
      "vpc-endpoints-private: aws:ec2/vpcEndpoint:VpcEndpoint 'br-ingestion-network-kms' does not enable private DNS: clients resolve 'com.amazonaws.sa-east-1.kms' to its public endpoint; set privateDnsEnabled to true.",
    ],
  ],
  [
    "Endpoint policy allowing everything",
    set(
      "br-ingestion-network-s3",
      (i) =>
        (i.policy = JSON.stringify({ Statement: [{ Effect: "Allow", Principal: "*", Action: "*", Resource: "*" }] })),
    ),
    [
      "vpc-endpoints-private: aws:ec2/vpcEndpoint:VpcEndpoint 'br-ingestion-network-s3' policy statement 0 allows every action on every resource to every principal.",
    ],
  ],
  [
    "Endpoint to another region's service",
    set("br-ingestion-network-kms", (i) => (i.serviceName = "com.amazonaws.us-east-1.kms")),
    [
      "vpc-endpoints-private: aws:ec2/vpcEndpoint:VpcEndpoint 'br-ingestion-network-kms' connects to 'com.amazonaws.us-east-1.kms' in 'us-east-1', not the VPC's region 'sa-east-1'.",
    ],
  ],
  [
    "Auto-mode GCP network",
    set("br-clickstream-network", (i) => (i.autoCreateSubnetworks = true)),
    [
      "gcp-network-private-regional: gcp:compute/network:Network 'br-clickstream-network' is an auto-mode network: it creates a subnet in every region; set autoCreateSubnetworks to false.",
    ],
  ],
  [
    "GCP network with the provider default (auto mode)",
    set("br-clickstream-network", (i) => delete i.autoCreateSubnetworks),
    [
      "gcp-network-private-regional: gcp:compute/network:Network 'br-clickstream-network' is an auto-mode network: it creates a subnet in every region; set autoCreateSubnetworks to false.",
    ],
  ],
  [
    "GCP subnetwork without Private Google Access",
    set("br-clickstream-network-subnet", (i) => (i.privateIpGoogleAccess = false)),
    [
      "gcp-network-private-regional: gcp:compute/subnetwork:Subnetwork 'br-clickstream-network-subnet' has no Private Google Access: set privateIpGoogleAccess to true.",
    ],
  ],
  [
    "GCP subnetwork outside the jurisdiction",
    set("br-clickstream-network-subnet", (i) => (i.region = "us-central1")),
    [
      "resource-residency: gcp:compute/subnetwork:Subnetwork 'br-clickstream-network-subnet' is in 'us-central1' (region), outside jurisdiction 'br' (LGPD); allowed GCP locations: southamerica-east1.",
    ],
  ],
  [
    "Policy tag taxonomy in the US multi-region",
    set("br-clickstream-events-taxonomy", (i) => (i.region = "us")),
    [
      "resource-residency: gcp:datacatalog/taxonomy:Taxonomy 'br-clickstream-events-taxonomy' is in 'us' (region), outside jurisdiction 'br' (LGPD); allowed GCP locations: southamerica-east1.",
    ],
  ],
  // ---- DMS: CA trust, S3 target encryption and bucket
  [
    "DMS certificate that is not a PEM certificate",
    set("br-ingestion-orders-ca", (i) => (i.certificatePem = "not a certificate")),
    [
      "dms-tls-trust: aws:dms/certificate:Certificate 'br-ingestion-orders-ca' certificatePem is not a PEM-encoded certificate.",
    ],
  ],
  [
    "DMS endpoint verifying without a CA",
    set("br-ingestion-orders-source", (i) => delete i.certificateArn),
    [
      "dms-tls-trust: aws:dms/endpoint:Endpoint 'br-ingestion-orders-source' uses sslMode 'verify-full' without certificateArn: it has no CA to verify the source against.",
    ],
  ],
  [
    "DMS endpoint trusting a CA declared elsewhere",
    drop("br-ingestion-orders-ca"),
    [
      "dms-tls-trust: aws:dms/endpoint:Endpoint 'br-ingestion-orders-source' verifies the source against 'arn:aws:dms:sa-east-1:111111111111:cert:2A46AF0ED91415BBD545582B2D', a certificate not declared in this stack.",
    ],
  ],
  [
    "DMS S3 target with SSE-S3",
    set("br-ingestion-orders-target", (i) => (i.encryptionMode = "SSE_S3"), DMS_TARGET),
    [
      "stores-cmek: aws:dms/s3Endpoint:S3Endpoint 'br-ingestion-orders-target' writes with encryptionMode 'SSE_S3'; set it to 'SSE_KMS' with serverSideEncryptionKmsKeyId.",
    ],
  ],
  [
    "DMS S3 target with SSE-KMS and no key",
    set("br-ingestion-orders-target", (i) => delete i.serverSideEncryptionKmsKeyId, DMS_TARGET),
    [
      "stores-cmek: aws:dms/s3Endpoint:S3Endpoint 'br-ingestion-orders-target' has no customer-managed key: set serverSideEncryptionKmsKeyId (without it SSE_KMS uses aws/s3).",
    ],
  ],
  [
    "DMS S3 target with the AWS-managed key",
    set("br-ingestion-orders-target", (i) => (i.serverSideEncryptionKmsKeyId = "alias/aws/s3"), DMS_TARGET),
    [
      "stores-cmek: aws:dms/s3Endpoint:S3Endpoint 'br-ingestion-orders-target' uses the AWS-managed key 'alias/aws/s3' in serverSideEncryptionKmsKeyId; use a customer-managed KMS key.",
    ],
  ],
  [
    "DMS S3 target writing to a bucket declared elsewhere",
    (b) =>
      mutate(
        b,
        "br-ingestion-orders-target",
        (i, r) => {
          i.bucketName = "someone-elses-bucket";
          // A literal name: nothing of this stack computes it.
          r.propertyDependencies = { ...r.propertyDependencies, bucketName: [] };
        },
        DMS_TARGET,
      ),
    [
      "replication-residency: aws:dms/s3Endpoint:S3Endpoint 'br-ingestion-orders-target' writes CDC files to 'someone-elses-bucket', a bucket not declared in this stack, so its location cannot be verified.",
    ],
  ],
  [
    "DMS S3 target of the eu cell writing to the br bucket",
    set("br-ingestion-orders-target", (i) => (i.tags = { cell: "eu", jurisdiction: "eu" }), DMS_TARGET),
    [
      "replication-residency: aws:dms/s3Endpoint:S3Endpoint 'br-ingestion-orders-target' writes CDC files to aws:s3/bucket:Bucket 'br-aws-raw' in 'sa-east-1' (jurisdiction 'br'), outside its own jurisdiction 'eu'.",
      "resource-residency: aws:dms/s3Endpoint:S3Endpoint 'br-ingestion-orders-target' is in 'sa-east-1' (provider region), outside jurisdiction 'eu' (GDPR); allowed AWS regions: eu-west-1, eu-west-3, eu-central-1, eu-north-1, eu-south-1, eu-south-2.",
    ],
  ],
  // ---- Storage Transfer residency
  [
    "Transfer job into a bucket declared elsewhere",
    set("br-federation-in-country-transfer", (i) => (rec(rec(i.transferSpec).gcsDataSink).bucketName = "us-archive")),
    [
      "replication-residency: gcp:storage/transferJob:TransferJob 'br-federation-in-country-transfer' copies to 'us-archive', a bucket not declared in this stack, so its location cannot be verified.",
    ],
  ],
  [
    "Transfer job from an HTTP list",
    set("br-federation-in-country-transfer", (i) => {
      const spec = rec(i.transferSpec);
      delete spec.awsS3DataSource;
      spec.httpDataSource = { listUrl: "https://example.com/list.tsv" };
    }),
    [
      "replication-residency: gcp:storage/transferJob:TransferJob 'br-federation-in-country-transfer' uses transferSpec.httpDataSource, whose location this stack cannot verify; transfer only between buckets of this stack.",
    ],
  ],
  [
    "Transfer job into a bucket outside the jurisdiction",
    set("br-federation-in-country-feed", (i) => (i.location = "US")),
    [
      "replication-residency: gcp:storage/transferJob:TransferJob 'br-federation-in-country-transfer' copies to gcp:storage/bucket:Bucket 'br-federation-in-country-feed' in 'US' (jurisdiction 'br'), outside its own jurisdiction 'br'.",
      "resource-residency: gcp:storage/bucket:Bucket 'br-federation-in-country-feed' is in 'US' (location), outside jurisdiction 'br' (LGPD); allowed GCP locations: southamerica-east1.",
    ],
  ],
  // ---- alerts
  [
    "Alarm without actions",
    set("br-ingestion-orders-cdclatencysource", (i) => (i.alarmActions = [])),
    [
      "alerts-routed-in-jurisdiction: aws:cloudwatch/metricAlarm:MetricAlarm 'br-ingestion-orders-cdclatencysource' has no alarmActions: it notifies nobody.",
    ],
  ],
  [
    "Alarm with actions disabled",
    set("br-ingestion-orders-cdclatencysource", (i) => (i.actionsEnabled = false)),
    [
      "alerts-routed-in-jurisdiction: aws:cloudwatch/metricAlarm:MetricAlarm 'br-ingestion-orders-cdclatencysource' has actionsEnabled false: it notifies nobody.",
    ],
  ],
  [
    "Event target in another account and region",
    (b) =>
      mutate(
        b,
        "br-ingestion-orders-events",
        (i, r) => {
          i.arn = "arn:aws:sns:us-east-1:999999999999:elsewhere";
          r.propertyDependencies = { rule: r.propertyDependencies?.rule ?? [] };
        },
        EVENT_TARGET,
      ),
    [
      "alerts-routed-in-jurisdiction: aws:cloudwatch/eventTarget:EventTarget 'br-ingestion-orders-events' notifies 'arn:aws:sns:us-east-1:999999999999:elsewhere', which is not declared in this stack.",
    ],
  ],
  [
    "Event rule without a target",
    drop("br-ingestion-orders-events", EVENT_TARGET),
    [
      "alerts-routed-in-jurisdiction: aws:cloudwatch/eventRule:EventRule 'br-ingestion-orders-events' has no target in this stack: the events it matches reach nobody.",
    ],
  ],
  [
    "Event rule disabled",
    set("br-ingestion-orders-events", (i) => (i.state = "DISABLED"), EVENT_RULE),
    ["alerts-routed-in-jurisdiction: aws:cloudwatch/eventRule:EventRule 'br-ingestion-orders-events' is disabled."],
  ],
  [
    "Alert policy disabled",
    set("br-clickstream-alerts-dead-letters", (i) => (i.enabled = false)),
    [
      "alerts-routed-in-jurisdiction: gcp:monitoring/alertPolicy:AlertPolicy 'br-clickstream-alerts-dead-letters' is disabled.",
    ],
  ],
  [
    "Alert policy without conditions",
    set("br-clickstream-alerts-dead-letters", (i) => (i.conditions = [])),
    [
      "alerts-routed-in-jurisdiction: gcp:monitoring/alertPolicy:AlertPolicy 'br-clickstream-alerts-dead-letters' has no condition: it never opens an incident.",
    ],
  ],
  [
    "Alert policy notifying a channel declared elsewhere",
    drop("br-clickstream-alerts-email-0"),
    [
      "alerts-routed-in-jurisdiction: gcp:monitoring/alertPolicy:AlertPolicy 'br-clickstream-alerts-backlog' notifies channel 'projects/acme-lakehouse-br-dev/notificationChannels/1558750634015446589', which is not declared in this stack.",
      "alerts-routed-in-jurisdiction: gcp:monitoring/alertPolicy:AlertPolicy 'br-clickstream-alerts-collector-errors' notifies channel 'projects/acme-lakehouse-br-dev/notificationChannels/1558750634015446589', which is not declared in this stack.",
      "alerts-routed-in-jurisdiction: gcp:monitoring/alertPolicy:AlertPolicy 'br-clickstream-alerts-dead-letters' notifies channel 'projects/acme-lakehouse-br-dev/notificationChannels/1558750634015446589', which is not declared in this stack.",
      "alerts-routed-in-jurisdiction: gcp:monitoring/alertPolicy:AlertPolicy 'br-clickstream-alerts-endpoint-no-model' notifies channel 'projects/acme-lakehouse-br-dev/notificationChannels/1558750634015446589', which is not declared in this stack.",
      "alerts-routed-in-jurisdiction: gcp:monitoring/alertPolicy:AlertPolicy 'br-clickstream-alerts-freshness' notifies channel 'projects/acme-lakehouse-br-dev/notificationChannels/1558750634015446589', which is not declared in this stack.",
    ],
  ],
  [
    "Webhook channel over plain HTTP",
    set("br-clickstream-alerts-email-0", (i) => {
      i.type = "webhook_tokenauth";
      i.labels = { url: "http://hooks.example.com/incident" };
    }),
    [
      "alerts-routed-in-jurisdiction: gcp:monitoring/notificationChannel:NotificationChannel 'br-clickstream-alerts-email-0' posts incidents to 'http://hooks.example.com/incident' without TLS: use an https URL.",
    ],
  ],
  // ---- erasure propagation (Glue triggers)
  [
    "Monthly merge trigger (longer than the br erasure SLA)",
    set("br-ingestion-merge-orders-schedule", (i) => (i.schedule = "cron(0 2 1 * ? *)")),
    [
      "erasure-propagation-scheduled: aws:glue/trigger:Trigger 'br-ingestion-merge-orders-schedule' can leave 31 days between runs ('cron(0 2 1 * ? *)'); the LGPD erasure SLA is 15 days.",
    ],
  ],
  [
    "Merge trigger created deactivated",
    set("br-ingestion-merge-orders-schedule", (i) => (i.startOnCreation = false)),
    [
      "erasure-propagation-scheduled: aws:glue/trigger:Trigger 'br-ingestion-merge-orders-schedule' is created deactivated: set startOnCreation to true.",
    ],
  ],
  [
    "Merge trigger disabled",
    set("br-ingestion-merge-orders-schedule", (i) => (i.enabled = false)),
    [
      "erasure-propagation-scheduled: aws:glue/trigger:Trigger 'br-ingestion-merge-orders-schedule' is disabled: the jobs it runs stop.",
    ],
  ],
  [
    "Merge trigger running jobs declared elsewhere",
    // Jobs named by literal names, so no dependency joins them either.
    (b) =>
      mutate(
        without(without(b, "br-ingestion-merge-orders-orders"), "br-ingestion-merge-orders-customers"),
        "br-ingestion-merge-orders-schedule",
        (_i, r) => (r.propertyDependencies = { ...r.propertyDependencies, actions: [] }),
      ),
    [
      "erasure-propagation-scheduled: aws:glue/trigger:Trigger 'br-ingestion-merge-orders-schedule' runs job 'lakehouse-dev-br-cdc-merge-orders-customers', which is not declared in this stack, so its encryption and role cannot be verified.",
      "erasure-propagation-scheduled: aws:glue/trigger:Trigger 'br-ingestion-merge-orders-schedule' runs job 'lakehouse-dev-br-cdc-merge-orders-orders', which is not declared in this stack, so its encryption and role cannot be verified.",
    ],
  ],
  // ---- uploaded objects
  [
    "S3 object overriding the bucket key with SSE-S3",
    set("br-ingestion-merge-script", (i) => (i.serverSideEncryption = "AES256")),
    [
      "objects-cmek: aws:s3/bucketObjectv2:BucketObjectv2 'br-ingestion-merge-script' is encrypted with 'AES256'; use 'aws:kms' with a customer-managed kmsKeyId.",
    ],
  ],
  [
    "S3 object with aws:kms and no key",
    set("br-ingestion-merge-script", (i) => delete i.kmsKeyId),
    [
      "objects-cmek: aws:s3/bucketObjectv2:BucketObjectv2 'br-ingestion-merge-script' has no customer-managed key: 'aws:kms' without kmsKeyId uses the AWS-managed key aws/s3.",
    ],
  ],
  [
    "S3 object relying on the bucket default (compliant)",
    set("br-ingestion-merge-script", (i) => {
      delete i.serverSideEncryption;
      delete i.kmsKeyId;
    }),
    [],
  ],
  [
    "S3 object relying on the default of a bucket declared elsewhere",
    (b) =>
      mutate(b, "br-ingestion-merge-script", (i, r) => {
        delete i.serverSideEncryption;
        delete i.kmsKeyId;
        i.bucket = "elsewhere";
        r.propertyDependencies = {};
      }),
    [
      "objects-cmek: aws:s3/bucketObjectv2:BucketObjectv2 'br-ingestion-merge-script' states no encryption and its bucket 'elsewhere' is not a bucket of this stack with a customer-managed default key.",
    ],
  ],
  [
    "GCS object in a bucket declared elsewhere",
    (b) =>
      mutate(b, "br-clickstream-dataflow-udf", (i, r) => {
        i.bucket = "elsewhere";
        r.propertyDependencies = {};
      }),
    [
      "objects-cmek: gcp:storage/bucketObject:BucketObject 'br-clickstream-dataflow-udf' has no kmsKeyName and its bucket 'elsewhere' is not a bucket of this stack with encryption.defaultKmsKeyName.",
    ],
  ],
  [
    "GCS object with a customer-supplied key",
    set("br-clickstream-dataflow-udf", (i) => (i.customerEncryption = { encryptionKey: "x" })),
    [
      "objects-cmek: gcp:storage/bucketObject:BucketObject 'br-clickstream-dataflow-udf' uses a customer-supplied key, which Cloud KMS neither rotates nor audits; use kmsKeyName.",
    ],
  ],
  [
    "Schedule without a customer-managed key",
    set("br-federation-in-country-export-schedule", (i) => delete i.kmsKeyArn),
    [
      "stores-cmek: aws:scheduler/schedule:Schedule 'br-federation-in-country-export-schedule' has no customer-managed key: set kmsKeyArn (the schedule stores its target input).",
    ],
  ],
  [
    "Schedule with the AWS-managed key",
    set(
      "br-federation-in-country-export-schedule",
      (i) => (i.kmsKeyArn = "arn:aws:kms:sa-east-1:111111111111:alias/aws/scheduler"),
    ),
    [
      "stores-cmek: aws:scheduler/schedule:Schedule 'br-federation-in-country-export-schedule' uses the AWS-managed key 'arn:aws:kms:sa-east-1:111111111111:alias/aws/scheduler' in kmsKeyArn; use a customer-managed KMS key.",
    ],
  ],
  // ---- column access control, custom roles, service agents, break-glass
  [
    "Taxonomy without fine-grained access control",
    set("br-clickstream-events-taxonomy", (i) => (i.activatedPolicyTypes = [])),
    [
      "column-access-control-enforced: gcp:datacatalog/policyTag:PolicyTag 'br-clickstream-events-network-address' belongs to gcp:datacatalog/taxonomy:Taxonomy 'br-clickstream-events-taxonomy', which does not enforce fine-grained access control.",
      "column-access-control-enforced: gcp:datacatalog/policyTag:PolicyTag 'br-clickstream-events-pseudonymous-id' belongs to gcp:datacatalog/taxonomy:Taxonomy 'br-clickstream-events-taxonomy', which does not enforce fine-grained access control.",
      "column-access-control-enforced: gcp:datacatalog/policyTag:PolicyTag 'br-clickstream-events-quasi-identifier' belongs to gcp:datacatalog/taxonomy:Taxonomy 'br-clickstream-events-taxonomy', which does not enforce fine-grained access control.",
      "column-access-control-enforced: gcp:datacatalog/taxonomy:Taxonomy 'br-clickstream-events-taxonomy' does not activate FINE_GRAINED_ACCESS_CONTROL: its policy tags restrict nothing.",
    ],
  ],
  [
    "Policy tag in a taxonomy declared elsewhere",
    drop("br-clickstream-events-taxonomy"),
    [
      "column-access-control-enforced: gcp:datacatalog/policyTag:PolicyTag 'br-clickstream-events-network-address' belongs to taxonomy 'projects/acme-lakehouse-br-dev/locations/southamerica-east1/taxonomys/br-clickstream-events-taxonomy-fa60909', which is not declared in this stack, so its enforcement cannot be verified.",
      "column-access-control-enforced: gcp:datacatalog/policyTag:PolicyTag 'br-clickstream-events-pseudonymous-id' belongs to taxonomy 'projects/acme-lakehouse-br-dev/locations/southamerica-east1/taxonomys/br-clickstream-events-taxonomy-fa60909', which is not declared in this stack, so its enforcement cannot be verified.",
      "column-access-control-enforced: gcp:datacatalog/policyTag:PolicyTag 'br-clickstream-events-quasi-identifier' belongs to taxonomy 'projects/acme-lakehouse-br-dev/locations/southamerica-east1/taxonomys/br-clickstream-events-taxonomy-fa60909', which is not declared in this stack, so its enforcement cannot be verified.",
    ],
  ],
  [
    "Custom role that can change IAM policies",
    set(
      "br-clickstream-ml-predict-role",
      (i) => (i.permissions = ["aiplatform.endpoints.predict", "resourcemanager.projects.setIamPolicy"]),
    ),
    [
      "custom-roles-narrow: gcp:projects/iAMCustomRole:IAMCustomRole 'br-clickstream-ml-predict-role' has 'resourcemanager.projects.setIamPolicy', which lets the holder change IAM policies or act as another identity.",
    ],
  ],
  [
    "Custom role with a wildcard permission",
    set("br-clickstream-ml-predict-role", (i) => (i.permissions = ["aiplatform.*"])),
    [
      "custom-roles-narrow: gcp:projects/iAMCustomRole:IAMCustomRole 'br-clickstream-ml-predict-role' has the wildcard permission 'aiplatform.*'.",
    ],
  ],
  [
    "Custom role that can impersonate service accounts",
    set("br-clickstream-ml-predict-role", (i) => (i.permissions = ["iam.serviceAccounts.actAs"])),
    [
      "custom-roles-narrow: gcp:projects/iAMCustomRole:IAMCustomRole 'br-clickstream-ml-predict-role' has 'iam.serviceAccounts.actAs', which lets the holder change IAM policies or act as another identity.",
    ],
  ],
  [
    "API disabled on destroy (provider default)",
    set("br-gcp-apis-bigquery", (i) => delete i.disableOnDestroy),
    [
      "project-services-kept-on-destroy: gcp:projects/service:Service 'br-gcp-apis-bigquery' disables 'bigquery.googleapis.com' when destroyed: set disableOnDestroy to false.",
    ],
  ],
  [
    "API disabling its dependents",
    set("br-gcp-apis-bigquery", (i) => (i.disableDependentServices = true)),
    [
      "project-services-kept-on-destroy: gcp:projects/service:Service 'br-gcp-apis-bigquery' disables the services that depend on 'bigquery.googleapis.com': set disableDependentServices to false.",
    ],
  ],
  [
    "Service agent granted a project-wide role",
    added("gcp:projects/iAMMember:IAMMember", "br-pubsub-agent-project", (b) => ({
      project: "acme-lakehouse-br-dev",
      role: "roles/cloudkms.cryptoKeyEncrypterDecrypter",
      member: find(b, "gcp:projects/serviceIdentity:ServiceIdentity", "br-gcp-keys-pubsub-agent").outputs?.member,
    })),
    [
      "service-agents-scoped: gcp:projects/iAMMember:IAMMember 'br-pubsub-agent-project' grants the service agent gcp:projects/serviceIdentity:ServiceIdentity 'br-gcp-keys-pubsub-agent' 'roles/cloudkms.cryptoKeyEncrypterDecrypter' on the whole project 'acme-lakehouse-br-dev'.",
    ],
  ],
  [
    "Service agent granted another project's key",
    set(
      "br-gcp-keys-pubsub-agent-0",
      (i) => (i.cryptoKeyId = "projects/acme-eu/locations/europe-west1/keyRings/eu/cryptoKeys/lake"),
    ),
    [
      "service-agents-scoped: gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember 'br-gcp-keys-pubsub-agent-0' grants the service agent gcp:projects/serviceIdentity:ServiceIdentity 'br-gcp-keys-pubsub-agent' of project 'acme-lakehouse-br-dev' a key of project 'acme-eu'.",
    ],
  ],
  [
    "Break-glass without approval",
    set("br-break-glass", (i) => delete i.approvalWorkflow),
    [
      "privileged-access-approved: gcp:privilegedaccessmanager/entitlement:entitlement 'br-break-glass' grants access without approval: add approvalWorkflow.manualApprovals with approvers.",
    ],
  ],
  [
    "Break-glass requesters approving themselves",
    set("br-break-glass", (i) => (i.eligibleUsers = [{ principals: ["group:dpo@acme.example"] }])),
    [
      "privileged-access-approved: gcp:privilegedaccessmanager/entitlement:entitlement 'br-break-glass' lets 'group:dpo@acme.example' approve its own requests.",
    ],
  ],
  [
    "Break-glass for a whole day",
    set("br-break-glass", (i) => (i.maxRequestDuration = "86400s")),
    [
      "privileged-access-approved: gcp:privilegedaccessmanager/entitlement:entitlement 'br-break-glass' allows elevations of '86400s'; the maximum is 8 hours.",
    ],
  ],
  [
    "Break-glass without justification, granting roles/owner",
    set("br-break-glass", (i) => {
      delete i.requesterJustificationConfig;
      rec(rec(i.privilegedAccess).gcpIamAccess).roleBindings = [{ role: "roles/owner" }];
    }),
    [
      "privileged-access-approved: gcp:privilegedaccessmanager/entitlement:entitlement 'br-break-glass' does not ask requesters for a justification: set requesterJustificationConfig.",
      "privileged-access-approved: gcp:privilegedaccessmanager/entitlement:entitlement 'br-break-glass' grants the primitive role 'roles/owner'.",
    ],
  ],
  // ---- event streams (docs/adr/0011-event-streams-into-iceberg.md)
  [
    "MSK brokers public and unauthenticated",
    set("br-kafka", (i) => {
      i.brokerNodeGroupInfo = {
        ...rec(i.brokerNodeGroupInfo),
        connectivityInfo: { publicAccess: { type: "SERVICE_PROVIDED_EIPS" } },
      };
      i.clientAuthentication = { unauthenticated: true };
    }),
    [
      "no-public-network-exposure: aws:msk/cluster:Cluster 'br-kafka' exposes brokers publicly (publicAccess.type 'SERVICE_PROVIDED_EIPS').",
      "kafka-private-authenticated: aws:msk/cluster:Cluster 'br-kafka' admits unauthenticated clients: set clientAuthentication.unauthenticated to false.",
      "kafka-private-authenticated: aws:msk/cluster:Cluster 'br-kafka' has no client authentication: turn on clientAuthentication.sasl.iam.",
    ],
  ],
  [
    "MSK Serverless without IAM",
    set("br-kafka-serverless", (i) => (i.clientAuthentication = { sasl: { iam: { enabled: false } } })),
    [
      "kafka-private-authenticated: aws:msk/serverlessCluster:ServerlessCluster 'br-kafka-serverless' does not use IAM authentication: set clientAuthentication.sasl.iam.enabled to true.",
    ],
  ],
  [
    "MSK cluster policy for anyone, and for Firehose of any account",
    set(
      "br-kafka-firehose",
      (i) =>
        (i.policy = JSON.stringify({
          Statement: [
            { Effect: "Allow", Principal: "*", Action: "kafka:CreateVpcConnection", Resource: "*" },
            {
              Effect: "Allow",
              Principal: { Service: "firehose.amazonaws.com" },
              Action: "kafka:CreateVpcConnection",
              Resource: "*",
            },
          ],
        })),
    ),
    [
      "kafka-private-authenticated: aws:msk/clusterPolicy:ClusterPolicy 'br-kafka-firehose' statement 0 allows any principal on the cluster.",
      "kafka-private-authenticated: aws:msk/clusterPolicy:ClusterPolicy 'br-kafka-firehose' statement 1 admits firehose.amazonaws.com for any account: add an aws:SourceAccount condition.",
    ],
  ],
  [
    "Firehose reading MSK over public bootstrap brokers",
    set("br-events-to-lake", (i) => {
      i.mskSourceConfiguration = {
        mskClusterArn: "arn:aws:kafka:sa-east-1:111111111111:cluster/br-kafka/uuid",
        topicName: "cart-events",
        authenticationConfiguration: { connectivity: "PUBLIC", roleArn: "arn:aws:iam::111111111111:role/firehose" },
      };
    }),
    [
      "kafka-private-authenticated: aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream 'br-events-to-lake' reads MSK over 'PUBLIC' connectivity (public bootstrap brokers); use 'PRIVATE'.",
    ],
  ],
  [
    "Firehose Iceberg destination backing up failed records without a key",
    set("br-events-to-lake", (i) => {
      i.icebergConfiguration = {
        s3Configuration: { bucketArn: "arn:aws:s3:::raw", roleArn: "arn:aws:iam::111111111111:role/firehose" },
      };
    }),
    [
      "stores-cmek: aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream 'br-events-to-lake' has no customer-managed key: set icebergConfiguration.s3Configuration.kmsKeyArn (failed records are written to S3 with it).",
    ],
  ],
  [
    "MSK Connect reading Kafka in plain text",
    set("br-partner-connector", (i) => (i.kafkaClusterEncryptionInTransit = { encryptionType: "PLAINTEXT" })),
    [
      "tls-in-transit: aws:mskconnect/connector:Connector 'br-partner-connector' reads Kafka with encryptionType 'PLAINTEXT'; set kafkaClusterEncryptionInTransit.encryptionType to 'TLS'.",
    ],
  ],
  [
    "MSK Connect with a literal password, a worker config with a keystore password, a plugin from elsewhere",
    (b) => {
      let r = mutate(b, "br-partner-connector", (i) => {
        i.connectorConfiguration = {
          ...rec(i.connectorConfiguration),
          "consumer.override.sasl.jaas.config":
            'x required username="${secretsmanager:s:username}" password="hunter2";',
        };
      });
      r = mutate(
        r,
        "br-sources-partner-events-connect-worker",
        (i) =>
          (i.propertiesFileContent = `${String(i.propertiesFileContent)}\nconsumer.ssl.keystore.password=changeit`),
      );
      return mutate(r, "br-partner-plugin", (i, x) => {
        i.location = { s3: { bucketArn: "arn:aws:s3:::plugins-of-someone-else", fileKey: "p.zip" } };
        x.propertyDependencies = {};
      });
    },
    [
      "kafka-connect-secrets-by-reference: aws:mskconnect/workerConfiguration:WorkerConfiguration 'br-sources-partner-events-connect-worker' sets 'consumer.ssl.keystore.password' in plain text; reference it through a config provider.",
      "kafka-connect-secrets-by-reference: aws:mskconnect/connector:Connector 'br-partner-connector' sets 'consumer.override.sasl.jaas.config' in plain text; reference it through a config provider.",
      "kafka-connect-secrets-by-reference: aws:mskconnect/customPlugin:CustomPlugin 'br-partner-plugin' loads its code from 'arn:aws:s3:::plugins-of-someone-else', a bucket not declared in this stack.",
    ],
  ],
  [
    "Kafka topic keeping events forever, broker config keeping them 30 days",
    (b) =>
      mutate(
        mutate(b, "br-kafka-topic", (i) => (i.configs = JSON.stringify({ "retention.ms": "-1" }))),
        "br-kafka-config",
        (i) => (i.serverProperties = "log.retention.hours=720"),
      ),
    [
      "stream-retention: aws:msk/topic:Topic 'br-kafka-topic' keeps messages forever (configs retention.ms -1).",
      "stream-retention: aws:msk/configuration:Configuration 'br-kafka-config' retains messages 30 days (serverProperties log.retention.*); the LGPD erasure SLA is 15 days.",
    ],
  ],
  [
    "Log stream in a log group of another stack",
    (b) =>
      mutate(b, "br-events-delivery", (i, x) => {
        i.logGroupName = "/aws/kinesisfirehose/made-elsewhere";
        x.propertyDependencies = {};
      }),
    [
      "log-streams-in-declared-groups: aws:cloudwatch/logStream:LogStream 'br-events-delivery' writes into '/aws/kinesisfirehose/made-elsewhere', a log group not declared in this stack.",
    ],
  ],
  // ---- protection (on the prod plan), pseudonymisation
  [
    "Production bucket unprotected (protect false)",
    (b) => mutate(b, "br-aws-raw", (_i, r) => (r.protect = false), "aws:s3/bucket:Bucket"),
    [
      "prod-deletion-protection: aws:s3/bucket:Bucket 'br-aws-raw' is a stateful 'prod' resource without deletion protection: set the protect resource option.",
    ],
    "prod",
  ],
  [
    "Production GCS bucket force-destroyable",
    set("br-gcp-staging", (i) => (i.forceDestroy = true)),
    [
      "prod-deletion-protection: gcp:storage/bucket:Bucket 'br-gcp-staging' sets forceDestroy: a delete would wipe its contents in 'prod'.",
    ],
    "prod",
  ],
  [
    "Short HMAC key",
    set("br-pseudonymisation-key-bytes", (i) => (i.length = 16)),
    [
      "pseudonymisation-key-strength: random:index/randomBytes:RandomBytes 'br-pseudonymisation-key-bytes' is 16 bytes; pseudonymisation keys need at least 32.",
    ],
  ],
  [
    "Service account keys",
    added("gcp:serviceaccount/key:Key", "ci-key", () => ({ serviceAccountId: "ci" })),
    ["no-long-lived-keys: gcp:serviceaccount/key:Key 'ci-key' creates a long-lived credential."],
  ],
];

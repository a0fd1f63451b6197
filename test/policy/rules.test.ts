/**
 * Each rule: the compliant baseline passes, and one-field mutations produce exactly the expected
 * violation (policy name and message), through the pack's own analyzer over gRPC.
 */
import { expect } from "chai";
import { rules } from "../../policy/policies";
import type { ResourceInput } from "../../tools/policy/requests";
import { baseline, closeSession, gate, lines, mutate, without } from "./helpers";

type Case = readonly [title: string, resources: () => ResourceInput[], expected: readonly string[]];

const B = baseline;
const set = (name: string, fn: (i: Record<string, unknown>) => void, type?: string) => () => mutate(B(), name, fn, type);
const rec = (v: unknown): Record<string, unknown> => v as Record<string, unknown>;
const first = (v: unknown): Record<string, unknown> => (v as Record<string, unknown>[])[0];

const CASES: readonly Case[] = [
  // ---- encryption
  ["S3 SSE with AES256", set("br-raw-sse", (i) => (rec(first(i.rules).applyServerSideEncryptionByDefault).sseAlgorithm = "AES256")),
    ["s3-bucket-cmk-encryption: aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration 'br-raw-sse' uses sseAlgorithm 'AES256'; only 'aws:kms' or 'aws:kms:dsse' with a customer-managed key is allowed."]],
  ["S3 SSE with the AWS-managed key", set("br-raw-sse", (i) => (rec(first(i.rules).applyServerSideEncryptionByDefault).kmsMasterKeyId = "alias/aws/s3")),
    ["s3-bucket-cmk-encryption: aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration 'br-raw-sse' uses the AWS-managed key 'alias/aws/s3' in rules[0].applyServerSideEncryptionByDefault.kmsMasterKeyId; use a customer-managed KMS key."]],
  ["S3 bucket without SSE configuration", () => without(B(), "br-raw-sse"),
    ["s3-bucket-cmk-encryption: aws:s3/bucket:Bucket 'br-raw' has no BucketServerSideEncryptionConfiguration, so it is encrypted with the S3-managed key only."]],
  ["KMS key without rotation", set("br-lake-key", (i) => (i.enableKeyRotation = false)),
    ["kms-key-rotation: aws:kms/key:Key 'br-lake-key' does not rotate: set enableKeyRotation to true."]],
  ["Cloud KMS key rotating every 2 years", set("br-lake-cmek", (i) => (i.rotationPeriod = "63072000s")),
    ["kms-key-rotation: gcp:kms/cryptoKey:CryptoKey 'br-lake-cmek' rotates every '63072000s'; the maximum is 365 days."]],
  ["BigQuery dataset without CMEK", set("br-clickstream", (i) => delete i.defaultEncryptionConfiguration),
    [
      // The table and the transfer relied on the dataset's default key: they lose it too.
      "bigquery-cmek: gcp:bigquery/dataTransferConfig:DataTransferConfig 'br-lake-copy' has no customer-managed key: set encryptionConfiguration.kmsKeyName or write into a dataset with defaultEncryptionConfiguration.",
      "bigquery-cmek: gcp:bigquery/dataset:Dataset 'br-clickstream' has no customer-managed key: set defaultEncryptionConfiguration.kmsKeyName.",
      "bigquery-cmek: gcp:bigquery/table:Table 'br-clickstream-events' has no customer-managed key: set encryptionConfiguration.kmsKeyName or create it in a dataset of this stack with defaultEncryptionConfiguration.",
    ]],
  ["Pub/Sub topic without CMEK", set("br-clickstream-topic", (i) => delete i.kmsKeyName),
    ["stores-cmek: gcp:pubsub/topic:Topic 'br-clickstream-topic' has no customer-managed key: set kmsKeyName (messages are stored at rest for up to the retention period)."]],
  ["GCS bucket without CMEK", set("br-staging-raw", (i) => delete i.encryption),
    ["stores-cmek: gcp:storage/bucket:Bucket 'br-staging-raw' has no customer-managed key: set encryption.defaultKmsKeyName."]],
  ["Secret Manager replica without CMEK", set("br-hmac-gcp", (i) => delete first(rec(rec(i.replication).userManaged).replicas).customerManagedEncryption),
    ["stores-cmek: gcp:secretmanager/secret:Secret 'br-hmac-gcp' has no customer-managed key: set customerManagedEncryption.kmsKeyName on replica 0."]],
  ["Secrets Manager secret without CMK", set("br-hmac", (i) => delete i.kmsKeyId),
    ["stores-cmek: aws:secretsmanager/secret:Secret 'br-hmac' has no customer-managed key: set kmsKeyId (without it Secrets Manager uses aws/secretsmanager)."]],
  ["Dataflow job without CMEK", set("br-clickstream-to-bq", (i) => delete i.kmsKeyName),
    ["stores-cmek: gcp:dataflow/flexTemplateJob:FlexTemplateJob 'br-clickstream-to-bq' has no customer-managed key: set kmsKeyName (Dataflow state and shuffle data)."]],
  ["Vertex endpoint without CMEK", set("br-offers-endpoint", (i) => delete i.encryptionSpec),
    ["stores-cmek: gcp:vertex/aiEndpoint:AiEndpoint 'br-offers-endpoint' has no customer-managed key: set encryptionSpec.kmsKeyName."]],
  ["Workbench boot disk with Google-managed key", set("br-notebook", (i) => (rec(rec(i.gceSetup).bootDisk).diskEncryption = "GMEK")),
    ["stores-cmek: gcp:workbench/instance:Instance 'br-notebook' bootDisk uses 'GMEK' encryption; set gceSetup.bootDisk.diskEncryption to 'CMEK' with a kmsKey."]],
  ["Log group without CMK", set("br-merge-logs", (i) => delete i.kmsKeyId),
    ["stores-cmek: aws:cloudwatch/logGroup:LogGroup 'br-merge-logs' has no customer-managed key: set kmsKeyId (log events can carry personal data)."]],
  ["SNS topic with the AWS-managed key", set("br-alerts", (i) => (i.kmsMasterKeyId = "alias/aws/sns")),
    ["stores-cmek: aws:sns/topic:Topic 'br-alerts' uses the AWS-managed key 'alias/aws/sns' in kmsMasterKeyId; use a customer-managed KMS key."]],
  ["MSK without CMK at rest", set("br-kafka", (i) => delete rec(i.encryptionInfo).encryptionAtRestKmsKeyArn),
    ["stores-cmek: aws:msk/cluster:Cluster 'br-kafka' has no customer-managed key: set encryptionInfo.encryptionAtRestKmsKeyArn."]],
  ["Kinesis stream unencrypted", set("br-events", (i) => (i.encryptionType = "NONE")),
    ["stores-cmek: aws:kinesis/stream:Stream 'br-events' is not encrypted: set encryptionType to 'KMS' with a customer-managed kmsKeyId."]],
  ["Firehose with the AWS-owned key", set("br-events-to-lake", (i) => (rec(i.serverSideEncryption).keyType = "AWS_OWNED_CMK")),
    ["stores-cmek: aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream 'br-events-to-lake' buffers Direct PUT records without a customer-managed key: set serverSideEncryption { enabled: true, keyType: 'CUSTOMER_MANAGED_CMK', keyArn }."]],
  ["Glue catalog unencrypted", set("br-catalog-encryption", (i) => (rec(rec(i.dataCatalogEncryptionSettings).encryptionAtRest).catalogEncryptionMode = "DISABLED")),
    ["glue-catalog-encryption: aws:glue/dataCatalogEncryptionSettings:DataCatalogEncryptionSettings 'br-catalog-encryption' leaves the catalog unencrypted (catalogEncryptionMode 'DISABLED'); use 'SSE-KMS'."]],
  ["Glue job without security configuration", set("br-merge", (i) => delete i.securityConfiguration),
    ["analytics-engines-cmk: aws:glue/job:Job 'br-merge' has no securityConfiguration: its S3 output, logs and bookmarks are not encrypted with a customer-managed key."]],
  ["Athena results with SSE-S3", set("br-analysts", (i) => (rec(rec(rec(i.configuration).resultConfiguration).encryptionConfiguration).encryptionOption = "SSE_S3")),
    ["analytics-engines-cmk: aws:athena/workgroup:Workgroup 'br-analysts' writes query results with encryption 'SSE_S3'; use 'SSE_KMS' or 'CSE_KMS' with a kmsKeyArn."]],
  ["Secret version in an undeclared secret", () => without(mutate(B(), "br-hmac-v1", (_i, r) => (r.propertyDependencies = {})), "br-hmac"),
    ["secret-versions-in-managed-secrets: aws:secretsmanager/secretVersion:SecretVersion 'br-hmac-v1' is stored in a secret that is not declared in this stack."]],
  // ---- transit
  ["Bucket policy without the TLS deny", set("br-raw-policy", (i) => (i.policy = JSON.stringify({ Statement: [] }))),
    ["s3-tls-only: aws:s3/bucketPolicy:BucketPolicy 'br-raw-policy' does not deny requests without TLS (no Deny on aws:SecureTransport = false)."]],
  ["DMS endpoint without TLS", set("br-orders-source", (i) => (i.sslMode = "none")),
    ["tls-in-transit: aws:dms/endpoint:Endpoint 'br-orders-source' connects to mysql with sslMode 'none'; use 'require', 'verify-ca' or 'verify-full'."]],
  ["MSK accepting plaintext", set("br-kafka", (i) => (rec(rec(i.encryptionInfo).encryptionInTransit).clientBroker = "TLS_PLAINTEXT")),
    ["tls-in-transit: aws:msk/cluster:Cluster 'br-kafka' allows 'TLS_PLAINTEXT' between clients and brokers; set encryptionInTransit.clientBroker to 'TLS'."]],
  // ---- residency
  ["S3 bucket overriding its region", set("br-raw", (i) => (i.region = "us-east-1"), "aws:s3/bucket:Bucket"),
    ["resource-residency: aws:s3/bucket:Bucket 'br-raw' is in 'us-east-1' (region), outside jurisdiction 'br' (LGPD); allowed AWS regions: sa-east-1."]],
  ["Pub/Sub storage policy in the US", set("br-clickstream-topic", (i) => (rec(i.messageStoragePolicy).allowedPersistenceRegions = ["us-central1"])),
    ["resource-residency: gcp:pubsub/topic:Topic 'br-clickstream-topic' is in 'us-central1' (messageStoragePolicy.allowedPersistenceRegions), outside jurisdiction 'br' (LGPD); allowed GCP locations: southamerica-east1."]],
  ["BigQuery connection without location", set("br-lake-connection", (i) => delete i.location),
    ["bigquery-explicit-location: gcp:bigquery/connection:Connection 'br-lake-connection' states no location; BigQuery would place it in the US multi-region."]],
  ["Dataflow job in Chile", set("br-clickstream-to-bq", (i) => (i.region = "southamerica-west1")),
    ["resource-residency: gcp:dataflow/flexTemplateJob:FlexTemplateJob 'br-clickstream-to-bq' is in 'southamerica-west1' (region), outside jurisdiction 'br' (LGPD); allowed GCP locations: southamerica-east1."]],
  ["Secret Manager with automatic replication", set("br-hmac-gcp", (i) => (i.replication = { auto: { customerManagedEncryption: { kmsKeyName: "k" } } })),
    ["resource-residency: gcp:secretmanager/secret:Secret 'br-hmac-gcp' is in 'global (automatic replication)' (replication.auto), outside jurisdiction 'br' (LGPD); allowed GCP locations: southamerica-east1."]],
  ["S3 replication to an undeclared bucket", set("br-raw-replication", (i) => (rec(first(i.rules).destination).bucket = "arn:aws:s3:::somewhere-else")),
    ["replication-residency: aws:s3/bucketReplicationConfig:BucketReplicationConfig 'br-raw-replication' replicates to 'arn:aws:s3:::somewhere-else', a bucket not declared in this stack, so its region cannot be verified."]],
  ["Org policy allowing the US", set("br-resource-locations", (i) => (first(rec(i.spec).rules).values = { allowedValues: ["in:southamerica-east1-locations", "in:us-locations"] })),
    ["gcp-resource-locations-guardrail: gcp:orgpolicy/policy:Policy 'br-resource-locations' allows 'in:us-locations', outside jurisdiction 'br' (LGPD); allowed GCP locations: southamerica-east1."]],
  ["Resource on a default provider (no jurisdiction anywhere)", () => mutate(B(), "br-hmac-gcp", (_i, r) => (r.provider = undefined)),
    ["resource-residency: gcp:secretmanager/secret:Secret 'br-hmac-gcp' has no 'jurisdiction' or 'cell' tag/label naming a configured jurisdiction (br, eu) on the resource or its provider, so its residency cannot be checked."]],
  // ---- retention
  ["S3 raw kept 2 years", set("br-raw-lifecycle", (i) => (first(i.rules).expiration = { days: 730 })),
    ["s3-retention: aws:s3/bucket:Bucket 'br-raw' keeps 'raw' data 730 days (lifecycle expiration.days); the LGPD ceiling for 'raw' is 400 days."]],
  ["S3 noncurrent versions beyond the erasure SLA", set("br-raw-lifecycle", (i) => (first(i.rules).noncurrentVersionExpiration = { noncurrentDays: 20 })),
    ["s3-retention: aws:s3/bucket:Bucket 'br-raw' keeps noncurrent versions 20 days; the LGPD erasure SLA is 15 days."]],
  ["Audit bucket locked too briefly", set("br-audit-lock", (i) => (rec(rec(i.rule).defaultRetention).days = 90)),
    ["s3-retention: aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration 'br-audit-lock' locks audit logs for 90 days; the LGPD minimum is 183 days."]],
  ["GCS bucket without a Delete rule", set("br-staging-raw", (i) => (i.lifecycleRules = [])),
    ["gcs-retention: gcp:storage/bucket:Bucket 'br-staging-raw' keeps 'raw' data forever: set a Delete lifecycle rule's condition.age (at most 400 days in LGPD)."]],
  ["BigQuery time travel beyond the SLA", set("br-clickstream", (i) => (i.maxTimeTravelHours = "216")),
    [
      "bigquery-retention: gcp:bigquery/dataset:Dataset 'br-clickstream' has maxTimeTravelHours 216; allowed 48 to 168.",
      "bigquery-retention: gcp:bigquery/dataset:Dataset 'br-clickstream' keeps erased rows 16 days (time travel 9 + fail-safe 7); the LGPD erasure SLA is 15 days.",
    ]],
  ["BigQuery dataset without expiration", set("br-clickstream", (i) => delete i.defaultPartitionExpirationMs),
    ["bigquery-retention: gcp:bigquery/dataset:Dataset 'br-clickstream' keeps 'clickstream' data forever: set defaultPartitionExpirationMs or defaultTableExpirationMs (at most 395 days in LGPD)."]],
  ["Log group kept forever", set("br-merge-logs", (i) => delete i.retentionInDays),
    ["log-retention: aws:cloudwatch/logGroup:LogGroup 'br-merge-logs' keeps 'logs' data forever: set retentionInDays (at most 400 days in LGPD)."]],
  ["Audit log bucket below the floor", set("br-logs-audit", (i) => (i.retentionDays = 90)),
    ["log-retention: gcp:logging/projectBucketConfig:ProjectBucketConfig 'br-logs-audit' keeps audit logs 90 days (retentionDays); the LGPD minimum is 183 days."]],
  ["Pub/Sub topic retaining 31 days", set("br-clickstream-topic", (i) => (i.messageRetentionDuration = "2678400s")),
    ["stream-retention: gcp:pubsub/topic:Topic 'br-clickstream-topic' retains messages 31 days (messageRetentionDuration); the LGPD erasure SLA is 15 days."]],
  ["Iceberg snapshots kept 30 days", set("br-orders-retention", (i) => (rec(rec(rec(i.configuration).retentionConfiguration).icebergConfiguration).snapshotRetentionPeriodInDays = 30)),
    ["iceberg-snapshot-expiry: aws:glue/catalogTableOptimizer:CatalogTableOptimizer 'br-orders-retention' keeps snapshots 30 days (+1 between runs); the LGPD erasure SLA is 15 days."]],
  ["Iceberg table without snapshot expiry", () => without(B(), "br-orders-retention"),
    ["iceberg-snapshot-expiry: aws:glue/catalogTable:CatalogTable 'br-orders' is an Iceberg table without a 'retention' CatalogTableOptimizer: erased rows stay in old snapshots."]],
  // ---- public access
  ["Public access block partly off", set("br-raw-pab", (i) => (i.restrictPublicBuckets = false)),
    ["s3-no-public-access: aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock 'br-raw-pab' leaves restrictPublicBuckets off."]],
  ["GCS public access prevention inherited", set("br-staging-raw", (i) => delete i.publicAccessPrevention),
    ["no-public-network-exposure: gcp:storage/bucket:Bucket 'br-staging-raw' has publicAccessPrevention 'inherited'; set it to 'enforced'."]],
  ["Dataset role for allUsers", set("br-analysts-jobuser", (i) => (i.member = "allUsers")),
    ["no-public-principals: gcp:projects/iAMMember:IAMMember 'br-analysts-jobuser' grants 'roles/bigquery.jobUser' to 'allUsers'."]],
  ["Workbench with a public IP", set("br-notebook", (i) => (rec(i.gceSetup).disablePublicIp = false)),
    ["no-public-network-exposure: gcp:workbench/instance:Instance 'br-notebook' gets a public IP: set gceSetup.disablePublicIp to true."]],
  ["Dataflow workers with public IPs", set("br-clickstream-to-bq", (i) => (i.ipConfiguration = "WORKER_IP_PUBLIC")),
    ["no-public-network-exposure: gcp:dataflow/flexTemplateJob:FlexTemplateJob 'br-clickstream-to-bq' gives workers public IPs (ipConfiguration 'WORKER_IP_PUBLIC'); set 'WORKER_IP_PRIVATE'."]],
  ["Security group open to the internet", set("br-dms-sg", (i) => (first(i.ingress).cidrBlocks = ["0.0.0.0/0"])),
    ["no-public-network-exposure: aws:ec2/securityGroup:SecurityGroup 'br-dms-sg' ingress 0 is open to the internet."]],
  // ---- least privilege
  ["Primitive editor role", set("br-analysts-jobuser", (i) => (i.role = "roles/editor")),
    ["no-primitive-roles: gcp:projects/iAMMember:IAMMember 'br-analysts-jobuser' grants the primitive role 'roles/editor'."]],
  ["Wildcard S3 actions", set("br-glue-role-s3", (i) => (i.policy = JSON.stringify({ Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "*" }] }))),
    ["no-wildcard-actions: aws:iam/rolePolicy:RolePolicy 'br-glue-role-s3' policy statement 0 allows 's3:*'."]],
  ["AdministratorAccess attached", set("br-glue-role-read", (i) => (i.policyArn = "arn:aws:iam::aws:policy/AdministratorAccess")),
    ["no-wildcard-actions: aws:iam/rolePolicyAttachment:RolePolicyAttachment 'br-glue-role-read' attaches the broad managed policy 'arn:aws:iam::aws:policy/AdministratorAccess'."]],
  ["Function on the default compute account", set("br-collector", (i) => (i.serviceConfig = {})),
    ["dedicated-service-accounts: gcp:cloudfunctionsv2/function:Function 'br-collector' runs as the default compute service account: set serviceConfig.serviceAccountEmail."]],
  ["IAM_ALLOWED_PRINCIPALS default", set("br-lake-settings", (i) => (i.createTableDefaultPermissions = [{ principal: "IAM_ALLOWED_PRINCIPALS", permissions: ["ALL"] }])),
    ["lake-formation-no-iam-allowed-principals: aws:lakeformation/dataLakeSettings:DataLakeSettings 'br-lake-settings' grants createTableDefaultPermissions to IAM_ALLOWED_PRINCIPALS."]],
  // ---- audit
  ["Trail without S3 data events", set("br-trail", (i) => (i.advancedEventSelectors = [])),
    [
      "cloudtrail-data-events: aws:cloudtrail/trail:Trail 'br-trail' does not record S3 data events (eventCategory Data on AWS::S3::Object).",
      "cloudtrail-data-events: aws:s3/bucket:Bucket 'br-raw' is in an AWS account/region (provider 'br-aws') without a CloudTrail trail recording S3 data events.",
    ]],
  ["Data Access logs without DATA_READ", set("br-data-access-logs", (i) => (i.auditLogConfigs = [{ logType: "DATA_WRITE" }])),
    [
      "gcp-data-access-logs: GCP project 'acme-br' does not record Data Access logs for bigquery.googleapis.com (first resource: gcp:bigquery/dataset:Dataset 'br-clickstream').",
      "gcp-data-access-logs: GCP project 'acme-br' does not record Data Access logs for storage.googleapis.com (first resource: gcp:storage/bucket:Bucket 'br-staging-raw').",
      "gcp-data-access-logs: gcp:projects/iAMAuditConfig:IAMAuditConfig 'br-data-access-logs' for 'allServices' does not enable DATA_READ.",
    ]],
  ["Bucket without access logging", () => without(B(), "br-raw-logging"),
    ["s3-access-logging: aws:s3/bucket:Bucket 'br-raw' has no server access logging."]],
  // ---- protection, pseudonymisation
  ["Production bucket unprotected (protect false)", () => mutate(B(), "br-raw", (_i, r) => (r.protect = false), "aws:s3/bucket:Bucket"),
    ["prod-deletion-protection: aws:s3/bucket:Bucket 'br-raw' is a stateful 'prod' resource without deletion protection: set the protect resource option."]],
  ["Production GCS bucket force-destroyable", set("br-staging-raw", (i) => (i.forceDestroy = true)),
    ["prod-deletion-protection: gcp:storage/bucket:Bucket 'br-staging-raw' sets forceDestroy: a delete would wipe its contents in 'prod'."]],
  ["Short HMAC key", set("br-hmac-key", (i) => (i.length = 16)),
    ["pseudonymisation-key-strength: random:index/randomBytes:RandomBytes 'br-hmac-key' is 16 bytes; pseudonymisation keys need at least 32."]],
  ["Service account keys", () => [...B(), { urn: "urn:pulumi:test::lakehouse::gcp:serviceaccount/key:Key::ci-key", type: "gcp:serviceaccount/key:Key", name: "ci-key", custom: true, inputs: { serviceAccountId: "ci" }, outputs: {}, provider: { urn: "urn:pulumi:test::lakehouse::pulumi:providers:gcp::br-gcp", pkg: "gcp", name: "br-gcp", isDefault: false } }],
    ["no-long-lived-keys: gcp:serviceaccount/key:Key 'ci-key' creates a long-lived credential."]],
];

describe("policy pack: rules", function () {
  this.timeout(120_000);
  after(closeSession);

  it("passes the compliant baseline with no diagnostic at all", async () => {
    const r = await gate(baseline());
    expect(lines(r.diagnostics)).to.deep.equal([]);
    expect(r.passed).to.equal(true);
  });

  it("covers every resource type of the baseline with a specific rule", async () => {
    const r = await gate(baseline());
    expect(r.coverage.uncovered).to.deep.equal([]);
  });

  for (const [title, build, expected] of CASES) {
    it(`${title} -> ${expected.length === 0 ? "no violation" : expected.map((e) => e.split(":")[0]).join(", ")}`, async () => {
      const r = await gate(build());
      expect(lines(r.diagnostics)).to.deep.equal([...expected].sort());
      for (const d of r.diagnostics) {
        const rule = rules.find((x) => x.name === d.policyName);
        expect(d.enforcementLevel, d.policyName).to.equal(rule?.enforcementLevel);
      }
    });
  }

  it("every mandatory rule is broken by at least one mutation above", () => {
    const broken = new Set(CASES.flatMap(([, , e]) => e.map((x) => x.split(":")[0])));
    const untested = rules.filter((r) => r.enforcementLevel === "mandatory" && !broken.has(r.name)).map((r) => r.name);
    expect(untested).to.deep.equal([]);
  });
});

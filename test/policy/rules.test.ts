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
const set = (name: string, fn: (i: Record<string, unknown>) => void, type?: string) => () =>
  mutate(B(), name, fn, type);
const rec = (v: unknown): Record<string, unknown> => v as Record<string, unknown>;
const first = (v: unknown): Record<string, unknown> => (v as Record<string, unknown>[])[0];

const CASES: readonly Case[] = [
  // ---- encryption
  [
    "S3 SSE with AES256",
    set("br-raw-sse", (i) => (rec(first(i.rules).applyServerSideEncryptionByDefault).sseAlgorithm = "AES256")),
    [
      "s3-bucket-cmk-encryption: aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration 'br-raw-sse' uses sseAlgorithm 'AES256'; only 'aws:kms' or 'aws:kms:dsse' with a customer-managed key is allowed.",
    ],
  ],
  [
    "S3 SSE with the AWS-managed key",
    set("br-raw-sse", (i) => (rec(first(i.rules).applyServerSideEncryptionByDefault).kmsMasterKeyId = "alias/aws/s3")),
    [
      "s3-bucket-cmk-encryption: aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration 'br-raw-sse' uses the AWS-managed key 'alias/aws/s3' in rules[0].applyServerSideEncryptionByDefault.kmsMasterKeyId; use a customer-managed KMS key.",
    ],
  ],
  [
    "S3 bucket without SSE configuration",
    () => without(B(), "br-raw-sse"),
    [
      "s3-bucket-cmk-encryption: aws:s3/bucket:Bucket 'br-raw' has no BucketServerSideEncryptionConfiguration, so it is encrypted with the S3-managed key only.",
    ],
  ],
  [
    "KMS key without rotation",
    set("br-lake-key", (i) => (i.enableKeyRotation = false)),
    ["kms-key-rotation: aws:kms/key:Key 'br-lake-key' does not rotate: set enableKeyRotation to true."],
  ],
  [
    "Cloud KMS key rotating every 2 years",
    set("br-lake-cmek", (i) => (i.rotationPeriod = "63072000s")),
    [
      "kms-key-rotation: gcp:kms/cryptoKey:CryptoKey 'br-lake-cmek' rotates every '63072000s'; the maximum is 365 days.",
    ],
  ],
  [
    "BigQuery dataset without CMEK",
    set("br-clickstream", (i) => delete i.defaultEncryptionConfiguration),
    [
      // The table and the transfer relied on the dataset's default key: they lose it too.
      "bigquery-cmek: gcp:bigquery/dataTransferConfig:DataTransferConfig 'br-lake-copy' has no customer-managed key: set encryptionConfiguration.kmsKeyName or write into a dataset with defaultEncryptionConfiguration.",
      "bigquery-cmek: gcp:bigquery/dataset:Dataset 'br-clickstream' has no customer-managed key: set defaultEncryptionConfiguration.kmsKeyName.",
      "bigquery-cmek: gcp:bigquery/table:Table 'br-clickstream-events' has no customer-managed key: set encryptionConfiguration.kmsKeyName or create it in a dataset of this stack with defaultEncryptionConfiguration.",
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
    set("br-staging-raw", (i) => delete i.encryption),
    [
      // The UDF uploaded into it relied on the bucket's default key.
      "objects-cmek: gcp:storage/bucketObject:BucketObject 'br-udf' has no kmsKeyName and its bucket 'br-staging-raw-bkt' is not a bucket of this stack with encryption.defaultKmsKeyName.",
      "stores-cmek: gcp:storage/bucket:Bucket 'br-staging-raw' has no customer-managed key: set encryption.defaultKmsKeyName.",
    ],
  ],
  [
    "Secret Manager replica without CMEK",
    set("br-hmac-gcp", (i) => delete first(rec(rec(i.replication).userManaged).replicas).customerManagedEncryption),
    [
      "stores-cmek: gcp:secretmanager/secret:Secret 'br-hmac-gcp' has no customer-managed key: set customerManagedEncryption.kmsKeyName on replica 0.",
    ],
  ],
  [
    "Secrets Manager secret without CMK",
    set("br-hmac", (i) => delete i.kmsKeyId),
    [
      "stores-cmek: aws:secretsmanager/secret:Secret 'br-hmac' has no customer-managed key: set kmsKeyId (without it Secrets Manager uses aws/secretsmanager).",
    ],
  ],
  [
    "Dataflow job without CMEK",
    set("br-clickstream-to-bq", (i) => delete i.kmsKeyName),
    [
      "stores-cmek: gcp:dataflow/flexTemplateJob:FlexTemplateJob 'br-clickstream-to-bq' has no customer-managed key: set kmsKeyName (Dataflow state and shuffle data).",
    ],
  ],
  [
    "Vertex endpoint without CMEK",
    set("br-offers-endpoint", (i) => delete i.encryptionSpec),
    [
      "stores-cmek: gcp:vertex/aiEndpoint:AiEndpoint 'br-offers-endpoint' has no customer-managed key: set encryptionSpec.kmsKeyName.",
    ],
  ],
  [
    "Workbench boot disk with Google-managed key",
    set("br-notebook", (i) => (rec(rec(i.gceSetup).bootDisk).diskEncryption = "GMEK")),
    [
      "stores-cmek: gcp:workbench/instance:Instance 'br-notebook' bootDisk uses 'GMEK' encryption; set gceSetup.bootDisk.diskEncryption to 'CMEK' with a kmsKey.",
    ],
  ],
  [
    "Log group without CMK",
    set("br-merge-logs", (i) => delete i.kmsKeyId),
    [
      "stores-cmek: aws:cloudwatch/logGroup:LogGroup 'br-merge-logs' has no customer-managed key: set kmsKeyId (log events can carry personal data).",
    ],
  ],
  [
    "SNS topic with the AWS-managed key",
    set("br-alerts", (i) => (i.kmsMasterKeyId = "alias/aws/sns")),
    [
      "stores-cmek: aws:sns/topic:Topic 'br-alerts' uses the AWS-managed key 'alias/aws/sns' in kmsMasterKeyId; use a customer-managed KMS key.",
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
      "br-catalog-encryption",
      (i) => (rec(rec(i.dataCatalogEncryptionSettings).encryptionAtRest).catalogEncryptionMode = "DISABLED"),
    ),
    [
      "glue-catalog-encryption: aws:glue/dataCatalogEncryptionSettings:DataCatalogEncryptionSettings 'br-catalog-encryption' leaves the catalog unencrypted (catalogEncryptionMode 'DISABLED'); use 'SSE-KMS'.",
    ],
  ],
  [
    "Glue job without security configuration",
    set("br-merge", (i) => delete i.securityConfiguration),
    [
      "analytics-engines-cmk: aws:glue/job:Job 'br-merge' has no securityConfiguration: its S3 output, logs and bookmarks are not encrypted with a customer-managed key.",
    ],
  ],
  [
    "Athena results with SSE-S3",
    set(
      "br-analysts",
      (i) => (rec(rec(rec(i.configuration).resultConfiguration).encryptionConfiguration).encryptionOption = "SSE_S3"),
    ),
    [
      "analytics-engines-cmk: aws:athena/workgroup:Workgroup 'br-analysts' writes query results with encryption 'SSE_S3'; use 'SSE_KMS' or 'CSE_KMS' with a kmsKeyArn.",
    ],
  ],
  [
    "Secret version in an undeclared secret",
    () =>
      without(
        mutate(B(), "br-hmac-v1", (_i, r) => (r.propertyDependencies = {})),
        "br-hmac",
      ),
    [
      "secret-versions-in-managed-secrets: aws:secretsmanager/secretVersion:SecretVersion 'br-hmac-v1' is stored in a secret that is not declared in this stack.",
    ],
  ],
  // ---- transit
  [
    "Bucket policy without the TLS deny",
    set("br-raw-policy", (i) => (i.policy = JSON.stringify({ Statement: [] }))),
    [
      "s3-tls-only: aws:s3/bucketPolicy:BucketPolicy 'br-raw-policy' does not deny requests without TLS (no Deny on aws:SecureTransport = false).",
    ],
  ],
  [
    "DMS endpoint without TLS",
    set("br-orders-source", (i) => (i.sslMode = "none")),
    [
      "tls-in-transit: aws:dms/endpoint:Endpoint 'br-orders-source' connects to mysql with sslMode 'none'; use 'require', 'verify-ca' or 'verify-full'.",
    ],
  ],
  [
    "MSK accepting plaintext",
    set("br-kafka", (i) => (rec(rec(i.encryptionInfo).encryptionInTransit).clientBroker = "TLS_PLAINTEXT")),
    [
      "tls-in-transit: aws:msk/cluster:Cluster 'br-kafka' allows 'TLS_PLAINTEXT' between clients and brokers; set encryptionInTransit.clientBroker to 'TLS'.",
    ],
  ],
  // ---- residency
  [
    "S3 bucket overriding its region",
    set("br-raw", (i) => (i.region = "us-east-1"), "aws:s3/bucket:Bucket"),
    [
      // The DMS target and the Storage Transfer job that use the bucket now move data out of Brazil.
      "replication-residency: aws:dms/s3Endpoint:S3Endpoint 'br-orders-target' writes CDC files to aws:s3/bucket:Bucket 'br-raw' in 'us-east-1' (jurisdiction 'br'), outside its own jurisdiction 'br'.",
      "replication-residency: gcp:storage/transferJob:TransferJob 'br-feed-transfer' copies from aws:s3/bucket:Bucket 'br-raw' in 'us-east-1' (jurisdiction 'br'), outside its own jurisdiction 'br'.",
      "resource-residency: aws:s3/bucket:Bucket 'br-raw' is in 'us-east-1' (region), outside jurisdiction 'br' (LGPD); allowed AWS regions: sa-east-1.",
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
    set("br-clickstream-to-bq", (i) => (i.region = "southamerica-west1")),
    [
      "resource-residency: gcp:dataflow/flexTemplateJob:FlexTemplateJob 'br-clickstream-to-bq' is in 'southamerica-west1' (region), outside jurisdiction 'br' (LGPD); allowed GCP locations: southamerica-east1.",
    ],
  ],
  [
    "Secret Manager with automatic replication",
    set("br-hmac-gcp", (i) => (i.replication = { auto: { customerManagedEncryption: { kmsKeyName: "k" } } })),
    [
      "resource-residency: gcp:secretmanager/secret:Secret 'br-hmac-gcp' is in 'global (automatic replication)' (replication.auto), outside jurisdiction 'br' (LGPD); allowed GCP locations: southamerica-east1.",
    ],
  ],
  [
    "S3 replication to an undeclared bucket",
    set("br-raw-replication", (i) => (rec(first(i.rules).destination).bucket = "arn:aws:s3:::somewhere-else")),
    [
      "replication-residency: aws:s3/bucketReplicationConfig:BucketReplicationConfig 'br-raw-replication' replicates to 'arn:aws:s3:::somewhere-else', a bucket not declared in this stack, so its region cannot be verified.",
    ],
  ],
  [
    "Org policy allowing the US",
    set(
      "br-resource-locations",
      (i) =>
        (first(rec(i.spec).rules).values = { allowedValues: ["in:southamerica-east1-locations", "in:us-locations"] }),
    ),
    [
      "gcp-resource-locations-guardrail: gcp:orgpolicy/policy:Policy 'br-resource-locations' allows 'in:us-locations', outside jurisdiction 'br' (LGPD); allowed GCP locations: southamerica-east1.",
    ],
  ],
  [
    "Resource on a default provider (no jurisdiction anywhere)",
    () => mutate(B(), "br-hmac-gcp", (_i, r) => (r.provider = undefined)),
    [
      "resource-residency: gcp:secretmanager/secret:Secret 'br-hmac-gcp' has no 'jurisdiction' or 'cell' tag/label naming a configured jurisdiction (br, eu) on the resource or its provider, so its residency cannot be checked.",
    ],
  ],
  // ---- retention
  [
    "S3 raw kept 2 years",
    set("br-raw-lifecycle", (i) => (first(i.rules).expiration = { days: 730 })),
    [
      "s3-retention: aws:s3/bucket:Bucket 'br-raw' keeps 'raw' data 730 days (lifecycle expiration.days); the LGPD ceiling for 'raw' is 400 days.",
    ],
  ],
  [
    "S3 noncurrent versions beyond the erasure SLA",
    set("br-raw-lifecycle", (i) => (first(i.rules).noncurrentVersionExpiration = { noncurrentDays: 20 })),
    ["s3-retention: aws:s3/bucket:Bucket 'br-raw' keeps noncurrent versions 20 days; the LGPD erasure SLA is 15 days."],
  ],
  [
    "Audit bucket locked too briefly",
    set("br-audit-lock", (i) => (rec(rec(i.rule).defaultRetention).days = 90)),
    [
      "s3-retention: aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration 'br-audit-lock' locks audit logs for 90 days; the LGPD minimum is 183 days.",
    ],
  ],
  [
    "GCS bucket without a Delete rule",
    set("br-staging-raw", (i) => (i.lifecycleRules = [])),
    [
      "gcs-retention: gcp:storage/bucket:Bucket 'br-staging-raw' keeps 'raw' data forever: set a Delete lifecycle rule's condition.age (at most 400 days in LGPD).",
    ],
  ],
  [
    "BigQuery time travel beyond the SLA",
    set("br-clickstream", (i) => (i.maxTimeTravelHours = "216")),
    [
      "bigquery-retention: gcp:bigquery/dataset:Dataset 'br-clickstream' has maxTimeTravelHours 216; allowed 48 to 168.",
      "bigquery-retention: gcp:bigquery/dataset:Dataset 'br-clickstream' keeps erased rows 16 days (time travel 9 + fail-safe 7); the LGPD erasure SLA is 15 days.",
    ],
  ],
  [
    "BigQuery dataset without expiration",
    set("br-clickstream", (i) => delete i.defaultPartitionExpirationMs),
    [
      "bigquery-retention: gcp:bigquery/dataset:Dataset 'br-clickstream' keeps 'clickstream' data forever: set defaultPartitionExpirationMs or defaultTableExpirationMs (at most 395 days in LGPD).",
    ],
  ],
  [
    "Log group kept forever",
    set("br-merge-logs", (i) => delete i.retentionInDays),
    [
      "log-retention: aws:cloudwatch/logGroup:LogGroup 'br-merge-logs' keeps 'logs' data forever: set retentionInDays (at most 400 days in LGPD).",
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
      "br-orders-retention",
      (i) =>
        (rec(rec(rec(i.configuration).retentionConfiguration).icebergConfiguration).snapshotRetentionPeriodInDays = 30),
    ),
    [
      "iceberg-snapshot-expiry: aws:glue/catalogTableOptimizer:CatalogTableOptimizer 'br-orders-retention' keeps snapshots 30 days (+1 between runs); the LGPD erasure SLA is 15 days.",
    ],
  ],
  [
    "Iceberg table without snapshot expiry",
    () => without(B(), "br-orders-retention"),
    [
      "iceberg-snapshot-expiry: aws:glue/catalogTable:CatalogTable 'br-orders' is an Iceberg table without a 'retention' CatalogTableOptimizer: erased rows stay in old snapshots.",
    ],
  ],
  // ---- public access
  [
    "Public access block partly off",
    set("br-raw-pab", (i) => (i.restrictPublicBuckets = false)),
    [
      "s3-no-public-access: aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock 'br-raw-pab' leaves restrictPublicBuckets off.",
    ],
  ],
  [
    "GCS public access prevention inherited",
    set("br-staging-raw", (i) => delete i.publicAccessPrevention),
    [
      "no-public-network-exposure: gcp:storage/bucket:Bucket 'br-staging-raw' has publicAccessPrevention 'inherited'; set it to 'enforced'.",
    ],
  ],
  [
    "Dataset role for allUsers",
    set("br-analysts-jobuser", (i) => (i.member = "allUsers")),
    [
      "no-public-principals: gcp:projects/iAMMember:IAMMember 'br-analysts-jobuser' grants 'roles/bigquery.jobUser' to 'allUsers'.",
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
    "Workbench with a public IP",
    set("br-notebook", (i) => (rec(i.gceSetup).disablePublicIp = false)),
    [
      "no-public-network-exposure: gcp:workbench/instance:Instance 'br-notebook' gets a public IP: set gceSetup.disablePublicIp to true.",
    ],
  ],
  [
    "Dataflow workers with public IPs",
    set("br-clickstream-to-bq", (i) => (i.ipConfiguration = "WORKER_IP_PUBLIC")),
    [
      "no-public-network-exposure: gcp:dataflow/flexTemplateJob:FlexTemplateJob 'br-clickstream-to-bq' gives workers public IPs (ipConfiguration 'WORKER_IP_PUBLIC'); set 'WORKER_IP_PRIVATE'.",
    ],
  ],
  [
    "Security group open to the internet",
    set("br-dms-sg", (i) => (first(i.ingress).cidrBlocks = ["0.0.0.0/0"])),
    ["no-public-network-exposure: aws:ec2/securityGroup:SecurityGroup 'br-dms-sg' ingress 0 is open to the internet."],
  ],
  // ---- least privilege
  [
    "Primitive editor role",
    set("br-analysts-jobuser", (i) => (i.role = "roles/editor")),
    [
      "no-primitive-roles: gcp:projects/iAMMember:IAMMember 'br-analysts-jobuser' grants the primitive role 'roles/editor'.",
    ],
  ],
  [
    "Wildcard S3 actions",
    set(
      "br-glue-role-s3",
      (i) => (i.policy = JSON.stringify({ Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "*" }] })),
    ),
    ["no-wildcard-actions: aws:iam/rolePolicy:RolePolicy 'br-glue-role-s3' policy statement 0 allows 's3:*'."],
  ],
  [
    "AdministratorAccess attached",
    set("br-glue-role-read", (i) => (i.policyArn = "arn:aws:iam::aws:policy/AdministratorAccess")),
    [
      "no-wildcard-actions: aws:iam/rolePolicyAttachment:RolePolicyAttachment 'br-glue-role-read' attaches the broad managed policy 'arn:aws:iam::aws:policy/AdministratorAccess'.",
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
    "IAM_ALLOWED_PRINCIPALS default",
    set(
      "br-lake-settings",
      (i) => (i.createTableDefaultPermissions = [{ principal: "IAM_ALLOWED_PRINCIPALS", permissions: ["ALL"] }]),
    ),
    [
      "lake-formation-no-iam-allowed-principals: aws:lakeformation/dataLakeSettings:DataLakeSettings 'br-lake-settings' grants createTableDefaultPermissions to IAM_ALLOWED_PRINCIPALS.",
    ],
  ],
  // ---- audit
  [
    "Trail without S3 data events",
    set("br-trail", (i) => (i.advancedEventSelectors = [])),
    [
      "cloudtrail-data-events: aws:cloudtrail/trail:Trail 'br-trail' does not record S3 data events (eventCategory Data on AWS::S3::Object).",
      "cloudtrail-data-events: aws:s3/bucket:Bucket 'br-raw' is in an AWS account/region (provider 'br-aws') without a CloudTrail trail recording S3 data events.",
    ],
  ],
  [
    "Data Access logs without DATA_READ",
    set("br-data-access-logs", (i) => (i.auditLogConfigs = [{ logType: "DATA_WRITE" }])),
    [
      "gcp-data-access-logs: GCP project 'acme-br' does not record Data Access logs for bigquery.googleapis.com (first resource: gcp:bigquery/dataset:Dataset 'br-clickstream').",
      "gcp-data-access-logs: GCP project 'acme-br' does not record Data Access logs for storage.googleapis.com (first resource: gcp:storage/bucket:Bucket 'br-staging-raw').",
      "gcp-data-access-logs: gcp:projects/iAMAuditConfig:IAMAuditConfig 'br-data-access-logs' for 'allServices' does not enable DATA_READ.",
    ],
  ],
  [
    "Bucket without access logging",
    () => without(B(), "br-raw-logging"),
    ["s3-access-logging: aws:s3/bucket:Bucket 'br-raw' has no server access logging."],
  ],
  // ---- networks (private routing, flow logs, endpoints, GCP networks)
  [
    "Route table with a default route to an internet gateway",
    set("br-private-rt", (i) => (i.routes = [{ cidrBlock: "0.0.0.0/0", gatewayId: "igw-0123" }])),
    [
      "private-network-routing: aws:dms/replicationSubnetGroup:ReplicationSubnetGroup 'br-dms-subnets' uses aws:ec2/subnet:Subnet 'br-private-a', whose aws:ec2/routeTable:RouteTable 'br-private-rt' routes to the internet.",
      "private-network-routing: aws:ec2/routeTable:RouteTable 'br-private-rt' routes to the internet: 0.0.0.0/0 -> internet gateway 'igw-0123'.",
      "private-network-routing: aws:ec2/routeTableAssociation:RouteTableAssociation 'br-private-a-rt' puts a subnet behind aws:ec2/routeTable:RouteTable 'br-private-rt', which routes to the internet.",
    ],
  ],
  [
    "A separate route to a NAT gateway",
    () => [
      ...B(),
      {
        urn: "urn:pulumi:test::lakehouse::aws:ec2/route:Route::br-nat-route",
        type: "aws:ec2/route:Route",
        name: "br-nat-route",
        custom: true,
        inputs: { routeTableId: "rtb-private", destinationCidrBlock: "0.0.0.0/0", natGatewayId: "nat-0456" },
        outputs: {},
        provider: {
          urn: "urn:pulumi:test::lakehouse::pulumi:providers:aws::br-aws",
          pkg: "aws",
          name: "br-aws",
          isDefault: false,
        },
      },
    ],
    [
      "private-network-routing: aws:dms/replicationSubnetGroup:ReplicationSubnetGroup 'br-dms-subnets' uses aws:ec2/subnet:Subnet 'br-private-a', whose aws:ec2/routeTable:RouteTable 'br-private-rt' routes to the internet.",
      "private-network-routing: aws:ec2/routeTable:RouteTable 'br-private-rt' routes to the internet: 0.0.0.0/0 -> NAT gateway 'nat-0456'.",
      "private-network-routing: aws:ec2/routeTableAssociation:RouteTableAssociation 'br-private-a-rt' puts a subnet behind aws:ec2/routeTable:RouteTable 'br-private-rt', which routes to the internet.",
    ],
  ],
  [
    "Subnet associated with a route table declared elsewhere",
    () => without(B(), "br-private-rt"),
    [
      "private-network-routing: aws:ec2/routeTableAssociation:RouteTableAssociation 'br-private-a-rt' associates route table 'rtb-private', which is not declared in this stack, so its routes cannot be verified.",
    ],
  ],
  [
    "DMS subnet group with a subnet declared elsewhere",
    set("br-dms-subnets", (i) => (i.subnetIds = ["subnet-a", "subnet-elsewhere"])),
    [
      "private-network-routing: aws:dms/replicationSubnetGroup:ReplicationSubnetGroup 'br-dms-subnets' uses subnets that are not declared in this stack, so their routes and public IP settings cannot be verified.",
    ],
  ],
  [
    "Flow log of rejected traffic only",
    set("br-vpc-flow-logs", (i) => (i.trafficType = "REJECT")),
    [
      "network-flow-logs: aws:ec2/flowLog:FlowLog 'br-vpc-flow-logs' records 'REJECT' traffic only; set trafficType to 'ALL' (accepted connections are the ones that move data).",
      "network-flow-logs: aws:ec2/vpc:Vpc 'br-ingestion-vpc' has no flow log recording ALL traffic.",
    ],
  ],
  [
    "VPC without flow logs",
    () => without(B(), "br-vpc-flow-logs"),
    ["network-flow-logs: aws:ec2/vpc:Vpc 'br-ingestion-vpc' has no flow log."],
  ],
  [
    "Flow logs to a log group declared elsewhere",
    () => without(B(), "br-flow-logs"),
    [
      "network-flow-logs: aws:ec2/flowLog:FlowLog 'br-vpc-flow-logs' delivers to 'arn:aws:logs:sa-east-1:222222222222:log-group:/br/flow-logs', which is not a log group or bucket declared in this stack, so its encryption and retention cannot be verified.",
    ],
  ],
  [
    "GCP subnetwork without flow logs",
    set("br-subnet", (i) => delete i.logConfig),
    ["network-flow-logs: gcp:compute/subnetwork:Subnetwork 'br-subnet' has no flow logs: set logConfig."],
  ],
  [
    "Interface endpoint without private DNS",
    set("br-kms-endpoint", (i) => (i.privateDnsEnabled = false)),
    [
      "vpc-endpoints-private: aws:ec2/vpcEndpoint:VpcEndpoint 'br-kms-endpoint' does not enable private DNS: clients resolve 'com.amazonaws.sa-east-1.kms' to its public endpoint; set privateDnsEnabled to true.",
    ],
  ],
  [
    "Endpoint policy allowing everything",
    set(
      "br-s3-endpoint",
      (i) =>
        (i.policy = JSON.stringify({ Statement: [{ Effect: "Allow", Principal: "*", Action: "*", Resource: "*" }] })),
    ),
    [
      "vpc-endpoints-private: aws:ec2/vpcEndpoint:VpcEndpoint 'br-s3-endpoint' policy statement 0 allows every action on every resource to every principal.",
    ],
  ],
  [
    "Endpoint to another region's service",
    set("br-kms-endpoint", (i) => (i.serviceName = "com.amazonaws.us-east-1.kms")),
    [
      "vpc-endpoints-private: aws:ec2/vpcEndpoint:VpcEndpoint 'br-kms-endpoint' connects to 'com.amazonaws.us-east-1.kms' in 'us-east-1', not the VPC's region 'sa-east-1'.",
    ],
  ],
  [
    "Auto-mode GCP network",
    set("br-network", (i) => (i.autoCreateSubnetworks = true)),
    [
      "gcp-network-private-regional: gcp:compute/network:Network 'br-network' is an auto-mode network: it creates a subnet in every region; set autoCreateSubnetworks to false.",
    ],
  ],
  [
    "GCP network with the provider default (auto mode)",
    set("br-network", (i) => delete i.autoCreateSubnetworks),
    [
      "gcp-network-private-regional: gcp:compute/network:Network 'br-network' is an auto-mode network: it creates a subnet in every region; set autoCreateSubnetworks to false.",
    ],
  ],
  [
    "GCP subnetwork without Private Google Access",
    set("br-subnet", (i) => (i.privateIpGoogleAccess = false)),
    [
      "gcp-network-private-regional: gcp:compute/subnetwork:Subnetwork 'br-subnet' has no Private Google Access: set privateIpGoogleAccess to true.",
    ],
  ],
  [
    "GCP subnetwork outside the jurisdiction",
    set("br-subnet", (i) => (i.region = "us-central1")),
    [
      "resource-residency: gcp:compute/subnetwork:Subnetwork 'br-subnet' is in 'us-central1' (region), outside jurisdiction 'br' (LGPD); allowed GCP locations: southamerica-east1.",
    ],
  ],
  [
    "Policy tag taxonomy in the US multi-region",
    set("br-taxonomy", (i) => (i.region = "us")),
    [
      "resource-residency: gcp:datacatalog/taxonomy:Taxonomy 'br-taxonomy' is in 'us' (region), outside jurisdiction 'br' (LGPD); allowed GCP locations: southamerica-east1.",
    ],
  ],
  // ---- DMS: CA trust, S3 target encryption and bucket
  [
    "DMS certificate that is not a PEM certificate",
    set("br-orders-ca", (i) => (i.certificatePem = "not a certificate")),
    ["dms-tls-trust: aws:dms/certificate:Certificate 'br-orders-ca' certificatePem is not a PEM-encoded certificate."],
  ],
  [
    "DMS endpoint verifying without a CA",
    set("br-orders-source", (i) => delete i.certificateArn),
    [
      "dms-tls-trust: aws:dms/endpoint:Endpoint 'br-orders-source' uses sslMode 'verify-full' without certificateArn: it has no CA to verify the source against.",
    ],
  ],
  [
    "DMS endpoint trusting a CA declared elsewhere",
    () => without(B(), "br-orders-ca"),
    [
      "dms-tls-trust: aws:dms/endpoint:Endpoint 'br-orders-source' verifies the source against 'arn:aws:dms:sa-east-1:222222222222:cert:ORDERSCA', a certificate not declared in this stack.",
    ],
  ],
  [
    "DMS S3 target with SSE-S3",
    set("br-orders-target", (i) => (i.encryptionMode = "SSE_S3")),
    [
      "stores-cmek: aws:dms/s3Endpoint:S3Endpoint 'br-orders-target' writes with encryptionMode 'SSE_S3'; set it to 'SSE_KMS' with serverSideEncryptionKmsKeyId.",
    ],
  ],
  [
    "DMS S3 target with SSE-KMS and no key",
    set("br-orders-target", (i) => delete i.serverSideEncryptionKmsKeyId),
    [
      "stores-cmek: aws:dms/s3Endpoint:S3Endpoint 'br-orders-target' has no customer-managed key: set serverSideEncryptionKmsKeyId (without it SSE_KMS uses aws/s3).",
    ],
  ],
  [
    "DMS S3 target with the AWS-managed key",
    set("br-orders-target", (i) => (i.serverSideEncryptionKmsKeyId = "alias/aws/s3")),
    [
      "stores-cmek: aws:dms/s3Endpoint:S3Endpoint 'br-orders-target' uses the AWS-managed key 'alias/aws/s3' in serverSideEncryptionKmsKeyId; use a customer-managed KMS key.",
    ],
  ],
  [
    "DMS S3 target writing to a bucket declared elsewhere",
    set("br-orders-target", (i) => (i.bucketName = "someone-elses-bucket")),
    [
      "replication-residency: aws:dms/s3Endpoint:S3Endpoint 'br-orders-target' writes CDC files to 'someone-elses-bucket', a bucket not declared in this stack, so its location cannot be verified.",
    ],
  ],
  [
    "DMS S3 target of the eu cell writing to the br bucket",
    set("br-orders-target", (i) => (i.tags = { cell: "eu", jurisdiction: "eu" })),
    [
      "replication-residency: aws:dms/s3Endpoint:S3Endpoint 'br-orders-target' writes CDC files to aws:s3/bucket:Bucket 'br-raw' in 'sa-east-1' (jurisdiction 'br'), outside its own jurisdiction 'eu'.",
      "resource-residency: aws:dms/s3Endpoint:S3Endpoint 'br-orders-target' is in 'sa-east-1' (provider region), outside jurisdiction 'eu' (GDPR); allowed AWS regions: eu-west-1, eu-west-3, eu-central-1, eu-north-1, eu-south-1, eu-south-2.",
    ],
  ],
  // ---- Storage Transfer residency
  [
    "Transfer job into a bucket declared elsewhere",
    set("br-feed-transfer", (i) => (rec(rec(i.transferSpec).gcsDataSink).bucketName = "us-archive")),
    [
      "replication-residency: gcp:storage/transferJob:TransferJob 'br-feed-transfer' copies to 'us-archive', a bucket not declared in this stack, so its location cannot be verified.",
    ],
  ],
  [
    "Transfer job from an HTTP list",
    set("br-feed-transfer", (i) => {
      const spec = rec(i.transferSpec);
      delete spec.awsS3DataSource;
      spec.httpDataSource = { listUrl: "https://example.com/list.tsv" };
    }),
    [
      "replication-residency: gcp:storage/transferJob:TransferJob 'br-feed-transfer' uses transferSpec.httpDataSource, whose location this stack cannot verify; transfer only between buckets of this stack.",
    ],
  ],
  [
    "Transfer job into a bucket outside the jurisdiction",
    () =>
      mutate(B(), "br-staging-raw", (i) => {
        i.location = "US";
      }),
    [
      "replication-residency: gcp:storage/transferJob:TransferJob 'br-feed-transfer' copies to gcp:storage/bucket:Bucket 'br-staging-raw' in 'US' (jurisdiction 'br'), outside its own jurisdiction 'br'.",
      "resource-residency: gcp:storage/bucket:Bucket 'br-staging-raw' is in 'US' (location), outside jurisdiction 'br' (LGPD); allowed GCP locations: southamerica-east1.",
    ],
  ],
  // ---- alerts
  [
    "Alarm without actions",
    set("br-orders-latency", (i) => (i.alarmActions = [])),
    [
      "alerts-routed-in-jurisdiction: aws:cloudwatch/metricAlarm:MetricAlarm 'br-orders-latency' has no alarmActions: it notifies nobody.",
    ],
  ],
  [
    "Alarm with actions disabled",
    set("br-orders-latency", (i) => (i.actionsEnabled = false)),
    [
      "alerts-routed-in-jurisdiction: aws:cloudwatch/metricAlarm:MetricAlarm 'br-orders-latency' has actionsEnabled false: it notifies nobody.",
    ],
  ],
  [
    "Event target in another account and region",
    () =>
      mutate(B(), "br-orders-events-target", (i, r) => {
        i.arn = "arn:aws:sns:us-east-1:999999999999:elsewhere";
        r.propertyDependencies = { rule: r.propertyDependencies?.rule ?? [] };
      }),
    [
      "alerts-routed-in-jurisdiction: aws:cloudwatch/eventTarget:EventTarget 'br-orders-events-target' notifies 'arn:aws:sns:us-east-1:999999999999:elsewhere', which is not declared in this stack.",
    ],
  ],
  [
    "Event rule without a target",
    () => without(B(), "br-orders-events-target"),
    [
      "alerts-routed-in-jurisdiction: aws:cloudwatch/eventRule:EventRule 'br-orders-events' has no target in this stack: the events it matches reach nobody.",
    ],
  ],
  [
    "Event rule disabled",
    set("br-orders-events", (i) => (i.state = "DISABLED")),
    ["alerts-routed-in-jurisdiction: aws:cloudwatch/eventRule:EventRule 'br-orders-events' is disabled."],
  ],
  [
    "Alert policy disabled",
    set("br-dead-letters", (i) => (i.enabled = false)),
    ["alerts-routed-in-jurisdiction: gcp:monitoring/alertPolicy:AlertPolicy 'br-dead-letters' is disabled."],
  ],
  [
    "Alert policy without conditions",
    set("br-dead-letters", (i) => (i.conditions = [])),
    [
      "alerts-routed-in-jurisdiction: gcp:monitoring/alertPolicy:AlertPolicy 'br-dead-letters' has no condition: it never opens an incident.",
    ],
  ],
  [
    "Alert policy notifying a channel declared elsewhere",
    () => without(B(), "br-oncall"),
    [
      "alerts-routed-in-jurisdiction: gcp:monitoring/alertPolicy:AlertPolicy 'br-dead-letters' notifies channel 'projects/acme-br/notificationChannels/1', which is not declared in this stack.",
    ],
  ],
  [
    "Webhook channel over plain HTTP",
    set("br-oncall", (i) => {
      i.type = "webhook_tokenauth";
      i.labels = { url: "http://hooks.example.com/incident" };
    }),
    [
      "alerts-routed-in-jurisdiction: gcp:monitoring/notificationChannel:NotificationChannel 'br-oncall' posts incidents to 'http://hooks.example.com/incident' without TLS: use an https URL.",
    ],
  ],
  // ---- erasure propagation (Glue triggers)
  [
    "Monthly merge trigger (longer than the br erasure SLA)",
    set("br-merge-schedule", (i) => (i.schedule = "cron(0 2 1 * ? *)")),
    [
      "erasure-propagation-scheduled: aws:glue/trigger:Trigger 'br-merge-schedule' can leave 31 days between runs ('cron(0 2 1 * ? *)'); the LGPD erasure SLA is 15 days.",
    ],
  ],
  [
    "Merge trigger created deactivated",
    set("br-merge-schedule", (i) => (i.startOnCreation = false)),
    [
      "erasure-propagation-scheduled: aws:glue/trigger:Trigger 'br-merge-schedule' is created deactivated: set startOnCreation to true.",
    ],
  ],
  [
    "Merge trigger disabled",
    set("br-merge-schedule", (i) => (i.enabled = false)),
    ["erasure-propagation-scheduled: aws:glue/trigger:Trigger 'br-merge-schedule' is disabled: the jobs it runs stop."],
  ],
  [
    "Merge trigger running a job declared elsewhere",
    () => without(B(), "br-merge"),
    [
      "erasure-propagation-scheduled: aws:glue/trigger:Trigger 'br-merge-schedule' runs job 'br-merge', which is not declared in this stack, so its encryption and role cannot be verified.",
    ],
  ],
  // ---- uploaded objects
  [
    "S3 object overriding the bucket key with SSE-S3",
    set("br-merge-script", (i) => (i.serverSideEncryption = "AES256")),
    [
      "objects-cmek: aws:s3/bucketObjectv2:BucketObjectv2 'br-merge-script' is encrypted with 'AES256'; use 'aws:kms' with a customer-managed kmsKeyId.",
    ],
  ],
  [
    "S3 object with aws:kms and no key",
    set("br-merge-script", (i) => delete i.kmsKeyId),
    [
      "objects-cmek: aws:s3/bucketObjectv2:BucketObjectv2 'br-merge-script' has no customer-managed key: 'aws:kms' without kmsKeyId uses the AWS-managed key aws/s3.",
    ],
  ],
  [
    "S3 object relying on the bucket default (compliant)",
    set("br-merge-script", (i) => {
      delete i.serverSideEncryption;
      delete i.kmsKeyId;
    }),
    [],
  ],
  [
    "S3 object relying on the default of a bucket declared elsewhere",
    () =>
      mutate(B(), "br-merge-script", (i, r) => {
        delete i.serverSideEncryption;
        delete i.kmsKeyId;
        i.bucket = "elsewhere";
        r.propertyDependencies = {};
      }),
    [
      "objects-cmek: aws:s3/bucketObjectv2:BucketObjectv2 'br-merge-script' states no encryption and its bucket 'elsewhere' is not a bucket of this stack with a customer-managed default key.",
    ],
  ],
  [
    "GCS object in a bucket declared elsewhere",
    () =>
      mutate(B(), "br-udf", (i, r) => {
        i.bucket = "elsewhere";
        r.propertyDependencies = {};
      }),
    [
      "objects-cmek: gcp:storage/bucketObject:BucketObject 'br-udf' has no kmsKeyName and its bucket 'elsewhere' is not a bucket of this stack with encryption.defaultKmsKeyName.",
    ],
  ],
  [
    "GCS object with a customer-supplied key",
    set("br-udf", (i) => (i.customerEncryption = { encryptionKey: "x" })),
    [
      "objects-cmek: gcp:storage/bucketObject:BucketObject 'br-udf' uses a customer-supplied key, which Cloud KMS neither rotates nor audits; use kmsKeyName.",
    ],
  ],
  [
    "Schedule without a customer-managed key",
    set("br-export-schedule", (i) => delete i.kmsKeyArn),
    [
      "stores-cmek: aws:scheduler/schedule:Schedule 'br-export-schedule' has no customer-managed key: set kmsKeyArn (the schedule stores its target input).",
    ],
  ],
  [
    "Schedule with the AWS-managed key",
    set("br-export-schedule", (i) => (i.kmsKeyArn = "arn:aws:kms:sa-east-1:222222222222:alias/aws/scheduler")),
    [
      "stores-cmek: aws:scheduler/schedule:Schedule 'br-export-schedule' uses the AWS-managed key 'arn:aws:kms:sa-east-1:222222222222:alias/aws/scheduler' in kmsKeyArn; use a customer-managed KMS key.",
    ],
  ],
  // ---- column access control, custom roles, service agents, break-glass
  [
    "Taxonomy without fine-grained access control",
    set("br-taxonomy", (i) => (i.activatedPolicyTypes = [])),
    [
      "column-access-control-enforced: gcp:datacatalog/policyTag:PolicyTag 'br-tag-pseudonym' belongs to gcp:datacatalog/taxonomy:Taxonomy 'br-taxonomy', which does not enforce fine-grained access control.",
      "column-access-control-enforced: gcp:datacatalog/taxonomy:Taxonomy 'br-taxonomy' does not activate FINE_GRAINED_ACCESS_CONTROL: its policy tags restrict nothing.",
    ],
  ],
  [
    "Policy tag in a taxonomy declared elsewhere",
    () => without(B(), "br-taxonomy"),
    [
      "column-access-control-enforced: gcp:datacatalog/policyTag:PolicyTag 'br-tag-pseudonym' belongs to taxonomy 'projects/acme-br/locations/southamerica-east1/taxonomies/1', which is not declared in this stack, so its enforcement cannot be verified.",
    ],
  ],
  [
    "Custom role that can change IAM policies",
    set(
      "br-predict-role",
      (i) => (i.permissions = ["aiplatform.endpoints.predict", "resourcemanager.projects.setIamPolicy"]),
    ),
    [
      "custom-roles-narrow: gcp:projects/iAMCustomRole:IAMCustomRole 'br-predict-role' has 'resourcemanager.projects.setIamPolicy', which lets the holder change IAM policies or act as another identity.",
    ],
  ],
  [
    "Custom role with a wildcard permission",
    set("br-predict-role", (i) => (i.permissions = ["aiplatform.*"])),
    [
      "custom-roles-narrow: gcp:projects/iAMCustomRole:IAMCustomRole 'br-predict-role' has the wildcard permission 'aiplatform.*'.",
    ],
  ],
  [
    "Custom role that can impersonate service accounts",
    set("br-predict-role", (i) => (i.permissions = ["iam.serviceAccounts.actAs"])),
    [
      "custom-roles-narrow: gcp:projects/iAMCustomRole:IAMCustomRole 'br-predict-role' has 'iam.serviceAccounts.actAs', which lets the holder change IAM policies or act as another identity.",
    ],
  ],
  [
    "API disabled on destroy (provider default)",
    set("br-api-bigquery", (i) => delete i.disableOnDestroy),
    [
      "project-services-kept-on-destroy: gcp:projects/service:Service 'br-api-bigquery' disables 'bigquery.googleapis.com' when destroyed: set disableOnDestroy to false.",
    ],
  ],
  [
    "API disabling its dependents",
    set("br-api-bigquery", (i) => (i.disableDependentServices = true)),
    [
      "project-services-kept-on-destroy: gcp:projects/service:Service 'br-api-bigquery' disables the services that depend on 'bigquery.googleapis.com': set disableDependentServices to false.",
    ],
  ],
  [
    "Service agent granted a project-wide role",
    () => [
      ...B(),
      {
        urn: "urn:pulumi:test::lakehouse::gcp:projects/iAMMember:IAMMember::br-pubsub-agent-project",
        type: "gcp:projects/iAMMember:IAMMember",
        name: "br-pubsub-agent-project",
        custom: true,
        inputs: {
          project: "acme-br",
          role: "roles/cloudkms.cryptoKeyEncrypterDecrypter",
          member: "serviceAccount:service-1@gcp-sa-pubsub.iam.gserviceaccount.com",
        },
        outputs: {},
        provider: {
          urn: "urn:pulumi:test::lakehouse::pulumi:providers:gcp::br-gcp",
          pkg: "gcp",
          name: "br-gcp",
          isDefault: false,
        },
      },
    ],
    [
      "service-agents-scoped: gcp:projects/iAMMember:IAMMember 'br-pubsub-agent-project' grants the service agent gcp:projects/serviceIdentity:ServiceIdentity 'br-pubsub-agent' 'roles/cloudkms.cryptoKeyEncrypterDecrypter' on the whole project 'acme-br'.",
    ],
  ],
  [
    "Service agent granted another project's key",
    set(
      "br-pubsub-agent-cmek",
      (i) => (i.cryptoKeyId = "projects/acme-eu/locations/europe-west1/keyRings/eu/cryptoKeys/lake"),
    ),
    [
      "service-agents-scoped: gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember 'br-pubsub-agent-cmek' grants the service agent gcp:projects/serviceIdentity:ServiceIdentity 'br-pubsub-agent' of project 'acme-br' a key of project 'acme-eu'.",
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
  // ---- protection, pseudonymisation
  [
    "Production bucket unprotected (protect false)",
    () => mutate(B(), "br-raw", (_i, r) => (r.protect = false), "aws:s3/bucket:Bucket"),
    [
      "prod-deletion-protection: aws:s3/bucket:Bucket 'br-raw' is a stateful 'prod' resource without deletion protection: set the protect resource option.",
    ],
  ],
  [
    "Production GCS bucket force-destroyable",
    set("br-staging-raw", (i) => (i.forceDestroy = true)),
    [
      "prod-deletion-protection: gcp:storage/bucket:Bucket 'br-staging-raw' sets forceDestroy: a delete would wipe its contents in 'prod'.",
    ],
  ],
  [
    "Short HMAC key",
    set("br-hmac-key", (i) => (i.length = 16)),
    [
      "pseudonymisation-key-strength: random:index/randomBytes:RandomBytes 'br-hmac-key' is 16 bytes; pseudonymisation keys need at least 32.",
    ],
  ],
  [
    "Service account keys",
    () => [
      ...B(),
      {
        urn: "urn:pulumi:test::lakehouse::gcp:serviceaccount/key:Key::ci-key",
        type: "gcp:serviceaccount/key:Key",
        name: "ci-key",
        custom: true,
        inputs: { serviceAccountId: "ci" },
        outputs: {},
        provider: {
          urn: "urn:pulumi:test::lakehouse::pulumi:providers:gcp::br-gcp",
          pkg: "gcp",
          name: "br-gcp",
          isDefault: false,
        },
      },
    ],
    ["no-long-lived-keys: gcp:serviceaccount/key:Key 'ci-key' creates a long-lived credential."],
  ],
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

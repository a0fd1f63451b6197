/**
 * Policy test helpers: a compliant baseline of one `br` production cell covering every resource type
 * the rules inspect, one-field mutations of it, and a shared analyzer session (the pack served in a
 * child process through `@pulumi/policy/server`, driven over gRPC as the engine drives it).
 */
import type { EnforcementLevel } from "@pulumi/policy";
import type { SettingsOverrides } from "../../policy/config";
import { startAnalyzer, type AnalyzerSession } from "../../tools/policy/analyzer";
import { runPolicyGateOnResources, type GateDiagnostic, type GateResult } from "../../tools/policy/gate";
import type { ResourceInput } from "../../tools/policy/requests";

const urnOf = (type: string, name: string): string => `urn:pulumi:test::lakehouse::${type}::${name}`;

type Mutable = { -readonly [K in keyof ResourceInput]: ResourceInput[K] };

export const AWS_PROVIDER = urnOf("pulumi:providers:aws", "br-aws");
export const GCP_PROVIDER = urnOf("pulumi:providers:gcp", "br-gcp");
const RANDOM_PROVIDER = urnOf("pulumi:providers:random", "br-random");

const KEY_ARN = "arn:aws:kms:sa-east-1:222222222222:key/1111-2222";
const GCP_KEY = "projects/acme-br/locations/southamerica-east1/keyRings/br/cryptoKeys/lake";
const DAY_MS = 86_400_000;

function providerOf(type: string): ResourceInput["provider"] {
  if (type.startsWith("aws:")) return { urn: AWS_PROVIDER, pkg: "aws", name: "br-aws", region: "sa-east-1", isDefault: false };
  if (type.startsWith("gcp:")) return { urn: GCP_PROVIDER, pkg: "gcp", name: "br-gcp", region: "southamerica-east1", project: "acme-br", isDefault: false };
  if (type.startsWith("random:")) return { urn: RANDOM_PROVIDER, pkg: "random", name: "br-random", isDefault: false };
  return undefined;
}

/** A resource of the baseline; `deps` are property dependencies by resource name. */
function res(
  type: string,
  name: string,
  inputs: Record<string, unknown>,
  opts: { protect?: boolean; outputs?: Record<string, unknown>; deps?: Record<string, [string, string]> } = {},
): ResourceInput {
  const propertyDependencies: Record<string, string[]> = {};
  for (const [prop, [t, n]] of Object.entries(opts.deps ?? {})) propertyDependencies[prop] = [urnOf(t, n)];
  return {
    urn: urnOf(type, name),
    type,
    name,
    custom: true,
    inputs,
    outputs: opts.outputs ?? {},
    provider: providerOf(type),
    dependencies: Object.values(propertyDependencies).flat(),
    propertyDependencies,
    protect: opts.protect ?? false,
  };
}

const tlsDeny = (bucket: string) =>
  JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ],
  });

const B = "aws:s3/bucket:Bucket";

/** A bucket with all its split settings, as the program's SecureBucket declares them. */
function s3Bucket(name: string, cls: string, lifecycle: Record<string, unknown>, extra: { lock?: number; logTo?: string } = {}): ResourceInput[] {
  const bucket = `${name}-bkt`;
  const dep = { bucket: [B, name] as [string, string] };
  const out: ResourceInput[] = [
    res(B, name, { bucket, tags: { "data-classification": cls }, forceDestroy: false, objectLockEnabled: extra.lock !== undefined }, { protect: true, outputs: { bucket, arn: `arn:aws:s3:::${bucket}` } }),
    res("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", `${name}-sse`, { bucket, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: KEY_ARN }, bucketKeyEnabled: true }] }, { deps: dep }),
    res("aws:s3/bucketVersioning:BucketVersioning", `${name}-versioning`, { bucket, versioningConfiguration: { status: "Enabled" } }, { deps: dep }),
    res("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", `${name}-pab`, { bucket, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true }, { deps: dep }),
    res("aws:s3/bucketOwnershipControls:BucketOwnershipControls", `${name}-ownership`, { bucket, rule: { objectOwnership: "BucketOwnerEnforced" } }, { deps: dep }),
    res("aws:s3/bucketPolicy:BucketPolicy", `${name}-policy`, { bucket, policy: tlsDeny(bucket) }, { deps: dep }),
    res("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", `${name}-lifecycle`, { bucket, rules: [{ id: "retention", status: "Enabled", filter: {}, ...lifecycle }] }, { deps: dep }),
  ];
  if (extra.logTo) {
    out.push(res("aws:s3/bucketLogging:BucketLogging", `${name}-logging`, { bucket, targetBucket: `${extra.logTo}-bkt`, targetPrefix: `s3/${name}/` }, { deps: { ...dep, targetBucket: [B, extra.logTo] } }));
  }
  if (extra.lock !== undefined) {
    out.push(res("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration", `${name}-lock`, { bucket, rule: { defaultRetention: { mode: "COMPLIANCE", days: extra.lock } } }, { deps: dep }));
  }
  return out;
}

/** Every resource type the rules inspect, configured compliantly for a `br` production cell. */
export function baseline(): ResourceInput[] {
  const tags = { cell: "br", jurisdiction: "br", environment: "prod", "managed-by": "pulumi" };
  return [
    { urn: AWS_PROVIDER, type: "pulumi:providers:aws", name: "br-aws", custom: true, inputs: { region: "sa-east-1", allowedAccountIds: JSON.stringify(["222222222222"]), defaultTags: JSON.stringify({ tags }) }, outputs: {} },
    { urn: GCP_PROVIDER, type: "pulumi:providers:gcp", name: "br-gcp", custom: true, inputs: { project: "acme-br", region: "southamerica-east1", defaultLabels: JSON.stringify(tags) }, outputs: {} },
    { urn: RANDOM_PROVIDER, type: "pulumi:providers:random", name: "br-random", custom: true, inputs: {}, outputs: {} },
    // ---- AWS
    res("aws:kms/key:Key", "br-lake-key", {
      enableKeyRotation: true,
      rotationPeriodInDays: 365,
      policy: JSON.stringify({ Statement: [{ Effect: "Allow", Principal: { AWS: "arn:aws:iam::222222222222:root" }, Action: "kms:*", Resource: "*" }] }),
    }, { protect: true, outputs: { arn: KEY_ARN } }),
    res("aws:kms/alias:Alias", "br-lake-key-alias", { name: "alias/br-lake", targetKeyId: KEY_ARN }, { deps: { targetKeyId: ["aws:kms/key:Key", "br-lake-key"] } }),
    ...s3Bucket("br-raw", "raw", { expiration: { days: 90 }, noncurrentVersionExpiration: { noncurrentDays: 10 } }, { logTo: "br-access-logs" }),
    ...s3Bucket("br-access-logs", "logs", { expiration: { days: 30 }, noncurrentVersionExpiration: { noncurrentDays: 30 } }),
    ...s3Bucket("br-audit", "audit", { expiration: { days: 400 } }, { lock: 183, logTo: "br-access-logs" }),
    res("aws:s3/bucketReplicationConfig:BucketReplicationConfig", "br-raw-replication", { bucket: "br-raw-bkt", role: "arn:aws:iam::222222222222:role/replication", rules: [{ id: "all", status: "Enabled", destination: { bucket: "arn:aws:s3:::br-access-logs-bkt" } }] }),
    res("aws:cloudtrail/trail:Trail", "br-trail", {
      s3BucketName: "br-audit-bkt",
      kmsKeyId: KEY_ARN,
      enableLogFileValidation: true,
      advancedEventSelectors: [{ name: "lake", fieldSelectors: [{ field: "eventCategory", equals: ["Data"] }, { field: "resources.type", equals: ["AWS::S3::Object"] }] }],
    }),
    res("aws:glue/dataCatalogEncryptionSettings:DataCatalogEncryptionSettings", "br-catalog-encryption", {
      dataCatalogEncryptionSettings: { encryptionAtRest: { catalogEncryptionMode: "SSE-KMS", sseAwsKmsKeyId: KEY_ARN }, connectionPasswordEncryption: { returnConnectionPasswordEncrypted: true, awsKmsKeyId: KEY_ARN } },
    }),
    res("aws:glue/catalogDatabase:CatalogDatabase", "br-lake-db", { name: "br_lake" }, { protect: true }),
    res("aws:glue/catalogTable:CatalogTable", "br-orders", { databaseName: "br_lake", name: "orders", openTableFormatInput: { icebergInput: { metadataOperation: "CREATE" } } }, { protect: true }),
    res("aws:glue/catalogTableOptimizer:CatalogTableOptimizer", "br-orders-retention", { catalogId: "222222222222", databaseName: "br_lake", tableName: "orders", type: "retention", configuration: { enabled: true, roleArn: "arn:aws:iam::222222222222:role/opt", retentionConfiguration: { icebergConfiguration: { snapshotRetentionPeriodInDays: 5, cleanExpiredFiles: true } } } }),
    res("aws:glue/catalogTableOptimizer:CatalogTableOptimizer", "br-orders-orphans", { catalogId: "222222222222", databaseName: "br_lake", tableName: "orders", type: "orphan_file_deletion", configuration: { enabled: true, roleArn: "arn:aws:iam::222222222222:role/opt", orphanFileDeletionConfiguration: { icebergConfiguration: { orphanFileRetentionPeriodInDays: 3 } } } }),
    res("aws:glue/securityConfiguration:SecurityConfiguration", "br-glue-security", { encryptionConfiguration: { s3Encryption: { s3EncryptionMode: "SSE-KMS", kmsKeyArn: KEY_ARN }, cloudwatchEncryption: { cloudwatchEncryptionMode: "SSE-KMS", kmsKeyArn: KEY_ARN }, jobBookmarksEncryption: { jobBookmarksEncryptionMode: "CSE-KMS", kmsKeyArn: KEY_ARN } } }),
    res("aws:glue/job:Job", "br-merge", { roleArn: "arn:aws:iam::222222222222:role/glue", command: { scriptLocation: "s3://x/merge.py" }, securityConfiguration: "br-glue-security" }),
    res("aws:athena/workgroup:Workgroup", "br-analysts", { configuration: { enforceWorkgroupConfiguration: true, resultConfiguration: { outputLocation: "s3://br-raw-bkt/results/", encryptionConfiguration: { encryptionOption: "SSE_KMS", kmsKeyArn: KEY_ARN } } } }),
    res("aws:lakeformation/dataLakeSettings:DataLakeSettings", "br-lake-settings", { admins: ["arn:aws:iam::222222222222:role/PlatformEngineer"] }),
    res("aws:secretsmanager/secret:Secret", "br-hmac", { kmsKeyId: KEY_ARN, recoveryWindowInDays: 7 }, { protect: true, outputs: { arn: "arn:aws:secretsmanager:sa-east-1:222222222222:secret:br-hmac" } }),
    res("aws:secretsmanager/secretVersion:SecretVersion", "br-hmac-v1", { secretId: "arn:aws:secretsmanager:sa-east-1:222222222222:secret:br-hmac", secretString: "x" }, { deps: { secretId: ["aws:secretsmanager/secret:Secret", "br-hmac"] } }),
    res("aws:iam/role:Role", "br-glue-role", { description: "Glue CDC merge jobs of the br cell", assumeRolePolicy: JSON.stringify({ Statement: [{ Effect: "Allow", Principal: { Service: "glue.amazonaws.com" }, Action: "sts:AssumeRole" }] }) }),
    res("aws:iam/rolePolicy:RolePolicy", "br-glue-role-s3", { role: "br-glue-role", policy: JSON.stringify({ Statement: [{ Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject"], Resource: "arn:aws:s3:::br-raw-bkt/*" }] }) }),
    res("aws:iam/policy:Policy", "br-read-lake", { policy: JSON.stringify({ Statement: [{ Effect: "Allow", Action: ["glue:GetTable"], Resource: "*" }] }) }),
    res("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "br-glue-role-read", { role: "br-glue-role", policyArn: "arn:aws:iam::222222222222:policy/br-read-lake" }),
    res("aws:cloudwatch/logGroup:LogGroup", "br-merge-logs", { retentionInDays: 90, kmsKeyId: KEY_ARN }),
    res("aws:sns/topic:Topic", "br-alerts", { kmsMasterKeyId: KEY_ARN }),
    res("aws:msk/cluster:Cluster", "br-kafka", { kafkaVersion: "3.6.0", numberOfBrokerNodes: 3, brokerNodeGroupInfo: { instanceType: "kafka.m7g.large", clientSubnets: ["a", "b", "c"], securityGroups: ["sg"] }, encryptionInfo: { encryptionAtRestKmsKeyArn: KEY_ARN, encryptionInTransit: { clientBroker: "TLS", inCluster: true } } }, { protect: true }),
    res("aws:kinesis/stream:Stream", "br-events", { encryptionType: "KMS", kmsKeyId: KEY_ARN, retentionPeriod: 24 }, { protect: true }),
    res("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream", "br-events-to-lake", { destination: "extended_s3", serverSideEncryption: { enabled: true, keyType: "CUSTOMER_MANAGED_CMK", keyArn: KEY_ARN }, extendedS3Configuration: { bucketArn: "arn:aws:s3:::br-raw-bkt", roleArn: "arn:aws:iam::222222222222:role/fh" } }),
    res("aws:dms/endpoint:Endpoint", "br-orders-source", { endpointId: "br-orders", endpointType: "source", engineName: "mysql", sslMode: "verify-full", kmsKeyArn: KEY_ARN }),
    res("aws:dms/replicationConfig:ReplicationConfig", "br-orders-cdc", { replicationConfigIdentifier: "br-orders", replicationType: "cdc", sourceEndpointArn: "a", targetEndpointArn: "b", tableMappings: "{}", computeConfig: { replicationSubnetGroupId: "g", kmsKeyId: KEY_ARN } }),
    res("aws:lambda/function:Function", "br-api-ingest", { role: "arn:aws:iam::222222222222:role/fn", runtime: "nodejs20.x", kmsKeyArn: KEY_ARN, environment: { variables: { CURSOR_TABLE: "x" } } }),
    res("aws:ec2/securityGroup:SecurityGroup", "br-dms-sg", { ingress: [{ protocol: "tcp", fromPort: 3306, toPort: 3306, cidrBlocks: ["10.0.0.0/16"] }] }),
    res("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "br-msk-ingress", { securityGroupId: "sg", cidrIpv4: "10.0.0.0/16", ipProtocol: "tcp", fromPort: 9094, toPort: 9094 }),
    res("aws:ec2/subnet:Subnet", "br-private-a", { vpcId: "vpc", cidrBlock: "10.0.1.0/24", mapPublicIpOnLaunch: false }),
    // ---- GCP
    res("gcp:kms/keyRing:KeyRing", "br-keyring", { name: "br", location: "southamerica-east1" }, { protect: true }),
    res("gcp:kms/cryptoKey:CryptoKey", "br-lake-cmek", { keyRing: "projects/acme-br/locations/southamerica-east1/keyRings/br", rotationPeriod: "7776000s" }, { protect: true }),
    res("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", "br-bq-agent-cmek", { cryptoKeyId: GCP_KEY, role: "roles/cloudkms.cryptoKeyEncrypterDecrypter", member: "serviceAccount:bq-1@bigquery-encryption.iam.gserviceaccount.com" }),
    res("gcp:orgpolicy/policy:Policy", "br-resource-locations", { name: "projects/acme-br/policies/gcp.resourceLocations", parent: "projects/acme-br", spec: { rules: [{ values: { allowedValues: ["in:southamerica-east1-locations"] } }] } }),
    res("gcp:projects/iAMAuditConfig:IAMAuditConfig", "br-data-access-logs", { project: "acme-br", service: "allServices", auditLogConfigs: [{ logType: "ADMIN_READ" }, { logType: "DATA_READ" }, { logType: "DATA_WRITE" }] }),
    res("gcp:projects/iAMMember:IAMMember", "br-analysts-jobuser", { project: "acme-br", role: "roles/bigquery.jobUser", member: "group:analysts@acme.example" }),
    res("gcp:bigquery/dataset:Dataset", "br-clickstream", { datasetId: "br_clickstream", location: "southamerica-east1", defaultEncryptionConfiguration: { kmsKeyName: GCP_KEY }, defaultPartitionExpirationMs: 30 * DAY_MS, maxTimeTravelHours: "48", labels: { "data-classification": "clickstream" } }, { protect: true }),
    res("gcp:bigquery/table:Table", "br-clickstream-events", { datasetId: "br_clickstream", tableId: "events", timePartitioning: { type: "DAY", field: "ts", expirationMs: 30 * DAY_MS }, deletionProtection: true }, { deps: { datasetId: ["gcp:bigquery/dataset:Dataset", "br-clickstream"] } }),
    res("gcp:bigquery/table:Table", "br-clickstream-sessions-view", { datasetId: "br_clickstream", tableId: "sessions", view: { query: "SELECT 1", useLegacySql: false } }),
    res("gcp:bigquery/connection:Connection", "br-lake-connection", { location: "southamerica-east1", cloudResource: {} }),
    res("gcp:bigquery/dataTransferConfig:DataTransferConfig", "br-lake-copy", { displayName: "copy", location: "southamerica-east1", dataSourceId: "amazon_s3", destinationDatasetId: "br_clickstream", params: {} }, { deps: { destinationDatasetId: ["gcp:bigquery/dataset:Dataset", "br-clickstream"] } }),
    res("gcp:bigquery/biReservation:BiReservation", "br-bi", { location: "southamerica-east1", size: 1073741824 }),
    res("gcp:storage/bucket:Bucket", "br-staging-raw", { location: "SOUTHAMERICA-EAST1", encryption: { defaultKmsKeyName: GCP_KEY }, uniformBucketLevelAccess: true, publicAccessPrevention: "enforced", lifecycleRules: [{ action: { type: "Delete" }, condition: { age: 90 } }], labels: { "data-classification": "raw" } }, { protect: true }),
    res("gcp:secretmanager/secret:Secret", "br-hmac-gcp", { secretId: "hmac", replication: { userManaged: { replicas: [{ location: "southamerica-east1", customerManagedEncryption: { kmsKeyName: GCP_KEY } }] } } }, { protect: true, outputs: { id: "projects/acme-br/secrets/hmac" } }),
    res("gcp:secretmanager/secretVersion:SecretVersion", "br-hmac-gcp-v1", { secret: "projects/acme-br/secrets/hmac", secretData: "x" }, { deps: { secret: ["gcp:secretmanager/secret:Secret", "br-hmac-gcp"] } }),
    res("gcp:pubsub/topic:Topic", "br-clickstream-topic", { kmsKeyName: GCP_KEY, messageStoragePolicy: { allowedPersistenceRegions: ["southamerica-east1"], enforceInTransit: true }, messageRetentionDuration: "86400s", schemaSettings: { schema: "projects/acme-br/schemas/clickstream", encoding: "JSON" } }, { deps: { schemaSettings: ["gcp:pubsub/schema:Schema", "br-clickstream-schema"] } }),
    res("gcp:pubsub/subscription:Subscription", "br-clickstream-dataflow", { topic: "br-clickstream-topic", messageRetentionDuration: "604800s" }),
    res("gcp:pubsub/schema:Schema", "br-clickstream-schema", { type: "AVRO", definition: "{}" }),
    res("gcp:dataflow/flexTemplateJob:FlexTemplateJob", "br-clickstream-to-bq", { containerSpecGcsPath: "gs://x", region: "southamerica-east1", kmsKeyName: GCP_KEY, ipConfiguration: "WORKER_IP_PRIVATE", serviceAccountEmail: "dataflow@acme-br.iam.gserviceaccount.com" }),
    res("gcp:vertex/aiEndpoint:AiEndpoint", "br-offers-endpoint", { displayName: "offers", location: "southamerica-east1", region: "southamerica-east1", encryptionSpec: { kmsKeyName: GCP_KEY } }),
    res("gcp:vertex/aiFeatureOnlineStore:AiFeatureOnlineStore", "br-features", { region: "southamerica-east1", encryptionSpec: { kmsKeyName: GCP_KEY }, optimized: {} }, { protect: true }),
    res("gcp:vertex/aiFeatureOnlineStoreFeatureview:AiFeatureOnlineStoreFeatureview", "br-features-customer", { region: "southamerica-east1", featureOnlineStore: "br-features", bigQuerySource: { uri: "bq://acme-br.br_clickstream.events", entityIdColumns: ["user_key"] } }),
    res("gcp:workbench/instance:Instance", "br-notebook", { location: "southamerica-east1-a", gceSetup: { disablePublicIp: true, bootDisk: { diskEncryption: "CMEK", kmsKey: GCP_KEY }, dataDisks: { diskEncryption: "CMEK", kmsKey: GCP_KEY }, serviceAccounts: [{ email: "notebooks@acme-br.iam.gserviceaccount.com" }] } }, { protect: true }),
    res("gcp:cloudfunctionsv2/function:Function", "br-collector", { location: "southamerica-east1", kmsKeyName: GCP_KEY, serviceConfig: { serviceAccountEmail: "collector@acme-br.iam.gserviceaccount.com" } }),
    res("gcp:cloudfunctionsv2/functionIamMember:FunctionIamMember", "br-collector-public", { cloudFunction: "br-collector", location: "southamerica-east1", role: "roles/cloudfunctions.invoker", member: "allUsers" }),
    res("gcp:serviceaccount/account:Account", "br-collector-sa", { accountId: "collector", displayName: "Clickstream collector (pseudonymises events of the br cell)" }),
    res("gcp:logging/projectBucketConfig:ProjectBucketConfig", "br-logs-audit", { project: "acme-br", bucketId: "audit", location: "southamerica-east1", retentionDays: 400, locked: true }),
    res("gcp:compute/firewall:Firewall", "br-allow-internal", { network: "vpc", direction: "INGRESS", allows: [{ protocol: "tcp" }], sourceRanges: ["10.0.0.0/8"] }),
    // ---- random
    res("random:index/randomBytes:RandomBytes", "br-hmac-key", { length: 32 }),
  ];
}

/** A copy of `resources` with `fn` applied to the inputs of the resource named `name` (of `type`, if given). */
export function mutate(
  resources: readonly ResourceInput[],
  name: string,
  fn: (inputs: Record<string, unknown>, r: Mutable) => void,
  type?: string,
): ResourceInput[] {
  let hit = 0;
  const out = resources.map((r) => {
    if (r.name !== name || (type !== undefined && r.type !== type)) return r;
    hit++;
    const copy: Mutable = structuredClone(r) as Mutable;
    fn(copy.inputs as Record<string, unknown>, copy);
    return copy;
  });
  if (hit !== 1) throw new Error(`mutate: expected one resource named ${name}, found ${hit}`);
  return out;
}

/** Removes the resources named. */
export const without = (resources: readonly ResourceInput[], ...names: string[]): ResourceInput[] =>
  resources.filter((r) => !names.includes(r.name));

let shared: Promise<AnalyzerSession> | undefined;

/** One analyzer process for the whole mocha run (closed by the root hook in hooks.ts). */
export function session(): Promise<AnalyzerSession> {
  shared ??= startAnalyzer();
  return shared;
}

export async function closeSession(): Promise<void> {
  if (shared) {
    const s = await shared;
    shared = undefined;
    await s.close();
  }
}

export async function gate(
  resources: readonly ResourceInput[],
  opts: { settings?: SettingsOverrides; enforcementLevels?: Record<string, EnforcementLevel> } = {},
): Promise<GateResult> {
  return runPolicyGateOnResources("test", resources, { ...opts, session: await session() });
}

/** `policy: detail` lines, sorted, for exact comparisons. */
export const lines = (ds: readonly GateDiagnostic[]): string[] => ds.map((d) => `${d.policyName}: ${d.detail}`).sort();

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
const ALERTS_ARN = "arn:aws:sns:sa-east-1:222222222222:br-alerts";
const CA_PEM =
  "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ0FGSVhUVVJFAAAAAAAAAAAAAAAwCgYIKoZIzj0EAwIw\n-----END CERTIFICATE-----\n";
/** An endpoint policy that names the cell's account (AWS's default allows '*' on '*'). */
const endpointPolicy = (action: string) =>
  JSON.stringify({
    Statement: [
      {
        Effect: "Allow",
        Principal: "*",
        Action: action,
        Resource: "*",
        Condition: { StringEquals: { "aws:PrincipalAccount": "222222222222" } },
      },
    ],
  });

function providerOf(type: string): ResourceInput["provider"] {
  if (type.startsWith("aws:"))
    return { urn: AWS_PROVIDER, pkg: "aws", name: "br-aws", region: "sa-east-1", isDefault: false };
  if (type.startsWith("gcp:"))
    return {
      urn: GCP_PROVIDER,
      pkg: "gcp",
      name: "br-gcp",
      region: "southamerica-east1",
      project: "acme-br",
      isDefault: false,
    };
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
function s3Bucket(
  name: string,
  cls: string,
  lifecycle: Record<string, unknown>,
  extra: { lock?: number; logTo?: string } = {},
): ResourceInput[] {
  const bucket = `${name}-bkt`;
  const dep = { bucket: [B, name] as [string, string] };
  const out: ResourceInput[] = [
    res(
      B,
      name,
      {
        bucket,
        tags: { "data-classification": cls },
        forceDestroy: false,
        objectLockEnabled: extra.lock !== undefined,
      },
      { protect: true, outputs: { bucket, arn: `arn:aws:s3:::${bucket}` } },
    ),
    res(
      "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
      `${name}-sse`,
      {
        bucket,
        rules: [
          {
            applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: KEY_ARN },
            bucketKeyEnabled: true,
          },
        ],
      },
      { deps: dep },
    ),
    res(
      "aws:s3/bucketVersioning:BucketVersioning",
      `${name}-versioning`,
      { bucket, versioningConfiguration: { status: "Enabled" } },
      { deps: dep },
    ),
    res(
      "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
      `${name}-pab`,
      { bucket, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
      { deps: dep },
    ),
    res(
      "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
      `${name}-ownership`,
      { bucket, rule: { objectOwnership: "BucketOwnerEnforced" } },
      { deps: dep },
    ),
    res("aws:s3/bucketPolicy:BucketPolicy", `${name}-policy`, { bucket, policy: tlsDeny(bucket) }, { deps: dep }),
    res(
      "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
      `${name}-lifecycle`,
      { bucket, rules: [{ id: "retention", status: "Enabled", filter: {}, ...lifecycle }] },
      { deps: dep },
    ),
  ];
  if (extra.logTo) {
    out.push(
      res(
        "aws:s3/bucketLogging:BucketLogging",
        `${name}-logging`,
        { bucket, targetBucket: `${extra.logTo}-bkt`, targetPrefix: `s3/${name}/` },
        { deps: { ...dep, targetBucket: [B, extra.logTo] } },
      ),
    );
  }
  if (extra.lock !== undefined) {
    out.push(
      res(
        "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
        `${name}-lock`,
        { bucket, rule: { defaultRetention: { mode: "COMPLIANCE", days: extra.lock } } },
        { deps: dep },
      ),
    );
  }
  return out;
}

/** Every resource type the rules inspect, configured compliantly for a `br` production cell. */
export function baseline(): ResourceInput[] {
  const tags = { cell: "br", jurisdiction: "br", environment: "prod", "managed-by": "pulumi" };
  return [
    {
      urn: AWS_PROVIDER,
      type: "pulumi:providers:aws",
      name: "br-aws",
      custom: true,
      inputs: {
        region: "sa-east-1",
        allowedAccountIds: JSON.stringify(["222222222222"]),
        defaultTags: JSON.stringify({ tags }),
      },
      outputs: {},
    },
    {
      urn: GCP_PROVIDER,
      type: "pulumi:providers:gcp",
      name: "br-gcp",
      custom: true,
      inputs: { project: "acme-br", region: "southamerica-east1", defaultLabels: JSON.stringify(tags) },
      outputs: {},
    },
    { urn: RANDOM_PROVIDER, type: "pulumi:providers:random", name: "br-random", custom: true, inputs: {}, outputs: {} },
    // ---- AWS
    res(
      "aws:kms/key:Key",
      "br-lake-key",
      {
        enableKeyRotation: true,
        rotationPeriodInDays: 365,
        policy: JSON.stringify({
          Statement: [
            { Effect: "Allow", Principal: { AWS: "arn:aws:iam::222222222222:root" }, Action: "kms:*", Resource: "*" },
          ],
        }),
      },
      { protect: true, outputs: { arn: KEY_ARN } },
    ),
    res(
      "aws:kms/alias:Alias",
      "br-lake-key-alias",
      { name: "alias/br-lake", targetKeyId: KEY_ARN },
      { deps: { targetKeyId: ["aws:kms/key:Key", "br-lake-key"] } },
    ),
    ...s3Bucket(
      "br-raw",
      "raw",
      { expiration: { days: 90 }, noncurrentVersionExpiration: { noncurrentDays: 10 } },
      { logTo: "br-access-logs" },
    ),
    ...s3Bucket("br-access-logs", "logs", {
      expiration: { days: 30 },
      noncurrentVersionExpiration: { noncurrentDays: 30 },
    }),
    ...s3Bucket("br-audit", "audit", { expiration: { days: 400 } }, { lock: 183, logTo: "br-access-logs" }),
    res("aws:s3/bucketReplicationConfig:BucketReplicationConfig", "br-raw-replication", {
      bucket: "br-raw-bkt",
      role: "arn:aws:iam::222222222222:role/replication",
      rules: [{ id: "all", status: "Enabled", destination: { bucket: "arn:aws:s3:::br-access-logs-bkt" } }],
    }),
    res("aws:cloudtrail/trail:Trail", "br-trail", {
      s3BucketName: "br-audit-bkt",
      kmsKeyId: KEY_ARN,
      enableLogFileValidation: true,
      advancedEventSelectors: [
        {
          name: "lake",
          fieldSelectors: [
            { field: "eventCategory", equals: ["Data"] },
            { field: "resources.type", equals: ["AWS::S3::Object"] },
          ],
        },
      ],
    }),
    res("aws:glue/dataCatalogEncryptionSettings:DataCatalogEncryptionSettings", "br-catalog-encryption", {
      dataCatalogEncryptionSettings: {
        encryptionAtRest: { catalogEncryptionMode: "SSE-KMS", sseAwsKmsKeyId: KEY_ARN },
        connectionPasswordEncryption: { returnConnectionPasswordEncrypted: true, awsKmsKeyId: KEY_ARN },
      },
    }),
    res("aws:glue/catalogDatabase:CatalogDatabase", "br-lake-db", { name: "br_lake" }, { protect: true }),
    res(
      "aws:glue/catalogTable:CatalogTable",
      "br-orders",
      {
        databaseName: "br_lake",
        name: "orders",
        openTableFormatInput: { icebergInput: { metadataOperation: "CREATE" } },
      },
      { protect: true },
    ),
    res("aws:glue/catalogTableOptimizer:CatalogTableOptimizer", "br-orders-retention", {
      catalogId: "222222222222",
      databaseName: "br_lake",
      tableName: "orders",
      type: "retention",
      configuration: {
        enabled: true,
        roleArn: "arn:aws:iam::222222222222:role/opt",
        retentionConfiguration: { icebergConfiguration: { snapshotRetentionPeriodInDays: 5, cleanExpiredFiles: true } },
      },
    }),
    res("aws:glue/catalogTableOptimizer:CatalogTableOptimizer", "br-orders-orphans", {
      catalogId: "222222222222",
      databaseName: "br_lake",
      tableName: "orders",
      type: "orphan_file_deletion",
      configuration: {
        enabled: true,
        roleArn: "arn:aws:iam::222222222222:role/opt",
        orphanFileDeletionConfiguration: { icebergConfiguration: { orphanFileRetentionPeriodInDays: 3 } },
      },
    }),
    res("aws:glue/securityConfiguration:SecurityConfiguration", "br-glue-security", {
      encryptionConfiguration: {
        s3Encryption: { s3EncryptionMode: "SSE-KMS", kmsKeyArn: KEY_ARN },
        cloudwatchEncryption: { cloudwatchEncryptionMode: "SSE-KMS", kmsKeyArn: KEY_ARN },
        jobBookmarksEncryption: { jobBookmarksEncryptionMode: "CSE-KMS", kmsKeyArn: KEY_ARN },
      },
    }),
    res("aws:glue/job:Job", "br-merge", {
      name: "br-merge",
      roleArn: "arn:aws:iam::222222222222:role/glue",
      command: { scriptLocation: "s3://x/merge.py" },
      securityConfiguration: "br-glue-security",
    }),
    res("aws:athena/workgroup:Workgroup", "br-analysts", {
      configuration: {
        enforceWorkgroupConfiguration: true,
        resultConfiguration: {
          outputLocation: "s3://br-raw-bkt/results/",
          encryptionConfiguration: { encryptionOption: "SSE_KMS", kmsKeyArn: KEY_ARN },
        },
      },
    }),
    res("aws:lakeformation/dataLakeSettings:DataLakeSettings", "br-lake-settings", {
      admins: ["arn:aws:iam::222222222222:role/PlatformEngineer"],
    }),
    res(
      "aws:secretsmanager/secret:Secret",
      "br-hmac",
      { kmsKeyId: KEY_ARN, recoveryWindowInDays: 7 },
      { protect: true, outputs: { arn: "arn:aws:secretsmanager:sa-east-1:222222222222:secret:br-hmac" } },
    ),
    res(
      "aws:secretsmanager/secretVersion:SecretVersion",
      "br-hmac-v1",
      { secretId: "arn:aws:secretsmanager:sa-east-1:222222222222:secret:br-hmac", secretString: "x" },
      { deps: { secretId: ["aws:secretsmanager/secret:Secret", "br-hmac"] } },
    ),
    res("aws:iam/role:Role", "br-glue-role", {
      description: "Glue CDC merge jobs of the br cell",
      assumeRolePolicy: JSON.stringify({
        Statement: [{ Effect: "Allow", Principal: { Service: "glue.amazonaws.com" }, Action: "sts:AssumeRole" }],
      }),
    }),
    res("aws:iam/rolePolicy:RolePolicy", "br-glue-role-s3", {
      role: "br-glue-role",
      policy: JSON.stringify({
        Statement: [
          { Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject"], Resource: "arn:aws:s3:::br-raw-bkt/*" },
        ],
      }),
    }),
    res("aws:iam/policy:Policy", "br-read-lake", {
      policy: JSON.stringify({ Statement: [{ Effect: "Allow", Action: ["glue:GetTable"], Resource: "*" }] }),
    }),
    res("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "br-glue-role-read", {
      role: "br-glue-role",
      policyArn: "arn:aws:iam::222222222222:policy/br-read-lake",
    }),
    res("aws:cloudwatch/logGroup:LogGroup", "br-merge-logs", { retentionInDays: 90, kmsKeyId: KEY_ARN }),
    res("aws:sns/topic:Topic", "br-alerts", { kmsMasterKeyId: KEY_ARN }, { outputs: { arn: ALERTS_ARN } }),
    res(
      "aws:msk/cluster:Cluster",
      "br-kafka",
      {
        kafkaVersion: "3.6.0",
        numberOfBrokerNodes: 3,
        brokerNodeGroupInfo: {
          instanceType: "kafka.m7g.large",
          clientSubnets: ["a", "b", "c"],
          securityGroups: ["sg"],
        },
        encryptionInfo: {
          encryptionAtRestKmsKeyArn: KEY_ARN,
          encryptionInTransit: { clientBroker: "TLS", inCluster: true },
        },
      },
      { protect: true },
    ),
    res(
      "aws:kinesis/stream:Stream",
      "br-events",
      { encryptionType: "KMS", kmsKeyId: KEY_ARN, retentionPeriod: 24 },
      { protect: true },
    ),
    res("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream", "br-events-to-lake", {
      destination: "extended_s3",
      serverSideEncryption: { enabled: true, keyType: "CUSTOMER_MANAGED_CMK", keyArn: KEY_ARN },
      extendedS3Configuration: { bucketArn: "arn:aws:s3:::br-raw-bkt", roleArn: "arn:aws:iam::222222222222:role/fh" },
    }),
    res(
      "aws:dms/certificate:Certificate",
      "br-orders-ca",
      { certificateId: "br-orders-ca", certificatePem: CA_PEM },
      { outputs: { certificateArn: "arn:aws:dms:sa-east-1:222222222222:cert:ORDERSCA" } },
    ),
    res(
      "aws:dms/endpoint:Endpoint",
      "br-orders-source",
      {
        endpointId: "br-orders",
        endpointType: "source",
        engineName: "mysql",
        sslMode: "verify-full",
        certificateArn: "arn:aws:dms:sa-east-1:222222222222:cert:ORDERSCA",
        kmsKeyArn: KEY_ARN,
      },
      { deps: { certificateArn: ["aws:dms/certificate:Certificate", "br-orders-ca"] } },
    ),
    res("aws:dms/s3Endpoint:S3Endpoint", "br-orders-target", {
      endpointId: "br-orders-raw",
      endpointType: "target",
      bucketName: "br-raw-bkt",
      bucketFolder: "cdc/orders",
      dataFormat: "parquet",
      encryptionMode: "SSE_KMS",
      serverSideEncryptionKmsKeyId: KEY_ARN,
      serviceAccessRoleArn: "arn:aws:iam::222222222222:role/dms-target",
    }),
    res(
      "aws:dms/replicationSubnetGroup:ReplicationSubnetGroup",
      "br-dms-subnets",
      { replicationSubnetGroupId: "br-dms", replicationSubnetGroupDescription: "private", subnetIds: ["subnet-a"] },
      { deps: { subnetIds: ["aws:ec2/subnet:Subnet", "br-private-a"] } },
    ),
    res(
      "aws:cloudwatch/metricAlarm:MetricAlarm",
      "br-orders-latency",
      {
        metricName: "CDCLatencySource",
        namespace: "AWS/DMS",
        comparisonOperator: "GreaterThanThreshold",
        threshold: 900,
        evaluationPeriods: 3,
        period: 300,
        alarmActions: [ALERTS_ARN],
      },
      { deps: { alarmActions: ["aws:sns/topic:Topic", "br-alerts"] } },
    ),
    res("aws:cloudwatch/eventRule:EventRule", "br-orders-events", {
      name: "br-orders-events",
      eventPattern: JSON.stringify({ source: ["aws.dms"] }),
    }),
    res(
      "aws:cloudwatch/eventTarget:EventTarget",
      "br-orders-events-target",
      { rule: "br-orders-events", arn: ALERTS_ARN },
      {
        deps: {
          rule: ["aws:cloudwatch/eventRule:EventRule", "br-orders-events"],
          arn: ["aws:sns/topic:Topic", "br-alerts"],
        },
      },
    ),
    res(
      "aws:glue/trigger:Trigger",
      "br-merge-schedule",
      {
        name: "br-merge-schedule",
        type: "SCHEDULED",
        schedule: "cron(0/15 * * * ? *)",
        startOnCreation: true,
        actions: [{ jobName: "br-merge" }],
      },
      { deps: { actions: ["aws:glue/job:Job", "br-merge"] } },
    ),
    res(
      "aws:s3/bucketObjectv2:BucketObjectv2",
      "br-merge-script",
      { bucket: "br-raw-bkt", key: "_system/merge.py", serverSideEncryption: "aws:kms", kmsKeyId: KEY_ARN },
      { deps: { bucket: [B, "br-raw"] } },
    ),
    res("aws:scheduler/schedule:Schedule", "br-export-schedule", {
      scheduleExpression: "cron(0 1 * * ? *)",
      flexibleTimeWindow: { mode: "OFF" },
      kmsKeyArn: KEY_ARN,
      target: {
        arn: "arn:aws:scheduler:::aws-sdk:athena:startQueryExecution",
        roleArn: "arn:aws:iam::222222222222:role/export",
        input: "{}",
      },
    }),
    res("aws:dms/replicationConfig:ReplicationConfig", "br-orders-cdc", {
      replicationConfigIdentifier: "br-orders",
      replicationType: "cdc",
      sourceEndpointArn: "a",
      targetEndpointArn: "b",
      tableMappings: "{}",
      computeConfig: { replicationSubnetGroupId: "g", kmsKeyId: KEY_ARN },
    }),
    res("aws:lambda/function:Function", "br-api-ingest", {
      role: "arn:aws:iam::222222222222:role/fn",
      runtime: "nodejs20.x",
      kmsKeyArn: KEY_ARN,
      environment: { variables: { CURSOR_TABLE: "x" } },
    }),
    res("aws:ec2/securityGroup:SecurityGroup", "br-dms-sg", {
      ingress: [{ protocol: "tcp", fromPort: 3306, toPort: 3306, cidrBlocks: ["10.0.0.0/16"] }],
    }),
    res("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "br-msk-ingress", {
      securityGroupId: "sg",
      cidrIpv4: "10.0.0.0/16",
      ipProtocol: "tcp",
      fromPort: 9094,
      toPort: 9094,
    }),
    res("aws:ec2/subnet:Subnet", "br-private-a", {
      vpcId: "vpc",
      cidrBlock: "10.0.1.0/24",
      mapPublicIpOnLaunch: false,
    }),
    res("aws:ec2/vpc:Vpc", "br-ingestion-vpc", {
      cidrBlock: "10.0.0.0/16",
      enableDnsSupport: true,
      enableDnsHostnames: true,
    }),
    res(
      "aws:ec2/routeTable:RouteTable",
      "br-private-rt",
      { vpcId: "vpc", routes: [] },
      { outputs: { id: "rtb-private" }, deps: { vpcId: ["aws:ec2/vpc:Vpc", "br-ingestion-vpc"] } },
    ),
    res(
      "aws:ec2/routeTableAssociation:RouteTableAssociation",
      "br-private-a-rt",
      { routeTableId: "rtb-private", subnetId: "subnet-a" },
      {
        deps: {
          routeTableId: ["aws:ec2/routeTable:RouteTable", "br-private-rt"],
          subnetId: ["aws:ec2/subnet:Subnet", "br-private-a"],
        },
      },
    ),
    res(
      "aws:cloudwatch/logGroup:LogGroup",
      "br-flow-logs",
      { retentionInDays: 90, kmsKeyId: KEY_ARN },
      { outputs: { arn: "arn:aws:logs:sa-east-1:222222222222:log-group:/br/flow-logs" } },
    ),
    res(
      "aws:ec2/flowLog:FlowLog",
      "br-vpc-flow-logs",
      {
        vpcId: "vpc",
        trafficType: "ALL",
        logDestinationType: "cloud-watch-logs",
        logDestination: "arn:aws:logs:sa-east-1:222222222222:log-group:/br/flow-logs",
        iamRoleArn: "arn:aws:iam::222222222222:role/flow-logs",
      },
      {
        deps: {
          vpcId: ["aws:ec2/vpc:Vpc", "br-ingestion-vpc"],
          logDestination: ["aws:cloudwatch/logGroup:LogGroup", "br-flow-logs"],
        },
      },
    ),
    res("aws:ec2/vpcEndpoint:VpcEndpoint", "br-s3-endpoint", {
      vpcId: "vpc",
      serviceName: "com.amazonaws.sa-east-1.s3",
      vpcEndpointType: "Gateway",
      routeTableIds: ["rtb-private"],
      policy: endpointPolicy("s3:*"),
    }),
    res("aws:ec2/vpcEndpoint:VpcEndpoint", "br-kms-endpoint", {
      vpcId: "vpc",
      serviceName: "com.amazonaws.sa-east-1.kms",
      vpcEndpointType: "Interface",
      privateDnsEnabled: true,
      subnetIds: ["subnet-a"],
      policy: endpointPolicy("kms:*"),
    }),
    // ---- GCP
    res("gcp:kms/keyRing:KeyRing", "br-keyring", { name: "br", location: "southamerica-east1" }, { protect: true }),
    res(
      "gcp:kms/cryptoKey:CryptoKey",
      "br-lake-cmek",
      { keyRing: "projects/acme-br/locations/southamerica-east1/keyRings/br", rotationPeriod: "7776000s" },
      { protect: true },
    ),
    res("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", "br-bq-agent-cmek", {
      cryptoKeyId: GCP_KEY,
      role: "roles/cloudkms.cryptoKeyEncrypterDecrypter",
      member: "serviceAccount:bq-1@bigquery-encryption.iam.gserviceaccount.com",
    }),
    res("gcp:orgpolicy/policy:Policy", "br-resource-locations", {
      name: "projects/acme-br/policies/gcp.resourceLocations",
      parent: "projects/acme-br",
      spec: { rules: [{ values: { allowedValues: ["in:southamerica-east1-locations"] } }] },
    }),
    res("gcp:projects/iAMAuditConfig:IAMAuditConfig", "br-data-access-logs", {
      project: "acme-br",
      service: "allServices",
      auditLogConfigs: [{ logType: "ADMIN_READ" }, { logType: "DATA_READ" }, { logType: "DATA_WRITE" }],
    }),
    res("gcp:projects/iAMMember:IAMMember", "br-analysts-jobuser", {
      project: "acme-br",
      role: "roles/bigquery.jobUser",
      member: "group:analysts@acme.example",
    }),
    res(
      "gcp:bigquery/dataset:Dataset",
      "br-clickstream",
      {
        datasetId: "br_clickstream",
        location: "southamerica-east1",
        defaultEncryptionConfiguration: { kmsKeyName: GCP_KEY },
        defaultPartitionExpirationMs: 30 * DAY_MS,
        maxTimeTravelHours: "48",
        labels: { "data-classification": "clickstream" },
      },
      { protect: true },
    ),
    res(
      "gcp:bigquery/table:Table",
      "br-clickstream-events",
      {
        datasetId: "br_clickstream",
        tableId: "events",
        timePartitioning: { type: "DAY", field: "ts", expirationMs: 30 * DAY_MS },
        deletionProtection: true,
      },
      { deps: { datasetId: ["gcp:bigquery/dataset:Dataset", "br-clickstream"] } },
    ),
    res("gcp:bigquery/table:Table", "br-clickstream-sessions-view", {
      datasetId: "br_clickstream",
      tableId: "sessions",
      view: { query: "SELECT 1", useLegacySql: false },
    }),
    res("gcp:bigquery/connection:Connection", "br-lake-connection", {
      location: "southamerica-east1",
      cloudResource: {},
    }),
    res(
      "gcp:bigquery/dataTransferConfig:DataTransferConfig",
      "br-lake-copy",
      {
        displayName: "copy",
        location: "southamerica-east1",
        dataSourceId: "amazon_s3",
        destinationDatasetId: "br_clickstream",
        params: {},
      },
      { deps: { destinationDatasetId: ["gcp:bigquery/dataset:Dataset", "br-clickstream"] } },
    ),
    res("gcp:bigquery/biReservation:BiReservation", "br-bi", { location: "southamerica-east1", size: 1073741824 }),
    res(
      "gcp:storage/bucket:Bucket",
      "br-staging-raw",
      {
        name: "br-staging-raw-bkt",
        location: "SOUTHAMERICA-EAST1",
        encryption: { defaultKmsKeyName: GCP_KEY },
        uniformBucketLevelAccess: true,
        publicAccessPrevention: "enforced",
        lifecycleRules: [{ action: { type: "Delete" }, condition: { age: 90 } }],
        labels: { "data-classification": "raw" },
      },
      { protect: true },
    ),
    res(
      "gcp:secretmanager/secret:Secret",
      "br-hmac-gcp",
      {
        secretId: "hmac",
        replication: {
          userManaged: {
            replicas: [{ location: "southamerica-east1", customerManagedEncryption: { kmsKeyName: GCP_KEY } }],
          },
        },
      },
      { protect: true, outputs: { id: "projects/acme-br/secrets/hmac" } },
    ),
    res(
      "gcp:secretmanager/secretVersion:SecretVersion",
      "br-hmac-gcp-v1",
      { secret: "projects/acme-br/secrets/hmac", secretData: "x" },
      { deps: { secret: ["gcp:secretmanager/secret:Secret", "br-hmac-gcp"] } },
    ),
    res(
      "gcp:pubsub/topic:Topic",
      "br-clickstream-topic",
      {
        kmsKeyName: GCP_KEY,
        messageStoragePolicy: { allowedPersistenceRegions: ["southamerica-east1"], enforceInTransit: true },
        messageRetentionDuration: "86400s",
        schemaSettings: { schema: "projects/acme-br/schemas/clickstream", encoding: "JSON" },
      },
      { deps: { schemaSettings: ["gcp:pubsub/schema:Schema", "br-clickstream-schema"] } },
    ),
    res("gcp:pubsub/subscription:Subscription", "br-clickstream-dataflow", {
      topic: "br-clickstream-topic",
      messageRetentionDuration: "604800s",
    }),
    res("gcp:pubsub/schema:Schema", "br-clickstream-schema", { type: "AVRO", definition: "{}" }),
    res("gcp:dataflow/flexTemplateJob:FlexTemplateJob", "br-clickstream-to-bq", {
      containerSpecGcsPath: "gs://x",
      region: "southamerica-east1",
      kmsKeyName: GCP_KEY,
      ipConfiguration: "WORKER_IP_PRIVATE",
      serviceAccountEmail: "dataflow@acme-br.iam.gserviceaccount.com",
    }),
    res("gcp:vertex/aiEndpoint:AiEndpoint", "br-offers-endpoint", {
      displayName: "offers",
      location: "southamerica-east1",
      region: "southamerica-east1",
      encryptionSpec: { kmsKeyName: GCP_KEY },
    }),
    res(
      "gcp:vertex/aiFeatureOnlineStore:AiFeatureOnlineStore",
      "br-features",
      { region: "southamerica-east1", encryptionSpec: { kmsKeyName: GCP_KEY }, optimized: {} },
      { protect: true },
    ),
    res("gcp:vertex/aiFeatureOnlineStoreFeatureview:AiFeatureOnlineStoreFeatureview", "br-features-customer", {
      region: "southamerica-east1",
      featureOnlineStore: "br-features",
      bigQuerySource: { uri: "bq://acme-br.br_clickstream.events", entityIdColumns: ["user_key"] },
    }),
    res(
      "gcp:workbench/instance:Instance",
      "br-notebook",
      {
        location: "southamerica-east1-a",
        gceSetup: {
          disablePublicIp: true,
          bootDisk: { diskEncryption: "CMEK", kmsKey: GCP_KEY },
          dataDisks: { diskEncryption: "CMEK", kmsKey: GCP_KEY },
          serviceAccounts: [{ email: "notebooks@acme-br.iam.gserviceaccount.com" }],
        },
      },
      { protect: true },
    ),
    res("gcp:cloudfunctionsv2/function:Function", "br-collector", {
      name: "br-collector",
      // The one reviewed public endpoint (ADR 0005): the public-endpoint-declared rule keys on this label.
      labels: { "public-endpoint": "tracking-api" },
      location: "southamerica-east1",
      kmsKeyName: GCP_KEY,
      serviceConfig: { serviceAccountEmail: "collector@acme-br.iam.gserviceaccount.com" },
    }),
    res(
      "gcp:cloudfunctionsv2/functionIamMember:FunctionIamMember",
      "br-collector-public",
      {
        cloudFunction: "br-collector",
        location: "southamerica-east1",
        role: "roles/cloudfunctions.invoker",
        member: "allUsers",
      },
      { deps: { cloudFunction: ["gcp:cloudfunctionsv2/function:Function", "br-collector"] } },
    ),
    res("gcp:serviceaccount/account:Account", "br-collector-sa", {
      accountId: "collector",
      displayName: "Clickstream collector (pseudonymises events of the br cell)",
    }),
    res("gcp:logging/projectBucketConfig:ProjectBucketConfig", "br-logs-audit", {
      project: "acme-br",
      bucketId: "audit",
      location: "southamerica-east1",
      retentionDays: 400,
      locked: true,
    }),
    res(
      "gcp:monitoring/notificationChannel:NotificationChannel",
      "br-oncall",
      { project: "acme-br", type: "email", labels: { email_address: "oncall@acme.example" } },
      { outputs: { name: "projects/acme-br/notificationChannels/1" } },
    ),
    res(
      "gcp:monitoring/alertPolicy:AlertPolicy",
      "br-dead-letters",
      {
        project: "acme-br",
        displayName: "dead letters",
        combiner: "OR",
        conditions: [
          {
            displayName: "dlq",
            conditionThreshold: {
              filter: 'metric.type = "pubsub.googleapis.com/subscription/num_undelivered_messages"',
              comparison: "COMPARISON_GT",
              duration: "300s",
            },
          },
        ],
        notificationChannels: ["projects/acme-br/notificationChannels/1"],
      },
      { deps: { notificationChannels: ["gcp:monitoring/notificationChannel:NotificationChannel", "br-oncall"] } },
    ),
    res("gcp:compute/network:Network", "br-network", {
      name: "br",
      autoCreateSubnetworks: false,
      routingMode: "REGIONAL",
    }),
    res(
      "gcp:compute/subnetwork:Subnetwork",
      "br-subnet",
      {
        network: "br",
        region: "southamerica-east1",
        ipCidrRange: "10.64.0.0/20",
        privateIpGoogleAccess: true,
        logConfig: { aggregationInterval: "INTERVAL_5_MIN", flowSampling: 0.5 },
      },
      { deps: { network: ["gcp:compute/network:Network", "br-network"] } },
    ),
    res(
      "gcp:datacatalog/taxonomy:Taxonomy",
      "br-taxonomy",
      {
        displayName: "identifiers",
        region: "southamerica-east1",
        activatedPolicyTypes: ["FINE_GRAINED_ACCESS_CONTROL"],
      },
      { outputs: { name: "projects/acme-br/locations/southamerica-east1/taxonomies/1" } },
    ),
    res(
      "gcp:datacatalog/policyTag:PolicyTag",
      "br-tag-pseudonym",
      { taxonomy: "projects/acme-br/locations/southamerica-east1/taxonomies/1", displayName: "pseudonymous-id" },
      { deps: { taxonomy: ["gcp:datacatalog/taxonomy:Taxonomy", "br-taxonomy"] } },
    ),
    res("gcp:projects/iAMCustomRole:IAMCustomRole", "br-predict-role", {
      project: "acme-br",
      roleId: "predictor",
      title: "Predictor",
      permissions: ["aiplatform.endpoints.predict"],
    }),
    res("gcp:projects/service:Service", "br-api-bigquery", {
      project: "acme-br",
      service: "bigquery.googleapis.com",
      disableOnDestroy: false,
      disableDependentServices: false,
    }),
    res(
      "gcp:projects/serviceIdentity:ServiceIdentity",
      "br-pubsub-agent",
      { project: "acme-br", service: "pubsub.googleapis.com" },
      {
        outputs: {
          email: "service-1@gcp-sa-pubsub.iam.gserviceaccount.com",
          member: "serviceAccount:service-1@gcp-sa-pubsub.iam.gserviceaccount.com",
        },
      },
    ),
    res(
      "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember",
      "br-pubsub-agent-cmek",
      {
        cryptoKeyId: GCP_KEY,
        role: "roles/cloudkms.cryptoKeyEncrypterDecrypter",
        member: "serviceAccount:service-1@gcp-sa-pubsub.iam.gserviceaccount.com",
      },
      { deps: { member: ["gcp:projects/serviceIdentity:ServiceIdentity", "br-pubsub-agent"] } },
    ),
    res(
      "gcp:storage/bucketObject:BucketObject",
      "br-udf",
      { bucket: "br-staging-raw-bkt", name: "udf/clickstream.js", contentType: "application/javascript" },
      { deps: { bucket: ["gcp:storage/bucket:Bucket", "br-staging-raw"] } },
    ),
    res("gcp:storage/transferJob:TransferJob", "br-feed-transfer", {
      project: "acme-br",
      transferSpec: {
        awsS3DataSource: { bucketName: "br-raw-bkt", path: "exports/" },
        gcsDataSink: { bucketName: "br-staging-raw-bkt", path: "exports/" },
      },
    }),
    res("gcp:privilegedaccessmanager/entitlement:entitlement", "br-break-glass", {
      entitlementId: "break-glass",
      location: "global",
      parent: "projects/acme-br",
      maxRequestDuration: "3600s",
      eligibleUsers: [{ principals: ["group:break-glass@acme.example"] }],
      approvalWorkflow: {
        manualApprovals: {
          requireApproverJustification: true,
          steps: [{ approvalsNeeded: 1, approvers: { principals: ["group:dpo@acme.example"] } }],
        },
      },
      requesterJustificationConfig: { unstructured: {} },
      privilegedAccess: {
        gcpIamAccess: {
          resource: "//cloudresourcemanager.googleapis.com/projects/acme-br",
          resourceType: "cloudresourcemanager.googleapis.com/Project",
          roleBindings: [{ role: "roles/bigquery.dataViewer" }],
        },
      },
    }),
    res("gcp:compute/firewall:Firewall", "br-allow-internal", {
      network: "vpc",
      direction: "INGRESS",
      allows: [{ protocol: "tcp" }],
      sourceRanges: ["10.0.0.0/8"],
    }),
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

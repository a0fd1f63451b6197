/**
 * Policy test helpers: the compliant baseline, one-field mutations of it, and the pack to run them
 * through: its policies called in the test process (`session`, tools/policy/in-process.ts) for the rule
 * cases, or the pack served in a child process through `@pulumi/policy/server` and driven over gRPC as
 * the engine drives it (`servedSession`) for the end-to-end ones.
 *
 * The baseline is the dev stack's own offline plan, resource for resource as the gate sends it
 * (`planOf("dev")`: a `PlannedResource` is what the analyzer's request builders take), plus one
 * hand-written fixture per resource type the pack inspects but the dev stack does not declare. A type
 * the program starts declaring joins the baseline by itself; a type only the pack knows costs one
 * fixture in `fixtures` below.
 */
import { createHash } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import type { EnforcementLevel } from "@pulumi/policy";
import { PUBLIC_ENDPOINT_LABEL } from "../../policy/contract";
import type { SettingsOverrides } from "../../policy/config";
import { startAnalyzer, type AnalyzerDiagnostic, type AnalyzerSession } from "../../tools/policy/analyzer";
import { runPolicyGateOnResources, type GateDiagnostic, type GateResult } from "../../tools/policy/gate";
import { deepFreeze, inProcessAnalyzer } from "../../tools/policy/in-process";
import { analyzeRequest, type ResourceInput } from "../../tools/policy/requests";
import type { Plan, PlannedProvider } from "../../tools/plan/types";
import { named, planOf } from "../helpers/plan";

type Mutable = { -readonly [K in keyof ResourceInput]: ResourceInput[K] };

/** The stack whose plan is the baseline: one `br` cell, so every message names LGPD's bounds. */
const STACK = "dev";

/**
 * One compliant resource of each type the pack inspects (a rule's `resourceTypes`) that the dev plan
 * does not declare, wired to the plan's own keys, buckets, route table, account and project. The types
 * the pack only ever rejects (`NEVER_COMPLIANT`) have no fixture; a case adds one as its mutation.
 */
export function fixtures(plan: Plan): ResourceInput[] {
  const custom = (type: string, name: string) => named(plan, type, name);
  const aws = custom("pulumi:providers:aws", "br-aws");
  const gcp = custom("pulumi:providers:gcp", "br-gcp");
  const account = (JSON.parse(String(aws.inputs.allowedAccountIds)) as string[])[0];
  const project = String(gcp.inputs.project);
  const location = String(gcp.inputs.region);
  const lakeKey = String(custom("aws:kms/key:Key", "br-aws-lake-key").outputs.arn);
  const gcpKey = String(custom("gcp:kms/cryptoKey:CryptoKey", "br-gcp-keys-storage").id);
  const raw = custom("aws:s3/bucket:Bucket", "br-aws-raw");
  const landing = custom("aws:s3/bucket:Bucket", "br-aws-landing");
  const hmacSecret = custom("aws:secretsmanager/secret:Secret", "br-pseudonymisation-key-aws");
  const privateRoutes = custom("aws:ec2/routeTable:RouteTable", "br-ingestion-network-private");
  // A log group no case removes (the flow-log cases drop the flow logs' group).
  const deliveryLogs = custom("aws:cloudwatch/logGroup:LogGroup", "br-ingestion-merge-logs-error");
  const role = (name: string) => `arn:aws:iam::${account}:role/${name}`;
  const readCatalog = JSON.stringify({ Statement: [{ Effect: "Allow", Action: ["glue:GetTable"], Resource: "*" }] });
  const providerOf = (p: typeof aws): PlannedProvider => ({
    urn: p.urn,
    pkg: p.type.slice("pulumi:providers:".length),
    name: p.name,
    region: String(p.inputs.region),
    project: p.inputs.project === undefined ? undefined : String(p.inputs.project),
    isDefault: false,
  });
  const urnOf = (type: string, name: string) => `urn:pulumi:${plan.stack}::${plan.project}::${type}::${name}`;
  /** `propertyDependencies`: the URNs each input was computed from, as the engine records them. */
  const fixture = (
    type: string,
    name: string,
    inputs: Record<string, unknown>,
    propertyDependencies: Record<string, string[]> = {},
  ): ResourceInput => {
    return {
      urn: urnOf(type, name),
      type,
      name,
      custom: true,
      inputs,
      outputs: {},
      provider: providerOf(type.startsWith("aws:") ? aws : gcp),
      dependencies: [...new Set(Object.values(propertyDependencies).flat())],
      propertyDependencies,
      protect: false,
    };
  };
  return [
    // ---- AWS
    fixture(
      "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
      "br-raw-replication",
      {
        bucket: raw.inputs.bucket,
        role: role("replication"),
        rules: [{ id: "all", status: "Enabled", destination: { bucket: landing.outputs.arn } }],
      },
      { bucket: [raw.urn], rules: [landing.urn] },
    ),
    fixture("aws:iam/policy:Policy", "br-read-lake", { policy: readCatalog }),
    fixture("aws:msk/cluster:Cluster", "br-kafka", {
      kafkaVersion: "3.6.0",
      numberOfBrokerNodes: 3,
      brokerNodeGroupInfo: { instanceType: "kafka.m7g.large", clientSubnets: ["a", "b", "c"], securityGroups: ["sg"] },
      clientAuthentication: { sasl: { iam: true }, unauthenticated: false },
      encryptionInfo: {
        encryptionAtRestKmsKeyArn: lakeKey,
        encryptionInTransit: { clientBroker: "TLS", inCluster: true },
      },
    }),
    fixture("aws:kinesis/stream:Stream", "br-events", {
      encryptionType: "KMS",
      kmsKeyId: lakeKey,
      retentionPeriod: 24,
    }),
    fixture(
      "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream",
      "br-events-to-lake",
      {
        destination: "extended_s3",
        serverSideEncryption: { enabled: true, keyType: "CUSTOMER_MANAGED_CMK", keyArn: lakeKey },
        extendedS3Configuration: { bucketArn: raw.outputs.arn, roleArn: role("firehose") },
      },
      { extendedS3Configuration: [raw.urn] },
    ),
    // ---- event streams (docs/adr/0011): the prod plan's MSK path; the serverless cluster; MSK Connect's connector.
    fixture("aws:msk/serverlessCluster:ServerlessCluster", "br-kafka-serverless", {
      clusterName: "br-kafka-serverless",
      clientAuthentication: { sasl: { iam: { enabled: true } } },
      vpcConfigs: [{ subnetIds: ["a", "b", "c"], securityGroupIds: ["sg"] }],
    }),
    fixture(
      "aws:msk/clusterPolicy:ClusterPolicy",
      "br-kafka-firehose",
      {
        clusterArn: `arn:aws:kafka:sa-east-1:${account}:cluster/br-kafka/uuid`,
        policy: JSON.stringify({
          Statement: [
            {
              Sid: "FirehosePrivateConnection",
              Effect: "Allow",
              Principal: { Service: "firehose.amazonaws.com" },
              Action: "kafka:CreateVpcConnection",
              Resource: `arn:aws:kafka:sa-east-1:${account}:cluster/br-kafka/uuid`,
              Condition: { StringEquals: { "aws:SourceAccount": account } },
            },
          ],
        }),
      },
      { clusterArn: [urnOf("aws:msk/cluster:Cluster", "br-kafka")] },
    ),
    fixture("aws:msk/topic:Topic", "br-kafka-topic", {
      clusterArn: `arn:aws:kafka:sa-east-1:${account}:cluster/br-kafka/uuid`,
      name: "cart-events",
      partitionCount: 21,
      replicationFactor: 3,
      configs: JSON.stringify({ "retention.ms": String(72 * 3_600_000), "cleanup.policy": "delete" }),
    }),
    fixture("aws:msk/configuration:Configuration", "br-kafka-config", {
      name: "br-kafka-brokers",
      kafkaVersions: ["3.8.x.kraft"],
      serverProperties: "auto.create.topics.enable=false\nlog.retention.hours=72",
    }),
    fixture(
      "aws:cloudwatch/logStream:LogStream",
      "br-events-delivery",
      { name: "DestinationDelivery", logGroupName: String(deliveryLogs.inputs.name) },
      { logGroupName: [deliveryLogs.urn] },
    ),
    fixture(
      "aws:mskconnect/customPlugin:CustomPlugin",
      "br-partner-plugin",
      {
        name: "br-partner-iceberg-sink",
        contentType: "ZIP",
        location: { s3: { bucketArn: landing.outputs.arn, fileKey: "_system/kafka-connect/plugin.zip" } },
      },
      { location: [landing.urn] },
    ),
    fixture("aws:mskconnect/connector:Connector", "br-partner-connector", {
      name: "br-partner-clicks",
      kafkaconnectVersion: "3.7.x",
      kafkaCluster: {
        apacheKafkaCluster: { bootstrapServers: "kafka-1:9096", vpc: { securityGroups: ["sg"], subnets: ["a", "b"] } },
      },
      kafkaClusterClientAuthentication: { authenticationType: "NONE" },
      kafkaClusterEncryptionInTransit: { encryptionType: "TLS" },
      connectorConfiguration: {
        "connector.class": "org.apache.iceberg.connect.IcebergSinkConnector",
        "consumer.override.sasl.jaas.config":
          'org.apache.kafka.common.security.scram.ScramLoginModule required username="${secretsmanager:s:username}" password="${secretsmanager:s:password}";',
      },
      serviceExecutionRoleArn: role("partner-connect"),
    }),
    fixture("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "br-kafka-ingress", {
      securityGroupId: "sg",
      cidrIpv4: "10.0.0.0/16",
      ipProtocol: "tcp",
      fromPort: 9094,
      toPort: 9094,
    }),
    fixture("aws:ec2/securityGroupRule:SecurityGroupRule", "br-kafka-ingress-legacy", {
      type: "ingress",
      securityGroupId: "sg",
      protocol: "tcp",
      fromPort: 9094,
      toPort: 9094,
      cidrBlocks: ["10.0.0.0/16"],
    }),
    fixture(
      "aws:ec2/route:Route",
      "br-private-to-transit",
      { routeTableId: privateRoutes.id, destinationCidrBlock: "10.96.0.0/16", transitGatewayId: "tgw-0123" },
      { routeTableId: [privateRoutes.urn] },
    ),
    fixture(
      "aws:s3/bucketObject:BucketObject",
      "br-api-ingest-code",
      {
        bucket: landing.inputs.bucket,
        key: "_system/api-ingest.zip",
        serverSideEncryption: "aws:kms",
        kmsKeyId: lakeKey,
      },
      { bucket: [landing.urn] },
    ),
    fixture("aws:iam/userPolicy:UserPolicy", "br-auditor-read", { user: "auditor", policy: readCatalog }),
    fixture("aws:iam/groupPolicy:GroupPolicy", "br-auditors-read", { group: "auditors", policy: readCatalog }),
    fixture("aws:iam/policyAttachment:PolicyAttachment", "br-read-lake-attachment", {
      name: "br-read-lake",
      policyArn: `arn:aws:iam::${account}:policy/br-read-lake`,
      groups: ["auditors"],
    }),
    fixture("aws:iam/rolePoliciesExclusive:RolePoliciesExclusive", "br-api-ingest-policies", {
      roleName: "api-ingest",
      policyNames: ["api-ingest"],
    }),
    fixture(
      "aws:secretsmanager/secretPolicy:SecretPolicy",
      "br-pseudonymisation-key-aws-policy",
      {
        secretArn: hmacSecret.outputs.arn,
        policy: JSON.stringify({
          Statement: [
            {
              Effect: "Allow",
              Principal: { AWS: role("api-ingest") },
              Action: "secretsmanager:GetSecretValue",
              Resource: "*",
            },
          ],
        }),
      },
      { secretArn: [hmacSecret.urn] },
    ),
    // ---- GCP
    fixture("gcp:bigquery/connection:Connection", "br-lake-connection", { location, cloudResource: {} }),
    fixture("gcp:cloudfunctionsv2/function:Function", "br-collector", {
      name: "br-collector",
      // The one reviewed public endpoint (ADR 0005): the public-endpoint-declared rule keys on this label.
      labels: { [PUBLIC_ENDPOINT_LABEL.key]: PUBLIC_ENDPOINT_LABEL.value },
      location,
      kmsKeyName: gcpKey,
      serviceConfig: { serviceAccountEmail: `collector@${project}.iam.gserviceaccount.com` },
    }),
    fixture(
      "gcp:cloudfunctionsv2/functionIamMember:FunctionIamMember",
      "br-collector-public",
      { cloudFunction: "br-collector", location, role: "roles/cloudfunctions.invoker", member: "allUsers" },
      { cloudFunction: [urnOf("gcp:cloudfunctionsv2/function:Function", "br-collector")] },
    ),
    fixture("gcp:logging/projectBucketConfig:ProjectBucketConfig", "br-logs-audit", {
      project,
      bucketId: "audit",
      location,
      retentionDays: 400,
      locked: true,
    }),
    fixture("gcp:privilegedaccessmanager/entitlement:entitlement", "br-break-glass", {
      entitlementId: "break-glass",
      location: "global",
      parent: `projects/${project}`,
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
          resource: `//cloudresourcemanager.googleapis.com/projects/${project}`,
          resourceType: "cloudresourcemanager.googleapis.com/Project",
          roleBindings: [{ role: "roles/bigquery.dataViewer" }],
        },
      },
    }),
    fixture("gcp:dataflow/job:Job", "br-backfill", {
      templateGcsPath: `gs://dataflow-templates-${location}/latest/GCS_Text_to_BigQuery`,
      tempGcsLocation: "gs://staging/tmp",
      region: location,
      kmsKeyName: gcpKey,
      ipConfiguration: "WORKER_IP_PRIVATE",
      serviceAccountEmail: `backfill@${project}.iam.gserviceaccount.com`,
    }),
    fixture("gcp:bigquery/reservation:Reservation", "br-slots", {
      name: "br-slots",
      location,
      slotCapacity: 100,
      edition: "ENTERPRISE",
    }),
    fixture("gcp:cloudrun/service:Service", "br-api", {
      name: "br-api",
      location,
      template: { spec: { serviceAccountName: `api@${project}.iam.gserviceaccount.com` } },
    }),
    fixture(
      "gcp:cloudrun/iamMember:IamMember",
      "br-api-invoker",
      {
        service: "br-api",
        location,
        role: "roles/run.invoker",
        member: `serviceAccount:scheduler@${project}.iam.gserviceaccount.com`,
      },
      { service: [urnOf("gcp:cloudrun/service:Service", "br-api")] },
    ),
    fixture("gcp:organizations/iAMCustomRole:IAMCustomRole", "br-org-auditor", {
      orgId: "123456789012",
      roleId: "lakehouseAuditor",
      title: "Lakehouse auditor",
      permissions: ["logging.logEntries.list"],
    }),
  ];
}

/** Types a rule names only to reject them: long-lived credentials have no compliant form. */
export const NEVER_COMPLIANT: readonly string[] = [
  "aws:iam/accessKey:AccessKey",
  "aws:iam/userLoginProfile:UserLoginProfile",
  "gcp:serviceaccount/key:Key",
];

let cached: Promise<readonly ResourceInput[]> | undefined;

/**
 * The compliant baseline: every resource of the dev plan plus the fixtures, frozen (a case changes a
 * copy through `mutate`, never the baseline itself). The same array for every caller in a process.
 */
export function planBaseline(): Promise<readonly ResourceInput[]> {
  // A copy: `planOf` shares its plan with every other test file of this process.
  cached ??= planOf(STACK).then((plan) => deepFreeze(structuredClone([...plan.resources, ...fixtures(plan)])));
  return cached;
}

/** The custom resource named `name` (of `type`, if given): components share their child's name. */
function matches(r: ResourceInput, name: string, type?: string): boolean {
  return r.name === name && (type === undefined ? r.custom !== false : r.type === type);
}

/**
 * A copy of `resources` with `fn` applied to the inputs of the custom resource named `name` (of `type`,
 * when a name is shared, as a flow log and its log group are). Outputs follow the inputs `fn` changed,
 * as the engine's would after an update (analyzeStack reads outputs); `fn` may set other fields (`r`).
 */
export function mutate(
  resources: readonly ResourceInput[],
  name: string,
  fn: (inputs: Record<string, unknown>, r: Mutable) => void,
  type?: string,
): ResourceInput[] {
  let hit = 0;
  const out = resources.map((r) => {
    if (!matches(r, name, type)) return r;
    hit++;
    const copy: Mutable = structuredClone(r) as Mutable;
    const outputs = copy.outputs;
    fn(copy.inputs as Record<string, unknown>, copy);
    if (copy.outputs === outputs && outputs !== undefined) {
      const next: Record<string, unknown> = { ...outputs };
      for (const k of new Set([...Object.keys(r.inputs), ...Object.keys(copy.inputs)])) {
        if (isDeepStrictEqual(r.inputs[k], copy.inputs[k])) continue;
        if (k in copy.inputs) next[k] = copy.inputs[k];
        else delete next[k];
      }
      copy.outputs = next;
    }
    return copy;
  });
  if (hit !== 1) throw new Error(`mutate: expected one resource named ${name}, found ${hit}`);
  return out;
}

/** `resources` without the custom resource named `name` (of `type`, when a name is shared). */
export function without(resources: readonly ResourceInput[], name: string, type?: string): ResourceInput[] {
  const out = resources.filter((r) => !matches(r, name, type));
  if (out.length !== resources.length - 1) {
    throw new Error(`without: expected one resource named ${name}, found ${resources.length - out.length}`);
  }
  return out;
}

let served: Promise<AnalyzerSession> | undefined;

/**
 * The served analyzer, remembering each `analyze` answer per pack config and request. A case changes one
 * resource of the ~750 in the baseline, and a per-resource check sees nothing but the pack config and
 * that one request, so only the changed requests reach the analyzer again; `analyzeStack` always does.
 */
function remembering(s: AnalyzerSession): AnalyzerSession {
  let config = "";
  const answers = new Map<string, Promise<AnalyzerDiagnostic[]>>();
  return {
    packName: s.packName,
    packVersion: s.packVersion,
    policies: s.policies,
    async configure(c) {
      await s.configure(c);
      config = JSON.stringify(c);
    },
    analyze(r, providers) {
      const req = analyzeRequest(r, providers).serializeBinary();
      const key = createHash("sha256").update(config).update(req).digest("base64");
      let answer = answers.get(key);
      if (!answer) {
        answer = s.analyze(r, providers);
        answers.set(key, answer);
        answer.catch(() => answers.delete(key));
      }
      return answer.then((ds) => [...ds]);
    },
    analyzeStack: (resources) => s.analyzeStack(resources),
    close: () => s.close(),
  };
}

/**
 * The pack served in a child process and driven over gRPC, as the engine drives it: for the end-to-end
 * cases (the repository's plans pass, the bad fixture fails, the in-process answers are the served
 * ones). One per test file; each file's `after(closeSession)` closes it.
 */
export function servedSession(): Promise<AnalyzerSession> {
  served ??= startAnalyzer().then(remembering);
  return served;
}

/**
 * The pack's policies called in this process (tools/policy/in-process.ts, ADR 0016): for the rule
 * cases, a few milliseconds of rules each instead of a second and a half of protobuf decoding.
 */
export function session(): Promise<AnalyzerSession> {
  return Promise.resolve(inProcessAnalyzer());
}

export async function closeSession(): Promise<void> {
  if (served) {
    const s = await served;
    served = undefined;
    await s.close();
  }
}

/** The gate over `resources` with the in-process pack (`served: true`: the pack served over gRPC). */
export async function gate(
  resources: readonly ResourceInput[],
  opts: { settings?: SettingsOverrides; enforcementLevels?: Record<string, EnforcementLevel>; served?: boolean } = {},
): Promise<GateResult> {
  const { served: overGrpc, ...rest } = opts;
  return runPolicyGateOnResources("test", resources, {
    ...rest,
    session: await (overGrpc ? servedSession() : session()),
  });
}

/** `policy: detail` lines, sorted, for exact comparisons. */
export const lines = (ds: readonly GateDiagnostic[]): string[] => ds.map((d) => `${d.policyName}: ${d.detail}`).sort();

/**
 * Encryption in transit (GDPR Art. 32(1)(a), LGPD Art. 46): TLS-only S3, TLS from DMS to the source
 * databases, TLS on MSK. GCS, BigQuery and Pub/Sub APIs are HTTPS-only by construction.
 */
import { A } from "./articles";
import {
  asArray,
  attachedTo,
  bool,
  get,
  isRecord,
  label,
  peekStr,
  policyDocument,
  str,
  type ResourceRule,
  type ResourceView,
  type StackRule,
  eachKnown,
  reference,
  referenced,
  UnknownInputError,
} from "./common";

const IN_TRANSIT = [A.gdpr32_1_a, A.gdpr5_1_f, A.lgpd46, A.lgpd6_vii];

const S3_BUCKET = "aws:s3/bucket:Bucket";
const S3_POLICY = "aws:s3/bucketPolicy:BucketPolicy";

/** True if the document denies every request made without TLS (`aws:SecureTransport` = false). */
export function deniesInsecureTransport(doc: unknown): boolean {
  const parsed = policyDocument(doc);
  if (!parsed) return false;
  return parsed.Statement.some((s) => {
    if (s.Effect !== "Deny") return false;
    const principal = s.Principal;
    const everyone = principal === "*" || (isRecord(principal) && asArray(principal.AWS).includes("*"));
    const actions = asArray(s.Action);
    const allActions = actions.includes("*") || actions.includes("s3:*");
    const cond = isRecord(s.Condition) ? s.Condition : {};
    const boolCond = isRecord(cond.Bool) ? cond.Bool : {};
    const secure = boolCond["aws:SecureTransport"];
    return everyone && allActions && (secure === false || secure === "false" || asArray(secure).includes("false"));
  });
}

/** The policy document; an unknown one throws (fails closed) rather than reading as "no TLS rule". */
const readPolicy = (r: ResourceView): unknown => get(r.props, "policy");

export const s3TlsOnly: StackRule = {
  kind: "stack",
  name: "s3-tls-only",
  description: "Every S3 bucket has a bucket policy that denies requests not made over TLS.",
  domain: "transit",
  severity: "high",
  enforcementLevel: "mandatory",
  articles: IN_TRANSIT,
  remediation:
    "Attach an aws.s3.BucketPolicy with a statement { Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: [bucket ARN, bucket ARN + '/*'], Condition: { Bool: { 'aws:SecureTransport': 'false' } } }. Merge it with the bucket's other statements, because a bucket has only one policy.",
  resourceTypes: [S3_BUCKET, S3_POLICY],
  validate(resources, ctx) {
    eachKnown(
      resources.filter((r) => r.type === S3_POLICY),
      ctx,
      (p) => {
        if (!deniesInsecureTransport(readPolicy(p))) {
          ctx.report(`${label(p)} does not deny requests without TLS (no Deny on aws:SecureTransport = false).`, p.urn);
        }
      },
    );
    for (const b of resources.filter((r) => r.type === S3_BUCKET)) {
      const policies = attachedTo(resources, S3_POLICY, "bucket", b, ["bucket", "id"]);
      const inline = get(b.props, "policy");
      if (policies.length === 0 && !(inline !== undefined && deniesInsecureTransport(inline))) {
        ctx.report(`${label(b)} has no bucket policy denying requests without TLS.`, b.urn);
      }
    }
  },
};

/** DMS engines reached through AWS HTTPS APIs rather than a database wire protocol. */
const DMS_API_ENGINES = new Set([
  "s3",
  "kinesis",
  "dynamodb",
  "opensearch",
  "elasticsearch",
  "neptune",
  "redshift-serverless",
]);

export const dataInTransit: ResourceRule = {
  kind: "resource",
  name: "tls-in-transit",
  description: "DMS endpoints, MSK clusters and MSK Connect connectors encrypt traffic with TLS.",
  domain: "transit",
  severity: "high",
  enforcementLevel: "mandatory",
  articles: IN_TRANSIT,
  remediation:
    "Set sslMode to 'verify-full' (or at least 'require') on DMS database endpoints, with the source's CA in certificateArn for verify modes, and securityProtocol 'ssl-encryption' or 'sasl-ssl' on Kafka endpoints. On MSK, keep encryptionInTransit.clientBroker 'TLS' and inCluster true; on MSK Connect, set kafkaClusterEncryptionInTransit.encryptionType 'TLS'.",
  resourceTypes: ["aws:dms/endpoint:Endpoint", "aws:msk/cluster:Cluster", "aws:mskconnect/connector:Connector"],
  validate(r, ctx) {
    if (r.type === "aws:mskconnect/connector:Connector") {
      // MSK Connect reaches the brokers in PLAINTEXT unless told TLS (MSK Connect API, KafkaClusterEncryptionInTransit).
      const enc = str(r.props, "kafkaClusterEncryptionInTransit.encryptionType") ?? "PLAINTEXT";
      if (enc !== "TLS")
        ctx.report(
          `${label(r)} reads Kafka with encryptionType '${enc}'; set kafkaClusterEncryptionInTransit.encryptionType to 'TLS'.`,
          r.urn,
        );
      return;
    }
    if (r.type === "aws:dms/endpoint:Endpoint") {
      const engine = (str(r.props, "engineName") ?? "").toLowerCase();
      if (DMS_API_ENGINES.has(engine)) return;
      if (engine === "kafka") {
        const proto = str(r.props, "kafkaSettings.securityProtocol") ?? "plaintext";
        if (!/ssl/i.test(proto))
          ctx.report(
            `${label(r)} talks to Kafka with securityProtocol '${proto}'; use 'ssl-encryption' or 'sasl-ssl'.`,
            r.urn,
          );
        return;
      }
      const mode = str(r.props, "sslMode") ?? "none";
      if (!["require", "verify-ca", "verify-full"].includes(mode)) {
        ctx.report(
          `${label(r)} connects to ${engine || "the database"} with sslMode '${mode}'; use 'require', 'verify-ca' or 'verify-full'.`,
          r.urn,
        );
      }
      return;
    }
    // MSK's default is TLS between clients and brokers and inside the cluster; only an explicit downgrade fails.
    const clientBroker = str(r.props, "encryptionInfo.encryptionInTransit.clientBroker") ?? "TLS";
    if (clientBroker !== "TLS") {
      ctx.report(
        `${label(r)} allows '${clientBroker}' between clients and brokers; set encryptionInTransit.clientBroker to 'TLS'.`,
        r.urn,
      );
    }
    if (bool(r.props, "encryptionInfo.encryptionInTransit.inCluster") === false) {
      ctx.report(
        `${label(r)} does not encrypt traffic between brokers: set encryptionInTransit.inCluster to true.`,
        r.urn,
      );
    }
  },
};

const TOPIC = "gcp:pubsub/topic:Topic";
const SCHEMA = "gcp:pubsub/schema:Schema";

export const pubsubSchemaEnforced: StackRule = {
  kind: "stack",
  name: "pubsub-schema-enforced",
  description: "Pub/Sub topics validate messages against a schema declared in this stack.",
  domain: "records",
  severity: "medium",
  enforcementLevel: "advisory",
  articles: [A.gdpr5_1_c, A.gdpr25_1, A.lgpd6_iii],
  remediation:
    "Declare a gcp.pubsub.Schema (AVRO or PROTOCOL_BUFFER) listing only the fields the pipeline needs and set the topic's schemaSettings.schema to it. Pub/Sub then rejects messages carrying unexpected fields, such as raw identifiers that should have been pseudonymised at the edge.",
  resourceTypes: [TOPIC, SCHEMA],
  validate(resources, ctx) {
    const schemas = resources.filter((r) => r.type === SCHEMA);
    // Dead-letter topics receive whatever failed validation or delivery: a schema would reject it.
    const topics = resources.filter(
      (r) => r.type === TOPIC && !/(^|[-_.])(dlq|dead-letter|deadletter)([-_.]|$)/.test(r.name),
    );
    eachKnown(topics, ctx, (t) => {
      if (!referenced(schemas, t, "schemaSettings.schema", ["id", "name"]))
        ctx.report(`${label(t)} accepts messages without validating them against a schema of this stack.`, t.urn);
    });
  },
};

const DMS_ENDPOINT = "aws:dms/endpoint:Endpoint";
const DMS_CERTIFICATE = "aws:dms/certificate:Certificate";
const PEM_CERTIFICATE = /^-----BEGIN CERTIFICATE-----\r?\n[\s\S]+\r?\n-----END CERTIFICATE-----\s*$/;

export const dmsTlsTrust: StackRule = {
  kind: "stack",
  name: "dms-tls-trust",
  description:
    "DMS endpoints that verify the source's certificate trust a CA certificate declared in this stack, and every DMS certificate holds a PEM certificate or an Oracle wallet.",
  domain: "transit",
  severity: "high",
  enforcementLevel: "mandatory",
  articles: IN_TRANSIT,
  remediation:
    "Import the source database's CA as an aws.dms.Certificate (certificatePem with the PEM-encoded CA, or certificateWallet for Oracle) in this stack and set the endpoint's certificateArn to it whenever sslMode is 'verify-ca' or 'verify-full'. A verify mode without a known CA cannot tell the real source from an impostor, which leaves the replicated personal data open to interception.",
  resourceTypes: [DMS_CERTIFICATE, DMS_ENDPOINT],
  validate(resources, ctx) {
    const certs = resources.filter((r) => r.type === DMS_CERTIFICATE);
    for (const c of certs) {
      const pem = str(c.props, "certificatePem");
      const wallet = str(c.props, "certificateWallet");
      if (pem === undefined && wallet === undefined)
        ctx.report(`${label(c)} holds no certificate: set certificatePem or certificateWallet.`, c.urn);
      else if (pem !== undefined && !PEM_CERTIFICATE.test(pem.trim() + "\n"))
        ctx.report(`${label(c)} certificatePem is not a PEM-encoded certificate.`, c.urn);
    }
    for (const e of resources.filter((r) => r.type === DMS_ENDPOINT)) {
      const mode = str(e.props, "sslMode") ?? "none";
      if (mode !== "verify-ca" && mode !== "verify-full") continue;
      const deps = e.propertyDependencies.certificateArn ?? [];
      const arn = peekStr(e.props, "certificateArn");
      if (arn === undefined) {
        ctx.report(
          `${label(e)} uses sslMode '${mode}' without certificateArn: it has no CA to verify the source against.`,
          e.urn,
        );
        continue;
      }
      const found = certs.some(
        (c) =>
          deps.includes(c.urn) || (arn !== null && [c.props.certificateArn, c.props.arn, c.props.id].includes(arn)),
      );
      if (!found)
        ctx.report(
          `${label(e)} verifies the source against '${arn ?? "a certificate created elsewhere"}', a certificate not declared in this stack.`,
          e.urn,
        );
    }
  },
};

const GLUE_CONNECTION = "aws:glue/connection:Connection";
/** Connection properties (and OpenSearch `SparkProperties` keys) that hold a password in clear. */
const PLAIN_PASSWORD =
  /^(PASSWORD|KAFKA_SASL_SCRAM_PASSWORD|KAFKA_SASL_PLAIN_PASSWORD|KAFKA_CLIENT_KEY_PASSWORD|.*\.auth\.pass|.*password)$/i;

/** The connection's properties, with OpenSearch's `SparkProperties` JSON merged in (undefined while unknown). */
function glueConnectionProperties(r: ResourceView): Record<string, unknown> | undefined {
  const props = get(r.props, "connectionProperties");
  if (!isRecord(props)) return {};
  const spark = peekStr(props, "SparkProperties");
  if (spark === null) return undefined;
  let parsed: unknown = {};
  try {
    parsed = spark === undefined ? {} : JSON.parse(spark);
  } catch {
    parsed = {};
  }
  return { ...props, ...(isRecord(parsed) ? parsed : {}) };
}

export const glueConnectionPrivateTls: ResourceRule = {
  kind: "resource",
  name: "glue-connection-private-tls",
  description:
    "Glue connections run in a VPC subnet behind security groups, encrypt traffic to their data store, and take credentials from Secrets Manager, never from their properties.",
  domain: "transit",
  severity: "high",
  enforcementLevel: "mandatory",
  articles: IN_TRANSIT,
  remediation:
    "Set physicalConnectionRequirements.subnetId (a private subnet), availabilityZone and securityGroupIdLists on every aws.glue.Connection, so the job reaches the source through the VPC rather than a public route. Turn TLS on: JDBC_ENFORCE_SSL 'true' on JDBC, KAFKA_SSL_ENABLED 'true' on Kafka, an https:// opensearch.nodes and opensearch.net.ssl 'true' in an OpenSearch connection's SparkProperties. Reference the credentials with SECRET_ID (secretId in SparkProperties) instead of USERNAME/PASSWORD, because connection properties are readable by anyone who may call glue:GetConnection.",
  resourceTypes: [GLUE_CONNECTION],
  validate(r, ctx) {
    const type = (str(r.props, "connectionType") ?? "JDBC").toUpperCase();
    const subnet = peekStr(r.props, "physicalConnectionRequirements.subnetId");
    const groups = get(r.props, "physicalConnectionRequirements.securityGroupIdLists");
    if (subnet === undefined || subnet === "")
      ctx.report(
        `${label(r)} is not placed in a VPC subnet: set physicalConnectionRequirements.subnetId to a private subnet.`,
        r.urn,
      );
    else if (!Array.isArray(groups) || groups.length === 0)
      ctx.report(`${label(r)} has no security group: set physicalConnectionRequirements.securityGroupIdLists.`, r.urn);
    const props = glueConnectionProperties(r);
    if (props === undefined) throw new UnknownInputError("connectionProperties.SparkProperties", undefined);
    const plain = Object.keys(props).filter((k) => PLAIN_PASSWORD.test(k));
    if (plain.length > 0)
      ctx.report(
        `${label(r)} holds a password in its properties (${plain.join(", ")}); reference a Secrets Manager secret with SECRET_ID (secretId in SparkProperties).`,
        r.urn,
      );
    const is = (k: string) => String(props[k] ?? "").toLowerCase() === "true";
    if (type === "JDBC" && !is("JDBC_ENFORCE_SSL"))
      ctx.report(`${label(r)} does not enforce TLS: set JDBC_ENFORCE_SSL to 'true'.`, r.urn);
    if (type === "KAFKA" && !is("KAFKA_SSL_ENABLED"))
      ctx.report(`${label(r)} does not use TLS: set KAFKA_SSL_ENABLED to 'true'.`, r.urn);
    if (type === "OPENSEARCH") {
      const nodes = String(props["opensearch.nodes"] ?? "");
      if (!nodes.startsWith("https://") || !is("opensearch.net.ssl"))
        ctx.report(
          `${label(r)} reaches OpenSearch without TLS: use an https:// opensearch.nodes and set opensearch.net.ssl to 'true'.`,
          r.urn,
        );
    }
  },
};

const SCHEDULER_JOB = "gcp:cloudscheduler/job:Job";

/**
 * A Cloud Scheduler job's HTTP target (here: the subject-rights worker) is a private service reached over
 * the internet's front end: the call is TLS and carries a Google-signed token of a user-managed account,
 * the one the service's invoker grant names. The Cloud Scheduler service agent cannot be that account
 * (cloud.google.com/scheduler/docs/http-target-auth: "Do not use the default Cloud Scheduler service
 * account"), and the default compute account holds roles/editor. Pub/Sub and App Engine targets are
 * authenticated by Google itself.
 */
export const scheduledCallsAuthenticated: ResourceRule = {
  kind: "resource",
  name: "scheduled-calls-authenticated",
  description:
    "A Cloud Scheduler job calls its HTTP target over HTTPS with an OIDC or OAuth token of a dedicated service account.",
  domain: "transit",
  severity: "high",
  enforcementLevel: "mandatory",
  articles: [...IN_TRANSIT, A.gdpr32_1_b, A.lgpd49],
  remediation:
    "Give the job's httpTarget an https:// uri and an oidcToken (Cloud Run and Cloud Functions targets, audience = the service URL) or an oauthToken (Google APIs) whose serviceAccountEmail is a service account created for the schedule, holding only the invoker role on its target; never the default compute account or the Cloud Scheduler service agent.",
  resourceTypes: [SCHEDULER_JOB],
  validate(r, ctx) {
    if (get(r.props, "httpTarget") === undefined) return;
    const uri = peekStr(r.props, "httpTarget.uri");
    if (uri === null) reference(r.props, "httpTarget.uri", ctx, r, "the URL of a service created in this update");
    else if (uri === undefined || !uri.startsWith("https://"))
      ctx.report(`${label(r)} calls '${uri ?? "unset"}' without TLS: use an https:// uri.`, r.urn);
    const kind = get(r.props, "httpTarget.oidcToken") !== undefined ? "oidcToken" : "oauthToken";
    if (get(r.props, `httpTarget.${kind}`) === undefined) {
      ctx.report(
        `${label(r)} calls its target without a token: set httpTarget.oidcToken or httpTarget.oauthToken.`,
        r.urn,
      );
      return;
    }
    const path = `httpTarget.${kind}.serviceAccountEmail`;
    const email = peekStr(r.props, path);
    if (email === null) reference(r.props, path, ctx, r, "a service account created in this update");
    else if (email === undefined) ctx.report(`${label(r)} sets ${kind} without a serviceAccountEmail.`, r.urn);
    else if (/-compute@developer\.gserviceaccount\.com$|@gcp-sa-cloudscheduler\.iam\.gserviceaccount\.com$/.test(email))
      ctx.report(`${label(r)} signs its calls as '${email}': use a service account dedicated to the schedule.`, r.urn);
  },
};

export const transitRules = [
  s3TlsOnly,
  dataInTransit,
  pubsubSchemaEnforced,
  dmsTlsTrust,
  glueConnectionPrivateTls,
  scheduledCallsAuthenticated,
] as const;

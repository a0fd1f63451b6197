/**
 * Deletion protection on stateful resources in production (GDPR Art. 32(1)(b)-(c): availability and
 * resilience; LGPD Art. 46: protection against "destruição, perda" accidental or unlawful), and
 * pseudonymisation key strength (GDPR Art. 4(5), 25(1), 32(1)(a); LGPD Art. 12, 13 §4).
 */
import { STATEFUL_TYPES, isStateful, type StatefulType } from "../contract";
import { A } from "./articles";
import {
  bool,
  dataClassOf,
  eachKnown,
  environmentOf,
  get,
  label,
  num,
  reference,
  referenced,
  str,
  type ResourceRule,
  type ResourceView,
  type RuleContext,
  type StackRule,
} from "./common";

/**
 * The cloud's own deletion-protection flag of each stateful type, where one exists. Keyed by the
 * contract's list, so a type added there must be given its flag (or `null`) here.
 */
const NATIVE_PROTECTION: Readonly<Record<StatefulType, ((r: ResourceView) => boolean) | null>> = {
  "aws:s3/bucket:Bucket": null,
  "aws:glue/catalogDatabase:CatalogDatabase": null,
  "aws:glue/catalogTable:CatalogTable": null,
  "aws:dynamodb/table:Table": (r) => bool(r.props, "deletionProtectionEnabled") === true,
  "aws:msk/cluster:Cluster": null,
  "aws:kinesis/stream:Stream": null,
  "aws:cloudwatch/logGroup:LogGroup": (r) => bool(r.props, "deletionProtectionEnabled") === true,
  "gcp:bigquery/dataset:Dataset": null,
  "gcp:bigquery/table:Table": (r) => bool(r.props, "deletionProtection") === true,
  "gcp:storage/bucket:Bucket": null,
  "gcp:pubsub/topic:Topic": null,
  "gcp:pubsub/subscription:Subscription": null,
  "gcp:vertex/aiFeatureOnlineStore:AiFeatureOnlineStore": null,
  "gcp:workbench/instance:Instance": (r) => bool(r.props, "enableDeletionProtection") === true,
  "aws:kms/key:Key": null,
  "aws:secretsmanager/secret:Secret": null,
  "gcp:kms/keyRing:KeyRing": null,
  "gcp:kms/cryptoKey:CryptoKey": null,
  "gcp:secretmanager/secret:Secret": (r) => bool(r.props, "deletionProtection") === true,
  "random:index/randomBytes:RandomBytes": null,
  "aws:dms/replicationConfig:ReplicationConfig": null,
  "aws:cloudtrail/trail:Trail": null,
  "gcp:datacatalog/taxonomy:Taxonomy": null,
  "gcp:datacatalog/policyTag:PolicyTag": null,
};

/** Properties that, when true, let a delete wipe the contents. */
const FORCE_DELETE: Readonly<Partial<Record<StatefulType, string>>> = {
  "aws:s3/bucket:Bucket": "forceDestroy",
  "gcp:storage/bucket:Bucket": "forceDestroy",
  "gcp:bigquery/dataset:Dataset": "deleteContentsOnDestroy",
  "gcp:vertex/aiFeatureOnlineStore:AiFeatureOnlineStore": "forceDestroy",
};

export const deletionProtection: ResourceRule = {
  kind: "resource",
  name: "prod-deletion-protection",
  description: "Stateful resources in production are protected from deletion and never force-destroyed.",
  domain: "protection",
  severity: "high",
  enforcementLevel: "mandatory",
  articles: [A.gdpr32_1_b, A.gdpr32_1_c, A.lgpd46],
  remediation:
    "Create stateful resources with the Pulumi resource option protect: true in production (the program does it from lakehouse:protect), or turn on the cloud's own deletion protection where it exists, and leave forceDestroy / deleteContentsOnDestroy off. Erasure of personal data happens through the erasure workers and retention rules, not by deleting stores.",
  resourceTypes: [...STATEFUL_TYPES],
  validate(r, ctx) {
    if (!isStateful(r.type)) return;
    const env = environmentOf(r);
    if (env === undefined || !ctx.settings.productionEnvironments.includes(env)) return;
    // Views and external tables hold no data: dropping one loses nothing.
    if (
      r.type === "gcp:bigquery/table:Table" &&
      (get(r.props, "view") !== undefined || get(r.props, "externalDataConfiguration") !== undefined)
    )
      return;
    // Only audit log groups are records; application logs may come and go with their function.
    if (r.type === "aws:cloudwatch/logGroup:LogGroup" && dataClassOf(r)?.cls !== "audit") return;
    const native = NATIVE_PROTECTION[r.type];
    if (!r.protect && !(native && native(r))) {
      ctx.report(
        `${label(r)} is a stateful '${env}' resource without deletion protection: set the protect resource option.`,
        r.urn,
      );
    }
    const force = FORCE_DELETE[r.type];
    if (force && bool(r.props, force) === true) {
      ctx.report(`${label(r)} sets ${force}: a delete would wipe its contents in '${env}'.`, r.urn);
    }
  },
};

export const hmacKeyStrength: ResourceRule = {
  kind: "resource",
  name: "pseudonymisation-key-strength",
  description: "The keyed-HMAC pseudonymisation key is generated with at least the configured number of random bytes.",
  domain: "pseudonymisation",
  severity: "high",
  enforcementLevel: "mandatory",
  articles: [A.gdpr4_5, A.gdpr25_1, A.gdpr32_1_a_pseudo, A.lgpd13_4, A.lgpd12, A.lgpd46],
  remediation:
    "Generate the pseudonymisation key with random.RandomBytes of length 32 or more (256 bits for HMAC-SHA256). A short key lets anyone with the pseudonymised data brute-force identifiers back, which turns pseudonymous data into personal data again.",
  resourceTypes: ["random:index/randomBytes:RandomBytes"],
  validate(r, ctx) {
    const length = num(r.props, "length");
    const min = ctx.settings.minHmacKeyBytes;
    if (length === undefined || length < min) {
      ctx.report(
        `${label(r)} is ${length ?? "an unknown number of"} bytes; pseudonymisation keys need at least ${min}.`,
        r.urn,
      );
    }
  },
};

export const projectServicesKept: ResourceRule = {
  kind: "resource",
  name: "project-services-kept-on-destroy",
  description: "Enabling a GCP API never disables it, or the services depending on it, when the resource is destroyed.",
  domain: "protection",
  severity: "medium",
  enforcementLevel: "mandatory",
  articles: [A.gdpr32_1_b, A.gdpr32_1_c, A.lgpd46],
  remediation:
    "Set disableOnDestroy false and disableDependentServices false on every gcp.projects.Service. The provider's default disables the API when the resource is deleted, so removing one component (or renaming the resource) would turn off BigQuery, Cloud KMS or Secret Manager for the whole project: every store and key of the cell becomes unavailable, and some services delete their resources after the API stays disabled.",
  resourceTypes: ["gcp:projects/service:Service"],
  validate(r, ctx) {
    if (bool(r.props, "disableOnDestroy") !== false) {
      ctx.report(
        `${label(r)} disables '${str(r.props, "service") ?? "the API"}' when destroyed: set disableOnDestroy to false.`,
        r.urn,
      );
    }
    if (bool(r.props, "disableDependentServices") === true) {
      ctx.report(
        `${label(r)} disables the services that depend on '${str(r.props, "service") ?? "the API"}': set disableDependentServices to false.`,
        r.urn,
      );
    }
  },
};

const FUNCTION = "aws:lambda/function:Function";
const INVOKE_CONFIG = "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig";
const EVENT_SOURCE_MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping";

/**
 * A mapping that reads a stream (DynamoDB, Kinesis, Kafka: the sources that take a `startingPosition`)
 * retries a failing batch until its records expire by default (`maximumRetryAttempts` -1), blocking the
 * shard, and then drops them; it must bound its retries and keep the records that fail them (Lambda
 * developer guide, "Using Lambda with DynamoDB", error handling and on-failure destinations).
 */
function checkStreamMapping(m: ResourceView, ctx: RuleContext): void {
  if (str(m.props, "startingPosition") === undefined) return; // a queue: its own redrive policy keeps failures
  if (
    reference(m.props, "destinationConfig.onFailure.destinationArn", ctx, m, "a queue created in this update") ===
    undefined
  )
    ctx.report(`${label(m)} has no on-failure destination: stream records that fail every retry are dropped.`, m.urn);
  const retries = num(m.props, "maximumRetryAttempts");
  if (retries === undefined || retries < 0)
    ctx.report(
      `${label(m)} retries a failing batch until its records expire (maximumRetryAttempts ${retries ?? "unset"}), blocking the shard: set a bound.`,
      m.urn,
    );
}

export const functionFailuresKept: StackRule = {
  kind: "stack",
  name: "function-failures-kept",
  description:
    "Every Lambda function logs to a log group of this stack and keeps the asynchronous events that failed every retry (an on-failure destination or a dead-letter queue), never dropping them; a stream's event source mapping bounds its retries and keeps the records that fail them.",
  domain: "protection",
  severity: "medium",
  enforcementLevel: "mandatory",
  articles: [A.gdpr32_1_b, A.gdpr32_1_c, A.lgpd46],
  remediation:
    'Set loggingConfig.logGroup to a log group declared in the stack (encrypted, with retention), created before the function. Give the function an aws.lambda.FunctionEventInvokeConfig with destinationConfig.onFailure.destination (an encrypted SQS queue) or a deadLetterConfig.targetArn. Without either, Lambda discards an event after its last retry (Lambda developer guide, "Error handling and automatic retries"): a file or a pull that is never loaded, and no trace of it. Give an aws.lambda.EventSourceMapping on a stream a maximumRetryAttempts of 0 or more and a destinationConfig.onFailure.destinationArn (an encrypted SQS queue).',
  resourceTypes: [FUNCTION, INVOKE_CONFIG, EVENT_SOURCE_MAPPING],
  validate(resources, ctx) {
    eachKnown(
      resources.filter((r) => r.type === EVENT_SOURCE_MAPPING),
      ctx,
      (m) => checkStreamMapping(m, ctx),
    );
    const functions = resources.filter((r) => r.type === FUNCTION);
    const configs = resources.filter((r) => r.type === INVOKE_CONFIG);
    const kept = new Set<string>();
    eachKnown(configs, ctx, (c) => {
      const target = referenced(functions, c, "functionName", ["name"]);
      if (reference(c.props, "destinationConfig.onFailure.destination", ctx, c, "a queue created in this update")) {
        if (target) kept.add(target.urn);
      } else {
        ctx.report(`${label(c)} has no on-failure destination: events that fail every retry are dropped.`, c.urn);
      }
    });
    eachKnown(functions, ctx, (f) => {
      if (reference(f.props, "loggingConfig.logGroup", ctx, f, "a log group created in this update") === undefined)
        ctx.report(
          `${label(f)} logs to the log group Lambda creates itself (no key, kept forever): set loggingConfig.logGroup.`,
          f.urn,
        );
      if (!kept.has(f.urn) && reference(f.props, "deadLetterConfig.targetArn", ctx, f, "a queue") === undefined)
        ctx.report(
          `${label(f)} drops asynchronous events after its last retry: give it an on-failure destination or a dead-letter queue.`,
          f.urn,
        );
    });
  },
};

const DYNAMODB_TABLE = "aws:dynamodb/table:Table";

export const dynamodbPointInTimeRecovery: ResourceRule = {
  kind: "resource",
  name: "dynamodb-point-in-time-recovery",
  description:
    "Every DynamoDB table (the API sources' cursors: which records have landed; the data-subject requests) can be restored to any second of the last 35 days.",
  domain: "protection",
  severity: "medium",
  enforcementLevel: "mandatory",
  articles: [A.gdpr32_1_b, A.gdpr32_1_c, A.lgpd46],
  remediation:
    'Set pointInTimeRecovery.enabled to true (DynamoDB developer guide, "Point-in-time recovery for DynamoDB"). A cursor lost or overwritten by mistake makes a puller start over (duplicates to reconcile) or skip records; a restore brings back the exact position.',
  resourceTypes: [DYNAMODB_TABLE],
  validate(r, ctx) {
    if (bool(r.props, "pointInTimeRecovery.enabled") !== true)
      ctx.report(`${label(r)} has no point-in-time recovery: set pointInTimeRecovery.enabled to true.`, r.urn);
  },
};

export const protectionRules = [
  deletionProtection,
  hmacKeyStrength,
  projectServicesKept,
  functionFailuresKept,
  dynamodbPointInTimeRecovery,
] as const;

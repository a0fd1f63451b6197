/**
 * Encryption at rest with customer-managed keys that rotate (GDPR Art. 32(1)(a), LGPD Art. 46).
 * A customer-managed key lets the controller revoke access, log every use and crypto-shred; the
 * cloud's default keys do neither, so "encrypted" alone is not enough here.
 */
import { A } from "./articles";
import {
  asArray,
  attachedTo,
  bool,
  get,
  isUnknown,
  label,
  list,
  num,
  peekStr,
  reference,
  str,
  type ResourceRule,
  type ResourceView,
  type RuleContext,
  type StackRule,
  UnknownInputError,
  eachKnown,
  referenced,
} from "./common";

const AT_REST = [A.gdpr32_1_a, A.gdpr25_1, A.gdpr5_1_f, A.lgpd46, A.lgpd6_vii, A.lgpd49];

/** Reports unless `path` references a key. Returns true when set (or unknown, after an advisory). */
function requireKey(r: ResourceView, ctx: RuleContext, path: string, hint: string): boolean {
  const ref = reference(r.props, path, ctx, r, "a customer-managed key created in this update");
  if (ref === undefined) {
    ctx.report(`${label(r)} has no customer-managed key: ${hint}`, r.urn);
    return false;
  }
  return true;
}

/** AWS-managed key aliases (`alias/aws/<service>`) are not customer-managed. */
function notAwsManaged(r: ResourceView, ctx: RuleContext, path: string): void {
  // An unknown reference was already named by `reference` (advisory): nothing more to read here.
  if (isUnknown(rawAt(r, path))) return;
  const v = str(r.props, path);
  if (v !== undefined && /(^|:)alias\/aws\//.test(v)) {
    ctx.report(`${label(r)} uses the AWS-managed key '${v}' in ${path}; use a customer-managed KMS key.`, r.urn);
  }
}

/** The raw value at a path, unknown sentinels included (never throws on them). */
function rawAt(r: ResourceView, path: string): unknown {
  try {
    return get(r.props, path);
  } catch (e) {
    if (e instanceof UnknownInputError) return UNKNOWN_MARK;
    throw e;
  }
}
const UNKNOWN_MARK = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

const S3_BUCKET = "aws:s3/bucket:Bucket";
/** API cursors (components/aws/sources/api-source.ts): which records of a source have landed. */
const DYNAMODB_TABLE = "aws:dynamodb/table:Table";
const S3_SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration";

/** Checks SSE rules (split resource or legacy inline block); returns true if at least one rule is KMS with a key. */
function checkSseRules(r: ResourceView, ctx: RuleContext, rulesPath: string): boolean {
  const rules = list(r.props, rulesPath);
  let ok = false;
  rules.forEach((_, i) => {
    const base = `${rulesPath}[${i}].applyServerSideEncryptionByDefault`;
    const alg = str(r.props, `${base}.sseAlgorithm`);
    if (alg !== "aws:kms" && alg !== "aws:kms:dsse") {
      ctx.report(
        `${label(r)} uses sseAlgorithm '${alg ?? "none"}'; only 'aws:kms' or 'aws:kms:dsse' with a customer-managed key is allowed.`,
        r.urn,
      );
      return;
    }
    if (
      requireKey(r, ctx, `${base}.kmsMasterKeyId`, `'aws:kms' without kmsMasterKeyId uses the AWS-managed key aws/s3.`)
    ) {
      notAwsManaged(r, ctx, `${base}.kmsMasterKeyId`);
      ok = true;
    }
  });
  if (rules.length === 0) ctx.report(`${label(r)} has no encryption rule.`, r.urn);
  return ok;
}

export const s3BucketCmk: StackRule = {
  kind: "stack",
  name: "s3-bucket-cmk-encryption",
  description:
    "S3 buckets are encrypted with a customer-managed KMS key (v7 split BucketServerSideEncryptionConfiguration).",
  domain: "encryption",
  severity: "critical",
  enforcementLevel: "mandatory",
  articles: AT_REST,
  remediation:
    "Attach an aws.s3.BucketServerSideEncryptionConfiguration to the bucket with sseAlgorithm 'aws:kms' and kmsMasterKeyId set to the cell's customer-managed key. Enable bucketKeyEnabled to keep KMS request costs down.",
  resourceTypes: [S3_BUCKET, S3_SSE],
  validate(resources, ctx) {
    for (const sse of resources.filter((r) => r.type === S3_SSE)) checkSseRules(sse, ctx, "rules");
    for (const b of resources.filter((r) => r.type === S3_BUCKET)) {
      const attached = attachedTo(resources, S3_SSE, "bucket", b, ["bucket", "id"]);
      const inline = list(b.props, "serverSideEncryptionConfiguration.rules").length > 0;
      if (attached.length === 0 && !inline) {
        ctx.report(
          `${label(b)} has no BucketServerSideEncryptionConfiguration, so it is encrypted with the S3-managed key only.`,
          b.urn,
        );
      } else if (inline && attached.length === 0) {
        checkSseRules(b, ctx, "serverSideEncryptionConfiguration.rules");
      }
    }
  },
};

export const kmsKeyRotation: ResourceRule = {
  kind: "resource",
  name: "kms-key-rotation",
  description: "Customer-managed keys rotate automatically at least once a year.",
  domain: "encryption",
  severity: "high",
  enforcementLevel: "mandatory",
  articles: [A.gdpr32_1_a_rotation, A.lgpd46_rotation],
  remediation:
    "Set enableKeyRotation to true on aws.kms.Key (and rotationPeriodInDays at most the configured maximum), and rotationPeriod (for example '7776000s') on gcp.kms.CryptoKey. Rotation keeps old versions for decryption, so nothing has to be re-encrypted.",
  resourceTypes: ["aws:kms/key:Key", "gcp:kms/cryptoKey:CryptoKey"],
  validate(r, ctx) {
    const max = ctx.settings.maxKeyRotationDays;
    if (r.type === "aws:kms/key:Key") {
      const spec = str(r.props, "customerMasterKeySpec") ?? "SYMMETRIC_DEFAULT";
      // AWS rotates symmetric encryption keys only; asymmetric and HMAC keys cannot rotate.
      if (spec !== "SYMMETRIC_DEFAULT") return;
      if (bool(r.props, "enableKeyRotation") !== true) {
        ctx.report(`${label(r)} does not rotate: set enableKeyRotation to true.`, r.urn);
        return;
      }
      const days = num(r.props, "rotationPeriodInDays") ?? 365;
      if (days > max) ctx.report(`${label(r)} rotates every ${days} days; the maximum is ${max}.`, r.urn);
      return;
    }
    const purpose = str(r.props, "purpose") ?? "ENCRYPT_DECRYPT";
    if (purpose !== "ENCRYPT_DECRYPT") return; // Cloud KMS rotates symmetric keys only.
    const period = str(r.props, "rotationPeriod");
    if (period === undefined) {
      ctx.report(`${label(r)} does not rotate: set rotationPeriod.`, r.urn);
      return;
    }
    const m = /^(\d+(?:\.\d+)?)s$/.exec(period);
    const days = m ? Number(m[1]) / 86400 : Number.NaN;
    if (!(days <= max)) ctx.report(`${label(r)} rotates every '${period}'; the maximum is ${max} days.`, r.urn);
  },
};

export const kmsAliasTarget: StackRule = {
  kind: "stack",
  name: "kms-alias-targets-managed-key",
  description: "KMS aliases point at a customer-managed key declared in the same stack.",
  domain: "encryption",
  severity: "low",
  enforcementLevel: "advisory",
  articles: [A.gdpr32_1_a, A.lgpd46],
  remediation:
    "Point the alias's targetKeyId at an aws.kms.Key of this stack. An alias to a key managed elsewhere hides which key, rotation and key policy actually protect the data.",
  resourceTypes: ["aws:kms/alias:Alias"],
  validate(resources, ctx) {
    const keys = resources.filter((r) => r.type === "aws:kms/key:Key");
    for (const a of resources.filter((r) => r.type === "aws:kms/alias:Alias")) {
      const name = str(a.props, "name") ?? "";
      if (name.startsWith("alias/aws/")) {
        ctx.report(`${label(a)} uses the reserved prefix 'alias/aws/'.`, a.urn);
        continue;
      }
      const deps = a.propertyDependencies.targetKeyId ?? [];
      const target = str(a.props, "targetKeyId");
      const found = keys.some(
        (k) =>
          deps.includes(k.urn) || (target !== undefined && [k.props.arn, k.props.keyId, k.props.id].includes(target)),
      );
      if (!found) ctx.report(`${label(a)} targets a key that is not declared in this stack.`, a.urn);
    }
  },
};

const BQ_DATASET = "gcp:bigquery/dataset:Dataset";
const BQ_TABLE = "gcp:bigquery/table:Table";
const BQ_TRANSFER = "gcp:bigquery/dataTransferConfig:DataTransferConfig";

/** True for datasets whose data BigQuery does not store: Omni (data stays in S3) or federated (Glue). */
function datasetStoresNoData(d: ResourceView): boolean {
  const loc = (str(d.props, "location") ?? "").toLowerCase();
  return loc.startsWith("aws-") || loc.startsWith("azure-") || get(d.props, "externalDatasetReference") !== undefined;
}

/** True for tables BigQuery does not store: views, external tables, BigLake/Iceberg over a bucket. */
export function tableStoresNoData(t: ResourceView): boolean {
  return (
    get(t.props, "view") !== undefined ||
    get(t.props, "externalDataConfiguration") !== undefined ||
    get(t.props, "biglakeConfiguration") !== undefined
  );
}

/** Datasets a table or transfer belongs to, by dependency or by `datasetId` value. */
export function datasetOf(resources: readonly ResourceView[], r: ResourceView, prop: string): ResourceView | undefined {
  const deps = r.propertyDependencies[prop] ?? [];
  const id = r.props[prop];
  return resources.find(
    (d) =>
      d.type === BQ_DATASET &&
      (deps.includes(d.urn) || (typeof id === "string" && (d.props.datasetId === id || d.props.id === id))),
  );
}

export const bigqueryCmek: StackRule = {
  kind: "stack",
  name: "bigquery-cmek",
  description: "BigQuery datasets, tables and transfers are encrypted with a Cloud KMS key (CMEK).",
  domain: "encryption",
  severity: "critical",
  enforcementLevel: "mandatory",
  articles: AT_REST,
  remediation:
    "Set defaultEncryptionConfiguration.kmsKeyName on every gcp.bigquery.Dataset so that new tables inherit the cell's key, and encryptionConfiguration.kmsKeyName on tables created in datasets without one. Grant the BigQuery service agent roles/cloudkms.cryptoKeyEncrypterDecrypter on the key.",
  resourceTypes: [BQ_DATASET, BQ_TABLE, BQ_TRANSFER],
  validate(resources, ctx) {
    const cmekDataset = (d: ResourceView | undefined): boolean =>
      d !== undefined &&
      (datasetStoresNoData(d) || str(d.props, "defaultEncryptionConfiguration.kmsKeyName") !== undefined);
    for (const d of resources.filter((r) => r.type === BQ_DATASET)) {
      if (datasetStoresNoData(d)) continue;
      requireKey(d, ctx, "defaultEncryptionConfiguration.kmsKeyName", "set defaultEncryptionConfiguration.kmsKeyName.");
    }
    for (const t of resources.filter((r) => r.type === BQ_TABLE)) {
      if (tableStoresNoData(t)) continue;
      if (get(t.props, "encryptionConfiguration.kmsKeyName") !== undefined) {
        requireKey(t, ctx, "encryptionConfiguration.kmsKeyName", "set encryptionConfiguration.kmsKeyName.");
        continue;
      }
      if (!cmekDataset(datasetOf(resources, t, "datasetId"))) {
        ctx.report(
          `${label(t)} has no customer-managed key: set encryptionConfiguration.kmsKeyName or create it in a dataset of this stack with defaultEncryptionConfiguration.`,
          t.urn,
        );
      }
    }
    for (const x of resources.filter((r) => r.type === BQ_TRANSFER)) {
      if (get(x.props, "encryptionConfiguration.kmsKeyName") !== undefined) continue;
      if (!cmekDataset(datasetOf(resources, x, "destinationDatasetId"))) {
        ctx.report(
          `${label(x)} has no customer-managed key: set encryptionConfiguration.kmsKeyName or write into a dataset with defaultEncryptionConfiguration.`,
          x.urn,
        );
      }
    }
  },
};

/** One-field CMEK checks, by type: path to the key and the hint. */
const SIMPLE_CMEK: Readonly<Record<string, readonly [path: string, hint: string]>> = {
  "gcp:pubsub/topic:Topic": [
    "kmsKeyName",
    "set kmsKeyName (messages are stored at rest for up to the retention period).",
  ],
  "gcp:storage/bucket:Bucket": ["encryption.defaultKmsKeyName", "set encryption.defaultKmsKeyName."],
  "gcp:dataflow/flexTemplateJob:FlexTemplateJob": ["kmsKeyName", "set kmsKeyName (Dataflow state and shuffle data)."],
  "gcp:dataflow/job:Job": ["kmsKeyName", "set kmsKeyName (Dataflow state and shuffle data)."],
  "gcp:vertex/aiEndpoint:AiEndpoint": ["encryptionSpec.kmsKeyName", "set encryptionSpec.kmsKeyName."],
  "gcp:vertex/aiFeatureOnlineStore:AiFeatureOnlineStore": [
    "encryptionSpec.kmsKeyName",
    "set encryptionSpec.kmsKeyName.",
  ],
  "aws:secretsmanager/secret:Secret": [
    "kmsKeyId",
    "set kmsKeyId (without it Secrets Manager uses aws/secretsmanager).",
  ],
  "aws:cloudwatch/logGroup:LogGroup": ["kmsKeyId", "set kmsKeyId (log events can carry personal data)."],
  "aws:sns/topic:Topic": ["kmsMasterKeyId", "set kmsMasterKeyId to a customer-managed key."],
  "aws:msk/cluster:Cluster": [
    "encryptionInfo.encryptionAtRestKmsKeyArn",
    "set encryptionInfo.encryptionAtRestKmsKeyArn.",
  ],
  // Failed events wait here for replay: they are the same personal data the function moves.
  "aws:sqs/queue:Queue": ["kmsMasterKeyId", "set kmsMasterKeyId (failed events wait here with their data)."],
  // EventBridge Scheduler stores the target input with the schedule (here: query text naming tables
  // and pseudonymous columns); without kmsKeyArn it uses an AWS-owned key that no one can audit.
  "aws:scheduler/schedule:Schedule": ["kmsKeyArn", "set kmsKeyArn (the schedule stores its target input)."],
};

export const storesCmek: ResourceRule = {
  kind: "resource",
  name: "stores-cmek",
  description: "Data stores, queues, logs and ML resources are encrypted with a customer-managed key.",
  domain: "encryption",
  severity: "high",
  enforcementLevel: "mandatory",
  articles: AT_REST,
  remediation:
    "Set the resource's customer-managed key property (named in the message) to the cell's KMS or Cloud KMS key, and grant the service's agent permission to use it. Keys of another cell or an AWS-managed alias do not count.",
  resourceTypes: [
    ...Object.keys(SIMPLE_CMEK),
    "gcp:secretmanager/secret:Secret",
    "gcp:workbench/instance:Instance",
    "aws:kinesis/stream:Stream",
    "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream",
    "aws:dms/s3Endpoint:S3Endpoint",
    DYNAMODB_TABLE,
  ],
  validate(r, ctx) {
    const simple = SIMPLE_CMEK[r.type];
    if (simple) {
      if (requireKey(r, ctx, simple[0], simple[1]) && r.type.startsWith("aws:")) notAwsManaged(r, ctx, simple[0]);
      return;
    }
    switch (r.type) {
      case "gcp:secretmanager/secret:Secret": {
        if (get(r.props, "replication.auto") !== undefined) {
          requireKey(
            r,
            ctx,
            "replication.auto.customerManagedEncryption.kmsKeyName",
            "set customerManagedEncryption on the replication.",
          );
          return;
        }
        const replicas = list(r.props, "replication.userManaged.replicas");
        if (replicas.length === 0) ctx.report(`${label(r)} has no replicas to encrypt.`, r.urn);
        replicas.forEach((_, i) =>
          requireKey(
            r,
            ctx,
            `replication.userManaged.replicas[${i}].customerManagedEncryption.kmsKeyName`,
            `set customerManagedEncryption.kmsKeyName on replica ${i}.`,
          ),
        );
        return;
      }
      case "gcp:workbench/instance:Instance": {
        for (const disk of ["bootDisk", "dataDisks"]) {
          const base = `gceSetup.${disk}`;
          const enc = str(r.props, `${base}.diskEncryption`);
          if (enc !== "CMEK") {
            ctx.report(
              `${label(r)} ${disk} uses '${enc ?? "GMEK"}' encryption; set ${base}.diskEncryption to 'CMEK' with a kmsKey.`,
              r.urn,
            );
            continue;
          }
          requireKey(r, ctx, `${base}.kmsKey`, `set ${base}.kmsKey.`);
        }
        return;
      }
      case DYNAMODB_TABLE: {
        // "If enabled is false then server-side encryption is set to AWS-owned key"; enabled without a
        // kmsKeyArn is the AWS-managed aws/dynamodb (Pulumi registry, aws.dynamodb.Table "serverSideEncryption").
        if (bool(r.props, "serverSideEncryption.enabled") !== true) {
          ctx.report(
            `${label(r)} is encrypted with an AWS-owned key: set serverSideEncryption.enabled with a customer-managed kmsKeyArn.`,
            r.urn,
          );
          return;
        }
        if (
          requireKey(
            r,
            ctx,
            "serverSideEncryption.kmsKeyArn",
            "set serverSideEncryption.kmsKeyArn (without it, aws/dynamodb).",
          )
        )
          notAwsManaged(r, ctx, "serverSideEncryption.kmsKeyArn");
        return;
      }
      case "aws:kinesis/stream:Stream": {
        if (str(r.props, "encryptionType") !== "KMS") {
          ctx.report(
            `${label(r)} is not encrypted: set encryptionType to 'KMS' with a customer-managed kmsKeyId.`,
            r.urn,
          );
          return;
        }
        if (requireKey(r, ctx, "kmsKeyId", "set kmsKeyId.")) notAwsManaged(r, ctx, "kmsKeyId");
        return;
      }
      case "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream": {
        // An Iceberg destination writes undeliverable records to its S3 backup itself: with the key it is given.
        if (get(r.props, "icebergConfiguration") !== undefined)
          requireKey(
            r,
            ctx,
            "icebergConfiguration.s3Configuration.kmsKeyArn",
            "set icebergConfiguration.s3Configuration.kmsKeyArn (failed records are written to S3 with it).",
          );
        // Server-side encryption applies to Direct PUT streams only; a stream reading Kinesis or MSK
        // keeps the source's encryption, and the destination bucket's own SSE-KMS covers the output.
        if (
          get(r.props, "kinesisSourceConfiguration") !== undefined ||
          get(r.props, "mskSourceConfiguration") !== undefined
        )
          return;
        const enabled = bool(r.props, "serverSideEncryption.enabled");
        const keyType = str(r.props, "serverSideEncryption.keyType");
        if (enabled !== true || keyType !== "CUSTOMER_MANAGED_CMK") {
          ctx.report(
            `${label(r)} buffers Direct PUT records without a customer-managed key: set serverSideEncryption { enabled: true, keyType: 'CUSTOMER_MANAGED_CMK', keyArn }.`,
            r.urn,
          );
          return;
        }
        requireKey(r, ctx, "serverSideEncryption.keyArn", "set serverSideEncryption.keyArn.");
        return;
      }
      case "aws:dms/s3Endpoint:S3Endpoint": {
        // DMS writes the CDC files itself, with SSE_S3 unless told otherwise: the bucket's default
        // encryption does not apply to objects a writer encrypts explicitly.
        const mode = str(r.props, "encryptionMode") ?? "SSE_S3";
        if (mode !== "SSE_KMS") {
          ctx.report(
            `${label(r)} writes with encryptionMode '${mode}'; set it to 'SSE_KMS' with serverSideEncryptionKmsKeyId.`,
            r.urn,
          );
          return;
        }
        if (
          requireKey(
            r,
            ctx,
            "serverSideEncryptionKmsKeyId",
            "set serverSideEncryptionKmsKeyId (without it SSE_KMS uses aws/s3).",
          )
        ) {
          notAwsManaged(r, ctx, "serverSideEncryptionKmsKeyId");
        }
        return;
      }
      default:
        return;
    }
  },
};

const GLUE_SETTINGS = "aws:glue/dataCatalogEncryptionSettings:DataCatalogEncryptionSettings";
const GLUE_DB = "aws:glue/catalogDatabase:CatalogDatabase";
const GLUE_TABLE = "aws:glue/catalogTable:CatalogTable";

export const glueCatalogEncryption: StackRule = {
  kind: "stack",
  name: "glue-catalog-encryption",
  description: "The Glue Data Catalog of every cell that declares databases is encrypted with a customer-managed key.",
  domain: "encryption",
  severity: "high",
  enforcementLevel: "mandatory",
  articles: AT_REST,
  remediation:
    "Declare one aws.glue.DataCatalogEncryptionSettings per cell provider with encryptionAtRest.catalogEncryptionMode 'SSE-KMS' and sseAwsKmsKeyId, and connectionPasswordEncryption with returnConnectionPasswordEncrypted true and awsKmsKeyId. Table metadata holds column names and comments that describe personal data.",
  resourceTypes: [GLUE_SETTINGS, GLUE_DB, GLUE_TABLE],
  validate(resources, ctx) {
    const settings = resources.filter((r) => r.type === GLUE_SETTINGS);
    for (const s of settings) {
      const base = "dataCatalogEncryptionSettings";
      const mode = str(s.props, `${base}.encryptionAtRest.catalogEncryptionMode`);
      if (mode !== "SSE-KMS" && mode !== "SSE-KMS-WITH-SERVICE-ROLE") {
        ctx.report(
          `${label(s)} leaves the catalog unencrypted (catalogEncryptionMode '${mode ?? "DISABLED"}'); use 'SSE-KMS'.`,
          s.urn,
        );
      } else {
        requireKey(s, ctx, `${base}.encryptionAtRest.sseAwsKmsKeyId`, "set encryptionAtRest.sseAwsKmsKeyId.");
      }
      if (bool(s.props, `${base}.connectionPasswordEncryption.returnConnectionPasswordEncrypted`) !== true) {
        ctx.report(
          `${label(s)} returns connection passwords in clear: set returnConnectionPasswordEncrypted to true.`,
          s.urn,
        );
      } else {
        requireKey(
          s,
          ctx,
          `${base}.connectionPasswordEncryption.awsKmsKeyId`,
          "set connectionPasswordEncryption.awsKmsKeyId.",
        );
      }
    }
    const covered = new Set(settings.map((s) => s.provider?.urn ?? ""));
    const reported = new Set<string>();
    for (const db of resources.filter((r) => r.type === GLUE_DB || r.type === GLUE_TABLE)) {
      const p = db.provider?.urn ?? "";
      if (covered.has(p) || reported.has(p)) continue;
      reported.add(p);
      ctx.report(
        `${label(db)} is in a Glue Data Catalog without DataCatalogEncryptionSettings (provider '${db.provider?.name ?? "default"}').`,
        db.urn,
      );
    }
  },
};

export const analyticsEncryption: ResourceRule = {
  kind: "resource",
  name: "analytics-engines-cmk",
  description:
    "Athena query results and Glue job outputs, logs and bookmarks are encrypted with a customer-managed key.",
  domain: "encryption",
  severity: "high",
  enforcementLevel: "mandatory",
  articles: AT_REST,
  remediation:
    "Give every Athena workgroup a result encryption of SSE_KMS or CSE_KMS with kmsKeyArn and enforceWorkgroupConfiguration true, so that clients cannot override it. Give every Glue job a securityConfiguration whose S3, CloudWatch and job-bookmark encryption all use the cell's KMS key.",
  resourceTypes: [
    "aws:athena/workgroup:Workgroup",
    "aws:glue/job:Job",
    "aws:glue/securityConfiguration:SecurityConfiguration",
  ],
  validate(r, ctx) {
    if (r.type === "aws:athena/workgroup:Workgroup") {
      if (bool(r.props, "configuration.enforceWorkgroupConfiguration") === false) {
        ctx.report(
          `${label(r)} lets clients override its encryption: set configuration.enforceWorkgroupConfiguration to true.`,
          r.urn,
        );
      }
      const managed = bool(r.props, "configuration.managedQueryResultsConfiguration.enabled") === true;
      if (managed) {
        requireKey(
          r,
          ctx,
          "configuration.managedQueryResultsConfiguration.encryptionConfiguration.kmsKey",
          "set the managed query results kmsKey.",
        );
        return;
      }
      const base = "configuration.resultConfiguration.encryptionConfiguration";
      const opt = str(r.props, `${base}.encryptionOption`);
      if (opt !== "SSE_KMS" && opt !== "CSE_KMS") {
        ctx.report(
          `${label(r)} writes query results with encryption '${opt ?? "none"}'; use 'SSE_KMS' or 'CSE_KMS' with a kmsKeyArn.`,
          r.urn,
        );
        return;
      }
      requireKey(r, ctx, `${base}.kmsKeyArn`, `set ${base}.kmsKeyArn.`);
      return;
    }
    if (r.type === "aws:glue/job:Job") {
      if (reference(r.props, "securityConfiguration", ctx, r) === undefined) {
        ctx.report(
          `${label(r)} has no securityConfiguration: its S3 output, logs and bookmarks are not encrypted with a customer-managed key.`,
          r.urn,
        );
      }
      return;
    }
    const base = "encryptionConfiguration";
    const s3 = asArray(get(r.props, `${base}.s3Encryption`));
    const s3ok = s3.some((e) => str(e, "s3EncryptionMode") === "SSE-KMS" && str(e, "kmsKeyArn") !== undefined);
    if (!s3ok) ctx.report(`${label(r)} does not encrypt S3 output with SSE-KMS and a kmsKeyArn.`, r.urn);
    if (str(r.props, `${base}.cloudwatchEncryption.cloudwatchEncryptionMode`) !== "SSE-KMS") {
      ctx.report(`${label(r)} does not encrypt CloudWatch logs: set cloudwatchEncryptionMode to 'SSE-KMS'.`, r.urn);
    }
    if (str(r.props, `${base}.jobBookmarksEncryption.jobBookmarksEncryptionMode`) !== "CSE-KMS") {
      ctx.report(`${label(r)} does not encrypt job bookmarks: set jobBookmarksEncryptionMode to 'CSE-KMS'.`, r.urn);
    }
  },
};

export const computeCmek: ResourceRule = {
  kind: "resource",
  name: "compute-cmek",
  description:
    "Functions and replication instances that hold configuration or buffered data use a customer-managed key.",
  domain: "encryption",
  severity: "medium",
  enforcementLevel: "advisory",
  articles: AT_REST,
  remediation:
    "Set kmsKeyArn on Lambda functions that have environment variables, kmsKeyName on Cloud Functions (gen2) and Artifact Registry repositories, and computeConfig.kmsKeyId on DMS Serverless replication configs and kmsKeyArn on DMS endpoints. This rule is advisory because these services hold no data at rest beyond buffers and settings.",
  resourceTypes: [
    "aws:lambda/function:Function",
    "gcp:cloudfunctionsv2/function:Function",
    "aws:dms/replicationConfig:ReplicationConfig",
    "aws:dms/endpoint:Endpoint",
    "gcp:artifactregistry/repository:Repository",
  ],
  validate(r, ctx) {
    switch (r.type) {
      case "gcp:artifactregistry/repository:Repository":
        // Standard repositories hold images; remote ones (the notebooks' PyPI mirror) cache packages.
        requireKey(r, ctx, "kmsKeyName", "set kmsKeyName (images, or the packages a remote repository caches).");
        return;
      case "aws:lambda/function:Function": {
        const vars = get(r.props, "environment.variables");
        if (vars !== undefined && vars !== null && Object.keys(vars as object).length > 0) {
          requireKey(r, ctx, "kmsKeyArn", "set kmsKeyArn to encrypt its environment variables.");
        }
        return;
      }
      case "gcp:cloudfunctionsv2/function:Function":
        requireKey(r, ctx, "kmsKeyName", "set kmsKeyName (function source and image).");
        return;
      case "aws:dms/replicationConfig:ReplicationConfig":
        requireKey(r, ctx, "computeConfig.kmsKeyId", "set computeConfig.kmsKeyId (replication storage).");
        return;
      case "aws:dms/endpoint:Endpoint":
        requireKey(r, ctx, "kmsKeyArn", "set kmsKeyArn (endpoint connection parameters).");
        return;
      default:
        return;
    }
  },
};

export const secretVersionsInManagedSecrets: StackRule = {
  kind: "stack",
  name: "secret-versions-in-managed-secrets",
  description: "Secret versions are stored in a secret of this stack, whose encryption the pack verifies.",
  domain: "encryption",
  severity: "medium",
  enforcementLevel: "mandatory",
  articles: [A.gdpr32_1_a, A.lgpd46],
  remediation:
    "Create the secret (aws.secretsmanager.Secret or gcp.secretmanager.Secret) in this stack with a customer-managed key and add the version to it. A version in a secret managed elsewhere may be encrypted with a default key.",
  resourceTypes: ["aws:secretsmanager/secretVersion:SecretVersion", "gcp:secretmanager/secretVersion:SecretVersion"],
  validate(resources, ctx) {
    const pairs: [string, string, string][] = [
      ["aws:secretsmanager/secretVersion:SecretVersion", "aws:secretsmanager/secret:Secret", "secretId"],
      ["gcp:secretmanager/secretVersion:SecretVersion", "gcp:secretmanager/secret:Secret", "secret"],
    ];
    for (const [versionType, secretType, prop] of pairs) {
      const secrets = resources.filter((r) => r.type === secretType);
      eachKnown(
        resources.filter((r) => r.type === versionType),
        ctx,
        (v) => {
          if (!referenced(secrets, v, prop, ["id", "arn", "name", "secretId"]))
            ctx.report(`${label(v)} is stored in a secret that is not declared in this stack.`, v.urn);
        },
      );
    }
  },
};

const S3_OBJECT_TYPES = ["aws:s3/bucketObjectv2:BucketObjectv2", "aws:s3/bucketObject:BucketObject"];
const GCS_OBJECT = "gcp:storage/bucketObject:BucketObject";
const GCS_BUCKET = "gcp:storage/bucket:Bucket";

/** The bucket of this stack an object is stored in (by dependency, else by name). */
function bucketOf(
  resources: readonly ResourceView[],
  o: ResourceView,
  bucketType: string,
  nameKeys: readonly string[],
): ResourceView | undefined {
  const deps = o.propertyDependencies.bucket ?? [];
  const name = peekStr(o.props, "bucket");
  return resources.find(
    (b) =>
      b.type === bucketType &&
      (deps.includes(b.urn) || (typeof name === "string" && nameKeys.some((k) => b.props[k] === name))),
  );
}

export const objectsCmek: StackRule = {
  kind: "stack",
  name: "objects-cmek",
  description:
    "Objects uploaded by the program (scripts, UDFs, seeds) are encrypted with a customer-managed key, their own or their bucket's default.",
  domain: "encryption",
  severity: "medium",
  enforcementLevel: "mandatory",
  articles: AT_REST,
  remediation:
    "On aws.s3.BucketObjectv2, set serverSideEncryption 'aws:kms' with kmsKeyId set to the cell's key, or leave both unset in a bucket of this stack whose default encryption is the cell's key; never 'AES256', which overrides the bucket default with the S3-managed key. On gcp.storage.BucketObject, set kmsKeyName or upload into a bucket of this stack with encryption.defaultKmsKeyName, and do not use customer-supplied keys.",
  resourceTypes: [...S3_OBJECT_TYPES, GCS_OBJECT],
  validate(resources, ctx) {
    for (const o of resources.filter((r) => S3_OBJECT_TYPES.includes(r.type))) {
      const alg = str(o.props, "serverSideEncryption");
      if (alg !== undefined) {
        if (alg !== "aws:kms" && alg !== "aws:kms:dsse") {
          ctx.report(`${label(o)} is encrypted with '${alg}'; use 'aws:kms' with a customer-managed kmsKeyId.`, o.urn);
        } else if (requireKey(o, ctx, "kmsKeyId", `'${alg}' without kmsKeyId uses the AWS-managed key aws/s3.`)) {
          notAwsManaged(o, ctx, "kmsKeyId");
        }
        continue;
      }
      if (get(o.props, "kmsKeyId") !== undefined) continue;
      const bucket = bucketOf(resources, o, S3_BUCKET, ["bucket", "id"]);
      const cmkDefault =
        bucket !== undefined &&
        attachedTo(resources, S3_SSE, "bucket", bucket, ["bucket", "id"]).some((sse) =>
          list(sse.props, "rules").some((_, i) => {
            const base = `rules[${i}].applyServerSideEncryptionByDefault`;
            return (
              str(sse.props, `${base}.sseAlgorithm`)?.startsWith("aws:kms") === true &&
              get(sse.props, `${base}.kmsMasterKeyId`) !== undefined
            );
          }),
        );
      if (!cmkDefault) {
        ctx.report(
          `${label(o)} states no encryption and its bucket '${peekStr(o.props, "bucket") ?? "?"}' is not a bucket of this stack with a customer-managed default key.`,
          o.urn,
        );
      }
    }
    for (const o of resources.filter((r) => r.type === GCS_OBJECT)) {
      if (get(o.props, "customerEncryption") !== undefined) {
        ctx.report(
          `${label(o)} uses a customer-supplied key, which Cloud KMS neither rotates nor audits; use kmsKeyName.`,
          o.urn,
        );
        continue;
      }
      if (get(o.props, "kmsKeyName") !== undefined) {
        requireKey(o, ctx, "kmsKeyName", "set kmsKeyName.");
        continue;
      }
      const bucket = bucketOf(resources, o, GCS_BUCKET, ["name", "id"]);
      if (bucket === undefined || get(bucket.props, "encryption.defaultKmsKeyName") === undefined) {
        ctx.report(
          `${label(o)} has no kmsKeyName and its bucket '${peekStr(o.props, "bucket") ?? "?"}' is not a bucket of this stack with encryption.defaultKmsKeyName.`,
          o.urn,
        );
      }
    }
  },
};

const CONNECT_WORKER = "aws:mskconnect/workerConfiguration:WorkerConfiguration";
const CONNECTOR = "aws:mskconnect/connector:Connector";
const CONNECT_PLUGIN = "aws:mskconnect/customPlugin:CustomPlugin";
/** Kafka Connect settings that hold a credential (passwords, JAAS configs, keys). */
const SECRET_SETTING = /(password|jaas\.config|secret\.access\.key|token)$/i;
/** A value resolved at run time by a config provider (`${secretsmanager:...}`, `${s3import:...}`). */
const PROVIDER_REFERENCE = /^\$\{[a-z0-9]+:[^}]+\}$/i;

/** The credential settings of a Kafka Connect map whose values are literals, not provider references. */
export function plainConnectSecrets(settings: Readonly<Record<string, unknown>>): string[] {
  return Object.entries(settings)
    .filter(([k, v]) => SECRET_SETTING.test(k) && typeof v === "string" && !isUnknown(v))
    .filter(([, v]) => {
      const value = v as string;
      // A JAAS line may carry several references (username, password): every quoted value must be one.
      const quoted = [...value.matchAll(/="([^"]*)"/g)].map((m) => m[1]);
      return quoted.length > 0 ? quoted.some((q) => !PROVIDER_REFERENCE.test(q)) : !PROVIDER_REFERENCE.test(value);
    })
    .map(([k]) => k);
}

export const kafkaConnectSecrets: StackRule = {
  kind: "stack",
  name: "kafka-connect-secrets-by-reference",
  description:
    "MSK Connect configurations name credentials only through config providers (Secrets Manager), and connector plugins come from an encrypted bucket of this stack.",
  domain: "encryption",
  severity: "high",
  enforcementLevel: "mandatory",
  articles: AT_REST,
  remediation:
    "Store the credential in Secrets Manager (lake key) and write the setting as ${secretsmanager:<secret ARN>:<field>} with the MSK config provider declared in the worker configuration; a literal password in a connector or worker configuration is stored in plain text by MSK Connect. Upload connector plugins to a bucket of this stack and point the custom plugin's location.s3.bucketArn at it.",
  resourceTypes: [CONNECT_WORKER, CONNECTOR, CONNECT_PLUGIN],
  validate(resources, ctx) {
    for (const w of resources.filter((r) => r.type === CONNECT_WORKER)) {
      const text = str(w.props, "propertiesFileContent") ?? "";
      const settings = Object.fromEntries(
        text
          .split(/\r?\n/)
          .filter((l) => l.includes("=") && !l.trim().startsWith("#"))
          .map((l) => [l.slice(0, l.indexOf("=")).trim(), l.slice(l.indexOf("=") + 1).trim()]),
      );
      for (const k of plainConnectSecrets(settings))
        ctx.report(`${label(w)} sets '${k}' in plain text; reference it through a config provider.`, w.urn);
    }
    eachKnown(
      resources.filter((r) => r.type === CONNECTOR),
      ctx,
      (c) => {
        const config = get(c.props, "connectorConfiguration");
        if (config === undefined || typeof config !== "object" || config === null) return;
        for (const k of plainConnectSecrets(config as Record<string, unknown>))
          ctx.report(`${label(c)} sets '${k}' in plain text; reference it through a config provider.`, c.urn);
      },
    );
    const buckets = resources.filter((r) => r.type === "aws:s3/bucket:Bucket");
    eachKnown(
      resources.filter((r) => r.type === CONNECT_PLUGIN),
      ctx,
      (p) => {
        if (!referenced(buckets, p, "location.s3.bucketArn", ["arn"]))
          ctx.report(
            `${label(p)} loads its code from '${str(p.props, "location.s3.bucketArn") ?? "?"}', a bucket not declared in this stack.`,
            p.urn,
          );
      },
    );
  },
};

export const encryptionRules = [
  s3BucketCmk,
  kmsKeyRotation,
  kmsAliasTarget,
  bigqueryCmek,
  storesCmek,
  glueCatalogEncryption,
  analyticsEncryption,
  computeCmek,
  secretVersionsInManagedSecrets,
  objectsCmek,
  kafkaConnectSecrets,
] as const;

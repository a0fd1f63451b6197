/**
 * Retention is data: every store expires what it holds within the ceiling of its data class, audit
 * stores keep at least the audit floor, and every copy an erasure leaves behind (S3 noncurrent
 * versions, Iceberg snapshots, BigQuery time travel + fail-safe, Pub/Sub and Kinesis retention) is
 * gone within the jurisdiction's erasure SLA.
 *
 * Data class: the `data-classification` tag/label when it names a class (raw, curated, marts,
 * clickstream, logs, audit), else the last segment of the logical name that names one (see
 * `dataClassOf`). A store whose class cannot be told is a violation: its bounds are unknown.
 */
import {
  BIGQUERY_FAIL_SAFE_DAYS,
  DATA_CLASSES,
  LIFECYCLE_LAG_DAYS,
  LIVE_DELETION_DAYS,
  TAG_KEYS,
  erasureBudget,
  type DataClass,
  type ErasureBudget,
} from "../contract";
import { erasureSlaOf } from "../config";
import { A } from "./articles";
import {
  attachedTo,
  bool,
  dataClassOf,
  durationDays,
  eachKnown,
  effectiveTags,
  get,
  label,
  list,
  num,
  peekStr,
  referenced,
  str,
  type ResolvedJurisdiction,
  type ResourceRule,
  type ResourceView,
  type RuleContext,
  type StackRule,
} from "./common";
import { datasetOf, tableStoresNoData } from "./encryption";
import { requireJurisdiction } from "./residency";

const STORAGE_LIMITATION = [A.gdpr5_1_e_ceilings, A.gdpr17_1, A.lgpd15_ceilings, A.lgpd16];
const ERASURE = [A.gdpr17_1, A.gdpr12_3, A.lgpd18_vi, A.lgpd19_ii, A.lgpd16];
const AUDIT_FLOOR = [A.gdpr30_auditFloor, A.gdpr5_2, A.lgpd37, A.marcoCivil15];

interface Bounds {
  readonly j: ResolvedJurisdiction;
  readonly cls: DataClass;
  readonly ceiling: number;
  readonly floor: number;
  /** What each stage of an erasure may take within the jurisdiction's SLA. */
  readonly budget: ErasureBudget;
}

/** Jurisdiction and data class of a store, or a violation saying which is missing. */
function boundsOf(r: ResourceView, ctx: RuleContext): Bounds | undefined {
  const j = requireJurisdiction(r, ctx);
  if (!j) return undefined;
  const c = dataClassOf(r);
  if (!c) {
    ctx.report(
      `${label(r)} has no data class: tag it '${TAG_KEYS.dataClassification}' with one of ${DATA_CLASSES.join(", ")}, so its retention bounds are known.`,
      r.urn,
    );
    return undefined;
  }
  return {
    j,
    cls: c.cls,
    ceiling: j.settings.retentionCeilingDays[c.cls],
    floor: c.cls === "audit" ? j.settings.auditFloorDays : 0,
    budget: erasureBudget(erasureSlaOf(j.settings)),
  };
}

const dayCount = (n: number): string => `${n} day${n === 1 ? "" : "s"}`;
/** The stages an object copy waits for: the live deletion, then lifecycle's lag. */
const COPY_WAITS = `${dayCount(LIVE_DELETION_DAYS)} to delete the live copy and ${dayCount(LIFECYCLE_LAG_DAYS)} for lifecycle to act`;
/** The stage Iceberg maintenance and BigQuery time travel wait for. */
const LIVE_WAITS = `${dayCount(LIVE_DELETION_DAYS)} to delete the live rows`;

/**
 * Why `days` of one stage of an erasure are too many: the SLA alone when the stage exceeds it, else
 * what the erasure budget leaves for the stage once the stages before it (`waits`) are counted.
 */
function slaReason(j: ResolvedJurisdiction, days: number, allowed: number, waits: string): string {
  const sla = erasureSlaOf(j.settings);
  // The stack's own SLA when it promises less than the law's ceiling (policy/config.ts erasureSlaDays).
  const whose =
    sla < j.settings.erasureSlaCeilingDays
      ? `configured erasure SLA (${j.settings.law} allows ${j.settings.erasureSlaCeilingDays})`
      : `${j.settings.law} erasure SLA`;
  return days > sla ? `the ${whose} is ${sla} days` : `the ${whose} of ${sla} days leaves ${allowed} after ${waits}`;
}

/** Checks an expiry in days against the class bounds; `what` names the setting. */
function checkDays(r: ResourceView, ctx: RuleContext, b: Bounds, days: number | undefined, what: string): void {
  if (days === undefined || days <= 0) {
    ctx.report(
      `${label(r)} keeps '${b.cls}' data forever: set ${what} (at most ${b.ceiling} days in ${b.j.settings.law}).`,
      r.urn,
    );
    return;
  }
  if (days > b.ceiling) {
    ctx.report(
      `${label(r)} keeps '${b.cls}' data ${days} days (${what}); the ${b.j.settings.law} ceiling for '${b.cls}' is ${b.ceiling} days.`,
      r.urn,
    );
  }
  if (days < b.floor) {
    ctx.report(
      `${label(r)} keeps audit logs ${days} days (${what}); the ${b.j.settings.law} minimum is ${b.floor} days.`,
      r.urn,
    );
  }
}

/** Classes an erasure request reaches (the lake's data zones); logs and audit are kept by obligation. */
const ERASABLE: readonly DataClass[] = ["raw", "curated", "marts", "clickstream"];

/**
 * An Iceberg warehouse bucket: tagged `table-format` = `iceberg` (preferred), or named `*-warehouse`.
 * Returns how it was recognised.
 */
function icebergWarehouse(r: ResourceView): "tag" | "name" | undefined {
  if (effectiveTags(r)[TAG_KEYS.tableFormat]?.toLowerCase() === "iceberg") return "tag";
  return /(^|[-_.])warehouse$/.test(r.name.toLowerCase()) ? "name" : undefined;
}

const S3_BUCKET = "aws:s3/bucket:Bucket";
const S3_LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration";
const S3_VERSIONING = "aws:s3/bucketVersioning:BucketVersioning";
const S3_LOCK = "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration";

export const s3Retention: StackRule = {
  kind: "stack",
  name: "s3-retention",
  description:
    "S3 buckets expire objects within their data class's bounds and noncurrent versions within the erasure SLA; audit buckets are locked for the audit floor.",
  domain: "retention",
  severity: "high",
  enforcementLevel: "mandatory",
  articles: [...STORAGE_LIMITATION, ...ERASURE, ...AUDIT_FLOOR],
  remediation: `Attach an aws.s3.BucketLifecycleConfiguration with an enabled rule whose expiration.days is within the class's ceiling (at least the audit floor for audit buckets) and, on versioned buckets, noncurrentVersionExpiration.noncurrentDays within what the erasure SLA leaves after ${COPY_WAITS}, so that an erased object does not survive as an old version. Audit buckets also need objectLockEnabled and a BucketObjectLockConfiguration whose default retention covers the audit floor.`,
  resourceTypes: [S3_BUCKET, S3_LIFECYCLE, S3_VERSIONING, S3_LOCK],
  validate(resources, ctx) {
    for (const bucket of resources.filter((r) => r.type === S3_BUCKET)) {
      const b = boundsOf(bucket, ctx);
      if (!b) continue;
      const lifecycles = attachedTo(resources, S3_LIFECYCLE, "bucket", bucket, ["bucket", "id"]);
      const inlineRules = list(bucket.props, "lifecycleRules");
      const rules: { owner: ResourceView; base: string }[] = [];
      for (const lc of lifecycles)
        list(lc.props, "rules").forEach((_, i) => rules.push({ owner: lc, base: `rules[${i}]` }));
      inlineRules.forEach((_, i) => rules.push({ owner: bucket, base: `lifecycleRules[${i}]` }));
      const enabled = rules.filter(({ owner, base }) =>
        owner === bucket
          ? bool(owner.props, `${base}.enabled`) !== false
          : (str(owner.props, `${base}.status`) ?? "Enabled") === "Enabled",
      );
      const expirations = enabled
        .map(
          ({ owner, base }) =>
            num(owner.props, `${base}.expiration.days`) ?? num(owner.props, `${base}.expirations[0].days`),
        )
        .filter((d): d is number => d !== undefined);
      const iceberg = icebergWarehouse(bucket);
      if (expirations.length === 0 && iceberg !== undefined) {
        // Iceberg owns deletion of live files (row deletes, snapshot expiry: iceberg-snapshot-expiry);
        // an age-based S3 expiry would corrupt tables. Noncurrent versions are still bounded below.
        if (iceberg === "name") {
          ctx.advise(
            `${label(bucket)} has no object expiration and is taken for an Iceberg warehouse by its name; tag it '${TAG_KEYS.tableFormat}' = 'iceberg' to say so explicitly.`,
            bucket.urn,
          );
        }
      } else if (expirations.length === 0) {
        ctx.report(
          `${label(bucket)} has no enabled lifecycle rule with expiration.days: '${b.cls}' objects are kept forever.`,
          bucket.urn,
        );
      } else {
        checkDays(bucket, ctx, b, Math.max(...expirations), "lifecycle expiration.days");
      }
      const versioning = attachedTo(resources, S3_VERSIONING, "bucket", bucket, ["bucket", "id"]);
      const versioned =
        versioning.some((v) => str(v.props, "versioningConfiguration.status") === "Enabled") ||
        bool(bucket.props, "versioning.enabled") === true;
      if (versioned && b.cls !== "audit") {
        // Erasure reaches the data zones; logs are kept under a legal obligation (GDPR Art. 17(3)(b),
        // LGPD Art. 16 I) and expire by age, so their old versions are bounded by the class ceiling.
        const erasable = ERASABLE.includes(b.cls);
        const bound = erasable ? b.budget.objectCopyDays : b.ceiling;
        const noncurrent = enabled
          .map(
            ({ owner, base }) =>
              num(owner.props, `${base}.noncurrentVersionExpiration.noncurrentDays`) ??
              num(owner.props, `${base}.noncurrentVersionExpiration.days`),
          )
          .filter((d): d is number => d !== undefined);
        const worst = noncurrent.length > 0 ? Math.max(...noncurrent) : undefined;
        if (worst === undefined) {
          ctx.report(
            `${label(bucket)} is versioned but never expires noncurrent versions: an erased object survives as an old version.`,
            bucket.urn,
          );
        } else if (worst > bound) {
          const reason = erasable
            ? slaReason(b.j, worst, bound, COPY_WAITS)
            : `the ${b.j.settings.law} ceiling for '${b.cls}' is ${b.ceiling} days`;
          ctx.report(`${label(bucket)} keeps noncurrent versions ${worst} days; ${reason}.`, bucket.urn);
        }
      }
      if (b.cls === "audit") {
        const locks = attachedTo(resources, S3_LOCK, "bucket", bucket, ["bucket", "id"]);
        if (bool(bucket.props, "objectLockEnabled") !== true || locks.length === 0) {
          ctx.report(
            `${label(bucket)} holds audit logs without Object Lock: set objectLockEnabled and add a BucketObjectLockConfiguration.`,
            bucket.urn,
          );
        }
        for (const lock of locks) {
          const days =
            num(lock.props, "rule.defaultRetention.days") ??
            (num(lock.props, "rule.defaultRetention.years") ?? 0) * 365;
          if (days < b.floor) {
            ctx.report(
              `${label(lock)} locks audit logs for ${days} days; the ${b.j.settings.law} minimum is ${b.floor} days.`,
              lock.urn,
            );
          }
        }
      }
    }
  },
};

export const gcsRetention: ResourceRule = {
  kind: "resource",
  name: "gcs-retention",
  description:
    "Cloud Storage buckets delete objects within their data class's bounds; audit buckets have a retention policy of at least the audit floor.",
  domain: "retention",
  severity: "high",
  enforcementLevel: "mandatory",
  articles: [...STORAGE_LIMITATION, ...ERASURE, ...AUDIT_FLOOR],
  remediation: `Add a lifecycleRules entry with action.type 'Delete' and condition.age within the class's ceiling, and on versioned buckets a Delete rule with daysSinceNoncurrentTime within what the erasure SLA leaves after ${COPY_WAITS}. Keep softDeletePolicy.retentionDurationSeconds within the same budget. Audit buckets need retentionPolicy.retentionPeriod of at least the audit floor, locked in production.`,
  resourceTypes: ["gcp:storage/bucket:Bucket"],
  validate(r, ctx) {
    const b = boundsOf(r, ctx);
    if (!b) return;
    const rules = list(r.props, "lifecycleRules");
    const deletes = rules
      .map((_, i) => `lifecycleRules[${i}]`)
      .filter((base) => str(r.props, `${base}.action.type`) === "Delete");
    const ages = deletes
      .map((base) => num(r.props, `${base}.condition.age`))
      .filter((d): d is number => d !== undefined);
    checkDays(r, ctx, b, ages.length > 0 ? Math.max(...ages) : undefined, "a Delete lifecycle rule's condition.age");
    if (bool(r.props, "versioning.enabled") === true && b.cls !== "audit") {
      const nc = deletes
        .map((base) => num(r.props, `${base}.condition.daysSinceNoncurrentTime`))
        .filter((d): d is number => d !== undefined);
      if (nc.length === 0)
        ctx.report(
          `${label(r)} is versioned but never deletes noncurrent versions: an erased object survives as an old version.`,
          r.urn,
        );
      else if (Math.max(...nc) > b.budget.objectCopyDays)
        ctx.report(
          `${label(r)} keeps noncurrent versions ${Math.max(...nc)} days; ${slaReason(b.j, Math.max(...nc), b.budget.objectCopyDays, COPY_WAITS)}.`,
          r.urn,
        );
    }
    // Soft delete keeps deleted objects 7 days unless configured (cloud.google.com/storage/docs/soft-delete).
    const soft = num(r.props, "softDeletePolicy.retentionDurationSeconds") ?? 7 * 86400;
    if (b.cls !== "audit" && soft / 86400 > b.budget.objectCopyDays) {
      ctx.report(
        `${label(r)} soft-deletes for ${soft / 86400} days; ${slaReason(b.j, soft / 86400, b.budget.objectCopyDays, COPY_WAITS)}.`,
        r.urn,
      );
    }
    if (b.cls === "audit") {
      const period = num(r.props, "retentionPolicy.retentionPeriod");
      if (period === undefined || period / 86400 < b.floor) {
        ctx.report(
          `${label(r)} holds audit logs without a retentionPolicy of at least ${b.floor} days (${b.floor * 86400} seconds).`,
          r.urn,
        );
      }
    }
  },
};

const BQ_DATASET = "gcp:bigquery/dataset:Dataset";
const BQ_TABLE = "gcp:bigquery/table:Table";

export const bigqueryRetention: StackRule = {
  kind: "stack",
  name: "bigquery-retention",
  description:
    "BigQuery datasets and tables expire data within their class's bounds, and time travel plus fail-safe fit the erasure SLA.",
  domain: "retention",
  severity: "high",
  enforcementLevel: "mandatory",
  articles: [...STORAGE_LIMITATION, ...ERASURE],
  remediation: `Set defaultPartitionExpirationMs (or defaultTableExpirationMs) on every dataset within its class's ceiling, or timePartitioning.expirationMs on each table. Set maxTimeTravelHours between the configured minimum and maximum, and small enough that ${LIVE_WAITS}, time travel and BigQuery's fixed ${BIGQUERY_FAIL_SAFE_DAYS}-day fail-safe end within the erasure SLA.`,
  resourceTypes: [BQ_DATASET, BQ_TABLE],
  validate(resources, ctx) {
    const { min, max } = ctx.settings.bigQueryTimeTravelHours;
    const datasetDays = (d: ResourceView): number | undefined => {
      const ms = num(d.props, "defaultPartitionExpirationMs") ?? num(d.props, "defaultTableExpirationMs");
      return ms === undefined ? undefined : ms / 86_400_000;
    };
    for (const d of resources.filter((r) => r.type === BQ_DATASET)) {
      const loc = (str(d.props, "location") ?? "").toLowerCase();
      // Omni and federated datasets hold no BigQuery storage: the lake's own retention applies.
      if (loc.startsWith("aws-") || get(d.props, "externalDatasetReference") !== undefined) continue;
      const b = boundsOf(d, ctx);
      if (!b) continue;
      checkDays(d, ctx, b, datasetDays(d), "defaultPartitionExpirationMs or defaultTableExpirationMs");
      const hours = num(d.props, "maxTimeTravelHours") ?? 168; // BigQuery's default window is 7 days.
      if (hours < min || hours > max) {
        ctx.report(`${label(d)} has maxTimeTravelHours ${hours}; allowed ${min} to ${max}.`, d.urn);
      }
      if (hours / 24 > b.budget.timeTravelDays) {
        const physical = hours / 24 + BIGQUERY_FAIL_SAFE_DAYS;
        const allowed = b.budget.timeTravelDays + BIGQUERY_FAIL_SAFE_DAYS;
        ctx.report(
          `${label(d)} keeps erased rows ${physical} days (time travel ${hours / 24} + fail-safe ${BIGQUERY_FAIL_SAFE_DAYS}); ${slaReason(b.j, physical, allowed, LIVE_WAITS)}.`,
          d.urn,
        );
      }
    }
    for (const t of resources.filter((r) => r.type === BQ_TABLE)) {
      if (tableStoresNoData(t) || get(t.props, "materializedView") !== undefined) continue;
      const own = num(t.props, "timePartitioning.expirationMs");
      const ds = datasetOf(resources, t, "datasetId");
      if (own !== undefined) {
        const b = boundsOf(t, ctx) ?? (ds ? boundsOf(ds, ctx) : undefined);
        if (b) checkDays(t, ctx, b, own / 86_400_000, "timePartitioning.expirationMs");
        continue;
      }
      if (get(t.props, "expirationTime") !== undefined) continue;
      if (!ds || datasetDays(ds) === undefined) {
        ctx.report(
          `${label(t)} never expires: set timePartitioning.expirationMs or create it in a dataset with a default expiration.`,
          t.urn,
        );
      }
    }
  },
};

export const logRetention: ResourceRule = {
  kind: "resource",
  name: "log-retention",
  description:
    "Log groups and log buckets have a retention within the class's ceiling and, for audit logs, at least the audit floor.",
  domain: "retention",
  severity: "high",
  enforcementLevel: "mandatory",
  articles: [...STORAGE_LIMITATION, ...AUDIT_FLOOR],
  remediation:
    "Set retentionInDays on every CloudWatch log group (CloudWatch keeps logs forever by default) and retentionDays on Cloud Logging buckets. Audit log groups and buckets keep at least the jurisdiction's audit floor; other logs no longer than the 'logs' ceiling.",
  resourceTypes: ["aws:cloudwatch/logGroup:LogGroup", "gcp:logging/projectBucketConfig:ProjectBucketConfig"],
  validate(r, ctx) {
    const j = requireJurisdiction(r, ctx);
    if (!j) return;
    // Logs default to the 'logs' class unless tagged or named as audit.
    const c = dataClassOf(r)?.cls ?? "logs";
    const b: Bounds = {
      j,
      cls: c,
      ceiling: j.settings.retentionCeilingDays[c],
      floor: c === "audit" ? j.settings.auditFloorDays : 0,
      budget: erasureBudget(erasureSlaOf(j.settings)),
    };
    const what = r.type === "aws:cloudwatch/logGroup:LogGroup" ? "retentionInDays" : "retentionDays";
    // Cloud Logging buckets default to 30 days.
    const days = num(r.props, what) ?? (r.type === "aws:cloudwatch/logGroup:LogGroup" ? undefined : 30);
    checkDays(r, ctx, b, days, what);
  },
};

/**
 * Days a Kafka topic (`configs` JSON, `retention.ms`) or broker configuration (`serverProperties`,
 * `log.retention.ms|minutes|hours`) keeps messages; -1 for forever. Kafka's default is 168 hours (Apache Kafka
 * documentation, broker config `log.retention.hours`), which a topic without `retention.ms` inherits.
 */
function kafkaRetentionDays(r: ResourceView): number {
  if (r.type === "aws:msk/topic:Topic") {
    const raw = str(r.props, "configs");
    let ms: unknown;
    try {
      ms = raw === undefined ? undefined : (JSON.parse(raw) as Record<string, unknown>)["retention.ms"];
    } catch {
      ms = undefined;
    }
    if (ms === undefined) return 7;
    return Number(ms) < 0 ? -1 : Number(ms) / 86_400_000;
  }
  const props = new Map(
    (str(r.props, "serverProperties") ?? "")
      .split(/\r?\n/)
      .map((l) => l.split("=").map((x) => x.trim()) as [string, string])
      .filter(([k, v]) => k !== undefined && v !== undefined),
  );
  for (const [key, perDay] of [
    ["log.retention.ms", 86_400_000],
    ["log.retention.minutes", 1440],
    ["log.retention.hours", 24],
  ] as const) {
    const v = props.get(key);
    if (v !== undefined) return Number(v) < 0 ? -1 : Number(v) / perDay;
  }
  return 7;
}

export const streamRetention: ResourceRule = {
  kind: "resource",
  name: "stream-retention",
  description:
    "Message streams and queues (Pub/Sub, Kinesis, SQS, Kafka topics) retain messages no longer than the erasure SLA.",
  domain: "retention",
  severity: "medium",
  enforcementLevel: "mandatory",
  articles: ERASURE,
  remediation:
    "Keep messageRetentionDuration on Pub/Sub topics and subscriptions, retentionPeriod on Kinesis streams, messageRetentionSeconds on SQS queues, retention.ms on MSK topics and log.retention.* in MSK configurations (Kafka's default is 7 days) within the erasure SLA. Streams are buffers: the lake is the system of record, and a replayable copy outlives an erasure for as long as it is retained.",
  resourceTypes: [
    "gcp:pubsub/topic:Topic",
    "gcp:pubsub/subscription:Subscription",
    "aws:kinesis/stream:Stream",
    "aws:sqs/queue:Queue",
    "aws:msk/topic:Topic",
    "aws:msk/configuration:Configuration",
  ],
  validate(r, ctx) {
    const j = requireJurisdiction(r, ctx);
    if (!j) return;
    const allowed = erasureBudget(erasureSlaOf(j.settings)).messageRetentionDays;
    let days: number | undefined;
    let what: string;
    if (r.type === "aws:msk/topic:Topic" || r.type === "aws:msk/configuration:Configuration") {
      what = r.type === "aws:msk/topic:Topic" ? "configs retention.ms" : "serverProperties log.retention.*";
      days = kafkaRetentionDays(r);
      if (days === -1) {
        ctx.report(`${label(r)} keeps messages forever (${what} -1).`, r.urn);
        return;
      }
    } else if (r.type === "aws:kinesis/stream:Stream") {
      what = "retentionPeriod";
      days = (num(r.props, "retentionPeriod") ?? 24) / 24;
    } else if (r.type === "aws:sqs/queue:Queue") {
      what = "messageRetentionSeconds";
      // SQS keeps a message 4 days unless told otherwise (SQS API reference, SetQueueAttributes).
      days = (num(r.props, what) ?? 4 * 86_400) / 86_400;
    } else {
      what = "messageRetentionDuration";
      const raw = str(r.props, what);
      // Subscriptions keep unacked messages 7 days by default; topics retain nothing unless set.
      days = raw === undefined ? (r.type === "gcp:pubsub/subscription:Subscription" ? 7 : 0) : durationDays(raw);
      if (days === undefined) {
        ctx.report(`${label(r)} has an unreadable ${what} '${raw}'.`, r.urn);
        return;
      }
    }
    if (days > allowed)
      ctx.report(
        `${label(r)} retains messages ${days} days (${what}); ${slaReason(j, days, allowed, "publication")}.`,
        r.urn,
      );
  },
};

const GLUE_TABLE = "aws:glue/catalogTable:CatalogTable";
const OPTIMIZER = "aws:glue/catalogTableOptimizer:CatalogTableOptimizer";

const isIceberg = (t: ResourceView): boolean =>
  get(t.props, "openTableFormatInput.icebergInput") !== undefined ||
  (str(t.props, "parameters.table_type") ?? "").toUpperCase() === "ICEBERG";

export const icebergSnapshotExpiry: StackRule = {
  kind: "stack",
  name: "iceberg-snapshot-expiry",
  description: "Every Iceberg table expires snapshots (and deletes their files) within the erasure SLA.",
  domain: "retention",
  severity: "high",
  enforcementLevel: "mandatory",
  articles: ERASURE,
  remediation: `Add an aws.glue.CatalogTableOptimizer of type 'retention' for each Iceberg table with cleanExpiredFiles true and snapshotRetentionPeriodInDays small enough that ${LIVE_WAITS}, the retention and the interval between runs (runRateInHours) end within the erasure SLA, and one of type 'orphan_file_deletion' whose orphanFileRetentionPeriodInDays fits the same budget. A row deleted by an erasure stays readable through older snapshots until they expire.`,
  resourceTypes: [GLUE_TABLE, OPTIMIZER],
  validate(resources, ctx) {
    const optimizers = resources.filter((r) => r.type === OPTIMIZER);
    for (const o of optimizers) {
      const j = requireJurisdiction(o, ctx);
      if (!j) continue;
      const allowed = erasureBudget(erasureSlaOf(j.settings)).icebergMaintenanceDays;
      const type = str(o.props, "type");
      if (bool(o.props, "configuration.enabled") === false) ctx.report(`${label(o)} is disabled.`, o.urn);
      if (type === "retention") {
        const base = "configuration.retentionConfiguration.icebergConfiguration";
        // Glue's default snapshot retention is 5 days.
        const days = num(o.props, `${base}.snapshotRetentionPeriodInDays`) ?? 5;
        const run = (num(o.props, `${base}.runRateInHours`) ?? 24) / 24;
        if (days + run > allowed)
          ctx.report(
            `${label(o)} keeps snapshots ${days} days (+${run} between runs); ${slaReason(j, days + run, allowed, LIVE_WAITS)}.`,
            o.urn,
          );
        if (bool(o.props, `${base}.cleanExpiredFiles`) === false)
          ctx.report(`${label(o)} expires snapshots but keeps their files: set cleanExpiredFiles to true.`, o.urn);
      } else if (type === "orphan_file_deletion") {
        const base = "configuration.orphanFileDeletionConfiguration.icebergConfiguration";
        const days = num(o.props, `${base}.orphanFileRetentionPeriodInDays`) ?? 3;
        const run = (num(o.props, `${base}.runRateInHours`) ?? 24) / 24;
        if (days + run > allowed)
          ctx.report(
            `${label(o)} keeps orphan files ${days} days (+${run} between runs); ${slaReason(j, days + run, allowed, LIVE_WAITS)}.`,
            o.urn,
          );
      }
    }
    for (const t of resources.filter((r) => r.type === GLUE_TABLE && isIceberg(r))) {
      const db = str(t.props, "databaseName");
      const name = str(t.props, "name");
      const has = optimizers.some(
        (o) =>
          str(o.props, "type") === "retention" &&
          ((o.propertyDependencies.tableName ?? []).includes(t.urn) ||
            (str(o.props, "tableName") === name && str(o.props, "databaseName") === db)),
      );
      if (!has)
        ctx.report(
          `${label(t)} is an Iceberg table without a 'retention' CatalogTableOptimizer: erased rows stay in old snapshots.`,
          t.urn,
        );
    }
  },
};

const DOW: Readonly<Record<string, number>> = { SUN: 1, MON: 2, TUE: 3, WED: 4, THU: 5, FRI: 6, SAT: 7 };

/** Values of one cron field (`1,15`, `1-5`, `*\/3`, `MON-FRI`) within [lo, hi], or undefined if unparseable. */
function cronValues(
  field: string,
  lo: number,
  hi: number,
  names: Readonly<Record<string, number>> = {},
): number[] | undefined {
  const value = (v: string): number | undefined => names[v.toUpperCase()] ?? (/^\d+$/.test(v) ? Number(v) : undefined);
  const out = new Set<number>();
  for (const part of field.split(",")) {
    const m = /^([^/]+)(?:\/(\d+))?$/.exec(part);
    if (!m) return undefined;
    const step = m[2] !== undefined ? Number(m[2]) : 1;
    let from: number | undefined;
    let to: number | undefined;
    if (m[1] === "*") [from, to] = [lo, hi];
    else if (m[1].includes("-")) [from, to] = m[1].split("-").map(value) as [number | undefined, number | undefined];
    else [from, to] = [value(m[1]), m[2] !== undefined ? hi : value(m[1])];
    if (from === undefined || to === undefined || step < 1 || from < lo || to > hi) return undefined;
    for (let v = from; v <= to; v += step) out.add(v);
  }
  return [...out].sort((x, y) => x - y);
}

/** Longest gap between runs of `values` repeating every `period` (cyclic). */
function longestGap(values: readonly number[], period: number): number {
  if (values.length === 0) return Number.POSITIVE_INFINITY;
  let gap = values[0] + period - values[values.length - 1];
  for (let i = 1; i < values.length; i++) gap = Math.max(gap, values[i] - values[i - 1]);
  return gap;
}

/**
 * Longest time in days between two runs of a Glue/EventBridge `cron(min hour dom month dow year)`,
 * at day granularity (months taken as 31 days, the worst case), or undefined if it cannot be read.
 */
export function cronLongestGapDays(schedule: string): number | undefined {
  const m = /^cron\((.+)\)$/.exec(schedule.trim());
  if (!m) return undefined;
  const f = m[1].trim().split(/\s+/);
  if (f.length !== 6) return undefined;
  const [, , dom, month, dow, year] = f;
  if (year !== "*" || (month !== "*" && month !== "?")) {
    // Runs only in some months or years: at least a month between the last run and the next.
    const months = year === "*" ? cronValues(month, 1, 12) : undefined;
    return months === undefined ? undefined : Math.max(31, 31 * longestGap(months, 12));
  }
  const anyDom = dom === "*" || dom === "?";
  const anyDow = dow === "*" || dow === "?";
  if (anyDom && anyDow) return 1;
  if (anyDom) {
    const days = cronValues(dow, 1, 7, DOW);
    return days === undefined ? undefined : longestGap(days, 7);
  }
  const days = cronValues(dom, 1, 31);
  return days === undefined ? undefined : longestGap(days, 31);
}

const GLUE_TRIGGER = "aws:glue/trigger:Trigger";
const GLUE_JOB = "aws:glue/job:Job";

export const erasurePropagation: StackRule = {
  kind: "stack",
  name: "erasure-propagation-scheduled",
  description:
    "Glue triggers that run the lake's jobs (CDC merges that carry deletions into the curated tables) are active and run at least once per erasure SLA.",
  domain: "retention",
  severity: "high",
  enforcementLevel: "mandatory",
  articles: ERASURE,
  remediation:
    "Keep Glue triggers enabled, set startOnCreation true on SCHEDULED triggers (Glue creates them deactivated otherwise), and schedule them so that the longest gap between two runs is shorter than the jurisdiction's erasure SLA (for example cron(0/15 * * * ? *)). Point their actions at Glue jobs declared in this stack. A deletion captured from the source reaches the curated Iceberg tables only when the merge job runs, so a stopped or monthly trigger keeps erased personal data queryable past the deadline.",
  resourceTypes: [GLUE_TRIGGER],
  validate(resources, ctx) {
    const jobs = resources.filter((r) => r.type === GLUE_JOB);
    for (const t of resources.filter((r) => r.type === GLUE_TRIGGER)) {
      if (bool(t.props, "enabled") === false) ctx.report(`${label(t)} is disabled: the jobs it runs stop.`, t.urn);
      const deps = t.propertyDependencies.actions ?? [];
      list(t.props, "actions").forEach((_, i) => {
        const job = peekStr(t.props, `actions[${i}].jobName`);
        if (job === undefined) return; // A crawler action: no data moves.
        const found = jobs.some(
          (j) =>
            (job !== null && j.props.name === job) ||
            (deps.includes(j.urn) && (job === null || jobs.filter((x) => deps.includes(x.urn)).length === 1)),
        );
        if (!found)
          ctx.report(
            `${label(t)} runs job '${job ?? "created in this update"}', which is not declared in this stack, so its encryption and role cannot be verified.`,
            t.urn,
          );
      });
      if (str(t.props, "type") !== "SCHEDULED") continue;
      if (bool(t.props, "startOnCreation") !== true) {
        ctx.report(`${label(t)} is created deactivated: set startOnCreation to true.`, t.urn);
      }
      const j = requireJurisdiction(t, ctx);
      if (!j) continue;
      const schedule = str(t.props, "schedule") ?? "";
      const gap = cronLongestGapDays(schedule);
      const sla = erasureSlaOf(j.settings);
      if (gap === undefined) {
        ctx.report(
          `${label(t)} has the schedule '${schedule}', which this rule cannot read, so its gap against the ${sla}-day erasure SLA cannot be verified.`,
          t.urn,
        );
      } else if (gap > sla) {
        ctx.report(
          `${label(t)} can leave ${gap} days between runs ('${schedule}'); the ${j.settings.law} erasure SLA is ${sla} days.`,
          t.urn,
        );
      }
    }
  },
};

const LOG_STREAM = "aws:cloudwatch/logStream:LogStream";
const LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup";

export const logStreamsInDeclaredGroups: StackRule = {
  kind: "stack",
  name: "log-streams-in-declared-groups",
  description:
    "Every CloudWatch log stream belongs to a log group declared in this stack (so its key and retention are checked).",
  domain: "retention",
  severity: "medium",
  enforcementLevel: "mandatory",
  articles: ERASURE,
  remediation:
    "Create the log group in this stack (aws.cloudwatch.LogGroup with kmsKeyId and retentionInDays) and set the stream's logGroupName from it. A stream in a group created elsewhere inherits a key and a retention nobody here checks: log events can carry personal data.",
  resourceTypes: [LOG_STREAM, LOG_GROUP],
  validate(resources, ctx) {
    const groups = resources.filter((r) => r.type === LOG_GROUP);
    eachKnown(
      resources.filter((r) => r.type === LOG_STREAM),
      ctx,
      (s) => {
        if (!referenced(groups, s, "logGroupName", ["name", "id"]))
          ctx.report(
            `${label(s)} writes into '${str(s.props, "logGroupName") ?? "?"}', a log group not declared in this stack.`,
            s.urn,
          );
      },
    );
  },
};

export const retentionRules = [
  s3Retention,
  gcsRetention,
  bigqueryRetention,
  logRetention,
  streamRetention,
  logStreamsInDeclaredGroups,
  icebergSnapshotExpiry,
  erasurePropagation,
] as const;

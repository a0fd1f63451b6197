/**
 * Audit logging and records: who read or changed which personal data must be answerable (GDPR
 * Art. 5(2), 30, 33; LGPD Art. 37, 48; Marco Civil Art. 15 for access logs). Object-level reads are
 * invisible without CloudTrail S3 data events and GCP Data Access logs, both off by default.
 */
import { A } from "./articles";
import {
  attachedTo,
  bool,
  cloudOf,
  get,
  jurisdictionOf,
  label,
  list,
  peekStr,
  peekStrings,
  reference,
  str,
  type ResourceRule,
  type ResourceView,
  type StackRule,
} from "./common";

const AUDIT = [A.gdpr5_2, A.gdpr30, A.gdpr33, A.gdpr32_1_d, A.lgpd37, A.lgpd6_x, A.lgpd48, A.marcoCivil15];
const TRAIL = "aws:cloudtrail/trail:Trail";
const AUDIT_CONFIG = "gcp:projects/iAMAuditConfig:IAMAuditConfig";

/** True if the trail records S3 object-level (data) events. */
export function recordsS3DataEvents(t: ResourceView): boolean {
  const advanced = list(t.props, "advancedEventSelectors").some((_, i) => {
    const fields = list(t.props, `advancedEventSelectors[${i}].fieldSelectors`);
    const values = (field: string): string[] => {
      const f = fields.find((x) => str(x, "field") === field);
      return f ? list(f, "equals").filter((v): v is string => typeof v === "string") : [];
    };
    return values("eventCategory").includes("Data") && values("resources.type").includes("AWS::S3::Object");
  });
  const basic = list(t.props, "eventSelectors").some((_, i) =>
    list(t.props, `eventSelectors[${i}].dataResources`).some((d) => str(d, "type") === "AWS::S3::Object"),
  );
  return advanced || basic;
}

export const cloudTrailDataEvents: StackRule = {
  kind: "stack",
  name: "cloudtrail-data-events",
  description:
    "Each cell's AWS account has a CloudTrail trail recording S3 data events, encrypted with a customer-managed key and with log file validation.",
  domain: "audit",
  severity: "high",
  enforcementLevel: "mandatory",
  articles: AUDIT,
  remediation:
    "Declare an aws.cloudtrail.Trail per cell with an advancedEventSelector { eventCategory = Data, resources.type = AWS::S3::Object } over the lake buckets, kmsKeyId set to the cell's key, enableLogFileValidation true, and an audit-class bucket with Object Lock as its destination.",
  resourceTypes: [TRAIL],
  validate(resources, ctx) {
    const trails = resources.filter((r) => r.type === TRAIL);
    for (const t of trails) {
      if (!recordsS3DataEvents(t))
        ctx.report(`${label(t)} does not record S3 data events (eventCategory Data on AWS::S3::Object).`, t.urn);
      if (bool(t.props, "enableLogFileValidation") !== true)
        ctx.report(`${label(t)} does not validate log files: set enableLogFileValidation to true.`, t.urn);
      if (bool(t.props, "enableLogging") === false) ctx.report(`${label(t)} has logging turned off.`, t.urn);
      if (reference(t.props, "kmsKeyId", ctx, t, "a customer-managed key created in this update") === undefined) {
        ctx.report(`${label(t)} has no customer-managed key: set kmsKeyId.`, t.urn);
      }
    }
    // Every AWS provider (one per cell) that manages S3 buckets needs a trail of its own.
    const withTrail = new Set(trails.filter(recordsS3DataEvents).map((t) => t.provider?.urn ?? ""));
    const seen = new Set<string>();
    for (const b of resources.filter((r) => r.type === "aws:s3/bucket:Bucket")) {
      const p = b.provider?.urn ?? "";
      if (withTrail.has(p) || seen.has(p)) continue;
      seen.add(p);
      ctx.report(
        `${label(b)} is in an AWS account/region (provider '${b.provider?.name ?? "default"}') without a CloudTrail trail recording S3 data events.`,
        b.urn,
      );
    }
  },
};

const DATA_LOG_TYPES = ["DATA_READ", "DATA_WRITE"];
/** Services holding the lake's personal data on GCP; `allServices` covers them all. */
const DATA_SERVICES = ["allServices", "bigquery.googleapis.com", "storage.googleapis.com"];

export const gcpDataAccessLogs: StackRule = {
  kind: "stack",
  name: "gcp-data-access-logs",
  description:
    "Each cell's GCP project records Data Access audit logs (DATA_READ and DATA_WRITE) for BigQuery and Cloud Storage, with no exemptions.",
  domain: "audit",
  severity: "high",
  enforcementLevel: "mandatory",
  articles: AUDIT,
  remediation:
    "Declare a gcp.projects.IAMAuditConfig for service 'allServices' (or for bigquery.googleapis.com and storage.googleapis.com) with auditLogConfigs DATA_READ, DATA_WRITE and ADMIN_READ and no exemptedMembers. Route them to a locked log bucket kept for the audit floor.",
  resourceTypes: [AUDIT_CONFIG],
  validate(resources, ctx) {
    const configs = resources.filter((r) => r.type === AUDIT_CONFIG);
    const covered = new Map<string, Set<string>>();
    for (const c of configs) {
      const service = str(c.props, "service") ?? "";
      const logTypes = list(c.props, "auditLogConfigs").map((_, i) => str(c.props, `auditLogConfigs[${i}].logType`));
      const missing = DATA_LOG_TYPES.filter((t) => !logTypes.includes(t));
      if (missing.length > 0) ctx.report(`${label(c)} for '${service}' does not enable ${missing.join(", ")}.`, c.urn);
      list(c.props, "auditLogConfigs").forEach((_, i) => {
        if (list(c.props, `auditLogConfigs[${i}].exemptedMembers`).length > 0) {
          ctx.report(
            `${label(c)} exempts members from ${str(c.props, `auditLogConfigs[${i}].logType`) ?? "a log type"}: their reads go unrecorded.`,
            c.urn,
          );
        }
      });
      if (missing.length === 0 && DATA_SERVICES.includes(service)) {
        const project = str(c.props, "project") ?? "";
        const set = covered.get(project) ?? new Set<string>();
        set.add(service);
        covered.set(project, set);
      }
    }
    const reported = new Set<string>();
    for (const r of resources) {
      if (r.type !== "gcp:bigquery/dataset:Dataset" && r.type !== "gcp:storage/bucket:Bucket") continue;
      const project = str(r.props, "project") ?? (r.provider ? str(r.provider.props, "project") : undefined) ?? "";
      const set = covered.get(project) ?? new Set<string>();
      const service = r.type === "gcp:storage/bucket:Bucket" ? "storage.googleapis.com" : "bigquery.googleapis.com";
      if (set.has("allServices") || set.has(service)) continue;
      const key = `${project}/${service}`;
      if (reported.has(key)) continue;
      reported.add(key);
      ctx.report(
        `GCP project '${project}' does not record Data Access logs for ${service} (first resource: ${label(r)}).`,
        r.urn,
      );
    }
  },
};

export const identitiesDocumented: ResourceRule = {
  kind: "resource",
  name: "identities-documented",
  description: "Every service account and IAM role states what it does (a record of who processes what).",
  domain: "records",
  severity: "low",
  enforcementLevel: "advisory",
  articles: [A.gdpr30_identities, A.lgpd37_identities],
  remediation:
    "Give every gcp.serviceaccount.Account a description (or a displayName) and every aws.iam.Role a description that names the workload and the data it processes. Auditors and the records of processing read these to map identities to processing activities.",
  resourceTypes: ["gcp:serviceaccount/account:Account", "aws:iam/role:Role"],
  validate(r, ctx) {
    const desc = str(r.props, "description") ?? (cloudOf(r.type) === "gcp" ? str(r.props, "displayName") : undefined);
    if (desc === undefined || desc.trim() === "") ctx.report(`${label(r)} has no description of its purpose.`, r.urn);
  },
};

const S3_BUCKET = "aws:s3/bucket:Bucket";
const S3_LOGGING = "aws:s3/bucketLogging:BucketLogging";

export const s3AccessLogging: StackRule = {
  kind: "stack",
  name: "s3-access-logging",
  description:
    "Every S3 bucket except the access-log bucket itself sends server access logs to a bucket of the same jurisdiction in this stack.",
  domain: "audit",
  severity: "medium",
  enforcementLevel: "mandatory",
  articles: AUDIT,
  remediation:
    "Attach an aws.s3.BucketLogging to each bucket with targetBucket set to the cell's access-log bucket (declared in this stack, so its encryption, retention and region are checked too). Server access logs record requests that CloudTrail data events sample or miss, such as denied and anonymous requests.",
  resourceTypes: [S3_BUCKET, S3_LOGGING],
  validate(resources, ctx) {
    const buckets = resources.filter((r) => r.type === S3_BUCKET);
    const loggings = resources.filter((r) => r.type === S3_LOGGING);
    const nameOf = (b: ResourceView): string[] =>
      [b.props.bucket, b.props.id].filter((v): v is string => typeof v === "string");
    const targetOf = (l: ResourceView): ResourceView | undefined => {
      const deps = l.propertyDependencies.targetBucket ?? [];
      const name = str(l.props, "targetBucket");
      return buckets.find((b) => deps.includes(b.urn) || (name !== undefined && nameOf(b).includes(name)));
    };
    const targets = new Set(
      loggings
        .map(targetOf)
        .filter((b): b is ResourceView => b !== undefined)
        .map((b) => b.urn),
    );
    for (const l of loggings) {
      const target = targetOf(l);
      if (!target) {
        ctx.report(
          `${label(l)} sends logs to '${str(l.props, "targetBucket") ?? "?"}', a bucket not declared in this stack.`,
          l.urn,
        );
        continue;
      }
      const a = jurisdictionOf(l, ctx.settings)?.id;
      const b = jurisdictionOf(target, ctx.settings)?.id;
      if (a !== b)
        ctx.report(
          `${label(l)} sends logs of jurisdiction '${a ?? "none"}' to ${label(target)} in '${b ?? "none"}'.`,
          l.urn,
        );
    }
    for (const b of buckets) {
      if (targets.has(b.urn)) continue; // The log bucket itself: logging it into itself would loop.
      if (
        attachedTo(resources, S3_LOGGING, "bucket", b, ["bucket", "id"]).length === 0 &&
        get(b.props, "logging.targetBucket") === undefined
      ) {
        ctx.report(`${label(b)} has no server access logging.`, b.urn);
      }
    }
  },
};

const METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";
const EVENT_RULE = "aws:cloudwatch/eventRule:EventRule";
const EVENT_TARGET = "aws:cloudwatch/eventTarget:EventTarget";
const ALERT_POLICY = "gcp:monitoring/alertPolicy:AlertPolicy";
const NOTIFICATION_CHANNEL = "gcp:monitoring/notificationChannel:NotificationChannel";
const TOPIC_SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription";
/** SNS protocols that deliver over TLS or stay inside AWS (SNS developer guide, "Subscribing to a topic"). */
const SNS_PROTOCOLS_OK = new Set(["email", "email-json", "https", "sqs", "lambda", "firehose", "application"]);

/** `arn:aws:<service>:<region>:<account>:...` -> region ('' for global services), or undefined. */
const arnRegion = (arn: string): string | undefined => /^arn:aws[a-z-]*:[^:]+:([^:]*):/.exec(arn)?.[1];

export const alertsRouted: StackRule = {
  kind: "stack",
  name: "alerts-routed-in-jurisdiction",
  description:
    "Alarms, event rules and alert policies are enabled and notify a target declared in this stack, in the cell's jurisdiction.",
  domain: "audit",
  severity: "medium",
  enforcementLevel: "mandatory",
  articles: [A.gdpr33, A.gdpr32_1_d, A.gdpr5_2, A.lgpd48, A.lgpd46, A.lgpd6_x, A.gdpr44, A.lgpd33],
  remediation:
    "Give every aws.cloudwatch.MetricAlarm alarmActions pointing at the cell's encrypted SNS topic (declared in this stack) and keep actionsEnabled on. Give every aws.cloudwatch.EventRule at least one aws.cloudwatch.EventTarget and keep it enabled, and target only resources of this stack in the cell's region: an event or alarm sent to another account or region carries resource names and error details out of the jurisdiction. On GCP, keep every gcp.monitoring.AlertPolicy enabled with at least one condition, and list notificationChannels declared in this stack; keep those channels enabled, and webhook channels on https URLs. Subscribe people to the SNS topics by email or https only. An alarm that notifies nobody does not help detect and report a breach within 72 hours.",
  resourceTypes: [METRIC_ALARM, EVENT_RULE, EVENT_TARGET, ALERT_POLICY, NOTIFICATION_CHANNEL, TOPIC_SUBSCRIPTION],
  validate(resources, ctx) {
    const arns = new Map<string, ResourceView>();
    for (const r of resources) {
      // An event target's `arn` is the ARN of what it targets, not its own.
      if (r.type === EVENT_TARGET) continue;
      for (const k of ["arn", "id"]) {
        const v = r.props[k];
        if (typeof v === "string" && v.startsWith("arn:")) arns.set(v, r);
      }
    }
    /** Reports a notification target that is not declared in this stack or outside the jurisdiction. */
    const checkTarget = (owner: ResourceView, arn: string, deps: readonly string[]): void => {
      // The dependency names the target even where the plan's outputs rewrote the ARN property.
      const target = resources.find((x) => deps.includes(x.urn) && x.type !== owner.type) ?? arns.get(arn);
      if (!target) {
        ctx.report(`${label(owner)} notifies '${arn}', which is not declared in this stack.`, owner.urn);
        return;
      }
      const region = arnRegion(typeof target.props.arn === "string" ? target.props.arn : arn);
      const j = jurisdictionOf(owner, ctx.settings);
      if (region !== undefined && region !== "" && j !== undefined && !j.settings.awsRegions.includes(region)) {
        ctx.report(
          `${label(owner)} notifies '${arn}' in '${region}', outside jurisdiction '${j.id}' (${j.settings.law}).`,
          owner.urn,
        );
      }
    };
    for (const a of resources.filter((r) => r.type === METRIC_ALARM)) {
      if (bool(a.props, "actionsEnabled") === false)
        ctx.report(`${label(a)} has actionsEnabled false: it notifies nobody.`, a.urn);
      const peeked = peekStrings(a.props, "alarmActions");
      const actions = peeked.known;
      if (actions.length + peeked.unknown === 0)
        ctx.report(`${label(a)} has no alarmActions: it notifies nobody.`, a.urn);
      for (const arn of actions) checkTarget(a, arn, a.propertyDependencies.alarmActions ?? []);
    }
    const targets = resources.filter((r) => r.type === EVENT_TARGET);
    for (const t of targets) {
      const arn = peekStr(t.props, "arn");
      if (arn !== undefined) checkTarget(t, arn ?? "an ARN created in this update", t.propertyDependencies.arn ?? []);
    }
    for (const rule of resources.filter((r) => r.type === EVENT_RULE)) {
      const state = str(rule.props, "state");
      if (state === "DISABLED" || bool(rule.props, "isEnabled") === false)
        ctx.report(`${label(rule)} is disabled.`, rule.urn);
      const name = peekStr(rule.props, "name");
      const has = targets.some(
        (t) =>
          (t.propertyDependencies.rule ?? []).includes(rule.urn) ||
          (typeof name === "string" && peekStr(t.props, "rule") === name),
      );
      if (!has) ctx.report(`${label(rule)} has no target in this stack: the events it matches reach nobody.`, rule.urn);
    }
    for (const sub of resources.filter((r) => r.type === TOPIC_SUBSCRIPTION)) {
      const protocol = str(sub.props, "protocol");
      // Plain http delivers alarm payloads (resource names, error details) without TLS; sms leaves AWS
      // through carriers of any country.
      if (protocol !== undefined && !SNS_PROTOCOLS_OK.has(protocol)) {
        ctx.report(
          `${label(sub)} delivers alerts over '${protocol}'; use email, https or an AWS service in the cell's region.`,
          sub.urn,
        );
      }
      const topic = peekStr(sub.props, "topic");
      if (topic !== undefined)
        checkTarget(sub, topic ?? "a topic created in this update", sub.propertyDependencies.topic ?? []);
    }
    const channels = resources.filter((r) => r.type === NOTIFICATION_CHANNEL);
    for (const c of channels) {
      if (bool(c.props, "enabled") === false)
        ctx.report(`${label(c)} is disabled: the alert policies using it notify nobody.`, c.urn);
      const url = str(c.props, "labels.url");
      // Incident payloads name resources and carry metric labels: never over plain HTTP.
      if (url !== undefined && !url.toLowerCase().startsWith("https://"))
        ctx.report(`${label(c)} posts incidents to '${url}' without TLS: use an https URL.`, c.urn);
    }
    for (const p of resources.filter((r) => r.type === ALERT_POLICY)) {
      if (bool(p.props, "enabled") === false) ctx.report(`${label(p)} is disabled.`, p.urn);
      if (list(p.props, "conditions").length === 0)
        ctx.report(`${label(p)} has no condition: it never opens an incident.`, p.urn);
      const peeked = peekStrings(p.props, "notificationChannels");
      const refs = peeked.known;
      if (refs.length + peeked.unknown === 0) {
        // Incidents still open and show in the console; nobody is told. Advisory: a channel (email,
        // pager) is an operational choice per cell, but the gap is named at every preview.
        ctx.advise(
          `${label(p)} has no notificationChannels: its incidents show only in the Cloud console and notify nobody.`,
          p.urn,
        );
      }
      const deps = p.propertyDependencies.notificationChannels ?? [];
      for (const ref of refs) {
        const found = channels.some(
          (c) =>
            [c.props.name, c.props.id].includes(ref) || (deps.includes(c.urn) && refs.length + peeked.unknown === 1),
        );
        if (!found) ctx.report(`${label(p)} notifies channel '${ref}', which is not declared in this stack.`, p.urn);
      }
    }
  },
};

export const auditRules = [
  cloudTrailDataEvents,
  gcpDataAccessLogs,
  s3AccessLogging,
  identitiesDocumented,
  alertsRouted,
] as const;

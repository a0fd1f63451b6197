/**
 * Residency: a cell's data stays in its jurisdiction's regions on both clouds (GDPR Art. 44,
 * LGPD Art. 33, as the project reads them: no transfer at all rather than a safeguarded one).
 *
 * A resource's jurisdiction comes from its `jurisdiction` (else `cell`) tag/label, on the resource or
 * in its provider's default tags/labels; its location from its own `region`/`location` props, else
 * its provider's region. Providers themselves are checked too: a provider is where a whole cell's
 * region is decided.
 */
import { A } from "./articles";
import {
  awsRegionOf,
  cloudOf,
  gcpLocationAllowed,
  get,
  jurisdictionOf,
  label,
  list,
  peekStr,
  placementOf,
  str,
  type ResourceRule,
  type ResourceView,
  type RuleContext,
  type StackRule,
  type ResolvedJurisdiction,
} from "./common";

const RESIDENCY = [A.gdpr44, A.lgpd33, A.gdpr25_1];

/** BigQuery resources whose absent `location` means the US multi-region, not the provider's region. */
const BQ_EXPLICIT = [
  "gcp:bigquery/dataset:Dataset",
  "gcp:bigquery/connection:Connection",
  "gcp:bigquery/dataTransferConfig:DataTransferConfig",
  "gcp:bigquery/biReservation:BiReservation",
  "gcp:bigquery/reservation:Reservation",
];

function allowedText(cloud: "aws" | "gcp", j: ResolvedJurisdiction): string {
  return cloud === "aws"
    ? `allowed AWS regions: ${j.settings.awsRegions.join(", ")}`
    : `allowed GCP locations: ${j.settings.gcpLocations.join(", ")}`;
}

function locationAllowed(cloud: "aws" | "gcp", loc: string, j: ResolvedJurisdiction): boolean {
  return cloud === "aws" ? j.settings.awsRegions.includes(loc) : gcpLocationAllowed(loc, j.settings.gcpLocations);
}

/** Resolves the jurisdiction or reports why it can't. */
export function requireJurisdiction(r: ResourceView, ctx: RuleContext): ResolvedJurisdiction | undefined {
  const j = jurisdictionOf(r, ctx.settings);
  if (!j) {
    ctx.report(
      `${label(r)} has no 'jurisdiction' or 'cell' tag/label naming a configured jurisdiction ` +
        `(${Object.keys(ctx.settings.jurisdictions).join(", ")}) on the resource or its provider, so its residency cannot be checked.`,
      r.urn,
    );
  }
  return j;
}

export const resourceResidency: ResourceRule = {
  kind: "resource",
  name: "resource-residency",
  description: "Every resource and provider is located in its cell's jurisdiction.",
  domain: "residency",
  severity: "critical",
  enforcementLevel: "mandatory",
  articles: RESIDENCY,
  remediation:
    "Create the resource through its cell's explicit aws.Provider/gcp.Provider, whose region is inside the jurisdiction, and do not override region or location per resource. State the location explicitly where the cloud would otherwise pick a multi-region (BigQuery datasets, connections and transfers default to US), use user-managed replication in the cell's region for Secret Manager, and set a Pub/Sub message storage policy.",
  resourceTypes: ["aws:*", "gcp:*", "pulumi:providers:aws", "pulumi:providers:gcp"],
  catchAll: true,
  validate(r, ctx) {
    const cloud = cloudOf(r.type);
    if (!cloud) return;
    const placement = placementOf(r);
    if (placement === undefined) return; // Global or inherits its parent's location.
    const j = requireJurisdiction(r, ctx);
    if (!j) return;
    if (placement.locations.length === 0) {
      if (BQ_EXPLICIT.includes(r.type)) return; // Reported once, by bigquery-explicit-location.
      ctx.report(
        `${label(r)} states no location (${placement.from}); the cloud would choose one outside ${j.settings.law}. Set it to one of the ${allowedText(cloud, j)}.`,
        r.urn,
      );
      return;
    }
    for (const loc of placement.locations) {
      if (!locationAllowed(cloud, loc, j)) {
        ctx.report(
          `${label(r)} is in '${loc}' (${placement.from}), outside jurisdiction '${j.id}' (${j.settings.law}); ${allowedText(cloud, j)}.`,
          r.urn,
        );
      }
    }
    // Secrets Manager replicates a secret to other regions on request.
    if (r.type === "aws:secretsmanager/secret:Secret") {
      list(r.props, "replicas").forEach((_, i) => {
        const region = str(r.props, `replicas[${i}].region`) ?? "";
        if (!locationAllowed("aws", region, j)) {
          ctx.report(
            `${label(r)} replicates to '${region}', outside jurisdiction '${j.id}' (${j.settings.law}); ${allowedText("aws", j)}.`,
            r.urn,
          );
        }
      });
    }
    // Dataflow workers may run in another zone than the job's region.
    if (r.type.startsWith("gcp:dataflow/")) {
      for (const key of ["workerZone", "workerRegion", "zone"]) {
        const loc = str(r.props, key) ?? str(r.props, `parameters.${key}`);
        if (loc && !locationAllowed("gcp", loc, j)) {
          ctx.report(
            `${label(r)} runs workers in '${loc}' (${key}), outside jurisdiction '${j.id}' (${j.settings.law}); ${allowedText("gcp", j)}.`,
            r.urn,
          );
        }
      }
    }
  },
};

const S3_BUCKET = "aws:s3/bucket:Bucket";
const FEATURE_VIEW = "gcp:vertex/aiFeatureOnlineStoreFeatureview:AiFeatureOnlineStoreFeatureview";
const S3_REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig";
const BQ_TRANSFER = "gcp:bigquery/dataTransferConfig:DataTransferConfig";
const BQ_DATASET = "gcp:bigquery/dataset:Dataset";
const ORG_POLICY = "gcp:orgpolicy/policy:Policy";
const DMS_S3_TARGET = "aws:dms/s3Endpoint:S3Endpoint";
const TRANSFER_JOB = "gcp:storage/transferJob:TransferJob";
const GCS_BUCKET = "gcp:storage/bucket:Bucket";

/** Sources and sinks of a Storage Transfer job that name no bucket this stack can place. */
const UNVERIFIABLE_TRANSFER_ENDPOINTS = [
  "httpDataSource",
  "azureBlobStorageDataSource",
  "posixDataSource",
  "posixDataSink",
  "awsS3CompatibleDataSource",
  "hdfsDataSource",
];

/** Bucket name from `arn:aws:s3:::name` or a plain name. */
const bucketName = (v: string): string => v.replace(/^arn:aws[a-z-]*:s3:::/, "");

export const dataMovementResidency: StackRule = {
  kind: "stack",
  name: "replication-residency",
  description:
    "Replication and copy destinations (S3 replication, DMS S3 targets, Storage Transfer jobs, BigQuery transfers) stay in the source's jurisdiction.",
  domain: "residency",
  severity: "critical",
  enforcementLevel: "mandatory",
  articles: RESIDENCY,
  remediation:
    "Replicate S3 buckets only to buckets of the same cell, declared in this stack, and write BigQuery Data Transfer Service copies into a dataset in the same location as the transfer. Point DMS S3 target endpoints at the cell's own raw bucket, and give Storage Transfer Service jobs a source and a sink that are buckets of this stack in the cell's jurisdiction. For a copy outside the jurisdiction, a transfer mechanism (GDPR Art. 46, LGPD Art. 33) and a documented exception are needed first.",
  resourceTypes: [S3_REPLICATION, BQ_TRANSFER, FEATURE_VIEW, DMS_S3_TARGET, TRANSFER_JOB],
  validate(resources, ctx) {
    /** Reports unless `target` is in `owner`'s jurisdiction and one of its locations; returns nothing. */
    const sameJurisdiction = (
      owner: ResourceView,
      what: string,
      target: ResourceView | undefined,
      ref: string,
    ): void => {
      if (!target) {
        ctx.report(
          `${label(owner)} ${what} '${ref}', a bucket not declared in this stack, so its location cannot be verified.`,
          owner.urn,
        );
        return;
      }
      const src = jurisdictionOf(owner, ctx.settings);
      const j = jurisdictionOf(target, ctx.settings);
      const cloud = target.type.startsWith("aws:") ? "aws" : "gcp";
      const locations = placementOf(target)?.locations ?? [];
      const inside =
        src !== undefined &&
        locations.length > 0 &&
        locations.every((l) => locationAllowed(cloud, l.toLowerCase(), src));
      if (!src || !j || j.id !== src.id || !inside) {
        ctx.report(
          `${label(owner)} ${what} ${label(target)} in '${locations.join(", ") || "an unknown location"}' (jurisdiction '${j?.id ?? "none"}'), outside its own jurisdiction '${src?.id ?? "none"}'.`,
          owner.urn,
        );
      }
    };
    const s3ByName = (name: string | undefined, deps: readonly string[]): ResourceView | undefined =>
      resources.find(
        (b) =>
          b.type === S3_BUCKET &&
          ((name !== undefined &&
            [b.props.bucket, b.props.id, b.props.arn].some(
              (v) => typeof v === "string" && bucketName(v) === bucketName(name),
            )) ||
            (name === undefined && deps.includes(b.urn))),
      );
    const gcsByName = (name: string | undefined): ResourceView | undefined =>
      resources.find(
        (b) => b.type === GCS_BUCKET && name !== undefined && (b.props.name === name || b.props.id === name),
      );
    // DMS S3 targets: the CDC files land in the named bucket, which must be the cell's.
    for (const e of resources.filter((r) => r.type === DMS_S3_TARGET)) {
      const name = peekStr(e.props, "bucketName");
      sameJurisdiction(
        e,
        "writes CDC files to",
        s3ByName(name ?? undefined, e.propertyDependencies.bucketName ?? []),
        name ?? "?",
      );
    }
    // Storage Transfer Service: both ends are checked, whichever spec (transfer or replication) is used.
    for (const x of resources.filter((r) => r.type === TRANSFER_JOB)) {
      for (const spec of ["transferSpec", "replicationSpec"]) {
        if (get(x.props, spec) === undefined) continue;
        for (const k of UNVERIFIABLE_TRANSFER_ENDPOINTS) {
          if (get(x.props, `${spec}.${k}`) !== undefined) {
            ctx.report(
              `${label(x)} uses ${spec}.${k}, whose location this stack cannot verify; transfer only between buckets of this stack.`,
              x.urn,
            );
          }
        }
        const s3 = str(x.props, `${spec}.awsS3DataSource.bucketName`);
        if (s3 !== undefined) sameJurisdiction(x, "copies from", s3ByName(s3, []), s3);
        const gcsSrc = str(x.props, `${spec}.gcsDataSource.bucketName`);
        if (gcsSrc !== undefined) sameJurisdiction(x, "copies from", gcsByName(gcsSrc), gcsSrc);
        const sink = str(x.props, `${spec}.gcsDataSink.bucketName`);
        if (sink === undefined)
          ctx.report(
            `${label(x)} has no Cloud Storage sink in ${spec}, so where the copy lands cannot be verified.`,
            x.urn,
          );
        else sameJurisdiction(x, "copies to", gcsByName(sink), sink);
      }
    }
    // Vertex feature views sync from a BigQuery table: the table's dataset must be in the same jurisdiction.
    for (const v of resources.filter((r) => r.type === FEATURE_VIEW)) {
      const uri = str(v.props, "bigQuerySource.uri");
      if (uri === undefined) continue;
      const m = /^bq:\/\/([^.]+)\.([^.]+)\./.exec(uri);
      // Dataset ids repeat across cells (one project per cell): match the project too.
      const projectOf = (d: ResourceView): string | undefined =>
        str(d.props, "project") ?? (d.provider ? str(d.provider.props, "project") : undefined);
      const ds = resources.find(
        (d) => d.type === BQ_DATASET && m !== null && d.props.datasetId === m[2] && projectOf(d) === m[1],
      );
      if (!ds) {
        ctx.report(
          `${label(v)} syncs from '${uri}', whose dataset is not declared in this stack, so its location cannot be verified.`,
          v.urn,
        );
        continue;
      }
      const a = jurisdictionOf(v, ctx.settings)?.id;
      const b = jurisdictionOf(ds, ctx.settings)?.id;
      if (a !== b)
        ctx.report(`${label(v)} in jurisdiction '${a ?? "none"}' syncs from ${label(ds)} in '${b ?? "none"}'.`, v.urn);
    }
    const buckets = resources.filter((r) => r.type === S3_BUCKET);
    for (const rep of resources.filter((r) => r.type === S3_REPLICATION)) {
      const srcJ = jurisdictionOf(rep, ctx.settings);
      list(rep.props, "rules").forEach((_, i) => {
        const dest = str(rep.props, `rules[${i}].destination.bucket`);
        if (dest === undefined) return;
        const target = buckets.find((b) =>
          [b.props.arn, b.props.bucket, b.props.id].some(
            (v) => typeof v === "string" && bucketName(v) === bucketName(dest),
          ),
        );
        if (!target) {
          ctx.report(
            `${label(rep)} replicates to '${dest}', a bucket not declared in this stack, so its region cannot be verified.`,
            rep.urn,
          );
          return;
        }
        const region = awsRegionOf(target);
        const j = jurisdictionOf(target, ctx.settings);
        if (!srcJ || !j || j.id !== srcJ.id || region === undefined || !srcJ.settings.awsRegions.includes(region)) {
          ctx.report(
            `${label(rep)} replicates to ${label(target)} in '${region ?? "an unknown region"}' (jurisdiction '${j?.id ?? "none"}'), outside the source's jurisdiction '${srcJ?.id ?? "none"}'.`,
            rep.urn,
          );
        }
      });
    }
    for (const x of resources.filter((r) => r.type === BQ_TRANSFER)) {
      if (get(x.props, "destinationDatasetId") === undefined) continue;
      const deps = x.propertyDependencies.destinationDatasetId ?? [];
      const id = str(x.props, "destinationDatasetId");
      const ds = resources.find((d) => d.type === BQ_DATASET && (deps.includes(d.urn) || d.props.datasetId === id));
      if (!ds) {
        ctx.report(
          `${label(x)} writes into dataset '${id}', which is not declared in this stack, so its location cannot be verified.`,
          x.urn,
        );
        continue;
      }
      const a = (str(x.props, "location") ?? "").toLowerCase();
      const b = (str(ds.props, "location") ?? "").toLowerCase();
      if (a !== b)
        ctx.report(
          `${label(x)} runs in '${a || "US (default)"}' but writes into ${label(ds)} in '${b || "US (default)"}'.`,
          x.urn,
        );
    }
  },
};

/** `in:southamerica-east1-locations` -> `southamerica-east1`; plain values unchanged. */
const valueGroupLocation = (v: string): string => v.replace(/^in:/, "").replace(/-locations$/, "");

export const gcpLocationGuardrail: StackRule = {
  kind: "stack",
  name: "gcp-resource-locations-guardrail",
  description:
    "Every GCP project of a cell has a gcp.resourceLocations org policy restricted to the cell's jurisdiction.",
  domain: "residency",
  severity: "high",
  enforcementLevel: "mandatory",
  articles: RESIDENCY,
  remediation:
    "Declare a gcp.orgpolicy.Policy named 'projects/<project>/policies/gcp.resourceLocations' with one rule whose values.allowedValues lists only the jurisdiction's value groups (for example 'in:southamerica-east1-locations'). The org policy stops resources created outside Pulumi, such as by a console user, from leaving the region.",
  resourceTypes: [ORG_POLICY],
  validate(resources, ctx) {
    const guardrails = resources.filter(
      (r) => r.type === ORG_POLICY && (str(r.props, "name") ?? "").endsWith("gcp.resourceLocations"),
    );
    const guarded = new Set<string>();
    for (const g of guardrails) {
      const j = jurisdictionOf(g, ctx.settings);
      const name = str(g.props, "name") ?? "";
      const project = /^projects\/([^/]+)\//.exec(name)?.[1] ?? str(g.props, "parent")?.replace(/^projects\//, "");
      if (project) guarded.add(project);
      if (!j) {
        ctx.report(`${label(g)} has no jurisdiction, so its allowed locations cannot be checked.`, g.urn);
        continue;
      }
      const rules = list(g.props, "spec.rules");
      if (rules.length === 0) ctx.report(`${label(g)} has no rules: it allows every location.`, g.urn);
      rules.forEach((_, i) => {
        if (str(g.props, `spec.rules[${i}].allowAll`) === "TRUE") {
          ctx.report(`${label(g)} rule ${i} allows all locations.`, g.urn);
        }
        for (const v of list(g.props, `spec.rules[${i}].values.allowedValues`)) {
          if (typeof v !== "string") continue;
          const loc = valueGroupLocation(v);
          if (!gcpLocationAllowed(loc, j.settings.gcpLocations)) {
            ctx.report(
              `${label(g)} allows '${v}', outside jurisdiction '${j.id}' (${j.settings.law}); allowed GCP locations: ${j.settings.gcpLocations.join(", ")}.`,
              g.urn,
            );
          }
        }
      });
    }
    // Projects that hold data (any GCP resource with a location) need their own guardrail.
    const projects = new Map<string, ResourceView>();
    for (const r of resources) {
      if (cloudOf(r.type) !== "gcp" || r.type.startsWith("pulumi:providers:") || r.type === ORG_POLICY) continue;
      const project = str(r.props, "project") ?? (r.provider ? str(r.provider.props, "project") : undefined);
      if (project && !projects.has(project)) projects.set(project, r);
    }
    for (const [project, first] of projects) {
      if (!guarded.has(project)) {
        ctx.report(
          `GCP project '${project}' has no gcp.resourceLocations org policy in this stack (first resource: ${label(first)}).`,
          first.urn,
        );
      }
    }
  },
};

export const bigqueryExplicitLocation: ResourceRule = {
  kind: "resource",
  name: "bigquery-explicit-location",
  description: "BigQuery datasets, connections, transfers and reservations state their location explicitly.",
  domain: "residency",
  severity: "high",
  enforcementLevel: "mandatory",
  articles: RESIDENCY,
  remediation:
    "Set location on every BigQuery dataset, connection, data transfer config and (BI) reservation to the cell's GCP region, or to its BigQuery Omni location for Omni resources. BigQuery does not use the provider's region: an absent location means the US multi-region.",
  resourceTypes: BQ_EXPLICIT,
  validate(r, ctx) {
    if (!BQ_EXPLICIT.includes(r.type)) return;
    if (str(r.props, "location") === undefined) {
      ctx.report(`${label(r)} states no location; BigQuery would place it in the US multi-region.`, r.urn);
    }
  },
};

export const residencyRules = [
  resourceResidency,
  bigqueryExplicitLocation,
  dataMovementResidency,
  gcpLocationGuardrail,
] as const;

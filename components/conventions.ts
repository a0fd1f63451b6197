/**
 * Naming, labelling and protection conventions shared by every component, defined once.
 */
import * as pulumi from "@pulumi/pulumi";
import type { DataClass } from "./config/jurisdictions";

/** Tags/labels every resource of a cell carries through its providers' defaults. */
export interface CellTags {
  readonly cell: string;
  readonly jurisdiction: string;
  readonly environment: string;
  readonly "managed-by": "pulumi";
}

/** The per-resource tag/label naming the data class a store holds (drives retention and the policy pack). */
export function classification(dataClass: DataClass | "none"): { "data-classification": string } {
  return { "data-classification": dataClass };
}

/**
 * Resource types that hold state; in a protected stack they get `protect` and `retainOnDelete`, so neither
 * a mistaken `pulumi destroy` nor a replacement can drop data. The clouds' own deletion protection is
 * set by each component as well (belt and braces).
 */
export const STATEFUL_TYPES: ReadonlySet<string> = new Set([
  "aws:s3/bucket:Bucket",
  "aws:kms/key:Key",
  "aws:secretsmanager/secret:Secret",
  "aws:glue/catalogDatabase:CatalogDatabase",
  "aws:glue/catalogTable:CatalogTable",
  "aws:cloudtrail/trail:Trail",
  "aws:dynamodb/table:Table",
  "aws:msk/cluster:Cluster",
  // Holds the CDC checkpoint: a replacement restarts the full load of every table from the sources.
  "aws:dms/replicationConfig:ReplicationConfig",
  "gcp:kms/keyRing:KeyRing",
  "gcp:kms/cryptoKey:CryptoKey",
  "gcp:bigquery/dataset:Dataset",
  "gcp:bigquery/table:Table",
  "gcp:storage/bucket:Bucket",
  "gcp:secretmanager/secret:Secret",
  "gcp:pubsub/topic:Topic",
  "gcp:vertex/aiFeatureOnlineStore:AiFeatureOnlineStore",
  // Deleting the taxonomy or a tag silently lifts column-level protection from every tagged column.
  "gcp:datacatalog/taxonomy:Taxonomy",
  "gcp:datacatalog/policyTag:PolicyTag",
  "gcp:pubsub/subscription:Subscription",
  "gcp:workbench/instance:Instance",
]);

/**
 * A resource transformation that protects stateful children. It is an SDK-side transformation rather
 * than an engine-side `transforms` hook because the offline plan runs under Pulumi mocks, which do not
 * run engine-side transforms: protection must be visible in the plan the policy gate checks.
 */
export function protectStateful(enabled: boolean): pulumi.ResourceTransformation {
  return (args) => {
    if (!enabled || !STATEFUL_TYPES.has(args.type)) return undefined;
    return { props: args.props, opts: pulumi.mergeOptions(args.opts, { protect: true, retainOnDelete: true }) };
  };
}

/** Milliseconds in `days` days (BigQuery expirations are in ms). */
export const daysToMs = (days: number): number => days * 24 * 60 * 60 * 1000;

/** Seconds in `days` days, as the Google APIs' duration string (`"7776000s"`). */
export const daysToDuration = (days: number): string => `${days * 24 * 60 * 60}s`;

/**
 * Days noncurrent object versions survive. An erasure deletes the current version within a day of the
 * request; object lifecycle acts within about a day of eligibility; so versions expire `sla - 3` days
 * after becoming noncurrent to keep physical removal inside the erasure SLA (at least 1 day).
 */
export function noncurrentDaysForErasure(erasureSlaDays: number): number {
  return Math.max(1, erasureSlaDays - 3);
}

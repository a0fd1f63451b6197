/**
 * What exists in each region a cell may use: its zones and the products this program deploys there.
 * The mocks invent a value for any zone, so a zone that does not exist (`europe-west1-a`) passes every
 * offline check and fails only at `pulumi up`; this table is what the offline checks know instead.
 * Config validation rejects a region or zone missing here, and a region whose row lacks a required product
 * ("not available or not verified"); components take their zones from it.
 *
 * A product is listed in a row only with evidence. Absent means: not available, or not verified.
 * Checked on 2026-12-03 with the documentation index reachable from here (not the live pages):
 * - Cloud Run: "Cloud Run locations" (cloud.google.com/run/docs/locations; the indexed copies are the ja and
 *   fr-FR translations). Tier 1: europe-north1, europe-southwest1, europe-west1, europe-west4, europe-west8,
 *   europe-west9; Tier 2: europe-central2, europe-west10, europe-west12, europe-west3, southamerica-east1.
 *   Verified for every GCP region below.
 * - Cloud Run source deployment without a build (the collector: `image: "scratch"`, `baseImageUri`,
 *   `sourceCode`, docs/adr/0009-collector-image-build.md): "Deployment options for services"
 *   (docs.cloud.google.com/run/docs/deployment-options-for-services) calls deploying prebuilt artifacts
 *   without the Cloud Build step "(Preview)". No page found lists regions for it, so it is not a row of
 *   this table; being Preview, it has no SLA and may change (note for ADR 0009 and the runbook).
 * - Dataflow: "Dataflow regions" (cloud.google.com/dataflow/docs/concepts/regional-endpoints) only points at
 *   "Dataflow locations" (docs.cloud.google.com/dataflow/docs/resources/locations), whose region list is
 *   not in the index. NOT VERIFIED for any region.
 * - Vertex AI Workbench instances and Vertex AI Feature Store online stores: "Vertex AI locations"
 *   (docs.cloud.google.com/vertex-ai/docs/general/locations) lists Vertex AI itself in southamerica-east1 and
 *   europe-west1 (and defers to a separate "Vertex AI Workbench locations" page); its per-feature table and
 *   the Workbench page are not in the index. NOT VERIFIED per feature for any region.
 * - AWS DMS Serverless: "Working with AWS DMS Serverless" and "AWS DMS Serverless limitations"
 *   (docs.aws.amazon.com/dms/latest/userguide/CHAP_Serverless*.html) give no Region list in the indexed
 *   text. NOT VERIFIED for any region.
 * - AWS Glue 5.0: "AWS Glue versions" (docs.aws.amazon.com/glue/latest/dg/release-notes.html) and
 *   "Migrating AWS Glue for Spark jobs to AWS Glue version 5.0" give no Region list in the indexed text
 *   (only GovCloud has a per-Region statement). NOT VERIFIED for any region.
 * The four regions the committed stacks deploy (southamerica-east1, europe-west1, sa-east-1, eu-west-1)
 * keep their unverified products so dev and prod still plan; each such product is named in the row's
 * `unverified` list and must be confirmed on the live pages above before the first `pulumi up`
 * (docs/first-deploy.md). Every other region lists only what was verified.
 *
 * Zones:
 * - GCP: cloud.google.com/compute/docs/regions-zones ("Available regions and zones") and the per-region zone
 *   lists of cloud.google.com/memorystore/docs/memcached/regions, as checked before; europe-west1 has zones
 *   b, c and d only (there is no europe-west1-a). On 2026-12-03 the indexed copies did not show the European
 *   part of those lists, so the a, b, c of the other regions was not re-verified here.
 * - AWS: docs.aws.amazon.com/global-infrastructure/latest/regions/aws-availability-zones.html ("AWS
 *   Availability Zones"): "Each Region has at least three Availability Zones", named by the Region code
 *   followed by a letter. AZ *names* map to different physical AZs per account in the oldest Regions.
 *   The letters a-c per region were not re-verified on 2026-12-03.
 * - BigQuery Omni: cloud.google.com/bigquery/docs/omni-introduction#locations (AWS: aws-us-east-1,
 *   aws-us-west-2, aws-ap-northeast-2, aws-ap-southeast-2, aws-eu-west-1; none in South America).
 * When you add a region or a product, check it first and add it with its source and date.
 */

/** Products the program deploys on GCP. */
export const GCP_PRODUCTS = ["dataflow", "cloudRun", "vertexWorkbench", "vertexFeatureOnlineStore"] as const;
export type GcpProduct = (typeof GCP_PRODUCTS)[number];
/** Products the program deploys on AWS. */
export const AWS_PRODUCTS = ["dmsServerless", "glue5"] as const;
export type AwsProduct = (typeof AWS_PRODUCTS)[number];

export interface RegionFacts<P extends string> {
  /** Zone suffixes that exist in the region, in the order components pick them. */
  readonly zones: readonly string[];
  /** Products available in the region (absent: not available, or not verified). */
  readonly products: readonly P[];
  /**
   * Products listed in `products` without a source found on 2026-12-03: kept only in the regions the
   * committed stacks deploy, to be confirmed before the first `pulumi up`. Empty everywhere else.
   */
  readonly unverified: readonly P[];
}

const abc = ["a", "b", "c"] as const;
/** Cloud Run only: the one GCP product verified in every region (header). */
const VERIFIED_GCP: readonly GcpProduct[] = ["cloudRun"];
/** GCP products kept, unverified, in the regions the committed stacks deploy (header). */
const UNVERIFIED_GCP: readonly GcpProduct[] = ["dataflow", "vertexWorkbench", "vertexFeatureOnlineStore"];
/** AWS products kept, unverified, in the regions the committed stacks deploy (header). */
const UNVERIFIED_AWS: readonly AwsProduct[] = ["dmsServerless", "glue5"];

const deployedGcp = (zones: readonly string[]): RegionFacts<GcpProduct> => ({
  zones,
  products: [...VERIFIED_GCP, ...UNVERIFIED_GCP],
  unverified: UNVERIFIED_GCP,
});
const verifiedGcp = (zones: readonly string[]): RegionFacts<GcpProduct> => ({
  zones,
  products: VERIFIED_GCP,
  unverified: [],
});
const deployedAws: RegionFacts<AwsProduct> = { zones: abc, products: UNVERIFIED_AWS, unverified: UNVERIFIED_AWS };
const verifiedAws: RegionFacts<AwsProduct> = { zones: abc, products: [], unverified: [] };

/** GCP regions allowed by some jurisdiction (components/config/jurisdictions.ts). */
export const GCP_REGIONS: Readonly<Record<string, RegionFacts<GcpProduct>>> = {
  // Deployed by Pulumi.dev.yaml and Pulumi.prod.yaml (br).
  "southamerica-east1": deployedGcp(abc),
  // Deployed by Pulumi.dev.yaml and Pulumi.prod.yaml (eu).
  "europe-west1": deployedGcp(["b", "c", "d"]),
  "europe-west3": verifiedGcp(abc),
  "europe-west4": verifiedGcp(abc),
  "europe-west8": verifiedGcp(abc),
  "europe-west9": verifiedGcp(abc),
  "europe-west10": verifiedGcp(abc),
  "europe-west12": verifiedGcp(abc),
  "europe-north1": verifiedGcp(abc),
  "europe-central2": verifiedGcp(abc),
  "europe-southwest1": verifiedGcp(abc),
};

/** AWS regions allowed by some jurisdiction. */
export const AWS_REGIONS: Readonly<Record<string, RegionFacts<AwsProduct>>> = {
  // Deployed by Pulumi.dev.yaml and Pulumi.prod.yaml (br).
  "sa-east-1": deployedAws,
  // Deployed by Pulumi.dev.yaml and Pulumi.prod.yaml (eu).
  "eu-west-1": deployedAws,
  "eu-west-3": verifiedAws,
  "eu-central-1": verifiedAws,
  "eu-north-1": verifiedAws,
  "eu-south-1": verifiedAws,
  "eu-south-2": verifiedAws,
};

/**
 * What an event-streaming source meets in each AWS region a cell may use (docs/adr/0011-event-streams-into-iceberg.md;
 * the region-independent quotas are in components/aws/sources/kafka/limits.ts):
 * - `mskServerless`: "What is MSK Serverless?" (MSK developer guide) lists Europe (Frankfurt, Stockholm, Ireland,
 *   Paris, London) and no South American region; Milan and Spain are not listed.
 * - `firehoseIcebergUpsertMiBps`: "Considerations and limitations" of the Apache Iceberg Tables destination
 *   (Amazon Data Firehose developer guide): a stream that updates or deletes rows is held to 5 MiB/s in US East
 *   (N. Virginia), US West (Oregon) and Europe (Ireland) and to 1 MiB/s in every other Region (stated for Direct
 *   PUT; keyed streams from MSK are planned against it).
 */
export interface AwsStreamFacts {
  readonly mskServerless: boolean;
  readonly firehoseIcebergUpsertMiBps: number;
}
export const AWS_STREAM_FACTS: Readonly<Record<string, AwsStreamFacts>> = {
  "sa-east-1": { mskServerless: false, firehoseIcebergUpsertMiBps: 1 },
  "eu-west-1": { mskServerless: true, firehoseIcebergUpsertMiBps: 5 },
  "eu-west-3": { mskServerless: true, firehoseIcebergUpsertMiBps: 1 },
  "eu-central-1": { mskServerless: true, firehoseIcebergUpsertMiBps: 1 },
  "eu-north-1": { mskServerless: true, firehoseIcebergUpsertMiBps: 1 },
  "eu-south-1": { mskServerless: false, firehoseIcebergUpsertMiBps: 1 },
  "eu-south-2": { mskServerless: false, firehoseIcebergUpsertMiBps: 1 },
};

/** Products every cell needs in its regions. */
export const REQUIRED_GCP_PRODUCTS: readonly GcpProduct[] = GCP_PRODUCTS;
export const REQUIRED_AWS_PRODUCTS: readonly AwsProduct[] = AWS_PRODUCTS;

/** Splits `europe-west1-b` into its region and suffix; undefined when it is not a zone name. */
export function parseGcpZone(zone: string): { region: string; suffix: string } | undefined {
  const m = /^([a-z]+-[a-z]+\d+)-([a-z])$/.exec(zone);
  return m ? { region: m[1], suffix: m[2] } : undefined;
}

/**
 * The zone a zonal GCP resource of the cell runs in: `suffix` when the region has it, else the region's
 * first zone. Throws on a region or suffix missing from the table (config validation reports it first).
 */
export function gcpZone(region: string, suffix?: string): string {
  const facts = Object.hasOwn(GCP_REGIONS, region) ? GCP_REGIONS[region] : undefined;
  if (facts === undefined) throw new Error(`No zone table for GCP region '${region}' (components/config/regions.ts)`);
  const chosen = suffix ?? facts.zones[0];
  if (!facts.zones.includes(chosen)) {
    throw new Error(`Zone '${region}-${chosen}' does not exist; ${region} has ${facts.zones.join(", ")}`);
  }
  return `${region}-${chosen}`;
}

/** The AZ suffixes the ingestion subnets use in an AWS region (every AZ the table lists). */
export function awsZoneSuffixes(region: string): readonly string[] {
  const facts = Object.hasOwn(AWS_REGIONS, region) ? AWS_REGIONS[region] : undefined;
  if (facts === undefined) throw new Error(`No zone table for AWS region '${region}' (components/config/regions.ts)`);
  return facts.zones;
}

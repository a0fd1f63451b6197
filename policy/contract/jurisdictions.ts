/**
 * What each jurisdiction allows: regions on both clouds, legal ceilings and floors. The program
 * validates stack config against this table and the pack takes its default settings from it, so a
 * region or a ceiling is written here and nowhere else.
 */

/** Data classes with their own retention, as resources are tagged with them (`data-classification`). */
export const DATA_CLASSES = ["raw", "curated", "marts", "clickstream", "logs", "audit"] as const;
export type DataClass = (typeof DATA_CLASSES)[number];

/**
 * Retention ceilings in days per data class (storage limitation: GDPR Art. 5(1)(e), LGPD Art. 15-16).
 * Neither law states numbers; these are the project's interpretation, documented in the README. They
 * are also the ceilings the pack applies to a jurisdiction its config adds without its own.
 */
export const RETENTION_CEILING_DAYS: Readonly<Record<DataClass, number>> = {
  raw: 400,
  curated: 1825,
  marts: 3650,
  // 13 months of behavioural data, the horizon web trackers are commonly limited to.
  clickstream: 395,
  logs: 400,
  audit: 3650,
};

export interface Jurisdiction {
  readonly id: JurisdictionId;
  /** The law, for messages and tags. */
  readonly law: "LGPD" | "GDPR";
  /** AWS regions inside the jurisdiction. */
  readonly awsRegions: readonly string[];
  /** GCP regions inside the jurisdiction. */
  readonly gcpRegions: readonly string[];
  /** Retention ceilings in days per data class. */
  readonly retentionCeilingDays: Readonly<Record<DataClass, number>>;
  /** Minimum days audit logs must be kept. */
  readonly auditFloorDays: number;
  /** Longest allowed erasure SLA in days: a complete, physical erasure within this many days of the request. */
  readonly erasureSlaCeilingDays: number;
}

export type JurisdictionId = "br" | "eu";

export const JURISDICTIONS: Readonly<Record<JurisdictionId, Jurisdiction>> = {
  br: {
    id: "br",
    law: "LGPD",
    // AWS has one region in Brazil (sa-east-1, São Paulo); GCP has one (southamerica-east1, São Paulo).
    // southamerica-west1 is Santiago, Chile: outside Brazil.
    awsRegions: ["sa-east-1"],
    gcpRegions: ["southamerica-east1"],
    retentionCeilingDays: RETENTION_CEILING_DAYS,
    // Marco Civil da Internet (Lei 12.965/2014) Art. 15: application access logs kept for 6 months.
    auditFloorDays: 183,
    // LGPD Art. 19 II: a complete answer to the data subject within 15 days.
    erasureSlaCeilingDays: 15,
  },
  eu: {
    id: "eu",
    law: "GDPR",
    // EU member-state regions only (no London, Zurich: adequacy is not residency).
    awsRegions: ["eu-west-1", "eu-west-3", "eu-central-1", "eu-north-1", "eu-south-1", "eu-south-2"],
    gcpRegions: [
      "europe-west1",
      "europe-west3",
      "europe-west4",
      "europe-west8",
      "europe-west9",
      "europe-west10",
      "europe-west12",
      "europe-north1",
      "europe-central2",
      "europe-southwest1",
    ],
    retentionCeilingDays: RETENTION_CEILING_DAYS,
    // The project's interpretation: one year of audit trail to answer supervisory-authority requests.
    auditFloorDays: 365,
    // GDPR Art. 12(3): act on a request without undue delay and at the latest within one month.
    erasureSlaCeilingDays: 30,
  },
};

/**
 * BigQuery Omni regions on AWS and the BigQuery location each pairs with.
 * Source: BigQuery Omni locations (cloud.google.com/bigquery/docs/omni-introduction#locations).
 * There is no Omni region in South America, so a `br` cell can never federate through Omni.
 */
export const OMNI_AWS_REGIONS: Readonly<Record<string, string>> = {
  "us-east-1": "aws-us-east-1",
  "us-west-2": "aws-us-west-2",
  "ap-northeast-2": "aws-ap-northeast-2",
  "ap-southeast-2": "aws-ap-southeast-2",
  "eu-west-1": "aws-eu-west-1",
  "eu-central-1": "aws-eu-central-1",
};

/**
 * GCP locations where a jurisdiction's data may live: its GCP regions, plus the BigQuery Omni
 * locations that run in one of its AWS regions (an Omni dataset's data stays in that AWS region).
 */
export function gcpLocationsOf(j: Pick<Jurisdiction, "awsRegions" | "gcpRegions">): string[] {
  const omni = Object.entries(OMNI_AWS_REGIONS)
    .filter(([awsRegion]) => j.awsRegions.includes(awsRegion))
    .map(([, location]) => location);
  return [...j.gcpRegions, ...omni];
}

/**
 * BigQuery time travel window: 48 to 168 hours in whole days
 * (cloud.google.com/bigquery/docs/time-travel#configure_the_time_travel_window).
 */
export const TIME_TRAVEL_HOURS = { min: 48, max: 168, step: 24 } as const;

/**
 * BigQuery keeps deleted data for 7 days of fail-safe after the time-travel window, which no
 * configuration shortens (cloud.google.com/bigquery/docs/time-travel#fail-safe).
 */
export const BIGQUERY_FAIL_SAFE_DAYS = 7;

/**
 * The GCP half of a cell's secure storage core (on the APIs the cell enabled): the key ring and its keys, the residency and audit
 * guardrails, the BigQuery datasets (`clickstream_raw`, `curated`, `marts`) and the staging bucket.
 * Everything is created through the cell's GCP provider (opts).
 */
import * as pulumi from "@pulumi/pulumi";
import type { Retention } from "../config/schema";
import { CellKeyRing } from "./cell-key-ring";
import type { ProjectServices } from "./project-services";
import { ResidencyGuardrails } from "./residency-guardrails";
import { SecureGcsBucket } from "./secure-bucket";
import { SecureDataset } from "./secure-dataset";
import { expiringNoncurrentDays, STAGING_MAX_DAYS } from "../../policy/contract";

export const DATASETS = {
  clickstream_raw: { dataClass: "clickstream", description: "Pseudonymised website and app events" },
  curated: { dataClass: "curated", description: "Cleaned, conformed, pseudonymised data" },
  marts: { dataClass: "marts", description: "PII-free marts for analysts and dashboards" },
} as const;
export type DatasetName = keyof typeof DATASETS;

export interface GcpStorageCoreArgs {
  /** `lakehouse-<environment>-<cell>`: the key ring's name, and the staging bucket's after the project. */
  readonly resourcePrefix: string;
  /** The cell's GCP project. */
  readonly project: string;
  /** The cell's GCP region: key ring, datasets and bucket live there, and the org policy allows it. */
  readonly region: string;
  /** Retention per data class, in days (dataset partition expiry; the staging bucket's object expiry). */
  readonly retention: Retention;
  /** Days within which an erasure is physically complete: bounds the bucket's noncurrent and soft-deleted copies. */
  readonly erasureSlaDays: number;
  /** BigQuery time-travel window of every dataset, in hours (48-168). */
  readonly maxTimeTravelHours: number;
  /** Production: keys, datasets and the bucket cannot be destroyed through Pulumi. */
  readonly protect: boolean;
  /** Extra location value groups the org policy must allow (e.g. a BigQuery Omni location). @default [] */
  readonly extraAllowedLocations?: readonly string[];
  /**
   * The cell's API enablement (every API the cell needs, created by the cell before any layer); the key
   * ring's agent lookups wait for it.
   */
  readonly apis: ProjectServices;
  /**
   * Whether to set the `gcp.resourceLocations` org policy (needs roles/orgpolicy.policyAdmin at
   * organization level). @default "enforce"
   */
  readonly orgPolicy?: "enforce" | "skip";
}

export class GcpStorageCore extends pulumi.ComponentResource {
  /** The cell's API enablement (created by the cell; kept here for the layers that wait for `services.enabled`). */
  public readonly services: ProjectServices;
  public readonly keyRing: CellKeyRing;
  public readonly guardrails: ResidencyGuardrails;
  public readonly datasets: Readonly<Record<DatasetName, SecureDataset>>;
  public readonly staging: SecureGcsBucket;

  constructor(name: string, args: GcpStorageCoreArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:gcp:StorageCore", name, args, opts);
    const child = { parent: this };
    this.services = args.apis;
    this.keyRing = new CellKeyRing(
      `${name}-keys`,
      {
        project: args.project,
        location: args.region,
        keyRingName: args.resourcePrefix,
        protect: args.protect,
        apis: args.apis,
      },
      child,
    );
    this.guardrails = new ResidencyGuardrails(
      `${name}-guardrails`,
      {
        project: args.project,
        allowedLocations: [`in:${args.region}-locations`, ...(args.extraAllowedLocations ?? [])],
        orgPolicy: args.orgPolicy ?? "enforce",
        auditedServices: ["bigquery.googleapis.com", "storage.googleapis.com"],
      },
      child,
    );
    const datasets = {} as Record<DatasetName, SecureDataset>;
    for (const [datasetId, spec] of Object.entries(DATASETS) as [DatasetName, (typeof DATASETS)[DatasetName]][]) {
      datasets[datasetId] = new SecureDataset(
        `${name}-${datasetId.replace(/_/g, "-")}`,
        {
          project: args.project,
          datasetId,
          location: args.region,
          description: spec.description,
          kmsKeyName: this.keyRing.keys.bigquery.id,
          dataClass: spec.dataClass,
          expirationDays: args.retention[spec.dataClass],
          maxTimeTravelHours: args.maxTimeTravelHours,
          protect: args.protect,
        },
        child,
      );
    }
    this.datasets = datasets;
    this.staging = new SecureGcsBucket(
      `${name}-staging`,
      {
        project: args.project,
        bucketName: `${args.project}-${args.resourcePrefix}-staging`.slice(0, 63),
        location: args.region,
        kmsKeyName: this.keyRing.keys.storage.id,
        // Staging holds templates, UDFs and temporary job files; a month is plenty, raw retention at most.
        dataClass: "raw",
        expirationDays: Math.min(STAGING_MAX_DAYS, args.retention.raw),
        noncurrentVersionExpirationDays: expiringNoncurrentDays(
          args.erasureSlaDays,
          Math.min(STAGING_MAX_DAYS, args.retention.raw),
        ),
        // Soft delete is off (0) or 7 days at least (cloud.google.com/storage/docs/soft-delete): a week after the
        // expiry would carry Dataflow temp files past the erasure SLA (policy/contract/erasure-bounds.ts).
        softDeleteDays: 0,
        protect: args.protect,
      },
      child,
    );
    this.registerOutputs({
      datasets: Object.fromEntries(Object.entries(datasets).map(([k, d]) => [k, d.datasetId])),
      staging: this.staging.name,
    });
  }
}

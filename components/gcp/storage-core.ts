/**
 * The GCP half of a cell's secure storage core: APIs, the key ring and its keys, the residency and audit
 * guardrails, the BigQuery datasets (`clickstream_raw`, `curated`, `marts`) and the staging bucket.
 * Everything is created through the cell's GCP provider (opts).
 */
import * as pulumi from "@pulumi/pulumi";
import type { Retention } from "../config/schema";
import { CellKeyRing } from "./cell-key-ring";
import { CORE_SERVICES, ProjectServices } from "./project-services";
import { ResidencyGuardrails } from "./residency-guardrails";
import { SecureGcsBucket } from "./secure-bucket";
import { SecureDataset } from "./secure-dataset";
import { noncurrentDaysForErasure } from "../conventions";

export const DATASETS = {
  clickstream_raw: { dataClass: "clickstream", description: "Pseudonymised website and app events" },
  curated: { dataClass: "curated", description: "Cleaned, conformed, pseudonymised data" },
  marts: { dataClass: "marts", description: "PII-free marts for analysts and dashboards" },
} as const;
export type DatasetName = keyof typeof DATASETS;

export interface GcpStorageCoreArgs {
  readonly namePrefix: string;
  readonly cell: string;
  readonly project: string;
  readonly region: string;
  readonly retention: Retention;
  readonly erasureSlaDays: number;
  readonly maxTimeTravelHours: number;
  readonly protect: boolean;
  /** Extra location value groups the org policy must allow (e.g. a BigQuery Omni location). @default [] */
  readonly extraAllowedLocations?: readonly string[];
}

export class GcpStorageCore extends pulumi.ComponentResource {
  public readonly services: ProjectServices;
  public readonly keyRing: CellKeyRing;
  public readonly guardrails: ResidencyGuardrails;
  public readonly datasets: Readonly<Record<DatasetName, SecureDataset>>;
  public readonly staging: SecureGcsBucket;

  constructor(name: string, args: GcpStorageCoreArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:gcp:StorageCore", name, args, opts);
    const child = { parent: this };
    this.services = new ProjectServices(`${name}-apis`, { project: args.project, services: CORE_SERVICES }, child);
    this.keyRing = new CellKeyRing(
      `${name}-keys`,
      {
        project: args.project,
        location: args.region,
        keyRingName: `${args.namePrefix}-${args.cell}`,
        protect: args.protect,
        servicesReady: this.services.ready,
      },
      child,
    );
    this.guardrails = new ResidencyGuardrails(
      `${name}-guardrails`,
      {
        project: args.project,
        allowedLocations: [`in:${args.region}-locations`, ...(args.extraAllowedLocations ?? [])],
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
        bucketName: `${args.project}-${args.namePrefix}-${args.cell}-staging`.slice(0, 63),
        location: args.region,
        kmsKeyName: this.keyRing.keys.storage.id,
        // Staging holds templates, UDFs and temporary job files; a month is plenty, raw retention at most.
        dataClass: "raw",
        expirationDays: Math.min(30, args.retention.raw),
        noncurrentVersionExpirationDays: noncurrentDaysForErasure(args.erasureSlaDays),
        softDeleteDays: Math.min(7, Math.max(0, args.erasureSlaDays - 3)),
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

/**
 * The cell's Cloud KMS key ring in the cell region, one key per consuming service (a compromised or
 * disabled key then affects one service only), each rotating every 90 days, and each granted to exactly
 * the Google service agent that encrypts with it (CMEK needs the agent, not the caller, to hold
 * roles/cloudkms.cryptoKeyEncrypterDecrypter).
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { daysToDuration } from "../conventions";

export const GCP_KEY_PURPOSES = ["bigquery", "storage", "secrets", "pubsub", "dataflow", "vertex"] as const;
export type GcpKeyPurpose = (typeof GCP_KEY_PURPOSES)[number];

export interface CellKeyRingArgs {
  readonly project: string;
  /** Key ring location: the cell's GCP region. */
  readonly location: string;
  readonly keyRingName: string;
  /** Rotation period in days. @default 90 */
  readonly rotationDays?: number;
  /** Prevent key destruction through Pulumi (production). */
  readonly protect: boolean;
  /** Resolves once the project's APIs are enabled. */
  readonly servicesReady: pulumi.Input<string[]>;
}

export interface CellKey {
  readonly key: gcp.kms.CryptoKey;
  /** The key's resource id; resolves only after its service agents may use it. */
  readonly id: pulumi.Output<string>;
}

export class CellKeyRing extends pulumi.ComponentResource {
  public readonly keyRing: gcp.kms.KeyRing;
  public readonly keys: Readonly<Record<GcpKeyPurpose, CellKey>>;
  /** Project number, for service-agent addresses others need. */
  public readonly projectNumber: pulumi.Output<string>;

  constructor(name: string, args: CellKeyRingArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:gcp:CellKeyRing", name, args, opts);
    const invokeOpts = { parent: this };
    this.projectNumber = gcp.organizations
      .getProjectOutput({ projectId: args.project }, invokeOpts)
      .apply((p) => p.number);
    const num = this.projectNumber;

    this.keyRing = new gcp.kms.KeyRing(
      name,
      {
        project: args.project,
        name: args.keyRingName,
        location: args.location,
      },
      { parent: this, dependsOn: pulumi.output(args.servicesReady).apply(() => []) },
    );

    // Agents per purpose. Some only exist after generateServiceIdentity, hence ServiceIdentity resources.
    const identity = (service: string) =>
      new gcp.projects.ServiceIdentity(
        `${name}-${service.split(".")[0]}-agent`,
        { project: args.project, service },
        { parent: this },
      ).member;
    const agents: Record<GcpKeyPurpose, pulumi.Input<string>[]> = {
      bigquery: [gcp.bigquery.getDefaultServiceAccountOutput({ project: args.project }, invokeOpts).member],
      storage: [gcp.storage.getProjectServiceAccountOutput({ project: args.project }, invokeOpts).member],
      secrets: [identity("secretmanager.googleapis.com")],
      pubsub: [identity("pubsub.googleapis.com")],
      // Dataflow CMEK needs both the Dataflow and the Compute Engine service agents (Dataflow CMEK docs).
      dataflow: [
        pulumi.interpolate`serviceAccount:service-${num}@dataflow-service-producer-prod.iam.gserviceaccount.com`,
        pulumi.interpolate`serviceAccount:service-${num}@compute-system.iam.gserviceaccount.com`,
      ],
      vertex: [identity("aiplatform.googleapis.com")],
    };

    const keys = {} as Record<GcpKeyPurpose, CellKey>;
    for (const purpose of Object.keys(agents) as GcpKeyPurpose[]) {
      const key = new gcp.kms.CryptoKey(
        `${name}-${purpose}`,
        {
          name: purpose,
          keyRing: this.keyRing.id,
          purpose: "ENCRYPT_DECRYPT",
          rotationPeriod: daysToDuration(args.rotationDays ?? 90),
          // Destroyed versions stay recoverable for 30 days (the maximum is 120).
          destroyScheduledDuration: daysToDuration(30),
          versionTemplate: { algorithm: "GOOGLE_SYMMETRIC_ENCRYPTION", protectionLevel: "SOFTWARE" },
          deletionPolicy: args.protect ? "PREVENT" : "DELETE",
        },
        { parent: this },
      );
      const grants = agents[purpose].map(
        (member, i) =>
          new gcp.kms.CryptoKeyIAMMember(
            `${name}-${purpose}-agent-${i}`,
            { cryptoKeyId: key.id, role: "roles/cloudkms.cryptoKeyEncrypterDecrypter", member },
            { parent: this },
          ),
      );
      keys[purpose] = {
        key,
        id: pulumi.all([key.id, ...grants.map((g) => g.etag)]).apply(([id]) => id),
      };
    }
    this.keys = keys;
    this.registerOutputs({ keyRing: this.keyRing.id });
  }
}

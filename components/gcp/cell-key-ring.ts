/**
 * The cell's Cloud KMS key ring in the cell region, one key per consuming service (a compromised or
 * disabled key then affects one service only), each made as cmek-key.ts defines, and each granted to exactly
 * the Google service agent that encrypts with it (CMEK needs the agent, not the caller, to hold
 * roles/cloudkms.cryptoKeyEncrypterDecrypter).
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { afterApi, type ApiEnablement } from "./api-requirements";
import { cmekKeyArgs, idOnceGranted, KEY_USER_ROLE } from "./cmek-key";

export const GCP_KEY_PURPOSES = ["bigquery", "storage", "secrets", "pubsub", "dataflow", "vertex"] as const;
export type GcpKeyPurpose = (typeof GCP_KEY_PURPOSES)[number];

export interface CellKeyRingArgs {
  /** The cell's GCP project. */
  readonly project: string;
  /** Key ring location: the cell's GCP region. */
  readonly location: string;
  /**
   * Key ring name (`lakehouse-<environment>-<cell>`). Key rings cannot be deleted (Cloud KMS resource
   * hierarchy docs), so a new name leaves the old ring behind.
   */
  readonly keyRingName: string;
  /** Rotation period in days. @default KEY_ROTATION_DAYS (90, cmek-key.ts) */
  readonly rotationDays?: number;
  /** Prevent key destruction through Pulumi (production). */
  readonly protect: boolean;
  /** The cell's API enablement: agent lookups and agents wait for their API (a fresh project has none on). */
  readonly apis: ApiEnablement;
}

export interface CellKey {
  /** The key resource; reference it through `id` so that consumers wait for the grants. */
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
    // Every lookup waits for the API it calls: at program start on a fresh project none is enabled.
    const lookup = (token: string) => afterApi(token, args.apis, { parent: this });
    this.projectNumber = gcp.organizations
      .getProjectOutput({ projectId: args.project }, lookup("gcp:organizations/getProject:getProject"))
      .apply((p) => p.number);
    const num = this.projectNumber;

    this.keyRing = new gcp.kms.KeyRing(
      name,
      {
        project: args.project,
        name: args.keyRingName,
        location: args.location,
      },
      { parent: this },
    );

    // Agents per purpose. An agent must exist before a key can be granted to it ("If a service agent hasn't
    // been created yet, then you can't grant roles to the service agent": cloud.google.com/iam/docs/create-service-agents).
    // - Pub/Sub, Secret Manager, Vertex AI, Dataflow: created on demand by generateServiceIdentity
    //   (ServiceIdentity), as Google's secured-data-warehouse blueprint does for Pub/Sub and Dataflow
    //   (terraform-google-secured-data-warehouse); each ServiceIdentity waits for its API (api-requirements.ts).
    // - BigQuery and Cloud Storage: their own "get service account" calls create the agent
    //   (registry docs of gcp.storage.getProjectServiceAccount), so those lookups wait for the API.
    // - Compute Engine: the agent is created when the Compute Engine API is enabled and has no
    //   generateServiceIdentity; the grant waits for compute.googleapis.com's Service (below).
    const identity = (service: string) =>
      new gcp.projects.ServiceIdentity(
        `${name}-${service.split(".")[0]}-agent`,
        { project: args.project, service },
        { parent: this },
      ).member;
    const computeApi = args.apis.serviceFor("compute.googleapis.com");
    if (computeApi === undefined)
      throw new Error("The cell must enable compute.googleapis.com (Dataflow workers' disks)");
    // The member carries the Compute API's Service as a dependency, so its grant waits for the enablement.
    const computeAgent = pulumi
      .all([num, computeApi.urn])
      .apply(([n]) => `serviceAccount:service-${n}@compute-system.iam.gserviceaccount.com`);
    const agents: Record<GcpKeyPurpose, pulumi.Input<string>[]> = {
      bigquery: [
        gcp.bigquery.getDefaultServiceAccountOutput(
          { project: args.project },
          lookup("gcp:bigquery/getDefaultServiceAccount:getDefaultServiceAccount"),
        ).member,
      ],
      storage: [
        gcp.storage.getProjectServiceAccountOutput(
          { project: args.project },
          lookup("gcp:storage/getProjectServiceAccount:getProjectServiceAccount"),
        ).member,
      ],
      secrets: [identity("secretmanager.googleapis.com")],
      pubsub: [identity("pubsub.googleapis.com")],
      // Dataflow CMEK needs both the Dataflow and the Compute Engine service agents (Dataflow CMEK docs).
      dataflow: [identity("dataflow.googleapis.com"), computeAgent],
      vertex: [identity("aiplatform.googleapis.com")],
    };

    const keys = {} as Record<GcpKeyPurpose, CellKey>;
    for (const purpose of Object.keys(agents) as GcpKeyPurpose[]) {
      const key = new gcp.kms.CryptoKey(
        `${name}-${purpose}`,
        cmekKeyArgs({
          name: purpose,
          keyRing: this.keyRing.id,
          rotationDays: args.rotationDays,
          protect: args.protect,
        }),
        { parent: this },
      );
      const grants = agents[purpose].map(
        (member, i) =>
          new gcp.kms.CryptoKeyIAMMember(
            `${name}-${purpose}-agent-${i}`,
            { cryptoKeyId: key.id, role: KEY_USER_ROLE, member },
            { parent: this },
          ),
      );
      keys[purpose] = { key, id: idOnceGranted(key, grants) };
    }
    this.keys = keys;
    this.registerOutputs({ keyRing: this.keyRing.id });
  }
}

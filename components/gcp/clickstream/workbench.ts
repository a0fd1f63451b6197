/**
 * Vertex AI Workbench instances for data scientists: private (no public IP, in the cell's subnetwork),
 * CMEK boot and data disks, shielded VM, shut down when idle, running as a service account that reads
 * the `curated` and `marts` datasets only (never `clickstream_raw` or raw PII).
 */
import type { ApiEnablement } from "../api-requirements";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { gcpZone } from "../../config/regions";
import type { WorkbenchConfig } from "../../config/schema";
import { classification } from "../../conventions";
import { DATASET_READER } from "../dataset-grants";
import { serviceAccountId } from "./naming";
import { ServiceKey } from "./service-key";

export interface WorkbenchArgs {
  /** The cell's GCP project. */
  readonly project: string;
  /** The cell's GCP region: the instances run in one of its zones. */
  readonly region: string;
  /** Zone suffix the instances run in. @default the region's first zone in components/config/regions.ts */
  readonly zoneSuffix?: string;
  /** `lakehouse-<environment>-<cell>`: physical names start with it. */
  readonly resourcePrefix: string;
  /** The cell key ring's id: the disks get a key of their own there. */
  readonly keyRingId: pulumi.Input<string>;
  /** The project number, for the disk key's service agents. */
  readonly projectNumber: pulumi.Input<string>;
  /** The cell's API enablement (the disk key's agents exist once their APIs are on). */
  readonly apis: ApiEnablement;
  /** The clickstream network's self link. */
  readonly networkSelfLink: pulumi.Input<string>;
  /** The clickstream subnet's self link: the instances get no public address. */
  readonly subnetworkSelfLink: pulumi.Input<string>;
  /** Dataset ids the notebooks may read (curated, marts). */
  readonly readableDatasets: readonly pulumi.Input<string>[];
  /** Instances, machine type, idle timeout (stack config `lakehouse:workbench`). */
  readonly config: WorkbenchConfig;
  /** Data scientists: may open and run the instances. */
  readonly users: readonly string[];
  /** Production: instance deletion protection, and the disk key cannot be destroyed through Pulumi. */
  readonly protect: boolean;
}

export class Workbench extends pulumi.ComponentResource {
  public readonly serviceAccount: gcp.serviceaccount.Account;
  public readonly diskKey: ServiceKey;
  public readonly instances: readonly gcp.workbench.Instance[];

  constructor(name: string, args: WorkbenchArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:gcp:Workbench", name, args, opts);
    const child = { parent: this };
    const { project } = args;
    // A zone from the table of zones that exist (europe-west1 has no zone a): components/config/regions.ts.
    const zone = gcpZone(args.region, args.zoneSuffix ?? args.config.zoneSuffix);

    // Workbench disks are Compute Engine disks: the Compute Engine and Notebooks agents use the key.
    this.diskKey = new ServiceKey(
      `${name}-disk-key`,
      {
        keyRingId: args.keyRingId,
        keyName: "workbench",
        projectNumber: args.projectNumber,
        agents: [
          { domain: "compute-system", api: "compute.googleapis.com" },
          { domain: "gcp-sa-notebooks", api: "notebooks.googleapis.com" },
        ],
        apis: args.apis,
        protect: args.protect,
      },
      child,
    );
    this.serviceAccount = new gcp.serviceaccount.Account(
      `${name}-sa`,
      { project, accountId: serviceAccountId(args.resourcePrefix, "workbench"), displayName: "Data science notebooks" },
      child,
    );
    const member = this.serviceAccount.member;
    const grants: pulumi.Resource[] = [
      // Dataset ACL entries (DatasetAccess), never DatasetIamMember: marts are authorised views (dataset-grants.ts).
      ...args.readableDatasets.map(
        (datasetId, i) =>
          new gcp.bigquery.DatasetAccess(
            `${name}-reader-${i}`,
            { project, datasetId, role: DATASET_READER, userByEmail: this.serviceAccount.email },
            child,
          ),
      ),
      // Running queries needs jobs in the project; reading results fast needs Storage Read API sessions.
      new gcp.projects.IAMMember(`${name}-job-user`, { project, role: "roles/bigquery.jobUser", member }, child),
      new gcp.projects.IAMMember(
        `${name}-read-sessions`,
        { project, role: "roles/bigquery.readSessionUser", member },
        child,
      ),
      new gcp.projects.IAMMember(`${name}-vertex-user`, { project, role: "roles/aiplatform.user", member }, child),
    ];
    // Service-account mode: the data scientists act as the instance's account.
    args.users.forEach(
      (user, i) =>
        new gcp.serviceaccount.IAMMember(
          `${name}-act-as-${i}`,
          { serviceAccountId: this.serviceAccount.name, role: "roles/iam.serviceAccountUser", member: user },
          child,
        ),
    );

    const disk = { diskEncryption: "CMEK", kmsKey: this.diskKey.id, diskType: "PD_BALANCED" };
    const instances: gcp.workbench.Instance[] = [];
    for (let i = 0; i < args.config.instances; i++) {
      const instanceName = `${args.resourcePrefix}-notebook-${i + 1}`;
      const instance = new gcp.workbench.Instance(
        `${name}-${i + 1}`,
        {
          project,
          location: zone,
          name: instanceName,
          // Internet-facing JupyterLab stays behind Google's IAM-checked proxy; no SSH key distribution.
          disableProxyAccess: false,
          enableDeletionProtection: args.protect,
          gceSetup: {
            machineType: args.config.machineType,
            disablePublicIp: true,
            enableIpForwarding: false,
            networkInterfaces: [{ network: args.networkSelfLink, subnet: args.subnetworkSelfLink, nicType: "GVNIC" }],
            serviceAccounts: [{ email: this.serviceAccount.email }],
            shieldedInstanceConfig: { enableSecureBoot: true, enableVtpm: true, enableIntegrityMonitoring: true },
            bootDisk: { ...disk, diskSizeGb: "150" },
            dataDisks: { ...disk, diskSizeGb: "100" },
            metadata: {
              // Idle shutdown (cloud.google.com/vertex-ai/docs/workbench/instances/idle-shutdown).
              "idle-timeout-seconds": String(args.config.idleTimeoutMinutes * 60),
              // No root in the notebook and no file downloads through the UI: data stays in the cell.
              "notebook-disable-root": "true",
              "notebook-disable-downloads": "true",
            },
            tags: ["workbench"],
          },
          labels: { ...classification("curated") },
        },
        { parent: this, dependsOn: grants },
      );
      args.users.forEach(
        (user, u) =>
          new gcp.workbench.InstanceIamMember(
            `${name}-${i + 1}-runner-${u}`,
            { project, location: zone, name: instance.name, role: "roles/notebooks.runner", member: user },
            child,
          ),
      );
      instances.push(instance);
    }
    this.instances = instances;
    this.registerOutputs({ instances: instances.map((w) => w.name) });
  }
}

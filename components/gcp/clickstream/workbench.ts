/**
 * Vertex AI Workbench instances for data scientists: private (no public IP, in the cell's subnetwork),
 * CMEK boot and data disks, shielded VM, shut down when idle, running as a service account that acts for
 * the `dataScientists` persona (components/federation/persona-matrix.ts): here it gets the clickstream
 * zone as notebooks need it (the events table, not its dead-letter table; the views dataset; the
 * pseudonym policy tag, never the network-address or quasi-identifier tags); the persona layer gives it
 * the curated and marts zones (Federation `personaWorkloads`). The instances install Python packages from the
 * cell's PyPI mirror (package-mirror.ts) and find the notebooks and every name they need in their
 * metadata (workbench-startup.ts).
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
import { NotebooksBucket } from "./notebooks-bucket";
import { PackageMirror } from "./package-mirror";
import type { NotebookMetadataKey } from "./workbench-startup";

/** Fine-grained reader: reads the columns under a policy tag (cloud.google.com/bigquery/docs/column-level-security-intro). */
export const FINE_GRAINED_READER = "roles/datacatalog.categoryFineGrainedReader";
/** Table-level read (a table IAM binding; the dataset ACL stays untouched). */
export const TABLE_READER = "roles/bigquery.dataViewer";

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
  /** Dataset ids the notebooks read whole (the views dataset `clickstream_views`). @default [] */
  readonly readableDatasets?: readonly pulumi.Input<string>[];
  /**
   * Tables the notebooks read without their dataset (`clickstream_raw.events`, not the dead-letter table
   * beside it, whose raw payload carries quasi-identifiers under the pseudonym tag). @default []
   */
  readonly readableTables?: readonly {
    readonly datasetId: pulumi.Input<string>;
    readonly tableId: pulumi.Input<string>;
  }[];
  /**
   * Policy tags whose columns the notebooks read (the `pseudonymous-id` tag: visitor pseudonyms are how
   * features, labels and online lookups are keyed). @default [] (tagged columns unreadable)
   */
  readonly readablePolicyTags?: readonly pulumi.Input<string>[];
  /**
   * Instance metadata the notebooks read (workbench-startup.ts NOTEBOOK_METADATA_KEYS) that this component
   * cannot know: project, region, tables, feature store, endpoint, Vertex key. The bucket, model prefix and
   * pip index keys are set here. @default {} (the notebooks then cannot find those resources)
   */
  readonly notebookMetadata?: Partial<Record<NotebookMetadataKey, pulumi.Input<string>>>;
  /** Cloud KMS key of the notebooks bucket (keyRing.keys.storage.id). */
  readonly storageKmsKeyName: pulumi.Input<string>;
  /** Clickstream retention in days: the notebooks bucket's objects expire after it. */
  readonly retentionDays: number;
  /** Days within which an erasure is physically complete (the bucket's noncurrent versions). */
  readonly erasureSlaDays: number;
  /** Folder whose `*.ipynb` files are uploaded. @default the repository's `notebooks/` (NOTEBOOKS_DIR) */
  readonly notebooksDir?: string;
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
  /** The PyPI mirror the instances install from. */
  public readonly packages: PackageMirror;
  /** The notebooks, the post-startup script and the model artifacts. */
  public readonly notebooks: NotebooksBucket;

  constructor(name: string, args: WorkbenchArgs, opts?: pulumi.ComponentResourceOptions) {
    // `{}`: the args hold Outputs of resources created after this component's children exist.
    super("lakehouse:gcp:Workbench", name, {}, opts);
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
    this.packages = new PackageMirror(
      `${name}-pypi`,
      {
        project,
        region: args.region,
        resourcePrefix: args.resourcePrefix,
        keyRingId: args.keyRingId,
        readers: [member],
        protect: args.protect,
      },
      child,
    );
    this.notebooks = new NotebooksBucket(
      `${name}-notebooks`,
      {
        project,
        region: args.region,
        resourcePrefix: args.resourcePrefix,
        kmsKeyName: args.storageKmsKeyName,
        retentionDays: args.retentionDays,
        erasureSlaDays: args.erasureSlaDays,
        serviceAccountEmail: this.serviceAccount.email,
        projectNumber: args.projectNumber,
        notebooksDir: args.notebooksDir,
        protect: args.protect,
      },
      child,
    );
    const grants = this.grantReads(name, args);
    // The script download and the first pip install need the bucket and mirror grants.
    const ready = [...grants, this.notebooks, this.packages];
    const instances = Array.from({ length: args.config.instances }, (_, i) =>
      this.createInstance(name, args, zone, i + 1, ready),
    );
    this.instances = instances;
    this.registerOutputs({ instances: instances.map((w) => w.name) });
  }

  /**
   * What the notebooks' account reads (datasets, tables, policy tags), runs (BigQuery jobs, read sessions,
   * Vertex AI), and who may act as it (the data scientists, service-account mode).
   */
  private grantReads(name: string, args: WorkbenchArgs): pulumi.Resource[] {
    const child = { parent: this };
    const { project } = args;
    const member = this.serviceAccount.member;
    const grants: pulumi.Resource[] = [
      // Dataset ACL entries (DatasetAccess), never DatasetIamMember: marts are authorised views (dataset-grants.ts).
      ...(args.readableDatasets ?? []).map(
        (datasetId, i) =>
          new gcp.bigquery.DatasetAccess(
            `${name}-reader-${i}`,
            { project, datasetId, role: DATASET_READER, userByEmail: this.serviceAccount.email },
            child,
          ),
      ),
      // A table IAM binding (google_bigquery_table_iam), which leaves the dataset's ACL and its authorised
      // views alone.
      ...(args.readableTables ?? []).map(
        (t, i) =>
          new gcp.bigquery.IamMember(
            `${name}-table-reader-${i}`,
            { project, datasetId: t.datasetId, tableId: t.tableId, role: TABLE_READER, member },
            child,
          ),
      ),
      ...(args.readablePolicyTags ?? []).map(
        (policyTag, i) =>
          new gcp.datacatalog.PolicyTagIamMember(
            `${name}-tag-reader-${i}`,
            { policyTag, role: FINE_GRAINED_READER, member },
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
    return grants;
  }

  /** Instance `n` (1-based): private, CMEK disks, shielded, the contract's metadata; the users may run it. */
  private createInstance(
    name: string,
    args: WorkbenchArgs,
    zone: string,
    n: number,
    dependsOn: pulumi.Resource[],
  ): gcp.workbench.Instance {
    const { project } = args;
    const disk = { diskEncryption: "CMEK", kmsKey: this.diskKey.id, diskType: "PD_BALANCED" };
    const instance = new gcp.workbench.Instance(
      `${name}-${n}`,
      {
        project,
        location: zone,
        name: `${args.resourcePrefix}-notebook-${n}`,
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
            // Downloaded again at every start, so a new script applies without a new instance.
            "post-startup-script": this.notebooks.postStartupScriptUri,
            "post-startup-script-behavior": "download_and_run_every_start",
            ...(args.notebookMetadata ?? {}),
            "lakehouse-notebooks-bucket": this.notebooks.name,
            "lakehouse-model-artifacts": this.notebooks.modelArtifactsUri,
            "lakehouse-pip-index-url": this.packages.indexUrl,
          },
          tags: ["workbench"],
        },
        labels: { ...classification("curated") },
      },
      { parent: this, dependsOn },
    );
    args.users.forEach(
      (user, u) =>
        new gcp.workbench.InstanceIamMember(
          `${name}-${n}-runner-${u}`,
          { project, location: zone, name: instance.name, role: "roles/notebooks.runner", member: user },
          { parent: this },
        ),
    );
    return instance;
  }
}

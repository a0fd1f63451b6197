/**
 * The cell's notebooks bucket: every `notebooks/*.ipynb` of the repository and the Python package they import
 * (`notebooks/offers/`), uploaded by the program, the
 * Workbench post-startup script, and the prefix where notebooks write model artifacts for the Model
 * Registry. A SecureGcsBucket (cell region, CMEK, uniform access, public access prevention, versioning,
 * lifecycle): notebooks can carry query outputs and models are trained on pseudonymised events, so the
 * bucket is classed `clickstream` and expires with that retention.
 */
import { readdirSync, type Dirent } from "node:fs";
import * as path from "node:path";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { expiringNoncurrentDays } from "../../../policy/contract";
import { SecureGcsBucket } from "../secure-bucket";
import { MODELS_PREFIX, NOTEBOOKS_PREFIX, POST_STARTUP_OBJECT, postStartupScript } from "./workbench-startup";

/**
 * The repository's notebooks folder (a contract with notebooks/: every `*.ipynb` there is uploaded, and
 * every `*.py` of its sub-folders, the Python packages the notebooks import, e.g. `offers/`).
 */
export const NOTEBOOKS_DIR = path.resolve(__dirname, "..", "..", "..", "notebooks");

/** Files of the notebooks folder that are not uploaded: caches and hidden folders (`.ipynb_checkpoints`). */
const SKIPPED = (name: string): boolean => name.startsWith(".") || name === "__pycache__";

/**
 * What is uploaded from a folder, as `/`-separated paths relative to it, sorted: the `*.ipynb` at its top,
 * and the `*.py` of its sub-folders (a notebook does `import offers` from the folder it runs in). None (not
 * an error) when the folder does not exist.
 */
export function notebookFiles(dir: string = NOTEBOOKS_DIR): string[] {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
  const packageFiles = (sub: string): string[] =>
    readdirSync(path.join(dir, sub), { withFileTypes: true })
      .filter((e) => !SKIPPED(e.name))
      .flatMap((e) =>
        e.isDirectory()
          ? packageFiles(`${sub}/${e.name}`)
          : e.isFile() && e.name.endsWith(".py")
            ? [`${sub}/${e.name}`]
            : [],
      );
  return entries
    .filter((e) => !SKIPPED(e.name))
    .flatMap((e) => (e.isDirectory() ? packageFiles(e.name) : e.isFile() && e.name.endsWith(".ipynb") ? [e.name] : []))
    .sort();
}

export interface NotebooksBucketArgs {
  /** The cell's GCP project (bucket names are global: the name starts with it). */
  readonly project: string;
  /** The cell's GCP region: the bucket's single-region location. */
  readonly region: string;
  /** `lakehouse-<environment>-<cell>`: the bucket name ends `<prefix>-notebooks`. */
  readonly resourcePrefix: string;
  /** Cloud KMS key for the bucket (keyRing.keys.storage.id: the Cloud Storage agent already uses it). */
  readonly kmsKeyName: pulumi.Input<string>;
  /** Clickstream retention in days: objects, notebooks and models alike, are deleted after it. */
  readonly retentionDays: number;
  /** Days within which an erasure is physically complete (bounds the noncurrent versions' life). */
  readonly erasureSlaDays: number;
  /** The notebooks' service account: reads everything, writes under `models/` only. */
  readonly serviceAccountEmail: pulumi.Input<string>;
  /** The project number: the Vertex AI agent reads model artifacts when a model is uploaded. */
  readonly projectNumber: pulumi.Input<string>;
  /** Folder whose `*.ipynb` files are uploaded. @default NOTEBOOKS_DIR (the repository's `notebooks/`) */
  readonly notebooksDir?: string;
  /** Production: the bucket cannot be deleted through Pulumi. */
  readonly protect: boolean;
}

export class NotebooksBucket extends pulumi.ComponentResource {
  public readonly bucket: SecureGcsBucket;
  public readonly name: pulumi.Output<string>;
  public readonly notebooks: readonly gcp.storage.BucketObject[];
  public readonly postStartupScript: gcp.storage.BucketObject;
  /** `gs://<bucket>/scripts/post-startup.sh`, once uploaded. */
  public readonly postStartupScriptUri: pulumi.Output<string>;
  /** `gs://<bucket>/models/`: where notebooks write model artifacts. */
  public readonly modelArtifactsUri: pulumi.Output<string>;

  constructor(name: string, args: NotebooksBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:gcp:NotebooksBucket", name, {}, opts);
    const child = { parent: this };
    // Soft delete off: a week of soft-deleted objects could outlive the erasure SLA (as the staging bucket).
    const softDeleteDays = 0;
    this.bucket = new SecureGcsBucket(
      name,
      {
        project: args.project,
        bucketName: `${args.project}-${args.resourcePrefix}-notebooks`.slice(0, 63),
        location: args.region,
        kmsKeyName: args.kmsKeyName,
        dataClass: "clickstream",
        expirationDays: args.retentionDays,
        noncurrentVersionExpirationDays: expiringNoncurrentDays(
          args.erasureSlaDays,
          args.retentionDays,
          softDeleteDays,
        ),
        softDeleteDays,
        protect: args.protect,
      },
      child,
    );
    this.name = this.bucket.name;

    const dir = args.notebooksDir ?? NOTEBOOKS_DIR;
    this.notebooks = notebookFiles(dir).map(
      (file) =>
        new gcp.storage.BucketObject(
          `${name}-${file.replace(/\.ipynb$/, "").replace(/[^A-Za-z0-9-]/g, "-")}`,
          {
            bucket: this.name,
            name: `${NOTEBOOKS_PREFIX}${file}`,
            source: new pulumi.asset.FileAsset(path.join(dir, ...file.split("/"))),
            contentType: file.endsWith(".ipynb") ? "application/x-ipynb+json" : "text/x-python",
          },
          child,
        ),
    );
    this.postStartupScript = new gcp.storage.BucketObject(
      `${name}-post-startup`,
      { bucket: this.name, name: POST_STARTUP_OBJECT, content: postStartupScript(), contentType: "text/x-shellscript" },
      child,
    );
    this.postStartupScriptUri = pulumi.interpolate`gs://${this.postStartupScript.bucket}/${this.postStartupScript.name}`;
    this.modelArtifactsUri = pulumi.interpolate`gs://${this.name}/${MODELS_PREFIX}`;

    const sa = pulumi.interpolate`serviceAccount:${args.serviceAccountEmail}`;
    new gcp.storage.BucketIAMMember(
      `${name}-reader`,
      { bucket: this.name, role: "roles/storage.objectViewer", member: sa },
      child,
    );
    // Writes only under models/ (an IAM condition on the object name): the notebooks and the script the
    // program uploaded stay as the program wrote them.
    new gcp.storage.BucketIAMMember(
      `${name}-model-writer`,
      {
        bucket: this.name,
        role: "roles/storage.objectCreator",
        member: sa,
        condition: {
          title: "model-artifacts-only",
          description: "Create objects under models/ only",
          expression: pulumi.interpolate`resource.name.startsWith("projects/_/buckets/${this.name}/objects/${MODELS_PREFIX}")`,
        },
      },
      child,
    );
    // Model Registry uploads copy the artifacts as the Vertex AI service agent.
    new gcp.storage.BucketIAMMember(
      `${name}-vertex-reader`,
      {
        bucket: this.name,
        role: "roles/storage.objectViewer",
        member: pulumi.interpolate`serviceAccount:service-${args.projectNumber}@gcp-sa-aiplatform.iam.gserviceaccount.com`,
      },
      child,
    );
    this.registerOutputs({ name: this.name, notebooks: this.notebooks.map((n) => n.name) });
  }
}

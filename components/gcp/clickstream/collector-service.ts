/**
 * The clickstream collector (functions/collector) as a Cloud Run service, the platform its deployment
 * contract names (functions/collector/README.md, "Deployment contract": a plain `node:http` server run
 * by `npm start`, not the Functions Framework, whose body parser inflates gzip bodies up to 1 GB).
 * No Docker on our side: the source folder is uploaded to the staging bucket and Cloud Build's
 * buildpacks turn it into the image (a CI step, see README.md); the image tag is the source hash, so a
 * code change is a new revision. It runs as its own service account that may only publish to the
 * clickstream topic and read its two secrets, with its own CMEK, sized from the collector's measured
 * throughput. It is the lakehouse's only public endpoint (docs/adr/0005-public-collector-endpoint.md).
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { collectorInstances } from "../../../functions/collector/sizing";
import { classification, daysToDuration } from "../../conventions";
import { serviceAccountId } from "./naming";
import { ServiceKey } from "./service-key";

/** The folder deployed as the collector's source. */
export const COLLECTOR_SOURCE_DIR = path.join(__dirname, "..", "..", "..", "functions", "collector");

/**
 * The deployment contract of functions/collector (its README): Node.js 20 (`engines.node`), built by
 * buildpacks (`npm run gcp-build`), started with `npm start` (`node dist/server.js`), listening on PORT,
 * configured by these variables; the two secrets come from Secret Manager.
 */
export const COLLECTOR_CONTRACT = {
  runtime: "nodejs20",
  entryPoint: "npm start",
  port: 8080,
  /** Requests in flight per instance (README: "container concurrency ~250"). */
  concurrency: 250,
  env: {
    project: "GOOGLE_CLOUD_PROJECT",
    topic: "COLLECTOR_TOPIC",
    consentCategory: "COLLECTOR_CONSENT_CATEGORY",
    corsOrigins: "COLLECTOR_CORS_ORIGINS",
  },
  secretEnv: { hmacKey: "COLLECTOR_HMAC_KEY", writeKeys: "COLLECTOR_WRITE_KEYS" },
} as const;

/** Label that marks the one public endpoint; the policy pack's allUsers exemption is keyed on it. */
export const PUBLIC_ENDPOINT_LABEL = { "public-endpoint": "tracking-api" } as const;

/** Never uploaded (functions/collector/.gcloudignore, plus VCS files and tests): Cloud Build installs and compiles. */
const EXCLUDED = new Set(["dist", "node_modules", "README.md", ".gitignore", ".gcloudignore"]);

/** The source files, relative path -> absolute path, sorted: what is uploaded and hashed. */
export function collectorSourceFiles(dir: string = COLLECTOR_SOURCE_DIR): [string, string][] {
  const files: [string, string][] = [];
  const walk = (rel: string) => {
    for (const entry of readdirSync(path.join(dir, rel)).sort()) {
      const relPath = rel === "" ? entry : `${rel}/${entry}`;
      if (EXCLUDED.has(entry) || /\.(test|spec)\.ts$/.test(entry)) continue;
      if (statSync(path.join(dir, relPath)).isDirectory()) walk(relPath);
      else files.push([relPath, path.join(dir, relPath)]);
    }
  };
  walk("");
  return files;
}

/** Content hash of the source (paths and bytes): the image tag and the archive name. */
export function collectorSourceHash(dir: string = COLLECTOR_SOURCE_DIR): string {
  const h = createHash("sha256");
  for (const [rel, abs] of collectorSourceFiles(dir)) h.update(rel).update("\0").update(readFileSync(abs)).update("\0");
  return h.digest("hex").slice(0, 16);
}

export interface CollectorServiceArgs {
  readonly project: string;
  readonly region: string;
  /** Resource-name prefix (`lakehouse-prod-br`). */
  readonly resourcePrefix: string;
  /** Project number, for the service agents that must use the service's key. */
  readonly projectNumber: pulumi.Input<string>;
  /** The cell key ring's id: the collector gets its own key there. */
  readonly keyRingId: pulumi.Input<string>;
  /** Cloud KMS key for Secret Manager (keyRing.keys.secrets.id). */
  readonly secretsKmsKeyName: pulumi.Input<string>;
  /** Staging bucket name (source archive). */
  readonly stagingBucket: pulumi.Input<string>;
  /** `projects/<p>/topics/<t>`: where events go. */
  readonly topicId: pulumi.Input<string>;
  /** Topic short name, for the publisher grant. */
  readonly topicName: pulumi.Input<string>;
  /** The cell's pseudonymisation key secret (`projects/<p>/secrets/<id>`). */
  readonly pseudonymisationSecretId: pulumi.Input<string>;
  /** Accepted write keys (`key` or `key=label`); stored in Secret Manager, never in env vars. */
  readonly writeKeys: readonly string[];
  /** Clickstream events per day and peak factor, for instance sizing. */
  readonly eventsPerDay: number;
  readonly peakFactor: number;
  /** Peak events per second (deriveSizing), recorded on the service for operators. */
  readonly peakEventsPerSecond: number;
  /** CORS origins the collector answers. @default ["*"] (tracking snippets run on many storefront domains) */
  readonly corsOrigins?: readonly string[];
  /** Consent category that allows analytics. @default "analytics" */
  readonly consentCategory?: string;
  readonly protect: boolean;
}

export class CollectorService extends pulumi.ComponentResource {
  public readonly serviceAccount: gcp.serviceaccount.Account;
  public readonly buildServiceAccount: gcp.serviceaccount.Account;
  public readonly key: ServiceKey;
  public readonly repository: gcp.artifactregistry.Repository;
  public readonly writeKeysSecret: gcp.secretmanager.Secret;
  public readonly source: gcp.storage.BucketObject;
  public readonly service: gcp.cloudrunv2.Service;
  public readonly publicInvoker: gcp.cloudrunv2.ServiceIamMember;
  /** min/max instances from the collector's sizing function. */
  public readonly instances: { readonly min: number; readonly max: number };
  /** The image the CI build step must push before `pulumi up` (README.md). */
  public readonly imageUri: pulumi.Output<string>;
  /** `gs://` URI of the uploaded source archive, the CI build's input. */
  public readonly sourceUri: pulumi.Output<string>;
  /** The tracking endpoint URL. */
  public readonly url: pulumi.Output<string>;

  constructor(name: string, args: CollectorServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:gcp:CollectorService", name, args, opts);
    const child = { parent: this };
    const { project, region } = args;
    const prefix = args.resourcePrefix;

    // Its own key: Cloud Run CMEK covers the image and the instances; the image repository uses the
    // same key (cloud.google.com/run/docs/securing/using-cmek).
    this.key = new ServiceKey(
      `${name}-key`,
      {
        keyRingId: args.keyRingId,
        keyName: "collector",
        projectNumber: args.projectNumber,
        agents: ["serverless-robot-prod", "gcp-sa-artifactregistry"],
        protect: args.protect,
      },
      child,
    );

    const repositoryId = `${prefix}-collector`;
    this.repository = new gcp.artifactregistry.Repository(
      `${name}-images`,
      {
        project,
        location: region,
        repositoryId,
        format: "DOCKER",
        description: "Collector images built by Cloud Build buildpacks (CMEK, same key as the service)",
        kmsKeyName: this.key.id,
        // Old images go; the newest ones (the running revision's and a rollback) stay.
        cleanupPolicies: [
          { id: "keep-recent", action: "KEEP", mostRecentVersions: { keepCount: 5 } },
          { id: "delete-old", action: "DELETE", condition: { olderThan: daysToDuration(30) } },
        ],
        labels: classification("none"),
      },
      child,
    );

    this.serviceAccount = new gcp.serviceaccount.Account(
      `${name}-sa`,
      { project, accountId: serviceAccountId(prefix, "collector"), displayName: "Clickstream collector (runtime)" },
      child,
    );
    this.buildServiceAccount = new gcp.serviceaccount.Account(
      `${name}-build-sa`,
      {
        project,
        accountId: serviceAccountId(prefix, "collector-build"),
        displayName: "Clickstream collector (Cloud Build)",
      },
      child,
    );
    const runtime = this.serviceAccount.member;
    const builder = this.buildServiceAccount.member;

    // Write keys: a secret, CMEK, replicated only in the cell region.
    this.writeKeysSecret = new gcp.secretmanager.Secret(
      `${name}-write-keys`,
      {
        project,
        secretId: `${prefix}-collector-write-keys`,
        replication: {
          userManaged: {
            replicas: [{ location: region, customerManagedEncryption: { kmsKeyName: args.secretsKmsKeyName } }],
          },
        },
        deletionProtection: args.protect,
        labels: classification("none"),
      },
      child,
    );
    const writeKeysVersion = new gcp.secretmanager.SecretVersion(
      `${name}-write-keys-version`,
      { secret: this.writeKeysSecret.id, secretData: pulumi.secret(args.writeKeys.join(",")) },
      child,
    );

    // Least privilege (README "IAM"): publish to this topic, read these two secrets. No project role.
    const grants: pulumi.Resource[] = [
      new gcp.pubsub.TopicIAMMember(
        `${name}-publisher`,
        { project, topic: args.topicName, role: "roles/pubsub.publisher", member: runtime },
        child,
      ),
      new gcp.secretmanager.SecretIamMember(
        `${name}-hmac-key-accessor`,
        {
          project,
          secretId: args.pseudonymisationSecretId,
          role: "roles/secretmanager.secretAccessor",
          member: runtime,
        },
        child,
      ),
      new gcp.secretmanager.SecretIamMember(
        `${name}-write-keys-accessor`,
        { project, secretId: this.writeKeysSecret.id, role: "roles/secretmanager.secretAccessor", member: runtime },
        child,
      ),
    ];
    // The CI build runs as this account: read the source archive, push the image, write build logs.
    new gcp.storage.BucketIAMMember(
      `${name}-build-source-reader`,
      { bucket: args.stagingBucket, role: "roles/storage.objectViewer", member: builder },
      child,
    );
    new gcp.artifactregistry.RepositoryIamMember(
      `${name}-build-image-writer`,
      {
        project,
        location: region,
        repository: this.repository.name,
        role: "roles/artifactregistry.writer",
        member: builder,
      },
      child,
    );
    new gcp.projects.IAMMember(
      `${name}-build-log-writer`,
      { project, role: "roles/logging.logWriter", member: builder },
      child,
    );

    const sourceHash = collectorSourceHash();
    this.source = new gcp.storage.BucketObject(
      `${name}-source`,
      {
        bucket: args.stagingBucket,
        name: `functions/collector/source-${sourceHash}.zip`,
        source: new pulumi.asset.AssetArchive(
          Object.fromEntries(collectorSourceFiles().map(([rel, abs]) => [rel, new pulumi.asset.FileAsset(abs)])),
        ),
        contentType: "application/zip",
      },
      child,
    );
    this.sourceUri = pulumi.interpolate`gs://${this.source.bucket}/${this.source.name}`;
    this.imageUri = pulumi.interpolate`${region}-docker.pkg.dev/${project}/${this.repository.repositoryId}/collector:${sourceHash}`;

    this.instances = collectorInstances({ eventsPerDay: args.eventsPerDay, peakFactor: args.peakFactor });
    const serviceName = `${prefix}-collector`;
    const labels = { ...classification("clickstream"), ...PUBLIC_ENDPOINT_LABEL };
    const secretEnv = (envName: string, secret: pulumi.Input<string>) => ({
      name: envName,
      valueSource: { secretKeyRef: { secret, version: "latest" } },
    });
    this.service = new gcp.cloudrunv2.Service(
      name,
      {
        project,
        location: region,
        name: serviceName,
        description: `Segment-compatible tracking intake (source ${sourceHash}); sized for ${Math.ceil(args.peakEventsPerSecond)} events/s at peak`,
        // Public: browsers and apps on the open internet post to it (ADR 0005); write keys authorise.
        ingress: "INGRESS_TRAFFIC_ALL",
        deletionProtection: args.protect,
        labels,
        template: {
          serviceAccount: this.serviceAccount.email,
          encryptionKey: this.key.id,
          maxInstanceRequestConcurrency: COLLECTOR_CONTRACT.concurrency,
          scaling: { minInstanceCount: this.instances.min, maxInstanceCount: this.instances.max },
          // The collector drains within 8 s of SIGTERM; requests wait at most 10 s for Pub/Sub.
          timeout: "60s",
          executionEnvironment: "EXECUTION_ENVIRONMENT_GEN2",
          labels,
          containers: [
            {
              image: this.imageUri,
              ports: { containerPort: COLLECTOR_CONTRACT.port },
              // One single-threaded Node process: 1 vCPU, CPU always allocated so Pub/Sub batches flush.
              resources: { limits: { cpu: "1", memory: "512Mi" }, cpuIdle: false, startupCpuBoost: true },
              envs: [
                { name: COLLECTOR_CONTRACT.env.project, value: project },
                { name: COLLECTOR_CONTRACT.env.topic, value: args.topicId },
                { name: COLLECTOR_CONTRACT.env.consentCategory, value: args.consentCategory ?? "analytics" },
                { name: COLLECTOR_CONTRACT.env.corsOrigins, value: (args.corsOrigins ?? ["*"]).join(",") },
                secretEnv(COLLECTOR_CONTRACT.secretEnv.hmacKey, args.pseudonymisationSecretId),
                secretEnv(COLLECTOR_CONTRACT.secretEnv.writeKeys, this.writeKeysSecret.id),
              ],
            },
          ],
        },
      },
      { parent: this, dependsOn: [...grants, writeKeysVersion] },
    );

    // The one exemption: unauthenticated invocation of this service. Browsers cannot carry Google
    // identity tokens; the collector checks write keys itself (ADR 0005).
    this.publicInvoker = new gcp.cloudrunv2.ServiceIamMember(
      `${name}-public-invoker`,
      { project, location: region, name: this.service.name, role: "roles/run.invoker", member: "allUsers" },
      child,
    );
    this.url = this.service.uri;
    this.registerOutputs({
      url: this.url,
      imageUri: this.imageUri,
      sourceUri: this.sourceUri,
      instances: this.instances,
    });
  }
}

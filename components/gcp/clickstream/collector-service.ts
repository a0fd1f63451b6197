/**
 * The clickstream collector (functions/collector) as a Cloud Run service, the platform its deployment
 * contract names (functions/collector/README.md, "Deployment contract": a plain `node:http` server run
 * by `node dist/server.js`, not the Functions Framework, whose body parser inflates gzip bodies up to 1 GB).
 * Built inside `pulumi up` without Docker (docs/adr/0009-collector-image-build.md): the program
 * compiles the collector and packs it with its production dependencies (collector-archive.ts), uploads
 * the archive to the cell's CMEK staging bucket, and the service runs it on Google's Node.js base image
 * in the cell region (Cloud Run source deploy without build). The service depends on the uploaded
 * object and its generation, and the object name carries the content hash, so a code or dependency
 * change is a new revision. It runs as its own service account that may only publish to the clickstream
 * topic and read its two secrets, with its own CMEK, sized from the collector's measured throughput. It is
 * the lakehouse's only public endpoint (docs/adr/0005-public-collector-endpoint.md).
 */
import type { ApiEnablement } from "../api-requirements";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { collectorInstances } from "../../../functions/collector/sizing";
import { classification, publicEndpointLabel } from "../../conventions";
import { COLLECTOR_COMMAND, COLLECTOR_RUNTIME, collectorArchive, collectorBaseImage } from "./collector-archive";
import { CLOUD_RUN_AGENT_DOMAIN, grantArchiveRead, toAssetArchive } from "../source-archive";
import { serviceAccountId } from "./naming";
import { ServiceKey } from "./service-key";

export { COLLECTOR_SOURCE_DIR } from "./collector-archive";

/**
 * The deployment contract of functions/collector (its README): Node.js 24 (`engines.node`), started
 * with `node dist/server.js` (the package's `start` script), listening on PORT, configured by these
 * variables; the two secrets come from Secret Manager.
 */
export const COLLECTOR_CONTRACT = {
  runtime: COLLECTOR_RUNTIME.runtimeId,
  entryPoint: COLLECTOR_COMMAND.join(" "),
  port: 8080,
  /** Requests in flight per instance (README: "container concurrency ~250"). */
  concurrency: 250,
  env: {
    project: "GOOGLE_CLOUD_PROJECT",
    topic: "COLLECTOR_TOPIC",
    consentCategory: "COLLECTOR_CONSENT_CATEGORY",
    corsOrigins: "COLLECTOR_CORS_ORIGINS",
    /** `gs://<bucket>/<object>` of the subject-rights suppression list (set only when the cell has one). */
    suppressionObjectUri: "SUPPRESSION_OBJECT_URI",
  },
  secretEnv: { hmacKey: "COLLECTOR_HMAC_KEY", writeKeys: "COLLECTOR_WRITE_KEYS" },
} as const;

/** Where source archives live in the staging bucket; the Cloud Run service agent may read this prefix only. */
export const COLLECTOR_SOURCE_PREFIX = "functions/collector/";

/** What the collector's container is run with; everything else is fixed by its deployment contract. */
export interface CollectorContainerInputs {
  /** The project the collector publishes in. */
  readonly project: string;
  /** `projects/<p>/topics/<t>`: where events go. */
  readonly topicId: pulumi.Input<string>;
  /** Consent category that allows analytics. */
  readonly consentCategory: string;
  /** CORS origins the collector answers. */
  readonly corsOrigins: readonly string[];
  /** Secret holding the pseudonymisation (HMAC) key. */
  readonly hmacKeySecret: pulumi.Input<string>;
  /** Secret holding the accepted write keys. */
  readonly writeKeysSecret: pulumi.Input<string>;
  /** Google's runtime base image the archive runs on. */
  readonly baseImage: string;
  /** The uploaded source archive. */
  readonly source: gcp.storage.BucketObject;
  /** `gs://` URI of the suppression list the collector drops erased subjects by. @default unset (no variable) */
  readonly suppressionObjectUri?: pulumi.Input<string>;
}

/** The collector's one container: the archive on the base image, its contract's port and variables. */
export function collectorContainer(
  inputs: CollectorContainerInputs,
): gcp.types.input.cloudrunv2.ServiceTemplateContainer {
  const secretEnv = (envName: string, secret: pulumi.Input<string>) => ({
    name: envName,
    valueSource: { secretKeyRef: { secret, version: "latest" } },
  });
  return {
    // Source deploy without build: the archive is unpacked on the runtime base image and run
    // with the package's start command (registry example "Cloudrunv2 Service Zip Deploy":
    // image "scratch", baseImageUri, commands/args, sourceCode.cloudStorageSource).
    image: "scratch",
    baseImageUri: inputs.baseImage,
    commands: [COLLECTOR_COMMAND[0]],
    args: COLLECTOR_COMMAND.slice(1),
    sourceCode: {
      cloudStorageSource: {
        bucket: inputs.source.bucket,
        object: inputs.source.name,
        generation: inputs.source.generation.apply((g) => String(g)),
      },
    },
    ports: { containerPort: COLLECTOR_CONTRACT.port },
    // One single-threaded Node process: 1 vCPU, CPU always allocated so Pub/Sub batches flush.
    resources: { limits: { cpu: "1", memory: "512Mi" }, cpuIdle: false, startupCpuBoost: true },
    envs: [
      { name: COLLECTOR_CONTRACT.env.project, value: inputs.project },
      { name: COLLECTOR_CONTRACT.env.topic, value: inputs.topicId },
      { name: COLLECTOR_CONTRACT.env.consentCategory, value: inputs.consentCategory },
      { name: COLLECTOR_CONTRACT.env.corsOrigins, value: inputs.corsOrigins.join(",") },
      secretEnv(COLLECTOR_CONTRACT.secretEnv.hmacKey, inputs.hmacKeySecret),
      secretEnv(COLLECTOR_CONTRACT.secretEnv.writeKeys, inputs.writeKeysSecret),
      // Appended last and only when set, so a cell without the list keeps the same container.
      ...(inputs.suppressionObjectUri === undefined
        ? []
        : [{ name: COLLECTOR_CONTRACT.env.suppressionObjectUri, value: inputs.suppressionObjectUri }]),
    ],
  };
}

export interface CollectorServiceArgs {
  /** The cell's GCP project. */
  readonly project: string;
  /** The cell's GCP region: the service, its secret replica and its base image live there. */
  readonly region: string;
  /** Resource-name prefix (`lakehouse-prod-br`). */
  readonly resourcePrefix: string;
  /** Project number, for the service agents that must use the service's key. */
  readonly projectNumber: pulumi.Input<string>;
  /** The cell's API enablement (the key's agent exists once Cloud Run's API is on). */
  readonly apis: ApiEnablement;
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
  /**
   * Accepted write keys (`key` or `key=label`); stored in Secret Manager, never in env vars. A secret
   * Output: component args are recorded in the state, which encrypts only values marked secret.
   */
  readonly writeKeys: pulumi.Output<string[]>;
  /** Clickstream events per day, for instance sizing. */
  readonly eventsPerDay: number;
  /** Peak-to-average ratio of the event rate, for instance sizing. */
  readonly peakFactor: number;
  /** Peak events per second (deriveSizing), recorded on the service for operators. */
  readonly peakEventsPerSecond: number;
  /** CORS origins the collector answers. @default ["*"] (tracking snippets run on many storefront domains) */
  readonly corsOrigins?: readonly string[];
  /** Consent category that allows analytics. @default "analytics" */
  readonly consentCategory?: string;
  /**
   * `gs://` URI of the subject-rights suppression list (rights/subject-rights.ts), readable by the
   * collector's account. @default unset (the collector suppresses no one)
   */
  readonly suppressionObjectUri?: pulumi.Input<string>;
  /** Production: deletion protection on the service and its secret, and on its key. */
  readonly protect: boolean;
}

export class CollectorService extends pulumi.ComponentResource {
  public readonly serviceAccount: gcp.serviceaccount.Account;
  public readonly key: ServiceKey;
  public readonly writeKeysSecret: gcp.secretmanager.Secret;
  /** The runnable source archive (compiled collector + production node_modules) the service runs. */
  public readonly source: gcp.storage.BucketObject;
  /** The Cloud Run service agent's read access to the archive prefix of the staging bucket. */
  public readonly sourceReader: gcp.storage.BucketIAMMember;
  public readonly service: gcp.cloudrunv2.Service;
  public readonly publicInvoker: gcp.cloudrunv2.ServiceIamMember;
  /** min/max instances from the collector's sizing function. */
  public readonly instances: { readonly min: number; readonly max: number };
  /** Google's runtime base image the archive runs on (cell region). */
  public readonly baseImage: string;
  /** `gs://` URI of the uploaded source archive. */
  public readonly sourceUri: pulumi.Output<string>;
  /** The tracking endpoint URL. */
  public readonly url: pulumi.Output<string>;

  constructor(name: string, args: CollectorServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:gcp:CollectorService", name, args, opts);
    const child = { parent: this };
    const { project, region } = args;

    // Its own key: Cloud Run CMEK covers the instances' data; used by Cloud Run's service agent
    // (cloud.google.com/run/docs/securing/using-cmek). No image registry: nothing is built (ADR 0009).
    this.key = new ServiceKey(
      `${name}-key`,
      {
        keyRingId: args.keyRingId,
        keyName: "collector",
        projectNumber: args.projectNumber,
        agents: [{ domain: CLOUD_RUN_AGENT_DOMAIN, api: "run.googleapis.com" }],
        apis: args.apis,
        protect: args.protect,
      },
      child,
    );
    this.serviceAccount = new gcp.serviceaccount.Account(
      `${name}-sa`,
      {
        project,
        accountId: serviceAccountId(args.resourcePrefix, "collector"),
        displayName: "Clickstream collector (runtime)",
      },
      child,
    );
    const writeKeys = this.storeWriteKeys(name, args);
    this.writeKeysSecret = writeKeys.secret;
    const runtimeGrants = this.grantRuntime(name, args);

    // The runnable archive, built by the program from the files on disk (collector-archive.ts); the
    // name carries the content hash, so any change uploads a new object and rolls a new revision.
    const archive = collectorArchive();
    this.source = new gcp.storage.BucketObject(
      `${name}-source`,
      {
        bucket: args.stagingBucket,
        name: `${COLLECTOR_SOURCE_PREFIX}source-${archive.hash}.zip`,
        source: toAssetArchive(archive.entries),
        contentType: "application/zip",
      },
      child,
    );
    this.sourceUri = pulumi.interpolate`gs://${this.source.bucket}/${this.source.name}`;
    this.baseImage = collectorBaseImage(region);
    this.sourceReader = this.grantSourceRead(name, args);

    this.instances = collectorInstances({ eventsPerDay: args.eventsPerDay, peakFactor: args.peakFactor });
    this.service = this.createService(name, args, archive.hash, [
      ...runtimeGrants,
      writeKeys.version,
      this.sourceReader,
    ]);

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
      baseImage: this.baseImage,
      sourceUri: this.sourceUri,
      instances: this.instances,
    });
  }

  /** Write keys: a secret, CMEK, replicated only in the cell region. */
  private storeWriteKeys(name: string, args: CollectorServiceArgs) {
    const secret = new gcp.secretmanager.Secret(
      `${name}-write-keys`,
      {
        project: args.project,
        secretId: `${args.resourcePrefix}-collector-write-keys`,
        replication: {
          userManaged: {
            replicas: [{ location: args.region, customerManagedEncryption: { kmsKeyName: args.secretsKmsKeyName } }],
          },
        },
        deletionProtection: args.protect,
        labels: classification("none"),
      },
      { parent: this },
    );
    const version = new gcp.secretmanager.SecretVersion(
      `${name}-write-keys-version`,
      { secret: secret.id, secretData: pulumi.secret(args.writeKeys.apply((keys) => keys.join(","))) },
      { parent: this },
    );
    return { secret, version };
  }

  /** Least privilege (README "IAM"): publish to this topic, read these two secrets. No project role. */
  private grantRuntime(name: string, args: CollectorServiceArgs): pulumi.Resource[] {
    const { project } = args;
    const member = this.serviceAccount.member;
    const accessor = "roles/secretmanager.secretAccessor";
    return [
      new gcp.pubsub.TopicIAMMember(
        `${name}-publisher`,
        { project, topic: args.topicName, role: "roles/pubsub.publisher", member },
        { parent: this },
      ),
      new gcp.secretmanager.SecretIamMember(
        `${name}-hmac-key-accessor`,
        { project, secretId: args.pseudonymisationSecretId, role: accessor, member },
        { parent: this },
      ),
      new gcp.secretmanager.SecretIamMember(
        `${name}-write-keys-accessor`,
        { project, secretId: this.writeKeysSecret.id, role: accessor, member },
        { parent: this },
      ),
    ];
  }

  /** Cloud Run's agent reads the archive, below the collector's prefix only (`grantArchiveRead`). */
  private grantSourceRead(name: string, args: CollectorServiceArgs): gcp.storage.BucketIAMMember {
    return grantArchiveRead(
      name,
      {
        stagingBucket: args.stagingBucket,
        projectNumber: args.projectNumber,
        prefix: COLLECTOR_SOURCE_PREFIX,
        title: "collector-source-only",
        description: "Objects under the collector's source prefix",
      },
      this,
    );
  }

  /** The service, created once everything it reads at start-up is readable (`dependsOn`). */
  private createService(
    name: string,
    args: CollectorServiceArgs,
    archiveHash: string,
    dependsOn: pulumi.Resource[],
  ): gcp.cloudrunv2.Service {
    const serviceName = `${args.resourcePrefix}-collector`;
    const labels = { ...classification("clickstream"), ...publicEndpointLabel() };
    return new gcp.cloudrunv2.Service(
      name,
      {
        project: args.project,
        location: args.region,
        name: serviceName,
        description: `Segment-compatible tracking intake (source ${archiveHash}); sized for ${Math.ceil(args.peakEventsPerSecond)} events/s at peak`,
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
            collectorContainer({
              project: args.project,
              topicId: args.topicId,
              consentCategory: args.consentCategory ?? "analytics",
              corsOrigins: args.corsOrigins ?? ["*"],
              hmacKeySecret: args.pseudonymisationSecretId,
              writeKeysSecret: this.writeKeysSecret.id,
              baseImage: this.baseImage,
              source: this.source,
              suppressionObjectUri: args.suppressionObjectUri,
            }),
          ],
        },
      },
      { parent: this, dependsOn },
    );
  }
}

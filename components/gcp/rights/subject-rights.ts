/**
 * A cell's data-subject requests on GCP (docs/adr/0013-data-subject-requests.md): the worker that carries
 * access and erasure requests out on the cell's BigQuery tables, the schedule that runs it, and the two
 * buckets it writes.
 *
 * - **Worker**: a Cloud Run service built inside `pulumi up` without Docker, like the collector (ADR 0009:
 *   an archive the program packs, run on Google's regional Node.js base image), in the cell region, with
 *   its own CMEK and service account. Ingress is internal: Cloud Scheduler of the same project reaches a
 *   service's run.app URL as internal traffic (cloud.google.com/run/docs/securing/ingress, "Internal":
 *   Cloud Scheduler, Cloud Tasks, Eventarc, Pub/Sub, Workflows... "in the same project or VPC Service
 *   Controls perimeter"), and IAM admits one caller, the scheduler's account (no allUsers).
 * - **Schedule**: a Cloud Scheduler job in the cell region (Cloud Scheduler locations list
 *   southamerica-east1 and europe-west1: cloud.google.com/scheduler/docs/locations), hourly, calling
 *   `POST /run` with an OIDC token of its own account whose audience is the service URL
 *   (cloud.google.com/scheduler/docs/http-target-auth: a user-managed account of the job's project, never
 *   the Cloud Scheduler service agent). An HTTP target waits at most 30 minutes (REST Job.attemptDeadline:
 *   "[15 seconds, 30 minutes]"), so the service's request timeout is the same; a run cut short is finished
 *   by the next one (the worker is idempotent).
 * - **Exports bucket**: access exports `requests/<id>/gcp/...jsonl`, CMEK, private, expired after
 *   EXPORT_EXPIRY_DAYS, no soft delete (a deleted export must not outlive the bound), readable by the
 *   privacy officers only, written by the worker.
 * - **Suppression bucket**: SUPPRESSION_OBJECT, the pseudonyms the collector drops, written by the
 *   worker (read-merge-write under a generation precondition) and read by the collector.
 * - **BigQuery**: `bigquery.jobUser` on the project (a DML or query job runs in it) and WRITER on the
 *   datasets holding registered tables only.
 * The AWS side (requests table, audit bucket, the role this worker assumes by web identity) is the AWS
 * component's; this one takes their names and exposes the worker account's unique id for the role's trust.
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { EXPORT_EXPIRY_DAYS, SUPPRESSION_OBJECT } from "../../../functions/subject-rights/registry";
import { erasureBudget } from "../../../policy/contract";
import type { Retention } from "../../config/schema";
import { expiringNoncurrentDays } from "../../../policy/contract";
import { classification } from "../../conventions";
import type { ApiEnablement } from "../api-requirements";
import { DATASET_WRITER } from "../dataset-grants";
import { serviceAccountId } from "../clickstream/naming";
import { ServiceKey } from "../clickstream/service-key";
import { SecureGcsBucket } from "../secure-bucket";
import { CLOUD_RUN_AGENT_DOMAIN, grantArchiveRead, toAssetArchive } from "../source-archive";
import { WORKER_RUN_PATH, WORKER_SOURCE_PREFIX, workerArchive, workerContainer } from "./worker-source";

/** APIs this layer needs beyond the storage core's; the cell enables them with the others (cell-apis.ts). */
export const SUBJECT_RIGHTS_SERVICES = ["cloudscheduler.googleapis.com", "run.googleapis.com"] as const;

/** Hourly, on the hour: an erasure waits at most an hour for GCP (inside the one day the budget gives it). */
export const WORKER_SCHEDULE = "0 * * * *";
/** The longest an HTTP target may run under Cloud Scheduler (REST Job.attemptDeadline, HTTP targets). */
export const WORKER_DEADLINE_SECONDS = 1800;

/** A bucket name `<project>-<prefix>-<purpose>`, shortened from the left part to 63 characters so the purpose stays. */
export function rightsBucketName(project: string, resourcePrefix: string, purpose: string): string {
  const head = `${project}-${resourcePrefix}`.slice(0, 63 - purpose.length - 1).replace(/-+$/, "");
  return `${head}-${purpose}`;
}

/**
 * `gs://` URI of a cell's suppression list: known before any resource exists, so the collector (made
 * before this component) can be given it; its read grant is made here.
 */
export function suppressionObjectUri(project: string, resourcePrefix: string): string {
  return `gs://${rightsBucketName(project, resourcePrefix, "rights-suppression")}/${SUPPRESSION_OBJECT}`;
}

export interface GcpSubjectRightsArgs {
  /** The cell's name (`CELL` of the worker, and the registry's cell). */
  readonly cell: string;
  /** The cell's GCP project. */
  readonly project: string;
  /** The cell's GCP region: the service, the job, the buckets and the key live there. */
  readonly region: string;
  /** Resource-name prefix (`lakehouse-prod-br`). */
  readonly resourcePrefix: string;
  /** Project number, for the Cloud Run service agent that uses the worker's key and reads its archive. */
  readonly projectNumber: pulumi.Input<string>;
  /** The cell's API enablement (the key's agent exists once Cloud Run's API is on). */
  readonly apis: ApiEnablement;
  /** The cell key ring's id: the worker gets its own key there. */
  readonly keyRingId: pulumi.Input<string>;
  /** The cell's Cloud Storage key (keyRing.keys.storage.id): both buckets are encrypted with it. */
  readonly storageKmsKeyName: pulumi.Input<string>;
  /** Staging bucket name (the worker's source archive). */
  readonly stagingBucket: pulumi.Input<string>;
  /** Retention per data class: the suppression list is kept as curated data. */
  readonly retention: Retention;
  /** Days within which an erasure is physically complete: bounds the buckets' old versions. */
  readonly erasureSlaDays: number;
  /** Dataset ids (in `project`) that hold registered GCP tables: the worker may edit these only. */
  readonly datasets: readonly pulumi.Input<string>[];
  /**
   * Policy tags (resource names) on columns of the registered tables (the clickstream taxonomy's tags): the
   * worker gets Fine-Grained Reader on each. BigQuery checks it on the columns a DELETE's WHERE scans and a
   * SELECT reads ("Impact on writes from column-level access control": DELETE, UPDATE and MERGE check
   * Fine-Grained Reader on scanned columns), so without it the worker can neither find nor erase a subject
   * in a tagged column. @default [] (no grant: right only when no registered column carries a policy tag)
   */
  readonly readPolicyTags?: readonly pulumi.Input<string>[];
  /** IAM members (`group:...`, `user:...`) who may open access exports: the privacy officers. @default [] */
  readonly exportReaders?: readonly string[];
  /** The collector's account email: it reads the suppression list. @default none (no read grant) */
  readonly collectorServiceAccountEmail?: pulumi.Input<string>;
  /** ARN of the AWS role the worker assumes by web identity (its trust names workerServiceAccountUniqueId). */
  readonly awsRoleArn: pulumi.Input<string>;
  /** The cell's AWS region (requests table and audit bucket). */
  readonly awsRegion: string;
  /** Name of the DynamoDB requests table. */
  readonly requestsTable: pulumi.Input<string>;
  /** Name of the S3 audit bucket. */
  readonly auditBucket: pulumi.Input<string>;
  /** The cell's personal-data registry as JSON (PersonalDataCatalog.json()). */
  readonly registryJson: pulumi.Input<string>;
  /** Production: deletion protection on the service, the buckets and the key. */
  readonly protect: boolean;
}

export class GcpSubjectRights extends pulumi.ComponentResource {
  public readonly key: ServiceKey;
  public readonly workerServiceAccount: gcp.serviceaccount.Account;
  public readonly schedulerServiceAccount: gcp.serviceaccount.Account;
  /** The worker's source archive in the staging bucket. */
  public readonly source: gcp.storage.BucketObject;
  public readonly exports: SecureGcsBucket;
  public readonly suppression: SecureGcsBucket;
  public readonly service: gcp.cloudrunv2.Service;
  public readonly invoker: gcp.cloudrunv2.ServiceIamMember;
  public readonly job: gcp.cloudscheduler.Job;
  /** The worker account's numeric unique id: the only subject the AWS role trusts. */
  public readonly workerServiceAccountUniqueId: pulumi.Output<string>;
  /** Name of the exports bucket. */
  public readonly exportsBucket: pulumi.Output<string>;
  /** Name of the suppression bucket. */
  public readonly suppressionBucket: pulumi.Output<string>;
  /** `gs://<suppression bucket>/<SUPPRESSION_OBJECT>`, once the collector may read it. */
  public readonly suppressionObjectUri: pulumi.Output<string>;

  constructor(name: string, args: GcpSubjectRightsArgs, opts?: pulumi.ComponentResourceOptions) {
    // No args recorded: `awsRoleArn` waits for this component's own worker account (the AWS role trusts its
    // id), so recording it as an input would make the component wait for itself.
    super("lakehouse:gcp:SubjectRights", name, {}, opts);
    const child = { parent: this };
    const { project, region } = args;

    // Its own key, used by Cloud Run's service agent (cloud.google.com/run/docs/securing/using-cmek).
    this.key = new ServiceKey(
      `${name}-key`,
      {
        keyRingId: args.keyRingId,
        keyName: "subject-rights",
        projectNumber: args.projectNumber,
        agents: [{ domain: CLOUD_RUN_AGENT_DOMAIN, api: "run.googleapis.com" }],
        apis: args.apis,
        protect: args.protect,
      },
      child,
    );
    const account = (role: string, purpose: string, displayName: string) =>
      new gcp.serviceaccount.Account(
        `${name}-${role}-sa`,
        { project, accountId: serviceAccountId(args.resourcePrefix, purpose), displayName },
        child,
      );
    this.workerServiceAccount = account("worker", "rights-worker", "Data-subject requests worker (runtime)");
    this.schedulerServiceAccount = account("scheduler", "rights-sched", "Data-subject requests schedule (invoker)");
    this.workerServiceAccountUniqueId = this.workerServiceAccount.uniqueId;

    this.exports = this.bucket(name, args, "rights-exports", EXPORT_EXPIRY_DAYS, 0);
    this.suppression = this.bucket(
      name,
      args,
      "rights-suppression",
      args.retention.curated,
      Math.min(7, Math.max(0, erasureBudget(args.erasureSlaDays).objectCopyDays)),
    );
    this.exportsBucket = this.exports.name;
    this.suppressionBucket = this.suppression.name;
    const grants = this.grantWorker(name, args);
    const collectorRead = this.grantCollector(name, args);
    this.suppressionObjectUri = pulumi
      .all([this.suppression.name, ...collectorRead.map((g) => g.id)])
      .apply(([bucket]) => `gs://${bucket}/${SUPPRESSION_OBJECT}`);

    const { archive, command } = workerArchive();
    this.source = new gcp.storage.BucketObject(
      `${name}-source`,
      {
        bucket: args.stagingBucket,
        name: `${WORKER_SOURCE_PREFIX}source-${archive.hash}.zip`,
        source: toAssetArchive(archive.entries),
        contentType: "application/zip",
      },
      child,
    );
    this.service = this.createService(name, args, command, archive.hash, [...grants, this.grantSourceRead(name, args)]);

    // The one caller: the schedule's account. Nothing else may invoke the worker.
    this.invoker = new gcp.cloudrunv2.ServiceIamMember(
      `${name}-invoker`,
      {
        project,
        location: region,
        name: this.service.name,
        role: "roles/run.invoker",
        member: this.schedulerServiceAccount.member,
      },
      child,
    );
    this.job = new gcp.cloudscheduler.Job(
      `${name}-schedule`,
      {
        project,
        region,
        name: `${args.resourcePrefix}-subject-rights`,
        description: "Runs the data-subject requests worker over every pending request",
        schedule: WORKER_SCHEDULE,
        timeZone: "Etc/UTC",
        attemptDeadline: `${WORKER_DEADLINE_SECONDS}s`,
        httpTarget: {
          uri: pulumi.interpolate`${this.service.uri}${WORKER_RUN_PATH}`,
          httpMethod: "POST",
          oidcToken: { serviceAccountEmail: this.schedulerServiceAccount.email, audience: this.service.uri },
        },
      },
      { parent: this, dependsOn: [this.invoker] },
    );
    this.registerOutputs({
      workerServiceAccountUniqueId: this.workerServiceAccountUniqueId,
      exportsBucket: this.exportsBucket,
      suppressionObjectUri: this.suppressionObjectUri,
      serviceUrl: this.service.uri,
    });
  }

  /** A private CMEK bucket of the cell holding `curated` (pseudonymous personal) data. */
  private bucket(
    name: string,
    args: GcpSubjectRightsArgs,
    purpose: string,
    expirationDays: number,
    softDeleteDays: number,
  ): SecureGcsBucket {
    return new SecureGcsBucket(
      `${name}-${purpose.replace(/^rights-/, "")}`,
      {
        project: args.project,
        bucketName: rightsBucketName(args.project, args.resourcePrefix, purpose),
        location: args.region,
        kmsKeyName: args.storageKmsKeyName,
        dataClass: "curated",
        expirationDays,
        // What the SLA leaves after the expiry and lifecycle lag (the contract's bound, erasure-bounds.ts).
        noncurrentVersionExpirationDays: expiringNoncurrentDays(args.erasureSlaDays, expirationDays, softDeleteDays),
        softDeleteDays,
        protect: args.protect,
      },
      { parent: this },
    );
  }

  /**
   * The worker's grants, each on one resource. Object User on both buckets: a rerun rewrites an export
   * and every merge replaces the suppression object, and replacing an object needs
   * `storage.objects.create` and `storage.objects.delete` (cloud.google.com/storage/docs/access-control/iam-xml,
   * note 4); Object User adds no IAM or bucket administration. BigQuery: jobs in the project, WRITER
   * (dataEditor) on the registered tables' datasets as ACL entries (dataset-grants.ts says why not IAM),
   * Fine-Grained Reader on the policy tags of their columns (`readPolicyTags`).
   */
  private grantWorker(name: string, args: GcpSubjectRightsArgs): pulumi.Resource[] {
    const { project } = args;
    const member = this.workerServiceAccount.member;
    const child = { parent: this };
    return [
      new gcp.storage.BucketIAMMember(
        `${name}-exports-writer`,
        { bucket: this.exports.name, role: "roles/storage.objectUser", member },
        child,
      ),
      new gcp.storage.BucketIAMMember(
        `${name}-suppression-writer`,
        { bucket: this.suppression.name, role: "roles/storage.objectUser", member },
        child,
      ),
      ...(args.exportReaders ?? []).map(
        (reader, i) =>
          new gcp.storage.BucketIAMMember(
            `${name}-exports-reader-${i}`,
            { bucket: this.exports.name, role: "roles/storage.objectViewer", member: reader },
            child,
          ),
      ),
      new gcp.projects.IAMMember(`${name}-job-user`, { project, role: "roles/bigquery.jobUser", member }, child),
      ...(args.readPolicyTags ?? []).map(
        (policyTag, i) =>
          new gcp.datacatalog.PolicyTagIamMember(
            `${name}-tag-reader-${i}`,
            { policyTag, role: "roles/datacatalog.categoryFineGrainedReader", member },
            child,
          ),
      ),
      ...args.datasets.map(
        (datasetId, i) =>
          new gcp.bigquery.DatasetAccess(
            `${name}-dataset-writer-${i}`,
            { project, datasetId, role: DATASET_WRITER, userByEmail: this.workerServiceAccount.email },
            child,
          ),
      ),
    ];
  }

  /** The collector reads the suppression list (Object Viewer on that bucket only). */
  private grantCollector(name: string, args: GcpSubjectRightsArgs): gcp.storage.BucketIAMMember[] {
    if (args.collectorServiceAccountEmail === undefined) return [];
    return [
      new gcp.storage.BucketIAMMember(
        `${name}-suppression-reader`,
        {
          bucket: this.suppression.name,
          role: "roles/storage.objectViewer",
          member: pulumi.interpolate`serviceAccount:${args.collectorServiceAccountEmail}`,
        },
        { parent: this },
      ),
    ];
  }

  /** Cloud Run's agent reads the archive, below the worker's prefix only (as for the collector, ADR 0009). */
  private grantSourceRead(name: string, args: GcpSubjectRightsArgs): gcp.storage.BucketIAMMember {
    return grantArchiveRead(
      name,
      {
        stagingBucket: args.stagingBucket,
        projectNumber: args.projectNumber,
        prefix: WORKER_SOURCE_PREFIX,
        title: "subject-rights-source-only",
        description: "Objects under the subject-rights worker's source prefix",
      },
      this,
    );
  }

  /** The private worker service, created once everything it reads at start-up is readable (`dependsOn`). */
  private createService(
    name: string,
    args: GcpSubjectRightsArgs,
    command: readonly [string, string],
    archiveHash: string,
    dependsOn: pulumi.Resource[],
  ): gcp.cloudrunv2.Service {
    const labels = classification("curated");
    return new gcp.cloudrunv2.Service(
      `${name}-worker`,
      {
        project: args.project,
        location: args.region,
        name: `${args.resourcePrefix}-subject-rights`,
        description: `Data-subject requests worker (source ${archiveHash}), run by Cloud Scheduler`,
        ingress: "INGRESS_TRAFFIC_INTERNAL_ONLY",
        deletionProtection: args.protect,
        labels,
        template: {
          serviceAccount: this.workerServiceAccount.email,
          encryptionKey: this.key.id,
          // One run at a time: two would race on the same pending requests.
          maxInstanceRequestConcurrency: 1,
          scaling: { minInstanceCount: 0, maxInstanceCount: 1 },
          timeout: `${WORKER_DEADLINE_SECONDS}s`,
          executionEnvironment: "EXECUTION_ENVIRONMENT_GEN2",
          labels,
          containers: [
            workerContainer({
              region: args.region,
              source: this.source,
              command,
              env: {
                requestsTable: args.requestsTable,
                auditBucket: args.auditBucket,
                awsRegion: args.awsRegion,
                awsRoleArn: args.awsRoleArn,
                exportsBucket: this.exports.name,
                suppressionBucket: this.suppression.name,
                registryJson: args.registryJson,
                cell: args.cell,
              },
            }),
          ],
        },
      },
      { parent: this, dependsOn },
    );
  }
}

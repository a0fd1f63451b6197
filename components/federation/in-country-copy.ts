/**
 * The in-country copy (br cells; ADR 0006). BigQuery Omni has no South American region, so the lake
 * reaches BigQuery without leaving Brazil:
 *   Athena UNLOAD in sa-east-1 (InCountryExport) -> S3 exports bucket (sa-east-1, lake KMS key)
 *   -> Storage Transfer Service, authenticated to AWS by role federation (no access keys)
 *   -> Cloud Storage feed bucket in southamerica-east1 (CMEK)
 *   -> BigQuery Data Transfer Service load, run in southamerica-east1 -> `lake_feed.orders_daily`.
 * Every store and every processing step is in a Brazilian region; the only thing moved is yesterday's
 * PII-free aggregate, and each stage deletes what it handed on.
 */
import { DATASET_WRITER } from "../gcp/dataset-grants";
import * as aws from "@pulumi/aws";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { allow, objectsUnder, policyDocument, useKey, type Statement } from "../aws/iam/statements";
import { SecureGcsBucket } from "../gcp/secure-bucket";
import { listPrefixesWithLocation } from "./athena-schedule";
import { googleIdentityTrust } from "./google-trust";
import { EXPORT_PREFIX, InCountryExport, type InCountryExportArgs } from "./in-country-export";

export interface InCountryCopyArgs extends Omit<InCountryExportArgs, "schedule"> {
  /** The cell's GCP project. */
  readonly project: string;
  /** Its number (the BigQuery Data Transfer service agent is named from it). */
  readonly projectNumber: pulumi.Input<string>;
  /** The cell's GCP region (`southamerica-east1`). */
  readonly gcpRegion: string;
  /** The cell's Cloud Storage key (CMEK of the feed bucket). */
  readonly storageKmsKeyName: pulumi.Input<string>;
  /** The cell's BigQuery key (CMEK of the load's destination). */
  readonly bigqueryKmsKeyName: pulumi.Input<string>;
  /** The lake feed dataset the load writes into. */
  readonly feedDatasetId: pulumi.Input<string>;
  /** The feed table id (`orders_daily`), partitioned by day. */
  readonly feedTableId: pulumi.Input<string>;
  /** Keep the feed bucket from being deleted with the stack (`lakehouse:protect`). */
  readonly protect: boolean;
  /** The project's API enablements (`ProjectServices.enabled`), the Storage Transfer API among them. */
  readonly apiEnablements: readonly pulumi.Resource[];
}

/** UTC hours of the three nightly stages: export, transfer, load. */
export const STAGE_HOURS = { export: 1, transfer: 2, load: 3 } as const;

/**
 * The Data Transfer Service path and partition of a run, from its own run time: the export ran at
 * `export` o'clock the same day (the scheduler's `scheduled-time`), and covers the previous day.
 */
export function loadParams(bucket: string, feedTableId: string): Record<string, string> {
  const sinceExport = STAGE_HOURS.load - STAGE_HOURS.export;
  const sincePreviousDay = STAGE_HOURS.load + 24;
  return {
    data_path_template: `gs://${bucket}/${EXPORT_PREFIX}{run_time-${sinceExport}h|"%Y-%m-%dT%H:%M:%SZ"}/*`,
    // Idempotent re-runs: MIRROR (a "truncated transfer") into a partition decorator overwrites only that
    // day's partition with the files of that run, so a retried run replaces, never duplicates; a run
    // whose files were already loaded and deleted matches no file, and "if the URI doesn't match any
    // files, no data is overwritten". The `write_disposition` param takes `APPEND` or `MIRROR`.
    // Source: docs.cloud.google.com/bigquery/docs/cloud-storage-transfer ("bq" params; console
    // "Cloud Storage URI") and .../cloud-storage-transfer-overview ("Truncated transfers").
    destination_table_name_template: `${feedTableId}\${run_time-${sincePreviousDay}h|"%Y%m%d"}`,
    file_format: "PARQUET",
    write_disposition: "MIRROR",
    // Deleted only after a successful load (same page: "delete the source files after each successful
    // transfer"), so a failed run keeps its files for the retry.
    delete_source_files: "true",
  };
}

/**
 * The transfer role's policy: list and move (read, then delete) the exports, decrypt them. The delete is
 * the transfer's `deleteObjectsFromSourceAfterTransfer`.
 */
export function transferStatements(
  exportsBucketArn: pulumi.Input<string>,
  lakeKeyArn: pulumi.Input<string>,
): Statement[] {
  return [
    listPrefixesWithLocation("ListExports", exportsBucketArn, [EXPORT_PREFIX]),
    allow("MoveExports", ["s3:GetObject", "s3:DeleteObject"], objectsUnder(exportsBucketArn, EXPORT_PREFIX)),
    useKey("DecryptExports", lakeKeyArn, ["kms:Decrypt", "kms:DescribeKey"]),
  ];
}

export class InCountryCopy extends pulumi.ComponentResource {
  public readonly export: InCountryExport;
  public readonly feedBucket: SecureGcsBucket;
  public readonly transferJob: gcp.storage.TransferJob;
  public readonly load: gcp.bigquery.DataTransferConfig;
  public readonly transferRole: aws.iam.Role;

  constructor(name: string, args: InCountryCopyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:federation:InCountryCopy", name, args, opts);
    this.export = new InCountryExport(
      `${name}-export`,
      { ...args, schedule: `cron(0 ${STAGE_HOURS.export} * * ? *)` },
      { parent: this },
    );
    this.feedBucket = new SecureGcsBucket(
      `${name}-feed`,
      {
        project: args.project,
        bucketName: `${args.project}-${args.resourcePrefix}-lake-feed`.slice(0, 63),
        location: args.gcpRegion,
        kmsKeyName: args.storageKmsKeyName,
        dataClass: "curated",
        expirationDays: args.expirationDays,
        noncurrentVersionExpirationDays: 1,
        softDeleteDays: 0,
        protect: args.protect,
      },
      { parent: this },
    );
    // The transfer lands the exports here under the same prefix; the load deletes them after each run.
    args.personalData?.prefix({
      cloud: "gcp",
      bucket: this.feedBucket.name,
      prefix: EXPORT_PREFIX,
      dataClass: "curated",
      expiresAfterDays: args.expirationDays,
      holds: "Exports of orders per pseudonymous customer and day (customer_pseudo_id), until the load takes them",
    });
    const transfer = this.transfer(name, args);
    this.transferRole = transfer.role;
    this.transferJob = transfer.job;
    this.load = this.bigqueryLoad(name, args);
    this.registerOutputs({ exportsBucket: this.export.bucket.name, feedBucket: this.feedBucket.name });
  }

  /** Storage Transfer Service: S3 exports -> the feed bucket, at `STAGE_HOURS.transfer`. */
  private transfer(name: string, args: InCountryCopyArgs): { role: aws.iam.Role; job: gcp.storage.TransferJob } {
    const { project } = args;
    // Storage Transfer Service authenticates to AWS by federated identity (STS "Configure access to a
    // source: Amazon S3"): the AWS role trusts the Google subject of the project's STS agent; no AWS access
    // key exists. The job itself runs as a dedicated service account (STS "Delegate service agent
    // permissions"), so only that account, not the project-wide agent, may write the feed bucket.
    // The lookup calls the Storage Transfer API, which this same program enables (Federation's
    // ProjectServices): on a fresh project it must wait for the enablement. An `*Output` invoke with
    // `dependsOn` is not issued until its dependencies exist; in a preview where they are still to be
    // created its result is unknown (@pulumi/pulumi runtime/invoke.js, `invokeAsync`).
    const agent = gcp.storage.getTransferProjectServiceAccountOutput(
      { project },
      { parent: this, dependsOn: [...args.apiEnablements] },
    );
    const stsAccount = new gcp.serviceaccount.Account(
      `${name}-sts-sa`,
      {
        project,
        accountId: `${args.cell}-lake-feed-sts`.slice(0, 30),
        displayName: `Lake feed transfer of cell ${args.cell}`,
      },
      { parent: this },
    );
    const stsGrants: pulumi.Resource[] = [
      new gcp.serviceaccount.IAMMember(
        `${name}-sts-agent`,
        {
          serviceAccountId: stsAccount.name,
          role: "roles/iam.serviceAccountTokenCreator",
          member: agent.member,
        },
        { parent: this },
      ),
      ...["roles/storage.legacyBucketWriter", "roles/storage.objectViewer"].map(
        (role, i) =>
          new gcp.storage.BucketIAMMember(
            `${name}-sts-sink-${i}`,
            { bucket: this.feedBucket.name, role, member: pulumi.interpolate`serviceAccount:${stsAccount.email}` },
            { parent: this },
          ),
      ),
    ];
    const roleName = `${args.resourcePrefix}-federation-transfer`;
    const role = new aws.iam.Role(
      `${name}-transfer-role`,
      {
        name: roleName,
        description: `Storage Transfer Service (southamerica-east1 feed) reads the ${args.cell} exports`,
        // The STS service agent (the documented federated identity) and the job's own service account,
        // which the agent impersonates: both are identities of this project only.
        assumeRolePolicy: googleIdentityTrust([agent.subjectId, stsAccount.uniqueId]),
      },
      { parent: this },
    );
    const policy = new aws.iam.RolePolicy(
      `${name}-transfer-access`,
      { role: role.name, policy: policyDocument(transferStatements(this.export.bucket.arn, args.lakeKeyArn)) },
      { parent: this },
    );
    const job = new gcp.storage.TransferJob(
      `${name}-transfer`,
      {
        project,
        description: `Lake feed ${args.cell}: S3 exports (${args.region}) to ${args.gcpRegion}`,
        serviceAccount: stsAccount.email,
        transferSpec: {
          awsS3DataSource: {
            bucketName: this.export.bucket.name,
            path: EXPORT_PREFIX,
            roleArn: `arn:aws:iam::${args.accountId}:role/${roleName}`,
          },
          gcsDataSink: { bucketName: this.feedBucket.name, path: EXPORT_PREFIX },
          transferOptions: { deleteObjectsFromSourceAfterTransfer: true, overwriteWhen: "DIFFERENT" },
        },
        schedule: {
          scheduleStartDate: { year: 2026, month: 1, day: 1 },
          startTimeOfDay: { hours: STAGE_HOURS.transfer, minutes: 0, seconds: 0, nanos: 0 },
          repeatInterval: "86400s",
        },
      },
      {
        parent: this,
        dependsOn: [...stsGrants, policy, ...args.apiEnablements],
      },
    );
    return { role, job };
  }

  /** BigQuery Data Transfer Service: the feed bucket -> `lake_feed.orders_daily`, at `STAGE_HOURS.load`. */
  private bigqueryLoad(name: string, args: InCountryCopyArgs): gcp.bigquery.DataTransferConfig {
    const { project } = args;
    const dtsAccount = new gcp.serviceaccount.Account(
      `${name}-load-sa`,
      {
        project,
        accountId: `${args.cell}-lake-feed-load`.slice(0, 30),
        displayName: `Lake feed load of cell ${args.cell}`,
      },
      { parent: this },
    );
    const dtsMember = pulumi.interpolate`serviceAccount:${dtsAccount.email}`;
    const dtsGrants: pulumi.Resource[] = [
      new gcp.serviceaccount.IAMMember(
        `${name}-load-agent`,
        {
          serviceAccountId: dtsAccount.name,
          role: "roles/iam.serviceAccountTokenCreator",
          member: pulumi.interpolate`serviceAccount:service-${args.projectNumber}@gcp-sa-bigquerydatatransfer.iam.gserviceaccount.com`,
        },
        { parent: this },
      ),
      // objectUser: read the Parquet files and delete them after the load (delete_source_files).
      new gcp.storage.BucketIAMMember(
        `${name}-load-source`,
        { bucket: this.feedBucket.name, role: "roles/storage.objectUser", member: dtsMember },
        { parent: this },
      ),
      new gcp.bigquery.DatasetAccess(
        `${name}-load-feed`,
        { project, datasetId: args.feedDatasetId, role: DATASET_WRITER, userByEmail: dtsAccount.email },
        { parent: this },
      ),
      new gcp.projects.IAMMember(
        `${name}-load-jobs`,
        { project, role: "roles/bigquery.jobUser", member: dtsMember },
        { parent: this },
      ),
    ];
    return new gcp.bigquery.DataTransferConfig(
      `${name}-load`,
      {
        project,
        displayName: `lake feed ${args.cell}: orders_daily from ${args.gcpRegion} exports`,
        dataSourceId: "google_cloud_storage",
        // Same location as the destination dataset: the load is processed in Brazil.
        location: args.gcpRegion,
        destinationDatasetId: args.feedDatasetId,
        schedule: `every day ${String(STAGE_HOURS.load).padStart(2, "0")}:00`,
        serviceAccountName: dtsAccount.email,
        params: pulumi
          .output(this.feedBucket.name)
          .apply((b) => pulumi.output(args.feedTableId).apply((t) => loadParams(b, t))),
        encryptionConfiguration: { kmsKeyName: args.bigqueryKmsKeyName },
        emailPreferences: { enableFailureEmail: true },
      },
      { parent: this, dependsOn: dtsGrants },
    );
  }
}

/**
 * A cell: one jurisdiction with one AWS region and one GCP region, holding everything that stores
 * personal data of that jurisdiction. The cell creates its own explicit providers (so no resource ever
 * relies on an ambient region or project), tags everything through provider defaults, protects stateful
 * resources when asked to, and composes the layers. Every choice is made before it, in the cell's spec
 * (components/config/spec.ts); the cell turns the spec into resources.
 */
import * as aws from "@pulumi/aws";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { AwsStorageCore } from "./aws/storage-core";
import { IngestionAlerts } from "./aws/ingestion/alerts";
import { IngestionNetwork, ingestionNetworkArgs } from "./aws/ingestion/network";
import { TransactionalIngestion } from "./aws/ingestion/transactional-ingestion";
import type { AwsSourceContext } from "./aws/sources/context";
import { AwsSources, hasAwsSources } from "./aws/sources/sources";
import type { Jurisdiction } from "./config/jurisdictions";
import type { DeployConfig } from "./config/load";
import type { CellSpec } from "./config/spec";
import { protectStateful } from "./conventions";
import { GcpStorageCore } from "./gcp/storage-core";
import { waitForApis } from "./gcp/api-requirements";
import { cellApis } from "./gcp/cell-apis";
import { ProjectServices } from "./gcp/project-services";
import { Clickstream } from "./gcp/clickstream/clickstream";
import { PseudonymisationKey } from "./privacy/pseudonymisation-key";
import { PersonalDataCatalog } from "./privacy/personal-data";
import { Federation } from "./federation/federation";
import { cellPrincipals } from "./federation/personas-aws";
import { AwsSubjectRights } from "./aws/rights/subject-rights";
import { GcpSubjectRights, suppressionObjectUri } from "./gcp/rights/subject-rights";

export interface CellArgs {
  /** The cell's spec, derived from the validated config (deriveCellSpecs): names, sizing, sources, budgets. */
  readonly spec: CellSpec;
  /**
   * The validated stack config, for what is the same in every cell (personas, workbench, alert addresses)
   * and the secrets, as secret Outputs.
   */
  readonly config: DeployConfig;
}

/**
 * The cell's AWS provider. Each cell deploys into its own account through its own role, so one ambient
 * credential (OIDC in CI, a person's SSO session locally) deploys every cell: the provider assumes the role
 * first (`assumeRoles`, a list in @pulumi/aws 7: ProviderAssumeRole { roleArn, sessionName }). The session
 * name shows in the cell account's CloudTrail. The trust policy the role needs: docs/deploy-roles.md.
 */
export function awsProviderArgs(spec: CellSpec): aws.ProviderArgs {
  const { cell } = spec;
  return {
    region: cell.aws.region as aws.Region,
    assumeRoles: [{ roleArn: cell.aws.deployRoleArn, sessionName: spec.names.deploySession }],
    // Checked against the assumed identity: a role in another account fails the plan instead of
    // deploying a cell there (config validation rejects such a role ARN first).
    allowedAccountIds: [cell.aws.accountId],
    defaultTags: { tags: { ...spec.tags } },
  };
}

/**
 * The cell's GCP provider. Every call is billed and rate-limited to the cell's own project
 * (X-Goog-User-Project), not to the credentials' project (a gcloud user's credentials belong to a
 * Google-owned project, which has none of the cell's APIs on). Terraform Google provider reference, "Quota
 * Management Configuration": user_project_override / billing_project. Needs serviceusage.services.use on it.
 */
export function gcpProviderArgs(spec: CellSpec): gcp.ProviderArgs {
  const { cell } = spec;
  return {
    project: cell.gcp.project,
    region: cell.gcp.region,
    defaultLabels: { ...spec.tags },
    userProjectOverride: true,
    billingProject: cell.gcp.project,
  };
}

export class Cell extends pulumi.ComponentResource {
  public readonly jurisdiction: Jurisdiction;
  public readonly awsProvider: aws.Provider;
  public readonly gcpProvider: gcp.Provider;
  public readonly randomProvider: random.Provider;
  public readonly aws: AwsStorageCore;
  public readonly gcp: GcpStorageCore;
  public readonly pseudonymisationKey: PseudonymisationKey;
  /**
   * Every table and prefix of the cell holding data about a person, declared by the layer that creates it
   * (components/privacy/personal-data.ts); the subject-rights workers get its `json()`.
   */
  public readonly personalData: PersonalDataCatalog;
  /** Real-time clickstream on GCP: collector, Pub/Sub, Dataflow, BigQuery, views, Vertex AI, Workbench. */
  public readonly clickstream: Clickstream;
  /** DMS CDC -> raw -> Glue MERGE -> Iceberg; undefined when the cell declares no transactional source. */
  public readonly ingestion: TransactionalIngestion | undefined;
  /** Kafka, Cassandra, Elasticsearch, CSV feeds and APIs -> Iceberg; undefined when the cell declares none. */
  public readonly sources: AwsSources | undefined;
  /** One SQL surface: Omni (eu) or in-country copy (br), lake feed, PII-free marts, persona grants on both clouds. */
  public readonly federation: Federation;
  /** Data-subject requests on AWS: intake, requests table, worker, audit and exports buckets, suppression table. */
  public readonly subjectRights: AwsSubjectRights;
  /** The suppression table's id once the subject-rights layer made it (the CDC merge schedules wait for it). */
  private readonly suppressionTableReady: pulumi.Output<string>;
  /** Data-subject requests on GCP: the worker (Cloud Run, hourly by Cloud Scheduler), exports and suppression buckets. */
  public readonly gcpRights: GcpSubjectRights;

  constructor(name: string, args: CellArgs, opts?: pulumi.ComponentResourceOptions) {
    const { spec, config } = args;
    // Every GCP resource of the cell waits for its API's enablement (api-requirements.ts); set below.
    const enablement: { apis?: ProjectServices } = {};
    super("lakehouse:cell:Cell", name, args, {
      ...opts,
      transformations: [
        ...(opts?.transformations ?? []),
        protectStateful(spec.protect),
        waitForApis(() => enablement.apis),
      ],
    });
    const { cell, names, protect } = spec;
    this.jurisdiction = spec.jurisdiction;
    this.personalData = new PersonalDataCatalog(cell.name);
    this.awsProvider = new aws.Provider(`${name}-aws`, awsProviderArgs(spec), { parent: this });
    this.gcpProvider = new gcp.Provider(`${name}-gcp`, gcpProviderArgs(spec), { parent: this });
    this.randomProvider = new random.Provider(`${name}-random`, {}, { parent: this });
    const awsOpts = { parent: this, providers: [this.awsProvider] };
    const gcpOpts = { parent: this, providers: [this.gcpProvider] };

    this.aws = new AwsStorageCore(
      `${name}-aws`,
      {
        namePrefix: names.stack,
        environment: config.environment,
        cell: cell.name,
        accountId: cell.aws.accountId,
        region: cell.aws.region,
        retention: spec.retention,
        erasureSlaDays: spec.erasure.slaDays,
        athenaBytesScannedCutoff: spec.sizing.athenaBytesScannedCutoff,
        // The deployer must stay a Lake Formation admin, or it cannot make the grants that follow.
        deployRoleArn: cell.aws.deployRoleArn,
        lakeAdmins: spec.lakeAdmins,
        protect,
      },
      awsOpts,
    );
    // Every API the cell's layers use, enabled once before any of them. Named as when the storage core
    // created it, with an alias from that parent, so existing Services are not replaced.
    const apis = (enablement.apis = new ProjectServices(
      `${name}-gcp-apis`,
      { project: cell.gcp.project, services: cellApis(cell) },
      { ...gcpOpts, aliases: [{ parent: pulumi.createUrn(`${name}-gcp`, "lakehouse:gcp:StorageCore", this) }] },
    ));
    this.gcp = new GcpStorageCore(
      `${name}-gcp`,
      {
        resourcePrefix: names.cell,
        project: cell.gcp.project,
        region: cell.gcp.region,
        retention: spec.retention,
        erasureSlaDays: spec.erasure.slaDays,
        maxTimeTravelHours: spec.erasure.timeTravelHours,
        protect,
        apis,
        orgPolicy: cell.gcp.orgPolicy,
        // A Glue-federated Omni dataset lives in the Omni location (`aws-eu-west-1`), which the org policy must allow.
        extraAllowedLocations: spec.extraAllowedLocations,
      },
      gcpOpts,
    );
    this.pseudonymisationKey = new PseudonymisationKey(
      `${name}-pseudonymisation-key`,
      {
        resourcePrefix: names.cell,
        cell: cell.name,
        gcpProject: cell.gcp.project,
        gcpRegion: cell.gcp.region,
        gcpKmsKeyName: this.gcp.keyRing.keys.secrets.id,
        awsKmsKeyArn: this.aws.lakeKey.arn,
        protect,
      },
      { parent: this, providers: [this.awsProvider, this.gcpProvider, this.randomProvider] },
    );
    const context = this.sourceContext(name, args, awsOpts);
    const [suppressionTableReady, resolveSuppressionTableReady] = pulumi.deferredOutput<string>();
    this.suppressionTableReady = suppressionTableReady;
    this.ingestion =
      spec.transactionalSources.length > 0 ? this.ingestionLayer(name, args, context(), awsOpts) : undefined;
    this.sources = hasAwsSources(spec.sources)
      ? new AwsSources(`${name}-sources`, { context: context(), sources: spec.sources }, awsOpts)
      : undefined;
    this.clickstream = this.clickstreamLayer(name, args, gcpOpts);
    this.federation = new Federation(
      `${name}-federation`,
      {
        cell,
        config,
        retention: spec.retention,
        aws: this.aws,
        gcp: this.gcp,
        clickstreamReady: [this.clickstream.table.table],
        clickstreamDatasets: [this.clickstream.views.datasetId],
        // The notebooks act for the data scientists: curated and marts from the persona layer, the
        // clickstream zone from the Workbench component (table by table).
        personaWorkloads: [
          {
            persona: "dataScientists",
            name: "notebooks",
            email: this.clickstream.workbench.serviceAccount.email,
            grantedElsewhere: ["clickstream"],
          },
        ],
        curatedTables: this.ingestion?.tables,
        personalData: this.personalData,
      },
      { parent: this, providers: [this.awsProvider, this.gcpProvider] },
    );
    const [gcpWorkerSubject, resolveGcpWorkerSubject] = pulumi.deferredOutput<string>();
    this.subjectRights = new AwsSubjectRights(
      `${name}-subject-rights`,
      {
        context: context(),
        jurisdiction: spec.jurisdiction.id,
        accessLogsBucketName: this.aws.buckets["access-logs"].name,
        queryResultsBucketArn: this.aws.buckets["query-results"].arn,
        registryJson: this.personalData.json(),
        // Grants follow the registry: every AWS table a component declared as holding data about a person.
        registeredTables: this.personalData.awsTables(),
        privacyOfficers: cellPrincipals(config.personas, "privacyOfficers", cell.aws.accountId),
        // The GCP worker's account, made below: its role needs the account's id, the worker the role's ARN.
        gcpWorkerSubject,
      },
      awsOpts,
    );
    resolveSuppressionTableReady(this.subjectRights.suppression.table.id);
    this.gcpRights = this.gcpRightsLayer(name, args, gcpOpts);
    resolveGcpWorkerSubject(this.gcpRights.workerServiceAccountUniqueId);
    this.registerOutputs({});
  }

  /**
   * What every AWS source lands into, made on first use: a cell without AWS sources has no ingestion network
   * and no ingestion alert topic. The network and the topic were first made by `TransactionalIngestion`; they
   * keep their names, and the alias names that former parent, so existing stacks keep them (children follow
   * their parent's aliases: Pulumi docs, "Refactoring with aliases", re-parenting).
   */
  private sourceContext(
    name: string,
    { spec, config }: CellArgs,
    opts: pulumi.ComponentResourceOptions,
  ): () => AwsSourceContext {
    const { cell } = spec;
    const resourcePrefix = `${spec.names.stack}-${cell.name}`;
    const moved = {
      ...opts,
      aliases: [{ parent: pulumi.createUrn(`${name}-ingestion`, "lakehouse:aws:TransactionalIngestion", this) }],
    };
    let network: IngestionNetwork | undefined;
    let context: AwsSourceContext | undefined;
    return () =>
      (context ??= {
        resourcePrefix,
        cell: cell.name,
        accountId: cell.aws.accountId,
        region: cell.aws.region,
        lakeKeyArn: this.aws.lakeKey.arn,
        logsKeyArn: this.aws.logsKey.arn,
        landing: this.aws.buckets.landing,
        raw: this.aws.buckets.raw,
        warehouse: this.aws.buckets.warehouse,
        rawDatabaseName: this.aws.catalog.databaseNames.raw,
        curatedDatabaseName: this.aws.catalog.databaseNames.curated,
        workgroupName: this.aws.workgroup.name,
        network: () =>
          (network ??= new IngestionNetwork(
            `${name}-ingestion-network`,
            ingestionNetworkArgs({
              resourcePrefix,
              region: cell.aws.region,
              accountId: cell.aws.accountId,
              network: cell.network,
              sourcePorts: spec.transactionalSources.map((s) => s.port),
              logsKmsKeyArn: this.aws.logsKey.arn,
              logRetentionDays: spec.retention.logs,
            }),
            moved,
          )),
        alerts: new IngestionAlerts(
          `${name}-ingestion-alerts`,
          { resourcePrefix, accountId: cell.aws.accountId, region: cell.aws.region, emails: config.alertEmails },
          moved,
        ),
        credentials: config.sourceCredentials,
        pseudonymisationSecretArn: this.pseudonymisationKey.awsSecretArn,
        retention: spec.retention,
        erasureSlaDays: spec.erasure.slaDays,
        sizing: spec.sizing,
        multiAz: spec.multiAz,
        protect: spec.protect,
        personalData: this.personalData,
      });
  }

  /** DMS CDC of the cell's transactional sources into the raw zone, merged into curated Iceberg tables. */
  private ingestionLayer(
    name: string,
    { spec, config }: CellArgs,
    context: AwsSourceContext,
    opts: pulumi.ComponentResourceOptions,
  ): TransactionalIngestion {
    const { cell } = spec;
    return new TransactionalIngestion(
      `${name}-ingestion`,
      {
        namePrefix: spec.names.stack,
        cell: cell.name,
        accountId: cell.aws.accountId,
        region: cell.aws.region,
        sources: spec.transactionalSources,
        credentials: config.sourceCredentials,
        lakeKeyArn: this.aws.lakeKey.arn,
        logsKeyArn: this.aws.logsKey.arn,
        raw: this.aws.buckets.raw,
        warehouse: this.aws.buckets.warehouse,
        curatedDatabaseName: this.aws.catalog.databaseNames.curated,
        pseudonymisationSecretArn: this.pseudonymisationKey.awsSecretArn,
        logRetentionDays: spec.retention.logs,
        erasureSlaDays: spec.erasure.slaDays,
        dmsCapacity: spec.sizing.dmsCapacity,
        multiAz: spec.multiAz,
        network: context.network(),
        alerts: context.alerts,
        personalData: { catalog: this.personalData, rawExpiryDays: spec.retention.raw },
        // Made later, by the subject-rights layer (it needs the finished registry).
        suppressionTableReady: this.suppressionTableReady,
      },
      opts,
    );
  }

  /** The GCP worker of data-subject requests, reading the requests and writing the audit on AWS (subjectRights). */
  private gcpRightsLayer(name: string, { spec, config }: CellArgs, opts: pulumi.ComponentResourceOptions) {
    const { cell } = spec;
    const aws = this.subjectRights;
    const storage = this.gcp;
    if (aws.gcpWorkerRoleArn === undefined) throw new Error("the AWS subject rights were made without the GCP worker");
    return new GcpSubjectRights(
      `${name}-gcp-rights`,
      {
        cell: cell.name,
        project: cell.gcp.project,
        region: cell.gcp.region,
        resourcePrefix: spec.names.cell,
        projectNumber: storage.keyRing.projectNumber,
        apis: storage.services,
        keyRingId: storage.keyRing.keyRing.id,
        storageKmsKeyName: storage.keyRing.keys.storage.id,
        stagingBucket: storage.staging.name,
        retention: spec.retention,
        erasureSlaDays: spec.erasure.slaDays,
        // The datasets of the catalog's GCP tables (events; the lake feed's orders): test/subject-rights/gcp-plan.test.ts
        // fails when the registry names a dataset missing here.
        datasets: [storage.datasets.clickstream_raw.datasetId, this.federation.feed.datasetId],
        // Fine-Grained Reader on every identifying tag: BigQuery checks it on the columns a DELETE scans and the
        // access export reads every column (cloud.google.com/bigquery/docs/column-level-security-writes).
        readPolicyTags: Object.values(this.clickstream.table.policyTags).map((t) => t.name),
        exportReaders: config.personas.privacyOfficers?.gcpMembers ?? [],
        collectorServiceAccountEmail: this.clickstream.collector.serviceAccount.email,
        awsRoleArn: aws.gcpWorkerRoleArn,
        awsRegion: cell.aws.region,
        requestsTable: aws.requests.name,
        auditBucket: aws.audit.name,
        registryJson: this.personalData.json(),
        protect: spec.protect,
      },
      opts,
    );
  }

  /** The real-time clickstream on GCP, from the collector to the ML endpoint and the notebooks. */
  private clickstreamLayer(
    name: string,
    { spec, config }: CellArgs,
    opts: pulumi.ComponentResourceOptions,
  ): Clickstream {
    return new Clickstream(
      `${name}-clickstream`,
      {
        project: spec.cell.gcp.project,
        region: spec.cell.gcp.region,
        resourcePrefix: spec.names.cell,
        storage: this.gcp,
        pseudonymisationSecretId: this.pseudonymisationKey.gcpSecretId,
        retention: spec.retention,
        scale: config.scale,
        sizing: spec.sizing,
        maxTimeTravelHours: spec.erasure.timeTravelHours,
        erasureSlaDays: spec.erasure.slaDays,
        writeKeys: config.collectorWriteKeys,
        workbench: config.workbench,
        dataScientists: config.personas.dataScientists,
        marketingApp: config.personas.marketingApp,
        protect: spec.protect,
        alertEmails: config.alertEmails,
        personalData: this.personalData,
        // The list the GCP worker writes (gcpRights); its bucket name is known before the bucket exists.
        suppressionObjectUri: suppressionObjectUri(spec.cell.gcp.project, spec.names.cell),
      },
      opts,
    );
  }
}

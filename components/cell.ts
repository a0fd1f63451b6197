/**
 * A cell: one jurisdiction with one AWS region and one GCP region, holding everything that stores
 * personal data of that jurisdiction. The cell creates its own explicit providers (so no resource ever
 * relies on an ambient region or project), tags everything through provider defaults, protects stateful
 * resources when asked to, and composes the layers.
 */
import * as aws from "@pulumi/aws";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { AwsStorageCore } from "./aws/storage-core";
import { TransactionalIngestion } from "./aws/ingestion/transactional-ingestion";
import { JURISDICTIONS, type Jurisdiction } from "./config/jurisdictions";
import type { DeployConfig } from "./config/load";
import type { CellConfig, Retention } from "./config/schema";
import type { Sizing } from "./config/sizing";
import { protectStateful, type CellTags } from "./conventions";
import { GcpStorageCore } from "./gcp/storage-core";
import { waitForApis } from "./gcp/api-requirements";
import { cellApis } from "./gcp/cell-apis";
import { ProjectServices } from "./gcp/project-services";
import { Clickstream } from "./gcp/clickstream/clickstream";
import { PseudonymisationKey } from "./privacy/pseudonymisation-key";
import { Federation } from "./federation/federation";
import { OMNI_AWS_REGIONS } from "./config/jurisdictions";

export interface CellArgs {
  /** This cell's config entry. */
  readonly cell: CellConfig;
  /** The validated stack config (sources, personas, scale...), its secrets as secret Outputs. */
  readonly config: DeployConfig;
  /** Retention of this cell (stack defaults with the cell's overrides). */
  readonly retention: Retention;
  /** Sizes derived from the scale config for this cell. */
  readonly sizing: Sizing;
}

export class Cell extends pulumi.ComponentResource {
  public readonly jurisdiction: Jurisdiction;
  public readonly awsProvider: aws.Provider;
  public readonly gcpProvider: gcp.Provider;
  public readonly randomProvider: random.Provider;
  public readonly aws: AwsStorageCore;
  public readonly gcp: GcpStorageCore;
  public readonly pseudonymisationKey: PseudonymisationKey;
  /** Real-time clickstream on GCP: collector, Pub/Sub, Dataflow, BigQuery, views, Vertex AI, Workbench. */
  public readonly clickstream: Clickstream;
  /** DMS CDC -> raw -> Glue MERGE -> Iceberg; undefined when the cell declares no transactional source. */
  public readonly ingestion: TransactionalIngestion | undefined;
  /** One SQL surface: Omni (eu) or in-country copy (br), lake feed, PII-free marts, persona grants on both clouds. */
  public readonly federation: Federation;

  constructor(name: string, args: CellArgs, opts?: pulumi.ComponentResourceOptions) {
    const protect = args.config.protect;
    // Every GCP resource of the cell waits for its API's enablement (api-requirements.ts); set below.
    const enablement: { apis?: ProjectServices } = {};
    super("lakehouse:cell:Cell", name, args, {
      ...opts,
      transformations: [...(opts?.transformations ?? []), protectStateful(protect), waitForApis(() => enablement.apis)],
    });
    const { cell, config } = args;
    this.jurisdiction = JURISDICTIONS[cell.jurisdiction];
    const tags: CellTags = {
      cell: cell.name,
      jurisdiction: cell.jurisdiction,
      environment: config.environment,
      "managed-by": "pulumi",
    };

    this.awsProvider = new aws.Provider(
      `${name}-aws`,
      {
        region: cell.aws.region as aws.Region,
        // Each cell deploys into its own account through its own role, so one ambient credential (OIDC in
        // CI, a person's SSO session locally) deploys every cell: the provider assumes the role first
        // (`assumeRoles`, a list in @pulumi/aws 7: ProviderAssumeRole { roleArn, sessionName }). The session
        // name shows in the cell account's CloudTrail. The trust policy the role needs: docs/deploy-roles.md.
        assumeRoles: [{ roleArn: cell.aws.deployRoleArn, sessionName: `lakehouse-${config.environment}-${cell.name}` }],
        // Checked against the assumed identity: a role in another account fails the plan instead of
        // deploying a cell there (config validation rejects such a role ARN first).
        allowedAccountIds: [cell.aws.accountId],
        defaultTags: { tags: { ...tags } },
      },
      { parent: this },
    );
    this.gcpProvider = new gcp.Provider(
      `${name}-gcp`,
      {
        project: cell.gcp.project,
        region: cell.gcp.region,
        defaultLabels: { ...tags },
        // Bill and rate-limit every call to the cell's own project (X-Goog-User-Project), not to the
        // credentials' project (a gcloud user's credentials belong to a Google-owned project, which has
        // none of the cell's APIs on). Terraform Google provider reference, "Quota Management
        // Configuration": user_project_override / billing_project. Needs serviceusage.services.use on it.
        userProjectOverride: true,
        billingProject: cell.gcp.project,
      },
      { parent: this },
    );
    this.randomProvider = new random.Provider(`${name}-random`, {}, { parent: this });

    const namePrefix = `lakehouse-${config.environment}`;
    const awsOpts = { parent: this, providers: [this.awsProvider] };
    const gcpOpts = { parent: this, providers: [this.gcpProvider] };

    this.aws = new AwsStorageCore(
      `${name}-aws`,
      {
        namePrefix,
        environment: config.environment,
        cell: cell.name,
        accountId: cell.aws.accountId,
        region: cell.aws.region,
        retention: args.retention,
        erasureSlaDays: config.erasureSlaDays,
        athenaBytesScannedCutoff: args.sizing.athenaBytesScannedCutoff,
        // The deployer must stay a Lake Formation admin, or it cannot make the grants that follow.
        deployRoleArn: cell.aws.deployRoleArn,
        lakeAdmins: (config.personas.platformEngineers?.awsPrincipals ?? []).filter((arn) =>
          arn.startsWith(`arn:aws:iam::${cell.aws.accountId}:`),
        ),
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
        namePrefix,
        cell: cell.name,
        project: cell.gcp.project,
        region: cell.gcp.region,
        retention: args.retention,
        erasureSlaDays: config.erasureSlaDays,
        maxTimeTravelHours: config.bigqueryTimeTravelHours,
        protect,
        apis,
        orgPolicy: cell.gcp.orgPolicy,
        // A Glue-federated Omni dataset lives in the Omni location (`aws-eu-west-1`), which the org policy must allow.
        extraAllowedLocations:
          cell.federation === "omni" && OMNI_AWS_REGIONS[cell.aws.region] ? [OMNI_AWS_REGIONS[cell.aws.region]] : [],
      },
      gcpOpts,
    );
    this.pseudonymisationKey = new PseudonymisationKey(
      `${name}-pseudonymisation-key`,
      {
        namePrefix,
        cell: cell.name,
        gcpProject: cell.gcp.project,
        gcpRegion: cell.gcp.region,
        gcpKmsKeyName: this.gcp.keyRing.keys.secrets.id,
        awsKmsKeyArn: this.aws.lakeKey.arn,
        protect,
      },
      { parent: this, providers: [this.awsProvider, this.gcpProvider, this.randomProvider] },
    );

    this.ingestion = config.sources.transactional.some((s) => s.cell === cell.name)
      ? new TransactionalIngestion(
          `${name}-ingestion`,
          {
            namePrefix,
            cell: cell.name,
            accountId: cell.aws.accountId,
            region: cell.aws.region,
            sources: config.sources.transactional.filter((s) => s.cell === cell.name),
            credentials: config.sourceCredentials,
            lakeKeyArn: this.aws.lakeKey.arn,
            logsKeyArn: this.aws.logsKey.arn,
            raw: this.aws.buckets.raw,
            warehouse: this.aws.buckets.warehouse,
            curatedDatabaseName: this.aws.catalog.databaseNames.curated,
            pseudonymisationSecretArn: this.pseudonymisationKey.awsSecretArn,
            alertEmails: config.alertEmails,
            logRetentionDays: args.retention.logs,
            erasureSlaDays: config.erasureSlaDays,
            dmsCapacity: args.sizing.dmsCapacity,
            multiAz: config.environment === "prod",
            network: cell.network,
          },
          awsOpts,
        )
      : undefined;

    this.clickstream = new Clickstream(
      `${name}-clickstream`,
      {
        project: cell.gcp.project,
        region: cell.gcp.region,
        resourcePrefix: `${namePrefix}-${cell.name}`,
        storage: this.gcp,
        pseudonymisationSecretId: this.pseudonymisationKey.gcpSecretId,
        retention: args.retention,
        scale: config.scale,
        sizing: args.sizing,
        maxTimeTravelHours: config.bigqueryTimeTravelHours,
        erasureSlaDays: config.erasureSlaDays,
        writeKeys: config.collectorWriteKeys,
        workbench: config.workbench,
        dataScientists: config.personas.dataScientists,
        marketingApp: config.personas.marketingApp,
        protect,
        alertEmails: config.alertEmails,
      },
      gcpOpts,
    );
    this.federation = new Federation(
      `${name}-federation`,
      {
        cell,
        config,
        retention: args.retention,
        aws: this.aws,
        gcp: this.gcp,
        clickstreamReady: [this.clickstream.table.table],
        curatedTables: this.ingestion?.tables,
      },
      { parent: this, providers: [this.awsProvider, this.gcpProvider] },
    );
    this.registerOutputs({});
  }
}

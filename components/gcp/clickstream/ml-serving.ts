/**
 * Serving for marketing's behaviour model: a Vertex AI endpoint (the model is deployed onto it from the
 * notebooks or by CI, see README.md) and a Feature Online Store whose feature view is synced from the
 * BigQuery features view. Both in the cell region with the cell's Vertex key. The marketing application
 * may only call `predict` on this endpoint and `fetchFeatureValues` on this feature view: two
 * one-permission custom roles, each bound on its one resource (Google's least-privilege recommendation:
 * cloud.google.com/vertex-ai/docs/general/access-control#custom-roles).
 */
import { createHash } from "node:crypto";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { classification } from "../../conventions";
import { DATASET_READER } from "../dataset-grants";

/**
 * Point reads one Bigtable node serves (Bigtable docs, "Performance for typical workloads": up to
 * ~17,000 rows/s per node for 1 KB reads on SSD); 10,000 keeps latency headroom.
 */
export const BIGTABLE_READS_PER_SECOND_PER_NODE = 10_000;

/** Feature-serving nodes: one feature read per tracked event at peak, 1.5x headroom; min covers the average. */
export function featureStoreNodes(eventsPerSecond: { average: number; peak: number }): { min: number; max: number } {
  const min = Math.max(1, Math.ceil(eventsPerSecond.average / BIGTABLE_READS_PER_SECOND_PER_NODE));
  const max = Math.max(min, 2, Math.ceil((eventsPerSecond.peak * 1.5) / BIGTABLE_READS_PER_SECOND_PER_NODE));
  return { min, max };
}

/**
 * Minutes between two feature view syncs. Bigtable online serving also offers continuous sync
 * (cloud.google.com/vertex-ai/docs/featurestore/latest/online-serving-types), which keeps the store in
 * step with rows *appended* to a source table; `user_features` is a logical view that re-aggregates 30 days
 * of events at read time (GROUP BY, ROW_NUMBER, CURRENT_TIMESTAMP), so nothing is appended to follow and
 * a scheduled sync is the one that matches the source (README "Feature freshness"). Each sync re-reads the
 * view and only one sync of a feature view runs at a time (featurestore/latest/sync-data), so the interval
 * is bounded below by a sync's duration; 15 minutes keeps BigQuery scans at 96 a day.
 */
export const FEATURE_SYNC_MINUTES = 15;

/** The sync schedule for an interval in minutes (cron, UTC); an interval must divide the hour or be whole hours. */
export function syncCron(everyMinutes: number): string {
  if (!Number.isInteger(everyMinutes) || everyMinutes < 1 || everyMinutes > 1440)
    throw new RangeError(`feature sync interval ${everyMinutes} min: a whole number of minutes, 1 to 1440`);
  if (everyMinutes < 60) {
    if (60 % everyMinutes !== 0) throw new RangeError(`feature sync interval ${everyMinutes} min must divide 60`);
    return everyMinutes === 1 ? "* * * * *" : `*/${everyMinutes} * * * *`;
  }
  if (everyMinutes % 60 !== 0 || 24 % (everyMinutes / 60) !== 0)
    throw new RangeError(`feature sync interval ${everyMinutes} min must be whole hours dividing 24`);
  const hours = everyMinutes / 60;
  return hours === 1 ? "0 * * * *" : `0 */${hours} * * *`;
}

/** The one permission of the endpoint role (REST endpoints.predict: "aiplatform.endpoints.predict"). */
export const PREDICT_PERMISSION = "aiplatform.endpoints.predict";
/**
 * The one permission of the online feature read role: REST featureViews.fetchFeatureValues "requires the
 * following IAM permission on the featureView resource: aiplatform.featureViews.fetchFeatureValues".
 */
export const FETCH_FEATURES_PERMISSION = "aiplatform.featureViews.fetchFeatureValues";

/** Vertex endpoint ids are numeric, at most 10 digits, no leading zero: derived stably from the prefix. */
export function endpointId(resourcePrefix: string): string {
  const n = parseInt(createHash("sha256").update(resourcePrefix).digest("hex").slice(0, 12), 16);
  return String(1_000_000_000 + (n % 8_999_999_999));
}

export interface MlServingArgs {
  /** The cell's GCP project. */
  readonly project: string;
  /** The cell's GCP region: the feature store and endpoint serve from it. */
  readonly region: string;
  /** `lakehouse-<environment>-<cell>`: names and the endpoint's numeric id derive from it. */
  readonly resourcePrefix: string;
  /** Cloud KMS key for Vertex AI (keyRing.keys.vertex.id). */
  readonly kmsKeyName: pulumi.Input<string>;
  /** Project number: the Vertex AI service agent syncs the feature view. */
  readonly projectNumber: pulumi.Input<string>;
  /** `bq://project.dataset.view` of the features view. */
  readonly featuresUri: pulumi.Input<string>;
  /** The features view's dataset id (read grant for the sync). */
  readonly featuresDatasetId: pulumi.Input<string>;
  /** Policy tags the features view reads through (fine-grained reader for the sync agent). */
  readonly identifyingPolicyTags: readonly pulumi.Input<string>[];
  /** Average and peak events/s (deriveSizing), for serving nodes. */
  readonly eventsPerSecond: { readonly average: number; readonly peak: number };
  /** Minutes between feature view syncs (see {@link syncCron}). @default FEATURE_SYNC_MINUTES (15) */
  readonly syncEveryMinutes?: number;
  /** Principals allowed to predict and to read online features (the marketing application), nothing else. */
  readonly predictors: readonly string[];
  /** Principals that build and deploy models (data scientists): roles/aiplatform.user. */
  readonly modelBuilders: readonly string[];
  /** Production: the feature online store is not force-destroyed with its views. */
  readonly protect: boolean;
}

export class MlServing extends pulumi.ComponentResource {
  public readonly endpoint: gcp.vertex.AiEndpoint;
  public readonly featureStore: gcp.vertex.AiFeatureOnlineStore;
  public readonly featureView: gcp.vertex.AiFeatureOnlineStoreFeatureview;
  public readonly predictRole: gcp.projects.IAMCustomRole;
  public readonly fetchFeaturesRole: gcp.projects.IAMCustomRole;
  /** The feature view's name, for FetchFeatureValues (`.../featureOnlineStores/<store>/featureViews/<name>`). */
  public readonly featureViewName: string;
  /** The endpoint's numeric id (`endpointId(resourcePrefix)`). */
  public readonly endpointNumericId: string;
  /** The sync schedule of the feature view (cron, UTC). */
  public readonly syncSchedule: string;
  public readonly nodes: { readonly min: number; readonly max: number };

  constructor(name: string, args: MlServingArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:gcp:MlServing", name, args, opts);
    const child = { parent: this };
    const { project, region } = args;
    const labels = classification("clickstream");
    const underscore = args.resourcePrefix.replace(/-/g, "_");

    this.endpointNumericId = endpointId(args.resourcePrefix);
    this.endpoint = new gcp.vertex.AiEndpoint(
      `${name}-endpoint`,
      {
        project,
        location: region,
        region,
        name: this.endpointNumericId,
        displayName: `${args.resourcePrefix}-offers`,
        description: "Propensity model for personalised offers (deployed from the notebooks or by CI)",
        encryptionSpec: { kmsKeyName: args.kmsKeyName },
        labels,
      },
      child,
    );

    this.nodes = featureStoreNodes(args.eventsPerSecond);
    this.featureStore = new gcp.vertex.AiFeatureOnlineStore(
      `${name}-features`,
      {
        project,
        region,
        name: `${underscore}_features`.slice(0, 60),
        bigtable: {
          autoScaling: { minNodeCount: this.nodes.min, maxNodeCount: this.nodes.max, cpuUtilizationTarget: 50 },
        },
        encryptionSpec: { kmsKeyName: args.kmsKeyName },
        forceDestroy: !args.protect,
        labels,
      },
      child,
    );

    // The sync runs as the Vertex AI service agent: it reads the features view and, through it, the
    // pseudonymous-id column (policy tag), nothing else.
    const agentEmail = pulumi.interpolate`service-${args.projectNumber}@gcp-sa-aiplatform.iam.gserviceaccount.com`;
    const agent = pulumi.interpolate`serviceAccount:${agentEmail}`;
    const syncGrants: pulumi.Resource[] = [
      // A dataset ACL entry (DatasetAccess), like every grant on a dataset of this program: see dataset-grants.ts.
      new gcp.bigquery.DatasetAccess(
        `${name}-sync-reader`,
        { project, datasetId: args.featuresDatasetId, role: DATASET_READER, userByEmail: agentEmail },
        child,
      ),
      ...args.identifyingPolicyTags.map(
        (tag, i) =>
          new gcp.datacatalog.PolicyTagIamMember(
            `${name}-sync-tag-${i}`,
            { policyTag: tag, role: "roles/datacatalog.categoryFineGrainedReader", member: agent },
            child,
          ),
      ),
    ];
    this.featureViewName = "user_features";
    this.syncSchedule = syncCron(args.syncEveryMinutes ?? FEATURE_SYNC_MINUTES);
    this.featureView = new gcp.vertex.AiFeatureOnlineStoreFeatureview(
      `${name}-user-features`,
      {
        project,
        region,
        featureOnlineStore: this.featureStore.name,
        name: this.featureViewName,
        bigQuerySource: { uri: args.featuresUri, entityIdColumns: ["entity_id"] },
        syncConfig: { cron: this.syncSchedule },
        labels,
      },
      { parent: this, dependsOn: syncGrants },
    );

    this.predictRole = this.onePermissionRole(`${name}-predict-role`, project, {
      roleId: `${underscore}_endpoint_predictor`,
      title: "Vertex AI endpoint predictor",
      description: "Call predict on one Vertex AI endpoint, nothing else",
      permission: PREDICT_PERMISSION,
    });
    this.fetchFeaturesRole = this.onePermissionRole(`${name}-fetch-features-role`, project, {
      roleId: `${underscore}_feature_reader`,
      title: "Vertex AI online feature reader",
      description: "Fetch feature values from one feature view, nothing else",
      permission: FETCH_FEATURES_PERMISSION,
    });
    this.grantServing(name, args);
    this.registerOutputs({
      endpoint: this.endpoint.id,
      featureStore: this.featureStore.id,
      featureView: this.featureView.id,
    });
  }

  /** A project custom role holding one permission (Google's least-privilege recommendation for serving). */
  private onePermissionRole(
    logicalName: string,
    project: string,
    role: { roleId: string; title: string; description: string; permission: string },
  ): gcp.projects.IAMCustomRole {
    return new gcp.projects.IAMCustomRole(
      logicalName,
      {
        project,
        // Custom role ids are at most 64 characters (IAM docs, "Creating and managing custom roles").
        roleId: role.roleId.slice(0, 64),
        title: role.title,
        description: role.description,
        permissions: [role.permission],
        stage: "GA",
      },
      { parent: this },
    );
  }

  /** The predictors get the two one-permission roles, each on its one resource; model builders use Vertex AI. */
  private grantServing(name: string, args: MlServingArgs): void {
    const child = { parent: this };
    const { project, region } = args;
    args.predictors.forEach((member, i) => {
      new gcp.vertex.AiEndpointIamMember(
        `${name}-predictor-${i}`,
        {
          project,
          location: region,
          endpoint: this.endpoint.name,
          role: pulumi.interpolate`projects/${project}/roles/${this.predictRole.roleId}`,
          member,
        },
        child,
      );
      new gcp.vertex.AiFeatureOnlineStoreFeatureviewIamMember(
        `${name}-feature-reader-${i}`,
        {
          project,
          region,
          featureOnlineStore: this.featureStore.name,
          featureView: this.featureView.name,
          role: pulumi.interpolate`projects/${project}/roles/${this.fetchFeaturesRole.roleId}`,
          member,
        },
        child,
      );
    });
    args.modelBuilders.forEach(
      (member, i) =>
        new gcp.projects.IAMMember(
          `${name}-model-builder-${i}`,
          { project, role: "roles/aiplatform.user", member },
          child,
        ),
    );
  }
}

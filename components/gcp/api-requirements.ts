/**
 * Which Google API each GCP resource type and data source of the program calls, and the one mechanism
 * that makes every resource wait for its API: the cell enables all the APIs it needs once, before any
 * layer, and a resource transformation registered at the cell adds `dependsOn` on the `projects.Service`
 * of the API a resource's type needs. On a fresh project, a resource created before its API is enabled
 * fails with `SERVICE_DISABLED` (403); the mocks cannot know that, so the plan test
 * (test/foundation/gcp-api-dependencies.test.ts) checks every GCP resource against this table, and a new
 * type without an entry fails it.
 *
 * The API of a type is the service host its provider calls (the `google_*` resource's "API" link in the
 * registry docs); the non-obvious ones are commented.
 */
import * as pulumi from "@pulumi/pulumi";

export const SERVICE_TYPE = "gcp:projects/service:Service";
export const SERVICE_IDENTITY_TYPE = "gcp:projects/serviceIdentity:ServiceIdentity";

/** GCP resource type token -> the API it calls. */
export const API_OF_TYPE: Readonly<Record<string, string>> = {
  "gcp:artifactregistry/repository:Repository": "artifactregistry.googleapis.com",
  "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember": "artifactregistry.googleapis.com",
  "gcp:bigquery/biReservation:BiReservation": "bigqueryreservation.googleapis.com",
  "gcp:bigquery/connection:Connection": "bigqueryconnection.googleapis.com",
  "gcp:bigquery/connectionIamMember:ConnectionIamMember": "bigqueryconnection.googleapis.com",
  "gcp:bigquery/dataTransferConfig:DataTransferConfig": "bigquerydatatransfer.googleapis.com",
  "gcp:bigquery/dataset:Dataset": "bigquery.googleapis.com",
  "gcp:bigquery/datasetAccess:DatasetAccess": "bigquery.googleapis.com",
  "gcp:bigquery/datasetIamMember:DatasetIamMember": "bigquery.googleapis.com",
  "gcp:bigquery/datasetIamBinding:DatasetIamBinding": "bigquery.googleapis.com",
  "gcp:bigquery/routine:Routine": "bigquery.googleapis.com",
  "gcp:bigquery/table:Table": "bigquery.googleapis.com",
  "gcp:bigquery/iamMember:IamMember": "bigquery.googleapis.com",
  "gcp:bigquerydatapolicy/dataPolicy:DataPolicy": "bigquerydatapolicy.googleapis.com",
  "gcp:cloudbuild/trigger:Trigger": "cloudbuild.googleapis.com",
  "gcp:cloudscheduler/job:Job": "cloudscheduler.googleapis.com",
  "gcp:cloudrunv2/service:Service": "run.googleapis.com",
  "gcp:cloudrunv2/serviceIamMember:ServiceIamMember": "run.googleapis.com",
  "gcp:compute/firewall:Firewall": "compute.googleapis.com",
  "gcp:compute/network:Network": "compute.googleapis.com",
  "gcp:compute/router:Router": "compute.googleapis.com",
  "gcp:compute/routerNat:RouterNat": "compute.googleapis.com",
  "gcp:compute/subnetwork:Subnetwork": "compute.googleapis.com",
  // Policy tags are a Data Catalog API (datacatalog.googleapis.com/v1/.../taxonomies/.../policyTags).
  "gcp:datacatalog/policyTag:PolicyTag": "datacatalog.googleapis.com",
  "gcp:datacatalog/policyTagIamMember:PolicyTagIamMember": "datacatalog.googleapis.com",
  "gcp:datacatalog/taxonomy:Taxonomy": "datacatalog.googleapis.com",
  "gcp:dataflow/flexTemplateJob:FlexTemplateJob": "dataflow.googleapis.com",
  "gcp:kms/cryptoKey:CryptoKey": "cloudkms.googleapis.com",
  "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember": "cloudkms.googleapis.com",
  "gcp:kms/keyRing:KeyRing": "cloudkms.googleapis.com",
  "gcp:logging/projectSink:ProjectSink": "logging.googleapis.com",
  "gcp:monitoring/alertPolicy:AlertPolicy": "monitoring.googleapis.com",
  "gcp:monitoring/notificationChannel:NotificationChannel": "monitoring.googleapis.com",
  "gcp:orgpolicy/policy:Policy": "orgpolicy.googleapis.com",
  "gcp:privilegedaccessmanager/entitlement:entitlement": "privilegedaccessmanager.googleapis.com",
  // Project IAM and audit configs are set with Resource Manager's projects.setIamPolicy.
  "gcp:projects/iAMAuditConfig:IAMAuditConfig": "cloudresourcemanager.googleapis.com",
  "gcp:projects/iAMMember:IAMMember": "cloudresourcemanager.googleapis.com",
  // Custom roles are an IAM API resource (iam.googleapis.com/v1/projects/*/roles).
  "gcp:projects/iAMCustomRole:IAMCustomRole": "iam.googleapis.com",
  "gcp:pubsub/schema:Schema": "pubsub.googleapis.com",
  "gcp:pubsub/subscription:Subscription": "pubsub.googleapis.com",
  "gcp:pubsub/subscriptionIAMMember:SubscriptionIAMMember": "pubsub.googleapis.com",
  "gcp:pubsub/topic:Topic": "pubsub.googleapis.com",
  "gcp:pubsub/topicIAMMember:TopicIAMMember": "pubsub.googleapis.com",
  "gcp:secretmanager/secret:Secret": "secretmanager.googleapis.com",
  "gcp:secretmanager/secretIamMember:SecretIamMember": "secretmanager.googleapis.com",
  "gcp:secretmanager/secretVersion:SecretVersion": "secretmanager.googleapis.com",
  "gcp:serviceaccount/account:Account": "iam.googleapis.com",
  "gcp:serviceaccount/iAMMember:IAMMember": "iam.googleapis.com",
  "gcp:storage/bucket:Bucket": "storage.googleapis.com",
  "gcp:storage/bucketIAMMember:BucketIAMMember": "storage.googleapis.com",
  "gcp:storage/bucketObject:BucketObject": "storage.googleapis.com",
  "gcp:storage/transferJob:TransferJob": "storagetransfer.googleapis.com",
  // Vertex AI resources are served by the aiplatform API.
  "gcp:vertex/aiEndpoint:AiEndpoint": "aiplatform.googleapis.com",
  "gcp:vertex/aiEndpointIamMember:AiEndpointIamMember": "aiplatform.googleapis.com",
  "gcp:vertex/aiFeatureOnlineStore:AiFeatureOnlineStore": "aiplatform.googleapis.com",
  "gcp:vertex/aiFeatureOnlineStoreFeatureview:AiFeatureOnlineStoreFeatureview": "aiplatform.googleapis.com",
  "gcp:vertex/aiFeatureOnlineStoreFeatureviewIamMember:AiFeatureOnlineStoreFeatureviewIamMember":
    "aiplatform.googleapis.com",
  // Workbench instances are the Notebooks API v2 (notebooks.googleapis.com/v2/.../instances).
  "gcp:workbench/instance:Instance": "notebooks.googleapis.com",
  "gcp:workbench/instanceIamMember:InstanceIamMember": "notebooks.googleapis.com",
  // Enabling an API calls Service Usage, which must already be on in the project (docs/first-deploy.md);
  // a service identity is generated by Service Usage for the API in its `service` input (see apiOf).
  [SERVICE_TYPE]: "serviceusage.googleapis.com",
  [SERVICE_IDENTITY_TYPE]: "serviceusage.googleapis.com",
};

/** Data sources (invoke tokens) -> the API they call. */
export const API_OF_INVOKE: Readonly<Record<string, string>> = {
  "gcp:organizations/getProject:getProject": "cloudresourcemanager.googleapis.com",
  // BigQuery's projects.getServiceAccount: returns (and on first call creates) the encryption agent.
  "gcp:bigquery/getDefaultServiceAccount:getDefaultServiceAccount": "bigquery.googleapis.com",
  // Cloud Storage's projects.serviceAccount.get: returns (and on first call creates) the storage agent.
  "gcp:storage/getProjectServiceAccount:getProjectServiceAccount": "storage.googleapis.com",
  "gcp:storage/getTransferProjectServiceAccount:getTransferProjectServiceAccount": "storagetransfer.googleapis.com",
};

/**
 * The API a resource must wait for. A `ServiceIdentity` waits for the API it generates an agent for
 * (generateServiceIdentity on a disabled service fails), not only for Service Usage.
 */
export function apiOf(type: string, props: Record<string, unknown> = {}): string | undefined {
  if (type === SERVICE_IDENTITY_TYPE && typeof props.service === "string") return props.service;
  return API_OF_TYPE[type];
}

/** Something that knows each enabled API's `projects.Service` resource. */
export interface ApiEnablement {
  serviceFor(api: string): pulumi.Resource | undefined;
}

/**
 * Makes every GCP resource below the component it is registered on depend on the enablement of its API.
 * `enablement` is read lazily: the cell registers the transformation in `super()` and creates the
 * enablement right after. A `projects.Service` never depends on itself or on other APIs; existing
 * `dependsOn` and every other option are kept.
 */
export function waitForApis(enablement: () => ApiEnablement | undefined): pulumi.ResourceTransformation {
  return (args) => {
    if (!args.type.startsWith("gcp:") || args.type === SERVICE_TYPE) return undefined;
    const api = apiOf(args.type, args.props as Record<string, unknown>);
    const service = api === undefined ? undefined : enablement()?.serviceFor(api);
    if (service === undefined) return undefined;
    return { props: args.props, opts: pulumi.mergeOptions(args.opts, { dependsOn: [service] }) };
  };
}

/**
 * Invoke options for a data source that calls `token`: it runs only once its API is enabled (and under a
 * first preview, where that Service does not exist yet, its result is unknown, as a real preview's is).
 */
export function afterApi(
  token: string,
  enablement: ApiEnablement,
  opts: pulumi.InvokeOutputOptions = {},
): pulumi.InvokeOutputOptions {
  const api = API_OF_INVOKE[token];
  const service = api === undefined ? undefined : enablement.serviceFor(api);
  if (service === undefined)
    throw new Error(`Data source ${token}: its API ${api ?? "(not in API_OF_INVOKE)"} is not enabled by the cell`);
  return { ...opts, dependsOn: [service] };
}

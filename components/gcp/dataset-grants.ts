/**
 * How this program grants access to a BigQuery dataset: one mechanism for every dataset, the dataset's
 * own ACL entries (`gcp.bigquery.DatasetAccess`), never the dataset IAM resources.
 *
 * Why (Pulumi registry, gcp.bigquery.DatasetIamMember / DatasetIamBinding / DatasetIamPolicy):
 * - "These resources cannot be used with gcp.bigquery.DatasetAccess resources or the access field on
 *   gcp.bigquery.Dataset or they will fight over what the policy should be."
 * - "Using any of these resources will remove any authorized view permissions from the dataset. To
 *   assign and preserve authorized view permissions use the gcp.bigquery.DatasetAccess instead."
 * `clickstream_raw` authorises marketing's views and the marts are authorised views: an IAM member on
 * either would silently revoke them. `SecureDataset` and `MarketingViews` leave `Dataset.accesses` unset
 * (DatasetAccess requires that the dataset "have no defined access blocks", registry DatasetAccess).
 *
 * Roles are written in their legacy dataset form (registry DatasetAccess: "You must specify the role
 * field using the legacy format OWNER instead of roles/bigquery.dataOwner. The API does accept both
 * formats but it will always return the legacy format"; REST Dataset.access[].role maps READER =
 * roles/bigquery.dataViewer, WRITER = roles/bigquery.dataEditor, OWNER = roles/bigquery.dataOwner).
 * Service accounts and service agents go in `userByEmail` (REST Dataset.access[].userByEmail: "Maps to
 * IAM policy member user:EMAIL or serviceAccount:EMAIL";
 * cloud.google.com/bigquery/docs/reference/rest/v2/datasets).
 * test/foundation/provider-conflicts.test.ts checks the recorded plans.
 */

/** roles/bigquery.dataViewer on one dataset, in the form the API returns. */
export const DATASET_READER = "READER";
/** roles/bigquery.dataEditor on one dataset, in the form the API returns. */
export const DATASET_WRITER = "WRITER";

/** Predefined roles the BigQuery API rewrites to a legacy dataset role (REST Dataset.access[].role). */
export const LEGACY_DATASET_ROLES: Readonly<Record<string, string>> = {
  "roles/bigquery.dataViewer": "READER",
  "roles/bigquery.dataEditor": "WRITER",
  "roles/bigquery.dataOwner": "OWNER",
};

/**
 * Physical S3 bucket names of a cell: `lakehouse-<env>-<cell>-<purpose>-<account>`. Bucket names are
 * global, so the account id keeps them unique; S3 allows 3 to 63 characters
 * (docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html), which the environment and the
 * cell name share. One module, so validation checks exactly the names the components create.
 */
/** S3's longest bucket name. */
export const S3_BUCKET_NAME_MAX = 63;

/** Every purpose a cell's buckets are named for: the storage core's, the in-country export's, the rights'. */
export const BUCKET_PURPOSES = [
  "landing",
  "raw",
  "warehouse",
  "query-results",
  "access-logs",
  "audit",
  "federation-exports",
  // Data-subject requests (components/aws/rights): the Object-Locked audit records and the access exports.
  "rights-audit",
  "rights-exports",
] as const;
export type BucketPurpose = (typeof BUCKET_PURPOSES)[number];

/** `resourcePrefix` is `lakehouse-<env>-<cell>`. */
export function s3BucketName(resourcePrefix: string, purpose: BucketPurpose, accountId: string): string {
  return `${resourcePrefix}-${purpose}-${accountId}`;
}

/** The longest of a cell's bucket names, and its length (for validation's message). */
export function longestBucketName(resourcePrefix: string, accountId: string): string {
  return BUCKET_PURPOSES.map((p) => s3BucketName(resourcePrefix, p, accountId)).reduce((a, b) =>
    b.length > a.length ? b : a,
  );
}

/**
 * Resource types that hold state: data, keys, replication progress, or a control whose gap cannot be
 * closed after the fact. Deleting or replacing one loses something a redeploy does not bring back. In a
 * protected stack the program gives them `protect` and `retainOnDelete`; in production the pack demands
 * deletion protection on them (the Pulumi option, or the cloud's own flag where one exists).
 */
const TYPES = [
  // Data.
  "aws:s3/bucket:Bucket",
  "aws:glue/catalogDatabase:CatalogDatabase",
  "aws:glue/catalogTable:CatalogTable",
  "aws:dynamodb/table:Table",
  "aws:msk/cluster:Cluster",
  "aws:kinesis/stream:Stream",
  // Log events are records, and may carry personal data until their retention ends.
  "aws:cloudwatch/logGroup:LogGroup",
  "gcp:bigquery/dataset:Dataset",
  "gcp:bigquery/table:Table",
  "gcp:storage/bucket:Bucket",
  // Topics retain messages for replay; subscriptions hold every message not yet acknowledged.
  "gcp:pubsub/topic:Topic",
  "gcp:pubsub/subscription:Subscription",
  "gcp:vertex/aiFeatureOnlineStore:AiFeatureOnlineStore",
  "gcp:workbench/instance:Instance",
  // Keys and secrets.
  "aws:kms/key:Key",
  "aws:secretsmanager/secret:Secret",
  "gcp:kms/keyRing:KeyRing",
  "gcp:kms/cryptoKey:CryptoKey",
  "gcp:secretmanager/secret:Secret",
  // The pseudonymisation key's bytes live in Pulumi state: a replacement draws a new key, and every
  // pseudonym computed from then on stops joining with the ones already in the lake.
  "random:index/randomBytes:RandomBytes",
  // Replication state: the CDC checkpoint; a replacement restarts the full load of every table.
  "aws:dms/replicationConfig:ReplicationConfig",
  // Controls whose gap cannot be closed afterwards: events a deleted trail did not record are lost, and
  // deleting the taxonomy or a tag silently lifts column-level protection from every tagged column.
  "aws:cloudtrail/trail:Trail",
  "gcp:datacatalog/taxonomy:Taxonomy",
  "gcp:datacatalog/policyTag:PolicyTag",
] as const;

export type StatefulType = (typeof TYPES)[number];

/** The stateful resource types; the one list both the program's protection and the pack's rule use. */
export const STATEFUL_TYPES: ReadonlySet<string> = new Set<StatefulType>(TYPES);

export const isStateful = (type: string): type is StatefulType => STATEFUL_TYPES.has(type);

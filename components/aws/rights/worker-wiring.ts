/**
 * What connects the AWS data-subject request worker to the lake: its Lake Formation grants on the
 * registered tables (the catalog has no IAMAllowedPrincipals: an Athena DELETE needs the IAM policy and
 * the grant, as for the sources' MERGE roles in components/aws/sources/csv-feed.ts), and its event source
 * mapping on the requests table's stream.
 */
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import type { AwsSourceContext } from "../sources/context";
import type { SourceFunction } from "../sources/source-function";
import type { RegisteredAwsTable } from "./rights-access";

/** Erasure deletes rows and the suppression insert adds some; access reads them. No ALTER, no DROP. */
export const WORKER_TABLE_PERMISSIONS = ["DESCRIBE", "SELECT", "INSERT", "DELETE"] as const;

/**
 * Lake Formation grants for the worker's role on each table's database (DESCRIBE) and on each table; the
 * stream mapping waits for them, so the worker never runs before it may query.
 */
export function workerGrants(
  name: string,
  context: AwsSourceContext,
  principal: pulumi.Input<string>,
  tables: readonly RegisteredAwsTable[],
  parent: pulumi.Resource,
): aws.lakeformation.Permissions[] {
  const catalogId = context.accountId;
  const databases = new Map<pulumi.Input<string>, string>();
  for (const t of tables) if (!databases.has(t.database)) databases.set(t.database, t.key);
  return [
    ...[...databases].map(
      ([database, key]) =>
        new aws.lakeformation.Permissions(
          `${name}-lf-${key}-database`,
          { principal, catalogId, permissions: ["DESCRIBE"], database: { catalogId, name: database } },
          { parent },
        ),
    ),
    ...tables.map(
      (t) =>
        new aws.lakeformation.Permissions(
          `${name}-lf-${t.key}`,
          {
            principal,
            catalogId,
            permissions: [...WORKER_TABLE_PERMISSIONS],
            table: { catalogId, databaseName: t.database, name: t.table },
          },
          { parent },
        ),
    ),
  ];
}

/**
 * The worker runs for each new request: INSERT records only (status updates are MODIFY and must not
 * re-trigger it), one request per invocation, a failing request split off and retried twice, then its
 * record's metadata sent to the worker's dead-letter queue (lake key) and the alarm raised, instead of
 * blocking the shard until the record expires after 24 hours (Lambda developer guide, "Using Lambda with
 * DynamoDB": error handling, on-failure destinations, event filtering on `eventName`).
 */
export function workerStreamMapping(
  name: string,
  table: aws.dynamodb.Table,
  worker: SourceFunction,
  after: readonly pulumi.Resource[],
  parent: pulumi.Resource,
): aws.lambda.EventSourceMapping {
  return new aws.lambda.EventSourceMapping(
    name,
    {
      eventSourceArn: table.streamArn,
      functionName: worker.arn,
      // TRIM_HORIZON: a request written before the mapping exists is still processed.
      startingPosition: "TRIM_HORIZON",
      batchSize: 1,
      filterCriteria: { filters: [{ pattern: JSON.stringify({ eventName: ["INSERT"] }) }] },
      bisectBatchOnFunctionError: true,
      maximumRetryAttempts: 2,
      destinationConfig: { onFailure: { destinationArn: worker.deadLetters.arn } },
    },
    { parent, dependsOn: [...after] },
  );
}

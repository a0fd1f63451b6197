/**
 * The requests table (DynamoDB, pk `requestId`): one item per request, pseudonyms only, never a raw
 * identifier. Every write is conditional (DynamoDB developer guide, "Condition expressions"):
 * - the intake creates an item only if none exists (`attribute_not_exists(requestId)`), so a concurrent
 *   second POST of the same requestId cannot overwrite the first;
 * - the AWS worker completes its cloud only while `awsStatus` is still "pending", so a re-run (a stream
 *   retry) keeps the first run's result and never rewrites history. The GCP worker writes its own
 *   attributes (gcp-server.ts `DynamoRequestStore`); `fromItem` reads them for GET.
 * Reads are strongly consistent: GET right after POST sees the item.
 */
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type AttributeValue,
} from "@aws-sdk/client-dynamodb";
import type { Jurisdiction, RequestKind } from "./request";

export type CloudStatus = "pending" | "done";

/** Rows found (and, for an erasure, deleted) in one AWS table. */
export interface AwsTableOutcome {
  /** `<database>.<table>`. */
  readonly table: string;
  readonly holds: string;
  readonly dataClass: string;
  readonly rows: number;
}

export interface AwsExport {
  readonly table: string;
  readonly rows: number;
  /** `s3://bucket/key`. */
  readonly object: string;
  /** S3 console URL of the object (opens only for principals allowed to read the exports bucket). */
  readonly link: string;
}

export interface AwsResult {
  readonly completedAt: string;
  readonly tables: readonly AwsTableOutcome[];
  readonly exports: readonly AwsExport[];
  /** Pseudonyms newly added to the suppression table (erasure). */
  readonly suppressed: number;
}

/** The GCP worker's result as gcp-server.ts stores it (gcpCompletedAt, gcpResults, gcpExports, gcpSuppressed). */
export interface GcpSummary {
  readonly completedAt: string;
  readonly tables: readonly { readonly table: string; readonly rows: number }[];
  readonly exports: readonly {
    readonly table: string;
    readonly rows: number;
    readonly object: string;
    readonly link: string;
  }[];
  readonly suppressed: number;
}

export interface RequestRecord {
  readonly requestId: string;
  readonly kind: RequestKind;
  readonly jurisdiction: Jurisdiction;
  /** HMAC-SHA256 under the cell key, lower-case hex, sorted. */
  readonly pseudonyms: readonly string[];
  /** How many identifiers of each kind were sent (the identifiers themselves are never stored). */
  readonly identifierCounts: { readonly userIds: number; readonly anonymousIds: number; readonly emails: number };
  /** sha256 of the canonical body (request.ts `requestHash`). */
  readonly requestHash: string;
  /** The caller's IAM ARN, from the signed request. */
  readonly requestedBy: string;
  readonly receivedAt: string;
  readonly awsStatus: CloudStatus;
  readonly gcpStatus: CloudStatus;
  readonly awsResult?: AwsResult;
  readonly gcpResult?: GcpSummary;
}

/** What the intake needs of the store (a loopback fake or DynamoDB). */
export interface RequestStore {
  get(requestId: string): Promise<RequestRecord | undefined>;
  /** false when an item with this requestId already exists (nothing written). */
  create(record: RequestRecord): Promise<boolean>;
}

const PENDING: AttributeValue = { S: "pending" };
const DONE: AttributeValue = { S: "done" };

/** The item as written: JSON-valued results in string attributes, pseudonyms as a list (ordered, may be compared). */
export function toItem(r: RequestRecord): Record<string, AttributeValue> {
  return {
    requestId: { S: r.requestId },
    kind: { S: r.kind },
    jurisdiction: { S: r.jurisdiction },
    pseudonyms: { L: r.pseudonyms.map((p) => ({ S: p })) },
    identifierCounts: { S: JSON.stringify(r.identifierCounts) },
    requestHash: { S: r.requestHash },
    requestedBy: { S: r.requestedBy },
    receivedAt: { S: r.receivedAt },
    awsStatus: { S: r.awsStatus },
    gcpStatus: { S: r.gcpStatus },
    ...(r.awsResult ? { awsResult: { S: JSON.stringify(r.awsResult) } } : {}),
  };
}

const str = (item: Record<string, AttributeValue>, name: string): string => {
  const v = item[name]?.S;
  if (v === undefined) throw new Error(`request item ${item.requestId?.S ?? "?"} has no string '${name}'`);
  return v;
};

/** The record of an item (a GetItem answer, a Scan page, or a stream record's NewImage). */
export function fromItem(item: Record<string, AttributeValue>): RequestRecord {
  const json = <T>(name: string): T | undefined =>
    item[name]?.S === undefined ? undefined : (JSON.parse(item[name].S) as T);
  return {
    requestId: str(item, "requestId"),
    kind: str(item, "kind") as RequestKind,
    jurisdiction: str(item, "jurisdiction") as Jurisdiction,
    pseudonyms: (item.pseudonyms?.L ?? []).map((v) => v.S ?? ""),
    identifierCounts: json("identifierCounts") ?? { userIds: 0, anonymousIds: 0, emails: 0 },
    requestHash: str(item, "requestHash"),
    requestedBy: str(item, "requestedBy"),
    receivedAt: str(item, "receivedAt"),
    awsStatus: str(item, "awsStatus") as CloudStatus,
    gcpStatus: str(item, "gcpStatus") as CloudStatus,
    awsResult: json<AwsResult>("awsResult"),
    gcpResult: gcpSummary(item),
  };
}

const maps = (v: AttributeValue | undefined): Record<string, AttributeValue>[] => (v?.L ?? []).map((x) => x.M ?? {});

function gcpSummary(item: Record<string, AttributeValue>): GcpSummary | undefined {
  const completedAt = item.gcpCompletedAt?.S;
  if (completedAt === undefined) return undefined;
  return {
    completedAt,
    tables: maps(item.gcpResults).map((m) => ({ table: m.table?.S ?? "", rows: Number(m.rows?.N ?? 0) })),
    exports: maps(item.gcpExports).map((m) => ({
      table: m.table?.S ?? "",
      rows: Number(m.rows?.N ?? 0),
      object: m.object?.S ?? "",
      link: m.link?.S ?? "",
    })),
    suppressed: Number(item.gcpSuppressed?.N ?? 0),
  };
}

export class DynamoRequestStore implements RequestStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async get(requestId: string): Promise<RequestRecord | undefined> {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.table, Key: { requestId: { S: requestId } }, ConsistentRead: true }),
    );
    return out.Item ? fromItem(out.Item) : undefined;
  }

  async create(record: RequestRecord): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: toItem(record),
          ConditionExpression: "attribute_not_exists(#id)",
          ExpressionAttributeNames: { "#id": "requestId" },
        }),
      );
      return true;
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return false;
      throw e;
    }
  }

  /** awsStatus "pending" -> "done" with the result; false when it was no longer pending (a re-run). */
  async completeAws(requestId: string, result: AwsResult): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { requestId: { S: requestId } },
          UpdateExpression: "SET #s = :done, #r = :result",
          ConditionExpression: "#s = :pending",
          ExpressionAttributeNames: { "#s": "awsStatus", "#r": "awsResult" },
          ExpressionAttributeValues: { ":done": DONE, ":pending": PENDING, ":result": { S: JSON.stringify(result) } },
        }),
      );
      return true;
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return false;
      throw e;
    }
  }
}

/**
 * The puller's cloud side: the cursor in DynamoDB (one item per source, written only under a version
 * condition), pages into S3 (SSE-KMS with the lake key), and the credential from Secrets Manager at run
 * time (never in the environment or the Pulumi state).
 */
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from "@aws-sdk/client-dynamodb";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { CURSOR_KEY, type AuthScheme } from "./config";
import { CursorConflictError, EMPTY_STATE, type CursorState, type CursorStore, type Versioned } from "./cursor-store";
import type { ObjectSink } from "./puller";

/**
 * DynamoDB conditional writes: `PutItem` with `ConditionExpression` fails with
 * ConditionalCheckFailedException when the stored version moved (DynamoDB developer guide, "Condition
 * expressions"); reads are strongly consistent so a run never starts from a stale version.
 */
export class DynamoDbCursorStore implements CursorStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async load(source: string): Promise<Versioned> {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.table, Key: { [CURSOR_KEY]: { S: source } }, ConsistentRead: true }),
    );
    const item = out.Item;
    if (!item?.state?.S || !item.version?.N) return { state: EMPTY_STATE, version: 0 };
    return { state: JSON.parse(item.state.S) as CursorState, version: Number(item.version.N) };
  }

  async save(source: string, state: CursorState, expected: number): Promise<number> {
    const version = expected + 1;
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: {
            [CURSOR_KEY]: { S: source },
            version: { N: String(version) },
            state: { S: JSON.stringify(state) },
            // Readable without parsing `state`, for the runbook's `aws dynamodb get-item`.
            watermark: state.watermark === null ? { NULL: true } : { S: state.watermark },
          },
          ConditionExpression: expected === 0 ? "attribute_not_exists(#k)" : "#v = :expected",
          ExpressionAttributeNames: expected === 0 ? { "#k": CURSOR_KEY } : { "#v": "version" },
          ...(expected === 0 ? {} : { ExpressionAttributeValues: { ":expected": { N: String(expected) } } }),
        }),
      );
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) throw new CursorConflictError(source, expected);
      throw e;
    }
    return version;
  }
}

/** Pages as S3 objects; PutObject returns only once the object is stored durably (S3 user guide, "Data protection"). */
export class S3Sink implements ObjectSink {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly kmsKeyArn?: string,
  ) {}

  async put(key: string, body: Buffer): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: body,
        // gzip NDJSON: Athena's JSON SerDe reads `.gz` objects by their extension (Athena user guide,
        // "Compression support"); no Content-Encoding, so clients get the gzip bytes as stored.
        ContentType: "application/x-ndjson",
        ...(this.kmsKeyArn
          ? { ServerSideEncryption: "aws:kms", SSEKMSKeyId: this.kmsKeyArn, BucketKeyEnabled: true }
          : {}),
      }),
    );
  }
}

/** The credential's header value from a `{"username", "password"}` secret. */
export function authHeaderValue(scheme: AuthScheme, secret: { username?: string; password: string }): string {
  switch (scheme) {
    case "bearer":
      return `Bearer ${secret.password}`;
    case "basic":
      return `Basic ${Buffer.from(`${secret.username ?? ""}:${secret.password}`).toString("base64")}`;
    case "raw":
      return secret.password;
  }
}

/** Reads the API's credential secret (a JSON `{"username", "password"}`). */
export async function readCredential(
  client: SecretsManagerClient,
  secretArn: string,
): Promise<{ username?: string; password: string }> {
  const out = await client.send(new GetSecretValueCommand({ SecretId: secretArn }));
  const parsed = JSON.parse(out.SecretString ?? "{}") as { username?: string; password?: string };
  if (!parsed.password) throw new Error(`secret ${secretArn} has no password`);
  return { username: parsed.username, password: parsed.password };
}

/**
 * The GCP subject-rights worker's Cloud Run entry: a `node:http` server on PORT whose `POST /run` processes
 * every pending request (gcp-worker.ts). Cloud Scheduler calls it hourly with an OIDC token; the service is
 * private (run.invoker for the scheduler's service account only), so Cloud Run's front end refuses every
 * other caller before this code runs.
 *
 * The requests live in AWS (the cell's DynamoDB requests table, the S3 audit bucket). No AWS key exists:
 * the service's Google ID token (from the metadata server) is exchanged for a role's temporary credentials
 * with STS AssumeRoleWithWebIdentity; the role trusts only this service account's unique id
 * (components/federation/google-trust.ts `googleIdentityTrust`).
 *
 * Environment (functions/subject-rights/README.md): REQUESTS_TABLE, AUDIT_BUCKET, AWS_REGION, AWS_ROLE_ARN,
 * EXPORTS_BUCKET, SUPPRESSION_BUCKET, REGISTRY_JSON, CELL, PORT.
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DynamoDBClient,
  ScanCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { AssumeRoleWithWebIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { BigQuery } from "@google-cloud/bigquery";
import { Storage, type StorageOptions } from "@google-cloud/storage";
import { GoogleAuth } from "google-auth-library";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { BigQuerySubjectTables } from "./bigquery";
import {
  type AuditLog,
  type ExportStore,
  type GcpResult,
  type GcpWorkerDeps,
  type PendingRequest,
  type RequestStore,
  type RunSummary,
  runGcpWorker,
} from "./gcp-worker";
import { parseRegistry } from "./registry";
import { SuppressionObject } from "./suppression";

/** AWS credentials as the SDK's clients take them from a provider function (refreshed before `expiration`). */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

/**
 * The audience of the Google ID token sent to STS. AWS's built-in Google provider checks the token's
 * signature and `sub` (the trust policy's `accounts.google.com:sub`); for service-account tokens the
 * `accounts.google.com:aud` key is matched against the `azp` claim and `accounts.google.com:oaud` against
 * `aud` (IAM User Guide, "Available keys for AWS web identity federation"), so the audience is free: the
 * STS endpoint names who the token is for.
 */
export const STS_AUDIENCE = "sts.amazonaws.com";

/**
 * A credential provider that exchanges a fresh Google ID token for the role's credentials, shared by the
 * DynamoDB and S3 clients: one exchange serves both until 5 minutes before the credentials expire (each
 * client would otherwise make its own), and concurrent callers share one call in flight.
 */
export function webIdentityCredentials(
  sts: STSClient,
  roleArn: string,
  idToken: () => Promise<string>,
  sessionName = "subject-rights-gcp",
): () => Promise<AwsCredentials> {
  let cached: Promise<AwsCredentials> | undefined;
  const exchange = async (): Promise<AwsCredentials> => {
    const out = await sts.send(
      new AssumeRoleWithWebIdentityCommand({
        RoleArn: roleArn,
        RoleSessionName: sessionName,
        WebIdentityToken: await idToken(),
        DurationSeconds: 3600,
      }),
    );
    const c = out.Credentials;
    if (c?.AccessKeyId === undefined || c.SecretAccessKey === undefined) {
      throw new Error("AssumeRoleWithWebIdentity returned no credentials");
    }
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
      expiration: c.Expiration,
    };
  };
  return async () => {
    const current = cached !== undefined ? await cached.catch(() => undefined) : undefined;
    const fresh = current?.expiration !== undefined && current.expiration.getTime() - Date.now() > 5 * 60_000;
    if (!fresh) {
      cached = exchange();
      cached.catch(() => (cached = undefined));
    }
    return cached!;
  };
}

/** The service account's Google ID token for `audience`, from the metadata server (google-auth-library). */
export function googleIdToken(audience: string = STS_AUDIENCE): () => Promise<string> {
  const auth = new GoogleAuth();
  return async () => {
    const client = await auth.getIdTokenClient(audience);
    return client.idTokenProvider.fetchIdToken(audience);
  };
}

function s(v: AttributeValue | undefined): string | undefined {
  return v?.S;
}

/** The pseudonyms attribute: a string set, or a list of strings (intake may write either). */
function strings(v: AttributeValue | undefined): string[] {
  if (v === undefined) return [];
  if (v.SS !== undefined) return [...v.SS];
  if (v.L !== undefined) return v.L.map((x) => x.S).filter((x): x is string => x !== undefined);
  return [];
}

/** The requests table (DynamoDB), as the GCP worker uses it. */
export class DynamoRequestStore implements RequestStore {
  constructor(
    private readonly dynamo: DynamoDBClient,
    private readonly table: string,
  ) {}

  async pending(): Promise<PendingRequest[]> {
    const out: PendingRequest[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      // The table holds a cell's requests (a few a day): a filtered Scan, paged, is enough.
      const page = await this.dynamo.send(
        new ScanCommand({
          TableName: this.table,
          FilterExpression: "#g = :pending",
          ExpressionAttributeNames: { "#g": "gcpStatus" },
          ExpressionAttributeValues: { ":pending": { S: "pending" } },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        const kind = s(item.kind);
        const requestId = s(item.requestId);
        if (requestId === undefined || (kind !== "access" && kind !== "erasure")) continue;
        out.push({
          requestId,
          kind,
          jurisdiction: s(item.jurisdiction) ?? "",
          pseudonyms: strings(item.pseudonyms),
          receivedAt: s(item.receivedAt) ?? "",
          ...(item.gcpSuppressedAt?.S !== undefined ? { gcpSuppressedAt: item.gcpSuppressedAt.S } : {}),
        });
      }
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return out;
  }

  complete(requestId: string, r: GcpResult): Promise<boolean> {
    return this.update(
      requestId,
      r,
      "SET #g = :done, gcpCompletedAt = :at, gcpResults = :tables, gcpExports = :exports, gcpSuppressed = :sup",
      // Only a pending request: a concurrent run that completed it first wins, and a deleted record is
      // not re-created by the update.
      "#g = :pending",
      { ":done": { S: "done" } },
    );
  }

  firstPassDone(requestId: string, r: GcpResult): Promise<boolean> {
    return this.update(
      requestId,
      r,
      "SET gcpSuppressedAt = :at, gcpFirstPassResults = :tables, gcpFirstPassExports = :exports, gcpSuppressed = :sup",
      "#g = :pending AND attribute_not_exists(gcpSuppressedAt)",
      {},
    );
  }

  private async update(
    requestId: string,
    r: GcpResult,
    update: string,
    condition: string,
    values: Record<string, AttributeValue>,
  ): Promise<boolean> {
    try {
      await this.dynamo.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { requestId: { S: requestId } },
          UpdateExpression: update,
          ConditionExpression: condition,
          ExpressionAttributeNames: { "#g": "gcpStatus" },
          ExpressionAttributeValues: {
            ...values,
            ":pending": { S: "pending" },
            ":at": { S: r.completedAt },
            ":tables": { L: r.tables.map((t) => ({ M: { table: { S: t.table }, rows: { N: String(t.rows) } } })) },
            ":exports": {
              L: r.exports.map((e) => ({
                M: { table: { S: e.table }, rows: { N: String(e.rows) }, object: { S: e.object }, link: { S: e.link } },
              })),
            },
            ":sup": { N: String(r.suppressed) },
          },
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }
}

/** The append-only audit bucket (S3 Object Lock): a key is written once, never replaced. */
export class S3Audit implements AuditLog {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async append(requestId: string, name: string, record: unknown): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: `requests/${requestId}/${name}`,
        Body: `${JSON.stringify(record, null, 2)}\n`,
        ContentType: "application/json",
        // Conditional write: 412 if the key exists (S3 User Guide, "Conditional writes"), so a record is
        // never replaced even where Object Lock would keep the old version. The SDK's default CRC32
        // checksum satisfies Object Lock's integrity-header requirement for PUTs.
        IfNoneMatch: "*",
      }),
    );
  }
}

/** Access exports in the GCS exports bucket (lake key, lifecycle expiry: EXPORT_EXPIRY_DAYS). */
export function gcsExportStore(bucket: string, options: StorageOptions = {}): ExportStore {
  const storage = new Storage(options);
  return {
    bucket,
    async write(object: string, body: string): Promise<void> {
      await storage.bucket(bucket).file(object).save(body, {
        resumable: false,
        contentType: "application/x-ndjson; charset=utf-8",
      });
    },
  };
}

/**
 * The HTTP handler: `POST /run` runs the worker (one run at a time: a call during a run waits for that
 * run's outcome), 200 with the summary, 500 if a request failed (Cloud Scheduler records the attempt as
 * failed); `GET /health` 200.
 */
export function createGcpHandler(run: () => Promise<RunSummary>): (req: IncomingMessage, res: ServerResponse) => void {
  let current: Promise<RunSummary> | undefined;
  return (req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const send = (status: number, doc: unknown): void =>
      void res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(doc));
    req.resume();
    if (path === "/health" && req.method === "GET") return send(200, { ok: true });
    if (path !== "/run") return send(404, { error: `unknown path ${path}` });
    if (req.method !== "POST") return send(405, { error: "use POST" });
    current ??= run().finally(() => (current = undefined));
    current.then(
      (summary) => send(summary.failed.length > 0 ? 500 : 200, summary),
      (err: unknown) => send(500, { error: err instanceof Error ? err.message : String(err) }),
    );
  };
}

/** Reads the environment; every missing variable is reported together. */
export function loadEnv(
  env: NodeJS.ProcessEnv,
): Record<
  | "REQUESTS_TABLE"
  | "AUDIT_BUCKET"
  | "AWS_REGION"
  | "AWS_ROLE_ARN"
  | "EXPORTS_BUCKET"
  | "SUPPRESSION_BUCKET"
  | "REGISTRY_JSON"
  | "CELL",
  string
> & { PORT: number } {
  const names = [
    "REQUESTS_TABLE",
    "AUDIT_BUCKET",
    "AWS_REGION",
    "AWS_ROLE_ARN",
    "EXPORTS_BUCKET",
    "SUPPRESSION_BUCKET",
    "REGISTRY_JSON",
    "CELL",
  ] as const;
  const missing = names.filter((n) => (env[n] ?? "") === "");
  if (missing.length > 0) throw new Error(`subject-rights GCP worker: missing ${missing.join(", ")}`);
  const port = Number(env.PORT ?? "8080");
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`PORT must be a port number, got ${env.PORT}`);
  const out = Object.fromEntries(names.map((n) => [n, env[n]!])) as Record<(typeof names)[number], string>;
  return { ...out, PORT: port };
}

/** Overrides for tests: endpoints of loopback fakes and a token source that needs no metadata server. */
export interface GcpServerOverrides {
  readonly awsEndpoint?: string;
  readonly idToken?: () => Promise<string>;
  readonly bigquery?: BigQuery;
  readonly storage?: StorageOptions;
}

/** The worker's dependencies from the environment (the real clients). */
export function depsFromEnv(env: NodeJS.ProcessEnv, o: GcpServerOverrides = {}): GcpWorkerDeps & { port: number } {
  const e = loadEnv(env);
  const registry = parseRegistry(e.REGISTRY_JSON);
  if (registry.cell !== e.CELL) throw new Error(`REGISTRY_JSON is cell ${registry.cell}, CELL is ${e.CELL}`);
  const endpoint = o.awsEndpoint !== undefined ? { endpoint: o.awsEndpoint } : {};
  const sts = new STSClient({ region: e.AWS_REGION, ...endpoint });
  const credentials = webIdentityCredentials(sts, e.AWS_ROLE_ARN, o.idToken ?? googleIdToken());
  const aws = { region: e.AWS_REGION, credentials, ...endpoint };
  return {
    port: e.PORT,
    registry,
    requests: new DynamoRequestStore(new DynamoDBClient(aws), e.REQUESTS_TABLE),
    audit: new S3Audit(new S3Client({ ...aws, forcePathStyle: o.awsEndpoint !== undefined }), e.AUDIT_BUCKET),
    tables: new BigQuerySubjectTables(o.bigquery ?? new BigQuery()),
    exports: gcsExportStore(e.EXPORTS_BUCKET, o.storage),
    suppression: new SuppressionObject(e.SUPPRESSION_BUCKET, o.storage),
  };
}

export async function startGcpServer(
  env: NodeJS.ProcessEnv = process.env,
  o: GcpServerOverrides = {},
): Promise<{ server: Server; port: number }> {
  const deps = depsFromEnv(env, o);
  const server = createServer(createGcpHandler(() => runGcpWorker(deps)));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(deps.port, o.awsEndpoint !== undefined ? "127.0.0.1" : "0.0.0.0", () => resolve());
  });
  const address = server.address();
  return { server, port: typeof address === "object" && address !== null ? address.port : deps.port };
}

if (require.main === module) {
  startGcpServer().catch((err: unknown) => {
    process.stderr.write(
      `${JSON.stringify({ severity: "ERROR", message: err instanceof Error ? err.message : String(err) })}\n`,
    );
    process.exit(1);
  });
}

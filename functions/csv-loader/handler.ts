/**
 * The Lambda: one S3 "Object Created" event from EventBridge per invocation (asynchronous; Lambda retries
 * twice, then the dead-letter queue). It runs the pipeline with S3 for the store and Athena for the SQL:
 * the same steps and SQL the local tests run with a folder and DuckDB (local.ts).
 *
 * Environment (set by components/aws/sources/csv-feed.ts, names and ARNs only): FEED (the feed's
 * declaration as JSON), RAW_BUCKET, LAKE_KEY_ARN, WORKGROUP, RAW_DATABASE, CURATED_DATABASE.
 */
import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
} from "@aws-sdk/client-athena";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type CompletedPart,
} from "@aws-sdk/client-s3";
import { curatedTableName, stagingTableName, type CsvFeed, type Delivery } from "./feed";
import { duplicateKeysSql, ident, mergeSql } from "./load-sql";
import { METRIC_DIMENSION, METRIC_NAMESPACE } from "./metrics";
import { processDelivery, type DuplicateKey, type FeedStore, type LoadEngine, type PendingObject } from "./pipeline";

/** Parts of the validated copy: 16 MiB (S3 multipart: 5 MiB to 5 GiB per part, at most 10,000 parts). */
const PART_BYTES = 16 << 20;

/** The EventBridge envelope of an S3 event (S3 user guide, "EventBridge event message structure"). */
export interface S3ObjectCreatedEvent {
  readonly time: string;
  readonly detail: {
    readonly bucket: { readonly name: string };
    readonly object: {
      readonly key: string;
      readonly size?: number;
      readonly etag?: string;
      readonly "version-id"?: string;
    };
  };
}

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`environment variable ${name} is not set`);
  return v;
};

/** One EMF line on stdout: CloudWatch Logs turns it into metrics, no PutMetricData permission needed. */
function emitMetrics(feed: string, values: Readonly<Record<string, number>>): void {
  // Written to stdout directly, not through console.log: with Lambda's JSON log format console output is
  // wrapped in a log record and is no longer EMF (CloudWatch user guide, "Using the embedded metric format
  // with Lambda", on the Node.js library's fix for the JSON log format).
  const line = {
    _aws: {
      Timestamp: Date.now(),
      CloudWatchMetrics: [
        {
          Namespace: METRIC_NAMESPACE,
          Dimensions: [[METRIC_DIMENSION]],
          Metrics: Object.keys(values).map((Name) => ({ Name, Unit: "Count" })),
        },
      ],
    },
    [METRIC_DIMENSION]: feed,
    ...values,
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

export async function handler(event: S3ObjectCreatedEvent): Promise<{ status: string; fileId: string }> {
  const feed = JSON.parse(env("FEED")) as CsvFeed;
  const s3 = new S3Client({});
  const athena = new AthenaClient({});
  const o = event.detail.object;
  const delivery: Delivery = {
    bucket: event.detail.bucket.name,
    key: o.key,
    size: o.size ?? 0,
    versionId: o["version-id"],
    etag: o.etag,
    time: event.time,
  };
  const outcome = await processDelivery(
    feed,
    delivery,
    new S3Store(s3, env("RAW_BUCKET"), env("LAKE_KEY_ARN")),
    new AthenaEngine(athena, env("WORKGROUP"), env("RAW_DATABASE"), env("CURATED_DATABASE")),
  );
  if (outcome.status === "quarantined") {
    emitMetrics(feed.name, { QuarantinedFiles: 1 });
    console.error(
      JSON.stringify({
        quarantined: delivery.key,
        reason: outcome.report.reason,
        report: outcome.report.quarantinedFile,
      }),
    );
  } else if (outcome.status === "loaded") emitMetrics(feed.name, { LoadedFiles: 1, LoadedRows: outcome.rows ?? 0 });
  return { status: outcome.status, fileId: outcome.fileId };
}

/** Landing objects are read by version; raw objects are written with the lake key. */
class S3Store implements FeedStore {
  constructor(
    private readonly s3: S3Client,
    private readonly raw: string,
    private readonly keyArn: string,
  ) {}
  private readonly sse = () => ({ ServerSideEncryption: "aws:kms" as const, SSEKMSKeyId: this.keyArn });

  async exists(key: string): Promise<boolean> {
    try {
      await this.s3.send(new HeadObjectCommand({ Bucket: this.raw, Key: key }));
      return true;
    } catch (err) {
      // 404 only with s3:ListBucket on the prefix (granted); a 403 must not read as "absent".
      if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
      throw err;
    }
  }
  async *readLanding(d: Delivery): AsyncIterable<Uint8Array> {
    const r = await this.s3.send(new GetObjectCommand({ Bucket: d.bucket, Key: d.key, VersionId: d.versionId }));
    if (!r.Body) throw new Error(`s3://${d.bucket}/${d.key} has no body`);
    yield* r.Body as AsyncIterable<Uint8Array>;
  }
  async create(key: string): Promise<PendingObject> {
    const { UploadId } = await this.s3.send(
      new CreateMultipartUploadCommand({
        Bucket: this.raw,
        Key: key,
        ContentType: "application/x-ndjson",
        ...this.sse(),
      }),
    );
    const parts: CompletedPart[] = [];
    let pending: Buffer[] = [];
    let size = 0;
    let total = 0;
    const upload = async (): Promise<void> => {
      const PartNumber = parts.length + 1;
      const r = await this.s3.send(
        new UploadPartCommand({ Bucket: this.raw, Key: key, UploadId, PartNumber, Body: Buffer.concat(pending) }),
      );
      parts.push({ PartNumber, ETag: r.ETag });
      pending = [];
      size = 0;
    };
    const abort = () => this.s3.send(new AbortMultipartUploadCommand({ Bucket: this.raw, Key: key, UploadId }));
    return {
      write: async (chunk) => {
        pending.push(chunk);
        size += chunk.length;
        total += chunk.length;
        if (size >= PART_BYTES) await upload();
      },
      commit: async () => {
        if (total === 0) {
          // A header-only file: nothing to upload in parts; an empty object stands for it.
          await abort();
          await this.put(key, "");
          return;
        }
        if (size > 0) await upload(); // the last part may be smaller than 5 MiB
        await this.s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: this.raw,
            Key: key,
            UploadId,
            MultipartUpload: { Parts: parts },
          }),
        );
      },
      abort: async () => {
        await abort();
      },
    };
  }
  async put(key: string, body: string): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({ Bucket: this.raw, Key: key, Body: body, ContentType: "application/json", ...this.sse() }),
    );
  }
  async copyLanding(d: Delivery, key: string): Promise<void> {
    const source = `${d.bucket}/${encodeURIComponent(d.key)}${d.versionId ? `?versionId=${encodeURIComponent(d.versionId)}` : ""}`;
    // CopyObject copies up to 5 GB in one request (S3 API reference); feeds accept at most 4 GiB.
    await this.s3.send(new CopyObjectCommand({ Bucket: this.raw, Key: key, CopySource: source, ...this.sse() }));
  }
  async deleteLanding(d: Delivery): Promise<void> {
    // No VersionId: a delete marker, so the bytes stay readable by version until the lifecycle expires them.
    await this.s3.send(new DeleteObjectCommand({ Bucket: d.bucket, Key: d.key }));
  }
  async delete(key: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.raw, Key: key }));
  }
}

/** Athena engine version 3 in the feed's workgroup (results in the feed's raw prefix, lake key). */
class AthenaEngine implements LoadEngine {
  constructor(
    private readonly athena: AthenaClient,
    private readonly workgroup: string,
    private readonly rawDatabase: string,
    private readonly curatedDatabase: string,
  ) {}

  private tables(feed: CsvFeed) {
    return {
      staging: `${ident(this.rawDatabase)}.${ident(stagingTableName(feed.name))}`,
      curated: `${ident(this.curatedDatabase)}.${ident(curatedTableName(feed.name))}`,
    };
  }

  /** Runs a query to its end; throws with Athena's reason when it does not succeed. */
  private async run(sql: string): Promise<string> {
    const { QueryExecutionId } = await this.athena.send(
      new StartQueryExecutionCommand({
        QueryString: sql,
        WorkGroup: this.workgroup,
        QueryExecutionContext: { Catalog: "AwsDataCatalog" },
      }),
    );
    for (let wait = 500; ; wait = Math.min(wait * 2, 5000)) {
      await new Promise((r) => setTimeout(r, wait));
      const { QueryExecution } = await this.athena.send(new GetQueryExecutionCommand({ QueryExecutionId }));
      const state = QueryExecution?.Status?.State;
      if (state === "SUCCEEDED") return QueryExecutionId!;
      if (state === "FAILED" || state === "CANCELLED")
        throw new Error(
          `Athena query ${QueryExecutionId} ${state}: ${QueryExecution?.Status?.StateChangeReason ?? ""}`,
        );
    }
  }

  async duplicateKeys(feed: CsvFeed, fileId: string): Promise<DuplicateKey[]> {
    const id = await this.run(duplicateKeysSql(feed, this.tables(feed), fileId));
    const { ResultSet } = await this.athena.send(new GetQueryResultsCommand({ QueryExecutionId: id }));
    const [header, ...rows] = ResultSet?.Rows ?? [];
    const names = (header?.Data ?? []).map((c) => c.VarCharValue ?? "");
    return rows.map((r) => {
      const v = Object.fromEntries(names.map((n, i) => [n, r.Data?.[i]?.VarCharValue ?? null]));
      return {
        key: Object.fromEntries(feed.key.map((k) => [k.toLowerCase(), v[k.toLowerCase()] ?? null])),
        count: Number(v.n),
        firstLine: Number(v.first_line),
        lastLine: Number(v.last_line),
      };
    });
  }

  async merge(feed: CsvFeed, file: { fileId: string; sourceFile: string; order: string }): Promise<void> {
    await this.run(mergeSql(feed, this.tables(feed), "athena", file));
  }
}

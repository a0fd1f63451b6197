/**
 * What happens to one delivered file, the same in the cloud (S3 + Athena: handler.ts) and locally
 * (a folder + DuckDB: local.ts): validate while streaming into the validated copy, check the key is
 * unique in the file, MERGE, then remove the landing object; or quarantine the file with its report.
 *
 * Every step can be repeated: a re-delivered event or a retried invocation finds the quarantine report
 * (done), or the validated copy (skip validation, re-run the idempotent load), or nothing (start over).
 * A file is never dropped: it leaves the landing prefix only after it was loaded or quarantined.
 */
import {
  fileId as idOf,
  quarantineFileKey,
  quarantineReportKey,
  sourceOrder,
  validatedKey,
  type CsvFeed,
  type Delivery,
} from "./feed";
import { validateCsv, type CsvError, type CsvErrorKind, type ValidationResult } from "./validate";

/** A validated copy being written: rows arrive in order; `commit` makes it visible at once, `abort` discards it. */
export interface PendingObject {
  write(ndjson: Buffer): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/** The objects the loader touches (S3 in the cloud, a folder locally). */
export interface FeedStore {
  /** Whether an object exists in the raw area (validated copies, quarantine). */
  exists(key: string): Promise<boolean>;
  /** The delivered bytes (that exact version), in chunks. */
  readLanding(d: Delivery): AsyncIterable<Uint8Array>;
  /** Starts writing a raw-area object. */
  create(key: string): Promise<PendingObject>;
  /** Writes a small raw-area object (a report). */
  put(key: string, body: string): Promise<void>;
  /** Copies the delivered object (that version) into the raw area. */
  copyLanding(d: Delivery, key: string): Promise<void>;
  /** Removes the delivered object from the landing prefix (no-op when already gone). */
  deleteLanding(d: Delivery): Promise<void>;
  /** Removes a raw-area object (no-op when absent). */
  delete(key: string): Promise<void>;
}

/** One key found more than once in a file. */
export interface DuplicateKey {
  readonly key: Readonly<Record<string, string | null>>;
  readonly count: number;
  readonly firstLine: number;
  readonly lastLine: number;
}

/** The SQL side (Athena in the cloud, DuckDB locally). */
export interface LoadEngine {
  duplicateKeys(feed: CsvFeed, fileId: string): Promise<DuplicateKey[]>;
  merge(feed: CsvFeed, file: { fileId: string; sourceFile: string; order: string }): Promise<void>;
}

/** The machine-readable report written next to a quarantined file (`report.json`). */
export interface QuarantineReport {
  readonly feed: string;
  readonly file: { readonly bucket: string; readonly key: string; readonly versionId?: string; readonly size: number };
  readonly fileId: string;
  readonly quarantinedAt: string;
  /** The first problem's kind: why the file was refused. */
  readonly reason: CsvErrorKind;
  /** Rows read before validation ended (the header excluded). */
  readonly rows: number;
  /** False when validation stopped early: counts are then lower bounds. */
  readonly complete: boolean;
  readonly counts: Readonly<Partial<Record<CsvErrorKind, number>>>;
  readonly errors: readonly CsvError[];
  /** Where the original file was copied. */
  readonly quarantinedFile: string;
}

export type Outcome =
  | { readonly status: "loaded"; readonly fileId: string; readonly rows: number | undefined }
  | { readonly status: "quarantined"; readonly fileId: string; readonly report: QuarantineReport }
  | { readonly status: "already-quarantined"; readonly fileId: string };

export interface ProcessOptions {
  /** Problems listed in the report (all are counted). @default 100 */
  readonly maxErrors?: number;
  /** The clock (tests). @default now */
  readonly now?: () => Date;
}

/** Handles one delivery of `feed` (see the module comment for the order of steps). */
export async function processDelivery(
  feed: CsvFeed,
  d: Delivery,
  store: FeedStore,
  engine: LoadEngine,
  options: ProcessOptions = {},
): Promise<Outcome> {
  const id = idOf(d);
  const order = sourceOrder(d);
  const quarantine = (result: Pick<ValidationResult, "rows" | "complete" | "errors" | "counts">) =>
    quarantineFile(feed, d, id, store, result, options);

  const copy = validatedKey(feed.name, id);
  if (await store.exists(quarantineReportKey(feed.name, id))) {
    // A run that crashed after the report may have left these behind.
    await store.delete(copy);
    await store.deleteLanding(d);
    return { status: "already-quarantined", fileId: id };
  }
  let rows: number | undefined;
  if (!(await store.exists(copy))) {
    const maxBytes = feed.maxFileMiB * 1024 * 1024;
    if (d.size > maxBytes) {
      const e: CsvError = {
        kind: "too-large",
        message: `${d.size} bytes; the feed accepts at most ${feed.maxFileMiB} MiB`,
      };
      return quarantine({ rows: 0, complete: false, errors: [e], counts: { "too-large": 1 } });
    }
    const pending = await store.create(copy);
    let result: ValidationResult;
    try {
      result = await validateCsv(store.readLanding(d), feed, (s) => pending.write(s), { maxErrors: options.maxErrors });
    } catch (err) {
      await pending.abort();
      throw err;
    }
    if (!result.valid) {
      await pending.abort();
      return quarantine(result);
    }
    await pending.commit();
    rows = result.rows;
  }
  const duplicates = await engine.duplicateKeys(feed, id);
  if (duplicates.length > 0) {
    const errors: CsvError[] = duplicates.map((k) => ({
      kind: "duplicate-key",
      line: k.lastLine,
      value: JSON.stringify(k.key),
      message: `key ${JSON.stringify(k.key)} appears ${k.count} times (first on line ${k.firstLine}); the key must be unique in a file`,
    }));
    const outcome = await quarantine({
      rows: rows ?? 0,
      complete: true,
      errors,
      counts: { "duplicate-key": duplicates.length },
    });
    await store.delete(copy);
    return outcome;
  }
  await engine.merge(feed, { fileId: id, sourceFile: `s3://${d.bucket}/${d.key}`, order });
  await store.deleteLanding(d);
  return { status: "loaded", fileId: id, rows };
}

/** Copies the file to quarantine, then writes its report (its presence means done), then removes it from landing. */
async function quarantineFile(
  feed: CsvFeed,
  d: Delivery,
  id: string,
  store: FeedStore,
  result: Pick<ValidationResult, "rows" | "complete" | "errors" | "counts">,
  options: ProcessOptions,
): Promise<Outcome> {
  const fileKey = quarantineFileKey(feed.name, id, d.key);
  await store.copyLanding(d, fileKey);
  const report: QuarantineReport = {
    feed: feed.name,
    file: { bucket: d.bucket, key: d.key, ...(d.versionId ? { versionId: d.versionId } : {}), size: d.size },
    fileId: id,
    quarantinedAt: (options.now?.() ?? new Date()).toISOString(),
    reason: result.errors[0]?.kind ?? "empty-file",
    rows: result.rows,
    complete: result.complete,
    counts: result.counts,
    errors: result.errors,
    quarantinedFile: fileKey,
  };
  await store.put(quarantineReportKey(feed.name, id), `${JSON.stringify(report, null, 2)}\n`);
  await store.deleteLanding(d);
  return { status: "quarantined", fileId: id, report };
}

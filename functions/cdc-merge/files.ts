/**
 * Which raw files a run applies, and in which batches. Shared by the local replay and mirrored by
 * glue_job.py (`order_files` / `batches`), so both cut the same batches from the same listing.
 */
import { FULL_LOAD_FILE } from "./spec";

/**
 * Files per batch. The merge is correct for any batching; the bound keeps one Spark MERGE (and one
 * Iceberg commit) to a size a G.1X job handles, and the local replay uses it too so that, by
 * default, it cuts the same batches as the cloud job.
 */
export const DEFAULT_MAX_FILES_PER_BATCH = 200;

/**
 * Full-load files (LOAD + hex counter) first, then CDC files, each group by path. DMS names CDC files
 * by timestamp (`20141029-1134010000.parquet`), so path order is delivery order; a digit sorts before
 * `L`, hence the explicit grouping. Order only shapes batches: the result does not depend on it.
 * https://docs.aws.amazon.com/dms/latest/userguide/CHAP_Target.S3.html
 */
export function orderFiles(paths: readonly string[]): string[] {
  const rank = (p: string): number => (FULL_LOAD_FILE.test(p) ? 0 : 1);
  // Byte order of the UTF-8 path, like S3's listing and Python's sort in glue_job.py.
  return [...paths].sort((a, b) => rank(a) - rank(b) || Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8")));
}

/** Cuts ordered files into consecutive batches of at most `maxFiles`. */
export function toBatches<T>(files: readonly T[], maxFiles: number = DEFAULT_MAX_FILES_PER_BATCH): T[][] {
  if (!Number.isInteger(maxFiles) || maxFiles < 1)
    throw new Error(`max files per batch must be a positive integer, got ${maxFiles}`);
  const out: T[][] = [];
  for (let i = 0; i < files.length; i += maxFiles) out.push(files.slice(i, i + maxFiles));
  return out;
}

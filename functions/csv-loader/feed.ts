/**
 * A CSV feed as the loader sees it: the declaration from stack config (`lakehouse:sources.csvFeeds[]`),
 * its object keys, its tables, and the types of its columns in each engine. The component and the
 * function import these, so the prefixes the role may touch are the prefixes the function writes.
 */
import { createHash } from "node:crypto";
import type { CsvColumn, CsvFeed } from "../../components/config/schema";

export type { CsvColumn, CsvFeed };

/** Where a feed's files arrive, in the landing bucket. */
export const landingPrefix = (feed: string): string => `csv/${feed}/`;
/** Where validated files are kept (raw bucket), one folder per file: `file_id=<id>/rows.json`. */
export const validatedPrefix = (feed: string): string => `csv/${feed}/validated/`;
/** Where rejected files and their reports go (raw bucket), one folder per file. */
export const quarantinePrefix = (feed: string): string => `csv/${feed}/quarantine/`;

/** The curated Iceberg table of a feed: `csv_<feed>` (Glue names are lower case, `_` for `-`). */
export const curatedTableName = (feed: string): string => `csv_${feed.replace(/-/g, "_")}`;
/** The raw-zone external table over the feed's validated files. */
export const stagingTableName = (feed: string): string => `${curatedTableName(feed)}_validated`;

/** The staging table's partition column (Athena partition projection, `injected`). */
export const FILE_ID_COLUMN = "file_id";
/** The staging column holding each row's line in the original file (duplicate-key reports name lines). */
export const LINE_COLUMN = "_line";
/** Lineage columns of the curated table: the landing key of the file a row came from, and its order. */
export const SOURCE_FILE_COLUMN = "_source_file";
export const SOURCE_ORDER_COLUMN = "_source_order";

/**
 * A delivered object, from the S3 "Object Created" event (S3 user guide, "EventBridge event message
 * structure": detail.object key, size, etag, version-id; the event's time).
 */
export interface Delivery {
  readonly bucket: string;
  readonly key: string;
  readonly size: number;
  /** The object's version (the landing bucket is versioned): read exactly these bytes, even after a delete. */
  readonly versionId?: string;
  readonly etag?: string;
  /** When S3 created the object (ISO 8601): the order of files that carry the same key. */
  readonly time: string;
}

/**
 * The identity of a delivered object: the same bucket, key and version always give the same id, so a
 * re-delivered event lands on the same validated and quarantine keys.
 */
export function fileId(d: Pick<Delivery, "bucket" | "key" | "versionId" | "etag">): string {
  return createHash("sha256")
    .update(`${d.bucket}\n${d.key}\n${d.versionId ?? ""}\n${d.etag ?? ""}`)
    .digest("hex")
    .slice(0, 32);
}

/**
 * The order of a file among the feed's files: its creation time, then its id. A row is replaced only by a
 * row from a later file, so re-applying an old file (a late re-delivery) changes nothing.
 */
export function sourceOrder(d: Delivery): string {
  const t = new Date(d.time);
  if (Number.isNaN(t.getTime())) throw new Error(`event time '${d.time}' is not a date`);
  return `${t.toISOString()}#${fileId(d)}`;
}

export const validatedKey = (feed: string, id: string): string =>
  `${validatedPrefix(feed)}${FILE_ID_COLUMN}=${id}/rows.json`;
export const quarantineReportKey = (feed: string, id: string): string => `${quarantinePrefix(feed)}${id}/report.json`;
export const quarantineFileKey = (feed: string, id: string, landingKey: string): string =>
  `${quarantinePrefix(feed)}${id}/${landingKey.split("/").pop() || "file.csv"}`;

/** A column's name in the tables (lower case: Glue and Iceberg in Glue are case-insensitive). */
export const columnName = (c: Pick<CsvColumn, "name">): string => c.name.toLowerCase();

/** The key columns, in key order. */
export function keyColumns(feed: CsvFeed): CsvColumn[] {
  return feed.key.map((k) => {
    const c = feed.columns.find((x) => columnName(x) === k.toLowerCase());
    if (!c) throw new Error(`key '${k}' of feed ${feed.name} is not a column`);
    return c;
  });
}

/** Columns that reach the curated table: all but `pii` ones (those stay in the raw zone). */
export const curatedColumns = (feed: CsvFeed): CsvColumn[] => feed.columns.filter((c) => !c.pii);

export const decimalPrecision = (c: CsvColumn): number => c.precision ?? 18;
export const decimalScale = (c: CsvColumn): number => c.scale ?? 2;

/** The column's Iceberg type (the Glue table's schema). */
export function icebergType(c: CsvColumn): string {
  switch (c.type) {
    case "bigint":
      return "long";
    case "decimal":
      return `decimal(${decimalPrecision(c)},${decimalScale(c)})`;
    default:
      return c.type;
  }
}

export type Dialect = "duckdb" | "athena";

/** The SQL type a staged string is cast to, per engine (Athena: Trino types; Iceberg timestamps are µs). */
export function sqlType(c: CsvColumn, dialect: Dialect): string {
  switch (c.type) {
    case "string":
      return dialect === "duckdb" ? "VARCHAR" : "varchar";
    case "int":
      return "INTEGER";
    case "bigint":
      return "BIGINT";
    case "decimal":
      return `DECIMAL(${decimalPrecision(c)},${decimalScale(c)})`;
    case "double":
      return "DOUBLE";
    case "boolean":
      return "BOOLEAN";
    case "date":
      return "DATE";
    case "timestamp":
      return dialect === "duckdb" ? "TIMESTAMP" : "TIMESTAMP(6)";
  }
}

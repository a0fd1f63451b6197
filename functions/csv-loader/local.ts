/**
 * The loader on one machine: a folder stands for the buckets (`<root>/landing/<key>`, `<root>/raw/<key>`)
 * and DuckDB for Athena, running the same pipeline and the same SQL (DuckDB 1.5 has MERGE INTO). The
 * tests drive this; only the I/O differs from the Lambda (handler.ts).
 */
import { createReadStream } from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import type { DuckDBConnection } from "@duckdb/node-api";
import {
  columnName,
  curatedColumns,
  curatedTableName,
  FILE_ID_COLUMN,
  LINE_COLUMN,
  SOURCE_FILE_COLUMN,
  SOURCE_ORDER_COLUMN,
  sqlType,
  stagingTableName,
  validatedKey,
  type CsvFeed,
  type Delivery,
} from "./feed";
import { duplicateKeysSql, ident, literal, mergeSql, type LoadTables } from "./load-sql";
import type { DuplicateKey, FeedStore, LoadEngine, PendingObject } from "./pipeline";

/** Read size: 1 MiB, what the S3 stream hands over at a time in the Lambda. */
const CHUNK = 1 << 20;

/** A folder standing for the landing and raw buckets. */
export class FolderStore implements FeedStore {
  constructor(readonly root: string) {}

  landingPath(key: string): string {
    return path.join(this.root, "landing", key);
  }
  rawPath(key: string): string {
    return path.join(this.root, "raw", key);
  }
  async exists(key: string): Promise<boolean> {
    return fs.access(this.rawPath(key)).then(
      () => true,
      () => false,
    );
  }
  readLanding(d: Delivery): AsyncIterable<Uint8Array> {
    return createReadStream(this.landingPath(d.key), { highWaterMark: CHUNK });
  }
  async create(key: string): Promise<PendingObject> {
    const final = this.rawPath(key);
    const temp = `${final}.partial`;
    await fs.mkdir(path.dirname(final), { recursive: true });
    const handle = await fs.open(temp, "w");
    return {
      write: async (s) => {
        await handle.write(s);
      },
      // Rename is atomic: the copy exists whole or not at all, like a completed multipart upload.
      commit: async () => {
        await handle.close();
        await fs.rename(temp, final);
      },
      abort: async () => {
        await handle.close();
        await fs.rm(temp, { force: true });
      },
    };
  }
  async put(key: string, body: string): Promise<void> {
    await fs.mkdir(path.dirname(this.rawPath(key)), { recursive: true });
    await fs.writeFile(this.rawPath(key), body);
  }
  async copyLanding(d: Delivery, key: string): Promise<void> {
    await fs.mkdir(path.dirname(this.rawPath(key)), { recursive: true });
    await fs.copyFile(this.landingPath(d.key), this.rawPath(key));
  }
  async deleteLanding(d: Delivery): Promise<void> {
    await fs.rm(this.landingPath(d.key), { force: true });
  }
  async delete(key: string): Promise<void> {
    await fs.rm(this.rawPath(key), { force: true });
  }
}

/** DuckDB standing for Athena: the curated table is a DuckDB table, the staging table a view over one file. */
export class DuckDbEngine implements LoadEngine {
  constructor(
    private readonly connection: DuckDBConnection,
    private readonly store: FolderStore,
  ) {}

  /** Creates the feed's curated table (as the component's IcebergTable does in the cloud). */
  async createTable(feed: CsvFeed): Promise<void> {
    const cols = curatedColumns(feed).map((c) => `${ident(columnName(c))} ${sqlType(c, "duckdb")}`);
    await this.connection.run(
      `CREATE TABLE IF NOT EXISTS ${ident(curatedTableName(feed.name))} (${[...cols, `${ident(SOURCE_FILE_COLUMN)} VARCHAR`, `${ident(SOURCE_ORDER_COLUMN)} VARCHAR`].join(", ")})`,
    );
  }

  /** The staging relation over one validated file, with its `file_id` as the partition column would give it. */
  private async stage(feed: CsvFeed, fileId: string): Promise<LoadTables> {
    const file = this.store.rawPath(validatedKey(feed.name, fileId));
    const columns = [
      ...feed.columns.map((c) => `${literal(columnName(c))}: 'VARCHAR'`),
      `${literal(LINE_COLUMN)}: 'BIGINT'`,
    ];
    const staging = ident(stagingTableName(feed.name));
    await this.connection.run(
      `CREATE OR REPLACE TEMP VIEW ${staging} AS SELECT *, ${literal(fileId)} AS ${ident(FILE_ID_COLUMN)} FROM read_json(${literal(file)}, format = 'newline_delimited', columns = {${columns.join(", ")}})`,
    );
    return { staging, curated: ident(curatedTableName(feed.name)) };
  }

  async duplicateKeys(feed: CsvFeed, fileId: string): Promise<DuplicateKey[]> {
    const tables = await this.stage(feed, fileId);
    const reader = await this.connection.runAndReadAll(duplicateKeysSql(feed, tables, fileId));
    return reader.getRowObjectsJS().map((r) => ({
      key: Object.fromEntries(feed.key.map((k) => [k.toLowerCase(), (r[k.toLowerCase()] as string | null) ?? null])),
      count: Number(r.n),
      firstLine: Number(r.first_line),
      lastLine: Number(r.last_line),
    }));
  }

  async merge(feed: CsvFeed, file: { fileId: string; sourceFile: string; order: string }): Promise<void> {
    await this.createTable(feed);
    const tables = await this.stage(feed, file.fileId);
    await this.connection.run(mergeSql(feed, tables, "duckdb", file));
  }
}

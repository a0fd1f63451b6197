/** The CSV loader on a temp folder and an in-memory DuckDB: deliver files, read the table, read reports. */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { curatedTableName, landingPrefix, type CsvFeed, type Delivery } from "../../../functions/csv-loader/feed";
import { DuckDbEngine, FolderStore } from "../../../functions/csv-loader/local";
import { processDelivery, type Outcome, type QuarantineReport } from "../../../functions/csv-loader/pipeline";
import { lakehouseSchema } from "../../../components/config/schema";

/** A feed as stack config declares it, defaults applied by the real schema (so tests see what the plan sees). */
export function feedOf(raw: Record<string, unknown>): CsvFeed {
  const parsed = lakehouseSchema.shape.sources.parse({ csvFeeds: [{ cell: "br", ...raw }] });
  return parsed.csvFeeds[0];
}

/** The example feed of the stack files. */
export const PRICES = feedOf({
  name: "supplier-prices",
  key: ["sku", "supplier_id", "valid_from"],
  columns: [
    { name: "sku", type: "string", nullable: false },
    { name: "supplier_id", type: "string", nullable: false },
    { name: "price", type: "decimal", precision: 18, scale: 4, nullable: false },
    { name: "currency", type: "string" },
    { name: "valid_from", type: "date", nullable: false },
    { name: "updated_at", type: "timestamp" },
  ],
});
export { PRICES_HEADER } from "./generated-prices";

export class Lake {
  readonly store: FolderStore;
  private constructor(
    readonly root: string,
    readonly connection: DuckDBConnection,
    private readonly instance: DuckDBInstance,
  ) {
    this.store = new FolderStore(root);
  }

  static async create(): Promise<Lake> {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "csv-loader-"));
    const instance = await DuckDBInstance.create(":memory:");
    return new Lake(root, await instance.connect(), instance);
  }

  /** Drops `body` under the feed's landing prefix, as an upload would; the delivery its event would carry. */
  put(feed: CsvFeed, name: string, body: string | Buffer, time = "2026-12-01T10:00:00Z"): Delivery {
    const key = `${landingPrefix(feed.name)}${name}`;
    const file = this.store.landingPath(key);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, body);
    const etag = createHash("md5").update(body).digest("hex");
    return { bucket: "landing", key, size: Buffer.byteLength(body), etag, time };
  }

  process(feed: CsvFeed, d: Delivery): Promise<Outcome> {
    return processDelivery(feed, d, this.store, new DuckDbEngine(this.connection, this.store), {
      now: () => new Date("2026-12-01T10:05:00Z"),
    });
  }

  /** Rows of the feed's table, ordered by the key columns, lineage columns left out unless asked. */
  async rows(feed: CsvFeed, lineage = false): Promise<Record<string, unknown>[]> {
    const exists = await this.connection.runAndReadAll(
      `SELECT count(*) AS n FROM information_schema.tables WHERE table_name = '${curatedTableName(feed.name)}'`,
    );
    if (Number(exists.getRowObjectsJS()[0].n) === 0) return [];
    const reader = await this.connection.runAndReadAll(
      `SELECT * ${lineage ? "" : "EXCLUDE (_source_file, _source_order)"} FROM "${curatedTableName(feed.name)}" ORDER BY ALL`,
    );
    return reader.getRowObjectsJson() as Record<string, unknown>[];
  }

  /** Files under a folder of the raw area (relative keys). */
  rawFiles(prefix: string): string[] {
    const dir = this.store.rawPath(prefix);
    if (!fs.existsSync(dir)) return [];
    return (fs.readdirSync(dir, { recursive: true }) as string[])
      .filter((f) => fs.statSync(path.join(dir, f)).isFile())
      .map((f) => `${prefix}${f}`)
      .sort();
  }

  report(key: string): QuarantineReport {
    return JSON.parse(fs.readFileSync(this.store.rawPath(key), "utf8")) as QuarantineReport;
  }

  landingExists(d: Delivery): boolean {
    return fs.existsSync(this.store.landingPath(d.key));
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

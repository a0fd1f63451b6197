/**
 * Test fixtures: a tiny model of a source database that records its change log the way DMS would
 * ship it (full-load files without Op, CDC files with Op + commit ts + change seq), and a writer
 * that produces those Parquet files with DuckDB.
 *
 * The model computes the expected final state on its own (a Map applied in true commit order) and
 * renders it to the JSON the replay must print, without using any of the code under test.
 */
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DMS_DEFAULTS } from "../../functions/cdc-merge";

export type Value = string | number | null;
export type Row = Readonly<Record<string, Value>>;
export type Op = "I" | "U" | "D";

export interface ColumnDef {
  readonly name: string;
  /** DuckDB type the Parquet column is written with. */
  readonly type: string;
  /** How the expected JSON renders a value of this column. */
  readonly render: (v: Value) => Value;
}

/** Timestamps are carried as { micros since epoch, offset minutes } encoded "micros@offset". */
export function tsValue(micros: bigint, offsetMinutes: number): string {
  return `${micros}@${offsetMinutes}`;
}

function isoUtcMicros(micros: bigint): string {
  const ms = micros / 1000n;
  const rest = ((micros % 1000n) + 1000n) % 1000n;
  const iso = new Date(Number(ms - (micros < 0n && rest !== 0n ? 1n : 0n))).toISOString(); // yyyy-mm-ddThh:mm:ss.mmmZ
  return `${iso.slice(0, 23)}${rest.toString().padStart(3, "0")}Z`;
}

/** A TIMESTAMPTZ literal in the given offset, i.e. the same instant written as a zoned wall clock. */
function tsLiteral(encoded: string): string {
  const [m, o] = encoded.split("@");
  const micros = BigInt(m ?? "0");
  const offset = Number(o ?? "0");
  const wall = isoUtcMicros(micros + BigInt(offset) * 60_000_000n)
    .slice(0, 26)
    .replace("T", " ");
  const sign = offset < 0 ? "-" : "+";
  const abs = Math.abs(offset);
  return `'${wall}${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}'`;
}

export const ORDERS_COLUMNS: readonly ColumnDef[] = [
  { name: "tenant", type: "VARCHAR", render: (v) => v },
  { name: "order_id", type: "INTEGER", render: (v) => v },
  { name: "customer_name", type: "VARCHAR", render: (v) => v },
  // Decimals travel as exact strings with the column's scale.
  { name: "amount", type: "DECIMAL(18,4)", render: (v) => v },
  {
    name: "updated_at",
    type: "TIMESTAMPTZ",
    render: (v) => (v === null ? null : isoUtcMicros(BigInt(String(v).split("@")[0] ?? "0"))),
  },
  { name: "note", type: "VARCHAR", render: (v) => v },
];
export const ORDERS_KEYS = ["tenant", "order_id"] as const;

function sqlLiteral(col: ColumnDef, v: Value): string {
  if (v === null) return `CAST(NULL AS ${col.type})`;
  if (col.type === "TIMESTAMPTZ") return `CAST(${tsLiteral(String(v))} AS TIMESTAMPTZ)`;
  if (typeof v === "number") return `CAST(${v} AS ${col.type})`;
  return `CAST('${v.split("'").join("''")}' AS ${col.type})`;
}

export interface ChangeRecord {
  readonly op: Op;
  readonly row: Row;
  /** DMS TimestampColumnName format: `yyyy-MM-dd HH:mm:ss.SSSSSS`, UTC. */
  readonly commitTs: string;
  /** AR_H_CHANGE_SEQ: 16 digits of time + 19-digit counter. */
  readonly changeSeq: string;
}

export interface LoadRecord {
  readonly row: Row;
  readonly transferTs: string;
}

/** The source database: true order is the order `commit` is called in. */
export class SourceModel {
  private readonly state = new Map<string, Row>();
  readonly fullLoad: LoadRecord[] = [];
  readonly log: ChangeRecord[] = [];
  private clockMicros = 1_717_200_000_000_000n; // 2024-06-01
  private counter = 0n;

  constructor(
    readonly columns: readonly ColumnDef[] = ORDERS_COLUMNS,
    readonly keys: readonly string[] = ORDERS_KEYS,
  ) {}

  keyOf(row: Row): string {
    return JSON.stringify(this.keys.map((k) => row[k] ?? null));
  }

  has(row: Row): boolean {
    return this.state.has(this.keyOf(row));
  }

  get(row: Row): Row | undefined {
    return this.state.get(this.keyOf(row));
  }

  liveRows(): Row[] {
    return [...this.state.values()];
  }

  /** Rows present before CDC starts, shipped as LOAD files. */
  seed(rows: readonly Row[]): void {
    for (const row of rows) {
      this.state.set(this.keyOf(row), row);
      this.fullLoad.push({ row, transferTs: this.formatTs(this.clockMicros) });
    }
    this.clockMicros += 1_000_000n;
  }

  /**
   * One source transaction: every change shares the commit timestamp and gets an increasing
   * change sequence. `sameTsAsPrevious` makes two commits collide on the timestamp, which the
   * change sequence must then order.
   */
  commit(changes: ReadonlyArray<{ op: Op; row: Row }>, options: { sameTsAsPrevious?: boolean } = {}): void {
    if (!options.sameTsAsPrevious) this.clockMicros += 1_000_123n;
    const commitTs = this.formatTs(this.clockMicros);
    for (const { op, row } of changes) {
      const key = this.keyOf(row);
      if (op === "I" && this.state.has(key)) throw new Error(`model: insert of existing key ${key}`);
      if (op !== "I" && !this.state.has(key)) throw new Error(`model: ${op} of missing key ${key}`);
      // DMS writes the full after-image for I/U and the before-image for D.
      const image = op === "D" ? (this.state.get(key) ?? row) : row;
      if (op === "D") this.state.delete(key);
      else this.state.set(key, row);
      this.counter += 1n;
      this.log.push({ op, row: image, commitTs, changeSeq: this.changeSeq() });
    }
  }

  /** The source's final state rendered as the replay's `--json` lines, sorted by key. */
  expectedJson(): Record<string, Value>[] {
    const rows = [...this.state.values()].map((r) =>
      Object.fromEntries(this.columns.map((c) => [c.name, c.render(r[c.name] ?? null)])),
    );
    return rows.sort((a, b) =>
      compareKeys(
        this.keys.map((k) => a[k] ?? null),
        this.keys.map((k) => b[k] ?? null),
      ),
    );
  }

  private changeSeq(): string {
    const t = this.formatTs(this.clockMicros)
      .replace(/[^0-9]/g, "")
      .slice(0, 16);
    return `${t}${this.counter.toString().padStart(19, "0")}`;
  }

  private formatTs(micros: bigint): string {
    return isoUtcMicros(micros).slice(0, 26).replace("T", " ");
  }
}

/** Same order as DuckDB's ORDER BY ... ASC NULLS FIRST for ASCII strings and numbers. */
function compareKeys(a: Value[], b: Value[]): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? null;
    const y = b[i] ?? null;
    if (x === y) continue;
    if (x === null) return -1;
    if (y === null) return 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

export interface WriteOptions {
  readonly opColumn?: string;
  readonly timestampColumn?: string;
  readonly changeSeqColumn?: string;
  /** Write the commit timestamp as TIMESTAMPTZ (with a non-UTC offset) instead of DMS's string. */
  readonly commitTsAsTimestamptz?: boolean;
}

/** Writes DMS-shaped Parquet with DuckDB. */
export class DmsWriter {
  private constructor(
    /** The instance the writer created and closes; undefined when the caller lent one. */
    private readonly ownInstance: DuckDBInstance | undefined,
    private readonly connection: DuckDBConnection,
    readonly dir: string,
    readonly columns: readonly ColumnDef[],
  ) {}

  /** `instance`: write through a connection of the caller's instance (which the writer leaves open). */
  static async create(
    columns: readonly ColumnDef[] = ORDERS_COLUMNS,
    dir?: string,
    instance?: DuckDBInstance,
  ): Promise<DmsWriter> {
    const db = instance ?? (await DuckDBInstance.create(":memory:"));
    const own = db === instance ? undefined : db;
    return new DmsWriter(own, await db.connect(), dir ?? fs.mkdtempSync(path.join(os.tmpdir(), "cdc-test-")), columns);
  }

  /** A full-load file: table columns (+ the transfer-time ts column DMS adds when configured), no Op. */
  async writeLoad(
    relPath: string,
    records: readonly LoadRecord[],
    options: WriteOptions & { withTimestamp?: boolean } = {},
  ): Promise<string> {
    const tsCol = options.timestampColumn ?? DMS_DEFAULTS.timestampColumn;
    const cols = this.columns.map((c) => `"${c.name}"`);
    const rows = records.map((r) => {
      const values = this.columns.map((c) => sqlLiteral(c, r.row[c.name] ?? null));
      if (options.withTimestamp) values.push(`'${r.transferTs}'`);
      return values;
    });
    if (options.withTimestamp) cols.push(`"${tsCol}"`);
    return this.write(relPath, cols, rows);
  }

  /** A CDC file: Op first, then the ts column, table columns, and the change-seq column last. */
  async writeCdc(relPath: string, records: readonly ChangeRecord[], options: WriteOptions = {}): Promise<string> {
    const opCol = options.opColumn ?? DMS_DEFAULTS.opColumn;
    const tsCol = options.timestampColumn ?? DMS_DEFAULTS.timestampColumn;
    const seqCol = options.changeSeqColumn ?? DMS_DEFAULTS.changeSeqColumn;
    const cols = [`"${opCol}"`, `"${tsCol}"`, ...this.columns.map((c) => `"${c.name}"`), `"${seqCol}"`];
    const rows = records.map((r) => [
      `'${r.op}'`,
      options.commitTsAsTimestamptz
        ? `CAST(${tsLiteral(tsFromDms(r.commitTs, -180))} AS TIMESTAMPTZ)`
        : `'${r.commitTs}'`,
      ...this.columns.map((c) => sqlLiteral(c, r.row[c.name] ?? null)),
      `'${r.changeSeq}'`,
    ]);
    return this.write(relPath, cols, rows);
  }

  /** Arbitrary rows (for malformed-input tests). */
  async writeRaw(relPath: string, select: string): Promise<string> {
    const file = this.resolve(relPath);
    await this.connection.run(`COPY (${select}) TO '${file}' (FORMAT parquet)`);
    return file;
  }

  close(): void {
    this.connection.closeSync();
    this.ownInstance?.closeSync();
  }

  private resolve(relPath: string): string {
    const file = path.join(this.dir, relPath);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    return file;
  }

  private async write(relPath: string, cols: string[], rows: string[][]): Promise<string> {
    const file = this.resolve(relPath);
    const select =
      rows.length === 0
        ? `SELECT * FROM (SELECT ${cols.map((c, i) => `NULL AS ${c}_${i}`).join(", ")}) WHERE false`
        : `SELECT * FROM (VALUES ${rows.map((r) => `(${r.join(", ")})`).join(", ")}) AS v(${cols.join(", ")})`;
    await this.connection.run(`COPY (${select}) TO '${file.split("'").join("''")}' (FORMAT parquet)`);
    return file;
  }
}

function tsFromDms(dms: string, offsetMinutes: number): string {
  const ms = Date.parse(`${dms.slice(0, 23).replace(" ", "T")}Z`);
  const micros = BigInt(ms) * 1000n + BigInt(dms.slice(23, 26));
  return tsValue(micros, offsetMinutes);
}

export const UNICODE_NAMES = ["Zoë Ñúñez", "日本語の名前", "Ωμέγα", "🙂 emoji", "O'Brien", "", "Łódź"];

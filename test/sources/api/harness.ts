/** The puller's real code wired to the loopback API, an in-memory cursor and a folder of landed objects. */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { gunzipSync } from "node:zlib";
import {
  PULLER_DEFAULTS,
  type Pagination,
  type PaginationStyle,
  type PullerConfig,
} from "../../../functions/api-puller/config";
import { MemoryCursorStore, type CursorStore } from "../../../functions/api-puller/cursor-store";
import { LocalDirSink } from "../../../functions/api-puller/local-sink";
import { runPull, type LandedLine, type ObjectSink, type RunResult } from "../../../functions/api-puller/puller";
import { FakeApi, TOKEN, VirtualClock } from "./fake-api";

export const SOURCE = "payments-br";
export const PREFIX = `api/${SOURCE}/`;

export function paginationFor(style: PaginationStyle): Pagination {
  if (style === "cursor") return { style, tokenParam: "cursor", nextTokenPointer: "/next_cursor" };
  if (style === "next-link") return { style, nextLinkPointer: "/links/next" };
  if (style === "since") return { style };
  return { style, pageParam: "page", firstPage: 1 };
}

export function pullerConfig(url: string, style: PaginationStyle, overrides: Partial<PullerConfig> = {}): PullerConfig {
  return {
    source: SOURCE,
    url,
    sinceParam: "since",
    cursorPointer: "/updated_at",
    cursorType: "timestamp",
    idPointer: "/id",
    recordsPointer: "/data",
    pagination: paginationFor(style),
    pageSize: 20,
    pageSizeParam: "limit",
    requestsPerSecond: PULLER_DEFAULTS.requestsPerSecond,
    maxPagesPerRun: 1000,
    maxAttempts: PULLER_DEFAULTS.maxAttempts,
    baseDelayMs: PULLER_DEFAULTS.baseDelayMs,
    maxDelayMs: PULLER_DEFAULTS.maxDelayMs,
    requestTimeoutMs: 10_000,
    landing: { bucket: "landing", prefix: PREFIX },
    cursorTable: "cursors",
    ...overrides,
  };
}

/** One API, one cursor store, one landing folder; `run` is one Lambda invocation. */
export class Harness {
  readonly clock = new VirtualClock();
  readonly api: FakeApi;
  readonly store = new MemoryCursorStore();
  readonly folder = mkdtempSync(path.join(tmpdir(), "api-puller-"));
  readonly sink = new LocalDirSink(this.folder);
  config!: PullerConfig;
  private runs = 0;

  constructor(readonly style: PaginationStyle = "cursor") {
    this.api = new FakeApi(style, this.clock);
  }

  async start(overrides: Partial<PullerConfig> = {}): Promise<this> {
    this.config = pullerConfig(await this.api.start(), this.style, overrides);
    return this;
  }

  async stop(): Promise<void> {
    await this.api.close();
    rmSync(this.folder, { recursive: true, force: true });
  }

  run(
    opts: {
      sink?: ObjectSink;
      store?: CursorStore;
      owner?: string;
      config?: Partial<PullerConfig>;
      deadline?: () => number;
    } = {},
  ): Promise<RunResult> {
    return runPull({
      config: { ...this.config, ...opts.config },
      store: opts.store ?? this.store,
      sink: opts.sink ?? this.sink,
      clock: this.clock,
      headers: { Authorization: `Bearer ${TOKEN}` },
      owner: opts.owner ?? `run-${++this.runs}`,
      leaseMs: 15 * 60_000,
      deadline: opts.deadline,
    });
  }

  /** Every landed object's key (relative, `/`-separated). */
  objects(): string[] {
    const out: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const full = path.join(dir, name);
        if (statSync(full).isDirectory()) walk(full);
        else if (name.endsWith(".ndjson.gz")) out.push(path.relative(this.folder, full).split(path.sep).join("/"));
      }
    };
    walk(this.folder);
    return out.sort();
  }

  /** Every landed line of every object. */
  lines(): LandedLine[] {
    return this.objects().flatMap((key) =>
      gunzipSync(readFileSync(path.join(this.folder, key)))
        .toString("utf8")
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l) as LandedLine),
    );
  }
}

/** How often each (id, cursor) version landed. */
export function landedCounts(lines: readonly LandedLine[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const l of lines) counts.set(`${l.id}@${l.cursor}`, (counts.get(`${l.id}@${l.cursor}`) ?? 0) + 1);
  return counts;
}

/** A sink that fails on its `n`-th put (1-based): `after` the object is written, or `before`. */
export function crashingSink(inner: ObjectSink, n: number, when: "before" | "after"): ObjectSink {
  let puts = 0;
  return {
    async put(key, body) {
      puts++;
      if (puts === n && when === "before") throw new Error(`crash before put ${n}`);
      await inner.put(key, body);
      if (puts === n && when === "after") throw new Error(`crash after put ${n}`);
    },
  };
}

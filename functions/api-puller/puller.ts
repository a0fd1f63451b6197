/**
 * One run of an API puller: continue (or start) a pass over the records changed since the watermark, page
 * by page, and land each page as one gzip NDJSON object before the cursor moves past it.
 *
 * No record lost, none landed twice:
 * - The cursor advances only after the page's object is written (S3 PutObject returned: durable). A crash
 *   between the two re-fetches that page on the next run and writes it under the same key, because the key
 *   is a hash of (source, the pass's watermark, the page reference): the object is overwritten, not added.
 * - The pass's watermark and landing day are stored when the pass starts, so a restart computes the same keys.
 * - The API's `since` is inclusive (records updated in the same instant as the watermark are not lost);
 *   the ids already landed at the watermark are kept with the cursor and skipped, and records before the
 *   watermark (an API that ignores or rounds `since`) have landed already and are skipped too.
 * - Every cursor write is conditional on the version read and a run holds a lease, so overlapping runs
 *   cannot both advance it (cursor-store.ts).
 */
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import type { PageRef, Pass, CursorState, CursorStore } from "./cursor-store";
import { CursorConflictError } from "./cursor-store";
import type { CursorType, PullerConfig } from "./config";
import { PoliteClient, redact, type Clock, type Response } from "./http";
import { resolvePointer } from "./pointer";

/** Where landed pages go: S3 in the cloud, a folder in tests. `put` resolves once the object is durable. */
export interface ObjectSink {
  put(key: string, body: Buffer): Promise<void>;
}

/** One landed line: the id and cursor the puller read (as strings), and the record as the API sent it. */
export interface LandedLine {
  readonly id: string;
  readonly cursor: string;
  readonly record: string;
}

export interface RunDeps {
  readonly config: PullerConfig;
  readonly store: CursorStore;
  readonly sink: ObjectSink;
  readonly clock: Clock;
  /** Request headers with the credential (already read from Secrets Manager). */
  readonly headers: Readonly<Record<string, string>>;
  /** This run's id (the Lambda request id): the lease's owner. */
  readonly owner: string;
  /** How long the lease lasts from each cursor write, ms (the function's timeout plus a margin). */
  readonly leaseMs: number;
  /** When the run must stop (epoch ms). @default never */
  readonly deadline?: () => number;
  /** Structured log lines. @default none */
  readonly log?: (line: Readonly<Record<string, unknown>>) => void;
}

export interface RunResult {
  /** `held`: another run holds the lease, nothing done. */
  readonly outcome: "caught-up" | "more-pages" | "held";
  readonly pages: number;
  readonly records: number;
  readonly skipped: number;
  readonly objects: readonly string[];
  readonly watermark: string | null;
  readonly waits: { readonly rateLimited: number; readonly transient: number };
}

/** Runs one pull; throws (the Lambda fails, its alarm fires) when a request gives up or the data is not as configured. */
export async function runPull(deps: RunDeps): Promise<RunResult> {
  const { config, store, clock, owner } = deps;
  const log = deps.log ?? (() => undefined);
  const client = new PoliteClient(config, clock, deps.deadline);
  let { state, version } = await store.load(config.source);
  const result = { pages: 0, records: 0, skipped: 0, objects: [] as string[] };
  const done = (outcome: RunResult["outcome"]): RunResult => ({
    outcome,
    ...result,
    watermark: state.watermark,
    waits: { ...client.waits },
  });

  if (state.lease && state.lease.owner !== owner && state.lease.until > clock.now()) {
    log({
      msg: "cursor held by another run",
      owner: state.lease.owner,
      until: new Date(state.lease.until).toISOString(),
    });
    return done("held");
  }
  const lease = () => ({ owner, until: clock.now() + deps.leaseMs });
  // The claim: the pass (and its landing day) is stored before its first page is fetched.
  state = { ...state, pass: state.pass ?? newPass(state, clock.now()), lease: lease() };
  version = await store.save(config.source, state, version);

  try {
    const deadline = deps.deadline ?? (() => Number.POSITIVE_INFINITY);
    // Stop between pages at the page budget or the deadline: the cursor is written, the next run continues.
    while (result.pages < config.maxPagesPerRun && clock.now() < deadline()) {
      const pass = state.pass!;
      const url = pageUrl(config, pass);
      const res = await client.getJson(url, deps.headers);
      const records = recordsOf(config, res, url);
      const { lines, skipped, maxSeen, idsAtMax } = landable(config, pass, records);
      const key = objectKey(config, pass);
      if (lines.length > 0) {
        await deps.sink.put(key, gzipSync(lines.map((l) => JSON.stringify(l)).join("\n") + "\n"));
        result.objects.push(key);
      }
      result.pages++;
      result.records += lines.length;
      result.skipped += skipped;
      log({ msg: "page landed", page: pass.pages, key, records: lines.length, skipped, url: redact(url) });

      if (config.pagination.style === "since" && records.length >= config.pageSize) {
        // A full page that lands nothing cannot move `since`: more records share one cursor value than a page
        // holds (or the API ignores `since`). Asking again would return the same page for ever.
        if (lines.length === 0)
          throw new Error(
            `${config.source}: a full page at since=${pass.since ?? "(start)"} has nothing new: more than ${config.pageSize} ` +
              `records share that cursor value, or the API ignores '${config.sinceParam}'; raise pageSize`,
          );
        // Keyset: this page's greatest cursor is the next page's `since`, as a new pass stored before it runs.
        const moved = { ...state, watermark: maxSeen, idsAtWatermark: idsAtMax };
        state = { ...moved, pass: newPass(moved, clock.now()), lease: lease() };
        version = await store.save(config.source, state, version);
        continue;
      }
      const next = nextPage(config, pass.next, res, records.length);
      if (next) {
        state = { ...state, pass: { ...pass, next, pages: pass.pages + 1, maxSeen, idsAtMax }, lease: lease() };
        version = await store.save(config.source, state, version);
        continue;
      }
      state = {
        watermark: maxSeen,
        idsAtWatermark: idsAtMax,
        pass: null,
        lease: null,
        lastCompletedAt: new Date(clock.now()).toISOString(),
      };
      version = await store.save(config.source, state, version);
      return done("caught-up");
    }
    // The page budget or the time is spent: the pass stays stored and the next run continues it.
    state = { ...state, lease: null };
    version = await store.save(config.source, state, version);
    return done("more-pages");
  } catch (e) {
    // Let the next run start at once instead of waiting for the lease; the pass (what was acknowledged) stays.
    if (!(e instanceof CursorConflictError))
      await store.save(config.source, { ...state, lease: null }, version).catch(() => undefined);
    throw e;
  }
}

function newPass(state: CursorState, now: number): Pass {
  return {
    since: state.watermark,
    skipIds: state.idsAtWatermark,
    next: { kind: "first" },
    day: new Date(now).toISOString().slice(0, 10),
    pages: 0,
    maxSeen: state.watermark,
    idsAtMax: state.idsAtWatermark,
  };
}

/** `api/<source>/dt=<pass day>/<sha256(source, since, page)[:32]>.ndjson.gz`: the same page, the same key. */
export function objectKey(config: PullerConfig, pass: Pass): string {
  const hash = createHash("sha256")
    .update(JSON.stringify([config.source, pass.since, pass.next]))
    .digest("hex")
    .slice(0, 32);
  return `${config.landing.prefix}dt=${pass.day}/${hash}.ndjson.gz`;
}

/** The request for the pass's next page: a next-link as given, else the collection URL with its parameters. */
export function pageUrl(config: PullerConfig, pass: Pass): string {
  if (pass.next.kind === "url") return pass.next.url;
  const url = new URL(config.url);
  url.searchParams.set(config.pageSizeParam, String(config.pageSize));
  if (pass.since !== null) url.searchParams.set(config.sinceParam, pass.since);
  if (pass.next.kind === "token" && config.pagination.style === "cursor")
    url.searchParams.set(config.pagination.tokenParam, pass.next.token);
  if (config.pagination.style === "page")
    url.searchParams.set(
      config.pagination.pageParam,
      String(pass.next.kind === "page" ? pass.next.page : config.pagination.firstPage),
    );
  return url.toString();
}

function recordsOf(config: PullerConfig, res: Response, url: string): unknown[] {
  const records = resolvePointer(res.body, config.recordsPointer);
  if (!Array.isArray(records))
    throw new Error(`GET ${redact(url)}: no records array at '${config.recordsPointer}' in the response body`);
  return records;
}

/** The page after `current`, or undefined when `current` was the last. */
export function nextPage(config: PullerConfig, current: PageRef, res: Response, received: number): PageRef | undefined {
  const p = config.pagination;
  switch (p.style) {
    case "cursor": {
      const token = resolvePointer(res.body, p.nextTokenPointer);
      return typeof token === "string" && token !== "" ? { kind: "token", token } : undefined;
    }
    case "next-link": {
      const link = p.nextLinkPointer ? resolvePointer(res.body, p.nextLinkPointer) : linkNext(res.headers.get("link"));
      if (typeof link !== "string" || link === "") return undefined;
      // Relative links resolve against the collection URL; a link to another origin is refused (the
      // credential header would follow it).
      const next = new URL(link, config.url);
      if (next.origin !== new URL(config.url).origin)
        throw new Error(`next link ${redact(next.toString())} leaves the API's origin ${new URL(config.url).origin}`);
      return { kind: "url", url: next.toString() };
    }
    case "page": {
      const page = current.kind === "page" ? current.page : p.firstPage;
      return received >= config.pageSize ? { kind: "page", page: page + 1 } : undefined;
    }
    case "since":
      // Keyset pages are passes of their own (runPull): after a short page there is nothing more.
      return undefined;
  }
}

/** The `rel="next"` target of a Link header (RFC 8288). */
export function linkNext(header: string | null): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(",")) {
    const m = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (m && /;\s*rel="?([^";]*\s)?next(\s[^";]*)?"?/i.test(m[2])) return m[1];
  }
  return undefined;
}

/** Orders cursor values of one type: negative, zero, positive. */
export function compareCursor(type: CursorType, a: string, b: string): number {
  if (type === "timestamp") return Date.parse(a) - Date.parse(b);
  if (type === "number") return Number(a) - Number(b);
  return a < b ? -1 : a > b ? 1 : 0;
}

const scalarText = (v: unknown): string | undefined =>
  typeof v === "string" && v !== "" ? v : typeof v === "number" && Number.isFinite(v) ? String(v) : undefined;

/** A page's records as lines to land, the ones already landed left out, and the pass's new maximum. */
function landable(
  config: PullerConfig,
  pass: Pass,
  records: readonly unknown[],
): { lines: LandedLine[]; skipped: number; maxSeen: string | null; idsAtMax: string[] } {
  const skip = new Set(pass.skipIds);
  let maxSeen = pass.maxSeen;
  let idsAtMax = new Set(pass.idsAtMax);
  const lines: LandedLine[] = [];
  let skipped = 0;
  records.forEach((record, i) => {
    const id = scalarText(resolvePointer(record, config.idPointer));
    const cursor = scalarText(resolvePointer(record, config.cursorPointer));
    if (id === undefined || cursor === undefined)
      throw new Error(
        `record ${i} of a page of ${config.source} has no ${id === undefined ? `id at '${config.idPointer}'` : `cursor at '${config.cursorPointer}'`} ` +
          `(string or number): nothing of the page landed, the cursor did not move`,
      );
    if (
      config.cursorType !== "string" &&
      Number.isNaN(config.cursorType === "number" ? Number(cursor) : Date.parse(cursor))
    )
      throw new Error(`record ${i} of a page of ${config.source}: cursor '${cursor}' is not a ${config.cursorType}`);
    if (pass.since !== null) {
      const order = compareCursor(config.cursorType, cursor, pass.since);
      if (order < 0 || (order === 0 && skip.has(id))) {
        skipped++;
        return;
      }
    }
    lines.push({ id, cursor, record: JSON.stringify(record) });
    const order = maxSeen === null ? 1 : compareCursor(config.cursorType, cursor, maxSeen);
    if (order > 0) {
      maxSeen = cursor;
      idsAtMax = new Set([id]);
    } else if (order === 0) idsAtMax.add(id);
  });
  return { lines, skipped, maxSeen, idsAtMax: [...idsAtMax] };
}

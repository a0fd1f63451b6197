/**
 * Suppression of erased subjects (issue 14, item 4): after an erasure request, the GCP subject-rights
 * worker adds the subject's pseudonyms to one GCS object (`gs://<suppression bucket>/suppression/pseudonyms.txt`,
 * functions/subject-rights/suppression.ts writes it), and the collector drops every later event whose
 * `userId`, `anonymousId` or `previousId` pseudonym is listed. A tracker that still holds the subject's
 * ids (a browser's analytics.js cookie, a server SDK's retry queue) would otherwise re-create, minutes after
 * the erasure, the rows the worker just deleted.
 *
 * The object's format is defined here, once, and the worker imports it: the collector's archive holds only
 * this folder (components/gcp/clickstream/collector-archive.ts), so the dependency can only point this way.
 *
 * The hot path is one `Set.has` per identifier, and nothing at all while the list is empty. The list is
 * read at start (the collector listens only once it has it) and then refreshed in the background:
 * a request never waits for GCS.
 */

/** A pseudonym: HMAC-SHA256 under the cell key, lower-case hex (privacy.ts `Pseudonymiser.hash`). */
const PSEUDONYM = /^[0-9a-f]{64}$/;

/** Raised for an object that is not a suppression list; the previous list stays in force. */
export class SuppressionFormatError extends Error {}

/**
 * The pseudonyms of a suppression object: one lower-case hex HMAC per line, blank lines ignored.
 * Anything else is an error naming the line, never a silently shorter list.
 */
export function parseSuppressionList(text: string): string[] {
  const out: string[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "") continue;
    if (!PSEUDONYM.test(line)) {
      throw new SuppressionFormatError(
        `line ${i + 1}: not a pseudonym (64 lower-case hex digits): ${JSON.stringify(line.slice(0, 80))}`,
      );
    }
    out.push(line);
  }
  return out;
}

/** The object's text: sorted, unique, one per line, a final newline (empty list: empty text). */
export function formatSuppressionList(pseudonyms: Iterable<string>): string {
  const sorted = [...new Set(pseudonyms)].sort();
  for (const p of sorted) {
    if (!PSEUDONYM.test(p)) throw new SuppressionFormatError(`not a pseudonym: ${JSON.stringify(p.slice(0, 80))}`);
  }
  return sorted.length === 0 ? "" : `${sorted.join("\n")}\n`;
}

/** `gs://bucket/object` split; undefined when the text is not such a URI. */
export function parseGcsUri(uri: string): { bucket: string; object: string } | undefined {
  const m = /^gs:\/\/([a-z0-9][a-z0-9._-]{1,221}[a-z0-9])\/(.+)$/.exec(uri);
  return m === null ? undefined : { bucket: m[1], object: m[2] };
}

/**
 * The pseudonyms in force, shared by the request path (`has`) and the loader (`replace`). The event-loop
 * thread owns the authoritative copy; the transform worker keeps its own, replaced by a message
 * (worker-pool.ts), so both threads decide alike.
 */
export class SuppressionList {
  private set: ReadonlySet<string> = new Set<string>();
  private readonly listeners: ((pseudonyms: readonly string[]) => void)[] = [];
  /** Events dropped because a subject was suppressed, since start (logged at each refresh). */
  dropped = 0;

  constructor(initial: Iterable<string> = []) {
    this.set = new Set(initial);
  }

  get size(): number {
    return this.set.size;
  }

  has(pseudonym: string): boolean {
    return this.set.has(pseudonym);
  }

  /** Puts a new list in force (a new Set, swapped in one assignment) and tells the listeners. */
  replace(pseudonyms: readonly string[]): void {
    this.set = new Set(pseudonyms);
    for (const l of this.listeners) l(pseudonyms);
  }

  /** Called with every later list (the transform worker forwards it to its thread). */
  onReplace(listener: (pseudonyms: readonly string[]) => void): void {
    this.listeners.push(listener);
  }

  /** The current list (to seed a worker thread). */
  list(): string[] {
    return [...this.set];
  }
}

/** One read of the suppression object. */
export type SuppressionFetch =
  | { readonly kind: "missing" }
  | { readonly kind: "unchanged" }
  | { readonly kind: "found"; readonly generation: string; readonly text: string };

/** Reads the object unless its generation is still `knownGeneration` (the GCS implementation is in gcs-suppression.ts). */
export type SuppressionSource = (knownGeneration: string | undefined) => Promise<SuppressionFetch>;

export interface SuppressionLoaderOptions {
  /** Time between background refreshes. @default 60_000 */
  readonly refreshMs?: number;
  /** Where problems and changes are logged. */
  readonly log: (severity: "INFO" | "WARNING" | "ERROR", message: string, err?: unknown) => void;
}

/**
 * Keeps a SuppressionList in step with the object. `start()` must succeed once (the collector does not
 * serve without the list: an erased subject's events would be published in the meantime); later failures
 * keep the last list in force and are logged, so a GCS hiccup neither stops collection nor un-suppresses.
 */
export class SuppressionLoader {
  private generation: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private loggedDropped = 0;

  constructor(
    readonly list: SuppressionList,
    private readonly source: SuppressionSource,
    private readonly options: SuppressionLoaderOptions,
  ) {}

  /** The first read (throws if it fails), then a refresh every `refreshMs`. */
  async start(): Promise<void> {
    await this.refresh();
    const every = this.options.refreshMs ?? 60_000;
    this.timer = setInterval(() => {
      // One refresh at a time: a slow read is not overlapped by the next tick.
      this.running ??= this.refresh()
        .catch((err: unknown) =>
          this.options.log("ERROR", "suppression list refresh failed, keeping the last one", err),
        )
        .finally(() => (this.running = undefined));
    }, every);
    // The HTTP server keeps the process alive, not this timer.
    this.timer.unref();
  }

  /** Reads the object once and puts it in force if it changed. */
  async refresh(): Promise<void> {
    const got = await this.source(this.generation);
    if (got.kind === "found") {
      const pseudonyms = parseSuppressionList(got.text);
      this.generation = got.generation;
      this.list.replace(pseudonyms);
      this.options.log("INFO", `suppression list generation ${got.generation}: ${pseudonyms.length} pseudonyms`);
    } else if (got.kind === "missing" && this.generation !== undefined) {
      // Deleted by hand: nothing is suppressed any more; said loudly.
      this.generation = undefined;
      this.list.replace([]);
      this.options.log("WARNING", "suppression object is gone: no subject is suppressed");
    }
    if (this.list.dropped !== this.loggedDropped) {
      this.loggedDropped = this.list.dropped;
      this.options.log("INFO", `suppressed events since start: ${this.list.dropped}`);
    }
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}

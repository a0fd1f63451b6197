/**
 * The persisted cursor of one API: where the last complete pass ended (the watermark) and, while a pass is
 * under way, which page comes next. Every write is conditional on the version read, so two overlapping
 * runs can never both move it, nor move it backwards: the second writer gets `CursorConflictError` and
 * stops. A lease (owner and expiry) keeps a second run from even starting while one holds the cursor.
 */

/** Which page a pass fetches next: the first, a token, a URL or a page number. */
export type PageRef =
  | { readonly kind: "first" }
  | { readonly kind: "token"; readonly token: string }
  | { readonly kind: "url"; readonly url: string }
  | { readonly kind: "page"; readonly page: number };

/** A pass over the records changed since `since`, page by page. */
export interface Pass {
  /** The watermark the pass asks from (null: from the beginning). */
  readonly since: string | null;
  /** Ids at `since` that already landed (the API's `since` is inclusive): skipped, never landed twice. */
  readonly skipIds: readonly string[];
  /** The next page to fetch. */
  readonly next: PageRef;
  /** UTC day the pass started (`YYYY-MM-DD`): the landing partition of all its pages. */
  readonly day: string;
  /** Pages acknowledged so far. */
  readonly pages: number;
  /** The greatest cursor value landed by the pass so far, and the ids carrying it. */
  readonly maxSeen: string | null;
  readonly idsAtMax: readonly string[];
}

export interface CursorState {
  /** Every record with a cursor before this has landed (null: nothing yet). */
  readonly watermark: string | null;
  /** Ids whose cursor equals the watermark, all landed. */
  readonly idsAtWatermark: readonly string[];
  /** The pass under way, or null between passes. */
  readonly pass: Pass | null;
  /** Who holds the cursor, and until when (epoch ms): a run that finds a live lease of another stops. */
  readonly lease: { readonly owner: string; readonly until: number } | null;
  /** When the last pass completed (ISO-8601). */
  readonly lastCompletedAt: string | null;
}

export interface Versioned {
  readonly state: CursorState;
  /** 0 when nothing was ever stored. */
  readonly version: number;
}

/** Another run wrote the cursor since this one read it: this run stops without writing. */
export class CursorConflictError extends Error {
  constructor(source: string, expected: number) {
    super(`cursor of ${source} moved since version ${expected} was read (another run holds it); stopping`);
    this.name = "CursorConflictError";
  }
}

export const EMPTY_STATE: CursorState = {
  watermark: null,
  idsAtWatermark: [],
  pass: null,
  lease: null,
  lastCompletedAt: null,
};

export interface CursorStore {
  /** The stored state and its version (version 0 and `EMPTY_STATE` when none). */
  load(source: string): Promise<Versioned>;
  /**
   * Stores `state` as version `expected + 1` if the stored version is still `expected`, else throws
   * `CursorConflictError`. Returns the new version.
   */
  save(source: string, state: CursorState, expected: number): Promise<number>;
}

/** The cursor in memory, with the same conditional semantics: tests and local runs. */
export class MemoryCursorStore implements CursorStore {
  private readonly items = new Map<string, Versioned>();
  /** Every state written, in order (what a test inspects). */
  readonly history: Versioned[] = [];

  async load(source: string): Promise<Versioned> {
    return this.items.get(source) ?? { state: EMPTY_STATE, version: 0 };
  }

  async save(source: string, state: CursorState, expected: number): Promise<number> {
    const current = this.items.get(source)?.version ?? 0;
    if (current !== expected) throw new CursorConflictError(source, expected);
    // A deep copy: the stored state is what a serialising store would hold, not the caller's object.
    const stored = { state: JSON.parse(JSON.stringify(state)) as CursorState, version: expected + 1 };
    this.items.set(source, stored);
    this.history.push(stored);
    return stored.version;
  }
}

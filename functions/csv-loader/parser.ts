/**
 * A streaming RFC 4180 record parser over UTF-8 bytes: fields separated by a delimiter, records ended by
 * LF or CRLF, fields optionally enclosed in double quotes, a quote inside a quoted field written twice. It
 * holds at most one unfinished record between chunks, so memory does not grow with the file.
 *
 * It reads bytes, not decoded text: a record is handed over as field boundaries in the chunk
 * (`ParsedRecord`), the validator checks types on those bytes and the NDJSON writer copies them, so a
 * valid row never becomes a string. Decoding every chunk and slicing a string per field cost half of the
 * validation's time (README, "Streaming"). The structural bytes (quote, CR, LF) and an ASCII delimiter
 * never occur inside a multi-byte UTF-8 sequence, and a non-ASCII delimiter is matched as its whole
 * sequence, so a byte scan finds exactly the characters a text scan finds.
 *
 * Why not csv-parse: on this project's machine csv-parse 7.0.3 parsed 17.5 MB/s (README, "Why a parser of
 * our own"); a gigabyte would take a minute of Lambda CPU before any check.
 * test/sources/csv/parser.test.ts compares it with csv-parse on random inputs, quotes, delimiters (one
 * to three bytes) and chunk cuts (inside characters too).
 */

/** Why the parser could not read a record (the validator reports it with the line). */
export type ParseProblem =
  | "quote-in-unquoted-field"
  | "text-after-closing-quote"
  | "unterminated-quote"
  | "missing-final-newline"
  | "record-too-long";

/**
 * The longest record accepted, in bytes. An unterminated quote would otherwise make the rest of the file
 * one record held in memory; past this the parser stops.
 */
export const MAX_RECORD_BYTES = 1 << 20;

/** Field flags in `ParsedRecord.flags`. */
export const QUOTED = 1;
/** A quoted field holding `""` (its bytes must be unescaped to read its value). */
export const ESCAPED_QUOTE = 2;

/**
 * One record, as a view into the parser's current bytes: valid only during the `onRecord` call that hands
 * it over (the same object is reused for the next record). Field `i` is `bytes[starts[i]..ends[i])`,
 * without its enclosing quotes; `field(i)` decodes it.
 */
export class ParsedRecord {
  bytes: Buffer = Buffer.alloc(0);
  count = 0;
  starts = new Int32Array(16);
  ends = new Int32Array(16);
  flags = new Uint8Array(16);
  /** The line the record starts on (1-based). */
  line = 0;
  /** A field spans lines (a quoted line break). */
  multiline = false;

  /** Field `i`'s value as text (`""` read as one quote). */
  field(i: number): string {
    const text = this.bytes.toString("utf8", this.starts[i], this.ends[i]);
    return this.flags[i] & ESCAPED_QUOTE ? text.replaceAll('""', '"') : text;
  }

  /** Every field's value as text. */
  fields(): string[] {
    const out = new Array<string>(this.count);
    for (let i = 0; i < this.count; i++) out[i] = this.field(i);
    return out;
  }

  /** Whether field `i` was enclosed in quotes. */
  quoted(i: number): boolean {
    return (this.flags[i] & QUOTED) !== 0;
  }

  /** Appends a field's boundaries, growing the arrays when a record has more fields than any before. */
  add(start: number, end: number, flags: number): void {
    if (this.count === this.starts.length) {
      const grow = <T extends Int32Array | Uint8Array>(a: T, make: (n: number) => T): T => {
        const b = make(a.length * 2);
        b.set(a);
        return b;
      };
      this.starts = grow(this.starts, (n) => new Int32Array(n));
      this.ends = grow(this.ends, (n) => new Int32Array(n));
      this.flags = grow(this.flags, (n) => new Uint8Array(n));
    }
    this.starts[this.count] = start;
    this.ends[this.count] = end;
    this.flags[this.count] = flags;
    this.count++;
  }
}

export interface ParseError {
  readonly problem: ParseProblem;
  readonly line: number;
  /** 1-based column (field index + 1) where known. */
  readonly column?: number;
}

const QUOTE = 34; // "
const LF = 10;
const CR = 13;

/**
 * Feed it bytes with `push`, then `end`; it calls `onRecord` per record and `onError` per problem. After a
 * problem in a record, that record is dropped and parsing resumes at the next line break outside quotes.
 */
export class CsvRecordParser {
  /** The unfinished record carried over from earlier chunks. */
  private carry: Buffer = Buffer.alloc(0);
  /** Line number of the first byte of `carry`. */
  private carryLine = 1;
  /** The delimiter's UTF-8 bytes: its first, and how many. */
  private readonly delimiter: Buffer;
  private readonly d0: number;
  private readonly record = new ParsedRecord();
  /** Set after `record-too-long`: the rest of the input is ignored. */
  private stopped = false;

  constructor(
    delimiter: string,
    private readonly onRecord: (r: ParsedRecord) => void,
    private readonly onError: (e: ParseError) => void,
  ) {
    if ([...delimiter].length !== 1) throw new Error("the delimiter must be one character");
    this.delimiter = Buffer.from(delimiter, "utf8");
    this.d0 = this.delimiter[0];
  }

  /** Parses every complete record of `chunk` (appended to what is left from earlier chunks). */
  push(chunk: Uint8Array): void {
    if (this.stopped || chunk.length === 0) return;
    const view = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    const bytes = this.carry.length > 0 ? Buffer.concat([this.carry, view]) : view;
    const consumed = this.parse(bytes, false);
    // A copy: the caller may reuse its chunk.
    this.carry = consumed < bytes.length ? Buffer.from(bytes.subarray(consumed)) : Buffer.alloc(0);
    if (this.carry.length > MAX_RECORD_BYTES) {
      this.onError({ problem: "record-too-long", line: this.carryLine });
      this.stopped = true;
      this.carry = Buffer.alloc(0);
    }
  }

  /** Whether parsing stopped early (a record longer than MAX_RECORD_BYTES). */
  get hasStopped(): boolean {
    return this.stopped;
  }

  /** The line of the first byte not yet parsed, and those bytes (to place an error found in the next chunk). */
  get pending(): { line: number; bytes: Buffer } {
    return { line: this.carryLine, bytes: this.carry };
  }

  /** The input is complete: parses the last record, which has no line break after it. */
  end(): void {
    if (!this.stopped && this.carry.length > 0) this.parse(this.carry, true);
    this.carry = Buffer.alloc(0);
  }

  /**
   * Whether the delimiter starts at `i`: 1 yes, 0 no, -1 cannot tell yet (a multi-byte delimiter cut by
   * the end of the bytes).
   */
  private delimiterAt(b: Buffer, i: number, n: number): number {
    if (b[i] !== this.d0) return 0;
    const d = this.delimiter;
    if (d.length === 1) return 1;
    if (i + d.length > n) return -1;
    for (let k = 1; k < d.length; k++) if (b[i + k] !== d[k]) return 0;
    return 1;
  }

  /** Parses records from `b`; returns how many bytes were consumed (the rest is an unfinished record). */
  private parse(b: Buffer, final: boolean): number {
    const n = b.length;
    const d0 = this.d0;
    const dLen = this.delimiter.length;
    const r = this.record;
    r.bytes = b;
    let pos = 0;
    let line = this.carryLine;
    while (pos < n) {
      // One record from `pos`.
      const start = pos;
      const startLine = line;
      r.count = 0;
      r.multiline = false;
      let problem: ParseError | undefined;
      let i = pos;
      let done = false;
      let incomplete = false;
      while (!done) {
        if (i < n && b[i] === QUOTE) {
          // Quoted field: up to the closing quote, with "" as an escaped quote.
          let flags = QUOTED;
          let j = i + 1;
          let closing = -1;
          let lines = 0;
          while (j < n) {
            const c = b[j];
            if (c === QUOTE) {
              if (j + 1 < n && b[j + 1] === QUOTE) {
                flags |= ESCAPED_QUOTE;
                j += 2;
                continue;
              }
              // A quote at the very end: the next chunk may start with its pair.
              if (j + 1 >= n && !final) break;
              closing = j;
              break;
            }
            if (c === LF) lines++;
            j++;
          }
          if (closing === -1) {
            incomplete = true;
            break;
          }
          if (lines > 0) {
            r.multiline = true;
            line += lines;
          }
          r.add(i + 1, closing, flags);
          i = closing + 1;
          if (i >= n) {
            if (!final) {
              incomplete = true;
              break;
            }
            problem ??= { problem: "missing-final-newline", line };
            done = true;
            break;
          }
          const c = b[i];
          const atDelimiter = c === d0 ? this.delimiterAt(b, i, n) : 0;
          if (atDelimiter === -1 && !final) {
            incomplete = true;
            break;
          }
          if (atDelimiter === 1) {
            i += dLen;
            continue;
          }
          if (c === LF || (c === CR && i + 1 < n && b[i + 1] === LF)) {
            i += c === CR ? 2 : 1;
            line++;
            done = true;
            break;
          }
          if (c === CR && i + 1 >= n && !final) {
            incomplete = true;
            break;
          }
          problem ??= { problem: "text-after-closing-quote", line, column: r.count };
          // Skip to the end of the line.
          const nl = b.indexOf(LF, i);
          if (nl === -1) {
            if (!final) {
              incomplete = true;
              break;
            }
            i = n;
          } else {
            i = nl + 1;
            line++;
          }
          done = true;
          break;
        }
        // Unquoted field: up to the next delimiter or line feed; a quote in it is a problem.
        let j = i;
        let quoteAt = -1;
        while (j < n) {
          const c = b[j];
          if (c === LF) break;
          if (c === d0) {
            const at = dLen === 1 ? 1 : this.delimiterAt(b, j, n);
            if (at === 1) break;
            // A delimiter cut by the end of the bytes: wait for the rest (at the end of the input, the
            // bytes are the value's).
            if (at === -1) {
              j = n;
              break;
            }
          } else if (c === QUOTE && quoteAt === -1) quoteAt = j;
          j++;
        }
        if (j >= n && !final) {
          incomplete = true;
          break;
        }
        const atLf = j < n && b[j] === LF;
        // A CR before the LF ends the line (CRLF); elsewhere it is part of the value.
        const end = atLf && j > i && b[j - 1] === CR ? j - 1 : j;
        if (quoteAt !== -1) problem ??= { problem: "quote-in-unquoted-field", line, column: r.count + 1 };
        r.add(i, end, 0);
        if (j >= n) {
          // End of input without a line break after the last record.
          problem ??= { problem: "missing-final-newline", line };
          i = n;
          done = true;
          break;
        }
        if (atLf) {
          i = j + 1;
          line++;
          done = true;
          break;
        }
        i = j + dLen; // delimiter
        if (i >= n && !final) {
          incomplete = true;
          break;
        }
      }
      if (incomplete) {
        if (final) {
          this.onError({ problem: "unterminated-quote", line: startLine, column: r.count + 1 });
          return n;
        }
        this.carryLine = startLine;
        return start;
      }
      pos = i;
      r.line = startLine;
      if (problem && problem.problem !== "missing-final-newline") this.onError(problem);
      else {
        this.onRecord(r);
        if (problem) this.onError(problem);
      }
    }
    this.carryLine = line;
    return n;
  }
}

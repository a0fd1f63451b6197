/**
 * A streaming RFC 4180 record parser over decoded text: fields separated by one delimiter character,
 * records ended by LF or CRLF, fields optionally enclosed in double quotes, a quote inside a quoted field
 * written twice. It holds at most one unfinished record between chunks, so memory does not grow with the
 * file.
 *
 * Why not csv-parse: on this project's machine csv-parse 7.0.3 parsed 17.5 MB/s (README, "Why a parser of
 * our own"); a gigabyte would take a minute of Lambda CPU before any check. This one scans with
 * `indexOf` between structural characters. test/sources/csv/parser.test.ts compares it with csv-parse
 * on random inputs, quotes, delimiters and chunk cuts included.
 */

/** Why the parser could not read a record (the validator reports it with the line). */
export type ParseProblem =
  | "quote-in-unquoted-field"
  | "text-after-closing-quote"
  | "unterminated-quote"
  | "missing-final-newline"
  | "record-too-long";

/**
 * The longest record accepted, in characters. An unterminated quote would otherwise make the rest of the
 * file one record held in memory; past this the parser stops.
 */
export const MAX_RECORD_CHARS = 1 << 20;

/** One record: its fields, the line it starts on (1-based), and whether a field held a line break. */
export interface ParsedRecord {
  readonly fields: readonly string[];
  readonly line: number;
  /** Whether any field was quoted (`""` is then an empty string, not a NULL). */
  readonly quoted: readonly boolean[];
  /** A field spans lines (a quoted line break). */
  readonly multiline: boolean;
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
 * Feed it text with `push`, then `end`; it calls `onRecord` per record and `onError` per problem. After a
 * problem in a record, that record is dropped and parsing resumes at the next line break outside quotes.
 */
export class CsvRecordParser {
  private buffer = "";
  /** Line number of the first character of `buffer`. */
  private bufferLine = 1;
  private readonly delimiter: number;
  /** Set after `record-too-long`: the rest of the input is ignored. */
  private stopped = false;

  constructor(
    delimiter: string,
    private readonly onRecord: (r: ParsedRecord) => void,
    private readonly onError: (e: ParseError) => void,
  ) {
    if (delimiter.length !== 1) throw new Error("the delimiter must be one character");
    this.delimiter = delimiter.charCodeAt(0);
  }

  /** Parses every complete record of `text` (appended to what is left from earlier chunks). */
  push(text: string): void {
    if (this.stopped) return;
    this.buffer = this.buffer.length > 0 ? this.buffer + text : text;
    const consumed = this.parse(false);
    this.buffer = this.buffer.slice(consumed);
    if (this.buffer.length > MAX_RECORD_CHARS) {
      this.onError({ problem: "record-too-long", line: this.bufferLine });
      this.stopped = true;
      this.buffer = "";
    }
  }

  /** Whether parsing stopped early (a record longer than MAX_RECORD_CHARS). */
  get hasStopped(): boolean {
    return this.stopped;
  }

  /** The input is complete: parses the last record, which has no line break after it. */
  end(): void {
    if (!this.stopped && this.buffer.length > 0) this.parse(true);
    this.buffer = "";
  }

  /** Parses records from the buffer; returns how many characters were consumed. */
  private parse(final: boolean): number {
    const s = this.buffer;
    const n = s.length;
    const d = this.delimiter;
    const delimiter = String.fromCharCode(d);
    // Next delimiter, line feed and quote at or after the scan position (-1: none left in the buffer).
    let nextDelim = s.indexOf(delimiter);
    let nextLf = s.indexOf("\n");
    let nextQuote = s.indexOf('"');
    let pos = 0;
    let line = this.bufferLine;
    while (pos < n) {
      // One record from `pos`.
      const start = pos;
      const startLine = line;
      const fields: string[] = [];
      const quoted: boolean[] = [];
      let multiline = false;
      let problem: ParseError | undefined;
      let i = pos;
      let done = false;
      let incomplete = false;
      while (!done) {
        if (i < n && s.charCodeAt(i) === QUOTE) {
          // Quoted field: up to the closing quote, with "" as an escaped quote.
          let value = "";
          let j = i + 1;
          for (;;) {
            const q = s.indexOf('"', j);
            if (q === -1) {
              incomplete = true;
              break;
            }
            value += s.slice(j, q);
            if (q + 1 < n && s.charCodeAt(q + 1) === QUOTE) {
              value += '"';
              j = q + 2;
              continue;
            }
            if (q + 1 >= n && !final) {
              // Cannot tell yet whether the next chunk starts with a second quote.
              incomplete = true;
              break;
            }
            j = q + 1;
            break;
          }
          if (incomplete) break;
          if (value.includes("\n")) {
            multiline = true;
            for (let k = value.indexOf("\n"); k !== -1; k = value.indexOf("\n", k + 1)) line++;
          }
          fields.push(value);
          quoted.push(true);
          i = j;
          if (i >= n) {
            if (!final) {
              incomplete = true;
              break;
            }
            problem ??= { problem: "missing-final-newline", line };
            done = true;
            break;
          }
          const c = s.charCodeAt(i);
          if (c === d) {
            i++;
            continue;
          }
          if (c === LF || (c === CR && i + 1 < n && s.charCodeAt(i + 1) === LF)) {
            i += c === CR ? 2 : 1;
            line++;
            done = true;
            break;
          }
          if (c === CR && i + 1 >= n && !final) {
            incomplete = true;
            break;
          }
          problem ??= { problem: "text-after-closing-quote", line, column: fields.length };
          // Skip to the end of the line.
          const nl = s.indexOf("\n", i);
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
        // Unquoted field: up to the next delimiter or line break, found with the engine's `indexOf` (the
        // positions are cached: each is searched again only once the scan has passed it).
        if (nextDelim < i && nextDelim !== -1) nextDelim = s.indexOf(delimiter, i);
        if (nextLf < i && nextLf !== -1) nextLf = s.indexOf("\n", i);
        if (nextQuote < i && nextQuote !== -1) nextQuote = s.indexOf('"', i);
        let j = nextDelim === -1 ? nextLf : nextLf === -1 ? nextDelim : Math.min(nextDelim, nextLf);
        if (j === -1) j = n;
        if (j >= n && !final) {
          incomplete = true;
          break;
        }
        let value = s.slice(i, j);
        const atLf = j < n && s.charCodeAt(j) === LF;
        if (atLf && value.length > 0 && value.charCodeAt(value.length - 1) === CR) value = value.slice(0, -1);
        if (nextQuote !== -1 && nextQuote < j)
          problem ??= { problem: "quote-in-unquoted-field", line, column: fields.length + 1 };
        fields.push(value);
        quoted.push(false);
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
        i = j + 1; // delimiter
        if (i >= n && !final) {
          incomplete = true;
          break;
        }
      }
      if (incomplete) {
        if (final) {
          this.onError({ problem: "unterminated-quote", line: startLine, column: fields.length + 1 });
          return n;
        }
        this.bufferLine = startLine;
        return start;
      }
      pos = i;
      if (problem && problem.problem !== "missing-final-newline") this.onError(problem);
      else {
        this.onRecord({ fields, line: startLine, quoted, multiline });
        if (problem) this.onError(problem);
      }
    }
    this.bufferLine = line;
    return n;
  }
}

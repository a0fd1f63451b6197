/**
 * Validates a CSV file against its feed's declaration while it streams, and writes the rows of a valid
 * file as canonical NDJSON (canonical.ts): the validated copy the load reads. Memory is bounded by one input chunk and one record, whatever the size
 * of the file (measured on a 1 GiB file: README, "Streaming").
 *
 * Every problem is collected (the first `maxErrors` with line, column and value, all of them counted),
 * except those after which nothing more can be read reliably: an invalid byte sequence, a header that
 * does not match, a record longer than MAX_RECORD_CHARS.
 */
import { isUtf8 } from "node:buffer";
import { CsvRecordParser, type ParseError, type ParsedRecord } from "./parser";
import { NdjsonWriter } from "./canonical";
import { columnName, decimalPrecision, decimalScale, type CsvColumn, type CsvFeed } from "./feed";

export type CsvErrorKind =
  | "empty-file"
  | "too-large"
  | "encoding"
  | "header-mismatch"
  | "column-count"
  | "bad-type"
  | "null-in-required-column"
  | "quote-in-unquoted-field"
  | "text-after-closing-quote"
  | "unterminated-quote"
  | "missing-final-newline"
  | "record-too-long"
  | "duplicate-key";

/** One problem, as the quarantine report lists it. */
export interface CsvError {
  readonly kind: CsvErrorKind;
  /** 1-based line of the file (of the record's first line). */
  readonly line?: number;
  /** 1-based column (field position). */
  readonly column?: number;
  /** The declared column's name. */
  readonly columnName?: string;
  /** The offending value, cut to 100 characters; `<pii>` for a `pii` column. */
  readonly value?: string;
  /** Byte offset in the file (encoding errors). */
  readonly byteOffset?: number;
  readonly message: string;
}

export interface ValidationResult {
  readonly valid: boolean;
  /** Data rows read (the header excluded). */
  readonly rows: number;
  readonly bytes: number;
  /** False when validation stopped before the end of the file (see the module comment). */
  readonly complete: boolean;
  /** The first `maxErrors` problems. */
  readonly errors: readonly CsvError[];
  /** Every problem, counted by kind. */
  readonly counts: Readonly<Partial<Record<CsvErrorKind, number>>>;
}

export interface ValidateOptions {
  /** Problems listed in full (all are counted). @default 100 */
  readonly maxErrors?: number;
}

/** Where canonical rows go while the file is valid; awaited per input chunk (back-pressure). */
export type RowSink = (ndjson: Buffer) => Promise<void>;

const MAX_VALUE_CHARS = 100;

const INT32 = { min: -2147483648n, max: 2147483647n };
const INT64 = { min: -9223372036854775808n, max: 9223372036854775807n };
const INTEGER = /^-?\d+$/;
const DOUBLE = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Whether year-month-day is a day of the Gregorian calendar (29 February in leap years only). */
export function validDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= MONTH_DAYS[month - 1] + (leap ? 1 : 0);
}

/*
 * The date, timestamp and decimal checks read character codes instead of running a regular expression and
 * converting its groups: they run once per value of every row (three values a row in the example feed),
 * and the character loops do the same work in a quarter to a third of the time (`npm run bench:csv`).
 * They accept exactly what the patterns in README "Types" describe; test/sources/csv/types.test.ts
 * holds them to those patterns on generated values.
 */

/** The number written by the `n` ASCII digits of `v` at `at`, or -1 if one of them is not a digit. */
function digitsAt(v: string, at: number, n: number): number {
  let x = 0;
  for (let i = at; i < at + n; i++) {
    const c = v.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    x = x * 10 + c;
  }
  return x;
}

/** `YYYY-MM-DD` at the start of `v`, a real calendar day. */
function dateAtStart(v: string): boolean {
  if (v.charCodeAt(4) !== 45 || v.charCodeAt(7) !== 45) return false;
  const y = digitsAt(v, 0, 4);
  const m = digitsAt(v, 5, 2);
  const d = digitsAt(v, 8, 2);
  return y >= 0 && m >= 0 && d >= 0 && validDate(y, m, d);
}

/** `YYYY-MM-DD`. */
function isDate(v: string): boolean {
  return v.length === 10 && dateAtStart(v);
}

/** `YYYY-MM-DD HH:MM:SS` (or `T`), then optionally `.` and 1-6 digits. */
function isTimestamp(v: string): boolean {
  const n = v.length;
  if (n < 19 || n === 20 || n > 26 || !dateAtStart(v)) return false;
  const t = v.charCodeAt(10);
  if ((t !== 32 && t !== 84) || v.charCodeAt(13) !== 58 || v.charCodeAt(16) !== 58) return false;
  const hh = digitsAt(v, 11, 2);
  const mm = digitsAt(v, 14, 2);
  const ss = digitsAt(v, 17, 2);
  if (hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 59) return false;
  return n === 19 || (v.charCodeAt(19) === 46 && digitsAt(v, 20, n - 20) >= 0);
}

/** Why `v` is not a decimal of `c`'s precision and scale, or undefined when it is. */
function decimalProblem(c: CsvColumn, v: string): string | undefined {
  const n = v.length;
  let i = v.charCodeAt(0) === 45 ? 1 : 0;
  const intStart = i;
  let firstNonZero = -1;
  for (; i < n; i++) {
    const ch = v.charCodeAt(i);
    if (ch < 48 || ch > 57) break;
    if (firstNonZero === -1 && ch !== 48) firstNonZero = i;
  }
  const intEnd = i;
  let fraction = 0;
  if (i < n && v.charCodeAt(i) === 46) {
    for (i++; i < n; i++, fraction++) {
      const ch = v.charCodeAt(i);
      if (ch < 48 || ch > 57) break;
    }
    if (fraction === 0) i = -1;
  }
  if (intEnd === intStart || i !== n) return "not a decimal number (digits, an optional '.', no exponent)";
  const scale = decimalScale(c);
  if (fraction > scale) return `more than ${scale} digits after the point`;
  const max = decimalPrecision(c) - scale;
  // Leading zeros do not count, and an all-zero integer part fits any precision (`0.1234` in decimal(4,4)).
  const intDigits = firstNonZero === -1 ? 0 : intEnd - firstNonZero;
  return intDigits > max ? `more than ${max} digits before the point` : undefined;
}

/** Why `value` is not of the column's type, or undefined when it is. Formats: README, "Types". */
export function typeProblem(c: CsvColumn, value: string): string | undefined {
  switch (c.type) {
    case "string":
      return undefined;
    case "int":
    case "bigint": {
      if (!INTEGER.test(value)) return `not an integer`;
      const range = c.type === "int" ? INT32 : INT64;
      const n = BigInt(value);
      return n < range.min || n > range.max ? `out of the ${c.type} range` : undefined;
    }
    case "decimal":
      return decimalProblem(c, value);
    case "double":
      return DOUBLE.test(value) ? undefined : "not a number";
    case "boolean":
      return /^(true|false)$/i.test(value) ? undefined : "not true or false";
    case "date":
      return isDate(value) ? undefined : "not a date (YYYY-MM-DD)";
    case "timestamp":
      return isTimestamp(value) ? undefined : "not a timestamp (YYYY-MM-DD HH:MM:SS[.ffffff], UTC)";
  }
}

/** The offset of the first byte that is not valid UTF-8 in `bytes`, or -1 (used only to locate a failure). */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    const need =
      b < 0x80 ? 0 : b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1;
    if (need < 0) return i;
    if (i + need >= bytes.length) return -1; // a sequence the next chunk completes
    for (let k = 1; k <= need; k++) if ((bytes[i + k] & 0xc0) !== 0x80) return i;
    i += need + 1;
  }
  return -1;
}

const PARSE_MESSAGES: Readonly<Record<ParseError["problem"], string>> = {
  "quote-in-unquoted-field": "a double quote inside a field that is not enclosed in quotes",
  "text-after-closing-quote": "text after the closing quote of a field",
  "unterminated-quote": "a quoted field is never closed: the file ends inside it (truncated?)",
  "missing-final-newline": "the last line has no line break: the file looks truncated",
  "record-too-long": "a record longer than 1 Mi characters (an unclosed quote?); validation stopped",
};

/**
 * A chunk decoder: the text of `chunk` (a character split across chunks is completed by the next one), or
 * undefined when the bytes are not valid in the encoding. UTF-8 is checked with `buffer.isUtf8` and
 * decoded with `Buffer#toString`, both native: `TextDecoder` with `fatal` decoded 76 MB/s here, a third of
 * the validation budget. The single-byte encodings cannot be invalid (every byte is a character).
 */
export function decoderFor(encoding: CsvFeed["encoding"]): (chunk: Uint8Array, last: boolean) => string | undefined {
  if (encoding !== "utf-8") {
    const d = new TextDecoder(encoding);
    return (chunk, last) => d.decode(chunk, { stream: !last });
  }
  let carry: Buffer = Buffer.alloc(0);
  let first = true;
  return (chunk, last) => {
    let buf =
      carry.length > 0 ? Buffer.concat([carry, chunk]) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    // Hold back an incomplete sequence at the end (at most 3 bytes) for the next chunk.
    let cut = buf.length;
    if (!last) {
      for (let back = 1; back <= 3 && back <= buf.length; back++) {
        const b = buf[buf.length - back];
        if ((b & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead
        const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
        if (need > back) cut = buf.length - back;
        break;
      }
    }
    carry = Buffer.from(buf.subarray(cut));
    buf = buf.subarray(0, cut);
    if (last && carry.length > 0) return undefined;
    if (!isUtf8(buf)) return undefined;
    let text = buf.toString("utf8");
    // A byte-order mark is not part of the first field (TextDecoder drops it too).
    if (first && text.length > 0) {
      first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    return text;
  };
}

/** Validates `input` (the file's bytes, in chunks) against `feed`; writes canonical rows to `sink` while valid. */
export async function validateCsv(
  input: AsyncIterable<Uint8Array>,
  feed: CsvFeed,
  sink?: RowSink,
  options: ValidateOptions = {},
): Promise<ValidationResult> {
  const maxErrors = options.maxErrors ?? 100;
  const errors: CsvError[] = [];
  const counts: Partial<Record<CsvErrorKind, number>> = {};
  const report = (e: CsvError): void => {
    counts[e.kind] = (counts[e.kind] ?? 0) + 1;
    if (errors.length < maxErrors) errors.push(e);
  };
  const columns = feed.columns;
  const names = columns.map(columnName);
  const required = columns.map((c) => !c.nullable || feed.key.some((k) => k.toLowerCase() === columnName(c)));
  const writer = sink ? new NdjsonWriter(names) : undefined;
  const shown = (c: CsvColumn, v: string): string => (c.pii ? "<pii>" : v.slice(0, MAX_VALUE_CHARS));

  let rows = 0;
  let records = 0;
  let headerSeen = !feed.header;
  let stopped = false;
  const onRecord = (r: ParsedRecord): void => {
    if (stopped) return;
    records++;
    if (!headerSeen) {
      headerSeen = true;
      checkHeader(r, names, report);
      if (counts["header-mismatch"]) stopped = true;
      return;
    }
    rows++;
    const f = r.fields;
    if (f.length !== columns.length) {
      report({
        kind: "column-count",
        line: r.line,
        message: `${f.length} fields where ${columns.length} columns are declared (${f.length < columns.length ? "missing" : "extra"} columns)`,
      });
      return;
    }
    let ok = true;
    for (let i = 0; i < f.length; i++) {
      const v = f[i];
      const c = columns[i];
      if (v.length === 0) {
        if (required[i]) {
          ok = false;
          report({
            kind: "null-in-required-column",
            line: r.line,
            column: i + 1,
            columnName: c.name,
            message: `'${c.name}' is empty, and it is ${c.nullable ? "a key column" : "declared nullable: false"}`,
          });
        }
        continue;
      }
      const why = typeProblem(c, v);
      if (why) {
        ok = false;
        report({
          kind: "bad-type",
          line: r.line,
          column: i + 1,
          columnName: c.name,
          value: shown(c, v),
          message: `${c.type}: ${why}`,
        });
      }
    }
    if (ok && errors.length === 0) writer?.row(f, r.line);
  };
  const onError = (e: ParseError): void => {
    if (stopped) return;
    if (e.problem === "missing-final-newline" && !feed.requireFinalNewline) return;
    report({
      kind: e.problem,
      line: e.line,
      ...(e.column !== undefined ? { column: e.column } : {}),
      message: PARSE_MESSAGES[e.problem],
    });
    if (e.problem === "record-too-long") stopped = true;
  };
  // Rows go out once per input chunk, and only while the file is still valid.
  const flush = async (): Promise<void> => {
    const bytes = writer?.take();
    if (bytes && errors.length === 0 && sink) await sink(bytes);
  };
  const parser = new CsvRecordParser(feed.delimiter, onRecord, onError);
  const decode = decoderFor(feed.encoding);

  let bytes = 0;
  let lines = 1;
  for await (const chunk of input) {
    if (stopped) break;
    const text = decode(chunk, false);
    if (text === undefined) {
      const at = Math.max(0, firstInvalidUtf8(chunk));
      let line = lines;
      for (let k = 0; k < at; k++) if (chunk[k] === 10) line++;
      const sample = Buffer.from(chunk.subarray(at, at + 4))
        .toString("hex")
        .replace(/(..)/g, "0x$1 ")
        .trim();
      report({
        kind: "encoding",
        line,
        byteOffset: bytes + at,
        value: sample,
        message: `bytes that are not valid ${feed.encoding} (${sample}); validation stopped`,
      });
      stopped = true;
      break;
    }
    bytes += chunk.length;
    for (let k = text.indexOf("\n"); k !== -1; k = text.indexOf("\n", k + 1)) lines++;
    parser.push(text);
    await flush();
  }
  if (!stopped) {
    const rest = decode(new Uint8Array(0), true);
    if (rest === undefined) {
      report({
        kind: "encoding",
        line: lines,
        byteOffset: bytes,
        message: `the file ends inside a ${feed.encoding} character (truncated?)`,
      });
      stopped = true;
    } else parser.push(rest);
  }
  if (!stopped) parser.end();
  await flush();
  if (records === 0 && errors.length === 0) {
    report({ kind: "empty-file", message: bytes === 0 ? "the file is empty (0 bytes)" : "the file holds no line" });
  }
  return { valid: errors.length === 0, rows, bytes, complete: !stopped && !parser.hasStopped, errors, counts };
}

/** The header names the declared columns, in order (case and surrounding blanks ignored). */
function checkHeader(r: ParsedRecord, names: readonly string[], report: (e: CsvError) => void): void {
  const got = r.fields.map((f) => f.trim().toLowerCase());
  if (got.length === names.length && got.every((g, i) => g === names[i])) return;
  const missing = names.filter((n) => !got.includes(n));
  const extra = got.filter((g) => !names.includes(g));
  const parts = [
    missing.length > 0 ? `missing ${missing.join(", ")}` : "",
    extra.length > 0 ? `extra ${extra.join(", ")}` : "",
    missing.length === 0 && extra.length === 0 ? `reordered: expected ${names.join(", ")}` : "",
  ].filter((p) => p.length > 0);
  report({
    kind: "header-mismatch",
    line: r.line,
    value: r.fields.join(",").slice(0, MAX_VALUE_CHARS),
    message: `the header does not match the declared columns: ${parts.join("; ")}`,
  });
}

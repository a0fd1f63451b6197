/**
 * Validates a CSV file against its feed's declaration while it streams, and writes the rows of a valid
 * file as canonical NDJSON (canonical.ts): the validated copy the load reads. Memory is bounded by one input chunk and one record, whatever the size
 * of the file (measured on a 1 GiB file: README, "Streaming").
 *
 * Every problem is collected (the first `maxErrors` with line, column and value, all of them counted),
 * except those after which nothing more can be read reliably: an invalid byte sequence, a header that
 * does not match, a record longer than MAX_RECORD_BYTES.
 */
import { isUtf8 } from "node:buffer";
import { CsvRecordParser, ESCAPED_QUOTE, type ParseError, type ParsedRecord } from "./parser";
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
const DOUBLE = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const BOOLEAN = /^(true|false)$/i;

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Whether year-month-day is a day of the Gregorian calendar (29 February in leap years only). */
export function validDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= MONTH_DAYS[month - 1] + (leap ? 1 : 0);
}

/*
 * The checks read a value's UTF-8 bytes where the parser found them (`b[s..e)`, never empty): they run
 * once per value of every row (three values a row in the example feed), and reading bytes does the work of
 * a regular expression over a decoded string in a fraction of the time (`npm run bench:csv`). Digits,
 * signs and separators are ASCII, so a byte that is part of a multi-byte character fails a check as the
 * character would. They accept exactly what the patterns in README "Types" describe;
 * test/sources/csv/types.test.ts holds them to those patterns on generated values.
 */

/** Why the bytes `b[s..e)` are not a value of the column's type, or undefined when they are. */
type ByteCheck = (b: Buffer, s: number, e: number) => string | undefined;

/** The number written by the `n` ASCII digits of `b` at `at`, or -1 if one of them is not a digit. */
function digitsAt(b: Buffer, at: number, n: number): number {
  let x = 0;
  for (let i = at; i < at + n; i++) {
    const c = b[i] - 48;
    if (!(c >= 0 && c <= 9)) return -1;
    x = x * 10 + c;
  }
  return x;
}

/** `YYYY-MM-DD` at `s`, a real calendar day (the caller checked that ten bytes are there). */
function dateAt(b: Buffer, s: number): boolean {
  if (b[s + 4] !== 45 || b[s + 7] !== 45) return false;
  const y = digitsAt(b, s, 4);
  const m = digitsAt(b, s + 5, 2);
  const d = digitsAt(b, s + 8, 2);
  return y >= 0 && m >= 0 && d >= 0 && validDate(y, m, d);
}

const dateProblem: ByteCheck = (b, s, e) => (e - s === 10 && dateAt(b, s) ? undefined : "not a date (YYYY-MM-DD)");

/** `YYYY-MM-DD HH:MM:SS` (or `T`), then optionally `.` and 1-6 digits. */
function isTimestamp(b: Buffer, s: number, e: number): boolean {
  const n = e - s;
  if (n < 19 || n === 20 || n > 26 || !dateAt(b, s)) return false;
  const t = b[s + 10];
  if ((t !== 32 && t !== 84) || b[s + 13] !== 58 || b[s + 16] !== 58) return false;
  const hh = digitsAt(b, s + 11, 2);
  const mm = digitsAt(b, s + 14, 2);
  const ss = digitsAt(b, s + 17, 2);
  if (hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 59) return false;
  return n === 19 || (b[s + 19] === 46 && digitsAt(b, s + 20, n - 20) >= 0);
}

const timestampProblem: ByteCheck = (b, s, e) =>
  isTimestamp(b, s, e) ? undefined : "not a timestamp (YYYY-MM-DD HH:MM:SS[.ffffff], UTC)";

/** The check of a decimal(precision, scale) column. */
function decimalCheck(precision: number, scale: number): ByteCheck {
  const max = precision - scale;
  return (b, s, e) => {
    let i = b[s] === 45 ? s + 1 : s;
    const intStart = i;
    let firstNonZero = -1;
    for (; i < e; i++) {
      const ch = b[i];
      if (ch < 48 || ch > 57) break;
      if (firstNonZero === -1 && ch !== 48) firstNonZero = i;
    }
    const intEnd = i;
    let fraction = 0;
    if (i < e && b[i] === 46) {
      for (i++; i < e; i++, fraction++) {
        const ch = b[i];
        if (ch < 48 || ch > 57) break;
      }
      if (fraction === 0) i = -1;
    }
    if (intEnd === intStart || i !== e) return "not a decimal number (digits, an optional '.', no exponent)";
    if (fraction > scale) return `more than ${scale} digits after the point`;
    // Leading zeros do not count, and an all-zero integer part fits any precision (`0.1234` in decimal(4,4)).
    const intDigits = firstNonZero === -1 ? 0 : intEnd - firstNonZero;
    return intDigits > max ? `more than ${max} digits before the point` : undefined;
  };
}

/** The check of an int (32-bit) or bigint (64-bit) column: `-?\d+` within the type's range. */
function integerCheck(type: "int" | "bigint"): ByteCheck {
  const range = type === "int" ? INT32 : INT64;
  // Fewer digits than this always fit (2147483647 has 10, 9223372036854775807 has 19).
  const alwaysFits = type === "int" ? 9 : 18;
  return (b, s, e) => {
    const from = b[s] === 45 ? s + 1 : s;
    if (from === e) return "not an integer";
    for (let i = from; i < e; i++) if (b[i] < 48 || b[i] > 57) return "not an integer";
    if (e - from <= alwaysFits) return undefined;
    const n = BigInt(b.toString("latin1", s, e));
    return n < range.min || n > range.max ? `out of the ${type} range` : undefined;
  };
}

/** A check over the decoded text, for the types the example feeds do not use on every row. */
const textCheck =
  (pattern: RegExp, why: string): ByteCheck =>
  (b, s, e) =>
    pattern.test(b.toString("utf8", s, e)) ? undefined : why;

/** The column's check, or undefined for a `string` column (any text). Formats: README, "Types". */
export function checkFor(c: CsvColumn): ByteCheck | undefined {
  switch (c.type) {
    case "string":
      return undefined;
    case "int":
    case "bigint":
      return integerCheck(c.type);
    case "decimal":
      return decimalCheck(decimalPrecision(c), decimalScale(c));
    case "double":
      return textCheck(DOUBLE, "not a number");
    case "boolean":
      return textCheck(BOOLEAN, "not true or false");
    case "date":
      return dateProblem;
    case "timestamp":
      return timestampProblem;
  }
}

/** Why `value` is not of the column's type, or undefined when it is (the validator's check on its bytes). */
export function typeProblem(c: CsvColumn, value: string): string | undefined {
  const check = checkFor(c);
  if (!check) return undefined;
  const b = Buffer.from(value, "utf8");
  return check(b, 0, b.length);
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
  "record-too-long": "a record longer than 1 MiB (an unclosed quote?); validation stopped",
};

/**
 * A chunk reader for the parser: the UTF-8 bytes of `chunk` (a character split across chunks is completed by
 * the next one), or undefined when the bytes are not valid in the encoding. UTF-8 input is checked with
 * `buffer.isUtf8` (native) and passed on as it is, never decoded: `TextDecoder` with `fatal` decoded
 * 76 MB/s here, and the parser reads bytes. The single-byte encodings cannot be invalid (every byte is a
 * character); they are decoded and encoded as UTF-8, so that the parser and the output see one encoding.
 */
export function utf8ReaderFor(encoding: CsvFeed["encoding"]): (chunk: Uint8Array, last: boolean) => Buffer | undefined {
  if (encoding !== "utf-8") {
    const d = new TextDecoder(encoding);
    return (chunk, last) => Buffer.from(d.decode(chunk, { stream: !last }), "utf8");
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
    // A byte-order mark is not part of the first field (TextDecoder drops it too).
    if (first && buf.length > 0) {
      first = false;
      if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3);
    }
    return buf;
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
  const checks = columns.map(checkFor);
  const onRecord = (r: ParsedRecord): void => {
    if (stopped) return;
    records++;
    if (!headerSeen) {
      headerSeen = true;
      checkHeader(r.fields(), r.line, names, report);
      if (counts["header-mismatch"]) stopped = true;
      return;
    }
    rows++;
    const n = r.count;
    if (n !== columns.length) {
      report({
        kind: "column-count",
        line: r.line,
        message: `${n} fields where ${columns.length} columns are declared (${n < columns.length ? "missing" : "extra"} columns)`,
      });
      return;
    }
    let ok = true;
    const b = r.bytes;
    for (let i = 0; i < n; i++) {
      const s = r.starts[i];
      const e = r.ends[i];
      const c = columns[i];
      // An empty field (`""` too) is a NULL; a quoted `""""` is one quote, not empty.
      if (s === e) {
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
      const check = checks[i];
      if (check === undefined) continue;
      // A value with an escaped quote is checked unescaped (it is never a number or a date anyway).
      const unescaped = r.flags[i] & ESCAPED_QUOTE ? Buffer.from(r.field(i), "utf8") : undefined;
      const why = unescaped ? check(unescaped, 0, unescaped.length) : check(b, s, e);
      if (why) {
        ok = false;
        report({
          kind: "bad-type",
          line: r.line,
          column: i + 1,
          columnName: c.name,
          value: shown(c, r.field(i)),
          message: `${c.type}: ${why}`,
        });
      }
    }
    if (ok && errors.length === 0) writer?.row(r);
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
  const read = utf8ReaderFor(feed.encoding);
  /** The line of byte `at` of `chunk`, the next chunk after what the parser has been given. */
  const lineAt = (chunk: Uint8Array, at: number): number => {
    const { line, bytes: pending } = parser.pending;
    let l = line;
    for (const b of pending) if (b === 10) l++;
    for (let k = 0; k < at; k++) if (chunk[k] === 10) l++;
    return l;
  };

  let bytes = 0;
  for await (const chunk of input) {
    if (stopped) break;
    const utf8 = read(chunk, false);
    if (utf8 === undefined) {
      const at = Math.max(0, firstInvalidUtf8(chunk));
      const sample = Buffer.from(chunk.subarray(at, at + 4))
        .toString("hex")
        .replace(/(..)/g, "0x$1 ")
        .trim();
      report({
        kind: "encoding",
        line: lineAt(chunk, at),
        byteOffset: bytes + at,
        value: sample,
        message: `bytes that are not valid ${feed.encoding} (${sample}); validation stopped`,
      });
      stopped = true;
      break;
    }
    bytes += chunk.length;
    parser.push(utf8);
    await flush();
  }
  if (!stopped) {
    const rest = read(new Uint8Array(0), true);
    if (rest === undefined) {
      report({
        kind: "encoding",
        line: lineAt(new Uint8Array(0), 0),
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
function checkHeader(
  fields: readonly string[],
  line: number,
  names: readonly string[],
  report: (e: CsvError) => void,
): void {
  const got = fields.map((f) => f.trim().toLowerCase());
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
    line,
    value: fields.join(",").slice(0, MAX_VALUE_CHARS),
    message: `the header does not match the declared columns: ${parts.join("; ")}`,
  });
}

/**
 * The validated copy's format: NDJSON, one object per row, every value a JSON string or null, lower-case
 * column names, plus `_line` (the row's line in the original file). Both engines read it without a
 * dialect to configure (Athena's Hive JSON SerDe, DuckDB's `read_json`), and JSON escaping keeps
 * delimiters, quotes and line breaks inside values intact, which CSV SerDes do not all do.
 *
 * Rows are copied straight from the file's bytes into a byte buffer (the parser hands over field
 * boundaries, not strings): building a string per row and joining them spent two thirds of the
 * validation's time in the garbage collector (profiled on 300,000 rows), and decoding each field then
 * encoding it again half of what was left.
 */
import { LINE_COLUMN } from "./feed";
import type { ParsedRecord } from "./parser";

const HEX = "0123456789abcdef";

/** Copies a few bytes: a loop, because `Buffer#copy` allocates a view per call (profiled: 8% of the time). */
function put(src: Buffer, b: Buffer, p: number): number {
  for (let k = 0; k < src.length; k++) b[p++] = src[k];
  return p;
}

/** Writes a positive integer's decimal digits (a JS loop: `Buffer#write` is a call into C++ per row). */
function putDigits(n: number, b: Buffer, p: number): number {
  let digits = 1;
  for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
  for (let k = p + digits - 1, x = n; k >= p; k--, x = Math.floor(x / 10)) b[k] = 48 + (x % 10);
  return p + digits;
}

/**
 * Copies field bytes `src[start..end)` (UTF-8, as the parser hands them over) as the inside of a JSON
 * string at `p`; returns the new offset. Escapes what RFC 8259 §7 requires (quote, backslash,
 * U+0000-U+001F); every other byte, multi-byte sequences included, is copied as it is (the bytes are
 * valid UTF-8: the validator checked them). A quote in a field's bytes is always the first of a quoted
 * field's `""` pair (a quote anywhere else makes the record invalid), so it is written once, escaped.
 */
export function copyJsonBytes(src: Buffer, start: number, end: number, b: Buffer, p: number): number {
  for (let i = start; i < end; i++) {
    const c = src[i];
    if (c >= 0x20 && c !== 0x22 && c !== 0x5c) b[p++] = c;
    else if (c === 0x22) {
      b[p++] = 0x5c;
      b[p++] = 0x22;
      i++; // the pair's second quote
    } else if (c === 0x5c) {
      b[p++] = 0x5c;
      b[p++] = 0x5c;
    } else {
      b[p++] = 0x5c;
      b[p++] = 0x75;
      b[p++] = 0x30;
      b[p++] = 0x30;
      b[p++] = HEX.charCodeAt(c >> 4);
      b[p++] = HEX.charCodeAt(c & 15);
    }
  }
  return p;
}

export class NdjsonWriter {
  private buf: Buffer;
  private pos = 0;
  private readonly keys: readonly Buffer[];
  private readonly lineKey: Buffer;

  /** `names`: the columns' names in the file's order. */
  constructor(names: readonly string[], initialBytes = 4 << 20) {
    this.buf = Buffer.allocUnsafe(initialBytes);
    this.keys = names.map((n, i) => Buffer.from(`${i === 0 ? "{" : ","}${JSON.stringify(n)}:`));
    this.lineKey = Buffer.from(`,${JSON.stringify(LINE_COLUMN)}:`);
  }

  /** Appends the record's row (an empty field is written as null: an empty CSV field is a NULL). */
  row(r: ParsedRecord): void {
    const src = r.bytes;
    // Worst case per byte is 6 (\u00XX); grow once per row rather than check every byte.
    let need = 32 + this.lineKey.length;
    for (let i = 0; i < r.count; i++) need += this.keys[i].length + 6 * (r.ends[i] - r.starts[i]) + 6;
    if (this.pos + need > this.buf.length) this.grow(need);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < r.count; i++) {
      p = put(this.keys[i], b, p);
      const start = r.starts[i];
      const end = r.ends[i];
      if (start === end) {
        b[p++] = 0x6e; // null
        b[p++] = 0x75;
        b[p++] = 0x6c;
        b[p++] = 0x6c;
        continue;
      }
      b[p++] = 0x22;
      p = copyJsonBytes(src, start, end, b, p);
      b[p++] = 0x22;
    }
    p = put(this.lineKey, b, p);
    p = putDigits(r.line, b, p);
    b[p++] = 0x7d; // }
    b[p++] = 0x0a;
    this.pos = p;
  }

  /** Bytes written since the last `take` (a copy), or undefined when none. */
  take(): Buffer | undefined {
    if (this.pos === 0) return undefined;
    const out = Buffer.from(this.buf.subarray(0, this.pos));
    this.pos = 0;
    return out;
  }

  private grow(need: number): void {
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + need));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
}

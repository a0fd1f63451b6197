/**
 * The validated copy's format: NDJSON, one object per row, every value a JSON string or null, lower-case
 * column names, plus `_line` (the row's line in the original file). Both engines read it without a
 * dialect to configure (Athena's Hive JSON SerDe, DuckDB's `read_json`), and JSON escaping keeps
 * delimiters, quotes and line breaks inside values intact, which CSV SerDes do not all do.
 *
 * Rows are encoded straight into a byte buffer: building a string per row and joining them spent two
 * thirds of the validation's time in the garbage collector (profiled on 300,000 rows).
 */
import { LINE_COLUMN } from "./feed";

const HEX = "0123456789abcdef";

/** Copies a few bytes: a loop, because `Buffer#copy` allocates a view per call (profiled: 8% of the time). */
function put(src: Buffer, b: Buffer, p: number): number {
  for (let k = 0; k < src.length; k++) b[p++] = src[k];
  return p;
}

/**
 * Writes `v` as the inside of a JSON string in UTF-8 at `p`; returns the new offset. A loop over char codes
 * rather than `Buffer#write` per value: no call into C++ per field, no string built per row. Escapes what
 * RFC 8259 §7 requires (quote, backslash, U+0000-U+001F); a lone surrogate becomes U+FFFD, as `Buffer#write` does.
 */
export function encodeJsonChars(v: string, b: Buffer, p: number): number {
  for (let i = 0; i < v.length; i++) {
    let c = v.charCodeAt(i);
    if (c < 0x80) {
      if (c === 0x22 || c === 0x5c) {
        b[p++] = 0x5c;
        b[p++] = c;
      } else if (c < 0x20) {
        b[p++] = 0x5c;
        b[p++] = 0x75;
        b[p++] = 0x30;
        b[p++] = 0x30;
        b[p++] = HEX.charCodeAt(c >> 4);
        b[p++] = HEX.charCodeAt(c & 15);
      } else b[p++] = c;
    } else if (c < 0x800) {
      b[p++] = 0xc0 | (c >> 6);
      b[p++] = 0x80 | (c & 63);
    } else {
      if (c >= 0xd800 && c <= 0xdfff) {
        const next = i + 1 < v.length ? v.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
          const cp = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
          i++;
          b[p++] = 0xf0 | (cp >> 18);
          b[p++] = 0x80 | ((cp >> 12) & 63);
          b[p++] = 0x80 | ((cp >> 6) & 63);
          b[p++] = 0x80 | (cp & 63);
          continue;
        }
        c = 0xfffd;
      }
      b[p++] = 0xe0 | (c >> 12);
      b[p++] = 0x80 | ((c >> 6) & 63);
      b[p++] = 0x80 | (c & 63);
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

  /** Appends one row (`""` is written as null: an empty CSV field is a NULL). */
  row(fields: readonly string[], line: number): void {
    // Worst case per character is 6 bytes (\u00XX); grow once per row rather than check every byte.
    let need = 32 + this.lineKey.length;
    for (let i = 0; i < fields.length; i++) need += this.keys[i].length + 6 * fields[i].length + 6;
    if (this.pos + need > this.buf.length) this.grow(need);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < fields.length; i++) {
      p = put(this.keys[i], b, p);
      const v = fields[i];
      if (v.length === 0) {
        b[p++] = 0x6e; // null
        b[p++] = 0x75;
        b[p++] = 0x6c;
        b[p++] = 0x6c;
        continue;
      }
      b[p++] = 0x22;
      p = encodeJsonChars(v, b, p);
      b[p++] = 0x22;
    }
    p = put(this.lineKey, b, p);
    p = encodeJsonChars(String(line), b, p);
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

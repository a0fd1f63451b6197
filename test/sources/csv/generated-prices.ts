/**
 * Rows of the stack files' example feed (`supplier-prices`), generated as they are read: a CSV object of
 * any size, in the 1 MiB chunks a file or S3 stream gives, without writing it anywhere. The large-file test
 * validates more than a gigabyte of it (./stream-probe.ts); generating it where it is read spares writing
 * a gigabyte to disk and reading it back, which cost as much CPU as a third of the validation.
 *
 * No DuckDB or loader here (unlike ./harness.ts): the probe's peak RSS must be the validator's.
 */

export const PRICES_HEADER = "sku,supplier_id,price,currency,valid_from,updated_at\n";

/** Rows per block: the block is built once, then written again and again with its number patched in. */
const ROWS_PER_BLOCK = 100_000;

/** One block of rows; the six digits after each `SKU-` are the block's number, patched per copy. */
function block(): { bytes: Buffer; tagAt: Int32Array } {
  const lines: string[] = [];
  for (let i = 0; i < ROWS_PER_BLOCK; i++) {
    const price = `${(i * 7919) % 100_000}.${String(i % 10_000).padStart(4, "0")}`;
    const ts =
      i % 5 === 0
        ? ""
        : `2026-${String(1 + (i % 12)).padStart(2, "0")}-${String(1 + (i % 28)).padStart(2, "0")} 0${i % 10}:15:00.${i % 1000}`;
    // A quoted field with the delimiter inside, one row in seventeen.
    const currency = i % 17 === 0 ? '"R$, reais"' : "BRL";
    lines.push(
      `SKU-000000-${i},SUP-${i % 997},${price},${currency},2026-01-${String(1 + (i % 28)).padStart(2, "0")},${ts}\n`,
    );
  }
  const bytes = Buffer.from(lines.join(""));
  const tagAt = new Int32Array(ROWS_PER_BLOCK);
  let n = 0;
  for (let at = bytes.indexOf("SKU-"); at !== -1; at = bytes.indexOf("SKU-", at + 1)) tagAt[n++] = at + 4;
  if (n !== ROWS_PER_BLOCK) throw new Error(`generated-prices: ${n} rows in a block, not ${ROWS_PER_BLOCK}`);
  return { bytes, tagAt };
}

/** What a generated object held, known once it has been read to the end. */
export interface Generated {
  rows: number;
  bytes: number;
}

/**
 * The header, then blocks of rows until at least `minBytes` bytes, cut into `chunkBytes` chunks wherever
 * the cut falls (inside a row, a quoted field or a line break, as a stream cuts). Each chunk is a new
 * buffer. `totals` counts the rows and bytes handed out.
 */
export async function* pricesCsv(minBytes: number, totals: Generated, chunkBytes = 1 << 20): AsyncGenerator<Buffer> {
  const { bytes: rows, tagAt } = block();
  const header = Buffer.from(PRICES_HEADER);
  let chunk = Buffer.allocUnsafe(chunkBytes);
  let fill = 0;
  /** Copies `src` into chunks, yielding each one that fills up. */
  function* put(src: Buffer): Generator<Buffer> {
    for (let from = 0; from < src.length;) {
      const n = src.copy(chunk, fill, from, Math.min(src.length, from + chunkBytes - fill));
      from += n;
      fill += n;
      if (fill === chunkBytes) {
        yield chunk;
        chunk = Buffer.allocUnsafe(chunkBytes);
        fill = 0;
      }
    }
  }
  yield* put(header);
  totals.bytes += header.length;
  for (let n = 0; totals.bytes < minBytes; n++) {
    // The block number's six digits, patched byte by byte (a `Buffer#write` per row cost more than the rest).
    const tag = Buffer.from(String(n).padStart(6, "0"), "latin1");
    for (let r = 0; r < ROWS_PER_BLOCK; r++) {
      const at = tagAt[r];
      for (let k = 0; k < 6; k++) rows[at + k] = tag[k];
    }
    yield* put(rows);
    totals.bytes += rows.length;
    totals.rows += ROWS_PER_BLOCK;
  }
  if (fill > 0) yield chunk.subarray(0, fill);
}

/**
 * `npm run bench:csv`: the CSV validator's type checks (functions/csv-loader/validate.ts `checkFor`: loops
 * over a value's bytes where the parser found them) against the README's patterns as regular expressions
 * over decoded strings (./lib/csv-type-patterns.ts: how the validator checked them first), on the same
 * values in the same process, rounds alternating.
 * Prints nanoseconds per value for each and the ratio. The values are the example feed's (a price, a
 * date, a timestamp per row, as in test/sources/csv/large-file.test.ts) with one in twenty invalid.
 *
 *   BENCH_VALUES (default 1,000,000 per type), BENCH_ROUNDS (default 5)
 */
import type { CsvColumn } from "../../functions/csv-loader/feed";
import { checkFor } from "../../functions/csv-loader/validate";
import { patternProblem } from "./lib/csv-type-patterns";

const VALUES = Number(process.env.BENCH_VALUES ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

const pad = (n: number, w: number): string => String(n).padStart(w, "0");
const COLUMNS: readonly { column: CsvColumn; value(i: number): string }[] = [
  {
    column: { name: "price", type: "decimal", precision: 18, scale: 4 } as CsvColumn,
    value: (i) => (i % 20 === 0 ? `${i}.123456` : `${(i * 7919) % 100_000}.${pad(i % 10_000, 4)}`),
  },
  {
    column: { name: "valid_from", type: "date" } as CsvColumn,
    value: (i) => (i % 20 === 0 ? `2026-02-${29 + (i % 3)}` : `2026-${pad(1 + (i % 12), 2)}-${pad(1 + (i % 28), 2)}`),
  },
  {
    column: { name: "updated_at", type: "timestamp" } as CsvColumn,
    value: (i) =>
      i % 20 === 0
        ? `2026-01-01 24:00:0${i % 10}`
        : `2026-${pad(1 + (i % 12), 2)}-${pad(1 + (i % 28), 2)} 0${i % 10}:15:00.${i % 1000}`,
  },
];

/** One column's values, as strings and as the bytes of one buffer (where the parser would find them). */
interface ValueSet {
  readonly column: CsvColumn;
  readonly values: readonly string[];
  readonly bytes: Buffer;
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  /** The validator's check of the column. */
  readonly check: (b: Buffer, s: number, e: number) => string | undefined;
}

type Check = (set: ValueSet, i: number) => string | undefined;

/** Seconds to check every value once; the count of problems found keeps the work from being optimised away. */
function time(check: Check, sets: readonly ValueSet[]): { s: number; problems: number } {
  let problems = 0;
  const start = process.hrtime.bigint();
  for (const set of sets) {
    for (let i = 0; i < set.values.length; i++) if (check(set, i) !== undefined) problems++;
  }
  return { s: Number(process.hrtime.bigint() - start) / 1e9, problems };
}

function valueSet(column: CsvColumn, values: string[]): ValueSet {
  const bytes = Buffer.from(values.join(""), "utf8");
  const starts = new Int32Array(values.length);
  const ends = new Int32Array(values.length);
  for (let i = 0, at = 0; i < values.length; i++) {
    starts[i] = at;
    at += Buffer.byteLength(values[i]);
    ends[i] = at;
  }
  const check = checkFor(column);
  if (!check) throw new Error(`bench:csv: ${column.name} has no check`);
  return { column, values, bytes, starts, ends, check };
}

function main(): void {
  const sets = COLUMNS.map(({ column, value }) =>
    valueSet(
      column,
      Array.from({ length: VALUES }, (_, i) => value(i)),
    ),
  );
  const total = VALUES * sets.length;
  const checks: Record<string, Check> = {
    "byte loops (validator)": (set, i) => set.check(set.bytes, set.starts[i], set.ends[i]),
    "patterns (baseline)": (set, i) => patternProblem(set.column, set.values[i]),
  };
  const best: Record<string, number> = {};
  const found = new Set<number>();
  // A warm-up round each, then ROUNDS alternating; the best round of each is reported.
  for (let round = 0; round <= ROUNDS; round++) {
    for (const [name, check] of Object.entries(
      round % 2 === 0 ? checks : Object.fromEntries(Object.entries(checks).reverse()),
    )) {
      const r = time(check, sets);
      found.add(r.problems);
      if (round > 0) best[name] = Math.min(best[name] ?? Infinity, r.s);
    }
  }
  if (found.size !== 1)
    throw new Error(`the two checks disagree on how many values are invalid: ${[...found].join(" vs ")}`);
  console.log(
    `${total.toLocaleString("en")} values (decimal, date, timestamp; ${[...found][0]} invalid), best of ${ROUNDS} rounds`,
  );
  for (const [name, s] of Object.entries(best))
    console.log(`  ${name.padEnd(30)} ${((s * 1e9) / total).toFixed(1)} ns/value`);
  const loops = best["byte loops (validator)"];
  const patterns = best["patterns (baseline)"];
  console.log(
    `  ratio: the byte loops take ${(loops / patterns).toFixed(2)} of the patterns' time (${(patterns / loops).toFixed(1)}x as fast)`,
  );
}

main();

/**
 * `npm run bench:csv`: the CSV validator's type checks (functions/csv-loader/validate.ts `typeProblem`:
 * character loops) against the README's patterns as regular expressions (./lib/csv-type-patterns.ts: how
 * the validator checked them before), on the same values in the same process, rounds alternating.
 * Prints nanoseconds per value for each and the ratio. The values are the example feed's (a price, a
 * date, a timestamp per row, as in test/sources/csv/large-file.test.ts) with one in twenty invalid.
 *
 *   BENCH_VALUES (default 1,000,000 per type), BENCH_ROUNDS (default 5)
 */
import type { CsvColumn } from "../../functions/csv-loader/feed";
import { typeProblem } from "../../functions/csv-loader/validate";
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

type Check = (c: CsvColumn, v: string) => string | undefined;

/** Seconds to check every value once; the count of problems found keeps the work from being optimised away. */
function time(check: Check, sets: readonly { column: CsvColumn; values: string[] }[]): { s: number; problems: number } {
  let problems = 0;
  const start = process.hrtime.bigint();
  for (const { column, values } of sets) {
    for (let i = 0; i < values.length; i++) if (check(column, values[i]) !== undefined) problems++;
  }
  return { s: Number(process.hrtime.bigint() - start) / 1e9, problems };
}

function main(): void {
  const sets = COLUMNS.map(({ column, value }) => ({
    column,
    values: Array.from({ length: VALUES }, (_, i) => value(i)),
  }));
  const total = VALUES * sets.length;
  const checks: Record<string, Check> = {
    "character loops (validator)": typeProblem,
    "patterns (baseline)": patternProblem,
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
  const loops = best["character loops (validator)"];
  const patterns = best["patterns (baseline)"];
  console.log(
    `  ratio: the character loops take ${(loops / patterns).toFixed(2)} of the patterns' time (${(patterns / loops).toFixed(1)}x as fast)`,
  );
}

main();

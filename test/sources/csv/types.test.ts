/**
 * The validator's date, timestamp and decimal checks read character codes (functions/csv-loader/validate.ts);
 * the formats are defined as patterns (README "Types", tools/bench/lib/csv-type-patterns.ts). On values
 * generated around every boundary of those formats (a digit short or over, a wrong separator, day 0, 29
 * February, hour 24, a seventh fraction digit, leading zeros, precision equal to scale), both give the same
 * answer, message included.
 */
import { expect } from "chai";
import fc from "fast-check";
import type { CsvColumn } from "../../../functions/csv-loader/feed";
import { typeProblem } from "../../../functions/csv-loader/validate";
import { patternProblem } from "../../../tools/bench/lib/csv-type-patterns";

/** Digits, written with `n` characters at least (0-padded), sometimes one fewer or one more. */
const padded = (min: number, max: number, n: number): fc.Arbitrary<string> =>
  fc
    .tuple(fc.integer({ min, max }), fc.constantFrom(n, n, n, n - 1, n + 1))
    .map(([v, width]) => String(v).padStart(width, "0"));
/** Mostly `c`, sometimes another character or nothing. */
const sep = (c: string): fc.Arbitrary<string> => fc.constantFrom(c, c, c, c, c, c, "", "/", "x", "0", " ");
/** Characters that the formats use, for values with no structure at all. */
const noise = fc.string({ unit: fc.constantFrom(..."0123456789-:. TtEe+x"), maxLength: 30 });

const date = fc
  .tuple(padded(0, 10_000, 4), sep("-"), padded(0, 13, 2), sep("-"), padded(0, 32, 2))
  .map((parts) => parts.join(""));
const timestamp = fc
  .tuple(
    date,
    fc.constantFrom(" ", "T", " ", "T", "t", "_", ""),
    padded(0, 25, 2),
    sep(":"),
    padded(0, 61, 2),
    sep(":"),
    padded(0, 61, 2),
    fc.oneof(fc.constant(""), fc.stringMatching(/^\.?\d{0,8}$/)),
  )
  .map((parts) => parts.join(""));
const decimal = fc
  .tuple(
    fc.constantFrom("", "", "-", "+", "--"),
    fc.stringMatching(/^0{0,3}\d{0,20}$/),
    fc.constantFrom("", ".", ".", ",", ".."),
    fc.stringMatching(/^\d{0,7}$/),
    fc.constantFrom("", "", "", "e3", "x", " "),
  )
  .map((parts) => parts.join(""));

const column = (c: Partial<CsvColumn> & Pick<CsvColumn, "type">): CsvColumn => ({ name: "v", ...c }) as CsvColumn;
const DECIMALS = [
  column({ type: "decimal" }),
  column({ type: "decimal", precision: 18, scale: 4 }),
  column({ type: "decimal", precision: 38, scale: 9 }),
  column({ type: "decimal", precision: 4, scale: 4 }),
  column({ type: "decimal", precision: 5, scale: 0 }),
];

describe("CSV loader: the type checks answer as the README's patterns do", () => {
  const same = (c: CsvColumn) => (v: string) => {
    expect(typeProblem(c, v), JSON.stringify(v)).to.equal(patternProblem(c, v));
  };

  it("dates", () => {
    fc.assert(fc.property(fc.oneof(date, noise), same(column({ type: "date" }))), { numRuns: 5_000 });
  });

  it("timestamps", () => {
    fc.assert(fc.property(fc.oneof(timestamp, noise), same(column({ type: "timestamp" }))), { numRuns: 5_000 });
  });

  it("decimals, at every precision and scale, leading zeros and precision equal to scale included", () => {
    for (const c of DECIMALS) fc.assert(fc.property(fc.oneof(decimal, noise), same(c)), { numRuns: 2_000 });
  });

  it("the boundaries, written out", () => {
    const d = column({ type: "date" });
    const t = column({ type: "timestamp" });
    for (const v of ["2024-02-29", "2023-02-29", "1900-02-29", "2000-02-29", "2026-04-31", "2026-12-31", "0000-01-01"])
      same(d)(v);
    for (const v of [
      "2026-01-01 23:59:59",
      "2026-01-01 24:00:00",
      "2026-01-01T00:00:00.123456",
      "2026-01-01 00:00:00.",
    ])
      same(t)(v);
    same(t)("2026-01-01 00:00:00.1234567");
    for (const c of DECIMALS) for (const v of ["0.1234", "-0", "000", "1.", ".5", "12345", "0000012345.0"]) same(c)(v);
    // Not vacuous: each kind of answer occurs.
    expect(typeProblem(d, "2024-02-29")).to.equal(undefined);
    expect(typeProblem(d, "2023-02-29")).to.match(/not a date/);
    expect(typeProblem(DECIMALS[3], "0.1234")).to.equal(undefined);
    expect(typeProblem(DECIMALS[3], "1.1234")).to.match(/more than 0 digits before/);
    expect(typeProblem(DECIMALS[0], "1.123")).to.match(/more than 2 digits after/);
  });
});

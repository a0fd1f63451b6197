/**
 * The loader's own streaming CSV parser against csv-parse (a maintained RFC 4180 parser) on random
 * files: fields with delimiters (one to three UTF-8 bytes), quotes, CR, LF and non-ASCII text, LF or CRLF
 * line ends, cut into random chunks at any byte (inside a character or a delimiter too). Same records,
 * same fields, whatever the cuts; and the problems it reports are where a file is malformed.
 */
import { expect } from "chai";
import { parse } from "csv-parse/sync";
import fc from "fast-check";
import { CsvRecordParser, MAX_RECORD_BYTES, type ParseError } from "../../../functions/csv-loader/parser";

/** A record as the parser handed it over (its view is reused for the next one, so the test keeps a copy). */
interface Seen {
  fields: string[];
  quoted: boolean[];
  line: number;
  multiline: boolean;
}

/** Parses `text`'s UTF-8 bytes, pushed in pieces cut at the byte offsets `cuts`. */
function run(text: string, delimiter: string, cuts: readonly number[]): { records: Seen[]; errors: ParseError[] } {
  const records: Seen[] = [];
  const errors: ParseError[] = [];
  const p = new CsvRecordParser(
    delimiter,
    (r) =>
      records.push({
        fields: r.fields(),
        quoted: Array.from({ length: r.count }, (_, i) => r.quoted(i)),
        line: r.line,
        multiline: r.multiline,
      }),
    (e) => errors.push(e),
  );
  const bytes = Buffer.from(text, "utf8");
  let at = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    p.push(bytes.subarray(at, Math.max(at, cut)));
    at = Math.max(at, cut);
  }
  p.push(bytes.subarray(at));
  p.end();
  return { records, errors };
}

/** A field as a writer would quote it: only when it must. */
const quoteField = (v: string, d: string): string =>
  /["\r\n]/.test(v) || v.includes(d) ? `"${v.replace(/"/g, '""')}"` : v;

const field = fc.oneof(
  fc.string({
    unit: fc.constantFrom("a", "b", " ", "é", "€", "§", "😀", ",", ";", '"', "\n", "\r\n", "x"),
    maxLength: 8,
  }),
  fc.string({ maxLength: 6 }),
);

describe("CSV loader: streaming parser", () => {
  it("reads what csv-parse reads, for any content, delimiter, line end and chunking", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(",", ";", "\t", "|", "§", "€"),
        fc.constantFrom("\n", "\r\n"),
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.array(field, { minLength: 5, maxLength: 5 }), { minLength: 1, maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (d, eol, width, rows, rawCuts) => {
          const table = rows.map((r) => r.slice(0, width));
          // A single empty field is an empty line, which csv-parse skips and the loader reads as one field.
          fc.pre(table.every((r) => r.length > 1 || r[0] !== ""));
          const text = table.map((r) => r.map((v) => quoteField(v, d)).join(d) + eol).join("");
          const cuts = rawCuts.map((c) => c % (Buffer.byteLength(text) + 1));
          const { records, errors } = run(text, d, cuts);
          expect(errors).to.deep.equal([]);
          const expected = parse(text, {
            delimiter: d,
            relax_quotes: false,
            record_delimiter: ["\n", "\r\n"],
          }) as string[][];
          expect(records.map((r) => r.fields)).to.deep.equal(expected);
          expect(records.map((r) => r.fields)).to.deep.equal(table);
          expect(records.map((r) => r.quoted)).to.deep.equal(table.map((r) => r.map((v) => quoteField(v, d) !== v)));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("numbers records by the line they start on, counting line breaks inside quotes", () => {
    const { records } = run('a,b\n"x\ny",z\nc,d\n', ",", [3, 7]);
    expect(records.map((r) => [r.line, r.fields])).to.deep.equal([
      [1, ["a", "b"]],
      [2, ["x\ny", "z"]],
      [4, ["c", "d"]],
    ]);
  });

  it("reports malformed quoting where it is, and goes on with the next line", () => {
    const { records, errors } = run('a,b"c\n"x"y,z\nok,1\n"open,2\n', ",", []);
    expect(errors).to.deep.equal([
      { problem: "quote-in-unquoted-field", line: 1, column: 2 },
      { problem: "text-after-closing-quote", line: 2, column: 1 },
      { problem: "unterminated-quote", line: 4, column: 1 },
    ]);
    expect(records.map((r) => r.fields)).to.deep.equal([["ok", "1"]]);
  });

  it("stops on a record longer than its bound instead of holding the rest of the file", () => {
    const errors: ParseError[] = [];
    const p = new CsvRecordParser(
      ",",
      () => undefined,
      (e) => errors.push(e),
    );
    p.push(Buffer.from('a,b\n"never closed'));
    for (let i = 0; i < 3; i++) p.push(Buffer.alloc(MAX_RECORD_BYTES / 2, "x"));
    p.end();
    expect(errors).to.deep.equal([{ problem: "record-too-long", line: 2 }]);
    expect(p.hasStopped).to.equal(true);
  });
});

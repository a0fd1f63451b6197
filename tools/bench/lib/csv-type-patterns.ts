/**
 * The CSV loader's type formats (functions/csv-loader/README.md, "Types") as regular expressions, the way
 * the validator first checked them: the reference that test/sources/csv/types.test.ts holds the
 * validator's character loops to, and the baseline tools/bench/csv-validator.ts times them against. The
 * calendar rule (days per month, leap years), which did not change, is the validator's own `validDate`.
 */
import { decimalPrecision, decimalScale, type CsvColumn } from "../../../functions/csv-loader/feed";
import { validDate } from "../../../functions/csv-loader/validate";

const DECIMAL = /^-?(\d+)(?:\.(\d+))?$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.\d{1,6})?$/;
/** The groups of a date pattern's match as a calendar day (the validator's own calendar rule). */
const validDay = (y: string, m: string, d: string): boolean => validDate(Number(y), Number(m), Number(d));

/** The reference answer for the types the validator checks with character loops (else undefined). */
export function patternProblem(c: CsvColumn, value: string): string | undefined {
  switch (c.type) {
    case "decimal": {
      const m = DECIMAL.exec(value);
      if (!m) return "not a decimal number (digits, an optional '.', no exponent)";
      const scale = decimalScale(c);
      const intDigits = m[1].replace(/^0+(?=\d)/, "").length;
      if ((m[2]?.length ?? 0) > scale) return `more than ${scale} digits after the point`;
      const max = decimalPrecision(c) - scale;
      return intDigits > max && !/^0+$/.test(m[1]) ? `more than ${max} digits before the point` : undefined;
    }
    case "date": {
      const m = DATE.exec(value);
      return m && validDay(m[1], m[2], m[3]) ? undefined : "not a date (YYYY-MM-DD)";
    }
    case "timestamp": {
      const m = TIMESTAMP.exec(value);
      const ok = m && validDay(m[1], m[2], m[3]) && Number(m[4]) < 24 && Number(m[5]) < 60 && Number(m[6]) < 60;
      return ok ? undefined : "not a timestamp (YYYY-MM-DD HH:MM:SS[.ffffff], UTC)";
    }
    default:
      throw new Error(`no reference pattern for ${c.type}`);
  }
}

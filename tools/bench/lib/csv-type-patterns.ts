/**
 * The CSV loader's type formats (functions/csv-loader/README.md, "Types") as regular expressions, the way
 * the validator first checked them: the reference that test/sources/csv/types.test.ts holds the
 * validator's character loops to, and the baseline tools/bench/csv-validator.ts times them against.
 */
import { decimalPrecision, decimalScale, type CsvColumn } from "../../../functions/csv-loader/feed";

const DECIMAL = /^-?(\d+)(?:\.(\d+))?$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.\d{1,6})?$/;
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function validDate(y: string, m: string, d: string): boolean {
  const year = Number(y);
  const month = Number(m);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= MONTH_DAYS[month - 1] + (leap ? 1 : 0);
}

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
      return m && validDate(m[1], m[2], m[3]) ? undefined : "not a date (YYYY-MM-DD)";
    }
    case "timestamp": {
      const m = TIMESTAMP.exec(value);
      const ok = m && validDate(m[1], m[2], m[3]) && Number(m[4]) < 24 && Number(m[5]) < 60 && Number(m[6]) < 60;
      return ok ? undefined : "not a timestamp (YYYY-MM-DD HH:MM:SS[.ffffff], UTC)";
    }
    default:
      throw new Error(`no reference pattern for ${c.type}`);
  }
}

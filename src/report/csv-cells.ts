// The CSV files s2bench writes (results.csv, summary.csv, compare.csv) open in spreadsheets, and trace
// names are user data. A text cell starting with = + - @ tab or CR would run as a formula there
// (OWASP "CSV injection"), so csv-stringify's escape_formulas prefixes it with a quote ('); numbers
// stay numbers (-1 is written as -1). Readers undo the prefix, so names round-trip exactly.

import { stringify, type Options } from 'csv-stringify/sync';

/** A cell as a spreadsheet would take it for a formula, or such a cell already behind quotes. */
const ESCAPED = /^'+[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;

/**
 * Rows to CSV text with formula-like text cells escaped. A text cell that already looks escaped
 * (`'=x`) gets one more quote, so that reading it back gives the original text and not `=x`.
 */
export function stringifySafe(records: ReadonlyArray<ReadonlyArray<string | number>>, options: Options = {}): string {
  return stringify(records as Array<Array<string | number>>, {
    ...options,
    escape_formulas: true,
    cast: {
      ...options.cast,
      string: (text: string) => (ESCAPED.test(text) ? `'${text}` : text),
    },
  });
}

/** The text a cell held before stringifySafe escaped it. */
export function unescapeCell(text: string): string {
  return ESCAPED.test(text) ? text.slice(1) : text;
}

// results.csv: long/tidy form, one row per run x trace x profile x metric x repeat, so that it loads
// straight into pandas (`pd.read_csv`) or a spreadsheet pivot table. Written and read with the csv
// libraries, never with string joins, so names with commas or quotes survive.

import { parse } from 'csv-parse/sync';
import { METRIC_NAMES } from '../core/metrics.js';
import { RunDirError } from '../errors.js';
import { stringifySafe, unescapeCell } from './csv-cells.js';
import { describeIssue, RESULT_ROW_SCHEMA } from './run-schema.js';
import { RESULTS_COLUMNS, type JobResult, type ResultRow } from './types.js';
import { metricKind, unitOf } from './units.js';

const SCHEMA_ORDER = new Map<string, number>(METRIC_NAMES.map((name, i) => [name, i]));

function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Schema metrics in schema order, then other modeled names, then timing names, each alphabetical. */
export function compareMetricNames(a: string, b: string): number {
  const rank = (n: string): number => SCHEMA_ORDER.get(n) ?? (metricKind(n) === 'modeled' ? 1000 : 2000);
  return rank(a) - rank(b) || byCodePoint(a, b);
}

/** Jobs ordered by trace, profile, repeat: the file's row order does not depend on which worker finished first. */
export function sortJobs(jobs: readonly JobResult[]): JobResult[] {
  return [...jobs].sort((x, y) => byCodePoint(x.trace, y.trace) || byCodePoint(x.profile, y.profile) || x.repeat - y.repeat);
}

/**
 * The rows of results.csv. A failed job contributes the figures it has (usually none); its status and
 * error live in run.json. Non-finite values (a rate over a zero duration) are left out rather than
 * written as text that would turn a numeric column into strings.
 */
export function resultRows(runId: string, jobs: readonly JobResult[]): ResultRow[] {
  const rows: ResultRow[] = [];
  for (const job of sortJobs(jobs)) {
    const values = new Map<string, number>();
    for (const [name, value] of Object.entries(job.modeled)) values.set(name, value);
    for (const [name, value] of Object.entries(job.timing)) values.set(name, value);
    for (const name of [...values.keys()].sort(compareMetricNames)) {
      const value = values.get(name)!;
      if (!Number.isFinite(value)) continue;
      rows.push({ run: runId, trace: job.trace, profile: job.profile, metric: name, unit: unitOf(name), repeat: job.repeat, value });
    }
  }
  return rows;
}

export function formatResultsCsv(rows: readonly ResultRow[], header = true): string {
  return stringifySafe(
    rows.map((r) => [r.run, r.trace, r.profile, r.metric, r.unit, r.repeat, r.value]),
    { header, columns: [...RESULTS_COLUMNS], cast: { number: (n) => String(n) } },
  );
}

export interface ParseResultsOptions {
  /**
   * The file may end in a torn line: a run that died while appending. Only an incomplete run's file
   * may; the rows before it are kept.
   */
  tornTail?: boolean;
}

/**
 * Parses results.csv back; `file` names the file in error messages. The header must be exactly
 * RESULTS_COLUMNS and each row must match RESULT_ROW_SCHEMA (plain decimal numbers, whole repeats).
 */
export function parseResultsCsv(text: string, file: string, options: ParseResultsOptions = {}): ResultRow[] {
  if (options.tornTail && text !== '' && !text.endsWith('\n')) text = text.slice(0, text.lastIndexOf('\n') + 1);
  let records: Array<{ record: string[]; info: { lines: number } }>;
  try {
    // info: the line each record ends on, which differs from its index when a name holds a newline.
    records = parse(text, { relax_column_count: true, info: true }) as unknown as typeof records;
  } catch (err) {
    throw new RunDirError(`${file}: ${(err as Error).message}`);
  }
  const header = records[0]?.record;
  if (header === undefined) throw new RunDirError(`${file}: empty: expected the header ${RESULTS_COLUMNS.join(',')}`);
  if (header.join(',') !== RESULTS_COLUMNS.join(',')) {
    throw new RunDirError(`${file}: line 1: header is '${header.join(',').slice(0, 200)}', expected '${RESULTS_COLUMNS.join(',')}'`);
  }
  const rows: ResultRow[] = [];
  for (let i = 1; i < records.length; i++) {
    const { record, info } = records[i]!;
    const at = `${file}: line ${info.lines}`;
    if (record.length !== RESULTS_COLUMNS.length) throw new RunDirError(`${at}: ${record.length} fields, expected ${RESULTS_COLUMNS.length}`);
    const cells = Object.fromEntries(RESULTS_COLUMNS.map((col, c) => [col, unescapeCell(record[c]!)]));
    const parsed = RESULT_ROW_SCHEMA.safeParse(cells);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const col = String(issue.path[0] ?? '');
      throw new RunDirError(`${at}: ${describeIssue(parsed.error)}${col ? ` ('${String(cells[col]).slice(0, 80)}')` : ''}`);
    }
    rows.push(parsed.data);
  }
  return rows;
}

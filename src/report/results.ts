// results.csv: long/tidy form, one row per run x trace x profile x metric x repeat, so that it loads
// straight into pandas (`pd.read_csv`) or a spreadsheet pivot table. Written and read with the csv
// libraries, never with string joins, so names with commas or quotes survive.

import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { METRIC_NAMES } from '../core/metrics.js';
import { RunDirError } from '../errors.js';
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

export function formatResultsCsv(rows: readonly ResultRow[]): string {
  return stringify(
    rows.map((r) => [r.run, r.trace, r.profile, r.metric, r.unit, r.repeat, r.value]),
    { header: true, columns: [...RESULTS_COLUMNS], cast: { number: (n) => String(n) } },
  );
}

/** Parses results.csv back; `file` names the file in error messages. */
export function parseResultsCsv(text: string, file: string): ResultRow[] {
  let records: Record<string, string>[];
  try {
    records = parse(text, { columns: true, skip_empty_lines: true }) as Record<string, string>[];
  } catch (err) {
    throw new RunDirError(`${file}: ${(err as Error).message}`);
  }
  const rows: ResultRow[] = [];
  records.forEach((rec, i) => {
    const line = i + 2;
    for (const col of RESULTS_COLUMNS) {
      if (rec[col] === undefined) throw new RunDirError(`${file}: line ${line}: missing column '${col}'`);
    }
    const repeat = Number(rec['repeat']);
    const value = Number(rec['value']);
    if (!Number.isInteger(repeat) || repeat < 0) {
      throw new RunDirError(`${file}: line ${line}: field 'repeat': '${rec['repeat']}' is not a whole number`);
    }
    if (rec['value'] === '' || !Number.isFinite(value)) {
      throw new RunDirError(`${file}: line ${line}: field 'value': '${rec['value']}' is not a number`);
    }
    rows.push({ run: rec['run']!, trace: rec['trace']!, profile: rec['profile']!, metric: rec['metric']!, unit: rec['unit']!, repeat, value });
  });
  return rows;
}

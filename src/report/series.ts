// series.csv: counters sampled over the course of each trace's replay (src/replay/series.ts), one per
// trace x profile (repeat 0: modeled counters are the same in every repeat). Long form, so any tool can
// plot it: `trace,profile,metric,events,value`. A metric that stays 0 throughout has no rows; the
// pseudo-metric `dirty_get.pages` holds the pages each `dirty_get` reported, at that row's event.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { RunDirError } from '../errors.js';
import { groupKey } from './groups.js';
import type { JobResult } from './types.js';

export const SERIES_FILE = 'series.csv';
export const SERIES_COLUMNS = ['trace', 'profile', 'metric', 'events', 'value'] as const;
/** The pseudo-metric of `dirty_get` answers: x is the row's event, the value the pages reported. */
export const DIRTY_PASS_SERIES = 'dirty_get.pages';

/** Plain arrays: a series crosses the worker boundary with its job's result. */
export interface JobSeries {
  /** Events replayed at each sample, ascending; the last is the end of the trace. */
  events: number[];
  /** By metric name, one value per sample. */
  values: Record<string, number[]>;
  /** [event of the row, pages the model reported] for every `dirty_get`. */
  dirtyPasses: Array<[number, number]>;
}

/** Series by groupKey(trace, profile). */
export type SeriesByGroup = ReadonlyMap<string, JobSeries>;

export function seriesOfJobs(jobs: readonly JobResult[]): Map<string, JobSeries> {
  const out = new Map<string, JobSeries>();
  for (const job of jobs) {
    const key = groupKey(job.trace, job.profile);
    if (job.series !== undefined && !out.has(key)) out.set(key, job.series);
  }
  return out;
}

export function formatSeriesCsv(series: SeriesByGroup): string {
  const records: Array<Array<string | number>> = [];
  for (const [key, s] of series) {
    const [trace, profile] = key.split('\u0000') as [string, string];
    for (const [metric, values] of Object.entries(s.values)) {
      if (values.every((v) => v === 0)) continue;
      values.forEach((value, k) => records.push([trace, profile, metric, s.events[k]!, value]));
    }
    for (const [event, pages] of s.dirtyPasses) records.push([trace, profile, DIRTY_PASS_SERIES, event, pages]);
  }
  return stringify(records, { header: true, columns: [...SERIES_COLUMNS] });
}

/** Reads series.csv back; metrics absent for a group read as zeros at its sampled events. */
export function parseSeriesCsv(text: string, path: string): Map<string, JobSeries> {
  let rows: Array<Record<string, string>>;
  try {
    rows = parse(text, { columns: true, skip_empty_lines: true }) as Array<Record<string, string>>;
  } catch (err) {
    throw new RunDirError(`${path}: ${(err as Error).message}`);
  }
  const byGroup = new Map<string, { samples: Map<string, Map<number, number>>; dirtyPasses: Array<[number, number]> }>();
  rows.forEach((row, i) => {
    const events = Number(row['events']);
    const value = Number(row['value']);
    if (!row['trace'] || !row['profile'] || !row['metric'] || !Number.isFinite(events) || !Number.isFinite(value)) {
      throw new RunDirError(`${path}: line ${i + 2}: expected ${SERIES_COLUMNS.join(',')} with numeric events and value`);
    }
    const key = groupKey(row['trace'], row['profile']);
    let g = byGroup.get(key);
    if (g === undefined) byGroup.set(key, (g = { samples: new Map(), dirtyPasses: [] }));
    if (row['metric'] === DIRTY_PASS_SERIES) g.dirtyPasses.push([events, value]);
    else {
      if (!g.samples.has(row['metric'])) g.samples.set(row['metric'], new Map());
      g.samples.get(row['metric'])!.set(events, value);
    }
  });
  const out = new Map<string, JobSeries>();
  for (const [key, g] of byGroup) {
    const events = [...new Set([...g.samples.values()].flatMap((m) => [...m.keys()]))].sort((a, b) => a - b);
    const values = Object.fromEntries([...g.samples].map(([metric, m]) => [metric, events.map((e) => m.get(e) ?? 0)]));
    out.set(key, { events, values, dirtyPasses: g.dirtyPasses });
  }
  return out;
}

/** A run directory's series.csv, or no series when the run has none (made before series existed). */
export async function readSeriesFile(dir: string): Promise<Map<string, JobSeries>> {
  const path = join(dir, SERIES_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw new RunDirError(`${path}: ${(err as Error).message}`);
  }
  return parseSeriesCsv(text, path);
}

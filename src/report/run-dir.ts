// Reads a run directory back (run.json + results.csv) for `report`, `compare` and `merge`, and checks
// that the two files belong together: a torn reuse of a directory once left a new run.json beside an
// old results.csv, and the report showed old figures under the new run id.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RunDirError } from '../errors.js';
import { groupJobs, groupKey, jobsFromRows, type Group } from './groups.js';
import { parseResultsCsv } from './results.js';
import { describeIssue, RUN_INFO_SCHEMA } from './run-schema.js';
import type { JobResult, ResultRow, RunInfo } from './types.js';
import { RUN_FILES } from './files.js';
import { unitOf } from './units.js';

export interface LoadedRun {
  dir: string;
  info: RunInfo;
  jobs: JobResult[];
  groups: Group[];
}

async function readText(dir: string, name: string): Promise<string> {
  const path = join(dir, name);
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new RunDirError(`${path}: not found (is ${dir} a results directory of s2bench run?)`);
    throw new RunDirError(`${path}: ${(err as Error).message}`);
  }
}

export function parseRunInfo(text: string, path: string): RunInfo {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new RunDirError(`${path}: not valid JSON: ${(err as Error).message}`);
  }
  const result = RUN_INFO_SCHEMA.safeParse(value);
  if (!result.success) throw new RunDirError(`${path}: ${describeIssue(result.error)}`);
  return result.data as RunInfo;
}

/** A run that died, or is still going: its results are the jobs that finished. */
export function isIncomplete(info: RunInfo): boolean {
  return info.complete === false;
}

/**
 * results.csv must be this run.json's: its run id on every row, units as this s2bench names them,
 * every row a job run.json planned (an incomplete run may have appended a job's rows just before it
 * died, before run.json listed the job), no row twice, and rows for every job run.json calls ok.
 */
export function checkResultsBelong(info: RunInfo, rows: readonly ResultRow[], file: string): void {
  const planned = new Map<string, 'ok' | 'failed'>();
  const keyOf = (trace: string, profile: string, repeat: number): string => `${groupKey(trace, profile)}\u0000${repeat}`;
  for (const j of info.jobs) planned.set(keyOf(j.trace, j.profile, j.repeat), j.status);
  const withRows = new Set<string>();
  const seen = new Set<string>();
  rows.forEach((r, i) => {
    const at = `${file}: line ${i + 2}`;
    if (r.run !== info.runId) {
      throw new RunDirError(`${at}: field 'run': '${r.run}' is not this run's id '${info.runId}' (results.csv of another run beside this run.json?)`);
    }
    const unit = unitOf(r.metric);
    if (r.unit !== unit) throw new RunDirError(`${at}: field 'unit': '${r.unit}' is not the unit of ${r.metric} ('${unit}')`);
    const key = keyOf(r.trace, r.profile, r.repeat);
    if (!planned.has(key) && !isIncomplete(info)) {
      throw new RunDirError(`${at}: ${r.trace} [${r.profile}] repeat ${r.repeat} is not a job of run.json`);
    }
    const rowKey = `${key}\u0000${r.metric}`;
    if (seen.has(rowKey)) throw new RunDirError(`${at}: ${r.metric} of ${r.trace} [${r.profile}] repeat ${r.repeat} is there twice`);
    seen.add(rowKey);
    withRows.add(key);
  });
  for (const j of info.jobs) {
    if (j.status === 'ok' && !withRows.has(keyOf(j.trace, j.profile, j.repeat))) {
      throw new RunDirError(`${file}: no results for ${j.trace} [${j.profile}] repeat ${j.repeat}, which run.json says finished ok`);
    }
  }
}

export async function readRunDir(dir: string): Promise<LoadedRun> {
  const infoPath = join(dir, RUN_FILES.info);
  const resultsPath = join(dir, RUN_FILES.results);
  const info = parseRunInfo(await readText(dir, RUN_FILES.info), infoPath);
  const rows = parseResultsCsv(await readText(dir, RUN_FILES.results), resultsPath, { tornTail: isIncomplete(info) });
  checkResultsBelong(info, rows, resultsPath);
  const jobs = jobsFromRows(info, rows);
  return { dir, info, jobs, groups: groupJobs(jobs) };
}

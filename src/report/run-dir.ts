// Reads a run directory back (run.json + results.csv) for `report` and `compare`.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RunDirError } from '../errors.js';
import { groupJobs, jobsFromRows, type Group } from './groups.js';
import { parseResultsCsv } from './results.js';
import type { JobResult, RunInfo } from './types.js';
import { RUN_FILES } from './files.js';

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

function parseRunInfo(text: string, path: string): RunInfo {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new RunDirError(`${path}: not valid JSON: ${(err as Error).message}`);
  }
  const info = value as Partial<RunInfo> | null;
  if (info === null || typeof info !== 'object') throw new RunDirError(`${path}: expected a JSON object`);
  for (const field of ['runId', 'traces', 'jobs'] as const) {
    if (info[field] === undefined) throw new RunDirError(`${path}: missing field '${field}'`);
  }
  if (!Array.isArray(info.traces)) throw new RunDirError(`${path}: field 'traces' must be an array`);
  if (!Array.isArray(info.jobs)) throw new RunDirError(`${path}: field 'jobs' must be an array`);
  return info as RunInfo;
}

export async function readRunDir(dir: string): Promise<LoadedRun> {
  const infoPath = join(dir, RUN_FILES.info);
  const resultsPath = join(dir, RUN_FILES.results);
  const info = parseRunInfo(await readText(dir, RUN_FILES.info), infoPath);
  const rows = parseResultsCsv(await readText(dir, RUN_FILES.results), resultsPath);
  const jobs = jobsFromRows(info, rows);
  return { dir, info, jobs, groups: groupJobs(jobs) };
}

// The view the summary, the report and compare share: one group per trace x profile, its modeled
// counters (identical for every repeat) and its timing samples (one per successful repeat).

import { compareMetricNames, sortJobs } from './results.js';
import type { JobResult, ResultRow, RunInfo } from './types.js';
import { metricKind } from './units.js';

export interface JobFailure {
  repeat: number;
  error: string;
}

export interface Group {
  trace: string;
  profile: string;
  /** Jobs planned (successful + failed). */
  repeats: number;
  failures: JobFailure[];
  /** Largest divergence count over the repeats. */
  divergences: number;
  /** Modeled counters of the first successful repeat; empty when every repeat failed. */
  modeled: Record<string, number>;
  /** Modeled metric names whose value differed between repeats: a determinism bug in the model. */
  unstable: string[];
  /** Timing samples by metric, in repeat order. */
  timing: Record<string, number[]>;
}

export function groupKey(trace: string, profile: string): string {
  return `${trace}\u0000${profile}`;
}

export function groupJobs(jobs: readonly JobResult[]): Group[] {
  const groups = new Map<string, Group>();
  for (const job of sortJobs(jobs)) {
    const key = groupKey(job.trace, job.profile);
    let g = groups.get(key);
    if (!g) {
      g = { trace: job.trace, profile: job.profile, repeats: 0, failures: [], divergences: 0, modeled: {}, unstable: [], timing: {} };
      groups.set(key, g);
    }
    g.repeats++;
    g.divergences = Math.max(g.divergences, job.divergences);
    if (job.status === 'failed') {
      g.failures.push({ repeat: job.repeat, error: job.error ?? 'unknown error' });
      continue;
    }
    const first = Object.keys(g.modeled).length === 0;
    for (const [name, value] of Object.entries(job.modeled)) {
      if (first) g.modeled[name] = value;
      else if (g.modeled[name] !== value && !g.unstable.includes(name)) g.unstable.push(name);
    }
    for (const [name, value] of Object.entries(job.timing)) {
      if (!Number.isFinite(value)) continue;
      (g.timing[name] ??= []).push(value);
    }
  }
  for (const g of groups.values()) g.unstable.sort(compareMetricNames);
  return [...groups.values()];
}

/**
 * Rebuilds job results from results.csv rows and run.json: run.json knows every planned job and its
 * status (a failed job may have no rows at all), the rows carry the figures.
 */
export function jobsFromRows(info: RunInfo, rows: readonly ResultRow[]): JobResult[] {
  const jobs = new Map<string, JobResult>();
  const keyOf = (trace: string, profile: string, repeat: number): string => `${groupKey(trace, profile)}\u0000${repeat}`;
  for (const j of info.jobs) {
    jobs.set(keyOf(j.trace, j.profile, j.repeat), {
      trace: j.trace,
      tracePath: info.traces.find((t) => t.name === j.trace)?.path ?? '',
      profile: j.profile,
      repeat: j.repeat,
      status: j.status,
      ...(j.error !== undefined ? { error: j.error } : {}),
      modeled: {},
      timing: {},
      divergences: j.divergences,
    });
  }
  for (const r of rows) {
    const key = keyOf(r.trace, r.profile, r.repeat);
    let job = jobs.get(key);
    if (!job) {
      // Rows without a run.json entry (an older or hand-edited run.json): count them as successful.
      job = { trace: r.trace, tracePath: '', profile: r.profile, repeat: r.repeat, status: 'ok', modeled: {}, timing: {}, divergences: 0 };
      jobs.set(key, job);
    }
    if (metricKind(r.metric) === 'modeled') job.modeled[r.metric] = r.value;
    else job.timing[r.metric] = r.value;
    if (r.metric === 'divergences') job.divergences = Math.max(job.divergences, r.value);
  }
  return [...jobs.values()];
}

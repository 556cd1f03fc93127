// Runs a suite's jobs on a piscina worker pool. Each job is independent (a fresh Vm per job), so the
// modeled counters cannot depend on the number of workers; results come back in job order whatever
// order the workers finish in. A job that throws, or a task whose worker dies, is marked failed with
// its error, and every other job's result is kept.
//
// A task is one trace x profile with all its repeats: the worker replays the trace once untimed to
// warm the JIT (job.ts) and then times every repeat, so adding workers adds no warm-up work. Tasks go
// out largest trace first, so the last ones to finish are small and the workers stay busy to the end.

import { statSync } from 'node:fs';
import { Piscina } from 'piscina';
import type { JobResult } from '../report/types.js';
import { describeError, type JobRequest } from './job.js';

export interface PoolOptions {
  workers: number;
  /** The worker module (a file URL); tests substitute their own to inject failures. */
  workerFile?: URL;
  /** Called as each job finishes, in completion order. */
  onResult?: (result: JobResult, done: number, total: number) => void;
}

const DEFAULT_WORKER = new URL('./worker.js', import.meta.url);

/** Jobs grouped by trace x profile, in job order within a group, largest trace file first. */
function tasksOf(jobs: readonly JobRequest[]): JobRequest[][] {
  const groups = new Map<string, JobRequest[]>();
  for (const job of jobs) {
    const key = `${job.tracePath}\u0000${job.profile}`;
    const group = groups.get(key);
    if (group) group.push(job);
    else groups.set(key, [job]);
  }
  const size = (path: string): number => {
    try {
      return statSync(path).size;
    } catch {
      return 0; // an unreadable trace fails fast in the worker
    }
  };
  return [...groups.values()].sort((a, b) => size(b[0]!.tracePath) - size(a[0]!.tracePath) || a[0]!.index - b[0]!.index);
}

function failed(job: JobRequest, error: string): JobResult {
  return {
    trace: job.trace,
    tracePath: job.tracePath,
    profile: job.profile.name,
    repeat: job.repeat,
    status: 'failed',
    error,
    modeled: {},
    timing: {},
    divergences: 0,
  };
}

export async function runPool(jobs: JobRequest[], options: PoolOptions): Promise<JobResult[]> {
  const pool = new Piscina<JobRequest[], JobResult[]>({
    filename: (options.workerFile ?? DEFAULT_WORKER).href,
    minThreads: options.workers,
    maxThreads: options.workers,
    // Jobs are CPU-bound: one at a time per thread, or timings measure contention.
    concurrentTasksPerWorker: 1,
    idleTimeout: 1000,
  });
  const results = new Array<JobResult>(jobs.length);
  let done = 0;
  try {
    await Promise.all(
      tasksOf(jobs).map(async (task) => {
        let taskResults: JobResult[];
        try {
          taskResults = await pool.run(task);
        } catch (err) {
          // The worker died (crash, exit, out of memory) or threw: piscina replaces it and rejects this
          // task; its jobs fail, nobody else's.
          taskResults = task.map((job) => failed(job, `worker died: ${describeError(err)}`));
        }
        task.forEach((job, k) => {
          results[job.index] = taskResults[k]!;
          done++;
          options.onResult?.(taskResults[k]!, done, jobs.length);
        });
      }),
    );
  } finally {
    await pool.destroy();
  }
  return results;
}

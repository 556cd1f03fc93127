// Runs a suite's jobs on a piscina worker pool. Each job is independent (a fresh Vm per job), so the
// modeled counters cannot depend on the number of workers; results come back in job order whatever
// order the workers finish in. A job that throws or whose worker dies is marked failed with its error,
// and every other job's result is kept.

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

export async function runPool(jobs: JobRequest[], options: PoolOptions): Promise<JobResult[]> {
  const pool = new Piscina<JobRequest, JobResult>({
    filename: (options.workerFile ?? DEFAULT_WORKER).href,
    minThreads: options.workers,
    maxThreads: options.workers,
    // Jobs are CPU-bound: one at a time per thread, or timings measure contention.
    concurrentTasksPerWorker: 1,
    idleTimeout: 1000,
  });
  let done = 0;
  try {
    return await Promise.all(
      jobs.map(async (job) => {
        let result: JobResult;
        try {
          result = await pool.run(job);
        } catch (err) {
          // The worker died (crash, exit, out of memory): piscina replaces it and rejects this task.
          result = {
            trace: job.trace,
            tracePath: job.tracePath,
            profile: job.profile,
            repeat: job.repeat,
            status: 'failed',
            error: `worker died: ${describeError(err)}`,
            modeled: {},
            timing: {},
            divergences: 0,
          };
        }
        done++;
        options.onResult?.(result, done, jobs.length);
        return result;
      }),
    );
  } finally {
    await pool.destroy();
  }
}

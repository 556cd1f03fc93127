// `s2bench run` as a library call: plan the suite, run it on the pool, and hand the results to the
// report writer. Failures of single traces are results, not exceptions.

import { performance } from 'node:perf_hooks';
import type { Profile } from '../core/profile.js';
import { openTrace } from '../trace/io.js';
import type { JobResult } from '../report/types.js';
import { runPool } from './pool.js';
import { runJob, type JobRequest } from './job.js';
import { discoverTraces, metadataLine, planJobs, profilesFor, selectShard, type SuiteTrace } from './suite.js';

export interface SuiteOptions {
  inputs: string[];
  workers: number;
  repeat: number;
  /** From the command line, parsed there; empty: each trace's own. */
  profiles: Profile[];
  filter?: string;
  check: boolean;
  /** Per trace (io.ts DEFAULT_MAX_EVENTS when not given). */
  maxEvents?: number;
  shard?: { index: number; count: number };
  /** Tests substitute a worker module to inject failures. */
  workerFile?: URL;
  /** Per job, on pool workers (pool.ts); `--workers 0` cannot stop a replay on its own thread. */
  jobTimeoutMs?: number;
  /**
   * Called as each job finishes. In-process (`--workers 0`) the next job waits for a returned promise,
   * so a result is on disk before a job that might exhaust memory starts.
   */
  onResult?: (result: JobResult, done: number, total: number) => void | Promise<void>;
  /** Called once the job list is known (for progress bars). */
  onPlan?: (jobs: JobRequest[]) => void;
}

export interface SuiteRun {
  traces: SuiteTrace[];
  jobs: JobRequest[];
  results: JobResult[];
  /** Wall time of running the jobs (pool start to last result). */
  wallMs: number;
}

export async function runSuite(options: SuiteOptions): Promise<SuiteRun> {
  let traces = await discoverTraces(options.inputs, options.filter);
  if (options.shard) traces = selectShard(traces, options.shard);

  // A trace whose header cannot be read still gets its jobs: they fail with the reader's message,
  // and the rest of the suite runs.
  const planned = await Promise.all(
    traces.map(async (t) => {
      const meta = await openTrace(t.path).then(
        (trace) => trace.meta,
        () => ({ fields: {}, comments: [] }),
      );
      return { ...t, profiles: profilesFor(meta.fields, options.profiles, metadataLine(meta.comments, 'arch')) };
    }),
  );
  const jobs: JobRequest[] = planJobs(planned, options.repeat).map((job) => ({
    ...job,
    check: options.check,
    ...(options.maxEvents !== undefined ? { maxEvents: options.maxEvents } : {}),
  }));
  options.onPlan?.(jobs);

  const start = performance.now();
  const results =
    options.workers <= 0
      ? await runInProcess(jobs, options.onResult)
      : await runPool(jobs, {
          workers: options.workers,
          ...(options.workerFile ? { workerFile: options.workerFile } : {}),
          ...(options.jobTimeoutMs !== undefined ? { jobTimeoutMs: options.jobTimeoutMs } : {}),
          ...(options.onResult ? { onResult: options.onResult } : {}),
        });
  return { traces, jobs, results, wallMs: performance.now() - start };
}

/** `--workers 0`: run jobs one by one on the main thread (profiling, debugging). */
async function runInProcess(
  jobs: JobRequest[],
  onResult?: (result: JobResult, done: number, total: number) => void | Promise<void>,
): Promise<JobResult[]> {
  const results: JobResult[] = [];
  for (const job of jobs) {
    const result = await runJob(job);
    results.push(result);
    await onResult?.(result, results.length, jobs.length);
  }
  return results;
}

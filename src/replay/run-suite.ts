// `s2bench run` as a library call: plan the suite, run it on the pool, and hand the results to the
// report writer. Failures of single traces are results, not exceptions.

import { performance } from 'node:perf_hooks';
import type { Profile } from '../core/profile.js';
import { openTrace } from '../trace/io.js';
import type { TraceMeta } from '../trace/schema.js';
import type { JobResult } from '../report/types.js';
import { runPool, startPool } from './pool.js';
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
  /**
   * Per job: on pool workers the pool terminates the worker (pool.ts); with `--workers 0` the job
   * checks its deadline between slices of rows (limits.ts).
   */
  jobTimeoutMs?: number;
  /** Per job, the model's memory (`--max-memory`, limits.ts); also the JS heap of each pool worker. */
  maxMemoryBytes?: number;
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
  /**
   * Wall time of running the jobs: from handing them to the pool to the last result. The workers
   * start while the suite is planned; what is left of their start-up then counts here.
   */
  wallMs: number;
  /** Times a pool worker joined a task another was running (pool.ts PoolRun.joins); 0 in-process. */
  joins: number;
  /** Pool worker time with no job before the last one finished (pool.ts PoolRun.idleMs); 0 in-process. */
  idleMs: number;
}

export async function runSuite(options: SuiteOptions): Promise<SuiteRun> {
  const poolOptions = {
    workers: options.workers,
    ...(options.workerFile ? { workerFile: options.workerFile } : {}),
    ...(options.jobTimeoutMs !== undefined ? { jobTimeoutMs: options.jobTimeoutMs } : {}),
    ...(options.maxMemoryBytes !== undefined ? { maxMemoryBytes: options.maxMemoryBytes } : {}),
    ...(options.onResult ? { onResult: options.onResult } : {}),
  };
  // The workers start while this thread discovers the traces and reads their headers.
  const started = options.workers > 0 ? startPool(poolOptions) : undefined;
  let jobs: JobRequest[];
  let traces: SuiteTrace[];
  try {
    ({ traces, jobs } = await planSuite(options));
    options.onPlan?.(jobs);
  } catch (err) {
    await started?.destroy();
    throw err;
  }

  const start = performance.now();
  const { results, joins, idleMs } =
    started === undefined
      ? { results: await runInProcess(jobs, options.jobTimeoutMs ?? Infinity, options.onResult), joins: 0, idleMs: 0 }
      : await runPool(jobs, poolOptions, started);
  return { traces, jobs, results, wallMs: performance.now() - start, joins, idleMs };
}

/** The suite's traces and jobs (traces x profiles x repeats). */
async function planSuite(options: SuiteOptions): Promise<{ traces: SuiteTrace[]; jobs: JobRequest[] }> {
  let traces = await discoverTraces(options.inputs, options.filter);
  if (options.shard) traces = selectShard(traces, options.shard);

  // A trace whose header cannot be read still gets its jobs: they fail with the reader's message,
  // and the rest of the suite runs.
  const planned = await Promise.all(
    traces.map(async (t) => {
      const meta = await traceHeader(t.path).catch(() => ({ fields: {}, comments: [] }));
      return { ...t, profiles: profilesFor(meta.fields, options.profiles, metadataLine(meta.comments, 'arch', t.path)) };
    }),
  );
  const jobs: JobRequest[] = planJobs(planned, options.repeat).map((job) => ({
    ...job,
    check: options.check,
    ...(options.maxEvents !== undefined ? { maxEvents: options.maxEvents } : {}),
    ...(options.maxMemoryBytes !== undefined ? { maxMemoryBytes: options.maxMemoryBytes } : {}),
  }));
  return { traces, jobs };
}

/** A trace's metadata, its file closed again (a suite of thousands of traces must not hold their fds). */
async function traceHeader(path: string): Promise<TraceMeta> {
  const trace = await openTrace(path);
  try {
    return trace.meta;
  } finally {
    await trace.close();
  }
}

/**
 * `--workers 0`: run jobs one by one on the main thread (profiling, debugging). A job past
 * `timeoutMs` stops at the next check between slices of its rows and fails (limits.ts).
 */
async function runInProcess(
  jobs: JobRequest[],
  timeoutMs: number,
  onResult?: (result: JobResult, done: number, total: number) => void | Promise<void>,
): Promise<JobResult[]> {
  const results: JobResult[] = [];
  for (const job of jobs) {
    const result = await runJob(job, Number.isFinite(timeoutMs) ? { deadline: performance.now() + timeoutMs, timeoutMs } : undefined);
    results.push(result);
    await onResult?.(result, results.length, jobs.length);
  }
  return results;
}

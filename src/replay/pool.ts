// Runs a suite's jobs on a piscina worker pool. Each job is independent (a fresh Vm per job), so the
// modeled counters cannot depend on the number of workers; results come back in job order whatever
// order the workers finish in. A job that throws, or a task whose worker dies, is marked failed with
// its error, and every other job's result is kept. A job that runs past the job timeout has its worker
// terminated (a replay is synchronous: nothing else can stop it) and fails; the run goes on.
//
// A task is one trace x profile with all its repeats: the worker replays the trace once untimed to
// warm the JIT (job.ts) and then times every repeat, so adding workers adds no warm-up work. Tasks go
// out largest trace first, so the last ones to finish are small and the workers stay busy to the end.

import { statSync } from 'node:fs';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { JobResult } from '../report/types.js';
import { describeError, type JobRequest } from './job.js';
import type { TaskMessage, WorkerTask } from './worker.js';

export interface PoolOptions {
  workers: number;
  /** The worker module (a file URL); tests substitute their own to inject failures. */
  workerFile?: URL;
  /**
   * The longest one job (one replay, its trace load and, for a task's first job, the JIT warm-up) may
   * run; past it the worker is terminated and the job fails. Infinity: no limit.
   */
  jobTimeoutMs?: number;
  /**
   * `--max-memory`: also each worker's JS heap (V8's old generation), so a model that grows JS objects
   * past it ends its worker (the job fails) rather than the process.
   */
  maxMemoryBytes?: number;
  /** Called as each job finishes, in completion order. */
  onResult?: (result: JobResult, done: number, total: number) => void;
}

const DEFAULT_WORKER = new URL('./worker.js', import.meta.url);
/** A worker's heap is never set below this: the replay itself needs some, whatever the model's limit. */
const MIN_WORKER_HEAP_MB = 256;

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

export function failedResult(job: JobRequest, error: string): JobResult {
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

class JobTimeout extends Error {}

function isOutOfMemory(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'ERR_WORKER_OUT_OF_MEMORY';
}

export async function runPool(jobs: JobRequest[], options: PoolOptions): Promise<JobResult[]> {
  const pool = new Piscina<WorkerTask, JobResult[]>({
    filename: (options.workerFile ?? DEFAULT_WORKER).href,
    minThreads: options.workers,
    maxThreads: options.workers,
    // Jobs are CPU-bound: one at a time per thread, or timings measure contention.
    concurrentTasksPerWorker: 1,
    idleTimeout: 1000,
    ...(options.maxMemoryBytes !== undefined && Number.isFinite(options.maxMemoryBytes)
      ? { resourceLimits: { maxOldGenerationSizeMb: Math.max(MIN_WORKER_HEAP_MB, Math.ceil(options.maxMemoryBytes / 2 ** 20)) } }
      : {}),
  });
  const results = new Array<JobResult>(jobs.length);
  let done = 0;
  const finish = (job: JobRequest, result: JobResult): void => {
    if (results[job.index] !== undefined) return;
    results[job.index] = result;
    done++;
    options.onResult?.(result, done, jobs.length);
  };
  const timeoutMs = options.jobTimeoutMs ?? Infinity;

  const runTask = async (task: JobRequest[]): Promise<void> => {
    const { port1, port2 } = new MessageChannel();
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    let running = -1;
    // The clock starts when the worker starts a job, not while the task waits in the queue.
    port1.on('message', (message: TaskMessage) => {
      clearTimeout(timer);
      if ('started' in message) {
        running = message.started;
        if (Number.isFinite(timeoutMs)) timer = setTimeout(() => abort.abort(new JobTimeout()), timeoutMs);
      } else {
        finish(task[message.done]!, message.result);
      }
    });
    try {
      const taskResults = await pool.run({ jobs: task, port: port2 }, { transferList: [port2], signal: abort.signal });
      task.forEach((job, k) => finish(job, taskResults[k]!));
    } catch (err) {
      // A timeout, or the worker died (crash, exit, out of memory) or threw: piscina replaces the
      // worker; the jobs of this task that had not finished fail, nobody else's.
      const timedOut = abort.signal.aborted;
      // Let results the worker posted just before it went reach port1 first.
      await new Promise((resolve) => setImmediate(resolve));
      task.forEach((job, k) => {
        const error = !timedOut
          ? `worker died: ${describeError(err)}${isOutOfMemory(err) ? ' (its JS heap is bounded by --max-memory)' : ''}`
          : k === running
            ? `timed out after ${timeoutMs / 1000} s (--job-timeout): its worker was stopped`
            : `not run: repeat ${task[running]?.repeat ?? '?'} of this trace and profile timed out`;
        finish(job, failedResult(job, error));
      });
    } finally {
      clearTimeout(timer);
      port1.close();
    }
  };

  try {
    await Promise.all(tasksOf(jobs).map(runTask));
  } finally {
    await pool.destroy();
  }
  return results;
}

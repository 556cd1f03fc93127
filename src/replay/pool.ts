// Runs a suite's jobs on a piscina worker pool. Each job is independent (a fresh Vm per job), so the
// modeled counters cannot depend on the number of workers; results come back in job order whatever
// order the workers finish in. A job that throws, or a task whose worker dies, is marked failed with
// its error, and every other job's result is kept. A job that runs past the job timeout has its worker
// terminated (a replay is synchronous: nothing else can stop it) and fails; the run goes on.
//
// A task is one trace x profile with all its repeats: a worker replays the trace once untimed to warm
// the JIT (job.ts) and then times each repeat it claims. Tasks go out largest trace first, so the last
// ones to start are small, except that a worker takes the next profile of the trace it holds loaded
// before another's (pool-schedule.ts nextTaskIndex); a worker with no task left to start joins a running task that has enough
// repeats unclaimed to pay for a second warm-up (pool-schedule.ts), so one long task does not run on
// alone at the end while the other workers idle.

import { statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { JobResult } from '../report/types.js';
import { describeError, type JobRequest } from './job.js';
import { mayJoinLater, newTask, nextTaskIndex, taskToJoin, type PoolTask } from './pool-schedule.js';
import type { JobDone, TaskMessage, WorkerTask } from './worker.js';

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
  /** Which running task a free worker joins (pool-schedule.ts taskToJoin); tests force joins with it. */
  join?: (running: Iterable<PoolTask>) => PoolTask | undefined;
}

const DEFAULT_WORKER = new URL('./worker.js', import.meta.url);
/** A worker's heap is never set below this: the replay itself needs some, whatever the model's limit. */
const MIN_WORKER_HEAP_MB = 256;

/** Jobs grouped by trace x profile, in job order within a group, largest trace file first. */
function tasksOf(jobs: readonly JobRequest[]): PoolTask[] {
  const groups = new Map<string, JobRequest[]>();
  for (const job of jobs) {
    // By the profile's name: each job of a trace holds the same parsed object, but a name is what
    // tells two profiles apart (an object would turn every profile of a trace into one key).
    const key = `${job.tracePath}\u0000${job.profile.name}`;
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
  return [...groups.values()]
    .sort((a, b) => size(b[0]!.tracePath) - size(a[0]!.tracePath) || a[0]!.index - b[0]!.index)
    .map((group, order) => newTask(group, order));
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

export interface PoolRun {
  /** In job order. */
  results: JobResult[];
  /**
   * Times a worker joined a task another worker was running: each cost one more untimed warm-up
   * replay of that trace (and a load, if that worker had not loaded it).
   */
  joins: number;
  /**
   * Worker time with no job: waiting for a task worth joining, or done before the last job finished,
   * summed over workers (ms). What the schedule left on the table, whatever else loads the machine.
   */
  idleMs: number;
}

/** The pool's threads, started before its jobs are known (startPool). */
export type WorkerPool = Piscina<WorkerTask, JobDone[]>;

/**
 * Starts the pool's workers: each builds its isolate and loads the worker module (the whole replay
 * path), a few hundred milliseconds of CPU. Started before the suite is planned, that overlaps the
 * main thread's discovery of traces instead of delaying the first job.
 */
export function startPool(options: Pick<PoolOptions, 'workers' | 'workerFile' | 'maxMemoryBytes'>): WorkerPool {
  return new Piscina<WorkerTask, JobDone[]>({
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
}

/** Runs `jobs` on `pool` (started from the same options, or now); stops it at the end. */
export async function runPool(jobs: JobRequest[], options: PoolOptions, pool: WorkerPool = startPool(options)): Promise<PoolRun> {
  const results = new Array<JobResult>(jobs.length);
  let done = 0;
  const finish = (job: JobRequest, result: JobResult): void => {
    if (results[job.index] !== undefined) return;
    results[job.index] = result;
    done++;
    options.onResult?.(result, done, jobs.length);
  };
  const timeoutMs = options.jobTimeoutMs ?? Infinity;

  // Each result wakes the workers waiting for a task to become worth joining (dispatch below).
  let wake: () => void = () => {};
  let changed = new Promise<void>((resolve) => (wake = resolve));
  const signal = (): void => {
    wake();
    changed = new Promise<void>((resolve) => (wake = resolve));
  };
  const noteResult = (task: PoolTask, result: JobResult): void => {
    const replayMs = result.timing['time.replay_ms'];
    if (replayMs !== undefined) task.jobMs = replayMs;
    task.loadMs = Math.max(task.loadMs, result.timing['time.read_ms'] ?? 0);
  };

  /** One worker's share of a task: the jobs it claims until none is left, or until it fails. */
  const runPart = async (task: PoolTask): Promise<void> => {
    const { port1, port2 } = new MessageChannel();
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    let running = -1;
    task.runs++;
    // The clock starts when the worker starts a job, not while the task waits in the queue.
    const onMessage = (message: TaskMessage): void => {
      clearTimeout(timer);
      if ('started' in message) {
        running = message.started;
        if (Number.isFinite(timeoutMs)) timer = setTimeout(() => abort.abort(new JobTimeout()), timeoutMs);
      } else {
        running = -1;
        noteResult(task, message.result);
        finish(task.jobs[message.done]!, message.result);
        signal();
      }
    };
    port1.on('message', onMessage);
    try {
      const request: WorkerTask = { jobs: [...task.jobs], next: task.next, port: port2 };
      const done = await pool.run(request, { transferList: [port2], signal: abort.signal });
      for (const { done: k, result } of done) finish(task.jobs[k]!, result);
    } catch (err) {
      // A timeout, or the worker died (crash, exit, out of memory) or threw: piscina replaces the
      // worker. The job it was running fails, and so do the task's jobs no worker had claimed (none
      // is claimed after this); jobs another worker is running on the task finish as they would.
      const timedOut = abort.signal.aborted;
      const firstUnclaimed = Atomics.exchange(task.next, 0, task.jobs.length);
      // Take what the worker posted before it went (the start of the job it died in, results) now:
      // those messages are queued on port1 already, but the port may deliver them after the pool's
      // rejection, and the job would then be failed as never started.
      for (let m = receiveMessageOnPort(port1); m !== undefined; m = receiveMessageOnPort(port1)) onMessage(m.message as TaskMessage);
      const failed = task.jobs.filter((job, k) => k === running || k >= firstUnclaimed);
      for (const job of failed) {
        const error = !timedOut
          ? `worker died: ${describeError(err)}${isOutOfMemory(err) ? ' (its JS heap is bounded by --max-memory)' : ''}`
          : job === task.jobs[running]
            ? `timed out after ${timeoutMs / 1000} s (--job-timeout): its worker was stopped`
            : `not run: repeat ${task.jobs[running]?.repeat ?? '?'} of this trace and profile timed out`;
        finish(job, failedResult(job, error));
      }
    } finally {
      clearTimeout(timer);
      port1.close();
      task.runs--;
      signal();
    }
  };

  // One loop per worker: start the next task in order; with none left, join a running task that is
  // worth it, or wait for a result that may make one so; end when no task can ever be.
  const queue = tasksOf(jobs);
  const join = options.join ?? taskToJoin;
  const running = new Set<PoolTask>();
  let joins = 0;
  let idleMs = 0;
  const ended: number[] = [];
  const dispatch = async (): Promise<void> => {
    let last: string | undefined;
    for (;;) {
      const busyElsewhere = new Set<string>();
      for (const task of running) if (task.jobs[0]!.tracePath !== last) busyElsewhere.add(task.jobs[0]!.tracePath);
      const at = nextTaskIndex(queue, last, busyElsewhere);
      const next = at < 0 ? undefined : queue.splice(at, 1)[0];
      const task = next ?? join(running);
      if (task !== undefined) {
        if (next === undefined) joins++;
        running.add(task);
        last = task.jobs[0]!.tracePath;
        await runPart(task);
        if (task.runs === 0) running.delete(task);
      } else if (mayJoinLater(running)) {
        const since = performance.now();
        await changed;
        idleMs += performance.now() - since;
      } else {
        ended.push(performance.now());
        return;
      }
    }
  };

  try {
    await Promise.all(Array.from({ length: options.workers }, dispatch));
    const last = performance.now();
    for (const end of ended) idleMs += last - end;
  } finally {
    // Every task has returned: the workers are told to stop now, and their isolates tear down (150 ms
    // and more) while the caller goes on to write its results. Nothing needs to wait for that; the
    // process does not exit before they have (destroy() never rejects: it settles every exit).
    void pool.destroy();
  }
  // A worker stopped between claiming a job and saying so leaves that job without a result.
  for (const job of jobs) if (results[job.index] === undefined) finish(job, failedResult(job, 'not run: its worker stopped before starting it'));
  return { results, joins, idleMs };
}

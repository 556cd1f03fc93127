// The pool's scheduling policy, apart from the piscina plumbing (pool.ts): which task a free worker
// starts next, and when it should rather join a task another worker is running.
//
// A task is one trace x profile with all its repeats. Its repeats are claimed one at a time from a
// counter the workers share (worker.ts), so a second worker can take some of them. Joining is not
// free: a thread replays a trace once untimed before timing it (the JIT warm-up, job.ts) and loads it
// if it has not yet, so a worker joins only when that pays for itself (shouldJoin below).

import type { JobRequest } from './job.js';

export interface PoolTask {
  /** The task's jobs in job order (repeat 0, 1, ...). */
  readonly jobs: readonly JobRequest[];
  /**
   * Int32Array over a SharedArrayBuffer: index of the next job not yet claimed by any worker. A worker
   * claims with Atomics.add; the pool closes a failed task with Atomics.exchange.
   */
  readonly next: Int32Array;
  /** Where the task stands in the dispatch order (a tie-break, and for tests). */
  readonly order: number;
  /** Workers running it now. */
  runs: number;
  /** Replay time of its last finished job, ms (undefined until one finishes). */
  jobMs?: number;
  /** Longest read of the trace one of its jobs reported, ms: what a joining worker may pay again. */
  loadMs: number;
}

export function newTask(jobs: readonly JobRequest[], order: number): PoolTask {
  return { jobs, next: new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT)), order, runs: 0, loadMs: 0 };
}

/**
 * Where in `queue` (tasks not started, in dispatch order) a free worker's next task is: the first of
 * the trace it ran last, which it holds loaded (job.ts keeps a trace per thread); else the first of a
 * trace no other worker is running, so that two workers do not each load the same trace for its
 * different profiles; else the first. Order is kept otherwise, and joins even out what it costs.
 */
export function nextTaskIndex(queue: readonly PoolTask[], last: string | undefined, busyElsewhere: ReadonlySet<string>): number {
  if (queue.length === 0) return -1;
  if (last !== undefined) {
    const own = queue.findIndex((task) => task.jobs[0]!.tracePath === last);
    if (own >= 0) return own;
  }
  const free = queue.findIndex((task) => !busyElsewhere.has(task.jobs[0]!.tracePath));
  return free >= 0 ? free : 0;
}

/** Jobs of the task that no worker has claimed yet. */
export function unclaimed(task: PoolTask): number {
  return Math.max(0, task.jobs.length - Atomics.load(task.next, 0));
}

/**
 * Below this much unclaimed work a join is not worth its dispatch and warm-up noise: small tasks are
 * left to the worker that has them.
 */
export const MIN_JOIN_WORK_MS = 50;

/**
 * Whether a free worker should join `task`. With u jobs of c ms unclaimed, the joiner finishes after
 * its warm-up W (about one job plus, if it has not loaded the trace, the load) and m jobs, the worker
 * already on it after its current job r and the other u - m; the two balance at
 * m = (u c + r - W) / 2c, and the join shortens the task only when m >= 1, i.e. u c + r >= W + 2c.
 * r is unknown (0 to c): take 0, so a join needs u >= 3 + load / c. A task with no finished job yet has
 * no known c and is not joined (its cost may be a millisecond: a hung job's task, say, whose other
 * repeats must wait behind it, docs/reliability.md).
 */
export function shouldJoin(task: PoolTask): boolean {
  const c = task.jobMs;
  if (c === undefined || task.runs === 0) return false;
  const u = unclaimed(task);
  return u * c >= MIN_JOIN_WORK_MS && u * c >= 3 * c + task.loadMs;
}

/** The running task a free worker should join: the one with the most unclaimed work, or none. */
export function taskToJoin(running: Iterable<PoolTask>): PoolTask | undefined {
  let best: PoolTask | undefined;
  let bestWork = 0;
  for (const task of running) {
    if (!shouldJoin(task)) continue;
    const work = unclaimed(task) * task.jobMs!;
    if (work > bestWork || (work === bestWork && best !== undefined && task.order < best.order)) {
      best = task;
      bestWork = work;
    }
  }
  return best;
}

/**
 * Whether a task may still become worth joining: it is running and has enough jobs unclaimed that
 * shouldJoin could say yes once a job's time is known. A free worker with nothing to start waits for
 * the next result while one exists, rather than ending.
 */
export function mayJoinLater(running: Iterable<PoolTask>): boolean {
  for (const task of running) if (task.runs > 0 && unclaimed(task) >= 3) return true;
  return false;
}

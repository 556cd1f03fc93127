// Pool worker entry: piscina calls the default export with a task, a trace x profile's repeats. The
// worker claims repeats one at a time from a counter it may share with another worker on the same task
// (pool-schedule.ts), and runs each it claims. Each job's start and result go back at once on the
// port: the pool times every job on its own (--job-timeout) and keeps the results of repeats that
// finished even if a later one hangs or kills the worker.

import type { MessagePort } from 'node:worker_threads';
import { runJob, type JobRequest } from './job.js';
import type { JobResult } from '../report/types.js';

export interface WorkerTask {
  jobs: JobRequest[];
  /** Index of the next job no worker has claimed, in shared memory (PoolTask.next). */
  next: Int32Array;
  /** Receives `{ started: k }` before job k and `{ done: k, result }` after it. */
  port: MessagePort;
}

export type JobDone = { done: number; result: JobResult };
export type TaskMessage = { started: number } | JobDone;

/**
 * Runs the task's jobs this worker claims, in job order, telling the pool about each; returns them.
 * `run` is swapped by test workers.
 */
export async function runTask(task: WorkerTask, run: (job: JobRequest) => Promise<JobResult> = runJob): Promise<JobDone[]> {
  const results: JobDone[] = [];
  try {
    for (let k = Atomics.add(task.next, 0, 1); k < task.jobs.length; k = Atomics.add(task.next, 0, 1)) {
      task.port.postMessage({ started: k } satisfies TaskMessage);
      const done: JobDone = { done: k, result: await run(task.jobs[k]!) };
      task.port.postMessage(done satisfies TaskMessage);
      results.push(done);
    }
  } finally {
    task.port.close();
  }
  return results;
}

export default function replayJobs(task: WorkerTask): Promise<JobDone[]> {
  return runTask(task);
}

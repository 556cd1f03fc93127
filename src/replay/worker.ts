// Pool worker entry: piscina calls the default export once per task, a trace x profile's repeats.
// Each job's start and result go back at once on the task's port: the pool times every job on its own
// (--job-timeout) and keeps the results of repeats that finished even if a later one hangs or kills
// the worker.

import type { MessagePort } from 'node:worker_threads';
import { runJob, type JobRequest } from './job.js';
import type { JobResult } from '../report/types.js';

export interface WorkerTask {
  jobs: JobRequest[];
  /** Receives `{ started: k }` before job k and `{ done: k, result }` after it. */
  port: MessagePort;
}

export type TaskMessage = { started: number } | { done: number; result: JobResult };

/** Runs a task's jobs in order, telling the pool about each; `run` is swapped by test workers. */
export async function runTask(task: WorkerTask, run: (job: JobRequest) => Promise<JobResult> = runJob): Promise<JobResult[]> {
  const results: JobResult[] = [];
  try {
    for (let k = 0; k < task.jobs.length; k++) {
      task.port.postMessage({ started: k } satisfies TaskMessage);
      const result = await run(task.jobs[k]!);
      task.port.postMessage({ done: k, result } satisfies TaskMessage);
      results.push(result);
    }
  } finally {
    task.port.close();
  }
  return results;
}

export default function replayJobs(task: WorkerTask): Promise<JobResult[]> {
  return runTask(task);
}

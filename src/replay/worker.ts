// Pool worker entry: piscina calls the default export once per task, a trace x profile's repeats.
import { runJob, type JobRequest } from './job.js';
import type { JobResult } from '../report/types.js';

export default async function replayJobs(jobs: JobRequest[]): Promise<JobResult[]> {
  const results: JobResult[] = [];
  for (const job of jobs) results.push(await runJob(job));
  return results;
}

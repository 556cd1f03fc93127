// Pool worker entry: piscina calls the default export once per job.
import { runJob, type JobRequest } from './job.js';
import type { JobResult } from '../report/types.js';

export default function replayJob(job: JobRequest): Promise<JobResult> {
  return runJob(job);
}

// One job: load a trace, replay it under one profile, and return its modeled counters and timings.
// The same function runs inside pool workers and in-process, so both paths measure the same thing.

import { stat } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { readTrace } from '../trace/io.js';
import type { JobResult } from '../report/types.js';
import { replayTrace } from './engine.js';
import type { Job } from './suite.js';

export interface JobRequest extends Job {
  /** Also fail the job when the model diverges from a recorded `ret` or an `expect` row. */
  check: boolean;
  /** Fail the job, not the process, when the trace has more events than this (io.ts DEFAULT_MAX_EVENTS). */
  maxEvents?: number;
}

/**
 * Traces this thread has already replayed once. The first replay of a trace in a fresh thread runs
 * mostly in V8's interpreter and is several times slower than the rest; timing it would make the
 * spread over repeats depend on how jobs happen to land on workers. So each thread replays a trace once
 * untimed before its first timed replay of it.
 */
const warmedUp = new Set<string>();

export async function runJob(job: JobRequest): Promise<JobResult> {
  const profile = job.profile;
  const base = { trace: job.trace, tracePath: job.tracePath, profile: profile.name, repeat: job.repeat };
  if ('error' in profile) return { ...base, status: 'failed', error: profile.error, modeled: {}, timing: {}, divergences: 0 };
  try {
    // Every repeat loads the trace again: trace load MB/s is a measured figure with its own spread.
    const bytes = (await stat(job.tracePath)).size;
    const loadStart = performance.now();
    const trace = await readTrace(job.tracePath, undefined, job.maxEvents !== undefined ? { maxEvents: job.maxEvents } : {});
    const loadMs = performance.now() - loadStart;

    const warmKey = `${job.tracePath}\u0000${profile.name}`;
    if (!warmedUp.has(warmKey)) {
      replayTrace(trace, profile, { check: job.check });
      warmedUp.add(warmKey);
    }
    const replayStart = performance.now();
    const outcome = replayTrace(trace, profile, { check: job.check });
    const replayMs = performance.now() - replayStart;

    const modeled = outcome.counters;
    const seconds = replayMs / 1000;
    const timing: Record<string, number> = {
      'time.load_ms': loadMs,
      'rate.load_mb_per_s': bytes / 1e6 / (loadMs / 1000),
      'time.replay_ms': replayMs,
      'rate.events_per_s': (modeled['events'] ?? 0) / seconds,
      'rate.faults_per_s': (modeled['faults'] ?? 0) / seconds,
      ...outcome.timing,
    };
    const divergences = outcome.divergences.length;
    if (job.check && divergences > 0) {
      const first = outcome.divergences[0]!;
      return {
        ...base,
        status: 'failed',
        error: `${divergences} divergence(s); first at line ${first.line} (${first.op}): expected ${first.expected}, got ${first.got}`,
        modeled,
        timing,
        divergences,
      };
    }
    return { ...base, status: 'ok', modeled, timing, divergences };
  } catch (err) {
    return { ...base, status: 'failed', error: describeError(err), modeled: {}, timing: {}, divergences: 0 };
  }
}

export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

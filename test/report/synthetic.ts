// Synthetic job results for the report tests: two traces (one with a hostile name), two repeats,
// one failed job. Figures are small and exact so expected files can be written out by hand.

import type { JobResult, RunInfo } from '../../src/report/types.js';

export const HOSTILE = '<img src=x onerror=alert(1)>';

export function job(trace: string, profile: string, repeat: number, over: Partial<JobResult> = {}): JobResult {
  return {
    trace,
    tracePath: `traces/${trace}.csv`,
    profile,
    repeat,
    status: 'ok',
    modeled: {
      events: 10,
      faults: 4,
      'faults.fixed': 3,
      'exits.mmio': 1,
      'mapped.2m': 2097152,
    },
    timing: { 'time.replay_ms': 2 + repeat, 'rate.events_per_s': 5000 - 1000 * repeat },
    divergences: 0,
    ...over,
  };
}

export function syntheticJobs(): JobResult[] {
  return [
    // Out of order on purpose: files must not depend on which worker finished first.
    job('boot', 'x86-tdp', 1),
    job('boot', 'x86-tdp', 0),
    job(HOSTILE, 'arm64', 0, {
      modeled: { events: 2, 'conv.pages.p50': 1, 'conv.pages.p99': 512, conversions: 2 },
      timing: { 'time.replay_ms': 0.5, 'rate.events_per_s': Infinity },
    }),
    job(HOSTILE, 'arm64', 1, { status: 'failed', error: 'worker died: out of memory', modeled: {}, timing: {} }),
  ];
}

export function syntheticRunInfo(runId = 'r1', jobs: JobResult[] = syntheticJobs()): RunInfo {
  return {
    format: 1,
    runId,
    s2benchVersion: '0.1.0',
    gitCommit: null,
    host: { node: 'v20.0.0', os: 'linux 6.1', arch: 'x64', cpuModel: 'Test CPU', cores: 2 },
    options: { repeat: 2, workers: 2 },
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:00:01.000Z',
    traces: [
      { name: 'boot', path: 'traces/boot.csv', events: 10, bytes: 100, sha256: 'ab'.repeat(32) },
      { name: HOSTILE, path: `traces/${HOSTILE}.csv`, events: 2, bytes: 20, sha256: 'cd'.repeat(32) },
    ],
    jobs: jobs.map((j) => ({ trace: j.trace, profile: j.profile, repeat: j.repeat, status: j.status, ...(j.error ? { error: j.error } : {}), divergences: j.divergences })),
  };
}

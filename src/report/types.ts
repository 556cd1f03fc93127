// The results contract between the suite runner (producer) and the report writer / compare (consumers).
// One JobResult is one trace x profile x repeat; RunInfo describes the run as a whole (run.json).

import type { JobSeries } from './series.js';

export type JobStatus = 'ok' | 'failed';

export interface JobResult {
  /** Suite-relative trace name (e.g. `boot/qemu-512m`). */
  trace: string;
  tracePath: string;
  /** Canonical profile name (core/profile.ts). */
  profile: string;
  /** 0-based repeat index. */
  repeat: number;
  status: JobStatus;
  error?: string;
  /** Deterministic counters: METRIC_NAMES plus extra modeled names (`conv.*`, `iotlb.*`, `hypshare.*`). */
  modeled: Record<string, number>;
  /** Measured figures that vary run to run (`time.*`, `rate.*`, `micro.*`). */
  timing: Record<string, number>;
  divergences: number;
  /** Counters over the course of the replay (series.csv); the first repeat of a trace x profile only. */
  series?: JobSeries;
}

export interface TraceInfo {
  name: string;
  path: string;
  /** Rows in the trace (the modeled `events` counter of its first successful job), when known. */
  events: number | null;
  bytes: number | null;
  /** Hex sha256 of the trace file's bytes; null when the file could not be read. */
  sha256: string | null;
}

export interface JobInfo {
  trace: string;
  profile: string;
  repeat: number;
  status: JobStatus;
  error?: string;
  divergences: number;
}

export interface HostInfo {
  node: string;
  os: string;
  arch: string;
  cpuModel: string;
  cores: number;
  hostname?: string;
}

/** run.json. Plain JSON values only, so it round-trips through `s2bench report DIR`. */
export interface RunInfo {
  /** Schema version of run.json itself. */
  format: 1;
  runId: string;
  /**
   * false while the run is going, and left so when it dies: the directory then holds the results of
   * the jobs that finished. Absent in runs written before this field existed (they were complete).
   */
  complete?: boolean;
  s2benchVersion: string;
  /** `git rev-parse HEAD` of the checkout, with `-dirty` when it has local changes; null outside git. */
  gitCommit: string | null;
  host: HostInfo;
  options: Record<string, unknown>;
  startedAt: string;
  finishedAt: string;
  traces: TraceInfo[];
  jobs: JobInfo[];
  /** How busy the worker pool was (absent for runs without a pool, e.g. `bench` or `merge`). */
  pool?: PoolInfo;
}

export interface PoolInfo {
  workers: number;
  /** Wall time from the first job handed out to the last result back. */
  wallMs: number;
  /** Sum of the jobs' timed work (trace load + replay; untimed JIT warm-ups are not in it). */
  busyMs: number;
  /** busyMs / (workers x wallMs): piscina's own utilization figure reads ~1000x too low. */
  utilization: number;
  /**
   * Times a worker with no task left to start took repeats of a task another worker was running, each
   * at the cost of one more untimed warm-up replay (src/replay/pool-schedule.ts). Absent before it was
   * recorded.
   */
  joins?: number;
  /**
   * Worker time with no job to run before the last job finished, summed over workers: the share of
   * `workers x wallMs` the schedule left idle (src/replay/pool.ts). Absent before it was recorded.
   */
  idleMs?: number;
}

/** One row of results.csv (long/tidy form). */
export interface ResultRow {
  run: string;
  trace: string;
  profile: string;
  metric: string;
  unit: string;
  repeat: number;
  value: number;
}

export const RESULTS_COLUMNS = ['run', 'trace', 'profile', 'metric', 'unit', 'repeat', 'value'] as const;

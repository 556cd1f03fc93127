// Runs the core's micro-benchmarks with tinybench and turns them into timing metrics of a JobResult,
// so they land in the same results files as the macro run. ns/op is computed from the median latency
// of a call divided by the ops the call performs (tinybench's own throughput would count calls).

import { performance } from 'node:perf_hooks';
import { Bench } from 'tinybench';
import type { Profile } from '../core/profile.js';
import type { JobResult } from '../report/types.js';
import { microCases, type MicroCase } from './micro-cases.js';

export interface MicroOptions {
  /** Time budget per case in milliseconds. */
  timeMs: number;
  /** Only cases whose name contains this text. */
  filter?: string;
}

export interface MicroFigure {
  name: string;
  unit: string;
  nsPerOp: number;
  opsPerSecond: number;
  /** Relative margin of error of the mean latency, in percent. */
  rme: number;
  samples: number;
  /** The fastest call this process timed (warm-up included), per op. */
  minNsPerOp: number;
  /** Whether the untimed warm-up reached steady timings before its budget ran out. */
  stable: boolean;
  /**
   * The median is far (OUTLIER_RATIO) above the fastest call: this process ran the case mostly in a
   * slower mode (a deoptimised build, a busy core), and its figure should not be trusted alone.
   */
  outlier: boolean;
}

/** A median this many times the fastest call marks the run an outlier. */
export const OUTLIER_RATIO = 1.5;
/** Warm-up ends when the last STABLE_CALLS calls are within STABLE_SPREAD of each other. */
const STABLE_CALLS = 5;
const STABLE_SPREAD = 1.15;

/**
 * Untimed calls until the timings settle (V8 has optimised what it will), or the budget is spent.
 * Returns the fastest call's time and whether it settled.
 */
function warmUntilStable(c: MicroCase, budgetMs: number): { minMs: number; stable: boolean } {
  const recent: number[] = [];
  let minMs = Infinity;
  const end = performance.now() + budgetMs;
  for (let calls = 0; calls < (c.iterations ?? Infinity) * 2 && performance.now() < end; calls++) {
    c.beforeEach?.();
    const t = performance.now();
    c.run();
    const ms = performance.now() - t;
    minMs = Math.min(minMs, ms);
    recent.push(ms);
    if (recent.length > STABLE_CALLS) recent.shift();
    if (calls + 1 < (c.warmupCalls ?? 0)) continue;
    if (recent.length === STABLE_CALLS && Math.max(...recent) <= STABLE_SPREAD * Math.min(...recent)) return { minMs, stable: true };
  }
  return { minMs, stable: false };
}

/**
 * Each case in turn: built (microCases), warmed up, then timed, before the next case is built. Cases
 * share the model's code, so building them all first would let the later ones' set-up reshape what
 * the first one is timed on, and would hold every case's VM at once.
 */
export async function runMicro(profile: Profile, options: MicroOptions): Promise<MicroFigure[]> {
  const entries = microCases(profile).filter((e) => options.filter === undefined || e.name.includes(options.filter));
  const figures: MicroFigure[] = [];
  for (const entry of entries) figures.push(await timeCase(entry.build(), options.timeMs));
  return figures;
}

/** One case: warmed up until steady, then timed by tinybench for `timeMs` (or its fixed iterations). */
async function timeCase(c: MicroCase, timeMs: number): Promise<MicroFigure> {
  const warm = warmUntilStable(c, Math.max(400, timeMs * 3));
  // Cases with a costly untimed preparation run a fixed number of times instead of for a time budget.
  const bench =
    c.iterations === undefined
      ? new Bench({ time: timeMs, warmupTime: Math.max(20, timeMs / 5) })
      : new Bench({ time: 0, iterations: c.iterations, warmup: false });
  bench.add(c.name, c.run, c.beforeEach ? { beforeEach: c.beforeEach } : {});
  await bench.run();
  const result = bench.tasks[0]!.result;
  if (result.state !== 'completed') {
    throw new Error(`micro-benchmark ${c.name} did not complete (${result.state})`);
  }
  const nsPerOp = (result.latency.p50 * 1e6) / c.opsPerCall;
  const minNsPerOp = (Math.min(warm.minMs, result.latency.min) * 1e6) / c.opsPerCall;
  return {
    minNsPerOp,
    stable: warm.stable,
    outlier: nsPerOp > OUTLIER_RATIO * minNsPerOp,
    name: c.name,
    unit: c.unit,
    nsPerOp,
    opsPerSecond: 1e9 / nsPerOp,
    rme: result.latency.rme,
    samples: result.latency.samplesCount,
  };
}

export function microJobResult(profile: Profile, figures: MicroFigure[]): JobResult {
  const timing: Record<string, number> = {};
  for (const f of figures) {
    timing[`micro.${f.name}.ns_per_op`] = f.nsPerOp;
    timing[`micro.${f.name}.ops_per_s`] = f.opsPerSecond;
    timing[`micro.${f.name}.min_ns`] = f.minNsPerOp;
  }
  return {
    trace: 'micro',
    tracePath: '',
    profile: profile.name,
    repeat: 0,
    status: 'ok',
    modeled: {},
    timing,
    divergences: 0,
  };
}

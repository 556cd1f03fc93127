// Runs the core's micro-benchmarks with tinybench and turns them into timing metrics of a JobResult,
// so they land in the same results files as the macro run. ns/op is computed from the median latency
// of a call divided by the ops the call performs (tinybench's own throughput would count calls).

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
}

export async function runMicro(profile: Profile, options: MicroOptions): Promise<MicroFigure[]> {
  const cases = microCases(profile).filter((c) => options.filter === undefined || c.name.includes(options.filter));
  const timed = new Bench({ time: options.timeMs, warmupTime: Math.max(20, options.timeMs / 5) });
  // Cases with a costly untimed preparation run a fixed number of times instead of for a time budget.
  const counted = new Bench({ time: 0, iterations: Math.max(1, ...cases.map((c) => c.iterations ?? 1)), warmup: false });
  const byName = new Map<string, MicroCase>();
  for (const c of cases) {
    byName.set(c.name, c);
    (c.iterations === undefined ? timed : counted).add(c.name, c.run, c.beforeEach ? { beforeEach: c.beforeEach } : {});
  }
  await timed.run();
  await counted.run();
  return [...timed.tasks, ...counted.tasks].map((task) => {
    const c = byName.get(task.name)!;
    const result = task.result;
    if (result.state !== 'completed') {
      throw new Error(`micro-benchmark ${task.name} did not complete (${result.state})`);
    }
    const nsPerOp = (result.latency.p50 * 1e6) / c.opsPerCall;
    return {
      name: c.name,
      unit: c.unit,
      nsPerOp,
      opsPerSecond: 1e9 / nsPerOp,
      rme: result.latency.rme,
      samples: result.latency.samplesCount,
    };
  });
}

export function microJobResult(profile: Profile, figures: MicroFigure[]): JobResult {
  const timing: Record<string, number> = {};
  for (const f of figures) {
    timing[`micro.${f.name}.ns_per_op`] = f.nsPerOp;
    timing[`micro.${f.name}.ops_per_s`] = f.opsPerSecond;
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

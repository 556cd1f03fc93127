// `s2bench bench`: the core's micro-benchmarks (lookup, hit, 4K/2M fault, zap), printed as a table and
// written as a run directory like `s2bench run`'s, so `compare` and `report` read them the same way.

import { join, resolve } from 'node:path';
import { runMicro, microJobResult, type MicroFigure } from '../../microbench/micro.js';
import { parseProfile } from '../../core/profile.js';
import { collectRunInfo } from '../../report/run-info.js';
import { writeRun } from '../../report/write.js';
import { UsageError } from '../../errors.js';
import { newRunId } from './run-id.js';

export interface BenchCliOptions {
  profile: string;
  time: string;
  filter?: string;
  out?: string;
  json: boolean;
}

/** `bench`: runs the cases, writes the run directory, prints the figures. */
export async function benchAction(opts: BenchCliOptions): Promise<void> {
  const timeMs = Number(opts.time);
  if (!Number.isFinite(timeMs) || timeMs <= 0) throw new UsageError(`--time takes a positive number of milliseconds, not '${opts.time}'`);
  const profile = parseProfile(opts.profile);
  const startedAt = new Date();
  const runId = newRunId(startedAt);
  const figures = await runMicro(profile, { timeMs, ...(opts.filter !== undefined ? { filter: opts.filter } : {}) });
  if (figures.length === 0) throw new UsageError(`no micro-benchmark matches '${opts.filter}'`);
  const result = microJobResult(profile, figures);
  const outDir = resolve(opts.out ?? join('reports', runId));
  const runInfo = await collectRunInfo({
    runId,
    startedAt,
    finishedAt: new Date(),
    options: { command: 'bench', profile: profile.name, timeMs, filter: opts.filter },
    traces: [],
    results: [result],
  });
  await writeRun(outDir, runInfo, [result]);
  process.stdout.write(opts.json ? JSON.stringify(figures, null, 2) + '\n' : formatFigures(figures) + `report: ${outDir}/report.html\n`);
}

export function formatFigures(figures: MicroFigure[]): string {
  const rows = [['case', 'ns/op', 'min', 'ops/s', '±%', 'samples', 'op']];
  for (const f of figures) {
    // An outlier run's median is far above the fastest call it timed: rerun before trusting it.
    const flag = f.outlier ? ' OUTLIER' : f.stable ? '' : ' (unsteady warm-up)';
    rows.push([f.name, f.nsPerOp.toFixed(1), f.minNsPerOp.toFixed(1), formatOps(f.opsPerSecond), f.rme.toFixed(1), String(f.samples), f.unit + flag]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 || c === 6 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ').trimEnd()).join('\n') + '\n';
}

function formatOps(perSecond: number): string {
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(2)}M`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(1)}k`;
  return perSecond.toFixed(1);
}

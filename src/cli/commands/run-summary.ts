// The few lines `s2bench run` prints when it ends: one row per trace x profile, failures spelled out.

import { median } from '../../report/stats.js';
import type { JobResult } from '../../report/types.js';

function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return '-';
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(1)}M/s`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(1)}k/s`;
  return `${perSecond.toFixed(0)}/s`;
}

export function printSummary(results: JobResult[], outDir: string, out: NodeJS.WritableStream = process.stdout): void {
  const groups = new Map<string, JobResult[]>();
  for (const r of results) {
    const key = `${r.trace}\u0000${r.profile}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const rows: string[][] = [['trace', 'profile', 'events', 'faults', '4k/2m/1g leaves', 'events/s', 'diverged', 'status']];
  for (const group of groups.values()) {
    const ok = group.filter((r) => r.status === 'ok');
    const first = ok[0] ?? group[0]!;
    const m = first.modeled;
    rows.push([
      first.trace,
      first.profile,
      String(m['events'] ?? '-'),
      String(m['faults'] ?? '-'),
      ok.length > 0 ? `${m['leaves.4k'] ?? 0}/${m['leaves.2m'] ?? 0}/${m['leaves.1g'] ?? 0}` : '-',
      formatRate(median(ok.map((r) => r.timing['rate.events_per_s'] ?? NaN))),
      String(first.divergences),
      ok.length === group.length ? 'ok' : `${group.length - ok.length}/${group.length} failed`,
    ]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  for (const row of rows) out.write(row.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd() + '\n');
  for (const r of results) {
    if (r.status === 'failed') out.write(`FAILED ${r.trace} [${r.profile}] repeat ${r.repeat}: ${r.error ?? 'unknown error'}\n`);
  }
  out.write(`report: ${outDir}/report.html\n`);
}

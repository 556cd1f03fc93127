// The few lines `s2bench run` prints when it ends: one row per trace x profile (the report's own
// grouping) with its estimated guest time, failures spelled out.

import { formatMetric, formatSi } from '../../report/format.js';
import { groupJobs } from '../../report/groups.js';
import { median } from '../../report/stats.js';
import { terminalText } from '../../report/terminal.js';
import type { JobResult } from '../../report/types.js';

/** `costs` names the cost table the estimates were priced with. */
export function printSummary(results: JobResult[], outDir: string, costs?: string, out: NodeJS.WritableStream = process.stdout): void {
  const rows: string[][] = [['trace', 'profile', 'events', 'faults', '4k/2m/1g leaves', 'est. guest time', 'events/s', 'diverged', 'status']];
  for (const g of groupJobs(results)) {
    const m = g.modeled;
    rows.push([
      terminalText(g.trace),
      terminalText(g.profile),
      String(m['events'] ?? '-'),
      String(m['faults'] ?? '-'),
      m['events'] !== undefined ? `${m['leaves.4k'] ?? 0}/${m['leaves.2m'] ?? 0}/${m['leaves.1g'] ?? 0}` : '-',
      m['estimate.total_ms'] !== undefined ? `~${formatMetric(m['estimate.total_ms'], 'ms')}` : '-',
      `${formatSi(median(g.timing['rate.events_per_s'] ?? []))}/s`,
      String(g.divergences),
      g.failures.length === 0 ? 'ok' : `${g.failures.length}/${g.repeats} failed`,
    ]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  for (const row of rows) out.write(row.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd() + '\n');
  for (const r of results) {
    if (r.status === 'failed') {
      out.write(`FAILED ${terminalText(r.trace)} [${terminalText(r.profile)}] repeat ${r.repeat}: ${terminalText(r.error ?? 'unknown error', 300)}\n`);
    }
  }
  out.write(`report: ${terminalText(outDir, 400)}/report.html\n`);
  if (costs !== undefined) out.write(`est. guest time: an estimate, counts x costs from ${costs}\n`);
}

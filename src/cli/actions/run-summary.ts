// The few lines `s2bench run` prints when it ends: one row per trace x profile (the report's own
// grouping) with faults and faults/s beside events/s and the seed systems' findings where non-zero,
// its estimated guest time, micro-benchmarks as a line of their own, failures spelled out.

import { formatMetric, formatSi } from '../../report/format.js';
import { groupJobs } from '../../report/groups.js';
import { faultsPerSecond, headlines, isMicroGroup } from '../../report/headline.js';
import { median } from '../../report/stats.js';
import { groupStatus } from '../../report/summary.js';
import { terminalText } from '../../report/terminal.js';
import type { JobResult } from '../../report/types.js';

/** `costs` names the cost table the estimates were priced with. */
export function printSummary(results: JobResult[], outDir: string, costs?: string, out: NodeJS.WritableStream = process.stdout): void {
  const rows: string[][] = [['trace', 'profile', 'events', 'faults', 'faults/s', 'est. guest time', 'events/s', 'status', 'findings']];
  const groups = groupJobs(results);
  for (const g of groups.filter((group) => !isMicroGroup(group))) {
    const m = g.modeled;
    rows.push([
      terminalText(g.trace),
      terminalText(g.profile),
      String(m['events'] ?? '-'),
      String(m['faults'] ?? '-'),
      faultsPerSecond(g),
      m['estimate.total_ms'] !== undefined ? `~${formatMetric(m['estimate.total_ms'], 'ms')}` : '-',
      `${formatSi(median(g.timing['rate.events_per_s'] ?? []))}/s`,
      g.failures.length === 0 ? groupStatus(g) : `${g.failures.length}/${g.repeats} failed`,
      headlines(g).map((h) => h.text).join(', '),
    ]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  for (const row of rows) out.write(row.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd() + '\n');
  // Micro-benchmarks have timings only: a line each, not a table row of dashes.
  for (const g of groups.filter(isMicroGroup)) {
    out.write(`micro-benchmarks [${g.profile}]: ${Object.keys(g.timing).filter((n) => n.endsWith('.ns_per_op')).length} cases (report: Micro-benchmarks)\n`);
  }
  for (const r of results) {
    if (r.status === 'failed') {
      out.write(`FAILED ${terminalText(r.trace)} [${terminalText(r.profile)}] repeat ${r.repeat}: ${terminalText(r.error ?? 'unknown error', 300)}\n`);
    }
  }
  out.write(`report: ${terminalText(outDir, 400)}/report.html\n`);
  if (costs !== undefined) out.write(`est. guest time: an estimate, counts x costs from ${costs}\n`);
}

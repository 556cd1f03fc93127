// compare.csv and the terminal table of `s2bench compare`.

import { stringifySafe } from './csv-cells.js';
import { terminalText } from './terminal.js';
import type { Comparison } from './compare.js';
import { formatMetric, formatP, formatPct, shortCommit } from './format.js';
import { relativeSpread, type Spread } from './stats.js';

export const COMPARE_COLUMNS = [
  'kind',
  'trace',
  'profile',
  'metric',
  'unit',
  'base',
  'new',
  'delta_pct',
  'ratio',
  'ci_low',
  'ci_high',
  'p',
  'n_base',
  'n_new',
  'verdict',
] as const;

function num(v: number | null): number | string {
  return v === null || !Number.isFinite(v) ? '' : v;
}

export function formatCompareCsv(c: Comparison): string {
  const records: Array<Array<string | number>> = [];
  for (const m of c.modeled) {
    const delta = m.base !== null && m.new !== null && m.base !== 0 ? (m.new / m.base - 1) * 100 : NaN;
    records.push(['modeled', m.trace, m.profile, m.metric, m.unit, num(m.base), num(m.new), num(delta), '', '', '', '', '', '', m.changed ? 'behaviour change' : 'same']);
  }
  for (const t of c.timing) {
    records.push([
      'timing',
      t.trace,
      t.profile,
      t.metric,
      t.unit,
      num(t.base.median),
      num(t.new.median),
      num((t.ratio - 1) * 100),
      num(t.ratio),
      num(t.ciLow),
      num(t.ciHigh),
      num(t.p),
      t.base.n,
      t.new.n,
      t.verdict,
    ]);
  }
  for (const x of c.estimates) {
    const delta = x.base !== 0 ? (x.new / x.base - 1) * 100 : NaN;
    records.push(['estimate', x.trace, x.profile, x.metric, x.unit, num(x.base), num(x.new), num(delta), '', '', '', '', '', '', `estimate (${c.costSource ?? ''})`]);
  }
  return stringifySafe(records, { header: true, columns: [...COMPARE_COLUMNS], cast: { number: (n) => String(n) } });
}

function withSpread(s: Spread, unit: string): string {
  const r = relativeSpread(s);
  return `${formatMetric(s.median, unit)} ±${Number.isFinite(r) ? Math.round(r * 100) : 0}%`;
}

function table(rows: string[][]): string {
  rows = rows.map((row) => row.map((cell) => terminalText(cell)));
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  return rows.map((row) => row.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n') + '\n';
}

const MAX_LISTED = 40;
const MAX_ERROR_CHARS = 300;

/** Estimate deltas, both sides priced with one table; only pairs where some estimate is not zero. */
function estimateText(c: Comparison): string {
  const shown = c.estimates.filter((x) => x.base !== 0 || x.new !== 0);
  if (shown.length === 0) return '';
  let out = `\nestimated guest-visible time (ESTIMATES from counts x costs: ${c.costSource ?? 'unknown table'}):\n`;
  const rows: string[][] = [['trace', 'profile', 'estimate', 'base', 'new', 'delta']];
  for (const x of shown.slice(0, MAX_LISTED)) {
    const sign = x.delta > 0 ? '+' : '';
    rows.push([x.trace, x.profile, x.metric, formatMetric(x.base, x.unit), formatMetric(x.new, x.unit), `${sign}${formatMetric(x.delta, x.unit)}`]);
  }
  out += table(rows);
  if (shown.length > MAX_LISTED) out += `... and ${shown.length - MAX_LISTED} more in compare.csv\n`;
  return out;
}

/** benchstat-like text: timing per trace x profile x metric, then behaviour changes, then the verdict. */
export function formatCompareText(c: Comparison, allowBehaviourChange: boolean): string {
  let out = `base: ${terminalText(c.base.dir, 400)} (run ${terminalText(c.base.runId)}${c.base.gitCommit ? `, ${shortCommit(c.base.gitCommit)}` : ''})\n`;
  out += `new:  ${terminalText(c.new.dir, 400)} (run ${terminalText(c.new.runId)}${c.new.gitCommit ? `, ${shortCommit(c.new.gitCommit)}` : ''})\n\n`;
  const rows: string[][] = [['trace', 'profile', 'metric', 'base', 'new', 'delta', '95% CI', 'p', 'verdict']];
  for (const t of c.timing) {
    const significant = t.verdict !== 'no significant change';
    rows.push([
      t.trace,
      t.profile,
      t.metric,
      withSpread(t.base, t.unit),
      withSpread(t.new, t.unit),
      significant ? formatPct(t.ratio - 1) : '~',
      `${formatPct(t.ciLow - 1)} .. ${formatPct(t.ciHigh - 1)}`,
      `${formatP(t.p)} n=${t.base.n}+${t.new.n}`,
      t.verdict === 'regression' ? 'REGRESSION' : t.verdict,
    ]);
  }
  if (rows.length > 1) out += table(rows);
  const underpowered = c.timing.filter((t) => t.underpowered).length;
  if (underpowered > 0) {
    out += `\nnote: ${underpowered} timing comparison(s) have too few repeats to reach p < ${c.options.alpha} whatever the figures; ` +
      'use --repeat 5 or more on both runs to detect timing regressions\n';
  }
  if (c.changedTraces.length > 0) out += `\nwarning: trace content differs between the runs: ${c.changedTraces.join(', ')}\n`;
  const changes = c.modeled.filter((m) => m.changed);
  if (changes.length > 0) {
    out += `\nbehaviour changes (modeled metrics differ${allowBehaviourChange ? '; accepted with --allow-behaviour-change' : ''}):\n`;
    const changeRows: string[][] = [['trace', 'profile', 'metric', 'base', 'new']];
    for (const m of changes.slice(0, MAX_LISTED)) {
      changeRows.push([m.trace, m.profile, m.metric, m.base === null ? 'absent' : String(m.base), m.new === null ? 'absent' : String(m.new)]);
    }
    out += table(changeRows);
    if (changes.length > MAX_LISTED) out += `... and ${changes.length - MAX_LISTED} more in compare.csv\n`;
  }
  out += estimateText(c);
  for (const f of c.failures) out += `FAILED in ${f.side}: ${terminalText(f.trace)} [${terminalText(f.profile)}] repeat ${f.repeat}: ${terminalText(f.error, MAX_ERROR_CHARS)}\n`;
  const threshold = `${(c.options.threshold * 100).toFixed(c.options.threshold * 100 < 1 ? 2 : 0)}%`;
  out += '\n';
  out += c.regressions > 0 ? `${c.regressions} timing regression(s) beyond ${threshold}\n` : `no timing regression beyond ${threshold}\n`;
  out += c.behaviourChanges > 0 ? `${c.behaviourChanges} modeled metric(s) changed\n` : 'no behaviour change\n';
  return out;
}

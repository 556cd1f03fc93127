// Estimated guest-visible time in report.html: beside each trace x profile's counts, clearly marked as
// estimates and naming the cost table they were priced with (src/estimate/, docs/calibration.md).

import { formatCount, formatMetric } from '../format.js';
import type { RunInfo } from '../types.js';
import { escapeHtml as e } from './escape.js';

/** Each cause, its estimate metric and the counts behind it. */
const CAUSES: ReadonlyArray<readonly [string, string, ReadonlyArray<readonly [string, string]>]> = [
  ['faults', 'estimate.faults_ms', [['leaves.4k', '4K maps'], ['leaves.2m', '2M maps'], ['faults.wp', 'wp faults'], ['uffd.faults', 'uffd']]],
  ['dirty logging', 'estimate.dirty_log_ms', [['dirty.gets', 'GET_DIRTY_LOG'], ['dirty.harvested', 'pages harvested']]],
  ['memslot updates', 'estimate.memslots_ms', [['memslot.creates', 'creates'], ['memslot.deletes', 'deletes'], ['memslot.flag_changes', 'flag changes'], ['memslot.zaps', 'mappings zapped']]],
  ['conversions', 'estimate.conversions_ms', [['conversions', 'conversions'], ['conversions.pages', 'pages'], ['gmem.punches', 'punches'], ['gmem.punched_pages', 'pages punched']]],
];

/** The cost table's source as the run recorded it (run.json options.costs), if any. */
export function costSourceOf(info: RunInfo): string | undefined {
  const source = info.options?.['costs'];
  return typeof source === 'string' ? source : undefined;
}

function ms(value: number | undefined): string {
  return value === undefined ? '-' : formatMetric(value, 'ms');
}

/** Summary-table cell: the total estimate, marked with ≈. */
export function estimateCell(m: Record<string, number>): string {
  const total = m['estimate.total_ms'];
  return total === undefined ? '<span class="muted">-</span>' : `<span title="estimate: counts x costs">≈ ${e(ms(total))}</span>`;
}

/** The note under the summary table saying what the estimate column is. */
export function estimateNote(info: RunInfo): string {
  const source = costSourceOf(info);
  return source === undefined
    ? ''
    : `<p class="note">est. guest time: an <b>estimate</b>, modeled counts × per-event costs from ${e(source)}; not measured. ` +
        'Profiles the table has no costs for show -.</p>';
}

/** Per trace x profile: the estimate by cause beside the counts it prices. */
export function estimateBlock(m: Record<string, number>, info: RunInfo): string {
  if (m['estimate.total_ms'] === undefined) return '';
  const parts = CAUSES.filter(([, metric, counts]) => (m[metric] ?? 0) > 0 || counts.some(([c]) => (m[c] ?? 0) > 0)).map(([label, metric, counts]) => {
    const behind = counts.filter(([c]) => (m[c] ?? 0) > 0).map(([c, what]) => `${formatCount(m[c])} ${what}`);
    return `<span>${e(label)} <b>≈ ${e(ms(m[metric]))}</b>${behind.length ? ` <span class="muted">(${e(behind.join(', '))})</span>` : ''}</span>`;
  });
  const unpriced = m['estimate.unpriced'] ?? 0;
  return (
    `<div class="meta"><span><span class="badge neutral">estimate</span> guest-visible time <b>≈ ${e(ms(m['estimate.total_ms']))}</b></span>${parts.join('')}` +
    (unpriced > 0 ? `<span class="muted">${formatCount(unpriced)} events the cost table has no price for</span>` : '') +
    `<span class="muted">costs: ${e(costSourceOf(info) ?? 'unknown table')}</span></div>`
  );
}

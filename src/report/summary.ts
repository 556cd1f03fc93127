// summary.csv: one row per trace x profile with the headline figures, for a quick look in a spreadsheet.

import { stringifySafe } from './csv-cells.js';
import type { MetricName } from '../core/metrics.js';
import type { Group } from './groups.js';
import { relativeSpread, spread } from './stats.js';

/** Headline modeled metrics, in column order. */
export const SUMMARY_MODELED = [
  'events',
  'accesses',
  'faults',
  'faults.fixed',
  'exits.mmio',
  'exits.memfault',
  'leaves.4k',
  'leaves.2m',
  'leaves.1g',
  'mapped.4k',
  'mapped.2m',
  'mapped.1g',
  'splits',
  'zaps',
  'tlb.flushes',
  'conversions',
  'exits.internal',
  'iotlb.leaked',
  'iotlb.freed_domain_uses',
  'hypshare.phantom',
  'hypshare.lost',
  'divergences',
  // A differing `ret` under another profile than the recorded one: counted apart from divergences.
  'behaviour_changes',
] as const satisfies readonly MetricName[];

export const SUMMARY_COLUMNS = [
  'trace',
  'profile',
  'status',
  'repeats',
  'failed',
  ...SUMMARY_MODELED,
  'events_per_s.median',
  'events_per_s.min',
  'events_per_s.max',
  'events_per_s.spread_pct',
  'replay_ms.median',
] as const;

/** A number stays a number (so a negative one is not taken for a formula); a missing one is blank. */
function cell(value: number | undefined): number | string {
  return value === undefined || !Number.isFinite(value) ? '' : value;
}

export function groupStatus(g: Group): 'ok' | 'failed' | 'partial' | 'diverged' {
  if (g.failures.length === g.repeats) return 'failed';
  if (g.failures.length > 0) return 'partial';
  if (g.divergences > 0) return 'diverged';
  return 'ok';
}

export function summaryRecords(groups: readonly Group[]): Array<Array<string | number>> {
  return groups.map((g) => {
    const rate = spread(g.timing['rate.events_per_s'] ?? []);
    const replay = spread(g.timing['time.replay_ms'] ?? []);
    const pct = relativeSpread(rate) * 100;
    return [
      g.trace,
      g.profile,
      groupStatus(g),
      g.repeats,
      g.failures.length,
      ...SUMMARY_MODELED.map((m) => cell(g.modeled[m])),
      cell(rate.median),
      cell(rate.min),
      cell(rate.max),
      Number.isFinite(pct) ? pct.toFixed(2) : '',
      cell(replay.median),
    ];
  });
}

export function formatSummaryCsv(groups: readonly Group[]): string {
  return stringifySafe(summaryRecords(groups), { header: true, columns: [...SUMMARY_COLUMNS], cast: { number: (n) => String(n) } });
}

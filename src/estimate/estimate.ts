// Guest-visible time by cause, from a replay's counts and a cost table: each cause is a sum of
// count x cost (docs/calibration.md). Applied to results after a replay, never inside the core, and
// from counts that results.csv holds, so `estimateMetrics(results.csv counts, table)` gives the same
// figures again.

import type { CostName, ProfileCosts } from './costs.js';

/** The estimate metrics, in milliseconds, and the count of events the table had no price for. */
export const ESTIMATE_METRICS = [
  'estimate.faults_ms',
  'estimate.dirty_log_ms',
  'estimate.memslots_ms',
  'estimate.conversions_ms',
  'estimate.total_ms',
  'estimate.unpriced',
] as const;

export function isEstimateMetric(name: string): boolean {
  return name.startsWith('estimate.');
}

/** A priced quantity: a counter, or the pages of calls beyond each call's first (priced per call). */
type Quantity = string | { pagesOf: string; calls: string };

/** Each cause: the quantities it prices and the cost of one of each (null: no cost is calibrated). */
const CAUSES: ReadonlyArray<readonly [string, ReadonlyArray<readonly [Quantity, CostName | null]>]> = [
  [
    'estimate.faults_ms',
    [
      ['leaves.4k', 'fault_4k'],
      ['leaves.2m', 'fault_2m'],
      ['leaves.1g', null], // no host here gives 1G pages to anonymous memory: unpriced
      ['faults.wp', 'wp_fault'],
      ['uffd.faults', 'uffd_roundtrip'],
    ],
  ],
  [
    'estimate.dirty_log_ms',
    [
      ['dirty.gets', 'dirty_log_slot'],
      ['dirty.harvested', 'dirty_log_page'],
    ],
  ],
  [
    'estimate.memslots_ms',
    [
      ['memslot.creates', 'memslot_create'],
      ['memslot.deletes', 'memslot_delete'],
      ['memslot.flag_changes', 'memslot_flags'],
      ['memslot.moves', null], // not calibrated: a move is a delete, an invalidation and a create in one
      ['memslot.zaps', 'memslot_zap'],
      ['memslot.wrprots', 'memslot_wrprot'],
    ],
  ],
  [
    'estimate.conversions_ms',
    [
      // A call's cost covers its first page; each further page costs the per-page price.
      ['conversions', 'attributes_call'],
      [{ pagesOf: 'conversions.pages', calls: 'conversions' }, 'attributes_page'],
      ['gmem.punches', 'gmem_punch'],
      [{ pagesOf: 'gmem.punched_pages', calls: 'gmem.punches' }, 'gmem_punch_page'],
    ],
  ],
];

function quantity(q: Quantity, counts: Readonly<Record<string, number>>): number {
  if (typeof q === 'string') return counts[q] ?? 0;
  return Math.max(0, (counts[q.pagesOf] ?? 0) - (counts[q.calls] ?? 0));
}

/**
 * estimate.* for one job's counts. A count whose cost the table lacks adds to `estimate.unpriced`
 * instead of to its cause; a count absent from `counts` is zero.
 */
export function estimateMetrics(counts: Readonly<Record<string, number>>, costs: ProfileCosts): Record<string, number> {
  const out: Record<string, number> = {};
  let total = 0;
  let unpriced = 0;
  for (const [metric, terms] of CAUSES) {
    let ns = 0;
    for (const [q, cost] of terms) {
      const n = quantity(q, counts);
      if (n === 0) continue;
      const price = cost === null ? undefined : costs[cost]?.ns;
      if (price === undefined) unpriced += n;
      else ns += n * price;
    }
    out[metric] = ns / 1e6;
    total += ns;
  }
  out['estimate.total_ms'] = total / 1e6;
  out['estimate.unpriced'] = unpriced;
  return out;
}

/**
 * What the recorder's guest would take for these counts: every 4K access is one KVM_RUN of its own
 * (entry, one write, hlt, exit: `run_roundtrip`, whose guest runs only the hlt; the one write is not
 * priced) plus the faults it takes. Used to check a calibration against a recorded run's measured
 * KVM_RUN time; not a figure for real guests, whose accesses to mapped memory take no exit.
 */
export function recorderGuestMs(counts: Readonly<Record<string, number>>, costs: ProfileCosts): number | undefined {
  const floor = costs.run_roundtrip?.ns;
  if (floor === undefined) return undefined;
  const est = estimateMetrics(counts, costs);
  return est['estimate.faults_ms']! + ((counts['accesses'] ?? 0) * floor) / 1e6;
}

// Estimate deltas between two runs (or two profiles): both sides' counts priced with one cost table,
// so a delta is the change in guest-visible time the count changes imply, never a change of prices.
// Not behaviour changes of their own: the counts behind them are already compared exactly.

import { groupKey, type Group } from '../report/groups.js';
import { withEstimateMetrics } from './apply.js';
import type { CostTable } from './costs.js';
import { ESTIMATE_METRICS } from './estimate.js';

export interface EstimateComparison {
  trace: string;
  profile: string;
  metric: string;
  unit: string;
  base: number;
  new: number;
  /** new - base, in the metric's unit. */
  delta: number;
}

/** The cost table compare prices both sides with, and where it came from. */
export interface CompareCosts {
  table: CostTable;
  source: string;
}

function unit(metric: string): string {
  return metric.endsWith('_ms') ? 'ms' : 'count';
}

/** A profile comparison labels both sides `P -> Q` (src/report/profile-pairs.ts): each side is priced as its own profile. */
function sideProfile(label: string, side: 0 | 1): string {
  const parts = label.split(' -> ');
  return parts.length === 2 ? parts[side]! : label;
}

/** Every estimate of every trace x profile present, with counts, on both sides. */
export function compareEstimates(base: readonly Group[], next: readonly Group[], costs: CompareCosts): EstimateComparison[] {
  const newGroups = new Map(next.map((g) => [groupKey(g.trace, g.profile), g]));
  const out: EstimateComparison[] = [];
  for (const b of base) {
    const n = newGroups.get(groupKey(b.trace, b.profile));
    if (!n || Object.keys(b.modeled).length === 0 || Object.keys(n.modeled).length === 0) continue;
    const be = withEstimateMetrics(b.modeled, costs.table, sideProfile(b.profile, 0));
    const ne = withEstimateMetrics(n.modeled, costs.table, sideProfile(n.profile, 1));
    for (const metric of ESTIMATE_METRICS) {
      const bv = be[metric];
      const nv = ne[metric];
      if (bv === undefined || nv === undefined) continue; // the table has no costs for this profile
      out.push({ trace: b.trace, profile: b.profile, metric, unit: unit(metric), base: bv, new: nv, delta: nv - bv });
    }
  }
  return out;
}

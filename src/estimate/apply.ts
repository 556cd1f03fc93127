// Estimates join results when they are produced (run, replay) and when runs are compared: the
// counts come from the model, the prices from a cost table, and the table's source goes with them.

import type { Group } from '../report/groups.js';
import type { JobResult } from '../report/types.js';
import { costsFor, type CostTable, type ProfileCosts } from './costs.js';
import { estimateMetrics, isEstimateMetric } from './estimate.js';

/** The modeled counters with estimate.* recomputed from them (any earlier estimates replaced). */
export function withEstimateMetrics(modeled: Readonly<Record<string, number>>, table: CostTable, profile: string): Record<string, number> {
  const counts = Object.fromEntries(Object.entries(modeled).filter(([name]) => !isEstimateMetric(name)));
  const costs = tableFor(table, profile);
  return costs === undefined ? counts : { ...counts, ...estimateMetrics(counts, costs) };
}

/** Jobs with estimate.* among their modeled metrics (failed jobs, which have no counts, unchanged). */
export function addEstimates(jobs: readonly JobResult[], table: CostTable): JobResult[] {
  return jobs.map((job) =>
    job.status === 'ok' && Object.keys(job.modeled).length > 0 ? { ...job, modeled: withEstimateMetrics(job.modeled, table, job.profile) } : job,
  );
}

/** Groups with estimate.* recomputed from their counts under one table (compare prices both sides alike). */
export function regroupWithEstimates(groups: readonly Group[], table: CostTable): Group[] {
  return groups.map((g) => (Object.keys(g.modeled).length > 0 ? { ...g, modeled: withEstimateMetrics(g.modeled, table, g.profile) } : g));
}

/** The profile's costs, or undefined when the table has none or the name is not a profile. */
function tableFor(table: CostTable, profile: string): ProfileCosts | undefined {
  try {
    return costsFor(table, profile);
  } catch {
    return undefined;
  }
}

/** Profiles of these jobs that the table has no costs for (their results carry no estimates). */
export function unpricedProfiles(profiles: Iterable<string>, table: CostTable): string[] {
  const out = new Set<string>();
  for (const p of profiles) if (tableFor(table, p) === undefined) out.add(p);
  return [...out].sort();
}

// The results schema: modeled counters by name. Users' scripts and `expect` rows depend on these names
// (docs/metrics.md): add new ones at the end freely, rename none. The core keeps the values in one
// Float64Array indexed by these ids, so counting on the hot path is a typed-array increment.

export const METRIC_NAMES = [
  'events',
  'accesses',
  'faults',
  'faults.fixed',
  'faults.spurious',
  'faults.wp',
  'exits.mmio',
  'exits.memfault',
  'runs.enosys',
  'uffd.faults',
  'leaves.4k',
  'leaves.2m',
  'leaves.1g',
  'mapped.4k',
  'mapped.2m',
  'mapped.1g',
  'splits',
  'zaps',
  'tlb.flushes',
  'tables.peak',
  'conversions',
  'dirty.pages',
  'iotlb.pinned',
  'iotlb.leaked',
  'iotlb.freed_domain_uses',
  'hypshare.phantom',
  'hypshare.lost',
  'divergences',
  'iotlb.maps',
  'iotlb.leaked_maps',
  'iotlb.device_commits',
  'iotlb.perm_warns',
  'hypshare.shared',
  'hypshare.hypercalls',
  'hypshare.desynced',
  'hypshare.desync_ops',
  'gmem.splits',
  'gmem.merges',
  'exits.internal',
  'behaviour_changes',
] as const;

export type MetricName = (typeof METRIC_NAMES)[number];

/** Metric ids, e.g. `M.faults`, for indexing a counters array. */
export const M = Object.fromEntries(METRIC_NAMES.map((name, i) => [name.replace('.', '_'), i])) as {
  readonly [K in MetricName as K extends `${infer A}.${infer B}` ? `${A}_${B}` : K]: number;
};

export const METRIC_COUNT = METRIC_NAMES.length;

/** Units for results.csv: bytes for mapped.*, count for everything else. */
export function metricUnit(name: string): 'bytes' | 'count' {
  return name.startsWith('mapped.') ? 'bytes' : 'count';
}

export function metricId(name: string): number {
  return (METRIC_NAMES as readonly string[]).indexOf(name);
}

export function newCounters(): Float64Array {
  return new Float64Array(METRIC_COUNT);
}

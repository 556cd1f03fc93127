// Units for results.csv and the report. Modeled units come from the core's schema; timing units are
// spelled by the metric name's suffix (`_ms`, `_ns`, `_per_s`, `ns_per_op`).

import { metricUnit } from '../core/metrics.js';

export type MetricKind = 'modeled' | 'timing';

const TIMING_PREFIXES = ['time.', 'rate.', 'micro.'];

/** Timing metrics vary run to run and are compared statistically; every other metric is modeled. */
export function metricKind(name: string): MetricKind {
  return TIMING_PREFIXES.some((p) => name.startsWith(p)) ? 'timing' : 'modeled';
}

export function unitOf(name: string): string {
  // Estimates (src/estimate/) are deterministic like counts but are times: estimate.*_ms.
  if (name.startsWith('estimate.')) return name.endsWith('_ms') ? 'ms' : 'count';
  if (metricKind(name) === 'modeled') return metricUnit(name);
  if (name.endsWith('ns_per_op')) return 'ns/op';
  if (name.endsWith('_ms')) return 'ms';
  if (name.endsWith('_ns')) return 'ns';
  if (name.endsWith('_mb_per_s')) return 'MB/s';
  const perS = /[._]?([a-z0-9]+)_per_s$/.exec(name);
  if (perS) return `${perS[1]}/s`;
  return '';
}

/** Which direction is better, for regressions: more time is worse, a higher rate is better. */
export function higherIsBetter(name: string): boolean {
  return name.startsWith('rate.') || name.endsWith('_per_s');
}

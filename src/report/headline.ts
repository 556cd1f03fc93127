// The figures a row of the run table leads with beyond events and faults: what the seed systems found
// (vhost-vdpa leaks, pKVM desyncs, conversions and their p99 cost) and how the replay compares with the
// recorded answers, each only when it is non-zero. The terminal table and report.html both show these.

import { formatCount, formatMetric, formatSi } from './format.js';
import type { Group } from './groups.js';
import { median } from './stats.js';

export interface Headline {
  /** Plain text, e.g. `4096 pages leaked`. */
  text: string;
  /** A finding that points at a bug (a leak, a desync, a divergence), not just a figure. */
  bad: boolean;
}

/** Trace groups that hold only micro-benchmark timings (`run --micro`, `bench`): no modeled counters. */
export function isMicroGroup(g: Group): boolean {
  return Object.keys(g.modeled).length === 0 && Object.keys(g.timing).some((name) => name.startsWith('micro.'));
}

/** Median over repeats of a timing, undefined when none was measured. */
export function medianTiming(g: Group, name: string): number | undefined {
  const values = g.timing[name] ?? [];
  return values.length === 0 ? undefined : median(values);
}

/** `faults/s` (modeled faults per second of replay) as the tables print it. */
export function faultsPerSecond(g: Group): string {
  const rate = medianTiming(g, 'rate.faults_per_s');
  return rate === undefined ? '-' : `${formatSi(rate)}/s`;
}

export function headlines(g: Group): Headline[] {
  const m = g.modeled;
  const out: Headline[] = [];
  const add = (value: number | undefined, text: (n: string) => string, bad: boolean): void => {
    if (value !== undefined && value !== 0) out.push({ text: text(formatCount(value)), bad });
  };
  add(g.divergences, (n) => `${n} divergences`, true);
  add(m['behaviour_changes'], (n) => `${n} behaviour changes`, false);
  add(m['iotlb.leaked'], (n) => `${n} IOTLB pages leaked`, true);
  add(m['iotlb.freed_domain_uses'], (n) => `${n} freed-domain uses`, true);
  add(m['hypshare.desynced'], (n) => `${n} pKVM pages desynced`, true);
  add(m['hypshare.desync_ops'], (n) => `${n} calls on desynced pages`, true);
  if ((m['conversions'] ?? 0) > 0) {
    const p99 = medianTiming(g, 'time.conversion_p99_ns');
    out.push({ text: `${formatCount(m['conversions'])} conversions${p99 === undefined ? '' : `, p99 ${formatMetric(p99, 'ns')}`}`, bad: false });
  }
  return out;
}

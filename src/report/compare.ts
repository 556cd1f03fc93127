// Comparison of two runs, as a CI gate. Modeled metrics are deterministic, so they are compared exactly:
// any difference is a behaviour change. Timing metrics vary, so their repeats are compared with a
// Mann-Whitney U test and a bootstrap interval for the ratio of medians; a timing change counts only
// when it is significant AND beyond the threshold, in the bad direction (benchstat's rule plus a floor).

import { compareEstimates, type EstimateComparison } from '../estimate/compare.js';
import { DEFAULT_COMPARE_OPTIONS, type CompareOptions } from './compare-options.js';
import { isEstimateMetric } from '../estimate/estimate.js';
import { ratioOfMediansCi } from './bootstrap.js';
import { RunDirError } from '../errors.js';
import { groupKey, type Group } from './groups.js';
import { mannWhitneyU, minimumP } from './mann-whitney.js';
import { compareMetricNames } from './results.js';
import type { LoadedRun } from './run-dir.js';
import { spread, type Spread } from './stats.js';
import { higherIsBetter, unitOf } from './units.js';

export interface RunRef {
  dir: string;
  runId: string;
  gitCommit: string | null;
  s2benchVersion: string;
}

export interface Pair {
  trace: string;
  profile: string;
}

export interface ModeledComparison extends Pair {
  metric: string;
  unit: string;
  base: number | null;
  new: number | null;
  changed: boolean;
}

export type TimingVerdict = 'regression' | 'improvement' | 'within threshold' | 'no significant change';

export interface TimingComparison extends Pair {
  metric: string;
  unit: string;
  base: Spread;
  new: Spread;
  /** median(new) / median(base). */
  ratio: number;
  ciLow: number;
  ciHigh: number;
  p: number;
  /** True when these sample sizes cannot reach p < alpha at all: add repeats to detect anything. */
  underpowered: boolean;
  verdict: TimingVerdict;
}

export interface JobFailureRef extends Pair {
  side: 'base' | 'new';
  repeat: number;
  error: string;
}

export interface Comparison {
  base: RunRef;
  new: RunRef;
  options: CompareOptions;
  modeled: ModeledComparison[];
  timing: TimingComparison[];
  /** Estimated guest-visible time, both sides priced with `costSource` (empty without a cost table). */
  estimates: EstimateComparison[];
  costSource?: string;
  failures: JobFailureRef[];
  /** Pairs on one side only (only when compared with `partial`; otherwise that is an input error). */
  onlyInBase: Pair[];
  onlyInNew: Pair[];
  /** Traces whose content hash differs between the runs: a modeled change may come from the input. */
  changedTraces: string[];
  behaviourChanges: number;
  regressions: number;
}

function runRef(run: LoadedRun): RunRef {
  return { dir: run.dir, runId: run.info.runId, gitCommit: run.info.gitCommit ?? null, s2benchVersion: run.info.s2benchVersion ?? '' };
}

export function pairName(p: Pair): string {
  return `${p.trace} [${p.profile}]`;
}

/** Throws when the two runs are not of the same suite, naming the pairs found on one side only. */
export function checkSameSuite(base: LoadedRun, next: LoadedRun): void {
  const baseKeys = new Set(base.groups.map((g) => groupKey(g.trace, g.profile)));
  const newKeys = new Set(next.groups.map((g) => groupKey(g.trace, g.profile)));
  const onlyBase = base.groups.filter((g) => !newKeys.has(groupKey(g.trace, g.profile)));
  const onlyNew = next.groups.filter((g) => !baseKeys.has(groupKey(g.trace, g.profile)));
  if (onlyBase.length === 0 && onlyNew.length === 0) return;
  const lines = ['the two runs are of different suites:'];
  if (onlyBase.length > 0) lines.push(`  only in ${base.dir}: ${onlyBase.map(pairName).join(', ')}`);
  if (onlyNew.length > 0) lines.push(`  only in ${next.dir}: ${onlyNew.map(pairName).join(', ')}`);
  throw new RunDirError(lines.join('\n'));
}

function compareModeled(b: Group, n: Group): ModeledComparison[] {
  // A group whose every repeat failed has no counters: that is reported as a failure, not as changes.
  if (Object.keys(b.modeled).length === 0 || Object.keys(n.modeled).length === 0) return [];
  // Estimates are priced counts: compared on their own (compareEstimates), not as behaviour.
  const names = [...new Set([...Object.keys(b.modeled), ...Object.keys(n.modeled)])].filter((m) => !isEstimateMetric(m)).sort(compareMetricNames);
  return names.map((metric) => {
    const bv = b.modeled[metric] ?? null;
    const nv = n.modeled[metric] ?? null;
    // A metric that exists on one side only (the schema grew) is a change only if it counted something.
    const changed = bv !== null && nv !== null ? bv !== nv : (bv ?? nv) !== 0;
    return { trace: b.trace, profile: b.profile, metric, unit: unitOf(metric), base: bv, new: nv, changed };
  });
}

export function compareSamples(
  pair: Pair,
  metric: string,
  baseSamples: readonly number[],
  newSamples: readonly number[],
  options: CompareOptions,
): TimingComparison {
  const b = spread(baseSamples);
  const n = spread(newSamples);
  const ratio = n.median / b.median;
  const [ciLow, ciHigh] = ratioOfMediansCi(baseSamples, newSamples);
  const { p } = mannWhitneyU(baseSamples, newSamples);
  let verdict: TimingVerdict = 'no significant change';
  if (p < options.alpha) {
    const change = ratio - 1;
    const worse = higherIsBetter(metric) ? change < 0 : change > 0;
    if (!(Math.abs(change) > options.threshold)) verdict = 'within threshold';
    else verdict = worse ? 'regression' : 'improvement';
  }
  return {
    ...pair,
    metric,
    unit: unitOf(metric),
    base: b,
    new: n,
    ratio,
    ciLow,
    ciHigh,
    p,
    underpowered: verdict === 'no significant change' && minimumP(b.n, n.n) >= options.alpha,
    verdict,
  };
}

function compareTiming(b: Group, n: Group, options: CompareOptions): TimingComparison[] {
  const names = Object.keys(b.timing).filter((m) => (n.timing[m]?.length ?? 0) > 0 && b.timing[m]!.length > 0);
  return names.sort(compareMetricNames).map((metric) => compareSamples(b, metric, b.timing[metric]!, n.timing[metric]!, options));
}

/**
 * Compares two runs of the same suite. With `partial`, runs of different suites are compared on the
 * trace x profile pairs they share (for a report's embedded baseline); without it that is an error.
 */
export function compareRuns(
  base: LoadedRun,
  next: LoadedRun,
  options: CompareOptions = DEFAULT_COMPARE_OPTIONS,
  partial = false,
): Comparison {
  if (!partial) checkSameSuite(base, next);
  const newGroups = new Map(next.groups.map((g) => [groupKey(g.trace, g.profile), g]));
  const baseKeys = new Set(base.groups.map((g) => groupKey(g.trace, g.profile)));
  const modeled: ModeledComparison[] = [];
  const timing: TimingComparison[] = [];
  const failures: JobFailureRef[] = [];
  const onlyInBase: Pair[] = [];
  for (const b of base.groups) {
    const n = newGroups.get(groupKey(b.trace, b.profile));
    if (!n) {
      onlyInBase.push({ trace: b.trace, profile: b.profile });
      continue;
    }
    modeled.push(...compareModeled(b, n));
    timing.push(...compareTiming(b, n, options));
    for (const [side, g] of [['base', b], ['new', n]] as const) {
      for (const f of g.failures) failures.push({ side, trace: g.trace, profile: g.profile, repeat: f.repeat, error: f.error });
    }
  }
  return {
    base: runRef(base),
    new: runRef(next),
    options: { threshold: options.threshold, alpha: options.alpha },
    modeled,
    timing,
    estimates: options.costs ? compareEstimates(base.groups, next.groups, options.costs) : [],
    ...(options.costs ? { costSource: options.costs.source } : {}),
    failures,
    onlyInBase,
    changedTraces: changedTraces(base, next),
    onlyInNew: next.groups.filter((g) => !baseKeys.has(groupKey(g.trace, g.profile))).map((g) => ({ trace: g.trace, profile: g.profile })),
    behaviourChanges: modeled.filter((m) => m.changed).length,
    regressions: timing.filter((t) => t.verdict === 'regression').length,
  };
}

function changedTraces(base: LoadedRun, next: LoadedRun): string[] {
  const hashes = new Map((base.info.traces ?? []).map((t) => [t.name, t.sha256]));
  return (next.info.traces ?? [])
    .filter((t) => t.sha256 !== null && hashes.get(t.name) != null && hashes.get(t.name) !== t.sha256)
    .map((t) => t.name);
}

/** CI's question: should this comparison fail the build? */
export function comparisonFails(c: Comparison, allowBehaviourChange: boolean): boolean {
  return c.regressions > 0 || (!allowBehaviourChange && c.behaviourChanges > 0) || c.failures.some((f) => f.side === 'new');
}

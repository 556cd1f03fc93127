// "Between versions": what changed for a trace between two profiles of the same run. Only pairs of
// profiles that differ in exactly one thing, the kernel version or one knob, are compared: a pair that
// differs in two could not say which of the two made a difference. Each pair is compared with the
// machinery of `compare RUN RUN --base-profile A --new-profile B` (profile-pairs.ts, compare.ts):
// modeled counters exactly, timings with the rank test and the bootstrap interval.

import { KNOBS, parseProfile, type KnobName, type Profile } from '../core/profile.js';
import { compareRuns, type Comparison } from './compare.js';
import { DEFAULT_COMPARE_OPTIONS, type CompareOptions } from './compare-options.js';
import { isMicroGroup } from './headline.js';
import { pairProfiles } from './profile-pairs.js';
import type { LoadedRun } from './run-dir.js';

/** Two profiles one step apart: `base` is the older version, or the knob's default (else its first value). */
export interface ProfileStep {
  base: string;
  next: string;
  /** What differs, e.g. `version 6.12 -> 6.18` or `pml on -> off`. */
  what: string;
}

export interface StepComparison {
  step: ProfileStep;
  /** Traces that ran under both profiles, in the run's order. */
  traces: string[];
  comparison: Comparison;
}

function parsed(name: string): Profile | undefined {
  try {
    return parseProfile(name);
  } catch {
    // A trace's profile that does not parse: its jobs failed; there is nothing to compare.
    return undefined;
  }
}

/** The one difference between two profiles of one architecture, ordered base -> next; undefined if not exactly one. */
export function profileStep(a: Profile, b: Profile): ProfileStep | undefined {
  if (a.arch !== b.arch) return undefined;
  const knobs = (Object.keys(KNOBS) as KnobName[]).filter((k) => a.knobs[k] !== b.knobs[k]);
  const versionDiffers = a.version !== b.version;
  if (knobs.length + (versionDiffers ? 1 : 0) !== 1) return undefined;
  if (versionDiffers) {
    const [base, next] = a.versionCode < b.versionCode ? [a, b] : [b, a];
    return { base: base.name, next: next.name, what: `version ${base.version} -> ${next.version}` };
  }
  const knob = knobs[0]!;
  // The profile whose name does not spell the knob has its default: that is the base.
  const spelled = (p: Profile): boolean => p.name.split(',').some((part) => part.startsWith(`${knob}=`));
  const values: readonly string[] = KNOBS[knob].values;
  const aFirst = spelled(a) !== spelled(b) ? !spelled(a) : values.indexOf(a.knobs[knob]) < values.indexOf(b.knobs[knob]);
  const [base, next] = aFirst ? [a, b] : [b, a];
  return { base: base.name, next: next.name, what: `${knob} ${base.knobs[knob]} -> ${next.knobs[knob]}` };
}

/** Every pair of one trace's profiles one step apart, over the run's traces; each pair once, in first-seen order. */
export function profileSteps(run: LoadedRun): ProfileStep[] {
  const byTrace = new Map<string, Profile[]>();
  for (const g of run.groups) {
    const p = isMicroGroup(g) ? undefined : parsed(g.profile);
    if (p !== undefined) byTrace.set(g.trace, [...(byTrace.get(g.trace) ?? []), p]);
  }
  const steps = new Map<string, ProfileStep>();
  for (const profiles of byTrace.values()) {
    for (let i = 0; i < profiles.length; i++) {
      for (let j = i + 1; j < profiles.length; j++) {
        const step = profileStep(profiles[i]!, profiles[j]!);
        if (step !== undefined) steps.set(`${step.base}\u0000${step.next}`, step);
      }
    }
  }
  return [...steps.values()];
}

/** Each step compared on the traces that ran under both of its profiles. */
export function compareProfileSteps(run: LoadedRun, options: CompareOptions = DEFAULT_COMPARE_OPTIONS): StepComparison[] {
  // Micro-benchmarks run under one profile and are not a trace: never part of a step.
  const traces: LoadedRun = { ...run, groups: run.groups.filter((g) => !isMicroGroup(g)) };
  return profileSteps(traces).map((step) => {
    const [base, next] = pairProfiles(traces, traces, step.base, step.next);
    // Partial: a trace under one of the two profiles only is not part of this step.
    const comparison = compareRuns(base, next, options, true);
    const both = new Set(next.groups.map((g) => g.trace));
    return { step, traces: base.groups.map((g) => g.trace).filter((t) => both.has(t)), comparison };
  });
}

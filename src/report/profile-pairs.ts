// Comparing two profiles instead of two versions: `compare A B --base-profile P --new-profile Q`
// pairs A's jobs under profile P with B's jobs under Q, trace by trace (A and B may be the same run).
// Both sides are relabelled `P -> Q`, so the ordinary comparison pairs them and every modeled
// difference shows as a behaviour change of the knob.

import { RunDirError } from '../errors.js';
import type { LoadedRun } from './run-dir.js';

function onlyProfile(run: LoadedRun, profile: string, label: string): LoadedRun {
  const groups = run.groups.filter((g) => g.profile === profile);
  if (groups.length === 0) {
    const known = [...new Set(run.groups.map((g) => g.profile))].join(', ');
    throw new RunDirError(`${run.dir} has no jobs under profile '${profile}' (it has: ${known})`);
  }
  return {
    ...run,
    groups: groups.map((g) => ({ ...g, profile: label })),
    jobs: run.jobs.filter((j) => j.profile === profile).map((j) => ({ ...j, profile: label })),
  };
}

export function pairProfiles(base: LoadedRun, next: LoadedRun, baseProfile: string, newProfile: string): [LoadedRun, LoadedRun] {
  const label = `${baseProfile} -> ${newProfile}`;
  return [onlyProfile(base, baseProfile, label), onlyProfile(next, newProfile, label)];
}

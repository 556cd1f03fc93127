// The modeled counters of every shipped trace (traces/**) under each architecture's default profile:
// what `npm run golden` writes to test/golden/counters.json and what test/replay/golden.test.ts checks.
// A change that is meant to be pure speed must leave every one of these numbers alone; a change to a
// kernel rule regenerates the file and shows, in its diff, which traces and counters the rule moved.

import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ARCHES, parseProfile } from '../core/profile.js';
import { readTrace } from '../trace/io.js';
import { divergenceCount, replayTrace } from './engine.js';

/** trace path (relative to the traces directory, '/'-separated) -> profile -> counter -> value. */
export type GoldenCounters = Record<string, Record<string, Record<string, number>>>;

/** The trace files under `dir`, sorted, as paths relative to it. */
export function shippedTraces(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[])
    .map((entry) => entry.split('\\').join('/'))
    .filter((entry) => entry.endsWith('.csv') || entry.endsWith('.s2t'))
    .sort();
}

/** Replays every trace under `dir` under every architecture's default profile. */
export async function goldenCounters(dir: string): Promise<GoldenCounters> {
  const out: GoldenCounters = {};
  for (const name of shippedTraces(dir)) {
    const trace = await readTrace(join(dir, name));
    const byProfile: Record<string, Record<string, number>> = {};
    for (const arch of ARCHES) {
      const result = replayTrace(trace, parseProfile(arch));
      byProfile[arch] = { ...result.counters, divergences: divergenceCount(result) };
    }
    out[relative('.', name)] = byProfile;
  }
  return out;
}

// The independent check of a calibration: a demand-paging run (one vCPU writes each of N fresh 4K
// pages once, KVM's demand_paging_test without userfaultfd) recorded on the real kernel, its KVM_RUN
// time measured by the recorder, and the same trace replayed through the model and priced with the
// calibrated table. The two are measured differently (the recorder runs one KVM_RUN per page, the
// calibrator one long guest loop per batch), so agreement says the costs carry over to another run.

import { divergenceCount, replayTrace } from '../replay/engine.js';
import { rowsToChunks, recordedMeta } from '../record/session.js';
import { recordSequences } from '../record/recorder.js';
import { generateDemandPaging } from '../trace/generators/demand-paging.js';
import type { ProfileCosts } from '../estimate/costs.js';
import { recorderGuestMs } from '../estimate/estimate.js';
import { spread, type Spread } from '../report/stats.js';
import { parseProfile } from '../core/profile.js';

/**
 * How far the check may miss on a shared 2-core machine (docs/calibration.md): the measured median
 * itself moves by this much from one minute to the next.
 */
export const TOLERANCE_PCT = 30;

export interface Validation {
  trace: string;
  pages: number;
  repeats: number;
  /** The recorder's KVM_RUN time of the run, over the repeats (ms). */
  measuredMs: Spread;
  /** The model's counts priced with the table: faults plus one KVM_RUN round trip per page. */
  estimatedMs: number;
  /** (estimate - measured median) / measured median, in percent. */
  errorPct: number;
  /** Rows where the model disagreed with the recorded kernel (should be 0). */
  divergences: number;
  tolerancePct: number;
  withinTolerance: boolean;
}

export function validateDemandPaging(pages: number, repeats: number, costs: ProfileCosts): Validation | { skipped: string } {
  const { rows } = generateDemandPaging({ vcpus: 1, vcpuPages: pages, chunkPages: pages, uffd: false, seed: 1 });
  const chunks = rowsToChunks([...rows]);
  const answers = recordSequences(Array.from({ length: repeats }, () => chunks));
  const failed = answers.find((a) => a.failure !== undefined);
  if (failed) return { skipped: `the recorder could not run the demand-paging trace: ${failed.failure}` };
  const measured = answers.map((a) => (a.guestNs ?? NaN) / 1e6);
  if (measured.some((m) => !Number.isFinite(m))) return { skipped: 'the recorder did not report its KVM_RUN time' };
  const replay = replayTrace({ meta: recordedMeta('s2bench calibrate validation'), chunks }, parseProfile('x86-tdp'), { check: true });
  const estimatedMs = recorderGuestMs(replay.counters, costs);
  if (estimatedMs === undefined) return { skipped: 'the table lacks run_roundtrip, which prices one recorded access' };
  const m = spread(measured);
  const errorPct = ((estimatedMs - m.median) / m.median) * 100;
  return {
    trace: `demand-paging: 1 vCPU writes ${pages} fresh 4K pages (anonymous, no THP), one KVM_RUN per page`,
    pages,
    repeats,
    measuredMs: m,
    estimatedMs,
    errorPct,
    divergences: divergenceCount(replay),
    tolerancePct: TOLERANCE_PCT,
    withinTolerance: Math.abs(errorPct) <= TOLERANCE_PCT,
  };
}

// Generator `hypshare`: pKVM host objects (struct kvm, vCPUs, FP/SVE state, ...) shared with EL2 and
// unshared again, as kvm_share_hyp()/kvm_unshare_hyp() do page by page. Objects are 1-4 pages drawn from
// a small pool of pfns, so several objects share a page and the host tree's counts matter. A hypercall
// fails with probability `failRate`: a share with -EPERM (page-state mismatch), an unshare with -EBUSY
// (EL2 still holds a reference).
//
// The trace is a recording of one kernel (`kernel`, written as the trace's `# profile:`): the generator
// runs that kernel's share tracking (core/hypshare.ts) to know which rows make a hypercall and what each
// row returned, and records every row's result in `ret`. Replayed under the same kernel, the trace has
// no divergences; replayed under the other one, the rows where the kernels part ways show up as
// divergences and in the hypshare.* counters.

import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

import { ERRNO, PAGE_SHIFT } from '../../core/abi.js';
import { HypShare, type HypShareMode } from '../../core/hypshare.js';
import { newCounters } from '../../core/metrics.js';
import { TRACE_MAGIC_LINE, type TraceChunk } from '../schema.js';
import { bool, checkedOptions, choice, defaultsOf, int, num, withRecordedUnder, writtenTrace, type GeneratedTrace, type OptionSpecs, type OptionValues } from './common.js';
import type { RowWriter } from './writer.js';

export const HYPSHARE_OPTIONS = {
  seed: int(1, 'random seed'),
  ops: int(1000, 'share/unshare operations on objects (each is one row per page)', { min: 0 }),
  pfns: int(256, 'size of the pfn pool objects are drawn from', { min: 1 }),
  failRate: num(0.02, 'probability that a hypercall fails, in [0, 1]', { min: 0, max: 1 }),
  kernel: choice<HypShareMode>(['v7.1', 'fixed'], 'v7.1', 'the kernel the trace records'),
  teardown: bool(true, 'unshare every object still shared at the end (VM teardown)'),
} satisfies OptionSpecs;
export type HypshareGenOptions = OptionValues<typeof HYPSHARE_OPTIONS>;
export const HYPSHARE_GEN_DEFAULTS: HypshareGenOptions = defaultsOf(HYPSHARE_OPTIONS);

/** First pfn of the pool: host kernel memory at 2 GiB. */
const POOL_BASE_PFN = 0x80000;
const MAX_OBJECT_PAGES = 4;
/** pure-rand integers for probabilities: failRate is compared in millionths. */
const PPM = 1_000_000;

interface SharedObject {
  pfn: number;
  pages: number;
}

export function generateHypshare(options: Partial<HypshareGenOptions> = {}): GeneratedTrace {
  const o = checkedOptions('hypshare', HYPSHARE_OPTIONS, options);
  const source = `s2bench gen hypshare seed=${o.seed} ops=${o.ops} pfns=${o.pfns} fail-rate=${o.failRate} kernel=${o.kernel} teardown=${o.teardown}`;
  const profile = `arm64-s2,hypshare=${o.kernel}`;
  const meta = withRecordedUnder(
    { comments: [TRACE_MAGIC_LINE, `# source: ${source}`, `# arch: aarch64`, `# profile: ${profile}`], fields: { source, arch: 'aarch64', profile } },
    profile,
  );
  return writtenTrace(meta, 'gen hypshare', (w) => write(o, w));
}

/**
 * The rows, a chunk at a time: memory is the shared objects and the kernel's per-pfn state (bounded by
 * the pool), not the rows (docs/generators.md).
 */
function* write(o: HypshareGenOptions, w: RowWriter): Generator<TraceChunk> {
  const rng = xoroshiro128plus(o.seed);
  const kernel = new HypShare(o.kernel, newCounters());
  const failPpm = Math.round(o.failRate * PPM);
  const live: SharedObject[] = [];

  const fails = (): boolean => uniformInt(rng, 0, PPM - 1) < failPpm;
  const gpa = (pfn: number): bigint => BigInt(pfn) << BigInt(PAGE_SHIFT);

  /** kvm_share_hyp(): page by page, stopping at the first failure (the object then counts as unshared). */
  const share = (obj: SharedObject): boolean => {
    for (let p = 0; p < obj.pages; p++) {
      const ret = kernel.share(obj.pfn + p, fails() ? -ERRNO.EPERM : 0);
      w.row({ op: 'hyp_share', gpa: gpa(obj.pfn + p), ret });
      if (ret !== 0) return false;
    }
    return true;
  };
  /** kvm_unshare_hyp(): page by page; a failure only WARNs and the loop goes on. */
  const unshare = (obj: SharedObject): void => {
    for (let p = 0; p < obj.pages; p++) {
      const ret = kernel.unshare(obj.pfn + p, fails() ? -ERRNO.EBUSY : 0);
      w.row({ op: 'hyp_unshare', gpa: gpa(obj.pfn + p), ret });
    }
  };

  for (let op = 0; op < o.ops; op++) {
    if (live.length > 0 && uniformInt(rng, 0, 1) === 0) {
      unshare(live.splice(uniformInt(rng, 0, live.length - 1), 1)[0]!);
    } else {
      const pages = uniformInt(rng, 1, Math.min(MAX_OBJECT_PAGES, o.pfns));
      const obj = { pfn: POOL_BASE_PFN + uniformInt(rng, 0, o.pfns - pages), pages };
      if (share(obj)) live.push(obj);
    }
    if (w.full) yield* w.drain();
  }
  if (o.teardown) {
    while (live.length > 0) {
      unshare(live.pop()!);
      if (w.full) yield* w.drain();
    }
  }
  yield* w.finish();
}


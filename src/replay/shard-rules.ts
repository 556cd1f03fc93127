// Which shard replays a row of a sharded replay (./shard.ts says why the split is exact). Shared by the
// planning pass, the shards' own filtering of a streamed file, and a loaded trace's plans.

import { UFFD_PAGE } from '../core/hostmm.js';
import { gfn } from '../trace/columns.js';
import { OP_SPECS, type ShardRule } from '../trace/ops.js';
import { OP, OPS, type TraceChunk } from '../trace/schema.js';

const GRANULE_SHIFT = 18; // 1 GiB in 4K pages
const GFNS_PER_GRANULE = 1 << GRANULE_SHIFT;

/** The 1 GiB granule of guest-physical memory a gfn lies in. */
export const granuleOf = (gfnValue: number): number => Math.floor(gfnValue / GFNS_PER_GRANULE);

/** The shard of `count` that replays guest accesses to gfnValue. */
export const shardOfGfn = (gfnValue: number, count: number): number => granuleOf(gfnValue) % count;

/**
 * Whether gfns a + k and b + k go to the same shard of `count` for every k < pages: walked a piece at
 * a time, a piece ending where either side crosses a granule boundary (two pieces per GiB at most).
 */
export function sameShard(a: number, b: number, pages: number, count: number): boolean {
  for (let k = 0; k < pages; ) {
    if (shardOfGfn(a + k, count) !== shardOfGfn(b + k, count)) return false;
    k += Math.min(GFNS_PER_GRANULE - ((a + k) % GFNS_PER_GRANULE), GFNS_PER_GRANULE - ((b + k) % GFNS_PER_GRANULE));
  }
  return true;
}

/** Each op's sharding rule, by code (the op table's `shard`). */
const SHARD_RULE: readonly ShardRule[] = OP_SPECS.map((spec) => spec.shard);

/**
 * Row i's rule: its op's, except that a `uffd` registration whose handler fills one page per fault
 * (`page`) is a barrier. Such a handler copies exactly the faulting page (UFFDIO_COPY of one page,
 * mfill_atomic_copy()), and whether a page faults to it depends on that page alone (handle_userfault()
 * is reached from a missing pte of a registered vma), so each shard's host pages behave as the single
 * run's as long as no hva page is mapped from two granules, which shard-host.ts checks. A handler that
 * fills the whole range on the first fault changes pages of other granules: the trace stays whole.
 */
export function shardRuleOf(chunk: TraceChunk, i: number): ShardRule {
  const op = chunk.op[i]!;
  if (op === OP.uffd && (chunk.flagsLo[i]! & UFFD_PAGE) !== 0) return 'barrier';
  return SHARD_RULE[op]!;
}

/**
 * Whether shard `index` of `count` takes row i, whose rule is `rule`: its own granules' accesses, every
 * barrier and check row, and on shard 0 the state beside the stage-2. `whole` rows never reach a shard.
 */
export function shardTakesRow(rule: ShardRule, chunk: TraceChunk, i: number, index: number, count: number): boolean {
  if (rule === 'granule') return shardOfGfn(gfn(chunk, i), count) === index;
  if (rule === 'shard0') return index === 0;
  if (rule === 'whole') throw new Error(`a ${OPS[chunk.op[i]!]} row that shares state across granules reached a shard`);
  return true;
}

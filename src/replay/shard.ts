// Intra-trace parallelism: one trace replayed as N shards whose merged counters equal a single-thread
// replay exactly. Guest accesses are split by 1 GiB granule of guest-physical memory (granule g goes to
// shard g mod N; no leaf and no table below the 1G level spans two granules), and every ioctl row is a
// barrier replayed by every shard in trace order, so each shard's stage-2 restricted to its granules is
// the single run's restricted to the same granules. What is not a plain sum is merged from logs:
//  - events: every row once;
//  - tlb.flushes: each shard logs (row, n-th flush decision of that row); a barrier's flushes are the
//    union over shards (one kernel flush, whichever shard's leaves needed it);
//  - tables.peak: each shard logs its live table count and which 512 GiB tables (root children, shared
//    by all granules below them) it holds, per row; the merge sweeps the rows;
//  - dirty_get: each shard reports its pages; the trace's ret is compared with their sum;
//  - expect rows: evaluated on the merged counters at their row.
// A streamed file is surveyed first (shard-survey.ts), then each shard reads the file itself and takes
// its own rows (shard-replay.ts), so no shard's input is ever held whole.
// Traces with userfaultfd handlers that fill a whole range on a fault or with host accesses (state
// shared across granules by hva; one-page-per-fault handlers shard, shard-rules.ts), memory attribute
// conversions (per-conversion cost records span shards), guest_memfd invalidations (one flush for all
// bound slots), accesses crossing a 1 GiB boundary, or host pages that guest pages of two granules map
// (shard-host.ts) are not shardable: `planShards` says why and the caller replays them whole.

import { M, METRICS, METRIC_NAMES, metricId } from '../core/metrics.js';
import type { Profile } from '../core/profile.js';
import { allocChunk, appendRows } from '../trace/chunk.js';
import { retText } from '../trace/ops.js';
import { OP, type TraceChunk } from '../trace/schema.js';
import { expectMismatch, type Divergence } from './engine.js';
import { ShardReplay, type ShardOutcome } from './shard-replay.js';
import { shardRuleOf, shardTakesRow } from './shard-rules.js';
import { ShardSurvey, type ShardChecks } from './shard-survey.js';

export type { ShardOutcome } from './shard-replay.js';
export type { ShardChecks } from './shard-survey.js';

/**
 * One shard's input cut from a loaded trace: its rows (accesses of its granules, every barrier and
 * check row, and on shard 0 the state beside the stage-2) in trace order, with each row's global row.
 */
export interface ShardPlan {
  index: number;
  count: number;
  parts: Array<{ chunk: TraceChunk; rows: Float64Array }>;
}

/** The plans, with what the planning survey kept for mergeShards: the trace's rows and its check rows. */
export type Shardability = { ok: true; plans: ShardPlan[]; rows: number; checks: ShardChecks } | { ok: false; reason: string };

export function planShards(chunks: readonly TraceChunk[], count: number): Shardability {
  checkShardCount(count);
  const survey = new ShardSurvey();
  for (const chunk of chunks) survey.add(chunk);
  const reason = survey.unshardable(count);
  if (reason !== undefined) return { ok: false, reason };
  const plans: ShardPlan[] = [];
  for (let s = 0; s < count; s++) plans.push({ index: s, count, parts: chunks.map((chunk) => cutChunk(chunk, s, count)) });
  return { ok: true, plans, rows: survey.rows, checks: survey.checks };
}

export function checkShardCount(count: number): void {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`shard count must be >= 1, got ${count}`);
}

/** The rows of `chunk` that shard `index` of `count` replays, copied, with their global rows. */
function cutChunk(chunk: TraceChunk, index: number, count: number): { chunk: TraceChunk; rows: Float64Array } {
  const picked: number[] = [];
  for (let i = 0; i < chunk.length; i++) if (shardTakesRow(shardRuleOf(chunk, i), chunk, i, index, count)) picked.push(i);
  const cut = allocChunk(picked.length, chunk.firstRow);
  appendRows(cut, chunk, picked);
  return { chunk: cut, rows: Float64Array.from(picked, (i) => chunk.firstRow + i) };
}

/** Replays one shard of a loaded trace. Runs in a worker or in-process. */
export function replayShard(plan: ShardPlan, profile: Profile): ShardOutcome {
  const shard = new ShardReplay(plan.index, plan.count, profile);
  for (const part of plan.parts) shard.feed(part.chunk, part.rows);
  return shard.outcome();
}

export interface MergedReplay {
  counters: Record<string, number>;
  /** Every kept divergence, sorted by line: not yet cut to MAX_KEPT_DIVERGENCES (see mergeShards). */
  divergences: Divergence[];
  /** Divergences beyond the shards' kept lists: counted in counters.divergences, in no list. */
  unkept: number;
}

/**
 * Merge shard outcomes into the single-thread replay's counters. `checks` describes the trace's
 * dirty_get and expect rows (line, recorded ret / expected metric and value): see ShardSurvey.checks.
 */
export function mergeShards(
  outcomes: readonly ShardOutcome[],
  totalRows: number,
  checks: ShardChecks,
): MergedReplay {
  const sorted = [...outcomes].sort((a, b) => a.index - b.index);
  const merged = METRIC_NAMES.map((_, id) => metricAtRow(sorted, id, Number.MAX_SAFE_INTEGER, totalRows));

  const divergences = mergeDivergences(sorted);
  // dirty_get: the kernel's one answer is the sum of the shards' parts; an errno is the same in every
  // shard (it depends on the slot, not on the pages), so it stands for the whole answer.
  const dirtyByRow = new Map<number, number>();
  for (const o of sorted) {
    for (const [row, got] of o.dirtyGets) {
      const sum = dirtyByRow.get(row) ?? 0;
      dirtyByRow.set(row, got < 0 ? got : sum < 0 ? sum : sum + got);
    }
  }
  for (const [row, check] of checks.dirtyGets) {
    const got = dirtyByRow.get(row) ?? 0;
    if (check.ret !== null && check.ret !== got) {
      divergences.push({ line: check.line, op: 'dirty_get', expected: retText(OP.dirty_get, check.ret), got: retText(OP.dirty_get, got) });
    }
  }
  for (const [row, expect] of checks.expects) {
    const id = metricId(expect.metric);
    const mismatch = expectMismatch(expect.metric, expect.value, id < 0 ? undefined : metricAtRow(sorted, id, row, totalRows));
    if (mismatch !== undefined) divergences.push({ line: expect.line, op: 'expect', ...mismatch });
  }
  divergences.sort((a, b) => a.line - b.line);
  // Exact while no shard overflowed its kept list (the single-thread replay's list and count). Beyond
  // that a shard's unkept divergences are counted as they come: one on a barrier row that every shard
  // replays is then counted once per overflowed shard, so the count is an upper bound (and the kept
  // list, the first MAX_KEPT_DIVERGENCES of what the shards kept, may miss later rows' duplicates).
  const unkept = sorted.reduce((n, o) => n + o.divergenceCount - o.divergences.length, 0);
  merged[M.divergences] = divergences.length + unkept;
  const counters: Record<string, number> = {};
  METRIC_NAMES.forEach((name, id) => {
    counters[name] = merged[id]!;
  });
  return { counters, divergences, unkept };
}

/**
 * The single run's value of metric `id` before row `row` (MAX_SAFE_INTEGER: at the end), by the
 * metric's merge rule (src/core/metrics.ts). `divergences` is summed here and replaced by the
 * merged list's length once that is known.
 */
function metricAtRow(outcomes: readonly ShardOutcome[], id: number, row: number, totalRows: number): number {
  const rule = METRICS[METRIC_NAMES[id]!].merge;
  switch (rule) {
    case 'rows':
      // At an expect row the single run's clock has counted the expect row itself.
      return Math.min(row + 1, totalRows);
    case 'once':
      return valuesAt(outcomes[0], row)?.[id] ?? 0;
    case 'flush-union':
      return countUnion(outcomes.flatMap((o) => o.flushes), row);
    case 'tables-peak':
      return tablesPeak(outcomes, row);
    case 'sum':
    case 'divergences': {
      let sum = 0;
      for (const o of outcomes) sum += valuesAt(o, row)?.[id] ?? 0;
      return sum;
    }
    default:
      return unhandled(rule);
  }
}

/** A shard's counters before `row` (its snapshot at that expect row), or at the end. */
function valuesAt(o: ShardOutcome | undefined, row: number): readonly number[] | undefined {
  return row === Number.MAX_SAFE_INTEGER ? o?.final : o?.atExpect.find(([r]) => r === row)?.[1];
}

function unhandled(rule: never): never {
  throw new Error(`shard merge: no rule for '${String(rule)}'`);
}

/** Distinct (row, n-th flush) pairs before `beforeRow`. */
function countUnion(flushes: ReadonlyArray<[number, number]>, beforeRow: number): number {
  const seen = new Set<string>();
  for (const [row, seq] of flushes) if (row < beforeRow) seen.add(`${row}:${seq}`);
  return seen.size;
}

/**
 * The peak of live tables over rows before `beforeRow`: shard-exclusive tables summed, plus the root
 * and the 512 GiB tables counted once however many shards hold them.
 */
function tablesPeak(outcomes: readonly ShardOutcome[], beforeRow: number): number {
  const events = outcomes
    .flatMap((o) => o.tables.map(([row, live, roots]) => ({ row, shard: o.index, live, roots })))
    .filter((e) => e.row < beforeRow)
    .sort((a, b) => a.row - b.row || a.shard - b.shard);
  const live = new Map<number, number>();
  const roots = new Map<number, number[]>();
  for (const o of outcomes) {
    live.set(o.index, o.rootTables); // every Vm starts with its root
    roots.set(o.index, []);
  }
  const rootTables = outcomes[0]?.rootTables ?? 1;
  const total = (): number => {
    let exclusive = 0;
    const shared = new Set<number>();
    for (const [shard, n] of live) {
      const r = roots.get(shard)!;
      exclusive += n - rootTables - r.length;
      for (const entry of r) shared.add(entry);
    }
    return rootTables + shared.size + exclusive;
  };
  let peak = total();
  // Every row of the model only adds tables (faults, splits) or only frees them (zaps), so the single
  // run's peak is reached at the end of some row; evaluating after each row's changes finds it.
  for (let k = 0; k < events.length; k++) {
    const e = events[k]!;
    live.set(e.shard, e.live);
    roots.set(e.shard, e.roots);
    const next = events[k + 1];
    if (next === undefined || next.row !== e.row) peak = Math.max(peak, total());
  }
  return peak;
}

function mergeDivergences(outcomes: readonly ShardOutcome[]): Divergence[] {
  const seen = new Set<string>();
  const out: Divergence[] = [];
  for (const o of outcomes) {
    for (const d of o.divergences) {
      const key = `${d.line}\u0000${d.expected}\u0000${d.got}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(d);
    }
  }
  return out;
}


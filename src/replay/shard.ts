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
// Traces with userfaultfd or host accesses (state shared across granules by hva), memory attribute
// conversions (per-conversion cost records span shards), guest_memfd invalidations (one flush for all
// bound slots), accesses crossing a 1 GiB boundary, or host pages that guest pages of two granules map
// (shard-host.ts) are not shardable: `planShards` says why and the caller replays them whole.

import { M, METRICS, METRIC_NAMES, metricId } from '../core/metrics.js';
import type { Profile } from '../core/profile.js';
import { Vm } from '../core/vm.js';
import { allocChunk, appendRows } from '../trace/chunk.js';
import { accessPages, gfn, has } from '../trace/columns.js';
import { OP_SPECS, retText, type ShardRule } from '../trace/ops.js';
import { F_RET, OP, OPS, type TraceChunk } from '../trace/schema.js';
import { expectMismatch, newReplayState, replayChunk, type Divergence } from './engine.js';
import { hostStateCrossesShards } from './shard-host.js';

const GRANULE_SHIFT = 18; // 1 GiB in 4K pages
const GFNS_PER_GRANULE = 1 << GRANULE_SHIFT;
const granuleOf = (gfnValue: number): number => Math.floor(gfnValue / GFNS_PER_GRANULE);

/** Each op's sharding rule, by code (the op table's `shard`). */
const SHARD_RULE: readonly ShardRule[] = OP_SPECS.map((spec) => spec.shard);

/** One shard's input: its rows in trace order, cut so that barrier rows stand alone. */
export interface ShardPlan {
  index: number;
  count: number;
  /** Chunks to replay in order; a chunk holding one barrier row is marked in `barrier`. */
  segments: TraceChunk[];
  barrier: boolean[];
  /** Global row of each local row (the engine's `events` counter is the local row clock). */
  globalRow: Uint32Array;
  /** Global rows of `expect` rows: the shard snapshots its counters when its next row is past one. */
  expectRows: number[];
}

export type Shardability = { ok: true; plans: ShardPlan[] } | { ok: false; reason: string };

export function planShards(chunks: readonly TraceChunk[], count: number): Shardability {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`shard count must be >= 1, got ${count}`);
  let rows = 0;
  for (const chunk of chunks) {
    for (let i = 0; i < chunk.length; i++) {
      const op = chunk.op[i]!;
      const rule = SHARD_RULE[op];
      if (rule === 'whole') return { ok: false, reason: `line ${chunk.line[i]}: ${OPS[op]} rows share state across 1 GiB granules` };
      if (rule === 'granule') {
        const first = gfn(chunk, i);
        const last = first + accessPages(chunk, i) - 1;
        if (granuleOf(first) !== granuleOf(last)) {
          return { ok: false, reason: `line ${chunk.line[i]}: the access crosses a 1 GiB boundary` };
        }
      }
    }
    rows += chunk.length;
  }
  const hostReason = count > 1 ? hostStateCrossesShards(chunks, granuleOf) : undefined;
  if (hostReason !== undefined) return { ok: false, reason: hostReason };
  const plans: ShardPlan[] = [];
  for (let s = 0; s < count; s++) plans.push(buildShard(chunks, s, count, rows));
  return { ok: true, plans };
}

function buildShard(chunks: readonly TraceChunk[], index: number, count: number, rows: number): ShardPlan {
  const segments: TraceChunk[] = [];
  const barrier: boolean[] = [];
  const globalRow = new Uint32Array(rows);
  const expectRows: number[] = [];
  let local = 0;
  // Rows of the current source chunk that go into the current run of non-barrier rows.
  const picked = new Int32Array(Math.max(1, ...chunks.map((c) => c.length)));
  let pickedCount = 0;
  let source: TraceChunk | null = null;
  const flushRun = (): void => {
    if (pickedCount === 0 || source === null) return;
    const run = allocChunk(pickedCount, local - pickedCount);
    appendRows(run, source, picked, pickedCount);
    segments.push(run);
    barrier.push(false);
    pickedCount = 0;
  };
  for (const chunk of chunks) {
    flushRun();
    source = chunk;
    for (let i = 0; i < chunk.length; i++) {
      const rule = SHARD_RULE[chunk.op[i]!];
      const row = chunk.firstRow + i;
      if (rule === 'check') {
        expectRows.push(row);
        flushRun();
        continue;
      }
      if (rule === 'granule') {
        if (granuleOf(gfn(chunk, i)) % count !== index) continue;
        picked[pickedCount++] = i;
      } else if (rule === 'shard0') {
        if (index !== 0) continue;
        picked[pickedCount++] = i;
      } else {
        flushRun();
        const one = allocChunk(1, local);
        appendRows(one, chunk, [i]);
        segments.push(one);
        barrier.push(true);
      }
      globalRow[local++] = row;
    }
  }
  flushRun();
  return { index, count, segments, barrier, globalRow: globalRow.slice(0, local), expectRows };
}

/** What one shard reports for the merge. Plain arrays: it crosses a worker boundary. */
export interface ShardOutcome {
  index: number;
  /** Tables of the stage-2 root (2 for arm64's concatenated 40-bit root), live from the start. */
  rootTables: number;
  final: number[];
  /** [global row, n-th flush decision within that row] of every TLB flush. */
  flushes: Array<[number, number]>;
  /** [global row, live tables after the change, indices of the root entries holding a table] */
  tables: Array<[number, number, number[]]>;
  /** [global row, pages this shard reported] for every dirty_get (its own granules only). */
  dirtyGets: Array<[number, number]>;
  /** counters (with derived metrics) at each expect row, by the expect's global row. */
  atExpect: Array<[number, number[]]>;
  /** Divergences of rows this shard replayed (barrier rows: every shard reports the same ones), the first MAX_KEPT_DIVERGENCES. */
  divergences: Divergence[];
  /** All of this shard's divergences, kept or not. */
  divergenceCount: number;
}

/** Replays one shard. Runs in a worker or in-process. */
export function replayShard(plan: ShardPlan, profile: Profile): ShardOutcome {
  const vm = new Vm(profile);
  const c = vm.counters;
  const rowOf = (): number => plan.globalRow[Math.max(0, c[M.events]! - 1)] ?? 0;
  const out: ShardOutcome = { index: plan.index, rootTables: vm.stage2.rootTables, final: [], flushes: [], tables: [], dirtyGets: [], atExpect: [], divergences: [], divergenceCount: 0 };
  let flushRow = -1;
  let flushSeq = 0;
  vm.stage2.flushLog = (flushed: boolean): void => {
    const row = rowOf();
    if (row !== flushRow) {
      flushRow = row;
      flushSeq = 0;
    }
    if (flushed) out.flushes.push([row, flushSeq]);
    flushSeq++;
  };
  vm.stage2.onTablesChanged = (): void => {
    out.tables.push([rowOf(), vm.stage2.tablesLive, vm.stage2.rootTableEntries()]);
  };
  const state = newReplayState();
  let nextExpect = 0;
  const snapshotExpectsBefore = (row: number): void => {
    while (nextExpect < plan.expectRows.length && plan.expectRows[nextExpect]! < row) {
      const values = METRIC_NAMES.map((_, id) => vm.metric(id));
      out.atExpect.push([plan.expectRows[nextExpect]!, values]);
      nextExpect++;
    }
  };
  for (let s = 0; s < plan.segments.length; s++) {
    const segment = plan.segments[s]!;
    snapshotExpectsBefore(plan.globalRow[segment.firstRow]!);
    if (plan.barrier[s] && segment.op[0] === OP.dirty_get) {
      // Replayed here rather than by the engine: the shard's count is a part, the merge checks the sum.
      c[M.events]!++;
      const got = vm.getDirtyLog(segment.slot[0]!);
      out.dirtyGets.push([plan.globalRow[segment.firstRow]!, got]);
      continue;
    }
    replayChunk(vm, segment, state);
  }
  snapshotExpectsBefore(Number.MAX_SAFE_INTEGER);
  out.final = Array.from(vm.finish());
  out.divergences = state.divergences;
  out.divergenceCount = state.divergenceCount;
  return out;
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
 * dirty_get and expect rows (line, recorded ret / expected metric and value): see shardChecks().
 */
export function mergeShards(
  outcomes: readonly ShardOutcome[],
  totalRows: number,
  checks: { dirtyGets: Map<number, { line: number; ret: number | null }>; expects: Map<number, { line: number; metric: string; value: number }> },
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
      return Math.min(row, totalRows);
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

/** The dirty_get and expect rows of a trace, for mergeShards. */
export function shardChecks(chunks: readonly TraceChunk[]): Parameters<typeof mergeShards>[2] {
  const dirtyGets = new Map<number, { line: number; ret: number | null }>();
  const expects = new Map<number, { line: number; metric: string; value: number }>();
  for (const chunk of chunks) {
    for (let i = 0; i < chunk.length; i++) {
      const row = chunk.firstRow + i;
      const op = chunk.op[i]!;
      if (op === OP.dirty_get) dirtyGets.set(row, { line: chunk.line[i]!, ret: has(chunk, i, F_RET) ? chunk.ret[i]! : null });
      else if (op === OP.expect) expects.set(row, { line: chunk.line[i]!, metric: chunk.names[chunk.flagsLo[i]!]!, value: chunk.ret[i]! });
    }
  }
  return { dirtyGets, expects };
}


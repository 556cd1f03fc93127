// One shard of a sharded replay (./shard.ts), fed chunk by chunk: it takes the rows that are its own
// (shard-rules.ts), replays runs of them through the engine and logs what the merge needs. Fed the
// whole trace as it streams from a file, or a loaded trace's rows already cut for it (with their rows'
// numbers in the trace); either way it holds one chunk's worth of rows beyond its model.

import { M, METRIC_NAMES } from '../core/metrics.js';
import type { Profile } from '../core/profile.js';
import { Vm } from '../core/vm.js';
import { allocChunk, appendRows } from '../trace/chunk.js';
import { InputError } from '../errors.js';
import { openTrace } from '../trace/io.js';
import { OP, type TraceChunk } from '../trace/schema.js';
import { newReplayState, replayChunk, type Divergence, type ReplayState } from './engine.js';
import { feedWithin, hasLimits, type ReplayLimits } from './limits.js';
import { shardRuleOf, shardTakesRow } from './shard-rules.js';

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
  /** The input error that stopped a streamed shard (a bad record, the memory limit): its message. */
  failed?: string;
}

export class ShardReplay {
  private readonly vm: Vm;
  private readonly state: ReplayState = newReplayState();
  private readonly out: ShardOutcome;
  private readonly limits: ReplayLimits | undefined;
  /** Rows of the chunk being fed gathered into the current run, and their global rows. */
  private picked = new Int32Array(0);
  private runRows = new Float64Array(0);
  /** The run's rows, copied out of a chunk this shard takes only part of (reused). */
  private scratch: TraceChunk = allocChunk(0, 0);
  /** The `events` counter before the run's first row: the engine counts a row before replaying it. */
  private runBase = 0;
  private lastRow = 0;

  constructor(
    readonly index: number,
    readonly count: number,
    profile: Profile,
    limits?: ReplayLimits,
  ) {
    this.vm = new Vm(profile);
    this.limits = limits !== undefined && hasLimits(limits) ? limits : undefined;
    this.out = { index, rootTables: this.vm.stage2.rootTables, final: [], flushes: [], tables: [], dirtyGets: [], atExpect: [], divergences: [], divergenceCount: 0 };
    let flushRow = -1;
    let flushSeq = 0;
    this.vm.stage2.flushLog = (flushed: boolean): void => {
      const row = this.rowNow();
      if (row !== flushRow) {
        flushRow = row;
        flushSeq = 0;
      }
      if (flushed) this.out.flushes.push([row, flushSeq]);
      flushSeq++;
    };
    this.vm.stage2.onTablesChanged = (): void => {
      this.out.tables.push([this.rowNow(), this.vm.stage2.tablesLive, this.vm.stage2.rootTableEntries()]);
    };
  }

  /**
   * Takes this shard's rows of `chunk`. `rows`: the global row of each of its rows when the chunk is a
   * cut of the trace (planShards); absent, the chunk is the trace's own and row i is firstRow + i.
   */
  feed(chunk: TraceChunk, rows?: ArrayLike<number>): void {
    const n = chunk.length;
    if (this.picked.length < n) {
      this.picked = new Int32Array(n);
      this.runRows = new Float64Array(n);
      this.scratch = allocChunk(n, 0);
    }
    let count = 0;
    for (let i = 0; i < n; i++) {
      const rule = shardRuleOf(chunk, i);
      if (!shardTakesRow(rule, chunk, i, this.index, this.count)) continue;
      const row = rows === undefined ? chunk.firstRow + i : rows[i]!;
      if (rule === 'granule' || rule === 'shard0') {
        this.picked[count] = i;
        this.runRows[count++] = row;
        continue;
      }
      count = this.replayRun(chunk, count);
      if (rule === 'check') this.snapshot(row);
      else this.replayBarrier(chunk, i, row);
    }
    this.replayRun(chunk, count);
  }

  outcome(): ShardOutcome {
    this.out.final = Array.from(this.vm.finish());
    this.out.divergences = this.state.divergences;
    this.out.divergenceCount = this.state.divergenceCount;
    return this.out;
  }

  /** The global row being replayed (the last one between rows). */
  private rowNow(): number {
    const k = this.vm.counters[M.events]! - 1 - this.runBase;
    if (k >= 0 && k < this.runRows.length) this.lastRow = this.runRows[k]!;
    return this.lastRow;
  }

  /** Replays the `count` gathered rows of `chunk` (the chunk itself when they are all of it); returns 0. */
  private replayRun(chunk: TraceChunk, count: number): number {
    if (count === 0) return 0;
    let run = chunk;
    if (count < chunk.length) {
      run = this.scratch;
      run.length = 0;
      run.verbatim.clear();
      run.names.length = 0;
      appendRows(run, chunk, this.picked, count);
    }
    this.runBase = this.vm.counters[M.events]!;
    if (this.limits === undefined) replayChunk(this.vm, run, this.state);
    else feedWithin(this.limits, this.vm, run, (part) => replayChunk(this.vm, part, this.state));
    // Between runs (and in vm.finish()) the row is the last one replayed.
    this.lastRow = this.runRows[count - 1]!;
    this.runBase = Number.MAX_SAFE_INTEGER;
    return 0;
  }

  /** A row every shard replays, at global row `row`. */
  private replayBarrier(chunk: TraceChunk, i: number, row: number): void {
    this.picked[0] = i;
    this.runRows[0] = row;
    if (chunk.op[i] === OP.dirty_get) {
      // Replayed here rather than by the engine: the shard's count is a part, the merge checks the sum.
      this.runBase = this.vm.counters[M.events]!++;
      this.out.dirtyGets.push([row, this.vm.getDirtyLog(chunk.slot[i]!)]);
      this.lastRow = row;
      this.runBase = Number.MAX_SAFE_INTEGER;
      return;
    }
    this.replayRun(chunk, 1);
  }

  /** The counters when the trace reaches the expect row `row`: every row of this shard before it is replayed. */
  private snapshot(row: number): void {
    this.out.atExpect.push([row, METRIC_NAMES.map((_, id) => this.vm.metric(id))]);
  }
}

/** A shard of a trace file: it reads the whole file and replays its own rows. */
export interface ShardFileTask {
  file: string;
  index: number;
  count: number;
  profile: Profile;
  limits?: ReplayLimits;
}

/**
 * Replays one shard of a file, streamed: the model plus a chunk. An input error (a bad record, the
 * memory limit) comes back in `failed`, so that its message crosses a worker boundary intact.
 */
export async function replayShardFile(task: ShardFileTask): Promise<ShardOutcome> {
  const shard = new ShardReplay(task.index, task.count, task.profile, task.limits);
  try {
    const trace = await openTrace(task.file);
    try {
      for await (const chunk of trace.chunks({ reuse: true })) shard.feed(chunk);
    } finally {
      await trace.close();
    }
  } catch (err) {
    if (err instanceof InputError) {
      return { index: task.index, rootTables: 0, final: [], flushes: [], tables: [], dirtyGets: [], atExpect: [], divergences: [], divergenceCount: 0, failed: err.message };
    }
    throw err;
  }
  return shard.outcome();
}

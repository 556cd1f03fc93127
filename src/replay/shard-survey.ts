// The planning pass of a sharded replay: one look at every row, chunk by chunk, that says whether the
// trace can be sharded (./shard.ts) and keeps what the merge needs. It holds the trace's memslot and
// backing rows and its dirty_get and expect rows, never its accesses, so a streamed file of any length
// is surveyed in the memory of a chunk plus those.

import { allocChunk, appendRows } from '../trace/chunk.js';
import { accessPages, gfn, has } from '../trace/columns.js';
import { F_RET, OP, OPS, type TraceChunk } from '../trace/schema.js';
import { hostStateCrossesShards } from './shard-host.js';
import { granuleOf, sameShard, shardRuleOf } from './shard-rules.js';

/** The dirty_get and expect rows of a trace, by global row: what mergeShards checks on merged counters. */
export interface ShardChecks {
  dirtyGets: Map<number, { line: number; ret: number | null }>;
  expects: Map<number, { line: number; metric: string; value: number }>;
}

export class ShardSurvey {
  /** Rows seen. */
  rows = 0;
  readonly checks: ShardChecks = { dirtyGets: new Map(), expects: new Map() };
  /** The first row that keeps the trace whole, if any. */
  private reason: string | undefined;
  /** memslot and backing rows, for the host page check (shard-host.ts). */
  private readonly hostRows: TraceChunk[] = [];

  add(chunk: TraceChunk): void {
    const host: number[] = [];
    for (let i = 0; i < chunk.length; i++) {
      const op = chunk.op[i]!;
      if (op === OP.memslot || op === OP.backing) host.push(i);
      else if (op === OP.dirty_get) this.checks.dirtyGets.set(chunk.firstRow + i, { line: chunk.line[i]!, ret: has(chunk, i, F_RET) ? chunk.ret[i]! : null });
      else if (op === OP.expect) this.checks.expects.set(chunk.firstRow + i, { line: chunk.line[i]!, metric: chunk.names[chunk.flagsLo[i]!]!, value: chunk.ret[i]! });
      if (this.reason === undefined) this.reason = rowReason(chunk, i);
    }
    if (host.length > 0) {
      const kept = allocChunk(host.length, chunk.firstRow);
      appendRows(kept, chunk, host);
      this.hostRows.push(kept);
    }
    this.rows += chunk.length;
  }

  /** The first row seen so far that keeps the trace whole, if any (known before the trace ends). */
  get rowReason(): string | undefined {
    return this.reason;
  }

  /** Why the trace cannot be split into `count` shards, or undefined when it can (once every row is added). */
  unshardable(count: number): string | undefined {
    if (this.reason !== undefined) return this.reason;
    return count > 1 ? hostStateCrossesShards(this.hostRows, granuleOf, (a, b, pages) => sameShard(a, b, pages, count)) : undefined;
  }
}

/** Why row i keeps its trace whole, if it does. */
function rowReason(chunk: TraceChunk, i: number): string | undefined {
  const rule = shardRuleOf(chunk, i);
  if (rule === 'whole') return `line ${chunk.line[i]}: ${OPS[chunk.op[i]!]} rows share state across 1 GiB granules`;
  if (rule === 'granule') {
    const first = gfn(chunk, i);
    if (granuleOf(first) !== granuleOf(first + accessPages(chunk, i) - 1)) return `line ${chunk.line[i]}: the access crosses a 1 GiB boundary`;
  }
  return undefined;
}

// A sharded replay of one trace on a worker pool: plan, run the shards in parallel, merge. The merged
// counters equal `replayTrace`'s on the same trace (see shard.ts for why, and for which traces cannot
// be sharded: those are replayed whole, and the result says so).

import { Piscina } from 'piscina';
import type { Profile } from '../core/profile.js';
import { isRecordedProfile, MAX_KEPT_DIVERGENCES, replayTrace, resolveProfile, type Divergence, type LoadedTrace, type ReplayResult } from './engine.js';
import { mergeShards, planShards, replayShard, shardChecks, type MergedReplay, type ShardOutcome, type ShardPlan } from './shard.js';

export interface ShardedResult extends ReplayResult {
  /** Shards actually used (1 when the trace could not be sharded). */
  shards: number;
  /** Why the trace was replayed whole, when it was. */
  unshardable?: string;
}

const SHARD_WORKER = new URL('./shard-worker.js', import.meta.url);

export type ShardPool = Piscina<{ plan: ShardPlan; profile: Profile }, ShardOutcome>;

/** A pool of shard workers, for callers that replay several traces sharded (destroy it when done). */
export function newShardPool(workers: number): ShardPool {
  return new Piscina({ filename: SHARD_WORKER.href, minThreads: workers, maxThreads: workers, concurrentTasksPerWorker: 1 });
}

/**
 * Replays `trace` as `count` shards: on `pool`, or on a pool of `workers` threads made for this call,
 * or in this thread when workers is 0.
 */
export async function replaySharded(
  trace: LoadedTrace,
  count: number,
  options: { profile?: Profile; workers: number; pool?: ShardPool },
): Promise<ShardedResult> {
  const profile = resolveProfile(trace.meta, options.profile);
  const chunks = [...trace.chunks];
  const plan = planShards(chunks, count);
  if (!plan.ok) {
    return { ...replayTrace({ meta: trace.meta, chunks }, profile), shards: 1, unshardable: plan.reason };
  }
  const outcomes =
    options.pool !== undefined
      ? await runOnPool(options.pool, plan.plans, profile)
      : options.workers > 0
        ? await withPool(Math.min(options.workers, count), (pool) => runOnPool(pool, plan.plans, profile))
        : plan.plans.map((p) => replayShard(p, profile));
  const rows = chunks.reduce((n, c) => n + c.length, 0);
  const merged = mergeShards(outcomes, rows, shardChecks(chunks));
  return { profile: profile.name, ...splitBehaviourChanges(merged, isRecordedProfile(trace.meta, profile)), timing: {}, shards: count };
}

/**
 * Shards hold every differing `ret` as a divergence; under a profile other than the recorded one those
 * are behaviour changes, as in the single-thread engine (failed `expect` rows stay divergences).
 */
function splitBehaviourChanges(merged: MergedReplay, underRecorded: boolean): Pick<ReplayResult, 'counters' | 'divergences' | 'behaviourChanges'> {
  const keep = (list: Divergence[]): Divergence[] => list.slice(0, MAX_KEPT_DIVERGENCES);
  if (underRecorded) return { counters: merged.counters, divergences: keep(merged.divergences), behaviourChanges: [] };
  // Every failed `expect` is found by the merge (shards do not check them), so the kept list has them all.
  const divergences = merged.divergences.filter((d) => d.op === 'expect');
  const behaviourChanges = merged.divergences.filter((d) => d.op !== 'expect');
  const counters = { ...merged.counters, divergences: divergences.length, behaviour_changes: behaviourChanges.length + merged.unkept };
  return { counters, divergences: keep(divergences), behaviourChanges: keep(behaviourChanges) };
}

async function withPool<T>(workers: number, use: (pool: ShardPool) => Promise<T>): Promise<T> {
  const pool = newShardPool(workers);
  try {
    return await use(pool);
  } finally {
    await pool.destroy();
  }
}

function runOnPool(pool: ShardPool, plans: ShardPlan[], profile: Profile): Promise<ShardOutcome[]> {
  // The segments' buffers move to the workers instead of being copied.
  return Promise.all(plans.map((plan) => pool.run({ plan, profile }, { transferList: plan.segments.map((s) => s.buffer) })));
}

// A sharded replay of one trace on a worker pool: plan, run the shards in parallel, merge. The merged
// counters equal `replayTrace`'s on the same trace (see shard.ts for why, and for which traces cannot
// be sharded: those are replayed whole, and the result says so).

import { Piscina } from 'piscina';
import type { Profile } from '../core/profile.js';
import { replayTrace, resolveProfile, type LoadedTrace, type ReplayResult } from './engine.js';
import { mergeShards, planShards, replayShard, shardChecks, type ShardOutcome, type ShardPlan } from './shard.js';

export interface ShardedResult extends ReplayResult {
  /** Shards actually used (1 when the trace could not be sharded). */
  shards: number;
  /** Why the trace was replayed whole, when it was. */
  unshardable?: string;
}

const SHARD_WORKER = new URL('./shard-worker.js', import.meta.url);

/** Replays `trace` as `count` shards: on `workers` threads, or in this thread when workers is 0. */
export async function replaySharded(
  trace: LoadedTrace,
  count: number,
  options: { profile?: Profile | string; workers: number },
): Promise<ShardedResult> {
  const profile = resolveProfile(trace.meta, options.profile);
  const chunks = [...trace.chunks];
  const plan = planShards(chunks, count);
  if (!plan.ok) {
    return { ...replayTrace({ meta: trace.meta, chunks }, profile), shards: 1, unshardable: plan.reason };
  }
  const outcomes = options.workers > 0 ? await runOnPool(plan.plans, profile.name, options.workers) : plan.plans.map((p) => replayShard(p, profile));
  const rows = chunks.reduce((n, c) => n + c.length, 0);
  const merged = mergeShards(outcomes, rows, shardChecks(chunks));
  return { profile: profile.name, counters: merged.counters, divergences: merged.divergences, timing: {}, shards: count };
}

async function runOnPool(plans: ShardPlan[], profile: string, workers: number): Promise<ShardOutcome[]> {
  const pool = new Piscina<{ plan: ShardPlan; profile: string }, ShardOutcome>({
    filename: SHARD_WORKER.href,
    minThreads: Math.min(workers, plans.length),
    maxThreads: Math.min(workers, plans.length),
    concurrentTasksPerWorker: 1,
  });
  try {
    // The segments' buffers move to the workers instead of being copied.
    return await Promise.all(
      plans.map((plan) => pool.run({ plan, profile }, { transferList: plan.segments.map((s) => s.buffer) })),
    );
  } finally {
    await pool.destroy();
  }
}

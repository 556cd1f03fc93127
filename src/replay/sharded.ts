// A sharded replay of one trace on a worker pool: plan, run the shards in parallel, merge. The merged
// counters equal `replayTrace`'s on the same trace (see shard.ts for why, and for which traces cannot
// be sharded: those are replayed whole, and the result says so).

import { Piscina } from 'piscina';
import type { Profile } from '../core/profile.js';
import { InputError } from '../errors.js';
import { openTrace } from '../trace/io.js';
import { isRecordedProfile, limitRows, MAX_KEPT_DIVERGENCES, replayFile, replayTrace, resolveProfile, type Divergence, type LoadedTrace, type ReplayResult } from './engine.js';
import type { ReplayLimits } from './limits.js';
import { checkShardCount, mergeShards, planShards, replayShard, type MergedReplay, type ShardOutcome, type ShardPlan } from './shard.js';
import { ShardReplay, replayShardFile, type ShardFileTask } from './shard-replay.js';
import { ShardSurvey } from './shard-survey.js';
import type { ShardTask } from './shard-worker.js';

export interface ShardedResult extends ReplayResult {
  /** Shards actually used (1 when the trace could not be sharded). */
  shards: number;
  /** Why the trace was replayed whole, when it was. */
  unshardable?: string;
}

const SHARD_WORKER = new URL('./shard-worker.js', import.meta.url);

export type ShardPool = Piscina<ShardTask, ShardOutcome>;

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
  const merged = mergeShards(outcomes, plan.rows, plan.checks);
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
  // The cut chunks' buffers move to the workers instead of being copied.
  return Promise.all(plans.map((plan) => pool.run({ plan, profile }, { transferList: plan.parts.flatMap((p) => [p.chunk.buffer, p.rows.buffer as ArrayBuffer]) })));
}

export interface ShardedFileOptions {
  profile?: Profile;
  /**
   * Threads for shards 1.. (at most `count` - 1 are used; shard 0 runs on this thread, fused with the
   * planning pass); 0: shards 1.. run one after the other on this thread.
   */
  workers: number;
  pool?: ShardPool;
  /** A trace with more rows fails with an InputError naming the file, as replayFile does. */
  maxEvents?: number;
  /** Bounds on each shard's model (and on a trace replayed whole, when wholeLimits is not given). */
  limits?: ReplayLimits;
  /** Bounds on the model of a trace that turns out unshardable and is replayed whole (default: `limits`). */
  wholeLimits?: ReplayLimits;
}

/**
 * Replays the trace file `path` as `count` shards with bounded memory. Shards 1.. start at once, each
 * streaming the file and replaying its own rows; this thread streams it too, surveying every chunk
 * (shard-survey.ts) before replaying shard 0's rows of it. A trace the survey finds unshardable stops
 * the shards and is replayed whole, streamed, and the result says why.
 */
export async function replayShardedFile(path: string, count: number, options: ShardedFileOptions): Promise<ShardedResult> {
  checkShardCount(count);
  const maxEvents = options.maxEvents ?? Number.MAX_SAFE_INTEGER;
  const trace = await openTrace(path);
  const profile = resolveProfile(trace.meta, options.profile);
  const limits = options.limits && { source: path, ...options.limits };
  const tasks: ShardFileTask[] = Array.from({ length: count }, (_, index) => ({ file: path, index, count, profile, ...(limits ? { limits } : {}) }));
  const abort = new AbortController();
  const pool = options.pool ?? (options.workers > 0 && count > 1 ? newShardPool(Math.min(options.workers, count - 1)) : undefined);
  const others = pool === undefined ? undefined : tasks.slice(1).map((task) => pool.run(task, { signal: abort.signal }));
  // A worker can reach a row that keeps the trace whole (shardTakesRow throws) before this thread's
  // survey does: its rejection is awaited below (or dropped by stop() when the trace is replayed
  // whole), so it must not count as unhandled in the meantime and end the process.
  for (const running of others ?? []) running.catch(() => {});
  try {
    const survey = new ShardSurvey();
    const first = new ShardReplay(0, count, profile, limits);
    let unshardable: string | undefined;
    try {
      for await (const chunk of limitRows(trace.chunks({ reuse: true }), path, maxEvents)) {
        survey.add(chunk);
        unshardable = survey.rowReason;
        if (unshardable !== undefined) break;
        first.feed(chunk);
      }
    } finally {
      await trace.close();
    }
    unshardable ??= survey.unshardable(count);
    if (unshardable !== undefined) {
      await stop(abort, others);
      const whole = await replayFile(path, profile, undefined, maxEvents, options.wholeLimits ?? options.limits);
      return { ...whole, shards: 1, unshardable };
    }
    const outcomes = [first.outcome()];
    if (others !== undefined) outcomes.push(...(await Promise.all(others)));
    else for (const task of tasks.slice(1)) outcomes.push(await replayShardFile(task));
    const failed = outcomes.find((o) => o.failed !== undefined);
    if (failed !== undefined) throw new InputError(failed.failed!);
    const merged = mergeShards(outcomes, survey.rows, survey.checks);
    return { profile: profile.name, ...splitBehaviourChanges(merged, isRecordedProfile(trace.meta, profile)), timing: {}, shards: count };
  } catch (err) {
    await stop(abort, others);
    throw err;
  } finally {
    if (options.pool === undefined) await pool?.destroy();
  }
}

/** Stops the shards still running on the pool and waits until they have let go. */
async function stop(abort: AbortController, running: Array<Promise<ShardOutcome>> | undefined): Promise<void> {
  abort.abort();
  if (running !== undefined) await Promise.allSettled(running);
}

// `s2bench replay TRACE`: one trace through the model, under each of the trace's own profiles (as
// `run` does) or the one given; prints the modeled counters (a block per profile, or JSON). With
// --workers N > 1 the trace is replayed as N shards on N threads (src/replay/sharded.ts), each
// streaming the file: the counters and the output are the single thread's; a trace that cannot be
// sharded is replayed on one thread and a note on stderr says why. With --check, every divergence from a recorded `ret` or an `expect` row is listed and the exit
// code is 1 if there is any; behaviour changes (a differing `ret` under a profile other than the
// recorded one) are listed apart and fail nothing (docs/trace-format.md, "ret").

import { availableParallelism } from 'node:os';
import { metricUnit } from '../../core/metrics.js';
import { parseProfile, type Profile } from '../../core/profile.js';
import { ProfileError, UsageError } from '../../errors.js';
import { behaviourChangeCount, divergenceCount, replayFile, type Divergence, type ReplayResult } from '../../replay/engine.js';
import type { ReplayLimits } from '../../replay/limits.js';
import type { ShardPool } from '../../replay/sharded.js';
import { metadataLine, profilesFor } from '../../replay/suite.js';
import { openTrace, traceKind } from '../../trace/io.js';
import { maxEventsOption } from './max-events-option.js';
import { openS2t } from '../../trace/s2t.js';
import type { TraceMeta } from '../../trace/schema.js';
import { withEstimateMetrics } from '../../estimate/apply.js';
import { EXIT_FAILURE, EXIT_OK } from '../exit-codes.js';
import { loadCostsOption } from './costs-option.js';
import { defaultMaxMemory, maxMemoryOption } from './memory-option.js';

export interface ReplayCliOptions {
  profile?: string;
  check: boolean;
  json: boolean;
  maxEvents?: string;
  maxMemory?: string;
  costs?: string;
  workers?: string;
}

/**
 * `--workers auto` shards an .s2t trace of at least this many events: below it a replay takes well
 * under a second and worker start-up would eat the gain. A text trace is replayed on one thread (the
 * planning pass would parse it twice).
 */
export const AUTO_SHARD_EVENTS = 1 << 20;

export async function replayCommand(
  path: string,
  opts: ReplayCliOptions,
  write: (text: string) => void,
  note: (text: string) => void = (text) => process.stderr.write(text),
): Promise<number> {
  const costs = await loadCostsOption(opts.costs);
  const maxEvents = maxEventsOption(opts.maxEvents);
  // Opened first: a missing or unreadable file is an input error naming it (openTrace), before
  // workersFor reads an .s2t header for its row count.
  const header = await openTrace(path);
  await header.close();
  const workers = await workersFor(path, opts.workers);
  // Per shard when sharded: each shard's model holds its granules' part.
  const maxMemory = maxMemoryOption(opts.maxMemory, defaultMaxMemory(workers));
  const limits = Number.isFinite(maxMemory) ? { maxModelBytes: maxMemory } : {};
  // A trace that turns out unshardable is one model on one thread: the one-thread default budget.
  const wholeMemory = maxMemoryOption(opts.maxMemory, defaultMaxMemory(1));
  const wholeLimits = Number.isFinite(wholeMemory) ? { maxModelBytes: wholeMemory } : {};
  const profiles = replayProfiles(path, header.meta, opts.profile);
  // Streamed once per profile: a trace of any length replays in the model's memory plus one chunk
  // (per shard when sharded).
  const results = [];
  // Shard 0 runs on this thread (replayShardedFile), the others on the pool. Loaded only when used:
  // a single-thread replay does without the pool's modules.
  const pool = workers > 1 ? (await import('../../replay/sharded.js')).newShardPool(workers - 1) : undefined;
  try {
    for (const profile of profiles) {
      const replayed = await replayOnce(path, profile, { workers, pool, maxEvents, limits, wholeLimits, note });
      // Priced after the replay, from its counts (src/estimate/); absent when the table has no costs for the profile.
      const result = { ...replayed, counters: withEstimateMetrics(replayed.counters, costs.table, replayed.profile) };
      const priced = Object.keys(result.counters).some((name) => name.startsWith('estimate.'));
      const source = priced ? `estimate.* are estimates priced with ${costs.source}` : `no estimates: ${costs.source} has no costs for ${result.profile}`;
      results.push({ result, source });
    }
  } finally {
    await pool?.destroy();
  }
  if (opts.json) {
    const json = results.map(({ result, source }) => ({ ...toJson(path, result), costs: source }));
    write(`${JSON.stringify(json.length === 1 ? json[0] : json, null, 2)}\n`);
  } else {
    write(results.map(({ result, source }) => formatResult(path, result, opts.check) + `${source}\n`).join('\n'));
  }
  return opts.check && results.some(({ result }) => divergenceCount(result) > 0) ? EXIT_FAILURE : EXIT_OK;
}

/**
 * The profiles `replay` runs a trace under: `--profile`, else the trace's own (`# profiles:` or
 * `# profile:`, every one), else the default. One that does not parse, or whose architecture is not the
 * trace's `# arch:` (checked in profilesFor, as for `run`), is a profile error (exit 2).
 */
export function replayProfiles(path: string, meta: TraceMeta, cliProfile?: string): Profile[] {
  const profiles = profilesFor(meta.fields, cliProfile === undefined ? [] : [parseProfile(cliProfile)], metadataLine(meta.comments, 'arch', path));
  // Where a trace's own profile is written: its metadata line, or the command line.
  // No profile metadata: the default profile stands against the `# arch:` line.
  const key = meta.fields['profiles'] !== undefined ? 'profiles' : meta.fields['profile'] !== undefined ? 'profile' : 'arch';
  const where = cliProfile !== undefined ? `${path}: --profile` : `${path}: ${metadataLine(meta.comments, key, path)}`;
  return profiles.map((profile) => {
    if ('error' in profile) throw new ProfileError(`${where}: ${profile.error}`);
    return profile;
  });
}

/** One replay of the trace under `profile`: on this thread, or sharded on the pool. */
async function replayOnce(
  path: string,
  profile: Profile,
  how: { workers: number; pool: ShardPool | undefined; maxEvents: number; limits: ReplayLimits; wholeLimits: ReplayLimits; note: (text: string) => void },
): Promise<ReplayResult> {
  if (how.pool === undefined) return replayFile(path, profile, undefined, how.maxEvents, how.wholeLimits);
  const { replayShardedFile } = await import('../../replay/sharded.js');
  const sharded = await replayShardedFile(path, how.workers, { profile, workers: how.workers, pool: how.pool, maxEvents: how.maxEvents, limits: how.limits, wholeLimits: how.wholeLimits });
  if (sharded.unshardable !== undefined) how.note(`s2bench: ${path} [${sharded.profile}]: replayed on one thread, not sharded: ${sharded.unshardable}\n`);
  return sharded;
}

/** `--workers`: a whole number >= 1, or `auto` (AUTO_SHARD_EVENTS). */
export async function workersFor(path: string, text: string | undefined): Promise<number> {
  if (text === undefined || text === 'auto') {
    const cores = availableParallelism();
    if (cores < 2 || traceKind(path) !== 's2t') return 1;
    return (await openS2t(path)).events >= AUTO_SHARD_EVENTS ? cores : 1;
  }
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`--workers takes a whole number >= 1 or 'auto', not '${text}'`);
  return n;
}

/** The first divergences are the ones to read; a trace that diverges everywhere would print millions. */
export const MAX_LISTED_DIVERGENCES = 100;

function toJson(path: string, result: ReplayResult): object {
  return {
    trace: path,
    profile: result.profile,
    counters: result.counters,
    divergences: result.divergences.slice(0, MAX_LISTED_DIVERGENCES),
    divergencesTotal: divergenceCount(result),
    behaviourChanges: result.behaviourChanges.slice(0, MAX_LISTED_DIVERGENCES),
    behaviourChangesTotal: behaviourChangeCount(result),
  };
}

/** `title`, then the first `limit` rows, then how many more there are of `total` (kept or not). */
function listRows(title: string, rows: readonly Divergence[], total: number, limit: number): string[] {
  const shown = rows.slice(0, limit).map((d) => `  line ${d.line}: ${d.op}: expected ${d.expected}, got ${d.got}`);
  return [title, ...shown, ...(total > shown.length ? [`  ... and ${total - shown.length} more`] : [])];
}

export function formatResult(path: string, result: ReplayResult, check: boolean): string {
  const lines = [`trace    ${path}`, `profile  ${result.profile}`, ''];
  const names = Object.keys(result.counters);
  const width = Math.max(...names.map((name) => name.length));
  for (const name of names) {
    const value = result.counters[name]!;
    const unit = name.startsWith('estimate.') ? (name.endsWith('_ms') ? ' ms (estimate)' : ' (estimate)') : metricUnit(name) === 'bytes' ? ' bytes' : '';
    lines.push(`${name.padEnd(width)}  ${String(name.endsWith('_ms') ? +value.toFixed(6) : value).padStart(14)}${unit}`);
  }
  if (check) {
    lines.push('');
    const count = divergenceCount(result);
    if (count === 0) lines.push('check: 0 divergences');
    else lines.push(...listRows(`check: ${count} divergence(s)`, result.divergences, count, MAX_LISTED_DIVERGENCES));
  }
  const changes = behaviourChangeCount(result);
  if (changes > 0) {
    lines.push('');
    const title = `${changes} behaviour change(s): recorded under another profile, answered differently here`;
    lines.push(...listRows(title, result.behaviourChanges, changes, check ? MAX_LISTED_DIVERGENCES : 10));
  }
  return `${lines.join('\n')}\n`;
}

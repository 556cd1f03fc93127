// The replay engine: drives trace chunks through a core Vm, one row at a time, and compares what the
// model answers with what the trace recorded (`ret`) and with `expect` rows. Each op's replay is its
// entry in the op table (src/trace/ops.ts); guest accesses, the hot path, go to Vm.accessRange() whole.
// Single-threaded; the pool runs one engine per job.

import { performance } from 'node:perf_hooks';
import { M, METRIC_NAMES, metricId } from '../core/metrics.js';
import { DEFAULT_PROFILE, parseProfile, type Profile } from '../core/profile.js';
import { Vm } from '../core/vm.js';
import { accessPages, gfn, has, vcpu } from '../trace/columns.js';
import { openTrace } from '../trace/io.js';
import { OP_SPECS, retText } from '../trace/ops.js';
import type { JobSeries } from '../report/series.js';
import { sampleInterval, SeriesSampler } from './series.js';
import { F_RET, OP, OPS, type TraceChunk, type TraceMeta } from '../trace/schema.js';
import { InputError } from '../errors.js';
import { feedWithin, hasLimits, type ReplayLimits } from './limits.js';

export interface Divergence {
  /** CSV line (or .s2t record) of the row. */
  line: number;
  op: string;
  expected: string;
  got: string;
}

/**
 * At most this many divergences (and as many behaviour changes) are kept in memory per replay; the
 * `divergences` / `behaviour_changes` counters count every one (10M diverging rows would otherwise hold
 * gigabytes of strings). Consumers read the counters for "how many" and the lists for "which".
 */
export const MAX_KEPT_DIVERGENCES = 1000;

export interface ReplayState {
  /** The first MAX_KEPT_DIVERGENCES divergences; `divergenceCount` counts all of them. */
  divergences: Divergence[];
  divergenceCount: number;
  /**
   * Rows whose recorded `ret` the model answered differently while replaying under a profile other than
   * the trace's `# recorded-under:`: another kernel's answer, not a fault of the model.
   */
  behaviourChanges: Divergence[];
  behaviourChangeCount: number;
  /** Whether a differing `ret` is a divergence (the recorded profile, or none named) or a behaviour change. */
  underRecorded: boolean;
  /** Samples counters every N events when set (src/replay/series.ts). */
  sampler?: SeriesSampler;
}

export interface LoadedTrace {
  meta: TraceMeta;
  chunks: Iterable<TraceChunk>;
}

export interface ReplayOptions {
  /** Kept for callers: divergences are always collected; `check` decides what they mean. */
  check?: boolean;
  /** Sample counters over the course of the replay (ReplayResult.series). */
  series?: boolean;
  /** Bounds on the model's memory and the replay's time (./limits.ts). */
  limits?: ReplayLimits;
}

export interface ReplayResult {
  profile: string;
  /** `divergences` and `behaviour_changes` count every one, kept or not. */
  counters: Record<string, number>;
  /** The first MAX_KEPT_DIVERGENCES divergences (counters.divergences counts them all). */
  divergences: Divergence[];
  /** Differing `ret`s under a profile other than the recorded one (see ReplayState). */
  behaviourChanges: Divergence[];
  timing: Record<string, number>;
  /** Counters over the course of the replay, when asked for. */
  series?: JobSeries;
}

/** How many divergences a replay found, kept in its list or not. */
export function divergenceCount(result: Pick<ReplayResult, 'counters'>): number {
  return result.counters['divergences'] ?? 0;
}

/** How many behaviour changes a replay found, kept in its list or not. */
export function behaviourChangeCount(result: Pick<ReplayResult, 'counters'>): number {
  return result.counters['behaviour_changes'] ?? 0;
}

/** By op code: the ACCESS_* kind of guest accesses, -1 for other ops (one load per row on the hot path). */
const ACCESS_KIND = Int8Array.from(OP_SPECS, (spec) => spec.access ?? -1);

export function newReplayState(underRecorded = true): ReplayState {
  return { divergences: [], divergenceCount: 0, behaviourChanges: [], behaviourChangeCount: 0, underRecorded };
}

/**
 * Whether replaying under `profile` is replaying under the profile the trace's `ret`s were recorded
 * under (`# recorded-under:`). A trace that names none is held to its `ret`s under every profile.
 */
export function isRecordedProfile(meta: TraceMeta, profile: Profile): boolean {
  const recorded = meta.fields['recorded-under'];
  if (recorded === undefined || recorded === '') return true;
  try {
    return parseProfile(recorded).name === profile.name;
  } catch {
    // An unknown profile name (a newer s2bench's): no profile of ours is that one.
    return false;
  }
}

/**
 * Replay every row of one chunk through `vm`. An access row (the hot path) costs a countdown, the
 * events counter, one table load for its kind, the access and a test of its `ret` bit; everything
 * else (expect rows, ioctls, divergences) is off that path.
 */
export function replayChunk(vm: Vm, chunk: TraceChunk, state: ReplayState): void {
  const c = vm.counters;
  const n = chunk.length;
  const ops = chunk.op;
  const sampler = state.sampler;
  // One decrement per row; never reaches 0 without a sampler.
  let countdown = sampler === undefined ? Infinity : sampler.countdown;
  for (let i = 0; i < n; i++) {
    if (--countdown === 0) countdown = sampler!.take(vm);
    const op = ops[i]!;
    c[M.events]!++;
    const kind = ACCESS_KIND[op]!;
    let got: number;
    if (kind >= 0) {
      got = replayAccess(vm, chunk, i, kind);
    } else if (op === OP.expect) {
      checkExpect(vm, chunk, i, state);
      continue;
    } else {
      got = OP_SPECS[op]!.replay!(vm, chunk, i);
      if (op === OP.dirty_get && sampler !== undefined) sampler.dirtyPass(c[M.events]!, got);
    }
    // NaN: the model answers nothing comparable for this op (yet).
    if (has(chunk, i, F_RET) && got === got && chunk.ret[i] !== got) {
      diverge(state, chunk.line[i]!, op, retText(op, chunk.ret[i]!), retText(op, got));
    }
  }
  c[M.divergences] = state.divergenceCount;
  c[M.behaviour_changes] = state.behaviourChangeCount;
  if (sampler !== undefined) sampler.countdown = countdown;
}

/**
 * An access row: every 4K page of [gpa, gpa + size) in order; the first exit ends the row. The Vm
 * accounts the pages per leaf (Vm.accessRange()), with the counters of a page-by-page loop.
 */
function replayAccess(vm: Vm, chunk: TraceChunk, i: number, kind: number): number {
  return vm.accessRange(vcpu(chunk, i), gfn(chunk, i), accessPages(chunk, i), kind, chunk.flagsLo[i]!);
}

/** An `expect` row: the named metric must have the row's value now. */
function checkExpect(vm: Vm, chunk: TraceChunk, i: number, state: ReplayState): void {
  const name = chunk.names[chunk.flagsLo[i]!] ?? '';
  const id = metricId(name);
  const message = expectMismatch(name, chunk.ret[i]!, id < 0 ? undefined : vm.metric(id));
  if (message === undefined) return;
  state.divergenceCount++;
  if (state.divergences.length < MAX_KEPT_DIVERGENCES) state.divergences.push({ line: chunk.line[i]!, op: 'expect', ...message });
}

/** The divergence of an `expect` row whose metric has `got` (undefined: no such metric), if any. */
export function expectMismatch(name: string, expected: number, got: number | undefined): Pick<Divergence, 'expected' | 'got'> | undefined {
  if (got === expected) return undefined;
  return { expected: `${name} = ${expected}`, got: got === undefined ? `no such metric '${name}'` : `${name} = ${got}` };
}

/**
 * Records that row `line` (op code `op`) answered `got` where the trace recorded `expected`: a
 * divergence under the recorded profile, else a behaviour change. Counted always, kept while the list
 * is under MAX_KEPT_DIVERGENCES.
 */
function diverge(state: ReplayState, line: number, op: number, expected: string, got: string): void {
  let list: Divergence[];
  if (state.underRecorded) {
    state.divergenceCount++;
    list = state.divergences;
  } else {
    state.behaviourChangeCount++;
    list = state.behaviourChanges;
  }
  if (list.length < MAX_KEPT_DIVERGENCES) list.push({ line, op: OPS[op] ?? '?', expected, got });
}

/** The profile a trace replays under: the one given, else the trace's `# profile:`, else the default. */
export function resolveProfile(meta: TraceMeta, profile?: Profile): Profile {
  if (profile !== undefined) return profile;
  const own = meta.fields['profile'];
  return own !== undefined && own !== '' ? parseProfile(own) : DEFAULT_PROFILE;
}

/**
 * One replay in progress: a Vm under the trace's profile, fed chunk by chunk. Holds nothing of the
 * trace itself, so a streamed replay's memory is the model plus the chunk being replayed.
 */
export class Replay {
  readonly vm: Vm;
  readonly profile: Profile;
  private readonly state: ReplayState;
  private readonly limits: ReplayLimits | undefined;

  /**
   * `seriesRows`: the trace's row count, to sample counters over its course (series.csv); none without.
   * `limits`: bounds on memory and time (./limits.ts); without any, chunks are fed unchecked.
   */
  constructor(meta: TraceMeta, profile?: Profile, seriesRows?: number, limits?: ReplayLimits) {
    this.limits = limits !== undefined && hasLimits(limits) ? limits : undefined;
    this.profile = resolveProfile(meta, profile);
    this.vm = new Vm(this.profile);
    this.state = newReplayState(isRecordedProfile(meta, this.profile));
    if (seriesRows !== undefined) this.state.sampler = new SeriesSampler(sampleInterval(seriesRows));
  }

  feed(chunk: TraceChunk): void {
    if (this.limits === undefined) replayChunk(this.vm, chunk, this.state);
    else feedWithin(this.limits, this.vm, chunk, (part) => replayChunk(this.vm, part, this.state));
  }

  result(): ReplayResult {
    const series = this.state.sampler?.finish(this.vm);
    const final = this.vm.finish();
    const counters: Record<string, number> = {};
    METRIC_NAMES.forEach((name, id) => {
      counters[name] = final[id]!;
    });
    // Per-conversion distributions: conv.* join the modeled counters, time.conversion_* the timings.
    const conv = this.vm.conversionStats();
    Object.assign(counters, conv.modeled);
    return {
      profile: this.profile.name,
      counters,
      divergences: this.state.divergences,
      behaviourChanges: this.state.behaviourChanges,
      timing: conv.timing,
      ...(series !== undefined ? { series } : {}),
    };
  }
}

/** A trace whose chunks may still be coming (a file being read, a generator). */
export interface StreamedTrace {
  meta: TraceMeta;
  chunks: AsyncIterable<TraceChunk> | Iterable<TraceChunk>;
}

/** Timings of a streamed replay: the time spent in the model, and the rest (reading, generating). */
export interface StreamTiming {
  replayMs: number;
  waitMs: number;
}

/** Replay a loaded trace (or a file, streamed) and return the modeled counters and divergences. */
export function replayTrace(trace: LoadedTrace, profile?: Profile, options?: ReplayOptions): ReplayResult;
export function replayTrace(
  trace: string,
  profile?: Profile,
  options?: ReplayOptions,
): Promise<ReplayResult>;
export function replayTrace(
  trace: LoadedTrace | string,
  profile?: Profile,
  options: ReplayOptions = {},
): ReplayResult | Promise<ReplayResult> {
  if (typeof trace === 'string') return replayFile(trace, profile);
  const chunks = [...trace.chunks];
  const rows = options.series ? chunks.reduce((n, chunk) => n + chunk.length, 0) : undefined;
  const replay = new Replay(trace.meta, profile, rows, options.limits);
  for (const chunk of chunks) replay.feed(chunk);
  return replay.result();
}

/**
 * Replay a trace file one chunk at a time: memory stays the model plus a chunk, whatever its length.
 * `maxEvents` bounds the work: a trace with more rows stops with an InputError naming the file;
 * `limits` bound the model's memory and the replay's time (./limits.ts).
 */
export async function replayFile(
  path: string,
  profile?: Profile,
  timing?: StreamTiming,
  maxEvents = Number.MAX_SAFE_INTEGER,
  limits?: ReplayLimits,
): Promise<ReplayResult> {
  const trace = await openTrace(path);
  try {
    // A Replay holds nothing of a chunk once fed: every chunk can be read into the same buffers, so a
    // replay does not allocate (and fault in) a chunk's columns per chunk.
    const chunks = trace.chunks({ reuse: true });
    return await replayStream({ meta: trace.meta, chunks: limitRows(chunks, path, maxEvents) }, profile, timing, limits && { source: path, ...limits });
  } finally {
    await trace.close();
  }
}

/** `chunks`, failing with an InputError naming `path` once they hold more than `maxEvents` rows. */
export async function* limitRows(chunks: AsyncIterable<TraceChunk>, path: string, maxEvents: number): AsyncGenerator<TraceChunk> {
  let rows = 0;
  for await (const chunk of chunks) {
    rows += chunk.length;
    if (rows > maxEvents) throw new InputError(`${path}: more than ${maxEvents} events; raise --max-events to replay it`);
    yield chunk;
  }
}

/** Replay chunks as they come; `timing`, if given, receives where the time went. */
export async function replayStream(trace: StreamedTrace, profile?: Profile, timing?: StreamTiming, limits?: ReplayLimits): Promise<ReplayResult> {
  const replay = new Replay(trace.meta, profile, undefined, limits);
  const start = performance.now();
  let inModel = 0;
  for await (const chunk of trace.chunks) {
    const t = performance.now();
    replay.feed(chunk);
    inModel += performance.now() - t;
  }
  if (timing) {
    timing.replayMs = inModel;
    timing.waitMs = performance.now() - start - inModel;
  }
  return replay.result();
}

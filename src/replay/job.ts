// One job: load a trace, replay it under one profile, and return its modeled counters and timings.
// The same function runs inside pool workers and in-process, so both paths measure the same thing.

import { readlink, stat } from 'node:fs/promises';
import { InputError } from '../errors.js';
import { performance } from 'node:perf_hooks';
import { DEFAULT_CHUNK_ROWS, ROW_BYTES } from '../trace/chunk.js';
import { readTrace, traceKind, type LoadedTrace } from '../trace/io.js';
import { openS2t } from '../trace/s2t.js';
import type { JobResult } from '../report/types.js';
import { recordedVmMetrics } from '../record-vm/touches.js';
import { divergenceCount, replayFile, replayTrace, type ReplayResult, type StreamTiming } from './engine.js';
import type { Job } from './suite.js';
import type { ReplayLimits } from './limits.js';

export interface JobRequest extends Job {
  /** Also fail the job when the model diverges from a recorded `ret` or an `expect` row. */
  check: boolean;
  /** Fail the job, not the process, when the trace has more events than this (io.ts DEFAULT_MAX_EVENTS). */
  maxEvents?: number;
  /** Fail the job when the model would hold more bytes than this (`--max-memory`, ./limits.ts). */
  maxMemoryBytes?: number;
}

/** A job on the main thread (`run -w 0`) checks its own timeout between slices of rows (./limits.ts). */
export interface JobDeadline {
  /** performance.now() at which the job fails. */
  deadline: number;
  timeoutMs: number;
}

/**
 * Traces this thread has already replayed once. The first replay of a trace in a fresh thread runs
 * mostly in V8's interpreter and is several times slower than the rest; timing it would make the
 * spread over repeats depend on how jobs happen to land on workers. So each thread replays a trace once
 * untimed before its first timed replay of it.
 */
const warmedUp = new Set<string>();

/**
 * A trace whose in-memory chunks would take more than this is not kept: each repeat streams it from
 * the file again, so a worker's memory is the model plus a chunk whatever the trace's length.
 */
export const KEEP_LOADED_BYTES = 256 * 2 ** 20;

interface Kept {
  trace: LoadedTrace;
  bytes: number;
  loadMs: number;
  mtimeMs: number;
}

/**
 * Traces loaded by this thread, replayed again from memory by later repeats (least recently used
 * first out, KEEP_LOADED_BYTES in all): a trace is read once per worker, not once per repeat.
 */
const kept = new Map<string, Kept>();

/**
 * The trace from this thread's memory, or read now and kept if it fits; `readMs` is the time this
 * call spent reading (0 when it was kept), which the pool's busy time counts.
 */
async function loaded(path: string, bytes: number, mtimeMs: number, maxEvents: number | undefined): Promise<Kept & { readMs: number }> {
  const hit = kept.get(path);
  if (hit !== undefined && hit.mtimeMs === mtimeMs && hit.bytes === bytes) {
    kept.delete(path); // re-inserted below: the map's order is recency
    kept.set(path, hit);
    return { ...hit, readMs: 0 };
  }
  const start = performance.now();
  const trace = await readTrace(path, undefined, maxEvents !== undefined ? { maxEvents } : {});
  const entry: Kept = { trace, bytes, loadMs: performance.now() - start, mtimeMs };
  const size = residentBytes(trace);
  if (size <= KEEP_LOADED_BYTES) {
    kept.delete(path);
    kept.set(path, entry);
    let total = 0;
    for (const k of kept.values()) total += residentBytes(k.trace);
    for (const [key, k] of kept) {
      if (total <= KEEP_LOADED_BYTES) break;
      kept.delete(key);
      total -= residentBytes(k.trace);
    }
  }
  return { ...entry, readMs: entry.loadMs };
}

function residentBytes(trace: LoadedTrace): number {
  let n = 0;
  for (const chunk of trace.chunks) n += chunk.buffer.byteLength;
  return n;
}

/**
 * Whether a trace is small enough to be loaded whole and kept: what its chunks would take, about
 * ROW_BYTES a row plus the unused tail of the last chunk. An .s2t names its row count in its header;
 * the file's size says little, since column encodings (s2t-columns.ts) and deflate can take a row
 * under 3 bytes (the `scale` generator's mix), and a trace estimated from its size at 10 bytes a row
 * would be loaded whole yet too big to keep, read again in full by every repeat.
 */
export async function fitsInMemory(path: string, bytes: number): Promise<boolean> {
  // A CSV row is at least ~20 bytes of text.
  const rowsAtMost = traceKind(path) === 's2t' ? (await openS2t(path)).events + DEFAULT_CHUNK_ROWS : bytes / 20;
  return rowsAtMost * ROW_BYTES <= KEEP_LOADED_BYTES;
}

/**
 * What a worker decides or counts once per version of a trace file (path, mtime, size), not once per
 * repeat: whether to keep it loaded (an .s2t header read) and, for a streamed one, its `vm.*` metrics
 * (a pass over the file).
 */
const keptDecisions = new Map<string, boolean>();
const streamedVmMetrics = new Map<string, Record<string, number>>();

async function once<T>(memo: Map<string, T>, key: string, compute: () => Promise<T>): Promise<T> {
  let value = memo.get(key);
  if (value === undefined) memo.set(key, (value = await compute()));
  return value;
}

export async function runJob(job: JobRequest, time?: JobDeadline): Promise<JobResult> {
  const profile = job.profile;
  const maxModelBytes = job.maxMemoryBytes !== undefined && Number.isFinite(job.maxMemoryBytes) ? job.maxMemoryBytes : undefined;
  const limits: ReplayLimits = { source: job.tracePath, maxModelBytes, ...time };
  const base = { trace: job.trace, tracePath: job.tracePath, profile: profile.name, repeat: job.repeat };
  if ('error' in profile) return { ...base, status: 'failed', error: profile.error, modeled: {}, timing: {}, divergences: 0 };
  try {
    const info = await stat(job.tracePath).catch((err: unknown) => missingTrace(job.tracePath, err));
    const bytes = info.size;
    let outcome: ReplayResult;
    let loadMs: number;
    let readMs: number;
    let replayMs: number;
    let vmMetrics: Record<string, number>;
    const fileKey = `${job.tracePath}\u0000${info.mtimeMs}\u0000${bytes}`;
    if (await once(keptDecisions, fileKey, () => fitsInMemory(job.tracePath, bytes))) {
      // Loaded once per worker; every repeat replays the same chunks. time.load_ms is that one load.
      const trace = await loaded(job.tracePath, bytes, info.mtimeMs, job.maxEvents);
      loadMs = trace.loadMs;
      readMs = trace.readMs;
      const warmKey = `${job.tracePath}\u0000${profile.name}`;
      if (!warmedUp.has(warmKey)) {
        replayTrace(trace.trace, profile, { check: job.check, series: true, limits });
        warmedUp.add(warmKey);
      }
      const replayStart = performance.now();
      // Every timed replay samples its counters (one countdown per row), so repeats time the same work;
      // the first repeat's samples go into series.csv.
      outcome = replayTrace(trace.trace, profile, { check: job.check, series: true, limits });
      replayMs = performance.now() - replayStart;
      vmMetrics = await recordedVmMetrics(trace.trace);
    } else {
      // Too big to keep: streamed from the file, the read time apart from the model's.
      const timing: StreamTiming = { replayMs: 0, waitMs: 0 };
      outcome = await replayFile(job.tracePath, profile, timing, job.maxEvents, limits);
      loadMs = timing.waitMs;
      readMs = timing.waitMs;
      replayMs = timing.replayMs;
      vmMetrics = await once(streamedVmMetrics, fileKey, () => recordedVmMetrics(job.tracePath));
    }

    // A recorded VM's first touches, MMIO exits and dirty-log gets (src/record-vm/touches.ts), untimed.
    const modeled = { ...outcome.counters, ...vmMetrics };
    const seconds = replayMs / 1000;
    const timing: Record<string, number> = {
      'time.load_ms': loadMs,
      // What this repeat itself spent reading: a kept trace's later repeats read nothing.
      'time.read_ms': readMs,
      'rate.load_mb_per_s': bytes / 1e6 / (loadMs / 1000),
      'time.replay_ms': replayMs,
      'rate.events_per_s': (modeled['events'] ?? 0) / seconds,
      'rate.faults_per_s': (modeled['faults'] ?? 0) / seconds,
      ...outcome.timing,
    };
    const divergences = divergenceCount(outcome);
    if (job.check && divergences > 0) {
      const first = outcome.divergences[0]!;
      return {
        ...base,
        status: 'failed',
        error: `${divergences} divergence(s); first at line ${first.line} (${first.op}): expected ${first.expected}, got ${first.got}`,
        modeled,
        timing,
        divergences,
      };
    }
    return { ...base, status: 'ok', modeled, timing, divergences, ...(job.repeat === 0 && outcome.series ? { series: outcome.series } : {}) };
  } catch (err) {
    return { ...base, status: 'failed', error: describeError(err), modeled: {}, timing: {}, divergences: 0 };
  }
}

/**
 * A trace that cannot be stat'ed: a broken symbolic link in a suite directory (kept by discovery so its
 * jobs fail, suite.ts) says where it points; anything else is rethrown as it came.
 */
async function missingTrace(path: string, err: unknown): Promise<never> {
  if ((err as { code?: unknown }).code !== 'ENOENT') throw err;
  const target = await readlink(path).catch(() => undefined);
  throw new InputError(target === undefined ? 'no such file' : `a symbolic link to ${target}, which does not exist`, { file: path });
}

export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

// The scale benchmark: a big guest's trace (generator `scale`: first touch, repeated hits, a dirty-log
// pass, memslot moves), generated and replayed chunk by chunk so that neither side ever holds it whole.
//   npm run bench:scale -- [--guest GIB] [--events N] [--profile P] [--s2t FILE [--workers N]] [--out DIR]
// Defaults: a 1 TiB guest and 1 billion events. With --s2t the trace is written to FILE first and the
// replay streams it back from the file (the time to write it is reported apart); with --workers N
// as well, the file is replayed as N streamed shards (`replay --workers`, src/replay/sharded.ts), each
// shard's model on its own thread, merged to the single-thread counters. Prints events/s,
// faults/s, peak RSS and wall time, and writes them as a run (run.json, results.csv, ...) to --out
// (default reports/RUNID-scale), like any run.

import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { newRunId } from '../src/cli/actions/run-id.js';
import { DEFAULT_PROFILE, parseProfile } from '../src/core/profile.js';
import { replayFile, replayStream, type ReplayResult, type StreamTiming } from '../src/replay/engine.js';
import { replayShardedFile } from '../src/replay/sharded.js';
import { collectRunInfo } from '../src/report/run-info.js';
import type { JobResult } from '../src/report/types.js';
import { writeRun } from '../src/report/write.js';
import { findGenerator } from '../src/trace/generators/index.js';
import { writeTrace } from '../src/trace/io.js';

const { values } = parseArgs({
  options: {
    guest: { type: 'string', default: '1024' },
    events: { type: 'string', default: '1000000000' },
    profile: { type: 'string' },
    s2t: { type: 'string' },
    workers: { type: 'string', default: '1' },
    out: { type: 'string' },
  },
});
const guestGiB = Number(values.guest);
const events = Number(values.events);
if (!Number.isInteger(guestGiB) || guestGiB < 1) throw new Error(`--guest takes GiB (a whole number >= 1), not '${values.guest}'`);
if (!Number.isSafeInteger(events) || events < 1000) throw new Error(`--events takes a whole number >= 1000, not '${values.events}'`);
const workers = Number(values.workers);
if (!Number.isInteger(workers) || workers < 1 || workers > 64) throw new Error(`--workers takes a whole number from 1 to 64, not '${values.workers}'`);
if (workers > 1 && values.s2t === undefined) throw new Error('--workers N > 1 shards the replay of a trace file: give --s2t FILE too');
const profile = values.profile === undefined ? DEFAULT_PROFILE : parseProfile(values.profile);

const startedAt = new Date();
const trace = findGenerator('scale')!.generate({ guestGiB, events });
const name = `scale/${guestGiB}g-${events}`;
const wallStart = performance.now();
let writeMs = 0;
let result: ReplayResult;
const timing: StreamTiming = { replayMs: 0, waitMs: 0 };
if (values.s2t !== undefined) {
  const t = performance.now();
  await writeTrace(values.s2t, trace.meta, trace.chunks!());
  writeMs = performance.now() - t;
  if (workers > 1) {
    const t0 = performance.now();
    const sharded = await replayShardedFile(values.s2t, workers, { profile, workers: workers - 1 });
    if (sharded.unshardable !== undefined) console.log(`replayed on one thread, not sharded: ${sharded.unshardable}`);
    timing.replayMs = performance.now() - t0;
    result = sharded;
  } else {
    result = await replayFile(values.s2t, profile, timing);
  }
} else {
  result = await replayStream({ meta: trace.meta, chunks: trace.chunks!() }, profile, timing);
}
const wallMs = performance.now() - wallStart;
const peakRssMiB = process.resourceUsage().maxRSS / 1024;

const modeled: Record<string, number> = { ...result.counters, divergences: result.divergences.length };
const wallS = wallMs / 1000;
const figures: Record<string, number> = {
  'time.wall_ms': wallMs,
  'time.replay_ms': timing.replayMs,
  // Generating the chunks (or reading them back from the file) while the replay waits.
  'time.source_ms': timing.waitMs,
  ...(values.s2t !== undefined ? { 'time.write_ms': writeMs } : {}),
  'rate.events_per_s': events / wallS,
  'rate.faults_per_s': (modeled['faults'] ?? 0) / wallS,
  'rate.replay_events_per_s': events / (timing.replayMs / 1000),
  'mem.peak_rss_mib': peakRssMiB,
};
const job: JobResult = {
  trace: name,
  tracePath: values.s2t ?? `(generated: s2bench gen scale --guest-gib ${guestGiB} --events ${events})`,
  profile: profile.name,
  repeat: 0,
  status: result.divergences.length === 0 ? 'ok' : 'failed',
  ...(result.divergences.length > 0 ? { error: `${result.divergences.length} divergence(s)` } : {}),
  modeled,
  timing: figures,
  divergences: result.divergences.length,
};

const runId = newRunId(startedAt);
const outDir = resolve(values.out ?? join('reports', `${runId}-scale`));
const runInfo = await collectRunInfo({
  runId,
  startedAt,
  finishedAt: new Date(),
  options: { bench: 'scale', guestGiB, events, profile: profile.name, s2t: values.s2t ?? null },
  traces: [{ name, path: values.s2t ?? job.tracePath }],
  results: [job],
});
await writeRun(outDir, runInfo, [job]);

const m = (n: number): string => `${(n / 1e6).toFixed(2)}M`;
console.log(`${name} under ${profile.name}: ${m(events)} events, ${m(modeled['faults'] ?? 0)} faults, ${result.divergences.length} divergence(s)`);
console.log(`wall ${wallS.toFixed(1)} s (replay ${(timing.replayMs / 1000).toFixed(1)} s, ${values.s2t ? 'read' : 'generate'} ${(timing.waitMs / 1000).toFixed(1)} s${values.s2t ? `, write ${(writeMs / 1000).toFixed(1)} s` : ''})`);
console.log(`${m(figures['rate.events_per_s']!)} events/s, ${m(figures['rate.faults_per_s']!)} faults/s whole process; ${m(figures['rate.replay_events_per_s']!)} events/s in the model`);
console.log(`peak RSS ${peakRssMiB.toFixed(0)} MiB; run written to ${outDir}`);
if (result.divergences.length > 0) process.exitCode = 1;

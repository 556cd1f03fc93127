// `s2bench record`: perform a trace's ioctls and guest accesses on this machine's /dev/kvm and write it
// back with `ret` filled by the kernel; or generate random sequences (--fuzz) and record those.

import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { replayFile } from '../../replay/engine.js';
import { recordTraceFile } from '../../record/stream.js';
import { fuzzSequence } from '../../record/fuzz.js';
import { fuzzSource } from '../../record/differential.js';
import { modelDivergences, recordedMeta, recordRows, recordedText, type RecordedTrace } from '../../record/session.js';
import { UsageError } from '../../errors.js';
import { EXIT_FAILURE } from '../exit-codes.js';

export interface RecordCliOptions {
  out?: string;
  fuzz?: string;
  seed: string;
  rows: string;
  check: boolean;
}

function count(text: string, name: string, min: number): number {
  if (!/^[0-9]+$/.test(text) || Number(text) < min) throw new UsageError(`${name} must be an integer >= ${min}, got '${text}'`);
  return Number(text);
}

/** `record`: a trace, or --fuzz N random sequences, recorded on /dev/kvm; with --check, compared with the model. */
export async function recordAction(trace: string | undefined, opts: RecordCliOptions): Promise<void> {
  if (opts.out === undefined) throw new UsageError('record needs -o/--out');
  if ((trace === undefined) === (opts.fuzz === undefined)) throw new UsageError('record takes either a TRACE or --fuzz N');
  if (trace !== undefined) await recordFile(trace, opts.out, opts.check);
  else await report(await recordFuzz(opts), opts.check);
}

/** Streamed (src/record/stream.ts); with --check the written trace is replayed from its file. */
async function recordFile(path: string, out: string, check: boolean): Promise<void> {
  const target = resolve(out);
  const unrecorded = await recordTraceFile(path, target, (input) => {
    const earlier = input.fields['source'];
    // A re-recorded trace keeps its original source; another trace's source goes in brackets.
    const source = earlier?.startsWith('s2bench record') ? earlier : `s2bench record ${basename(path)}${earlier ? ` (${earlier})` : ''}`;
    const kept = input.comments.filter((c) => !/^#\s*(s2bench trace v|kernel:|source:|arch:)/.test(c)).map((c) => c.replace(/^#\s?/, ''));
    return recordedMeta(source, kept);
  });
  process.stdout.write(`recorded ${path} -> ${out} (${unrecorded} rows without a ret)\n`);
  if (!check) return;
  const divergences = (await replayFile(target)).divergences;
  for (const d of divergences) process.stdout.write(`${out}:${d.line}: ${d.op}: kernel ${d.expected}, model ${d.got}\n`);
  process.stdout.write(`check: ${divergences.length > 0 ? 1 : 0} of 1 recorded traces diverge from the model\n`);
  if (divergences.length > 0) process.exitCode = EXIT_FAILURE;
}

async function recordFuzz(opts: RecordCliOptions): Promise<Array<{ path: string; trace: RecordedTrace }>> {
  const n = count(opts.fuzz!, '--fuzz', 1);
  const seed = count(opts.seed, '--seed', 0);
  const rows = count(opts.rows, '--rows', 1);
  const sequences = Array.from({ length: n }, (_, i) => fuzzSequence(seed, i, { rows }));
  const t0 = performance.now();
  const traces = recordRows(sequences, (i) => fuzzSource(seed, i));
  const ms = performance.now() - t0;
  const dir = resolve(opts.out!);
  await mkdir(dir, { recursive: true });
  const out: Array<{ path: string; trace: RecordedTrace }> = [];
  for (let i = 0; i < traces.length; i++) {
    const path = join(dir, `fuzz-s${seed}-${String(i).padStart(5, '0')}.csv`);
    await writeFile(path, recordedText(traces[i]!));
    out.push({ path, trace: traces[i]! });
  }
  const failed = traces.filter((t) => t.failure !== undefined).length;
  process.stdout.write(
    `recorded ${n} sequences x ${rows} rows in ${(ms / 1000).toFixed(2)} s (${Math.round(n / (ms / 1000))} sequences/s) -> ${dir}` +
      `${failed > 0 ? `; ${failed} could not run` : ''}\n`,
  );
  return out;
}

async function report(recorded: ReadonlyArray<{ path: string; trace: RecordedTrace }>, check: boolean): Promise<void> {
  if (!check) return;
  let divergent = 0;
  for (const { path, trace } of recorded) {
    if (trace.failure !== undefined) continue;
    const divergences = await modelDivergences(trace);
    if (divergences.length === 0) continue;
    divergent++;
    for (const d of divergences) process.stdout.write(`${path}:${d.line}: ${d.op}: kernel ${d.expected}, model ${d.got}\n`);
  }
  process.stdout.write(`check: ${divergent} of ${recorded.length} recorded traces diverge from the model\n`);
  if (divergent > 0) process.exitCode = EXIT_FAILURE;
}

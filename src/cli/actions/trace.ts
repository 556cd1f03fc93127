// `validate`, `convert`, `info`: the trace file commands.

import { u64 } from '../../trace/columns.js';
import { TraceError } from '../../errors.js';
import { openTrace, traceKind, validateTraceFile, writeTrace, type OpenTrace } from '../../trace/io.js';
import { MAX_FILE_ERRORS } from '../../trace/csv.js';
import type { S2tWriteOptions } from '../../trace/s2t.js';
import { F_GPA, F_SIZE, OPS, type TraceMeta } from '../../trace/schema.js';
import { InputError } from '../../errors.js';
import { EXIT_FAILURE } from '../exit-codes.js';

/** `info`: the trace's metadata, events by op and guest-physical span, as text or JSON. */
export async function infoAction(file: string, opts: { json: boolean }): Promise<void> {
  const info = await traceInfo(file);
  process.stdout.write(opts.json ? JSON.stringify(info, null, 2) + '\n' : formatInfo(info));
}

interface Problem {
  file: string;
  line: number;
  record: boolean;
  field: string;
  message: string;
}

/** `validate`: prints every problem of every file; returns the exit code. */
export async function validateCommand(files: string[], json: boolean, print: (text: string) => void): Promise<number> {
  const problems: Problem[] = [];
  /** Files whose reading stopped at csv.ts MAX_FILE_ERRORS problems. */
  const stopped: string[] = [];
  let rows = 0;
  for (const file of files) {
    try {
      const result = await validateTraceFile(file);
      rows += result.rows;
      for (const e of result.errors) problems.push(toProblem(e));
      if (result.stoppedEarly) stopped.push(file);
    } catch (err) {
      if (err instanceof TraceError) problems.push(toProblem(err));
      // A file that cannot be read is a problem of that file; the others are still checked.
      else if (err instanceof InputError) {
        problems.push({ file, line: 0, record: false, field: '', message: err.message });
      } else throw err;
    }
  }
  if (json) {
    print(JSON.stringify({ files: files.length, rows, problems, stoppedEarly: stopped }, null, 2) + '\n');
  } else {
    for (const p of problems) print(`${p.message}\n`);
    for (const file of stopped) print(`stopped reading ${file} at its ${MAX_FILE_ERRORS}th problem: the rest of it is not checked\n`);
    print(`${files.length} file(s), ${rows} valid row(s), ${problems.length} problem(s)${stopped.length > 0 ? ' (or more)' : ''}\n`);
  }
  return problems.length > 0 ? EXIT_FAILURE : 0;
}

function toProblem(e: TraceError): Problem {
  return { file: e.file, line: e.line, record: e.record, field: e.field, message: e.message };
}

export interface TraceInfo {
  file: string;
  meta: TraceMeta['fields'];
  comments: string[];
  events: number;
  byOp: Record<string, number>;
  /** Lowest gpa and highest gpa + size touched by any row with a gpa, as 0x hex; null if none. */
  gpaSpan: { start: string; end: string } | null;
}

/** `convert`: streams IN to OUT (formats by extension), one chunk in memory at a time. */
export async function convertTrace(input: string, output: string, options: S2tWriteOptions = {}): Promise<void> {
  traceKind(output); // a usage error before any file is touched
  const trace = await openTrace(input);
  try {
    await writeTrace(output, trace.meta, trace.chunks(), options);
  } finally {
    await trace.close();
  }
}

/** `info`: one pass over the chunks; sizes are added as bigint, so an absurd size costs nothing. */
export async function traceInfo(file: string): Promise<TraceInfo> {
  const trace = await openTrace(file);
  try {
    return await infoOf(file, trace);
  } finally {
    await trace.close();
  }
}

async function infoOf(file: string, trace: OpenTrace): Promise<TraceInfo> {
  const counts = new Float64Array(OPS.length);
  let events = 0;
  // The span as plain numbers while gpa and size are below 2^52 (their sum is then exact), as bigint
  // past that: a bigint per row would cost more than reading the row.
  let loN = Infinity;
  let hiN = -Infinity;
  let lo: bigint | null = null;
  let hi: bigint | null = null;
  for await (const chunk of trace.chunks()) {
    for (let i = 0; i < chunk.length; i++) {
      counts[chunk.op[i]!]!++;
      if ((chunk.present[i]! & (1 << F_GPA)) === 0) continue;
      const hasSize = (chunk.present[i]! & (1 << F_SIZE)) !== 0;
      if (chunk.gpaHi[i]! < 0x100000 && (!hasSize || chunk.sizeHi[i]! < 0x100000)) {
        const gpa = chunk.gpaHi[i]! * 0x1_0000_0000 + chunk.gpaLo[i]!;
        const end = gpa + (hasSize ? chunk.sizeHi[i]! * 0x1_0000_0000 + chunk.sizeLo[i]! : 1);
        if (gpa < loN) loN = gpa;
        if (end > hiN) hiN = end;
        continue;
      }
      const gpa = u64(chunk.gpaHi, chunk.gpaLo, i);
      const size = hasSize ? u64(chunk.sizeHi, chunk.sizeLo, i) : 1n;
      if (lo === null || gpa < lo) lo = gpa;
      if (hi === null || gpa + size > hi) hi = gpa + size;
    }
    events += chunk.length;
  }
  if (loN !== Infinity && (lo === null || BigInt(loN) < lo)) lo = BigInt(loN);
  if (hiN !== -Infinity && (hi === null || BigInt(hiN) > hi)) hi = BigInt(hiN);
  const byOp: Record<string, number> = {};
  OPS.forEach((op, code) => {
    if (counts[code]! > 0) byOp[op] = counts[code]!;
  });
  return {
    file,
    meta: trace.meta.fields,
    comments: trace.meta.comments,
    events,
    byOp,
    gpaSpan: lo === null || hi === null ? null : { start: `0x${lo.toString(16)}`, end: `0x${hi.toString(16)}` },
  };
}

export function formatInfo(info: TraceInfo): string {
  const lines = [`${info.file}: ${info.events} events`];
  for (const [key, value] of Object.entries(info.meta)) lines.push(`  ${key}: ${value}`);
  lines.push(`  gpa span: ${info.gpaSpan ? `[${info.gpaSpan.start}, ${info.gpaSpan.end})` : 'none'}`);
  lines.push('  events by op:');
  for (const [op, n] of Object.entries(info.byOp)) lines.push(`    ${op.padEnd(18)} ${n}`);
  return lines.join('\n') + '\n';
}

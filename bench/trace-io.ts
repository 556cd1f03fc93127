// Trace I/O throughput and memory: generates a large synthetic CSV trace in a temporary directory, then
// measures CSV -> chunks, chunks -> s2t and s2t -> chunks, each phase in its own process so that its
// peak RSS is its own: a flat peak whatever the file size is what "bounded memory" means here.
//
//   npm run bench:trace-io [-- --mb 300 --keep --baseline]      (compiled)
//   npx tsx bench/trace-io.ts --mb 50                            (from source)
//
// --mb N       size of the generated CSV (default 300)
// --baseline   also time csv-parse alone (records as string arrays, no number parsing), for reference
// --keep       keep the temporary directory and print its path
//
// Each phase prints wall and CPU seconds; on a shared machine MB per CPU-second is the comparable one.

import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse';
import { openTrace, writeTrace } from '../src/trace/io.js';
import { TRACE_MAGIC_LINE, FIELDS, type TraceChunk } from '../src/trace/schema.js';

interface PhaseResult {
  phase: string;
  bytes: number;
  events: number;
  seconds: number;
  /** CPU time of the phase (user + system): on a shared machine, the figure that wall time is not. */
  cpuSeconds: number;
  peakRssMb: number;
}

const PHASES = ['csv-to-chunks', 'chunks-to-s2t', 's2t-to-chunks'] as const;
const POOL_CHUNKS = 16;

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}

/** A deterministic mix shaped like a recorded VM: mostly 4K accesses, some ioctls, every spelling. */
async function generateCsv(path: string, bytes: number): Promise<number> {
  const out = createWriteStream(path);
  const write = async (text: string): Promise<void> => {
    if (!out.write(text)) await once(out, 'drain');
  };
  await write(`${TRACE_MAGIC_LINE}\n# arch: x86_64\n# source: bench/trace-io.ts synthetic\n${FIELDS.join(',')}\n`);
  await write('memslot,,0x0,0x100000000,0,log,0x7f0000000000,,,,0\n');
  let written = 0;
  let rows = 1;
  let x = 2463534242;
  while (written < bytes) {
    let batch = '';
    for (let k = 0; k < 4096; k++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      const r = x >>> 0;
      const gpa = `0x${((r % 0x100000) * 0x1000).toString(16)}`;
      const kind = r >>> 28;
      if (kind < 9) batch += `read,${r & 7},${gpa},0x1000,,,,,,,ok\n`;
      else if (kind < 14) batch += `write,${r & 7},${gpa},0x1000,,,,,,,ok\n`;
      else if (kind < 15) batch += `exec,${r & 7},${gpa},4096,,,,,,,\n`;
      else if ((r & 0xff) === 0) batch += 'dirty_get,,,,0,,,,,,512\n';
      else batch += `attrs,,${gpa},0x200000,,,,,,private,0\n`;
    }
    rows += 4096;
    written += batch.length;
    await write(batch);
  }
  out.end();
  await once(out, 'finish');
  return rows;
}

async function csvToChunks(csv: string): Promise<number> {
  const trace = await openTrace(csv);
  let events = 0;
  for await (const chunk of trace.chunks()) events += chunk.length;
  return events;
}

/** CPU seconds (user + system) of this process since `start`. */
function cpuSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

/** The writer alone: the first chunks of the CSV, written over and over up to the CSV's event count. */
async function chunksToS2t(csv: string, s2t: string, events: number): Promise<{ seconds: number; cpuSeconds: number }> {
  const trace = await openTrace(csv);
  const pool: TraceChunk[] = [];
  for await (const chunk of trace.chunks()) {
    pool.push(chunk);
    if (pool.length === POOL_CHUNKS) break;
  }
  async function* repeated(): AsyncGenerator<TraceChunk> {
    let row = 0;
    for (let i = 0; row < events; i++) {
      const chunk = pool[i % pool.length]!;
      const length = Math.min(chunk.length, events - row);
      yield { ...chunk, firstRow: row, length };
      row += length;
    }
  }
  const start = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  await writeTrace(s2t, trace.meta, repeated());
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, cpuSeconds: cpuSince(cpuStart) };
}

async function s2tToChunks(s2t: string): Promise<number> {
  const trace = await openTrace(s2t);
  let events = 0;
  for await (const chunk of trace.chunks()) events += chunk.length;
  return events;
}

async function csvParseBaseline(csv: string): Promise<number> {
  let records = 0;
  const parser = createReadStream(csv, { highWaterMark: 1 << 20 }).pipe(parse({ comment: '#', relax_column_count: true }));
  for await (const record of parser) if ((record as string[]).length > 0) records++;
  return records - 1; // the header
}

/** Runs in a child process: one phase, its figures as JSON on stdout. */
async function runPhase(phase: string, csv: string, s2t: string, events: number): Promise<void> {
  const start = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  let n = events;
  let seconds: number | undefined;
  let cpuSeconds: number | undefined;
  let file = csv;
  if (phase === 'csv-to-chunks') n = await csvToChunks(csv);
  else if (phase === 'chunks-to-s2t') ({ seconds, cpuSeconds } = await chunksToS2t(csv, s2t, events)), (file = s2t);
  else if (phase === 's2t-to-chunks') (n = await s2tToChunks(s2t)), (file = s2t);
  else if (phase === 'csv-parse-baseline') n = await csvParseBaseline(csv);
  else throw new Error(`unknown phase ${phase}`);
  const result: PhaseResult = {
    phase,
    bytes: (await stat(file)).size,
    events: n,
    seconds: seconds ?? Number(process.hrtime.bigint() - start) / 1e9,
    cpuSeconds: cpuSeconds ?? cpuSince(cpuStart),
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  };
  process.stdout.write(JSON.stringify(result) + '\n');
}

function child(phase: string, csv: string, s2t: string, events: number): PhaseResult {
  const self = fileURLToPath(import.meta.url);
  const run = spawnSync(process.execPath, [...process.execArgv, self, '--phase', phase, csv, s2t, String(events)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (run.status !== 0) throw new Error(`phase ${phase} failed (exit ${run.status})`);
  return JSON.parse(run.stdout.trim().split('\n').pop()!) as PhaseResult;
}

async function main(): Promise<void> {
  const phase = option('phase');
  if (phase !== undefined) {
    const [csv, s2t, events] = process.argv.slice(process.argv.indexOf('--phase') + 2);
    await runPhase(phase, csv!, s2t!, Number(events));
    return;
  }
  const mb = Number(option('mb') ?? 300);
  const dir = await mkdtemp(join(tmpdir(), 's2bench-trace-io-'));
  const csv = join(dir, 'synthetic.csv');
  const s2t = join(dir, 'synthetic.s2t');
  try {
    process.stdout.write(`generating ${mb} MB of CSV in ${dir} ...\n`);
    const events = await generateCsv(csv, mb * 1e6);
    const phases: string[] = [...PHASES];
    if (process.argv.includes('--baseline')) phases.unshift('csv-parse-baseline');
    process.stdout.write(`${'phase'.padEnd(20)} ${'file MB'.padStart(8)} ${'events'.padStart(10)} ${'s'.padStart(7)} ${'MB/s'.padStart(8)} ${'CPU s'.padStart(7)} ${'MB/CPU-s'.padStart(9)} ${'Mevents/s'.padStart(10)} ${'peak RSS MB'.padStart(12)}\n`);
    for (const name of phases) {
      const r = child(name, csv, s2t, events);
      const line = [
        r.phase.padEnd(20),
        (r.bytes / 1e6).toFixed(1).padStart(8),
        String(r.events).padStart(10),
        r.seconds.toFixed(2).padStart(7),
        (r.bytes / 1e6 / r.seconds).toFixed(1).padStart(8),
        r.cpuSeconds.toFixed(2).padStart(7),
        (r.bytes / 1e6 / r.cpuSeconds).toFixed(1).padStart(9),
        (r.events / 1e6 / r.seconds).toFixed(2).padStart(10),
        r.peakRssMb.toFixed(0).padStart(12),
      ];
      process.stdout.write(line.join(' ') + '\n');
    }
  } finally {
    if (process.argv.includes('--keep')) process.stdout.write(`kept ${dir}\n`);
    else await rm(dir, { recursive: true, force: true });
  }
}

await main();

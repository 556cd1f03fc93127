// Child process of test/replay/streaming-memory.test.ts: does one thing to a trace and prints its
// peak resident set (maxRSS, KiB) as JSON, so that each measurement starts from a fresh process.
//   node rss-child.js gen OUT.s2t EVENTS GUEST_GIB    write a `scale` trace
//   node rss-child.js gen-named NAME OUT.s2t JSON     write generator NAME's trace for options JSON, as `gen` does
//   node rss-child.js replay TRACE                    replay it (streamed, as `s2bench replay` does)
//   node rss-child.js import-strace IN OUT            `s2bench import strace IN -o OUT` in this process

import { replayFile } from '../../src/replay/engine.js';
import { findGenerator, type GeneratorValues } from '../../src/trace/generators/index.js';
import type { TraceChunk } from '../../src/trace/schema.js';
import { runCli } from '../../src/cli/program.js';
import { openTrace, writeTrace } from '../../src/trace/io.js';

const [mode, path, events, guest] = process.argv.slice(2);
let rows = 0;
if (mode === 'gen') {
  const trace = findGenerator('scale')!.generate({ events: Number(events), guestGiB: Number(guest) });
  await writeTrace(path!, trace.meta, trace.chunks!());
  rows = Number(events);
} else if (mode === 'gen-named') {
  const [, name, out, values] = process.argv.slice(2);
  const trace = findGenerator(name!)!.generate(JSON.parse(values!) as GeneratorValues);
  await writeTrace(out!, trace.meta, counted(trace.chunks!({ reuse: true })));
} else if (mode === 'replay') {
  const result = await replayFile(path!);
  rows = result.counters['events']!;
  if (result.divergences.length > 0) throw new Error(`${path}: ${result.divergences.length} divergence(s)`);
} else if (mode === 'import-strace') {
  const code = await runCli([process.execPath, 's2bench', 'import', 'strace', path!, '-o', events!, '--quiet']);
  if (code !== 0) throw new Error(`import strace ${path}: exit ${code}`);
  const trace = await openTrace(events!);
  for await (const chunk of trace.chunks()) rows += chunk.length;
  await trace.close();
} else {
  throw new Error(`unknown mode ${mode}`);
}

/** The chunks, adding each one's rows to `rows` as it is taken (before the next reuses its buffer). */
function* counted(chunks: Iterable<TraceChunk>): Generator<TraceChunk> {
  for (const chunk of chunks) {
    rows += chunk.length;
    yield chunk;
  }
}

process.stdout.write(`${JSON.stringify({ rows, maxRssKiB: process.resourceUsage().maxRSS })}\n`);

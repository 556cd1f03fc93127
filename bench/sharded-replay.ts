// Sharded vs single-thread replay of one trace (default: the largest shipped trace).
//   npm run build && node dist/bench/sharded-replay.js [TRACE] [--shards N] [--workers N] [--runs N]
// The sharded time includes planning the shards, moving them to the workers and merging; the pool's
// threads are started once, before timing. The counters of both runs are compared too.

import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { replayTrace } from '../src/replay/engine.js';
import { median } from '../src/report/stats.js';
import { newShardPool, replaySharded } from '../src/replay/sharded.js';
import { readTrace } from '../src/trace/io.js';
import { packageRoot } from '../src/package-info.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    shards: { type: 'string', default: '4' },
    workers: { type: 'string', default: String(availableParallelism()) },
    runs: { type: 'string', default: '5' },
  },
});
const path = positionals[0] ?? join(packageRoot(), 'traces', 'migration', 'dirty-log-2g.csv');
const shards = Number(values.shards);
const workers = Number(values.workers);
const runs = Number(values.runs);


const trace = await readTrace(path);
// One pool for all runs, as a suite would keep it: thread start-up is not part of a replay.
const pool = newShardPool(workers);
const single: number[] = [];
const sharded: number[] = [];
let same = true;
for (let r = 0; r < runs + 1; r++) {
  let t = performance.now();
  const whole = replayTrace(trace);
  const tSingle = performance.now() - t;
  t = performance.now();
  const split = await replaySharded(trace, shards, { workers, pool });
  const tSharded = performance.now() - t;
  if (split.unshardable) throw new Error(`${path} cannot be sharded: ${split.unshardable}`);
  same &&= JSON.stringify(whole.counters) === JSON.stringify(split.counters);
  if (r === 0) continue; // warm-up
  single.push(tSingle);
  sharded.push(tSharded);
}
console.log(`${path}: ${trace.chunks.reduce((n, c) => n + c.length, 0)} rows`);
console.log(`single thread: ${median(single).toFixed(1)} ms (median of ${runs})`);
console.log(`${shards} shards on ${workers} workers: ${median(sharded).toFixed(1)} ms (median of ${runs}), speed-up ${(median(single) / median(sharded)).toFixed(2)}x`);
console.log(`merged counters equal the single-thread run: ${same}`);
await pool.destroy();

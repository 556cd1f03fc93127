// Micro-benchmarks of the core model (tinybench): the cases `s2bench bench` times (gfn -> slot lookup,
// hits, 4K and 2M faults, zap of a 4K-mapped 1 GiB range), plus the deliberately simple reference model
// of the property tests on the same hit and fault sequences, to show what the typed-array core buys.
//
//   npm run bench:core            (compiled)     npx tsx bench/core.bench.ts   (from source)

import { Bench } from 'tinybench';
import { BATCH, FAULT_WINDOW_PAGES, HIT_SET_PAGES, randomInts } from '../src/microbench/micro-cases.js';
import { runMicro, type MicroFigure } from '../src/microbench/micro.js';
import { ACCESS_READ, ACCESS_WRITE } from '../src/core/outcome.js';
import { DEFAULT_PROFILE } from '../src/core/profile.js';
import { ReferenceVm } from './reference-model.js';

const HVA_PAGE = 0x7f0000000;
const SLOT_PAGES = 2 ** 26; // as in src/microbench/micro-cases.ts

function referenceVm(): ReferenceVm {
  const ref = new ReferenceVm();
  if (ref.setUserMemoryRegion(0, 0, 0, SLOT_PAGES * 4096, HVA_PAGE * 4096) !== 0) throw new Error('reference slot');
  return ref;
}

function referenceHitTask(): () => void {
  const ref = referenceVm();
  const gfns = randomInts(BATCH, HIT_SET_PAGES);
  for (let i = 0; i < BATCH; i++) ref.access(gfns[i]!, ACCESS_READ);
  return () => {
    for (let i = 0; i < BATCH; i++) ref.access(gfns[i]!, ACCESS_READ);
  };
}

function referenceFaultTask(): () => void {
  const ref = referenceVm();
  let next = 0;
  let windowStart = 0;
  return () => {
    if (next - windowStart >= FAULT_WINDOW_PAGES) {
      ref.unmapHva(HVA_PAGE + windowStart, next - windowStart);
      windowStart = next;
    }
    for (let i = 0; i < BATCH; i++) ref.access(next++, ACCESS_WRITE);
  };
}

async function runReference(time: number): Promise<Map<string, number>> {
  const bench = new Bench({ time, warmupTime: 100 });
  bench.add('reference.access.hit_4k', referenceHitTask());
  bench.add('reference.fault.4k', referenceFaultTask());
  await bench.run();
  const nsPerOp = new Map<string, number>();
  for (const task of bench.tasks) {
    const r = task.result;
    if (r.state !== 'completed') throw new Error(`benchmark ${task.name} did not complete: ${r.state}`);
    nsPerOp.set(task.name, (r.latency.p50 * 1e6) / BATCH);
  }
  return nsPerOp;
}

function format(core: MicroFigure[], reference: Map<string, number>): string {
  const lines = core.map((f) => `${f.name.padEnd(26)} ${f.nsPerOp.toFixed(1).padStart(10)} ns/op ${(f.opsPerSecond / 1e6).toFixed(2).padStart(10)} M ops/s`);
  for (const [name, ns] of reference) lines.push(`${name.padEnd(26)} ${ns.toFixed(1).padStart(10)} ns/op ${(1e3 / ns).toFixed(2).padStart(10)} M ops/s`);
  const ns = (name: string): number => core.find((f) => f.name === name)!.nsPerOp;
  const ratio = (coreName: string, refName: string): string => (reference.get(refName)! / ns(coreName)).toFixed(1);
  lines.push(`core vs reference: hits ${ratio('access.hit_4k', 'reference.access.hit_4k')}x, 4K faults ${ratio('fault.4k', 'reference.fault.4k')}x`);
  return lines.join('\n');
}

const time = 500;
const core = await runMicro(DEFAULT_PROFILE, { timeMs: time });
const reference = await runReference(time);
process.stdout.write(`${format(core, reference)}\n`);

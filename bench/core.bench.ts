// Micro-benchmarks of the core model (tinybench): gfn -> slot lookup, hits, 4K and 2M faults, zap of a
// 4K-mapped 1 GiB range, and the simple reference model on the same sequences. tinybench times one
// call per sample, so each call runs a batch of BATCH operations and figures are divided by it.
//
//   npm run bench:core            (compiled)     npx tsx bench/core.bench.ts   (from source)

import { Bench } from 'tinybench';
import { BACKING_ANON, BACKING_THP } from '../src/core/hostmm.js';
import { Memslots } from '../src/core/memslots.js';
import { ACCESS_READ, ACCESS_WRITE } from '../src/core/outcome.js';
import { DEFAULT_PROFILE } from '../src/core/profile.js';
import { Vm } from '../src/core/vm.js';
import { ReferenceVm } from '../test/core/reference-model.js';

const BATCH = 10_000;
const HVA = 0x7f0000000000n;
const HVA_PAGE = 0x7f0000000;
const SLOT_PAGES = 2 ** 28; // 1 TiB
const GIB_PAGES = 2 ** 18;

export interface MicroResult {
  name: string;
  nsPerOp: number;
  opsPerSec: number;
}

/** A deterministic pseudo-random sequence (xorshift32), so every run measures the same work. */
function randomInts(n: number, mod: number, seed = 2463534242): Float64Array {
  const out = new Float64Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = (x >>> 0) % mod;
  }
  return out;
}

function lookupTask(nslots: number): () => void {
  const slots = new Memslots();
  // nslots slots of 512 pages each with a 512-page hole after each one.
  for (let id = 0; id < nslots; id++) slots.install(id, id * 1024, 512, 0, HVA_PAGE + id * 512);
  const gfns = randomInts(BATCH, nslots * 1024);
  let sink = 0;
  return () => {
    for (let i = 0; i < BATCH; i++) sink += slots.lookup(0, gfns[i]!);
    if (sink === 0.5) throw new Error('unreachable');
  };
}

function bigSlotVm(kind: number): Vm {
  const vm = new Vm(DEFAULT_PROFILE);
  vm.setBacking(HVA, BigInt(SLOT_PAGES) << 12n, kind);
  vm.setUserMemoryRegion2(0, 0, 0n, BigInt(SLOT_PAGES) << 12n, HVA, -1, 0n);
  return vm;
}

function hitTask(): () => void {
  const vm = bigSlotVm(BACKING_ANON);
  const gfns = randomInts(BATCH, 1 << 20);
  for (let i = 0; i < BATCH; i++) vm.access(0, gfns[i]!, ACCESS_READ, 0);
  return () => {
    for (let i = 0; i < BATCH; i++) vm.access(0, gfns[i]!, ACCESS_READ, 0);
  };
}

/** Faults on fresh pages, `stride` pages apart; wraps (zapping everything) when the slot is used up. */
function faultTask(kind: number, stride: number): () => void {
  const vm = bigSlotVm(kind);
  let next = 0;
  return () => {
    if (next + BATCH * stride > SLOT_PAGES) {
      vm.unmapHva(HVA, BigInt(SLOT_PAGES) << 12n);
      next = 0;
    }
    for (let i = 0; i < BATCH; i++) {
      vm.access(0, next, ACCESS_WRITE, 0);
      next += stride;
    }
  };
}

function referenceHitTask(): () => void {
  const ref = new ReferenceVm();
  ref.setUserMemoryRegion(0, 0, 0, SLOT_PAGES * 4096, HVA_PAGE * 4096);
  const gfns = randomInts(BATCH, 1 << 20);
  for (let i = 0; i < BATCH; i++) ref.access(gfns[i]!, ACCESS_READ);
  return () => {
    for (let i = 0; i < BATCH; i++) ref.access(gfns[i]!, ACCESS_READ);
  };
}

function referenceFaultTask(): () => void {
  const ref = new ReferenceVm();
  ref.setUserMemoryRegion(0, 0, 0, SLOT_PAGES * 4096, HVA_PAGE * 4096);
  let next = 0;
  return () => {
    if (next + BATCH > 4 * BATCH) {
      ref.leaves.clear(); // keep the Map small, as the core's tree is kept bounded
      next = 0;
    }
    for (let i = 0; i < BATCH; i++) ref.access(next++, ACCESS_WRITE);
  };
}

export async function runCoreBenchmarks(time = 500): Promise<MicroResult[]> {
  const bench = new Bench({ time, warmupTime: 100 });
  const perCall = new Map<string, number>();
  const add = (name: string, ops: number, fn: () => void, opts?: Parameters<Bench['add']>[2]): void => {
    perCall.set(name, ops);
    bench.add(name, fn, opts);
  };
  for (const n of [1, 16, 512, 32764]) add(`lookup.slots_${n}`, BATCH, lookupTask(n));
  add('access.hit_4k', BATCH, hitTask());
  add('fault.4k', BATCH, faultTask(BACKING_ANON, 1));
  add('fault.2m', BATCH, faultTask(BACKING_ANON | BACKING_THP, 512));
  add('reference.access.hit_4k', BATCH, referenceHitTask());
  add('reference.fault.4k', BATCH, referenceFaultTask());

  // Zap of a fully 4K-mapped 1 GiB range: the mapping is rebuilt before each timed zap.
  const zapVm = bigSlotVm(BACKING_ANON);
  add(
    'zap.1g_of_4k',
    GIB_PAGES,
    () => {
      zapVm.unmapHva(HVA, 1n << 30n);
    },
    {
      beforeEach() {
        for (let gfn = 0; gfn < GIB_PAGES; gfn++) zapVm.access(0, gfn, ACCESS_READ, 0);
      },
    },
  );

  await bench.run();
  const results: MicroResult[] = [];
  for (const task of bench.tasks) {
    const r = task.result;
    if (r.state !== 'completed') throw new Error(`benchmark ${task.name} did not complete: ${r.state}`);
    const ns = (r.latency.mean * 1e6) / perCall.get(task.name)!;
    results.push({ name: task.name, nsPerOp: ns, opsPerSec: 1e9 / ns });
  }
  return results;
}

function format(results: MicroResult[]): string {
  const byName = new Map(results.map((r) => [r.name, r]));
  const lines = results.map(
    (r) => `${r.name.padEnd(26)} ${r.nsPerOp.toFixed(1).padStart(10)} ns/op ${(r.opsPerSec / 1e6).toFixed(2).padStart(10)} M ops/s`,
  );
  const ratio = (core: string, ref: string): string =>
    (byName.get(ref)!.nsPerOp / byName.get(core)!.nsPerOp).toFixed(1);
  lines.push(`core vs reference: hits ${ratio('access.hit_4k', 'reference.access.hit_4k')}x, 4K faults ${ratio('fault.4k', 'reference.fault.4k')}x`);
  return lines.join('\n');
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/').split('/').pop()!);
if (invokedDirectly) {
  const results = await runCoreBenchmarks();
  process.stdout.write(`${format(results)}\n`);
}

// Private/shared conversion costs and throughput.
//
// 1. Cost distributions of 4K conversions inside huge guest_memfd folios: a 1 GiB private region
//    mapped huge (2M folios, or one 1G folio), then CONVERSIONS times: a random 4K page converted to
//    shared, back to private, and touched again as private (which maps it huge again). Reported per
//    direction as p50/p99/max of leaves zapped, folio splits/merges, TLB flushes, and the model's time.
// 2. Throughput: replay of the `conversions` generator's default workload, in conversions/s (tinybench).
//
//   npm run bench:conversions            (compiled)     npx tsx bench/conversions.bench.ts   (from source)

import { Bench } from 'tinybench';

import { KVM_MEMORY_ATTRIBUTE_PRIVATE, KVM_MEM_GUEST_MEMFD } from '../src/core/abi.js';
import { nearestRank } from '../src/core/conversions.js';
import { BACKING_THP } from '../src/core/hostmm.js';
import { M } from '../src/core/metrics.js';
import { ACCESS_PRIVATE, ACCESS_WRITE } from '../src/core/outcome.js';
import { parseProfile } from '../src/core/profile.js';
import { Vm } from '../src/core/vm.js';
import { replayTrace } from '../src/replay/engine.js';
import { TraceBuilder } from '../src/trace/builder.js';
import { generateConversions } from '../src/trace/generators/conversions.js';

const GIB = 1n << 30n;
const GPA = GIB;
const HVA = 0x7f0000000000n;
const REGION_PAGES = 1 << 18;
const CONVERSIONS = 2000;

function costRun(profile: string, print: boolean): void {
  const vm = new Vm(parseProfile(profile));
  vm.createGuestMemfd(1, GIB, 0n);
  vm.setBacking(HVA, GIB, BACKING_THP);
  vm.setUserMemoryRegion2(0, KVM_MEM_GUEST_MEMFD, GPA, GIB, HVA, 1, 0n);
  vm.setMemoryAttributes(GPA, GIB, KVM_MEMORY_ATTRIBUTE_PRIVATE, 0n);
  const base = Number(GPA >> 12n);
  for (let p = 0; p < REGION_PAGES; p += 512) vm.access(0, base + p, ACCESS_WRITE, ACCESS_PRIVATE);
  let x = 2463534242;
  for (let i = 0; i < CONVERSIONS; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const page = (x >>> 0) % REGION_PAGES;
    const gpa = GPA + (BigInt(page) << 12n);
    vm.setMemoryAttributes(gpa, 0x1000n, 0n, 0n);
    vm.access(0, base + page, ACCESS_WRITE, 0); // the host's data, read as shared: a 4K leaf
    vm.setMemoryAttributes(gpa, 0x1000n, KVM_MEMORY_ATTRIBUTE_PRIVATE, 0n);
    vm.access(0, base + page, ACCESS_WRITE, ACCESS_PRIVATE);
  }
  const log = vm.conversions;
  for (const [dir, parity] of [
    ['to shared ', 1],
    ['to private', 0],
  ] as const) {
    const pick = (f: (i: number) => number): Float64Array => {
      const out: number[] = [];
      // Conversion 0 is the initial whole-region one; then shared/private alternate.
      for (let i = 1; i < log.count; i++) if (i % 2 === parity) out.push(f(i));
      return Float64Array.from(out).sort();
    };
    const col = (name: Parameters<typeof log.column>[0]) => log.column(name);
    const zaps = pick((i) => col('zaps4k')[i]! + col('zaps2m')[i]! + col('zaps1g')[i]!);
    const zaps1g = pick((i) => col('zaps1g')[i]!);
    const splits = pick((i) => col('splits')[i]!);
    const merges = pick((i) => col('merges')[i]!);
    const flushes = pick((i) => col('tlbFull')[i]! + col('tlbRange')[i]!);
    const ns = pick((i) => col('ns')[i]!);
    const d = (v: Float64Array, digits = 0): string =>
      `${nearestRank(v, 0.5).toFixed(digits)}/${nearestRank(v, 0.99).toFixed(digits)}/${v[v.length - 1]!.toFixed(digits)}`;
    if (!print) continue;
    console.log(
      `${profile.padEnd(38)} ${dir}  zaps ${d(zaps)} (1G ${d(zaps1g)})  splits ${d(splits)}  merges ${d(merges)}  ` +
        `flushes ${d(flushes)}  ns ${d(ns)}`,
    );
  }
}

const PROFILES = [
  'x86-tdp,gmem-folio=2m,gmem-split=minimal',
  'x86-tdp,gmem-folio=2m,gmem-split=4k',
  'x86-tdp,gmem-folio=1g,gmem-split=minimal',
  'x86-tdp,gmem-folio=1g,gmem-split=4k',
];
// Warm every path up first: otherwise whichever profile runs first pays for JIT compilation and looks
// about twice as slow as the others.
for (const profile of PROFILES) costRun(profile, false);
console.log(`4K conversions inside huge folios, ${CONVERSIONS} round trips, p50/p99/max per conversion:`);
for (const profile of PROFILES) costRun(profile, true);

// What the split policy costs later: after one 4K conversion to shared in the middle of the region,
// the guest touches every page of it again (the shared page as shared).
console.log('\nre-touching the 1 GiB region page by page after one 4K conversion in its middle:');
for (const profile of PROFILES) {
  const vm = new Vm(parseProfile(profile));
  vm.createGuestMemfd(1, GIB, 0n);
  vm.setBacking(HVA, GIB, BACKING_THP);
  vm.setUserMemoryRegion2(0, KVM_MEM_GUEST_MEMFD, GPA, GIB, HVA, 1, 0n);
  vm.setMemoryAttributes(GPA, GIB, KVM_MEMORY_ATTRIBUTE_PRIVATE, 0n);
  const base = Number(GPA >> 12n);
  const mid = REGION_PAGES / 2 + 128;
  vm.setMemoryAttributes(GPA + (BigInt(mid) << 12n), 0x1000n, 0n, 0n);
  for (let p = 0; p < REGION_PAGES; p++) vm.access(0, base + p, ACCESS_WRITE, p === mid ? 0 : ACCESS_PRIVATE);
  const c = vm.finish();
  console.log(
    `${profile.padEnd(38)} faults ${c[M.faults]}  leaves 4k/2m/1g ${c[M.leaves_4k]}/${c[M.leaves_2m]}/${c[M.leaves_1g]}`,
  );
}

const trace = generateConversions();
const builder = new TraceBuilder();
for (const row of trace.rows) builder.push(row);
const chunks = builder.finish();
let conversions = 0;
let events = 0;
const bench = new Bench({ iterations: 5, warmupIterations: 1 });
bench.add('replay conversions default workload', () => {
  const r = replayTrace({ meta: trace.meta, chunks }, parseProfile('x86-tdp'));
  if (r.divergences.length > 0) throw new Error(`divergence: ${JSON.stringify(r.divergences[0])}`);
  conversions = r.counters['conversions']!;
  events = r.counters['events']!;
});
await bench.run();
const task = bench.tasks[0]!;
const result = task.result as { latency?: { p50?: number; mean: number } } | undefined;
const ms = result?.latency?.p50 ?? result?.latency?.mean ?? Number.NaN;
console.log(
  `\ngenerator default workload (${trace.meta.fields['source']}): ${events} events, ${conversions} conversions; ` +
    `replay ${ms.toFixed(1)} ms (median of 5) -> ${Math.round(conversions / (ms / 1000))} conversions/s, ` +
    `${Math.round(events / (ms / 1000))} events/s`,
);

// The generators that write straight into chunk columns (docs/generators.md) against a plain
// reference: the same events as TraceRow objects, pushed one by one through the builder's object path,
// with nothing of the writer's arithmetic (gfns, access forms, chunk hand-over). The chunks must match
// column for column over several chunks, for a few seeds and parameter sets.

import { test } from 'node:test';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { TraceRow } from '../../src/trace/row.js';
import { assertWritesReference } from '../helpers/written-chunks.js';

const PAGE = 4096n;
const HVA = 0x7f0000000000n;
const GPA = 1n << 32n;

function* demandPaging(o: { vcpus: number; vcpuPages: number; chunkPages: number; uffd: boolean }): Generator<TraceRow> {
  const pages = BigInt(o.vcpus * o.vcpuPages);
  const per = BigInt(o.vcpuPages) * PAGE;
  yield { op: 'backing', hva: HVA, size: pages * PAGE, flags: 'anon' };
  yield { op: 'memslot', slot: 1, flags: '0', gpa: GPA, size: pages * PAGE, hva: HVA, ret: 0 };
  for (let v = 0; o.uffd && v < o.vcpus; v++) yield { op: 'uffd', hva: HVA + BigInt(v) * per, size: per, flags: 'page' };
  for (let start = 0; start < o.vcpuPages; start += o.chunkPages) {
    for (let v = 0; v < o.vcpus; v++) {
      const n = Math.min(o.chunkPages, o.vcpuPages - start);
      yield { op: 'write', vcpu: v, gpa: GPA + BigInt(v) * per + BigInt(start) * PAGE, size: BigInt(n) * PAGE, ret: 'ok' };
    }
  }
  yield { op: 'expect', flags: 'leaves.4k', ret: Number(pages) };
  yield { op: 'expect', flags: 'uffd.faults', ret: o.uffd ? Number(pages) : 0 };
}

function* dirtyLog(o: { seed: number; vcpus: number; vcpuPages: number; iterations: number; writePercent: number; clear: boolean; backing: string }): Generator<TraceRow> {
  const rng = xoroshiro128plus(o.seed);
  const pages = o.vcpus * o.vcpuPages;
  const size = BigInt(pages) * PAGE;
  const base = (v: number): bigint => GPA + BigInt(v * o.vcpuPages) * PAGE;
  yield { op: 'backing', hva: HVA, size, flags: o.backing };
  yield { op: 'memslot', slot: 1, flags: '0', gpa: GPA, size, hva: HVA, ret: 0 };
  for (let v = 0; v < o.vcpus; v++) yield { op: 'write', vcpu: v, gpa: base(v), size: BigInt(o.vcpuPages) * PAGE, ret: 'ok' };
  yield { op: 'memslot', slot: 1, flags: 'log', gpa: GPA, size, hva: HVA, ret: 0 };
  for (let it = 0; it < o.iterations; it++) {
    let written = 0;
    for (let v = 0; v < o.vcpus; v++) {
      // Each page's kind first, then the runs of equal kind as rows.
      const kinds = Array.from({ length: o.vcpuPages }, () => o.writePercent === 100 || uniformInt(rng, 0, 99) < o.writePercent);
      written += kinds.filter(Boolean).length;
      for (let p = 0; p < o.vcpuPages; ) {
        let end = p + 1;
        while (end < o.vcpuPages && kinds[end] === kinds[p]) end++;
        yield { op: kinds[p] ? 'write' : 'read', vcpu: v, gpa: base(v) + BigInt(p) * PAGE, size: BigInt(end - p) * PAGE, ret: 'ok' };
        p = end;
      }
    }
    yield { op: 'dirty_get', slot: 1, ret: written };
    if (o.clear) yield { op: 'dirty_clear', slot: 1, offset: 0n, size: BigInt(pages), ret: 0 };
  }
  if (o.iterations > 0 && o.writePercent === 100) yield { op: 'expect', flags: 'mapped.2m', ret: 0 };
}

function* memslots(o: { seed: number; slots: number; slotPages: number; moves: number; accesses: number }): Generator<TraceRow> {
  const rng = xoroshiro128plus(o.seed);
  const slotSize = BigInt(o.slotPages) * PAGE;
  const at = (s: number): bigint => GPA + BigInt(s) * slotSize;
  const hva = (s: number): bigint => HVA + BigInt(s) * slotSize;
  const total = o.slots * o.slotPages;
  const half = Math.floor(o.slotPages / 2);
  yield { op: 'backing', hva: HVA, size: slotSize * BigInt(o.slots), flags: 'anon' };
  for (let s = 0; s < o.slots; s++) yield { op: 'memslot', slot: s, flags: '0', gpa: at(s), size: slotSize, hva: hva(s), ret: 0 };
  for (let s = 0; s < o.slots; s++) yield { op: 'write', vcpu: 0, gpa: at(s), size: slotSize, ret: 'ok' };
  yield { op: 'expect', flags: 'leaves.4k', ret: total };
  yield { op: 'expect', flags: 'mapped.4k', ret: total * 4096 };
  if (half > 0) {
    for (let s = 0; s < o.slots; s++) yield { op: 'unmap_hva', hva: hva(s), size: BigInt(half) * PAGE };
    yield { op: 'expect', flags: 'mapped.4k', ret: (total - o.slots * half) * 4096 };
    for (let s = 0; s < o.slots; s++) yield { op: 'write', vcpu: 0, gpa: at(s), size: BigInt(half) * PAGE, ret: 'ok' };
    yield { op: 'expect', flags: 'mapped.4k', ret: total * 4096 };
  }
  const last = o.slots - 1;
  for (let m = 0; m < o.moves; m++) {
    const [to, from] = m % 2 === 0 ? [at(o.slots), at(last)] : [at(last), at(o.slots)];
    yield { op: 'memslot', slot: last, flags: '0', gpa: to, size: slotSize, hva: hva(last), ret: 0 };
    yield { op: 'read', vcpu: 0, gpa: to, size: PAGE, ret: 'ok' };
    yield { op: 'read', vcpu: 0, gpa: from, size: PAGE, ret: 'mmio' };
  }
  for (let a = 0; a < o.accesses; a++) {
    const page = uniformInt(rng, 0, total - 1);
    const s = Math.floor(page / o.slotPages);
    const slotAt = s === last && o.moves % 2 === 1 ? at(o.slots) : at(s);
    yield { op: uniformInt(rng, 0, 1) === 0 ? 'read' : 'write', vcpu: 0, gpa: slotAt + BigInt(page % o.slotPages) * PAGE, size: PAGE, ret: 'ok' };
  }
  yield { op: 'expect', flags: 'exits.mmio', ret: o.moves };
}

test('demand-paging writes exactly the rows of its plain reference', () => {
  for (const o of [
    { vcpus: 4, vcpuPages: 40000, chunkPages: 1, uffd: true },
    { vcpus: 3, vcpuPages: 700001, chunkPages: 7, uffd: false },
  ]) {
    assertWritesReference('demand-paging', { ...o, seed: 1 }, demandPaging(o));
  }
});

test('dirty-log writes exactly the rows of its plain reference', () => {
  for (const o of [
    { seed: 1, vcpus: 2, vcpuPages: 60000, iterations: 2, writePercent: 50, clear: true, backing: 'anon' },
    { seed: 9, vcpus: 5, vcpuPages: 60011, iterations: 3, writePercent: 93, clear: false, backing: 'thp' },
    { seed: 4, vcpus: 1, vcpuPages: 1500000, iterations: 1, writePercent: 3, clear: true, backing: 'hugetlb2m' },
  ]) {
    assertWritesReference('dirty-log', o, dirtyLog(o));
  }
});

test('memslots writes exactly the rows of its plain reference', () => {
  for (const o of [
    { seed: 1, slots: 64, slotPages: 64, moves: 16, accesses: 150000 },
    { seed: 5, slots: 3000, slotPages: 3, moves: 40001, accesses: 1000 },
  ]) {
    assertWritesReference('memslots', o, memslots(o));
  }
});

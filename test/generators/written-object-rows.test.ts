// The generators that write their rows as objects a chunk at a time (conversions, vdpa, hypshare,
// boot: docs/generators.md) against a plain reference that lists the same events as one list of
// TraceRow objects, as they did before they streamed. The chunks must match column for column over
// several chunks, for a few seeds and parameter sets.

import { test } from 'node:test';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { HypShare, type HypShareMode } from '../../src/core/hypshare.js';
import { newCounters } from '../../src/core/metrics.js';
import type { TraceRow } from '../../src/trace/row.js';
import { assertWritesReference } from '../helpers/written-chunks.js';

const PAGE = 4096;
const HVA = 0x7f0000000000;
const big = BigInt;

function conversions(o: { seed: number; vcpus: number; size: number; granularity: number; rounds: number; punch: boolean }): TraceRow[] {
  const rng = xoroshiro128plus(o.seed);
  const data = 2 ** 32;
  const total = big(o.size * o.vcpus);
  const g = big(o.granularity);
  const rows: TraceRow[] = [
    { op: 'gmem_create', size: total, flags: 0n, fd: 1, ret: 0 },
    { op: 'backing', hva: big(HVA), size: total, flags: 'thp' },
    { op: 'memslot', slot: 0, flags: 'gmem', gpa: big(data), size: total, hva: big(HVA), fd: 1, offset: 0n, ret: 0 },
    { op: 'attrs', gpa: big(data), size: total, attrs: 'private', flags: 0n, ret: 0 },
  ];
  for (let v = 0; v < o.vcpus; v++) rows.push({ op: 'write', vcpu: v, gpa: big(data + v * o.size), size: big(o.size), flags: 'private', ret: 'ok' });
  for (let r = 0; r < o.rounds; r++) {
    for (let v = 0; v < o.vcpus; v++) {
      const base = data + v * o.size;
      const at = base + uniformInt(rng, 0, o.size / o.granularity - 1) * o.granularity;
      const gpa = big(at);
      rows.push({ op: 'write', vcpu: v, gpa, size: g, flags: 'private', ret: 'ok' });
      rows.push({ op: 'attrs', gpa, size: g, attrs: 0n, flags: 0n, ret: 0 });
      if (o.punch) rows.push({ op: 'gmem_punch', fd: 1, offset: big(at - data), size: g, ret: 0 });
      rows.push({ op: 'read', vcpu: v, gpa, size: big(PAGE), flags: 'private', ret: 'memfault' });
      rows.push({ op: 'host_write', hva: big(HVA + at - data), size: g });
      rows.push({ op: 'read', vcpu: v, gpa, size: g, ret: 'ok' });
      if (at > base) rows.push({ op: 'read', vcpu: v, gpa: big(at - PAGE), size: big(PAGE), flags: 'private', ret: 'ok' });
      if (at + o.granularity < base + o.size) rows.push({ op: 'read', vcpu: v, gpa: big(at + o.granularity), size: big(PAGE), flags: 'private', ret: 'ok' });
      rows.push({ op: 'read', vcpu: v, gpa, size: big(PAGE), ret: 'ok' });
      rows.push({ op: 'attrs', gpa, size: g, attrs: 'private', flags: 0n, ret: 0 });
      rows.push({ op: 'read', vcpu: v, gpa, size: big(PAGE), ret: 'memfault' });
      rows.push({ op: 'write', vcpu: v, gpa, size: g, flags: 'private', ret: 'ok' });
    }
  }
  rows.push({ op: 'expect', flags: 'conversions', ret: 1 + 2 * o.rounds * o.vcpus });
  rows.push({ op: 'expect', flags: 'exits.memfault', ret: 2 * o.rounds * o.vcpus });
  return rows;
}

interface Entry {
  asid: number;
  iova: number;
  size: number;
  hva: number;
  perm: 'rw' | 'ro';
}

function vdpa(o: { seed: number; ramMiB: number; rounds: number; batch: boolean; cvqAsid: boolean; kill: boolean }): TraceRow[] {
  const rng = xoroshiro128plus(o.seed);
  const MiB = 2 ** 20;
  const piece = 2 * MiB;
  const rows: TraceRow[] = [];
  const live: Entry[] = [];
  const map = (e: Entry): void => {
    rows.push({ op: 'iotlb_update', slot: e.asid, gpa: big(e.iova), size: big(e.size), hva: big(e.hva), flags: e.perm, ret: 0 });
    live.push(e);
  };
  const unmap = (e: Entry): void => {
    live.splice(live.indexOf(e), 1);
    rows.push({ op: 'iotlb_invalidate', slot: e.asid, gpa: big(e.iova), size: big(e.size), ret: 0 });
  };
  const batch = (op: 'iotlb_batch_begin' | 'iotlb_batch_end'): void => {
    if (o.batch) rows.push({ op, slot: 0, ret: 0 });
  };
  const ram = o.ramMiB * MiB;
  const low = Math.min(ram, 2048 * MiB);
  batch('iotlb_batch_begin');
  map({ asid: 0, iova: 0, size: 0xa0000, hva: HVA, perm: 'rw' });
  map({ asid: 0, iova: MiB, size: low - MiB, hva: HVA + MiB, perm: 'rw' });
  if (ram > low) map({ asid: 0, iova: 4096 * MiB, size: ram - low, hva: HVA + low, perm: 'rw' });
  map({ asid: 0, iova: 0xfffc0000, size: 0x40000, hva: 0x7e0000000000, perm: 'ro' });
  batch('iotlb_batch_end');
  if (o.cvqAsid) map({ asid: 1, iova: 0x100000000000, size: 0x2000, hva: 0x7d0000000000, perm: 'rw' });
  for (let r = 0; r < o.rounds; r++) {
    const ramEntries = live.filter((e) => e.asid === 0 && e.perm === 'rw').sort((a, b) => a.iova - b.iova);
    const joinable = ramEntries.filter((e, i) => i > 0 && ramEntries[i - 1]!.iova + ramEntries[i - 1]!.size === e.iova && ramEntries[i - 1]!.hva + ramEntries[i - 1]!.size === e.hva);
    batch('iotlb_batch_begin');
    if (joinable.length > 0 && uniformInt(rng, 0, 1) === 0) {
      const second = joinable[uniformInt(rng, 0, joinable.length - 1)]!;
      const first = ramEntries[ramEntries.indexOf(second) - 1]!;
      unmap(first);
      unmap(second);
      map({ ...first, size: first.size + second.size });
    } else {
      const victim = ramEntries[uniformInt(rng, 0, ramEntries.length - 1)]!;
      unmap(victim);
      const units = Math.floor(victim.size / piece);
      const parts = units <= 1 ? 1 : uniformInt(rng, 1, Math.min(4, units));
      let done = 0;
      for (let p = 0; p < parts; p++) {
        const take = p === parts - 1 ? undefined : uniformInt(rng, 1, units - done - (parts - 1 - p));
        const offset = done * piece;
        map({ ...victim, iova: victim.iova + offset, size: take === undefined ? victim.size - offset : take * piece, hva: victim.hva + offset });
        done += take ?? 0;
      }
    }
    batch('iotlb_batch_end');
  }
  rows.push({ op: 'expect', flags: 'iotlb.pinned', ret: live.reduce((n, e) => n + e.size / PAGE, 0) });
  rows.push({ op: 'expect', flags: 'iotlb.maps', ret: live.length });
  if (!o.kill) while (live.length > 0) unmap(live[live.length - 1]!);
  rows.push({ op: 'vdpa_close', ret: 0 });
  return rows;
}

function hypshare(o: { seed: number; ops: number; pfns: number; failRate: number; kernel: HypShareMode; teardown: boolean }): TraceRow[] {
  const rng = xoroshiro128plus(o.seed);
  const kernel = new HypShare(o.kernel, newCounters());
  const failPpm = Math.round(o.failRate * 1e6);
  const rows: TraceRow[] = [];
  const live: Array<{ pfn: number; pages: number }> = [];
  const hypercall = (op: 'share' | 'unshare', pfn: number): number => {
    const errno = uniformInt(rng, 0, 999_999) < failPpm ? (op === 'share' ? -1 : -16) : 0; // -EPERM, -EBUSY
    const ret = op === 'share' ? kernel.share(pfn, errno) : kernel.unshare(pfn, errno);
    rows.push({ op: `hyp_${op}`, gpa: big(pfn * PAGE), ret });
    return ret;
  };
  const unshare = (obj: { pfn: number; pages: number }): void => {
    for (let p = 0; p < obj.pages; p++) hypercall('unshare', obj.pfn + p);
  };
  for (let k = 0; k < o.ops; k++) {
    if (live.length > 0 && uniformInt(rng, 0, 1) === 0) {
      unshare(live.splice(uniformInt(rng, 0, live.length - 1), 1)[0]!);
      continue;
    }
    const pages = uniformInt(rng, 1, Math.min(4, o.pfns));
    const obj = { pfn: 0x80000 + uniformInt(rng, 0, o.pfns - pages), pages };
    let p = 0;
    while (p < pages && hypercall('share', obj.pfn + p) === 0) p++;
    if (p === pages) live.push(obj);
  }
  if (o.teardown) while (live.length > 0) unshare(live.pop()!);
  return rows;
}

function boot(o: { seed: number; ramMiB: number; frames: number; vgaKiB: number; backing: string }): TraceRow[] {
  const rng = xoroshiro128plus(o.seed);
  const KiB = 1024;
  const MiB = 1024 * KiB;
  const ram = o.ramMiB * MiB;
  const [ramHva, biosHva, optHva, vgaHva, vgaGpa] = [0x7f784be00000, 0x7f7c72200000, 0x7f7c72000000, 0x7f7c60000000, 0xfd000000];
  const slot = (slot: number, flags: string, gpa: number, size: number, hva: number): TraceRow => ({ op: 'memslot', slot, flags, gpa: big(gpa), size: big(size), hva: big(hva), ret: 0 });
  const access = (op: 'read' | 'write' | 'exec', gpa: number, size: number, ret: string): TraceRow => ({ op, vcpu: 0, gpa: big(gpa), size: big(size), ret });
  const rows: TraceRow[] = [
    { op: 'backing', hva: big(ramHva), size: big(ram), flags: o.backing },
    { op: 'backing', hva: big(biosHva), size: big(256 * KiB), flags: 'anon' },
    { op: 'backing', hva: big(optHva), size: big(128 * KiB), flags: 'anon' },
    { op: 'backing', hva: big(vgaHva), size: big(o.vgaKiB * KiB), flags: 'anon' },
    slot(0, '0', 0, ram, ramHva),
    slot(1, 'ro', 0xfffc0000, 256 * KiB, biosHva),
    slot(0, '0', 0, 0, ramHva),
    slot(0, '0', 0, 0xa0000, ramHva),
    slot(2, 'ro', 0xc0000, 128 * KiB, optHva),
    slot(3, 'ro', 0xe0000, 128 * KiB, biosHva + 128 * KiB),
    slot(4, '0', MiB, ram - MiB, ramHva + MiB),
    slot(5, 'log', vgaGpa, o.vgaKiB * KiB, vgaHva),
    access('exec', 0xfffff000, PAGE, 'ok'),
    access('read', 0xfffc0000, 256 * KiB, 'ok'),
    access('write', 0xffff0000, PAGE, 'mmio'),
    access('read', 0xa0000, PAGE, 'mmio'),
    access('read', 0xc0000, 128 * KiB, 'ok'),
    access('write', 0, 0xa0000, 'ok'),
  ];
  const pieces = Array.from({ length: o.ramMiB / 2 }, (_, k) => k * 2 * MiB);
  for (let i = pieces.length - 1; i > 0; i--) {
    const j = uniformInt(rng, 0, i);
    [pieces[i], pieces[j]] = [pieces[j]!, pieces[i]!];
  }
  for (const gpa of pieces) rows.push(access('write', Math.max(gpa, MiB), gpa + 2 * MiB - Math.max(gpa, MiB), 'ok'));
  const huge = o.backing !== 'anon';
  const hugePieces = o.ramMiB / 2 - 1;
  rows.push({ op: 'expect', flags: 'leaves.2m', ret: huge ? hugePieces : 0 });
  rows.push({ op: 'expect', flags: 'leaves.4k', ret: 512 + (huge ? 0 : hugePieces * 512) });
  rows.push({ op: 'expect', flags: 'mapped.2m', ret: huge ? hugePieces * 2 * MiB : 0 });
  const vgaPages = o.vgaKiB / 4;
  for (let f = 0; f < o.frames; f++) {
    const first = uniformInt(rng, 0, vgaPages - 1);
    const count = uniformInt(rng, 1, vgaPages - first);
    rows.push(access('write', vgaGpa + first * PAGE, count * PAGE, 'ok'));
    rows.push({ op: 'dirty_get', slot: 5, ret: count });
  }
  rows.push({ op: 'expect', flags: 'exits.mmio', ret: 2 });
  return rows;
}

test('conversions writes exactly the rows of its plain reference', () => {
  for (const o of [
    { seed: 1, vcpus: 4, size: 64 << 20, granularity: 4096, rounds: 4000, punch: false },
    { seed: 6, vcpus: 3, size: 8 << 20, granularity: 2 << 20, rounds: 4001, punch: true },
  ]) {
    assertWritesReference('conversions', o, conversions(o));
  }
});

test('vdpa writes exactly the rows of its plain reference', () => {
  for (const o of [
    { seed: 1, ramMiB: 4096, rounds: 26000, batch: true, cvqAsid: true, kill: false },
    { seed: 3, ramMiB: 1024, rounds: 40000, batch: false, cvqAsid: false, kill: true },
  ]) {
    assertWritesReference('vdpa', o, vdpa(o));
  }
});

test('hypshare writes exactly the rows of its plain reference', () => {
  for (const o of [
    { seed: 1, ops: 60000, pfns: 256, failRate: 0.02, kernel: 'v7.1' as const, teardown: true },
    { seed: 8, ops: 90000, pfns: 3, failRate: 0.3, kernel: 'fixed' as const, teardown: false },
  ]) {
    assertWritesReference('hypshare', o, hypshare(o));
  }
});

test('boot writes exactly the rows of its plain reference', () => {
  for (const o of [
    { seed: 1, ramMiB: 512, frames: 70000, vgaKiB: 1024, backing: 'thp' },
    { seed: 2, ramMiB: 3072, frames: 40000, vgaKiB: 64, backing: 'anon' },
  ]) {
    assertWritesReference('boot', o, boot(o));
  }
});

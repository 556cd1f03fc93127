// Regenerates the default suite under traces/ (run after `npm run build`):
//   node scripts/make-traces.mjs
// Each trace is deterministic, so running this again gives the same files byte for byte. Every trace
// says in `# profiles:` which profiles the suite runs it under, and in `# source:` how it was made.

import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { TraceBuilder } from '../dist/src/trace/builder.js';
import { writeTrace } from '../dist/src/trace/io.js';
import { generateConversions } from '../dist/src/trace/generators/conversions.js';
import { generateHypshare } from '../dist/src/trace/generators/hypshare.js';
import { generateVdpa } from '../dist/src/trace/generators/vdpa.js';

const ROOT = join(import.meta.dirname, '..', 'traces');
const KiB = 1024n;
const MiB = 1024n * KiB;
const GiB = 1024n * MiB;

/** Deterministic 32-bit LCG: the suite must not change between runs of this script. */
function lcg(seed) {
  let x = seed >>> 0;
  return (mod) => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x % mod;
  };
}

async function save(name, comments, rows) {
  const builder = new TraceBuilder();
  rows.forEach((row) => builder.push(row));
  const path = join(ROOT, `${name}.csv`);
  await mkdir(dirname(path), { recursive: true });
  const meta = { comments: ['# s2bench trace v1', ...comments], fields: {} };
  await writeTrace(path, meta, builder.finish());
  console.log(`${path}: ${rows.length} rows`);
}

/**
 * QEMU 7.2 booting a 512 MiB q35 guest: the memslot sequence of a real capture (KVM_SET_USER_MEMORY_REGION
 * as strace recorded it, every call answered 0), THP-backed RAM (QEMU madvises guest RAM MADV_HUGEPAGE),
 * then a guest that runs the firmware from the read-only BIOS ROM, writes low memory, loads and runs a
 * kernel at 1 MiB, touches page tables, pokes the read-only option ROM (an MMIO exit on x86) and the
 * local APIC (no memslot: MMIO).
 */
function bootRows() {
  const rows = [];
  const ram = 0x7f784be00000n;
  rows.push({ op: 'backing', hva: ram, size: 512n * MiB, flags: 'thp' });
  rows.push({ op: 'backing', hva: 0x7f7872000000n, size: 4n * MiB, flags: 'anon' });
  const slots = [
    [0, 0, 0n, 536870912n, 0x7f784be00000n], [1, 'ro', 0xfffc0000n, 262144n, 0x7f7872200000n],
    [0, 0, 0n, 0n, 0x7f784be00000n], [0, 0, 0n, 786432n, 0x7f784be00000n],
    [2, 'ro', 0xc0000n, 131072n, 0x7f7872000000n], [3, 'ro', 0xe0000n, 131072n, 0x7f7872220000n],
    [4, 0, 0x100000n, 535822336n, 0x7f784bf00000n], [0, 0, 0n, 0n, 0x7f784be00000n],
    [2, 0, 0xc0000n, 0n, 0x7f7872000000n], [3, 0, 0xe0000n, 0n, 0x7f7872220000n],
    [4, 0, 0x100000n, 0n, 0x7f784bf00000n], [0, 0, 0n, 851968n, 0x7f784be00000n],
    [2, 'ro', 0xd0000n, 65536n, 0x7f7872010000n], [3, 'ro', 0xe0000n, 65536n, 0x7f7872220000n],
    [4, 0, 0xf0000n, 535887872n, 0x7f784bef0000n], [0, 0, 0n, 0n, 0x7f784be00000n],
    [2, 0, 0xd0000n, 0n, 0x7f7872010000n], [3, 0, 0xe0000n, 0n, 0x7f7872220000n],
    [4, 0, 0xf0000n, 0n, 0x7f784bef0000n], [0, 0, 0n, 536870912n, 0x7f784be00000n],
    [0, 0, 0n, 0n, 0x7f784be00000n], [0, 0, 0n, 798720n, 0x7f784be00000n],
    [2, 0, 0xc3000n, 53248n, 0x7f784bec3000n], [3, 0, 0xd0000n, 131072n, 0x7f784bed0000n],
    [4, 0, 0xf0000n, 65536n, 0x7f784bef0000n], [5, 0, 0x100000n, 535822336n, 0x7f784bf00000n],
    [2, 0, 0xc3000n, 0n, 0x7f784bec3000n], [3, 0, 0xd0000n, 0n, 0x7f784bed0000n],
    [2, 0, 0xc3000n, 151552n, 0x7f784bec3000n], [3, 0, 0xe8000n, 32768n, 0x7f784bee8000n],
  ];
  for (const [slot, flags, gpa, size, hva] of slots) {
    rows.push({ op: 'memslot', slot, ...(flags ? { flags } : {}), gpa, size, hva, ret: 0 });
  }
  const rand = lcg(7);
  // Firmware: fetches from the reset vector and the BIOS ROM, reads of the legacy areas.
  rows.push({ op: 'exec', vcpu: 0, gpa: 0xfffff000n, ret: 'ok' });
  rows.push({ op: 'exec', vcpu: 0, gpa: 0xfffc0000n, size: 256n * KiB, ret: 'ok' });
  rows.push({ op: 'read', vcpu: 0, gpa: 0xe8000n, size: 32n * KiB, ret: 'ok' });
  rows.push({ op: 'write', vcpu: 0, gpa: 0x0n, size: 640n * KiB, ret: 'ok' });
  rows.push({ op: 'write', vcpu: 0, gpa: 0xfffc0000n, ret: 'mmio' }); // a write to the ROM: no write permission
  rows.push({ op: 'read', vcpu: 0, gpa: 0xfee00000n, ret: 'mmio' }); // local APIC: no memslot
  // Kernel: 32 MiB image at 1 MiB, executed; its page tables and data written.
  rows.push({ op: 'write', vcpu: 0, gpa: 0x100000n, size: 32n * MiB, ret: 'ok' });
  rows.push({ op: 'exec', vcpu: 0, gpa: 0x1000000n, size: 16n * MiB, ret: 'ok' });
  for (let i = 0; i < 4000; i++) {
    const vcpu = i % 2;
    const page = BigInt(0x100 + rand(0x1ff00 - 0x100));
    rows.push({ op: i % 3 === 0 ? 'read' : 'write', vcpu, gpa: page << 12n, ret: 'ok' });
  }
  for (let i = 0; i < 64; i++) rows.push({ op: 'read', vcpu: i % 2, gpa: 0xfee00000n + BigInt(i * 16), ret: 'mmio' });
  rows.push({ op: 'expect', flags: 'exits.mmio', ret: 66 });
  return rows;
}

/** demand_paging_test-like: 4 vCPUs, each sweeping its own 1 GiB; half THP, half plain anon. */
function demandPagingRows() {
  const rows = [];
  const hva = 0x7f0000000000n;
  rows.push({ op: 'backing', hva, size: 2n * GiB, flags: 'thp' });
  rows.push({ op: 'backing', hva: hva + 2n * GiB, size: 2n * GiB, flags: 'anon' });
  rows.push({ op: 'memslot', slot: 1, gpa: 4n * GiB, size: 4n * GiB, hva, ret: 0 });
  // Interleaved as the vCPUs run concurrently: one 2 MiB step of each vCPU in turn.
  for (let step = 0n; step < 512n; step++) {
    for (let v = 0n; v < 4n; v++) {
      rows.push({ op: 'write', vcpu: Number(v), gpa: 4n * GiB + v * GiB + step * 2n * MiB, size: 2n * MiB, ret: 'ok' });
    }
  }
  rows.push({ op: 'expect', flags: 'leaves.2m', ret: 1024 });
  rows.push({ op: 'expect', flags: 'leaves.4k', ret: 524288 });
  for (let v = 0n; v < 4n; v++) rows.push({ op: 'read', vcpu: Number(v), gpa: 4n * GiB + v * GiB, size: 64n * MiB, ret: 'ok' });
  return rows;
}

/** dirty_log_perf_test-like: populate 2 GiB, enable logging, iterations of writes and dirty_get. */
function dirtyLogRows() {
  const rows = [];
  const hva = 0x7f0000000000n;
  const gpa = 4n * GiB;
  rows.push({ op: 'backing', hva, size: 2n * GiB, flags: 'thp' });
  rows.push({ op: 'memslot', slot: 1, gpa, size: 2n * GiB, hva, ret: 0 });
  for (let v = 0n; v < 4n; v++) rows.push({ op: 'write', vcpu: Number(v), gpa: gpa + v * 512n * MiB, size: 512n * MiB, ret: 'ok' });
  rows.push({ op: 'expect', flags: 'leaves.2m', ret: 1024 });
  rows.push({ op: 'memslot', slot: 1, flags: 'log', gpa, size: 2n * GiB, hva, ret: 0 });
  const rand = lcg(42);
  for (let iteration = 0; iteration < 8; iteration++) {
    for (let i = 0; i < 8192; i++) {
      const page = BigInt(rand(1 << 19));
      rows.push({ op: 'write', vcpu: i % 4, gpa: gpa + (page << 12n), ret: 'ok' });
    }
    rows.push({ op: 'dirty_get', slot: 1 });
  }
  rows.push({ op: 'memslot', slot: 1, gpa, size: 2n * GiB, hva, ret: 0 });
  for (let v = 0n; v < 4n; v++) rows.push({ op: 'read', vcpu: Number(v), gpa: gpa + v * 512n * MiB, size: 512n * MiB, ret: 'ok' });
  return rows;
}

await save('boot/qemu72-q35-512m', [
  '# arch: x86_64',
  '# source: memslot sequence of a real QEMU 7.2 boot capture (strace); guest accesses modeled on a firmware and kernel boot',
  '# profiles: x86-tdp; x86-tdp,nx-huge-pages=on',
], bootRows());
await save('demand-paging/4vcpu-4g', [
  '# arch: x86_64',
  '# source: s2bench make-traces, modeled on demand_paging_test (4 vCPUs x 1 GiB; 2 GiB THP, 2 GiB anon)',
  '# profiles: x86-tdp; arm64-s2',
], demandPagingRows());
await save('migration/dirty-log-2g', [
  '# arch: x86_64',
  '# source: s2bench make-traces, modeled on dirty_log_perf_test (2 GiB THP, 8 iterations of 8192 writes)',
  '# profiles: x86-tdp; x86-tdp,eager-split=off',
], dirtyLogRows());

const conversions = generateConversions({ rounds: 256 });
await save('private/conversion-storm', [
  ...conversions.meta.comments.filter((c) => !c.startsWith('# s2bench trace') && !c.startsWith('# profile')),
  '# profiles: x86-tdp; x86-tdp,gmem-split=4k; x86-tdp,gmem-folio=1g',
], conversions.rows);

const vdpa = generateVdpa({ kill: true });
await save('vdpa/churn-then-kill', [
  ...vdpa.meta.comments.filter((c) => !c.startsWith('# s2bench trace') && !c.startsWith('# profile')),
  '# profiles: x86-tdp,vdpa-release=leaky; x86-tdp,vdpa-release=free-first; x86-tdp,vdpa-release=clean',
], vdpa.rows);

const hypshare = generateHypshare({});
await save('pkvm/hypshare-churn', [
  ...hypshare.meta.comments.filter((c) => !c.startsWith('# s2bench trace') && !c.startsWith('# profile')),
  '# profiles: arm64-s2,hypshare=v7.1; arm64-s2,hypshare=fixed',
], hypshare.rows);

// Generator `boot`: a QEMU-like guest boot, laid out as the recorded QEMU 7.2 capture of a 512 MiB q35
// guest does it (test/fixtures/strace/qemu72-minimal-512m.strace): all RAM in slot 0 and the
// 256 KiB BIOS ROM read-only at 0xfffc0000; then RAM re-split around the legacy holes - low RAM below
// the VGA window (0xa0000), read-only option-ROM and BIOS-shadow slots at 0xc0000 and 0xe0000, RAM from
// 1 MiB up; a VGA framebuffer slot with dirty logging (QEMU's display refresh reads its dirty log).
// Then the guest runs: it fetches from the reset vector, writes the ROM (an MMIO exit: the slot is
// read-only), probes the VGA window (no slot: MMIO), touches its RAM in 2 MiB pieces in a seeded
// order, and draws into the framebuffer between dirty-log reads. This is not a KVM selftest; it models
// the memslot churn every QEMU boot makes.

import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { TraceChunk } from '../schema.js';
import { choice, genMeta, int, PAGE_BYTES, writtenTrace, type GeneratedTrace, type OptionSpecs, type OptionValues } from './common.js';
import type { RowWriter } from './writer.js';

export const BOOT_OPTIONS = {
  seed: int(1, 'random seed (RAM touch order, frame contents)'),
  ramMiB: int(64, 'guest RAM in MiB (even)', { min: 2, max: 3072 }),
  frames: int(8, 'framebuffer updates, each followed by KVM_GET_DIRTY_LOG', { min: 0 }),
  vgaKiB: int(1024, 'framebuffer size in KiB (multiple of 4)', { min: 4 }),
  backing: choice(['anon', 'thp', 'hugetlb2m'], 'thp', 'host memory behind guest RAM'),
} satisfies OptionSpecs;
export type BootGenOptions = OptionValues<typeof BOOT_OPTIONS>;

const KiB = 1024n;
const MiB = 1024n * KiB;
// Host addresses in the style of the capture (RAM 2 MiB aligned, ROMs in their own mappings).
const RAM_HVA = 0x7f784be00000n;
// The capture's ROM and VGA hvas, moved 16 GiB up: at the capture's own addresses they lie inside
// guest RAM's hva range once RAM exceeds 322 MiB, and their `backing` rows would then override part of
// RAM's (a 2M piece of THP RAM turning into 4K anon pages).
const BIOS_HVA = 0x7f7c72200000n;
const OPTROM_HVA = 0x7f7c72000000n;
const VGA_HVA = 0x7f7c60000000n;
const BIOS_GPA = 0xfffc0000n;
const BIOS_SIZE = 256n * KiB;
const VGA_WINDOW = 0xa0000n;
const OPTROM_GPA = 0xc0000n;
const SHADOW_GPA = 0xe0000n;
const HIGH_GPA = 0x100000n;
/** Where QEMU's std-vga puts its VRAM BAR on q35. */
const VGA_GPA = 0xfd000000n;

export function generateBoot(o: BootGenOptions): GeneratedTrace {
  if (o.ramMiB % 2 !== 0) throw new RangeError(`boot: ramMiB must be even (got ${o.ramMiB})`);
  if (o.vgaKiB % 4 !== 0) throw new RangeError(`boot: vgaKiB must be a multiple of 4 (got ${o.vgaKiB})`);
  return writtenTrace(genMeta('boot', o), 'gen boot', (w) => write(o, w));
}

/** The rows, a chunk at a time: the frames are unbounded (docs/generators.md). */
function* write(o: BootGenOptions, w: RowWriter): Generator<TraceChunk> {
  const rng = xoroshiro128plus(o.seed);
  const ram = BigInt(o.ramMiB) * MiB;
  const vga = BigInt(o.vgaKiB) * KiB;
  const vgaPages = o.vgaKiB / 4;
  let mmio = 0;

  w.row({ op: 'backing', hva: RAM_HVA, size: ram, flags: o.backing });
  w.row({ op: 'backing', hva: BIOS_HVA, size: BIOS_SIZE, flags: 'anon' });
  w.row({ op: 'backing', hva: OPTROM_HVA, size: 128n * KiB, flags: 'anon' });
  w.row({ op: 'backing', hva: VGA_HVA, size: vga, flags: 'anon' });
  // As the capture's first two KVM_SET_USER_MEMORY_REGION calls.
  w.row({ op: 'memslot', slot: 0, flags: '0', gpa: 0n, size: ram, hva: RAM_HVA, ret: 0 });
  w.row({ op: 'memslot', slot: 1, flags: 'ro', gpa: BIOS_GPA, size: BIOS_SIZE, hva: BIOS_HVA, ret: 0 });
  // The re-split around the legacy holes (delete, then the pieces).
  w.row({ op: 'memslot', slot: 0, flags: '0', gpa: 0n, size: 0n, hva: RAM_HVA, ret: 0 });
  w.row({ op: 'memslot', slot: 0, flags: '0', gpa: 0n, size: VGA_WINDOW, hva: RAM_HVA, ret: 0 });
  w.row({ op: 'memslot', slot: 2, flags: 'ro', gpa: OPTROM_GPA, size: 128n * KiB, hva: OPTROM_HVA, ret: 0 });
  w.row({ op: 'memslot', slot: 3, flags: 'ro', gpa: SHADOW_GPA, size: 128n * KiB, hva: BIOS_HVA + 128n * KiB, ret: 0 });
  w.row({ op: 'memslot', slot: 4, flags: '0', gpa: HIGH_GPA, size: ram - HIGH_GPA, hva: RAM_HVA + HIGH_GPA, ret: 0 });
  w.row({ op: 'memslot', slot: 5, flags: 'log', gpa: VGA_GPA, size: vga, hva: VGA_HVA, ret: 0 });

  // Reset vector, then SeaBIOS running from ROM and trying to write it.
  w.row({ op: 'exec', vcpu: 0, gpa: 0xfffff000n, size: PAGE_BYTES, ret: 'ok' });
  w.row({ op: 'read', vcpu: 0, gpa: BIOS_GPA, size: BIOS_SIZE, ret: 'ok' });
  w.row({ op: 'write', vcpu: 0, gpa: 0xffff0000n, size: PAGE_BYTES, ret: 'mmio' });
  mmio++;
  w.row({ op: 'read', vcpu: 0, gpa: VGA_WINDOW, size: PAGE_BYTES, ret: 'mmio' });
  mmio++;
  w.row({ op: 'read', vcpu: 0, gpa: OPTROM_GPA, size: 128n * KiB, ret: 'ok' });

  // The guest touches its RAM: low RAM, then 2 MiB pieces in a seeded order (the first piece is cut at
  // 1 MiB where slot 4 starts).
  w.row({ op: 'write', vcpu: 0, gpa: 0n, size: VGA_WINDOW, ret: 'ok' });
  const pieces: bigint[] = [];
  for (let gpa = 0n; gpa < ram; gpa += 2n * MiB) pieces.push(gpa);
  for (let i = pieces.length - 1; i > 0; i--) {
    const j = uniformInt(rng, 0, i);
    [pieces[i], pieces[j]] = [pieces[j]!, pieces[i]!];
  }
  for (const gpa of pieces) {
    const start = gpa < HIGH_GPA ? HIGH_GPA : gpa;
    w.row({ op: 'write', vcpu: 0, gpa: start, size: gpa + 2n * MiB - start, ret: 'ok' });
  }

  // Known by construction: with huge backing every 2 MiB piece fully inside slot 4 (all but the first,
  // which slots 0 and 4 share) maps as one 2M leaf; 4K leaves are low RAM (160 pages), the first
  // piece's upper 1 MiB (256), the BIOS ROM (64) and the option ROM (32).
  const huge = o.backing !== 'anon';
  const hugePieces = o.ramMiB / 2 - 1;
  const smallPages = 160 + 256 + 64 + 32 + (huge ? 0 : hugePieces * 512);
  w.row({ op: 'expect', flags: 'leaves.2m', ret: huge ? hugePieces : 0 });
  w.row({ op: 'expect', flags: 'leaves.4k', ret: smallPages });
  w.row({ op: 'expect', flags: 'mapped.2m', ret: huge ? hugePieces * 2 * 1024 * 1024 : 0 });

  // Display: each frame writes a seeded run of framebuffer pages; QEMU then reads the dirty log.
  for (let f = 0; f < o.frames; f++) {
    const first = uniformInt(rng, 0, vgaPages - 1);
    const count = uniformInt(rng, 1, vgaPages - first);
    w.row({ op: 'write', vcpu: 0, gpa: VGA_GPA + BigInt(first) * PAGE_BYTES, size: BigInt(count) * PAGE_BYTES, ret: 'ok' });
    w.row({ op: 'dirty_get', slot: 5, ret: count });
    if (w.full) yield* w.drain();
  }
  w.row({ op: 'expect', flags: 'exits.mmio', ret: mmio });
  yield* w.finish();
}

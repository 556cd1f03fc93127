// Generator `vdpa`: a VMM driving a vhost-vdpa device's IOTLB the way QEMU's vhost-vdpa memory listener
// does. The guest RAM layout (low RAM around the legacy VGA/ROM hole, RAM above 4 GiB, a read-only BIOS
// ROM) is mapped into asid 0; optionally a shadow-virtqueue buffer goes to asid 1 (QEMU maps the CVQ
// there); then rounds of churn split RAM entries and join them back (as memory sections come and go with
// memory hotplug, virtio-mem and ROM/RAM remaps), each round in one batch when batching is on. At the end the VMM either tears down properly
// (invalidates everything, then closes) or is killed (`kill`: close with everything still mapped),
// which is where the kernels' release paths differ (profile knob vdpa-release).

import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';

import { PAGE_SHIFT } from '../../core/abi.js';
import { DEFAULT_PROFILE_NAME } from '../../core/profile.js';
import { TRACE_MAGIC_LINE, type TraceChunk } from '../schema.js';
import { bool, checkedOptions, defaultsOf, GUEST_RAM_HVA, int, withRecordedUnder, writtenTrace, type GeneratedTrace, type OptionSpecs, type OptionValues } from './common.js';
import type { RowWriter } from './writer.js';

export const VDPA_OPTIONS = {
  seed: int(1, 'random seed'),
  ramMiB: int(4096, 'guest RAM in MiB (a multiple of 2)', { min: 4 }),
  rounds: int(64, 'rounds of unmap/remap churn', { min: 0 }),
  batch: bool(true, 'wrap each round in iotlb_batch_begin/end (VHOST_BACKEND_F_IOTLB_BATCH)'),
  cvqAsid: bool(true, 'also map a shadow-virtqueue buffer in asid 1'),
  kill: bool(false, 'the VMM is killed: vdpa_close with everything still mapped'),
} satisfies OptionSpecs;
export type VdpaGenOptions = OptionValues<typeof VDPA_OPTIONS>;
export const VDPA_GEN_DEFAULTS: VdpaGenOptions = defaultsOf(VDPA_OPTIONS);

const MiB = 1n << 20n;
const GiB = 1n << 30n;
/** q35 puts RAM above this guest-physical address at 4 GiB once guest RAM exceeds 2 GiB. */
const LOW_RAM_MAX = 2n * GiB;
const ROM_GPA = 0xfffc0000n;
const ROM_SIZE = 0x40000n;
const ROM_HVA = 0x7e0000000000n;
const CVQ_IOVA = 0x100000000000n;
const CVQ_SIZE = 0x2000n;
const CVQ_HVA = 0x7d0000000000n;
/** Churn moves pieces of RAM in 2 MiB units (QEMU RAM blocks and virtio-mem blocks are 2 MiB aligned). */
const PIECE = 2n * MiB;

interface Mapping {
  asid: number;
  iova: bigint;
  size: bigint;
  hva: bigint;
  perm: 'rw' | 'ro';
}

export function generateVdpa(options: Partial<VdpaGenOptions> = {}): GeneratedTrace {
  const o = checkedOptions('vdpa', VDPA_OPTIONS, options);
  // What the specs cannot say: RAM comes in the 2 MiB pieces the churn moves.
  if (o.ramMiB % 2 !== 0) throw new RangeError(`vdpa: ramMiB must be a multiple of 2 (got ${o.ramMiB})`);
  const meta = withRecordedUnder(
    { comments: [TRACE_MAGIC_LINE, `# source: s2bench gen vdpa ${describe(o)}`], fields: { source: `s2bench gen vdpa ${describe(o)}` } },
    DEFAULT_PROFILE_NAME,
  );
  return writtenTrace(meta, 'gen vdpa', (w) => write(o, w));
}

/**
 * The rows, a chunk at a time: memory is the live IOTLB entries (at most one per 2 MiB of RAM), not
 * the rows (docs/generators.md).
 */
function* write(o: VdpaGenOptions, w: RowWriter): Generator<TraceChunk> {
  const rng = xoroshiro128plus(o.seed);
  const live: Mapping[] = [];
  // Asid 0's RAM entries (the ROM and the CVQ buffer stay), kept in iova order as they come and go:
  // filtering and sorting the live entries anew each round was most of the generator's time.
  const ram: Mapping[] = [];
  const isRam = (m: Mapping): boolean => m.asid === 0 && m.perm === 'rw';
  const map = (m: Mapping): void => {
    w.row({ op: 'iotlb_update', slot: m.asid, gpa: m.iova, size: m.size, hva: m.hva, flags: m.perm, ret: 0 });
    live.push(m);
    if (isRam(m)) ram.splice(firstAtOrAbove(ram, m.iova), 0, m);
  };
  const unmap = (index: number): Mapping => {
    const m = live.splice(index, 1)[0]!;
    w.row({ op: 'iotlb_invalidate', slot: m.asid, gpa: m.iova, size: m.size, ret: 0 });
    if (isRam(m)) ram.splice(firstAtOrAbove(ram, m.iova), 1);
    return m;
  };

  // Initial layout, in one batch as QEMU's listener commit does.
  if (o.batch) w.row({ op: 'iotlb_batch_begin', slot: 0, ret: 0 });
  for (const m of ramLayout(BigInt(o.ramMiB) * MiB)) map(m);
  map({ asid: 0, iova: ROM_GPA, size: ROM_SIZE, hva: ROM_HVA, perm: 'ro' });
  if (o.batch) w.row({ op: 'iotlb_batch_end', slot: 0, ret: 0 });
  if (o.cvqAsid) map({ asid: 1, iova: CVQ_IOVA, size: CVQ_SIZE, hva: CVQ_HVA, perm: 'rw' });

  for (let round = 0; round < o.rounds; round++) {
    // A round either joins two RAM entries that are contiguous in iova and hva into one, or splits one
    // into up to 4 parts; either way the IOTLB sees unmaps of the old entries and updates for the new
    // ones, and the pinned total is unchanged. Every entry is picked before `ram` changes.
    const joinable = ram.filter((m, i) => i > 0 && isContiguous(ram[i - 1]!, m));
    if (o.batch) w.row({ op: 'iotlb_batch_begin', slot: 0, ret: 0 });
    if (joinable.length > 0 && uniformInt(rng, 0, 1) === 0) {
      const second = joinable[uniformInt(rng, 0, joinable.length - 1)]!;
      const first = ram[ram.indexOf(second) - 1]!;
      unmap(live.indexOf(first));
      unmap(live.indexOf(second));
      map({ ...first, size: first.size + second.size });
    } else {
      const victim = ram[uniformInt(rng, 0, ram.length - 1)]!;
      unmap(live.indexOf(victim));
      for (const part of splitSizes(victim.size, rng)) {
        map({ ...victim, iova: victim.iova + part.offset, size: part.size, hva: victim.hva + part.offset });
      }
    }
    if (o.batch) w.row({ op: 'iotlb_batch_end', slot: 0, ret: 0 });
    if (w.full) yield* w.drain();
  }

  // Before teardown, what every kernel agrees on: the pages pinned and the entries mapped.
  const pinned = live.reduce((sum, m) => sum + Number(m.size >> BigInt(PAGE_SHIFT)), 0);
  w.row({ op: 'expect', flags: 'iotlb.pinned', ret: pinned });
  w.row({ op: 'expect', flags: 'iotlb.maps', ret: live.length });
  if (!o.kill) {
    while (live.length > 0) {
      unmap(live.length - 1);
      if (w.full) yield* w.drain();
    }
  }
  w.row({ op: 'vdpa_close', ret: 0 });
  yield* w.finish();
}

/** The index of the first entry of `sorted` (in iova order) whose iova is `iova` or above. */
function firstAtOrAbove(sorted: readonly Mapping[], iova: bigint): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]!.iova < iova) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function isContiguous(a: Mapping, b: Mapping): boolean {
  return a.iova + a.size === b.iova && a.hva + a.size === b.hva;
}

/**
 * Up to 4 parts covering [0, size): every part but the last is whole 2 MiB pieces, the last also takes
 * any odd remainder (low RAM starts at 1 MiB), so the parts always cover the old entry exactly.
 */
function splitSizes(size: bigint, rng: RandomGenerator): Array<{ offset: bigint; size: bigint }> {
  const units = Number(size / PIECE);
  const parts = units <= 1 ? 1 : uniformInt(rng, 1, Math.min(4, units));
  const out: Array<{ offset: bigint; size: bigint }> = [];
  let doneUnits = 0;
  for (let p = 0; p < parts; p++) {
    const offset = BigInt(doneUnits) * PIECE;
    if (p === parts - 1) {
      out.push({ offset, size: size - offset });
    } else {
      const take = uniformInt(rng, 1, units - doneUnits - (parts - 1 - p));
      out.push({ offset, size: BigInt(take) * PIECE });
      doneUnits += take;
    }
  }
  return out;
}

/** Low RAM below 2 GiB split around the legacy hole [640 KiB, 1 MiB), the rest at 4 GiB. */
function ramLayout(ram: bigint): Mapping[] {
  const low = ram < LOW_RAM_MAX ? ram : LOW_RAM_MAX;
  const out: Mapping[] = [
    { asid: 0, iova: 0n, size: 0xa0000n, hva: GUEST_RAM_HVA, perm: 'rw' },
    { asid: 0, iova: MiB, size: low - MiB, hva: GUEST_RAM_HVA + MiB, perm: 'rw' },
  ];
  if (ram > low) out.push({ asid: 0, iova: 4n * GiB, size: ram - low, hva: GUEST_RAM_HVA + low, perm: 'rw' });
  return out;
}

function describe(o: VdpaGenOptions): string {
  return `seed=${o.seed} ram=${o.ramMiB}M rounds=${o.rounds} batch=${o.batch} cvq=${o.cvqAsid} kill=${o.kill}`;
}

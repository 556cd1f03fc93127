// Generator `scale`: a big guest's life in a given number of events, for `npm run bench:scale` and
// for checking that memory stays flat as traces grow. A realistic mix, in the order a VMM sees it:
//   1. memslots of equal size (16, or one per GiB for a small guest), THP and anonymous 4K backings
//      alternating, as a VMM with hugepage-backed and plain RAM regions sets up;
//   2. first touch: every vCPU sweeps its share of guest memory (a fault per 4K page of anonymous
//      memory, per 2M of THP), ~25% of the events;
//   3. repeated hits: runs of 16 pages from random starts, 70% reads, ~55% of the events;
//   4. a dirty-log pass over the first slot (the migration's first round): logging on, two rounds of
//      writes each followed by KVM_GET_DIRTY_LOG, logging off, ~15% of the events;
//   5. memslot changes: the last slot moved away and back (KVM_MR_MOVE), re-touched after each move,
//      ~5% of the events.
// Rows are written straight into chunk columns (src/trace/generators/writer.ts) and handed on a chunk
// at a time, so a billion events take no more memory than a thousand; a consumer that keeps nothing
// (`gen` writing a file) hands each chunk's buffer back for reuse.

import { OP, type TraceChunk } from '../schema.js';
import type { TraceRow } from '../row.js';
import { genMeta, int, writtenTrace, type GeneratedTrace, type OptionSpecs, type OptionValues } from './common.js';
import type { RowWriter } from './writer.js';

export const SCALE_OPTIONS = {
  seed: int(1, 'random seed'),
  guestGiB: int(1024, 'guest RAM in GiB', { min: 1, max: 65536 }),
  events: int(1_000_000_000, 'rows in the trace', { min: 1000 }),
  vcpus: int(8, 'vCPUs', { min: 1, max: 4096 }),
} satisfies OptionSpecs;
export type ScaleGenOptions = OptionValues<typeof SCALE_OPTIONS>;

const GIB_PAGES = 262144;
/** Guest RAM starts at 4 GiB, its host mapping at 16 TiB (clear of everything else in the trace). */
const GPA_PAGE = 1 << 20;
const HVA_PAGE = 2 ** 32;
const PAGE = 4096n;
const RUN = 16;

export function generateScale(o: ScaleGenOptions): GeneratedTrace {
  return writtenTrace(genMeta('scale', o), 'gen scale', (w) => write(o, w));
}

/** The layout every phase works on. */
interface Layout {
  slots: number;
  slotPages: number;
  pages: number;
}

function layout(o: ScaleGenOptions): Layout {
  const slots = Math.min(16, o.guestGiB);
  const slotPages = Math.floor(o.guestGiB / slots) * GIB_PAGES;
  return { slots, slotPages, pages: slots * slotPages };
}

function* write(o: ScaleGenOptions, w: RowWriter): Generator<TraceChunk> {
  const { slots, slotPages, pages } = layout(o);
  // xorshift32 inline: pure-rand's generator objects would cost more than the rest of a row.
  let x = (o.seed * 2654435761) >>> 0 || 1;
  const random = (n: number): number => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return Math.floor((x / 4294967296) * n);
  };
  const slotRow = (s: number, gpaPage: number, flags: string): TraceRow => ({
    op: 'memslot',
    slot: s,
    flags,
    gpa: BigInt(gpaPage) * PAGE,
    size: BigInt(slotPages) * PAGE,
    hva: BigInt(HVA_PAGE + s * slotPages) * PAGE,
    ret: 0,
  });

  // 1. Setup.
  for (let s = 0; s < slots; s++) {
    w.row({ op: 'backing', hva: BigInt(HVA_PAGE + s * slotPages) * PAGE, size: BigInt(slotPages) * PAGE, flags: s % 2 === 0 ? 'thp' : 'anon' });
    w.row(slotRow(s, GPA_PAGE + s * slotPages, '0'));
  }
  const setupRows = w.rowCount;
  const moves = Math.min(8, Math.max(2, Math.floor(o.events / 1e6)));
  const fixedRows = setupRows + 4 + 1 + 2 * moves; // log on/off, 2 dirty_get; final expect; move rows
  const budget = o.events - fixedRows;
  if (budget < 100) throw new RangeError(`scale: events must be at least ${fixedRows + 100} for ${o.guestGiB} GiB`);
  const firstTouch = Math.min(pages, Math.floor(budget * 0.25));
  const dirtyWrites = Math.floor(budget * 0.15);
  const moveTouches = Math.floor(budget * 0.05);
  const hits = budget - firstTouch - dirtyWrites - moveTouches;

  // 2. First touch: row k touches page floor(k * stride); the vCPUs take turns a run at a time.
  const stride = pages / firstTouch;
  yield* w.each(firstTouch, (k) => w.access(OP.write, Math.floor(k / RUN) % o.vcpus, GPA_PAGE + Math.floor(k * stride), 1));

  // 3. Repeated hits: runs of RUN pages from random starts (each run's start, then its vCPU, drawn as
  // it begins).
  let start = 0;
  let vcpu = 0;
  yield* w.each(hits, (k) => {
    const r = k % RUN;
    if (r === 0) {
      start = random(pages - RUN);
      vcpu = random(o.vcpus);
    }
    w.access(random(10) < 7 ? OP.read : OP.write, vcpu, GPA_PAGE + start + r, 1);
  });

  // 4. Dirty-log pass over slot 0: two rounds of writes, each harvested.
  w.row(slotRow(0, GPA_PAGE, 'log'));
  for (let round = 0; round < 2; round++) {
    const n = round === 0 ? Math.ceil(dirtyWrites / 2) : Math.floor(dirtyWrites / 2);
    yield* w.each(n, (k) => w.access(OP.write, k % o.vcpus, GPA_PAGE + random(slotPages), 1));
    w.row({ op: 'dirty_get', slot: 0 });
  }
  w.row(slotRow(0, GPA_PAGE, '0'));

  // 5. Memslot changes: the last slot moves above the guest and back, re-touched after each move.
  const last = slots - 1;
  const home = GPA_PAGE + last * slotPages;
  const away = GPA_PAGE + pages;
  for (let m = 0; m < moves; m++) {
    const at = m % 2 === 0 ? away : home;
    w.row(slotRow(last, at, '0'));
    const n = Math.floor(moveTouches / moves) + (m < moveTouches % moves ? 1 : 0);
    const step = slotPages / Math.max(1, n);
    yield* w.each(n, (k) => w.access(OP.read, k % o.vcpus, at + Math.floor(k * step), 1));
    if (m === moves - 1 && at !== home) w.row(slotRow(last, home, '0'));
    else w.row({ op: 'expect', flags: 'events', ret: w.rowCount + 1 });
  }
  w.row({ op: 'expect', flags: 'events', ret: w.rowCount + 1 });
  yield* w.finish();
}

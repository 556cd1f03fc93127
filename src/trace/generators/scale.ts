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
// Access rows are written straight into chunk columns (TraceBuilder.reserveAccesses, a chunk's worth
// at a time) and handed on a chunk at a time, so a billion events take no more memory than a thousand;
// a consumer that keeps nothing (`gen` writing a file) can hand each chunk's buffer back for reuse.

import { OP, type TraceChunk } from '../schema.js';
import { setGfn, TraceBuilder } from '../builder.js';
import { rowAt, type TraceRow } from '../row.js';
import { genMeta, int, type ChunkOptions, type GeneratedTrace, type OptionSpecs, type OptionValues } from './common.js';

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
  const meta = genMeta('scale', o);
  const chunks = (options?: ChunkOptions): Iterable<TraceChunk> => scaleChunks(o, options?.reuse === true);
  // The row view exists for tests and small traces; `gen` and the benchmark take the chunks.
  const rows = { *[Symbol.iterator](): Generator<TraceRow> {
    for (const chunk of scaleChunks(o)) for (let i = 0; i < chunk.length; i++) yield rowAt(chunk, i);
  } };
  return { meta, rows, chunks };
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

function* scaleChunks(o: ScaleGenOptions, reuse = false): Generator<TraceChunk> {
  const { slots, slotPages, pages } = layout(o);
  const ready: TraceChunk[] = [];
  const b = new TraceBuilder(undefined, 'gen scale', (chunk) => ready.push(chunk));
  // A full chunk, handed on; with `reuse`, the consumer is done with it once it asks for the next.
  function* handOn(): Generator<TraceChunk> {
    const chunk = ready.pop()!;
    yield chunk;
    if (reuse) b.reuse(chunk);
  }
  // `count` access rows of one 4K page each; row(chunk, i, k) writes the k-th into row i: its op,
  // vcpu and gpa (setGfn).
  function* accesses(count: number, row: (c: TraceChunk, i: number, k: number) => void): Generator<TraceChunk> {
    for (let k = 0; k < count; ) {
      const n = b.reserveAccesses(count - k);
      const c = b.current;
      for (let i = c.length, end = i + n; i < end; i++, k++) row(c, i, k);
      b.commitAccesses(n, 1);
      if (ready.length > 0) yield* handOn();
    }
  }
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
    b.push({ op: 'backing', hva: BigInt(HVA_PAGE + s * slotPages) * PAGE, size: BigInt(slotPages) * PAGE, flags: s % 2 === 0 ? 'thp' : 'anon' });
    b.push(slotRow(s, GPA_PAGE + s * slotPages, '0'));
  }
  const setupRows = b.rowCount;
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
  yield* accesses(firstTouch, (c, i, k) => {
    c.op[i] = OP.write;
    c.vcpu[i] = Math.floor(k / RUN) % o.vcpus;
    setGfn(c, i, GPA_PAGE + Math.floor(k * stride));
  });

  // 3. Repeated hits: runs of RUN pages from random starts (each run's start, then its vCPU, drawn as
  // it begins).
  let start = 0;
  let vcpu = 0;
  yield* accesses(hits, (c, i, k) => {
    const r = k % RUN;
    if (r === 0) {
      start = random(pages - RUN);
      vcpu = random(o.vcpus);
    }
    c.op[i] = random(10) < 7 ? OP.read : OP.write;
    c.vcpu[i] = vcpu;
    setGfn(c, i, GPA_PAGE + start + r);
  });

  // 4. Dirty-log pass over slot 0: two rounds of writes, each harvested.
  b.push(slotRow(0, GPA_PAGE, 'log'));
  for (let round = 0; round < 2; round++) {
    const n = round === 0 ? Math.ceil(dirtyWrites / 2) : Math.floor(dirtyWrites / 2);
    yield* accesses(n, (c, i, k) => {
      c.op[i] = OP.write;
      c.vcpu[i] = k % o.vcpus;
      setGfn(c, i, GPA_PAGE + random(slotPages));
    });
    b.push({ op: 'dirty_get', slot: 0 });
  }
  b.push(slotRow(0, GPA_PAGE, '0'));

  // 5. Memslot changes: the last slot moves above the guest and back, re-touched after each move.
  const last = slots - 1;
  const home = GPA_PAGE + last * slotPages;
  const away = GPA_PAGE + pages;
  for (let m = 0; m < moves; m++) {
    const at = m % 2 === 0 ? away : home;
    b.push(slotRow(last, at, '0'));
    const n = Math.floor(moveTouches / moves) + (m < moveTouches % moves ? 1 : 0);
    const step = slotPages / Math.max(1, n);
    yield* accesses(n, (c, i, k) => {
      c.op[i] = OP.read;
      c.vcpu[i] = k % o.vcpus;
      setGfn(c, i, at + Math.floor(k * step));
    });
    if (m === moves - 1 && at !== home) b.push(slotRow(last, home, '0'));
    else b.push({ op: 'expect', flags: 'events', ret: b.rowCount + 1 });
  }
  b.push({ op: 'expect', flags: 'events', ret: b.rowCount + 1 });
  b.finish();
  while (ready.length > 0) yield ready.shift()!;
}

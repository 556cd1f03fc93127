// How a generator writes its rows: straight into chunk columns, a chunk at a time, so a trace of any
// length takes the memory of a few chunks and no object per row. A generator is a generator function
// of chunks that reads as the list of events it makes:
//
//   w.row({ op: 'memslot', ... });                  // the few setup / ioctl / expect rows, as objects
//   for (...) {
//     w.access(OP.write, vcpu, gfn, pages, OK);     // the many guest accesses, as plain numbers
//     if (w.full) yield* w.drain();                 // hand on each chunk as it fills
//   }
//   yield* w.finish();
//
// Every row is validated by the TraceBuilder underneath (push for objects, pushAccess's compares for
// accesses), exactly as rows pushed one object at a time would be, and stored identically
// (docs/generators.md).

import { accessForm, handOut, TraceBuilder, type AccessForm } from '../builder.js';
import type { TraceRow } from '../row.js';
import type { TraceChunk } from '../schema.js';

/** An access row as a generator's TraceRow would give it: gpa and size as bigints (0x hex), ret 'ok'. */
export const OK = accessForm(true, 'ok');
/** The same, for an access the trace says exits to the VMM (no memslot there). */
export const MMIO = accessForm(true, 'mmio');

export class RowWriter {
  private readonly builder: TraceBuilder;
  private readonly ready: TraceChunk[] = [];

  /**
   * `file` names the trace in error messages. With `reuse`, the consumer keeps nothing of a chunk once
   * it asks for the next (it wrote or counted it), and that chunk's buffer is filled again.
   */
  constructor(
    file: string,
    private readonly reuse = false,
  ) {
    this.builder = new TraceBuilder(undefined, file, (chunk) => this.ready.push(chunk));
  }

  /** Rows written so far. */
  get rowCount(): number {
    return this.builder.rowCount;
  }

  /** One row as an object: for the rows a trace has few of (setup, ioctls, expects). */
  row(row: TraceRow): void {
    this.builder.push(row);
  }

  /**
   * One guest access of `pages` 4K pages from page `gfn` (TraceBuilder.pushAccess): numbers only, for
   * the rows a trace has millions of. `form` says how it prints (default: decimal gpa and size, no ret).
   */
  access(op: number, vcpu: number, gfn: number, pages: number, form?: AccessForm): void {
    this.builder.pushAccess(op, vcpu, gfn, pages, form);
  }

  /**
   * `row(k)` for k = 0 .. count-1, each writing a row (or a few, or none), each chunk handed on as it
   * fills. The loop runs in a plain function (fill), not in the generator's body, so that V8 optimises
   * it and inlines `row` and the access write it makes: for the phases of a trace that are millions of
   * rows.
   */
  *each(count: number, row: (k: number) => void): Generator<TraceChunk> {
    for (let k = 0; k < count; ) {
      k = this.fill(k, count, row);
      yield* this.drain();
    }
  }

  /** Rows k, k + 1, ... until `count` or a full chunk; returns the next k. */
  private fill(k: number, count: number, row: (k: number) => void): number {
    const ready = this.ready;
    while (k < count && ready.length === 0) row(k++);
    return k;
  }

  /** A chunk is full: the generator hands it on (yield* drain()) before writing more. */
  get full(): boolean {
    return this.ready.length > 0;
  }

  /** The full chunks, handed on one by one. */
  drain(): Generator<TraceChunk> {
    return handOut(this.ready, this.reuse ? this.builder : undefined);
  }

  /** The last chunks, the partial one included: the end of a generator. */
  *finish(): Generator<TraceChunk> {
    this.builder.finish();
    yield* this.drain();
  }
}

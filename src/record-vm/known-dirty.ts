// The bits the converter knows are set in each logging slot's dirty bitmap, as sorted runs of slot
// pages. A get's bitmap minus these is what the guest wrote since: under manual protect a get
// re-reports pages not yet cleared, and with KVM_DIRTY_LOG_INITIALLY_SET the first gets report pages
// nobody wrote (kvm_prepare_memory_region() sets the whole bitmap). docs/record-vm.md, "Dirty logs".

/** A run of pages [start, end). */
export type Run = readonly [bigint, bigint];

export class KnownDirty {
  private readonly bySlot = new Map<number, Run[]>();

  /** Logging started on the slot: nothing known set, or every page with initially-set. */
  start(slot: number, npages: bigint, initiallySet: boolean): void {
    this.bySlot.set(slot, initiallySet && npages > 0n ? [[0n, npages]] : []);
  }

  /** Logging stopped or the slot went. */
  stop(slot: number): void {
    this.bySlot.delete(slot);
  }

  /**
   * A get reported `runs` (sorted): returns the runs not known set (the writes of the interval); the
   * bitmap is then known to be `runs`, or clear when the get also cleared it (no manual protect).
   */
  get(slot: number, runs: readonly Run[], clears: boolean): Run[] {
    const fresh = subtract(runs, this.bySlot.get(slot) ?? []);
    if (this.bySlot.has(slot)) this.bySlot.set(slot, clears ? [] : [...runs]);
    return fresh;
  }

  /** A clear took `runs` (sorted, slot pages). */
  clear(slot: number, runs: readonly Run[]): void {
    const known = this.bySlot.get(slot);
    if (known !== undefined) this.bySlot.set(slot, subtract(known, runs));
  }
}

/** Runs of `a` not covered by `b` (both sorted and disjoint). */
export function subtract(a: readonly Run[], b: readonly Run[]): Run[] {
  const out: Run[] = [];
  let j = 0;
  for (const [start, end] of a) {
    let s = start;
    while (j < b.length && b[j]![1] <= s) j++;
    for (let k = j; k < b.length && b[k]![0] < end; k++) {
      if (b[k]![0] > s) out.push([s, b[k]![0]]);
      if (b[k]![1] > s) s = b[k]![1];
      if (s >= end) break;
    }
    if (s < end) out.push([s, end]);
  }
  return out;
}

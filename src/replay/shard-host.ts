// Host page state is per hva page (docs/kvm-rules.md, common.host-pages): a guest access populates it
// and a copy-on-write zaps every mapping of the page, so it is shared between the guest pages that map
// one hva. Sharding splits guest accesses by 1 GiB granule of guest-physical memory; it stays exact
// only while the gfns each hva page maps over the whole trace (aliases, slots moved) lie in one shard
// (one granule, or granules the same shard replays), and no huge host page maps guest memory on both
// sides of a granule boundary. (A host-side change reaches every slot mapping the hva:
// __kvm_handle_hva_range() in virt/kvm/kvm_main.c walks the slots overlapping the range and turns it
// into each one's gfns, hva_to_gfn_memslot() in include/linux/kvm_host.h.)

import { BACKING_HUGETLB_1G, BACKING_HUGETLB_2M, BACKING_THP } from '../core/hostmm.js';
import { u64Field } from '../trace/columns.js';
import { F_GPA, F_HVA, F_SIZE } from '../trace/fields.js';
import { OP, type TraceChunk } from '../trace/schema.js';

const PMD_PAGES = 512;
const HUGE_BACKING = BACKING_THP | BACKING_HUGETLB_2M | BACKING_HUGETLB_1G;

/**
 * Why host page state would cross shards (the line of the memslot row), or undefined when it cannot.
 * `granule` is the sharding's own gfn -> granule map (shard.ts); `sameShard(a, b, pages)` says whether
 * gfns a + k and b + k lie in one shard for every k < pages.
 */
export function hostStateCrossesShards(
  chunks: readonly TraceChunk[],
  granule: (gfn: number) => number,
  sameShard: (a: number, b: number, pages: number) => boolean,
): string | undefined {
  const slots: Array<{ start: number; end: number; delta: number; line: number }> = [];
  let hugeBacking = false;
  for (const chunk of chunks) {
    for (let i = 0; i < chunk.length; i++) {
      if (chunk.op[i] === OP.backing && (chunk.flagsLo[i]! & HUGE_BACKING) !== 0) hugeBacking = true;
      if (chunk.op[i] !== OP.memslot) continue;
      const npages = Number(u64Field(chunk, F_SIZE, i) >> 12n);
      if (npages === 0) continue;
      const hva = Number(u64Field(chunk, F_HVA, i) >> 12n);
      const base = Number(u64Field(chunk, F_GPA, i) >> 12n);
      slots.push({ start: hva, end: hva + npages, delta: base - hva, line: chunk.line[i]! });
    }
  }
  for (const s of slots) {
    // A huge host page whose guest pages straddle a granule boundary (gfn and hva not 2M-congruent).
    if (hugeBacking && s.delta % PMD_PAGES !== 0 && granule(s.start + s.delta) !== granule(s.end - 1 + s.delta)) {
      return `line ${s.line}: a memslot not 2M-congruent with its hva crosses a 1 GiB boundary (huge host pages span shards)`;
    }
  }
  // Two memslot rows that map one hva page at different gfns must map it in the same shard.
  slots.sort((a, b) => a.start - b.start);
  for (let a = 0; a < slots.length; a++) {
    const x = slots[a]!;
    for (let b = a + 1; b < slots.length && slots[b]!.start < x.end; b++) {
      const y = slots[b]!;
      if (y.delta === x.delta) continue;
      const from = y.start;
      const pages = Math.min(x.end, y.end) - from;
      if (!sameShard(from + x.delta, from + y.delta, pages)) {
        return `line ${y.line}: memslots map the same hva pages in granules of different shards (host page state spans shards)`;
      }
    }
  }
  return undefined;
}

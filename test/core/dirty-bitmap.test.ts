// The sparse dirty bitmap (src/core/dirty-bitmap.ts): same answers as a dense bitmap, work that follows
// the pages dirtied (blocks allocated), not the slot's size. docs/kvm-rules.md, "Dirty bitmaps".

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KVM_MEM_LOG_DIRTY_PAGES } from '../../src/core/abi.js';
import { DIRTY_BLOCK_PAGES, DirtyBitmap } from '../../src/core/dirty-bitmap.js';
import { ACCESS_WRITE } from '../../src/core/outcome.js';
import { newVm } from './vm-helpers.js';

/** KVM_MEM_MAX_NR_PAGES: the largest slot the kernel takes, (1 << 31) - 1 pages. */
const MAX_SLOT_PAGES = 2 ** 31 - 1;

function runsOf(bitmap: DirtyBitmap, from: number, to: number): Array<[number, number]> {
  const runs: Array<[number, number]> = [];
  bitmap.clear(from, to, (start, end) => runs.push([start, end]));
  return runs;
}

describe('sparse dirty bitmap', () => {
  it('clears in maximal runs, joined across words and blocks, and counts what it cleared', () => {
    const b = new DirtyBitmap(3 * DIRTY_BLOCK_PAGES + 10);
    for (const p of [0, 1, 2, 31, 32, 33, 100, DIRTY_BLOCK_PAGES - 1, DIRTY_BLOCK_PAGES, 3 * DIRTY_BLOCK_PAGES + 9]) assert.equal(b.set(p), true);
    assert.equal(b.set(1), false);
    assert.equal(b.count, 10);
    assert.deepEqual(runsOf(b, 1, 101), [[1, 3], [31, 34], [100, 101]]);
    assert.equal(b.count, 4);
    assert.equal(b.has(0), true);
    assert.equal(b.has(1), false);
    assert.deepEqual(runsOf(b, 0, 4 * DIRTY_BLOCK_PAGES), [[0, 1], [DIRTY_BLOCK_PAGES - 1, DIRTY_BLOCK_PAGES + 1], [3 * DIRTY_BLOCK_PAGES + 9, 3 * DIRTY_BLOCK_PAGES + 10]]);
    assert.equal(b.count, 0);
  });

  it('initially set: every page set with no block allocated; a partial clear allocates one block', () => {
    const b = new DirtyBitmap(MAX_SLOT_PAGES);
    b.setAll();
    assert.equal(b.count, MAX_SLOT_PAGES);
    assert.equal(b.allocations, 0);
    assert.deepEqual(runsOf(b, 64, 128), [[64, 128]]);
    assert.equal(b.allocations, 1);
    assert.equal(b.count, MAX_SLOT_PAGES - 64);
    assert.equal(b.set(70), true);
    assert.equal(b.set(5), false);
    // The whole slot: blocks still absent go without being allocated.
    assert.deepEqual(runsOf(b, 0, MAX_SLOT_PAGES), [[0, 64], [70, 71], [128, MAX_SLOT_PAGES]]);
    assert.equal(b.allocations, 1);
    assert.equal(b.count, 0);
    assert.equal(b.has(MAX_SLOT_PAGES - 1), false);
  });

  it('a maximum-size logging slot: get and clear cost the blocks written, not the slot (regression)', () => {
    const vm = newVm();
    vm.enableCap(168, 0n, 1n); // KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, PROTECT_ENABLE
    const size = BigInt(MAX_SLOT_PAGES) * 4096n;
    assert.equal(vm.setUserMemoryRegion2(0, KVM_MEM_LOG_DIRTY_PAGES, 0n, size, 0x100000000000n, -1, 0n), 0);
    for (const page of [5, 6, MAX_SLOT_PAGES - 1]) vm.access(0, page, ACCESS_WRITE, 0);
    for (let i = 0; i < 1000; i++) assert.equal(vm.getDirtyLog(0), 3);
    assert.equal(vm.clearDirtyLog(0, 0n, BigInt(MAX_SLOT_PAGES)), 0);
    assert.equal(vm.getDirtyLog(0), 0);
    assert.equal(vm.slots.dirtyBitmap[0]!.allocations, 2);
  });
});

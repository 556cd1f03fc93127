// Private memory: huge guest_memfd folios mapped huge, a 4K conversion inside them, its cost, and the
// way back to a huge mapping.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { OUTCOME_MEMFAULT, OUTCOME_OK } from '../../src/core/outcome.js';
import { GiB, MiB2, metrics, newVm } from '../core/vm-helpers.js';
import { GMEM, HVA, PRIVATE, gfnOf, lastConversion, leafAt, must, privateVm, touch } from './private-vm.js';

const GPA = GiB; // 1G-aligned, so the slot is congruent with the file at every level
const BASE = gfnOf(GPA);
const PAGES_2M = 512;
/** A 4K page in the middle of the region: 2M range 256 (of 512), page 128 inside it. */
const MID = BASE + 256 * PAGES_2M + 128;
const MID_2M = MID - (MID % PAGES_2M);
const MID_GPA = BigInt(MID) << 12n;

function touchEvery2m(vm: ReturnType<typeof privateVm>): void {
  for (let i = 0; i < 512; i++) assert.equal(touch(vm, BASE + i * PAGES_2M), OUTCOME_OK);
}

describe('a 1 GiB private region on a 2M-folio guest_memfd', () => {
  it('touched once per 2M: 512 faults, 512 2M leaves', () => {
    const vm = privateVm('x86-tdp,gmem-folio=2m,vm-type=sw-protected', GPA, GiB);
    touchEvery2m(vm);
    assert.deepEqual(metrics(vm, ['faults', 'faults.fixed', 'leaves.4k', 'leaves.2m', 'leaves.1g', 'mapped.2m']), {
      faults: 512,
      'faults.fixed': 512,
      'leaves.4k': 0,
      'leaves.2m': 512,
      'leaves.1g': 0,
      'mapped.2m': 512 * 0x200000,
    });
  });

  it('converting 4K in the middle to shared zaps exactly one 2M leaf and marks 2M and 1G mixed', () => {
    const vm = privateVm('x86-tdp,gmem-folio=2m,vm-type=sw-protected', GPA, GiB);
    touchEvery2m(vm);
    assert.equal(vm.setMemoryAttributes(MID_GPA, 0x1000n, 0n, 0n), 0);
    const cost = lastConversion(vm);
    assert.deepEqual(
      { zaps4k: cost.zaps4k, zaps2m: cost.zaps2m, zaps1g: cost.zaps1g, tlbFull: cost.tlbFull, splits: cost.splits, pages: cost.pages },
      { zaps4k: 0, zaps2m: 1, zaps1g: 0, tlbFull: 1, splits: 1, pages: 1 },
    );
    assert.deepEqual(metrics(vm, ['conversions', 'zaps', 'leaves.2m', 'mapped.2m', 'gmem.splits']), {
      conversions: 2, // the initial conversion of the whole slot to private, then this one
      zaps: 1,
      'leaves.2m': 512,
      'mapped.2m': 511 * 0x200000,
      'gmem.splits': 1,
    });
    assert.equal(vm.attributes.isMixed(MID, 1), true);
    assert.equal(vm.attributes.isMixed(MID, 2), true);
    assert.equal(vm.attributes.isMixed(MID_2M - 1, 1), false, 'the 2M range before stays uniform');
  });

  it('re-touching the mixed 2M range faults at 4K: private pages from guest_memfd, the shared one from the hva', () => {
    const vm = privateVm('x86-tdp,gmem-folio=2m,vm-type=sw-protected', GPA, GiB);
    touchEvery2m(vm);
    vm.setMemoryAttributes(MID_GPA, 0x1000n, 0n, 0n);
    const before = metrics(vm, ['faults', 'leaves.4k']);
    for (let p = 0; p < PAGES_2M; p++) {
      const gfn = MID_2M + p;
      assert.equal(touch(vm, gfn, gfn !== MID), OUTCOME_OK);
    }
    const after = metrics(vm, ['faults', 'leaves.4k', 'mapped.4k', 'mapped.2m']);
    assert.deepEqual(
      { faults: after.faults! - before.faults!, 'leaves.4k': after['leaves.4k']! - before['leaves.4k']! },
      { faults: 512, 'leaves.4k': 512 },
    );
    assert.equal(after['mapped.4k'], 512 * 0x1000);
    assert.equal(after['mapped.2m'], 511 * 0x200000);
    assert.deepEqual(leafAt(vm, MID), { level: 0, private: false });
    assert.deepEqual(leafAt(vm, MID + 1), { level: 0, private: true });
  });

  it('converting the 4K back makes the range uniform; the next fault after the zap maps 2M again', () => {
    const vm = privateVm('x86-tdp,gmem-folio=2m,vm-type=sw-protected', GPA, GiB);
    touchEvery2m(vm);
    vm.setMemoryAttributes(MID_GPA, 0x1000n, 0n, 0n);
    for (let p = 0; p < PAGES_2M; p++) touch(vm, MID_2M + p, MID_2M + p !== MID);
    assert.equal(vm.setMemoryAttributes(MID_GPA, 0x1000n, PRIVATE, 0n), 0);
    const back = lastConversion(vm);
    assert.deepEqual({ zaps4k: back.zaps4k, zaps2m: back.zaps2m, merges: back.merges }, { zaps4k: 1, zaps2m: 0, merges: 1 });
    assert.equal(vm.attributes.isMixed(MID, 1), false);
    assert.equal(vm.attributes.isMixed(MID, 2), false);
    const leaves2m = metrics(vm, ['leaves.2m'])['leaves.2m']!;
    assert.equal(touch(vm, MID), OUTCOME_OK);
    assert.deepEqual(leafAt(vm, MID), { level: 1, private: true });
    assert.deepEqual(metrics(vm, ['leaves.2m', 'mapped.4k', 'mapped.2m']), {
      'leaves.2m': leaves2m + 1,
      'mapped.4k': 0, // the 511 4K leaves went with the table the 2M leaf replaced
      'mapped.2m': 512 * 0x200000,
    });
  });
});

describe('a 1 GiB private region on a 1G-folio guest_memfd, 1G-aligned', () => {
  it('maps one 1G leaf before the conversion, and a 4K conversion zaps it', () => {
    const vm = privateVm('x86-tdp,gmem-folio=1g,vm-type=sw-protected', GPA, GiB);
    touchEvery2m(vm);
    assert.deepEqual(metrics(vm, ['faults', 'leaves.1g', 'leaves.2m', 'mapped.1g']), {
      faults: 1,
      'leaves.1g': 1,
      'leaves.2m': 0,
      'mapped.1g': 0x40000000,
    });
    vm.setMemoryAttributes(MID_GPA, 0x1000n, 0n, 0n);
    const cost = lastConversion(vm);
    assert.deepEqual({ zaps1g: cost.zaps1g, zaps2m: cost.zaps2m, zaps4k: cost.zaps4k }, { zaps1g: 1, zaps2m: 0, zaps4k: 0 });
  });

  it('gmem-split=minimal splits the 1G folio to 2M and only the cut 2M to 4K', () => {
    const vm = privateVm('x86-tdp,gmem-folio=1g,gmem-split=minimal,vm-type=sw-protected', GPA, GiB);
    touch(vm, BASE);
    vm.setMemoryAttributes(MID_GPA, 0x1000n, 0n, 0n);
    assert.equal(lastConversion(vm).splits, 2);
    touchEvery2m(vm);
    for (let p = 0; p < PAGES_2M; p++) touch(vm, MID_2M + p, MID_2M + p !== MID);
    assert.deepEqual(metrics(vm, ['mapped.1g', 'mapped.2m', 'mapped.4k']), {
      'mapped.1g': 0,
      'mapped.2m': 511 * 0x200000,
      'mapped.4k': 512 * 0x1000,
    });
  });

  it('gmem-split=minimal counts one split per 2M unit the range cuts, none for units it covers whole', () => {
    const vm = privateVm('x86-tdp,gmem-folio=1g,gmem-split=minimal,vm-type=sw-protected', GPA, GiB);
    touch(vm, BASE);
    vm.setMemoryAttributes(GPA + MiB2 - 0x1000n, 0x2000n, 0n, 0n); // straddles units 0 and 1
    assert.deepEqual([lastConversion(vm).splits, lastConversion(vm).merges], [3, 0]);
    vm.setMemoryAttributes(GPA + 4n * MiB2, MiB2, 0n, 0n); // unit 4 whole: uniform, stays 2M
    assert.deepEqual([lastConversion(vm).splits, lastConversion(vm).merges], [0, 0]);
    vm.setMemoryAttributes(GPA + MiB2 - 0x1000n, 0x2000n, PRIVATE, 0n);
    assert.deepEqual([lastConversion(vm).splits, lastConversion(vm).merges], [0, 2]);
    vm.setMemoryAttributes(GPA + 4n * MiB2, MiB2, PRIVATE, 0n); // the whole 1G is private again
    assert.deepEqual([lastConversion(vm).splits, lastConversion(vm).merges], [0, 1]);
    assert.deepEqual(metrics(vm, ['gmem.splits', 'gmem.merges']), { 'gmem.splits': 3, 'gmem.merges': 3 });
  });

  it('gmem-split=4k splits the 1G folio all the way: 1 + 512 splits, and private faults map 4K only', () => {
    const vm = privateVm('x86-tdp,gmem-folio=1g,gmem-split=4k,vm-type=sw-protected', GPA, GiB);
    touch(vm, BASE);
    vm.setMemoryAttributes(MID_GPA, 0x1000n, 0n, 0n);
    assert.equal(lastConversion(vm).splits, 513);
    touchEvery2m(vm);
    assert.deepEqual(metrics(vm, ['mapped.1g', 'mapped.2m', 'mapped.4k']), {
      'mapped.1g': 0,
      'mapped.2m': 0,
      'mapped.4k': 512 * 0x1000,
    });
    // Converting back merges the whole folio again (513 merges) and the next fault maps 1G.
    vm.setMemoryAttributes(MID_GPA, 0x1000n, PRIVATE, 0n);
    assert.equal(lastConversion(vm).merges, 513);
    vm.setMemoryAttributes(GPA, GiB, 0n, 0n); // zap everything (a conversion to shared)...
    vm.setMemoryAttributes(GPA, GiB, PRIVATE, 0n); // ...and back
    assert.equal(touch(vm, MID), OUTCOME_OK);
    assert.deepEqual(leafAt(vm, MID), { level: 2, private: true });
  });

  it('a 2M-aligned but not 1G-aligned layout maps 2M leaves from 1G folios', () => {
    const vm = privateVm('x86-tdp,gmem-folio=1g,vm-type=sw-protected', GiB + MiB2, GiB);
    for (let i = 0; i < 511; i++) touch(vm, gfnOf(GiB + MiB2) + i * PAGES_2M);
    assert.deepEqual(metrics(vm, ['leaves.1g', 'leaves.2m']), { 'leaves.1g': 0, 'leaves.2m': 511 });
  });
});

describe('mapping level of private faults', () => {
  it('an hva off by 4K from the gfn forbids huge private mappings too (disallow_lpage)', () => {
    const vm = newVm('x86-tdp,gmem-folio=2m,vm-type=sw-protected');
    must(vm.createGuestMemfd(1, MiB2 * 2n, 0n), 'create');
    must(vm.setUserMemoryRegion2(0, GMEM, GPA, MiB2 * 2n, HVA + 0x1000n, 1, 0n), 'memslot');
    must(vm.setMemoryAttributes(GPA, MiB2 * 2n, PRIVATE, 0n), 'attrs');
    touch(vm, BASE);
    assert.deepEqual(leafAt(vm, BASE), { level: 0, private: true });
  });

  it('a guest_memfd offset off by 4K from the gfn forbids huge private mappings', () => {
    const vm = newVm('x86-tdp,gmem-folio=2m,vm-type=sw-protected');
    must(vm.createGuestMemfd(1, MiB2 * 4n, 0n), 'create');
    must(vm.setUserMemoryRegion2(0, GMEM, GPA, MiB2 * 2n, HVA, 1, 0x1000n), 'memslot');
    must(vm.setMemoryAttributes(GPA, MiB2 * 2n, PRIVATE, 0n), 'attrs');
    touch(vm, BASE);
    assert.deepEqual(leafAt(vm, BASE), { level: 0, private: true });
  });

  it('gmem-folio=4k maps private memory at 4K only', () => {
    const vm = privateVm('x86-tdp,gmem-folio=4k,vm-type=sw-protected', GPA, GiB);
    touchEvery2m(vm);
    assert.deepEqual(metrics(vm, ['leaves.4k', 'leaves.2m', 'leaves.1g']), { 'leaves.4k': 512, 'leaves.2m': 0, 'leaves.1g': 0 });
  });
});

describe('private/shared mismatch', () => {
  it('a private access to a shared gfn and a shared access to a private gfn each exit once and map nothing', () => {
    const vm = privateVm('x86-tdp,gmem-folio=2m,vm-type=sw-protected', GPA, GiB);
    vm.setMemoryAttributes(MID_GPA, 0x1000n, 0n, 0n);
    assert.equal(touch(vm, MID, true), OUTCOME_MEMFAULT);
    assert.equal(touch(vm, MID + 1, false), OUTCOME_MEMFAULT);
    assert.deepEqual(metrics(vm, ['faults', 'exits.memfault', 'faults.fixed', 'mapped.4k', 'mapped.2m', 'mapped.1g']), {
      faults: 2,
      'exits.memfault': 2,
      'faults.fixed': 0,
      'mapped.4k': 0,
      'mapped.2m': 0,
      'mapped.1g': 0,
    });
  });

  it('a conversion that changes nothing is no conversion: no zap, no record', () => {
    const vm = privateVm('x86-tdp,gmem-folio=2m,vm-type=sw-protected', GPA, GiB);
    touch(vm, BASE);
    assert.equal(vm.setMemoryAttributes(GPA, MiB2, PRIVATE, 0n), 0);
    assert.deepEqual(metrics(vm, ['conversions', 'zaps', 'mapped.2m']), { conversions: 1, zaps: 0, 'mapped.2m': 0x200000 });
  });
});

describe('conversion distributions', () => {
  it('report p50/p99/max of zaps, splits and flushes over every conversion, and the time ones as timing', () => {
    const vm = privateVm('x86-tdp,gmem-folio=2m,vm-type=sw-protected', GPA, GiB);
    touchEvery2m(vm);
    // 3 more conversions: each 4K inside a mapped 2M leaf zaps 1 leaf and splits 1 folio.
    for (const k of [10, 20, 30]) vm.setMemoryAttributes(GPA + BigInt(k) * MiB2, 0x1000n, 0n, 0n);
    const stats = vm.conversionStats();
    assert.deepEqual(
      Object.fromEntries(Object.entries(stats.modeled).filter(([k]) => /^conv\.(zaps|splits|flushes)\./.test(k))),
      {
        'conv.zaps.p50': 1,
        'conv.zaps.p99': 1,
        'conv.zaps.max': 1,
        'conv.splits.p50': 1,
        'conv.splits.p99': 1,
        'conv.splits.max': 1,
        // the first conversion (whole slot to private, nothing mapped yet) flushed nothing
        'conv.flushes.p50': 1,
        'conv.flushes.p99': 1,
        'conv.flushes.max': 1,
      },
    );
    assert.equal(stats.modeled['conv.pages.max'], 262144);
    assert.deepEqual(Object.keys(stats.timing).sort(), [
      'time.conversion_max_ns',
      'time.conversion_p50_ns',
      'time.conversion_p99_ns',
    ]);
    assert.ok(stats.timing['time.conversion_max_ns']! >= stats.timing['time.conversion_p50_ns']!);
  });
});


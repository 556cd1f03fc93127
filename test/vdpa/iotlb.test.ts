// The vhost-vdpa IOTLB model against drivers/vhost/vdpa.c: mapping, pinning, the driver's refusals, and
// what each release path (profile knob vdpa-release) leaves behind.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ERRNO, VHOST_ACCESS_RO, VHOST_ACCESS_RW, VHOST_ACCESS_WO } from '../../src/core/abi.js';
import { VdpaIotlb, type VdpaRelease } from '../../src/core/iotlb.js';
import { M, newCounters } from '../../src/core/metrics.js';

const MiB = 0x100000n;

function device(release: VdpaRelease = 'clean'): { iotlb: VdpaIotlb; c: Float64Array } {
  const c = newCounters();
  return { iotlb: new VdpaIotlb(release, c), c };
}

/** Two RAM ranges of a VMM, 1 MiB (256 pages) and 2 MiB (512 pages), in asid 0. */
function mapTwoRanges(iotlb: VdpaIotlb): void {
  assert.equal(iotlb.update(0, 0n, MiB, 0x7f0000000000n, VHOST_ACCESS_RW), 0);
  assert.equal(iotlb.update(0, 0x100000000n, 2n * MiB, 0x7f0040000000n, VHOST_ACCESS_RW), 0);
}

describe('iotlb_update', () => {
  it('pins every page the range touches and records one entry per update', () => {
    const { iotlb, c } = device();
    mapTwoRanges(iotlb);
    assert.equal(c[M.iotlb_pinned], 768);
    assert.equal(c[M.iotlb_maps], 2);
    assert.deepEqual(
      iotlb.maps(0).map((m) => [m.start, m.last, m.pages]),
      [
        [0n, MiB - 1n, 256],
        [0x100000000n, 0x100000000n + 2n * MiB - 1n, 512],
      ],
    );
  });

  it('counts pages from the page of iova: 0x1800 + 0x1000 bytes pins 2 pages at [0x1000, 0x2fff]', () => {
    const { iotlb, c } = device();
    assert.equal(iotlb.update(0, 0x1800n, 0x1000n, 0x5000n, VHOST_ACCESS_RO), 0);
    assert.equal(c[M.iotlb_pinned], 2);
    assert.deepEqual(iotlb.maps(0).map((m) => [m.start, m.last]), [[0x1000n, 0x2fffn]]);
  });

  it('refuses any overlap with an existing entry with -EEXIST and pins nothing', () => {
    const { iotlb, c } = device();
    mapTwoRanges(iotlb);
    // Same range, a range straddling the end of the first one, one byte of the second one.
    assert.equal(iotlb.update(0, 0n, MiB, 0x1000n, VHOST_ACCESS_RW), -ERRNO.EEXIST);
    assert.equal(iotlb.update(0, MiB - 0x1000n, 0x2000n, 0x1000n, VHOST_ACCESS_RW), -ERRNO.EEXIST);
    assert.equal(iotlb.update(0, 0x100000000n + MiB, 1n, 0x1000n, VHOST_ACCESS_RW), -ERRNO.EEXIST);
    assert.equal(c[M.iotlb_pinned], 768);
    // Adjacent is fine.
    assert.equal(iotlb.update(0, MiB, 0x1000n, 0x1000n, VHOST_ACCESS_WO), 0);
    assert.equal(c[M.iotlb_pinned], 769);
  });

  it('keeps address spaces apart: the same iova maps in asid 0 and asid 1', () => {
    const { iotlb, c } = device();
    assert.equal(iotlb.update(0, 0n, MiB, 0x1000000n, VHOST_ACCESS_RW), 0);
    assert.equal(iotlb.update(1, 0n, MiB, 0x1000000n, VHOST_ACCESS_RW), 0);
    assert.equal(c[M.iotlb_pinned], 512);
  });

  it('refuses a zero size, a wrapping range and an asid beyond the device (nas = 2) with -EINVAL', () => {
    const { iotlb, c } = device();
    assert.equal(iotlb.update(0, 0x1000n, 0n, 0x1000n, VHOST_ACCESS_RW), -ERRNO.EINVAL);
    assert.equal(iotlb.update(0, 0xfffffffffffff000n, 0x2000n, 0x1000n, VHOST_ACCESS_RW), -ERRNO.EINVAL);
    assert.equal(iotlb.update(2, 0n, 0x1000n, 0x1000n, VHOST_ACCESS_RW), -ERRNO.EINVAL);
    assert.equal(c[M.iotlb_pinned], 0);
    // The last page of the 64-bit space is fine: iova + size - 1 = U64_MAX.
    assert.equal(iotlb.update(0, 0xfffffffffffff000n, 0x1000n, 0x1000n, VHOST_ACCESS_RW), 0);
    assert.equal(c[M.iotlb_pinned], 1);
  });

  it('maps a perm that is not ro/wo/rw anyway, with a WARN, as perm_to_iommu_flags() does', () => {
    const { iotlb, c } = device();
    assert.equal(iotlb.update(0, 0n, 0x1000n, 0x1000n, 0), 0);
    assert.equal(iotlb.update(0, 0x1000n, 0x1000n, 0x1000n, 7), 0);
    assert.equal(c[M.iotlb_perm_warns], 2);
    assert.equal(c[M.iotlb_pinned], 2);
  });
});

describe('iotlb_invalidate', () => {
  it('unmaps and unpins every entry overlapping the range, whole', () => {
    const { iotlb, c } = device();
    mapTwoRanges(iotlb);
    // One page inside the 2 MiB entry removes all 512 of its pages.
    assert.equal(iotlb.invalidate(0, 0x100000000n + MiB, 0x1000n), 0);
    assert.equal(c[M.iotlb_pinned], 256);
    assert.equal(c[M.iotlb_maps], 1);
    // A range covering both the remaining entry and unmapped space.
    assert.equal(iotlb.invalidate(0, 0n, 0x200000000n), 0);
    assert.equal(c[M.iotlb_pinned], 0);
    assert.equal(c[M.iotlb_maps], 0);
  });

  it('succeeds and does nothing on an unmapped range of an existing address space', () => {
    const { iotlb, c } = device();
    mapTwoRanges(iotlb);
    assert.equal(iotlb.invalidate(0, 0x80000000n, MiB), 0);
    assert.equal(iotlb.invalidate(0, 0n, MiB), 0);
    assert.equal(iotlb.invalidate(0, 0n, MiB), 0);
    assert.equal(c[M.iotlb_pinned], 512);
  });

  it('refuses an address space that was never created with -EINVAL', () => {
    const { iotlb } = device();
    assert.equal(iotlb.invalidate(1, 0n, MiB), -ERRNO.EINVAL);
  });

  it('with size 0 queries [iova, iova - 1]: from iova 0 that wraps to the whole space', () => {
    const { iotlb, c } = device();
    mapTwoRanges(iotlb);
    // From iova 0x80000: last = 0x7ffff, only the entry straddling 0x7ffff/0x80000 goes.
    assert.equal(iotlb.invalidate(0, 0x80000n, 0n), 0);
    assert.equal(c[M.iotlb_pinned], 512);
    assert.equal(iotlb.invalidate(0, 0n, 0n), 0);
    assert.equal(c[M.iotlb_pinned], 0);
  });
});

describe('iotlb batching', () => {
  it('reaches the device as one commit per batch, and one per message outside a batch', () => {
    const { iotlb, c } = device();
    assert.equal(iotlb.batchBegin(0), 0);
    mapTwoRanges(iotlb);
    assert.equal(iotlb.invalidate(0, 0n, MiB), 0);
    assert.equal(c[M.iotlb_device_commits], 0);
    assert.equal(iotlb.batchEnd(0), 0);
    assert.equal(c[M.iotlb_device_commits], 1);
    assert.equal(c[M.iotlb_pinned], 512);
    assert.equal(iotlb.update(0, 0n, MiB, 0x1000n, VHOST_ACCESS_RW), 0);
    assert.equal(c[M.iotlb_device_commits], 2);
  });

  it('refuses messages for another asid inside a batch with -EINVAL', () => {
    const { iotlb, c } = device();
    assert.equal(iotlb.batchBegin(1), 0);
    assert.equal(iotlb.update(0, 0n, MiB, 0x1000n, VHOST_ACCESS_RW), -ERRNO.EINVAL);
    assert.equal(iotlb.batchEnd(0), -ERRNO.EINVAL);
    assert.equal(iotlb.batchEnd(1), 0);
    assert.equal(c[M.iotlb_pinned], 0);
  });

  it('refuses batch_end for an address space that does not exist, accepts it without a batch', () => {
    const { iotlb } = device();
    assert.equal(iotlb.batchEnd(0), -ERRNO.EINVAL);
    assert.equal(iotlb.update(0, 0n, 0x1000n, 0x1000n, VHOST_ACCESS_RW), 0);
    assert.equal(iotlb.batchEnd(0), 0);
  });
});

describe('vdpa_close (release) of a device with two ranges mapped and never invalidated', () => {
  const leftBehind = (release: VdpaRelease): Record<string, number> => {
    const { iotlb, c } = device(release);
    mapTwoRanges(iotlb);
    assert.equal(iotlb.close(), 0);
    return {
      pinned: c[M.iotlb_pinned]!,
      leaked: c[M.iotlb_leaked]!,
      leakedMaps: c[M.iotlb_leaked_maps]!,
      freedDomainUses: c[M.iotlb_freed_domain_uses]!,
      maps: c[M.iotlb_maps]!,
    };
  };

  it('leaky: leaks exactly their 768 pinned pages and both entries', () => {
    assert.deepEqual(leftBehind('leaky'), { pinned: 768, leaked: 768, leakedMaps: 2, freedDomainUses: 0, maps: 0 });
  });

  it('free-first: unpins everything but both unmaps use the freed domain', () => {
    assert.deepEqual(leftBehind('free-first'), { pinned: 0, leaked: 0, leakedMaps: 0, freedDomainUses: 2, maps: 0 });
  });

  it('clean: leaves nothing behind', () => {
    assert.deepEqual(leftBehind('clean'), { pinned: 0, leaked: 0, leakedMaps: 0, freedDomainUses: 0, maps: 0 });
  });

  it('reports per release and reopens empty: a second close after remapping adds to the totals', () => {
    const { iotlb, c } = device('leaky');
    mapTwoRanges(iotlb);
    iotlb.close();
    assert.deepEqual(iotlb.lastRelease, { leakedPages: 768, leakedMaps: 2, freedDomainUses: 0 });
    assert.deepEqual(iotlb.maps(0), []);
    // The reopened device has no entries: the same ranges map again.
    mapTwoRanges(iotlb);
    assert.equal(c[M.iotlb_pinned], 1536);
    iotlb.close();
    assert.equal(c[M.iotlb_leaked], 1536);
  });

  it('a device whose ranges were all invalidated releases cleanly under every knob', () => {
    for (const release of ['leaky', 'free-first', 'clean'] as const) {
      const { iotlb, c } = device(release);
      mapTwoRanges(iotlb);
      iotlb.invalidate(0, 0n, 0x200000000n);
      iotlb.close();
      assert.deepEqual([c[M.iotlb_leaked], c[M.iotlb_freed_domain_uses]], [0, 0], release);
    }
  });
});

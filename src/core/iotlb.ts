// vhost-vdpa's IOTLB (drivers/vhost/vdpa.c, drivers/vhost/iotlb.c) for a device behind a platform IOMMU:
// per address space id an interval map iova -> (uaddr, perm) whose every entry pins its user pages, the
// batching rules of VHOST_IOTLB_BATCH_BEGIN/END, and the release path. Release is where kernels differ
// (profile knob `vdpa-release`), so the model reports what each one leaves behind.
//
// Every method is one IOTLB message or the release of the file, and returns what
// vhost_vdpa_process_iotlb_msg() returns: 0 or -errno. (write(2) on the vhost-vdpa fd turns any non-zero
// result into -EFAULT in vhost_chr_write_iter(); the trace records the driver's errno, which says why.)
// Ioctl rate, not the access hot path: bigint arguments and one small object per mapping.

import { ERRNO, PAGE_SHIFT, PAGE_SIZE, VHOST_ACCESS_RO, VHOST_ACCESS_RW, VHOST_ACCESS_WO } from './abi.js';
import { M } from './metrics.js';

/** What vhost_vdpa_release() does with the address spaces and the IOMMU domain (profile knob). */
export type VdpaRelease = 'clean' | 'leaky' | 'free-first';

/**
 * Address spaces per device (vdpa_device.nas): 2 for vdpa_sim_net and mlx5_vdpa (data and control
 * virtqueue groups). vhost_vdpa_alloc_as() refuses asid >= nas.
 */
export const VDPA_DEFAULT_NAS = 2;

const U64_MAX = (1n << 64n) - 1n;
const PAGE_MASK = ~BigInt(PAGE_SIZE - 1) & U64_MAX;
const PAGE_SHIFT_N = BigInt(PAGE_SHIFT);

/** One struct vhost_iotlb_map: [start, last] inclusive, page aligned, pinning `pages` user pages. */
export interface IotlbMap {
  readonly start: bigint;
  readonly last: bigint;
  readonly uaddr: bigint;
  readonly perm: number;
  readonly pages: number;
}

/** What one release left behind (all zero for a clean release). */
export interface ReleaseReport {
  /** Pinned user pages never unpinned (leaky). */
  leakedPages: number;
  /** IOTLB entries never unmapped (leaky). */
  leakedMaps: number;
  /** Unmaps issued to the IOMMU domain after it was freed (free-first). */
  freedDomainUses: number;
}

/**
 * One address space (struct vhost_vdpa_as). Entries never overlap (an overlapping update is refused),
 * so a start-sorted array answers interval queries with a binary search.
 */
class AddressSpace {
  readonly maps: IotlbMap[] = [];

  /** Index of the first entry overlapping [start, last] (vhost_iotlb_itree_first), or -1. */
  first(start: bigint, last: bigint): number {
    // The first entry that ends at or after `start`; it overlaps when it also begins by `last`.
    let lo = 0;
    let hi = this.maps.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.maps[mid]!.last < start) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.maps.length && this.maps[lo]!.start <= last ? lo : -1;
  }

  insert(map: IotlbMap): void {
    let i = this.maps.length;
    while (i > 0 && this.maps[i - 1]!.start > map.start) i--;
    this.maps.splice(i, 0, map);
  }
}

export class VdpaIotlb {
  private readonly as = new Map<number, AddressSpace>();
  private inBatch = false;
  private batchAsid = 0;
  /** The report of the latest release, if any. */
  lastRelease: ReleaseReport | undefined;

  constructor(
    readonly release: VdpaRelease,
    private readonly counters: Float64Array,
    readonly nas: number = VDPA_DEFAULT_NAS,
  ) {}

  /** VHOST_IOTLB_UPDATE: pin the user pages behind [uaddr, uaddr + size) and map them at iova. */
  update(asid: number, iova: bigint, size: bigint, uaddr: bigint, perm: number): number {
    // vhost_chr_write_iter() refuses an empty update before the driver sees it.
    if (size === 0n) return -ERRNO.EINVAL;
    const as = this.findAllocAs(asid);
    if (as === undefined || this.otherBatch(asid)) return -ERRNO.EINVAL;
    // vhost_vdpa_process_iotlb_update(): the iova range is [0, U64_MAX] without an aperture; the
    // range must not wrap.
    if (iova > U64_MAX - size + 1n) return -ERRNO.EINVAL;
    if (as.first(iova, iova + size - 1n) >= 0) return -ERRNO.EEXIST;
    // perm is a __u8; perm_to_iommu_flags() only WARNs on a value that is not RO/WO/RW and maps anyway
    // (with no access bits at all).
    const p = perm & 0xff;
    if (p !== VHOST_ACCESS_RO && p !== VHOST_ACCESS_WO && p !== VHOST_ACCESS_RW) {
      this.counters[M.iotlb_perm_warns]!++;
    }
    // vhost_vdpa_pa_map(): npages = PFN_UP(size + (iova & ~PAGE_MASK)) from the page of iova. The pages
    // are pinned in one go and mapped as physically contiguous runs; the model treats each update as one
    // run (one entry, one iommu_map).
    const pages = Number((size + (iova & BigInt(PAGE_SIZE - 1)) + BigInt(PAGE_SIZE - 1)) >> PAGE_SHIFT_N);
    const start = iova & PAGE_MASK;
    as.insert({
      start,
      last: start + (BigInt(pages) << PAGE_SHIFT_N) - 1n,
      uaddr: uaddr & PAGE_MASK,
      perm: p,
      pages,
    });
    this.counters[M.iotlb_pinned]! += pages;
    this.counters[M.iotlb_maps]!++;
    this.commit();
    return 0;
  }

  /**
   * VHOST_IOTLB_INVALIDATE: vhost_vdpa_unmap() frees every entry overlapping [iova, iova + size - 1]
   * whole (not just the overlapping part) and unpins its pages. Invalidating an unmapped range does
   * nothing and succeeds. Since 2023 a zero size reaches the driver: `last` wraps to iova - 1, which for
   * iova 0 is U64_MAX, i.e. the whole address space.
   */
  invalidate(asid: number, iova: bigint, size: bigint): number {
    const as = this.as.get(asid);
    if (as === undefined || this.otherBatch(asid)) return -ERRNO.EINVAL;
    const last = (iova + size - 1n) & U64_MAX;
    this.unmapRange(as, iova, last);
    this.commit();
    return 0;
  }

  /** VHOST_IOTLB_BATCH_BEGIN: later messages for this asid reach the device as one update at the end. */
  batchBegin(asid: number): number {
    if (this.findAllocAs(asid) === undefined || this.otherBatch(asid)) return -ERRNO.EINVAL;
    this.batchAsid = asid;
    this.inBatch = true;
    return 0;
  }

  /** VHOST_IOTLB_BATCH_END: one set_map() with everything the batch changed. */
  batchEnd(asid: number): number {
    if (!this.as.has(asid) || this.otherBatch(asid)) return -ERRNO.EINVAL;
    if (this.inBatch) this.counters[M.iotlb_device_commits]!++;
    this.inBatch = false;
    return 0;
  }

  /**
   * vhost_vdpa_release() -> vhost_vdpa_cleanup(): `clean` removes every address space (unmap + unpin)
   * then frees the domain; `free-first` frees the domain first, so each unmap that follows is a use of
   * a freed domain; `leaky` frees the domain and never unmaps, so pins and entries stay behind. The next
   * message reaches a freshly opened device (vhost_vdpa_open(): no address spaces, no batch).
   */
  close(): number {
    const report: ReleaseReport = { leakedPages: 0, leakedMaps: 0, freedDomainUses: 0 };
    for (let asid = 0; asid < this.nas; asid++) {
      const as = this.as.get(asid);
      if (as === undefined) continue;
      if (this.release === 'leaky') {
        for (const map of as.maps) {
          report.leakedPages += map.pages;
          report.leakedMaps++;
        }
        // The pages stay pinned: iotlb.pinned keeps counting them.
        this.counters[M.iotlb_maps]! -= as.maps.length;
      } else {
        const unmapped = this.unmapRange(as, 0n, U64_MAX);
        if (this.release === 'free-first') report.freedDomainUses += unmapped;
      }
    }
    this.as.clear();
    this.inBatch = false;
    this.counters[M.iotlb_leaked]! += report.leakedPages;
    this.counters[M.iotlb_leaked_maps]! += report.leakedMaps;
    this.counters[M.iotlb_freed_domain_uses]! += report.freedDomainUses;
    this.lastRelease = report;
    return 0;
  }

  /** The entries of one address space, in iova order (empty when it does not exist). */
  maps(asid: number): readonly IotlbMap[] {
    return this.as.get(asid)?.maps ?? [];
  }

  get pinnedPages(): number {
    return this.counters[M.iotlb_pinned]!;
  }

  /** vhost_vdpa_find_alloc_as(): an address space is created by its first update or batch begin. */
  private findAllocAs(asid: number): AddressSpace | undefined {
    let as = this.as.get(asid);
    if (as === undefined && asid < this.nas) {
      as = new AddressSpace();
      this.as.set(asid, as);
    }
    return as;
  }

  /** vhost_vdpa_process_iotlb_msg(): inside a batch, messages for another asid are refused. */
  private otherBatch(asid: number): boolean {
    return this.inBatch && this.batchAsid !== asid;
  }

  /** vhost_vdpa_pa_unmap(): free and unpin every entry overlapping [start, last]; returns how many. */
  private unmapRange(as: AddressSpace, start: bigint, last: bigint): number {
    let n = 0;
    for (let i = as.first(start, last); i >= 0; i = as.first(start, last)) {
      const map = as.maps[i]!;
      as.maps.splice(i, 1);
      this.counters[M.iotlb_pinned]! -= map.pages;
      this.counters[M.iotlb_maps]!--;
      n++;
    }
    return n;
  }

  /** Outside a batch, every change reaches the device at once (set_map / iommu_map per message). */
  private commit(): void {
    if (!this.inBatch) this.counters[M.iotlb_device_commits]!++;
  }
}

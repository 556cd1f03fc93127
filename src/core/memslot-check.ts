// KVM_SET_USER_MEMORY_REGION2 validation, check for check and errno for errno in the kernel's order:
// kvm_vm_ioctl_set_memory_region() -> kvm_set_memory_region() (check_memory_region_flags(), the
// general sanity checks, delete/create/modify classification, overlap) -> kvm_gmem_bind() ->
// kvm_arch_prepare_memory_region(). The guest_memfd binding and the arch step are done by the Vm at
// their point in this order (see Vm.setUserMemoryRegion2); this file classifies the request.

import {
  ERRNO,
  KVM_ADDRESS_SPACE_NUM,
  KVM_MEM_GUEST_MEMFD,
  KVM_MEM_LOG_DIRTY_PAGES,
  KVM_MEM_READONLY,
  KVM_USER_MEM_SLOTS,
  PAGE_SHIFT,
} from './abi.js';
import type { Memslots } from './memslots.js';

// enum kvm_mr_change
export const KVM_MR_CREATE = 0;
export const KVM_MR_DELETE = 1;
export const KVM_MR_MOVE = 2;
export const KVM_MR_FLAGS_ONLY = 3;
/** Identical parameters on an existing slot: KVM returns 0 and changes nothing. */
export const KVM_MR_NONE = 4;

/** KVM_MEM_MAX_NR_PAGES: dirty bitmaps are indexed by an unsigned int. */
export const KVM_MEM_MAX_NR_PAGES = 2 ** 31 - 1;
/** x86-64 TASK_SIZE_MAX with 4-level paging, the bound access_ok() checks (USER_PTR_MAX). */
export const TASK_SIZE_MAX = 0x7ffffffff000n;
const U64_MAX = (1n << 64n) - 1n;
const PAGE_MASK = BigInt((1 << PAGE_SHIFT) - 1);

export interface RegionRequest {
  slot: number;
  flags: number;
  gpa: bigint;
  size: bigint;
  hva: bigint;
  gmemOffset: bigint;
}

export interface RegionChange {
  change: number;
  id: number;
  baseGfn: number;
  npages: number;
  hvaPfn: number;
}

/** check_memory_region_flags(): this model has private memory and read-only memory. */
export function checkMemoryRegionFlags(flags: number): number {
  let valid = KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_GUEST_MEMFD;
  // Dirty logging private memory is not supported; guest_memfd slots cannot be read-only.
  if ((flags & KVM_MEM_GUEST_MEMFD) !== 0) valid &= ~KVM_MEM_LOG_DIRTY_PAGES;
  else valid |= KVM_MEM_READONLY;
  return (flags & ~valid) !== 0 ? -ERRNO.EINVAL : 0;
}

/** x86 access_ok(): the whole range below the user address limit, without wrapping. */
function accessOk(hva: bigint, size: bigint): boolean {
  const sum = hva + size;
  return sum <= TASK_SIZE_MAX && sum <= U64_MAX;
}

/**
 * Classify a request against the current slots. Returns a negative errno, or 0 with `out` filled in
 * (out.change is one of KVM_MR_*). The overlap check (EEXIST) is included; binding and arch checks
 * come after it and are the caller's.
 */
export function classifyRegion(slots: Memslots, req: RegionRequest, out: RegionChange): number {
  // kvm_vm_ioctl_set_memory_region(): user slots only.
  if ((req.slot & 0xffff) >= KVM_USER_MEM_SLOTS) return -ERRNO.EINVAL;
  const r = checkMemoryRegionFlags(req.flags);
  if (r !== 0) return r;
  const asId = req.slot >>> 16;
  const id = req.slot & 0xffff;
  const { gpa, size, hva } = req;
  if ((size & PAGE_MASK) !== 0n) return -ERRNO.EINVAL;
  if ((gpa & PAGE_MASK) !== 0n) return -ERRNO.EINVAL;
  if ((hva & PAGE_MASK) !== 0n || !accessOk(hva, size)) return -ERRNO.EINVAL;
  if ((req.flags & KVM_MEM_GUEST_MEMFD) !== 0) {
    if ((req.gmemOffset & PAGE_MASK) !== 0n || req.gmemOffset + size > U64_MAX) return -ERRNO.EINVAL;
  }
  if (asId >= KVM_ADDRESS_SPACE_NUM) return -ERRNO.EINVAL;
  if (gpa + size > U64_MAX) return -ERRNO.EINVAL;
  if (size >> BigInt(PAGE_SHIFT) > BigInt(KVM_MEM_MAX_NR_PAGES)) return -ERRNO.EINVAL;

  out.id = id;
  const exists = slots.used[id] === 1;
  if (size === 0n) {
    if (!exists) return -ERRNO.EINVAL;
    out.change = KVM_MR_DELETE;
    return 0;
  }
  const baseGfn = Number(gpa >> BigInt(PAGE_SHIFT));
  const npages = Number(size >> BigInt(PAGE_SHIFT));
  const hvaPfn = Number(hva >> BigInt(PAGE_SHIFT));
  out.baseGfn = baseGfn;
  out.npages = npages;
  out.hvaPfn = hvaPfn;
  if (!exists) {
    out.change = KVM_MR_CREATE;
  } else {
    // Private memslots are immutable: they can only be deleted (observed: dropping the flag too).
    if (((req.flags | slots.flags[id]!) & KVM_MEM_GUEST_MEMFD) !== 0) return -ERRNO.EINVAL;
    if (
      hvaPfn !== slots.hvaPfn[id] ||
      npages !== slots.npages[id] ||
      ((req.flags ^ slots.flags[id]!) & KVM_MEM_READONLY) !== 0
    ) {
      return -ERRNO.EINVAL;
    }
    if (baseGfn !== slots.baseGfn[id]) out.change = KVM_MR_MOVE;
    else if (req.flags !== slots.flags[id]) out.change = KVM_MR_FLAGS_ONLY;
    else out.change = KVM_MR_NONE;
  }
  if ((out.change === KVM_MR_CREATE || out.change === KVM_MR_MOVE) && slots.overlaps(id, baseGfn, baseGfn + npages)) {
    return -ERRNO.EEXIST;
  }
  return 0;
}

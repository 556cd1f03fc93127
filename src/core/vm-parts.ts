// The state one VM's modules share (memslot updates, the fault path, dirty logging, private memory,
// the host mm): `Vm` owns it and hands itself to each module as this interface, the way KVM's
// handlers all take the one `struct kvm`. The profile's architecture choices are read once here.

import { PAGE_SHIFT } from './abi.js';
import type { MemoryAttributes } from './attributes.js';
import type { ConversionLog } from './conversions.js';
import type { GuestMemfds } from './gmem.js';
import type { HostMemory } from './hostmm.js';
import type { Memslots } from './memslots.js';
import { kernelVersion, type Profile } from './profile.js';
import type { Stage2 } from './stage2/table.js';
import type { Stage2Mmu } from './stage2/visitors.js';

export interface VmParts {
  readonly profile: Profile;
  readonly counters: Float64Array;
  readonly slots: Memslots;
  readonly host: HostMemory;
  readonly gmem: GuestMemfds;
  readonly attributes: MemoryAttributes;
  readonly conversions: ConversionLog;
  readonly stage2: Stage2;
  readonly mmu: Stage2Mmu;
}

/** What the profile's architecture and knobs change in the modeled rules. */
export interface VmArch {
  readonly arm64: boolean;
  /** x86 NX huge page mitigation: exec faults map 4K, huge leaves are mapped non-executable. */
  readonly nxHugePages: boolean;
  /** Eager huge page split when dirty logging starts (x86 eager_page_split, arm64 eager split chunk). */
  readonly eagerSplit: boolean;
  // ---- x86 rules by version and VM type (docs/kvm-rules.md, x86 section) ----
  /**
   * Deleting or moving a memslot zaps every mapping of the VM (kvm_arch_flush_shadow_memslot() ->
   * kvm_mmu_zap_all_fast()): always before 6.12, and with KVM_X86_QUIRK_SLOT_ZAP_ALL on a default VM after.
   */
  readonly slotZapAll: boolean;
  /** Dirty logging off rebuilds huge mappings in place (kvm_mmu_recover_huge_pages(), 6.13+). */
  readonly recoverHugeInPlace: boolean;
  /** Intel PML: dirty logging clears D bits on 4K leaves instead of write-protecting them. */
  readonly pml: boolean;
  /** KVM_SET_MEMORY_ATTRIBUTES exists (x86: not for KVM_X86_DEFAULT_VM). */
  readonly memoryAttributes: boolean;
}

export function vmArch(profile: Profile): VmArch {
  const arm64 = profile.arch === 'arm64-s2';
  return {
    arm64,
    nxHugePages: !arm64 && profile.knobs['nx-huge-pages'] === 'on',
    eagerSplit: profile.knobs['eager-split'] === 'on',
    slotZapAll:
      !arm64 &&
      profile.knobs['vm-type'] === 'default' &&
      (profile.versionCode < kernelVersion('6.12') || profile.knobs['slot-zap-all'] === 'on'),
    recoverHugeInPlace: !arm64 && profile.versionCode >= kernelVersion('6.13'),
    pml: !arm64 && profile.knobs.pml === 'on',
    memoryAttributes: arm64 || profile.knobs['vm-type'] === 'sw-protected',
  };
}

/** Byte addresses to page numbers on the ioctl (bigint) side. */
export const PAGE_SHIFT_N = BigInt(PAGE_SHIFT);

/** Pages touched by [addr, addr + size). */
export function pagesOf(addr: bigint, size: bigint): number {
  if (size === 0n) return 0;
  const first = addr >> PAGE_SHIFT_N;
  const last = (addr + size - 1n) >> PAGE_SHIFT_N;
  return Number(last - first + 1n);
}

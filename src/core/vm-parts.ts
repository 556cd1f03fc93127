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
  /**
   * Eager huge page split when dirty logging starts: x86 eager_page_split; arm64 a non-zero
   * KVM_CAP_ARM_EAGER_SPLIT_CHUNK_SIZE (0 by default: kvm_mmu_split_huge_pages() splits nothing).
   */
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
  /**
   * x86: a read fault maps writable when the host page is writable, also on a dirty-logged slot, and
   * marks it dirty (hva_to_pfn(), make_spte(); docs/kvm-rules.md, x86.read-fault-writable). arm64
   * maps a read fault on a logging slot read-only (user_mem_abort()).
   */
  readonly logReadMapsWritable: boolean;
  // ---- host mm (docs/kvm-rules.md, common.host-pages) ----
  /** A write to the huge zero page allocates a THP (do_huge_zero_wp_pmd(), 6.13+); before, it splits to 4K. */
  readonly hugeZeroWriteAllocates: boolean;
  // ---- arm64 ----
  /**
   * arm64 without FEAT_DIC: data faults map pages non-executable; an instruction fetch then takes a
   * permission fault that makes the page executable (user_mem_abort(), ARM64_HAS_CACHE_DIC).
   */
  readonly execOnlyOnExecFault: boolean;
  /** Levels of the stage-2 table: 4, or 3 for arm64's default 40-bit IPA (start level 1). */
  readonly stage2Levels: 3 | 4;
  /** First gfn past the guest physical address space: memslots past it fail (kvm_arch_prepare_memory_region()). */
  readonly ipaPages: number;
}

/** x86 kvm_mmu_max_gfn() with a 52-bit MAXPHYADDR host (observed: gpa 0xffffffffff000 accepted). */
export const X86_MAX_GFN = 2 ** 40 - 1;

export function vmArch(profile: Profile): VmArch {
  const arm64 = profile.arch === 'arm64-s2';
  const k = profile.knobs;
  return {
    arm64,
    nxHugePages: !arm64 && k['nx-huge-pages'] === 'on',
    eagerSplit: arm64 ? k['split-chunk'] !== '0' : k['eager-split'] === 'on',
    execOnlyOnExecFault: arm64 && k.dic === 'off',
    // kvm_init_stage2_mmu() -> kvm_pgtable_stage2_init(): 40 IPA bits with the 4K granule take 3 levels.
    stage2Levels: arm64 && k.ipa === '40' ? 3 : 4,
    // kvm_phys_size(): 2^ipa bytes of 4K pages.
    ipaPages: arm64 ? 2 ** (Number(k.ipa) - PAGE_SHIFT) : X86_MAX_GFN + 1,
    // x86 rules by version and VM type (docs/kvm-rules.md, x86 section).
    slotZapAll: !arm64 && k['vm-type'] === 'default' && (profile.versionCode < kernelVersion('6.12') || k['slot-zap-all'] === 'on'),
    recoverHugeInPlace: !arm64 && profile.versionCode >= kernelVersion('6.13'),
    pml: !arm64 && k.pml === 'on',
    memoryAttributes: arm64 || k['vm-type'] === 'sw-protected',
    logReadMapsWritable: !arm64,
    hugeZeroWriteAllocates: profile.versionCode >= kernelVersion('6.13'),
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

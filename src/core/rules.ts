// The modeled kernel rules that depend on a profile (architecture, version, knobs), each with where the
// kernel decides it and the test that shows it: docs/kvm-rules.md is the prose, this is the list the
// code answers from. `s2bench profiles --diff A B` prints the rules whose answer differs between two
// profiles. A rule's `answer` is what the model does under a profile, in a few words; the code that
// does it reads the same profile fields (the fault path, memslot updates, dirty logging, ...).

import { kernelVersion, type Profile } from './profile.js';

export interface KernelRule {
  /** Short stable id, e.g. `x86.nx-huge-pages`. */
  readonly id: string;
  /** What the rule decides, in one line. */
  readonly summary: string;
  /** Kernel file and function that decide it (the authority). */
  readonly kernel: string;
  /** The test (file and test name) that shows the model follows it. */
  readonly test: string;
  /** What the model does under `profile`, in a few words; undefined where the rule does not apply. */
  readonly answer: (profile: Profile) => string | undefined;
}

const x86 = (p: Profile): boolean => p.arch === 'x86-tdp';
/** The profile's kernel is `version` or newer. */
const since = (p: Profile, version: string): boolean => p.versionCode >= kernelVersion(version);

const DIRTY_TEST = 'test/core/dirty-manual-protect.test.ts';

/** Rules of the x86 TDP MMU and of the common code (virt/kvm) as x86 runs it. */
export const X86_RULES: readonly KernelRule[] = [
  {
    id: 'x86.nx-huge-pages',
    summary: 'an instruction fetch from a huge mapping splits it into executable 4K leaves, and the split range stays 4K',
    kernel: 'arch/x86/kvm/mmu/mmu.c: kvm_mmu_hugepage_adjust(), disallowed_hugepage_adjust(); spte.c make_small_spte()',
    test: "test/core/kvm-rules.test.ts: 'x86.nx-huge-pages: split for an instruction fetch'",
    answer: (p) => (x86(p) ? (p.knobs['nx-huge-pages'] === 'on' ? 'exec faults map 4K' : 'exec faults keep huge mappings') : undefined),
  },
  {
    id: 'x86.eager-split',
    summary: 'enabling dirty logging splits huge mappings to 4K at once instead of on write faults',
    kernel: 'arch/x86/kvm/mmu/tdp_mmu.c: kvm_tdp_mmu_try_split_huge_pages() (module param eager_page_split)',
    test: "test/core/mapping-level.test.ts: 'splits lazily, on the first write, when eager page split is off'",
    answer: (p) => (x86(p) ? (p.knobs['eager-split'] === 'on' ? 'split when logging starts' : 'split on write faults') : undefined),
  },
  // ---- issue 12: versions, hardware and VM types (docs/kvm-rules.md, x86 section) ----
  {
    id: 'x86.slot-zap-all',
    summary: 'deleting or moving a memslot zaps every mapping of the VM, or only the slot\'s',
    kernel: 'arch/x86/kvm/mmu/mmu.c: kvm_arch_flush_shadow_memslot(), kvm_memslot_flush_zap_all(), kvm_mmu_zap_all_fast()',
    test: "test/core/kvm-rules.test.ts: 'x86.slot-zap-all: deleting a memslot'",
    answer: (p) => {
      if (!x86(p)) return undefined;
      if (!since(p, '6.12')) return 'zap every mapping (no quirk before 6.12)';
      if (p.knobs['vm-type'] !== 'default') return 'zap the slot only (not a default VM)';
      return p.knobs['slot-zap-all'] === 'on' ? 'zap every mapping (SLOT_ZAP_ALL quirk on)' : 'zap the slot only (quirk off)';
    },
  },
  {
    id: 'x86.recover-huge',
    summary: 'turning dirty logging off rebuilds huge mappings in place, or zaps the 4K leaves to refault huge',
    kernel: 'arch/x86/kvm/mmu/tdp_mmu.c: recover_huge_pages_range() (6.13+; before: zap_collapsible_spte_range())',
    test: "test/core/kvm-rules.test.ts: 'x86.recover-huge: dirty logging turned off'",
    answer: (p) => (x86(p) ? (since(p, '6.13') ? 'rebuild huge in place, one flush' : 'zap collapsible 4K leaves, refault huge') : undefined),
  },
  {
    id: 'x86.pml',
    summary: 'dirty logging on 4K leaves: PML clears D bits and logs writes without faults, else write-protects',
    kernel: 'arch/x86/kvm/mmu/mmu.c: kvm_arch_mmu_enable_log_dirty_pt_masked() (kvm_mmu_slot_apply_flags() in x86.c)',
    test: "test/core/kvm-rules.test.ts: 'x86.pml: dirty logging with and without PML'",
    answer: (p) => (x86(p) ? (p.knobs.pml === 'on' ? 'clear D bits; no write-protect faults on 4K' : 'write-protect; a write fault per page per round') : undefined),
  },
  {
    id: 'x86.vm-type',
    summary: 'KVM_SET_MEMORY_ATTRIBUTES exists only for VM types with private memory',
    kernel: 'virt/kvm/kvm_main.c: kvm_vm_ioctl() (KVM_SET_MEMORY_ATTRIBUTES), kvm_supported_mem_attributes()',
    test: "test/core/kvm-rules.test.ts: 'x86.vm-type: memory attributes'",
    answer: (p) => (x86(p) ? (p.knobs['vm-type'] === 'sw-protected' ? 'attributes and private memory' : 'attrs rows fail with ENOTTY') : undefined),
  },
  {
    id: 'x86.private-noslot',
    summary: 'a private access to a gfn with no memslot is a memory-fault exit, not MMIO',
    kernel: 'arch/x86/kvm/mmu/mmu.c: kvm_mmu_faultin_pfn(), kvm_handle_noslot_fault()',
    test: "test/core/kvm-rules.test.ts: 'x86.private-noslot'",
    answer: (p) => (x86(p) ? 'memory-fault exit' : undefined),
  },
  {
    id: 'x86.flush-counts',
    summary: 'TLB flushes: once per logging enable (not for the eager split), once per notifier call, on a table replaced by a huge leaf',
    kernel: 'arch/x86/kvm/x86.c: kvm_mmu_slot_apply_flags(); virt/kvm/kvm_main.c: kvm_handle_hva_range(); tdp_mmu.c tdp_mmu_map_handle_target_level()',
    test: "test/core/kvm-rules.test.ts: 'x86.flush-counts'",
    answer: (p) => (x86(p) ? 'one flush per operation' : undefined),
  },
  {
    id: 'common.gmem-alloc',
    summary: 'fallocate() on a guest_memfd takes the trace\'s mode; allocating past the end of the file is EINVAL',
    kernel: 'virt/kvm/guest_memfd.c: kvm_gmem_fallocate(), kvm_gmem_allocate()',
    test: "test/core/kvm-rules.test.ts: 'common.gmem-alloc'",
    answer: () => 'mode from the trace; EINVAL past EOF',
  },
  {
    id: 'common.gmem-folio',
    summary: 'guest_memfd folio size behind private memory: order-0 upstream; 2M and 1G are what-ifs',
    kernel: 'virt/kvm/guest_memfd.c: kvm_gmem_get_folio(), __kvm_gmem_get_pfn() (max_order 0)',
    test: "test/private/gmem.test.ts",
    answer: (p) => (p.knobs['gmem-folio'] === '4k' ? '4K folios (upstream)' : `${p.knobs['gmem-folio']} folios (what-if: out-of-tree hugetlb guest_memfd)`),
  },
  {
    id: 'x86.read-fault-writable',
    summary: 'a read fault maps writable when the host page is writable, also on a dirty-logged slot, where it is logged at once',
    kernel: 'virt/kvm/kvm_main.c: hva_to_pfn() ("map read fault as writable if possible"); arch/x86/kvm/mmu/spte.c: make_spte() (mark_page_dirty_in_slot())',
    test: "test/core/kvm-rules.test.ts: 'x86.read-fault-writable: a read fault on a dirty-logged slot'",
    answer: (p) => (x86(p) ? 'writable if the host page is; logged on a logging slot' : undefined),
  },
  {
    id: 'common.host-pages',
    summary: 'host pages start missing; a read of anonymous memory maps the (huge) zero page read-only, a later write copies it (notifier zap, the fault retries)',
    kernel: 'mm/memory.c: do_anonymous_page(), do_wp_page(); mm/huge_memory.c: do_huge_pmd_anonymous_page(), do_huge_zero_wp_pmd() (6.13+); virt/kvm/kvm_main.c: hva_to_pfn()',
    test: "test/core/kvm-rules.test.ts: 'common.host-pages: unpopulated backing, the zero page and copy-on-write'",
    answer: (p) =>
      since(p, '6.13') ? 'zero page on read; a write to the huge zero page allocates a THP' : 'zero page on read; a write to the huge zero page splits it to 4K',
  },
  // ---- end of issue 12 x86 rules ----
  // ---- dirty logging under KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 (docs/kvm-rules.md) ----
  {
    id: 'common.manual-protect',
    summary: 'KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 (PROTECT_ENABLE [| INITIALLY_SET], or 0; else EINVAL): KVM_GET_DIRTY_LOG only reports',
    kernel: 'virt/kvm/kvm_main.c: kvm_vm_ioctl_enable_cap_generic(), kvm_get_dirty_log_protect()',
    test: `${DIRTY_TEST}: 'KVM_ENABLE_CAP(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2)'`,
    answer: () => 'enable_cap rows; dirty_get reports without clearing while enabled',
  },
  {
    id: 'common.clear-mask',
    summary: 'KVM_CLEAR_DIRTY_LOG clears and re-protects only the pages whose bits the VMM passes, one flush if any',
    kernel: 'virt/kvm/kvm_main.c: kvm_clear_dirty_log_protect()',
    test: `${DIRTY_TEST}: 'KVM_CLEAR_DIRTY_LOG with the bits the VMM passes'`,
    answer: () => '`masked` dirty_clear rows clear only their `bits` rows',
  },
  {
    id: 'x86.init-set',
    summary: 'with INITIALLY_SET a new bitmap is all set and logging on protects nothing; each clear splits and write-protects what it clears',
    kernel: 'arch/x86/kvm/mmu/mmu.c: kvm_arch_mmu_enable_log_dirty_pt_masked(); x86.c kvm_mmu_slot_apply_flags(); kvm_main.c kvm_prepare_memory_region()',
    test: `${DIRTY_TEST}: 'x86: turning logging on protects and splits nothing'`,
    answer: (p) =>
      x86(p) ? (p.knobs['eager-split'] === 'on' ? 'clears split to 4K, then write-protect' : 'clears write-protect huge leaves (split on write)') : undefined,
  },
  {
    id: 'x86.ro-log',
    summary: 'turning logging on or off on a read-only slot, or with a move, write-protects, recovers and flushes nothing',
    kernel: 'arch/x86/kvm/x86.c: kvm_mmu_slot_apply_flags()',
    test: `${DIRTY_TEST}: 'x86: logging on a read-only slot'`,
    answer: (p) => (x86(p) ? 'no protection, no flush' : undefined),
  },
];

// ---- arm64 ------------------------------------------------------------------------------------

/**
 * arm64 and at least kernel `since`, the oldest release the rule is known to hold in: the release that
 * brought it where that is known (eager split chunk: 6.5), else the oldest modeled line it was checked
 * against (6.6). Today every arm64 rule holds in every modeled version.
 */
const arm64Since = (p: Profile, since: string): boolean => p.arch === 'arm64-s2' && p.versionCode >= kernelVersion(since);
const ARM64_TEST = 'test/arm64/rules.test.ts';

/** Rules of arm64 stage-2 (arch/arm64/kvm/mmu.c, hyp/pgtable.c): docs/kvm-rules.md, "arm64". */
export const ARM64_RULES: readonly KernelRule[] = [
  {
    id: 'arm64.eager-split',
    summary: 'enabling dirty logging splits blocks only with a non-zero KVM_CAP_ARM_EAGER_SPLIT_CHUNK_SIZE (0 by default)',
    kernel: 'arch/arm64/kvm/mmu.c: kvm_mmu_split_huge_pages() (KVM_ARM_EAGER_SPLIT_CHUNK_SIZE_DEFAULT = 0), since 6.5',
    test: `${ARM64_TEST}: 'rule 1'`,
    answer: (p) => (arm64Since(p, '6.5') ? (p.knobs['split-chunk'] === '0' ? 'no split when logging starts' : 'split to 4K when logging starts') : undefined),
  },
  {
    id: 'arm64.log-block-break',
    summary: 'a write to a block of a logging slot breaks it into an EMPTY table: the other 511 pages fault again',
    kernel: 'arch/arm64/kvm/hyp/pgtable.c: stage2_map_walk_leaf(), stage2_try_break_pte(); mmu.c user_mem_abort()',
    test: `${ARM64_TEST}: 'rule 2'`,
    answer: (p) => (arm64Since(p, '6.6') ? 'block broken into an empty table' : undefined),
  },
  {
    id: 'arm64.log-off',
    summary: 'turning dirty logging off changes nothing in the stage-2: blocks come back only as pages fault again',
    kernel: 'arch/arm64/kvm/mmu.c: kvm_arch_commit_memory_region()',
    test: `${ARM64_TEST}: 'rule 3'`,
    answer: (p) => (arm64Since(p, '6.6') ? 'no zap when logging stops' : undefined),
  },
  {
    id: 'arm64.ro-log',
    summary: 'a read-only slot is never logging: with the log flag it still maps blocks and nothing is write-protected',
    kernel: 'arch/arm64/kvm/mmu.c: memslot_is_logging()',
    test: `${ARM64_TEST}: 'rule 4'`,
    answer: (p) => (arm64Since(p, '6.6') ? 'read-only slots map blocks' : undefined),
  },
  {
    id: 'arm64.ipa',
    summary: 'the IPA size sets the stage-2 levels (40 bits: 3 levels from level 1, 2 root pages; 48: 4) and memslots past it fail',
    kernel: 'arch/arm64/kvm/mmu.c: kvm_arch_prepare_memory_region() (-EFAULT past kvm_phys_size()), kvm_init_stage2_mmu()',
    test: `${ARM64_TEST}: 'rule 5'`,
    answer: (p) => (arm64Since(p, '6.6') ? (p.knobs.ipa === '40' ? '40-bit IPA, 3-level stage-2' : '48-bit IPA, 4-level stage-2') : undefined),
  },
  {
    id: 'arm64.exec-noslot',
    summary: 'an instruction fetch from an IPA with no memslot injects a prefetch abort and KVM_RUN goes on',
    kernel: 'arch/arm64/kvm/mmu.c: kvm_handle_guest_abort() (-ENOEXEC -> kvm_inject_pabt())',
    test: `${ARM64_TEST}: 'rule 6'`,
    answer: (p) => (arm64Since(p, '6.6') ? 'prefetch abort injected (pabt)' : undefined),
  },
  {
    id: 'arm64.dic',
    summary: 'without FEAT_DIC data faults map non-executable and a later fetch takes a permission fault',
    kernel: 'arch/arm64/kvm/mmu.c: user_mem_abort() (ARM64_HAS_CACHE_DIC), kvm_pgtable_stage2_relax_perms()',
    test: `${ARM64_TEST}: 'rule 7'`,
    answer: (p) => (arm64Since(p, '6.6') ? (p.knobs.dic === 'on' ? 'data faults map executable' : 'exec after data fault: permission fault') : undefined),
  },
  {
    id: 'arm64.clear-span',
    summary: 'a dirty-log clear write-protects from the first to the last cleared bit of each 64-page word; with INITIALLY_SET it also splits there, and logging on protects nothing',
    kernel: 'arch/arm64/kvm/mmu.c: kvm_arch_mmu_enable_log_dirty_pt_masked(), kvm_arch_commit_memory_region()',
    test: `${DIRTY_TEST}: 'arm64: logging on protects nothing'`,
    answer: (p) => (arm64Since(p, '6.6') ? 'stage2_wp_range() per word span' : undefined),
  },
];

export const RULES: readonly KernelRule[] = [...X86_RULES, ...ARM64_RULES];

/** Rules whose answer differs between two profiles, with both answers. */
export function ruleDiff(a: Profile, b: Profile): Array<{ rule: KernelRule; a: string | undefined; b: string | undefined }> {
  return RULES.map((rule) => ({ rule, a: rule.answer(a), b: rule.answer(b) })).filter((d) => d.a !== d.b);
}

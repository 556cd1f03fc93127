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

/** Rules of the x86 TDP MMU and of the common code (virt/kvm) as x86 runs it. */
export const X86_RULES: readonly KernelRule[] = [
  {
    id: 'x86.nx-huge-pages',
    summary: 'an instruction fetch from a huge mapping splits it and maps the fetched page at 4K',
    kernel: 'arch/x86/kvm/mmu/mmu.c: kvm_mmu_hugepage_adjust(), disallowed_hugepage_adjust()',
    test: "test/core/mapping-level.test.ts: 'NX huge pages'",
    answer: (p) => (x86(p) ? (p.knobs['nx-huge-pages'] === 'on' ? 'exec faults map 4K' : 'exec faults keep huge mappings') : undefined),
  },
  {
    id: 'x86.eager-split',
    summary: 'enabling dirty logging splits huge mappings to 4K at once instead of on write faults',
    kernel: 'arch/x86/kvm/mmu/tdp_mmu.c: kvm_tdp_mmu_try_split_huge_pages() (module param eager_page_split)',
    test: "test/core/mapping-level.test.ts: 'splits lazily, on the first write, when eager page split is off'",
    answer: (p) => (x86(p) ? (p.knobs['eager-split'] === 'on' ? 'split when logging starts' : 'split on write faults') : undefined),
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
];

export const RULES: readonly KernelRule[] = [...X86_RULES, ...ARM64_RULES];

/** Rules whose answer differs between two profiles, with both answers. */
export function ruleDiff(a: Profile, b: Profile): Array<{ rule: KernelRule; a: string | undefined; b: string | undefined }> {
  return RULES.map((rule) => ({ rule, a: rule.answer(a), b: rule.answer(b) })).filter((d) => d.a !== d.b);
}

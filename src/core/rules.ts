// The modeled kernel rules that depend on a profile (architecture, version, knobs), each with where the
// kernel decides it and the test that shows it: docs/kvm-rules.md is the prose, this is the list the
// code answers from. `s2bench profiles --diff A B` prints the rules whose answer differs between two
// profiles. A rule's `answer` is what the model does under a profile, in a few words; the code that
// does it reads the same profile fields (the fault path, memslot updates, dirty logging, ...).

import type { Profile } from './profile.js';

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

/** Rules of arm64 stage-2 (arch/arm64/kvm/mmu.c, hyp/pgtable.c). */
export const ARM64_RULES: readonly KernelRule[] = [];

export const RULES: readonly KernelRule[] = [...X86_RULES, ...ARM64_RULES];

/** Rules whose answer differs between two profiles, with both answers. */
export function ruleDiff(a: Profile, b: Profile): Array<{ rule: KernelRule; a: string | undefined; b: string | undefined }> {
  return RULES.map((rule) => ({ rule, a: rule.answer(a), b: rule.answer(b) })).filter((d) => d.a !== d.b);
}

// What a guest access ends in. These codes are what the fault handler returns on the hot path (an
// integer, never an object) and what an access row's `ret` cell names in a trace.

/** The access completed (after whatever faults it took). Trace spelling: `ok`. */
export const OUTCOME_OK = 0;
/** Exit to the VMM as MMIO: no memslot, or a write to a read-only slot with a valid syndrome. `mmio`. */
export const OUTCOME_MMIO = 1;
/** KVM_EXIT_MEMORY_FAULT: private/shared mismatch or no guest_memfd backing. `memfault`. */
export const OUTCOME_MEMFAULT = 2;
/** KVM_RUN fails with ENOSYS: arm64 write without a valid syndrome to a read-only slot. `enosys`. */
export const OUTCOME_ENOSYS = 3;
/**
 * KVM_EXIT_INTERNAL_ERROR (KVM_INTERNAL_ERROR_EMULATION): x86 cannot emulate an instruction fetched
 * from a gpa with no memslot (handle_emulation_failure() in arch/x86/kvm/x86.c). `internal`.
 */
export const OUTCOME_INTERNAL = 4;

/**
 * arm64: an instruction fetch from an IPA with no memslot (or a write-only-refused one): KVM injects a
 * prefetch abort into the guest and KVM_RUN goes on (kvm_handle_guest_abort(): -ENOEXEC ->
 * kvm_inject_pabt()). `pabt`.
 */
export const OUTCOME_PABT = 5;

export const OUTCOME_NAMES = ['ok', 'mmio', 'memfault', 'enosys', 'internal', 'pabt'] as const;
export type OutcomeName = (typeof OUTCOME_NAMES)[number];

export function outcomeCode(name: string): number {
  return (OUTCOME_NAMES as readonly string[]).indexOf(name);
}

// What kind of access the guest made (the `op` of an access row).
export const ACCESS_READ = 0;
export const ACCESS_WRITE = 1;
export const ACCESS_EXEC = 2;

// Access flags (the `flags` cell of an access row), as bits.
/** The guest accessed the gpa as private memory (the fault's private bit, PFERR_PRIVATE_ACCESS). */
export const ACCESS_PRIVATE = 1 << 0;
/** arm64: the abort had no valid instruction syndrome (ESR_ELx.ISV = 0). */
export const ACCESS_NISV = 1 << 1;
/** arm64: the fault was taken on a stage-1 page-table walk (ESR_ELx.S1PTW). */
export const ACCESS_S1PTW = 1 << 2;

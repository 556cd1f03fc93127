// arm64 stage-2 fault rules that differ from x86 (arch/arm64/kvm/mmu.c kvm_handle_guest_abort(),
// io_mem_abort() in mmio.c). Kept apart so the page_fault_test matrix can be checked against them
// in one place. Each returns an outcome code and counts its own exit.

import { M } from './metrics.js';
import {
  ACCESS_EXEC,
  ACCESS_NISV,
  ACCESS_S1PTW,
  OUTCOME_ENOSYS,
  OUTCOME_MMIO,
  OUTCOME_OK,
  OUTCOME_PABT,
} from './outcome.js';

/**
 * io_mem_abort(): an abort KVM cannot back with memory (no memslot, or a write to a read-only one).
 * Without a valid syndrome KVM cannot emulate it and KVM_RUN fails with ENOSYS; with one it exits to
 * the VMM as MMIO.
 */
export function arm64IoMemAbort(counters: Float64Array, flags: number): number {
  if ((flags & ACCESS_NISV) !== 0) {
    counters[M.runs_enosys]!++;
    return OUTCOME_ENOSYS;
  }
  counters[M.exits_mmio]!++;
  return OUTCOME_MMIO;
}

/**
 * kvm_handle_guest_abort() for an hva KVM cannot use (no memslot, or a write to a read-only slot).
 * An instruction fetch gets a prefetch abort injected (-ENOEXEC -> kvm_inject_pabt()) and the vCPU
 * runs on; a stage-1 page-table walk there gets a data abort injected and carries on too; data aborts
 * go to io_mem_abort().
 */
export function arm64UnbackedAbort(counters: Float64Array, kind: number, flags: number): number {
  if (kind === ACCESS_EXEC) {
    counters[M.aborts_pabt]!++;
    return OUTCOME_PABT;
  }
  if ((flags & ACCESS_S1PTW) !== 0) return OUTCOME_OK;
  return arm64IoMemAbort(counters, flags);
}

// What a calibration was measured on: the facts that decide whether its numbers apply elsewhere
// (the KVM module and MMU, the CPU, the kernel, transparent huge pages).

import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

export interface CalibrationHost {
  kernel: string;
  cpuModel: string;
  cores: number;
  /** KVM modules loaded (kvm_intel, kvm_amd, or another vendor module such as a paravirtual one). */
  kvmModules: string[];
  /** /sys/module/kvm/parameters/tdp_mmu: Y (TDP MMU), N (shadow or legacy MMU), or unknown. */
  tdpMmu: string;
  /** The THP mode in effect (`always`, `madvise`, `never`). */
  thp: string;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The CPU model as /proc/cpuinfo names it (x86 `model name`, arm64 `CPU part` lines have none). */
export function cpuModel(cpuinfo = read('/proc/cpuinfo') ?? ''): string {
  return /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown';
}

/** The bracketed choice of a sysfs multiple-choice file: `always [madvise] never` -> `madvise`. */
export function sysfsChoice(text: string | undefined): string {
  return /\[([^\]]+)\]/.exec(text ?? '')?.[1] ?? 'unknown';
}

export function calibrationHost(kernel: string): CalibrationHost {
  let modules: string[] = [];
  try {
    modules = readdirSync('/sys/module').filter((m) => m === 'kvm' || m.startsWith('kvm_')).sort();
  } catch {
    // not Linux, or no sysfs: leave empty
  }
  return {
    kernel,
    cpuModel: cpuModel(),
    cores: availableParallelism(),
    kvmModules: modules,
    tdpMmu: (read('/sys/module/kvm/parameters/tdp_mmu') ?? 'unknown').trim(),
    thp: sysfsChoice(read('/sys/kernel/mm/transparent_hugepage/enabled')),
  };
}

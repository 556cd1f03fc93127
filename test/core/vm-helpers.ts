// Small builders for core tests: a Vm with named slots and backings, and counter reads by name.

import { metricId, type MetricName } from '../../src/core/metrics.js';
import { parseProfile } from '../../src/core/profile.js';
import { Vm } from '../../src/core/vm.js';

export const KiB4 = 0x1000n;
export const MiB2 = 0x200000n;
export const GiB = 0x40000000n;
export const PAGES_PER_2M = 512;

export function newVm(profile = 'x86-tdp'): Vm {
  return new Vm(parseProfile(profile));
}

/** Create slot `id` and assert the ioctl succeeded. */
export function addSlot(vm: Vm, id: number, gpa: bigint, size: bigint, hva: bigint, flags = 0): void {
  const r = vm.setUserMemoryRegion2(id, flags, gpa, size, hva, -1, 0n);
  if (r !== 0) throw new Error(`slot ${id} creation failed with ${r}`);
}

export function metric(vm: Vm, name: MetricName): number {
  return vm.metric(metricId(name));
}

/** The counters a test cares about, by name, as one object (for deepEqual). */
export function metrics(vm: Vm, names: readonly MetricName[]): Record<string, number> {
  return Object.fromEntries(names.map((name) => [name, metric(vm, name)]));
}

export function gfn(gpa: bigint): number {
  return Number(gpa >> 12n);
}

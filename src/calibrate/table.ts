// From calibrator samples to a cost table: each cost's median and spread over the repeats. The machine
// is shared and timing is noisy, so the median, not the mean; a cost whose median is not positive
// (two passes whose difference the noise swamps) is not claimed: it goes to `skipped`, saying so.

import { COST_NAMES, type CostName, type CostTable, type ProfileCosts } from '../estimate/costs.js';
import { spread } from '../report/stats.js';
import type { CalibratorOutput } from './calibrator.js';
import type { CalibrationHost } from './host.js';

export interface CalibrationInfo {
  label: string;
  command: string;
  createdAt: string;
  host: CalibrationHost;
  repeats: number;
}

/** Rounds to 0.1 ns: the table is read by people too. */
function round(x: number): number {
  return Math.round(x * 10) / 10;
}

export function buildCostTable(out: CalibratorOutput, info: CalibrationInfo): CostTable {
  const costs: ProfileCosts = {};
  const skipped: Record<string, string> = { ...out.skipped };
  if (skipped['attributes_call'] !== undefined && info.host.tdpMmu === 'N') {
    // kvm_x86_vendor_init() (arch/x86/kvm/x86.c) offers KVM_X86_SW_PROTECTED_VM only with the TDP MMU.
    skipped['attributes_call'] += '; this host runs KVM with tdp_mmu=N, and KVM offers that VM type only with the TDP MMU (and CONFIG_KVM_SW_PROTECTED_VM)';
  }
  for (const [name, { per, values }] of Object.entries(out.samples)) {
    if (!(COST_NAMES as readonly string[]).includes(name)) continue;
    const s = spread(values);
    if (!(s.median > 0)) {
      skipped[name] = `median ${round(s.median)} ns over ${s.n} repeats is not positive: the machine's noise swamps this cost (calibrate again with more --repeats, on a quieter machine)`;
      continue;
    }
    costs[name as CostName] = {
      ns: round(s.median),
      per,
      q1: round(s.q1),
      q3: round(s.q3),
      min: round(s.min),
      max: round(s.max),
      n: s.n,
      ...(out.how[name] !== undefined ? { how: out.how[name] } : {}),
    };
  }
  return {
    format: 1,
    label: info.label,
    profiles: { 'x86-tdp': costs },
    skipped,
    createdAt: info.createdAt,
    command: info.command,
    host: info.host,
    vmType: out.meta['vm_type'] ?? 'default',
    vmTypesOffered: out.meta['vm_types'] ?? 'unknown',
    thpGiven: out.meta['thp_given'] ?? 'unknown',
    repeats: info.repeats,
    statistic: 'median over repeats (one sample per repeat, each a whole batch over its size); q1/q3/min/max are their spread',
  };
}

// What a recorded VM did, for the engineer reading its trace: pages first touched per vCPU and by the
// host, the mapping levels the model gives the guest under each profile, and the dirty pages of each
// logging interval (docs/record-vm.md, "Summary").

import { divergenceCount, replayTrace } from '../replay/engine.js';
import type { LoadedTrace } from '../trace/io.js';
import { parseProfile } from '../core/profile.js';
import { addTouches, emptyTouches, type RecordedTouches } from './touches.js';

export interface RecordedVmSummary extends RecordedTouches {
  /** Leaves the model ends with, per profile. */
  levels: Record<string, { '4k': number; '2m': number; '1g': number; divergences: number }>;
}

export function summarizeRecordedVm(trace: LoadedTrace, profiles: readonly string[]): RecordedVmSummary {
  const t = emptyTouches();
  for (const chunk of trace.chunks) addTouches(t, chunk);
  const s: RecordedVmSummary = { ...t, levels: {} };
  for (const profile of profiles) {
    const r = replayTrace(trace, parseProfile(profile), { check: true });
    const c = r.counters;
    s.levels[profile] = { '4k': c['leaves.4k'] ?? 0, '2m': c['leaves.2m'] ?? 0, '1g': c['leaves.1g'] ?? 0, divergences: divergenceCount(r) };
  }
  return s;
}

export function formatRecordedVmSummary(path: string, s: RecordedVmSummary): string {
  const lines = [`${path}: first touches (4 KiB pages)`];
  for (const [v, t] of Object.entries(s.vcpus)) lines.push(`  vCPU ${v}: ${t.read} read, ${t.write} written${s.mmio[v] ? `; ${s.mmio[v]} MMIO exits` : ''}`);
  lines.push(`  host:   ${s.host.read} read, ${s.host.write} written`);
  lines.push('mapping levels the model gives them (leaves mapped):');
  for (const [p, l] of Object.entries(s.levels)) lines.push(`  ${p}: 4K ${l['4k']}, 2M ${l['2m']}, 1G ${l['1g']}${l.divergences ? ` (${l.divergences} divergences)` : ''}`);
  if (s.dirtyIntervals.length === 0) lines.push('dirty logging: none');
  else {
    lines.push('dirty pages per logging interval (slot: pages):');
    for (let i = 0; i < s.dirtyIntervals.length; i += 8) {
      lines.push(`  ${s.dirtyIntervals.slice(i, i + 8).map((d) => `${d.slot}: ${d.pages}`).join('  ')}`);
    }
  }
  return lines.join('\n') + '\n';
}

// `s2bench profiles`: every profile, kernel version and knob with a line on what it means; and
// `s2bench profiles --diff A B`: the modeled kernel rules whose answer differs between two profiles,
// each with the kernel function that decides it (src/core/rules.ts, docs/kvm-rules.md). Unknown
// profiles, versions or knobs are ProfileErrors (exit 2, listing the valid ones).

import {
  ARCHES,
  KERNEL_VERSIONS,
  KNOBS,
  NEWEST_VERSION,
  kernelVersion,
  knobDefault,
  knobsOf,
  parseProfile,
  type Arch,
  type KnobName,
} from '../../core/profile.js';
import { ruleDiff } from '../../core/rules.js';
import { UsageError } from '../../errors.js';

const ARCH_DOC: Record<Arch, string> = {
  'x86-tdp': 'x86 TDP MMU (Intel EPT / AMD NPT), arch/x86/kvm/mmu',
  'arm64-s2': 'arm64 stage-2 page tables, arch/arm64/kvm',
};

/** A knob's default on `arch`, with the versions it differs in when it depends on the version. */
function defaultText(knob: KnobName, arch: Arch): string {
  const byVersion = KERNEL_VERSIONS.map((v) => knobDefault(knob, arch, kernelVersion(v)));
  if (byVersion.every((d) => d === byVersion[0])) return byVersion[0]!;
  return KERNEL_VERSIONS.map((v, i) => `${byVersion[i]}@${v}`).join(' ');
}

export function formatProfiles(): string {
  const lines = [
    `kernel versions: ${KERNEL_VERSIONS.join(', ')} (NAME@VERSION; a bare NAME is ${NEWEST_VERSION})`,
    'syntax: NAME[@VERSION][,knob=value...]',
    '',
  ];
  for (const arch of ARCHES) {
    lines.push(`${arch}: ${ARCH_DOC[arch]}`);
    for (const knob of knobsOf(arch)) {
      const spec = KNOBS[knob];
      lines.push(`  ${knob}=${spec.values.join('|')} (default ${defaultText(knob, arch)}): ${spec.doc}`);
    }
    lines.push('');
  }
  lines.push('`s2bench profiles --diff A B` lists the kernel rules two profiles differ in (docs/kvm-rules.md).');
  return `${lines.join('\n')}\n`;
}

export function formatRuleDiff(aText: string, bText: string): string {
  const a = parseProfile(aText);
  const b = parseProfile(bText);
  const diff = ruleDiff(a, b);
  if (diff.length === 0) return `${a.name} and ${b.name}: no modeled kernel rule differs\n`;
  const lines = [`${diff.length} rule(s) differ between ${a.name} (A) and ${b.name} (B):`];
  for (const d of diff) {
    lines.push(`${d.rule.id}: ${d.rule.summary}`);
    lines.push(`  kernel: ${d.rule.kernel}`);
    lines.push(`  A: ${d.a ?? 'does not apply'}`);
    lines.push(`  B: ${d.b ?? 'does not apply'}`);
  }
  return `${lines.join('\n')}\n`;
}

/** `profiles`: the list, or with --diff the rules two profiles differ in. */
export function profilesAction(opts: { diff?: string[] }): void {
  if (opts.diff === undefined) {
    process.stdout.write(formatProfiles());
    return;
  }
  if (opts.diff.length !== 2) throw new UsageError(`profiles --diff takes two profiles, got ${opts.diff.length}`);
  process.stdout.write(formatRuleDiff(opts.diff[0]!, opts.diff[1]!));
}

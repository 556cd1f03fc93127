// Profiles select the kernel whose rules the model follows: `NAME[@VERSION][,knob=value...]`
// (docs/architecture.md, "Profiles"; the rules each version and knob changes: docs/kvm-rules.md).
// Parsed and validated once, at the boundary, into a frozen object that the suite, its jobs and every
// Vm share; the core reads its fields and never parses text.

import { ProfileError } from '../errors.js';

export const ARCHES = ['x86-tdp', 'arm64-s2'] as const;
export type Arch = (typeof ARCHES)[number];
/** What a trace without a `# profile:` and a command without `--profile` replay under. */
export const DEFAULT_PROFILE_NAME = 'x86-tdp';

/**
 * Kernel versions the model has rules for, oldest first: the long-term lines and the newest mainline
 * release. A bare `x86-tdp` means the newest. Rules compare `Profile.version` with `kernelVersion()`.
 */
export const KERNEL_VERSIONS = ['6.6', '6.12', '6.18', '7.1'] as const;
export type KernelVersion = (typeof KERNEL_VERSIONS)[number];
export const NEWEST_VERSION: KernelVersion = KERNEL_VERSIONS[KERNEL_VERSIONS.length - 1]!;

/** `major.minor` as one comparable number: 6.12 -> 6012. */
export function kernelVersion(text: string): number {
  const [major, minor] = text.split('.').map(Number);
  return major! * 1000 + minor!;
}

/**
 * The modeled version whose rules answer for a host kernel release (`6.18.44-...`): the newest modeled
 * version not newer than the release (rules change at releases), the oldest for an older release.
 */
export function modeledVersionOf(release: string): KernelVersion {
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (m === null) return NEWEST_VERSION;
  const host = kernelVersion(`${m[1]}.${m[2]}`);
  let best: KernelVersion = KERNEL_VERSIONS[0];
  for (const v of KERNEL_VERSIONS) if (kernelVersion(v) <= host) best = v;
  return best;
}

interface KnobSpec {
  /** Allowed values; the first is the default unless `defaultFor` says otherwise. */
  readonly values: readonly string[];
  /** Architectures the knob means something on. */
  readonly arches: readonly Arch[];
  /** One line for `s2bench profiles`. */
  readonly doc: string;
  /** A default that depends on the architecture or kernel version. */
  readonly defaultFor?: (arch: Arch, version: number) => string;
  /** Why `value` does not exist in kernel `version`, or undefined when it does. */
  readonly missingIn?: (version: number, value: string) => string | undefined;
}

const BOTH: readonly Arch[] = ARCHES;
const X86: readonly Arch[] = ['x86-tdp'];

/** Every knob. Order is the canonical order of a profile's name. */
export const KNOBS = {
  'gmem-folio': {
    // Upstream guest_memfd allocates order-0 folios (__kvm_gmem_get_pfn() reports max_order 0): 4k.
    values: ['4k', '2m', '1g'],
    arches: BOTH,
    doc: 'guest_memfd folio size behind private memory: 4k upstream; 2m and 1g are what-ifs for the out-of-tree hugetlb guest_memfd series',
  },
  'gmem-split': {
    values: ['minimal', '4k'],
    arches: BOTH,
    doc: 'how a conversion splits a huge guest_memfd folio (what-if for huge-folio series)',
  },
  'eager-split': {
    values: ['on', 'off'],
    arches: ['x86-tdp'],
    doc: 'split huge mappings when dirty logging is enabled (x86 eager_page_split; arm64 has split-chunk)',
  },
  'nx-huge-pages': {
    values: ['off', 'on'],
    arches: BOTH,
    doc: 'x86 NX huge pages mitigation (iTLB multihit)',
  },
  'vdpa-release': {
    values: ['clean', 'leaky', 'free-first'],
    arches: BOTH,
    doc: 'vhost-vdpa release ordering',
  },
  hypshare: {
    values: ['fixed', 'v7.1'],
    arches: BOTH,
    doc: 'pKVM host/EL2 share tracking',
  },
  // ---- x86 knobs (issue 12; docs/kvm-rules.md, x86 section) ----
  pml: {
    values: ['on', 'off'],
    arches: X86,
    doc: 'Intel EPT Page Modification Logging: dirty logging clears D bits on 4K leaves instead of write-protecting them; off is AMD NPT or PML disabled',
  },
  'vm-type': {
    values: ['default', 'sw-protected'],
    arches: X86,
    doc: 'KVM_X86_DEFAULT_VM (no memory attributes, no private memory) or KVM_X86_SW_PROTECTED_VM (both; since 6.8)',
    missingIn: (version, value) =>
      value === 'sw-protected' && version < kernelVersion('6.8') ? 'KVM_X86_SW_PROTECTED_VM exists since 6.8' : undefined,
  },
  'slot-zap-all': {
    values: ['on', 'off'],
    arches: X86,
    doc: 'KVM_X86_QUIRK_SLOT_ZAP_ALL: deleting or moving a memslot of a default VM zaps every mapping of the VM; off zaps the slot only (quirk since 6.12)',
    missingIn: (version, value) =>
      value === 'off' && version < kernelVersion('6.12') ? 'KVM_X86_QUIRK_SLOT_ZAP_ALL exists since 6.12; older kernels always zap all' : undefined,
  },
  // ---- end of x86 knobs ----
  // ---- arm64 stage-2 (docs/kvm-rules.md, "arm64") ----
  'split-chunk': {
    values: ['0', '4k', '2m', '1g'],
    arches: ['arm64-s2'],
    doc: 'KVM_CAP_ARM_EAGER_SPLIT_CHUNK_SIZE: 0 (the default) splits nothing when dirty logging starts',
  },
  dic: {
    values: ['on', 'off'],
    arches: ['arm64-s2'],
    doc: 'FEAT_DIC (ARM64_HAS_CACHE_DIC): off maps data faults non-executable, exec then takes a permission fault',
  },
  ipa: {
    values: ['40', '48'],
    arches: ['arm64-s2'],
    doc: 'IPA size of the VM (KVM_VM_TYPE_ARM_IPA_SIZE): 40 = 3-level stage-2 from level 1, 48 = 4-level',
  },
} as const satisfies Record<string, KnobSpec>;
export type KnobName = keyof typeof KNOBS;
export type Knobs = { readonly [K in KnobName]: (typeof KNOBS)[K]['values'][number] };

export interface Profile {
  /**
   * The canonical spelling: the arch, `@version` unless it is the newest, then every knob that differs
   * from its default for that arch and version, in KNOBS order.
   */
  readonly name: string;
  readonly arch: Arch;
  readonly version: KernelVersion;
  /** kernelVersion(version), for rules: `profile.versionCode >= kernelVersion('6.13')`. */
  readonly versionCode: number;
  readonly knobs: Knobs;
}

/** Knobs that apply to `arch`, in canonical order. */
export function knobsOf(arch: Arch): KnobName[] {
  return (Object.keys(KNOBS) as KnobName[]).filter((knob) => (KNOBS[knob] as KnobSpec).arches.includes(arch));
}

export function knobDefault(knob: KnobName, arch: Arch, version: number): string {
  const spec: KnobSpec = KNOBS[knob];
  return spec.defaultFor?.(arch, version) ?? spec.values[0]!;
}

function defaultKnobs(arch: Arch, version: number): Record<KnobName, string> {
  const knobs = {} as Record<KnobName, string>;
  for (const knob of Object.keys(KNOBS) as KnobName[]) knobs[knob] = knobDefault(knob, arch, version);
  return knobs;
}

export function parseProfile(text: string): Profile {
  const [head, ...knobTexts] = text.split(',').map((part) => part.trim());
  const at = (head ?? '').indexOf('@');
  const archText = at < 0 ? head ?? '' : head!.slice(0, at);
  const versionText = at < 0 ? NEWEST_VERSION : head!.slice(at + 1);
  if (!(ARCHES as readonly string[]).includes(archText)) {
    throw new ProfileError(`unknown profile '${archText}' in '${text}': valid profiles are ${ARCHES.join(', ')}`);
  }
  if (!(KERNEL_VERSIONS as readonly string[]).includes(versionText)) {
    throw new ProfileError(`unknown kernel version '${versionText}' in '${text}': modeled versions are ${KERNEL_VERSIONS.join(', ')}`);
  }
  const arch = archText as Arch;
  const version = versionText as KernelVersion;
  const knobs = defaultKnobs(arch, kernelVersion(version));
  for (const knobText of knobTexts) {
    const eq = knobText.indexOf('=');
    const knob = eq < 0 ? knobText : knobText.slice(0, eq);
    const value = eq < 0 ? '' : knobText.slice(eq + 1);
    const spec = (KNOBS as Record<string, KnobSpec>)[knob];
    if (spec === undefined) {
      throw new ProfileError(`unknown knob '${knob}' in profile '${text}': valid knobs are ${describeKnobs()}`);
    }
    if (!spec.arches.includes(arch)) {
      throw new ProfileError(`knob '${knob}' in profile '${text}' does not apply to ${arch} (it applies to ${spec.arches.join(', ')})`);
    }
    if (!spec.values.includes(value)) {
      throw new ProfileError(`bad value '${value}' for knob '${knob}' in profile '${text}': valid values are ${spec.values.join('|')}`);
    }
    const missing = spec.missingIn?.(kernelVersion(version), value);
    if (missing !== undefined) {
      throw new ProfileError(`knob '${knob}=${value}' in profile '${text}' does not exist in kernel ${version}: ${missing}`);
    }
    knobs[knob as KnobName] = value;
  }
  return makeProfile(arch, version, knobs);
}

function makeProfile(arch: Arch, version: KernelVersion, knobs: Record<KnobName, string>): Profile {
  const versionCode = kernelVersion(version);
  const defaults = defaultKnobs(arch, versionCode);
  const changed = (Object.keys(KNOBS) as KnobName[])
    .filter((knob) => knobs[knob] !== defaults[knob])
    .map((knob) => `${knob}=${knobs[knob]}`);
  const head = version === NEWEST_VERSION ? arch : `${arch}@${version}`;
  // Frozen: one object is made at the boundary and shared by the suite, its jobs and every Vm.
  return Object.freeze({
    name: [head, ...changed].join(','),
    arch,
    version,
    versionCode,
    knobs: Object.freeze(knobs) as unknown as Knobs,
  });
}

export function describeKnobs(): string {
  return Object.entries(KNOBS)
    .map(([knob, spec]) => `${knob}=${spec.values.join('|')}`)
    .join(', ');
}

export const DEFAULT_PROFILE: Profile = parseProfile(DEFAULT_PROFILE_NAME);

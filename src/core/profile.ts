// Profiles select architecture rules and policy knobs: `NAME[,knob=value...]` (docs/architecture.md, "Profiles").
// Parsed and validated once, at the boundary; the core reads the resulting plain object.

import { ProfileError } from '../errors.js';

export const ARCHES = ['x86-tdp', 'arm64-s2'] as const;
/** What a trace without a `# profile:` and a command without `--profile` replay under. */
export const DEFAULT_PROFILE_NAME = 'x86-tdp';
export type Arch = (typeof ARCHES)[number];

/** Every knob with its allowed values; the first value is the default. */
export const KNOBS = {
  'gmem-folio': ['2m', '4k', '1g'],
  'gmem-split': ['minimal', '4k'],
  'eager-split': ['on', 'off'],
  'nx-huge-pages': ['off', 'on'],
  'vdpa-release': ['clean', 'leaky', 'free-first'],
  hypshare: ['fixed', 'v7.1'],
} as const;
export type KnobName = keyof typeof KNOBS;
export type Knobs = { [K in KnobName]: (typeof KNOBS)[K][number] };

export interface Profile {
  /** The canonical spelling: the arch, then every knob that differs from its default, in KNOBS order. */
  readonly name: string;
  readonly arch: Arch;
  readonly knobs: Knobs;
}


export function defaultKnobs(): Knobs {
  return Object.fromEntries(
    Object.entries(KNOBS).map(([knob, values]) => [knob, values[0]]),
  ) as unknown as Knobs;
}

export function parseProfile(text: string): Profile {
  const [archText, ...knobTexts] = text.split(',').map((part) => part.trim());
  if (!(ARCHES as readonly string[]).includes(archText ?? '')) {
    throw new ProfileError(
      `unknown profile '${archText}' in '${text}': valid profiles are ${ARCHES.join(', ')}`,
    );
  }
  const knobs = defaultKnobs() as Record<string, string>;
  for (const knobText of knobTexts) {
    const eq = knobText.indexOf('=');
    const knob = eq < 0 ? knobText : knobText.slice(0, eq);
    const value = eq < 0 ? '' : knobText.slice(eq + 1);
    const allowed = (KNOBS as Record<string, readonly string[]>)[knob];
    if (allowed === undefined) {
      throw new ProfileError(
        `unknown knob '${knob}' in profile '${text}': valid knobs are ${describeKnobs()}`,
      );
    }
    if (!allowed.includes(value)) {
      throw new ProfileError(
        `bad value '${value}' for knob '${knob}' in profile '${text}': valid values are ${allowed.join('|')}`,
      );
    }
    knobs[knob] = value;
  }
  return makeProfile(archText as Arch, knobs as unknown as Knobs);
}

function makeProfile(arch: Arch, knobs: Knobs): Profile {
  const defaults = defaultKnobs();
  const changed = (Object.keys(KNOBS) as KnobName[])
    .filter((knob) => knobs[knob] !== defaults[knob])
    .map((knob) => `${knob}=${knobs[knob]}`);
  // Frozen: one object is made at the boundary and shared by the suite, its jobs and every Vm.
  return Object.freeze({ name: [arch, ...changed].join(','), arch, knobs: Object.freeze(knobs) });
}

export function describeKnobs(): string {
  return Object.entries(KNOBS)
    .map(([knob, values]) => `${knob}=${values.join('|')}`)
    .join(', ');
}

export const DEFAULT_PROFILE: Profile = parseProfile(DEFAULT_PROFILE_NAME);

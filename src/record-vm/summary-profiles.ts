// The profiles `vm-summary` replays under by default, apart from the summary itself (summary.ts): the
// command line shows them in `vm-summary --help` without loading the replay.

/** Profiles the summary replays under unless told: the default, and the knobs that change levels (NX huge pages, eager split under dirty logging). */
export const SUMMARY_PROFILES = ['x86-tdp', 'x86-tdp,nx-huge-pages=on', 'x86-tdp,eager-split=off'];

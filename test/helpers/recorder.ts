// Tests that need the native recorder on /dev/kvm skip, saying why, where it cannot run (no /dev/kvm,
// not usable, no C compiler).

import { probeKvm, RecorderUnavailable } from '../../src/record/recorder.js';

/** Why the recorder cannot run here (a node:test `skip` reason), or undefined when it can. */
export function recorderSkip(): string | undefined {
  try {
    probeKvm();
    return undefined;
  } catch (err) {
    if (err instanceof RecorderUnavailable) return `recorder cannot run here: ${err.message}`;
    throw err;
  }
}

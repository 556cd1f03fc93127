// Builds the native recorder from source with the system C compiler ($CC, else cc). No network, no
// prebuilt binaries. Exit 0 and the binary's path on stdout; exit 1 with one clear line on stderr when
// there is no compiler or the build fails.
import { join } from 'node:path';
import { buildNative } from '../native-build.mjs';

const dir = import.meta.dirname;
buildNative({
  what: 's2bench recorder',
  sources: ['recorder.c', 'kvm_uapi.h'].map((f) => join(dir, f)),
  out: join(dir, 'build', 's2bench-recorder'),
  flags: [],
});

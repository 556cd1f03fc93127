// Builds the VMM recorder library (an LD_PRELOAD shared object) from source with the system C
// compiler ($CC, else cc). No network, no prebuilt binaries. Exit 0 and the library's path on stdout;
// exit 1 with one clear line on stderr when there is no compiler or the build fails.
import { join } from 'node:path';
import { buildNative } from '../native-build.mjs';

const dir = import.meta.dirname;
console.log(
  buildNative({
    what: 's2bench record-vm',
    sources: [join(dir, 'vmrec.c'), join(dir, '..', 'recorder', 'kvm_uapi.h')],
    out: join(dir, 'build', 'libs2bench-vmrec.so'),
    flags: ['-fPIC', '-shared', '-pthread'],
    libs: ['-ldl'],
  }),
);

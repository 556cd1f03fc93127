// Builds the native programs from source with the system C compiler ($CC, else cc): the recorder
// (recorder.c, `s2bench record`) and the calibrator (calibrate.c, `s2bench calibrate`). No network, no
// prebuilt binaries. Arguments name the programs to build (default: recorder); `--force` rebuilds.
// Exit 0 and each binary's path on stdout, one a line; exit 1 with one clear line on stderr when there
// is no compiler or a build fails.
import { join } from 'node:path';
import { buildNative } from '../native-build.mjs';

const dir = import.meta.dirname;
const HEADERS = ['kvm_uapi.h', 'longmode.h'];
const PROGRAMS = {
  recorder: { source: 'recorder.c', out: 's2bench-recorder', libs: [] },
  calibrate: { source: 'calibrate.c', out: 's2bench-calibrate', libs: ['-pthread'] },
};

const names = process.argv.slice(2).filter((a) => a !== '--force');
for (const name of names) {
  if (!(name in PROGRAMS)) {
    console.error(`s2bench build: unknown program '${name}' (known: ${Object.keys(PROGRAMS).join(', ')})`);
    process.exit(1);
  }
}
for (const name of names.length > 0 ? names : ['recorder']) {
  const program = PROGRAMS[name];
  console.log(
    buildNative({
      what: program.out,
      sources: [program.source, ...HEADERS].map((f) => join(dir, f)),
      out: join(dir, 'build', program.out),
      flags: [],
      libs: program.libs,
    }),
  );
}

// Builds the native programs from source with the system C compiler ($CC, else cc): the recorder
// (recorder.c, `s2bench record`) and the calibrator (calibrate.c, `s2bench calibrate`). No network, no
// prebuilt binaries. Arguments name the programs to build (default: recorder); `--force` rebuilds.
// Exit 0 and each binary's path on stdout, one a line; exit 1 with one clear line on stderr when there
// is no compiler or a build fails.
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const dir = import.meta.dirname;
const HEADERS = ['kvm_uapi.h', 'longmode.h'];
const PROGRAMS = {
  recorder: { source: 'recorder.c', out: 's2bench-recorder', libs: [] },
  calibrate: { source: 'calibrate.c', out: 's2bench-calibrate', libs: ['-pthread'] },
};
const cc = process.env.CC || 'cc';

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1;
  }
}

const force = process.argv.includes('--force');
const names = process.argv.slice(2).filter((a) => a !== '--force');
for (const name of names) {
  if (!(name in PROGRAMS)) {
    console.error(`s2bench build: unknown program '${name}' (known: ${Object.keys(PROGRAMS).join(', ')})`);
    process.exit(1);
  }
}

function build(program) {
  const sources = [program.source, ...HEADERS].map((f) => join(dir, f));
  const out = join(dir, 'build', program.out);
  if (!force && mtime(out) >= Math.max(...sources.map(mtime))) return out;
  if (process.platform !== 'linux') {
    console.error(`${program.out}: needs Linux with /dev/kvm (this is ${process.platform})`);
    process.exit(1);
  }
  mkdirSync(join(dir, 'build'), { recursive: true });
  const args = ['-O2', '-std=gnu11', '-Wall', '-Wextra', '-o', out, sources[0], ...program.libs];
  const result = spawnSync(cc, args, { encoding: 'utf8' });
  if (result.error) {
    const why = result.error.code === 'ENOENT' ? `no C compiler: '${cc}' not found (install gcc or set CC)` : result.error.message;
    console.error(`${program.out}: ${why}`);
    process.exit(1);
  }
  if (result.status !== 0) {
    console.error(`${program.out}: '${cc} ${args.join(' ')}' failed:\n${result.stderr}`);
    process.exit(1);
  }
  if (result.stderr.trim() !== '') process.stderr.write(result.stderr);
  return out;
}

for (const name of names.length > 0 ? names : ['recorder']) console.log(build(PROGRAMS[name]));

// Builds the VMM recorder library (an LD_PRELOAD shared object) from source with the system C
// compiler ($CC, else cc). No network, no prebuilt binaries. Exit 0 and the library's path on stdout;
// exit 1 with one clear line on stderr when there is no compiler or the build fails.
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const dir = import.meta.dirname;
const sources = [join(dir, 'vmrec.c'), join(dir, '..', 'recorder', 'kvm_uapi.h')];
const out = join(dir, 'build', 'libs2bench-vmrec.so');
const cc = process.env.CC || 'cc';

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1;
  }
}

if (!process.argv.includes('--force') && mtime(out) >= Math.max(...sources.map(mtime))) {
  console.log(out);
  process.exit(0);
}
if (process.platform !== 'linux') {
  console.error(`s2bench record-vm: needs Linux with /dev/kvm (this is ${process.platform})`);
  process.exit(1);
}
mkdirSync(join(dir, 'build'), { recursive: true });
const args = ['-O2', '-std=gnu11', '-Wall', '-Wextra', '-fPIC', '-shared', '-pthread', '-o', out, sources[0], '-ldl'];
const result = spawnSync(cc, args, { encoding: 'utf8' });
if (result.error) {
  const why = result.error.code === 'ENOENT' ? `no C compiler: '${cc}' not found (install gcc or set CC)` : result.error.message;
  console.error(`s2bench record-vm: ${why}`);
  process.exit(1);
}
if (result.status !== 0) {
  console.error(`s2bench record-vm: '${cc} ${args.join(' ')}' failed:\n${result.stderr}`);
  process.exit(1);
}
if (result.stderr.trim() !== '') process.stderr.write(result.stderr);
console.log(out);

// Builds the native recorder from source with the system C compiler ($CC, else cc). No network, no
// prebuilt binaries. Exit 0 and the binary's path on stdout; exit 1 with one clear line on stderr when
// there is no compiler or the build fails.
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const dir = import.meta.dirname;
const sources = ['recorder.c', 'kvm_uapi.h'].map((f) => join(dir, f));
const out = join(dir, 'build', 's2bench-recorder');
const cc = process.env.CC || 'cc';

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1;
  }
}

const force = process.argv.includes('--force');
if (!force && mtime(out) >= Math.max(...sources.map(mtime))) {
  console.log(out);
  process.exit(0);
}
if (process.platform !== 'linux') {
  console.error(`s2bench recorder: needs Linux with /dev/kvm (this is ${process.platform})`);
  process.exit(1);
}
mkdirSync(join(dir, 'build'), { recursive: true });
const args = ['-O2', '-std=gnu11', '-Wall', '-Wextra', '-o', out, sources[0]];
const result = spawnSync(cc, args, { encoding: 'utf8' });
if (result.error) {
  const why = result.error.code === 'ENOENT' ? `no C compiler: '${cc}' not found (install gcc or set CC)` : result.error.message;
  console.error(`s2bench recorder: ${why}`);
  process.exit(1);
}
if (result.status !== 0) {
  console.error(`s2bench recorder: '${cc} ${args.join(' ')}' failed:\n${result.stderr}`);
  process.exit(1);
}
if (result.stderr.trim() !== '') process.stderr.write(result.stderr);
console.log(out);

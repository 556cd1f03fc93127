// Builds a native part of s2bench from C source with the system compiler ($CC, else cc), when the
// output is missing or older than its sources (or with --force). No network, no prebuilt binaries.
// Returns the output's path; on failure prints one clear line on stderr and exits 1.
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1;
  }
}

/** `what` names the part in messages; `sources[0]` is the C file compiled, the rest its headers. */
export function buildNative({ what, sources, out, flags, libs = [] }) {
  const cc = process.env.CC || 'cc';
  if (!process.argv.includes('--force') && mtime(out) >= Math.max(...sources.map(mtime))) return out;
  if (process.platform !== 'linux') {
    console.error(`${what}: needs Linux with /dev/kvm (this is ${process.platform})`);
    process.exit(1);
  }
  mkdirSync(dirname(out), { recursive: true });
  const args = ['-O2', '-std=gnu11', '-Wall', '-Wextra', ...flags, '-o', out, sources[0], ...libs];
  const result = spawnSync(cc, args, { encoding: 'utf8' });
  if (result.error) {
    const why = result.error.code === 'ENOENT' ? `no C compiler: '${cc}' not found (install gcc or set CC)` : result.error.message;
    console.error(`${what}: ${why}`);
    process.exit(1);
  }
  if (result.status !== 0) {
    console.error(`${what}: '${cc} ${args.join(' ')}' failed:\n${result.stderr}`);
    process.exit(1);
  }
  if (result.stderr.trim() !== '') process.stderr.write(result.stderr);
  return out;
}

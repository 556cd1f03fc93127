// The recorder library: built from scripts/record-vm/vmrec.c with the system compiler when missing or
// older than its sources (scripts/record-vm/build.mjs), like the native recorder of `s2bench record`.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { UnavailableError } from '../errors.js';
import { packageRoot } from '../package-info.js';

let built: string | undefined;

/** The library's path; UnavailableError with the build's own message when it cannot be built. */
export function vmRecorderLibrary(): string {
  if (built !== undefined) return built;
  const script = join(packageRoot(), 'scripts', 'record-vm', 'build.mjs');
  const result = spawnSync(process.execPath, [script], { encoding: 'utf8' });
  if (result.status !== 0) throw new UnavailableError((result.stderr || result.error?.message || 'record-vm: library build failed').trim());
  built = result.stdout.trim();
  return built;
}

// Tests run compiled (dist/test/...) and from source (tsx); both find files from the repository root.

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRepoRoot(start: string): string {
  let dir = start;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${start}`);
    dir = parent;
  }
  return dir;
}

export const REPO_ROOT = findRepoRoot(dirname(fileURLToPath(import.meta.url)));
/** The team's shared folder, beside the clone (CI puts it there too). */
export const SHARED_DIR = join(REPO_ROOT, '..', 'shared');
export const FIXTURES_DIR = join(SHARED_DIR, 'fixtures');

export function repoPath(...parts: string[]): string {
  return join(REPO_ROOT, ...parts);
}

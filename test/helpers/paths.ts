// Tests run compiled (dist/test/...) and from source (tsx); both find files from the repository root.

import { join } from 'node:path';
import { packageRoot } from '../../src/package-info.js';

export const REPO_ROOT = packageRoot();
/** The team's shared folder, beside the clone (CI puts it there too). */
export const SHARED_DIR = join(REPO_ROOT, '..', 'shared');
export const FIXTURES_DIR = join(SHARED_DIR, 'fixtures');

export function repoPath(...parts: string[]): string {
  return join(REPO_ROOT, ...parts);
}

// Tests run compiled (dist/test/...) and from source (tsx); both find files from the repository root.
// Every file a test reads is inside the repository (test/fixtures/README.md says where each came from).

import { join } from 'node:path';
import { packageRoot } from '../../src/package-info.js';

export const REPO_ROOT = packageRoot();
export const FIXTURES_DIR = join(REPO_ROOT, 'test', 'fixtures');

export function repoPath(...parts: string[]): string {
  return join(REPO_ROOT, ...parts);
}

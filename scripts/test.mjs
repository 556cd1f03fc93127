// Runs node's test runner on the compiled test files only (dist/test/**/*.test.js). Node 20 takes no
// globs, and given the directory it would also load helper modules as if they were tests.
// Extra arguments (e.g. a path filter such as `trace/`) keep only files whose path contains one of them.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..', 'dist', 'test');
const filters = process.argv.slice(2);
const files = readdirSync(root, { recursive: true })
  .map((entry) => join(root, entry))
  .filter((path) => path.endsWith('.test.js'))
  .filter((path) => filters.length === 0 || filters.some((f) => relative(root, path).includes(f)))
  .sort();
if (files.length === 0) {
  console.error(`no compiled test files under ${root}${filters.length ? ` matching ${filters.join(', ')}` : ''}`);
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);

// Scratch directories for tests: each is new and empty, and all of them are removed when the test
// process exits (node's runner gives every test file its own process), pass or fail.

import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];
process.on('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A fresh directory `s2bench-LABEL-XXXXXX` under the OS temp dir. */
export async function tempDir(label: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `s2bench-${label}-`));
  made.push(dir);
  return dir;
}

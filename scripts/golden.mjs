// Regenerates test/golden/counters.json: the modeled counters of every shipped trace under each
// architecture's default profile (src/replay/golden.ts). Run after a deliberate change to a kernel
// rule, and review the diff:   npm run golden
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { goldenCounters } from '../dist/src/replay/golden.js';

const ROOT = join(import.meta.dirname, '..');
const golden = await goldenCounters(join(ROOT, 'traces'));
const path = join(ROOT, 'test', 'golden', 'counters.json');
await writeFile(path, `${JSON.stringify(golden, null, 1)}\n`);
console.log(`${path}: ${Object.keys(golden).length} traces`);

// A generator that writes its rows a chunk at a time keeps memory flat: `conversions` (rows written as
// objects, docs/generators.md) to .s2t at ~100k and ~800k rows, each in a fresh process
// (test/helpers/rss-child.ts) whose peak RSS is compared. Holding the rows as TraceRow objects, as it
// did before, added ~60 MB between these two sizes.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/temp.js';

const CHILD = fileURLToPath(new URL('../helpers/rss-child.js', import.meta.url));
/** Conversion rounds: 4 vCPUs x ~11 rows each, so N and 8N rounds are ~100k and ~810k rows. */
const ROUNDS = [2300, 8 * 2300];
/** Allowed growth of peak RSS from the smaller size: V8 heap noise, well below the rows' ~60 MB. */
const SLACK_MIB = 24;

test(`gen conversions peak RSS stays flat from ${ROUNDS[0]} to ${ROUNDS[1]} rounds`, async () => {
  const dir = await tempDir('gen-rss');
  try {
    const rss: number[] = [];
    const rows: number[] = [];
    for (const rounds of ROUNDS) {
      const out = join(dir, `conversions-${rounds}.s2t`);
      const r = JSON.parse(execFileSync(process.execPath, [CHILD, 'gen-named', 'conversions', out, JSON.stringify({ rounds })], { encoding: 'utf8' })) as { rows: number; maxRssKiB: number };
      rows.push(r.rows);
      rss.push(r.maxRssKiB);
      await rm(out);
    }
    assert.ok(rows[1]! > 7 * rows[0]!, `rows: ${rows.join(' -> ')}`);
    const mib = (kib: number): string => `${(kib / 1024).toFixed(0)} MiB`;
    assert.ok(rss[1]! - rss[0]! < SLACK_MIB * 1024, `gen conversions peak RSS grew: ${rss.map(mib).join(' -> ')}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

// Streaming keeps memory flat: generating and replaying a trace hold the model plus a bounded number of
// chunks, whatever the trace's length. Each size runs in a fresh process whose peak RSS is compared;
// holding the trace would add ~77 bytes per row (230 MB at 4M rows). 1M and 4M rows always; 16M with
// S2BENCH_BIG_TESTS=1 (about a minute on a busy 2-core machine).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/temp.js';

const CHILD = fileURLToPath(new URL('../helpers/rss-child.js', import.meta.url));
const SIZES = process.env['S2BENCH_BIG_TESTS'] === '1' ? [1 << 20, 1 << 22, 1 << 24] : [1 << 20, 1 << 22];
/** The same 1 GiB guest at every size, covered by the first touch: the model holds about the same. */
const GUEST_GIB = 1;
/** Allowed growth of peak RSS from the smallest size: V8 heap noise, far below one row's bytes. */
const SLACK_MIB = 48;

function child(...args: string[]): { rows: number; maxRssKiB: number } {
  return JSON.parse(execFileSync(process.execPath, [CHILD, ...args], { encoding: 'utf8' })) as { rows: number; maxRssKiB: number };
}

test(`gen and replay peak RSS stay flat across ${SIZES.map((n) => `${n >> 20}M`).join(', ')}-event traces`, async () => {
  const dir = await tempDir('rss');
  const gen: number[] = [];
  const replay: number[] = [];
  for (const events of SIZES) {
    const path = join(dir, `scale-${events}.s2t`);
    gen.push(child('gen', path, String(events), String(GUEST_GIB)).maxRssKiB);
    const r = child('replay', path);
    assert.equal(r.rows, events);
    replay.push(r.maxRssKiB);
  }
  const mib = (kib: number): string => `${(kib / 1024).toFixed(0)} MiB`;
  for (let k = 1; k < SIZES.length; k++) {
    assert.ok(gen[k]! - gen[0]! < SLACK_MIB * 1024, `gen peak RSS grew: ${gen.map(mib).join(' -> ')}`);
    assert.ok(replay[k]! - replay[0]! < SLACK_MIB * 1024, `replay peak RSS grew: ${replay.map(mib).join(' -> ')}`);
  }
});

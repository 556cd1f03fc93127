// `s2bench replay`: counters as a table or JSON; --check lists divergences and sets exit code 1.

import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { replayCommand } from '../../src/cli/commands/replay.js';
import { FIXTURES_DIR } from '../helpers/paths.js';
import { tempDir } from '../helpers/temp.js';

async function run(path: string, opts: { profile?: string; check: boolean; json: boolean }): Promise<[number, string]> {
  let out = '';
  const code = await replayCommand(path, opts, (text) => {
    out += text;
  });
  return [code, out];
}

describe('s2bench replay', () => {
  it('checks an oracle fixture with 0 divergences and exit code 0', async () => {
    const [code, out] = await run(join(FIXTURES_DIR, 'kvm-oracle', 'update-rules.csv'), { check: true, json: false });
    assert.equal(code, 0);
    assert.match(out, /^profile {2}x86-tdp$/m);
    assert.match(out, /^events +22$/m);
    assert.match(out, /^check: 0 divergences$/m);
  });

  it('lists divergences and exits 1 under --check, and prints JSON', async () => {
    const dir = await tempDir('replay');
    try {
      const path = join(dir, 't.csv');
      await writeFile(
        path,
        '# s2bench trace v1\nop,vcpu,gpa,size,slot,flags,hva,fd,offset,attrs,ret\n' +
          'memslot,,0,0x1000,0,,0x7f0000000000,,,,0\nread,0,0x5000,,,,,,,,ok\n',
      );
      const [code, out] = await run(path, { check: true, json: false });
      assert.equal(code, 1);
      assert.match(out, /^ {2}line 4: read: expected ok, got mmio$/m);
      const [jsonCode, json] = await run(path, { check: false, json: true, profile: 'arm64-s2' });
      assert.equal(jsonCode, 0);
      const parsed = JSON.parse(json) as { profile: string; counters: Record<string, number>; divergences: unknown[] };
      assert.equal(parsed.profile, 'arm64-s2');
      assert.equal(parsed.counters['exits.mmio'], 1);
      assert.equal(parsed.divergences.length, 1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

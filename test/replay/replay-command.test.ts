// `s2bench replay`: counters as a table or JSON; --check lists divergences and sets exit code 1.

import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { replayCommand } from '../../src/cli/actions/replay.js';
import { runCli } from '../helpers/cli.js';
import { FIXTURES_DIR, repoPath } from '../helpers/paths.js';
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

  it("replays under each of the trace's own profiles, one block each, and lists behaviour changes apart", async () => {
    const result = await runCli(['replay', '--check', repoPath('traces', 'pkvm', 'hypshare-churn.csv')]);
    // Under hypshare=fixed the v7.1 recording's failed shares succeed: behaviour changes, not divergences.
    assert.equal(result.code, 0, result.stderr);
    const profiles = [...result.stdout.matchAll(/^profile {2}(.*)$/gm)].map((m) => m[1]);
    assert.deepEqual(profiles, ['arm64-s2,hypshare=v7.1', 'arm64-s2']);
    assert.equal([...result.stdout.matchAll(/^check: 0 divergences$/gm)].length, 2);
    assert.match(result.stdout, /^\d+ behaviour change\(s\): recorded under another profile, answered differently here$/m);
    assert.match(result.stdout, /^ {2}line \d+: hyp_share: expected -EPERM, got 0$/m);
    assert.match(result.stdout, /^behaviour_changes +[1-9]\d*$/m);
  });

  it('refuses a profile of the wrong architecture for the trace with exit 2', async () => {
    const result = await runCli(['replay', '--profile', 'x86-tdp', repoPath('traces', 'pkvm', 'hypshare-churn.csv')]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /hypshare-churn\.csv: --profile: profile 'x86-tdp' models x86-tdp, but the trace is '# arch: aarch64' \(line \d+, field arch\): give an arm64-s2 profile/);
    assert.equal(result.stdout, '');
  });

  it('holds a differing ret as a divergence under the recorded profile and a behaviour change under another', async () => {
    const dir = await tempDir('recorded-under');
    const path = join(dir, 't.csv');
    // A read of a gpa no memslot covers: an MMIO exit; the trace claims the recorded kernel said ok.
    await writeFile(
      path,
      '# s2bench trace v1\n# recorded-under: arm64-s2\nop,vcpu,gpa,size,slot,flags,hva,fd,offset,attrs,ret\n' +
        'memslot,,0,0x1000,0,,0x7f0000000000,,,,0\nread,0,0x5000,,,,,,,,ok\n',
    );
    const [code, out] = await run(path, { check: true, json: false, profile: 'arm64-s2' });
    assert.equal(code, 1);
    assert.match(out, /^check: 1 divergence\(s\)\n {2}line 5: read: expected ok, got mmio$/m);
    const [otherCode, other] = await run(path, { check: true, json: true, profile: 'x86-tdp' });
    assert.equal(otherCode, 0);
    const parsed = JSON.parse(other) as { divergences: unknown[]; behaviourChanges: Array<{ line: number }>; counters: Record<string, number> };
    assert.deepEqual(parsed.divergences, []);
    assert.deepEqual(parsed.behaviourChanges.map((d) => d.line), [5]);
    assert.equal(parsed.counters['behaviour_changes'], 1);
    assert.equal(parsed.counters['divergences'], 0);
  });
});

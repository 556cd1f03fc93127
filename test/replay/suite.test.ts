import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { discoverTraces, parseSuiteShard, planJobs, profilesFor, selectShard } from '../../src/replay/suite.js';
import { UsageError } from '../../src/errors.js';
import { parseProfile } from '../../src/core/profile.js';
import { tempDir } from '../helpers/temp.js';

async function tree(files: string[]): Promise<string> {
  const root = await tempDir('suite');
  for (const f of files) {
    await mkdir(join(root, f, '..'), { recursive: true });
    await writeFile(join(root, f), '');
  }
  return root;
}

test('traces are found recursively, named by relative path without extension, in sorted order', async () => {
  const root = await tree(['b.csv', 'a/z.s2t', 'a/y.csv', 'notes.txt']);
  const traces = await discoverTraces([root]);
  assert.deepEqual(traces.map((t) => t.name), ['a/y', 'a/z', 'b']);
});

test('a filter glob keeps matching traces only', async () => {
  const root = await tree(['boot/qemu.csv', 'boot/ovmf.csv', 'dirty/migrate.csv']);
  const traces = await discoverTraces([root], 'boot/*');
  assert.deepEqual(traces.map((t) => t.name), ['boot/ovmf', 'boot/qemu']);
});

test('a missing input or two traces of one name are usage errors', async () => {
  await assert.rejects(discoverTraces(['/nonexistent/traces']), UsageError);
  const root = await tree(['x.csv', 'x.s2t']);
  await assert.rejects(discoverTraces([root]), /two traces are both named 'x'/);
});

test('profiles: command line first, then # profiles:, then # profile:, then the default', () => {
  const names = (meta: Record<string, string>, cli: string[]): string[] => profilesFor(meta, cli.map(parseProfile)).map((p) => p.name);
  assert.deepEqual(names({ profile: 'arm64-s2' }, ['x86-tdp,gmem-folio=1g']), ['x86-tdp,gmem-folio=1g']);
  assert.deepEqual(names({ profiles: 'x86-tdp; x86-tdp,gmem-split=4k; x86-tdp,gmem-folio=4k' }, []), ['x86-tdp', 'x86-tdp,gmem-split=4k']);
  assert.deepEqual(names({ profile: 'arm64-s2' }, []), ['arm64-s2']);
  assert.deepEqual(names({}, []), ['x86-tdp']);
});

test("a trace's profile that does not parse is kept with the parser's message, and is not the default", () => {
  const [bad, good] = profilesFor({ profiles: 'riscv; arm64-s2' }, []);
  assert.ok(bad !== undefined && 'error' in bad);
  assert.equal(bad.name, 'riscv');
  assert.match(bad.error, /valid profiles are x86-tdp, arm64-s2/);
  assert.equal(good?.name, 'arm64-s2');
  assert.ok(Object.isFrozen(good), 'profiles are frozen objects, shared by every job');
});

test("a profile of the other architecture than the trace's # arch: is kept with a message naming both", () => {
  const [wrong] = profilesFor({ arch: 'aarch64' }, [parseProfile('x86-tdp')], 'line 2, field arch');
  assert.ok(wrong !== undefined && 'error' in wrong);
  assert.equal(wrong.error, "profile 'x86-tdp' models x86-tdp, but the trace is '# arch: aarch64' (line 2, field arch): give an arm64-s2 profile");
  const [own] = profilesFor({ arch: 'x86_64', profile: 'arm64-s2' }, []);
  assert.ok(own !== undefined && 'error' in own, "the trace's own profile is checked too");
  const [right] = profilesFor({ arch: 'arm64' }, [parseProfile('arm64-s2')]);
  assert.ok(right !== undefined && !('error' in right));
});

test('jobs are laid out trace, profile, repeat, with stable indices', () => {
  const jobs = planJobs(
    [
      { name: 'a', path: 'a.csv', profiles: [parseProfile('x86-tdp'), parseProfile('arm64-s2')] },
      { name: 'b', path: 'b.csv', profiles: [parseProfile('x86-tdp')] },
    ],
    2,
  );
  assert.deepEqual(
    jobs.map((j) => `${j.index}:${j.trace}:${j.profile.name}:${j.repeat}`),
    ['0:a:x86-tdp:0', '1:a:x86-tdp:1', '2:a:arm64-s2:0', '3:a:arm64-s2:1', '4:b:x86-tdp:0', '5:b:x86-tdp:1'],
  );
});

test('suite shards are disjoint and cover the suite', () => {
  const items = ['a', 'b', 'c', 'd', 'e'];
  const shards = [1, 2, 3].map((i) => selectShard(items, parseSuiteShard(`${i}/3`)));
  assert.deepEqual(shards, [['a', 'd'], ['b', 'e'], ['c']]);
  assert.throws(() => parseSuiteShard('0/3'), /--shard takes i\/n/);
  assert.throws(() => parseSuiteShard('4/3'), /--shard takes i\/n/);
});

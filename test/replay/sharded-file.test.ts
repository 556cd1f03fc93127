// A trace file replayed as shards, each streaming the file (replayShardedFile, `replay --workers N`):
// the counters, divergences and the command's output are the single-thread replay's.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseProfile } from '../../src/core/profile.js';
import { replayFile } from '../../src/replay/engine.js';
import { replayShardedFile } from '../../src/replay/sharded.js';
import { profilesFor } from '../../src/replay/suite.js';
import { openTrace } from '../../src/trace/io.js';
import { InputError } from '../../src/errors.js';
import { runCli } from '../helpers/cli.js';
import { repoPath } from '../helpers/paths.js';
import { tempDir } from '../helpers/temp.js';

const SHIPPED = ['demand-paging/4vcpu-1g-uffd.csv', 'migration/dirty-log-1g-thp.csv', 'boot/qemu-like-512m.csv', 'memslots/churn-256.csv'];

/** A demand-paging trace over 3 granules, each page taking a userfaultfd fault (`uffd` rows with `page`). */
async function generated(): Promise<string> {
  const path = join(await tempDir('sharded-file'), 'dp.s2t');
  const made = await runCli(['gen', 'demand-paging', '--vcpus', '2', '--vcpu-pages', '300000', '-o', path]);
  assert.equal(made.code, 0, made.stderr);
  return path;
}

test('shipped traces replayed as streamed shards give the single-thread counters and divergences', async () => {
  const shardedNames = new Set<string>();
  for (const name of SHIPPED) {
    const path = repoPath('traces', name);
    const header = await openTrace(path);
    await header.close();
    for (const profile of profilesFor(header.meta.fields, [])) {
      assert.ok(!('error' in profile));
      const whole = await replayFile(path, profile);
      const sharded = await replayShardedFile(path, 3, { profile, workers: 0 });
      if (sharded.unshardable === undefined) shardedNames.add(name);
      assert.equal(sharded.shards, sharded.unshardable === undefined ? 3 : 1);
      assert.deepEqual(sharded.counters, whole.counters, `${name} [${profile.name}]`);
      assert.deepEqual(sharded.divergences, whole.divergences, `${name} [${profile.name}]`);
      assert.deepEqual(sharded.behaviourChanges, whole.behaviourChanges, `${name} [${profile.name}]`);
    }
  }
  assert.ok(shardedNames.has(SHIPPED[0]!) && shardedNames.has(SHIPPED[1]!), `the uffd and migration traces shard (${[...shardedNames].join(', ')} did)`);
});

test('a one-page-per-fault userfaultfd trace shards on worker threads; a whole-range handler keeps its trace whole', async () => {
  const path = await generated();
  const profile = parseProfile('x86-tdp');
  const whole = await replayFile(path, profile);
  assert.equal(whole.counters['uffd.faults'], 600000);
  for (const [count, workers] of [[2, 1], [3, 2]] as const) {
    const sharded = await replayShardedFile(path, count, { profile, workers });
    assert.equal(sharded.unshardable, undefined);
    assert.deepEqual(sharded.counters, whole.counters, `${count} shards on ${workers} workers`);
  }

  const dir = await tempDir('sharded-file');
  const rangeFill = join(dir, 'range.csv');
  const made = await runCli(['gen', 'demand-paging', '--vcpus', '2', '--vcpu-pages', '300000', '-o', join(dir, 'range.s2t')]);
  assert.equal(made.code, 0, made.stderr);
  // The same registrations without `page`: the handler fills the whole range on its first fault.
  const { readFile, writeFile } = await import('node:fs/promises');
  const csv = join(dir, 'page.csv');
  assert.equal((await runCli(['convert', join(dir, 'range.s2t'), csv])).code, 0);
  await writeFile(rangeFill, (await readFile(csv, 'utf8')).replace(/^uffd,(.*),page,/gm, 'uffd,$1,,'));
  const wholeRange = await replayFile(rangeFill, profile);
  const kept = await replayShardedFile(rangeFill, 2, { profile, workers: 1 });
  assert.match(kept.unshardable ?? '', /line \d+: uffd rows share state across 1 GiB granules/);
  assert.equal(kept.shards, 1);
  assert.deepEqual(kept.counters, wholeRange.counters);
  assert.ok(wholeRange.counters['uffd.faults']! < 10, 'one fault per registration fills it');
});

test('a streamed sharded replay past --max-events fails naming the file', async () => {
  const path = repoPath('traces', SHIPPED[0]!);
  await assert.rejects(replayShardedFile(path, 2, { workers: 1, maxEvents: 100 }), (err: Error) => err instanceof InputError && err.message.includes(path) && /more than 100 events/.test(err.message));
});

test('replay --workers N prints what --workers 1 prints (text and JSON); an unshardable trace says why on stderr', async () => {
  const generatedPath = await generated();
  for (const path of [generatedPath, repoPath('traces', 'migration', 'dirty-log-1g-thp.csv')]) {
    for (const json of [[], ['--json']]) {
      const one = await runCli(['replay', '--check', ...json, '--workers', '1', path]);
      const two = await runCli(['replay', '--check', ...json, '--workers', '2', path]);
      assert.equal(one.code, 0, one.stderr);
      assert.equal(two.code, 0, two.stderr);
      assert.equal(two.stdout, one.stdout, `${path} ${json.join(' ')}`);
      assert.equal(two.stderr, '');
    }
  }
  const storm = repoPath('traces', 'private', 'conversion-storm.csv');
  const one = await runCli(['replay', '--workers', '1', storm]);
  const two = await runCli(['replay', '--workers', '2', storm]);
  assert.equal(two.stdout, one.stdout);
  assert.match(two.stderr, /replayed on one thread, not sharded: line \d+: attrs rows share state across 1 GiB granules/);

  const bad = await runCli(['replay', '--workers', 'two', storm]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--workers takes a whole number >= 1 or 'auto', not 'two'/);
});

test('the scale trace shards: its moved memslot maps an hva in two granules of one shard, and its expect rows see the single run', async () => {
  // A 32 GiB guest in 2 GiB slots, the last one moved up by its size and back: the old and new gfns of
  // each of its hva pages lie 2 granules apart, in one shard of 2, in different shards of 3 or 4.
  const path = join(await tempDir('sharded-file'), 'scale.s2t');
  const made = await runCli(['gen', 'scale', '--guest-gib', '32', '--events', '60000', '-o', path]);
  assert.equal(made.code, 0, made.stderr);
  const profile = parseProfile('x86-tdp');
  const whole = await replayFile(path, profile);
  assert.equal(whole.divergences.length, 0);
  assert.ok((whole.counters['faults'] ?? 0) > 0);
  const two = await replayShardedFile(path, 2, { profile, workers: 0 });
  assert.equal(two.unshardable, undefined);
  assert.deepEqual(two.counters, whole.counters);
  assert.deepEqual(two.divergences, []);
  for (const count of [3, 4]) {
    const sharded = await replayShardedFile(path, count, { profile, workers: 0 });
    assert.match(sharded.unshardable ?? '', /granules of different shards/, `${count} shards`);
    assert.deepEqual(sharded.counters, whole.counters, `${count} shards`);
  }
});

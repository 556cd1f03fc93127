import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseProfile } from '../../src/core/profile.js';
import { replayTrace } from '../../src/replay/engine.js';
import { planShards } from '../../src/replay/shard.js';
import { replaySharded } from '../../src/replay/sharded.js';
import { TraceBuilder } from '../../src/trace/builder.js';
import type { TraceRow } from '../../src/trace/row.js';
import type { LoadedTrace } from '../../src/trace/io.js';

const GIB = 1n << 30n;
const MIB2 = 2n << 20n;

/**
 * Many granules, huge and small leaves, dirty logging on and off, zaps, a delete (a zap of the whole
 * VM under the SLOT_ZAP_ALL quirk) and expect rows.
 */
function mixedTrace(): LoadedTrace {
  const rows: TraceRow[] = [];
  const hva1 = 0x7f0000000000n;
  const hva2 = 0x7f1000000000n;
  rows.push({ op: 'backing', hva: hva1, size: 4n * GIB, flags: 'thp' });
  rows.push({ op: 'backing', hva: hva2, size: 2n * GIB, flags: 'anon' });
  rows.push({ op: 'memslot', slot: 1, gpa: 4n * GIB, size: 4n * GIB, hva: hva1, ret: 0 });
  rows.push({ op: 'memslot', slot: 2, gpa: 8n * GIB, size: 2n * GIB, hva: hva2, ret: 0 });
  let x = 12345;
  const next = (mod: number): number => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x % mod;
  };
  for (let i = 0; i < 3000; i++) rows.push({ op: 'write', vcpu: i % 4, gpa: 4n * GIB + BigInt(next(1 << 20)) * 4096n });
  for (let i = 0; i < 2000; i++) rows.push({ op: 'read', vcpu: 1, gpa: 8n * GIB + BigInt(next(1 << 19)) * 4096n });
  rows.push({ op: 'write', vcpu: 0, gpa: 5n * GIB, size: 64n * MIB2 });
  rows.push({ op: 'expect', flags: 'tables.peak', ret: 1 });
  rows.push({ op: 'expect', flags: 'mapped.2m', ret: 1 });
  rows.push({ op: 'memslot', slot: 1, gpa: 4n * GIB, size: 4n * GIB, hva: hva1, flags: 'log', ret: 0 });
  for (let i = 0; i < 3000; i++) rows.push({ op: 'write', vcpu: 2, gpa: 4n * GIB + BigInt(next(1 << 20)) * 4096n });
  rows.push({ op: 'dirty_get', slot: 1, ret: 1 });
  rows.push({ op: 'expect', flags: 'tlb.flushes', ret: 0 });
  // Barrier ioctls are counted once per trace, not once per shard (PER_BARRIER_METRICS).
  rows.push({ op: 'expect', flags: 'memslot.creates', ret: 2 });
  rows.push({ op: 'expect', flags: 'dirty.gets', ret: 1 });
  // Logging off: huge pages rebuilt in place on 6.13+, zapped to refault before (every shard's granules).
  rows.push({ op: 'memslot', slot: 1, gpa: 4n * GIB, size: 4n * GIB, hva: hva1, ret: 0 });
  for (let i = 0; i < 500; i++) rows.push({ op: 'read', vcpu: 2, gpa: 4n * GIB + BigInt(next(1 << 20)) * 4096n });
  rows.push({ op: 'unmap_hva', hva: hva1 + GIB - 4n * MIB2, size: 8n * MIB2 });
  rows.push({ op: 'memslot', slot: 2, gpa: 8n * GIB, size: 0n, hva: hva2, ret: 0 });
  rows.push({ op: 'dirty_get', slot: 2, ret: 0 });
  for (let i = 0; i < 500; i++) rows.push({ op: 'exec', vcpu: 3, gpa: 4n * GIB + BigInt(next(1 << 20)) * 4096n });
  rows.push({ op: 'expect', flags: 'faults', ret: 0 });
  const builder = new TraceBuilder(1000, 'mixed.csv');
  rows.forEach((row, i) => builder.push(row, i + 3));
  return { meta: { comments: ['# s2bench trace v1'], fields: {} }, chunks: builder.finish() };
}

test('a sharded replay merges to exactly the single-thread counters and divergences', async () => {
  const trace = mixedTrace();
  for (const profile of ['x86-tdp', 'x86-tdp@6.12,pml=off,slot-zap-all=off', 'x86-tdp,eager-split=off', 'arm64-s2', 'arm64-s2,ipa=48']) {
    const whole = replayTrace(trace, parseProfile(profile));
    assert.ok(whole.counters['faults']! > 4000, `the trace does real work under ${profile}: ${whole.counters['faults']} faults`);
    assert.ok(whole.divergences.length >= 5, 'the wrong expect and dirty_get values diverge');
    assert.deepEqual(
      [whole.counters['memslot.creates'], whole.counters['memslot.flag_changes'], whole.counters['memslot.deletes'], whole.counters['dirty.gets']],
      [2, 2, 1, 1], // two flag changes: logging on, then off
    );
    assert.ok(!whole.divergences.some((d) => /memslot\.creates|dirty\.gets/.test(d.expected)), 'per-op counts as expected');
    for (const shards of [1, 2, 3, 4]) {
      const sharded = await replaySharded(trace, shards, { profile: parseProfile(profile), workers: 0 });
      assert.equal(sharded.shards, shards);
      assert.deepEqual(sharded.counters, whole.counters, `${profile}, ${shards} shards`);
      assert.deepEqual(sharded.divergences, whole.divergences, `${profile}, ${shards} shards`);
    }
  }
});

test('masked dirty clears (bits rows) shard like any barrier; an enable_cap row makes the trace whole', async () => {
  const rows: TraceRow[] = [{ op: 'memslot', slot: 1, gpa: 0n, size: 4n * GIB, hva: 0x7f0000000000n, flags: 'log', ret: 0 }];
  for (const g of [0n, 1n, 2n, 3n]) for (const p of [0n, 5n, 64n, 70n]) rows.push({ op: 'write', gpa: g * GIB + p * 4096n });
  rows.push({ op: 'dirty_get', slot: 1, ret: 16 });
  for (let i = 0; i < 16; i++) rows.push({ op: 'write', gpa: BigInt(i) * 0x10000000n + 4096n });
  // Pass pages 1..5 of the first granule and of the third (page 262144 * 2 = 524288): the others stay dirty.
  rows.push({ op: 'dirty_clear', slot: 1, flags: 'bits', offset: 1n, size: 5n });
  rows.push({ op: 'dirty_clear', slot: 1, flags: 'bits', offset: 524289n, size: 5n });
  rows.push({ op: 'dirty_clear', slot: 1, flags: 'masked', offset: 0n, size: 1048576n, ret: 0 });
  rows.push({ op: 'dirty_get', slot: 1, ret: 14 });
  const build = (extra: TraceRow[]): LoadedTrace => {
    const builder = new TraceBuilder(1000, 'masked.csv');
    [...extra, ...rows].forEach((row, i) => builder.push(row, i + 3));
    return { meta: { comments: ['# s2bench trace v1'], fields: {} }, chunks: builder.finish() };
  };
  const trace = build([]);
  for (const profile of ['x86-tdp', 'x86-tdp,pml=off', 'arm64-s2,ipa=48']) {
    const whole = replayTrace(trace, parseProfile(profile), { check: true });
    assert.deepEqual(whole.divergences, [], profile);
    const sharded = await replaySharded(trace, 4, { profile: parseProfile(profile), workers: 0 });
    assert.equal(sharded.unshardable, undefined);
    assert.deepEqual(sharded.counters, whole.counters, profile);
  }
  const capped = await replaySharded(build([{ op: 'enable_cap', slot: 168, flags: 'protect|init_set', ret: 0 }]), 4, { profile: parseProfile('x86-tdp'), workers: 0 });
  assert.match(capped.unshardable ?? '', /enable_cap/);
});

test('shards run on worker threads give the same merge', async () => {
  const trace = mixedTrace();
  const whole = replayTrace(trace, parseProfile('x86-tdp'));
  const sharded = await replaySharded(trace, 4, { profile: parseProfile('x86-tdp'), workers: 2 });
  assert.deepEqual(sharded.counters, whole.counters);
});

test('traces whose state spans granules are replayed whole, saying why', async () => {
  const builder = new TraceBuilder();
  builder.push({ op: 'memslot', slot: 0, gpa: 0n, size: 2n * GIB, hva: 0x7f0000000000n });
  builder.push({ op: 'uffd', hva: 0x7f0000000000n, size: 2n * GIB });
  builder.push({ op: 'read', vcpu: 0, gpa: 0x1000n });
  const plan = planShards(builder.finish(), 2);
  assert.equal(plan.ok, false);
  assert.match(plan.ok ? '' : plan.reason, /line 2: uffd rows share state/);

  const crossing = new TraceBuilder();
  crossing.push({ op: 'read', vcpu: 0, gpa: GIB - 4096n, size: 8192n });
  const cross = planShards(crossing.finish(), 2);
  assert.match(cross.ok ? '' : cross.reason, /crosses a 1 GiB boundary/);
});

test('every shardable shipped trace merges to its single-thread counters under each of its profiles', async () => {
  const { discoverTraces, profilesFor } = await import('../../src/replay/suite.js');
  const { readTrace } = await import('../../src/trace/io.js');
  const { repoPath } = await import('../helpers/paths.js');
  let sharded = 0;
  for (const t of await discoverTraces([repoPath('traces')])) {
    const trace = await readTrace(t.path);
    for (const profile of profilesFor(trace.meta.fields, [])) {
      assert.ok(!('error' in profile), `${t.name}: ${profile.name} parses`);
      const whole = replayTrace(trace, profile);
      const result = await replaySharded(trace, 3, { profile, workers: 0 });
      if (result.unshardable !== undefined) continue;
      sharded++;
      assert.deepEqual(result.counters, whole.counters, `${t.name} [${profile.name}]`);
      assert.deepEqual(result.divergences, whole.divergences, `${t.name} [${profile.name}]`);
    }
  }
  assert.ok(sharded >= 4, `at least the boot, demand-paging and migration traces shard (${sharded} did)`);
});

test('host page state shared across granules (an hva mapped in two granules) replays whole; within one granule it shards exactly', async () => {
  const hva = 0x7f0000000000n;
  const aliasAt = (gpa2: bigint): LoadedTrace => {
    const b = new TraceBuilder();
    b.push({ op: 'memslot', slot: 0, gpa: 0n, size: MIB2, hva, ret: 0 });
    b.push({ op: 'memslot', slot: 1, gpa: gpa2, size: MIB2, hva, ret: 0 });
    // Written through slot 0, then read and written through the alias: present pages map writable
    // there; a page only read through slot 0 is the zero page, and the write through the alias copies it.
    b.push({ op: 'write', vcpu: 0, gpa: 0n, size: 0x10000n });
    b.push({ op: 'read', vcpu: 0, gpa: 0x10000n, size: 0x10000n });
    b.push({ op: 'read', vcpu: 1, gpa: gpa2, size: 0x20000n });
    b.push({ op: 'write', vcpu: 1, gpa: gpa2, size: 0x20000n });
    return { meta: { comments: ['# s2bench trace v1'], fields: {} }, chunks: b.finish() };
  };
  const across = planShards(aliasAt(5n * GIB).chunks, 2);
  assert.match(across.ok ? '' : across.reason, /line 2: memslots map the same hva pages in granules of different shards/);

  const within = aliasAt(0x40000000n - MIB2);
  assert.ok(planShards(within.chunks, 2).ok);
  for (const profile of ['x86-tdp', 'x86-tdp@6.12', 'arm64-s2']) {
    const whole = replayTrace(within, parseProfile(profile));
    assert.equal(whole.counters['faults.cow'], 16, 'the alias copies the 16 zero pages');
    const sharded = await replaySharded(within, 2, { profile: parseProfile(profile), workers: 0 });
    assert.equal(sharded.unshardable, undefined);
    assert.deepEqual(sharded.counters, whole.counters, profile);
  }
});

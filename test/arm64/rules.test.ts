// arm64 stage-2's own rules (docs/kvm-rules.md, "arm64"; src/core/rules.ts ARM64_RULES), one small
// trace per rule whose `expect` rows carry the kernel's values. Each trace is replayed under every
// modeled kernel version, and under the profile where the rule answers differently (another knob
// value, or x86-tdp) to show which figures the rule moves.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KERNEL_VERSIONS, parseProfile } from '../../src/core/profile.js';
import { ARM64_RULES, ruleDiff } from '../../src/core/rules.js';
import { replayTrace } from '../../src/replay/engine.js';
import { TraceBuilder } from '../../src/trace/builder.js';
import type { TraceRow } from '../../src/trace/row.js';

const HVA = 0x7f0000000000n; // 1 GiB aligned
const GPA = 0x40000000n; // 1 GiB
const MiB2 = 2n << 20n;
const PAGE = 0x1000n;

/** The divergences of `rows` replayed under `profile`, as `line metric: expected -> got`. */
function divergences(rows: TraceRow[], profile: string): string[] {
  const builder = new TraceBuilder(1024, 'arm64 rule trace');
  for (const r of rows) builder.push(r);
  const result = replayTrace({ meta: { comments: [], fields: {} }, chunks: builder.finish() }, parseProfile(profile));
  return result.divergences.map((d) => `${d.op} line ${d.line}: expected ${d.expected}, got ${d.got}`);
}

/** The trace holds under every modeled version of `arm64-s2` with `knobs`. */
function holdsEverywhere(rows: TraceRow[], knobs = ''): void {
  for (const version of KERNEL_VERSIONS) assert.deepEqual(divergences(rows, `arm64-s2@${version}${knobs}`), [], `arm64-s2@${version}${knobs}`);
}

const expect = (metric: string, value: number): TraceRow => ({ op: 'expect', flags: metric, ret: value });
const slot = (flags: string, size = 2n * MiB2, gpa = GPA, ret: number | string = 0): TraceRow => ({
  op: 'memslot', slot: 0, gpa, size, hva: HVA, ...(flags === '' ? {} : { flags }), ret,
});
const access = (op: 'read' | 'write' | 'exec', page: bigint, ret = 'ok', gpa = GPA): TraceRow => ({ op, vcpu: 0, gpa: gpa + page * PAGE, ret });
/** Two THP blocks behind a 4 MiB slot, both mapped as blocks by a write each. */
const twoBlocks = (): TraceRow[] => [
  { op: 'backing', hva: HVA, size: 2n * MiB2, flags: 'thp' },
  slot(''),
  access('write', 0n),
  access('write', 512n),
  expect('mapped.2m', 2 * 2 ** 21),
];

test('rule 1: enabling dirty logging splits nothing by default (split-chunk=0); a chunk size splits to 4K', () => {
  const rows = [...twoBlocks(), slot('log'), expect('splits', 0), expect('mapped.2m', 2 * 2 ** 21), expect('mapped.4k', 0)];
  holdsEverywhere(rows);
  assert.deepEqual(divergences(rows, 'arm64-s2,split-chunk=2m'), [
    'expect line 7: expected splits = 0, got splits = 2',
    'expect line 8: expected mapped.2m = 4194304, got mapped.2m = 0',
    'expect line 9: expected mapped.4k = 0, got mapped.4k = 4194304',
  ]);
});

// Logging on, then a write and a read in the first block: the write breaks the block into an empty
// table and maps its page; the read of another page faults and maps it read-only; a write there then
// takes a write-protect fault.
const logWrites = (): TraceRow[] => [
  ...twoBlocks(),
  slot('log'),
  access('write', 0n),
  expect('breaks', 1),
  expect('splits', 0),
  expect('mapped.2m', 2 ** 21),
  expect('mapped.4k', 4096),
  access('read', 1n),
  expect('faults', 4),
  expect('mapped.4k', 8192),
  access('write', 1n),
  expect('faults', 5),
  expect('faults.wp', 2),
  { op: 'dirty_get', slot: 0, ret: 2 },
];

test('rule 2: a write to a block of a logging slot breaks it into an empty table; the other pages fault again', () => {
  const rows = logWrites();
  holdsEverywhere(rows);
  // x86 splits the block into 512 leaves instead: nothing else in it faults again.
  assert.deepEqual(divergences(rows, 'x86-tdp,eager-split=off'), [
    'expect line 8: expected breaks = 1, got breaks = 0',
    'expect line 9: expected splits = 0, got splits = 1',
    'expect line 11: expected mapped.4k = 4096, got mapped.4k = 2097152',
    'expect line 13: expected faults = 4, got faults = 3',
    'expect line 14: expected mapped.4k = 8192, got mapped.4k = 2097152',
    'expect line 16: expected faults = 5, got faults = 4',
  ]);
});

test('rule 3: turning dirty logging off zaps nothing; a fault maps the block again', () => {
  const rows = [
    ...logWrites(),
    slot(''),
    expect('zaps', 0),
    expect('mapped.4k', 8192),
    access('write', 5n),
    expect('mapped.4k', 0),
    expect('mapped.2m', 2 * 2 ** 21),
  ];
  holdsEverywhere(rows);
  // x86 before 6.13 zaps the collapsible small leaves when logging stops (kvm_mmu_zap_collapsible_sptes()).
  const x86 = divergences(rows, 'x86-tdp@6.12,eager-split=off,pml=off');
  assert.ok(x86.includes('expect line 20: expected zaps = 0, got zaps = 513'), x86.join('\n'));
  assert.ok(x86.includes('expect line 21: expected mapped.4k = 8192, got mapped.4k = 0'), x86.join('\n'));
});

test('rule 4: a read-only slot with the log flag is not logging: it maps blocks', () => {
  const rows: TraceRow[] = [
    { op: 'backing', hva: HVA, size: MiB2, flags: 'thp' },
    slot('log|ro', MiB2),
    access('read', 3n),
    expect('mapped.2m', 2 ** 21),
    access('write', 3n, 'mmio'),
    { op: 'dirty_get', slot: 0, ret: 0 },
  ];
  holdsEverywhere(rows);
  assert.deepEqual(divergences(rows, 'x86-tdp'), ['expect line 4: expected mapped.2m = 2097152, got mapped.2m = 0']);
});

test('rule 5: ipa=40 is a 3-level table with a 2-page root and refuses memslots past 1 TiB; ipa=48 is 4-level', () => {
  const top = 1n << 40n;
  const rows: TraceRow[] = [
    expect('tables.peak', 2),
    { op: 'backing', hva: HVA, size: 2n * MiB2, flags: 'anon' },
    { op: 'memslot', slot: 0, gpa: 0n, size: MiB2, hva: HVA, ret: 0 },
    { op: 'memslot', slot: 1, gpa: top - MiB2, size: MiB2, hva: HVA + MiB2, ret: 0 },
    { op: 'memslot', slot: 2, gpa: top, size: MiB2, hva: HVA, ret: '-EFAULT' },
    access('read', 0n, 'ok', 0n),
    expect('tables.peak', 4),
    access('read', 511n, 'ok', top - MiB2),
    expect('tables.peak', 6),
  ];
  holdsEverywhere(rows);
  assert.deepEqual(divergences(rows, 'arm64-s2,ipa=48'), [
    'expect line 1: expected tables.peak = 2, got tables.peak = 1',
    'memslot line 5: expected -EFAULT, got 0',
    'expect line 9: expected tables.peak = 6, got tables.peak = 7',
  ]);
});

test('rule 6: an instruction fetch from an IPA with no memslot injects a prefetch abort and the vCPU runs on', () => {
  const rows: TraceRow[] = [
    { op: 'backing', hva: HVA, size: MiB2, flags: 'anon' },
    slot('', MiB2),
    access('exec', 0n, 'pabt', 0n),
    expect('aborts.pabt', 1),
    expect('runs.enosys', 0),
    access('exec', 0n),
    expect('faults', 2),
  ];
  holdsEverywhere(rows);
  assert.deepEqual(divergences(rows, 'x86-tdp'), ['exec line 3: expected pabt, got internal', 'expect line 4: expected aborts.pabt = 1, got aborts.pabt = 0']);
});

test('rule 7: without FEAT_DIC a data fault maps non-executable and a later fetch takes a permission fault', () => {
  const rows: TraceRow[] = [
    { op: 'backing', hva: HVA, size: MiB2, flags: 'thp' },
    slot('', MiB2),
    access('write', 0n),
    access('exec', 7n),
    access('exec', 8n),
    expect('faults', 2),
    expect('faults.exec_perm', 1),
    expect('mapped.2m', 2 ** 21),
  ];
  holdsEverywhere(rows, ',dic=off');
  assert.deepEqual(divergences(rows, 'arm64-s2'), ['expect line 6: expected faults = 2, got faults = 1', 'expect line 7: expected faults.exec_perm = 1, got faults.exec_perm = 0']);
});

test('the arm64 rules answer per profile: a knob changes exactly its rules, x86 has none of them', () => {
  const ids = (a: string, b: string): string[] => ruleDiff(parseProfile(a), parseProfile(b)).map((d) => d.rule.id);
  assert.deepEqual(ids('arm64-s2', 'arm64-s2,split-chunk=2m,dic=off,ipa=48'), ['arm64.eager-split', 'arm64.ipa', 'arm64.dic']);
  // Only the host mm differs between those versions: a write to the huge zero page allocates a THP from 6.13.
  assert.deepEqual(ids('arm64-s2@6.6', 'arm64-s2'), ['common.host-pages']);
  assert.ok(ARM64_RULES.every((rule) => rule.answer(parseProfile('x86-tdp')) === undefined));
  assert.equal(ARM64_RULES.length, 8); // rules 1-7 above and arm64.clear-span (test/core/dirty-manual-protect.test.ts)
});

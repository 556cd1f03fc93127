// `s2bench validate`, `convert` and `info`, called as the command actions call them.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { convertTrace, formatInfo, traceInfo, validateCommand } from '../../src/cli/actions/trace.js';
import { InputError, UsageError } from '../../src/errors.js';
import { OPS } from '../../src/trace/schema.js';
import { FIXTURES_DIR } from '../helpers/paths.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

const HEAD = '# s2bench trace v1\n# arch: x86_64\nop,vcpu,gpa,size,slot,flags,hva,fd,offset,attrs,ret\n';
const GOOD =
  HEAD +
  'memslot,,0x100000000,0x40000000,1,log,0x7f0000000000,,,,0\n' +
  'read,0,0x100001000,,,,,,,,ok\n' +
  'write,1,0x13fff0000,0x20000,,,,,,,ok\n' +
  'dirty_get,,,,1,,,,,,33\n';

async function validate(files: string[], json = false): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await validateCommand(files, json, (text) => (out += text));
  return { code, out };
}

test('validate: exit 0 and a summary for good files, the oracle fixtures included', async () => {
  const dir = await tempDir('cli');
  const good = join(dir, 'good.csv');
  await writeFile(good, GOOD);
  const { code, out } = await validate([good, join(FIXTURES_DIR, 'kvm-oracle', 'seq-1.csv')]);
  assert.equal(code, 0);
  assert.equal(out, '2 file(s), 67 valid row(s), 0 problem(s)\n');
});

test('validate: every problem of every file with file, line and field; exit 1', async () => {
  const dir = await tempDir('cli');
  const bad = join(dir, 'bad.csv');
  await writeFile(
    bad,
    HEAD +
      'read,0,0x1000,,,,,,,,ok\n' + // line 4: fine
      'read,,,,,,,,,,\n' + // line 5: no gpa
      'write,0,0x1000,,,log,,,,,\n' + // line 6: `log` is a memslot flag
      'memslot,,0,0x1000,4294967296,,0x7f0000000000,,,,\n' + // line 7: slot > u32
      'read,0,0x1000,,\n', // line 8: 5 columns
  );
  const missing = join(dir, 'missing.csv');
  const { code, out } = await validate([bad, missing], true);
  assert.equal(code, 1);
  const report = JSON.parse(out) as { files: number; rows: number; problems: Array<{ file: string; line: number; field: string; message: string }> };
  assert.equal(report.files, 2);
  assert.equal(report.rows, 1);
  assert.deepEqual(
    report.problems.map((p) => [p.file === bad ? 'bad' : 'missing', p.line, p.field]),
    [
      ['bad', 5, 'gpa'],
      ['bad', 6, 'flags'],
      ['bad', 7, 'slot'],
      ['bad', 8, ''],
      ['missing', 0, ''],
    ],
  );
  assert.match(report.problems[1]!.message, /unknown flags name 'log' for op write \(expected private, nisv, s1ptw, or a number\)/);
  assert.match(report.problems[3]!.message, /expected 11 columns/);
  assert.match(report.problems[4]!.message, /missing\.csv: no such file/);
});

test('validate: a damaged .s2t is a problem of that file', async () => {
  const dir = await tempDir('cli');
  const s2t = join(dir, 'damaged.s2t');
  await writeFile(s2t, 'S2BTRACX' + '\0'.repeat(40));
  const { code, out } = await validate([s2t]);
  assert.equal(code, 1);
  assert.match(out, /damaged\.s2t: record 0: bad magic/);
});

test('convert: CSV -> s2t -> CSV gives back the same bytes; bad output paths are user errors', async () => {
  const dir = await tempDir('cli');
  const csv = join(dir, 'in.csv');
  await writeFile(csv, GOOD);
  await convertTrace(csv, join(dir, 'mid.s2t'));
  await convertTrace(join(dir, 'mid.s2t'), join(dir, 'out.csv'));
  assert.equal(await readFile(join(dir, 'out.csv'), 'utf8'), GOOD);
  await assert.rejects(convertTrace(csv, join(dir, 'no', 'such', 'dir', 'x.s2t')), (err: unknown) => err instanceof InputError && /cannot write here/.test(err.message));
  await assert.rejects(convertTrace(join(dir, 'absent.csv'), join(dir, 'x.s2t')), (err: unknown) => err instanceof InputError && /absent\.csv: no such file/.test(err.message));
  await assert.rejects(convertTrace(csv, join(dir, 'x.txt')), (err: unknown) => err instanceof UsageError);
});

test('info: metadata, events by op and the gpa span, the same from CSV and s2t', async () => {
  const dir = await tempDir('cli');
  const csv = join(dir, 'in.csv');
  await writeFile(csv, GOOD);
  await convertTrace(csv, join(dir, 'in.s2t'));
  for (const file of [csv, join(dir, 'in.s2t')]) {
    const info = await traceInfo(file);
    assert.deepEqual(info.meta, { arch: 'x86_64' });
    assert.equal(info.events, 4);
    assert.deepEqual(info.byOp, { memslot: 1, read: 1, write: 1, dirty_get: 1 });
    // memslot [0x100000000, 0x140000000) and a write ending at 0x140010000; a read without size counts 1 byte.
    assert.deepEqual(info.gpaSpan, { start: '0x100000000', end: '0x140010000' });
  }
  assert.equal(
    formatInfo(await traceInfo(csv)),
    `${csv}: 4 events\n  arch: x86_64\n  gpa span: [0x100000000, 0x140010000)\n  events by op:\n` +
      '    memslot            1\n    dirty_get          1\n    read               1\n    write              1\n',
  );
});

test('the s2bench process: exit 0 ok, 1 invalid input (message, no stack), 2 usage', async () => {
  const dir = await tempDir('cli');
  const good = join(dir, 'good.csv');
  await writeFile(good, GOOD);
  const bad = join(dir, 'bad.csv');
  await writeFile(bad, HEAD + 'frobnicate,,,,,,,,,,\n');

  assert.equal((await runCli(['validate', good])).code, 0);
  const invalid = await runCli(['validate', good, bad]);
  assert.equal(invalid.code, 1);
  assert.match(invalid.stdout, /bad\.csv: line 4, field op: unknown op 'frobnicate'/);
  const info = await runCli(['info', bad]);
  assert.equal(info.code, 1);
  assert.equal(info.stderr, `s2bench: ${bad}: line 4, field op: unknown op 'frobnicate' (expected one of ${OPS.join(', ')})\n`);
  assert.equal((await runCli(['convert', join(dir, 'absent.csv'), join(dir, 'x.s2t')])).stderr, `s2bench: ${join(dir, 'absent.csv')}: no such file\n`);
  assert.equal((await runCli(['convert', good, join(dir, 'x.txt')])).code, 2);
  assert.equal((await runCli(['validate'])).code, 2);
  const json = await runCli(['info', good, '--json']);
  assert.equal(json.code, 0);
  assert.equal((JSON.parse(json.stdout) as { events: number }).events, 4);
});

test('info: the gpa span is exact on both sides of 2^52 and up to 2^64 (numbers below, bigint above)', async () => {
  const dir = await tempDir('cli');
  const csv = join(dir, 'span.csv');
  const big = (1n << 52n) - 0x1000n;
  const cases: Array<[string, string, string]> = [
    // rows, expected start, expected end
    ['read,0,0x2000,0x1000,,,,,,,\nread,0,0x1000,,,,,,,,\n', '0x1000', '0x3000'],
    [`read,0,0x${big.toString(16)},0x2000,,,,,,,\n`, `0x${big.toString(16)}`, `0x${(big + 0x2000n).toString(16)}`],
    [`read,0,0x${(big + 0x1000n).toString(16)},0x1,,,,,,,\nread,0,0x${(big - 1n).toString(16)},0x1,,,,,,,\n`, `0x${(big - 1n).toString(16)}`, `0x${(big + 0x1001n).toString(16)}`],
    ['read,0,0xfffffffffffff000,0x1000,,,,,,,\nread,0,0x5000,0x0,,,,,,,\n', '0x5000', '0x10000000000000000'],
    ['read,0,0xfffffffffffff000,0x10,,,,,,,\nmemslot,,0x5000,0x100000000000,1,,0x7f0000000000,,,,0\n', '0x5000', '0xfffffffffffff010'],
  ];
  for (const [rows, start, end] of cases) {
    await writeFile(csv, HEAD + rows);
    assert.deepEqual((await traceInfo(csv)).gpaSpan, { start, end }, rows);
  }
});

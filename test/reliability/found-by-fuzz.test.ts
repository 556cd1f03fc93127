// Regressions for what `npm run fuzz` and adversarial commands found (issue 18): each a case that
// once gave an error without its place, a stack trace or an unbounded run.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TraceError, UsageError } from '../../src/errors.js';
import { runSuite } from '../../src/replay/run-suite.js';
import { MAX_FILE_ERRORS } from '../../src/trace/csv.js';
import { parseTraceText, writeTrace } from '../../src/trace/io.js';
import { runCliInProcess } from '../helpers/cli.js';

const HEAD = 'op,vcpu,gpa,size,slot,flags,hva,fd,offset,attrs,ret\nmemslot,,0,0x200000,0,,0x7f0000000000,,,,0\n';

async function s2tWith(metadata: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 's2bench-found-'));
  const trace = await parseTraceText(`# s2bench trace v1\n${metadata}${HEAD}`, 'x.csv');
  const path = join(dir, 'bad-profile.s2t');
  await writeTrace(path, trace.meta, trace.chunks);
  return path;
}

test('an .s2t whose metadata profile does not parse names record 0 and the metadata field (seed 12345, case 2693)', async () => {
  const path = await s2tWith('# profiles: x86-tdp,vm-type=w-protected\n');
  const result = await runCliInProcess(['replay', path]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, new RegExp(`${path}: record 0, field metadata\\.fields\\.profiles: bad value 'w-protected' for knob 'vm-type'`));
});

test('an .s2t of one architecture under a profile of the other names the metadata arch field', async () => {
  const path = await s2tWith('# arch: aarch64\n');
  const result = await runCliInProcess(['replay', path, '-p', 'x86-tdp']);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /\(record 0, field metadata\.fields\.arch\): give an arm64-s2 profile/);
});

test('validate stops reading a file at its 1000th problem (an unclosed quote once made 50M bad lines take 8 min and 4 GB), and goes on with the next file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 's2bench-found-'));
  const bad = join(dir, 'unclosed.csv');
  await writeFile(bad, `# s2bench trace v1\n${HEAD}read,0,0x1000,,,,,,,,"\n${'x\n'.repeat(1500)}`);
  const good = join(dir, 'good.csv');
  await writeFile(good, `# s2bench trace v1\n${HEAD}`);
  const result = await runCliInProcess(['validate', bad, good]);
  assert.equal(result.code, 1);
  const listed = result.stdout.split('\n').filter((line) => line.startsWith(`${bad}: line `));
  assert.equal(listed.length, MAX_FILE_ERRORS);
  assert.match(result.stdout, new RegExp(`stopped reading ${bad} at its 1000th problem: the rest of it is not checked`));
  assert.match(result.stdout, /2 file\(s\), 2 valid row\(s\), 1000 problem\(s\) \(or more\)/);
});

test('an input error carries no stack: it is reported by its message, and capturing one per bad row was most of validate\'s time', () => {
  assert.equal(new TraceError('x.csv', 3, 'gpa', 'bad').stack, 'TraceError: x.csv: line 3, field gpa: bad');
  assert.equal(new UsageError('no').stack, 'UsageError: no');
  assert.match(new Error('bug').stack ?? '', /\n\s+at /);
});

test('uffd rows past user space or wrapping past 2^64 replay as -EINVAL (validate_range()), registering nothing', async () => {
  const dir = await mkdtemp(join(tmpdir(), 's2bench-found-'));
  const path = join(dir, 'uffd-einval.csv');
  const rows = [
    'uffd,,,0x10000000000000,,page,0x7f0000000000,,,,-EINVAL',
    'uffd,,,0xfffffffffffff000,,,0x1000,,,,-EINVAL',
    'write,0,0x1000,,,,,,,,ok',
    'expect,,,,,uffd.faults,,,,,0',
  ];
  await writeFile(path, `# s2bench trace v1\n${HEAD}${rows.join('\n')}\n`);
  const result = await runCliInProcess(['replay', path, '--check']);
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.match(result.stdout, /check: 0 divergences/);
});

test('a broken symbolic link in a suite fails its job saying where it points, not with a bare ENOENT', async () => {
  const dir = await mkdtemp(join(tmpdir(), 's2bench-found-'));
  await writeFile(join(dir, 'ok.csv'), `# s2bench trace v1\n${HEAD}`);
  await symlink(join(dir, 'gone', 'x.csv'), join(dir, 'broken.csv'));
  const { results } = await runSuite({ inputs: [dir], workers: 0, repeat: 1, profiles: [], check: false });
  const broken = results.find((r) => r.trace === 'broken');
  assert.equal(broken?.status, 'failed');
  assert.equal(broken?.error, `${join(dir, 'broken.csv')}: a symbolic link to ${join(dir, 'gone', 'x.csv')}, which does not exist`);
  assert.equal(results.find((r) => r.trace === 'ok')?.status, 'ok');
});

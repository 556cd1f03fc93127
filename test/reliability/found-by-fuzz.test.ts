// Regressions for what `npm run fuzz` and adversarial commands found (issue 18): each a case that
// once gave an error without its place, a stack trace or an unbounded run.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

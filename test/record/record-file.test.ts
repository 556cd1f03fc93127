// `s2bench record TRACE` streams the trace through the recorder (src/record/stream.ts): the file it
// writes is the one the whole-trace path (recordChunks) makes, comments and `# recorder:` notes in
// place, and a trace that turns out bad halfway leaves nothing under the output's name.
// Skipped, saying why, where the recorder cannot run (test/helpers/recorder.ts).

import assert from 'node:assert/strict';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { recordChunks, recordedMeta, recordedText } from '../../src/record/session.js';
import { readTrace } from '../../src/trace/io.js';
import { runCli, runCliOk } from '../helpers/cli.js';
import { repoPath } from '../helpers/paths.js';
import { recorderSkip } from '../helpers/recorder.js';
import { tempDir } from '../helpers/temp.js';

const skip = recorderSkip();

test('record TRACE writes what recording the whole trace in memory writes', { skip }, async () => {
  const dir = await tempDir('record');
  // Body comments, rows the recorder cannot answer (notes), and more than one chunk's worth of CSV lines.
  for (const name of ['traces/recorded/memslot-churn.csv', 'traces/memslots/churn-256.csv']) {
    const path = repoPath(name);
    const out = join(dir, 'out.csv');
    await runCliOk(['record', path, '-o', out]);
    const loaded = await readTrace(path);
    const earlier = loaded.meta.fields['source'];
    const source = earlier?.startsWith('s2bench record') ? earlier : `s2bench record ${name.split('/').pop()}${earlier ? ` (${earlier})` : ''}`;
    const kept = loaded.meta.comments.filter((c) => !/^#\s*(s2bench trace v|kernel:|source:|arch:)/.test(c)).map((c) => c.replace(/^#\s?/, ''));
    const [whole] = recordChunks([{ meta: { ...recordedMeta(source, kept), bodyComments: loaded.meta.bodyComments ?? [] }, chunks: loaded.chunks }]);
    assert.equal(await readFile(out, 'utf8'), recordedText(whole!), name);
  }
});

test('record TRACE: a bad row halfway is an error naming file, line and field, and writes nothing', { skip }, async () => {
  const dir = await tempDir('record');
  const input = join(dir, 'bad.csv');
  const rows = Array.from({ length: 100 }, (_, i) => `memslot,,0x${(i * 0x200000).toString(16)},0x200000,${i},0,0x7f${(i * 0x200000).toString(16).padStart(10, '0')},,,,`);
  rows[70] = 'memslot,,0x0,banana,1,0,0x7f0000000000,,,,';
  await writeFile(input, ['# s2bench trace v1', 'op,vcpu,gpa,size,slot,flags,hva,fd,offset,attrs,ret', ...rows].join('\n') + '\n');
  const r = await runCli(['record', input, '-o', join(dir, 'out.s2t')]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /bad\.csv: line 73, field size/);
  assert.deepEqual(await readdir(dir), ['bad.csv']);
});

test('record TRACE keeps expect rows as the trace wrote them: the output reads back and replays --check', { skip }, async () => {
  const dir = await tempDir('record');
  const input = join(dir, 'expect.csv');
  const rows = ['memslot,,0x0,0x200000,0,,0x7f0000000000,,,,', 'write,0,0x1000,,,,,,,,', 'expect,,,,,leaves.4k,,,,,1'];
  await writeFile(input, ['# s2bench trace v1', 'op,vcpu,gpa,size,slot,flags,hva,fd,offset,attrs,ret', ...rows].join('\n') + '\n');
  const out = join(dir, 'out.csv');
  await runCliOk(['record', input, '-o', out]);
  assert.match(await readFile(out, 'utf8'), /^expect,,,,,leaves\.4k,,,,,1$/m);
  const check = await runCli(['replay', out, '--check']);
  assert.equal(check.code, 0, check.stdout + check.stderr);
  assert.match(check.stdout, /check: 0 divergences/);
});

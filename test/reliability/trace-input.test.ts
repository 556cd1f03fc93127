// Regression tests for damaged trace input (issue 18): every one of these used to escape as a raw
// CsvError, SyntaxError or TypeError; each must now be a TraceError naming file, line/record and field.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TraceError } from '../../src/errors.js';
import { withMetaJson, withSideJson } from './s2t-bytes.js';
import { MAX_LINE_CHARS, readTrace, writeTrace, parseTraceText, formatTraceText } from '../../src/trace/io.js';
import { validateCommand } from '../../src/cli/actions/trace.js';

const HEAD = '# s2bench trace v1\nop,vcpu,gpa,size,slot,flags,hva,fd,offset,attrs,ret\n';
const SLOT = 'memslot,,0,0x200000,0,,0x7f0000000000,,,,0\n';

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 's2bench-rel-'));
}

async function traceErrorOf(promise: Promise<unknown>): Promise<TraceError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof TraceError, `expected a TraceError, got ${(err as Error)?.stack ?? String(err)}`);
    return err;
  }
  assert.fail('expected a TraceError');
}

for (const [what, line] of [
  ['an unclosed quote', 'read,0,"0x1000,,,,,,,,\n'],
  ['a space before a quote', 'read,0, "0x1000",,,,,,,,\n'],
  ['a quoted cell that runs onto the next line', 'read,0,"0x1000\n",,,,,,,,\n'],
] as const) {
  test(`a quoted CSV line with ${what} is a TraceError at its own line`, async () => {
    const dir = await tempDir();
    const file = join(dir, 'quoted.csv');
    await writeFile(file, HEAD + SLOT + SLOT.replace(',0,', ',1,').replace('0x7f0000000000', '0x7f0000200000').replace(',0,0x2', ',0x200000,0x2') + line);
    const err = await traceErrorOf(readTrace(file));
    assert.equal(err.file, file);
    assert.equal(err.line, 5);
    assert.match(err.message, /line 5/);
    assert.doesNotMatch(err.message, /line 1\b/);
  });
}

test('validate reports a bad quoted line and goes on to the next file', async () => {
  const dir = await tempDir();
  const bad = join(dir, 'bad.csv');
  const good = join(dir, 'good.csv');
  await writeFile(bad, HEAD + SLOT + 'read,0,"0x1000,,,,,,,,\nfrobnicate,,,,,,,,,,\n');
  await writeFile(good, HEAD + SLOT);
  let printed = '';
  const code = await validateCommand([bad, good], true, (t) => (printed += t));
  assert.equal(code, 1);
  const report = JSON.parse(printed) as { rows: number; problems: Array<{ file: string; line: number }> };
  assert.deepEqual(report.problems.map((p) => [p.file, p.line]), [[bad, 4], [bad, 5]]);
  assert.equal(report.rows, 2, 'the good file was read too');
});

test('a line longer than the limit is a TraceError naming it, and validate keeps earlier problems', async () => {
  const dir = await tempDir();
  const file = join(dir, 'long.csv');
  const longLine = '#'.repeat(MAX_LINE_CHARS + 10) + '\n';
  await writeFile(file, HEAD + SLOT + longLine + SLOT);
  const err = await traceErrorOf(readTrace(file));
  assert.equal(err.line, 4);
  assert.match(err.message, /longer than/);
  await writeFile(file, HEAD + 'frobnicate,,,,,,,,,,\n' + longLine + SLOT);
  let printed = '';
  assert.equal(await validateCommand([file], true, (t) => (printed += t)), 1);
  const lines = (JSON.parse(printed) as { problems: Array<{ line: number }> }).problems.map((p) => p.line);
  assert.deepEqual(lines, [3, 4]);
});

test('a file with no newline at all stops at the limit, not at the end of the file', async () => {
  const dir = await tempDir();
  const file = join(dir, 'one-line.csv');
  await writeFile(file, 'x'.repeat(4 * MAX_LINE_CHARS));
  const err = await traceErrorOf(readTrace(file));
  assert.equal(err.line, 1);
});

test('an expect metric name with a comma survives CSV -> CSV', async () => {
  const text = HEAD + 'expect,,,,,"odd,name",,,,,0\n';
  const { meta, chunks } = await parseTraceText(text);
  const again = await parseTraceText(formatTraceText(meta, chunks));
  assert.equal(again.chunks[0]!.names[0], 'odd,name');
});

async function oneChunkS2t(dir: string): Promise<Buffer> {
  const path = join(dir, 'base.s2t');
  const { meta, chunks } = await parseTraceText(HEAD + SLOT + 'expect,,,,,faults,,,,,0\n');
  await writeTrace(path, meta, chunks);
  return readFile(path);
}

for (const [json, field] of [
  ['{', 'metadata'],
  ['null', 'metadata'],
  ['[1,2]', 'metadata'],
  ['{"comments":"# x"}', 'metadata.comments'],
  ['{"comments":[7]}', 'metadata.comments[0]'],
  ['{"comments":["no hash"]}', 'metadata.comments[0]'],
  ['{"fields":{"profile":3}}', 'metadata.fields.profile'],
] as const) {
  test(`.s2t metadata ${json} is a TraceError at record 0, field ${field}`, async () => {
    const dir = await tempDir();
    const file = join(dir, 'meta.s2t');
    await writeFile(file, withMetaJson(await oneChunkS2t(dir), json));
    const err = await traceErrorOf(readTrace(file));
    assert.equal(err.record, true);
    assert.equal(err.line, 0);
    assert.equal(err.field, field);
  });
}

for (const [json, field] of [
  ['nope', 'side table'],
  ['null', 'side table'],
  ['{"n":"faults"}', 'side table n'],
  ['{"n":[1]}', 'side table n[0]'],
  ['{"v":[[999999,"0x1"]]}', 'side table v[0]'],
  ['{"v":[[17,"a,b"]]}', 'side table v[0][1]'],
  ['{"c":[[-1,"# x"]]}', 'side table c[0][0]'],
  ['{}', 'flags'],
] as const) {
  test(`.s2t side table ${json} is a TraceError naming ${field}`, async () => {
    const dir = await tempDir();
    const file = join(dir, 'side.s2t');
    await writeFile(file, withSideJson(await oneChunkS2t(dir), json));
    const err = await traceErrorOf(readTrace(file));
    assert.equal(err.record, true);
    assert.equal(err.field, field);
  });
}

// Damaged run directories (issue 18): run.json with nulls or fields of the wrong type, results.csv of
// another run, with numbers a spreadsheet rewrote, empty or header-only: report and compare exit 2
// with the file, line and field, never a TypeError; an incomplete run is refused by compare.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunDirError } from '../../src/errors.js';
import { readRunDir } from '../../src/report/run-dir.js';
import { writeRun } from '../../src/report/write.js';
import { syntheticJobs, syntheticRunInfo } from '../report/synthetic.js';
import { runCliInProcess } from '../helpers/cli.js';

/** The synthetic run (one failed job among four), or with `allOk` only its successful jobs. */
async function goodRun(allOk = false): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 's2bench-rundir-'));
  const jobs = syntheticJobs().filter((j) => !allOk || j.status === 'ok');
  await writeRun(dir, syntheticRunInfo('r1', jobs), jobs);
  return dir;
}

async function editJson(dir: string, edit: (info: Record<string, unknown>) => void): Promise<void> {
  const path = join(dir, 'run.json');
  const info = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  edit(info);
  await writeFile(path, JSON.stringify(info));
}

async function editCsv(dir: string, edit: (text: string) => string): Promise<void> {
  const path = join(dir, 'results.csv');
  await writeFile(path, edit(await readFile(path, 'utf8')));
}

async function runDirError(dir: string): Promise<RunDirError> {
  try {
    await readRunDir(dir);
  } catch (err) {
    assert.ok(err instanceof RunDirError, `expected RunDirError, got ${(err as Error).stack}`);
    return err;
  }
  assert.fail('expected a RunDirError');
}

test('a well-formed run directory reads back', async () => {
  const run = await readRunDir(await goodRun());
  assert.equal(run.jobs.length, 4);
});

const JSON_DAMAGE: Array<[string, (info: Record<string, unknown>) => void, RegExp]> = [
  ['jobs: null', (i) => (i['jobs'] = null), /field 'jobs'/],
  ['a null job', (i) => ((i['jobs'] as unknown[])[0] = null), /field 'jobs\[0\]'/],
  ['a null trace entry', (i) => ((i['traces'] as unknown[])[1] = null), /field 'traces\[1\]'/],
  ['repeat as text', (i) => (((i['jobs'] as Array<Record<string, unknown>>)[0]!)['repeat'] = '0'), /field 'jobs\[0\]\.repeat'/],
  ['status unknown', (i) => (((i['jobs'] as Array<Record<string, unknown>>)[0]!)['status'] = 'great'), /field 'jobs\[0\]\.status'/],
  ['host: null', (i) => (i['host'] = null), /field 'host'/],
  ['runId a number', (i) => (i['runId'] = 7), /field 'runId'/],
  ['format 2', (i) => (i['format'] = 2), /field 'format'/],
  ['options an array', (i) => (i['options'] = []), /field 'options'/],
];

for (const [what, edit, message] of JSON_DAMAGE) {
  test(`run.json with ${what} is a RunDirError naming the field`, async () => {
    const dir = await goodRun();
    await editJson(dir, edit);
    const err = await runDirError(dir);
    assert.match(err.message, /run\.json/);
    assert.match(err.message, message);
  });
}

test('run.json that is null or not JSON is a RunDirError', async () => {
  const dir = await goodRun();
  await writeFile(join(dir, 'run.json'), 'null');
  assert.match((await runDirError(dir)).message, /run\.json/);
  await writeFile(join(dir, 'run.json'), '{"runId":');
  assert.match((await runDirError(dir)).message, /not valid JSON/);
});

const CSV_DAMAGE: Array<[string, (text: string) => string, RegExp]> = [
  ['rows of another run', (t) => t.replace(/^r1,/gm, 'r0,'), /line 2: field 'run': 'r0' is not this run's id 'r1'/],
  ['a hex value', (t) => t.replace(/,10\n/, ',0xa\n'), /field 'value': not a plain decimal/],
  ['a value with a thousands separator', (t) => t.replace(/,2097152\n/, ',"2,097,152"\n'), /field 'value'/],
  ['an empty value', (t) => t.replace(/,10\n/, ',\n'), /field 'value'/],
  ['a fractional repeat', (t) => t.replace(/,0,10\n/, ',0.5,10\n'), /field 'repeat'/],
  ['a wrong unit', (t) => t.replace(/,faults,[^,]*,/, ',faults,bytes,'), /field 'unit'/],
  ['a missing column', (t) => t.replace(/^run,trace,profile,metric,unit,repeat,value/, 'run,trace,profile,metric,repeat,value'), /line 1: header/],
  ['a row twice', (t) => t + t.split('\n')[1] + '\n', /twice/],
  ['only the header', (t) => t.split('\n')[0] + '\n', /no results for boot \[x86-tdp\]/],
  ['nothing at all', () => '', /empty/],
  ['a row of a job run.json does not know', (t) => t.replace(/,boot,x86-tdp,events,count,0,/, ',boot,x86-tdp,events,count,7,'), /repeat 7 is not a job of run\.json/],
];

for (const [what, edit, message] of CSV_DAMAGE) {
  test(`results.csv with ${what} is a RunDirError`, async () => {
    const dir = await goodRun();
    await editCsv(dir, edit);
    const err = await runDirError(dir);
    assert.match(err.message, /results\.csv/);
    assert.match(err.message, message);
  });
}

test('compare exits 2 on a damaged run, and on a run with no results; report exits 2 too', async () => {
  const base = await goodRun(true);
  const next = await goodRun(true);
  assert.equal((await runCliInProcess(['compare', base, next])).code, 0);
  await editJson(next, (i) => ((i['jobs'] as unknown[])[0] = null));
  const damaged = await runCliInProcess(['compare', base, next]);
  assert.equal(damaged.code, 2);
  assert.match(damaged.stderr, /run\.json: field 'jobs\[0\]'/);
  assert.doesNotMatch(damaged.stderr, /internal error|\n\s+at /);
  assert.equal((await runCliInProcess(['report', next])).code, 2);

  // Every job failed: run.json is consistent, results.csv is header only. A CI gate must not pass.
  const empty = await mkdtemp(join(tmpdir(), 's2bench-rundir-'));
  const failedJobs = syntheticJobs().map((j) => ({ ...j, status: 'failed' as const, error: 'boom', modeled: {}, timing: {} }));
  await writeRun(empty, syntheticRunInfo('r1', failedJobs), failedJobs);
  const none = await runCliInProcess(['compare', base, empty]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /no results/);
});

test('an incomplete run: report renders it as partial, compare refuses it unless told', async () => {
  const base = await goodRun(true);
  const next = await goodRun(true);
  await editJson(next, (i) => (i['complete'] = false));
  // A run that died while appending leaves a torn last line: the rows before it still count.
  await editCsv(next, (t) => t + 'r1,boot,x86-tdp,fau');
  const report = await runCliInProcess(['report', next]);
  assert.equal(report.code, 0, report.stderr);
  assert.match(report.stderr, /incomplete run/);
  assert.match(await readFile(join(next, 'report.html'), 'utf8'), /PARTIAL RUN/);
  const refused = await runCliInProcess(['compare', base, next]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /incomplete run.*--allow-incomplete/);
  assert.equal((await runCliInProcess(['compare', '--allow-incomplete', base, next])).code, 0);
});

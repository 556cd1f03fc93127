// "Between versions": which pairs of profiles are compared, and that report.html shows exactly what
// `compare --base-profile/--new-profile` finds for them.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseProfile } from '../../src/core/profile.js';
import { compareRuns } from '../../src/report/compare.js';
import { formatMetric } from '../../src/report/format.js';
import { pairProfiles } from '../../src/report/profile-pairs.js';
import { profileStep, profileSteps } from '../../src/report/profile-steps.js';
import { readRunDir } from '../../src/report/run-dir.js';
import { collectRunInfo } from '../../src/report/run-info.js';
import { writeRun } from '../../src/report/write.js';
import { runSuite } from '../../src/replay/run-suite.js';
import { repoPath } from '../helpers/paths.js';
import { tempDir } from '../helpers/temp.js';

const step = (a: string, b: string): ReturnType<typeof profileStep> => profileStep(parseProfile(a), parseProfile(b));

test('a step is one version or one knob apart, older version or default knob value first', () => {
  assert.deepEqual(step('x86-tdp@6.18', 'x86-tdp@6.12'), { base: 'x86-tdp@6.12', next: 'x86-tdp@6.18', what: 'version 6.12 -> 6.18' });
  assert.deepEqual(step('x86-tdp,pml=off', 'x86-tdp'), { base: 'x86-tdp', next: 'x86-tdp,pml=off', what: 'pml on -> off' });
  assert.deepEqual(step('x86-tdp,vdpa-release=free-first', 'x86-tdp,vdpa-release=leaky'), {
    base: 'x86-tdp,vdpa-release=leaky',
    next: 'x86-tdp,vdpa-release=free-first',
    what: 'vdpa-release leaky -> free-first',
  });
  // Two differences, another architecture, the same profile: no step.
  assert.equal(step('x86-tdp@6.12', 'x86-tdp@6.18,pml=off'), undefined);
  assert.equal(step('x86-tdp', 'x86-tdp,eager-split=off,pml=off'), undefined);
  assert.equal(step('x86-tdp', 'arm64-s2'), undefined);
  assert.equal(step('x86-tdp', 'x86-tdp@7.1'), undefined);
});

test('report.html lists, per trace, what compare --base-profile/--new-profile finds between profiles one step apart', async () => {
  const dir = await tempDir('steps');
  const traces = await tempDir('steps-traces');
  // A recorded dirty-logging trace under two versions with and without PML, and a profile two steps away.
  const text = await readFile(repoPath('traces', 'recorded', 'dirty-logging.csv'), 'utf8');
  const profiles = '# profiles: x86-tdp@6.12; x86-tdp@6.18; x86-tdp@6.12,pml=off; x86-tdp@6.18,pml=off; x86-tdp,eager-split=off\n';
  await writeFile(join(traces, 'dirty.csv'), text.replace('# arch: x86_64\n', `# arch: x86_64\n${profiles}`));
  const suite = await runSuite({ inputs: [traces], workers: 0, repeat: 2, profiles: [], check: false });
  const now = new Date();
  const info = await collectRunInfo({ runId: 'steps', startedAt: now, finishedAt: now, options: {}, traces: suite.traces, results: suite.results });
  await writeRun(dir, info, suite.results);
  const run = await readRunDir(dir);

  const steps = profileSteps(run).map((s) => `${s.base} | ${s.next}`);
  assert.deepEqual(steps.sort(), [
    'x86-tdp@6.12 | x86-tdp@6.12,pml=off',
    'x86-tdp@6.12 | x86-tdp@6.18',
    'x86-tdp@6.12,pml=off | x86-tdp@6.18,pml=off',
    'x86-tdp@6.18 | x86-tdp@6.18,pml=off',
  ]);

  const html = await readFile(join(dir, 'report.html'), 'utf8');
  const start = html.indexOf('<section id="between-versions">');
  assert.ok(start > 0, 'the section is there');
  assert.ok(html.indexOf('href="#between-versions"') < start, 'the summary links to it');
  const section = html.slice(start, html.indexOf('</section>', start));
  assert.doesNotMatch(section, /eager-split/, 'a profile two steps from every other is not paired');
  // Every modeled change compare finds for PML off is a row with both values, and nothing else is.
  const [base, next] = pairProfiles(run, run, 'x86-tdp@6.18', 'x86-tdp@6.18,pml=off');
  const changes = compareRuns(base, next).modeled.filter((m) => m.changed);
  assert.ok(changes.some((m) => m.metric === 'faults.wp'), 'PML off takes write-protect faults');
  for (const m of changes) {
    const cells = `<td class="l mono">${m.metric}</td><td>${formatMetric(m.base, m.unit)}</td><td>${formatMetric(m.new, m.unit)}</td>`;
    assert.ok(section.includes(cells), `row for ${m.metric}: ${cells}`);
  }
  const rows = (section.match(/badge changed/g) ?? []).length;
  const expected = ['x86-tdp@6.12', 'x86-tdp@6.18', 'x86-tdp@6.12,pml=off'].reduce((n, b, k) => {
    const nextProfile = ['x86-tdp@6.12,pml=off', 'x86-tdp@6.18', 'x86-tdp@6.18,pml=off'][k]!;
    const [bb, nn] = pairProfiles(run, run, b, nextProfile);
    return n + compareRuns(bb, nn).modeled.filter((m) => m.changed).length;
  }, changes.length);
  assert.equal(rows, expected);
  // A timing row per step, with the rank test's sample sizes.
  assert.equal((section.match(/<td class="l mono">time\.replay_ms<\/td>/g) ?? []).length, 4);
  assert.match(section, /\(2\+2\)/);
});

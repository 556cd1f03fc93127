import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { parseProfile } from '../../src/core/profile.js';
import { RULES, ruleDiff } from '../../src/core/rules.js';
import { runCli, runCliOk } from '../helpers/cli.js';
import { repoPath } from '../helpers/paths.js';

test('every rule names its kernel function and a test file that exists', () => {
  const ids = new Set<string>();
  for (const rule of RULES) {
    assert.ok(!ids.has(rule.id), `duplicate rule id ${rule.id}`);
    ids.add(rule.id);
    assert.match(rule.kernel, /^(arch|virt|mm|include)\/\S+\.[ch]: \w+\(\)/, `${rule.id}: kernel file and function`);
    const file = rule.test.split(':')[0]!;
    assert.ok(existsSync(repoPath(file)), `${rule.id}: ${file} exists`);
  }
});

test('ruleDiff lists exactly the rules whose answer differs between two profiles', () => {
  assert.deepEqual(ruleDiff(parseProfile('x86-tdp'), parseProfile('x86-tdp')), []);
  const diff = ruleDiff(parseProfile('x86-tdp'), parseProfile('x86-tdp,nx-huge-pages=on'));
  assert.deepEqual(diff.map((d) => d.rule.id), ['x86.nx-huge-pages']);
  assert.deepEqual([diff[0]!.a, diff[0]!.b], ['exec faults keep huge mappings', 'exec faults map 4K']);
});

test('the x86 rules of issue 12 answer by version and knob', () => {
  const ids = (a: string, b: string) => ruleDiff(parseProfile(a), parseProfile(b)).map((d) => d.rule.id);
  assert.deepEqual(ids('x86-tdp@6.12', 'x86-tdp@6.18'), ['x86.recover-huge', 'common.host-pages']);
  assert.deepEqual(ids('x86-tdp@6.6', 'x86-tdp@6.12,slot-zap-all=off'), ['x86.slot-zap-all']);
  assert.deepEqual(ids('x86-tdp', 'x86-tdp,pml=off'), ['x86.pml']);
  assert.deepEqual(ids('x86-tdp', 'x86-tdp,vm-type=sw-protected'), ['x86.slot-zap-all', 'x86.vm-type']);
  assert.deepEqual(ids('x86-tdp', 'x86-tdp,gmem-folio=2m'), ['common.gmem-folio']);
});

test('s2bench profiles lists versions and knobs; --diff names each differing rule with its kernel function', async () => {
  const list = await runCliOk(['profiles']);
  assert.match(list.stdout, /kernel versions: 6\.6, 6\.12, 6\.18, 7\.1/);
  assert.match(list.stdout, /pml=on\|off \(default on\)/);
  assert.match(list.stdout, /gmem-folio=4k\|2m\|1g \(default 4k\): .*what-ifs/);
  const diff = await runCliOk(['profiles', '--diff', 'x86-tdp@6.12', 'x86-tdp@6.18']);
  assert.match(diff.stdout, /^2 rule\(s\) differ/);
  assert.match(diff.stdout, /x86\.recover-huge: .*\n  kernel: arch\/x86\/kvm\/mmu\/tdp_mmu\.c: recover_huge_pages_range\(\)/);
  const bad = await runCli(['profiles', '--diff', 'x86-tdp@6.13', 'x86-tdp']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /modeled versions are 6\.6, 6\.12, 6\.18, 7\.1/);
});

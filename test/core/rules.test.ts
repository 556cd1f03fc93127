import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { parseProfile } from '../../src/core/profile.js';
import { RULES, ruleDiff } from '../../src/core/rules.js';
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

// `s2bench record-vm` on bad input: one clear line and the documented exit code, never a stack trace.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QEMU, qemuSkipReason } from '../../src/record-vm/guests.js';
import { repoPath } from '../helpers/paths.js';

const CLI = repoPath('dist', 'src', 'cli', 'main.js');

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('no command after -- is a usage error', () => {
  const r = run(['record-vm', '-o', join(tmpdir(), 'never.csv')]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /record-vm needs the VMM command after --/);
});

test('a bad --duration is a usage error', () => {
  const r = run(['record-vm', '--duration', 'soon', '--', 'true']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--duration must be a number of seconds > 0, got 'soon'/);
});

test('a command that does not exist, or a VMM that exits at once, is reported and writes nothing', { skip: qemuSkipReason() }, () => {
  const dir = mkdtempSync(join(tmpdir(), 's2bench-record-vm-cli-'));
  try {
    const out = join(dir, 'vm.csv');
    const missing = run(['record-vm', '-o', out, '--', 'no-such-vmm-here']);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /command 'no-such-vmm-here' not found or not executable/);
    const early = run(['record-vm', '-o', out, '--', QEMU, '-no-such-option']);
    assert.equal(early.status, 1);
    assert.match(early.stderr, new RegExp(`'${QEMU}' exited with status 1 after [0-9.]+ s without creating a KVM VM`));
    assert.doesNotMatch(early.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(existsSync(out), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// The table `s2bench run` prints at the end: faults and faults/s beside events/s, the seed systems'
// findings where non-zero, and a behaviour change that is not a divergence.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCliOk } from '../helpers/cli.js';
import { repoPath } from '../helpers/paths.js';
import { tempDir } from '../helpers/temp.js';

describe('s2bench run: the terminal summary', () => {
  it('shows faults, faults/s and findings, and lists behaviour changes without failing --check', async () => {
    const dir = join(await tempDir('run-summary'), 'run');
    const { stdout } = await runCliOk(['run', repoPath('traces'), '-f', '{pkvm,vdpa}/*', '-r', '1', '-w', '0', '-q', '--check', '-o', dir]);
    const lines = stdout.split('\n');
    assert.match(lines[0]!, /^trace +profile +events +faults +faults\/s +est. guest time +events\/s +status +findings$/);
    const row = (trace: string, profile: string): string => {
      const found = lines.find((l) => l.startsWith(trace) && l.split(/ {2,}/)[1] === profile);
      assert.ok(found, `no row for ${trace} [${profile}] in\n${stdout}`);
      return found;
    };
    assert.match(row('pkvm/hypshare-churn', 'arm64-s2'), / 0\/s +\S+ +\S+\/s +ok +9 behaviour changes$/);
    assert.match(row('pkvm/hypshare-churn', 'arm64-s2,hypshare=v7.1'), / ok +\d+ pKVM pages desynced, \d+ calls on desynced pages$/);
    assert.match(row('vdpa/churn-then-kill', 'x86-tdp,vdpa-release=leaky'), / ok +1,048,546 IOTLB pages leaked$/);
    assert.match(row('vdpa/churn-then-kill', 'x86-tdp,vdpa-release=free-first'), / ok +9 freed-domain uses$/);
    assert.match(row('vdpa/churn-then-kill', 'x86-tdp'), / ok$/);
    assert.doesNotMatch(stdout, /FAILED|diverged/);
  });
});

// `s2bench calibrate` on this machine's /dev/kvm (quick mode: seconds): every cost it claims is
// positive and has its spread, every other cost is skipped with a reason, the table passes its own
// validation, and the check against a recorded demand-paging run reports its error. Skipped, saying
// why, where the native programs cannot run (no /dev/kvm, no C compiler, not Linux x86-64).

import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { calibrate } from '../../src/cli/actions/calibrate.js';
import { parseCalibratorOutput } from '../../src/calibrate/calibrator.js';
import { cpuModel, sysfsChoice } from '../../src/calibrate/host.js';
import { COST_NAMES, checkCostTable } from '../../src/estimate/costs.js';
import { nativeBinary, probeKvm, RecorderUnavailable } from '../../src/record/recorder.js';

function unavailable(): string | undefined {
  try {
    probeKvm();
    nativeBinary('calibrate');
    return undefined;
  } catch (err) {
    if (err instanceof RecorderUnavailable) return `calibrator cannot run here: ${err.message}`;
    throw err;
  }
}
const skip = unavailable();

describe('calibrate', () => {
  it('reads the calibrator\'s lines: samples with a unit of one or two words, notes, skips', () => {
    const out = parseCalibratorOutput('m kernel 6.18\nc dirty_log_page dirty page 12.5 13.0\nc hit access 4.0\nn hit pages=8\ns wp_fault too noisy here\n');
    assert.deepEqual(out.samples, { dirty_log_page: { per: 'dirty page', values: [12.5, 13] }, hit: { per: 'access', values: [4] } });
    assert.deepEqual(out.meta, { kernel: '6.18' });
    assert.deepEqual(out.how, { hit: 'pages=8' });
    assert.deepEqual(out.skipped, { wp_fault: 'too noisy here' });
    assert.throws(() => parseCalibratorOutput('zz what\n'), /unexpected line: 'zz what'/);
  });

  it('records the host: CPU model from /proc/cpuinfo, THP mode from sysfs', () => {
    assert.equal(cpuModel('processor\t: 0\nmodel name\t: AMD EPYC 7B13\n'), 'AMD EPYC 7B13');
    assert.equal(cpuModel('CPU part\t: 0xd0c\n'), 'unknown');
    assert.equal(sysfsChoice('always [madvise] never\n'), 'madvise');
  });

  it('produces every cost it claims, each positive with its spread, on /dev/kvm', { skip }, () => {
    const table = calibrate({ repeats: 3, pages: 128, huge: 2 }, 64, 2, 'test calibration');
    checkCostTable(table, 'calibrated table');
    const costs = table.profiles['x86-tdp']!;
    const claimed = Object.keys(costs);
    assert.ok(claimed.length >= 8, `claims ${claimed.join(', ')}`);
    for (const [name, c] of Object.entries(costs)) {
      assert.ok(c!.ns > 0, `${name} positive`);
      assert.equal(c!.n, 3, `${name}: one sample per repeat`);
      for (const k of ['q1', 'q3', 'min', 'max'] as const) assert.ok(Number.isFinite(c![k]), `${name}.${k}`);
      assert.ok(c!.min! <= c!.q1! && c!.q1! <= c!.ns && c!.ns <= c!.q3! && c!.q3! <= c!.max!, `${name}: median inside its spread`);
      assert.ok((c!.per ?? '') !== '', `${name} says what it is per`);
    }
    for (const name of COST_NAMES) {
      assert.ok(costs[name] !== undefined || (table.skipped?.[name] ?? '').length > 10, `${name}: measured or skipped with a reason`);
    }
    const host = table['host'] as { kernel: string; cpuModel: string; thp: string };
    assert.equal(host.kernel, probeKvm().kernel);
    assert.notEqual(host.cpuModel, '');
    assert.match(String(table['thpGiven']), /^[0-9.]+ [0-9.]+$/);
    assert.equal(table['vmType'], 'default');
    const v = table['validation'] as { errorPct: number; measuredMs: { median: number }; estimatedMs: number; divergences: number };
    assert.ok(Number.isFinite(v.errorPct) && v.measuredMs.median > 0 && v.estimatedMs > 0, JSON.stringify(v));
    assert.equal(v.divergences, 0);
  });
});

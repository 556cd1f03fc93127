// The vdpa, hypshare and conversions generators check their options against their specs alone (as
// the CLI does), called from the library too; only rules between options are their own.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateConversions } from '../../src/trace/generators/conversions.js';
import { generateHypshare } from '../../src/trace/generators/hypshare.js';
import { generateVdpa } from '../../src/trace/generators/vdpa.js';

test('library calls are checked by the option specs: bounds, integers, choices, unknown options', () => {
  assert.throws(() => generateHypshare({ failRate: 1.5 }), /^RangeError: hypshare: failRate must be <= 1 \(got 1.5\)$/);
  assert.throws(() => generateHypshare({ pfns: 0 }), /hypshare: pfns must be >= 1/);
  assert.throws(() => generateHypshare({ kernel: 'v9' as never }), /hypshare: kernel must be one of v7.1, fixed \(got v9\)/);
  assert.throws(() => generateVdpa({ ramMiB: 2 }), /vdpa: ramMiB must be >= 4/);
  assert.throws(() => generateVdpa({ rounds: 1.5 }), /vdpa: rounds must be an integer/);
  assert.throws(() => generateConversions({ vcpus: 0 }), /conversions: vcpus must be >= 1/);
  assert.throws(() => generateConversions({ seed: 0.5 }), /conversions: seed must be an integer/);
  assert.throws(() => generateVdpa({ ramMiBs: 4 } as never), /vdpa: unknown option ramMiBs/);
});

test('rules between options stay with the generator', () => {
  assert.throws(() => generateVdpa({ ramMiB: 5 }), /vdpa: ramMiB must be a multiple of 2 \(got 5\)/);
  assert.throws(() => generateConversions({ size: 3 << 20, granularity: 2 << 20 }), /size must be a multiple/);
  assert.equal([...generateVdpa({ ramMiB: 4, rounds: 1 }).rows].length > 0, true);
});

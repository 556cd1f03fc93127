import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { mannWhitneyU, minimumP } from '../../src/report/mann-whitney.js';

// Expected values are those of scipy.stats.mannwhitneyu(x, y) (two-sided, method 'auto') in scipy 1.17.
describe('mannWhitneyU', () => {
  it('gives the exact p-value for small samples without ties', () => {
    assert.deepEqual(mannWhitneyU([1, 2, 3], [4, 5, 6]), { u: 0, p: 0.1, method: 'exact' });
    const r = mannWhitneyU([1, 2, 3, 4], [5, 6, 7, 8]);
    assert.equal(r.u, 0);
    assert.ok(Math.abs(r.p - 0.02857142857142857) < 1e-12);
    const mixed = mannWhitneyU([1, 3, 5, 7, 9], [2, 4, 6, 8, 10, 12]);
    assert.equal(mixed.u, 10);
    assert.ok(Math.abs(mixed.p - 0.42857142857142855) < 1e-12);
  });

  it('is symmetric: swapping the samples gives the complementary U and the same p', () => {
    const a = mannWhitneyU([1, 3, 5, 7, 9], [2, 4, 6, 8, 10, 12]);
    const b = mannWhitneyU([2, 4, 6, 8, 10, 12], [1, 3, 5, 7, 9]);
    assert.equal(a.u + b.u, 30);
    assert.equal(a.p, b.p);
  });

  it('uses the normal approximation with tie correction when values tie', () => {
    const r = mannWhitneyU([1, 2, 2, 3, 4], [2, 3, 5, 6, 7, 7]);
    assert.equal(r.method, 'asymptotic');
    assert.equal(r.u, 4.5);
    assert.ok(Math.abs(r.p - 0.06414661873440437) < 1e-6, `p = ${r.p}`);
  });

  it('uses the normal approximation for large samples', () => {
    const a = Array.from({ length: 30 }, (_, i) => i + 1);
    const b = a.map((v) => v + 7.5);
    const r = mannWhitneyU(a, b);
    assert.equal(r.method, 'asymptotic');
    assert.equal(r.u, 253);
    assert.ok(Math.abs(r.p - 0.003670893392450653) < 1e-6, `p = ${r.p}`);
  });

  it('gives p = 1 for identical constant samples', () => {
    assert.equal(mannWhitneyU([5, 5, 5], [5, 5, 5]).p, 1);
  });

  it('knows the smallest p-value a sample size can reach', () => {
    assert.equal(minimumP(3, 3), 0.1);
    assert.ok(Math.abs(minimumP(4, 4) - 2 / 70) < 1e-15);
    assert.equal(minimumP(1, 5), 1 / 3);
  });
});

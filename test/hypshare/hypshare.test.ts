// pKVM share tracking against arch/arm64/kvm/mmu.c share_pfn_hyp()/unshare_pfn_hyp(): the host's counted
// tree, EL2's page state, and the desyncs a failing hypercall leaves under each kernel (knob hypshare).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ERRNO } from '../../src/core/abi.js';
import { HYP_IN_SYNC, HYP_LOST, HYP_PHANTOM, HypShare, type HypShareMode } from '../../src/core/hypshare.js';
import { M, newCounters } from '../../src/core/metrics.js';

const EPERM = -ERRNO.EPERM;
const EBUSY = -ERRNO.EBUSY;

function tracker(mode: HypShareMode): { hyp: HypShare; c: Float64Array } {
  const c = newCounters();
  return { hyp: new HypShare(mode, c), c };
}

function desyncs(c: Float64Array): Record<string, number> {
  return {
    phantom: c[M.hypshare_phantom]!,
    lost: c[M.hypshare_lost]!,
    desynced: c[M.hypshare_desynced]!,
  };
}

describe('hyp share counting (both kernels)', () => {
  for (const mode of ['v7.1', 'fixed'] as const) {
    it(`${mode}: only the first share and the last unshare make a hypercall`, () => {
      const { hyp, c } = tracker(mode);
      assert.equal(hyp.share(0x100), 0);
      assert.equal(hyp.share(0x100), 0);
      assert.equal(c[M.hypshare_hypercalls], 1);
      assert.equal(hyp.hostCount(0x100), 2);
      assert.equal(hyp.unshare(0x100), 0);
      assert.equal(hyp.el2Shared(0x100), true);
      assert.equal(hyp.unshare(0x100), 0);
      assert.equal(c[M.hypshare_hypercalls], 2);
      assert.equal(hyp.el2Shared(0x100), false);
      assert.equal(c[M.hypshare_shared], 0);
      assert.deepEqual(desyncs(c), { phantom: 0, lost: 0, desynced: 0 });
    });

    it(`${mode}: unsharing a pfn the host never shared WARNs with -ENOENT and asks EL2 nothing`, () => {
      const { hyp, c } = tracker(mode);
      assert.equal(hyp.unshare(0x200), -ERRNO.ENOENT);
      assert.equal(c[M.hypshare_hypercalls], 0);
    });
  }
});

/** One share that fails at EL2 (pfn 0x10), one unshare that fails at EL2 (pfn 0x20, refcount held). */
function failOneOfEach(mode: HypShareMode): { hyp: HypShare; c: Float64Array } {
  const t = tracker(mode);
  assert.equal(t.hyp.share(0x10, EPERM), EPERM);
  assert.equal(t.hyp.share(0x20), 0);
  assert.equal(t.hyp.unshare(0x20, EBUSY), EBUSY);
  return t;
}

describe('a failing share and a failing unshare', () => {
  it('v7.1: one phantom share (host node, EL2 not shared) and one lost share (EL2 shared, no node)', () => {
    const { hyp, c } = failOneOfEach('v7.1');
    assert.deepEqual(desyncs(c), { phantom: 1, lost: 1, desynced: 2 });
    assert.equal(hyp.state(0x10), HYP_PHANTOM);
    assert.equal(hyp.hostCount(0x10), 1);
    assert.equal(hyp.el2Shared(0x10), false);
    assert.equal(hyp.state(0x20), HYP_LOST);
    assert.equal(hyp.hostCount(0x20), 0);
    assert.equal(hyp.el2Shared(0x20), true);
  });

  it('fixed: no desync; the failed share left no node, the failed unshare kept its count', () => {
    const { hyp, c } = failOneOfEach('fixed');
    assert.deepEqual(desyncs(c), { phantom: 0, lost: 0, desynced: 0 });
    assert.equal(hyp.state(0x10), HYP_IN_SYNC);
    assert.equal(hyp.hostCount(0x10), 0);
    assert.equal(hyp.hostCount(0x20), 1);
    assert.equal(hyp.el2Shared(0x20), true);
  });
});

describe('host-shared against EL2-shared pages', () => {
  it('v7.1: the host counts the phantom pfn and not the lost one; EL2 the other way round', () => {
    const { c } = failOneOfEach('v7.1');
    assert.equal(c[M.hypshare_host_shared], 1, 'host tree: 0x10 (phantom) only');
    assert.equal(c[M.hypshare_shared], 1, 'EL2: 0x20 (lost) only');
  });

  it('fixed: both count the page whose unshare failed, a node counted once whatever its count', () => {
    const { hyp, c } = failOneOfEach('fixed');
    assert.equal(hyp.share(0x20), 0);
    assert.equal(hyp.hostCount(0x20), 2);
    assert.equal(c[M.hypshare_host_shared], 1);
    assert.equal(c[M.hypshare_shared], 1);
    assert.equal(hyp.unshare(0x20), 0);
    assert.equal(hyp.unshare(0x20), 0);
    assert.equal(c[M.hypshare_host_shared], 0);
    assert.equal(c[M.hypshare_shared], 0);
  });
});

describe('what later shares and unshares of a desynced pfn do', () => {
  it('v7.1: a later share of the phantom pfn only bumps the count: no hypercall, EL2 never gets it', () => {
    const { hyp, c } = failOneOfEach('v7.1');
    const calls = c[M.hypshare_hypercalls]!;
    assert.equal(hyp.share(0x10), 0);
    assert.equal(c[M.hypshare_hypercalls], calls);
    assert.equal(hyp.hostCount(0x10), 2);
    assert.equal(hyp.el2Shared(0x10), false);
    assert.equal(c[M.hypshare_desync_ops], 1);
    assert.deepEqual(desyncs(c), { phantom: 1, lost: 1, desynced: 2 });
  });

  it('v7.1: the last unshare of the phantom pfn erases it and the hypercall fails with -EPERM', () => {
    const { hyp, c } = failOneOfEach('v7.1');
    assert.equal(hyp.unshare(0x10), EPERM);
    assert.equal(hyp.state(0x10), HYP_IN_SYNC);
    assert.deepEqual(desyncs(c), { phantom: 1, lost: 1, desynced: 1 });
  });

  it('v7.1: unsharing the lost pfn WARNs with -ENOENT; EL2 keeps the page shared for good', () => {
    const { hyp, c } = failOneOfEach('v7.1');
    assert.equal(hyp.unshare(0x20), -ERRNO.ENOENT);
    assert.equal(hyp.el2Shared(0x20), true);
    assert.equal(hyp.state(0x20), HYP_LOST);
    assert.equal(c[M.hypshare_desync_ops], 1);
  });

  it('v7.1: sharing the lost pfn again inserts a node, EL2 refuses with -EPERM, and they agree again', () => {
    const { hyp, c } = failOneOfEach('v7.1');
    assert.equal(hyp.share(0x20), EPERM);
    assert.equal(hyp.state(0x20), HYP_IN_SYNC);
    assert.equal(hyp.hostCount(0x20), 1);
    assert.deepEqual(desyncs(c), { phantom: 1, lost: 1, desynced: 1 });
  });

  it('fixed: the page whose unshare failed unshares on a retry', () => {
    const { hyp, c } = failOneOfEach('fixed');
    assert.equal(hyp.unshare(0x20), 0);
    assert.equal(hyp.el2Shared(0x20), false);
    assert.equal(hyp.hostCount(0x20), 0);
    assert.equal(c[M.hypshare_shared], 0);
  });
});

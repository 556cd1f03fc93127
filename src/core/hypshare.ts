// pKVM host <-> EL2 share tracking (arch/arm64/kvm/mmu.c share_pfn_hyp(), unshare_pfn_hyp(), called per
// page by kvm_share_hyp()/kvm_unshare_hyp()). The host keeps an rb-tree of the pfns it shared with the
// hypervisor, with a count each, so that only the first share and the last unshare make a hypercall.
// The tree is only a mirror of EL2's page state; when a hypercall fails, the two can disagree, and what
// the kernel does then depends on its version (profile knob `hypshare`):
//   v7.1   share inserts the node before the hypercall and leaves it when the call fails (phantom share:
//          the host thinks the page is shared, EL2 does not); unshare erases the node before the
//          hypercall, so a failure loses the host's record while EL2 keeps the share (lost share).
//   fixed  share inserts only after the hypercall succeeded; unshare erases only after it succeeded and
//          otherwise restores the count.
// The model keeps EL2's view beside the host's, counts every desync as it appears, and keeps following
// the kernel's code afterwards (a later share of a phantom pfn only bumps the count: no hypercall, EL2
// never gets the page).

import { ERRNO } from './abi.js';
import { M } from './metrics.js';

export type HypShareMode = 'v7.1' | 'fixed';

/** Whether the host's record and EL2's state of one pfn disagree. */
export const HYP_IN_SYNC = 0;
/** The host has a node, EL2 does not share the page. */
export const HYP_PHANTOM = 1;
/** EL2 shares the page, the host has no node. */
export const HYP_LOST = 2;

export class HypShare {
  /** The host's hyp_shared_pfns tree: pfn -> count. */
  private readonly host = new Map<number, number>();
  /** EL2's page state: pfns the host shares with the hypervisor (host SHARED_OWNED, hyp SHARED_BORROWED). */
  private readonly el2 = new Set<number>();

  constructor(
    readonly mode: HypShareMode,
    private readonly counters: Float64Array,
  ) {}

  /**
   * share_pfn_hyp(pfn). `injected` < 0 makes the hypercall, if one is made, fail with that value (a
   * failure recorded in a trace); 0 lets EL2 decide. Returns 0 or -errno.
   */
  share(pfn: number, injected = 0): number {
    const before = this.state(pfn);
    const count = this.host.get(pfn);
    let ret = 0;
    if (count !== undefined) {
      // Already in the tree: only the count moves, whatever EL2 thinks.
      this.host.set(pfn, count + 1);
    } else if (this.mode === 'v7.1') {
      this.insertNode(pfn);
      ret = this.hostShareHyp(pfn, injected);
    } else {
      ret = this.hostShareHyp(pfn, injected);
      if (ret === 0) this.insertNode(pfn);
    }
    this.account(pfn, before);
    return ret;
  }

  /** unshare_pfn_hyp(pfn), with `injected` as for share(). Returns 0 or -errno. */
  unshare(pfn: number, injected = 0): number {
    const before = this.state(pfn);
    const count = this.host.get(pfn);
    let ret = 0;
    if (count === undefined) {
      // WARN_ON(!this): nothing to unshare as far as the host knows; EL2 is not asked.
      ret = -ERRNO.ENOENT;
    } else if (count > 1) {
      this.host.set(pfn, count - 1);
    } else if (this.mode === 'v7.1') {
      this.eraseNode(pfn);
      ret = this.hostUnshareHyp(pfn, injected);
    } else {
      ret = this.hostUnshareHyp(pfn, injected);
      // On failure the count is restored (it never left 1 here).
      if (ret === 0) this.eraseNode(pfn);
    }
    this.account(pfn, before);
    return ret;
  }

  /** The host's count for pfn (0: no node). */
  hostCount(pfn: number): number {
    return this.host.get(pfn) ?? 0;
  }

  /** Whether EL2 has the page shared with it. */
  el2Shared(pfn: number): boolean {
    return this.el2.has(pfn);
  }

  /** HYP_IN_SYNC, HYP_PHANTOM or HYP_LOST for pfn. */
  state(pfn: number): number {
    const inHost = this.host.has(pfn);
    const inEl2 = this.el2.has(pfn);
    return inHost === inEl2 ? HYP_IN_SYNC : inHost ? HYP_PHANTOM : HYP_LOST;
  }

  /** A new node in the host's tree (count 1): one more page the host counts as shared with EL2. */
  private insertNode(pfn: number): void {
    this.host.set(pfn, 1);
    this.counters[M.hypshare_host_shared]!++;
  }

  /** rb_erase() of the host's node for pfn. */
  private eraseNode(pfn: number): void {
    this.host.delete(pfn);
    this.counters[M.hypshare_host_shared]!--;
  }

  /** __pkvm_host_share_hyp: the page must be host-owned (not already shared), else -EPERM. */
  private hostShareHyp(pfn: number, injected: number): number {
    this.counters[M.hypshare_hypercalls]!++;
    if (injected < 0) return injected;
    if (this.el2.has(pfn)) return -ERRNO.EPERM;
    this.el2.add(pfn);
    this.counters[M.hypshare_shared]!++;
    return 0;
  }

  /** __pkvm_host_unshare_hyp: the page must be shared with EL2, else -EPERM. */
  private hostUnshareHyp(pfn: number, injected: number): number {
    this.counters[M.hypshare_hypercalls]!++;
    if (injected < 0) return injected;
    if (!this.el2.has(pfn)) return -ERRNO.EPERM;
    this.el2.delete(pfn);
    this.counters[M.hypshare_shared]!--;
    return 0;
  }

  /** Count a desync when one appears, an op on an already desynced pfn, and the desynced gauge. */
  private account(pfn: number, before: number): void {
    const after = this.state(pfn);
    if (before !== HYP_IN_SYNC) this.counters[M.hypshare_desync_ops]!++;
    if (after !== before) {
      if (after === HYP_PHANTOM) this.counters[M.hypshare_phantom]!++;
      else if (after === HYP_LOST) this.counters[M.hypshare_lost]!++;
      this.counters[M.hypshare_desynced]! += (after !== HYP_IN_SYNC ? 1 : 0) - (before !== HYP_IN_SYNC ? 1 : 0);
    }
  }
}

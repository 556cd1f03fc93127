// KVM_SET_MEMORY_ATTRIBUTES state: which gfns are private, and per huge page at every huge level
// whether the range is mixed (x86 lpage_info "mixed" tracking). Owned by the private-memory work;
// this file fixes the interface the fault handler calls.

export class MemoryAttributes {
  /** Whether `gfn` is private. Hot path: no allocation. */
  isPrivate(gfn: number): boolean {
    void gfn;
    return false;
  }

  /**
   * Whether the huge range at `level` (1 = 2M, 2 = 1G) that contains `gfn` is mixed (not all-private
   * and not all-shared). A mixed range is never mapped huge.
   */
  isMixed(gfn: number, level: number): boolean {
    void gfn;
    void level;
    return false;
  }
}

// Stage-2 page-table entry encoding. One entry is one int32 in the table pool; a KVM engineer can read
// it as an spte/pte with only the bits the model needs. Leaves carry permissions and state; table
// entries carry the pool index of their child table.

/** The entry maps something (a leaf) or points to a table. */
export const PTE_PRESENT = 1 << 0;
/** Readable. Always set on a present leaf: stage-2 has no write-only mappings. */
export const PTE_R = 1 << 1;
export const PTE_W = 1 << 2;
export const PTE_X = 1 << 3;
/** Written through this mapping (hardware dirty / KVM's shadow dirty bit). */
export const PTE_DIRTY = 1 << 4;
export const PTE_ACCESSED = 1 << 5;
/** Maps private (guest_memfd) memory. */
export const PTE_PRIVATE = 1 << 6;
/** A table entry (non-leaf): the child table index is in bits 10 and up. */
export const PTE_TABLE = 1 << 7;
const LEVEL_SHIFT = 8;
const CHILD_SHIFT = 10;

/** Mapping levels as the model counts them: 0 = 4K, 1 = 2M, 2 = 1G (x86 PG_LEVEL_4K - 1). */
export const LEVEL_4K = 0;
export const LEVEL_2M = 1;
export const LEVEL_1G = 2;

/** Entries per table (512 for the 4K granule) and gfns covered by one entry at each level. */
export const PTRS_PER_TABLE = 512;
export const LEVEL_PAGES = [1, 512, 512 * 512, 512 * 512 * 512, 512 * 512 * 512 * 512] as const;

export function leafPte(level: number, perms: number): number {
  return perms | PTE_PRESENT | PTE_R | (level << LEVEL_SHIFT);
}

export function tablePte(child: number): number {
  return PTE_PRESENT | PTE_TABLE | (child << CHILD_SHIFT);
}

export function pteChild(pte: number): number {
  return pte >>> CHILD_SHIFT;
}

export function pteLevel(pte: number): number {
  return (pte >>> LEVEL_SHIFT) & 3;
}

/** Present and a leaf (not a table pointer). */
export function isLeaf(pte: number): boolean {
  return (pte & (PTE_PRESENT | PTE_TABLE)) === PTE_PRESENT;
}

export function isTable(pte: number): boolean {
  return (pte & PTE_TABLE) !== 0;
}

// The columns of trace format v1 (docs/trace-format.md): names in CSV header order, and their ids.

/** The CSV header, in column order. Field ids below index this list. */
export const FIELDS = [
  'op',
  'vcpu',
  'gpa',
  'size',
  'slot',
  'flags',
  'hva',
  'fd',
  'offset',
  'attrs',
  'ret',
] as const;
export type FieldName = (typeof FIELDS)[number];
export const F_OP = 0;
export const F_VCPU = 1;
export const F_GPA = 2;
export const F_SIZE = 3;
export const F_SLOT = 4;
export const F_FLAGS = 5;
export const F_HVA = 6;
export const F_FD = 7;
export const F_OFFSET = 8;
export const F_ATTRS = 9;
export const F_RET = 10;

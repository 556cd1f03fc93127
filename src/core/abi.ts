// Numbers that come from the kernel's UAPI, with the kernel's names beside them. The core, the trace
// format and the importers all speak in these values, so they live in one place with no dependencies.

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;

/** KVM_CAP_NR_MEMSLOTS as reported by Linux 6.18 on x86-64 (KVM_USER_MEM_SLOTS). */
export const KVM_USER_MEM_SLOTS = 32764;
/** KVM_ADDRESS_SPACE_NUM for the default x86 VM type (no SMM address space). */
export const KVM_ADDRESS_SPACE_NUM = 1;

// include/uapi/linux/kvm.h: struct kvm_userspace_memory_region2.flags
export const KVM_MEM_LOG_DIRTY_PAGES = 1 << 0;
export const KVM_MEM_READONLY = 1 << 1;
export const KVM_MEM_GUEST_MEMFD = 1 << 2;

// include/uapi/linux/kvm.h: KVM_ENABLE_CAP of KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 and its args[0] bits
export const KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 = 168;
export const KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE = 1n << 0n;
export const KVM_DIRTY_LOG_INITIALLY_SET = 1n << 1n;

// include/uapi/linux/kvm.h: KVM_CREATE_GUEST_MEMFD flags
export const GUEST_MEMFD_FLAG_MMAP = 1n << 0n;
export const GUEST_MEMFD_FLAG_INIT_SHARED = 1n << 1n;

// include/uapi/linux/kvm.h: KVM_SET_MEMORY_ATTRIBUTES
export const KVM_MEMORY_ATTRIBUTE_PRIVATE = 1n << 3n;

// include/uapi/linux/vhost_types.h: struct vhost_iotlb_msg.perm
export const VHOST_ACCESS_RO = 0x1;
export const VHOST_ACCESS_WO = 0x2;
export const VHOST_ACCESS_RW = 0x3;

/** errno values (include/uapi/asm-generic/errno-base.h, errno.h) that KVM's memory ioctls return. */
export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  EINTR: 4,
  EIO: 5,
  ENXIO: 6,
  E2BIG: 7,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  EINVAL: 22,
  ENOTTY: 25,
  EFBIG: 27,
  ENOSPC: 28,
  ERANGE: 34,
  ENOSYS: 38,
  EOPNOTSUPP: 95,
} as const;
export type ErrnoName = keyof typeof ERRNO;

const ERRNO_NAME_BY_VALUE = new Map<number, ErrnoName>(
  (Object.entries(ERRNO) as [ErrnoName, number][]).map(([name, value]) => [value, name]),
);

/** The symbolic name of a positive errno value, or undefined when it is not one we know. */
export function errnoName(value: number): ErrnoName | undefined {
  return ERRNO_NAME_BY_VALUE.get(value);
}

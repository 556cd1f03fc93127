// The KVM ioctls the strace importer understands, by name and by number. strace prints a request by
// name when its table knows it, and otherwise (older strace, `-X raw`) as `_IOC(dir, 0xae, nr, size)`
// or a bare number; all three spellings must land on the same name. Numbers follow
// include/uapi/linux/kvm.h: _IOC(dir, KVMIO = 0xae, nr, sizeof(struct)).

/** KVMIO, the ioctl type byte of every KVM ioctl. */
export const KVMIO = 0xae;

const IOC_NONE = 0;
const IOC_WRITE = 1;
const IOC_READ = 2;

function ioc(dir: number, nr: number, size: number): number {
  return ((dir << 30) | (size << 16) | (KVMIO << 8) | nr) >>> 0;
}

/** The ioctls that carry memory state into a trace, plus the ones that define a VM's lifetime. */
export const KVM_IOCTLS: ReadonlyArray<readonly [string, number]> = [
  ['KVM_CREATE_VM', ioc(IOC_NONE, 0x01, 0)],
  // struct kvm_dirty_log: slot, padding1, dirty_bitmap pointer = 16 bytes.
  ['KVM_GET_DIRTY_LOG', ioc(IOC_WRITE, 0x42, 16)],
  // struct kvm_userspace_memory_region: 32 bytes.
  ['KVM_SET_USER_MEMORY_REGION', ioc(IOC_WRITE, 0x46, 32)],
  // struct kvm_userspace_memory_region2: 32 bytes of the v1 struct, guest_memfd_offset, guest_memfd,
  // pad1, pad2[14] = 160 bytes.
  ['KVM_SET_USER_MEMORY_REGION2', ioc(IOC_WRITE, 0x49, 160)],
  ['KVM_RUN', ioc(IOC_NONE, 0x80, 0)],
  // struct kvm_clear_dirty_log: slot, num_pages, first_page, dirty_bitmap = 24 bytes.
  ['KVM_CLEAR_DIRTY_LOG', ioc(IOC_READ | IOC_WRITE, 0xc0, 24)],
  // struct kvm_memory_attributes: address, size, attributes, flags = 32 bytes.
  ['KVM_SET_MEMORY_ATTRIBUTES', ioc(IOC_WRITE, 0xd2, 32)],
  // struct kvm_create_guest_memfd: size, flags, reserved[6] = 64 bytes.
  ['KVM_CREATE_GUEST_MEMFD', ioc(IOC_READ | IOC_WRITE, 0xd4, 64)],
];

const BY_NUMBER = new Map<number, string>(KVM_IOCTLS.map(([name, nr]) => [nr, name]));

const DIR_NAMES: Readonly<Record<string, number>> = { _IOC_NONE: IOC_NONE, _IOC_WRITE: IOC_WRITE, _IOC_READ: IOC_READ };

export interface IoctlRequest {
  /** The KVM name when known (`KVM_SET_USER_MEMORY_REGION`), else the text as strace printed it. */
  name: string;
  /** A KVM ioctl (type byte 0xae, or a KVM_ name) whose number this importer does not know. */
  unknownKvm: boolean;
  /** Not a KVM ioctl at all. */
  foreign: boolean;
}

/**
 * Names the request argument of an ioctl line: `KVM_RUN`, `_IOC(_IOC_WRITE, 0xae, 0x49, 0xa0)`,
 * `0x4020ae46`, or a name strace knows but we do not import (`KVM_IRQ_LINE_STATUS`).
 */
export function ioctlRequest(text: string): IoctlRequest {
  const t = text.trim();
  if (/^KVM_[A-Z0-9_]+$/.test(t)) return { name: t, unknownKvm: false, foreign: false };
  let nr: number | undefined;
  const m = /^_IOC\(\s*([^,]+),\s*(0x[0-9a-f]+|\d+),\s*(0x[0-9a-f]+|\d+),\s*(0x[0-9a-f]+|\d+)\s*\)$/i.exec(t);
  if (m) {
    let dir = 0;
    for (const part of m[1]!.split('|')) {
      const p = part.trim();
      const known = DIR_NAMES[p];
      if (known !== undefined) dir |= known;
      else if (/^(0x[0-9a-f]+|\d+)$/i.test(p)) dir |= Number(p);
      else return { name: t, unknownKvm: false, foreign: true };
    }
    const type = Number(m[2]);
    if (type !== KVMIO) return { name: t, unknownKvm: false, foreign: true };
    nr = ioc(dir, Number(m[3]), Number(m[4]));
  } else if (/^(0x[0-9a-f]+|\d+)$/i.test(t)) {
    nr = Number(t) >>> 0;
    if (((nr >>> 8) & 0xff) !== KVMIO) return { name: t, unknownKvm: false, foreign: true };
  } else {
    // Another subsystem's name (TCGETS, VHOST_...), or strace's `KVM_???`-style placeholder.
    return { name: t, unknownKvm: t.startsWith('KVM_'), foreign: !t.startsWith('KVM_') };
  }
  const name = BY_NUMBER.get(nr);
  return name === undefined ? { name: t, unknownKvm: true, foreign: false } : { name, unknownKvm: false, foreign: false };
}

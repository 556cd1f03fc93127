// guest_memfd files: creation, bindings to memslots, holes, close. Owned by the private-memory work;
// this file fixes the interface the memslot code and the fault handler call.

import { ERRNO } from './abi.js';

export class GuestMemfds {
  /**
   * kvm_gmem_bind(): bind `npages` of file `fd` at page offset `pgoff` to memslot `slotKey`
   * (as_id << 16 | id). Returns 0 or -errno (EBADF for a closed or unknown fd, EINVAL for a bad range
   * or an overlap with another binding of the same file).
   */
  bind(fd: number, offset: bigint, size: bigint, slotKey: number): number {
    void fd;
    void offset;
    void size;
    void slotKey;
    return -ERRNO.EBADF;
  }

  /** kvm_gmem_unbind(): the slot is deleted. */
  unbind(fd: number, slotKey: number): void {
    void fd;
    void slotKey;
  }

  /**
   * The largest mapping level (0 = 4K, 1 = 2M, 2 = 1G) the folio holding file page `pgoff` allows, or
   * -1 when the file has no backing there (closed, or a punched hole that a fault cannot fill).
   */
  folioLevel(fd: number, pgoff: number): number {
    void fd;
    void pgoff;
    return -1;
  }
}

// One small trace per modeled kernel rule (docs/kvm-rules.md), replayed under every kernel version and
// knob the rule concerns, with `expect` rows for what that kernel does. A rule's trace is written once
// with the kernel's values as parameters, so the versions it differs in are side by side.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseProfile } from '../../src/core/profile.js';
import { replayTrace } from '../../src/replay/engine.js';
import { parseTraceText } from '../../src/trace/io.js';

const HEADER = '# s2bench trace v1\nop,vcpu,gpa,size,slot,flags,hva,fd,offset,attrs,ret\n';

/** Replay `rows` under `profile` and require no divergence (every `ret` and `expect` row holds). */
async function holds(profile: string, rows: string[]): Promise<void> {
  const result = replayTrace(await parseTraceText(HEADER + rows.join('\n') + '\n'), parseProfile(profile));
  assert.deepEqual(result.divergences, [], `under ${profile}`);
}

const expect = (metric: string, value: number): string => `expect,,,,,${metric},,,,,${value}`;

describe('x86.slot-zap-all: deleting a memslot', () => {
  // Two slots, one 2M leaf each; slot 1 is deleted; slot 0 is written again.
  const rows = (mappedAfter: number, faultsAfter: number): string[] => [
    'backing,,,0x400000,,thp,0x7f0000000000,,,,',
    'memslot,,0x0,0x200000,0,,0x7f0000000000,,,,0',
    'memslot,,0x40000000,0x200000,1,,0x7f0000200000,,,,0',
    'write,0,0x0,,,,,,,,ok',
    'write,0,0x40000000,,,,,,,,ok',
    expect('mapped.2m', 2 * 0x200000),
    'memslot,,0x40000000,0x0,1,,0x7f0000200000,,,,0',
    expect('mapped.2m', mappedAfter),
    'write,0,0x0,,,,,,,,ok',
    expect('faults', faultsAfter),
  ];

  it('zaps every mapping of a default VM while the quirk is on, and always before 6.12: the other slot refaults', async () => {
    for (const profile of ['x86-tdp@6.6', 'x86-tdp@6.12', 'x86-tdp@6.18', 'x86-tdp']) await holds(profile, rows(0, 3));
  });

  it("zaps only the slot's mappings with the quirk off, or for a software-protected VM", async () => {
    for (const profile of ['x86-tdp@6.12,slot-zap-all=off', 'x86-tdp@6.18,slot-zap-all=off', 'x86-tdp,vm-type=sw-protected', 'arm64-s2']) {
      await holds(profile, rows(0x200000, 2));
    }
  });

  it('does not exist as a knob before 6.12', () => {
    assert.throws(() => parseProfile('x86-tdp@6.6,slot-zap-all=off'), /exists since 6.12/);
  });
});

describe('x86.recover-huge: dirty logging turned off', () => {
  // A THP-backed 4M slot written whole while logged (1024 4K leaves), then logging goes off.
  const rows = (after: { zaps: number; recovered: number; mapped2m: number; faults: number }): string[] => [
    'backing,,,0x400000,,thp,0x7f0000000000,,,,',
    'memslot,,0x0,0x400000,0,log,0x7f0000000000,,,,0',
    'write,0,0x0,0x400000,,,,,,,ok',
    expect('leaves.4k', 1024),
    'memslot,,0x0,0x400000,0,,0x7f0000000000,,,,0',
    expect('zaps', after.zaps),
    expect('recovered', after.recovered),
    expect('mapped.2m', after.mapped2m),
    'write,0,0x0,0x400000,,,,,,,ok',
    expect('faults', after.faults),
    expect('mapped.2m', 0x400000),
  ];

  it('zaps the collapsible 4K leaves before 6.13; they refault huge', async () => {
    for (const profile of ['x86-tdp@6.6', 'x86-tdp@6.12']) await holds(profile, rows({ zaps: 1024, recovered: 0, mapped2m: 0, faults: 1024 + 2 }));
  });

  it('rebuilds the huge mappings in place from 6.13: no zap, no refault', async () => {
    for (const profile of ['x86-tdp@6.18', 'x86-tdp']) await holds(profile, rows({ zaps: 0, recovered: 2, mapped2m: 0x400000, faults: 1024 }));
  });

  it('flushes once for the rebuild', async () => {
    await holds('x86-tdp', [
      'backing,,,0x400000,,thp,0x7f0000000000,,,,',
      'memslot,,0x0,0x400000,0,log,0x7f0000000000,,,,0',
      'write,0,0x0,0x400000,,,,,,,ok',
      expect('tlb.flushes', 0),
      'memslot,,0x0,0x400000,0,,0x7f0000000000,,,,0',
      expect('tlb.flushes', 1),
    ]);
  });
});

describe('x86.pml: dirty logging with and without PML', () => {
  // A 2M slot of anonymous memory written whole (512 4K leaves), logged, then 16 pages written in two
  // rounds with a KVM_GET_DIRTY_LOG after each.
  const rows = (wpFaults: number): string[] => [
    'memslot,,0x0,0x200000,0,,0x7f0000000000,,,,0',
    'write,0,0x0,0x200000,,,,,,,ok',
    'memslot,,0x0,0x200000,0,log,0x7f0000000000,,,,0',
    'write,0,0x0,0x10000,,,,,,,ok',
    'dirty_get,,,,0,,,,,,16',
    'write,0,0x0,0x10000,,,,,,,ok',
    'dirty_get,,,,0,,,,,,16',
    expect('faults.wp', wpFaults),
    expect('dirty.pages', 32), // pages marked dirty, over both rounds
  ];

  it('takes no write-protect fault on 4K leaves with PML; the dirty counts are the same', async () => {
    for (const profile of ['x86-tdp@6.6', 'x86-tdp@6.12', 'x86-tdp@6.18', 'x86-tdp']) await holds(profile, rows(0));
  });

  it('takes one write-protect fault per page per round without PML (AMD NPT)', async () => {
    for (const profile of ['x86-tdp@6.12,pml=off', 'x86-tdp,pml=off']) await holds(profile, rows(32));
  });
});

describe('x86.vm-type: memory attributes', () => {
  const rows = (ret: string): string[] => [
    'attrs,,0x0,0x1000,,,,,,private,' + ret,
    'attrs,,0x0,0x1000,,0x1,,,,private,' + (ret === '0' ? '-EINVAL' : ret),
  ];

  it('answers ENOTTY for every call on a default VM', async () => {
    for (const profile of ['x86-tdp@6.6', 'x86-tdp@6.18', 'x86-tdp']) await holds(profile, rows('-ENOTTY'));
  });

  it('checks and applies attributes on a software-protected VM', async () => {
    for (const profile of ['x86-tdp@6.12,vm-type=sw-protected', 'x86-tdp,vm-type=sw-protected']) await holds(profile, rows('0'));
  });
});

describe('x86.private-noslot', () => {
  it('makes a private access with no memslot a memory-fault exit, a shared one MMIO', async () => {
    for (const profile of ['x86-tdp@6.12,vm-type=sw-protected', 'x86-tdp,vm-type=sw-protected', 'x86-tdp']) {
      await holds(profile, [
        'read,0,0x80000000,,,private,,,,,memfault',
        'write,0,0x80000000,,,private,,,,,memfault',
        'read,0,0x80000000,,,,,,,,mmio',
        expect('exits.memfault', 2),
        expect('exits.mmio', 1),
      ]);
    }
  });
});

describe('x86.flush-counts', () => {
  it('flushes once when logging starts, not again for the eager split', async () => {
    for (const profile of ['x86-tdp@6.12', 'x86-tdp', 'x86-tdp,pml=off']) {
      await holds(profile, [
        'backing,,,0x400000,,thp,0x7f0000000000,,,,',
        'memslot,,0x0,0x400000,0,,0x7f0000000000,,,,0',
        'write,0,0x0,0x400000,,,,,,,ok',
        expect('mapped.2m', 0x400000),
        'memslot,,0x0,0x400000,0,log,0x7f0000000000,,,,0',
        expect('splits', 2),
        expect('tlb.flushes', 1),
      ]);
    }
  });

  it('flushes once for an mmu notifier call over slots that alias the same hva', async () => {
    await holds('x86-tdp', [
      'memslot,,0x0,0x200000,0,,0x7f0000000000,,,,0',
      'memslot,,0x40000000,0x200000,1,,0x7f0000000000,,,,0',
      'write,0,0x0,,,,,,,,ok',
      'write,0,0x40000000,,,,,,,,ok',
      'unmap_hva,,,0x1000,,,0x7f0000000000,,,,',
      expect('zaps', 2),
      expect('tlb.flushes', 1),
    ]);
  });

  it('flushes when a huge leaf replaces a table of small ones', async () => {
    // A 4K leaf mapped while the host page was small; the host then backs the range with a THP
    // and the next fault maps 2M over the table.
    await holds('x86-tdp', [
      'memslot,,0x0,0x200000,0,,0x7f0000000000,,,,0',
      'read,0,0x0,,,,,,,,ok',
      expect('leaves.4k', 1),
      'backing,,,0x200000,,thp,0x7f0000000000,,,,',
      'read,0,0x1000,,,,,,,,ok',
      expect('leaves.2m', 1),
      expect('mapped.4k', 0),
      expect('tlb.flushes', 1),
    ]);
  });
});

describe('common.gmem-alloc', () => {
  it('allocates with the mode the trace gives, refuses mode 0 and allocation past the end of the file', async () => {
    for (const profile of ['x86-tdp@6.12', 'x86-tdp', 'arm64-s2']) {
      await holds(profile, [
        'gmem_create,,,0x200000,,,,1,,,0',
        'gmem_alloc,,,0x1000,,keep_size,,1,0x0,,0',
        'gmem_alloc,,,0x1000,,,,1,0x0,,-EOPNOTSUPP',
        'gmem_alloc,,,0x2000,,keep_size,,1,0x1ff000,,-EINVAL',
        'gmem_alloc,,,0x1000,,keep_size,,1,0x200000,,-EINVAL',
        'gmem_punch,,,0x1000,,,,1,0x200000,,0',
      ]);
    }
  });
});

describe('x86.nx-huge-pages: split for an instruction fetch', () => {
  it('makes the 4K children executable and keeps the split range at 4K for later faults', async () => {
    for (const profile of ['x86-tdp@6.12,nx-huge-pages=on', 'x86-tdp@6.18,nx-huge-pages=on', 'x86-tdp,nx-huge-pages=on']) {
      await holds(profile, [
        'backing,,,0x200000,,thp,0x7f0000000000,,,,',
        'memslot,,0x0,0x200000,0,,0x7f0000000000,,,,0',
        'read,0,0x0,,,,,,,,ok',
        'exec,0,0x1000,,,,,,,,ok',
        expect('splits', 1),
        'exec,0,0x2000,,,,,,,,ok', // an executable 4K child: a hit
        expect('faults', 2),
        'unmap_hva,,,0x1000,,,0x7f0000003000,,,,',
        'read,0,0x3000,,,,,,,,ok',
        expect('faults', 3),
        expect('leaves.2m', 1),
        expect('mapped.4k', 0x200000), // the read mapped 4K into the kept table, not 2M over it
      ]);
    }
  });

  it('maps a read over an exec-split range huge again without the mitigation', async () => {
    await holds('x86-tdp', [
      'backing,,,0x200000,,thp,0x7f0000000000,,,,',
      'memslot,,0x0,0x200000,0,,0x7f0000000000,,,,0',
      'exec,0,0x1000,,,,,,,,ok',
      // The whole 2M range: discarding part of a populated THP would leave the host mapping it at 4K.
      'unmap_hva,,,0x200000,,,0x7f0000000000,,,,',
      'read,0,0x3000,,,,,,,,ok',
      expect('mapped.2m', 0x200000),
    ]);
  });
});

describe('common.host-pages: unpopulated backing, the zero page and copy-on-write', () => {
  const ALL = ['x86-tdp@6.6', 'x86-tdp@6.12', 'x86-tdp@6.18', 'x86-tdp', 'arm64-s2@6.6', 'arm64-s2@6.18', 'arm64-s2'];
  const slot = 'memslot,,0x0,0x200000,0,,0x7f0000000000,,,,0';

  it('maps a read of a never-touched anonymous page read-only; the write copies it: a notifier zap, and the fault retries', async () => {
    for (const profile of ALL) {
      await holds(profile, [
        slot,
        'read,0,0x0,,,,,,,,ok',
        expect('faults', 1),
        'write,0,0x0,,,,,,,,ok',
        expect('faults.cow', 1),
        expect('faults', 3), // the read, the write that copied (stale: retried), the write again
        expect('zaps', 1),
        expect('tlb.flushes', 1),
        expect('leaves.4k', 2),
        'write,0,0x0,,,,,,,,ok',
        'read,0,0x0,,,,,,,,ok',
        expect('faults', 3),
      ]);
    }
  });

  it('maps a read writable when the page was written before (by the VMM), and unmap_hva makes it missing again', async () => {
    for (const profile of ALL) {
      await holds(profile, [
        slot,
        'host_write,,,0x1000,,,0x7f0000000000,,,,',
        'read,0,0x0,,,,,,,,ok',
        'write,0,0x0,,,,,,,,ok',
        expect('faults', 1),
        'unmap_hva,,,0x1000,,,0x7f0000000000,,,,',
        'read,0,0x0,,,,,,,,ok',
        'write,0,0x0,,,,,,,,ok',
        expect('faults', 4),
        expect('faults.cow', 1),
      ]);
    }
  });

  it('copies a zero page the VMM writes after the guest read it: the notifier zaps the guest mapping', async () => {
    for (const profile of ALL) {
      await holds(profile, [
        slot,
        'read,0,0x0,,,,,,,,ok',
        'host_write,,,0x1000,,,0x7f0000000000,,,,',
        expect('zaps', 1),
        'write,0,0x0,,,,,,,,ok',
        expect('faults', 2),
        expect('faults.cow', 0),
      ]);
    }
  });

  it('maps the huge zero page at 2M; a write then allocates a THP from 6.13 (the 2M leaf is zapped and mapped writable)', async () => {
    const rows = (after: { mapped2m: number; mapped4k: number; faults: number }): string[] => [
      'backing,,,0x200000,,thp,0x7f0000000000,,,,',
      slot,
      'read,0,0x0,,,,,,,,ok',
      expect('mapped.2m', 0x200000),
      'write,0,0x1000,,,,,,,,ok',
      expect('faults.cow', 1),
      expect('zaps', 1),
      'read,0,0x2000,,,,,,,,ok',
      expect('mapped.2m', after.mapped2m),
      expect('mapped.4k', after.mapped4k),
      expect('faults', after.faults),
    ];
    for (const profile of ['x86-tdp@6.18', 'x86-tdp', 'arm64-s2@6.18', 'arm64-s2']) await holds(profile, rows({ mapped2m: 0x200000, mapped4k: 0, faults: 3 }));
    // Before 6.13 the huge zero page is split to 4K zero pages and one is copied: the range maps 4K.
    for (const profile of ['x86-tdp@6.6', 'x86-tdp@6.12', 'arm64-s2@6.12']) await holds(profile, rows({ mapped2m: 0, mapped4k: 0x2000, faults: 4 }));
  });

  it('has no zero page for hugetlb, and shmem allocates on a read of a hole: the read maps writable', async () => {
    for (const profile of ALL) {
      for (const kind of ['hugetlb2m', 'shmem']) {
        await holds(profile, [
          `backing,,,0x200000,,${kind},0x7f0000000000,,,,`,
          slot,
          'read,0,0x0,,,,,,,,ok',
          'write,0,0x0,,,,,,,,ok',
          expect('faults', 1),
          expect('faults.cow', 0),
        ]);
      }
    }
  });

  it('does not make populated pages missing when their range is registered with userfaultfd', async () => {
    for (const profile of ['x86-tdp@6.12', 'x86-tdp', 'arm64-s2']) {
      await holds(profile, [
        slot,
        'write,0,0x0,,,,,,,,ok',
        'uffd,,,0x2000,,page,0x7f0000000000,,,,',
        'read,0,0x0,,,,,,,,ok',
        'read,0,0x1000,,,,,,,,ok',
        expect('uffd.faults', 1), // only the never-touched page
        'unmap_hva,,,0x1000,,,0x7f0000000000,,,,',
        'read,0,0x0,,,,,,,,ok',
        expect('uffd.faults', 2), // discarded: missing again
      ]);
    }
  });
});

describe('x86.read-fault-writable: a read fault on a dirty-logged slot', () => {
  // A logged slot; page 0 written by the VMM before (present and writable in the host), page 1 never
  // touched (the zero page). The guest reads both, then writes both.
  const rows = (dirtyAfterReads: number, faults: number): string[] => [
    'host_write,,,0x1000,,,0x7f0000000000,,,,',
    'memslot,,0x0,0x200000,0,log,0x7f0000000000,,,,0',
    'read,0,0x0,,,,,,,,ok',
    'read,0,0x1000,,,,,,,,ok',
    `dirty_get,,,,0,,,,,,${dirtyAfterReads}`,
    'write,0,0x0,,,,,,,,ok',
    'write,0,0x1000,,,,,,,,ok',
    'dirty_get,,,,0,,,,,,2',
    expect('faults', faults),
  ];

  it('maps the read of a writable host page writable and logs it (x86, every version, with and without PML)', async () => {
    // Page 0: the read logged it; the write after the get faults (write-protected) or, with PML, is
    // logged by the CPU. Page 1: read-only zero page; the write copies it (cow + retry).
    for (const profile of ['x86-tdp@6.6', 'x86-tdp@6.12', 'x86-tdp@6.18', 'x86-tdp']) await holds(profile, rows(1, 2 + 2));
    for (const profile of ['x86-tdp@6.12,pml=off', 'x86-tdp,pml=off']) await holds(profile, rows(1, 2 + 1 + 2));
  });

  it('maps it read-only on arm64, so only the write is logged', async () => {
    for (const profile of ['arm64-s2@6.6', 'arm64-s2']) await holds(profile, rows(0, 2 + 1 + 2));
  });
});

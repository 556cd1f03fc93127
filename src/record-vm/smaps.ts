// `backing` rows from the VMM's own mappings: /proc/PID/smaps tells, per VMA, whether it is hugetlb
// (KernelPageSize), shared (VmFlags `sh`: shmem, memfd) and THP-eligible (THPeligible, the kernel's
// own verdict from thp_vma_allowable_order()). Read when a slot appears, while the VMM is alive.

import { readFileSync } from 'node:fs';
import type { TraceRow } from '../trace/row.js';

export interface Vma {
  start: bigint;
  end: bigint;
  /** Backing names as the trace spells them (`anon|thp`, `shmem`, `hugetlb2m`, ...). */
  kind: string;
}

/** The VMAs of an smaps text with their backing kind. */
export function parseSmaps(text: string): Vma[] {
  const vmas: Vma[] = [];
  let cur: { start: bigint; end: bigint; pageKb: number; thp: boolean; shared: boolean; hugetlb: boolean } | undefined;
  const close = (): void => {
    if (cur === undefined) return;
    let kind: string;
    if (cur.hugetlb || cur.pageKb >= 2048) kind = cur.pageKb >= 1048576 ? 'hugetlb1g' : 'hugetlb2m';
    else kind = `${cur.shared ? 'shmem' : 'anon'}${cur.thp ? '|thp' : ''}`;
    vmas.push({ start: cur.start, end: cur.end, kind });
  };
  for (const line of text.split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) /.exec(line);
    if (head) {
      close();
      cur = { start: BigInt(`0x${head[1]}`), end: BigInt(`0x${head[2]}`), pageKb: 4, thp: false, shared: false, hugetlb: false };
      continue;
    }
    if (cur === undefined) continue;
    const kv = /^(\w+):\s+(.*)$/.exec(line);
    if (!kv) continue;
    if (kv[1] === 'KernelPageSize') cur.pageKb = Number.parseInt(kv[2]!, 10);
    else if (kv[1] === 'THPeligible') cur.thp = kv[2]!.trim() === '1';
    else if (kv[1] === 'VmFlags') {
      const flags = kv[2]!.trim().split(/\s+/);
      cur.shared = flags.includes('sh');
      cur.hugetlb = flags.includes('ht');
    }
  }
  close();
  return vmas;
}

/** `backing` rows covering [hva, hva + size) from the VMAs, adjacent pieces of one kind joined. */
export function backingRows(vmas: readonly Vma[], hva: bigint, size: bigint): TraceRow[] {
  const end = hva + size;
  const rows: TraceRow[] = [];
  for (const v of vmas) {
    const from = v.start > hva ? v.start : hva;
    const to = v.end < end ? v.end : end;
    if (from >= to) continue;
    const last = rows[rows.length - 1];
    if (last !== undefined && last.flags === v.kind && last.hva! + last.size! === from) last.size = to - last.hva!;
    else rows.push({ op: 'backing', hva: from, size: to - from, flags: v.kind });
  }
  return rows;
}

/** The backing of a live process's range, or no rows when its smaps cannot be read (it exited). */
export function processBacking(pid: number, hva: bigint, size: bigint): TraceRow[] {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return [];
  }
  return backingRows(parseSmaps(text), hva, size);
}

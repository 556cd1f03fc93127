// report.html's "Recorded VMs" section, for traces written by `s2bench record-vm`: the pages first
// touched per vCPU and by the host (the `vm.*` metrics of src/record-vm/touches.ts), the leaves the
// model maps them with under each profile of the run, and the dirty pages of each logging interval
// (the model's answer to each `dirty_get`, from series.csv). The same figures as `s2bench vm-summary`.

import { formatBytes, formatCount } from '../format.js';
import { groupKey, type Group } from '../groups.js';
import type { SeriesByGroup } from '../series.js';
import { touchesOfMetrics } from '../../record-vm/touches.js';
import { escapeHtml as e } from './escape.js';

/** Every recorded trace has this metric (0 when the host touched nothing). */
const MARK = 'vm.touch.host.read';
/** More intervals than this go behind a `details` toggle. */
const OPEN_INTERVALS = 16;

function table(head: string, rows: string): string {
  return `<div class="table-wrap"><table><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table></div>`;
}

function touchesTable(g: Group): string {
  const t = touchesOfMetrics(g.modeled);
  const vcpus = Object.keys(t.vcpus).concat(Object.keys(t.mmio)).filter((v, i, all) => all.indexOf(v) === i).sort((a, b) => Number(a) - Number(b));
  let rows = '';
  let read = t.host.read;
  let write = t.host.write;
  for (const v of vcpus) {
    const c = t.vcpus[v] ?? { read: 0, write: 0 };
    read += c.read;
    write += c.write;
    rows += `<tr data-touch="vcpu${e(v)}"><td class="l">vCPU ${e(v)}</td><td>${formatCount(c.read)}</td><td>${formatCount(c.write)}</td><td>${formatCount(t.mmio[v] ?? 0)}</td></tr>`;
  }
  rows += `<tr data-touch="host"><td class="l">host (VMM threads)</td><td>${formatCount(t.host.read)}</td><td>${formatCount(t.host.write)}</td><td>-</td></tr>`;
  rows += `<tr><td class="l"><b>all</b></td><td><b>${formatCount(read)}</b></td><td><b>${formatCount(write)}</b></td><td></td></tr>`;
  return (
    '<figure><figcaption>Pages first touched <span class="muted">4 KiB pages, from the recording</span></figcaption>' +
    table('<th class="l">by</th><th>read</th><th>written</th><th>MMIO exits</th>', rows) +
    '<div class="note">A first touch is the recorder\'s userfaultfd fault on a page of a RAM slot; pages the VMM populated before their slot existed are not among them (docs/record-vm.md).</div></figure>'
  );
}

function levelsTable(groups: readonly Group[]): string {
  let rows = '';
  for (const g of groups) {
    const m = g.modeled;
    const mapped = ['4k', '2m', '1g'].map((l) => (m[`mapped.${l}`] === undefined ? '-' : e(formatBytes(m[`mapped.${l}`]!)))).join(' / ');
    rows += `<tr data-levels="${e(g.profile)}"><td class="name mono">${e(g.profile)}</td><td>${formatCount(m['leaves.4k'])}</td><td>${formatCount(m['leaves.2m'])}</td>` +
      `<td>${formatCount(m['leaves.1g'])}</td><td>${mapped}</td><td>${formatCount(m['divergences'])}</td></tr>`;
  }
  return (
    '<figure class="wide"><figcaption>Mapping levels the model gives them <span class="muted">per profile of this run</span></figcaption>' +
    table('<th class="l">profile</th><th>4K leaves</th><th>2M leaves</th><th>1G leaves</th><th>mapped at the end 4K / 2M / 1G</th><th>divergences</th>', rows) +
    '<div class="note">Leaves installed by faults over the whole recording (<span class="mono">leaves.*</span>), as <span class="mono">s2bench vm-summary</span> prints them. ' +
    'The model maps what the recorded <span class="mono">backing</span> rows allow, i.e. the VM without the recorder (while recorded, userfaultfd filled its RAM 4 KiB at a time).</div></figure>'
  );
}

function dirtyTable(groups: readonly Group[], series: SeriesByGroup | undefined): string {
  const first = groups[0]!.modeled;
  const gets = first['vm.dirty_gets'] ?? 0;
  const caption = '<figcaption>Dirty pages per logging interval <span class="muted">one per <span class="mono">dirty_get</span></span></figcaption>';
  if (gets === 0) return `<figure>${caption}<div class="empty">No dirty logging in this recording.</div></figure>`;
  // A column per profile: the whole width.
  const passes = groups.map((g) => series?.get(groupKey(g.trace, g.profile))?.dirtyPasses);
  const n = Math.max(0, ...passes.map((p) => p?.length ?? 0));
  let rows = '';
  for (let k = 0; k < n; k++) {
    const cells = passes.map((p) => `<td>${p?.[k] === undefined ? '-' : formatCount(p[k]![1])}</td>`).join('');
    rows += `<tr data-interval="${k + 1}"><td class="l">${k + 1}</td><td>${formatCount(passes.find((p) => p?.[k])?.[k]![0])}</td>${cells}</tr>`;
  }
  const totals = passes.map((p) => `<td><b>${p === undefined ? '-' : formatCount(p.reduce((s, [, pages]) => s + pages, 0))}</b></td>`).join('');
  rows += `<tr data-interval="all"><td class="l"><b>all</b></td><td></td>${totals}</tr>`;
  const head = '<th class="l">interval</th><th>at event</th>' + groups.map((g) => `<th class="name mono">${e(g.profile)}</th>`).join('');
  const body = table(head, rows);
  const note =
    `<div class="note">The pages the model reports at each <span class="mono">dirty_get</span>; the kernel reported ${formatCount(first['vm.dirty_pages'] ?? 0)} ` +
    `in ${formatCount(gets)} gets (a count that differs is a divergence; <span class="mono">run --check</span> fails the job). ` +
    `${passes.some((p) => p === undefined) ? 'A profile without series.csv samples shows -. ' : ''}Failed gets are not intervals.</div>`;
  return n > OPEN_INTERVALS
    ? `<figure class="wide">${caption}<details><summary>${n} intervals</summary>${body}</details>${note}</figure>`
    : `<figure class="wide">${caption}${body}${note}</figure>`;
}

/** The section, or '' when the run has no trace recorded by record-vm. */
export function recordedVmSection(groups: readonly Group[], series: SeriesByGroup | undefined): string {
  const byTrace = new Map<string, Group[]>();
  for (const g of groups) if (g.modeled[MARK] !== undefined) byTrace.set(g.trace, [...(byTrace.get(g.trace) ?? []), g]);
  if (byTrace.size === 0) return '';
  let html = '<section id="recorded-vms"><h2>Recorded VMs</h2>';
  html += '<p class="note">Traces written by <span class="mono">s2bench record-vm</span>: what the guest and the VMM touched first, how the model maps it under each profile, and what dirty logging reported.</p>';
  for (const [trace, gs] of byTrace) {
    html += `<h3 class="vm-trace">${e(trace)}</h3><div class="grid">${touchesTable(gs[0]!)}${dirtyTable(gs, series)}${levelsTable(gs)}</div>`;
  }
  return html + '</section>';
}

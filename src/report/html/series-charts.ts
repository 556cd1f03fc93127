// Charts over the course of a trace, from its sampled counters (series.csv): faults and bytes mapped
// per level against events for every trace, pinned and leaked IOTLB pages for vhost-vdpa traces,
// host-shared against EL2-shared pages and desyncs for pKVM traces, pages per `dirty_get` pass for
// migration traces. A chart whose lines are all zero is left out, so each trace shows what it is about.

import type { JobSeries } from '../series.js';
import { COLORS, type ChartSpec, type LineChart } from './chart-spec.js';
import { figure } from './figure.js';

type Line = LineChart['lines'][number];

function line(s: JobSeries, metric: string, label: string, color: string): Line {
  return { label, values: s.values[metric] ?? s.events.map(() => 0), color };
}

function nonZero(lines: readonly Line[]): boolean {
  return lines.some((l) => l.values.some((v) => v !== null && v !== 0));
}

/** Samples where `metric` rose since the previous one, drawn as points on `on`'s line. */
function rises(s: JobSeries, metric: string, on: Line, label: string, color: string): Line {
  const v = s.values[metric] ?? [];
  return { label, color, points: true, values: on.values.map((y, k) => (k > 0 && (v[k] ?? 0) > (v[k - 1] ?? 0) ? y : null)) };
}

export function seriesFigures(s: JobSeries, id: (what: string) => string): { html: string; charts: ChartSpec[] } {
  const charts: ChartSpec[] = [];
  let html = '';
  const add = (what: string, title: string, note: string, unit: string, lines: Line[]): void => {
    if (s.events.length < 2 || !nonZero(lines)) return;
    charts.push({ kind: 'lines', id: id(what), x: s.events, lines, unit });
    html += figure(`${title} <span class="muted">against events replayed</span>`, note, id(what));
  };
  const every = s.events.length > 1 ? s.events[1]! - s.events[0]! : 0;
  const sampled = `sampled every ${every} events (series.csv)`;
  add('s-faults', 'Stage-2 faults', sampled, 'count', [line(s, 'faults', 'faults', COLORS.fault)]);
  add('s-mapped', 'Bytes mapped by level', sampled, 'bytes', [
    line(s, 'mapped.4k', '4K', COLORS.level4k),
    line(s, 'mapped.2m', '2M', COLORS.level2m),
    line(s, 'mapped.1g', '1G', COLORS.level1g),
  ]);
  add('s-iotlb', 'vhost-vdpa IOTLB pages', `pinned now, and left pinned after release; ${sampled}`, 'count', [
    line(s, 'iotlb.pinned', 'pinned', COLORS.fault),
    line(s, 'iotlb.leaked', 'leaked', COLORS.bad),
  ]);
  const desynced = line(s, 'hypshare.desynced', 'out of sync', COLORS.bad);
  add('s-hypshare', 'pKVM host/EL2 shares', `pages the host counts as shared (its share tree) against those EL2 shares, and pfns whose two views disagree; points: a call on a desynced pfn; ${sampled}`, 'count', [
    line(s, 'hypshare.host_shared', 'host-shared', COLORS.level4k),
    line(s, 'hypshare.shared', 'EL2-shared', COLORS.fault),
    desynced,
    rises(s, 'hypshare.desync_ops', desynced, 'desync event', COLORS.exit),
  ]);
  if (s.dirtyPasses.length > 0) {
    charts.push({
      kind: 'bars',
      id: id('s-dirty'),
      labels: s.dirtyPasses.map((_, k) => String(k + 1)),
      values: s.dirtyPasses.map(([, pages]) => pages),
      unit: 'count',
      colors: COLORS.fault,
    });
    html += figure('Dirty pages per <code>dirty_get</code> pass', `pages each KVM_GET_DIRTY_LOG reported, in trace order (${s.dirtyPasses.length} passes)`, id('s-dirty'), '', s.dirtyPasses.length > 24);
  }
  return { html, charts };
}

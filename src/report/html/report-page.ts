// report.html: summary first (what ran, headline figures, anything that failed or diverged), then one
// section per trace x profile with its charts, then every figure in tables.

import type { Comparison } from '../compare.js';
import { formatBytes, formatCount, formatMetric, formatSi, shortCommit } from '../format.js';
import { groupKey, type Group } from '../groups.js';
import { faultsPerSecond, headlines, isMicroGroup } from '../headline.js';
import { compareMetricNames } from '../results.js';
import { relativeSpread, spread } from '../stats.js';
import { groupStatus } from '../summary.js';
import type { SeriesByGroup } from '../series.js';
import type { RunInfo, TraceInfo } from '../types.js';
import { unitOf } from '../units.js';
import { COLORS, type ChartSpec } from './chart-spec.js';
import { comparisonSection } from './compare-page.js';
import { figure } from './figure.js';
import { seriesFigures } from './series-charts.js';
import { escapeHtml as e } from './escape.js';
import { estimateBlock, estimateCell, estimateNote } from './estimates.js';
import { renderPage } from './page.js';
import { betweenVersionsSection } from './versions-section.js';
import { recordedVmSection } from './recorded-vm-section.js';
import type { StepComparison } from '../profile-steps.js';

export interface ReportModel {
  info: RunInfo;
  groups: Group[];
  comparison?: Comparison;
  /** The baseline run's groups, to draw its repeats beside this run's. */
  baselineGroups?: Group[];
  /** Why a requested baseline could not be compared. */
  baselineError?: string;
  /** Counters over the course of each trace x profile (series.csv), by groupKey. */
  series?: SeriesByGroup;
  /** Pairs of one trace's profiles one version or knob apart, compared ("Between versions"). */
  steps?: StepComparison[];
}

const FAULT_OUTCOMES: ReadonlyArray<[string, string, string]> = [
  ['faults.fixed', 'fixed', COLORS.ok],
  ['faults.spurious', 'spurious', COLORS.neutral],
  ['faults.wp', 'dirty-log\nwp', COLORS.fault],
  ['uffd.faults', 'uffd', COLORS.fault],
  ['exits.mmio', 'mmio\nexit', COLORS.exit],
  ['exits.memfault', 'memfault\nexit', COLORS.bad],
];

const LEVELS: ReadonlyArray<[string, string, string]> = [
  ['4k', '4K', COLORS.level4k],
  ['2m', '2M', COLORS.level2m],
  ['1g', '1G', COLORS.level1g],
];

function badge(status: string): string {
  return `<span class="badge ${e(status)}">${e(status)}</span>`;
}

function duration(info: RunInfo): string {
  const ms = Date.parse(info.finishedAt) - Date.parse(info.startedAt);
  return Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : '-';
}

function header(info: RunInfo): string {
  const h = info.host ?? { node: '?', os: '?', arch: '?', cpuModel: '?', cores: 0 };
  const opts = Object.entries(info.options ?? {})
    .map(([k, v]): [string, string | null] => [k, Array.isArray(v) ? (v.length ? v.join(',') : null) : v !== null && typeof v !== 'object' ? String(v) : null])
    .filter(([, v]) => v !== null)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  return (
    `<h1>s2bench report <span class="muted mono">${e(info.runId)}</span></h1>` +
    '<div class="meta">' +
    `<span>s2bench <b>${e(info.s2benchVersion ?? '?')}</b>${info.gitCommit ? ` @ <b class="mono">${e(shortCommit(info.gitCommit))}</b>` : ''}</span>` +
    `<span>Node <b>${e(h.node)}</b></span><span>${e(h.os)} ${e(h.arch)}</span>` +
    `<span>CPU <b>${e(h.cpuModel)}</b> × ${h.cores}</span>` +
    `<span>started <b>${e(info.startedAt)}</b>, took <b>${e(duration(info))}</b></span>` +
    (opts ? `<span>options <span class="mono">${e(opts)}</span></span>` : '') +
    '</div>'
  );
}

function alerts(groups: readonly Group[]): string {
  const out: string[] = [];
  for (const g of groups) {
    const where = `${e(g.trace)} [${e(g.profile)}]`;
    for (const f of g.failures) out.push(`<div class="alert">FAILED ${where} repeat ${f.repeat}: ${e(f.error)}</div>`);
    if (g.divergences > 0) out.push(`<div class="alert warn">DIVERGED ${where}: ${g.divergences} row(s) where the model disagrees with the recorded result</div>`);
    if (g.unstable.length > 0) out.push(`<div class="alert">NON-DETERMINISTIC ${where}: modeled ${e(g.unstable.join(', '))} differ between repeats</div>`);
  }
  // Behaviour changes are what replaying under another kernel is for: listed, not alarming.
  const changes = groups
    .filter((g) => (g.modeled['behaviour_changes'] ?? 0) > 0)
    .map((g) => `<div class="alert info">BEHAVIOUR CHANGE ${e(g.trace)} [${e(g.profile)}]: ${formatCount(g.modeled['behaviour_changes'])} row(s) answered differently than under the profile the trace was recorded under</div>`);
  if (out.length === 0) out.push('<div class="alert good">Every job succeeded; no divergence.</div>');
  return `<div class="alerts">${[...out, ...changes].join('\n')}</div>`;
}

function rateCell(g: Group): string {
  const s = spread(g.timing['rate.events_per_s'] ?? []);
  if (s.n === 0) return '-';
  const r = relativeSpread(s);
  return `${e(formatSi(s.median))}/s <span class="muted" title="median of ${s.n} repeats ± largest deviation">±${Number.isFinite(r) ? Math.round(r * 100) : 0}%</span>`;
}

/**
 * The run at a glance, narrow enough for a 1280-pixel window: the headline figures up front, the
 * stage-2 details of each row behind its `details` toggle.
 */
function summaryTable(groups: readonly Group[]): string {
  let html = '<div class="table-wrap"><table class="summary"><thead><tr><th class="l">trace</th><th class="l">profile</th><th class="l">status</th>' +
    '<th>events</th><th>faults</th><th>faults/s</th><th>est. guest time</th><th>events/s</th><th class="l">findings</th></tr></thead><tbody>';
  groups.forEach((g, i) => {
    if (isMicroGroup(g)) return;
    const m = g.modeled;
    const status = groupStatus(g);
    const cls = status === 'failed' ? ' class="bad"' : status === 'ok' ? '' : ' class="warn"';
    const findings = headlines(g).map((h) => `<span class="finding${h.bad ? ' bad' : ''}">${e(h.text)}</span>`).join(' ');
    html += `<tr${cls}><td class="name"><a href="#g${i}">${e(g.trace)}</a></td><td class="l profile">${e(g.profile)}</td><td class="l">${badge(status)}</td>` +
      `<td>${formatCount(m['events'])}</td><td>${formatCount(m['faults'])}</td><td>${e(faultsPerSecond(g))}</td><td>${estimateCell(m)}</td><td>${rateCell(g)}</td>` +
      `<td class="l findings">${findings}${Object.keys(m).length ? stage2Details(m) : ''}</td></tr>`;
  });
  return html + '</tbody></table></div>';
}

/** A summary row's details on expand: fixed faults, exits, leaves, bytes mapped, splits, zaps, flushes. */
function stage2Details(m: Record<string, number>): string {
  const sep = '<span class="muted"> / </span>';
  const exits = (m['exits.mmio'] ?? 0) + (m['exits.memfault'] ?? 0);
  return '<details class="row-details"><summary>stage-2</summary>' +
    `fixed ${formatCount(m['faults.fixed'])} · exits ${formatCount(exits)}<br>` +
    `leaves 4K/2M/1G ${LEVELS.map(([l]) => formatCount(m[`leaves.${l}`])).join(sep)}<br>` +
    `mapped ${LEVELS.map(([l]) => (m[`mapped.${l}`] === undefined ? '-' : e(formatBytes(m[`mapped.${l}`]!)))).join(sep)}<br>` +
    `splits/zaps/flushes ${['splits', 'zaps', 'tlb.flushes'].map((k) => formatCount(m[k])).join(sep)}</details>`;
}

function tracesTable(traces: readonly TraceInfo[]): string {
  let html = '<div class="table-wrap"><table><thead><tr><th class="l">trace</th><th class="l">path</th><th>events</th><th>size</th><th class="l">sha256</th></tr></thead><tbody>';
  for (const t of traces) {
    html += `<tr><td class="name">${e(t.name)}</td><td class="name mono">${e(t.path)}</td><td>${formatCount(t.events ?? undefined)}</td>` +
      `<td>${t.bytes === null ? '-' : e(formatBytes(t.bytes))}</td><td class="l mono" title="${e(t.sha256 ?? '')}">${e(t.sha256 ? t.sha256.slice(0, 16) + '…' : '-')}</td></tr>`;
  }
  return html + '</tbody></table></div>';
}

/** Values spanning two decades or more read better on a log axis (a p50 beside a max, 25 ns beside 2.5 ms). */
function wideRange(values: readonly number[]): boolean {
  const positive = values.filter((v) => v > 0);
  return positive.length > 1 && Math.max(...positive) / Math.min(...positive) >= 100;
}

/**
 * One trace x profile: what the trace is about, in charts that have something to show (a chart of
 * zeros is left out), then the seed systems' verdicts and every metric.
 */
function groupSection(
  g: Group,
  index: number,
  trace: TraceInfo | undefined,
  baseline: Group | undefined,
  series: SeriesByGroup | undefined,
  info: RunInfo,
): { html: string; charts: ChartSpec[] } {
  const charts: ChartSpec[] = [];
  const m = g.modeled;
  const id = (what: string): string => `g${index}-${what}`;
  let html = `<h2 id="g${index}" class="group-title">${e(g.trace)} <span class="profile">${e(g.profile)}</span> ${badge(groupStatus(g))}</h2>`;
  html += '<div class="meta">';
  if (trace) html += `<span class="mono">${e(trace.path)}</span>${trace.sha256 ? `<span class="mono" title="sha256">${e(trace.sha256.slice(0, 12))}</span>` : ''}`;
  html += `<span><b>${formatCount(m['events'])}</b> events</span><span><b>${formatCount(m['accesses'])}</b> accesses</span>`;
  html += `<span><b>${g.repeats - g.failures.length}</b>/${g.repeats} repeats ok</span></div>`;
  for (const f of g.failures) html += `<div class="alert">repeat ${f.repeat} failed: ${e(f.error)}</div>`;

  if (Object.keys(m).length === 0) {
    if (Object.keys(g.timing).length === 0) return { html: html + '<p class="muted">No results: every repeat failed.</p>', charts };
    return timingOnlySection(g, html, id, charts);
  }

  html += '<div class="grid">';
  const faultValues = FAULT_OUTCOMES.map(([name]) => m[name] ?? 0);
  if (faultValues.some((v) => v !== 0)) {
    charts.push({ kind: 'bars', id: id('faults'), labels: FAULT_OUTCOMES.map(([, label]) => label), values: faultValues, unit: 'count', colors: FAULT_OUTCOMES.map(([, , color]) => color) });
    html += figure(
      `Faults by outcome <span class="muted">${formatCount(m['faults'])} stage-2 faults</span>`,
      `runs ending in -ENOSYS: ${formatCount(m['runs.enosys'] ?? 0)}`,
      id('faults'),
    );
  }
  const levelValues = LEVELS.map(([l]) => m[`mapped.${l}`] ?? 0);
  if (levelValues.some((v) => v !== 0)) {
    charts.push({ kind: 'bars', id: id('levels'), labels: LEVELS.map(([, label]) => label), values: levelValues, unit: 'bytes', colors: LEVELS.map(([, , color]) => color) });
    html += figure(
      'Bytes mapped by level <span class="muted">at the end of the run</span>',
      `leaves installed 4K / 2M / 1G: ${LEVELS.map(([l]) => formatCount(m[`leaves.${l}`] ?? 0)).join(' / ')} · ` +
        `splits ${formatCount(m['splits'] ?? 0)} · zaps ${formatCount(m['zaps'] ?? 0)} · TLB flushes ${formatCount(m['tlb.flushes'] ?? 0)} · peak tables ${formatCount(m['tables.peak'] ?? 0)}`,
      id('levels'),
    );
  }
  // Conversion cost distribution: the modeled conv.* statistics, else the measured p50/p99.
  const conv = Object.keys(m).filter((k) => k.startsWith('conv.')).sort(compareDistributionNames);
  const convTime = ['time.conversion_p50_ns', 'time.conversion_p99_ns'].filter((k) => (g.timing[k]?.length ?? 0) > 0);
  const convNote = `${formatCount(m['conversions'] ?? 0)} private/shared conversions`;
  if (conv.length > 0) {
    const values = conv.map((k) => m[k]!);
    const log = wideRange(values);
    charts.push({ kind: 'bars', id: id('conv'), labels: conv.map((k) => k.slice('conv.'.length).replace(/\.(?=[^.]+$)/, '\n')), values, unit: 'count', colors: COLORS.exit, log });
    html += figure(`Conversion cost distribution <span class="muted">modeled, per conversion${log ? '; log scale' : ''}</span>`, convNote, id('conv'));
  } else if (convTime.length > 0) {
    charts.push({
      kind: 'bars',
      id: id('conv'),
      labels: convTime.map((k) => (k.endsWith('p50_ns') ? 'p50' : 'p99')),
      values: convTime.map((k) => spread(g.timing[k]!).median),
      unit: 'ns',
      colors: COLORS.exit,
    });
    html += figure('Conversion time <span class="muted">median over repeats</span>', convNote, id('conv'));
  }
  const own = series?.get(groupKey(g.trace, g.profile));
  if (own !== undefined) {
    const figures = seriesFigures(own, id);
    html += figures.html;
    charts.push(...figures.charts);
  }
  // Throughput over repeats.
  const rates = g.timing['rate.events_per_s'] ?? [];
  if (rates.length > 0) {
    const s = spread(rates);
    const base = baseline?.timing['rate.events_per_s'];
    charts.push({ kind: 'repeats', id: id('rate'), values: rates, median: s.median, unit: 'events/s', color: COLORS.rate, ...(base ? { baseline: base } : {}) });
    const r = relativeSpread(s);
    html += figure(
      `Replay throughput <span class="muted">events/s per repeat</span>`,
      `median ${e(formatSi(s.median))}/s, min ${e(formatSi(s.min))}, max ${e(formatSi(s.max))} (±${Number.isFinite(r) ? (r * 100).toFixed(1) : 0}%)` +
        (g.timing['time.replay_ms'] ? ` · replay ${e(formatMetric(spread(g.timing['time.replay_ms']).median, 'ms'))}` : ''),
      id('rate'),
    );
  }
  html += '</div>';
  html += estimateBlock(m, info);
  html += besideStage2(m);
  html += metricsDetails(g);
  return { html, charts };
}

/** The vhost-vdpa and pKVM models' verdicts, when the trace exercised them: leaks and desyncs up front. */
function besideStage2(m: Record<string, number>): string {
  const parts: string[] = [];
  if ((m['iotlb.device_commits'] ?? 0) > 0) {
    const bad = (m['iotlb.leaked'] ?? 0) > 0 || (m['iotlb.freed_domain_uses'] ?? 0) > 0;
    parts.push(
      `<div class="${bad ? 'alert' : 'meta'}">vhost-vdpa IOTLB: ${formatCount(m['iotlb.maps'] ?? 0)} mappings and ` +
        `${formatCount(m['iotlb.pinned'] ?? 0)} pinned pages at the end, ${formatCount(m['iotlb.leaked'] ?? 0)} pages leaked ` +
        `(${formatCount(m['iotlb.leaked_maps'] ?? 0)} mappings) after release, ${formatCount(m['iotlb.freed_domain_uses'] ?? 0)} uses of a freed IOMMU domain</div>`,
    );
  }
  if ((m['hypshare.hypercalls'] ?? 0) > 0 || (m['hypshare.shared'] ?? 0) > 0) {
    const bad = (m['hypshare.phantom'] ?? 0) > 0 || (m['hypshare.lost'] ?? 0) > 0;
    parts.push(
      `<div class="${bad ? 'alert' : 'meta'}">pKVM host/hyp shares: ${formatCount(m['hypshare.hypercalls'] ?? 0)} hypercalls, ` +
        `${formatCount(m['hypshare.phantom'] ?? 0)} phantom shares (host only), ${formatCount(m['hypshare.lost'] ?? 0)} lost shares (EL2 only), ` +
        `${formatCount(m['hypshare.desynced'] ?? 0)} pages out of sync at the end</div>`,
    );
  }
  return parts.join('');
}

/** Micro-benchmarks (`s2bench bench`) have timings and no modeled counters: one chart of medians per unit. */
function timingOnlySection(g: Group, html: string, id: (what: string) => string, charts: ChartSpec[]): { html: string; charts: ChartSpec[] } {
  const byUnit = new Map<string, string[]>();
  for (const name of Object.keys(g.timing).sort(compareMetricNames)) {
    const unit = unitOf(name);
    byUnit.set(unit, [...(byUnit.get(unit) ?? []), name]);
  }
  html += '<div class="grid">';
  let n = 0;
  for (const [unit, names] of byUnit) {
    const chartId = id(`timing${n++}`);
    const prefix = commonPrefix(names);
    const values = names.map((k) => spread(g.timing[k]!).median);
    const log = wideRange(values);
    charts.push({
      kind: 'bars',
      id: chartId,
      // micro.hit.slots-16.ns_per_op -> "hit" over "slots-16": short lines under each bar.
      labels: names.map((k) => (k.slice(prefix.length).replace(/\.[^.]+$/, '') || k).replace(/\./g, '\n')),
      values,
      unit,
      colors: COLORS.rate,
      log,
    });
    html += figure(`Median ${e(unit || 'value')} over repeats <span class="muted">${e(prefix)}*${log ? ', log scale' : ''}</span>`, '', chartId, '', names.length > 6);
  }
  html += '</div>';
  return { html: html + metricsDetails(g), charts };
}

function commonPrefix(names: readonly string[]): string {
  if (names.length < 2) return names[0]?.slice(0, names[0].lastIndexOf('.') + 1) ?? '';
  let prefix = names[0]!;
  for (const n of names) while (!n.startsWith(prefix)) prefix = prefix.slice(0, -1);
  return prefix.slice(0, prefix.lastIndexOf('.') + 1);
}

/** Distribution statistics in reading order: min, percentiles ascending, max, then the rest. */
function statRank(name: string): number {
  const stat = name.slice(name.lastIndexOf('.') + 1);
  if (stat === 'min') return -1;
  const p = /^p(\d+(?:_\d+)?)$/.exec(stat);
  if (p) return Number(p[1]!.replace('_', '.'));
  if (stat === 'max') return 1000;
  return 2000;
}

export function compareDistributionNames(a: string, b: string): number {
  const prefix = (n: string): string => n.slice(0, n.lastIndexOf('.'));
  return prefix(a) < prefix(b) ? -1 : prefix(a) > prefix(b) ? 1 : statRank(a) - statRank(b) || (a < b ? -1 : a > b ? 1 : 0);
}

function metricsDetails(g: Group): string {
  let html = '<details><summary>All metrics</summary><div class="grid" style="margin-top:8px"><div class="table-wrap"><table><thead><tr><th class="l">modeled metric</th><th>value</th></tr></thead><tbody>';
  for (const name of Object.keys(g.modeled).sort(compareMetricNames)) {
    html += `<tr><td class="l mono">${e(name)}</td><td>${e(formatMetric(g.modeled[name]!, unitOf(name)))}</td></tr>`;
  }
  html += '</tbody></table></div><div class="table-wrap"><table><thead><tr><th class="l">timing metric</th><th>median</th><th>min</th><th>max</th><th>n</th></tr></thead><tbody>';
  for (const name of Object.keys(g.timing).sort(compareMetricNames)) {
    const s = spread(g.timing[name]!);
    const u = unitOf(name);
    html += `<tr><td class="l mono">${e(name)}</td><td>${e(formatMetric(s.median, u))}</td><td>${e(formatMetric(s.min, u))}</td><td>${e(formatMetric(s.max, u))}</td><td>${s.n}</td></tr>`;
  }
  return html + '</tbody></table></div></div></details>';
}

export function renderReport(model: ReportModel): string {
  const { info, groups, comparison, baselineGroups = [] } = model;
  const charts: ChartSpec[] = [];
  let body = header(info);
  if (info.complete === false) {
    // A run that died (or is still going): what is here is only the jobs that had finished.
    body +=
      '<div class="alerts"><div class="alert">PARTIAL RUN: this run did not finish; the report shows the ' +
      `${info.jobs.length} job(s) that had finished by ${e(info.finishedAt)}.</div></div>`;
  }
  body += alerts(groups);
  if (model.baselineError) body += `<div class="alerts"><div class="alert warn">Baseline not compared: ${e(model.baselineError)}</div></div>`;
  if (comparison) {
    const section = comparisonSection(comparison, 'baseline');
    body += `<h2>Comparison with baseline</h2>${section.html}`;
    charts.push(...section.charts);
  }
  const between = betweenVersionsSection(model.steps ?? []);
  const recorded = recordedVmSection(groups, model.series);
  body += '<h2>Summary</h2>' + summaryTable(groups) + estimateNote(info);
  const links = [between && '<a href="#between-versions">Between versions</a>', recorded && '<a href="#recorded-vms">Recorded VMs</a>'].filter(Boolean);
  if (links.length > 0) body += `<p class="note">Below the traces table: ${links.join(' · ')}</p>`;
  body += '<h3>Traces</h3>' + tracesTable(info.traces ?? []);
  body += between + recorded;
  const baseline = new Map(baselineGroups.map((g) => [groupKey(g.trace, g.profile), g]));
  groups.forEach((g, i) => {
    if (isMicroGroup(g)) return;
    const trace = (info.traces ?? []).find((t) => t.name === g.trace);
    const section = groupSection(g, i, trace, baseline.get(groupKey(g.trace, g.profile)), model.series, info);
    body += section.html;
    charts.push(...section.charts);
  });
  // Micro-benchmarks are not a trace: a section of their own after the traces.
  groups.forEach((g, i) => {
    if (!isMicroGroup(g)) return;
    const section = timingOnlySection(g, `<h2 id="g${i}" class="group-title">Micro-benchmarks <span class="profile">${e(g.profile)}</span></h2>`, (what) => `g${i}-${what}`, []);
    body += section.html;
    charts.push(...section.charts);
  });
  return renderPage({ title: `s2bench report ${info.runId}${info.complete === false ? ' (partial)' : ''}`, body, charts });
}

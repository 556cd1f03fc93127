// compare.html, and the comparison section embedded in a report made with --baseline.

import type { Comparison, ModeledComparison, TimingComparison } from '../compare.js';
import { formatMetric, formatP, formatPct, shortCommit } from '../format.js';
import { relativeSpread } from '../stats.js';
import { COLORS, type ChartSpec } from './chart-spec.js';
import { escapeHtml as e } from './escape.js';
import { renderPage } from './page.js';

export interface Section {
  html: string;
  charts: ChartSpec[];
}

const VERDICT_CLASS: Record<TimingComparison['verdict'], string> = {
  regression: 'regression',
  improvement: 'improvement',
  'within threshold': 'neutral',
  'no significant change': 'neutral',
};

/** The one timing metric per trace x profile shown in the chart: replay time when there is one. */
function headline(c: Comparison): TimingComparison[] {
  const byPair = new Map<string, TimingComparison>();
  for (const t of c.timing) {
    const key = `${t.trace}\u0000${t.profile}`;
    const current = byPair.get(key);
    if (!current || (t.metric === 'time.replay_ms' && current.metric !== 'time.replay_ms')) byPair.set(key, t);
  }
  return [...byPair.values()];
}

function thresholdText(c: Comparison): string {
  return `${+(c.options.threshold * 100).toFixed(2)}%`;
}

export function verdictHtml(c: Comparison, allowBehaviourChange: boolean): string {
  const parts: string[] = [];
  const newFailures = c.failures.filter((f) => f.side === 'new').length;
  if (c.regressions > 0) parts.push(`<div class="alert">REGRESSION: ${c.regressions} timing metric(s) significantly worse by more than ${e(thresholdText(c))}.</div>`);
  if (c.behaviourChanges > 0) {
    const cls = allowBehaviourChange ? 'alert warn' : 'alert';
    parts.push(`<div class="${cls}">BEHAVIOUR CHANGE: ${c.behaviourChanges} modeled metric value(s) differ${allowBehaviourChange ? ' (accepted)' : ''}.</div>`);
  }
  if (newFailures > 0) parts.push(`<div class="alert">${newFailures} job(s) failed in the new run.</div>`);
  if (c.changedTraces.length > 0) parts.push(`<div class="alert warn">Trace content differs between the runs (sha256): ${e(c.changedTraces.join(', '))}</div>`);
  const oneSided = [...c.onlyInBase.map((p) => `${p.trace} [${p.profile}] (base only)`), ...c.onlyInNew.map((p) => `${p.trace} [${p.profile}] (new only)`)];
  if (oneSided.length > 0) parts.push(`<div class="alert warn">Not compared, present in one run only: ${e(oneSided.join(', '))}</div>`);
  if (parts.length === 0) parts.push(`<div class="alert good">No regression beyond ${e(thresholdText(c))} and no behaviour change.</div>`);
  const underpowered = c.timing.filter((t) => t.underpowered).length;
  if (underpowered > 0) {
    parts.push(
      `<div class="alert warn">${underpowered} timing comparison(s) have too few repeats to ever reach p &lt; ${c.options.alpha}: ` +
        'run both sides with --repeat 5 or more to detect timing changes.</div>',
    );
  }
  return `<div class="alerts">${parts.join('\n')}</div>`;
}

/** A timing row's class: red for a regression, green for an improvement. */
export function timingRowClass(t: TimingComparison): string {
  return t.verdict === 'regression' ? ' class="bad"' : t.verdict === 'improvement' ? ' class="good"' : '';
}

/** A timing comparison's cells: base and new (median ± spread), delta (~ unless significant), 95% CI, p (n), verdict. */
export function timingCells(t: TimingComparison): string {
  const significant = t.verdict !== 'no significant change';
  const sb = relativeSpread(t.base);
  const sn = relativeSpread(t.new);
  return `<td>${e(formatMetric(t.base.median, t.unit))} ±${Number.isFinite(sb) ? Math.round(sb * 100) : 0}%</td>` +
    `<td>${e(formatMetric(t.new.median, t.unit))} ±${Number.isFinite(sn) ? Math.round(sn * 100) : 0}%</td>` +
    `<td>${significant ? e(formatPct(t.ratio - 1)) : '~'}</td><td>${e(formatPct(t.ciLow - 1))} .. ${e(formatPct(t.ciHigh - 1))}</td>` +
    `<td>${e(formatP(t.p))} <span class="muted">(${t.base.n}+${t.new.n})</span></td><td class="l"><span class="badge ${VERDICT_CLASS[t.verdict]}">${e(t.verdict === 'no significant change' ? 'not significant' : t.verdict)}</span></td>`;
}

/** A modeled comparison's cells: base, new (`absent` on a side without the metric), relative delta. */
export function modeledCells(m: ModeledComparison): string {
  const delta = m.base !== null && m.new !== null && m.base !== 0 ? formatPct(m.new / m.base - 1) : '-';
  return `<td>${m.base === null ? 'absent' : e(formatMetric(m.base, m.unit))}</td><td>${m.new === null ? 'absent' : e(formatMetric(m.new, m.unit))}</td><td>${e(delta)}</td>`;
}

export function comparisonSection(c: Comparison, idPrefix: string, allowBehaviourChange = false): Section {
  const charts: ChartSpec[] = [];
  let html = verdictHtml(c, allowBehaviourChange);
  html += `<div class="meta"><span>base <b class="mono">${e(c.base.dir)}</b> run ${e(c.base.runId)}${c.base.gitCommit ? ` @ <span class="mono">${e(shortCommit(c.base.gitCommit))}</span>` : ''}</span>`;
  html += `<span>new <b class="mono">${e(c.new.dir)}</b> run ${e(c.new.runId)}${c.new.gitCommit ? ` @ <span class="mono">${e(shortCommit(c.new.gitCommit))}</span>` : ''}</span>`;
  html += `<span>threshold <b>${e(thresholdText(c))}</b>, Mann-Whitney U at α = ${c.options.alpha}, 95% bootstrap CI of the ratio of medians</span></div>`;

  const heads = headline(c);
  if (heads.length > 0) {
    const id = `${idPrefix}-change`;
    charts.push({
      kind: 'change',
      id,
      labels: heads.map((t) => `${t.trace}\n[${t.profile}]`),
      pct: heads.map((t) => (t.ratio - 1) * 100),
      low: heads.map((t) => (t.ciLow - 1) * 100),
      high: heads.map((t) => (t.ciHigh - 1) * 100),
      colors: heads.map((t) => (t.verdict === 'regression' ? COLORS.bad : t.verdict === 'improvement' ? COLORS.ok : COLORS.baseline)),
    });
    const metrics = [...new Set(heads.map((t) => t.metric))].join(', ');
    html += `<figure><figcaption>Change of median ${e(metrics)}, new vs base <span class="muted">(bars: change of medians; whiskers: 95% CI; red = regression, green = improvement, grey = not significant or within threshold)</span></figcaption><div class="chart" id="${e(id)}"></div></figure>`;
  }

  html += '<h3>Timing</h3>';
  if (c.timing.length === 0) html += '<p class="muted">No timing metric is present in both runs.</p>';
  else {
    html += '<p class="note">base and new: median over repeats ± the largest distance of a repeat from it; delta shown only when significant (~ otherwise).</p>';
    html += '<div class="table-wrap"><table><thead><tr><th class="l">trace</th><th class="l">profile</th><th class="l">metric</th><th>base</th><th>new</th><th>delta</th><th>95% CI</th><th>p (n)</th><th class="l">verdict</th></tr></thead><tbody>';
    for (const t of c.timing) {
      html += `<tr${timingRowClass(t)}><td class="name">${e(t.trace)}</td><td class="l">${e(t.profile)}</td><td class="l mono">${e(t.metric)}</td>${timingCells(t)}</tr>`;
    }
    html += '</tbody></table></div>';
  }

  const changes = c.modeled.filter((m) => m.changed);
  html += `<h3>Modeled metrics ${changes.length === 0 ? '<span class="badge ok">identical</span>' : `<span class="badge changed">${changes.length} changed</span>`}</h3>`;
  if (changes.length === 0) html += `<p class="muted">All ${c.modeled.length} modeled values are identical in both runs.</p>`;
  else {
    html += '<p class="note">base and new: median over repeats ± the largest distance of a repeat from it; delta shown only when significant (~ otherwise).</p>';
    html += '<div class="table-wrap"><table><thead><tr><th class="l">trace</th><th class="l">profile</th><th class="l">metric</th><th>base</th><th>new</th><th>delta</th></tr></thead><tbody>';
    for (const m of changes) {
      html += `<tr class="bad"><td class="name">${e(m.trace)}</td><td class="l">${e(m.profile)}</td><td class="l mono">${e(m.metric)}</td>${modeledCells(m)}</tr>`;
    }
    html += '</tbody></table></div>';
  }
  html += estimateSection(c);
  if (c.failures.length > 0) {
    html += '<h3>Failed jobs</h3>';
    for (const f of c.failures) html += `<div class="alert">${e(f.side)}: ${e(f.trace)} [${e(f.profile)}] repeat ${f.repeat}: ${e(f.error)}</div>`;
  }
  return { html, charts };
}

/** Estimate deltas: both sides' counts priced with one cost table, marked as estimates with its source. */
function estimateSection(c: Comparison): string {
  const shown = c.estimates.filter((x) => x.base !== 0 || x.new !== 0);
  if (shown.length === 0) return '';
  let html = `<h3>Estimated guest-visible time <span class="badge neutral">estimate</span></h3>`;
  html += `<p class="note">Estimates, not measurements: each side's modeled counts priced with one cost table: ${e(c.costSource ?? 'unknown')}.</p>`;
  html += '<div class="table-wrap"><table><thead><tr><th class="l">trace</th><th class="l">profile</th><th class="l">estimate</th><th>base</th><th>new</th><th>delta</th></tr></thead><tbody>';
  for (const x of shown) {
    html += `<tr><td class="name">${e(x.trace)}</td><td class="l">${e(x.profile)}</td><td class="l mono">${e(x.metric)}</td>` +
      `<td>${e(formatMetric(x.base, x.unit))}</td><td>${e(formatMetric(x.new, x.unit))}</td><td>${x.delta > 0 ? '+' : ''}${e(formatMetric(x.delta, x.unit))}</td></tr>`;
  }
  return html + '</tbody></table></div>';
}

export function renderComparePage(c: Comparison, allowBehaviourChange = false): string {
  const section = comparisonSection(c, 'cmp', allowBehaviourChange);
  return renderPage({
    title: `s2bench compare: ${c.base.runId} vs ${c.new.runId}`,
    body: `<h1>s2bench comparison</h1><p class="muted">${e(c.base.runId)} → ${e(c.new.runId)}</p>${section.html}`,
    charts: section.charts,
  });
}

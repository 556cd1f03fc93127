// report.html's "Between versions" section: per trace, what changed between two of its profiles that
// differ in one kernel version or one knob (src/report/profile-steps.ts). Rows reuse compare.html's
// cells, so a figure reads the same here and in `s2bench compare --base-profile/--new-profile`.

import type { TimingComparison } from '../compare.js';
import type { StepComparison } from '../profile-steps.js';
import { escapeHtml as e } from './escape.js';
import { modeledCells, timingCells, timingRowClass } from './compare-page.js';

/** The timing shown per pair: the model's own time (loading a trace does not depend on the profile). */
export const STEP_TIMING = 'time.replay_ms';

const COLUMNS = '<th class="l">base → new</th><th class="l">metric</th><th>base</th><th>new</th><th>delta</th><th>95% CI</th><th>p (n)</th><th class="l">verdict</th>';

function stepRows(s: StepComparison, trace: string): string {
  const c = s.comparison;
  const modeled = c.modeled.filter((m) => m.trace === trace);
  const changed = modeled.filter((m) => m.changed);
  const timing = c.timing.filter((t) => t.trace === trace && t.metric === STEP_TIMING);
  const failures = c.failures.filter((f) => f.trace === trace);
  const rows: string[] = [];
  for (const m of changed) {
    rows.push(`<td class="l mono">${e(m.metric)}</td>${modeledCells(m)}<td colspan="2" class="muted">exact</td><td class="l"><span class="badge changed">changed</span></td>`);
  }
  if (changed.length === 0) {
    const what = modeled.length === 0 ? 'no modeled values (a side failed)' : `all ${modeled.length} modeled values identical`;
    rows.push(`<td class="l muted" colspan="7">${e(what)}</td>`);
  }
  for (const t of timing) rows.push(`<td class="l mono">${e(t.metric)}</td>${timingCells(t)}`);
  for (const f of failures) {
    const profile = f.side === 'base' ? s.step.base : s.step.next;
    rows.push(`<td class="l" colspan="7"><span class="badge failed">failed</span> ${e(profile)} repeat ${f.repeat}: ${e(f.error)}</td>`);
  }
  const label = `<td class="name" rowspan="${rows.length}"><span class="mono">${e(s.step.base)}</span> →<br><span class="mono">${e(s.step.next)}</span><br><span class="muted">${e(s.step.what)}</span></td>`;
  const classes = [...changed.map(() => ' class="warn"'), ...(changed.length === 0 ? [''] : []), ...timing.map((t) => timingRowClass(t)), ...failures.map(() => ' class="bad"')];
  return rows.map((r, k) => `<tr${classes[k]}>${k === 0 ? label : ''}${r}</tr>`).join('');
}

/** The section, or '' when no trace of the run has two profiles one step apart. */
export function betweenVersionsSection(steps: readonly StepComparison[]): string {
  const traces = [...new Set(steps.flatMap((s) => s.traces))];
  if (traces.length === 0) return '';
  const timings: TimingComparison[] = steps.flatMap((s) => s.comparison.timing.filter((t) => t.metric === STEP_TIMING));
  const alpha = steps[0]!.comparison.options.alpha;
  let html = '<section id="between-versions"><h2>Between versions</h2>';
  html +=
    '<p class="note">For each trace, every pair of its profiles in this run that differ in exactly one thing: the kernel version ' +
    '(older as base) or one knob (its default as base). Pairs that differ in more than one are not shown: a difference could not be ' +
    'told apart. Modeled counters are compared exactly and every one that differs is listed; the replay time ' +
    `(<span class="mono">${STEP_TIMING}</span>) with the statistics of <span class="mono">s2bench compare</span>: median ± the largest ` +
    `distance of a repeat from it, Mann-Whitney U at α = ${alpha}, 95% bootstrap CI of the ratio of medians. The same comparison on the command line: ` +
    '<span class="mono">s2bench compare RUN RUN --base-profile BASE --new-profile NEW</span>.</p>';
  if (timings.some((t) => t.underpowered)) {
    html += `<p class="note">With this few repeats no timing difference can reach p &lt; ${alpha}: run with --repeat 5 or more to tell timings apart.</p>`;
  }
  for (const trace of traces) {
    html += `<h3>${e(trace)}</h3><div class="table-wrap"><table class="between"><thead><tr>${COLUMNS}</tr></thead><tbody>`;
    for (const s of steps) if (s.traces.includes(trace)) html += stepRows(s, trace);
    html += '</tbody></table></div>';
  }
  return html + '</section>';
}

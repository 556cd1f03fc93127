// The shell every page shares: one self-contained HTML file (styles, uPlot and the drawing script
// inlined; no external URL anywhere), so a report opens offline and from a CI artifact.

import { chartAssets } from './assets.js';
import type { ChartSpec } from './chart-spec.js';
import { CLIENT_JS } from './client.js';
import { escapeHtml, jsonForScript, scriptText } from './escape.js';

const STYLE = `
:root { --fg: #111827; --muted: #6b7280; --line: #e5e7eb; --bg: #f9fafb; --ok: #2f7d32; --bad: #c62828; --warn: #b45309; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
main { max-width: 1440px; margin: 0 auto; padding: 24px 28px 64px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 36px 0 8px; padding-top: 12px; border-top: 2px solid var(--line); }
h3 { font-size: 15px; margin: 20px 0 8px; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
.muted { color: var(--muted); }
.meta { display: flex; flex-wrap: wrap; gap: 4px 20px; color: var(--muted); font-size: 13px; margin: 6px 0 16px; }
.meta b { color: var(--fg); font-weight: 600; }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); font-size: 12.5px; }
th, td { padding: 4px 7px; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
th { background: #f3f4f6; font-weight: 600; position: sticky; top: 0; }
td.l, th.l { text-align: left; }
td.name { text-align: left; white-space: normal; overflow-wrap: anywhere; min-width: 120px; max-width: 280px; }
tr.bad td { background: #fef2f2; }
tr.warn td { background: #fffbeb; }
tr.good td { background: #f0fdf4; }
.table-wrap { overflow-x: auto; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; color: #fff; }
.badge.ok { background: var(--ok); } .badge.failed, .badge.regression, .badge.changed { background: var(--bad); }
.badge.partial, .badge.diverged, .badge.unstable { background: var(--warn); }
.badge.improvement { background: #1f6feb; } .badge.neutral { background: #9ca3af; }
.alerts { margin: 16px 0; }
.alert { border-left: 4px solid var(--bad); background: #fef2f2; padding: 8px 12px; margin: 6px 0; white-space: pre-wrap; word-break: break-word; }
.alert.warn { border-color: var(--warn); background: #fffbeb; }
.alert.good { border-color: var(--ok); background: #f0fdf4; }
.alert.info { border-color: #1f6feb; background: #eff6ff; }
table.summary td.profile { white-space: normal; overflow-wrap: anywhere; max-width: 220px; }
td.findings { white-space: normal; min-width: 160px; max-width: 340px; }
.finding { display: inline-block; margin-right: 8px; }
.finding.bad { color: var(--bad); font-weight: 600; }
details.row-details { margin-top: 0; font-size: 12px; }
details.row-details[open] { color: var(--muted); }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 14px; }
figure { margin: 0; background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px 8px; min-width: 0; }
figure.wide { grid-column: 1 / -1; }
figcaption { font-weight: 600; margin-bottom: 6px; }
figcaption .muted { font-weight: 400; font-size: 12px; }
.chart { width: 100%; min-height: 220px; }
.note { color: var(--muted); font-size: 12.5px; margin-top: 6px; }
.empty { display: flex; align-items: center; justify-content: center; min-height: 220px; color: var(--muted); }
details { margin-top: 12px; }
summary { cursor: pointer; color: #1f6feb; }
a { color: #1f6feb; text-decoration: none; } a:hover { text-decoration: underline; }
.group-title { display: flex; align-items: baseline; gap: 10px; flex-wrap: wrap; }
.group-title .profile { font-weight: 400; color: var(--muted); }
.u-legend { font-size: 12px; }
`;

export interface PageParts {
  title: string;
  /** Already-escaped HTML of the body. */
  body: string;
  charts: ChartSpec[];
}

export function renderPage(parts: PageParts): string {
  const { js, css } = chartAssets();
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(parts.title)}</title>
<style>${css}</style>
<style>${STYLE}</style>
</head>
<body>
<main>
${parts.body}
</main>
<script type="application/json" id="s2-charts">${jsonForScript(parts.charts)}</script>
<script>${scriptText(js)}</script>
<script>${scriptText(CLIENT_JS)}</script>
</body>
</html>
`;
}

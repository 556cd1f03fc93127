// One figure of a report section: a caption, a chart placeholder the page's script draws into (or a
// line of text when there is nothing to draw), and a note under it.

import { escapeHtml as e } from './escape.js';

export function figure(title: string, note: string, chartId: string | null, emptyText = '', wide = false): string {
  const body = chartId ? `<div class="chart" id="${e(chartId)}"></div>` : `<div class="empty">${e(emptyText)}</div>`;
  return `<figure${wide ? ' class="wide"' : ''}><figcaption>${title}</figcaption>${body}${note ? `<div class="note">${note}</div>` : ''}</figure>`;
}

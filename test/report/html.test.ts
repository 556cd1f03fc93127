import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { groupJobs } from '../../src/report/groups.js';
import { escapeHtml, jsonForScript } from '../../src/report/html/escape.js';
import { renderReport } from '../../src/report/html/report-page.js';
import { HOSTILE, job, syntheticJobs, syntheticRunInfo } from './synthetic.js';

describe('HTML escaping', () => {
  it('turns markup characters of a trace name into entities', () => {
    assert.equal(escapeHtml(HOSTILE), '&lt;img src=x onerror=alert(1)&gt;');
    assert.equal(escapeHtml(`a"b'c&d`), 'a&quot;b&#39;c&amp;d');
  });

  it('embeds JSON that cannot close its <script> element and still parses to the same value', () => {
    const value = { name: '</script><script>alert(1)</script><!--', sep: 'a\u2028b\u2029c', amp: 'x&y>z' };
    const text = jsonForScript(value);
    assert.doesNotMatch(text, /[<>&\u2028\u2029]/);
    assert.deepEqual(JSON.parse(text), value);
  });
});

describe('renderReport', () => {
  const jobs = [...syntheticJobs(), job('</script><script>alert(2)</script>', 'x86-tdp', 0)];
  const html = renderReport({ info: syntheticRunInfo('r1', jobs), groups: groupJobs(jobs) });

  it('never writes a hostile trace name as markup, in text or in chart data', () => {
    assert.ok(!html.includes(HOSTILE));
    assert.ok(!html.includes('<script>alert(2)'));
    assert.ok(html.includes('&lt;img src=x onerror=alert(1)&gt;'));
  });

  it('is self-contained: no external URL, a CSP that forbids fetching anything', () => {
    assert.doesNotMatch(html, /(src|href)=["']?(https?:)?\/\//i);
    assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
    assert.match(html, /uPlot/);
  });

  it('puts the summary before the per-trace sections and names failures first', () => {
    const failure = html.indexOf('FAILED');
    const summary = html.indexOf('<h2>Summary</h2>');
    const firstSection = html.indexOf('id="g0"');
    assert.ok(failure > 0 && failure < summary && summary < firstSection);
    assert.match(html, /worker died: out of memory/);
  });
});

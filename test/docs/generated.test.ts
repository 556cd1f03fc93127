// The tables of docs/ are generated from the code by scripts/gen-docs.mjs: the committed docs must be
// what the generator writes now, and every op and metric must be described.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pathToFileURL } from 'node:url';
import { METRIC_NAMES } from '../../src/core/metrics.js';
import { OPS } from '../../src/trace/schema.js';
import { repoPath } from '../helpers/paths.js';

interface DocsGenerator {
  renderDocs(): Promise<Array<{ file: string; current: string; generated: string }>>;
  replaceBlock(text: string, name: string, content: string, file: string): string;
}

const generator = (await import(pathToFileURL(repoPath('scripts', 'gen-docs.mjs')).href)) as DocsGenerator;

test('docs/trace-format.md and docs/metrics.md are what `npm run docs` writes from the code', async () => {
  const docs = await generator.renderDocs();
  assert.deepEqual(docs.map((d) => d.file), ['docs/trace-format.md', 'docs/metrics.md']);
  for (const { file, current, generated } of docs) {
    assert.ok(current === generated, `${file} is stale: run \`npm run docs\` and commit the result`);
  }
});

test('every metric and every op appears in the generated tables', async () => {
  const docs = await generator.renderDocs();
  const metrics = docs.find((d) => d.file === 'docs/metrics.md')!.generated;
  for (const name of METRIC_NAMES) assert.match(metrics, new RegExp(`^\\| \`${name.replace('.', '\\.')}\` \\| (count|bytes) \\| \\S`, 'm'));
  const format = docs.find((d) => d.file === 'docs/trace-format.md')!.generated;
  OPS.forEach((op, code) => assert.match(format, new RegExp(`^\\| \`${op}\` \\| ${code} \\|`, 'm')));
});

test('the generator only rewrites between its markers and says when they are missing', () => {
  const text = 'before\n<!-- generated:x -->\nold\n<!-- /generated:x -->\nafter\n';
  const out = generator.replaceBlock(text, 'x', 'new', 'doc.md');
  assert.match(out, /^before\n<!-- generated:x -->\n<!-- written by `npm run docs`[^\n]*-->\nnew\n<!-- \/generated:x -->\nafter\n$/);
  assert.throws(() => generator.replaceBlock('no markers', 'x', 'new', 'doc.md'), /doc\.md: no <!-- generated:x -->/);
});

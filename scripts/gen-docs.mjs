// Writes the tables of docs/ that are facts of the code, so they cannot drift from it:
//   npm run docs            (builds, then rewrites docs/trace-format.md and docs/metrics.md in place)
// The tables go between `<!-- generated:NAME -->` and `<!-- /generated:NAME -->` markers; the prose
// around them is written by hand. test/docs/generated.test.ts regenerates in memory and fails when a
// committed doc differs, or when an op or a metric has no description here.
//
// Everything about an op is read from the op table (src/trace/ops.ts), everything about a metric from
// the metric table (src/core/metrics.ts), the outcomes from src/core/outcome.ts: a new op or metric
// without a description does not compile, so the docs cannot leave one out.

import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ATTR_NAMES, OP_TABLE } from '../dist/src/trace/schema.js';
import { OUTCOME_NAMES } from '../dist/src/core/outcome.js';
import { METRICS } from '../dist/src/core/metrics.js';

const ROOT = join(import.meta.dirname, '..');

/** How each `ret` style of the op table is written and what replay does with it. */
const RET_STYLES = {
  errno: '0, a count, or `-EINVAL` style; compared',
  outcome: 'an outcome name; compared',
  value: "the metric's value; a miss is a divergence",
};

function table(header, rows) {
  // A `|` inside a cell would end it (GitHub's tables honour `\|` even inside code spans).
  const line = (cells) => `| ${cells.map((cell) => cell.replaceAll('|', '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

const code = (text) => `\`${text}\``;

/** The op table of docs/trace-format.md, from src/trace/ops.ts. */
export function renderOps(table_ = OP_TABLE) {
  const rows = Object.entries(table_)
    .sort(([, a], [, b]) => a.code - b.code)
    .map(([op, spec]) => {
      const flags = spec.flags?.names;
      return [
        code(op),
        String(spec.code),
        spec.fields.length > 0 ? spec.fields.join(', ') : '-',
        flags === undefined ? 'numeric' : flags.length === 0 ? 'none named' : flags.map(([name]) => code(name)).join(' '),
        `${spec.ret}: ${RET_STYLES[spec.ret]}`,
        spec.shard,
        spec.doc,
      ];
    });
  return table(['op', 'code', 'required fields', 'flag names', '`ret`', 'sharding', 'meaning'], rows);
}

/** The outcome names an access row's `ret` takes, and the `attrs` names. */
export function renderVocabulary() {
  return [
    `Access outcomes (\`ret\` of \`read\`/\`write\`/\`exec\`), by code: ${OUTCOME_NAMES.map((name, i) => `${i} ${code(name)}`).join(', ')}.`,
    `\`attrs\` names: ${ATTR_NAMES.map(([name, bit]) => `${code(name)} (0x${bit.toString(16)})`).join(', ')}.`,
  ].join('\n');
}

/** The metric table of docs/metrics.md. */
export function renderMetrics(metrics = METRICS) {
  const rows = Object.entries(metrics).map(([name, m]) => [code(name), m.unit, m.doc, m.kernel, m.merge]);
  return table(['metric', 'unit', 'what increments it', 'kernel counterpart', 'shards merge by'], rows);
}

/** Every generated block: the file it lives in, its marker name and its content. */
export function generatedBlocks() {
  return [
    { file: 'docs/trace-format.md', name: 'ops', text: renderOps() },
    { file: 'docs/trace-format.md', name: 'vocabulary', text: renderVocabulary() },
    { file: 'docs/metrics.md', name: 'metrics', text: renderMetrics() },
  ];
}

/** `text` with the block between the markers of `name` replaced by `content`. */
export function replaceBlock(text, name, content, file) {
  const open = `<!-- generated:${name} -->`;
  const close = `<!-- /generated:${name} -->`;
  const start = text.indexOf(open);
  const end = text.indexOf(close);
  if (start < 0 || end < start) throw new Error(`${file}: no ${open} ... ${close} markers`);
  const note = '<!-- written by `npm run docs` from the code; do not edit by hand -->';
  return `${text.slice(0, start + open.length)}\n${note}\n${content}\n${text.slice(end)}`;
}

/** Each doc file as committed and as the code says it should be. */
export async function renderDocs(root = ROOT) {
  const files = new Map();
  for (const block of generatedBlocks()) {
    if (!files.has(block.file)) {
      const current = await readFile(join(root, block.file), 'utf8');
      files.set(block.file, { file: block.file, current, generated: current });
    }
    const entry = files.get(block.file);
    entry.generated = replaceBlock(entry.generated, block.name, block.text, block.file);
  }
  return [...files.values()];
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const { file, current, generated } of await renderDocs()) {
    if (generated === current) {
      console.log(`${file}: up to date`);
    } else {
      await writeFile(join(ROOT, file), generated);
      console.log(`${file}: written`);
    }
  }
}

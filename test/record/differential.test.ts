// The model against Linux: random ioctl/access sequences recorded on this machine's /dev/kvm must
// replay with zero divergences. A new divergence is shrunk (delta debugging, re-recording every
// candidate on the kernel) and written to a file to become a fixture under test/fixtures/recorded/.
// Skipped, saying why, where the recorder cannot run (no /dev/kvm, not usable, no C compiler).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDifferential } from '../../src/record/differential.js';
import type { Divergence } from '../../src/replay/engine.js';
import { probeKvm, RecorderUnavailable } from '../../src/record/recorder.js';
import { modelDivergences, recordChunks } from '../../src/record/session.js';
import { formatTraceText, parseTraceText } from '../../src/trace/io.js';
import { repoPath } from '../helpers/paths.js';

const SEED = 1;
const SEQUENCES = 1000;
const FIXTURES = repoPath('test', 'fixtures', 'recorded');

function unavailable(): string | undefined {
  try {
    probeKvm();
    return undefined;
  } catch (err) {
    if (err instanceof RecorderUnavailable) return `recorder cannot run here: ${err.message}`;
    throw err;
  }
}
const skip = unavailable();

/**
 * Whether this host's KVM maps guests with the shadow MMU (no EPT/NPT: `tdp_mmu` reads N). Such a host
 * answers one rule of the TDP MMU the model follows differently: it does not log a guest read of a
 * host-writable page on a dirty-logged slot, where the TDP MMU maps the read writable and logs it
 * (docs/kvm-rules.md, x86.read-fault-writable).
 */
function shadowMmuHost(): boolean {
  try {
    return readFileSync('/sys/module/kvm/parameters/tdp_mmu', 'utf8').trim() === 'N';
  } catch {
    return false;
  }
}
const SHADOW_MMU = skip === undefined && shadowMmuHost();

/**
 * On a shadow-MMU host, a sequence whose only divergences are dirty-log counts where the model logged
 * more pages than the kernel, in a sequence with a guest read or fetch, is that rule's difference.
 */
function shadowMmuReadLogging(traceText: string, divergences: readonly Divergence[]): boolean {
  if (!SHADOW_MMU || !/^(read|exec),/m.test(traceText)) return false;
  return divergences.every((d) => d.op === 'dirty_get' && Number(d.got) > Number(d.expected));
}

const fixtureFiles = readdirSync(FIXTURES).filter((f) => f.endsWith('.csv')).sort();

test('every recorded fixture still records the same on this kernel', { skip }, async (t) => {
  const kernel = skip === undefined ? probeKvm().kernel : '';
  for (const file of fixtureFiles) {
    const text = readFileSync(join(FIXTURES, file), 'utf8');
    const fixture = await parseTraceText(text, file);
    const [recorded] = recordChunks([await parseTraceText(text, file)]);
    const cells = (chunks: typeof fixture.chunks): string[] => formatTraceText({ comments: [], fields: {} }, chunks).split('\n');
    const why = (fixture.meta.bodyComments ?? []).filter((c) => c.text.startsWith('# recorder:')).map((c) => c.text);
    const same = {
      rows: cells(recorded!.chunks),
      unrecorded: recorded!.unrecorded.map((u) => `# recorder: row above has no ret: ${u.why}`),
    };
    if (fixture.meta.fields['kernel'] !== kernel) {
      // Recorded on another kernel: a difference is news about that kernel, not a failure here.
      const differs = JSON.stringify(same) !== JSON.stringify({ rows: cells(fixture.chunks), unrecorded: why });
      t.diagnostic(`${file}: recorded on ${fixture.meta.fields['kernel']}, this is ${kernel}${differs ? ': answers differ' : ''}`);
      continue;
    }
    assert.deepEqual(same, { rows: cells(fixture.chunks), unrecorded: why }, `${file}: the kernel now answers differently`);
  }
});

for (const file of fixtureFiles) {
  // Every fixture is a regression test, except those marked "(format gap)" (the format has no name for
  // what happened, so they cannot agree by construction) or "(shadow MMU)".
  const text = readFileSync(join(FIXTURES, file), 'utf8');
  // "(shadow MMU)": recorded on a host whose KVM uses the shadow MMU, where a rule of the TDP MMU the
  // model follows answers otherwise (docs/kvm-rules.md, x86.read-fault-writable).
  const notComparable = /^# divergence \((format gap|shadow MMU)\)/m.exec(text)?.[1];
  test(
    `the model agrees with Linux on fixture ${file}`,
    notComparable !== undefined
      ? { skip: skip ?? `${notComparable}: not comparable on this host (see the fixture comment)` }
      : { skip },
    async () => {
      const loaded = await parseTraceText(readFileSync(join(FIXTURES, file), 'utf8'), file);
      const [recorded] = recordChunks([loaded]);
      assert.deepEqual(await modelDivergences(recorded!), []);
    },
  );
}

test(`${SEQUENCES} random sequences recorded on /dev/kvm replay on the model with 0 divergences`, { skip }, async (t) => {
  const result = await runDifferential(SEED, SEQUENCES, { maxFindings: 3, known: shadowMmuReadLogging });
  t.diagnostic(
    `${result.sequences} sequences, ${result.rows} rows recorded in ${Math.round(result.recordMs)} ms; ` +
      `${result.unrecorded} rows without a ret` +
      (result.known > 0 ? `; ${result.known} not compared: a shadow-MMU host does not log reads the TDP MMU logs (x86.read-fault-writable)` : ''),
  );
  assert.equal(result.failedSequences, 0);
  const dir = join(tmpdir(), 's2bench-recorded-divergences');
  const written: string[] = [];
  for (const f of result.findings) {
    mkdirSync(dir, { recursive: true });
    const path = join(dir, `seed${SEED}-seq${f.index}.csv`);
    writeFileSync(path, f.minimal);
    written.push(path);
    process.stderr.write(`divergence: sequence ${f.index}, minimal failing trace (${f.minimalRows} rows): ${path}\n`);
  }
  assert.deepEqual(
    result.findings.map((f) => ({ sequence: f.index, divergences: f.divergences })),
    [],
    `new divergences from the kernel; minimal traces written to ${written.join(', ')}`,
  );
});

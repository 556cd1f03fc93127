// The progress bar of `gen` and `import`: nothing on a pipe, nothing for work that ends within the
// delay, a bar with its label once the work has run longer on a terminal, cleared at the end.

import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { LateProgress } from '../../src/cli/progress.js';

/** A stream that says it is a terminal (or not), and what was written to it. */
function stream(isTTY: boolean): { out: PassThrough & { isTTY: boolean; columns: number }; text: () => string } {
  const out = Object.assign(new PassThrough(), { isTTY, columns: 100 });
  const parts: string[] = [];
  out.on('data', (b: Buffer) => parts.push(b.toString('utf8')));
  return { out, text: () => parts.join('') };
}

describe('LateProgress', () => {
  it('draws on a terminal only after the delay, with its label, and clears the line when stopped', async () => {
    let clock = 0;
    const tty = stream(true);
    const p = new LateProgress(1000, { label: 'gen demand-paging', stream: tty.out, delayMs: 2000, now: () => clock });
    clock = 1999;
    p.update(100);
    await new Promise((r) => setImmediate(r));
    assert.equal(tty.text(), '', 'nothing within the delay');
    clock = 2001;
    p.update(500);
    p.stop();
    await new Promise((r) => setImmediate(r));
    assert.match(tty.text(), /gen demand-paging \[[█░]+\] 50% \| /);
    assert.match(tty.text(), /\x1b\[2K$/, 'the bar is cleared at the end');
  });

  it('never draws on a pipe', async () => {
    let clock = 0;
    const pipe = stream(false);
    const p = new LateProgress(10, { label: 'import x', stream: pipe.out, delayMs: 10, now: () => clock });
    clock = 1e6;
    p.update(5);
    p.stop();
    await new Promise((r) => setImmediate(r));
    assert.equal(pipe.text(), '');
  });
});

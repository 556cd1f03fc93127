// Every single-byte corruption of an .s2t file is either caught as a TraceError naming the file, or
// lands in a byte the reader does not depend on and changes nothing: never a crash, never silent damage.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TraceError } from '../../src/errors.js';
import { formatTraceText, parseTraceText, readTrace, writeTrace } from '../../src/trace/io.js';
import { tempDir } from '../helpers/temp.js';

const TEXT =
  '# s2bench trace v1\n# arch: x86_64\nop,vcpu,gpa,size,slot,flags,hva,fd,offset,attrs,ret\n' +
  'memslot,,0x0,0x200000,0,gmem|log,0x7f0000000000,3,0,,0\n' +
  '# between\n' +
  'read,1,0x1000,0x2000,,private,,,,,memfault\n' +
  'expect,,,,,faults.fixed,,,,,0\n';

test('flipping any one byte of an .s2t gives a TraceError or the same trace', async () => {
  const dir = await tempDir('damage');
  const path = join(dir, 't.s2t');
  const trace = await parseTraceText(TEXT, 't.csv', 2);
  await writeTrace(path, trace.meta, trace.chunks);
  const bytes = await readFile(path);
  let caught = 0;
  let harmless = 0;
  for (let at = 0; at < bytes.length; at++) {
    const damaged = Buffer.from(bytes);
    damaged[at]! ^= 0x5a;
    await writeFile(path, damaged);
    try {
      const back = await readTrace(path);
      assert.equal(formatTraceText(back.meta, back.chunks), TEXT, `byte ${at} changed the trace silently`);
      harmless++;
    } catch (err) {
      assert.ok(err instanceof TraceError, `byte ${at}: ${String(err)}`);
      assert.equal(err.file, path);
      assert.equal(err.record, true);
      caught++;
    }
  }
  // Only the header's chunk count (4 bytes, informational) may change without notice.
  assert.equal(harmless, 4);
  assert.equal(caught, bytes.length - 4);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as s2bench from '../src/index.js';

test('the package entry point replays a trace built in code, as a library user would', async () => {
  const trace = await s2bench.parseTraceText(
    '# s2bench trace v1\nop,vcpu,gpa,size,slot,flags,hva,fd,offset,attrs,ret\n' +
      'backing,,,0x200000,,thp,0x7f0000000000,,,,\nmemslot,,0x0,0x200000,0,,0x7f0000000000,,,,0\nwrite,0,0x1000,,,,,,,,ok\n',
  );
  const result = s2bench.replayTrace(trace, s2bench.parseProfile('x86-tdp'));
  assert.equal(result.counters['leaves.2m'], 1);
  assert.deepEqual(result.divergences, []);
  assert.ok(s2bench.findGenerator('page-fault-test'));
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_PROFILE, KERNEL_VERSIONS, NEWEST_VERSION, kernelVersion, modeledVersionOf, parseProfile } from '../../src/core/profile.js';
import { ProfileError } from '../../src/errors.js';

test('a bare arch is the default profile', () => {
  assert.deepEqual(parseProfile('x86-tdp'), DEFAULT_PROFILE);
});

test('knobs override defaults and the canonical name lists only changed knobs', () => {
  const p = parseProfile('arm64-s2,split-chunk=2m,gmem-folio=4k');
  assert.equal(p.arch, 'arm64-s2');
  assert.equal(p.knobs['split-chunk'], '2m');
  assert.equal(p.name, 'arm64-s2,split-chunk=2m');
});

test("arm64 has its own eager split knob; x86's eager-split and the arm64 knobs do not cross", () => {
  assert.throws(() => parseProfile('arm64-s2,eager-split=off'), /knob 'eager-split' .* does not apply to arm64-s2 \(it applies to x86-tdp\)/);
  for (const knob of ['split-chunk=2m', 'dic=off', 'ipa=48']) {
    assert.throws(() => parseProfile(`x86-tdp,${knob}`), /does not apply to x86-tdp \(it applies to arm64-s2\)/);
  }
  const p = parseProfile('arm64-s2');
  assert.deepEqual([p.knobs['split-chunk'], p.knobs.dic, p.knobs.ipa], ['0', 'on', '40']);
  assert.equal(parseProfile('arm64-s2@6.6,ipa=48,dic=off').name, 'arm64-s2@6.6,dic=off,ipa=48');
});

test('unknown profile, knob or value is an error that lists the valid ones', () => {
  assert.throws(() => parseProfile('riscv'), (e: unknown) => e instanceof ProfileError && /x86-tdp, arm64-s2/.test(e.message));
  assert.throws(() => parseProfile('x86-tdp,bogus=1'), /valid knobs are gmem-folio=4k\|2m\|1g/);
  assert.throws(() => parseProfile('x86-tdp,gmem-folio=3m'), /valid values are 4k\|2m\|1g/);
});

test('NAME@VERSION names a modeled kernel; a bare name is the newest, and the canonical name says which', () => {
  const newest = parseProfile('x86-tdp');
  assert.equal(newest.version, NEWEST_VERSION);
  assert.deepEqual(parseProfile(`x86-tdp@${NEWEST_VERSION}`), newest);
  const lts = parseProfile('x86-tdp@6.12,eager-split=off');
  assert.equal(lts.version, '6.12');
  assert.equal(lts.versionCode, 6012);
  assert.equal(lts.name, 'x86-tdp@6.12,eager-split=off');
  assert.ok(kernelVersion('6.6') < kernelVersion('6.12') && kernelVersion('6.18') < kernelVersion('7.1'));
  assert.throws(() => parseProfile('x86-tdp@5.4'), (e: unknown) => e instanceof ProfileError && new RegExp(KERNEL_VERSIONS.join(', ')).test(e.message));
});

test('a profile is a frozen object', () => {
  const p = parseProfile('arm64-s2');
  assert.ok(Object.isFrozen(p) && Object.isFrozen(p.knobs));
});

test('x86 knobs: PML, VM type and the SLOT_ZAP_ALL quirk, each where the kernel has it', () => {
  const p = parseProfile('x86-tdp@6.18,pml=off,vm-type=sw-protected');
  assert.deepEqual([p.knobs.pml, p.knobs['vm-type'], p.knobs['slot-zap-all']], ['off', 'sw-protected', 'on']);
  assert.equal(p.name, 'x86-tdp@6.18,pml=off,vm-type=sw-protected');
  assert.throws(() => parseProfile('arm64-s2,pml=off'), /does not apply to arm64-s2/);
  assert.throws(() => parseProfile('x86-tdp@6.6,vm-type=sw-protected'), /does not exist in kernel 6.6: KVM_X86_SW_PROTECTED_VM exists since 6.8/);
  assert.equal(parseProfile('x86-tdp').knobs['gmem-folio'], '4k');
});

test('a host kernel release answers under the newest modeled version not newer than it', () => {
  assert.equal(modeledVersionOf('6.18.44-generic'), '6.18');
  assert.equal(modeledVersionOf('6.13.0'), '6.12');
  assert.equal(modeledVersionOf('6.19.2'), '6.18');
  assert.equal(modeledVersionOf('5.15.0-91-generic'), '6.6');
  assert.equal(modeledVersionOf('7.3.1'), '7.1');
  assert.equal(modeledVersionOf('unknown'), NEWEST_VERSION);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { memberKey, sameMemberName } from '../../src/cab/member-name';

/** Member names compared as the files Windows writes (review 9, R9-4). */

test('trailing dots and spaces go, from every segment; case and separators do not matter', () => {
  assert.equal(memberKey('update.mum'), 'update.mum');
  assert.equal(memberKey('UPDATE.MUM'), 'update.mum');
  assert.equal(memberKey('update.mum.'), 'update.mum');
  assert.equal(memberKey('update.mum '), 'update.mum');
  assert.equal(memberKey('update.mum. . '), 'update.mum');
  assert.equal(memberKey('x86_foo. \\Bar.manifest.'), 'x86_foo/bar.manifest');
  assert.ok(sameMemberName('Windows6.0-KB4493730-x64.cab.', 'windows6.0-kb4493730-x64.CAB'));
});

test('names that are not only trailing dots and spaces keep what they are', () => {
  assert.equal(memberKey('a.b'), 'a.b');
  assert.equal(memberKey(' lead'), ' lead');
  assert.equal(memberKey('..'), '..', 'path syntax is refused where members are written, not renamed here');
  assert.equal(memberKey('.'), '.');
  assert.ok(!sameMemberName('update.mum', 'update.mum2'));
});

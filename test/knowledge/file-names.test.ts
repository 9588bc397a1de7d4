/**
 * mediaFileNames / mediaFileNameList: a payload's name on media is its verified name, and names
 * that are the same but for case get "_" and as much of each SHA-256 as keeps them apart, however
 * the payloads are listed (the planner names by position, `catalog list` and stage by SHA-256).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mediaFileNameList, mediaFileNames } from '../../src/knowledge/file-names';
import type { Payload } from '../../src/package/types';

const family = { filePrefix: 'Windows6.0' };

function payload(kb: string, architecture: Payload['architecture'], sha256: string, more: Partial<Payload> = {}): Payload {
  return {
    kb, product: 'Windows Server 2008', ntVersion: '6.0', architecture, kind: 'hotfix', releaseType: 'Hotfix', restart: 'required', parents: [], identity: null,
    fileName: 'arrived-as.msu', format: 'msu', size: 1, sha256, signatures: 'dual', metadataVerified: true, ...more,
  };
}

const sha = (start: string): string => start.padEnd(64, '0');

/** both ways of asking, which must agree payload by payload */
function names(payloads: Payload[], familyOf: (p: Payload) => { filePrefix: string } | null = () => family): string[] {
  const list = mediaFileNameList(payloads, familyOf);
  const bySha256 = mediaFileNames(payloads, familyOf);
  assert.deepEqual(list, payloads.map((p) => bySha256.get(p.sha256)));
  return list;
}

test('the x86 and x64 files of a KB, and files of other KBs, keep their verified names', () => {
  assert.deepEqual(names([payload('KB4493730', 'x86', sha('a1')), payload('KB4493730', 'amd64', sha('a2')), payload('KB4474419', 'amd64', sha('a3'))]), [
    'Windows6.0-KB4493730-x86.msu', 'Windows6.0-KB4493730-x64.msu', 'Windows6.0-KB4474419-x64.msu',
  ]);
});

test('two files the metadata names alike get the start of their SHA-256, even when other payloads come between them', () => {
  assert.deepEqual(names([payload('KB4493730', 'amd64', sha('b1')), payload('KB4474419', 'amd64', sha('b2')), payload('KB4493730', 'amd64', sha('c3'))]), [
    'Windows6.0-KB4493730-x64_b1000000.msu', 'Windows6.0-KB4474419-x64.msu', 'Windows6.0-KB4493730-x64_c3000000.msu',
  ]);
});

test('as many hex digits as keep the files apart', () => {
  assert.deepEqual(names([payload('KB4493730', 'amd64', sha('0123456789')), payload('KB4493730', 'amd64', sha('0123456788'))]), [
    'Windows6.0-KB4493730-x64_0123456789000000.msu', 'Windows6.0-KB4493730-x64_0123456788000000.msu',
  ]);
});

test('names the same but for case clash, and the first listing spells them', () => {
  const lower = { filePrefix: 'windows6.0' };
  const a = payload('KB4493730', 'amd64', sha('d1'));
  const b = payload('KB4493730', 'amd64', sha('d2'), { ntVersion: '6.0b' });
  assert.deepEqual(names([a, b], (p) => (p === b ? lower : family)), ['Windows6.0-KB4493730-x64_d1000000.msu', 'Windows6.0-KB4493730-x64_d2000000.msu']);
});

test('a KB spelled otherwise than "KB" and digits still clashes with its usual spelling', () => {
  assert.deepEqual(names([payload('KB4493730', 'amd64', sha('e1')), payload('kb4493730', 'amd64', sha('e2'))]), [
    'Windows6.0-KB4493730-x64_e1000000.msu', 'Windows6.0-KB4493730-x64_e2000000.msu',
  ]);
});

test('a payload listed twice is one payload: one name, no hash', () => {
  const a = payload('KB4493730', 'amd64', sha('f1'));
  assert.deepEqual(names([a, payload('KB4493730', 'x86', sha('f2')), { ...a }]), [
    'Windows6.0-KB4493730-x64.msu', 'Windows6.0-KB4493730-x86.msu', 'Windows6.0-KB4493730-x64.msu',
  ]);
});

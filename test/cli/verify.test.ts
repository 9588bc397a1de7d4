/**
 * `cabferry verify` as a user runs it: exit codes (0 all valid, 1 any negative verdict, 2 usage,
 * 3 unreadable), one JSON document with --json, one line per error on stderr and no stack trace.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { corpusPath, fixturePath, runCli, tempDir } from '../common.helpers';

const MS_ROOTS = corpusPath('trust-anchors', 'microsoft-roots-bundle.pem');
const MSU = corpusPath('msu', 'Windows6.1-KB2999226-x64.msu');
const TEST_ROOT = fixturePath('pki', 'root.pem');
const emptyCatalog = path.join(tempDir('cabferry-verify-cli-'), 'no-catalog-here');

test('a valid MSU: exit 0, a verdict line and both signatures in text', () => {
  const r = runCli(['verify', MSU, '--trust', MS_ROOTS]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Windows6\.1-KB2999226-x64\.msu: VALID/);
  assert.match(r.stdout, /#0 primary sha1: valid/);
  assert.match(r.stdout, /#1 nested sha256: valid/);
  assert.match(r.stdout, /signer +Microsoft Corporation +\(issued by Microsoft Code Signing PCA 2010\)/);
  assert.match(r.stdout, /timestamp rfc3161 2015-07-21T17:39:21\.078Z by Microsoft Time-Stamp Service/);
  assert.equal(r.stderr, '');
});

test('--json prints one document with the fields issue #3 names', () => {
  const r = runCli(['verify', MSU, '--trust', MS_ROOTS, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { ok: boolean; files: Record<string, unknown>[] };
  assert.equal(doc.ok, true);
  const [file] = doc.files as { file: string; verdict: string; reason: string; signatures: Record<string, unknown>[] }[];
  assert.equal(file.file, MSU);
  assert.equal(file.verdict, 'valid');
  assert.equal(typeof file.reason, 'string');
  assert.equal(file.signatures.length, 2);
  for (const key of ['digestAlgorithm', 'signer', 'issuer', 'chain', 'timestamp', 'nested', 'valid', 'reason']) {
    assert.ok(key in file.signatures[0], key);
  }
  const ts = file.signatures[1].timestamp as { kind: string; time: string; authority: string };
  assert.deepEqual([ts.kind, ts.time, ts.authority], ['rfc3161', '2015-07-21T17:39:21.078Z', 'Microsoft Time-Stamp Service']);
  assert.deepEqual(file.signatures.map((s) => [s.digestAlgorithm, s.nested]), [['sha1', false], ['sha256', true]]);
});

test('any negative verdict exits 1; every file is still reported', () => {
  const r = runCli(['verify', fixturePath('signed', 'sha256-rsa.cab'), fixturePath('signed', 'unsigned.cab'), fixturePath('signed', 'tampered-data.cab'), '--trust', TEST_ROOT, '--json']);
  assert.equal(r.status, 1, r.stderr);
  const doc = JSON.parse(r.stdout) as { ok: boolean; files: { verdict: string; code: string | null }[] };
  assert.equal(doc.ok, false);
  assert.deepEqual(doc.files.map((f) => [f.verdict, f.code]), [['valid', null], ['unsigned', null], ['invalid', 'SIG_DIGEST_MISMATCH']]);
});

test('a wrong trust anchor: untrusted, exit 1', () => {
  const r = runCli(['verify', fixturePath('signed', 'sha256-rsa-no-timestamp.cab'), '--trust', fixturePath('pki', 'other-root.pem')]);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /UNTRUSTED .*\[CHAIN_UNTRUSTED\]/);
});

test('--require-sha2 fails a SHA-1-only file', () => {
  const file = corpusPath('ms-signed', 'kb958830-inner', 'WSUSSCAN.cab');
  assert.equal(runCli(['verify', file, '--trust', MS_ROOTS]).status, 0);
  const r = runCli(['verify', file, '--trust', MS_ROOTS, '--require-sha2']);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /INVALID .*\[SIG_SHA1_ONLY\]/);
});

test('a file that is not a cabinet: exit 3, one line on stderr naming it, the others still verified', () => {
  const notCab = path.join(tempDir('cabferry-verify-cli-'), 'notes.cab');
  fs.writeFileSync(notCab, 'this is not a cabinet\n');
  const r = runCli(['verify', notCab, MSU, '--trust', MS_ROOTS]);
  assert.equal(r.status, 3);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1);
  assert.match(lines[0], /notes\.cab.*\[CAB_BAD_SIGNATURE\]/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  assert.match(r.stdout, /KB2999226-x64\.msu: VALID/);
  const json = runCli(['verify', notCab, '--trust', MS_ROOTS, '--json']);
  assert.equal(json.status, 3);
  assert.equal(json.stderr, '', '--json reports the error in the document');
  assert.equal((JSON.parse(json.stdout) as { files: { verdict: string }[] }).files[0].verdict, 'unreadable');
});

test('--deep verifies the inner cabinets of an .msu, per member', () => {
  const r = runCli(['verify', MSU, '--trust', MS_ROOTS, '--deep', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const [file] = (JSON.parse(r.stdout) as { files: { verdict: string; members: { member: string; verdict: string; signatures: unknown[] }[] }[] }).files;
  assert.deepEqual(file.members.map((m) => [m.member, m.verdict, m.signatures.length]).sort(), [
    ['WSUSSCAN.cab', 'valid', 2],
    ['Windows6.1-KB2999226-x64.cab', 'valid', 2],
  ]);
});

test('--deep opens MSUs only: WSUSSCAN.cab holds an unsigned package.cab by design', () => {
  const wsusscan = corpusPath('ms-signed', 'kb2999226-inner', 'Windows6.1-KB2999226-x64', 'WSUSSCAN.cab');
  const r = runCli(['verify', wsusscan, '--trust', MS_ROOTS, '--deep', '--json']);
  assert.equal(r.status, 0, r.stdout);
  const [file] = (JSON.parse(r.stdout) as { files: { verdict: string; members?: unknown[] }[] }).files;
  assert.equal(file.verdict, 'valid');
  assert.equal(file.members, undefined);
});

test('--deep: an inner cabinet failing --require-sha2 fails the file', () => {
  const r = runCli(['verify', fixturePath('payloads', 'Windows6.0-KB948465-x86.msu'), '--trust', TEST_ROOT, '--deep', '--require-sha2', '--json']);
  assert.equal(r.status, 1);
  const [file] = (JSON.parse(r.stdout) as { files: { verdict: string; members: { verdict: string }[] }[] }).files;
  assert.equal(file.verdict, 'invalid');
  assert.ok(file.members.every((m) => m.verdict === 'invalid'));
});

test('usage errors exit 2: no trust anchors anywhere, a bad --at', () => {
  const none = runCli(['verify', MSU], { env: { CABFERRY_CATALOG: emptyCatalog } });
  assert.equal(none.status, 2);
  assert.match(none.stderr, /\[NO_TRUST_ANCHORS\]/);
  const badAt = runCli(['verify', MSU, '--trust', MS_ROOTS, '--at', 'yesterday-ish']);
  assert.equal(badAt.status, 2);
  assert.match(badAt.stderr, /\[BAD_DATE\]/);
});

test('an unreadable --trust path exits 3', () => {
  const r = runCli(['verify', MSU, '--trust', path.join(emptyCatalog, 'missing.pem')]);
  assert.equal(r.status, 3);
  assert.match(r.stderr, /missing\.pem.*\[TRUST_UNREADABLE\]/);
});

/**
 * `cabferry inspect` as a user runs it: the JSON contract (one document on stdout, nothing else),
 * the text block, --members, and the exit codes (0 verified, 1 signature or metadata not
 * verified, 2 usage, 3 not a readable payload) with one-line errors naming the file.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { assertErrorDocument, corpusPath, fixturePath, runCli, tempDir } from '../common.helpers';

const microsoftRoots = corpusPath('trust-anchors', 'microsoft-roots-bundle.pem');
const vistaCab = corpusPath('ms-signed', 'kb2999226-inner', 'Windows6.0-KB2999226-x64', 'Windows6.0-KB2999226-x64.cab');
const win7Msu = corpusPath('msu', 'Windows6.1-KB3118401-x64.msu');
const ssuFixture = fixturePath('payloads', 'Windows6.0-KB4493730-x64.msu');
const sha2Fixture = fixturePath('payloads', 'Windows6.0-KB4520002-x86.msu');

test('inspect --json on real payloads: one JSON document, exit 0, the model and the evidence', () => {
  const r = runCli(['inspect', '--json', '--trust', microsoftRoots, vistaCab, win7Msu]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  const doc = JSON.parse(r.stdout) as { payloads: Record<string, any>[]; errors: unknown[] };
  assert.deepEqual(doc.errors, []);
  assert.equal(doc.payloads.length, 2);
  const [vista, win7] = doc.payloads;
  assert.equal(vista.kb, 'KB2999226');
  assert.equal(vista.product, 'Windows Server 2008');
  assert.equal(vista.ntVersion, '6.0');
  assert.equal(vista.architecture, 'amd64');
  assert.equal(vista.format, 'cab');
  assert.deepEqual(vista.parents.map((p: any) => p.kb), ['KB948465']);
  assert.equal(vista.signatures, 'dual');
  assert.equal(vista.metadataVerified, true);
  assert.equal(vista.verification.verdict, 'valid');
  assert.equal(vista.verification.metadata.catalogs.length, 20);
  assert.equal(vista.members, undefined, 'members only with --members');
  assert.equal(win7.format, 'msu');
  assert.equal(win7.payloadCab, 'Windows6.1-KB3118401-x64.cab');
  assert.equal(win7.verification.payloadCab.verdict, 'valid');
  assert.equal(win7.pkgProperties.entries['KB Article Number'], '3118401');
});

test('inspect text: a readable block per file; --members lists outer and payload-cab members', () => {
  const r = runCli(['inspect', '--members', '--trust', fixturePath('pki', 'root.pem'), ssuFixture]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^.*Windows6\.0-KB4493730-x64\.msu\n/);
  assert.match(r.stdout, /  KB +KB4493730/);
  assert.match(r.stdout, /  kind +servicing-stack/);
  assert.match(r.stdout, /  parents +package_for_KB948465 6\.0\.1\.18005 \(requires KB948465\)/);
  assert.match(r.stdout, /  signatures +dual: valid/);
  assert.match(r.stdout, /  metadata +verified: /);
  assert.match(r.stdout, /Windows6\.0-KB4493730-x64\.msu: WSUSSCAN\.cab\n/);
  assert.match(r.stdout, /Windows6\.0-KB4493730-x64\.cab: update\.mum\n/);
});

test('the SHA-2-only fixture says sha2-only (from its verified signature)', () => {
  const r = runCli(['inspect', '--json', '--trust', fixturePath('pki', 'root.pem'), sha2Fixture]);
  assert.equal(r.status, 0, r.stderr);
  const p = JSON.parse(r.stdout).payloads[0];
  assert.equal(p.kb, 'KB4520002');
  assert.equal(p.kind, 'monthly-rollup');
  assert.equal(p.signatures, 'sha2-only');
  assert.equal(p.architecture, 'x86');
});

test('exit 1: metadata not verified (signed cab, altered update.mum); wrong trust anchor', () => {
  const altered = runCli(['inspect', '--trust', fixturePath('pki', 'root.pem'), fixturePath('signed', 'payload-mum-altered.cab')]);
  assert.equal(altered.status, 1);
  assert.match(altered.stdout, /metadata +NOT VERIFIED: update\.mum .*update\.cat/);
  const wrongAnchor = runCli(['inspect', '--json', '--trust', fixturePath('pki', 'other-root.pem'), ssuFixture]);
  assert.equal(wrongAnchor.status, 1);
  const p = JSON.parse(wrongAnchor.stdout).payloads[0];
  assert.equal(p.signatures, 'invalid');
  assert.equal(p.metadataVerified, false);
  assert.equal(p.kb, 'KB4493730', 'what the payload claims is still shown');
});

test('exit 3: not a payload, not a cabinet, missing file — one line each naming the file; good files still reported', () => {
  const dir = tempDir('cabferry-inspect-cli-');
  const notCab = path.join(dir, 'notes.txt');
  fs.writeFileSync(notCab, 'hello');
  const wsusscan = corpusPath('ms-signed', 'kb958830-inner', 'WSUSSCAN.cab');
  const r = runCli(['inspect', '--json', '--trust', microsoftRoots, notCab, wsusscan, path.join(dir, 'missing.msu'), vistaCab]);
  assert.equal(r.status, 3);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 3, r.stderr);
  assert.match(lines[0], /notes\.txt: .*\[CAB_/);
  assert.match(lines[1], /WSUSSCAN\.cab: not an update payload.*\[PKG_NOT_A_PAYLOAD\]/);
  assert.match(lines[2], /missing\.msu: .*\[FILE_UNREADABLE\]/);
  assert.ok(!r.stderr.includes('    at '), 'no stack trace');
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.payloads.length, 1);
  assert.deepEqual(doc.errors.map((e: { code: string }) => e.code.replace(/^CAB_.*/, 'CAB_*')), ['CAB_*', 'PKG_NOT_A_PAYLOAD', 'FILE_UNREADABLE']);
});

test('exit 3: a payload cab whose update.mum is hostile XML', () => {
  const dir = tempDir('cabferry-inspect-hostile-');
  // a minimal cab: a billion-laughs update.mum next to a (bogus) update.cat
  const { buildCab, noneFolderEncoder } = require('../../scripts/lib/cab-writer') as typeof import('../../scripts/lib/cab-writer');
  const lol = '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><assembly>&b;</assembly>';
  const file = path.join(dir, 'Windows6.0-KB1234567-x86.cab');
  fs.writeFileSync(file, buildCab([{ encoder: noneFolderEncoder(), files: [{ name: 'update.mum', data: Buffer.from(lol) }, { name: 'update.cat', data: Buffer.from([0x30, 0x00]) }] }]));
  const r = runCli(['inspect', '--trust', microsoftRoots, file]);
  assert.equal(r.status, 3);
  assert.match(r.stderr, /Windows6\.0-KB1234567-x86\.cab: member "update\.mum": .*DTD.*\[XML_DTD_FORBIDDEN\]/);
});

test('exit 2: no trust anchors and no catalog; a bad --at date', () => {
  const empty = tempDir('cabferry-inspect-nocatalog-');
  const r = runCli(['inspect', vistaCab], { env: { CABFERRY_CATALOG: path.join(empty, 'none'), XDG_DATA_HOME: empty } });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /no trust anchors.*--trust/);
  const bad = runCli(['inspect', '--trust', microsoftRoots, '--at', 'yesterday-ish', vistaCab]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /\[BAD_DATE\]/);
});

test('a broken --knowledge-base is an error with its code (exit 3), never silently ignored', () => {
  const broken = tempDir();
  fs.writeFileSync(path.join(broken, 'nt6.0.json'), '{"schema": 2, "family": "nt6.0"}');
  const r = runCli(['inspect', '--json', '--trust', fixturePath('pki', 'root.pem'), '--knowledge-base', broken, ssuFixture]);
  assert.equal(r.status, 3);
  // under --json the one document on stdout is the error itself
  assertErrorDocument(r.stdout, 'KB_BAD_FACT');
  assert.match(r.stderr, /nt6\.0\.json: .*\[KB_BAD_FACT\]/);
  const empty = runCli(['inspect', '--trust', fixturePath('pki', 'root.pem'), '--knowledge-base', tempDir(), ssuFixture]);
  assert.equal(empty.status, 3);
  assert.match(empty.stderr, /\[KB_EMPTY\]/);
});

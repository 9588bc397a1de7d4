/**
 * inspectPayload's own decisions, beyond the parsers: MSU layout (which cab installs), the
 * file-name cross-checks, the importer's variant, the signature summary, refusing ambiguity.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { loadTrustAnchors, type FileVerdict } from '../../src/authenticode';
import { CabferryError } from '../../src/errors';
import { inspectPayload, inspectPayloadReport, inspectPayloadWithFacts, summarizeSignatures } from '../../src/package/inspect';
import { fixturePath, tempDir } from '../common.helpers';
import { readAllMembers, withMember, writeCab } from './package.helpers';
import { loadKnowledgeBase } from '../../src/knowledge/knowledge-base';

// loaded once here and passed in: inspect keeps no knowledge base of its own
const knowledgeBase = loadKnowledgeBase();

const trust = loadTrustAnchors([fixturePath('pki', 'root.pem')]);
const ssu = fixturePath('payloads', 'Windows6.0-KB4493730-x64.msu');
const dir = tempDir('cabferry-inspect-');

const inputError = (code: string) => (e: unknown) => e instanceof CabferryError && e.kind === 'input' && e.code === code;

test('inspect uses the knowledge base its caller passes, and none when the caller passes null', () => {
  const sha2 = fixturePath('payloads', 'Windows6.0-KB4474419-v4-x64.msu');
  const known = inspectPayload(sha2, { knowledgeBase, trust });
  assert.equal(known.kind, 'sha2-support');
  assert.equal(known.kindBasis, 'knowledge base role for KB4474419');
  const alone = inspectPayload(sha2, { knowledgeBase: null, trust });
  assert.notEqual(alone.kind, 'sha2-support', 'without a knowledge base the metadata alone decides');
  assert.doesNotMatch(alone.kindBasis ?? '', /knowledge base/);
});

test('a renamed payload: the signed metadata decides, the disagreement is noted', () => {
  const renamed = path.join(dir, 'Windows6.1-KB4493999-x86.msu');
  fs.copyFileSync(ssu, renamed);
  const p = inspectPayload(renamed, { knowledgeBase, trust });
  assert.equal(p.kb, 'KB4493730');
  assert.equal(p.architecture, 'amd64');
  assert.equal(p.ntVersion, '6.0');
  assert.deepEqual(p.notes, [
    'KB is KB4493730 per the signed update.mum, but the file name says KB4493999',
    'architecture is amd64 per the signed update.mum, but the file name says x86',
    'Windows version is 6.0 per the signed update.mum, but the file name says 6.1',
  ]);
});

test("the importer's variant: verdict and SHA-256 passed in, the payload named by its original file name", () => {
  const temp = path.join(dir, 'blob-1234.tmp');
  fs.copyFileSync(ssu, temp);
  const full = inspectPayloadReport(ssu, { knowledgeBase, trust });
  const p = inspectPayloadWithFacts(temp, { knowledgeBase, trust, verdict: full.verdict, sha256: full.payload.sha256, fileName: path.basename(ssu) });
  assert.equal(p.fileName, 'Windows6.0-KB4493730-x64.msu');
  assert.equal(p.signatures, 'dual');
  assert.equal(p.sha256, full.payload.sha256);
  assert.equal(p.notes, undefined);
  // the passed-in verdict is what counts: an unsigned verdict makes it unsigned
  const unsigned: FileVerdict = { ...full.verdict, verdict: 'unsigned', signatures: [] };
  assert.equal(inspectPayloadWithFacts(temp, { knowledgeBase, trust, verdict: unsigned, sha256: 'x', fileName: 'a.msu' }).signatures, 'unsigned');
});

test('MSU layout: the unattend file names a cab the MSU lacks → MSU_SOURCE_MISSING', () => {
  const members = readAllMembers(ssu);
  const inner = members.find((m) => m.name === 'Windows6.0-KB4493730-x64.cab')!;
  const renamedInner = [...withMember(members, inner.name, null), { ...inner, name: 'other.cab' }];
  const file = writeCab(dir, 'Windows6.0-KB4493730-x64.msu', renamedInner);
  assert.throws(() => inspectPayload(file, { knowledgeBase, trust }), inputError('MSU_SOURCE_MISSING'));
});

test('MSU layout: two payload cabs and no unattend → MSU_AMBIGUOUS_LAYOUT; none of the MSU parts → PKG_NOT_A_PAYLOAD', () => {
  const members = readAllMembers(ssu);
  const inner = members.find((m) => m.name === 'Windows6.0-KB4493730-x64.cab')!;
  const noUnattend = withMember(members, 'Windows6.0-KB4493730-x64.xml', null);
  const two = [...withMember(noUnattend, inner.name, null), { ...inner, name: 'a.cab' }, { ...inner, name: 'b.cab' }];
  assert.throws(() => inspectPayload(writeCab(dir, 'two.msu', two), { knowledgeBase, trust }), inputError('MSU_AMBIGUOUS_LAYOUT'));
  // without unattend, the cab named like the pkgProperties.txt wins, whatever the file is called
  for (const name of ['Windows6.0-KB4493730-x64.msu', 'decoy.msu']) {
    const p = inspectPayload(writeCab(dir, name, [...noUnattend, { ...inner, name: 'decoy.cab' }]), { knowledgeBase, trust });
    assert.equal(p.payloadCab, 'Windows6.0-KB4493730-x64.cab', name);
  }
  // two payload cabs, no unattend, no pkgProperties.txt naming either: the file's name does not decide
  const noProps = withMember(noUnattend, 'Windows6.0-KB4493730-x64-pkgProperties.txt', null);
  assert.throws(
    () => inspectPayload(writeCab(dir, 'Windows6.0-KB4493730-x64.msu', [...noProps, { ...inner, name: 'Windows6.0-KB4474419-v4-x64.cab' }]), { knowledgeBase, trust }),
    (e: unknown) => inputError('MSU_AMBIGUOUS_LAYOUT')(e) && /nothing signed says which one installs/.test((e as Error).message),
  );
  assert.throws(() => inspectPayload(writeCab(dir, 'bare.cab', [{ name: 'readme.txt', data: Buffer.from('hi') }]), { knowledgeBase, trust }), inputError('PKG_NOT_A_PAYLOAD'));
});

test('a payload cab with update.mum twice is refused, whichever one the catalog lists', () => {
  const inner = readAllMembers(ssu).find((m) => m.name === 'Windows6.0-KB4493730-x64.cab')!;
  const innerFile = path.join(dir, 'payload.cab');
  fs.writeFileSync(innerFile, inner.data);
  const pkg = readAllMembers(innerFile);
  const doubled = writeCab(dir, 'Windows6.0-KB4493730-x64.cab', [...pkg, { name: 'UPDATE.MUM', data: Buffer.from('<assembly/>') }]);
  assert.throws(() => inspectPayload(doubled, { knowledgeBase, trust }), inputError('PKG_DUPLICATE_MEMBER'));
});

test('signature summary: from the valid signatures only', () => {
  const sig = (digestAlgorithm: string, valid: boolean) => ({ digestAlgorithm, valid }) as FileVerdict['signatures'][number];
  const v = (verdict: FileVerdict['verdict'], signatures: FileVerdict['signatures']): FileVerdict => ({ file: 'f', verdict, code: null, reason: '', sha256: null, signatures });
  assert.equal(summarizeSignatures(v('valid', [sig('sha1', true), sig('sha256', true)])), 'dual');
  assert.equal(summarizeSignatures(v('valid', [sig('sha256', true)])), 'sha2-only');
  assert.equal(summarizeSignatures(v('valid', [sig('sha1', true)])), 'sha1-only');
  assert.equal(summarizeSignatures(v('valid', [sig('sha384', true)])), 'sha2-only');
  assert.equal(summarizeSignatures(v('unsigned', [])), 'unsigned');
  assert.equal(summarizeSignatures(v('invalid', [sig('sha1', true), sig('sha256', false)])), 'invalid', 'a broken nested SHA-256 signature is not excused');
  assert.equal(summarizeSignatures(v('untrusted', [sig('sha256', false)])), 'invalid');
});

test('a broken pkgProperties.txt or unattend .xml inside an MSU: one input error naming the MSU and the member', () => {
  const members = readAllMembers(ssu);
  const badProps = writeCab(dir, 'Windows6.0-KB4493730-x64.msu', withMember(members, 'Windows6.0-KB4493730-x64-pkgProperties.txt', Buffer.from('KB Article Number="4493730"\r\nnonsense\r\n')));
  assert.throws(() => inspectPayload(badProps, { knowledgeBase, trust }), (e: unknown) => inputError('PKGPROPS_BAD_LINE')(e) && (e as CabferryError).file === badProps && (e as CabferryError).member === 'Windows6.0-KB4493730-x64-pkgProperties.txt');
  const badXml = writeCab(dir, 'Windows6.0-KB4493730-x64.msu', withMember(members, 'Windows6.0-KB4493730-x64.xml', Buffer.from('<unattend><servicing>')));
  assert.throws(() => inspectPayload(badXml, { knowledgeBase, trust }), (e: unknown) => inputError('XML_MALFORMED')(e) && (e as CabferryError).member === 'Windows6.0-KB4493730-x64.xml');
  const huge = writeCab(dir, 'Windows6.0-KB4493730-x64.msu', withMember(members, 'Windows6.0-KB4493730-x64-pkgProperties.txt', Buffer.alloc(300 * 1024, 0x41)));
  assert.throws(() => inspectPayload(huge, { knowledgeBase, trust }), inputError('MSU_MEMBER_TOO_LARGE'));
});

test("an MSU whose payload cab's own signature is broken: noted, and the report carries the verdict", () => {
  const members = readAllMembers(ssu);
  const inner = members.find((m) => m.name === 'Windows6.0-KB4493730-x64.cab')!;
  const tampered = Buffer.from(inner.data);
  tampered[0x20] ^= 0x01; // CFHEADER.setID: hashed by Authenticode, irrelevant to reading the cab
  const file = writeCab(dir, 'Windows6.0-KB4493730-x64.msu', withMember(members, inner.name, tampered));
  const r = inspectPayloadReport(file, { knowledgeBase, trust });
  assert.equal(r.payloadCabVerdict?.verdict, 'invalid');
  assert.equal(r.payload.metadataVerified, true, 'the catalogs still prove the metadata');
  assert.ok(r.payload.notes?.some((n) => n.startsWith("the payload cab Windows6.0-KB4493730-x64.cab's own signature is invalid")), JSON.stringify(r.payload.notes));
});

test('the payload cab of an .msu is unpacked under options.tempDir and removed afterwards', () => {
  const scratch = path.join(dir, 'scratch');
  fs.mkdirSync(scratch);
  assert.equal(inspectPayload(ssu, { knowledgeBase, trust, tempDir: scratch }).kb, 'KB4493730');
  assert.deepEqual(fs.readdirSync(scratch), [], 'nothing left behind');
  assert.throws(
    () => inspectPayload(ssu, { knowledgeBase, trust, tempDir: path.join(dir, 'does-not-exist') }),
    (e: unknown) => e instanceof CabferryError && e.kind === 'internal' && e.code === 'TEMP_UNWRITABLE',
  );
});

/**
 * "Metadata verified" on real Microsoft payload cabs, and what breaks it. Each negative case
 * re-packs the real members into a new cab (scripts/lib/cab-writer.ts) with exactly one change,
 * so the only difference from a verified cab is the change under test. A re-packed cab has no
 * Authenticode signature; that is the point — metadata verification must stand on the signed
 * catalogs alone, since an attacker can always re-sign a cab with some other certificate.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openCab } from '../../src/cab/cabinet';
import { inspectPayloadReport } from '../../src/package/inspect';
import { readMetadataMembers, verifyPackageMetadata, type MetadataVerification } from '../../src/package/verify-metadata';
import { tempDir } from '../common.helpers';
import { flipByte, kb2999226Inner, microsoftTrust, readAllMembers, unrelatedTrust, withMember, writeCab } from './package.helpers';
import type { CabWriterFile } from '../../scripts/lib/cab-writer';
import { loadKnowledgeBase } from '../../src/knowledge/knowledge-base';

const knowledgeBase = loadKnowledgeBase();

const dir = tempDir('cabferry-metadata-');
const vista64 = readAllMembers(kb2999226Inner('Windows6.0-KB2999226-x64'));
const win7x86 = readAllMembers(kb2999226Inner('Windows6.1-KB2999226-x86'));
let counter = 0;

function verifyRepacked(files: CabWriterFile[], trust = microsoftTrust()): MetadataVerification {
  const file = writeCab(dir, `repacked-${counter++}.cab`, files);
  const cab = openCab(file);
  try {
    return verifyPackageMetadata(readMetadataMembers(cab), cab.members, { trust });
  } finally {
    cab.close();
  }
}

const member = (files: CabWriterFile[], name: string): Buffer => {
  const f = files.find((x) => x.name === name);
  assert.ok(f, name);
  return f.data;
};

test('re-packed unchanged, the real metadata still verifies (the check does not lean on the cab signature)', () => {
  const r = verifyRepacked(vista64);
  assert.equal(r.verified, true, r.reason ?? '');
  assert.equal(r.catalogs.length, 20);
  assert.equal(r.membersVerified, 30);
  for (const c of r.catalogs) {
    assert.equal(c.valid, true);
    assert.equal(c.signer, 'Microsoft Windows');
    assert.deepEqual(c.digestAlgorithms, ['sha1']);
  }
});

test('one byte of update.mum changed → not verified, the reason names update.mum and update.cat', () => {
  const mum = member(vista64, 'update.mum');
  // the byte inside "KB948465" of the parent name: the edit an attacker wants (drop a prerequisite)
  const offset = mum.indexOf('KB948465');
  assert.ok(offset > 0);
  const r = verifyRepacked(withMember(vista64, 'update.mum', flipByte(mum, offset + 7)));
  assert.equal(r.verified, false);
  // the signed catalog catches it; the (unsigned) container index disagrees too
  assert.deepEqual(r.problems.map((p) => [p.code, p.member]), [['META_HASH_MISMATCH', 'update.mum'], ['META_CIX_HASH_MISMATCH', 'update.mum']]);
  assert.match(r.reason ?? '', /update\.mum .*not listed in its signed catalog update\.cat/);
});

test('a whitespace-only change to update.mum is still caught (hashes, not XML equivalence)', () => {
  const mum = member(win7x86, 'update.mum');
  const r = verifyRepacked(withMember(win7x86, 'update.mum', Buffer.concat([mum, Buffer.from('\r\n')])));
  assert.equal(r.verified, false);
  assert.equal(r.problems[0].code, 'META_HASH_MISMATCH');
});

test('a component manifest changed → not verified, naming the manifest', () => {
  const name = vista64.find((f) => f.name.endsWith('.manifest'))!.name;
  const r = verifyRepacked(withMember(vista64, name, flipByte(member(vista64, name), 100)));
  assert.equal(r.verified, false);
  assert.deepEqual(r.problems.map((p) => p.code), ['META_NOT_IN_CATALOG', 'META_CIX_HASH_MISMATCH']);
  assert.equal(r.problems[0].member, name.toLowerCase());
});

test('update.cat removed → not verified (update.mum has nothing to prove it)', () => {
  const r = verifyRepacked(withMember(win7x86, 'update.cat', null));
  assert.equal(r.verified, false);
  assert.ok(r.problems.some((p) => p.code === 'META_CATALOG_MISSING'));
});

test('update.cat swapped for another package catalog (validly signed, wrong content) → update.mum not listed', () => {
  const other = member(win7x86, 'update-bf.cat');
  const r = verifyRepacked(withMember(win7x86, 'update.cat', other));
  assert.equal(r.verified, false);
  assert.ok(r.problems.some((p) => p.code === 'META_HASH_MISMATCH' && p.member === 'update.mum'));
});

test('one byte of the catalog signature changed → the catalog is invalid', () => {
  const cat = member(win7x86, 'update.cat');
  const r = verifyRepacked(withMember(win7x86, 'update.cat', flipByte(cat, cat.length - 300)));
  assert.equal(r.verified, false);
  const check = r.catalogs.find((c) => c.member === 'update.cat');
  assert.equal(check?.valid, false);
  assert.ok(r.problems.some((p) => p.member === 'update.cat' && p.code.startsWith('META_CATALOG_')));
});

test('one byte of the catalog content (a listed hash) changed → the catalog signature fails', () => {
  const cat = member(vista64, 'update.cat');
  // the SHA-1 of update.mum as UTF-16 hex in the subject identifier, from the real file
  const tag = Buffer.from('0C82FB9FEF5BFA6A5DF5464A3C7C89684C634112', 'utf16le');
  const at = cat.indexOf(tag);
  assert.ok(at > 0);
  const r = verifyRepacked(withMember(vista64, 'update.cat', flipByte(cat, at)));
  assert.equal(r.verified, false);
  assert.equal(r.catalogs.find((c) => c.member === 'update.cat')?.valid, false);
});

test('catalogs verified against the wrong trust anchor → not verified (untrusted)', () => {
  const r = verifyRepacked(win7x86, unrelatedTrust());
  assert.equal(r.verified, false);
  assert.ok(r.catalogs.every((c) => !c.valid));
  assert.equal(r.problems[0].code, 'META_CATALOG_UNTRUSTED');
});

test('_manifest_.cix.xml naming a member the cab lacks → not verified', () => {
  // member "8" holds ucrtbase.dll as a PA30 delta (<Source type="PA30" name="8">)
  const r = verifyRepacked(withMember(vista64, '8', null));
  assert.equal(r.verified, false);
  assert.ok(r.problems.some((p) => p.code === 'META_CIX_MISSING_MEMBER'));
});

test('inspect of a re-packed payload with a changed update.mum: metadataVerified false with a reason; unsigned', () => {
  const mum = member(win7x86, 'update.mum');
  const file = writeCab(dir, 'Windows6.1-KB2999226-x86.cab', withMember(win7x86, 'update.mum', flipByte(mum, mum.indexOf('restart="possible"') + 10)));
  const r = inspectPayloadReport(file, { knowledgeBase, trust: microsoftTrust() });
  assert.equal(r.payload.metadataVerified, false);
  assert.match(r.payload.metadataReason ?? '', /update\.mum/);
  assert.equal(r.payload.signatures, 'unsigned');
  assert.equal(r.payload.kb, 'KB2999226', 'the model is still filled in, so the operator sees what was claimed');
});

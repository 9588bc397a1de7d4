/**
 * Negative tests made from real Microsoft files: copy, change one byte in one region, verify.
 * Each region must be rejected by the step that guards it (its code), the unhashed parts of
 * the header must hold what a signer writes, and trust must be what the operator says it is.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { readCabHeader } from '../../src/cab/header';
import { locateSignature, verifyCab, type FileVerdict } from '../../src/authenticode/cab';
import { Oid } from '../../src/authenticode/oids';
import { parseSignedData, parseSignerInfo } from '../../src/authenticode/signed-data';
import { collectSignatures } from '../../src/authenticode/signature';
import { loadTrustAnchors } from '../../src/authenticode/trust';
import { RandomAccessFile } from '../../src/io/random-access-file';
import { corpusPath, tempDir } from '../common.helpers';

/** Dual-signed: SHA-1 primary with a legacy countersignature, nested SHA-256 with an RFC 3161 token. */
const DUAL = corpusPath('ms-signed', 'kb2999226-inner', 'Windows6.1-KB2999226-x64', 'WSUSSCAN.cab');
const SHA1_ONLY = corpusPath('ms-signed', 'kb958830-inner', 'WSUSSCAN.cab');
const microsoft = loadTrustAnchors([corpusPath('trust-anchors', 'microsoft-roots-bundle.pem')]);
const dir = tempDir('cabferry-tamper-');

interface Layout {
  size: number;
  sigPos: number;
  coffFiles: number;
  blob: Buffer;
}

function layoutOf(file: string): Layout {
  const f = RandomAccessFile.open(file);
  try {
    const header = readCabHeader(f);
    const blob = locateSignature(f, header);
    assert.ok(blob !== null);
    return { size: f.size, sigPos: header.authenticode!.sigPos, coffFiles: header.coffFiles, blob };
  } finally {
    f.close();
  }
}

let copies = 0;
/** A copy of `file` with the byte at `offset` XORed (0x01 by default). */
function flipped(file: string, offset: number, mask = 0x01): string {
  const bytes = fs.readFileSync(file);
  assert.ok(offset >= 0 && offset < bytes.length, `offset ${offset} inside the file`);
  bytes[offset] ^= mask;
  const out = path.join(dir, `${copies++}-${path.basename(file)}`);
  fs.writeFileSync(out, bytes);
  return out;
}

/** Offset in the file of `needle`, which must occur exactly once in the signature blob. */
function inBlob(layout: Layout, needle: Buffer, what: string): number {
  const at = layout.blob.indexOf(needle);
  assert.ok(at >= 0, `${what} found in the signature`);
  assert.equal(layout.blob.indexOf(needle, at + 1), -1, `${what} is unique in the signature`);
  return layout.sigPos + at;
}

function assertRejected(v: FileVerdict, code: string, verdict: FileVerdict['verdict'] = 'invalid'): void {
  assert.equal(v.verdict, verdict, v.reason);
  assert.equal(v.code, code, v.reason);
}

const layout = layoutOf(DUAL);
const slots = collectSignatures(layout.blob);
const primary = slots[0].signedData!;
const nested = slots[1].signedData!;
const primarySigner = primary.signerInfos[0];
const nestedSigner = nested.signerInfos[0];

test('the untouched file is valid with two signatures', () => {
  const v = verifyCab(DUAL, { trust: microsoft });
  assert.equal(v.verdict, 'valid', v.reason);
  assert.deepEqual(v.signatures.map((s) => [s.digestAlgorithm, s.nested, s.timestamp?.kind]), [
    ['sha1', false, 'authenticode'],
    ['sha256', true, 'rfc3161'],
  ]);
});

test('a hashed header field (setID) changes the file digest', () => {
  assertRejected(verifyCab(flipped(DUAL, 32), { trust: microsoft }), 'SIG_DIGEST_MISMATCH');
});

test('a CFFILE entry (first name byte) changes the file digest', () => {
  assertRejected(verifyCab(flipped(DUAL, layout.coffFiles + 16), { trust: microsoft }), 'SIG_DIGEST_MISMATCH');
});

test('a CFDATA byte changes the file digest', () => {
  const v = verifyCab(flipped(DUAL, Math.floor((layout.coffFiles + layout.sigPos) / 2)), { trust: microsoft });
  assertRejected(v, 'SIG_DIGEST_MISMATCH');
  // both signatures cover the same bytes, so both fail on their own digest
  assert.deepEqual(v.signatures.map((s) => s.code), ['SIG_DIGEST_MISMATCH', 'SIG_DIGEST_MISMATCH']);
});

test('an authenticated attribute (program name) breaks the signer signature', () => {
  const attrs = primarySigner.authenticatedAttributes!;
  const name = Buffer.from('Windows7 Hotfix WUSASCAN.cab', 'utf16le').swap16();
  const at = layout.blob.subarray(attrs.start, attrs.end).indexOf(name);
  assert.ok(at >= 0, 'program name inside the primary authenticated attributes');
  assertRejected(verifyCab(flipped(DUAL, layout.sigPos + attrs.start + at + 1), { trust: microsoft }), 'SIG_BAD_SIGNATURE');
});

test('the messageDigest attribute no longer matches the signed content', () => {
  const md = primarySigner.authenticated.get(Oid.messageDigest)![0];
  assertRejected(verifyCab(flipped(DUAL, layout.sigPos + md.end - 1), { trust: microsoft }), 'SIG_MESSAGE_DIGEST_MISMATCH');
});

test('the signature value fails RSA verification', () => {
  const at = inBlob(layout, primarySigner.signature, 'primary signature value');
  assertRejected(verifyCab(flipped(DUAL, at + 100), { trust: microsoft }), 'SIG_BAD_SIGNATURE');
});

test('the signed SHA-256 digest in the nested SpcIndirectDataContent no longer matches', () => {
  const content = nested.content!;
  const digestAt = layout.sigPos + content.end - 1; // last byte of DigestInfo.digest
  const v = verifyCab(flipped(DUAL, digestAt), { trust: microsoft });
  assertRejected(v, 'SIG_DIGEST_MISMATCH');
  assert.equal(v.signatures[0].valid, true, 'the primary signature is untouched');
  assert.equal(v.signatures[1].nested, true);
});

test('a certificate: the signer certificate signature no longer verifies with its issuer', () => {
  const signerCert = primary.certificates.find((c) => c.subject === 'Microsoft Corporation' && c.issuer === 'Microsoft Code Signing PCA')!;
  const at = inBlob(layout, signerCert.der, 'signer certificate');
  // the last bytes of a certificate are its signature value: the TBS (and so the key) stays intact
  assertRejected(verifyCab(flipped(DUAL, at + signerCert.der.length - 5), { trust: microsoft }), 'CHAIN_BAD_SIGNATURE');
});

test('the RFC 3161 token: imprint and TSTInfo', () => {
  const token = nestedSigner.unauthenticated.get(Oid.rfc3161Timestamp)![0];
  const tsa = parseSignedData(token.buf, token.start, token.end);
  const tstInfo = tsa.contentValue!;
  // messageImprint = H(nested signature value); its algorithm is the token's, try the usual ones
  const imprint = ['sha256', 'sha1'].map((a) => createHash(a).update(nestedSigner.signature).digest()).find((d) => tstInfo.includes(d))!;
  assert.ok(imprint !== undefined, 'imprint found in TSTInfo');
  assertRejected(verifyCab(flipped(DUAL, inBlob(layout, imprint, 'imprint')), { trust: microsoft }), 'TS_IMPRINT_MISMATCH');
  // the last byte of TSTInfo (after the imprint): only the TSA's messageDigest notices
  const tstAt = inBlob(layout, tstInfo, 'TSTInfo');
  assertRejected(verifyCab(flipped(DUAL, tstAt + tstInfo.length - 1), { trust: microsoft }), 'TS_MESSAGE_DIGEST_MISMATCH');
  // the TSA signature value
  const tsaSignature = inBlob(layout, tsa.signerInfos[0].signature, 'TSA signature');
  assertRejected(verifyCab(flipped(DUAL, tsaSignature + 50), { trust: microsoft }), 'TS_BAD_SIGNATURE');
});

test('the legacy countersignature: its signature and its messageDigest', () => {
  const counter = parseSignerInfo(primarySigner.unauthenticated.get(Oid.counterSignature)![0]);
  assertRejected(verifyCab(flipped(DUAL, inBlob(layout, counter.signature, 'countersignature value') + 10), { trust: microsoft }), 'TS_BAD_SIGNATURE');
  const md = counter.authenticated.get(Oid.messageDigest)![0];
  const mdAt = layout.sigPos + md.end - 1;
  assertRejected(verifyCab(flipped(DUAL, mdAt), { trust: microsoft }), 'TS_MESSAGE_DIGEST_MISMATCH');
});

test('header bytes outside the Authenticode digest must be the zeros a signer writes (review9 R9-1)', () => {
  // reserved1 (4..8) and the reserve's filler (0x34..0x3C) are not hashed (FORMATS.md §3.2), so a
  // copy changed there is a file nobody signed. osslsigncode refuses a non-zero reserved1 and hashes
  // 0x38..0x3C (MISMATCH); 0x34..0x38 it neither hashes nor checks, and cabferry refuses it anyway:
  // no signer writes anything but zeros there, and the bytes would make a new SHA-256 of one signed file
  for (const offset of [4, 7, 0x34, 0x37, 0x38, 0x3b]) {
    const v = verifyCab(flipped(DUAL, offset), { trust: microsoft });
    assertRejected(v, 'CAB_UNCOVERED_HEADER_BYTES');
    assert.match(v.reason, offset < 8 ? /^reserved1 \(offset 4\.\.8\)/ : /^the signature reserve filler \(offset 52\.\.60\)/);
  }
  // iCabinet (34..36) is hashed in the Windows SIP form cabferry computes (osslsigncode hashes 0x38..0x3C instead)
  assertRejected(verifyCab(flipped(DUAL, 34), { trust: microsoft }), 'SIG_DIGEST_MISMATCH');
});

test('the signature location is part of the format: moving it is rejected', () => {
  // sigLen (0x30) one larger: the blob no longer ends at the end of the file
  assertRejected(verifyCab(flipped(DUAL, 0x30, 0x08), { trust: microsoft }), 'SIG_LOCATION_MISMATCH');
});

test('padding after the DER signature must be zero bytes', () => {
  // this MSU's DER signature is 15683 bytes, declared 15688: five bytes of zero padding
  const msu = corpusPath('msu', 'Windows6.1-KB2999226-x64.msu');
  const msuLayout = layoutOf(msu);
  assert.equal(msuLayout.size - (msuLayout.sigPos + msuLayout.blob.length), 5);
  assert.equal(verifyCab(msu, { trust: microsoft }).verdict, 'valid');
  assertRejected(verifyCab(flipped(msu, msuLayout.size - 1), { trust: microsoft }), 'SIG_BAD_PADDING');
});

test('a wrong trust anchor makes the file untrusted, not invalid', () => {
  const jsign = loadTrustAnchors([corpusPath('trust-anchors', 'jsign')]);
  const v = verifyCab(DUAL, { trust: jsign });
  assertRejected(v, 'CHAIN_UNTRUSTED', 'untrusted');
  assert.ok(v.signatures.every((s) => s.code === 'CHAIN_UNTRUSTED' && s.timestamp?.code === 'TS_CHAIN_UNTRUSTED'));
  // signers trusted, timestamp authorities not: the timestamps are what is untrusted
  const v2 = verifyCab(DUAL, { trust: microsoft, tsaTrust: jsign });
  assertRejected(v2, 'TS_CHAIN_UNTRUSTED', 'untrusted');
});

test('SHA-1 only with --require-sha2 is rejected; dual-signed passes', () => {
  assert.equal(verifyCab(SHA1_ONLY, { trust: microsoft }).verdict, 'valid');
  assertRejected(verifyCab(SHA1_ONLY, { trust: microsoft, requireSha2: true }), 'SIG_SHA1_ONLY');
  assert.equal(verifyCab(DUAL, { trust: microsoft, requireSha2: true }).verdict, 'valid');
});

test('a verified timestamp decides the chain time; --at only replaces "now"', () => {
  const v = verifyCab(DUAL, { trust: microsoft, at: new Date('2030-01-01T00:00:00Z') });
  assert.equal(v.verdict, 'valid', 'a verified timestamp fixes the time, --at does not override it');
});

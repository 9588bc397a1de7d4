/**
 * The signed fixture set made with the test PKI (fixtures/signed/, fixtures/pki/): SHA-256 RSA,
 * SHA-384 ECDSA, SHA-1 only, Microsoft-style dual signing, RFC 3161 timestamps, an expired leaf
 * with and without a timestamp, tampered data. Verdicts come from fixtures/signed/expected.json
 * (written by the script that made the files) under three trust settings; osslsigncode, where
 * installed, confirms each verdict independently.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { verifyCab } from '../../src/authenticode/cab';
import { Oid } from '../../src/authenticode/oids';
import { parseSignedData, parseSignerInfo, type SignerInfo } from '../../src/authenticode/signed-data';
import { signedAttributesInput } from '../../src/authenticode/signer';
import { collectSignatures } from '../../src/authenticode/signature';
import { loadTrustAnchors } from '../../src/authenticode/trust';
import { fixturePath, hasTool, tempDir } from '../common.helpers';

interface ExpectedSignature {
  digestAlgorithm: string;
  signer: string;
  issuer: string;
  nested: boolean;
  timestamp: string | null;
  valid: boolean;
}

interface ExpectedFixture {
  file: string;
  verdict: string;
  verdictRequireSha2: string;
  verdictOtherRoot: string;
  signatures: ExpectedSignature[];
  osslsigncode: { ok: boolean };
}

const expected = JSON.parse(fs.readFileSync(fixturePath('signed', 'expected.json'), 'utf8')) as { fixtures: ExpectedFixture[] };
const root = loadTrustAnchors([fixturePath('pki', 'root.pem')]);
const otherRoot = loadTrustAnchors([fixturePath('pki', 'other-root.pem')]);

test('the fixture set covers what issue #3 asks for', () => {
  const files = expected.fixtures.map((f) => f.file);
  for (const f of ['sha256-rsa.cab', 'sha384-ecdsa.cab', 'dual-sha1-sha256.cab', 'expired-leaf-timestamped.cab', 'sha1-only.cab', 'tampered-data.cab']) {
    assert.ok(files.includes(f), f);
  }
});

for (const fx of expected.fixtures) {
  test(`fixture ${fx.file}: ${fx.verdict} / --require-sha2 ${fx.verdictRequireSha2} / wrong root ${fx.verdictOtherRoot}`, () => {
    const file = fixturePath('signed', fx.file);
    const v = verifyCab(file, { trust: root });
    assert.equal(v.verdict, fx.verdict, v.reason);
    assert.equal(verifyCab(file, { trust: root, requireSha2: true }).verdict, fx.verdictRequireSha2);
    // "untrusted" only when the right root would make the file valid; anything else wrong is "invalid"
    const other = verifyCab(file, { trust: otherRoot });
    assert.equal(other.verdict, fx.verdictOtherRoot, other.reason);

    assert.equal(v.signatures.length, fx.signatures.length);
    fx.signatures.forEach((want, i) => {
      const got = v.signatures[i];
      assert.equal(got.digestAlgorithm, want.digestAlgorithm, `#${i} digest`);
      assert.equal(got.nested, want.nested, `#${i} nested`);
      assert.equal(got.valid, want.valid, `#${i} valid: ${got.reason}`);
      if (!want.valid) return; // a failed signature stops at its first failing step
      assert.equal(got.signer, want.signer, `#${i} signer`);
      assert.equal(got.issuer, want.issuer, `#${i} issuer`);
      assert.equal(got.timestamp?.time ?? null, want.timestamp, `#${i} timestamp`);
      assert.equal(got.verifiedAt, want.timestamp ?? got.verifiedAt, `#${i} chain checked at the timestamp time`);
    });
  });
}

test('the reasons name the failing step', () => {
  const expired = verifyCab(fixturePath('signed', 'expired-leaf-no-timestamp.cab'), { trust: root });
  assert.equal(expired.code, 'CHAIN_EXPIRED');
  assert.match(expired.reason, /Cabferry Test Expired Code Signer.*2019-12-31/);
  assert.equal(verifyCab(fixturePath('signed', 'tampered-data.cab'), { trust: root }).code, 'SIG_DIGEST_MISMATCH');
  // with the wrong root, the signer chain is what is untrusted (its timestamp's chain too)
  const wrongRoot = verifyCab(fixturePath('signed', 'sha256-rsa.cab'), { trust: otherRoot });
  assert.equal(wrongRoot.code, 'CHAIN_UNTRUSTED');
  assert.equal(wrongRoot.signatures[0].timestamp?.code, 'TS_CHAIN_UNTRUSTED');
  // the right root for signers, the wrong one for timestamp authorities: only the timestamp is untrusted
  const wrongTsa = verifyCab(fixturePath('signed', 'sha256-rsa.cab'), { trust: root, tsaTrust: otherRoot });
  assert.deepEqual([wrongTsa.verdict, wrongTsa.code], ['untrusted', 'TS_CHAIN_UNTRUSTED']);
  assert.equal(verifyCab(fixturePath('signed', 'sha256-rsa-no-timestamp.cab'), { trust: otherRoot }).code, 'CHAIN_UNTRUSTED');
  assert.equal(verifyCab(fixturePath('signed', 'sha1-only.cab'), { trust: root, requireSha2: true }).code, 'SIG_SHA1_ONLY');
  // an expired leaf is expired whatever the anchors: judged before the path is built
  assert.equal(verifyCab(fixturePath('signed', 'expired-leaf-no-timestamp.cab'), { trust: otherRoot }).code, 'CHAIN_EXPIRED');
  assert.equal(verifyCab(fixturePath('signed', 'expired-leaf-late-timestamp.cab'), { trust: otherRoot }).code, 'CHAIN_EXPIRED');
  assert.equal(verifyCab(fixturePath('signed', 'wrong-eku.cab'), { trust: otherRoot }).code, 'EKU_MISSING');
  // the TSA certificate trusted too (one bundle for --trust and, by default, --tsa-trust): the TSA still signs no code (review h/sigreview F2)
  const rootAndTsa = loadTrustAnchors([fixturePath('pki', 'root.pem'), fixturePath('pki', 'tsa.pem')]);
  assert.equal(verifyCab(fixturePath('signed', 'wrong-eku.cab'), { trust: rootAndTsa }).code, 'EKU_MISSING');
  assert.equal(verifyCab(fixturePath('signed', 'sha256-rsa.cab'), { trust: rootAndTsa }).verdict, 'valid');
});

test('--at moves "now" for a signature without a timestamp', () => {
  const file = fixturePath('signed', 'expired-leaf-no-timestamp.cab');
  const v = verifyCab(file, { trust: root, at: new Date('2019-06-01T00:00:00Z') });
  assert.equal(v.verdict, 'valid', v.reason);
  assert.equal(v.signatures[0].verifiedAt, '2019-06-01T00:00:00.000Z');
});

test('osslsigncode agrees with every fixture verdict', { skip: hasTool('osslsigncode') ? false : 'osslsigncode not installed' }, () => {
  const anchor = fixturePath('pki', 'root.pem');
  for (const fx of expected.fixtures) {
    const r = spawnSync('osslsigncode', ['verify', '-in', fixturePath('signed', fx.file), '-CAfile', anchor, '-TSA-CAfile', anchor, '-ignore-crl'], {
      encoding: 'utf8',
    });
    const ours = verifyCab(fixturePath('signed', fx.file), { trust: root }).verdict === 'valid';
    assert.equal(r.status === 0, ours, `${fx.file}: osslsigncode rc ${r.status}\n${r.stdout.slice(-400)}`);
  }
});

/** rsaEncryption and sha256WithRSAEncryption as a SignerInfo's AlgorithmIdentifier (NULL parameters); SHA-1's differs in the last OID byte */
const RSA_ALGORITHM_IDS = ['2a864886f70d0101010500', '2a864886f70d01010b0500'].map((h) => Buffer.from(h, 'hex'));
const SHA1_WITH_RSA = 0x05;

/**
 * A copy of a fixture whose SignerInfo `si` keeps digestAlgorithm SHA-256 and its messageDigest, but
 * whose signature is made with SHA-1 and labelled sha1WithRSAEncryption. An RSA signature is as long
 * whatever the hash and the two OIDs are as long, so the bytes are replaced in place.
 */
function resignedWithSha1(file: string, si: SignerInfo, keyFile: string): string {
  const bytes = fs.readFileSync(file);
  const sigPos = bytes.readUInt32LE(0x2c);
  const at = bytes.indexOf(si.signature, sigPos);
  assert.ok(at > 0 && bytes.indexOf(si.signature, at + 1) === -1, 'the signature value is found once');
  // …, AlgorithmIdentifier (OID, NULL), OCTET STRING (82 01 00) signature
  const algorithmAt = at - 4 - RSA_ALGORITHM_IDS[0].length;
  assert.ok(RSA_ALGORITHM_IDS.some((id) => id.equals(bytes.subarray(algorithmAt, at - 4))), 'an RSA signature algorithm precedes the signature');
  bytes[algorithmAt + 8] = SHA1_WITH_RSA;
  crypto.sign('sha1', signedAttributesInput(si, null), crypto.createPrivateKey(fs.readFileSync(keyFile))).copy(bytes, at);
  const out = path.join(tempDir('cabferry-sigalg-'), path.basename(file));
  fs.writeFileSync(out, bytes);
  return out;
}

test('a signature algorithm naming another digest than digestAlgorithm is refused, in signers and timestamps (review h/sigreview F1)', () => {
  const signerOf = (file: string): SignerInfo => collectSignatures(fs.readFileSync(file).subarray(fs.readFileSync(file).readUInt32LE(0x2c)))[0].signedData!.signerInfos[0];
  // the code signer: labelled SHA-256, signed with SHA-1; it was valid, and passed --require-sha2
  const rfc3161 = fixturePath('signed', 'sha256-rsa.cab');
  const signer = resignedWithSha1(rfc3161, signerOf(rfc3161), fixturePath('pki', 'leaf-rsa.key'));
  const v = verifyCab(signer, { trust: root, requireSha2: true });
  assert.deepEqual([v.verdict, v.code], ['invalid', 'SIG_ALGORITHM_MISMATCH'], v.reason);
  assert.match(v.signatures[0].reason, /names sha1, but the digest algorithm is sha256/);
  if (hasTool('osslsigncode')) {
    // OpenSSL checks the signature with digestAlgorithm (RFC 5652 §5.6) and fails it too
    const r = spawnSync('osslsigncode', ['verify', '-in', signer, '-CAfile', fixturePath('pki', 'root.pem'), '-ignore-crl'], { encoding: 'utf8' });
    assert.notEqual(r.status, 0);
  }
  // the TSA's SignerInfo in an RFC 3161 token (rsaEncryption, SHA-256)
  const token = signerOf(rfc3161).unauthenticated.get(Oid.rfc3161Timestamp)![0];
  const tsaSigner = parseSignedData(token.buf, token.start, token.end).signerInfos[0];
  const stamped = verifyCab(resignedWithSha1(rfc3161, tsaSigner, fixturePath('pki', 'tsa.key')), { trust: root });
  assert.deepEqual([stamped.verdict, stamped.code, stamped.signatures[0].timestamp?.code], ['invalid', 'TS_ALGORITHM_MISMATCH', 'TS_ALGORITHM_MISMATCH']);
  // a legacy countersignature (sha256WithRSAEncryption, as Microsoft's were written)
  const legacy = fixturePath('signed', 'sha256-rsa-legacy-countersig.cab');
  const counter = parseSignerInfo(signerOf(legacy).unauthenticated.get(Oid.counterSignature)![0]);
  const countersigned = verifyCab(resignedWithSha1(legacy, counter, fixturePath('pki', 'tsa.key')), { trust: root });
  assert.deepEqual([countersigned.verdict, countersigned.code], ['invalid', 'TS_ALGORITHM_MISMATCH'], countersigned.reason);
});

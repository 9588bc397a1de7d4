import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { hasUsableOsslsigncode, verifyWithOsslsigncode } from '../../scripts/lib/authenticode-sign';
import { verifyCab } from '../../src/authenticode/cab';
import { loadTrustAnchors } from '../../src/authenticode/trust';
import { fixturePath, tempDir } from '../common.helpers';
import { readAllMembers } from '../package/package.helpers';
import { leafSignedWith, signedCabinet } from './review9.helpers';

/**
 * Review 9 (h/review9), finding R9-8: a signer certificate with a *critical* extension the
 * verifier does not understand is accepted. RFC 5280 §4.2: "A certificate-using system MUST
 * reject the certificate if it encounters a critical extension it does not recognize";
 * CryptoAPI (CERT_TRUST_INVALID_EXTENSION) and OpenSSL ("unhandled critical extension") both
 * do. src/authenticode/chain.ts checks EKU, key usage, basic constraints and validity and
 * nothing else, so a constraint an issuer put on a certificate as critical (a policy, a
 * restriction cabferry has never heard of) is silently dropped and the signature is VALID.
 *
 * Expected: not valid. Control: osslsigncode refuses the same file. Needs osslsigncode >= 2.9.
 */

const root = fixturePath('pki', 'root.pem');
// a private-arc OID no verifier knows, critical, value an empty SEQUENCE
const unknownCritical = { id: '1.3.6.1.4.1.55555.1.1', critical: true, value: String.fromCharCode(0x30, 0x00) };

describe('review9 R9-8: a signer certificate with an unrecognised critical extension', { skip: !hasUsableOsslsigncode() && 'osslsigncode >= 2.9 not installed' }, () => {
  const dir = tempDir('cabferry-review9-crit-');
  const members = readAllMembers(fixturePath('signed', 'unsigned.cab'));
  const file = signedCabinet(path.join(dir, 'critical.cab'), members, leafSignedWith(dir, 'sha256', { name: 'leaf-critical', extraExtensions: [unknownCritical] }));

  it('osslsigncode refuses it (control)', () => {
    assert.equal(verifyWithOsslsigncode(file, root).ok, false);
  });

  it('cabferry does not call it valid', () => {
    const v = verifyCab(file, { trust: loadTrustAnchors([root]) });
    // fails today: valid
    assert.notEqual(v.verdict, 'valid', `${v.verdict}: ${v.reason}`);
  });
});

import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertThrowsCode, fixturePath, tempDir } from '../common.helpers';
import { formatErrorLine } from '../../src/errors';
import { loadTrustAnchors } from '../../src/authenticode/trust';
import { isEncryptedKeyPem, loadSigningMaterial } from '../../src/media/signing-material';
import { DOCUMENT_SIGNING, encryptedLeafKey, issueSigner } from './pki.helpers';

/** loadSigningMaterial: every problem of a key/certificate pair found before anything is signed. */

const work = tempDir('cabferry-signing-');
const pki = (f: string) => fixturePath('pki', f);
/** the catalog's anchors for signatures, and none for payloads only */
const forSignatures = (file: string) => ({ anchors: loadTrustAnchors([pki(file)]), payloadsOnly: [] });
const root = () => forSignatures('root.pem');


describe('loadSigningMaterial', () => {
  test('the fixture code-signing leaf with its chain: loaded, no warning against the root that issued it', () => {
    const m = loadSigningMaterial({ keyFile: pki('leaf-rsa.key'), certFile: pki('leaf-rsa-chain.pem'), trust: root() });
    assert.equal(m.signer.subject, 'Cabferry Test Code Signer');
    assert.equal(m.chain.length, 1);
    assert.deepEqual(m.warnings, []);
    assert.match(m.keyPem, /-----BEGIN PRIVATE KEY-----/);
  });

  test('a key that is not the certificate\'s is refused, naming both files', () => {
    assertThrowsCode(() => loadSigningMaterial({ keyFile: pki('leaf-rsa.key'), certFile: pki('root.pem') }), 'SIGN_KEY_MISMATCH', 'usage', /leaf-rsa\.key is not the key of the certificate "Cabferry Test Root CA" in .*root\.pem/);
    assertThrowsCode(() => loadSigningMaterial({ keyFile: pki('catalog-signer.key'), certFile: pki('leaf-rsa-chain.pem') }), 'SIGN_KEY_MISMATCH', 'usage');
  });

  test('an encrypted key: without a passphrase a message saying how to give one; with the right one it loads; a wrong one is said so', () => {
    const key = encryptedLeafKey(work, 'correct horse');
    assert.equal(isEncryptedKeyPem(fs.readFileSync(key, 'utf8')), true);
    assert.equal(isEncryptedKeyPem(fs.readFileSync(pki('leaf-rsa.key'), 'utf8')), false);
    assertThrowsCode(() => loadSigningMaterial({ keyFile: key, certFile: pki('leaf-rsa-chain.pem'), passphraseHint: '--sign-pass-env VAR' }), 'SIGN_KEY_ENCRYPTED', 'usage', /protected by a passphrase; supply it with --sign-pass-env VAR/);
    assertThrowsCode(() => loadSigningMaterial({ keyFile: key, certFile: pki('leaf-rsa-chain.pem'), passphrase: 'wrong' }), 'SIGN_KEY_PASSPHRASE', 'usage');
    const m = loadSigningMaterial({ keyFile: key, certFile: pki('leaf-rsa-chain.pem'), passphrase: 'correct horse' });
    assert.equal(isEncryptedKeyPem(m.keyPem), false, 'handed on decrypted');
  });

  test('signer purpose: a CA certificate and a time-stamping certificate are refused; a document-signing leaf is accepted', () => {
    assertThrowsCode(() => loadSigningMaterial({ keyFile: pki('intermediate.key'), certFile: pki('intermediate.pem') }), 'SIGN_CERT_PURPOSE', 'usage', /is a CA certificate/);
    assertThrowsCode(() => loadSigningMaterial({ keyFile: pki('tsa.key'), certFile: pki('tsa-chain.pem') }), 'SIGN_CERT_PURPOSE', 'usage', /no code-signing or document-signing/);
    const doc = issueSigner(work, 'Document Signer', DOCUMENT_SIGNING);
    const m = loadSigningMaterial({ keyFile: doc.key, certFile: doc.cert, trust: root() });
    assert.equal(m.signer.subject, doc.subject);
    assert.deepEqual(m.warnings, []);
  });

  test('a certificate that chains to no catalog anchor is a warning naming it, not a failure', () => {
    const m = loadSigningMaterial({ keyFile: pki('leaf-rsa.key'), certFile: pki('leaf-rsa-chain.pem'), trust: forSignatures('other-root.pem') });
    assert.equal(m.warnings.length, 1);
    assert.match(m.warnings[0], /leaf-rsa-chain\.pem: "Cabferry Test Code Signer" does not chain to a trust anchor of the catalog/);
  });

  test('a certificate that chains only to an anchor the catalog trusts for payloads is a warning saying so and how to fix it', () => {
    const m = loadSigningMaterial({ keyFile: pki('leaf-rsa.key'), certFile: pki('leaf-rsa-chain.pem'), trust: { anchors: loadTrustAnchors([pki('other-root.pem')]), payloadsOnly: loadTrustAnchors([pki('root.pem')]) } });
    assert.equal(m.warnings.length, 1);
    assert.match(m.warnings[0], /leaf-rsa-chain\.pem: "Cabferry Test Code Signer" is not vouched for by the catalog: .* chains to "Cabferry Test Root CA" \([0-9a-f]{16}…\), an anchor the catalog trusts for payloads only, not for signatures; .*`cabferry trust add --for signatures`/);
  });

  test('unreadable files and non-RSA keys are usage errors naming the file', () => {
    const unreadable = assertThrowsCode(() => loadSigningMaterial({ keyFile: path.join(work, 'nope.key'), certFile: pki('leaf-rsa-chain.pem') }), 'SIGN_FILE_UNREADABLE', 'usage');
    assert.match(formatErrorLine(unreadable), /nope\.key: cannot read the signing key: .*\(ENOENT\)/);
    assertThrowsCode(() => loadSigningMaterial({ keyFile: pki('leaf-rsa.pem'), certFile: pki('leaf-rsa-chain.pem') }), 'SIGN_KEY_UNREADABLE', 'usage');
    assertThrowsCode(() => loadSigningMaterial({ keyFile: pki('leaf-ecdsa.key'), certFile: pki('leaf-ecdsa-chain.pem') }), 'SIGN_KEY_UNSUPPORTED', 'usage');
    assertThrowsCode(() => loadSigningMaterial({ keyFile: pki('leaf-rsa.key'), certFile: pki('leaf-rsa.key') }), 'SIGN_CERT_UNREADABLE', 'usage');
  });

  test('the error line names the file once (the CLI prints "cabferry: FILE: message", the message does not repeat it)', () => {
    const encrypted = encryptedLeafKey(work, 'twice');
    for (const [fn, code] of [
      [() => loadSigningMaterial({ keyFile: path.join(work, 'nope.key'), certFile: pki('leaf-rsa-chain.pem') }), 'SIGN_FILE_UNREADABLE'],
      [() => loadSigningMaterial({ keyFile: pki('leaf-rsa.pem'), certFile: pki('leaf-rsa-chain.pem') }), 'SIGN_KEY_UNREADABLE'],
      [() => loadSigningMaterial({ keyFile: pki('leaf-ecdsa.key'), certFile: pki('leaf-ecdsa-chain.pem') }), 'SIGN_KEY_UNSUPPORTED'],
      [() => loadSigningMaterial({ keyFile: pki('leaf-rsa.key'), certFile: pki('leaf-rsa.key') }), 'SIGN_CERT_UNREADABLE'],
      [() => loadSigningMaterial({ keyFile: pki('root.key'), certFile: pki('root.pem') }), 'SIGN_CERT_PURPOSE'],
      [() => loadSigningMaterial({ keyFile: encrypted, certFile: pki('leaf-rsa-chain.pem') }), 'SIGN_KEY_ENCRYPTED'],
      [() => loadSigningMaterial({ keyFile: encrypted, certFile: pki('leaf-rsa-chain.pem'), passphrase: 'wrong' }), 'SIGN_KEY_PASSPHRASE'],
      [() => loadSigningMaterial({ keyFile: pki('leaf-rsa.key'), certFile: pki('root.pem') }), 'SIGN_KEY_MISMATCH'],
    ] as [() => unknown, string][]) {
      const e = assertThrowsCode(fn, code, 'usage');
      const line = formatErrorLine(e);
      const named = e.file ?? (code === 'SIGN_KEY_MISMATCH' ? pki('leaf-rsa.key') : undefined);
      assert.ok(named !== undefined, `${code} names a file`);
      assert.equal(line.split(named).length - 1, 1, `${code}: ${named} once in: ${line}`);
    }
  });
});

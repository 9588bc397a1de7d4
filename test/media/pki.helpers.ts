import * as fs from 'node:fs';
import * as path from 'node:path';
import * as forge from 'node-forge';
import { createPrivateKey } from 'node:crypto';
import { fixturePath } from '../common.helpers';

/**
 * Certificates the fixture PKI (fixtures/pki) does not have, issued here by its intermediate CA
 * (or another of its CAs) with node-forge: a document-signing leaf, a leaf with only a server-auth
 * EKU, a code-signing leaf under the unrelated root. Written into
 * `dir` as PEM key + chain files that stage and verify-media read.
 */

export interface IssuedSigner { key: string; cert: string; subject: string }

let serial = 0x100;

/** The CA that issues: the fixture intermediate unless another fixture CA is named (`other-root`: an unrelated root). */
export function issueSigner(dir: string, name: string, extKeyUsage: Record<string, boolean>, issuer = 'intermediate'): IssuedSigner {
  const caKey = forge.pki.privateKeyFromPem(fs.readFileSync(fixturePath('pki', `${issuer}.key`), 'utf8'));
  const caCertPem = fs.readFileSync(fixturePath('pki', `${issuer}.pem`), 'utf8');
  const caCert = forge.pki.certificateFromPem(caCertPem);
  const keys = forge.pki.rsa.generateKeyPair({ bits: 2048, e: 0x10001 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = (serial++).toString(16).padStart(4, '0');
  cert.validity.notBefore = new Date('2020-01-01T00:00:00Z');
  cert.validity.notAfter = new Date('2045-01-01T00:00:00Z');
  const subject = `Cabferry Test ${name}`;
  cert.setSubject([{ name: 'organizationName', value: 'Cabferry Test Corporation' }, { name: 'commonName', value: subject }]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, critical: true },
    { name: 'extKeyUsage', ...extKeyUsage },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  const keyFile = path.join(dir, `${name}.key`);
  const certFile = path.join(dir, `${name}-chain.pem`);
  fs.writeFileSync(keyFile, forge.pki.privateKeyToPem(keys.privateKey));
  fs.writeFileSync(certFile, forge.pki.certificateToPem(cert) + caCertPem);
  return { key: keyFile, cert: certFile, subject };
}

/** The fixture leaf key, encrypted with `passphrase` (PKCS#8, AES-256-CBC). */
export function encryptedLeafKey(dir: string, passphrase: string): string {
  const file = path.join(dir, 'leaf-rsa-encrypted.key');
  const pem = createPrivateKey(fs.readFileSync(fixturePath('pki', 'leaf-rsa.key'), 'utf8'))
    .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase });
  fs.writeFileSync(file, pem);
  return file;
}

/** Microsoft Document Signing (1.3.6.1.4.1.311.10.3.12) as a node-forge EKU entry. */
export const DOCUMENT_SIGNING = { '1.3.6.1.4.1.311.10.3.12': true } as Record<string, boolean>;

import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { CabferryError, isCabferryError, usageError } from '../errors';
import { readRegularFile } from '../io/regular-file';
import { certificatesFromFileBytes, parseCertificate, type Certificate } from '../authenticode/certificate';
import { buildChainNamingOtherPurpose, type ChainLink } from '../authenticode/chain';
import { isVerificationError } from '../authenticode/errors';
import { Oid } from '../authenticode/oids';
import type { SignatureTrust } from '../catalog/trust';
import { isoTime } from '../iso-time';

/**
 * The key and certificate a signer (stage's manifest signature, transfer bundles) is given,
 * checked before anything is written: a key that does not belong to the certificate, a
 * passphrase-protected key without its passphrase, or a certificate that may not sign
 * documents would otherwise only show on the far side, where nobody can fix it.
 *
 *   loadSigningMaterial(source)   read → decrypt → key ↔ certificate → signer purpose → chain (warning)
 *   signerPurposeProblem(cert)    the purpose rule verify-media applies to the same certificate
 *   signerChain(cert, …)          the chain verify-media and import of a bundle build for a signer
 */

/** Microsoft's Document Signing EKU and RFC 9336 id-kp-documentSigning. */
export const DOCUMENT_SIGNING_EKUS = ['1.3.6.1.4.1.311.10.3.12', '1.3.6.1.5.5.7.3.36'] as const;
/** A signer of manifests and bundles needs one of these in its extended key usage. */
export const SIGNER_EKUS: readonly string[] = [Oid.codeSigning, ...DOCUMENT_SIGNING_EKUS];

export interface SigningMaterialSource {
  /** PEM private key file */
  keyFile: string;
  /** PEM certificate file: the signer first, optionally followed by its chain */
  certFile: string;
  /** passphrase of an encrypted key (from --sign-pass-env or a prompt); ignored for a plain key */
  passphrase?: string;
  /** the option that supplies a passphrase, named in the message for an encrypted key */
  passphraseHint?: string;
  /** the catalog's anchors for signatures: a certificate that chains to none of them gets a warning */
  trust?: SignatureTrust;
  now?: Date;
}

export interface SigningMaterial {
  /** PEM private key, unencrypted (PKCS#8), RSA: node-forge signs PKCS#7 with RSA only */
  keyPem: string;
  /** PEM certificate of the signer, optionally followed by its chain */
  certPem: string;
}

export interface LoadedSigningMaterial extends SigningMaterial {
  signer: Certificate;
  /** the certificates after the signer in certFile */
  chain: Certificate[];
  /** problems that do not stop signing but that the operator must hear about */
  warnings: string[];
}

/** True when the PEM holds a passphrase-protected key (PKCS#8 encrypted or legacy Proc-Type). */
export function isEncryptedKeyPem(pem: string): boolean {
  return /-----BEGIN ENCRYPTED PRIVATE KEY-----/.test(pem) || /^Proc-Type:\s*4,ENCRYPTED/m.test(pem);
}

/** Read and check a key and certificate for signing; every problem is a usage error naming the file. */
export function loadSigningMaterial(source: SigningMaterialSource): LoadedSigningMaterial {
  const keyText = readPem(source.keyFile, 'signing key');
  const certBytes = Buffer.from(readPem(source.certFile, 'signing certificate'), 'utf8');
  const key = privateKeyOf(keyText, source);
  const certs = certificatesOf(certBytes, source.certFile);
  const [signer, ...chain] = certs;
  checkKeyMatches(key, signer, source);
  const problem = signerPurposeProblem(signer);
  if (problem !== null) throw usageError('SIGN_CERT_PURPOSE', `${problem}`, { file: source.certFile });
  const now = source.now ?? new Date();
  if (now < signer.notBefore || now > signer.notAfter) {
    throw usageError('SIGN_CERT_EXPIRED', `"${signer.subject}" is valid ${isoTime(signer.notBefore)} to ${isoTime(signer.notAfter)}, not now`, { file: source.certFile });
  }
  const warnings: string[] = [];
  const untrusted = chainProblem(signer, chain, source.trust, now);
  if (untrusted !== null) warnings.push(`${source.certFile}: "${signer.subject}" ${untrusted}; the far side will not trust this signature unless it is given that anchor`);
  return {
    keyPem: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
    certPem: certBytes.toString('utf8'),
    signer,
    chain,
    warnings,
  };
}

/**
 * Why `cert` may not sign a manifest or bundle, or null: it must name code signing or document
 * signing in its extended key usage and must not be a CA certificate (a CA key signs
 * certificates; a CA signing media directly bypasses the issuing policy verify-media relies on).
 */
export function signerPurposeProblem(cert: Certificate): string | null {
  if (cert.basicConstraints?.ca === true) return `"${cert.subject}" is a CA certificate; a manifest must be signed by an end-entity certificate`;
  const ekus = cert.extKeyUsage;
  if (ekus === null || !ekus.some((e) => SIGNER_EKUS.includes(e))) {
    return `"${cert.subject}" has no code-signing or document-signing extended key usage (it has ${ekus === null ? 'none' : ekus.join(', ')})`;
  }
  return null;
}

/** A key or certificate named by the operator: a regular file (a FIFO is refused, not waited on) of PEM size. */
function readPem(file: string, what: string): string {
  try {
    return readRegularFile(file, { maxBytes: MAX_PEM_BYTES, what: `the ${what}` }).toString('utf8');
  } catch (e) {
    if (!isCabferryError(e)) throw e;
    throw usageError('SIGN_FILE_UNREADABLE', `cannot read the ${what}: ${e.message}`, { file, cause: e });
  }
}

/** Far above any PEM key or certificate chain. */
export const MAX_PEM_BYTES = 1024 * 1024;

function privateKeyOf(pem: string, source: SigningMaterialSource): KeyObject {
  const file = source.keyFile;
  const encrypted = isEncryptedKeyPem(pem);
  if (encrypted && source.passphrase === undefined) {
    const how = source.passphraseHint ?? 'a passphrase';
    throw usageError('SIGN_KEY_ENCRYPTED', `the signing key is protected by a passphrase; supply it with ${how}`, { file });
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(encrypted ? { key: pem, format: 'pem', passphrase: source.passphrase } : { key: pem, format: 'pem' });
  } catch (e) {
    if (encrypted) throw usageError('SIGN_KEY_PASSPHRASE', `the passphrase does not decrypt the signing key`, { file });
    // OpenSSL's words ("DECODER routines::unsupported") stay in the cause: --json shows them as detail
    throw usageError('SIGN_KEY_UNREADABLE', `not a PEM private key that can be read`, { file, cause: e });
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw usageError('SIGN_KEY_UNSUPPORTED', `the signing key is ${key.asymmetricKeyType ?? 'of an unknown type'}; it must be RSA (node-forge signs PKCS#7 with RSA only)`, { file });
  }
  return key;
}

function certificatesOf(bytes: Buffer, file: string): Certificate[] {
  let ders: Buffer[];
  try {
    ders = certificatesFromFileBytes(bytes);
  } catch (e) {
    throw usageError('SIGN_CERT_UNREADABLE', `not a certificate file (PEM or DER)`, { file, cause: e });
  }
  if (ders.length === 0) throw usageError('SIGN_CERT_UNREADABLE', `holds no certificate`, { file });
  try {
    return ders.map((d) => parseCertificate(d));
  } catch (e) {
    throw usageError('SIGN_CERT_UNREADABLE', `a certificate in it is not a readable X.509 certificate`, { file, cause: e });
  }
}

function checkKeyMatches(key: KeyObject, signer: Certificate, source: SigningMaterialSource): void {
  const fromKey = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const fromCert = signer.publicKey.export({ type: 'spki', format: 'der' });
  if (!fromKey.equals(fromCert)) {
    throw usageError(
      'SIGN_KEY_MISMATCH',
      // the sentence names both files; a file context would print the key file twice
      `${source.keyFile} is not the key of the certificate "${signer.subject}" in ${source.certFile}: a signature made with it would not verify`,
    );
  }
}

/** Why the signer does not chain to the anchors (a phrase), or null when it does or none were given. */
function chainProblem(signer: Certificate, chain: Certificate[], trust: SignatureTrust | undefined, now: Date): string | null {
  if (trust === undefined) return null;
  if (trust.anchors.length === 0 && trust.payloadsOnly.length === 0) return 'cannot be checked against the catalog: it has no trust anchors';
  try {
    signerChain(signer, chain, trust, now);
    return null;
  } catch (e) {
    if (isCabferryError(e) && e.code === SIGNER_ANCHOR_PAYLOADS_ONLY) return `is not vouched for by the catalog: ${e.message}`;
    if (isVerificationError(e)) return `does not chain to a trust anchor of the catalog for signatures (${e.message})`;
    throw e;
  }
}

/** A signer chains only to an anchor trusted for payloads, not for signatures. */
export const SIGNER_ANCHOR_PAYLOADS_ONLY = 'SIGNER_ANCHOR_PAYLOADS_ONLY';

/**
 * The chain from the signer of a manifest or bundle (or a --sign-cert) to an anchor trusted for
 * signatures, valid at `at`, or the VerificationError buildChain throws. When there is no chain
 * but there is one to an anchor trusted for payloads only, that is the failure, as a negative
 * CabferryError SIGNER_ANCHOR_PAYLOADS_ONLY naming the anchor and the fix: the operator lacks a
 * purpose, not a certificate, and a bare "untrusted" would send them looking for the wrong one.
 * The payload anchor never makes the signature valid.
 */
export function signerChain(signer: Certificate, pool: Certificate[], trust: SignatureTrust, at: Date): ChainLink[] {
  const policy = { at, ekus: [...SIGNER_EKUS] };
  return buildChainNamingOtherPurpose(signer, pool, trust.anchors, trust.payloadsOnly, policy, (last) => {
    const anchor = last.anchor!;
    const fingerprint = anchor.certificate.sha256Fingerprint.toLowerCase();
    return new CabferryError(
      'negative',
      SIGNER_ANCHOR_PAYLOADS_ONLY,
      `"${signer.subject}" chains to "${anchor.certificate.subject}" (${fingerprint.slice(0, 16)}…), an anchor the catalog trusts for payloads only, not for signatures; ` +
        `if it is the root of your bundle and media signers, add that purpose: \`cabferry trust add --for signatures\` with its certificate (${anchor.source})`,
      { data: { anchor: { fingerprint, subject: anchor.certificate.subject }, purposes: ['payloads'] } },
    );
  });
}

import { createHash, publicDecrypt, verify as cryptoVerify, constants as cryptoConstants, type KeyObject } from 'node:crypto';
import { raw, readOctets, readOid } from './der';
import type { Certificate } from './certificate';
import { VerificationError } from './errors';
import { isBrokenDigest, Oid, signatureAlgorithmDigest } from './oids';
import { singleAttribute, type SignerInfo } from './signed-data';

/**
 * The steps that check one SignerInfo, shared by Authenticode signatures, nested signatures,
 * timestamp tokens and catalogs. Each throws one VerificationError with one code.
 */

/**
 * MD5 is refused as a signature digest: collisions are practical, so an MD5 digest proves
 * nothing about the bytes (osslsigncode would accept it; Windows has refused it since 2013).
 */
export function checkDigestStrength(algorithm: string): void {
  if (isBrokenDigest(algorithm)) throw new VerificationError('SIG_WEAK_ALGORITHM', `${algorithm.toUpperCase()} digests are not accepted: ${algorithm.toUpperCase()} collisions are practical`);
}

/** The contentType authenticated attribute must name what the SignedData encapsulates. */
export function checkContentType(si: SignerInfo, expected: string): void {
  const attr = singleAttribute(si.authenticated, Oid.contentType, 'contentType');
  if (attr === null) throw new VerificationError('SIG_CONTENT_TYPE', 'the contentType attribute is missing');
  const found = readOid(attr, 'contentType attribute');
  if (found !== expected) throw new VerificationError('SIG_CONTENT_TYPE', `contentType attribute is ${found}, expected ${expected}`);
}

/**
 * The messageDigest authenticated attribute must equal the hash of `signedBytes` — for
 * Authenticode the SpcIndirectDataContent value without its tag and length, for a legacy
 * countersignature the countersigned signature value.
 */
export function checkMessageDigest(si: SignerInfo, signedBytes: Buffer): void {
  const attr = singleAttribute(si.authenticated, Oid.messageDigest, 'messageDigest');
  if (attr === null) throw new VerificationError('SIG_MESSAGE_DIGEST_MISMATCH', 'the messageDigest attribute is missing');
  const stored = readOctets(attr, 'messageDigest attribute');
  const computed = createHash(si.digestAlgorithm).update(signedBytes).digest();
  if (!computed.equals(stored)) {
    throw new VerificationError(
      'SIG_MESSAGE_DIGEST_MISMATCH',
      `messageDigest attribute ${stored.toString('hex')} does not match the signed content (${si.digestAlgorithm} ${computed.toString('hex')})`,
    );
  }
}

/** The certificate a SignerInfo names, by issuer + serial number (v1) or subject key identifier (v3). */
export function findSignerCertificate(si: SignerInfo, certificates: Certificate[]): Certificate {
  const match = certificates.find((c) =>
    si.subjectKeyId !== null
      ? c.subjectKeyId !== null && c.subjectKeyId.equals(si.subjectKeyId)
      : si.issuerName !== null && si.serial !== null && c.issuerName.equals(si.issuerName) && c.serial.equals(si.serial),
  );
  if (match === undefined) throw new VerificationError('SIG_SIGNER_NOT_FOUND', 'the signer certificate is not among the embedded certificates');
  return match;
}

/**
 * The bytes the signature value covers: the authenticated attributes exactly as stored with the
 * [0] IMPLICIT tag replaced by SET (0x31), never re-encoded; without attributes, the content.
 */
export function signedAttributesInput(si: SignerInfo, contentIfNoAttributes: Buffer | null): Buffer {
  if (si.authenticatedAttributes === null) {
    if (contentIfNoAttributes === null) throw new VerificationError('SIG_MALFORMED', 'SignerInfo has neither authenticated attributes nor content');
    return contentIfNoAttributes;
  }
  const bytes = Buffer.from(raw(si.authenticatedAttributes));
  bytes[0] = 0x31;
  return bytes;
}

/**
 * A signature algorithm that names a digest (sha1WithRSAEncryption, ecdsa-with-SHA384) must name
 * SignerInfo.digestAlgorithm. The digestAlgorithm is what the report shows and what
 * --require-sha2 and checkDigestStrength judge (RFC 5652 §5.3: the digest over the signed
 * attributes); had the signature algorithm's digest been used for the signature math instead, a
 * SignerInfo labelled SHA-256 whose signature was made with SHA-1 (or MD5) would pass as SHA-2.
 * OpenSSL checks with digestAlgorithm too, so such a signature fails there.
 */
export function checkSignatureAlgorithm(si: SignerInfo): void {
  const named = signatureAlgorithmDigest(si.signatureAlgorithmOid);
  if (named !== null && named !== si.digestAlgorithm) {
    throw new VerificationError(
      'SIG_ALGORITHM_MISMATCH',
      `the signature algorithm (${si.signatureAlgorithmOid}) names ${named}, but the digest algorithm is ${si.digestAlgorithm}`,
    );
  }
}

/**
 * RSA PKCS#1 v1.5 or ECDSA (DER signature) over the authenticated attributes, with node:crypto,
 * hashed with SignerInfo.digestAlgorithm after checkSignatureAlgorithm agrees.
 */
export function verifySignerSignature(si: SignerInfo, cert: Certificate, contentIfNoAttributes: Buffer | null = null): void {
  if (si.signatureAlgorithmOid === Oid.rsaPss) {
    throw new VerificationError('SIG_UNSUPPORTED_ALGORITHM', 'RSASSA-PSS SignerInfo signatures are not supported');
  }
  checkSignatureAlgorithm(si);
  const digest = si.digestAlgorithm;
  const input = signedAttributesInput(si, contentIfNoAttributes);
  const key = cert.publicKey;
  const padding = key.asymmetricKeyType === 'rsa' ? { padding: cryptoConstants.RSA_PKCS1_PADDING } : {};
  let ok: boolean;
  try {
    ok = cryptoVerify(digest, input, { key, ...padding }, si.signature);
  } catch (e) {
    throw new VerificationError('SIG_BAD_SIGNATURE', `signature cannot be checked: ${(e as Error).message}`);
  }
  if (ok) return;
  if (key.asymmetricKeyType === 'rsa' && isBareRsaDigest(si.signature, key, digest, input)) {
    throw new VerificationError(
      'SIG_LEGACY_RSA_ENCODING',
      `the RSA signature holds a bare ${digest} digest without the PKCS#1 DigestInfo (a legacy encoding of old VeriSign/Symantec signers); it matches the signed data but is not accepted`,
    );
  }
  throw new VerificationError('SIG_BAD_SIGNATURE', `the ${digest} signature does not verify with the signer certificate's key`);
}

/**
 * Some pre-2016 signers (notably VeriSign/Symantec timestamping) put the raw digest in the
 * PKCS#1 v1.5 block instead of a DigestInfo. Recognising it lets the report say exactly that,
 * rather than calling an authentic but non-conforming signature forged; it is still refused, as
 * OpenSSL 3 (and so osslsigncode) refuses it.
 */
function isBareRsaDigest(signature: Buffer, key: KeyObject, digest: string, input: Buffer): boolean {
  try {
    const recovered = publicDecrypt({ key, padding: cryptoConstants.RSA_PKCS1_PADDING }, signature);
    return recovered.equals(createHash(digest).update(input).digest());
  } catch {
    return false;
  }
}

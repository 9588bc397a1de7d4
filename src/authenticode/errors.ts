import { CabferryError, type ErrorContext } from '../errors';

/**
 * Why one signature failed. Each verification step throws exactly one of these; the verifier
 * catches it per signature and records it in that signature's report, so one bad nested
 * signature never hides what the others say.
 *
 * The code decides the class of failure: "untrusted" only when the signature holds and
 * follows the rules but no chain reaches an operator-supplied anchor (adding an anchor could
 * fix it); everything else — altered bytes, bad signatures, expired or wrong-purpose
 * certificates, broken timestamps — is "invalid".
 */
export const VerificationCodes = {
  // the signature does not hold: altered or malformed bytes, or a rule the signer broke
  SIG_MALFORMED: 'invalid',
  SIG_LOCATION_MISMATCH: 'invalid',
  SIG_BAD_PADDING: 'invalid',
  SIG_UNSUPPORTED_ALGORITHM: 'invalid',
  SIG_WEAK_ALGORITHM: 'invalid',
  /** a SignerInfo's signature algorithm names another digest than its digestAlgorithm */
  SIG_ALGORITHM_MISMATCH: 'invalid',
  SIG_CONTENT_TYPE: 'invalid',
  SIG_CONTENT_MISMATCH: 'invalid',
  SIG_DIGEST_MISMATCH: 'invalid',
  /** a PE's signed page hashes disagree with its pages */
  SIG_PAGE_HASH_MISMATCH: 'invalid',
  /** PE certificate table: outside the file, overlapping the image, or followed by unsigned bytes */
  PE_CERT_TABLE_LOCATION: 'invalid',
  /** PE certificate table: a WIN_CERTIFICATE whose length does not fit, or a revision/type that is not Authenticode */
  PE_WIN_CERTIFICATE_MALFORMED: 'invalid',
  /** a signed cabinet's header bytes that no digest covers (reserved1, the reserve filler) are not the zeros a signer writes */
  CAB_UNCOVERED_HEADER_BYTES: 'invalid',
  SIG_MESSAGE_DIGEST_MISMATCH: 'invalid',
  SIG_SIGNER_NOT_FOUND: 'invalid',
  SIG_BAD_SIGNATURE: 'invalid',
  /** authentic, but a bare digest instead of a PKCS#1 DigestInfo: refused like OpenSSL 3 refuses it */
  SIG_LEGACY_RSA_ENCODING: 'invalid',
  SIG_SHA1_ONLY: 'invalid',
  CHAIN_EXPIRED: 'invalid',
  CHAIN_BAD_SIGNATURE: 'invalid',
  CHAIN_NOT_CA: 'invalid',
  CHAIN_PATH_LENGTH: 'invalid',
  /** an RSA key under 1024 bits in the chain (signer, issuer or anchor) */
  CHAIN_WEAK_KEY: 'invalid',
  /** a certificate in the chain (not the anchor's own) signed over MD5, MD4 or MD2 */
  CHAIN_WEAK_ALGORITHM: 'invalid',
  /** a certificate in the chain (the anchor included) with a critical extension the verifier does not process */
  CHAIN_CRITICAL_EXTENSION: 'invalid',
  EKU_MISSING: 'invalid',
  KEY_USAGE_MISSING: 'invalid',
  TS_MALFORMED: 'invalid',
  TS_WEAK_ALGORITHM: 'invalid',
  TS_ALGORITHM_MISMATCH: 'invalid',
  TS_IMPRINT_MISMATCH: 'invalid',
  TS_MESSAGE_DIGEST_MISMATCH: 'invalid',
  TS_BAD_SIGNATURE: 'invalid',
  TS_LEGACY_RSA_ENCODING: 'invalid',
  TS_SIGNER_NOT_FOUND: 'invalid',
  TS_CHAIN_EXPIRED: 'invalid',
  TS_CHAIN_BAD_SIGNATURE: 'invalid',
  TS_CHAIN_WEAK_KEY: 'invalid',
  TS_CHAIN_WEAK_ALGORITHM: 'invalid',
  TS_CHAIN_CRITICAL_EXTENSION: 'invalid',
  TS_EKU_MISSING: 'invalid',
  // intact and within the rules, but no chain reaches an anchor the operator trusts
  CHAIN_UNTRUSTED: 'untrusted',
  TS_CHAIN_UNTRUSTED: 'untrusted',
  // no chain to an anchor for payloads, but one to an anchor the caller holds for signatures only
  CHAIN_ANCHOR_SIGNATURES_ONLY: 'untrusted',
} as const;

export type VerificationCode = keyof typeof VerificationCodes;
export type FailureClass = (typeof VerificationCodes)[VerificationCode];

export class VerificationError extends CabferryError {
  declare readonly code: VerificationCode;

  constructor(code: VerificationCode, message: string, context?: ErrorContext) {
    super('negative', code, message, context);
    this.name = 'VerificationError';
  }

  get failureClass(): FailureClass {
    return VerificationCodes[this.code];
  }
}

export function isVerificationError(e: unknown): e is VerificationError {
  return e instanceof VerificationError;
}

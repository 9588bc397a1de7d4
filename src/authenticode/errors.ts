import { CabferryError, type ErrorContext } from '../errors';

/**
 * Why one signature failed. Each verification step throws exactly one of these; the verifier
 * catches it per signature and records it in that signature's report, so one bad nested
 * signature never hides what the others say.
 *
 * The code decides whether the failure means the bytes were altered or malformed ("invalid")
 * or the signature is intact but not acceptable under the operator's trust ("untrusted").
 */
export const VerificationCodes = {
  // the bytes do not add up: tampering or a malformed blob
  SIG_MALFORMED: 'invalid',
  SIG_LOCATION_MISMATCH: 'invalid',
  SIG_BAD_PADDING: 'invalid',
  SIG_UNSUPPORTED_ALGORITHM: 'invalid',
  SIG_CONTENT_TYPE: 'invalid',
  SIG_DIGEST_MISMATCH: 'invalid',
  SIG_MESSAGE_DIGEST_MISMATCH: 'invalid',
  SIG_SIGNER_NOT_FOUND: 'invalid',
  SIG_BAD_SIGNATURE: 'invalid',
  SIG_SHA1_ONLY: 'invalid',
  TS_MALFORMED: 'invalid',
  TS_IMPRINT_MISMATCH: 'invalid',
  TS_MESSAGE_DIGEST_MISMATCH: 'invalid',
  TS_BAD_SIGNATURE: 'invalid',
  TS_SIGNER_NOT_FOUND: 'invalid',
  // intact, but the chain does not reach a trust anchor under the rules
  CHAIN_UNTRUSTED: 'untrusted',
  CHAIN_EXPIRED: 'untrusted',
  CHAIN_NOT_CA: 'untrusted',
  CHAIN_PATH_LENGTH: 'untrusted',
  EKU_MISSING: 'untrusted',
  /** authentic, but in an encoding the verifier refuses (bare digest instead of DigestInfo) */
  SIG_LEGACY_RSA_ENCODING: 'untrusted',
  TS_LEGACY_RSA_ENCODING: 'untrusted',
  KEY_USAGE_MISSING: 'untrusted',
  TS_CHAIN_UNTRUSTED: 'untrusted',
  TS_CHAIN_EXPIRED: 'untrusted',
  TS_EKU_MISSING: 'untrusted',
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

import { createHash } from 'node:crypto';
import { expectChildren, readDer, readOctets, readOid, readSmallInt, readTime, Tag, type Der } from './der';
import { buildChain, type ChainLink } from './chain';
import type { Certificate } from './certificate';
import { VerificationError, type VerificationCode } from './errors';
import { digestAlgorithmName, Oid } from './oids';
import { parseSignedData, parseSignerInfo, singleAttribute, type SignerInfo } from './signed-data';
import { checkContentType, checkDigestStrength, checkMessageDigest, findSignerCertificate, verifySignerSignature } from './signer';
import type { TrustAnchor } from './trust';

/**
 * Timestamps on a signature: an RFC 3161 token (1.3.6.1.4.1.311.3.3.1, what Microsoft has used
 * since ~2010) or a legacy PKCS#9 countersignature (1.2.840.113549.1.9.6). Either proves the
 * signature value existed at a time; the TSA's chain is checked at that time, with the
 * timeStamping EKU. A timestamp that is present must verify: a broken one fails the signature.
 *
 * One failure is not thrown but returned: a TSA chain that reaches no trust anchor. Whether the
 * signature is "untrusted" or "invalid" then depends on the rest of the checks (an expired
 * signer is invalid whatever the operator trusts), so the caller finishes those first.
 */
export type TimestampKind = 'rfc3161' | 'authenticode';

export interface VerifiedTimestamp {
  kind: TimestampKind;
  /** the time the token states; proven only when `untrusted` is null */
  time: Date;
  /** the TSA's name (CN) */
  authority: string;
  chain: ChainLink[];
  /** TS_CHAIN_UNTRUSTED when everything holds except that the TSA chain reaches no anchor */
  untrusted: VerificationError | null;
}

/** The timestamp attribute on a signer, if any (the first one: signers carry at most one in practice). */
export function findTimestamp(si: SignerInfo): { kind: TimestampKind; value: Der } | null {
  const token = si.unauthenticated.get(Oid.rfc3161Timestamp);
  if (token !== undefined && token.length > 0) return { kind: 'rfc3161', value: token[0] };
  const counter = si.unauthenticated.get(Oid.counterSignature);
  if (counter !== undefined && counter.length > 0) return { kind: 'authenticode', value: counter[0] };
  return null;
}

/**
 * Verify the timestamp on `si` (whose certificates are `outerCertificates`), or return null
 * when there is none. Throws a TS_* VerificationError on any failure.
 */
export function verifyTimestamp(si: SignerInfo, outerCertificates: Certificate[], tsaTrust: TrustAnchor[]): VerifiedTimestamp | null {
  const found = findTimestamp(si);
  if (found === null) return null;
  try {
    return found.kind === 'rfc3161'
      ? verifyRfc3161Token(found.value, si.signature, outerCertificates, tsaTrust)
      : verifyCounterSignature(found.value, si.signature, outerCertificates, tsaTrust);
  } catch (e) {
    throw asTimestampFailure(e);
  }
}

/** RFC 3161: a SignedData over TSTInfo whose messageImprint is the hash of the stamped signature value. */
function verifyRfc3161Token(token: Der, stampedSignature: Buffer, outerCertificates: Certificate[], tsaTrust: TrustAnchor[]): VerifiedTimestamp {
  const signedData = parseSignedData(token.buf, token.start, token.end);
  if (signedData.contentType !== Oid.tstInfo || signedData.contentValue === null || signedData.content?.tag !== Tag.octetString) {
    throw new VerificationError('TS_MALFORMED', `timestamp token content is ${signedData.contentType}, not an embedded TSTInfo`);
  }
  if (signedData.signerInfos.length !== 1) throw new VerificationError('TS_MALFORMED', `timestamp token has ${signedData.signerInfos.length} signers`);
  const [tsaSigner] = signedData.signerInfos;
  const tstInfo = readTstInfo(signedData.contentValue);

  checkDigestStrength(tstInfo.imprintAlgorithm);
  checkDigestStrength(tsaSigner.digestAlgorithm);
  checkImprint(tstInfo.imprintAlgorithm, tstInfo.hashedMessage, stampedSignature);
  checkContentType(tsaSigner, Oid.tstInfo);
  checkMessageDigest(tsaSigner, signedData.contentValue);
  const pool = [...signedData.certificates, ...outerCertificates];
  const tsaCert = findSignerCertificate(tsaSigner, pool);
  verifySignerSignature(tsaSigner, tsaCert);
  return { kind: 'rfc3161', time: tstInfo.genTime, authority: tsaCert.subject, ...tsaChain(tsaCert, pool, tsaTrust, tstInfo.genTime) };
}

interface TstInfo {
  imprintAlgorithm: string;
  hashedMessage: Buffer;
  genTime: Date;
}

function readTstInfo(der: Buffer): TstInfo {
  const top = readDer(der);
  if (top.end !== der.length) throw new VerificationError('TS_MALFORMED', 'trailing bytes after TSTInfo');
  const fields = expectChildren(top, Tag.sequence, 'TSTInfo', 5);
  readSmallInt(fields[0], 'TSTInfo.version');
  readOid(fields[1], 'TSTInfo.policy');
  const [algId, hashed] = expectChildren(fields[2], Tag.sequence, 'TSTInfo.messageImprint', 2);
  const imprintAlgorithm = digestAlgorithmName(readOid(expectChildren(algId, Tag.sequence, 'hashAlgorithm', 1)[0], 'hashAlgorithm'));
  return { imprintAlgorithm, hashedMessage: readOctets(hashed, 'hashedMessage'), genTime: readTime(fields[4], 'TSTInfo.genTime') };
}

function checkImprint(algorithm: string, hashedMessage: Buffer, stampedSignature: Buffer): void {
  const computed = createHash(algorithm).update(stampedSignature).digest();
  if (!computed.equals(hashedMessage)) {
    throw new VerificationError('TS_IMPRINT_MISMATCH', `timestamp imprint ${hashedMessage.toString('hex')} is not the ${algorithm} of the signature it stamps`);
  }
}

/** Legacy Authenticode timestamp: a SignerInfo whose messageDigest covers the stamped signature value. */
function verifyCounterSignature(value: Der, stampedSignature: Buffer, outerCertificates: Certificate[], tsaTrust: TrustAnchor[]): VerifiedTimestamp {
  const counter = parseSignerInfo(value);
  checkDigestStrength(counter.digestAlgorithm);
  checkMessageDigest(counter, stampedSignature);
  const signingTime = singleAttribute(counter.authenticated, Oid.signingTime, 'signingTime');
  if (signingTime === null) throw new VerificationError('TS_MALFORMED', 'countersignature has no signingTime');
  const time = readTime(signingTime, 'signingTime');
  const tsaCert = findSignerCertificate(counter, outerCertificates);
  verifySignerSignature(counter, tsaCert, stampedSignature);
  return { kind: 'authenticode', time, authority: tsaCert.subject, ...tsaChain(tsaCert, outerCertificates, tsaTrust, time) };
}

/** The TSA chain at the timestamp's own time; "no anchor" is returned, every other failure thrown. */
function tsaChain(tsaCert: Certificate, pool: Certificate[], tsaTrust: TrustAnchor[], at: Date): Pick<VerifiedTimestamp, 'chain' | 'untrusted'> {
  try {
    return { chain: buildChain(tsaCert, pool, tsaTrust, { at, ekus: [Oid.timeStamping] }), untrusted: null };
  } catch (e) {
    if (e instanceof VerificationError && e.failureClass === 'untrusted') return { chain: [], untrusted: asTimestampFailure(e) as VerificationError };
    throw e;
  }
}

const timestampCode: Partial<Record<VerificationCode, VerificationCode>> = {
  SIG_MALFORMED: 'TS_MALFORMED',
  SIG_UNSUPPORTED_ALGORITHM: 'TS_MALFORMED',
  SIG_WEAK_ALGORITHM: 'TS_WEAK_ALGORITHM',
  SIG_ALGORITHM_MISMATCH: 'TS_ALGORITHM_MISMATCH',
  SIG_CONTENT_TYPE: 'TS_MALFORMED',
  SIG_MESSAGE_DIGEST_MISMATCH: 'TS_MESSAGE_DIGEST_MISMATCH',
  SIG_SIGNER_NOT_FOUND: 'TS_SIGNER_NOT_FOUND',
  SIG_BAD_SIGNATURE: 'TS_BAD_SIGNATURE',
  SIG_LEGACY_RSA_ENCODING: 'TS_LEGACY_RSA_ENCODING',
  CHAIN_UNTRUSTED: 'TS_CHAIN_UNTRUSTED',
  CHAIN_NOT_CA: 'TS_CHAIN_UNTRUSTED',
  CHAIN_PATH_LENGTH: 'TS_CHAIN_UNTRUSTED',
  CHAIN_EXPIRED: 'TS_CHAIN_EXPIRED',
  CHAIN_BAD_SIGNATURE: 'TS_CHAIN_BAD_SIGNATURE',
  CHAIN_WEAK_KEY: 'TS_CHAIN_WEAK_KEY',
  CHAIN_WEAK_ALGORITHM: 'TS_CHAIN_WEAK_ALGORITHM',
  CHAIN_CRITICAL_EXTENSION: 'TS_CHAIN_CRITICAL_EXTENSION',
  EKU_MISSING: 'TS_EKU_MISSING',
  KEY_USAGE_MISSING: 'TS_EKU_MISSING',
};

/** The shared steps throw SIG_ and CHAIN_ codes; inside a timestamp they mean TS_ failures. */
function asTimestampFailure(e: unknown): unknown {
  if (!(e instanceof VerificationError)) return e;
  const code = timestampCode[e.code];
  return code === undefined ? e : new VerificationError(code, `timestamp: ${e.message}`);
}

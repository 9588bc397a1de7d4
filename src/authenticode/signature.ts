import { raw, Tag } from './der';
import { buildChainNamingOtherPurpose, type ChainLink } from './chain';
import type { Certificate } from './certificate';
import { isVerificationError, VerificationError } from './errors';
import { isSha2, Oid } from './oids';
import { parseSignedData, type SignedData, type SignerInfo } from './signed-data';
import { checkContentType, checkDigestStrength, checkMessageDigest, findSignerCertificate, verifySignerSignature } from './signer';
import { checkFileDigest, parseSpcIndirectData, programName, type SpcIndirectData } from './spc';
import { findTimestamp, verifyTimestamp, type TimestampKind, type VerifiedTimestamp } from './timestamp';
import type { TrustAnchor } from './trust';
import type { PageHashReport } from './pe-page-hashes';
import { isoTime } from '../iso-time';

/** What the operator trusts and when; passed in, never global. */
export interface TrustOptions {
  /** anchors for signer chains */
  trust: TrustAnchor[];
  /** anchors for timestamp authority chains (default: `trust`) */
  tsaTrust?: TrustAnchor[];
  /** "now" for signatures without a verified timestamp (default: the current time) */
  at?: Date;
  /**
   * anchors the caller holds for its own signatures only (a catalog's anchors for bundles and
   * media): never accepted for a signer chain; a signer that chains only to one is refused saying
   * so (CHAIN_ANCHOR_SIGNATURES_ONLY), not as a bare CHAIN_UNTRUSTED: the anchor is held, for
   * another purpose, and the operator must not go looking for a certificate they already have
   */
  signaturesOnly?: TrustAnchor[];
}

export interface ChainEntry {
  subject: string;
  issuer: string;
  serialNumber: string;
  notBefore: string;
  notAfter: string;
  sha256: string;
  /** the operator-supplied anchor this chain ends in */
  trustAnchor: boolean;
}

export interface TimestampReport {
  kind: TimestampKind;
  /** ISO 8601: the time the token states (proven only when `valid`); null if the token is unreadable or altered */
  time: string | null;
  authority: string | null;
  chain: ChainEntry[];
  valid: boolean;
  code: string | null;
  reason: string | null;
}

/** One signature (primary or nested) and what became of it. */
export interface SignatureReport {
  /** 0 = primary, then nested signatures in the order they are stored */
  index: number;
  nested: boolean;
  /** the algorithm of the signed content digest (for Authenticode: the file digest) */
  digestAlgorithm: string | null;
  /** the algorithm the signer hashed its attributes with */
  signerDigestAlgorithm: string | null;
  signer: string | null;
  issuer: string | null;
  serialNumber: string | null;
  /** SpcSpOpusInfo program name, when the signer gave one */
  description: string | null;
  chain: ChainEntry[];
  timestamp: TimestampReport | null;
  /** the time the chain was checked at (the verified timestamp, else --at, else now) */
  verifiedAt: string | null;
  /** PE only: which WIN_CERTIFICATE entry of the certificate table holds this signature (0 = the first) */
  certificateEntry?: number;
  /** PE only, when the signature carries page hashes: what was checked */
  pageHashes?: PageHashReport;
  valid: boolean;
  /** null when valid; else the failing step's code */
  code: string | null;
  reason: string;
}

/** A SignedData found in a blob: the primary one, or one nested in 1.3.6.1.4.1.311.2.4.1. */
export interface SignatureSlot {
  nested: boolean;
  signedData: SignedData | null;
  /** why the slot could not even be parsed */
  error: VerificationError | null;
}

/** Nested signatures inside nested signatures are legal but never seen; this bounds recursion. */
const MAX_NESTING = 4;

/**
 * The primary SignedData of a DER blob and every nested one, flattened in storage order.
 * The primary must parse (else SIG_MALFORMED is thrown: there is nothing to report on);
 * a nested one that does not parse becomes a slot with its error.
 */
export function collectSignatures(der: Buffer): SignatureSlot[] {
  const primary = parseSignedData(der);
  const slots: SignatureSlot[] = [{ nested: false, signedData: primary, error: null }];
  const walk = (sd: SignedData, depth: number): void => {
    for (const si of sd.signerInfos) {
      for (const value of si.unauthenticated.get(Oid.nestedSignature) ?? []) {
        let nested: SignedData;
        try {
          if (depth >= MAX_NESTING) throw new VerificationError('SIG_MALFORMED', 'nested signatures nest too deeply');
          nested = parseSignedData(value.buf, value.start, value.end);
        } catch (e) {
          if (!isVerificationError(e)) throw e;
          slots.push({ nested: true, signedData: null, error: e });
          continue;
        }
        slots.push({ nested: true, signedData: nested, error: null });
        walk(nested, depth + 1);
      }
    }
  };
  walk(primary, 1);
  return slots;
}

/** The Authenticode content of a slot, or the reason it has none. */
export function spcOf(slot: SignatureSlot): SpcIndirectData {
  if (slot.error !== null) throw slot.error;
  const sd = slot.signedData as SignedData;
  if (sd.contentType !== Oid.spcIndirectData || sd.content === null || sd.content.tag !== Tag.sequence) {
    throw new VerificationError('SIG_CONTENT_TYPE', `signed content is ${sd.contentType}, not SpcIndirectDataContent`);
  }
  return parseSpcIndirectData(sd.content);
}

/** The file digest algorithms a blob's signatures need (unparseable slots need none). */
export function requiredDigestAlgorithms(slots: SignatureSlot[]): string[] {
  const out = new Set<string>();
  for (const slot of slots) {
    try {
      out.add(spcOf(slot).digestAlgorithm);
    } catch (e) {
      if (!isVerificationError(e)) throw e;
    }
  }
  return [...out];
}

/**
 * Verify one Authenticode signature against the computed file digests:
 * checkFileDigest → the container's own checks of the signed content (a PE's page hashes)
 * → the SignerInfo steps (verifySigner) → chain at the timestamp time.
 */
export function verifyAuthenticodeSignature(
  slot: SignatureSlot,
  index: number,
  fileDigests: Map<string, Buffer>,
  options: TrustOptions,
  contentChecks?: (spc: SpcIndirectData, report: SignatureReport) => void,
): SignatureReport {
  const report = emptyReport(index, slot.nested);
  return runSteps(report, () => {
    const spc = spcOf(slot);
    report.digestAlgorithm = spc.digestAlgorithm;
    checkDigestStrength(spc.digestAlgorithm);
    checkFileDigest(spc, fileDigests);
    contentChecks?.(spc, report);
    verifySigner(slot.signedData as SignedData, report, options, [Oid.codeSigning]);
  });
}

/**
 * A signature whose file digest was checked before, over bytes that cannot have changed since (a
 * catalog blob, named and re-checked by its SHA-256), judged again against the trust given now:
 * every step of verifyAuthenticodeSignature but the file digest and the container's own content
 * checks. What removing or adding a trust anchor changes, without a pass over the file.
 */
export function verifySignatureTrust(slot: SignatureSlot, index: number, options: TrustOptions): SignatureReport {
  const report = emptyReport(index, slot.nested);
  return runSteps(report, () => {
    const spc = spcOf(slot);
    report.digestAlgorithm = spc.digestAlgorithm;
    checkDigestStrength(spc.digestAlgorithm);
    verifySigner(slot.signedData as SignedData, report, options, [Oid.codeSigning]);
  });
}

export interface SignedDataOptions extends TrustOptions {
  /** acceptable leaf EKUs (default: codeSigning); Windows catalogs are often signed with 1.3.6.1.4.1.311.10.3.6 */
  ekus?: string[];
}

export interface SignedDataResult {
  contentType: string;
  /**
   * The encapsulated content as a DER structure: for PKCS#7 v1.5 content (a catalog's CTL
   * SEQUENCE) the element itself, for CMS OCTET STRING content the octets.
   */
  content: Buffer;
  signatures: SignatureReport[];
}

/**
 * Verify a plain PKCS#7/CMS SignedData with embedded content, e.g. a Windows catalog
 * (update.cat, content type CTL 1.3.6.1.4.1.311.10.1): each signer's messageDigest must cover
 * the content, its signature, its timestamp and its chain. Nested signatures are verified on
 * their own and must sign the same content. A blob that is not SignedData at all throws
 * SIG_MALFORMED. Callers decide the policy; the safe one is "every signature valid".
 */
export function verifySignedData(der: Buffer, options: SignedDataOptions): SignedDataResult {
  const slots = collectSignatures(der);
  const primary = slots[0].signedData as SignedData;
  if (primary.content === null) throw new VerificationError('SIG_MALFORMED', 'SignedData has no embedded content');
  const ekus = options.ekus ?? [Oid.codeSigning];
  const signatures = slots.map((slot, index) =>
    runSteps(emptyReport(index, slot.nested), (report) => {
      if (slot.error !== null) throw slot.error;
      const sd = slot.signedData as SignedData;
      // a nested signature on a catalog must vouch for the same content the caller will read
      if (slot.nested && !(sd.contentValue !== null && sd.contentType === primary.contentType && sd.contentValue.equals(primary.contentValue as Buffer))) {
        throw new VerificationError('SIG_CONTENT_MISMATCH', 'the nested signature signs different content from the primary one');
      }
      verifySigner(sd, report, options, ekus);
    }),
  );
  const content = primary.content.tag === Tag.octetString ? Buffer.from(primary.contentValue as Buffer) : Buffer.from(raw(primary.content));
  return { contentType: primary.contentType, content, signatures };
}

/**
 * The SignerInfo steps every signature shares: exactly one signer; contentType and
 * messageDigest attributes; the signer certificate and its signature over the attributes;
 * the timestamp; the chain to an anchor at the verified time.
 */
function verifySigner(sd: SignedData, report: SignatureReport, options: TrustOptions, ekus: string[]): void {
  if (sd.signerInfos.length !== 1) throw new VerificationError('SIG_MALFORMED', `SignedData has ${sd.signerInfos.length} signers, expected 1`);
  const [si] = sd.signerInfos;
  report.signerDigestAlgorithm = si.digestAlgorithm;
  checkDigestStrength(si.digestAlgorithm);
  if (report.digestAlgorithm === null) report.digestAlgorithm = si.digestAlgorithm;
  report.description = programName(si);
  if (sd.contentValue === null) throw new VerificationError('SIG_MALFORMED', 'SignedData has no embedded content');
  checkContentType(si, sd.contentType);
  checkMessageDigest(si, sd.contentValue);
  const cert = findSignerCertificate(si, sd.certificates);
  report.signer = cert.subject;
  report.issuer = cert.issuer;
  report.serialNumber = cert.serial.toString('hex');
  verifySignerSignature(si, cert);

  const timestamp = verifySignerTimestamp(si, sd.certificates, report, options);
  const at = chainTime(cert, timestamp?.time ?? null, options.at);
  report.verifiedAt = isoTime(at);
  report.chain = signerChain(cert, sd.certificates, options, { at, ekus }).map(chainEntry);
  // everything else holds: only now is an untrusted timestamp authority the verdict
  if (timestamp?.untrusted) throw timestamp.untrusted;
}

/**
 * The signer's chain to an anchor of `options.trust`, or the VerificationError buildChain throws;
 * when there is none but there is one to an anchor of `options.signaturesOnly`, that is the
 * failure (CHAIN_ANCHOR_SIGNATURES_ONLY, naming the anchor). That anchor never makes it valid.
 */
function signerChain(cert: Certificate, pool: Certificate[], options: TrustOptions, policy: { at: Date; ekus: string[] }): ChainLink[] {
  return buildChainNamingOtherPurpose(cert, pool, options.trust, options.signaturesOnly ?? [], policy, ({ certificate: anchor }) => new VerificationError(
    'CHAIN_ANCHOR_SIGNATURES_ONLY',
    `no chain from "${cert.subject}" to an anchor trusted for payloads: it chains to "${anchor.subject}" (${anchor.sha256Fingerprint.slice(0, 16)}…), which the catalog trusts for signatures only (its bundles and media), not for updates`,
  ));
}

function verifySignerTimestamp(si: SignerInfo, certificates: Certificate[], report: SignatureReport, options: TrustOptions): VerifiedTimestamp | null {
  const found = findTimestamp(si);
  if (found === null) return null;
  report.timestamp = { kind: found.kind, time: null, authority: null, chain: [], valid: false, code: null, reason: null };
  try {
    const ts = verifyTimestamp(si, certificates, options.tsaTrust ?? options.trust);
    if (ts === null) return null;
    Object.assign(report.timestamp, {
      time: isoTime(ts.time),
      authority: ts.authority,
      chain: ts.chain.map(chainEntry),
      valid: ts.untrusted === null,
      code: ts.untrusted?.code ?? null,
      reason: ts.untrusted?.message ?? 'verified',
    });
    return ts;
  } catch (e) {
    if (isVerificationError(e)) Object.assign(report.timestamp, { code: e.code, reason: e.message });
    throw e;
  }
}

/** Lifetime-signing certificates (1.3.6.1.4.1.311.10.3.13) are not extended by a timestamp. */
const LIFETIME_SIGNING = '1.3.6.1.4.1.311.10.3.13';

function chainTime(signer: Certificate, timestamp: Date | null, at: Date | undefined): Date {
  if (timestamp !== null && !(signer.extKeyUsage ?? []).includes(LIFETIME_SIGNING)) return timestamp;
  return at ?? new Date();
}

function chainEntry(link: ChainLink): ChainEntry {
  const c = link.certificate;
  return {
    subject: c.subject,
    issuer: c.issuer,
    serialNumber: c.serial.toString('hex'),
    notBefore: isoTime(c.notBefore),
    notAfter: isoTime(c.notAfter),
    sha256: c.sha256Fingerprint,
    trustAnchor: link.anchor !== null,
  };
}

function emptyReport(index: number, nested: boolean): SignatureReport {
  return {
    index,
    nested,
    digestAlgorithm: null,
    signerDigestAlgorithm: null,
    signer: null,
    issuer: null,
    serialNumber: null,
    description: null,
    chain: [],
    timestamp: null,
    verifiedAt: null,
    valid: false,
    code: null,
    reason: '',
  };
}

/** Run the steps; the first VerificationError ends them and becomes the report's code and reason. */
function runSteps(report: SignatureReport, steps: (report: SignatureReport) => void): SignatureReport {
  try {
    steps(report);
    report.valid = true;
    report.reason = report.timestamp?.valid ? `verified; chain checked at the timestamp time` : 'verified; chain checked at the verification time';
  } catch (e) {
    if (!isVerificationError(e)) throw e;
    report.valid = false;
    report.code = e.code;
    report.reason = e.message;
  }
  return report;
}

/** A signature that satisfies `--require-sha2`: both its content digest and its signer digest are SHA-2. */
export function isSha2Signature(r: SignatureReport): boolean {
  return r.valid && r.digestAlgorithm !== null && isSha2(r.digestAlgorithm) && r.signerDigestAlgorithm !== null && isSha2(r.signerDigestAlgorithm);
}

import { hasKeyUsage, KeyUsageBit, unprocessedCriticalExtensions, type Certificate } from './certificate';
import { isVerificationError, VerificationError } from './errors';
import { certificateSignatureDigest, isBrokenDigest, Oid } from './oids';
import type { TrustAnchor } from './trust';
import { isoTime } from '../iso-time';

/** What a chain must satisfy. */
export interface ChainPolicy {
  /** the time every non-anchor certificate must be valid at */
  at: Date;
  /** acceptable leaf extended key usages (any one of them); the leaf must carry the extension */
  ekus: string[];
}

export interface ChainLink {
  certificate: Certificate;
  /** set on the last link: the anchor the chain ends in */
  anchor: TrustAnchor | null;
}

/** Bounds the search when certificate pools hold many cross-signed variants. */
const MAX_CHAIN_LENGTH = 10;
const MAX_CANDIDATE_PATHS = 64;
/** Certificates mutually "issuing" each other (a crafted pool) must not make the search exponential. */
const MAX_SEARCH_STEPS = 4096;

/**
 * The chain from `leaf` to an anchor of `anchors`, as buildChain builds it. When there is none
 * (CHAIN_UNTRUSTED) but there is one to an anchor the caller holds for another purpose
 * (`otherPurpose`: a catalog's anchors for signatures only, or for payloads only), the error
 * `otherPurposeError` makes of that chain's last link is thrown instead: the operator lacks a
 * purpose, not a certificate. An anchor of `otherPurpose` never makes a chain.
 */
export function buildChainNamingOtherPurpose(
  leaf: Certificate,
  pool: Certificate[],
  anchors: TrustAnchor[],
  otherPurpose: TrustAnchor[],
  policy: ChainPolicy,
  otherPurposeError: (anchorLink: ChainLink) => Error,
): ChainLink[] {
  try {
    return buildChain(leaf, pool, anchors, policy);
  } catch (e) {
    if (!isVerificationError(e) || e.code !== 'CHAIN_UNTRUSTED' || otherPurpose.length === 0) throw e;
    let elsewhere: ChainLink[];
    try {
      elsewhere = buildChain(leaf, pool, otherPurpose, policy);
    } catch {
      throw e;
    }
    throw otherPurposeError(elsewhere[elsewhere.length - 1]!);
  }
}

/**
 * Check the leaf (EKU, digitalSignature key usage, validity at `policy.at`), anchor or not, then build a path
 * through the embedded certificates to one of `anchors` and check it: signatures
 * (node:crypto), validity of every non-anchor issuer at `policy.at`, CA constraints
 * (basicConstraints cA, keyCertSign, pathLen). Anchors are trusted as they are (see TrustAnchor).
 *
 * Every candidate path is tried; the first that passes wins, else the first path's failure is
 * reported, else CHAIN_UNTRUSTED.
 */
export function buildChain(leaf: Certificate, pool: Certificate[], anchors: TrustAnchor[], policy: ChainPolicy): ChainLink[] {
  const anchorOf = (c: Certificate): TrustAnchor | null => anchors.find((a) => sameCertificate(a.certificate, c)) ?? null;
  // The signer's own certificate is judged first: an expired or wrong-purpose signer fails
  // whatever the operator trusts, and so does a signer certificate the operator trusts directly.
  // "Anchors are trusted as they are" lets an anchor vouch for the certificates below it; it
  // does not widen what the anchor's own key may sign (RFC 5280 §4.2.1.3, §4.2.1.12): a trusted
  // TSA certificate (timeStamping only) or CA certificate (keyCertSign, cRLSign) signs no code,
  // and an expired root signs nothing after it expired. --tsa-trust defaults to --trust, so a
  // trust file holding a TSA certificate is an ordinary thing to have.
  checkLeafPurpose(leaf, policy.ekus);
  checkCriticalExtensions(leaf);
  checkKeyStrength(leaf);
  checkValidity(leaf, policy.at);
  const paths: ChainLink[][] = [];
  let steps = 0;
  /** an issuer found by name whose key does not verify the certificate: a forged or altered certificate */
  const badSignatures: { cert: Certificate; issuer: Certificate }[] = [];

  const extend = (path: Certificate[]): void => {
    if (paths.length >= MAX_CANDIDATE_PATHS || ++steps > MAX_SEARCH_STEPS) return;
    const current = path[path.length - 1];
    const anchor = anchorOf(current);
    if (anchor !== null) {
      paths.push(path.map((certificate, i) => ({ certificate, anchor: i === path.length - 1 ? anchor : null })));
      return;
    }
    if (path.length >= MAX_CHAIN_LENGTH) return;
    const candidates = [...anchors.map((a) => a.certificate), ...pool].filter(
      (c) => c.subjectName.equals(current.issuerName) && !path.some((p) => sameCertificate(p, c)) && keyIdsAgree(current, c),
    );
    for (const issuer of candidates) {
      if (!signedBy(current, issuer)) {
        badSignatures.push({ cert: current, issuer });
        continue;
      }
      extend([...path, issuer]);
    }
  };
  extend([leaf]);

  if (paths.length === 0) {
    const [bad] = badSignatures;
    if (bad !== undefined) {
      throw new VerificationError(
        'CHAIN_BAD_SIGNATURE',
        `"${bad.cert.subject}" names "${bad.issuer.subject}" as its issuer, but its signature does not verify with that key`,
      );
    }
    throw new VerificationError('CHAIN_UNTRUSTED', `no chain from "${leaf.subject}" (issued by "${leaf.issuer}") to a trust anchor`);
  }
  let firstFailure: VerificationError | null = null;
  for (const path of paths) {
    try {
      checkChain(path, policy);
      return path;
    } catch (e) {
      if (!(e instanceof VerificationError)) throw e;
      firstFailure ??= e;
    }
  }
  throw firstFailure as VerificationError;
}

/**
 * The issuers strictly between the leaf and the anchor: valid at the time, CAs, and — when they
 * restrict extended key usage — allowed to issue for the purpose (Windows' EKU chaining: a CA
 * limited to timestamping cannot vouch for a code signer). Every issuer, the anchor included,
 * has a key of acceptable strength and no critical extension the verifier does not process.
 * Every certificate but the anchor is signed with an unbroken
 * digest.
 */
function checkChain(path: ChainLink[], policy: ChainPolicy): void {
  path.forEach((link, i) => {
    if (link.anchor === null) checkCertificateDigest(link.certificate);
    if (i === 0) return;
    // the anchor too: its key signs the certificates below it, and trusting a key anyone can factor vouches for nothing
    checkKeyStrength(link.certificate);
    // the anchor too: a constraint it carries as critical limits what it vouches for, and dropping it would widen that
    checkCriticalExtensions(link.certificate);
    if (link.anchor !== null) return;
    checkValidity(link.certificate, policy.at);
    checkIssuerConstraints(link.certificate, i - 1);
    checkIssuerPurpose(link.certificate, policy.ekus);
  });
}

function checkIssuerPurpose(issuer: Certificate, ekus: string[]): void {
  const allowed = issuer.extKeyUsage;
  if (allowed === null || ekus.length === 0 || allowed.includes(Oid.anyExtendedKeyUsage)) return;
  if (!allowed.some((e) => ekus.includes(e))) {
    throw new VerificationError('EKU_MISSING', `"${issuer.subject}" may only issue for ${allowed.join(', ')}, not for ${ekus.join(' or ')}`);
  }
}

function checkLeafPurpose(leaf: Certificate, ekus: string[]): void {
  if (ekus.length > 0) {
    const present = leaf.extKeyUsage;
    if (present === null || !present.some((e) => ekus.includes(e) || e === Oid.anyExtendedKeyUsage)) {
      throw new VerificationError(
        'EKU_MISSING',
        `"${leaf.subject}" is not allowed to sign this (extended key usage ${present === null ? 'absent' : present.join(', ')}; needs ${ekus.join(' or ')})`,
      );
    }
  }
  if (leaf.keyUsage !== null && !hasKeyUsage(leaf, KeyUsageBit.digitalSignature)) {
    throw new VerificationError('KEY_USAGE_MISSING', `"${leaf.subject}" key usage does not include digitalSignature`);
  }
}

/**
 * Windows has refused RSA keys under 1024 bits anywhere in a chain since 2012 (Microsoft Security
 * Advisory 2661254, KB2661254): a 512-bit modulus is factored in hours, so a signature by such a
 * key, or a certificate it issued, proves nothing. 1024-bit keys stay accepted, as Windows accepts
 * them: the old Microsoft and VeriSign timestamping chains that real updates carry use them.
 * Applied to every certificate of the path, anchor included, and to timestamp chains alike.
 */
export const MIN_RSA_KEY_BITS = 1024;

function checkKeyStrength(cert: Certificate): void {
  const key = cert.publicKey;
  if (key.asymmetricKeyType !== 'rsa' && key.asymmetricKeyType !== 'rsa-pss') return;
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_KEY_BITS) {
    throw new VerificationError('CHAIN_WEAK_KEY', `"${cert.subject}" has a ${bits}-bit RSA key; keys under ${MIN_RSA_KEY_BITS} bits are not accepted (they can be factored)`);
  }
}

/** RFC 5280 §4.2; what counts as processed is listed in one place (certificate.ts processedExtensions). */
function checkCriticalExtensions(cert: Certificate): void {
  const unprocessed = unprocessedCriticalExtensions(cert);
  if (unprocessed.length > 0) {
    throw new VerificationError(
      'CHAIN_CRITICAL_EXTENSION',
      `"${cert.subject}" carries a critical extension cabferry does not process (${unprocessed.join(', ')}); a certificate that restricts itself in a way the verifier cannot check is not accepted`,
    );
  }
}

/**
 * A certificate signed over an MD5 (or MD2, MD4) digest vouches for nothing: a chosen-prefix
 * collision makes a second certificate with the same signature, as Flame (2012) turned a
 * Microsoft licensing certificate into a code signer. Windows refuses them in code-signing chains
 * (KB2862973). Judged on every certificate whose signature the path relies on, the leaf included;
 * not on the anchor's own (self-)signature, which vouches for nothing here: the anchor is trusted
 * as the operator gave it (so the 1997 "Microsoft Root Authority", MD5 self-signed, still anchors).
 * Searched paths compete (buildChain): an issuer cross-signed with SHA-1 beside MD5 still chains.
 * SHA-1 certificate signatures stay accepted, as Windows accepts them on pre-2016 chains (the
 * corpus's Microsoft roots and PCAs use them).
 */
function checkCertificateDigest(cert: Certificate): void {
  const digest = certificateSignatureDigest(cert.signatureAlgorithmOid);
  if (digest !== null && isBrokenDigest(digest)) {
    throw new VerificationError(
      'CHAIN_WEAK_ALGORITHM',
      `"${cert.subject}" is signed by "${cert.issuer}" over ${digest.toUpperCase()} (${cert.signatureAlgorithmOid}); certificates signed with ${digest.toUpperCase()} are not accepted: its collisions are practical`,
    );
  }
}

function checkValidity(cert: Certificate, at: Date): void {
  if (at < cert.notBefore || at > cert.notAfter) {
    throw new VerificationError(
      'CHAIN_EXPIRED',
      `"${cert.subject}" is valid ${isoTime(cert.notBefore)} to ${isoTime(cert.notAfter)}, not at ${isoTime(at)}`,
    );
  }
}

/** `below` = number of CA certificates between this issuer and the leaf. */
function checkIssuerConstraints(cert: Certificate, below: number): void {
  const bc = cert.basicConstraints;
  if (bc === null || !bc.ca) throw new VerificationError('CHAIN_NOT_CA', `"${cert.subject}" issues certificates but is not a CA`);
  if (cert.keyUsage !== null && !hasKeyUsage(cert, KeyUsageBit.keyCertSign)) {
    throw new VerificationError('CHAIN_NOT_CA', `"${cert.subject}" key usage does not include keyCertSign`);
  }
  if (bc.pathLength !== null && below > bc.pathLength) {
    throw new VerificationError('CHAIN_PATH_LENGTH', `"${cert.subject}" allows ${bc.pathLength} CA certificates below it, the chain has ${below}`);
  }
}

/** Same certificate, or the same subject and key (a re-issued or cross-signed anchor). */
function sameCertificate(a: Certificate, b: Certificate): boolean {
  if (a.der.equals(b.der)) return true;
  return a.subjectName.equals(b.subjectName) && a.publicKey.equals(b.publicKey);
}

/** When both carry key identifiers they must agree; this prunes candidates before any signature math. */
function keyIdsAgree(child: Certificate, issuer: Certificate): boolean {
  return child.authorityKeyId === null || issuer.subjectKeyId === null || child.authorityKeyId.equals(issuer.subjectKeyId);
}

const signatureCache = new WeakMap<Certificate, Map<Certificate, boolean>>();

/** The certificate's signature verifies with the issuer's key (cached: trust bundles are reused). */
function signedBy(cert: Certificate, issuer: Certificate): boolean {
  let byIssuer = signatureCache.get(cert);
  if (byIssuer === undefined) {
    byIssuer = new Map();
    signatureCache.set(cert, byIssuer);
  }
  let ok = byIssuer.get(issuer);
  if (ok === undefined) {
    try {
      ok = cert.x509.verify(issuer.publicKey);
    } catch {
      ok = false;
    }
    byIssuer.set(issuer, ok);
  }
  return ok;
}

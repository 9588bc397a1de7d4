import { X509Certificate, type KeyObject } from 'node:crypto';
import { children, expectChildren, expectTag, raw, readDer, readOid, readOctets, readString, readTime, Tag, value, type Der } from './der';
import { VerificationError } from './errors';
import { Oid } from './oids';

/**
 * A certificate as the verifier needs it: node:crypto does the signature math (publicKey,
 * verify), the DER walker supplies what Node 20 does not expose exactly (raw issuer/subject
 * Names for issuerAndSerialNumber matching, validity as Dates, extension contents).
 */
export interface Certificate {
  readonly der: Buffer;
  readonly x509: X509Certificate;
  readonly publicKey: KeyObject;
  /** the Name elements exactly as encoded (compared bytewise, like CryptoAPI does) */
  readonly subjectName: Buffer;
  readonly issuerName: Buffer;
  /** the serialNumber INTEGER contents, leading zero octet included as encoded */
  readonly serial: Buffer;
  readonly subject: string;
  readonly issuer: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly basicConstraints: { ca: boolean; pathLength: number | null } | null;
  /** KeyUsage bits as a number, bit 0 = digitalSignature … bit 8 = decipherOnly; null if absent */
  readonly keyUsage: number | null;
  /** extended key usage OIDs; null if the extension is absent (= any purpose) */
  readonly extKeyUsage: string[] | null;
  readonly subjectKeyId: Buffer | null;
  readonly authorityKeyId: Buffer | null;
  /** OIDs of the extensions marked critical, processed or not (see unprocessedCriticalExtensions) */
  readonly criticalExtensions: string[];
  /** the issuer's signature algorithm over this certificate (Certificate.signatureAlgorithm) */
  readonly signatureAlgorithmOid: string;
  readonly sha256Fingerprint: string;
}

export const KeyUsageBit = { digitalSignature: 0, keyCertSign: 5 } as const;

export function hasKeyUsage(cert: Certificate, bit: number): boolean {
  return cert.keyUsage !== null && (cert.keyUsage & (1 << bit)) !== 0;
}

/**
 * Certificates this process has parsed, by their DER. A dual-signed file carries the same signer,
 * intermediate and time-stamping certificates in both signatures (a small `cabferry verify` parsed
 * 8 certificates, 4 distinct), and the catalogs inside a payload carry them again. A parse depends
 * on the bytes alone and its result is frozen, so one parse serves every copy. Bounded: a run meets
 * few distinct certificates, a hostile file may carry many.
 */
const parsedCertificates = new Map<string, Certificate>();
const PARSED_CERTIFICATES_MAX = 256;

/** Parse one DER certificate; anything unreadable is SIG_MALFORMED (it came from a signature). */
export function parseCertificate(der: Buffer): Certificate {
  const key = der.toString('base64');
  const known = parsedCertificates.get(key);
  if (known !== undefined) return known;
  // its own copy of the bytes: the caller's buffer may be a view of one that is reused
  const certificate = readCertificate(Buffer.from(der));
  if (parsedCertificates.size >= PARSED_CERTIFICATES_MAX) parsedCertificates.clear();
  parsedCertificates.set(key, certificate);
  return certificate;
}

function readCertificate(der: Buffer): Certificate {
  const top = readDer(der);
  if (top.end !== der.length) throw new VerificationError('SIG_MALFORMED', 'trailing bytes after certificate');
  const [tbs, signatureAlgorithm] = expectChildren(top, Tag.sequence, 'Certificate', 3);
  // node:crypto's verify refuses a certificate whose TBSCertificate.signature differs from this one
  const signatureAlgorithmOid = readOid(expectChildren(signatureAlgorithm, Tag.sequence, 'signatureAlgorithm', 1)[0], 'signatureAlgorithm');
  const fields = expectChildren(tbs, Tag.sequence, 'TBSCertificate', 6);
  let i = 0;
  if (fields[0].tag === Tag.context(0)) i++; // [0] version
  const serial = value(expectTag(fields[i++], Tag.integer, 'serialNumber'));
  i++; // signature AlgorithmIdentifier: node:crypto checks it together with the signature
  const issuerName = raw(expectTag(fields[i++], Tag.sequence, 'issuer'));
  const validity = expectChildren(fields[i++], Tag.sequence, 'validity', 2);
  const subjectName = raw(expectTag(fields[i++], Tag.sequence, 'subject'));
  i++; // subjectPublicKeyInfo
  let extensions: Der[] = [];
  for (; i < fields.length; i++) {
    if (fields[i].tag === Tag.context(3)) extensions = expectChildren(children(fields[i])[0], Tag.sequence, 'extensions');
  }

  let x509: X509Certificate;
  let publicKey: KeyObject;
  try {
    x509 = new X509Certificate(der);
    // the key is decoded lazily by OpenSSL: a damaged SubjectPublicKeyInfo only fails here (found by scripts/fuzz)
    publicKey = x509.publicKey;
  } catch (e) {
    throw new VerificationError('SIG_MALFORMED', `unreadable certificate: ${(e as Error).message}`);
  }
  const ext = readExtensions(extensions);
  Object.freeze(ext.extKeyUsage);
  Object.freeze(ext.criticalExtensions);
  return Object.freeze({
    der,
    x509,
    publicKey,
    subjectName,
    issuerName,
    serial,
    subject: displayName(subjectName),
    issuer: displayName(issuerName),
    notBefore: readTime(validity[0], 'notBefore'),
    notAfter: readTime(validity[1], 'notAfter'),
    ...ext,
    signatureAlgorithmOid,
    sha256Fingerprint: x509.fingerprint256.replace(/:/g, '').toLowerCase(),
  });
}

/**
 * The extensions the verifier processes: readExtensions reads them and the chain rules act on
 * them (basic constraints, key usage, extended key usage; key identifiers to pick issuers).
 * certificatePolicies counts as processed the way RFC 5280 §6.1 processes it with the inputs
 * cabferry (like Windows and osslsigncode by default) gives: any policy acceptable, no explicit
 * policy required, so a critical one constrains nothing; policyConstraints, which could require
 * one, is not processed. A certificate with any other extension marked critical is refused
 * (RFC 5280 §4.2: a critical extension the system does not recognise means reject): its issuer
 * put a restriction there (name constraints, policy constraints, a private one) that cabferry
 * would otherwise silently drop.
 */
const processedExtensions: ReadonlySet<string> = new Set([
  Oid.basicConstraints,
  Oid.keyUsage,
  Oid.extKeyUsage,
  Oid.subjectKeyIdentifier,
  Oid.authorityKeyIdentifier,
  Oid.certificatePolicies,
]);

/** The critical extensions of `cert` the verifier does not process (processedExtensions); the chain refuses a certificate with any. */
export function unprocessedCriticalExtensions(cert: Certificate): string[] {
  return cert.criticalExtensions.filter((oid) => !processedExtensions.has(oid));
}

type Extensions = { -readonly [K in 'basicConstraints' | 'keyUsage' | 'extKeyUsage' | 'subjectKeyId' | 'authorityKeyId' | 'criticalExtensions']: Certificate[K] };

function readExtensions(extensions: Der[]): Extensions {
  const out: Extensions = { basicConstraints: null, keyUsage: null, extKeyUsage: null, subjectKeyId: null, authorityKeyId: null, criticalExtensions: [] };
  for (const ext of extensions) {
    const parts = expectChildren(ext, Tag.sequence, 'Extension', 2);
    const oid = readOid(parts[0], 'extnID');
    // critical BOOLEAN DEFAULT FALSE: present only between extnID and extnValue
    if (parts.length === 3 && value(expectTag(parts[1], Tag.boolean, 'critical'))[0] !== 0) out.criticalExtensions.push(oid);
    const body = readOctets(parts[parts.length - 1], 'extnValue');
    const inner = readDer(body);
    switch (oid) {
      case Oid.basicConstraints: {
        const bc = expectChildren(inner, Tag.sequence, 'basicConstraints');
        let k = 0;
        let ca = false;
        if (bc[k]?.tag === Tag.boolean) ca = value(bc[k++])[0] !== 0;
        let pathLength: number | null = null;
        if (bc[k]?.tag === Tag.integer) {
          const v = value(bc[k]);
          pathLength = v.length > 4 ? Number.MAX_SAFE_INTEGER : v.readUIntBE(0, Math.max(1, v.length));
        }
        out.basicConstraints = { ca, pathLength };
        break;
      }
      case Oid.keyUsage: {
        const bits = value(expectTag(inner, Tag.bitString, 'keyUsage'));
        let n = 0;
        // BIT STRING: first octet is the unused-bit count; bit 0 is the MSB of the next octet
        for (let b = 0; b < Math.min(16, (bits.length - 1) * 8); b++) {
          if (bits[1 + (b >> 3)] & (0x80 >> (b & 7))) n |= 1 << b;
        }
        out.keyUsage = n;
        break;
      }
      case Oid.extKeyUsage:
        out.extKeyUsage = expectChildren(inner, Tag.sequence, 'extKeyUsage').map((d) => readOid(d, 'KeyPurposeId'));
        break;
      case Oid.subjectKeyIdentifier:
        out.subjectKeyId = readOctets(inner, 'subjectKeyIdentifier');
        break;
      case Oid.authorityKeyIdentifier: {
        const keyId = expectChildren(inner, Tag.sequence, 'authorityKeyIdentifier').find((d) => d.tag === Tag.contextPrimitive(0));
        out.authorityKeyId = keyId ? value(keyId) : null;
        break;
      }
    }
  }
  return out;
}

/** The CN of a Name (else O, else OU), for reports: "Microsoft Corporation". */
export function displayName(name: Buffer): string {
  const found: Record<string, string> = {};
  for (const rdn of children(readDer(name))) {
    for (const atv of children(rdn)) {
      const [type, val] = children(atv);
      if (type === undefined || val === undefined) continue;
      const oid = readOid(type, 'AttributeType');
      if (found[oid] === undefined) found[oid] = readString(val);
    }
  }
  return found[Oid.commonName] ?? found[Oid.organizationName] ?? found[Oid.organizationalUnitName] ?? '';
}

/** Certificates from PEM text (any number of blocks) or a single DER certificate. */
export function certificatesFromFileBytes(bytes: Buffer): Buffer[] {
  const text = bytes.toString('latin1');
  if (text.includes('-----BEGIN')) {
    const out: Buffer[] = [];
    const re = /-----BEGIN (?:X509 |TRUSTED )?CERTIFICATE-----([\s\S]*?)-----END (?:X509 |TRUSTED )?CERTIFICATE-----/g;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) out.push(Buffer.from(m[1].replace(/\s+/g, ''), 'base64'));
    return out;
  }
  return [bytes];
}

import { children, expectChildren, expectTag, raw, readDer, readOid, readOctets, readSmallInt, Tag, value, type Der } from './der';
import { parseCertificate, type Certificate } from './certificate';
import { VerificationError } from './errors';
import { digestAlgorithmName, Oid } from './oids';

/**
 * PKCS#7 / CMS SignedData (RFC 2315 and RFC 5652), read without re-encoding anything.
 * Authenticode and Windows catalogs use the PKCS#7 v1.5 form, where the content is the
 * structure itself ([0] EXPLICIT SEQUENCE); RFC 3161 tokens use the CMS form ([0] EXPLICIT
 * OCTET STRING). Both are accepted; `contentValue` is what messageDigest covers in either case.
 */
export interface SignedData {
  readonly contentType: string;
  /** the encapsulated content element ([0]'s child); null for detached content */
  readonly content: Der | null;
  /** the content octets the messageDigest attribute covers: the value of `content`, tag and length excluded */
  readonly contentValue: Buffer | null;
  readonly certificates: Certificate[];
  readonly signerInfos: SignerInfo[];
}

export interface SignerInfo {
  readonly version: number;
  /** issuerAndSerialNumber (v1) … */
  readonly issuerName: Buffer | null;
  readonly serial: Buffer | null;
  /** … or subjectKeyIdentifier (v3) */
  readonly subjectKeyId: Buffer | null;
  readonly digestAlgorithm: string;
  /** the [0] IMPLICIT authenticated attributes as stored, or null */
  readonly authenticatedAttributes: Der | null;
  readonly signatureAlgorithmOid: string;
  readonly signature: Buffer;
  readonly authenticated: Attributes;
  readonly unauthenticated: Attributes;
}

/** Attribute values by type OID, each a list (an attribute is a SET OF values). */
export type Attributes = Map<string, Der[]>;

/** Parse a DER ContentInfo that must hold SignedData; trailing bytes are rejected. */
export function parseSignedData(der: Buffer, offset = 0, limit = der.length): SignedData {
  const contentInfo = readDer(der, offset, limit);
  const [typeEl, explicit] = expectChildren(contentInfo, Tag.sequence, 'ContentInfo', 2);
  const type = readOid(typeEl, 'ContentInfo.contentType');
  if (type !== Oid.signedData) throw new VerificationError('SIG_MALFORMED', `content type ${type} is not SignedData`);
  const [signedData] = expectChildren(explicit, Tag.context(0), 'ContentInfo.content', 1);
  const parts = expectChildren(signedData, Tag.sequence, 'SignedData', 4);

  let i = 0;
  readSmallInt(parts[i++], 'SignedData.version');
  expectTag(parts[i++], Tag.set, 'SignedData.digestAlgorithms');
  const encap = expectChildren(parts[i++], Tag.sequence, 'SignedData.contentInfo', 1);
  const contentType = readOid(encap[0], 'encapsulated contentType');
  let content: Der | null = null;
  if (encap.length > 1) {
    const wrapped = expectChildren(encap[1], Tag.context(0), 'encapsulated content', 1);
    if (wrapped.length !== 1) throw new VerificationError('SIG_MALFORMED', 'encapsulated content holds more than one element');
    content = wrapped[0];
    // a constructed (BER) OCTET STRING would hash differently from what was signed
    if (content.tag === 0x24) throw new VerificationError('SIG_MALFORMED', 'constructed OCTET STRING content is not DER');
  }

  const certificates: Certificate[] = [];
  if (parts[i]?.tag === Tag.context(0)) {
    for (const c of children(parts[i++])) {
      // other certificate choices ([0]..[3]: extended, attribute certs) carry nothing a chain uses
      if (c.tag === Tag.sequence) certificates.push(parseCertificate(Buffer.from(raw(c))));
    }
  }
  if (parts[i]?.tag === Tag.context(1)) i++; // crls: no revocation checking offline
  const signerInfoSet = expectChildren(parts[i++], Tag.set, 'SignedData.signerInfos');
  if (i !== parts.length) throw new VerificationError('SIG_MALFORMED', 'unexpected elements after SignedData.signerInfos');

  return {
    contentType,
    content,
    contentValue: content === null ? null : value(content),
    certificates,
    signerInfos: signerInfoSet.map(parseSignerInfo),
  };
}

export function parseSignerInfo(d: Der): SignerInfo {
  const parts = expectChildren(d, Tag.sequence, 'SignerInfo', 5);
  let i = 0;
  const version = readSmallInt(parts[i++], 'SignerInfo.version');
  const sid = parts[i++];
  let issuerName: Buffer | null = null;
  let serial: Buffer | null = null;
  let subjectKeyId: Buffer | null = null;
  if (sid.tag === Tag.sequence) {
    const [issuer, serialEl] = expectChildren(sid, Tag.sequence, 'issuerAndSerialNumber', 2);
    issuerName = raw(expectTag(issuer, Tag.sequence, 'issuer'));
    serial = value(expectTag(serialEl, Tag.integer, 'serialNumber'));
  } else if (sid.tag === Tag.contextPrimitive(0)) {
    subjectKeyId = value(sid);
  } else {
    throw new VerificationError('SIG_MALFORMED', 'SignerInfo.sid is neither issuerAndSerialNumber nor subjectKeyIdentifier');
  }
  const digestAlgorithm = digestAlgorithmName(readOid(expectChildren(parts[i++], Tag.sequence, 'SignerInfo.digestAlgorithm', 1)[0], 'digestAlgorithm'));
  let authenticatedAttributes: Der | null = null;
  if (parts[i]?.tag === Tag.context(0)) authenticatedAttributes = parts[i++];
  const signatureAlgorithmOid = readOid(expectChildren(parts[i++], Tag.sequence, 'SignerInfo.signatureAlgorithm', 1)[0], 'signatureAlgorithm');
  const signature = readOctets(parts[i++], 'SignerInfo.signature');
  let unauthenticated: Attributes = new Map();
  if (parts[i]?.tag === Tag.context(1)) unauthenticated = readAttributes(parts[i++]);
  if (i !== parts.length) throw new VerificationError('SIG_MALFORMED', 'unexpected elements after SignerInfo.signature');
  return {
    version,
    issuerName,
    serial,
    subjectKeyId,
    digestAlgorithm,
    authenticatedAttributes,
    signatureAlgorithmOid,
    signature,
    authenticated: authenticatedAttributes === null ? new Map() : readAttributes(authenticatedAttributes),
    unauthenticated,
  };
}

function readAttributes(set: Der): Attributes {
  const out: Attributes = new Map();
  for (const attr of children(set)) {
    const [typeEl, values] = expectChildren(attr, Tag.sequence, 'Attribute', 2);
    const oid = readOid(typeEl, 'Attribute.type');
    const list = children(expectTag(values, Tag.set, 'Attribute.values'));
    out.set(oid, [...(out.get(oid) ?? []), ...list]);
  }
  return out;
}

/** The one value of an attribute that must occur exactly once (contentType, messageDigest). */
export function singleAttribute(attrs: Attributes, oid: string, what: string): Der | null {
  const values = attrs.get(oid);
  if (values === undefined) return null;
  if (values.length !== 1) throw new VerificationError('SIG_MALFORMED', `${what} attribute has ${values.length} values`);
  return values[0];
}

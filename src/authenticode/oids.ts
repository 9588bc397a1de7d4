import { VerificationError } from './errors';

/** The object identifiers Authenticode and its timestamps use (FORMATS.md §3.3). */
export const Oid = {
  signedData: '1.2.840.113549.1.7.2',
  data: '1.2.840.113549.1.7.1',
  spcIndirectData: '1.3.6.1.4.1.311.2.1.4',
  ctl: '1.3.6.1.4.1.311.10.1',
  tstInfo: '1.2.840.113549.1.9.16.1.4',
  // authenticated / unauthenticated attributes
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  counterSignature: '1.2.840.113549.1.9.6',
  rfc3161Timestamp: '1.3.6.1.4.1.311.3.3.1',
  nestedSignature: '1.3.6.1.4.1.311.2.4.1',
  spcSpOpusInfo: '1.3.6.1.4.1.311.2.1.12',
  // signature algorithms
  rsaEncryption: '1.2.840.113549.1.1.1',
  rsaPss: '1.2.840.113549.1.1.10',
  ecPublicKey: '1.2.840.10045.2.1',
  // certificate extensions and key purposes
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  certificatePolicies: '2.5.29.32',
  anyExtendedKeyUsage: '2.5.29.37.0',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  /** Windows System Component Verification: what Windows catalog signers carry instead of codeSigning */
  windowsSystemComponent: '1.3.6.1.4.1.311.10.3.6',
  commonName: '2.5.4.3',
  organizationName: '2.5.4.10',
  organizationalUnitName: '2.5.4.11',
} as const;

/** Digest algorithms by OID, named as node:crypto names them. */
const digestByOid: Record<string, string> = {
  '1.2.840.113549.2.5': 'md5',
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
  '2.16.840.1.101.3.4.2.4': 'sha224',
};

/**
 * Signature algorithm OIDs that name the digest too. Bare rsaEncryption / ecPublicKey (what
 * OpenSSL writes into SignerInfo) name none.
 */
const signatureDigestByOid: Record<string, string> = {
  '1.2.840.113549.1.1.2': 'md2',
  '1.2.840.113549.1.1.3': 'md4',
  '1.2.840.113549.1.1.4': 'md5',
  '1.2.840.113549.1.1.5': 'sha1',
  '1.3.14.3.2.29': 'sha1',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.113549.1.1.14': 'sha224',
  '1.2.840.10045.4.1': 'sha1',
  '1.2.840.10045.4.3.1': 'sha224',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
};

export function digestAlgorithmName(oid: string): string {
  const name = digestByOid[oid];
  if (name === undefined) throw new VerificationError('SIG_UNSUPPORTED_ALGORITHM', `unsupported digest algorithm ${oid}`);
  return name;
}

/**
 * The digest a SignerInfo's signature algorithm names, or null when it is a bare key type
 * (rsaEncryption, ecPublicKey: what OpenSSL writes), which names none. The signature is always
 * checked with SignerInfo.digestAlgorithm (RFC 5652 §5.4: the digest over the signed attributes);
 * a named digest must agree with it (checkSignatureAlgorithm), never replace it.
 */
export function signatureAlgorithmDigest(signatureAlgorithmOid: string): string | null {
  if (signatureAlgorithmOid === Oid.rsaEncryption || signatureAlgorithmOid === Oid.ecPublicKey) return null;
  const named = signatureDigestByOid[signatureAlgorithmOid];
  if (named === undefined) {
    throw new VerificationError('SIG_UNSUPPORTED_ALGORITHM', `unsupported signature algorithm ${signatureAlgorithmOid}`);
  }
  return named;
}

/**
 * The digest a certificate's signature algorithm names, or null when it names none this table
 * knows (RSASSA-PSS carries its digest in parameters, Ed25519 has none): node:crypto still checks
 * such a signature; only a digest named here can be judged broken (isBrokenDigest).
 */
export function certificateSignatureDigest(signatureAlgorithmOid: string): string | null {
  return signatureDigestByOid[signatureAlgorithmOid] ?? null;
}

/**
 * Digests with practical collisions: a signature over one proves nothing about the signed bytes,
 * whether those are a file's attributes or a certificate (the Flame forgery, 2012, was an MD5
 * collision on a certificate). MD2 and MD4 are weaker still.
 */
const brokenDigests: ReadonlySet<string> = new Set(['md2', 'md4', 'md5']);

export function isBrokenDigest(digestAlgorithm: string): boolean {
  return brokenDigests.has(digestAlgorithm);
}

/** SHA-2 family: what `--require-sha2` accepts. */
export function isSha2(digestAlgorithm: string): boolean {
  return digestAlgorithm.startsWith('sha') && digestAlgorithm !== 'sha1';
}

/**
 * TEST-ONLY writer of signed Windows catalogs (`update.cat`), built byte by byte like the real
 * ones in ../shared/corpus (ms-signed/kb2999226-inner/…/Windows6.0-KB2999226-x64.cab):
 *
 *   ContentInfo { signedData, [0] SignedData { version 1, digestAlgorithms,
 *     contentInfo { 1.3.6.1.4.1.311.10.1 (szOID_CTL), [0] EXPLICIT CertificateTrustList },   -- PKCS#7 style:
 *                                                   the CTL SEQUENCE itself, not wrapped in an OCTET STRING
 *     certificates [0] IMPLICIT, signerInfos { SignerInfo } } }
 *
 * CertificateTrustList { subjectUsage SEQ { 1.3.6.1.4.1.311.12.1.1 }, listIdentifier OCTET(16),
 *   thisUpdate UTCTime, subjectAlgorithm { 1.3.6.1.4.1.311.12.1.2, NULL },
 *   trustedSubjects SEQ OF { subjectIdentifier OCTET STRING = UTF-16LE upper-case hex of the member hash + NUL,
 *                            attributes SET OF { SPC_INDIRECT_DATA (SpcIndirectDataContent: 1.3.6.1.4.1.311.2.1.25
 *                                                 + DigestInfo of the file), CAT_MEMBERINFO { subject GUID, 512 },
 *                                                 CAT_NAMEVALUE "File" = name (as the real sub-package catalogs do) } },
 *   [0] EXPLICIT extensions { CAT_NAMEVALUE "OSAttr" = "2:6.0" } }
 *
 * As in Authenticode, the messageDigest attribute is the hash of the CTL SEQUENCE's *value* bytes
 * (without its tag and length) — checked against the real update.cat, whose digest matches only that way.
 * The signer info carries contentType = szOID_CTL, SpcStatementType, messageDigest and SpcSpOpusInfo, and
 * optionally a legacy PKCS#9 countersignature (1.2.840.113549.1.9.6) from the TSA, as the real one does.
 * Signatures use node:crypto; the result is confirmed by `osslsigncode verify` (which accepts the real catalogs).
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';

// ---------------------------------------------------------------- DER writer

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
}

export const der = {
  seq: (...items: Buffer[]) => tlv(0x30, ...items),
  /** SET OF with DER ordering (elements sorted by their encodings) */
  set: (...items: Buffer[]) => tlv(0x31, ...[...items].sort(Buffer.compare)),
  int(value: number | bigint | Buffer): Buffer {
    if (Buffer.isBuffer(value)) return tlv(0x02, value);
    let hex = BigInt(value).toString(16);
    if (hex.length % 2) hex = '0' + hex;
    let bytes = Buffer.from(hex, 'hex');
    if (bytes[0]! & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
    return tlv(0x02, bytes);
  },
  oid(dotted: string): Buffer {
    const parts = dotted.split('.').map((p) => BigInt(p));
    const out: number[] = [Number(parts[0]! * 40n + parts[1]!)];
    for (const part of parts.slice(2)) {
      const groups: number[] = [];
      let v = part;
      do { groups.unshift(Number(v & 0x7fn)); v >>= 7n; } while (v > 0n);
      groups.forEach((g, i) => out.push(i < groups.length - 1 ? g | 0x80 : g));
    }
    return tlv(0x06, Buffer.from(out));
  },
  null: () => Buffer.from([0x05, 0x00]),
  octet: (b: Buffer) => tlv(0x04, b),
  /** BMPString: UTF-16 big-endian */
  bmp: (s: string) => tlv(0x1e, Buffer.from(s, 'utf16le').swap16()),
  utcTime(d: Date): Buffer {
    const p = (n: number) => String(n).padStart(2, '0');
    const s = `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
    return tlv(0x17, Buffer.from(s, 'latin1'));
  },
  explicit: (n: number, ...items: Buffer[]) => tlv(0xa0 | n, ...items),
  /** context-specific primitive [n] IMPLICIT */
  implicitPrim: (n: number, content: Buffer) => tlv(0x80 | n, content),
};

// ---------------------------------------------------------------- DER reader (only what certificates need)

interface Tlv { tag: number; start: number; headerLength: number; length: number; end: number }

function readTlv(buf: Buffer, at: number): Tlv {
  const tag = buf[at]!;
  let len = buf[at + 1]!;
  let header = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[at + 2 + i]!;
    header += n;
  }
  return { tag, start: at, headerLength: header, length: len, end: at + header + len };
}

function children(buf: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.start + parent.headerLength; at < parent.end;) {
    const t = readTlv(buf, at);
    out.push(t);
    at = t.end;
  }
  return out;
}

export interface SigningIdentity {
  /** DER of the signer certificate */
  certificate: Buffer;
  /** DER certificates to embed (signer first) */
  chain: Buffer[];
  key: crypto.KeyObject;
  /** DER of issuer Name and serialNumber INTEGER, for IssuerAndSerialNumber */
  issuerAndSerial: Buffer;
}

function pemCertificates(pem: string): Buffer[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => Buffer.from(new crypto.X509Certificate(b).raw));
}

/** Load a signer from its chain PEM (signer first) and key PEM. */
export function loadSigningIdentity(chainPemPath: string, keyPemPath: string): SigningIdentity {
  const chain = pemCertificates(fs.readFileSync(chainPemPath, 'utf8'));
  const certificate = chain[0];
  if (certificate === undefined) throw new Error(`no certificate in ${chainPemPath}`);
  const cert = readTlv(certificate, 0);
  const tbs = children(certificate, cert)[0]!;
  const fields = children(certificate, tbs);
  const offset = fields[0]!.tag === 0xa0 ? 1 : 0; // [0] version is optional
  const serial = fields[offset]!;
  const issuer = fields[offset + 2]!;
  const issuerAndSerial = der.seq(certificate.subarray(issuer.start, issuer.end), certificate.subarray(serial.start, serial.end));
  return { certificate, chain, key: crypto.createPrivateKey(fs.readFileSync(keyPemPath)), issuerAndSerial };
}

// ---------------------------------------------------------------- OIDs

const OID = {
  signedData: '1.2.840.113549.1.7.2',
  data: '1.2.840.113549.1.7.1',
  ctl: '1.3.6.1.4.1.311.10.1',
  catalogList: '1.3.6.1.4.1.311.12.1.1',
  catalogListMember: '1.3.6.1.4.1.311.12.1.2',
  catNameValue: '1.3.6.1.4.1.311.12.2.1',
  catMemberInfo: '1.3.6.1.4.1.311.12.2.2',
  spcIndirectData: '1.3.6.1.4.1.311.2.1.4',
  spcCabData: '1.3.6.1.4.1.311.2.1.25',
  spcStatementType: '1.3.6.1.4.1.311.2.1.11',
  spcIndividualSpKeyPurpose: '1.3.6.1.4.1.311.2.1.21',
  spcSpOpusInfo: '1.3.6.1.4.1.311.2.1.12',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  countersignature: '1.2.840.113549.1.9.6',
  rsaEncryption: '1.2.840.113549.1.1.1',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
} as const;

export type CatalogDigest = 'sha1' | 'sha256';
type SignerDigest = 'sha1' | 'sha256' | 'sha384';

/** Subject GUID the real catalogs give every flat-file member (CAT_MEMBERINFO). */
const FLAT_FILE_SUBJECT_GUID = '{DE351A42-8E59-11D0-8C47-00C04FC295EE}';
const CAT_MEMBERINFO_VERSION = 512;
/** CRYPTCAT_ATTR_NAMEASCII | CRYPTCAT_ATTR_DATAASCII as in the real "File" and "OSAttr" name/values */
const CAT_NAMEVALUE_FLAGS = 0x10001;

const algorithmId = (digest: SignerDigest) => der.seq(der.oid(OID[digest]), der.null());
const attribute = (oid: string, ...values: Buffer[]) => der.seq(der.oid(oid), der.set(...values));
const utf16z = (s: string) => Buffer.from(s + '\0', 'utf16le');
const nameValue = (name: string, value: string) => der.seq(der.bmp(name), der.int(CAT_NAMEVALUE_FLAGS), der.octet(utf16z(value)));

// ---------------------------------------------------------------- the CTL

export interface CatalogMember {
  /** file name as it appears in the package (the "File" name/value) */
  name: string;
  data: Buffer;
}

export interface CatalogContent {
  /** 16 bytes; real catalogs use a random GUID, fixtures derive it from the package so it is reproducible */
  listIdentifier: Buffer;
  thisUpdate: Date;
  digest: CatalogDigest;
  members: CatalogMember[];
  /** CAT_NAMEVALUE "OSAttr" of the whole catalog, e.g. "2:6.0" */
  osAttr: string;
}

/** Hex tag a catalog lists a member under (upper-case hex of its hash), as `cabferry` will look it up. */
export function catalogMemberTag(data: Buffer, digest: CatalogDigest): string {
  return crypto.createHash(digest).update(data).digest('hex').toUpperCase();
}

export function buildCatalogCtl(content: CatalogContent): Buffer {
  if (content.listIdentifier.length !== 16) throw new Error('catalog listIdentifier must be 16 bytes');
  const entries = content.members.map((m) => {
    const hash = crypto.createHash(content.digest).update(m.data).digest();
    const indirectData = der.seq(
      der.seq(der.oid(OID.spcCabData), tlv(0xa2, der.implicitPrim(0, Buffer.from('<<<Obsolete>>>', 'utf16le').swap16()))),
      der.seq(algorithmId(content.digest), der.octet(hash)),
    );
    const tag = hash.toString('hex').toUpperCase();
    return {
      tag,
      der: der.seq(
        der.octet(utf16z(tag)),
        der.set(
          attribute(OID.spcIndirectData, indirectData),
          attribute(OID.catMemberInfo, der.seq(der.bmp(FLAT_FILE_SUBJECT_GUID), der.int(CAT_MEMBERINFO_VERSION))),
          attribute(OID.catNameValue, nameValue('File', m.name)),
        ),
      ),
    };
  });
  entries.sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
  return der.seq(
    der.seq(der.oid(OID.catalogList)),
    der.octet(content.listIdentifier),
    der.utcTime(content.thisUpdate),
    der.seq(der.oid(OID.catalogListMember), der.null()),
    der.seq(...entries.map((e) => e.der)),
    der.explicit(0, der.seq(der.seq(der.oid(OID.catNameValue), der.octet(nameValue('OSAttr', content.osAttr))))),
  );
}

// ---------------------------------------------------------------- the PKCS#7 signature

function signatureAlgorithm(key: crypto.KeyObject, digest: SignerDigest): Buffer {
  if (key.asymmetricKeyType === 'rsa') return der.seq(der.oid(OID.rsaEncryption), der.null());
  if (key.asymmetricKeyType === 'ec') return der.seq(der.oid(digest === 'sha384' ? OID.ecdsaWithSha384 : OID.ecdsaWithSha256));
  throw new Error(`unsupported signing key type ${String(key.asymmetricKeyType)}`);
}

/**
 * A SignerInfo over the given authenticated attributes. Unauthenticated attributes (a countersignature)
 * depend on the signature value, so they are added afterwards with `encode(unauthAttrs)`.
 */
function signerInfo(id: SigningIdentity, digest: SignerDigest, authAttrs: Buffer[]): { signature: Buffer; encode(unauthAttrs?: Buffer[]): Buffer } {
  const signedAttrs = der.set(...authAttrs); // the bytes signed: tag 0x31 (SET) …
  const signature = crypto.sign(digest, signedAttrs, id.key);
  const stored = Buffer.concat([Buffer.from([0xa0]), signedAttrs.subarray(1)]); // … stored as [0] IMPLICIT
  const parts = [der.int(1), id.issuerAndSerial, algorithmId(digest), stored, signatureAlgorithm(id.key, digest), der.octet(signature)];
  return {
    signature,
    encode(unauthAttrs: Buffer[] = []): Buffer {
      if (unauthAttrs.length === 0) return der.seq(...parts);
      const unauth = der.set(...unauthAttrs);
      return der.seq(...parts, Buffer.concat([Buffer.from([0xa1]), unauth.subarray(1)]));
    },
  };
}

export interface CatalogSignOptions {
  signer: SigningIdentity;
  digest: SignerDigest;
  /** SpcSpOpusInfo programName */
  description?: string;
  /** legacy PKCS#9 countersignature by this TSA at this time (what the real update.cat carries) */
  countersignature?: { tsa: SigningIdentity; time: Date; digest: SignerDigest };
}

/** Sign a CTL (from buildCatalogCtl) into a complete DER `.cat` file. */
export function signCatalog(ctl: Buffer, options: CatalogSignOptions): Buffer {
  const ctlTlv = readTlv(ctl, 0);
  if (ctlTlv.tag !== 0x30 || ctlTlv.end !== ctl.length) throw new Error('signCatalog: the CTL must be one DER SEQUENCE');
  const contentDigest = crypto.createHash(options.digest).update(ctl.subarray(ctlTlv.headerLength)).digest();
  const opus = der.seq(...(options.description === undefined ? [] : [der.explicit(0, der.implicitPrim(0, Buffer.from(options.description, 'utf16le').swap16()))]));
  const authAttrs = [
    attribute(OID.contentType, der.oid(OID.ctl)),
    attribute(OID.spcStatementType, der.seq(der.oid(OID.spcIndividualSpKeyPurpose))),
    attribute(OID.messageDigest, der.octet(contentDigest)),
    attribute(OID.spcSpOpusInfo, opus),
  ];

  const primary = signerInfo(options.signer, options.digest, authAttrs);
  const certificates = [...options.signer.chain];
  const unauthAttrs: Buffer[] = [];
  if (options.countersignature !== undefined) {
    // A legacy countersignature signs the hash of the primary's signature value.
    const cs = options.countersignature;
    const counter = signerInfo(cs.tsa, cs.digest, [
      attribute(OID.contentType, der.oid(OID.data)),
      attribute(OID.signingTime, der.utcTime(cs.time)),
      attribute(OID.messageDigest, der.octet(crypto.createHash(cs.digest).update(primary.signature).digest())),
    ]);
    unauthAttrs.push(attribute(OID.countersignature, counter.encode()));
    for (const c of cs.tsa.chain) if (!certificates.some((x) => x.equals(c))) certificates.push(c);
  }

  const signedData = der.seq(
    der.int(1),
    der.set(algorithmId(options.digest)),
    der.seq(der.oid(OID.ctl), der.explicit(0, ctl)),
    tlv(0xa0, ...certificates),
    der.set(primary.encode(unauthAttrs)),
  );
  return der.seq(der.oid(OID.signedData), der.explicit(0, signedData));
}

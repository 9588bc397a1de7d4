/**
 * TEST-ONLY DER and PKCS#7 SignerInfo building shared by the catalog writer (catalog-sign.ts) and
 * the legacy-countersignature adder (authenticode-sign.ts). Deliberately independent of
 * src/authenticode/der.ts: fixtures made with the code under test could share its mistakes, so the
 * generator has its own small reader and every result is confirmed by osslsigncode instead.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';

// ---------------------------------------------------------------- writer

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
  generalizedTime(d: Date): Buffer {
    return tlv(0x18, Buffer.from(d.toISOString().replace(/[-:T]/g, '').replace(/\.\d{3}Z$/, 'Z'), 'latin1'));
  },
  explicit: (n: number, ...items: Buffer[]) => tlv(0xa0 | n, ...items),
  /** context-specific primitive [n] IMPLICIT */
  implicitPrim: (n: number, content: Buffer) => tlv(0x80 | n, content),
};

// ---------------------------------------------------------------- reader (well-formed input only: our own or osslsigncode's output)

export interface Tlv { tag: number; start: number; headerLength: number; length: number; end: number }

export function readTlv(buf: Buffer, at: number): Tlv {
  const tag = buf[at]!;
  let len = buf[at + 1]!;
  let header = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[at + 2 + i]!;
    header += n;
  }
  if (at + header + len > buf.length) throw new Error(`DER element at ${at} runs past the end of its buffer`);
  return { tag, start: at, headerLength: header, length: len, end: at + header + len };
}

export function children(buf: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.start + parent.headerLength; at < parent.end;) {
    const t = readTlv(buf, at);
    out.push(t);
    at = t.end;
  }
  return out;
}

export const bytesOf = (buf: Buffer, t: Tlv): Buffer => buf.subarray(t.start, t.end);
export const valueOf = (buf: Buffer, t: Tlv): Buffer => buf.subarray(t.start + t.headerLength, t.end);

// ---------------------------------------------------------------- signers

export const Pkcs7Oid = {
  signedData: '1.2.840.113549.1.7.2',
  data: '1.2.840.113549.1.7.1',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  countersignature: '1.2.840.113549.1.9.6',
  rsaEncryption: '1.2.840.113549.1.1.1',
  sha1WithRSAEncryption: '1.2.840.113549.1.1.5',
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  sha384WithRSAEncryption: '1.2.840.113549.1.1.12',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  tstInfo: '1.2.840.113549.1.9.16.1.4',
  signingCertificate: '1.2.840.113549.1.9.16.2.12',
  authenticodeRfc3161: '1.3.6.1.4.1.311.3.3.1',
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
} as const;

export type SignerDigest = 'sha1' | 'sha256' | 'sha384';

export const algorithmId = (digest: SignerDigest) => der.seq(der.oid(Pkcs7Oid[digest]), der.null());
export const attribute = (oid: string, ...values: Buffer[]) => der.seq(der.oid(oid), der.set(...values));

export interface SigningIdentity {
  /** DER of the signer certificate */
  certificate: Buffer;
  /** DER certificates to embed (signer first) */
  chain: Buffer[];
  key: crypto.KeyObject;
  /** DER IssuerAndSerialNumber of the signer certificate */
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
  const tbs = children(certificate, readTlv(certificate, 0))[0]!;
  const fields = children(certificate, tbs);
  const first = fields[0]!.tag === 0xa0 ? 1 : 0; // [0] version is optional
  const issuerAndSerial = der.seq(bytesOf(certificate, fields[first + 2]!), bytesOf(certificate, fields[first]!));
  return { certificate, chain, key: crypto.createPrivateKey(fs.readFileSync(keyPemPath)), issuerAndSerial };
}

/**
 * SignerInfo.digestEncryptionAlgorithm. OpenSSL writes plain rsaEncryption; Microsoft's own signers (the
 * real update.cat's countersignature, for one) write <digest>WithRSAEncryption. Verifiers must take both.
 */
export type RsaAlgorithmStyle = 'rsaEncryption' | 'withDigest';

function signatureAlgorithm(key: crypto.KeyObject, digest: SignerDigest, style: RsaAlgorithmStyle): Buffer {
  if (key.asymmetricKeyType === 'rsa') {
    const oid = style === 'rsaEncryption' ? Pkcs7Oid.rsaEncryption : Pkcs7Oid[`${digest}WithRSAEncryption`];
    return der.seq(der.oid(oid), der.null());
  }
  if (key.asymmetricKeyType === 'ec') return der.seq(der.oid(digest === 'sha384' ? Pkcs7Oid.ecdsaWithSha384 : Pkcs7Oid.ecdsaWithSha256));
  throw new Error(`unsupported signing key type ${String(key.asymmetricKeyType)}`);
}

export interface BuiltSignerInfo {
  /** the encryptedDigest value (what a countersignature signs) */
  signature: Buffer;
  /** the SignerInfo, with these unauthenticated attributes (they depend on the signature, so come later) */
  encode(unauthAttrs?: Buffer[]): Buffer;
}

/** A SignerInfo over the given authenticated attributes. */
export function buildSignerInfo(id: SigningIdentity, digest: SignerDigest, authAttrs: Buffer[], style: RsaAlgorithmStyle = 'rsaEncryption'): BuiltSignerInfo {
  const signedAttrs = der.set(...authAttrs); // the bytes signed: tag 0x31 (SET) …
  const signature = crypto.sign(digest, signedAttrs, id.key);
  const stored = Buffer.concat([Buffer.from([0xa0]), signedAttrs.subarray(1)]); // … stored as [0] IMPLICIT
  const parts = [der.int(1), id.issuerAndSerial, algorithmId(digest), stored, signatureAlgorithm(id.key, digest, style), der.octet(signature)];
  return {
    signature,
    encode(unauthAttrs: Buffer[] = []): Buffer {
      if (unauthAttrs.length === 0) return der.seq(...parts);
      const unauth = der.set(...unauthAttrs);
      return der.seq(...parts, Buffer.concat([Buffer.from([0xa1]), unauth.subarray(1)]));
    },
  };
}

/**
 * A legacy PKCS#9 countersignature attribute (1.2.840.113549.1.9.6), as Microsoft's old timestamping
 * service made them: a SignerInfo by the TSA whose messageDigest is the hash of the countersigned
 * signature value and whose signingTime is the timestamp; its algorithm is written <digest>WithRSAEncryption
 * as in the real ones.
 */
export function legacyCountersignature(tsa: SigningIdentity, digest: SignerDigest, time: Date, countersignedSignature: Buffer): Buffer {
  const counter = buildSignerInfo(tsa, digest, [
    attribute(Pkcs7Oid.contentType, der.oid(Pkcs7Oid.data)),
    attribute(Pkcs7Oid.signingTime, der.utcTime(time)),
    attribute(Pkcs7Oid.messageDigest, der.octet(crypto.createHash(digest).update(countersignedSignature).digest())),
  ], 'withDigest');
  return attribute(Pkcs7Oid.countersignature, counter.encode());
}

/** TSTInfo.policy of the test TSA (the same dummy policy osslsigncode's built-in TSA writes) */
const TEST_TSA_POLICY = '1.2.3.4.1';

/**
 * An RFC 3161 timestamp attribute as Authenticode carries it (1.3.6.1.4.1.311.3.3.1): a CMS SignedData
 * (version 3) by the TSA over a TSTInfo whose messageImprint is the hash of the stamped signature value.
 * Made here rather than by osslsigncode's built-in TSA so that it is reproducible: the serial number is
 * derived from the inputs, there is no nonce, and the TSA's signingTime is genTime (osslsigncode writes
 * random ones and the wall clock). The signer info carries ESS signingCertificate, which OpenSSL requires.
 */
export function rfc3161Timestamp(tsa: SigningIdentity, digest: SignerDigest, time: Date, stampedSignature: Buffer): Buffer {
  const imprint = crypto.createHash(digest).update(stampedSignature).digest();
  const serial = crypto.createHash('sha256').update(imprint).update(time.toISOString()).digest().subarray(0, 8);
  serial[0]! &= 0x7f;
  const tstInfo = der.seq(
    der.int(1),
    der.oid(TEST_TSA_POLICY),
    der.seq(algorithmId(digest), der.octet(imprint)),
    der.int(serial),
    der.generalizedTime(time),
    der.seq(der.int(1)), // accuracy: 1 second
  );
  const signer = buildSignerInfo(tsa, digest, [
    attribute(Pkcs7Oid.contentType, der.oid(Pkcs7Oid.tstInfo)),
    attribute(Pkcs7Oid.signingTime, der.utcTime(time)),
    attribute(Pkcs7Oid.signingCertificate, der.seq(der.seq(der.seq(der.octet(crypto.createHash('sha1').update(tsa.certificate).digest()))))),
    attribute(Pkcs7Oid.messageDigest, der.octet(crypto.createHash(digest).update(tstInfo).digest())),
  ]);
  const signedData = der.seq(
    der.int(3),
    der.set(algorithmId(digest)),
    der.seq(der.oid(Pkcs7Oid.tstInfo), der.explicit(0, der.octet(tstInfo))),
    tlv(0xa0, ...tsa.chain),
    der.set(signer.encode()),
  );
  return attribute(Pkcs7Oid.authenticodeRfc3161, der.seq(der.oid(Pkcs7Oid.signedData), der.explicit(0, signedData)));
}

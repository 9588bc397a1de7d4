/**
 * Authenticode-signs cabinets for fixtures: osslsigncode makes each signature (without timestamp), and
 * this module adds the unauthenticated parts itself — RFC 3161 tokens and legacy countersignatures by the
 * test TSA, and nesting (1.3.6.1.4.1.311.2.4.1) — so that every byte is reproducible: osslsigncode's
 * built-in TSA writes a random serial and nonce and the wall-clock time, and cannot make legacy
 * countersignatures offline. osslsigncode then verifies every result (the self-check and the fixture
 * test use the wrappers at the end of this file). Dev-time only: the signed files are committed.
 * ECDSA signatures are randomised, so files signed by the ECDSA leaf are the one exception.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import {
  attribute, bytesOf, children, der, legacyCountersignature, loadSigningIdentity, readTlv, rfc3161Timestamp, tlv, valueOf,
} from './authenticode-sign-der';
import type { TestPki } from './pki';

export type AuthenticodeDigest = 'sha1' | 'sha256' | 'sha384' | 'sha512';

export interface CabSignature {
  /** pki entity id of the signer ('leaf-rsa', 'leaf-ecdsa', …) */
  signer: string;
  digest: AuthenticodeDigest;
  /** the signingTime authenticated attribute */
  signingTime: Date;
  /** timestamp from the test TSA at this time; omitted → no timestamp */
  timestampTime?: Date;
  /**
   * 'rfc3161' (default): an RFC 3161 token (1.3.6.1.4.1.311.3.3.1); 'legacy': a PKCS#9 countersignature
   * (1.2.840.113549.1.9.6). Microsoft's dual-signed files carry a legacy countersignature on the SHA-1
   * primary and an RFC 3161 token on the nested SHA-256.
   */
  timestampKind?: 'rfc3161' | 'legacy';
  /**
   * certificates embedded with the signature: the signer and its intermediate (default), or the
   * signer alone, so that no chain can be built to the root without more certificates
   */
  embed?: 'chain' | 'leaf-only';
  /** sign even though signingTime lies outside the signer's validity (for a negative fixture) */
  outsideValidity?: boolean;
  /** PE only: page hashes (SpcSerializedObject, 1.3.6.1.4.1.311.2.3.1/2) in the signed content (osslsigncode -ph) */
  pageHashes?: boolean;
  /** SpcSpOpusInfo programName / moreInfo */
  description?: string;
  url?: string;
}

const unixSeconds = (d: Date): string => String(Math.floor(d.getTime() / 1000));

function osslsigncode(args: string[]): string {
  try {
    return execFileSync('osslsigncode', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`osslsigncode ${args.join(' ')} failed:\n${err.stdout ?? ''}${err.stderr ?? err.message}`);
  }
}

const NESTED_SIGNATURE_OID = '1.3.6.1.4.1.311.2.4.1';

/**
 * Sign `input` (an unsigned cabinet or PE image) into `output`. The first signature is the primary; each further one
 * is nested in it (1.3.6.1.4.1.311.2.4.1), the way Microsoft adds SHA-256 to a SHA-1 signed file. Each is
 * made on its own over the same unsigned cabinet (the Authenticode digest does not cover the signature),
 * timestamped, and then nested.
 */
export function signCab(pki: TestPki, input: string, output: string, signatures: CabSignature[]): void {
  if (signatures.length === 0) throw new Error('signCab: no signature requested');
  const parts = signatures.map((sig, i) => {
    const signer = pki.get(sig.signer);
    if (sig.outsideValidity !== true) pki.assertValidAt(sig.signer, sig.signingTime, 'signing time');
    const part = i === 0 ? output : `${output}.nested${i}`;
    const certs = sig.embed === 'leaf-only' ? signer.certPath : pki.chainPath(sig.signer);
    const args = ['sign', '-certs', certs, '-key', signer.keyPath, '-h', sig.digest, '-time', unixSeconds(sig.signingTime)];
    if (sig.description !== undefined) args.push('-n', sig.description);
    if (sig.url !== undefined) args.push('-i', sig.url);
    if (sig.pageHashes === true) args.push('-ph');
    fs.rmSync(part, { force: true });
    osslsigncode([...args, '-in', input, '-out', part]);
    if (sig.timestampTime !== undefined) addTimestamp(part, pki, sig.timestampKind ?? 'rfc3161', sig.timestampTime, sig.digest === 'sha1' ? 'sha1' : 'sha256');
    return part;
  });
  for (const nested of parts.slice(1)) {
    const blob = signatureBlob(fs.readFileSync(nested));
    const contentInfo = bytesOf(blob, readTlv(blob, 0));
    appendToPrimarySigner(output, () => ({ attributes: [attribute(NESTED_SIGNATURE_OID, contentInfo)], certificates: [] }));
    fs.rmSync(nested);
  }
}

/** Timestamp the primary signature of a signed cabinet or PE image with the test TSA, in place. */
export function addTimestamp(file: string, pki: TestPki, kind: 'rfc3161' | 'legacy', time: Date, digest: 'sha1' | 'sha256'): void {
  pki.assertValidAt('tsa', time, 'timestamp time');
  const tsa = loadSigningIdentity(pki.chainPath('tsa'), pki.get('tsa').keyPath);
  appendToPrimarySigner(file, (encryptedDigest) => ({
    attributes: [kind === 'legacy' ? legacyCountersignature(tsa, digest, time, encryptedDigest) : rfc3161Timestamp(tsa, digest, time, encryptedDigest)],
    // a legacy countersigner's certificates travel in the outer certificate set; an RFC 3161 token carries its own
    certificates: kind === 'legacy' ? tsa.chain : [],
  }));
}

/**
 * Where a signed file keeps its PKCS#7 blob, and how to put a re-encoded one back: a cabinet's
 * header reserve (sigPos/sigLen, blob at the end), or a PE image's certificate table (one
 * WIN_CERTIFICATE at the end, located by the certificate-table directory entry).
 */
interface SignatureContainer {
  blob(bytes: Buffer): Buffer;
  /** the file with `padded` (the new blob, padded to 8 bytes) in place of the old one */
  replace(bytes: Buffer, padded: Buffer): Buffer;
}

const cabContainer: SignatureContainer = {
  blob(bytes) {
    if ((bytes.readUInt16LE(0x1e) & 0x0004) === 0 || bytes.readUInt16LE(0x24) !== 20) throw new Error('not an Authenticode-signed cabinet');
    return bytes.subarray(bytes.readUInt32LE(0x2c));
  },
  replace(bytes, padded) {
    const out = Buffer.concat([bytes.subarray(0, bytes.readUInt32LE(0x2c)), padded]);
    out.writeUInt32LE(padded.length, 0x30);
    return out;
  },
};

/** File offset of a PE image's certificate-table directory entry. */
function peCertificateEntry(bytes: Buffer): number {
  const nt = bytes.readUInt32LE(0x3c);
  const pe32plus = bytes.readUInt16LE(nt + 24) === 0x20b;
  return nt + 24 + (pe32plus ? 144 : 128);
}

const peContainer: SignatureContainer = {
  blob(bytes) {
    const entry = peCertificateEntry(bytes);
    const table = bytes.readUInt32LE(entry);
    if (table === 0) throw new Error('not an Authenticode-signed PE image');
    const tlv = readTlv(bytes, table + 8);
    return bytes.subarray(table + 8, tlv.end);
  },
  replace(bytes, padded) {
    const entry = peCertificateEntry(bytes);
    const table = bytes.readUInt32LE(entry);
    const header = Buffer.alloc(8);
    header.writeUInt32LE(8 + padded.length, 0);
    header.writeUInt16LE(0x0200, 4);
    header.writeUInt16LE(0x0002, 6);
    const out = Buffer.concat([bytes.subarray(0, table), header, padded]);
    out.writeUInt32LE(8 + padded.length, entry + 4);
    writePeChecksum(out);
    return out;
  },
};

/** The PE image checksum (osslsigncode and signtool keep it current after signing). */
export function writePeChecksum(image: Buffer): void {
  const at = image.readUInt32LE(0x3c) + 24 + 64;
  let sum = 0;
  for (let i = 0; i < image.length; i += 2) {
    if (i >= at && i < at + 4) continue;
    sum += image[i] | ((i + 1 < image.length ? image[i + 1] : 0) << 8);
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  sum = (sum & 0xffff) + (sum >>> 16);
  image.writeUInt32LE(((sum & 0xffff) + image.length) >>> 0, at);
}

function containerOf(bytes: Buffer): SignatureContainer {
  return bytes.subarray(0, 2).toString('latin1') === 'MZ' ? peContainer : cabContainer;
}

/** The PKCS#7 blob of a signed cabinet or PE image. */
function signatureBlob(bytes: Buffer): Buffer {
  return containerOf(bytes).blob(bytes);
}

/**
 * Add unauthenticated attributes (and certificates) to the primary SignerInfo of a signed cabinet, in
 * place: the PKCS#7 blob after cbCabinet is re-encoded and its declared length in the header reserve
 * updated (padded to 8 bytes as osslsigncode does). The Authenticode file digest covers neither, so the
 * signature stays valid.
 */
function appendToPrimarySigner(file: string, make: (encryptedDigest: Buffer) => { attributes: Buffer[]; certificates: Buffer[] }): void {
  const bytes = fs.readFileSync(file);
  const container = containerOf(bytes);
  const blob = container.blob(bytes);
  const contentInfo = readTlv(blob, 0);
  const [contentType, explicit] = children(blob, contentInfo);
  const signedData = children(blob, explicit!)[0]!;
  const fields = children(blob, signedData);
  const signerInfos = fields[fields.length - 1]!;
  const certificateSet = fields.find((f) => f.tag === 0xa0);
  const signers = children(blob, signerInfos);
  if (signers.length !== 1 || certificateSet === undefined) throw new Error(`${file}: expected one signer and a certificate set`);
  const signerFields = children(blob, signers[0]!);
  const existing = signerFields.find((f) => f.tag === 0xa1);
  const { attributes, certificates } = make(valueOf(blob, signerFields[5]!));

  const unauth = der.set(...(existing ? children(blob, existing).map((a) => bytesOf(blob, a)) : []), ...attributes);
  const signer = der.seq(...signerFields.filter((f) => f !== existing).map((f) => bytesOf(blob, f)), Buffer.concat([Buffer.from([0xa1]), unauth.subarray(1)]));
  const certs = children(blob, certificateSet).map((c) => bytesOf(blob, c));
  for (const c of certificates) if (!certs.some((x) => x.equals(c))) certs.push(c);
  const newFields = fields.map((f) => (f === certificateSet ? tlv(0xa0, ...certs) : f === signerInfos ? tlv(0x31, signer) : bytesOf(blob, f)));
  const newBlob = der.seq(bytesOf(blob, contentType!), der.explicit(0, der.seq(...newFields)));
  const padded = Buffer.concat([newBlob, Buffer.alloc((8 - (newBlob.length % 8)) % 8)]);
  fs.writeFileSync(file, container.replace(bytes, padded));
}

/**
 * The installed osslsigncode's [major, minor], or null when it is missing. CAB signing works from 2.7
 * (2.6 broke it), verifying .cat files from 2.8, `verify -ignore-crl` from 2.9 (NEWS.md); Debian
 * bookworm ships 2.5, so callers check before relying on it.
 */
export function osslsigncodeVersion(): [number, number] | null {
  try {
    const out = execFileSync('osslsigncode', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const m = /osslsigncode (\d+)\.(\d+)/.exec(out);
    return m ? [Number(m[1]), Number(m[2])] : null;
  } catch {
    return null;
  }
}

export const OSSLSIGNCODE_MIN_VERSION: [number, number] = [2, 9];

export function hasUsableOsslsigncode(): boolean {
  const v = osslsigncodeVersion();
  return v !== null && (v[0] > OSSLSIGNCODE_MIN_VERSION[0] || (v[0] === OSSLSIGNCODE_MIN_VERSION[0] && v[1] >= OSSLSIGNCODE_MIN_VERSION[1]));
}

export interface VerifyOutcome {
  ok: boolean;
  verifiedSignatures: number;
  output: string;
}

/** osslsigncode verify with explicit anchors, no CRLs (the self-check and the fixture test use it). */
export function verifyWithOsslsigncode(file: string, caFile: string, tsaCaFile: string = caFile, at?: Date): VerifyOutcome {
  const args = ['verify', '-in', file, '-CAfile', caFile, '-TSA-CAfile', tsaCaFile, '-ignore-crl'];
  if (at !== undefined) args.push('-time', unixSeconds(at));
  let output: string;
  let ok = true;
  try {
    output = execFileSync('osslsigncode', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    output = (err.stdout ?? '') + (err.stderr ?? '');
    ok = false;
  }
  const m = /Number of verified signatures: (\d+)/.exec(output);
  return { ok: ok && /Succeeded/.test(output), verifiedSignatures: m ? Number(m[1]) : 0, output };
}

/** cabextract -t: true when every member tests OK (a signature appended after cbCabinet only warns). */
export function cabextractTest(file: string): boolean {
  try {
    execFileSync('cabextract', ['-t', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    return true;
  } catch {
    return false;
  }
}

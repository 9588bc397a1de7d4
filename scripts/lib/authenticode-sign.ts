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
 * Sign `input` (an unsigned cabinet) into `output`. The first signature is the primary; each further one
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

/** Timestamp the primary signature of a signed cabinet with the test TSA, in place. */
export function addTimestamp(file: string, pki: TestPki, kind: 'rfc3161' | 'legacy', time: Date, digest: 'sha1' | 'sha256'): void {
  pki.assertValidAt('tsa', time, 'timestamp time');
  const tsa = loadSigningIdentity(pki.chainPath('tsa'), pki.get('tsa').keyPath);
  appendToPrimarySigner(file, (encryptedDigest) => ({
    attributes: [kind === 'legacy' ? legacyCountersignature(tsa, digest, time, encryptedDigest) : rfc3161Timestamp(tsa, digest, time, encryptedDigest)],
    // a legacy countersigner's certificates travel in the outer certificate set; an RFC 3161 token carries its own
    certificates: kind === 'legacy' ? tsa.chain : [],
  }));
}

/** The PKCS#7 blob of a signed cabinet: from sigPos (header reserve) to the end of the file. */
function signatureBlob(bytes: Buffer): Buffer {
  if ((bytes.readUInt16LE(0x1e) & 0x0004) === 0 || bytes.readUInt16LE(0x24) !== 20) throw new Error('not an Authenticode-signed cabinet');
  return bytes.subarray(bytes.readUInt32LE(0x2c));
}

/**
 * Add unauthenticated attributes (and certificates) to the primary SignerInfo of a signed cabinet, in
 * place: the PKCS#7 blob after cbCabinet is re-encoded and its declared length in the header reserve
 * updated (padded to 8 bytes as osslsigncode does). The Authenticode file digest covers neither, so the
 * signature stays valid.
 */
function appendToPrimarySigner(file: string, make: (encryptedDigest: Buffer) => { attributes: Buffer[]; certificates: Buffer[] }): void {
  const bytes = fs.readFileSync(file);
  const sigPos = bytes.readUInt32LE(0x2c);
  const blob = signatureBlob(bytes);
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
  const out = Buffer.concat([bytes.subarray(0, sigPos), padded]);
  out.writeUInt32LE(padded.length, 0x30);
  fs.writeFileSync(file, out);
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

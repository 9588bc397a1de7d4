/**
 * Authenticode-signs cabinets for fixtures with osslsigncode (>= 2.7 for the built-in offline
 * TSA: -TSA-certs/-TSA-key/-TSA-time), adds legacy countersignatures itself, and wraps the two
 * oracles the self-check and the fixture test use (osslsigncode verify, cabextract -t).
 * Dev-time only: the signed files are committed.
 *
 * Every time that ends up inside a signature (signingTime, TSTInfo.genTime, countersignature time) is
 * passed in, so re-signing gives the same bytes — except RFC 3161 tokens, in which osslsigncode puts a
 * random serial number and nonce, and ECDSA signatures, which are randomised.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { bytesOf, children, der, legacyCountersignature, loadSigningIdentity, readTlv, tlv, valueOf } from './authenticode-sign-der';
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
   * 'rfc3161' (default): an RFC 3161 token from osslsigncode's built-in TSA (1.3.6.1.4.1.311.3.3.1).
   * 'legacy': a PKCS#9 countersignature (1.2.840.113549.1.9.6), which osslsigncode can only fetch from a
   * network TSA, so it is added afterwards by addLegacyCountersignature. Microsoft's dual-signed files
   * carry this on the SHA-1 primary and RFC 3161 on the nested SHA-256. Primary signature only.
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

/**
 * Sign `input` into `output`. The first signature replaces any existing one; each further one
 * is added as a nested signature (1.3.6.1.4.1.311.2.4.1), the way Microsoft adds SHA-256 to a
 * SHA-1 signed file.
 */
export function signCab(pki: TestPki, input: string, output: string, signatures: CabSignature[]): void {
  if (signatures.length === 0) throw new Error('signCab: no signature requested');
  const tmp = output + '.signing';
  let current = input;
  signatures.forEach((sig, i) => {
    const signer = pki.get(sig.signer);
    if (sig.outsideValidity !== true) pki.assertValidAt(sig.signer, sig.signingTime, 'signing time');
    if (sig.timestampTime !== undefined) pki.assertValidAt('tsa', sig.timestampTime, 'timestamp time');
    const target = i === signatures.length - 1 ? output : `${tmp}${i}`;
    const certs = sig.embed === 'leaf-only' ? signer.certPath : pki.chainPath(sig.signer);
    const args = ['sign', '-certs', certs, '-key', signer.keyPath, '-h', sig.digest, '-time', unixSeconds(sig.signingTime)];
    if (sig.description !== undefined) args.push('-n', sig.description);
    if (sig.url !== undefined) args.push('-i', sig.url);
    const legacy = sig.timestampTime !== undefined && sig.timestampKind === 'legacy';
    if (legacy && i > 0) throw new Error('signCab: a legacy countersignature is only supported on the primary signature');
    if (sig.timestampTime !== undefined && !legacy) {
      args.push('-TSA-certs', pki.chainPath('tsa'), '-TSA-key', pki.get('tsa').keyPath, '-TSA-time', unixSeconds(sig.timestampTime));
    }
    if (i > 0) args.push('-nest');
    fs.rmSync(target, { force: true });
    osslsigncode([...args, '-in', current, '-out', target]);
    if (legacy) addLegacyCountersignature(target, pki, sig.timestampTime!, sig.digest === 'sha1' ? 'sha1' : 'sha256');
    if (current !== input) fs.rmSync(current, { force: true });
    current = target;
  });
}

/**
 * Add a legacy countersignature by the test TSA to the primary signature of a signed cabinet, in
 * place. The PKCS#7 blob after cbCabinet is re-encoded with the new unauthenticated attribute and the
 * TSA's certificates, and the declared length in the header reserve is updated (padded to 8 bytes as
 * osslsigncode does); the Authenticode file digest covers neither, so the signature stays valid.
 */
export function addLegacyCountersignature(file: string, pki: TestPki, time: Date, digest: 'sha1' | 'sha256'): void {
  pki.assertValidAt('tsa', time, 'countersignature time');
  const bytes = fs.readFileSync(file);
  const reserve = 0x28;
  if ((bytes.readUInt16LE(0x1e) & 0x0004) === 0 || bytes.readUInt16LE(0x24) !== 20) throw new Error(`${file}: no Authenticode header reserve`);
  const sigPos = bytes.readUInt32LE(reserve + 4);
  const blob = bytes.subarray(sigPos);
  const contentInfo = readTlv(blob, 0);
  const [contentType, explicit] = children(blob, contentInfo);
  const signedData = children(blob, explicit!)[0]!;
  const fields = children(blob, signedData);
  const signerInfos = fields[fields.length - 1]!;
  const certificates = fields.find((f) => f.tag === 0xa0);
  const signers = children(blob, signerInfos);
  if (signers.length !== 1 || certificates === undefined) throw new Error(`${file}: expected one signer and a certificate set`);
  const signerFields = children(blob, signers[0]!);
  if (signerFields.some((f) => f.tag === 0xa1)) throw new Error(`${file}: the signer already has unauthenticated attributes`);
  const encryptedDigest = valueOf(blob, signerFields[5]!);

  const tsa = loadSigningIdentity(pki.chainPath('tsa'), pki.get('tsa').keyPath);
  const unauth = der.set(legacyCountersignature(tsa, digest, time, encryptedDigest));
  const signer = der.seq(...signerFields.map((f) => bytesOf(blob, f)), Buffer.concat([Buffer.from([0xa1]), unauth.subarray(1)]));
  const certs = children(blob, certificates).map((c) => bytesOf(blob, c));
  for (const c of tsa.chain) if (!certs.some((x) => x.equals(c))) certs.push(c);
  const newFields = fields.map((f) => (f === certificates ? tlv(0xa0, ...certs) : f === signerInfos ? tlv(0x31, signer) : bytesOf(blob, f)));
  const newBlob = der.seq(bytesOf(blob, contentType!), der.explicit(0, der.seq(...newFields)));
  const padded = Buffer.concat([newBlob, Buffer.alloc((8 - (newBlob.length % 8)) % 8)]);
  const out = Buffer.concat([bytes.subarray(0, sigPos), padded]);
  out.writeUInt32LE(padded.length, reserve + 8);
  fs.writeFileSync(file, out);
}

/**
 * The installed osslsigncode's [major, minor], or null when it is missing. Signing with the built-in
 * offline TSA needs >= 2.7, `verify -ignore-crl` >= 2.9, verifying .cat files >= 2.8 (NEWS.md);
 * Debian bookworm ships 2.5, so callers check before relying on it.
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

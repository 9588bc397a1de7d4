/**
 * Authenticode-signs cabinets for fixtures with osslsigncode (>= 2.7 for the built-in offline
 * TSA: -TSA-certs/-TSA-key/-TSA-time). Dev-time only: the signed files are committed.
 *
 * Every time that ends up inside a signature (signingTime, TSTInfo.genTime) is passed in, so
 * re-signing the same cabinet with the same RSA key gives the same bytes.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import type { TestPki } from './pki';

export type AuthenticodeDigest = 'sha1' | 'sha256' | 'sha384' | 'sha512';

export interface CabSignature {
  /** pki entity id of the signer ('leaf-rsa', 'leaf-ecdsa', …) */
  signer: string;
  digest: AuthenticodeDigest;
  /** the signingTime authenticated attribute */
  signingTime: Date;
  /** RFC 3161 timestamp from the test TSA at this time; omitted → no timestamp */
  timestampTime?: Date;
  /**
   * certificates embedded with the signature: the signer and its intermediate (default), or the
   * signer alone, so that no chain can be built to the root without more certificates
   */
  embed?: 'chain' | 'leaf-only';
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
    pki.assertValidAt(sig.signer, sig.signingTime, 'signing time');
    if (sig.timestampTime !== undefined) pki.assertValidAt('tsa', sig.timestampTime, 'timestamp time');
    const target = i === signatures.length - 1 ? output : `${tmp}${i}`;
    const certs = sig.embed === 'leaf-only' ? signer.certPath : pki.chainPath(sig.signer);
    const args = ['sign', '-certs', certs, '-key', signer.keyPath, '-h', sig.digest, '-time', unixSeconds(sig.signingTime)];
    if (sig.description !== undefined) args.push('-n', sig.description);
    if (sig.url !== undefined) args.push('-i', sig.url);
    if (sig.timestampTime !== undefined) {
      args.push('-TSA-certs', pki.chainPath('tsa'), '-TSA-key', pki.get('tsa').keyPath, '-TSA-time', unixSeconds(sig.timestampTime));
    }
    if (i > 0) args.push('-nest');
    fs.rmSync(target, { force: true });
    osslsigncode([...args, '-in', current, '-out', target]);
    if (current !== input) fs.rmSync(current, { force: true });
    current = target;
  });
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

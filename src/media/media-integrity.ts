import fs = require('node:fs');
import path = require('node:path');
import { CabferryError } from '../errors';
import type { TrustAnchor } from '../authenticode/trust';
import { readRegularFile } from '../io/regular-file';
import { MEDIA } from './layout';
import { parseManifest, verifyManifestSignature, type MediaManifest } from './manifest';

/**
 * Whether a medium's manifest is proven: one rule for verify-media and report. Proven means
 * manifest.json.p7s verified against a trust anchor for signatures (named with --trust, or the
 * catalog's anchors trusted for signatures; never one trusted for payloads only).
 * A signature that does not verify is never accepted; an unsigned medium is accepted only when
 * the operator says so (allowUnsigned), and is then reported as unsigned.
 */

export interface SignatureVerdict {
  /** the manifest may be believed */
  proven: boolean;
  status: 'valid' | 'invalid' | 'absent' | 'not-checked';
  signer: string | null;
  chain: string[];
  code: string | null;
  reason: string | null;
}

export interface IntegrityOptions {
  /** the anchors trusted for signatures; null: none available (none named, the catalog has none) */
  trust: TrustAnchor[] | null;
  /**
   * the catalog's anchors trusted for payloads only: never accepted, but a signer that chains to
   * one is refused saying so (SIGNER_ANCHOR_PAYLOADS_ONLY) with how to fix it
   */
  payloadsOnly?: TrustAnchor[];
  allowUnsigned?: boolean;
  now?: Date;
}

/**
 * Bounds on what is read back from a medium, which may have been anywhere: a manifest lists one
 * line per file (a medium of ten thousand files is about 2 MB), a detached signature is a few KB
 * plus its chain. Both are read as regular files only, never through a link (readRegularFile).
 */
export const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;
export const MAX_SIGNATURE_BYTES = 1024 * 1024;

export function readManifest(root: string): { manifest: MediaManifest; bytes: Buffer; file: string } {
  const file = path.join(root, MEDIA.manifest);
  if (!fs.existsSync(file)) {
    throw new CabferryError('negative', 'MEDIA_NO_MANIFEST', `no ${MEDIA.manifest}: this is not a finished cabferry medium (an interrupted stage? run cabferry stage again)`, { file: root });
  }
  const bytes = readRegularFile(file, { maxBytes: MAX_MANIFEST_BYTES, noFollow: true, what: MEDIA.manifest });
  return { manifest: parseManifest(bytes, file), bytes, file };
}

export function signatureVerdict(root: string, manifestBytes: Buffer, options: IntegrityOptions): SignatureVerdict {
  const p7sPath = path.join(root, MEDIA.signature);
  const none = { signer: null, chain: [], code: null };
  if (!fs.existsSync(p7sPath)) {
    const allowed = options.allowUnsigned === true;
    return {
      ...none, proven: allowed, status: 'absent',
      reason: allowed ? 'the medium is not signed; accepted because --allow-unsigned was given' : `integrity not proven: the medium is not signed (no ${MEDIA.signature}); --allow-unsigned accepts it`,
    };
  }
  const anchors = options.trust ?? [];
  const payloadsOnly = options.payloadsOnly ?? [];
  const notChecked = { ...none, proven: false, status: 'not-checked', reason: 'integrity not proven: no trust anchor for signatures to check it against (pass --trust FILE, or add one to the catalog with cabferry trust add --for signatures FILE)' } as const;
  if (anchors.length === 0 && payloadsOnly.length === 0) return notChecked;
  const p7s = readRegularFile(p7sPath, { maxBytes: MAX_SIGNATURE_BYTES, noFollow: true, what: MEDIA.signature });
  const r = verifyManifestSignature(manifestBytes, p7s, { anchors, payloadsOnly }, options.now);
  // with no anchor for signatures, a signer that chains to no payload anchor either was checked against nothing
  if (anchors.length === 0 && r.code === 'CHAIN_UNTRUSTED') return notChecked;
  return { proven: r.status === 'valid', status: r.status, signer: r.signer, chain: r.chain, code: r.code, reason: r.reason };
}

import * as fs from 'node:fs';
import * as path from 'node:path';
import { CabferryError } from '../errors';
import type { TrustAnchor } from '../authenticode/trust';
import { readRegularFile } from '../io/regular-file';
import { MEDIA } from './layout';
import { parseManifest, verifyManifestSignature, type MediaManifest } from './manifest';

/**
 * Whether a medium's manifest is proven: one rule for verify-media and report. Proven means
 * manifest.json.p7s verified against a trust anchor (named with --trust or the catalog's).
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
  /** null: no anchor available (none named, the catalog has none) */
  trust: TrustAnchor[] | null;
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
  if (options.trust === null || options.trust.length === 0) {
    return { ...none, proven: false, status: 'not-checked', reason: 'integrity not proven: no trust anchor to check the signature against (pass --trust FILE, or add anchors to the catalog with cabferry trust add)' };
  }
  const p7s = readRegularFile(p7sPath, { maxBytes: MAX_SIGNATURE_BYTES, noFollow: true, what: MEDIA.signature });
  const r = verifyManifestSignature(manifestBytes, p7s, options.trust, options.now);
  return { proven: r.status === 'valid', status: r.status, signer: r.signer, chain: r.chain, code: r.code, reason: r.reason };
}

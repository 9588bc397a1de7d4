import * as fs from 'node:fs';
import * as path from 'node:path';
import { CabferryError } from '../errors';
import type { TrustAnchor } from '../authenticode/trust';
import { hashFile, walkFiles } from './files';
import { isOutsideManifest, MEDIA } from './layout';
import { parseManifest, verifyManifestSignature, type ManifestSignatureReport, type MediaManifest } from './manifest';

/**
 * verify-media: is the medium exactly what was staged?
 * Every manifest entry is re-hashed (streamed); files on the medium that the manifest does not
 * list are reported (except results/, which install.cmd writes on the far side); the detached
 * signature is checked against the trust anchors passed in.
 */

export interface VerifyMediaOptions {
  /** trust anchors for manifest.json.p7s; without them the signature is reported as not checked */
  trust?: TrustAnchor[];
  now?: Date;
}

export interface AlteredFile {
  path: string;
  expectedSize: number;
  actualSize: number;
  expectedSha256: string;
  actualSha256: string | null;
  reason: string;
}

export interface VerifyMediaReport {
  dir: string;
  ok: boolean;
  manifest: Pick<MediaManifest, 'cabferryVersion' | 'createdAt' | 'catalog' | 'hosts'>;
  checked: number;
  missing: string[];
  altered: AlteredFile[];
  unexpected: string[];
  signature: ManifestSignatureReport | { status: 'absent' | 'not-checked'; reason: string };
  /** hosts that have written results back (results/NAME/) */
  results: string[];
}

export function verifyMedia(dir: string, options: VerifyMediaOptions = {}): VerifyMediaReport {
  const root = path.resolve(dir);
  const manifestPath = path.join(root, MEDIA.manifest);
  if (!fs.existsSync(manifestPath)) {
    throw new CabferryError('negative', 'MEDIA_NO_MANIFEST', `no ${MEDIA.manifest}: this is not a finished cabferry medium (an interrupted stage? run cabferry stage again)`, { file: root });
  }
  const manifestBytes = fs.readFileSync(manifestPath);
  const manifest = parseManifest(manifestBytes, manifestPath);

  const missing: string[] = [];
  const altered: AlteredFile[] = [];
  const listed = new Set<string>();
  for (const entry of manifest.files) {
    listed.add(entry.path);
    const abs = path.join(root, ...entry.path.split('/'));
    let st: fs.Stats;
    try {
      st = fs.lstatSync(abs);
    } catch {
      missing.push(entry.path);
      continue;
    }
    const base = { path: entry.path, expectedSize: entry.size, expectedSha256: entry.sha256 };
    if (!st.isFile()) {
      altered.push({ ...base, actualSize: st.size, actualSha256: null, reason: st.isSymbolicLink() ? 'is a symbolic link' : 'is not a regular file' });
      continue;
    }
    const h = hashFile(abs);
    if (h.sha256 !== entry.sha256 || h.size !== entry.size) {
      altered.push({ ...base, actualSize: h.size, actualSha256: h.sha256, reason: h.size !== entry.size ? `size ${h.size}, expected ${entry.size}` : 'content differs' });
    }
  }

  const walked = walkFiles(root);
  const unexpected = [...walked.files, ...walked.special].filter((rel) => !listed.has(rel) && !isOutsideManifest(rel)).sort();
  const results = fs.existsSync(path.join(root, MEDIA.results))
    ? fs.readdirSync(path.join(root, MEDIA.results), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort()
    : [];

  const signature = checkSignature(root, manifestBytes, options);
  const ok = missing.length === 0 && altered.length === 0 && unexpected.length === 0 && signature.status !== 'invalid' && signature.status !== 'absent';
  return {
    dir: root,
    ok,
    manifest: { cabferryVersion: manifest.cabferryVersion, createdAt: manifest.createdAt, catalog: manifest.catalog, hosts: manifest.hosts },
    checked: manifest.files.length,
    missing,
    altered,
    unexpected,
    signature,
    results,
  };
}

/**
 * With trust anchors, a signature must be present and valid ("absent" fails). Without them a
 * present signature is reported as not checked and an absent one as absent-but-not-required.
 */
function checkSignature(root: string, manifestBytes: Buffer, options: VerifyMediaOptions): VerifyMediaReport['signature'] {
  const p7sPath = path.join(root, MEDIA.signature);
  const present = fs.existsSync(p7sPath);
  if (options.trust === undefined) {
    return { status: 'not-checked', reason: present ? 'no trust anchor given (--trust)' : 'the medium is not signed and no trust anchor was given' };
  }
  if (!present) return { status: 'absent', reason: `${MEDIA.signature} is missing, and a trust anchor was given` };
  return verifyManifestSignature(manifestBytes, fs.readFileSync(p7sPath), options.trust, options.now);
}

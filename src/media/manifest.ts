import forge = require('node-forge');
import { createPrivateKey } from 'node:crypto';
import { inputError, isCabferryError, usageError } from '../errors';
import { certificatesFromFileBytes } from '../authenticode/certificate';
import type { ChainLink } from '../authenticode/chain';
import { isVerificationError } from '../authenticode/errors';
import { Oid } from '../authenticode/oids';
import { parseSignedData } from '../authenticode/signed-data';
import { checkContentType, checkMessageDigest, findSignerCertificate, verifySignerSignature } from '../authenticode/signer';
import type { SignatureTrust } from '../catalog/trust';
import { signerChain, signerPurposeProblem, type SigningMaterial } from './signing-material';

/** manifest.json: what a staged medium must hold, byte for byte. */
export interface MediaManifest {
  format: typeof MANIFEST_FORMAT;
  cabferryVersion: string;
  createdAt: string;
  /** the catalog the payloads came from */
  catalog: string | null;
  hosts: { name: string; planId?: string; complete: boolean; steps: number; missing: string[] }[];
  files: ManifestEntry[];
}

export interface ManifestEntry {
  path: string;
  size: number;
  sha256: string;
}

export const MANIFEST_FORMAT = 'cabferry-media/1';

/** A manifest path must stay inside the medium: relative, "/"-separated, no "." or ".." segments. */
export function isSafeRelativePath(p: string): boolean {
  if (p === '' || p.length > 1024 || p.startsWith('/') || p.includes('\\') || /^[A-Za-z]:/.test(p)) return false;
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f]/.test(p)) return false;
  return p.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..');
}

/** Parse and validate manifest.json; anything unexpected is an input error naming the file. */
export function parseManifest(bytes: Buffer, file: string): MediaManifest {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw inputError('MEDIA_MANIFEST_MALFORMED', `not JSON: ${(e as Error).message}`, { file });
  }
  const bad = (what: string) => inputError('MEDIA_MANIFEST_MALFORMED', what, { file });
  if (typeof doc !== 'object' || doc === null) throw bad('not a JSON object');
  const m = doc as Record<string, unknown>;
  if (m.format !== MANIFEST_FORMAT) throw bad(`format is ${JSON.stringify(m.format)}, expected ${MANIFEST_FORMAT}`);
  if (typeof m.cabferryVersion !== 'string' || typeof m.createdAt !== 'string') throw bad('cabferryVersion and createdAt must be strings');
  if (m.catalog !== null && typeof m.catalog !== 'string') throw bad('catalog must be a string or null');
  if (!Array.isArray(m.hosts) || !Array.isArray(m.files)) throw bad('hosts and files must be arrays');
  const seen = new Set<string>();
  const files: ManifestEntry[] = m.files.map((f: unknown, i: number) => {
    const e = f as Record<string, unknown>;
    if (typeof e !== 'object' || e === null || typeof e.path !== 'string' || typeof e.sha256 !== 'string' || typeof e.size !== 'number') {
      throw bad(`files[${i}] must have path, size and sha256`);
    }
    if (!isSafeRelativePath(e.path)) throw inputError('MEDIA_MANIFEST_BAD_PATH', `files[${i}] path ${JSON.stringify(e.path)} points outside the media`, { file });
    if (!/^[0-9a-f]{64}$/.test(e.sha256)) throw bad(`files[${i}] sha256 is not 64 lowercase hex digits`);
    if (!Number.isSafeInteger(e.size) || e.size < 0) throw bad(`files[${i}] size is not a byte count`);
    const key = e.path.toLowerCase(); // FAT32 and Windows: names differing only in case are one file
    if (seen.has(key)) throw bad(`files[${i}] ${e.path} is listed twice`);
    seen.add(key);
    return { path: e.path, size: e.size, sha256: e.sha256 };
  });
  const hosts = m.hosts.map((h: unknown, i: number) => {
    const e = h as Record<string, unknown>;
    if (typeof e !== 'object' || e === null || typeof e.name !== 'string' || typeof e.complete !== 'boolean' || typeof e.steps !== 'number') {
      throw bad(`hosts[${i}] must have name, complete and steps`);
    }
    const missing = Array.isArray(e.missing) ? e.missing.filter((x): x is string => typeof x === 'string') : [];
    if (!isSafeRelativePath(e.name) || e.name.includes('/')) throw bad(`hosts[${i}] name ${JSON.stringify(e.name)} is not a folder name`);
    return { name: e.name, ...(typeof e.planId === 'string' ? { planId: e.planId } : {}), complete: e.complete, steps: e.steps, missing };
  });
  return { format: MANIFEST_FORMAT, cabferryVersion: m.cabferryVersion, createdAt: m.createdAt, catalog: (m.catalog as string | null) ?? null, hosts, files };
}

/** The manifest as written: stable key order, one file per line for readable diffs. */
export function serializeManifest(m: MediaManifest): Buffer {
  return Buffer.from(JSON.stringify(m, null, 2) + '\n', 'utf8');
}

/** SHA256SUMS in the format `sha256sum -c` reads: "<hex>  <path>" (two spaces: text mode). */
export function renderSha256Sums(entries: ManifestEntry[]): string {
  return entries.map((e) => `${e.sha256}  ${e.path}\n`).join('');
}

// ---- signing (node-forge) -------------------------------------------------------------------

export type { SigningMaterial };

/**
 * A detached PKCS#7 SignedData over `content`: SHA-256, authenticated attributes contentType
 * (data), messageDigest and signingTime, the signer certificate and any chain certificates.
 */
export function signDetached(content: Buffer, material: SigningMaterial, signingTime: Date): Buffer {
  let key: forge.pki.rsa.PrivateKey;
  try {
    if (createPrivateKey(material.keyPem).asymmetricKeyType !== 'rsa') {
      throw usageError('MEDIA_SIGN_KEY_UNSUPPORTED', 'the signing key must be an RSA key (node-forge signs PKCS#7 with RSA only)');
    }
    key = forge.pki.privateKeyFromPem(material.keyPem) as forge.pki.rsa.PrivateKey;
  } catch (e) {
    if (isCabferryError(e)) throw e;
    throw usageError('MEDIA_SIGN_KEY_UNREADABLE', `cannot read the signing key: ${(e as Error).message}`);
  }
  const ders = certificatesFromFileBytes(Buffer.from(material.certPem, 'utf8'));
  if (ders.length === 0) throw usageError('MEDIA_SIGN_CERT_UNREADABLE', 'the signing certificate file holds no certificate');
  const certs = ders.map((d) => forge.pki.certificateFromAsn1(forge.asn1.fromDer(forge.util.createBuffer(d.toString('binary')))));
  const signer = certs[0];
  const p7 = forge.pkcs7.createSignedData();
  p7.content = forge.util.createBuffer(content.toString('binary'));
  for (const c of certs) p7.addCertificate(c);
  p7.addSigner({
    key,
    certificate: signer,
    digestAlgorithm: forge.pki.oids.sha256,
    authenticatedAttributes: [
      { type: forge.pki.oids.contentType, value: forge.pki.oids.data },
      { type: forge.pki.oids.messageDigest },
      // node-forge's typings want a string; it formats a Date given at run time as UTCTime
      { type: forge.pki.oids.signingTime, value: signingTime as unknown as string },
    ],
  });
  p7.sign({ detached: true });
  return Buffer.from(forge.asn1.toDer(p7.toAsn1()).getBytes(), 'binary');
}

// ---- verification (node:crypto through the Authenticode checks) -------------------------------

export interface ManifestSignatureReport {
  status: 'valid' | 'invalid';
  signer: string | null;
  chain: string[];
  code: string | null;
  reason: string | null;
}


/**
 * When the signer's chain must be valid: a time, or how to read it from the manifest itself. The
 * function is called only once the manifest's digest and the signature value have verified, so
 * what it reads is what the signer signed (export --since-bundle: the earlier bundle's createdAt).
 */
export type SignatureValidityTime = Date | ((signedManifest: Buffer) => Date);

/**
 * Check a detached signature over the manifest bytes, in named steps, each failing with its
 * own code: SignedData structure → contentType = data → messageDigest = SHA-256 of the manifest →
 * signer certificate → signature value → signer purpose (code or document signing, not a CA;
 * checked even when the signer itself is an anchor) → chain to an anchor trusted for signatures,
 * valid at `at` (default now; one trusted for payloads only never serves: SIGNER_ANCHOR_PAYLOADS_ONLY says so).
 */
export function verifyManifestSignature(manifest: Buffer, p7s: Buffer, trust: SignatureTrust, at: SignatureValidityTime = new Date()): ManifestSignatureReport {
  let signer: string | null = null;
  let chain: ChainLink[] = [];
  try {
    const sd = parseSignedData(p7s);
    if (sd.contentType !== Oid.data) throw inputError('MEDIA_SIGNATURE_CONTENT', `signed content type is ${sd.contentType}, expected data`);
    if (sd.content !== null) throw inputError('MEDIA_SIGNATURE_NOT_DETACHED', 'the signature embeds content; a detached signature of manifest.json was expected');
    if (sd.signerInfos.length !== 1) throw inputError('MEDIA_SIGNATURE_SIGNERS', `expected one signer, found ${sd.signerInfos.length}`);
    const si = sd.signerInfos[0];
    checkContentType(si, Oid.data);
    checkMessageDigest(si, manifest);
    const cert = findSignerCertificate(si, sd.certificates);
    signer = cert.subject;
    verifySignerSignature(si, cert);
    const purpose = signerPurposeProblem(cert);
    if (purpose !== null) return { status: 'invalid', signer, chain: [], code: 'MEDIA_SIGNER_PURPOSE', reason: purpose };
    chain = signerChain(cert, sd.certificates, trust, typeof at === 'function' ? at(manifest) : at);
    return { status: 'valid', signer, chain: chain.map((l) => l.certificate.subject), code: null, reason: null };
  } catch (e) {
    if (isVerificationError(e)) return { status: 'invalid', signer, chain: [], code: e.code, reason: e.message };
    if (isCabferryError(e)) {
      const ce = e as Error & { code: string };
      return { status: 'invalid', signer, chain: [], code: ce.code, reason: ce.message };
    }
    throw e;
  }
}


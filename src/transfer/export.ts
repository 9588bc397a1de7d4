import { createHash } from 'node:crypto';
import fs = require('node:fs');
import path = require('node:path');
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yazl = require('yazl');
import { openCatalog, type Catalog } from '../catalog/catalog';
import { exportBlob } from '../catalog/export-blob';
import { catalogTrust, distrustReport, TrustJudge, type DistrustReport } from '../catalog/live-trust';
import { catalogSignatureTrust, type SignatureTrust } from '../catalog/trust';
import type { CatalogEntry } from '../catalog/types';
import { CabferryError, describeIoError, inputError, internalError, usageError } from '../errors';
import type { Certificate } from '../authenticode/certificate';
import { writeFileAtomic } from '../media/files';
import { signDetached, type ManifestEntry } from '../media/manifest';
import { loadSigningMaterial, type SigningMaterialSource } from '../media/signing-material';
import { version as cabferryVersion } from '../version';
import {
  BUNDLE,
  BUNDLE_FORMAT,
  isSafeFileName,
  parseTransferManifest,
  payloadPath,
  recordPath,
  serializeJson,
  sha256Hex,
  transferRecord,
  type BundlePayload,
  type TransferManifest,
} from './bundle-format';
import { openBundle, readSignedManifest } from './bundle-source';
import { catalogFileNames } from '../knowledge/file-names';
import { loadKnowledgeBase } from '../knowledge/knowledge-base';
import { makeDirectories } from '../io/make-directories';
import { isoTime } from '../iso-time';

/**
 * `cabferry export`: the low side's imported payloads (all of them, or only what is new since a
 * date or since an earlier bundle) with their catalog records, a manifest hashing every file,
 * and a detached signature over the manifest — as a zip (written with yazl, ZIP64 where sizes
 * need it) or a folder. Every blob is re-hashed as it is read: bytes altered in the store are
 * never handed on. The manifest is the last thing written, so an interrupted export leaves
 * something no importer takes for a bundle.
 *
 * Trust is live here too: a payload that does not chain now to an anchor of the catalog's trust
 * set (catalog/live-trust.ts) is never put into a bundle. The high side would verify it again,
 * but the low side does not hand on what it no longer vouches for, and does not do it silently:
 * each one left out is in the result with why and what to do (`leftOut`), the export is then
 * incomplete, and the CLI exits 1 for it unless --allow-incomplete (as `plan` and `stage` do
 * for a plan without its untrusted payloads). A later --since-bundle export carries them once
 * they are trusted again (a bundle lists only what it carries).
 */

export interface ExportBundleOptions {
  /** catalog directory; default as `openCatalog` resolves it */
  catalog?: string;
  /** FILE.zip, or a folder (created, or empty) */
  to: string;
  /** only payloads first imported on or after this moment */
  since?: Date;
  /** an earlier bundle: the payloads it and the bundles it followed carried are not carried again (believed only through its signature) */
  sinceBundle?: string;
  /** the key and certificate files (checked as stage checks them; the catalog's anchors for signatures only warn) */
  signing: Omit<SigningMaterialSource, 'trust' | 'now'>;
  now?: Date;
  onProgress?: (event: TransferProgress) => void;
}

export type TransferProgress =
  /** before anything is written: how many payloads the bundle will carry */
  | { type: 'total'; items: number }
  | { type: 'start'; label: string; size: number | null }
  | { type: 'bytes'; bytes: number }
  | { type: 'result' };

export interface ExportedPayload {
  sha256: string;
  size: number;
  fileName: string;
  kb: string | null;
}

/**
 * A payload the selection held that the bundle does not carry: the catalog does not trust it now
 * (why as data, in words, and what to do: the report stage's MEDIA_PAYLOAD_UNTRUSTED gives too).
 */
export interface LeftOutPayload extends ExportedPayload, DistrustReport {}

export interface ExportBundleResult {
  to: string;
  kind: 'zip' | 'folder';
  createdAt: string;
  sourceCatalog: string;
  since: string | null;
  follows: TransferManifest['follows'];
  /** payloads left out because an earlier bundle carried them */
  carriedBefore: number;
  payloads: ExportedPayload[];
  /** payloads the selection held but the catalog does not trust now: not in the bundle */
  leftOut: LeftOutPayload[];
  /** false when anything was left out */
  complete: boolean;
  bytes: number;
  files: number;
  manifestSha256: string;
  /** the signer certificate's subject */
  signer: string;
  /** problems that did not stop the export (a signer that chains to none of this catalog's anchors) */
  warnings: string[];
}

interface PlannedFile {
  entry: ManifestEntry;
  /** the blob this file copies, or the bytes of a generated file */
  blob: string | null;
  bytes: Buffer | null;
}

export async function exportBundle(options: ExportBundleOptions): Promise<ExportBundleResult> {
  const now = options.now ?? new Date();
  const kind = path.extname(options.to).toLowerCase() === '.zip' ? 'zip' : 'folder';
  const to = path.resolve(options.to);
  checkDestination(to, kind);

  const catalog = openCatalog({ dir: options.catalog, access: 'read' });
  try {
    const signatureTrust = catalogSignatureTrust(catalog);
    // an unusable key or certificate must fail before anything is read or written
    const material = loadSigningMaterial({ ...options.signing, trust: signatureTrust, now });
    const previous = options.sinceBundle === undefined
      ? null
      : await readPreviousManifest(options.sinceBundle, withSigner(signatureTrust, material.signer, options.signing.certFile), now);
    const carriedBefore = previous === null ? [] : [...new Set([...previous.manifest.carriedBefore, ...previous.manifest.payloads.map((p) => p.sha256)])].sort();
    const selected = selectPayloads(catalog, options.since, new Set(carriedBefore));
    // each payload travels under the name stage gives it (its verified metadata), not the name it first arrived under
    const names = catalogFileNames(catalog.payloads(), loadKnowledgeBase());
    const nameOf = (e: CatalogEntry): string => names.get(e.sha256) ?? e.fileName;
    const judge = new TrustJudge(catalog, catalogTrust(catalog));
    const chosen: CatalogEntry[] = [];
    const leftOut: LeftOutPayload[] = [];
    for (const e of selected) {
      const distrust = judge.distrustOf(e.sha256);
      if (distrust === null) chosen.push(e);
      else leftOut.push({ ...exported(e, nameOf), ...distrustReport(distrust) });
    }
    const files = planFiles(catalog, chosen, nameOf);
    const manifest: TransferManifest = {
      format: BUNDLE_FORMAT,
      cabferryVersion,
      createdAt: isoTime(now),
      sourceCatalog: catalog.dir,
      since: (options.since === undefined ? null : isoTime(options.since)),
      follows: previous === null ? null : { createdAt: previous.manifest.createdAt, manifestSha256: previous.sha256 },
      carriedBefore,
      payloads: chosen.map((e): BundlePayload => ({ sha256: e.sha256, size: e.size, fileName: nameOf(e), path: payloadPath(e.sha256, nameOf(e)), record: recordPath(e.sha256) })),
      files: files.map((f) => f.entry),
    };
    const manifestBytes = serializeJson(manifest);
    const signature = signDetached(manifestBytes, material, now);
    const progress = options.onProgress ?? (() => undefined);
    progress({ type: 'total', items: chosen.length });
    if (kind === 'zip') await writeZip(catalog, to, files, manifestBytes, signature, now, progress);
    else writeFolder(catalog, to, files, manifestBytes, signature, progress);
    return {
      to,
      kind,
      createdAt: manifest.createdAt,
      sourceCatalog: manifest.sourceCatalog,
      since: manifest.since,
      follows: manifest.follows,
      carriedBefore: carriedBefore.length,
      payloads: chosen.map((e) => exported(e, nameOf)),
      leftOut,
      complete: leftOut.length === 0,
      bytes: chosen.reduce((n, e) => n + e.size, 0),
      files: files.length + 2,
      manifestSha256: sha256Hex(manifestBytes),
      signer: material.signer.subject,
      warnings: material.warnings,
    };
  } finally {
    catalog.close();
  }
}

function exported(e: CatalogEntry, nameOf: (e: CatalogEntry) => string): ExportedPayload {
  return { sha256: e.sha256, size: e.size, fileName: nameOf(e), kb: e.payload?.kb ?? null };
}

function checkDestination(to: string, kind: 'zip' | 'folder'): void {
  if (kind === 'zip') {
    if (fs.existsSync(to)) throw usageError('OUTPUT_EXISTS', `${to} exists: name a new file for the bundle`);
    return;
  }
  if (!fs.existsSync(to)) return;
  if (!fs.statSync(to).isDirectory() || fs.readdirSync(to).length > 0) {
    throw usageError('OUTPUT_EXISTS', `${to} exists and is not an empty folder: name a new or empty folder for the bundle`);
  }
}

/**
 * What the bundle --since-bundle names says it and the bundles it followed carried, believed only
 * through its signature: the new bundle leaves out all of it, so a list edited after signing (a
 * payload's SHA-256 added to carriedBefore) would keep that payload from the high side for good
 * while the export reported itself complete. An unsigned, altered or untrusted earlier bundle
 * stops the export before anything is written (a negative verdict, exit 1).
 *
 * `trust` is the catalog's anchors for signatures and the certificate signing the new bundle
 * (withSigner). The earlier bundle is judged at the time its own manifest says it was made, never
 * later than now: what is asked is whether a trusted signer vouched for that list when it was
 * made, and a certificate that expired or was replaced since (the usual state of last year's
 * bundle) must not block the next incremental export. createdAt is read through
 * verifyManifestSignature's time callback, called only after the manifest's digest and the
 * signature value verified: the time is the signer's claim, never a later edit of the low side.
 */
async function readPreviousManifest(bundlePath: string, trust: SignatureTrust, now: Date): Promise<{ manifest: TransferManifest; sha256: string }> {
  let bundle;
  try {
    bundle = await openBundle(bundlePath);
  } catch (e) {
    if (e instanceof CabferryError) throw e;
    throw inputError('BUNDLE_UNREADABLE', `cannot read the earlier bundle: ${describeIoError(e)}`, { file: bundlePath, cause: e });
  }
  try {
    const { bytes, signature } = await readSignedManifest(bundle, trust, (signed) => madeAt(signed, now));
    const instead = 'export without --since-bundle (everything the catalog holds), or with --since DATE';
    if (signature === null) {
      throw new CabferryError(
        'negative',
        'EARLIER_BUNDLE_UNSIGNED',
        `the earlier bundle has no ${BUNDLE.signature}: what it says was carried cannot be believed unsigned, so nothing was exported; ${instead}`,
        { file: bundlePath },
      );
    }
    if (signature.status !== 'valid') {
      const why = `${signature.reason ?? ''} [${signature.code ?? ''}]`;
      const untrusted = signature.code === 'CHAIN_UNTRUSTED'
        ? `; its signer is not the signing certificate and chains to no anchor the catalog trusts for signatures (if that root is yours: \`cabferry trust add --for signatures ROOT\`)`
        : '';
      throw new CabferryError(
        'negative',
        'EARLIER_BUNDLE_SIGNATURE_INVALID',
        `the earlier bundle's signature is not valid: ${why}${untrusted}; what it says was carried cannot be believed, so nothing was exported; ${instead}`,
        { file: bundlePath, cause: why, data: { signature: { code: signature.code, signer: signature.signer } } },
      );
    }
    return { manifest: parseTransferManifest(bytes, `${bundlePath}:${BUNDLE.manifest}`), sha256: sha256Hex(bytes) };
  } finally {
    bundle.close();
  }
}

/**
 * The catalog's trust for signatures, and beside its anchors the certificate that signs the new
 * bundle: whoever could have forged the earlier bundle with that certificate's key can sign the
 * new one anyway. The chain builder matches an anchor by its DER (or its subject and public key),
 * never by the subject's text alone.
 */
function withSigner(trust: SignatureTrust, signer: Certificate, certFile: string): SignatureTrust {
  return { anchors: [...trust.anchors, { certificate: signer, source: `the signing certificate (${certFile})` }], payloadsOnly: trust.payloadsOnly };
}

/**
 * When the signed manifest says it was made, never later than now. A manifest whose createdAt
 * cannot be read is judged now: the strict parse after the signature check refuses it anyway.
 */
function madeAt(signed: Buffer, now: Date): Date {
  let createdAt: unknown;
  try {
    createdAt = (JSON.parse(signed.toString('utf8')) as { createdAt?: unknown } | null)?.createdAt;
  } catch {
    return now;
  }
  const t = typeof createdAt === 'string' ? Date.parse(createdAt) : NaN;
  return Number.isNaN(t) || t > now.getTime() ? now : new Date(t);
}

/** Imported payloads only (quarantined files are evidence, never offered), in catalog order. */
function selectPayloads(catalog: Catalog, since: Date | undefined, carriedBefore: Set<string>): CatalogEntry[] {
  return catalog
    .entries({}, 'imported')
    .filter((e) => !carriedBefore.has(e.sha256))
    .filter((e) => since === undefined || Date.parse(e.firstImportedAt) >= since.getTime());
}

function planFiles(catalog: Catalog, entries: CatalogEntry[], nameOf: (e: CatalogEntry) => string): PlannedFile[] {
  const files: PlannedFile[] = [];
  for (const e of entries) {
    const name = nameOf(e);
    if (!isSafeFileName(name)) {
      throw inputError('BUNDLE_UNSAFE_NAME', `payload ${e.sha256} is named ${JSON.stringify(name)}, which cannot be one file name in a bundle`, { file: catalog.dir });
    }
    const record = serializeJson(transferRecord({ ...e, fileName: name }, catalog.importVerdict(e.sha256)));
    files.push({ entry: { path: payloadPath(e.sha256, name), size: e.size, sha256: e.sha256 }, blob: e.sha256, bytes: null });
    files.push({ entry: { path: recordPath(e.sha256), size: record.length, sha256: sha256Hex(record) }, blob: null, bytes: record });
  }
  return files;
}

function writeFolder(catalog: Catalog, to: string, files: PlannedFile[], manifest: Buffer, signature: Buffer, progress: (e: TransferProgress) => void): void {
  makeDirectories(to);
  for (const f of files) {
    const dest = path.join(to, ...f.entry.path.split('/'));
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    if (f.blob === null) {
      writeFileAtomic(dest, f.bytes!);
      continue;
    }
    progress({ type: 'start', label: f.entry.path, size: f.entry.size });
    exportBlob(catalog, f.blob, dest, { onBytes: (bytes) => progress({ type: 'bytes', bytes }) });
    progress({ type: 'result' });
  }
  // the signature first: the manifest is what makes the folder a bundle, so an export killed
  // between the two leaves no manifest rather than a manifest without its signature
  writeFileAtomic(path.join(to, BUNDLE.signature), signature);
  writeFileAtomic(path.join(to, BUNDLE.manifest), manifest);
}

/**
 * The zip goes to a temp name beside FILE and is renamed only when complete. Payloads are
 * stored (they are compressed cabinets already), records and the manifest deflated.
 */
async function writeZip(catalog: Catalog, to: string, files: PlannedFile[], manifest: Buffer, signature: Buffer, mtime: Date, progress: (e: TransferProgress) => void): Promise<void> {
  const temp = path.join(path.dirname(to), `.${path.basename(to)}.${process.pid}.part`);
  const zip = new yazl.ZipFile();
  let failure: unknown = null;
  // yazl reports a failed entry on the ZipFile, not on its output; end the output with it, or
  // the pipeline below would wait for bytes that never come
  const fail = (e: unknown): void => {
    failure ??= e;
    (zip.outputStream as Readable).destroy(e as Error);
  };
  zip.on('error', fail);
  for (const f of files) {
    if (f.blob === null) {
      zip.addBuffer(f.bytes!, f.entry.path, { mtime, compress: true });
      continue;
    }
    const blob = f.blob;
    zip.addReadStreamLazy(f.entry.path, { mtime, compress: false, size: f.entry.size }, (cb) => {
      progress({ type: 'start', label: f.entry.path, size: f.entry.size });
      try {
        const stream = verifiedBlobStream(catalog, blob, f.entry.size, progress);
        stream.on('error', fail);
        cb(null, stream);
      } catch (e) {
        fail(e);
        cb(e, null as unknown as Readable);
      }
    });
  }
  zip.addBuffer(signature, BUNDLE.signature, { mtime, compress: false });
  zip.addBuffer(manifest, BUNDLE.manifest, { mtime, compress: true });
  zip.end();
  try {
    await pipeline(zip.outputStream as Readable, fs.createWriteStream(temp, { flags: 'wx' }));
    if (failure !== null) throw failure;
    const fd = fs.openSync(temp, 'r+');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, to);
  } catch (e) {
    fs.rmSync(temp, { force: true });
    const cause = failure ?? e;
    if (cause instanceof CabferryError) throw cause;
    throw internalError('EXPORT_FAILED', `cannot write ${to}: ${describeIoError(cause)}`, { file: to, cause });
  }
}

/** A blob's bytes, hashed as they pass: the stream fails at its end when they are not the catalog's. */
function verifiedBlobStream(catalog: Catalog, sha256: string, size: number, progress: (e: TransferProgress) => void): Readable {
  const file = catalog.blobPath(sha256);
  if (catalog.blobs.blobSize(sha256) !== size) {
    throw internalError('BLOB_MISSING', `the blob of ${sha256} is missing from the store or has the wrong size (run \`cabferry catalog check\`)`, { file });
  }
  const hash = createHash('sha256');
  const check = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      progress({ type: 'bytes', bytes: chunk.length });
      done(null, chunk);
    },
    flush(done) {
      const actual = hash.digest('hex');
      if (actual !== sha256) done(internalError('BLOB_CORRUPT', `the stored blob of ${sha256} was altered on disk (hashes to ${actual}); nothing exported`, { file }));
      else {
        progress({ type: 'result' });
        done();
      }
    },
  });
  const source = fs.createReadStream(file);
  source.on('error', (e) => check.destroy(internalError('BLOB_READ', `cannot read ${file}: ${describeIoError(e)}`, { file, cause: e })));
  return source.pipe(check);
}

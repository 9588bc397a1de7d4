import fs = require('node:fs');
import path = require('node:path');
import type { Readable } from 'node:stream';
import type * as yauzl from 'yauzl';
import { BUNDLE_MANIFEST_NAME, bundleMarkersIn, bundleRootAmong, isBundleFolder, isBundleLayoutName, isBundleMarkerName } from '../bundle-marker';
import { inputError, isCabferryError } from '../errors';
import { fileTypeName, openRegularFile, readRegularFile } from '../io/regular-file';
import { unsafeEntryNameReason } from '../importer/entry-names';
import { entryName, MAGIC_EMPTY_ZIP, MAGIC_ZIP, nextEntry, openEntryStream, openZip, readMagic } from '../importer/sources';
import { walkFiles } from '../media/files';
import type { SignatureTrust } from '../catalog/trust';
import { verifyManifestSignature, type ManifestSignatureReport, type SignatureValidityTime } from '../media/manifest';
import { BUNDLE, MAX_MANIFEST_BYTES, MAX_SIGNATURE_BYTES } from './bundle-format';

/**
 * A transfer bundle as a set of named files, whether it is a zip or a folder: what files it
 * holds (with sizes), and their bytes on demand. Entries that no bundle we write can hold
 * (symbolic links, devices, names that climb out, a name given twice, encrypted entries) are
 * kept as problems: the bundle is refused for them, not silently read around them.
 */

export interface BundleFile {
  name: string;
  size: number;
}

/** Something at the bundle's root under a name that marks a bundle (../bundle-marker.ts), spelled as it is there. */
export interface BundleMarker {
  name: string;
  /** null for a regular file; otherwise what stands there instead, in words ('a folder', 'a symbolic link', …) */
  notAFile: string | null;
}

export interface BundleEntryProblem {
  name: string;
  reason: string;
}

/** A problem as the bundle report words it: "NAME: why". */
export function describeEntryProblem(p: BundleEntryProblem): string {
  return `${p.name}: ${p.reason}`;
}

export interface BundleSource {
  path: string;
  kind: 'zip' | 'folder';
  files: Map<string, BundleFile>;
  /** what stands at the root under the manifest's name in any letter case, whatever it is (a folder too): see assertBundleManifest */
  markers: BundleMarker[];
  /** entries that cannot belong to a bundle, and why */
  problems: BundleEntryProblem[];
  /** the whole file, refused past `maxBytes` (the manifest, its signature, records) */
  read(name: string, maxBytes: number): Promise<Buffer>;
  openStream(name: string): Promise<Readable>;
  /** the file on disk (folders only): the importer reads it in place, header first */
  diskPath(name: string): string | null;
  close(): void;
}

/** A folder holding cabferry-bundle.json, or a zip whose directory lists it at its root, in any letter case (../bundle-marker.ts). */
export async function isTransferBundle(p: string): Promise<boolean> {
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch {
    return false;
  }
  if (st.isDirectory()) return isBundleFolder(p);
  const magic = readMagic(p);
  if (!magic.equals(MAGIC_ZIP) && !magic.equals(MAGIC_EMPTY_ZIP)) return false;
  let zip: yauzl.ZipFile;
  try {
    zip = await openZip(p);
  } catch {
    return false; // the ordinary import reports an unreadable zip
  }
  const seen: string[] = [];
  try {
    for (;;) {
      const entry = await nextEntry(zip);
      if (entry === null) return false;
      const name = entryName(entry);
      if (bundleRootAmong([name]) === '') return true;
      seen.push(name);
    }
  } catch {
    // a directory that cannot be read to its end may hide the manifest (written last) beyond the
    // damage: entries so far laid out as a bundle's make it one, refused whole by openBundle
    // (ZIP_CORRUPT), where the walk of a plain zip would import the payloads before the damage
    // one by one, without the bundle's signature or its all-or-nothing rule
    return seen.some(isBundleLayoutName);
  } finally {
    zip.close();
  }
}

/**
 * The bundle's manifest is one regular file at its root, or the bundle is refused here, before
 * any of it is read. Something else under the manifest's name (a folder, a link) is refused as
 * what it is, and so is the manifest under its name in another letter case (a FAT32 stick, a
 * Windows copy or a zip tool changed it; cabferry never writes one): the import and the folder
 * walk recognised a bundle by it, and "not a bundle" would send the operator to import it as a
 * plain folder, its payloads one by one without the bundle's check.
 */
export function assertBundleManifest(bundle: BundleSource): void {
  const marker = bundle.markers.find((m) => m.name === BUNDLE_MANIFEST_NAME);
  const otherCase = bundle.markers.find((m) => m.name !== BUNDLE_MANIFEST_NAME);
  if (marker === undefined && otherCase !== undefined) {
    const where = bundle.kind === 'zip' ? ' (in a zip: extract it and rename it in the folder)' : '';
    throw inputError(
      'BUNDLE_MANIFEST_NAME_CASE',
      `found ${JSON.stringify(otherCase.name)} where the bundle's manifest ${BUNDLE_MANIFEST_NAME} belongs: its letter case was changed on the way (a FAT32 stick, a Windows copy, a zip tool); cabferry writes no other case and reads a bundle's files by their exact names — rename it back to ${BUNDLE_MANIFEST_NAME} (and any other name whose case changed, such as ${BUNDLE.signature})${where} and import again; refused, nothing imported`,
      { file: bundle.path },
    );
  }
  if (marker !== undefined && marker.notAFile !== null) {
    throw inputError('BUNDLE_MANIFEST_NOT_A_FILE', `${marker.name} is ${marker.notAFile}, not a regular file: no bundle cabferry writes holds that; refused, nothing imported`, { file: bundle.path });
  }
  // the manifest's entry is there but cannot be read as a file (encrypted, listed twice): say which and why, not "no manifest"
  const unreadable = marker === undefined ? undefined : bundle.problems.find((p) => p.name === marker.name);
  if (marker !== undefined && !bundle.files.has(marker.name) && unreadable !== undefined) {
    throw inputError('BUNDLE_MANIFEST_UNREADABLE', `${describeEntryProblem(unreadable)}: no bundle cabferry writes holds that; refused, nothing imported`, { file: bundle.path });
  }
  if (marker === undefined || !bundle.files.has(marker.name)) {
    throw inputError('NOT_A_BUNDLE', `no ${BUNDLE_MANIFEST_NAME}: not a transfer bundle (or an export that did not finish)`, { file: bundle.path });
  }
}

/** A bundle's manifest as read, and what its detached signature says of those bytes: null when it has none. */
export interface SignedManifest {
  bytes: Buffer;
  signature: ManifestSignatureReport | null;
}

/**
 * The manifest's bytes and their signature checked against `trust`, at `at` (default now): the
 * check made before a bundle's manifest is believed (import of a bundle; export --since-bundle of
 * the earlier bundle whose list of what was carried it follows). Nothing of the manifest is parsed
 * here: the caller parses it once the signature is valid.
 */
export async function readSignedManifest(bundle: BundleSource, trust: SignatureTrust, at?: SignatureValidityTime): Promise<SignedManifest> {
  assertBundleManifest(bundle);
  const bytes = await bundle.read(BUNDLE.manifest, MAX_MANIFEST_BYTES);
  if (!bundle.files.has(BUNDLE.signature)) return { bytes, signature: null };
  return { bytes, signature: verifyManifestSignature(bytes, await bundle.read(BUNDLE.signature, MAX_SIGNATURE_BYTES), trust, at) };
}

export async function openBundle(p: string): Promise<BundleSource> {
  const st = fs.statSync(p);
  return st.isDirectory() ? openFolderBundle(p) : openZipBundle(p);
}

function openFolderBundle(root: string): BundleSource {
  const files = new Map<string, BundleFile>();
  const walked = walkFiles(root);
  const problems = walked.special.map((name): BundleEntryProblem => ({ name, reason: 'not a regular file' }));
  for (const name of walked.files) files.set(name, { name, size: fs.statSync(path.join(root, ...name.split('/'))).size });
  const diskPath = (name: string): string => path.join(root, ...name.split('/'));
  const markers = bundleMarkersIn(root).map((name): BundleMarker => {
    const st = fs.lstatSync(diskPath(name));
    return { name, notAFile: st.isFile() ? null : fileTypeName(st) };
  });
  return {
    path: root,
    kind: 'folder',
    files,
    markers,
    problems,
    // a bundle folder comes from removable media: each file is opened as a regular file, never
    // through a link (a FIFO swapped in after the walk is refused, not waited on), and bounded
    async read(name, maxBytes) {
      return readRegularFile(diskPath(name), { maxBytes, noFollow: true, what: name });
    },
    async openStream(name) {
      return fs.createReadStream('', { fd: openRegularFile(diskPath(name), { noFollow: true }).fd });
    },
    diskPath,
    close() {},
  };
}

async function openZipBundle(zipPath: string): Promise<BundleSource> {
  let zip: yauzl.ZipFile;
  try {
    zip = await openZip(zipPath);
  } catch (e) {
    throw inputError('ZIP_UNREADABLE', `not a readable zip bundle: ${(e as Error).message}`, { file: zipPath });
  }
  const files = new Map<string, BundleFile>();
  const entries = new Map<string, yauzl.Entry>();
  const problems: BundleEntryProblem[] = [];
  const markers = new Map<string, string | null>();
  let read = 0;
  let last: string | null = null;
  try {
    for (;;) {
      const entry = await nextEntry(zip);
      if (entry === null) break;
      const name = entryName(entry);
      read++;
      last = name;
      const segments = name.split(/[\\/]/);
      if (isBundleMarkerName(segments[0]!)) {
        // a folder under the manifest's name (cabferry-bundle.json/ or cabferry-bundle.json/x) outweighs a file by that name
        const notAFile = segments.length > 1 ? 'a folder' : isSymbolicLinkEntry(entry) ? 'a symbolic link' : null;
        if (!markers.has(segments[0]!) || markers.get(segments[0]!) === null) markers.set(segments[0]!, notAFile);
      }
      const unsafe = unsafeEntryNameReason(name);
      if (unsafe !== null) problems.push({ name, reason: unsafe });
      else if (name.endsWith('/')) problems.push({ name, reason: 'a folder entry (a bundle holds files only)' });
      else if (isSymbolicLinkEntry(entry)) problems.push({ name, reason: 'a symbolic link entry (a bundle holds files only)' });
      else if (entries.has(name)) problems.push({ name, reason: 'listed twice in the zip directory' });
      else if ((entry.generalPurposeBitFlag & 0x1) !== 0) problems.push({ name, reason: 'encrypted' });
      else {
        entries.set(name, entry);
        files.set(name, { name, size: entry.uncompressedSize });
      }
    }
  } catch (e) {
    zip.close();
    if (isCabferryError(e) && e.code === 'ZIP_CORRUPT') {
      // where the directory broke off, as yauzl names no entry: what follows it (the manifest among it) is unknown
      const where = last === null ? 'at its first entry' : `after entry ${read} ${JSON.stringify(last)}`;
      throw inputError('ZIP_CORRUPT', `${e.message}, ${where}: the bundle cannot be checked whole; refused, nothing imported`, { file: zipPath, cause: e });
    }
    throw isCabferryError(e) ? Object.assign(e, { file: zipPath }) : e;
  }
  const entryOf = (name: string): yauzl.Entry => {
    const entry = entries.get(name);
    if (entry === undefined) throw inputError('BUNDLE_FILE_MISSING', 'not in the bundle', { file: zipPath, member: name });
    return entry;
  };
  return {
    path: zipPath,
    kind: 'zip',
    files,
    markers: [...markers].map(([name, notAFile]) => ({ name, notAFile })),
    problems,
    async read(name, maxBytes) {
      const entry = entryOf(name);
      if (entry.uncompressedSize > maxBytes) {
        throw inputError('BUNDLE_FILE_TOO_LARGE', `${entry.uncompressedSize} bytes, over the ${maxBytes}-byte limit for this file`, { file: zipPath, member: name });
      }
      const chunks: Buffer[] = [];
      try {
        for await (const chunk of (await openEntryStream(zip, entry)) as AsyncIterable<Buffer>) chunks.push(chunk);
      } catch (e) {
        throw inputError('ZIP_ENTRY_CORRUPT', `cannot read entry: ${(e as Error).message}`, { file: zipPath, member: name, cause: e });
      }
      return Buffer.concat(chunks);
    },
    async openStream(name) {
      return openEntryStream(zip, entryOf(name));
    },
    diskPath: () => null,
    close() {
      zip.close();
    },
  };
}

/** An entry a Unix zip tool stored as a symbolic link: its "content" is the link's target. */
function isSymbolicLinkEntry(entry: yauzl.Entry): boolean {
  const madeOnUnix = entry.versionMadeBy >> 8 === 3;
  return madeOnUnix && ((entry.externalFileAttributes >>> 16) & 0o170000) === 0o120000;
}

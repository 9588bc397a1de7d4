import fs = require('node:fs');
import path = require('node:path');
import type { Readable } from 'node:stream';
import yauzl = require('yauzl');
import { BUNDLE_MANIFEST_NAME, bundleAmong, isBundleLayoutName, isBundleMarkerName, markerSpelling } from '../bundle-marker';
import { describeIoError, inputError } from '../errors';
import { fileTypeName, openRegularFile } from '../io/regular-file';
import { unsafeEntryNameReason } from './entry-names';

/**
 * What the operator pointed `import` at, turned into a flat sequence of candidate payloads:
 * files, folders (walked recursively, in name order) and .zip bundles (entries streamed with
 * yauzl, never extracted to their names). Everything that is not a candidate comes out too,
 * as `skipped` (not a payload at all: a README in a folder) or `rejected` (a payload-looking
 * thing we refuse: unsafe zip name, nested bundle, zip bomb), so the summary accounts for it.
 *
 * A transfer bundle (`cabferry export`) is never walked: its payloads taken one by one would skip
 * its signature, its all-or-nothing rule and the comparison of its records, without a word. A
 * bundle zip or folder met here (inside a folder, a folder zipped inside a plain zip, or named
 * directly to this walk rather than to the bundle importer) is one `rejected` item,
 * BUNDLE_NESTED, that says how to import it as a bundle; `surveySources` finds the first one
 * before an import starts, so the importer can refuse the whole command instead.
 */

interface SourceBase {
  /** the file the operator named or that the folder walk found (the zip file for bundle entries) */
  source: string;
  /** the entry name inside a zip bundle */
  entry: string | null;
  /** how reports name it: "dir/x.msu" or "bundle.zip!x.msu" */
  label: string;
}

export interface FileSource extends SourceBase {
  kind: 'file';
  fileName: string;
  path: string;
}

export interface ZipEntrySource extends SourceBase {
  kind: 'zip-entry';
  fileName: string;
  /** declared uncompressed size (yauzl checks the stream delivers exactly this many bytes) */
  size: number;
  /** must be consumed (or destroyed) before the walk continues */
  open(): Promise<Readable>;
}

export interface SkippedSource extends SourceBase {
  kind: 'skipped';
  reason: string;
}

export interface RejectedSource extends SourceBase {
  kind: 'rejected';
  code: string;
  reason: string;
}

export type SourceItem = FileSource | ZipEntrySource | SkippedSource | RejectedSource;

export interface SourceLimits {
  /** largest uncompressed entry accepted from a bundle */
  maxEntryBytes: number;
  /** a bundle may expand to at most this many times its own size (overlapping-entry bombs) */
  maxExpansionRatio: number;
  maxEntries: number;
}

export const DEFAULT_SOURCE_LIMITS: SourceLimits = {
  maxEntryBytes: 16 * 1024 ** 3,
  // payloads are already compressed cabinets: deflate gains a few percent on them, not 100×
  maxExpansionRatio: 100,
  maxEntries: 100_000,
};

const PAYLOAD_EXTENSIONS = new Set(['.cab', '.msu', '.exe']);
const MAGIC_CAB = Buffer.from('MSCF');
export const MAGIC_ZIP = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
export const MAGIC_EMPTY_ZIP = Buffer.from([0x50, 0x4b, 0x05, 0x06]);

/** Fail before importing anything if a named path does not exist: that is a typo, not a verdict. */
export function checkSourcePaths(paths: string[]): void {
  for (const p of paths) {
    try {
      fs.statSync(p);
    } catch (e) {
      throw inputError('SOURCE_UNREADABLE', `cannot read: ${describeIoError(e)}`, { file: p });
    }
  }
}

export async function* walkSources(paths: string[], limits: SourceLimits = DEFAULT_SOURCE_LIMITS): AsyncGenerator<SourceItem> {
  for (const p of paths) {
    const st = fs.statSync(p);
    if (st.isDirectory()) yield* walkFolder(p, limits);
    else if (st.isFile()) yield* fromFile(p, true, limits);
    // a FIFO would block the read forever, a device never ends: refused by type, never opened
    else yield { kind: 'rejected', source: p, entry: null, label: p, code: 'SOURCE_NOT_REGULAR', reason: `is ${fileTypeName(st)}, not a regular file; only files, folders and .zip bundles are imported` };
  }
}

export interface SourceSurvey {
  /** how many items walkSources will yield (each gives one import result), to size a progress bar */
  items: number;
  /** the first transfer bundle the walk would refuse (BUNDLE_NESTED), or null */
  nestedBundle: RejectedSource | null;
}

/**
 * What walkSources will yield for these paths, found by walking the same folders and zip
 * directories without reading any payload: how many items, and whether a transfer bundle is
 * among them — before anything is imported.
 */
export async function surveySources(paths: string[], limits: SourceLimits = DEFAULT_SOURCE_LIMITS): Promise<SourceSurvey> {
  const survey: SourceSurvey = { items: 0, nestedBundle: null };
  for await (const item of walkSources(paths, limits)) {
    survey.items++;
    if (survey.nestedBundle === null && item.kind === 'rejected' && item.code === NESTED_BUNDLE_CODE) survey.nestedBundle = item;
  }
  return survey;
}

export const NESTED_BUNDLE_CODE = 'BUNDLE_NESTED';

function nestedBundle(source: string, reason: string): RejectedSource {
  return { kind: 'rejected', source, entry: null, label: source, code: NESTED_BUNDLE_CODE, reason };
}

/**
 * The words for a bundle zip or folder met by the walk: import it on its own, as a bundle. When
 * its manifest's name is spelled in another letter case (`marker`), renaming it back comes first:
 * the bundle importer refuses it otherwise (BUNDLE_MANIFEST_NAME_CASE), and the operator would
 * learn that only on the second try.
 */
function bundleReason(p: string, marker: string = BUNDLE_MANIFEST_NAME): string {
  const rename = marker === BUNDLE_MANIFEST_NAME ? '' : `rename its ${JSON.stringify(marker)} back to ${BUNDLE_MANIFEST_NAME}, then `;
  return `is a transfer bundle (made by \`cabferry export\`): a bundle is imported only on its own, its signature and every file checked — ${rename}run \`cabferry import ${p}\``;
}

/**
 * The words for a zip met by the walk that is, or holds at `root`, a transfer bundle whose
 * manifest is spelled `marker`: extract it first (a bundle zipped inside a zip, or a manifest to
 * rename, cannot be imported from where it is), rename, then import the folder.
 */
function zipBundleReason(zipPath: string, root: string, marker: string): string {
  const exact = marker === BUNDLE_MANIFEST_NAME;
  if (root === '' && exact) return bundleReason(zipPath);
  const rename = exact ? '' : `, rename its ${JSON.stringify(marker)} back to ${BUNDLE_MANIFEST_NAME}`;
  if (root === '') return `is a transfer bundle (made by \`cabferry export\`) whose manifest's letter case was changed: a bundle is imported only on its own, its signature and every file checked — extract the zip${rename} and run \`cabferry import FOLDER\``;
  return `holds a transfer bundle in ${root}/ (made by \`cabferry export\`): its payloads are not imported one by one, without its signature — extract the zip${rename} and run \`cabferry import FOLDER/${root}\``;
}

async function* walkFolder(dir: string, limits: SourceLimits): AsyncGenerator<SourceItem> {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    yield { kind: 'rejected', source: dir, entry: null, label: dir, code: 'SOURCE_UNREADABLE', reason: `cannot list folder: ${describeIoError(e)}` };
    return;
  }
  // by the listing, so a manifest whose letter case a copy changed marks the bundle too
  const markers = entries.filter((ent) => isBundleMarkerName(ent.name)).map((ent) => ent.name);
  if (markers.length > 0) {
    yield nestedBundle(dir, bundleReason(dir, markerSpelling(markers)));
    return;
  }
  for (const ent of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const p = path.join(dir, ent.name);
    // symlinked folders are not followed (loops); symlinked files are, like any file
    if (ent.isDirectory()) yield* walkFolder(p, limits);
    else if (ent.isFile() || (ent.isSymbolicLink() && isRegularFile(p))) yield* fromFile(p, false, limits);
  }
}

async function* fromFile(file: string, named: boolean, limits: SourceLimits): AsyncGenerator<SourceItem> {
  const ext = path.extname(file).toLowerCase();
  const magic = readMagic(file);
  if (ext === '.zip' || magic.equals(MAGIC_ZIP) || magic.equals(MAGIC_EMPTY_ZIP)) {
    yield* walkZip(file, limits);
    return;
  }
  // a file named on the command line is always judged; one met in a folder only if it looks like a payload
  if (named || PAYLOAD_EXTENSIONS.has(ext) || magic.equals(MAGIC_CAB)) {
    yield { kind: 'file', source: file, entry: null, label: file, fileName: path.basename(file), path: file };
  } else {
    yield { kind: 'skipped', source: file, entry: null, label: file, reason: 'not a cabinet, .msu, .exe or .zip bundle' };
  }
}

async function* walkZip(zipPath: string, limits: SourceLimits): AsyncGenerator<SourceItem> {
  const reject = (code: string, reason: string, entry: string | null = null): RejectedSource => ({
    kind: 'rejected', source: zipPath, entry, label: entry === null ? zipPath : `${zipPath}!${entry}`, code, reason,
  });
  let zip: yauzl.ZipFile;
  try {
    // decodeStrings:false: yauzl would abort the whole bundle on the first bad name; we
    // decode and judge names ourselves, entry by entry
    zip = await openZip(zipPath);
  } catch (e) {
    yield reject('ZIP_UNREADABLE', `not a readable zip bundle: ${(e as Error).message}`);
    return;
  }
  const zipSize = fs.statSync(zipPath).size;
  try {
    // the whole directory first: a bundle's manifest is its last entry, and none of its
    // payloads may be handed out before it is seen
    const listed: yauzl.Entry[] = [];
    let directoryEnd: RejectedSource | null = null;
    /** what broke the directory off part way, as yauzl said it */
    let directoryDamage: string | null = null;
    for (;;) {
      let entry: yauzl.Entry | null;
      try {
        entry = await nextEntry(zip);
      } catch (e) {
        directoryDamage = (e as Error).message;
        directoryEnd = reject('ZIP_CORRUPT', `${directoryDamage}; the rest of the bundle is ignored`);
        break;
      }
      if (entry === null) break;
      if (listed.length >= limits.maxEntries) {
        directoryEnd = reject('ZIP_TOO_MANY_ENTRIES', `more than ${limits.maxEntries} entries; the rest of the bundle is ignored`);
        break;
      }
      listed.push(entry);
    }
    const bundle = bundleAmong(listed.map(entryName));
    if (bundle !== null) {
      yield nestedBundle(zipPath, zipBundleReason(zipPath, bundle.root, bundle.marker));
      return;
    }
    // a damaged directory may hide a bundle's manifest (written last): entries before the damage
    // laid out as a bundle's are never handed out one by one, without the bundle's check
    if (directoryDamage !== null && listed.some((e) => isBundleLayoutName(entryName(e)))) {
      yield nestedBundle(zipPath, `is laid out as a transfer bundle (made by \`cabferry export\`) but its zip directory is damaged (${directoryDamage}): a bundle's payloads are never imported one by one, without its signature — carry the bundle again, or run \`cabferry import ${zipPath}\` to see why it is refused`);
      return;
    }
    let expanded = 0;
    for (const entry of listed) {
      const name = entryName(entry);
      const label = `${zipPath}!${name}`;
      if (name.endsWith('/')) continue; // a directory record
      const unsafe = unsafeEntryNameReason(name);
      if (unsafe !== null) {
        yield reject('ZIP_UNSAFE_ENTRY_NAME', unsafe, name);
        continue;
      }
      const ext = path.extname(name).toLowerCase();
      if (ext === '.zip') {
        yield reject('ZIP_NESTED', 'nested zip bundles are not followed; extract it and import the inner bundle', name);
        continue;
      }
      if (!PAYLOAD_EXTENSIONS.has(ext)) {
        yield { kind: 'skipped', source: zipPath, entry: name, label, reason: 'not a .cab, .msu or .exe entry' };
        continue;
      }
      if ((entry.generalPurposeBitFlag & 0x1) !== 0) {
        yield reject('ZIP_ENCRYPTED', 'encrypted entries are not supported', name);
        continue;
      }
      if (entry.uncompressedSize > limits.maxEntryBytes) {
        yield reject('ZIP_ENTRY_TOO_LARGE', `entry declares ${entry.uncompressedSize} bytes, over the ${limits.maxEntryBytes}-byte limit`, name);
        continue;
      }
      expanded += entry.uncompressedSize;
      if (expanded > Math.max(zipSize, 1 << 20) * limits.maxExpansionRatio) {
        yield reject('ZIP_BOMB', `bundle expands to over ${limits.maxExpansionRatio}× its size (${zipSize} bytes); refusing this and later entries`, name);
        directoryEnd = null;
        break;
      }
      yield {
        kind: 'zip-entry', source: zipPath, entry: name, label, fileName: path.posix.basename(name.replace(/\\/g, '/')), size: entry.uncompressedSize,
        open: () => openEntryStream(zip, entry),
      };
    }
    if (directoryEnd !== null) yield directoryEnd;
  } finally {
    zip.close();
  }
}

export function openZip(zipPath: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(zipPath, { lazyEntries: true, decodeStrings: false, validateEntrySizes: true, autoClose: false }, (err, zip) => {
      if (err || !zip) reject(err ?? new Error('yauzl returned no zip'));
      else resolve(zip);
    });
  });
}

/** The next central-directory entry, or null at the end. A corrupt directory ends the walk with an error. */
export function nextEntry(zip: yauzl.ZipFile): Promise<yauzl.Entry | null> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      zip.removeListener('entry', onEntry);
      zip.removeListener('end', onEnd);
      zip.removeListener('error', onError);
    };
    const onEntry = (e: yauzl.Entry): void => { cleanup(); resolve(e); };
    const onEnd = (): void => { cleanup(); resolve(null); };
    const onError = (err: Error): void => { cleanup(); reject(inputError('ZIP_CORRUPT', `corrupt zip directory: ${err.message}`)); };
    zip.once('entry', onEntry);
    zip.once('end', onEnd);
    zip.once('error', onError);
    zip.readEntry();
  });
}

export function openEntryStream(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Readable> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (err, stream) => {
      if (err || !stream) reject(inputError('ZIP_ENTRY_UNREADABLE', `cannot read entry: ${err?.message ?? 'no stream'}`));
      else resolve(stream);
    });
  });
}

/** yauzl's own decoding (UTF-8 flag, Info-ZIP unicode path field, else CP437), without its all-or-nothing validation. */
export function entryName(entry: yauzl.Entry): string {
  const lowLevel = (yauzl as unknown as {
    getFileNameLowLevel(flags: number, name: Buffer, extraFields: unknown[], strict: boolean): string;
  }).getFileNameLowLevel;
  return lowLevel(entry.generalPurposeBitFlag, entry.fileName as unknown as Buffer, entry.extraFields, true);
}

export function readMagic(file: string): Buffer {
  const buf = Buffer.alloc(4);
  try {
    const { fd } = openRegularFile(file);
    try {
      fs.readSync(fd, buf, 0, 4, 0);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    /* unreadable: judged (and reported) when imported */
  }
  return buf;
}

function isRegularFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

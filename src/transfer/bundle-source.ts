import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import type * as yauzl from 'yauzl';
import { bundleRootAmong, isBundleFolder } from '../bundle-marker';
import { inputError } from '../errors';
import { openRegularFile, readRegularFile } from '../io/regular-file';
import { unsafeEntryNameReason } from '../importer/entry-names';
import { entryName, MAGIC_EMPTY_ZIP, MAGIC_ZIP, nextEntry, openEntryStream, openZip, readMagic } from '../importer/sources';
import { walkFiles } from '../media/files';

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

export interface BundleSource {
  path: string;
  kind: 'zip' | 'folder';
  files: Map<string, BundleFile>;
  /** entries that cannot belong to a bundle, each as "NAME: why" */
  problems: string[];
  /** the whole file, refused past `maxBytes` (the manifest, its signature, records) */
  read(name: string, maxBytes: number): Promise<Buffer>;
  openStream(name: string): Promise<Readable>;
  /** the file on disk (folders only): the importer reads it in place, header first */
  diskPath(name: string): string | null;
  close(): void;
}

/** A folder holding cabferry-bundle.json, or a zip whose directory lists it at its root (../bundle-marker.ts). */
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
  try {
    for (;;) {
      const entry = await nextEntry(zip);
      if (entry === null) return false;
      if (bundleRootAmong([entryName(entry)]) === '') return true;
    }
  } catch {
    return false;
  } finally {
    zip.close();
  }
}

export async function openBundle(p: string): Promise<BundleSource> {
  const st = fs.statSync(p);
  return st.isDirectory() ? openFolderBundle(p) : openZipBundle(p);
}

function openFolderBundle(root: string): BundleSource {
  const files = new Map<string, BundleFile>();
  const walked = walkFiles(root);
  const problems = walked.special.map((name) => `${name}: not a regular file`);
  for (const name of walked.files) files.set(name, { name, size: fs.statSync(path.join(root, ...name.split('/'))).size });
  const diskPath = (name: string): string => path.join(root, ...name.split('/'));
  return {
    path: root,
    kind: 'folder',
    files,
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
  const problems: string[] = [];
  try {
    for (;;) {
      const entry = await nextEntry(zip);
      if (entry === null) break;
      const name = entryName(entry);
      const unsafe = unsafeEntryNameReason(name);
      if (unsafe !== null) problems.push(`${name}: ${unsafe}`);
      else if (name.endsWith('/')) problems.push(`${name}: a folder entry (a bundle holds files only)`);
      else if (entries.has(name)) problems.push(`${name}: listed twice in the zip directory`);
      else if ((entry.generalPurposeBitFlag & 0x1) !== 0) problems.push(`${name}: encrypted`);
      else {
        entries.set(name, entry);
        files.set(name, { name, size: entry.uncompressedSize });
      }
    }
  } catch (e) {
    zip.close();
    throw (e as Error & { file?: string }).name === 'CabferryError' ? Object.assign(e as Error, { file: zipPath }) : e;
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

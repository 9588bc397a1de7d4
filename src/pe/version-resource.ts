import type { CabByteSource } from '../cab/byte-source';
import { inputError } from '../errors';
import type { PeHeader } from './header';

/**
 * The version resource (RT_VERSION, VS_VERSIONINFO) of a PE image: the fixed file and product
 * versions and the StringFileInfo strings (FileVersion, ProductName, OriginalFilename, …). Read
 * through the resource directory of .rsrc, three levels deep (type → name → language), taking
 * the first name and the first language; every offset is checked against the section that holds
 * the resource directory before it is followed, and every block length against its parent.
 * A malformed structure is an input error with the file offset (PE_BAD_RESOURCE).
 *
 * Update installers keep their payload in .rsrc too (hundreds of MB): nothing here reads more
 * than the directory entries it walks and the version block itself.
 */

const RT_VERSION = 16;
const DIRECTORY_HEADER = 16;
const DIRECTORY_ENTRY = 8;
const DATA_ENTRY = 16;
/** Real version blocks are 1–4 KB; the format's 16-bit lengths cap them at 64 KB. */
const MAX_VERSION_BLOCK = 0xffff;
/** A directory with more entries than this is not a compiler's. */
const MAX_DIRECTORY_ENTRIES = 4096;
const FIXED_FILE_INFO_SIGNATURE = 0xfeef04bd;
const FIXED_FILE_INFO_SIZE = 52;
/** VS_VERSIONINFO → StringFileInfo → StringTable → String: deeper is not a version resource. */
const MAX_BLOCK_DEPTH = 4;

export interface VersionResource {
  /** from VS_FIXEDFILEINFO, "6.0.6002.18005"; null when the block has no fixed part */
  fileVersion: string | null;
  productVersion: string | null;
  /** the StringFileInfo table's language/code page key ("040904b0"), null when there is none */
  stringTable: string | null;
  /** StringFileInfo strings of the first table, by key as written (FileVersion, ProductName, OriginalFilename, …) */
  strings: Record<string, string>;
  /** file offset of the VS_VERSIONINFO block */
  offset: number;
}

function bad(file: CabByteSource, message: string, offset: number): never {
  throw inputError('PE_BAD_RESOURCE', `version resource: ${message}`, { file: file.path, offset });
}

/** The section bytes that hold an RVA: where they are in the file and how many follow. */
function mappedAt(header: PeHeader, rva: number): { offset: number; available: number } | null {
  for (const s of header.sections) {
    const mapped = s.virtualSize === 0 ? s.rawSize : Math.min(s.rawSize, s.virtualSize);
    if (rva >= s.virtualAddress && rva < s.virtualAddress + mapped) {
      return { offset: s.rawOffset + (rva - s.virtualAddress), available: s.virtualAddress + mapped - rva };
    }
  }
  return null;
}

/** The image's version resource, or null when it has no resource directory or no RT_VERSION entry. */
export function readVersionResource(file: CabByteSource, header: PeHeader): VersionResource | null {
  const directory = header.resourceDirectory;
  if (directory === null) return null;
  const root = mappedAt(header, directory.address);
  if (root === null) bad(file, `resource directory RVA 0x${directory.address.toString(16)} is not inside any section's data`, header.ntOffset);
  // every directory offset is relative to the resource directory's start and must stay in its section
  const area = { start: root.offset, size: Math.min(root.available, file.size - root.offset) };
  const readDirectory = (relative: number): { id: number | null; target: number; subdirectory: boolean }[] => {
    if (relative + DIRECTORY_HEADER > area.size) bad(file, `resource directory at +0x${relative.toString(16)} lies outside the resource section`, area.start + relative);
    const head = file.read(area.start + relative, DIRECTORY_HEADER, 'resource directory');
    const count = head.readUInt16LE(12) + head.readUInt16LE(14);
    if (count > MAX_DIRECTORY_ENTRIES || relative + DIRECTORY_HEADER + count * DIRECTORY_ENTRY > area.size) {
      bad(file, `resource directory with ${count} entries does not fit the resource section`, area.start + relative);
    }
    const raw = file.read(area.start + relative + DIRECTORY_HEADER, count * DIRECTORY_ENTRY, 'resource directory entries');
    const entries = [];
    for (let i = 0; i < count; i++) {
      const name = raw.readUInt32LE(i * DIRECTORY_ENTRY);
      const target = raw.readUInt32LE(i * DIRECTORY_ENTRY + 4);
      entries.push({ id: (name & 0x80000000) === 0 ? name : null, target: target & 0x7fffffff, subdirectory: (target & 0x80000000) !== 0 });
    }
    return entries;
  };
  const typeEntry = readDirectory(0).find((e) => e.id === RT_VERSION);
  if (typeEntry === undefined) return null;
  if (!typeEntry.subdirectory) bad(file, 'the RT_VERSION entry is not a directory', area.start);
  const nameEntry = readDirectory(typeEntry.target)[0];
  if (nameEntry === undefined) return null;
  if (!nameEntry.subdirectory) bad(file, 'the version resource name entry is not a directory', area.start + typeEntry.target);
  const languageEntry = readDirectory(nameEntry.target)[0];
  if (languageEntry === undefined) return null;
  if (languageEntry.subdirectory) bad(file, 'the version resource language entry is a directory, not data', area.start + nameEntry.target);
  if (languageEntry.target + DATA_ENTRY > area.size) bad(file, 'resource data entry lies outside the resource section', area.start + languageEntry.target);
  const data = file.read(area.start + languageEntry.target, DATA_ENTRY, 'resource data entry');
  const rva = data.readUInt32LE(0);
  const size = data.readUInt32LE(4);
  const where = mappedAt(header, rva);
  if (where === null || size > where.available || where.offset + size > file.size) {
    bad(file, `version data (RVA 0x${rva.toString(16)}, ${size} bytes) is not inside a section's data`, area.start + languageEntry.target);
  }
  if (size > MAX_VERSION_BLOCK) bad(file, `version data of ${size} bytes exceeds the format's 64 KB`, where.offset);
  return parseVersionInfo(file, file.read(where.offset, size, 'version resource'), where.offset);
}

interface Block {
  key: string;
  /** value bytes */
  value: Buffer;
  /** 1 for text values */
  type: number;
  children: Block[];
}

/** One VS_VERSIONINFO-style block: wLength, wValueLength, wType, szKey, padding, Value, padding, Children. */
function readBlock(file: CabByteSource, buf: Buffer, pos: number, end: number, base: number, depth: number): Block {
  if (pos + 6 > end) bad(file, 'truncated block header', base + pos);
  const length = buf.readUInt16LE(pos);
  const valueLength = buf.readUInt16LE(pos + 2);
  const type = buf.readUInt16LE(pos + 4);
  if (length < 6 || pos + length > end) bad(file, `block length ${length} does not fit its parent`, base + pos);
  const blockEnd = pos + length;
  let keyEnd = pos + 6;
  while (keyEnd + 1 < blockEnd && buf.readUInt16LE(keyEnd) !== 0) keyEnd += 2;
  if (keyEnd + 1 >= blockEnd) bad(file, 'block key has no terminating NUL', base + pos);
  const key = buf.toString('utf16le', pos + 6, keyEnd);
  const valueStart = align4(keyEnd + 2);
  // text values count WORDs (characters), binary ones bytes; some producers count bytes for text too
  const valueBytes = Math.min(type === 1 ? valueLength * 2 : valueLength, Math.max(0, blockEnd - valueStart));
  const value = buf.subarray(Math.min(valueStart, blockEnd), Math.min(valueStart + valueBytes, blockEnd));
  const children: Block[] = [];
  if (depth < MAX_BLOCK_DEPTH) {
    let child = align4(valueStart + valueBytes);
    while (child + 6 <= blockEnd) {
      const block = readBlock(file, buf, child, blockEnd, base, depth + 1);
      children.push(block);
      child = align4(child + buf.readUInt16LE(child));
    }
  }
  return { key, value, type, children };
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

function parseVersionInfo(file: CabByteSource, buf: Buffer, base: number): VersionResource {
  const root = readBlock(file, buf, 0, buf.length, base, 1);
  if (root.key !== 'VS_VERSION_INFO') bad(file, `root block is "${root.key}", not VS_VERSION_INFO`, base);
  let fileVersion: string | null = null;
  let productVersion: string | null = null;
  if (root.value.length >= FIXED_FILE_INFO_SIZE) {
    if (root.value.readUInt32LE(0) !== FIXED_FILE_INFO_SIGNATURE) bad(file, 'VS_FIXEDFILEINFO signature is not 0xFEEF04BD', base);
    fileVersion = dotted(root.value.readUInt32LE(8), root.value.readUInt32LE(12));
    productVersion = dotted(root.value.readUInt32LE(16), root.value.readUInt32LE(20));
  }
  const table = root.children.find((c) => c.key === 'StringFileInfo')?.children[0] ?? null;
  const strings: Record<string, string> = {};
  for (const s of table?.children ?? []) {
    const text = s.value.toString('utf16le');
    const nul = text.indexOf('\0');
    strings[s.key] = (nul < 0 ? text : text.slice(0, nul)).trim();
  }
  return { fileVersion, productVersion, stringTable: table?.key ?? null, strings, offset: base };
}

function dotted(ms: number, ls: number): string {
  return `${ms >>> 16}.${ms & 0xffff}.${ls >>> 16}.${ls & 0xffff}`;
}

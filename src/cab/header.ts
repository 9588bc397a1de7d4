import { describeCompression } from '../codecs/method';
import { inputError } from '../errors';
import { ReadAhead, type CabByteSource } from './byte-source';
import { CabFlags } from './types';
import type { AuthenticodeReserve, CabFolder, CabHeader, CabMember, Continuation } from './types';

/**
 * The structural part of MS-CAB (FORMATS.md §1.1–1.3): CFHEADER, the CFFOLDER table and the
 * CFFILE table, each read by offset and validated before anything downstream trusts it.
 * CFDATA blocks are walked later, on demand, by ./folder-stream.
 *
 * Policy, chosen to agree with cabextract on real cabinets while refusing anything that
 * could mislead a later stage:
 * - fatal: bad magic, no folders or files, reserve sizes over the format's limits, a string or
 *   name without its NUL within 256 bytes, tables outside the file or overlapping, a file
 *   entry naming a folder that does not exist.
 * - deferred to extraction (./cabinet): a folder whose data offset is implausible, a member
 *   extending past what its folder's blocks can hold. These spoil one folder or one member,
 *   not the listing, which is how cabextract treats them too.
 * - warnings only (header.warnings): non-zero reserved fields, a version other than 1.3,
 *   unknown flag bits, cbCabinet beyond the end of the file (the data reader reports the
 *   truncation precisely if a block is actually missing).
 */

export const CAB_SIGNATURE = 0x4643534d; // "MSCF"
const FIXED_HEADER_SIZE = 36;
const RESERVE_SIZES_SIZE = 4;
/** MS-CAB limits on the per-area reserves. */
export const MAX_HEADER_RESERVE = 60000;
export const MAX_FOLDER_RESERVE = 255;
export const MAX_DATA_RESERVE = 255;
/** Longest prev/next string or member name, NUL included (cabextract/libmspack use the same cap). */
export const MAX_STRING_BYTES = 256;
const CFFOLDER_FIXED_SIZE = 8;
const CFFILE_FIXED_SIZE = 16;
const FILE_TABLE_READ_CHUNK = 64 * 1024;

/** The 20-byte header reserve of an Authenticode-signed cabinet (FORMATS.md §3.1). */
const AUTHENTICODE_RESERVE_SIZE = 20;
const AUTHENTICODE_RESERVE_TAG = 0x00100000;

/** CFFILE.iFolder values that point into a neighbouring cabinet of a set. */
export const IFOLD_CONTINUED_FROM_PREV = 0xfffd;
export const IFOLD_CONTINUED_TO_NEXT = 0xfffe;
export const IFOLD_CONTINUED_PREV_AND_NEXT = 0xffff;

/** CFFILE.attribs bit: the name is UTF-8 rather than the OEM code page. */
export const ATTRIB_NAME_IS_UTF8 = 0x80;

export function readCabHeader(file: CabByteSource): CabHeader {
  const where = { file: file.path };
  if (file.size < FIXED_HEADER_SIZE) {
    if (file.size >= 4 && file.read(0, 4, 'signature').readUInt32LE(0) !== CAB_SIGNATURE) {
      throw inputError('CAB_BAD_SIGNATURE', 'not a cabinet (no MSCF signature)', { ...where, offset: 0 });
    }
    throw inputError('CAB_TRUNCATED_HEADER', `file is ${file.size} bytes, shorter than a cabinet header (36 bytes)`, { ...where, offset: 0 });
  }
  const fixed = file.read(0, FIXED_HEADER_SIZE, 'cabinet header');
  if (fixed.readUInt32LE(0) !== CAB_SIGNATURE) {
    throw inputError('CAB_BAD_SIGNATURE', 'not a cabinet (no MSCF signature)', { ...where, offset: 0 });
  }
  const warnings: string[] = [];
  const reserved1 = fixed.readUInt32LE(4);
  const cbCabinet = fixed.readUInt32LE(8);
  const reserved2 = fixed.readUInt32LE(12);
  const coffFiles = fixed.readUInt32LE(16);
  const reserved3 = fixed.readUInt32LE(20);
  const versionMinor = fixed.readUInt8(24);
  const versionMajor = fixed.readUInt8(25);
  const cFolders = fixed.readUInt16LE(26);
  const cFiles = fixed.readUInt16LE(28);
  const flags = fixed.readUInt16LE(30);
  const setID = fixed.readUInt16LE(32);
  const iCabinet = fixed.readUInt16LE(34);

  if (reserved1 !== 0 || reserved2 !== 0 || reserved3 !== 0) {
    // Signing tools reject these (osslsigncode, jsign); extractors ignore them. Not the reader's verdict to
    // make: a signed cabinet's reserved1 is judged by the verifier (authenticode/cab.ts checkUncoveredHeaderBytes).
    warnings.push(`non-zero reserved header fields (0x${reserved1.toString(16)}, 0x${reserved2.toString(16)}, 0x${reserved3.toString(16)})`);
  }
  if (versionMajor !== 1 || versionMinor !== 3) warnings.push(`cabinet format version ${versionMajor}.${versionMinor} (expected 1.3)`);
  if ((flags & ~0x0007) !== 0) warnings.push(`unknown header flags 0x${flags.toString(16)}`);
  if (cFolders === 0) throw inputError('CAB_NO_FOLDERS', 'cabinet declares no folders', { ...where, offset: 26 });
  if (cFiles === 0) throw inputError('CAB_NO_FILES', 'cabinet declares no files', { ...where, offset: 28 });
  if (cbCabinet > file.size) {
    warnings.push(`header declares ${cbCabinet} bytes but the file has ${file.size} (truncated?)`);
  }

  let pos = FIXED_HEADER_SIZE;
  let cbCFHeader = 0;
  let cbCFFolder = 0;
  let cbCFData = 0;
  let headerReserveOffset: number | null = null;
  if (flags & CabFlags.reservePresent) {
    const sizes = file.read(pos, RESERVE_SIZES_SIZE, 'reserve sizes');
    cbCFHeader = sizes.readUInt16LE(0);
    cbCFFolder = sizes.readUInt8(2);
    cbCFData = sizes.readUInt8(3);
    if (cbCFHeader > MAX_HEADER_RESERVE) {
      throw inputError('CAB_BAD_RESERVE', `header reserve of ${cbCFHeader} bytes exceeds the limit of ${MAX_HEADER_RESERVE}`, { ...where, offset: pos });
    }
    pos += RESERVE_SIZES_SIZE;
    headerReserveOffset = pos;
    if (pos + cbCFHeader > file.size) {
      throw inputError('CAB_TRUNCATED_HEADER', `header reserve (${cbCFHeader} bytes) runs past the end of the file`, { ...where, offset: pos });
    }
    pos += cbCFHeader;
  }

  const stringsStart = pos;
  let prevCabinet: string | null = null;
  let prevDisk: string | null = null;
  let nextCabinet: string | null = null;
  let nextDisk: string | null = null;
  if (flags & CabFlags.prevCabinet) {
    [prevCabinet, pos] = readHeaderString(file, pos, 'previous cabinet name', false);
    [prevDisk, pos] = readHeaderString(file, pos, 'previous disk name', true);
  }
  if (flags & CabFlags.nextCabinet) {
    [nextCabinet, pos] = readHeaderString(file, pos, 'next cabinet name', false);
    [nextDisk, pos] = readHeaderString(file, pos, 'next disk name', true);
  }
  const stringsRange: [number, number] = [stringsStart, pos];

  const folderTableOffset = pos;
  const folderTableEnd = folderTableOffset + cFolders * (CFFOLDER_FIXED_SIZE + cbCFFolder);
  if (folderTableEnd > file.size) {
    throw inputError('CAB_TRUNCATED_FOLDERS', `folder table (${cFolders} entries) runs past the end of the file`, { ...where, offset: folderTableOffset });
  }
  if (coffFiles < folderTableEnd) {
    throw inputError('CAB_BAD_FILES_OFFSET', `file table offset ${coffFiles} lies inside the header or folder table (ends at ${folderTableEnd})`, { ...where, offset: 16 });
  }
  if (coffFiles !== folderTableEnd) {
    // libmspack (so cabextract) reads the file table right after the folders, other readers seek to
    // coffFiles: with a gap, two tools list different files from the same bytes ("hidden files").
    throw inputError('CAB_AMBIGUOUS_FILES_OFFSET', `file table offset ${coffFiles} does not follow the folder table (ends at ${folderTableEnd}); readers would disagree on the file list`, { ...where, offset: 16 });
  }
  if (coffFiles + cFiles * CFFILE_FIXED_SIZE > file.size) {
    throw inputError('CAB_TRUNCATED_FILES', `file table (${cFiles} entries) runs past the end of the file`, { ...where, offset: coffFiles });
  }

  let authenticode: AuthenticodeReserve | null = null;
  if (headerReserveOffset !== null && cbCFHeader === AUTHENTICODE_RESERVE_SIZE) {
    const reserve = file.read(headerReserveOffset, AUTHENTICODE_RESERVE_SIZE, 'header reserve');
    if (reserve.readUInt32LE(0) === AUTHENTICODE_RESERVE_TAG) {
      const sigPos = reserve.readUInt32LE(4);
      const sigLen = reserve.readUInt32LE(8);
      authenticode = { sigPos, sigLen, problem: authenticodeLayoutProblem(sigPos, sigLen, cbCabinet, file.size, cbCFFolder, cbCFData) };
    }
  }

  // Bytes past the cabinet that an Authenticode blob does not account for.
  let end = cbCabinet;
  if (authenticode !== null && authenticode.problem === null) end = authenticode.sigPos + authenticode.sigLen;
  const trailingBytes = Math.max(0, file.size - end);

  return {
    fileSize: file.size,
    cbCabinet,
    coffFiles,
    versionMinor,
    versionMajor,
    cFolders,
    cFiles,
    flags,
    setID,
    iCabinet,
    cbCFHeader,
    cbCFFolder,
    cbCFData,
    headerReserveOffset,
    prevCabinet,
    prevDisk,
    nextCabinet,
    nextDisk,
    stringsRange,
    folderTableOffset,
    authenticode,
    trailingBytes,
    warnings,
  };
}

/** Why a declared signature location cannot be used, or null when it is where §3.1 says it must be. */
function authenticodeLayoutProblem(sigPos: number, sigLen: number, cbCabinet: number, fileSize: number, cbCFFolder: number, cbCFData: number): string | null {
  if (cbCFFolder !== 0 || cbCFData !== 0) return `signed cabinets have no folder/data reserve (found ${cbCFFolder}/${cbCFData})`;
  if (sigPos !== cbCabinet) return `signature offset ${sigPos} is not the end of the cabinet (${cbCabinet})`;
  if (sigLen === 0) return 'signature length is zero';
  if (sigPos + sigLen !== fileSize) return `signature (${sigLen} bytes at ${sigPos}) does not end at the end of the file (${fileSize} bytes)`;
  return null;
}

/** A NUL-terminated header string of at most 256 bytes, decoded as latin-1 (the OEM code page is unknown). */
function readHeaderString(file: CabByteSource, offset: number, what: string, mayBeEmpty: boolean): [string, number] {
  const { bytes, next } = readCString(file, offset, what);
  if (bytes.length === 0 && !mayBeEmpty) throw inputError('CAB_BAD_STRING', `${what} is empty`, { file: file.path, offset });
  return [bytes.toString('latin1'), next];
}

function readCString(file: Pick<CabByteSource, 'path' | 'readUpTo'>, offset: number, what: string): { bytes: Buffer; next: number } {
  const window = file.readUpTo(offset, MAX_STRING_BYTES);
  const nul = window.indexOf(0);
  if (nul < 0) {
    const why = window.length < MAX_STRING_BYTES ? 'runs past the end of the file' : `is not terminated within ${MAX_STRING_BYTES} bytes`;
    throw inputError('CAB_BAD_STRING', `${what} ${why}`, { file: file.path, offset });
  }
  return { bytes: window.subarray(0, nul), next: offset + nul + 1 };
}

export function readCabFolders(file: CabByteSource, header: CabHeader): CabFolder[] {
  const entrySize = CFFOLDER_FIXED_SIZE + header.cbCFFolder;
  const table = file.read(header.folderTableOffset, header.cFolders * entrySize, 'folder table');
  const folders: CabFolder[] = [];
  for (let index = 0; index < header.cFolders; index++) {
    const at = index * entrySize;
    const entryOffset = header.folderTableOffset + at;
    const coffCabStart = table.readUInt32LE(at);
    const cCFData = table.readUInt16LE(at + 4);
    const typeCompress = table.readUInt16LE(at + 6);
    folders.push({
      index,
      entryOffset,
      coffCabStart,
      cCFData,
      compression: describeCompression(typeCompress),
      reserveOffset: header.cbCFFolder > 0 ? entryOffset + CFFOLDER_FIXED_SIZE : null,
      continuedFromPrevious: false, // set by readCabMembers: only the file table says so
      continuedToNext: false,
    });
  }
  return folders;
}

export function readCabMembers(file: CabByteSource, header: CabHeader, folders: CabFolder[]): CabMember[] {
  const members: CabMember[] = [];
  // an entry is a 16-byte record and a name of up to 256 bytes: read one at a time, with a system
  // call each, they cost more than decoding the small cabinets of an update (a rollup lists thousands)
  const table = new ReadAhead(file, file.size, FILE_TABLE_READ_CHUNK);
  try {
    let pos = header.coffFiles;
    for (let index = 0; index < header.cFiles; index++) {
      const entryOffset = pos;
      const fixed = table.bytes(pos, CFFILE_FIXED_SIZE, `file entry ${index}`);
      const size = fixed.readUInt32LE(0);
      const folderOffset = fixed.readUInt32LE(4);
      const iFolder = fixed.readUInt16LE(8);
      const dosDate = fixed.readUInt16LE(10);
      const dosTime = fixed.readUInt16LE(12);
      const attributes = fixed.readUInt16LE(14);
      const { bytes, next } = readCString(table, pos + CFFILE_FIXED_SIZE, `name of file entry ${index}`);
      pos = next;
      if (bytes.length === 0) throw inputError('CAB_BAD_NAME', `file entry ${index} has an empty name`, { file: file.path, offset: entryOffset });
      const nameIsUtf8 = (attributes & ATTRIB_NAME_IS_UTF8) !== 0;
      const name = decodeMemberName(bytes, nameIsUtf8);

      const { folderIndex, continuation } = resolveFolderIndex(iFolder, folders.length);
      if (folderIndex < 0) {
        throw inputError('CAB_BAD_FOLDER_INDEX', `file entry ${index} names folder ${iFolder}, but the cabinet has ${folders.length}`, {
          file: file.path,
          offset: entryOffset,
          member: name,
        });
      }
      const folder = folders[folderIndex]!;
      if (continuation === 'from-prev' || continuation === 'prev-and-next') folder.continuedFromPrevious = true;
      if (continuation === 'to-next' || continuation === 'prev-and-next') folder.continuedToNext = true;
      members.push({
        index,
        name,
        nameIsUtf8,
        nameBytes: Buffer.from(bytes),
        size,
        folderOffset,
        folderIndex,
        continuation,
        dosDate,
        dosTime,
        dateTime: dosDateTimeToString(dosDate, dosTime),
        attributes,
        entryOffset,
      });
    }
  } finally {
    table.release();
  }
  return members;
}

/**
 * Names are UTF-8 when the attribute says so; otherwise in an unknown OEM code page, which
 * latin-1 decodes losslessly (every byte maps to one code point). Invalid UTF-8 becomes U+FFFD.
 */
export function decodeMemberName(bytes: Buffer, isUtf8: boolean): string {
  return isUtf8 ? bytes.toString('utf8') : bytes.toString('latin1');
}

function resolveFolderIndex(iFolder: number, folderCount: number): { folderIndex: number; continuation: Continuation } {
  switch (iFolder) {
    case IFOLD_CONTINUED_FROM_PREV:
      return { folderIndex: 0, continuation: 'from-prev' };
    case IFOLD_CONTINUED_TO_NEXT:
      return { folderIndex: folderCount - 1, continuation: 'to-next' };
    case IFOLD_CONTINUED_PREV_AND_NEXT:
      return { folderIndex: 0, continuation: 'prev-and-next' };
    default:
      return { folderIndex: iFolder < folderCount ? iFolder : -1, continuation: 'none' };
  }
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** DOS date/time as "YYYY-MM-DDTHH:MM:SS" (local time, as stored), or null when not a real date. */
export function dosDateTimeToString(dosDate: number, dosTime: number): string | null {
  const year = 1980 + (dosDate >>> 9);
  const month = (dosDate >>> 5) & 0x0f;
  const day = dosDate & 0x1f;
  const hour = dosTime >>> 11;
  const minute = (dosTime >>> 5) & 0x3f;
  const second = (dosTime & 0x1f) * 2;
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return null;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > DAYS_IN_MONTH[month - 1]! || (month === 2 && day === 29 && !leap)) return null;
  const p2 = (n: number): string => String(n).padStart(2, '0');
  return `${year}-${p2(month)}-${p2(day)}T${p2(hour)}:${p2(minute)}:${p2(second)}`;
}

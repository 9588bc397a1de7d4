import type { CompressionMethod } from '../codecs/types';

/** CFHEADER.flags */
export const CabFlags = {
  prevCabinet: 0x0001,
  nextCabinet: 0x0002,
  reservePresent: 0x0004,
} as const;

/** Where an Authenticode signature lives, from the 20-byte header reserve (FORMATS.md §3.1). */
export interface AuthenticodeReserve {
  /** offset of the PKCS#7 blob (normally = cbCabinet) */
  sigPos: number;
  /** declared length, zero-padded to a multiple of 8 */
  sigLen: number;
  /** why this declared location is unusable (not at cbCabinet, not ending at end of file, …), or null when consistent */
  problem: string | null;
}

/** A CFHEADER as read and validated, with the file offsets later stages need. */
export interface CabHeader {
  fileSize: number;
  cbCabinet: number;
  coffFiles: number;
  versionMinor: number;
  versionMajor: number;
  cFolders: number;
  cFiles: number;
  flags: number;
  setID: number;
  iCabinet: number;
  /** per-area reserve sizes (0 when RESERVE_PRESENT is not set) */
  cbCFHeader: number;
  cbCFFolder: number;
  cbCFData: number;
  /** offset of the header reserve (0x28) when present, else null */
  headerReserveOffset: number | null;
  prevCabinet: string | null;
  prevDisk: string | null;
  nextCabinet: string | null;
  nextDisk: string | null;
  /** raw byte range [start, end) of the prev/next strings, NULs included (hashed by Authenticode) */
  stringsRange: [number, number];
  /** offset of the first CFFOLDER entry; entry i is at folderTableOffset + i * (8 + cbCFFolder) */
  folderTableOffset: number;
  /** the Authenticode reserve if the header reserve has the signature layout, else null */
  authenticode: AuthenticodeReserve | null;
  /** bytes after cbCabinet that are not an Authenticode blob ("possible N extra bytes") */
  trailingBytes: number;
  /** anomalies extractors tolerate (non-zero reserved fields, odd version, cbCabinet past end of file) */
  warnings: string[];
}

export interface CabFolder {
  index: number;
  /** offset of this CFFOLDER entry in the file */
  entryOffset: number;
  /** offset of the folder's first CFDATA */
  coffCabStart: number;
  cCFData: number;
  compression: CompressionMethod;
  /** offset of this folder's cbCFFolder reserve bytes, or null when there are none */
  reserveOffset: number | null;
  /** the folder's stream begins in the previous cabinet of a set (a member is marked continued-from-prev) */
  continuedFromPrevious: boolean;
  /** the folder's stream goes on in the next cabinet of a set (a member is marked continued-to-next) */
  continuedToNext: boolean;
}

export type Continuation = 'none' | 'from-prev' | 'to-next' | 'prev-and-next';

export interface CabMember {
  index: number;
  /** name as stored, `\` separators kept, decoded as UTF-8 (attrib 0x80) or latin-1 */
  name: string;
  nameIsUtf8: boolean;
  /** the name's bytes as stored (without the NUL) */
  nameBytes: Buffer;
  size: number;
  /** offset in the folder's uncompressed stream */
  folderOffset: number;
  /** folder index this member's data is in (continuation markers resolved) */
  folderIndex: number;
  continuation: Continuation;
  /** DOS date/time as stored, and as a calendar value (no time zone: cabinets store local time) */
  dosDate: number;
  dosTime: number;
  /** "YYYY-MM-DDTHH:MM:SS" or null if the DOS fields are not a valid date */
  dateTime: string | null;
  attributes: number;
  /** offset of this CFFILE entry in the file */
  entryOffset: number;
}

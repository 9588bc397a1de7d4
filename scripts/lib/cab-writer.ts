/**
 * TEST-ONLY cabinet writer: builds single-cabinet MS-CAB files (FORMATS.md §1) in memory for
 * fixtures and unit tests, with a pluggable per-folder encoder so codec tests control exactly
 * which blocks are produced (MSZIP with history, LZX from scripts/lib/lzx-encoder.ts, …).
 * Everything it writes must be accepted by cabextract; test/cab/cab-writer.test.ts checks that.
 */
import * as zlib from 'node:zlib';
import { cfdataChecksum } from '../../src/cab/checksum';
import { MAX_BLOCK_OUTPUT } from '../../src/codecs/types';

export interface FolderEncoder {
  /** CFFOLDER.typeCompress written for the folder */
  typeCompress: number;
  /** 32 KiB frames in (the last may be shorter), one CFDATA payload per frame out, in order */
  encodeFolder(frames: Buffer[]): Buffer[];
}

export interface CabWriterFile {
  /** stored name; use `\` as the separator, as Windows tools do */
  name: string;
  data: Buffer;
  date?: Date;
  attributes?: number;
}

export interface CabWriterFolder {
  encoder: FolderEncoder;
  files: CabWriterFile[];
}

export interface CabWriterOptions {
  /** per-area reserve sizes; any of them sets RESERVE_PRESENT. Reserve bytes are zero. */
  reserve?: { header?: number; folder?: number; data?: number };
  setId?: number;
  /** write CFDATA checksums (default true); false writes 0, "not computed" */
  checksums?: boolean;
  /** mark every name UTF-8 (attribute 0x80); names with non-ASCII characters are always marked */
  utf8Names?: boolean;
}

/** 2020-01-01 12:00:00, so fixtures are byte-for-byte reproducible. */
const DEFAULT_DATE = new Date(2020, 0, 1, 12, 0, 0);
const ATTRIB_ARCHIVE = 0x20;
const ATTRIB_NAME_IS_UTF8 = 0x80;

export function noneFolderEncoder(): FolderEncoder {
  return { typeCompress: 0, encodeFolder: (frames) => frames.map((f) => Buffer.from(f)) };
}

/**
 * MSZIP: each payload is "CK" + a complete raw DEFLATE stream. With `withHistory`, each block is
 * compressed against the previous 32 KiB of output as its preset dictionary, so the decoder
 * must carry its window across blocks (which real cabinets rely on and gcab never produces).
 */
export function mszipFolderEncoder(options: { withHistory: boolean }): FolderEncoder {
  return {
    typeCompress: 1,
    encodeFolder(frames) {
      const out: Buffer[] = [];
      let history = Buffer.alloc(0);
      for (const frame of frames) {
        const deflated = options.withHistory && history.length > 0
          ? zlib.deflateRawSync(frame, { dictionary: history, level: 9 })
          : zlib.deflateRawSync(frame, { level: 9 });
        out.push(Buffer.concat([Buffer.from('CK', 'latin1'), deflated]));
        history = Buffer.concat([history, frame]).subarray(-MAX_BLOCK_OUTPUT);
      }
      return out;
    },
  };
}

export function buildCab(folders: CabWriterFolder[], options: CabWriterOptions = {}): Buffer {
  if (folders.length === 0 || folders.length > 0xffff) throw new Error('buildCab: need 1..65535 folders');
  const reserveHeader = options.reserve?.header ?? 0;
  const reserveFolder = options.reserve?.folder ?? 0;
  const reserveData = options.reserve?.data ?? 0;
  const reservePresent = options.reserve !== undefined && (reserveHeader > 0 || reserveFolder > 0 || reserveData > 0);
  const checksums = options.checksums ?? true;

  // Encode each folder's stream into CFDATA payloads.
  const encoded = folders.map((folder) => {
    const stream = Buffer.concat(folder.files.map((f) => f.data));
    const frames: Buffer[] = [];
    for (let at = 0; at < stream.length; at += MAX_BLOCK_OUTPUT) frames.push(stream.subarray(at, at + MAX_BLOCK_OUTPUT));
    const payloads = folder.encoder.encodeFolder(frames);
    if (payloads.length !== frames.length) throw new Error(`buildCab: encoder returned ${payloads.length} payloads for ${frames.length} frames`);
    if (payloads.length > 0xffff) throw new Error('buildCab: folder too large');
    return { frames, payloads };
  });

  const fileEntries: Buffer[] = [];
  folders.forEach((folder, folderIndex) => {
    let offset = 0;
    for (const file of folder.files) {
      const utf8 = options.utf8Names === true || /[^\x00-\x7f]/.test(file.name);
      const name = Buffer.from(file.name, utf8 ? 'utf8' : 'latin1');
      const entry = Buffer.alloc(16 + name.length + 1);
      const { dosDate, dosTime } = toDosDateTime(file.date ?? DEFAULT_DATE);
      entry.writeUInt32LE(file.data.length, 0);
      entry.writeUInt32LE(offset, 4);
      entry.writeUInt16LE(folderIndex, 8);
      entry.writeUInt16LE(dosDate, 10);
      entry.writeUInt16LE(dosTime, 12);
      entry.writeUInt16LE(((file.attributes ?? ATTRIB_ARCHIVE) & ~ATTRIB_NAME_IS_UTF8) | (utf8 ? ATTRIB_NAME_IS_UTF8 : 0), 14);
      name.copy(entry, 16);
      fileEntries.push(entry);
      offset += file.data.length;
    }
  });

  const headerSize = 36 + (reservePresent ? 4 + reserveHeader : 0);
  const folderEntrySize = 8 + (reservePresent ? reserveFolder : 0);
  const dataReserve = reservePresent ? reserveData : 0;
  const coffFiles = headerSize + folders.length * folderEntrySize;
  const filesSize = fileEntries.reduce((n, e) => n + e.length, 0);

  const folderEntries: Buffer[] = [];
  const dataBlocks: Buffer[] = [];
  let dataOffset = coffFiles + filesSize;
  folders.forEach((folder, i) => {
    const { frames, payloads } = encoded[i]!;
    const entry = Buffer.alloc(folderEntrySize);
    entry.writeUInt32LE(dataOffset, 0);
    entry.writeUInt16LE(payloads.length, 4);
    entry.writeUInt16LE(folder.encoder.typeCompress, 6);
    folderEntries.push(entry);
    payloads.forEach((payload, b) => {
      const block = Buffer.alloc(8 + dataReserve + payload.length);
      const cbUncomp = frames[b]!.length;
      block.writeUInt32LE(checksums ? cfdataChecksum(payload, payload.length, cbUncomp) : 0, 0);
      block.writeUInt16LE(payload.length, 4);
      block.writeUInt16LE(cbUncomp, 6);
      payload.copy(block, 8 + dataReserve);
      dataBlocks.push(block);
      dataOffset += block.length;
    });
  });

  const header = Buffer.alloc(headerSize);
  header.write('MSCF', 0, 'latin1');
  header.writeUInt32LE(dataOffset, 8); // cbCabinet: everything, since nothing is appended
  header.writeUInt32LE(coffFiles, 16);
  header.writeUInt8(3, 24);
  header.writeUInt8(1, 25);
  header.writeUInt16LE(folders.length, 26);
  header.writeUInt16LE(fileEntries.length, 28);
  header.writeUInt16LE(reservePresent ? 0x0004 : 0, 30);
  header.writeUInt16LE(options.setId ?? 0, 32);
  header.writeUInt16LE(0, 34);
  if (reservePresent) {
    header.writeUInt16LE(reserveHeader, 36);
    header.writeUInt8(reserveFolder, 38);
    header.writeUInt8(reserveData, 39);
  }
  return Buffer.concat([header, ...folderEntries, ...fileEntries, ...dataBlocks]);
}

/** Local calendar fields, as cabinets store them (no time zone). */
export function toDosDateTime(date: Date): { dosDate: number; dosTime: number } {
  return {
    dosDate: ((date.getFullYear() - 1980) << 9) | ((date.getMonth() + 1) << 5) | date.getDate(),
    dosTime: (date.getHours() << 11) | (date.getMinutes() << 5) | (date.getSeconds() >> 1),
  };
}

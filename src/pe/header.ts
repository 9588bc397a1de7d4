import { inputError } from '../errors';
import type { CabByteSource } from '../cab/byte-source';

/**
 * The structural part of a PE/COFF image (PE32 and PE32+) that Authenticode and identity need:
 * the DOS stub's pointer to the NT headers, the COFF file header, the optional header's
 * CheckSum and data directories, and the section table. Every offset is checked against the
 * file before it is used, and every structure that does not fit is an input error naming the
 * offset (exit 3). Nothing here decides whether a signature is good: the certificate table is
 * only located (./certificate-table checks it).
 */

export const DOS_SIGNATURE = 0x5a4d; // "MZ"
const NT_SIGNATURE = 0x00004550; // "PE\0\0"
const DOS_HEADER_SIZE = 64;
const E_LFANEW_OFFSET = 0x3c;
const COFF_HEADER_SIZE = 20;
const SECTION_HEADER_SIZE = 40;
const DATA_DIRECTORY_SIZE = 8;

export const OptionalMagic = { pe32: 0x10b, pe32plus: 0x20b } as const;

/** Offsets inside the optional header that differ between PE32 and PE32+. */
const Layout = {
  PE32: { numberOfRvaAndSizes: 92, dataDirectories: 96 },
  'PE32+': { numberOfRvaAndSizes: 108, dataDirectories: 112 },
} as const;
/** Offsets common to both. */
const CHECKSUM_OFFSET = 64;
const SECTION_ALIGNMENT_OFFSET = 32;
const FILE_ALIGNMENT_OFFSET = 36;
const SIZE_OF_HEADERS_OFFSET = 60;
const SUBSYSTEM_OFFSET = 68;

export const DataDirectory = { resource: 2, certificate: 4, clr: 14 } as const;

/** COFF machine values a Windows update can target. */
export const Machine: Record<number, string> = {
  0x014c: 'x86',
  0x8664: 'x64',
  0x0200: 'ia64',
  0x01c4: 'arm',
  0xaa64: 'arm64',
};

export type PeFormat = 'PE32' | 'PE32+';

export interface PeSection {
  name: string;
  virtualSize: number;
  virtualAddress: number;
  rawSize: number;
  rawOffset: number;
}

export interface PeDirectoryEntry {
  /** for the certificate table a file offset, for every other directory an RVA */
  address: number;
  size: number;
}

export interface PeHeader {
  format: PeFormat;
  /** e_lfanew: where "PE\0\0" is */
  ntOffset: number;
  machine: number;
  /** 'x86', 'x64', … or null for a machine no update targets */
  architecture: string | null;
  characteristics: number;
  subsystem: number;
  /** file offset of the 4-byte CheckSum field (left out of the Authenticode digest) */
  checksumOffset: number;
  checksum: number;
  sectionAlignment: number;
  fileAlignment: number;
  sizeOfHeaders: number;
  /** file offset of the 8-byte certificate-table directory entry; null when the directory array stops before it */
  certificateEntryOffset: number | null;
  /** null when the entry is absent or zero (an unsigned image) */
  certificateTable: PeDirectoryEntry | null;
  /** the resource directory (RVA), null when absent or empty */
  resourceDirectory: PeDirectoryEntry | null;
  /** .NET images have a CLR header directory */
  clr: boolean;
  sections: PeSection[];
  /** where the section table ends in the file */
  sectionTableEnd: number;
  /** the end of the highest section's raw data (at least sectionTableEnd) */
  imageEnd: number;
}

/** IMAGE_FILE_DLL */
const CHARACTERISTIC_DLL = 0x2000;

export function isDll(header: PeHeader): boolean {
  return (header.characteristics & CHARACTERISTIC_DLL) !== 0;
}

/** True when the first bytes are "MZ": the file claims to be a DOS/PE executable. */
export function hasDosSignature(first: Buffer): boolean {
  return first.length >= 2 && first.readUInt16LE(0) === DOS_SIGNATURE;
}

export function readPeHeader(file: CabByteSource): PeHeader {
  const where = (offset: number): { file: string; offset: number } => ({ file: file.path, offset });
  if (file.size < 2 || !hasDosSignature(file.read(0, 2, 'DOS signature'))) {
    throw inputError('PE_BAD_DOS_SIGNATURE', 'not a PE executable (no MZ signature)', where(0));
  }
  if (file.size < DOS_HEADER_SIZE) {
    throw inputError('PE_TRUNCATED_DOS_HEADER', `file is ${file.size} bytes, shorter than a DOS header (64 bytes)`, where(0));
  }
  const ntOffset = file.read(E_LFANEW_OFFSET, 4, 'e_lfanew').readUInt32LE(0);
  if (ntOffset < 4 || ntOffset + 4 + COFF_HEADER_SIZE > file.size) {
    throw inputError('PE_BAD_NT_OFFSET', `e_lfanew 0x${ntOffset.toString(16)} does not point at NT headers inside the file (${file.size} bytes): an MZ file without a PE header`, where(E_LFANEW_OFFSET));
  }
  const coff = file.read(ntOffset, 4 + COFF_HEADER_SIZE, 'NT headers');
  if (coff.readUInt32LE(0) !== NT_SIGNATURE) {
    throw inputError('PE_BAD_NT_SIGNATURE', 'no "PE\\0\\0" signature where e_lfanew points: an MZ file without a PE header', where(ntOffset));
  }
  const machine = coff.readUInt16LE(4);
  const numberOfSections = coff.readUInt16LE(6);
  const sizeOfOptionalHeader = coff.readUInt16LE(20);
  const characteristics = coff.readUInt16LE(22);
  const optionalOffset = ntOffset + 4 + COFF_HEADER_SIZE;
  if (sizeOfOptionalHeader < 2 || optionalOffset + sizeOfOptionalHeader > file.size) {
    throw inputError('PE_TRUNCATED_OPTIONAL_HEADER', `optional header of ${sizeOfOptionalHeader} bytes does not fit in the file`, where(optionalOffset));
  }
  const optional = file.read(optionalOffset, sizeOfOptionalHeader, 'optional header');
  const magic = optional.readUInt16LE(0);
  if (magic !== OptionalMagic.pe32 && magic !== OptionalMagic.pe32plus) {
    throw inputError('PE_BAD_OPTIONAL_MAGIC', `optional header magic 0x${magic.toString(16)} is neither PE32 (0x10b) nor PE32+ (0x20b)`, where(optionalOffset));
  }
  const format: PeFormat = magic === OptionalMagic.pe32 ? 'PE32' : 'PE32+';
  const layout = Layout[format];
  if (sizeOfOptionalHeader < layout.dataDirectories) {
    throw inputError('PE_TRUNCATED_OPTIONAL_HEADER', `${format} optional header of ${sizeOfOptionalHeader} bytes is shorter than its fixed part (${layout.dataDirectories} bytes)`, where(optionalOffset));
  }
  const numberOfRvaAndSizes = optional.readUInt32LE(layout.numberOfRvaAndSizes);
  const directoryRoom = Math.floor((sizeOfOptionalHeader - layout.dataDirectories) / DATA_DIRECTORY_SIZE);
  if (numberOfRvaAndSizes > directoryRoom) {
    throw inputError('PE_BAD_DIRECTORY_COUNT', `NumberOfRvaAndSizes ${numberOfRvaAndSizes} needs more room than the optional header's ${sizeOfOptionalHeader} bytes leave (${directoryRoom} entries)`, where(optionalOffset + layout.numberOfRvaAndSizes));
  }
  const directory = (index: number): PeDirectoryEntry | null => {
    if (index >= numberOfRvaAndSizes) return null;
    const at = layout.dataDirectories + index * DATA_DIRECTORY_SIZE;
    const entry = { address: optional.readUInt32LE(at), size: optional.readUInt32LE(at + 4) };
    return entry.address === 0 && entry.size === 0 ? null : entry;
  };

  const sectionTableOffset = optionalOffset + sizeOfOptionalHeader;
  const sectionTableEnd = sectionTableOffset + numberOfSections * SECTION_HEADER_SIZE;
  if (sectionTableEnd > file.size) {
    throw inputError('PE_TRUNCATED_SECTION_TABLE', `section table (${numberOfSections} entries) runs past the end of the file`, where(sectionTableOffset));
  }
  const table = file.read(sectionTableOffset, numberOfSections * SECTION_HEADER_SIZE, 'section table');
  const sections: PeSection[] = [];
  let imageEnd = sectionTableEnd;
  for (let i = 0; i < numberOfSections; i++) {
    const at = i * SECTION_HEADER_SIZE;
    const rawName = table.subarray(at, at + 8);
    const nul = rawName.indexOf(0);
    const section: PeSection = {
      name: rawName.subarray(0, nul < 0 ? 8 : nul).toString('latin1'),
      virtualSize: table.readUInt32LE(at + 8),
      virtualAddress: table.readUInt32LE(at + 12),
      rawSize: table.readUInt32LE(at + 16),
      rawOffset: table.readUInt32LE(at + 20),
    };
    sections.push(section);
    if (section.rawSize > 0) imageEnd = Math.max(imageEnd, section.rawOffset + section.rawSize);
  }

  const certificateIndexAt = layout.dataDirectories + DataDirectory.certificate * DATA_DIRECTORY_SIZE;
  return {
    format,
    ntOffset,
    machine,
    architecture: Machine[machine] ?? null,
    characteristics,
    subsystem: optional.readUInt16LE(SUBSYSTEM_OFFSET),
    checksumOffset: optionalOffset + CHECKSUM_OFFSET,
    checksum: optional.readUInt32LE(CHECKSUM_OFFSET),
    sectionAlignment: optional.readUInt32LE(SECTION_ALIGNMENT_OFFSET),
    fileAlignment: optional.readUInt32LE(FILE_ALIGNMENT_OFFSET),
    sizeOfHeaders: optional.readUInt32LE(SIZE_OF_HEADERS_OFFSET),
    certificateEntryOffset: numberOfRvaAndSizes > DataDirectory.certificate ? optionalOffset + certificateIndexAt : null,
    certificateTable: directory(DataDirectory.certificate),
    resourceDirectory: directory(DataDirectory.resource),
    clr: directory(DataDirectory.clr) !== null,
    sections,
    sectionTableEnd,
    imageEnd,
  };
}

/** The file offset of an RVA, through the section that maps it; null when no section's raw data holds it. */
export function rvaToOffset(header: PeHeader, rva: number, length: number): number | null {
  for (const s of header.sections) {
    const mapped = s.virtualSize === 0 ? s.rawSize : Math.min(s.rawSize, s.virtualSize);
    if (rva >= s.virtualAddress && rva + length <= s.virtualAddress + mapped) return s.rawOffset + (rva - s.virtualAddress);
  }
  return null;
}

import * as fs from 'node:fs';

/**
 * A small PE32 / PE32+ writer for test executables: DOS header, NT headers, a .text section whose
 * entry point returns a fixed exit code, an optional .rsrc section with a VS_VERSIONINFO version
 * resource, an optional payload section (to make large images for benchmarks) and a correct PE
 * checksum. The images run under Wine (and Windows): the entry point is `mov eax, CODE; ret`, and
 * returning from the entry point of the last thread ends the process with that code.
 */

export type PeMachine = 'x86' | 'x64';

export interface VersionStrings {
  [key: string]: string;
}

export interface PeImageSpec {
  machine: PeMachine;
  /** the process exit code */
  exitCode: number;
  /** "6.0.6002.18005" → VS_FIXEDFILEINFO file and product version */
  fileVersion?: string;
  /** StringFileInfo strings (FileVersion, ProductName, OriginalFilename, …); omitted: no version resource */
  strings?: VersionStrings;
  /** bytes of an extra initialised-data section (e.g. to make a large image); default none */
  payloadBytes?: number;
  /** fill for the payload section, called per 1 MiB chunk (default zeros) */
  payloadFill?: (chunk: Buffer, offset: number) => void;
  /** image timestamp (fixed for reproducible fixtures) */
  timestamp?: number;
}

const FILE_ALIGNMENT = 0x200;
const SECTION_ALIGNMENT = 0x1000;
const HEADERS_SIZE = 0x400;
const E_LFANEW = 0x80;

const align = (n: number, a: number): number => Math.ceil(n / a) * a;

interface Section {
  name: string;
  data: Buffer | { size: number; fill?: (chunk: Buffer, offset: number) => void };
  characteristics: number;
}

/** The whole image as one buffer, checksum included. */
export function buildPeImage(spec: PeImageSpec): Buffer {
  const image = Buffer.concat([...peImageChunks(spec)]);
  const at = checksumOffset(image);
  const sum = new PeChecksum(at);
  sum.update(image);
  image.writeUInt32LE(sum.finish(image.length), at);
  return image;
}

/** Write the image to `file` chunk by chunk (a benchmark image of hundreds of MB never sits in memory whole), checksum included. */
export function writePeImage(file: string, spec: PeImageSpec): number {
  const fd = fs.openSync(file, 'w');
  try {
    let sum: PeChecksum | null = null;
    let size = 0;
    let at = 0;
    for (const chunk of peImageChunks(spec)) {
      if (sum === null) {
        at = checksumOffset(chunk);
        sum = new PeChecksum(at);
      }
      sum.update(chunk);
      fs.writeSync(fd, chunk, 0, chunk.length, size);
      size += chunk.length;
    }
    const field = Buffer.alloc(4);
    field.writeUInt32LE((sum as PeChecksum).finish(size));
    fs.writeSync(fd, field, 0, 4, at);
    return size;
  } finally {
    fs.closeSync(fd);
  }
}

function checksumOffset(headers: Buffer): number {
  return headers.readUInt32LE(0x3c) + 4 + 20 + 64;
}

/** The image in file order with a zero checksum (see buildPeImage / writePeImage). */
function* peImageChunks(spec: PeImageSpec): Generator<Buffer> {
  const pe32plus = spec.machine === 'x64';
  const code = Buffer.from([0xb8, 0, 0, 0, 0, 0xc3]); // mov eax, imm32 ; ret
  code.writeUInt32LE(spec.exitCode >>> 0, 1);
  const sections: Section[] = [{ name: '.text', data: code, characteristics: 0x60000020 }];
  const rsrcIndex = spec.strings !== undefined ? sections.length : -1;
  if (spec.strings !== undefined) sections.push({ name: '.rsrc', data: Buffer.alloc(0), characteristics: 0x40000040 });
  if (spec.payloadBytes !== undefined && spec.payloadBytes > 0) {
    sections.push({ name: '.data', data: { size: spec.payloadBytes, fill: spec.payloadFill }, characteristics: 0x40000040 });
  }

  // lay out RVAs and file offsets; the resource section needs its own RVA to write its data entry
  const layout: { rva: number; offset: number; rawSize: number; virtualSize: number }[] = [];
  let rva = SECTION_ALIGNMENT;
  let offset = HEADERS_SIZE;
  sections.forEach((s, i) => {
    if (i === rsrcIndex) s.data = versionResourceSection(rva, spec.fileVersion ?? '0.0.0.0', spec.strings ?? {});
    const size = Buffer.isBuffer(s.data) ? s.data.length : s.data.size;
    const rawSize = align(size, FILE_ALIGNMENT);
    layout.push({ rva, offset, rawSize, virtualSize: size });
    rva += align(Math.max(size, 1), SECTION_ALIGNMENT);
    offset += rawSize;
  });
  const sizeOfImage = rva;

  const headers = Buffer.alloc(HEADERS_SIZE);
  headers.write('MZ', 0, 'latin1');
  headers.writeUInt32LE(E_LFANEW, 0x3c);
  headers.write('PE\0\0', E_LFANEW, 'latin1');
  const coff = E_LFANEW + 4;
  headers.writeUInt16LE(pe32plus ? 0x8664 : 0x014c, coff);
  headers.writeUInt16LE(sections.length, coff + 2);
  headers.writeUInt32LE(spec.timestamp ?? 0x4a000000, coff + 4);
  const optionalSize = pe32plus ? 240 : 224;
  headers.writeUInt16LE(optionalSize, coff + 16);
  headers.writeUInt16LE(pe32plus ? 0x0022 : 0x0102, coff + 18); // executable image (+ large address aware | 32-bit machine)
  const opt = coff + 20;
  headers.writeUInt16LE(pe32plus ? 0x20b : 0x10b, opt);
  headers.writeUInt8(9, opt + 2); // linker version
  headers.writeUInt32LE(layout[0].rawSize, opt + 4); // SizeOfCode
  headers.writeUInt32LE(layout[0].rva, opt + 16); // AddressOfEntryPoint
  headers.writeUInt32LE(layout[0].rva, opt + 20); // BaseOfCode
  let at: number;
  if (pe32plus) {
    headers.writeBigUInt64LE(0x140000000n, opt + 24);
    at = opt + 32;
  } else {
    headers.writeUInt32LE(layout[0].rva, opt + 24); // BaseOfData
    headers.writeUInt32LE(0x400000, opt + 28);
    at = opt + 32;
  }
  headers.writeUInt32LE(SECTION_ALIGNMENT, at);
  headers.writeUInt32LE(FILE_ALIGNMENT, at + 4);
  headers.writeUInt16LE(6, at + 8); // OS version 6.0
  headers.writeUInt16LE(6, at + 16); // subsystem version 6.0
  headers.writeUInt32LE(sizeOfImage, at + 24);
  headers.writeUInt32LE(HEADERS_SIZE, at + 28);
  // CheckSum at at + 32, written last
  headers.writeUInt16LE(3, at + 36); // console subsystem
  headers.writeUInt16LE(0x0100, at + 38); // NX compatible
  const sizes = at + 40;
  const reserve = (i: number, v: number): void => {
    if (pe32plus) headers.writeBigUInt64LE(BigInt(v), sizes + i * 8);
    else headers.writeUInt32LE(v, sizes + i * 4);
  };
  reserve(0, 0x100000);
  reserve(1, 0x1000);
  reserve(2, 0x100000);
  reserve(3, 0x1000);
  const afterSizes = sizes + (pe32plus ? 32 : 16);
  headers.writeUInt32LE(16, afterSizes + 4); // NumberOfRvaAndSizes
  const directories = afterSizes + 8;
  if (rsrcIndex >= 0) {
    headers.writeUInt32LE(layout[rsrcIndex].rva, directories + 2 * 8);
    headers.writeUInt32LE(layout[rsrcIndex].virtualSize, directories + 2 * 8 + 4);
  }
  let table = opt + optionalSize;
  sections.forEach((s, i) => {
    headers.write(s.name, table, 8, 'latin1');
    headers.writeUInt32LE(layout[i].virtualSize, table + 8);
    headers.writeUInt32LE(layout[i].rva, table + 12);
    headers.writeUInt32LE(layout[i].rawSize, table + 16);
    headers.writeUInt32LE(layout[i].offset, table + 20);
    headers.writeUInt32LE(s.characteristics, table + 36);
    table += 40;
  });

  yield headers;
  for (const [i, s] of sections.entries()) {
    if (Buffer.isBuffer(s.data)) {
      yield Buffer.concat([s.data, Buffer.alloc(layout[i].rawSize - s.data.length)]);
      continue;
    }
    const total = layout[i].rawSize;
    for (let done = 0; done < total; done += CHUNK) {
      const chunk = Buffer.alloc(Math.min(CHUNK, total - done));
      if (done < s.data.size) s.data.fill?.(chunk.subarray(0, Math.min(chunk.length, s.data.size - done)), done);
      yield chunk;
    }
  }
}

const CHUNK = 1 << 20;

/** The PE image checksum (ImageHlp CheckSumMappedFile): 16-bit one's-complement-style sum with carries folded. */
class PeChecksum {
  private sum = 0;
  private position = 0;
  private odd: number | null = null;

  constructor(private readonly fieldAt: number) {}

  update(b: Buffer): void {
    for (let i = 0; i < b.length; i++) {
      const pos = this.position + i;
      const byte = pos >= this.fieldAt && pos < this.fieldAt + 4 ? 0 : b[i];
      if (this.odd === null) this.odd = byte;
      else {
        this.sum += this.odd | (byte << 8);
        this.sum = (this.sum & 0xffff) + (this.sum >>> 16);
        this.odd = null;
      }
    }
    this.position += b.length;
  }

  finish(fileSize: number): number {
    if (this.odd !== null) {
      this.sum += this.odd;
      this.sum = (this.sum & 0xffff) + (this.sum >>> 16);
    }
    const folded = (this.sum & 0xffff) + (this.sum >>> 16);
    return ((folded & 0xffff) + fileSize) >>> 0;
  }
}

/** .rsrc holding one RT_VERSION resource (name 1, language 0x0409) at section RVA `rva`. */
function versionResourceSection(rva: number, fileVersion: string, strings: VersionStrings): Buffer {
  const info = versionInfo(fileVersion, strings);
  const dir = (id: number, target: number): Buffer => {
    const b = Buffer.alloc(16 + 8);
    b.writeUInt16LE(1, 14); // one id entry
    b.writeUInt32LE(id, 16);
    b.writeUInt32LE(target >>> 0, 20);
    return b;
  };
  const root = dir(16, (0x80000000 | 24) >>> 0);
  const names = dir(1, (0x80000000 | 48) >>> 0);
  const languages = dir(0x0409, 72);
  const dataEntry = Buffer.alloc(16);
  const dataAt = 88;
  dataEntry.writeUInt32LE(rva + dataAt, 0);
  dataEntry.writeUInt32LE(info.length, 4);
  return Buffer.concat([root, names, languages, dataEntry, info]);
}

function utf16z(s: string): Buffer {
  return Buffer.from(s + '\0', 'utf16le');
}

function pad4(b: Buffer): Buffer {
  return Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
}

/** One VS_VERSIONINFO-style block: wLength, wValueLength, wType, szKey, padding, Value, padding, Children. */
function block(key: string, value: Buffer, text: boolean, children: Buffer[] = []): Buffer {
  const head = Buffer.alloc(6);
  const keyPart = pad4(Buffer.concat([head, utf16z(key)]));
  const valuePart = children.length > 0 ? pad4(value) : value;
  const body = Buffer.concat([keyPart, valuePart, ...children.map(pad4)]);
  body.writeUInt16LE(body.length, 0);
  body.writeUInt16LE(text ? value.length / 2 : value.length, 2);
  body.writeUInt16LE(text ? 1 : 0, 4);
  return body;
}

function versionInfo(fileVersion: string, strings: VersionStrings): Buffer {
  const parts = fileVersion.split('.').map(Number);
  const fixed = Buffer.alloc(52);
  fixed.writeUInt32LE(0xfeef04bd, 0);
  fixed.writeUInt32LE(0x00010000, 4);
  const ms = ((parts[0] & 0xffff) << 16) | (parts[1] & 0xffff);
  const ls = ((parts[2] & 0xffff) << 16) | (parts[3] & 0xffff);
  fixed.writeUInt32LE(ms >>> 0, 8);
  fixed.writeUInt32LE(ls >>> 0, 12);
  fixed.writeUInt32LE(ms >>> 0, 16);
  fixed.writeUInt32LE(ls >>> 0, 20);
  fixed.writeUInt32LE(0x3f, 24);
  fixed.writeUInt32LE(0x40004, 32); // VOS_NT_WINDOWS32
  fixed.writeUInt32LE(1, 36); // VFT_APP
  const stringBlocks = Object.entries(strings).map(([k, v]) => block(k, utf16z(v), true));
  const table = block('040904b0', Buffer.alloc(0), true, stringBlocks);
  const stringFileInfo = block('StringFileInfo', Buffer.alloc(0), true, [table]);
  const translation = Buffer.alloc(4);
  translation.writeUInt16LE(0x0409, 0);
  translation.writeUInt16LE(0x04b0, 2);
  const varFileInfo = block('VarFileInfo', Buffer.alloc(0), true, [block('Translation', translation, false)]);
  return block('VS_VERSION_INFO', fixed, false, [stringFileInfo, varFileInfo]);
}

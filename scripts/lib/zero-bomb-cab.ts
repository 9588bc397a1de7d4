/**
 * TEST-ONLY hostile cabinets for the payload budget (issue #17): folder 0 is a run of zeros in
 * MSZIP (every 32 KiB block is the same ~50 bytes, so 64 MiB costs ~110 KB and is encoded
 * once), and members are placed in it at any offset and size, overlapping if asked; folder 1,
 * when there are real files, holds them one after another. Built in memory in milliseconds, so
 * tests generate them into a temp dir instead of committing them.
 */
import * as zlib from 'node:zlib';
import { cfdataChecksum } from '../../src/cab/checksum';
import { MAX_BLOCK_OUTPUT } from '../../src/codecs/types';
import { toDosDateTime } from './cab-writer';

export interface ZeroMember {
  name: string;
  /** offset in the zero folder */
  at: number;
  size: number;
}

export interface ZeroBombSpec {
  /** bytes of zeros in folder 0 (a multiple of 32 KiB keeps every block identical) */
  zeroBytes: number;
  zeroMembers: ZeroMember[];
  /** members with real content, in folder 1 (WSUSSCAN.cab, pkgProperties.txt …) */
  files?: { name: string; data: Buffer }[];
}

const DATE = toDosDateTime(new Date(2020, 0, 1, 12, 0, 0));

export function buildZeroBombCab(spec: ZeroBombSpec): Buffer {
  const files = spec.files ?? [];
  const folderCount = files.length > 0 ? 2 : 1;
  const entries: Buffer[] = [];
  const entry = (name: string, size: number, at: number, folder: number): void => {
    const bytes = Buffer.from(name, 'latin1');
    const e = Buffer.alloc(16 + bytes.length + 1);
    e.writeUInt32LE(size, 0);
    e.writeUInt32LE(at, 4);
    e.writeUInt16LE(folder, 8);
    e.writeUInt16LE(DATE.dosDate, 10);
    e.writeUInt16LE(DATE.dosTime, 12);
    e.writeUInt16LE(0x20, 14);
    bytes.copy(e, 16);
    entries.push(e);
  };
  for (const m of spec.zeroMembers) entry(m.name, m.size, m.at, 0);
  let at = 0;
  for (const f of files) {
    entry(f.name, f.data.length, at, 1);
    at += f.data.length;
  }

  const zeroBlocks: Buffer[] = [];
  const blockOf = (frame: Buffer): Buffer => {
    const payload = Buffer.concat([Buffer.from('CK', 'latin1'), zlib.deflateRawSync(frame, { level: 9 })]);
    const block = Buffer.alloc(8 + payload.length);
    block.writeUInt32LE(cfdataChecksum(payload, payload.length, frame.length), 0);
    block.writeUInt16LE(payload.length, 4);
    block.writeUInt16LE(frame.length, 6);
    payload.copy(block, 8);
    return block;
  };
  const full = blockOf(Buffer.alloc(MAX_BLOCK_OUTPUT));
  for (let left = spec.zeroBytes; left > 0; left -= MAX_BLOCK_OUTPUT) {
    zeroBlocks.push(left >= MAX_BLOCK_OUTPUT ? full : blockOf(Buffer.alloc(left)));
  }
  const realStream = Buffer.concat(files.map((f) => f.data));
  const realBlocks: Buffer[] = [];
  for (let off = 0; off < realStream.length; off += MAX_BLOCK_OUTPUT) realBlocks.push(blockOf(realStream.subarray(off, off + MAX_BLOCK_OUTPUT)));
  if (zeroBlocks.length > 0xffff || realBlocks.length > 0xffff) throw new Error('buildZeroBombCab: folder too large');

  const coffFiles = 36 + folderCount * 8;
  let dataOffset = coffFiles + entries.reduce((n, e) => n + e.length, 0);
  const folders: Buffer[] = [];
  for (const blocks of folderCount === 2 ? [zeroBlocks, realBlocks] : [zeroBlocks]) {
    const f = Buffer.alloc(8);
    f.writeUInt32LE(dataOffset, 0);
    f.writeUInt16LE(blocks.length, 4);
    f.writeUInt16LE(1, 6); // MSZIP
    folders.push(f);
    dataOffset += blocks.reduce((n, b) => n + b.length, 0);
  }
  const header = Buffer.alloc(36);
  header.write('MSCF', 0, 'latin1');
  header.writeUInt32LE(dataOffset, 8);
  header.writeUInt32LE(coffFiles, 16);
  header.writeUInt8(3, 24);
  header.writeUInt8(1, 25);
  header.writeUInt16LE(folderCount, 26);
  header.writeUInt16LE(entries.length, 28);
  return Buffer.concat([header, ...folders, ...entries, ...zeroBlocks, ...realBlocks]);
}

const MiB = 1024 * 1024;

/**
 * The MSU of issue #17: 16 `.cab` members of 64 MiB, all the same run of MSZIP zeros, beside a
 * small WSUSSCAN.cab: ~115 KB that unpacked every member to its own temp file (1 GiB).
 */
export function issue17Msu(options: { memberBytes?: number; members?: number } = {}): Buffer {
  const size = options.memberBytes ?? 64 * MiB;
  const count = options.members ?? 16;
  return buildZeroBombCab({
    zeroBytes: size,
    zeroMembers: Array.from({ length: count }, (_, i) => ({ name: `payload-${String(i).padStart(2, '0')}.cab`, at: 0, size })),
    files: [{ name: 'WSUSSCAN.cab', data: Buffer.from('not really a cabinet') }],
  });
}

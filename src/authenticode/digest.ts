import { createHash, type Hash } from 'node:crypto';
import type { CabHeader } from '../cab/types';
import { internalError } from '../errors';
import type { RandomAccessFile } from '../io/random-access-file';
import { VerificationError } from './errors';

/** A half-open byte range [start, end) of the file. */
export type ByteRange = [start: number, end: number];

/**
 * The bytes a CAB Authenticode digest covers (FORMATS.md §3.2), in file order:
 * "MSCF", cbCabinet … iCabinet, cbJunk (Windows SIP form; identical to osslsigncode's whenever
 * iCabinet and the filler are zero), the prev/next strings, each CFFOLDER's 8 fixed bytes, and
 * everything from the first CFFILE up to the signature. Left out: reserved1, the reserve sizes,
 * sigPos/sigLen and the filler — so adding a (nested) signature does not change the digest.
 */
export function authenticodeDigestRanges(header: CabHeader): ByteRange[] {
  if (header.authenticode === null || header.headerReserveOffset === null) {
    throw new VerificationError('SIG_MALFORMED', 'the cabinet has no Authenticode header reserve');
  }
  const junk = header.headerReserveOffset;
  const ranges: ByteRange[] = [
    [0, 4],
    [8, 36],
    [junk, junk + 2],
  ];
  if (header.stringsRange[1] > header.stringsRange[0]) ranges.push(header.stringsRange);
  const entrySize = 8 + header.cbCFFolder;
  for (let i = 0; i < header.cFolders; i++) {
    const at = header.folderTableOffset + i * entrySize;
    ranges.push([at, at + 8]);
  }
  ranges.push([header.coffFiles, header.authenticode.sigPos]);
  return mergeRanges(ranges);
}

/**
 * The CFHEADER bytes of a signed cabinet that the digest leaves out (authenticodeDigestRanges) and
 * nothing else pins, each with the value every signer writes there: zero. The other left-out
 * bytes are pinned by the header reader: cbCFHeader = 20 and the reserve tag (else the cabinet
 * has no signature), cbCFFolder = cbCFData = 0 and sigPos/sigLen (else SIG_LOCATION_MISMATCH).
 * Were these two free, any number of byte-different files would carry one signature, each a
 * "verified" payload under a SHA-256 nobody signed. osslsigncode refuses a non-zero reserved1 and
 * hashes the filler's last 4 bytes in place of iCabinet and cbJunk (FORMATS.md §3.2), so a signed
 * filler is zero there; Windows' SIP (jsign's port) hashes neither.
 */
export function uncoveredHeaderFields(header: CabHeader): { name: string; range: ByteRange }[] {
  if (header.headerReserveOffset === null) return [];
  const filler = header.headerReserveOffset + 12;
  return [
    { name: 'reserved1', range: [4, 8] },
    { name: 'the signature reserve filler', range: [filler, filler + 8] },
  ];
}

/** Join touching ranges; reject overlapping or out-of-order ones (a layout no signer produces). */
function mergeRanges(ranges: ByteRange[]): ByteRange[] {
  const out: ByteRange[] = [];
  for (const [start, end] of ranges) {
    if (end < start) throw new VerificationError('SIG_MALFORMED', `cabinet layout: hashed range ${start}..${end} is inverted`);
    const last = out[out.length - 1];
    if (last !== undefined && start < last[1]) {
      throw new VerificationError('SIG_MALFORMED', `cabinet layout: hashed range at ${start} overlaps the one ending at ${last[1]}`);
    }
    if (last !== undefined && start === last[1]) last[1] = end;
    else if (end > start) out.push([start, end]);
  }
  return out;
}

export interface FileDigests {
  /** SHA-256 of the whole file (the blob store's key) */
  sha256: Buffer;
  /** Authenticode digest by algorithm name (node:crypto naming: sha1, sha256 …) */
  authenticode: Map<string, Buffer>;
}

/**
 * Hashes the bytes of a file that fall inside `ranges`, fed in file order by
 * `update(chunk, offset)` with offset = bytes fed so far. The building block of FileDigester
 * and of the parallel digest workers.
 */
export class RangeHasher {
  private readonly ranges: ByteRange[];
  private readonly hashes: Map<string, Hash>;
  private position = 0;
  private rangeIndex = 0;

  constructor(ranges: ByteRange[], algorithms: string[]) {
    this.ranges = ranges.map(([s, e]) => [s, e]);
    this.hashes = new Map([...new Set(algorithms)].map((a) => [a, createHash(a)]));
  }

  update(chunk: Buffer, offset: number): void {
    if (offset !== this.position) {
      throw internalError('DIGEST_OUT_OF_ORDER', `digest fed offset ${offset}, expected ${this.position}`);
    }
    const chunkEnd = offset + chunk.length;
    while (this.rangeIndex < this.ranges.length) {
      const [start, end] = this.ranges[this.rangeIndex];
      if (start >= chunkEnd) break;
      const from = Math.max(start, offset);
      const to = Math.min(end, chunkEnd);
      if (to > from) {
        const piece = chunk.subarray(from - offset, to - offset);
        for (const h of this.hashes.values()) h.update(piece);
      }
      if (end > chunkEnd) break;
      this.rangeIndex++;
    }
    this.position = chunkEnd;
  }

  /** The bytes still needed: where the last range ends. */
  get end(): number {
    return this.ranges.length === 0 ? 0 : this.ranges[this.ranges.length - 1][1];
  }

  digests(): Map<string, Buffer> {
    if (this.position < this.end) {
      throw internalError('DIGEST_INCOMPLETE', `digest stopped at ${this.position}, before the hashed range ending at ${this.end}`);
    }
    const out = new Map<string, Buffer>();
    for (const [alg, h] of this.hashes) out.set(alg, h.digest());
    return out;
  }
}

/**
 * One sequential pass computes the file SHA-256 and every Authenticode digest the file's
 * signatures need. Feed it the file in order: `update(chunk, offset)` with offset = bytes fed so far.
 */
export class FileDigester {
  private readonly file = createHash('sha256');
  private readonly authenticode: RangeHasher;

  constructor(ranges: ByteRange[], algorithms: string[]) {
    this.authenticode = new RangeHasher(ranges, algorithms);
  }

  update(chunk: Buffer, offset: number): void {
    this.authenticode.update(chunk, offset);
    this.file.update(chunk);
  }

  digests(): FileDigests {
    return { sha256: this.file.digest(), authenticode: this.authenticode.digests() };
  }
}

/** Chunk size of the digest pass: large enough that syscalls do not show next to hashing. */
const READ_CHUNK = 4 * 1024 * 1024;

/**
 * Run a FileDigester over a whole file, reading it once from start to end; each chunk read is
 * also handed to `sink` when given (the importer's copy), before the buffer is reused.
 */
export function digestFile(file: RandomAccessFile, ranges: ByteRange[], algorithms: string[], sink?: (chunk: Buffer, offset: number) => void): FileDigests {
  const digester = new FileDigester(ranges, algorithms);
  const buffer = Buffer.allocUnsafe(Math.min(READ_CHUNK, file.size));
  for (let offset = 0; offset < file.size; offset += READ_CHUNK) {
    const chunk = file.readInto(buffer.subarray(0, Math.min(READ_CHUNK, file.size - offset)), offset, 'file data');
    sink?.(chunk, offset);
    digester.update(chunk, offset);
  }
  return digester.digests();
}

import { createBlockDecoder } from '../codecs';
import { MAX_BLOCK_INPUT, MAX_BLOCK_OUTPUT } from '../codecs/types';
import { CabferryError, inputError } from '../errors';
import type { RandomAccessFile } from '../io/random-access-file';
import { cfdataChecksum } from './checksum';
import type { CabFolder, CabHeader } from './types';

/**
 * The CFDATA chain of one folder (FORMATS.md §1.4), read block by block and decoded on demand:
 * memory is one compressed block plus the codec's window, whatever the folder's size.
 */

const CFDATA_FIXED_SIZE = 8;

export interface DecodedBlock {
  /** 0-based index of the block in its folder */
  index: number;
  /** file offset of the CFDATA header */
  fileOffset: number;
  /** offset of the block's first output byte in the folder's uncompressed stream */
  folderOffset: number;
  /** the decoded bytes; valid only until the iterator advances (it may be the codec's own memory) */
  data: Buffer;
}

export interface FolderReadOptions {
  /** stop once this many uncompressed bytes of the folder have been produced (default: whole folder) */
  stopAfter?: number;
  /** check CFDATA checksums (default true); a stored checksum of 0 means "not computed" either way */
  verifyChecksums?: boolean;
}

/**
 * Where a folder's data may lie: after the file table, before the Authenticode blob (or the end
 * of the file). `dataStart` is the end of the CFFILE table, known once the members are read.
 */
export interface DataArea {
  dataStart: number;
  dataEnd: number;
}

export function dataAreaOf(header: CabHeader, fileTableEnd: number): DataArea {
  const sig = header.authenticode;
  const dataEnd = sig !== null && sig.problem === null ? sig.sigPos : header.fileSize;
  return { dataStart: fileTableEnd, dataEnd };
}

/**
 * One cabinet's share of a folder. A folder lies in one cabinet, except in a multi-cabinet set,
 * where a folder may start in one part and go on in the next ones (FORMATS.md §1.5).
 */
export interface FolderSegment {
  file: RandomAccessFile;
  header: CabHeader;
  folder: CabFolder;
  area: DataArea;
}

interface RawBlock {
  index: number;
  fileOffset: number;
  file: string;
  cbUncomp: number;
  payload: Buffer;
}

/**
 * The CFDATA blocks of one segment, bounds- and checksum-checked, not yet decoded. Each payload
 * is read into one reused buffer, so it is valid only until the next block is read (decoders
 * consume their input within decodeBlock).
 */
function* readRawBlocks(segment: FolderSegment, verify: boolean): Generator<RawBlock> {
  const { file, header, folder, area } = segment;
  const headScratch = Buffer.allocUnsafe(CFDATA_FIXED_SIZE);
  const payloadScratch = Buffer.allocUnsafe(MAX_BLOCK_INPUT);
  const where = { file: file.path };
  if (folder.cCFData === 0) return;
  if (folder.coffCabStart < area.dataStart || folder.coffCabStart >= area.dataEnd) {
    throw inputError('CAB_BAD_FOLDER_OFFSET', `folder ${folder.index}: data offset ${folder.coffCabStart} is outside the data area (${area.dataStart}..${area.dataEnd})`, {
      ...where,
      offset: folder.entryOffset,
    });
  }
  const reserve = header.cbCFData;
  let pos = folder.coffCabStart;
  for (let index = 0; index < folder.cCFData; index++) {
    if (pos + CFDATA_FIXED_SIZE + reserve > area.dataEnd) {
      throw inputError('CAB_TRUNCATED_DATA', `folder ${folder.index}: data block ${index} header runs past the end of the cabinet data`, { ...where, offset: pos });
    }
    const head = file.readInto(headScratch, pos, 'data block header');
    const checksum = head.readUInt32LE(0);
    const cbData = head.readUInt16LE(4);
    const cbUncomp = head.readUInt16LE(6);
    if (cbUncomp > MAX_BLOCK_OUTPUT) {
      throw inputError('CAB_BAD_BLOCK_SIZE', `folder ${folder.index}: data block ${index} declares ${cbUncomp} uncompressed bytes (max ${MAX_BLOCK_OUTPUT})`, { ...where, offset: pos });
    }
    if (cbData > MAX_BLOCK_INPUT) {
      throw inputError('CAB_BAD_BLOCK_SIZE', `folder ${folder.index}: data block ${index} declares ${cbData} compressed bytes (max ${MAX_BLOCK_INPUT})`, { ...where, offset: pos });
    }
    const payloadOffset = pos + CFDATA_FIXED_SIZE + reserve;
    if (payloadOffset + cbData > area.dataEnd) {
      throw inputError('CAB_TRUNCATED_DATA', `folder ${folder.index}: data block ${index} (${cbData} bytes) runs past the end of the cabinet data`, { ...where, offset: pos });
    }
    const payload = file.readInto(payloadScratch.subarray(0, cbData), payloadOffset, 'data block');
    if (verify && checksum !== 0) {
      const actual = cfdataChecksum(payload, cbData, cbUncomp);
      if (actual !== checksum) {
        throw inputError('CAB_BAD_CHECKSUM', `folder ${folder.index}: data block ${index} checksum mismatch (stored 0x${hex32(checksum)}, computed 0x${hex32(actual)})`, {
          ...where,
          offset: pos,
        });
      }
    }
    yield { index, fileOffset: pos, file: file.path, cbUncomp, payload };
    pos = payloadOffset + cbData;
  }
}

/**
 * Decode a folder from its first block, yielding each block's output. A block whose
 * cbUncomp is 0 is the first piece of a block split across cabinets: it is joined with the first
 * block of the next segment, which carries the real size. Errors carry the file and the offset
 * of the offending CFDATA; the caller adds the member.
 */
export function* decodeFolder(segments: readonly FolderSegment[], options: FolderReadOptions = {}): Generator<DecodedBlock> {
  const first = segments[0];
  if (first === undefined) return;
  const verify = options.verifyChecksums ?? true;
  const stopAfter = options.stopAfter ?? Infinity;
  const decoder = withOffset(() => createBlockDecoder(first.folder.compression), first.folder.entryOffset, first.file.path);
  let produced = 0;
  let index = 0;
  let pendingPiece: RawBlock | null = null;
  for (let s = 0; s < segments.length; s++) {
    const segment = segments[s]!;
    const raws = readRawBlocks(segment, verify);
    for (;;) {
      // Stop before reading a block nobody asked for: damage past the requested range is not the caller's.
      if (produced >= stopAfter) return;
      const step = raws.next();
      if (step.done) break;
      const raw = step.value;
      let block = raw;
      if (pendingPiece !== null) {
        block = { ...raw, fileOffset: pendingPiece.fileOffset, file: pendingPiece.file, payload: Buffer.concat([pendingPiece.payload, raw.payload]) };
        pendingPiece = null;
      }
      if (block.cbUncomp === 0) {
        const lastOfSegment = raw.index === segment.folder.cCFData - 1;
        if (lastOfSegment && s + 1 < segments.length) {
          pendingPiece = { ...block, payload: Buffer.from(block.payload) }; // the scratch buffer is about to be reused
          continue;
        }
        const next = segment.header.nextCabinet !== null ? ` (${segment.header.nextCabinet})` : '';
        throw inputError('CAB_SPLIT_BLOCK', `folder ${segment.folder.index}: data block ${raw.index} continues in the next cabinet of the set${next}`, { file: raw.file, offset: raw.fileOffset });
      }
      const data = withOffset(() => decoder.decodeBlock(block.payload, block.cbUncomp), block.fileOffset, block.file);
      if (data.length !== block.cbUncomp) {
        throw inputError('CAB_BAD_BLOCK_OUTPUT', `data block decoded to ${data.length} bytes, expected ${block.cbUncomp}`, { file: block.file, offset: block.fileOffset });
      }
      yield { index: index++, fileOffset: block.fileOffset, folderOffset: produced, data };
      produced += block.cbUncomp;
    }
  }
  if (pendingPiece !== null) {
    throw inputError('CAB_SPLIT_BLOCK', 'the last data block continues in a cabinet that is not part of the set', { file: pendingPiece.file, offset: pendingPiece.fileOffset });
  }
}

/** Run a codec step, attaching the file and block offset to any error it raises. */
function withOffset<T>(step: () => T, offset: number, file: string): T {
  try {
    return step();
  } catch (e) {
    if (e instanceof CabferryError) throw e.withContext({ file, offset });
    // A codec bug or unexpected exception on hostile data is still that file's problem, reported in one line.
    if (e instanceof RangeError) throw inputError('CODEC_FAILURE', `decoder failed: ${e.message}`, { file, offset, cause: e });
    throw e;
  }
}

function hex32(n: number): string {
  return n.toString(16).padStart(8, '0');
}

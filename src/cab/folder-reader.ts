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
 * Decode a folder from its first block, yielding each block's output. Errors carry the file and
 * the offset of the offending CFDATA; the caller adds the member.
 */
export function* decodeFolder(
  file: RandomAccessFile,
  header: CabHeader,
  folder: CabFolder,
  area: DataArea,
  options: FolderReadOptions = {},
): Generator<DecodedBlock> {
  const where = { file: file.path };
  const verify = options.verifyChecksums ?? true;
  const stopAfter = options.stopAfter ?? Infinity;
  if (folder.cCFData === 0) return;
  if (folder.coffCabStart < area.dataStart || folder.coffCabStart >= area.dataEnd) {
    throw inputError('CAB_BAD_FOLDER_OFFSET', `folder ${folder.index}: data offset ${folder.coffCabStart} is outside the data area (${area.dataStart}..${area.dataEnd})`, {
      ...where,
      offset: folder.entryOffset,
    });
  }
  const decoder = withOffset(() => createBlockDecoder(folder.compression), folder.entryOffset, file.path);
  const reserve = header.cbCFData;
  let pos = folder.coffCabStart;
  let produced = 0;
  for (let index = 0; index < folder.cCFData && produced < stopAfter; index++) {
    const fileOffset = pos;
    if (pos + CFDATA_FIXED_SIZE + reserve > area.dataEnd) {
      throw inputError('CAB_TRUNCATED_DATA', `folder ${folder.index}: data block ${index} header runs past the end of the cabinet data`, { ...where, offset: pos });
    }
    const head = file.read(pos, CFDATA_FIXED_SIZE, 'data block header');
    const checksum = head.readUInt32LE(0);
    const cbData = head.readUInt16LE(4);
    const cbUncomp = head.readUInt16LE(6);
    if (cbUncomp === 0) {
      const next = header.nextCabinet !== null ? ` (${header.nextCabinet})` : '';
      throw inputError('CAB_SPLIT_BLOCK', `folder ${folder.index}: data block ${index} continues in the next cabinet of the set${next}`, { ...where, offset: pos });
    }
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
    const payload = file.read(payloadOffset, cbData, 'data block');
    if (verify && checksum !== 0) {
      const actual = cfdataChecksum(payload, cbData, cbUncomp);
      if (actual !== checksum) {
        throw inputError('CAB_BAD_CHECKSUM', `folder ${folder.index}: data block ${index} checksum mismatch (stored 0x${hex32(checksum)}, computed 0x${hex32(actual)})`, {
          ...where,
          offset: pos,
        });
      }
    }
    const data = withOffset(() => decoder.decodeBlock(payload, cbUncomp), pos, file.path);
    if (data.length !== cbUncomp) {
      throw inputError('CAB_BAD_BLOCK_OUTPUT', `folder ${folder.index}: data block ${index} decoded to ${data.length} bytes, expected ${cbUncomp}`, { ...where, offset: pos });
    }
    yield { index, fileOffset, folderOffset: produced, data };
    produced += cbUncomp;
    pos = payloadOffset + cbData;
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

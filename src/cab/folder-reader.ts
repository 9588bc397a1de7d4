import { createBlockDecoder } from '../codecs';
import { MAX_BLOCK_INPUT, MAX_BLOCK_OUTPUT, type BlockDecoder, type CompressionMethod } from '../codecs/types';
import { CabferryError, inputError } from '../errors';
import { ReadAhead, type CabByteSource } from './byte-source';
import { cfdataChecksum } from './checksum';
import { MszipSalvageDecoder, PlainFolderDecoder, type FolderDecoder } from './salvage-decoder';
import type { CabFolder, CabHeader } from './types';

/**
 * The CFDATA chain of one folder (FORMATS.md §1.4), read block by block and decoded on demand:
 * memory is one compressed block plus the codec's window, whatever the folder's size.
 */

const CFDATA_FIXED_SIZE = 8;
/** two small reads per block (header, then payload) were one system call each: read the chain in large pieces */
const CFDATA_READ_CHUNK = 256 * 1024;

export interface DecodedBlock {
  kind: 'data';
  /** 0-based index of the block in its folder */
  index: number;
  /** file offset of the CFDATA header */
  fileOffset: number;
  /** offset of the block's first output byte in the folder's uncompressed stream */
  folderOffset: number;
  /** the decoded bytes; valid only until the iterator advances (it may be the codec's own memory) */
  data: Buffer;
}

/**
 * Salvage only: a stretch of the folder's stream that cannot be produced, beginning at block
 * `index`: one damaged block (`length` = its declared size), or everything from there on
 * (`length` = Infinity) when decoding cannot resume after damage.
 */
export interface LostData {
  kind: 'lost';
  index: number;
  fileOffset: number;
  folderOffset: number;
  length: number;
  /** why: the block's own error (CAB_BAD_CHECKSUM, MSZIP_BAD_DATA, …) or a CAB_SALVAGE_* reason */
  error: CabferryError;
}

export type FolderItem = DecodedBlock | LostData;

export interface FolderReadOptions {
  /** stop once this many uncompressed bytes of the folder have been produced (default: whole folder) */
  stopAfter?: number;
  /** check CFDATA checksums (default true); a stored checksum of 0 means "not computed" either way */
  verifyChecksums?: boolean;
  /**
   * Salvage (default false): a block that fails its checksum or does not decode is yielded as
   * LostData and decoding resumes after it where that can be done soundly (see salvageResume);
   * without it, the first such block throws.
   */
  salvage?: boolean;
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
  file: CabByteSource;
  header: CabHeader;
  folder: CabFolder;
  area: DataArea;
}

/** What a block's stored checksum says about its header and payload. */
type ChecksumState =
  | { kind: 'verified' }
  /** stored as 0 ("not computed"), or checking was turned off: nothing is known either way */
  | { kind: 'absent' }
  | { kind: 'mismatch'; error: CabferryError };

interface RawBlock {
  index: number;
  fileOffset: number;
  file: string;
  cbUncomp: number;
  payload: Buffer;
  checksum: ChecksumState;
  /** this is the last CFDATA of its segment */
  lastOfSegment: boolean;
}

/**
 * The CFDATA blocks of one segment, bounds-checked, with their checksum state, not yet decoded.
 * A block that does not fit the data area throws: the chain cannot be followed past it. Each
 * payload is read into one reused buffer, so it is valid only until the next block is read
 * (decoders consume their input within decodeBlock).
 */
function* readRawBlocks(segment: FolderSegment, verify: boolean): Generator<RawBlock> {
  const { file, header, folder, area } = segment;
  const ahead = new ReadAhead(file, area.dataEnd, CFDATA_READ_CHUNK);
  try {
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
      const head = ahead.bytes(pos, CFDATA_FIXED_SIZE, 'data block header');
      const stored = head.readUInt32LE(0);
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
      const payload = ahead.bytes(payloadOffset, cbData, 'data block');
      let checksum: ChecksumState = { kind: 'absent' };
      if (verify && stored !== 0) {
        const actual = cfdataChecksum(payload, cbData, cbUncomp);
        checksum = actual === stored
          ? { kind: 'verified' }
          : {
              kind: 'mismatch',
              error: inputError('CAB_BAD_CHECKSUM', `folder ${folder.index}: data block ${index} checksum mismatch (stored 0x${hex32(stored)}, computed 0x${hex32(actual)})`, { ...where, offset: pos }),
            };
      }
      yield { index, fileOffset: pos, file: file.path, cbUncomp, payload, checksum, lastOfSegment: index === folder.cCFData - 1 };
      pos = payloadOffset + cbData;
    }
  } finally {
    ahead.release();
  }
}

/**
 * Decode a folder from its first block, yielding each block's output. A block whose
 * cbUncomp is 0 is the first piece of a block split across cabinets: it is joined with the first
 * block of the next segment, which carries the real size. Errors carry the file and the offset
 * of the offending CFDATA; the caller adds the member. With `salvage`, damaged blocks are
 * yielded as LostData instead of thrown (see salvageResume for what can follow them).
 */
export function* decodeFolder(segments: readonly FolderSegment[], options: FolderReadOptions = {}): Generator<FolderItem> {
  const first = segments[0];
  if (first === undefined) return;
  const verify = options.verifyChecksums ?? true;
  const salvage = options.salvage ?? false;
  const stopAfter = options.stopAfter ?? Infinity;
  const method = first.folder.compression;
  const folderIndex = first.folder.index;
  const newDecoder = (): BlockDecoder => withOffset(() => createBlockDecoder(method), first.folder.entryOffset, first.file.path);
  // only a salvage pass over MSZIP needs to know which output a lost block could have reached
  const decoder: FolderDecoder = salvage && method.type === 'mszip' ? new MszipSalvageDecoder(newDecoder) : new PlainFolderDecoder(newDecoder);
  let produced = 0;
  let index = 0;
  let pendingPiece: RawBlock | null = null;
  // Salvage state. `firstLost`: the first block lost, which later output may still depend on.
  // `alignmentUnconfirmed`: the last lost block's header was not vouched for by a checksum, so
  // where the next block begins is a guess its checksum must confirm.
  let firstLost: number | null = null;
  let alignmentUnconfirmed = false;
  const lostFromHere = (fileOffset: number, error: CabferryError): LostData => ({ kind: 'lost', index, fileOffset, folderOffset: produced, length: Infinity, error });
  try {
    for (let s = 0; s < segments.length; s++) {
      const segment = segments[s]!;
      const raws = readRawBlocks(segment, verify);
      try {
        for (;;) {
          // Stop before reading a block nobody asked for: damage past the requested range is not the caller's.
          if (produced >= stopAfter) return;
          let step: IteratorResult<RawBlock>;
          try {
            step = raws.next();
          } catch (e) {
            // the chain of blocks breaks here: nothing after this point can be located
            if (!salvage || !(e instanceof CabferryError)) throw e;
            yield lostFromHere(e.offset ?? segment.folder.entryOffset, e);
            return;
          }
          if (step.done) break;
          const raw = step.value;
          let block = raw;
          if (pendingPiece !== null) {
            const checksum = pendingPiece.checksum.kind === 'mismatch' ? pendingPiece.checksum : raw.checksum.kind === 'verified' ? pendingPiece.checksum : raw.checksum;
            block = { ...raw, fileOffset: pendingPiece.fileOffset, file: pendingPiece.file, payload: Buffer.concat([pendingPiece.payload, raw.payload]), checksum };
            pendingPiece = null;
          }
          if (block.cbUncomp === 0) {
            if (raw.lastOfSegment && s + 1 < segments.length) {
              pendingPiece = { ...block, payload: Buffer.from(block.payload) }; // the scratch buffer is about to be reused
              continue;
            }
            const next = segment.header.nextCabinet !== null ? ` (${segment.header.nextCabinet})` : '';
            const e = inputError('CAB_SPLIT_BLOCK', `folder ${segment.folder.index}: data block ${raw.index} continues in the next cabinet of the set${next}`, { file: raw.file, offset: raw.fileOffset });
            if (!salvage) throw e;
            yield lostFromHere(raw.fileOffset, e);
            return;
          }
          if (alignmentUnconfirmed && block.checksum.kind === 'absent') {
            yield lostFromHere(
              block.fileOffset,
              inputError('CAB_SALVAGE_POSITION_UNKNOWN', `folder ${folderIndex}: data block ${index} has no checksum to confirm that it starts where damaged block ${index - 1} says; the rest of the folder cannot be located`, {
                file: block.file,
                offset: block.fileOffset,
              }),
            );
            return;
          }

          const attempt = block.checksum.kind === 'mismatch' ? { error: block.checksum.error } : tryDecodeBlock(decoder, block);
          if ('data' in attempt) {
            // an MSZIP block decoded after a loss may have copied some of its bytes from lost output
            yield decoder.lastOutputExact
              ? { kind: 'data', index, fileOffset: block.fileOffset, folderOffset: produced, data: attempt.data }
              : { kind: 'lost', index, fileOffset: block.fileOffset, folderOffset: produced, length: block.cbUncomp, error: dependsOnLostBlock(block, folderIndex, index, firstLost!, method) };
            index++;
            produced += block.cbUncomp;
            alignmentUnconfirmed = false;
            continue;
          }
          if (!salvage) throw attempt.error;
          yield { kind: 'lost', index, fileOffset: block.fileOffset, folderOffset: produced, length: block.cbUncomp, error: attempt.error };
          produced += block.cbUncomp;
          const lostIndex = index++;
          firstLost ??= lostIndex;
          if (s === segments.length - 1 && raw.lastOfSegment) return;
          const headerVerified = block.checksum.kind === 'verified';
          const cannotResume = salvageResume(method, block, headerVerified, folderIndex, lostIndex);
          if (cannotResume !== null) {
            yield lostFromHere(block.fileOffset, cannotResume);
            return;
          }
          decoder.lose(block.cbUncomp);
          alignmentUnconfirmed = !headerVerified;
        }
      } finally {
        // hands the segment's read-ahead buffer back also when the pass stops early
        raws.return(undefined);
      }
    }
    if (pendingPiece !== null) {
      const e = inputError('CAB_SPLIT_BLOCK', 'the last data block continues in a cabinet that is not part of the set', { file: pendingPiece.file, offset: pendingPiece.fileOffset });
      if (!salvage) throw e;
      yield lostFromHere(pendingPiece.fileOffset, e);
    }
  } finally {
    // the generator closes only once the consumer has moved past the last block it was given
    decoder.release?.();
  }
}

/** One block through the folder's decoder, which must produce exactly the declared size. */
function tryDecodeBlock(decoder: BlockDecoder, block: RawBlock): { data: Buffer } | { error: CabferryError } {
  let data: Buffer;
  try {
    data = withOffset(() => decoder.decodeBlock(block.payload, block.cbUncomp), block.fileOffset, block.file);
  } catch (e) {
    if (e instanceof CabferryError) return { error: e };
    throw e;
  }
  if (data.length !== block.cbUncomp) {
    return { error: inputError('CAB_BAD_BLOCK_OUTPUT', `data block decoded to ${data.length} bytes, expected ${block.cbUncomp}`, { file: block.file, offset: block.fileOffset }) };
  }
  return { data };
}

/**
 * Why decoding cannot go on after lost block `lostIndex`, or null when it can:
 * - position: every block but a folder's last holds exactly 32 KiB (FORMATS.md §2). A lost block
 *   declaring another size, with no checksum vouching for its header, leaves the folder offset
 *   of everything after it unknown.
 * - method: a stored block stands alone, and an MSZIP block is a complete DEFLATE stream whose
 *   only link to earlier blocks is the 32 KiB history, whose lost bytes ./salvage-decoder tracks
 *   exactly. LZX carries its window, Huffman trees, repeated offsets and a bit stream whose
 *   blocks span CFDATA boundaries, and a cabinet's LZX stream never resets: nothing after a lost
 *   block can be decoded.
 */
function salvageResume(method: CompressionMethod, block: RawBlock, headerVerified: boolean, folderIndex: number, lostIndex: number): CabferryError | null {
  const where = { file: block.file, offset: block.fileOffset };
  if (!headerVerified && block.cbUncomp !== MAX_BLOCK_OUTPUT) {
    return inputError(
      'CAB_SALVAGE_POSITION_UNKNOWN',
      `folder ${folderIndex}: damaged data block ${lostIndex} declares ${block.cbUncomp} bytes, not the ${MAX_BLOCK_OUTPUT} of every block but the last, and no checksum vouches for it: where the rest of the folder belongs is unknown`,
      where,
    );
  }
  if (method.type === 'none' || method.type === 'mszip') return null;
  return inputError(
    'CAB_SALVAGE_NO_RESYNC',
    `folder ${folderIndex} (${method.label}): nothing after damaged data block ${lostIndex} can be decoded (the ${method.type.toUpperCase()} state carries over every block and never resets in a cabinet)`,
    where,
  );
}

/** A block that decoded, but copied some of its bytes from the output of a lost block. */
function dependsOnLostBlock(block: RawBlock, folderIndex: number, index: number, firstLost: number, method: CompressionMethod): CabferryError {
  return inputError(
    'CAB_SALVAGE_DEPENDS_ON_LOST',
    `folder ${folderIndex}: data block ${index} copies bytes from output lost with damaged block ${firstLost} or later (${method.label} history)`,
    { file: block.file, offset: block.fileOffset },
  );
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

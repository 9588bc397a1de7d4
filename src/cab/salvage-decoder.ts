import { MAX_BLOCK_OUTPUT, type BlockDecoder } from '../codecs/types';

/**
 * A folder's decoder as ./folder-reader drives it, which may be told that a block was lost
 * (salvage) and then reports, for every later block, whether its output is exact.
 */
export interface FolderDecoder extends BlockDecoder {
  /** after a successful decodeBlock: false when that output used bytes of a lost block */
  readonly lastOutputExact: boolean;
  /** a block of `length` output bytes was lost: those bytes are unknown from now on */
  lose(length: number): void;
}

/**
 * One codec decoder; after a loss, a fresh one. Right for stored blocks, which stand alone, and
 * for strict passes, which never lose a block. (LZX cannot go on after a loss at all: the folder
 * reader stops before asking.)
 */
export class PlainFolderDecoder implements FolderDecoder {
  readonly lastOutputExact = true;
  private decoder: BlockDecoder;

  constructor(private readonly newDecoder: () => BlockDecoder) {
    this.decoder = newDecoder();
  }

  decodeBlock(input: Buffer, outputSize: number): Buffer {
    return this.decoder.decodeBlock(input, outputSize);
  }

  lose(): void {
    this.decoder = this.newDecoder();
  }

  release(): void {
    this.decoder.release?.();
  }
}

/**
 * MSZIP after a lost block, byte-exact. Each MSZIP block is a DEFLATE stream that may copy bytes
 * from the previous 32 KiB of output; how it is parsed never depends on what those bytes are,
 * only what it copies does. So after a loss the stream is decoded twice, the unknown bytes of the
 * history filled with 0x00 in one copy and 0xFF in the other: an output byte that differs between
 * the two was copied (directly or through earlier copies) from a lost byte, one that agrees was
 * not, and is exact. A block is exact when all its bytes agree; once the last 32 KiB agree
 * everywhere the second copy is dropped and decoding is single again.
 *
 * The codec's decoders start with an empty history, so a copy is primed by decoding one
 * synthetic block (stored DEFLATE) whose output is the history it must start from.
 */
export class MszipSalvageDecoder implements FolderDecoder {
  lastOutputExact = true;
  private primary: BlockDecoder;
  /** the same stream with unknown history bytes filled with 0xFF instead of 0x00, while any are in reach */
  private shadow: BlockDecoder | null = null;
  /** the last 32 KiB of output as each copy has it (unknown bytes 0x00 / 0xFF) */
  private history: Buffer = Buffer.alloc(0);
  private shadowHistory: Buffer | null = null;

  constructor(private readonly newDecoder: () => BlockDecoder) {
    this.primary = newDecoder();
  }

  decodeBlock(input: Buffer, outputSize: number): Buffer {
    // both copies decode before either history moves: a block that fails leaves them as they were
    const out = Buffer.from(this.primary.decodeBlock(input, outputSize));
    const shadowOut = this.shadow === null ? null : Buffer.from(this.shadow.decodeBlock(input, outputSize));
    this.history = lastWindow(this.history, out);
    if (shadowOut === null) {
      this.lastOutputExact = true;
      return out;
    }
    this.shadowHistory = lastWindow(this.shadowHistory!, shadowOut);
    this.lastOutputExact = out.equals(shadowOut);
    if (this.history.equals(this.shadowHistory)) {
      // nothing unknown is in reach any more: the primary copy's history is the real one
      this.shadow = null;
      this.shadowHistory = null;
    }
    return out;
  }

  lose(length: number): void {
    this.shadowHistory = lastWindow(this.shadowHistory ?? this.history, Buffer.alloc(length, 0xff));
    this.history = lastWindow(this.history, Buffer.alloc(length, 0x00));
    this.primary = this.primed(this.history);
    this.shadow = this.primed(this.shadowHistory);
  }

  private primed(history: Buffer): BlockDecoder {
    const decoder = this.newDecoder();
    // node:zlib loaded here, as in ../codecs/mszip: only a salvage pass over damaged MSZIP needs it
    const zlib = require('node:zlib') as typeof import('node:zlib');
    if (history.length > 0) decoder.decodeBlock(Buffer.concat([MSZIP_SIGNATURE, zlib.deflateRawSync(history, { level: 0 })]), history.length);
    return decoder;
  }
}

const MSZIP_SIGNATURE = Buffer.from('CK', 'latin1');

function lastWindow(history: Buffer, out: Buffer): Buffer {
  if (out.length >= MAX_BLOCK_OUTPUT) return out.subarray(out.length - MAX_BLOCK_OUTPUT);
  return Buffer.concat([history, out]).subarray(-MAX_BLOCK_OUTPUT);
}

/**
 * LZX decoder for CAB folders (typeCompress 3), written from FORMATS.md §2.4 and Microsoft's
 * "LZX Data Compression Format" facts.
 *
 * The container feeds one CFDATA payload per call; each call yields exactly one output frame
 * (32768 bytes, the last one shorter). Per folder:
 *
 *   stream header (E8 flag + intel_filesize)  — once, at the start of the first frame
 *   block header  (type, size, trees)          — whenever the previous block is used up;
 *                                                blocks span frames and CFDATA payloads
 *   literals / matches into the window          — up to the end of the frame, never past it
 *   frame end: re-align to 16 bits; copy out; E8-translate the copy
 *
 * Everything hostile input can control is checked: window size, block type, every tree
 * (complete or, for LENGTH only, empty until needed), match offsets (never before the start of
 * the output, never beyond the window) and match lengths (never past the end of the block or
 * the frame). Running out of input is LZX_INPUT_OVERRUN, reported in preference to whatever
 * the zero padding past the end would otherwise look like.
 */
import { CabferryError, inputError, internalError } from '../errors';
import { LzxBitReader } from './lzx-bitreader';
import { Entry, HuffmanTable } from './lzx-huffman';
import { LZX_MAX_WINDOW_BITS, LZX_MIN_WINDOW_BITS } from './method';
import type { BlockDecoder } from './types';
import { MAX_BLOCK_INPUT, MAX_BLOCK_OUTPUT } from './types';

export const LZX_FRAME_SIZE = 32768;

/**
 * The format's numbers the hot loop (decodeRun) works with, as a const enum: tsc writes its
 * members into the JavaScript as numbers. A module-level const is a slot of the module's context,
 * which V8's optimized loop loaded and checked (initialised yet? a small integer?) on every
 * symbol, as it did the imported Entry fields from the other module's exports object.
 */
const enum Lzx {
  NUM_CHARS = 256,
  NUM_PRIMARY_LENGTHS = 7,
  MIN_MATCH = 2,
  /**
   * Bits of the 16-bit peek that index each tree's primary table (see ./lzx-huffman), and so the
   * shift and subtable mask of its lookups: numbers in the hot loop, not fields read into locals
   * (those were five more values live across the loop, spilled to the stack and reloaded)
   */
  MAIN_PRIMARY_BITS = 11,
  MAIN_SHIFT = 16 - MAIN_PRIMARY_BITS,
  MAIN_MASK = (1 << MAIN_SHIFT) - 1,
  LENGTH_PRIMARY_BITS = 10,
  LENGTH_SHIFT = 16 - LENGTH_PRIMARY_BITS,
  LENGTH_MASK = (1 << LENGTH_SHIFT) - 1,
  /** aligned-offset codes are at most 7 bits: no subtables */
  ALIGNED_PRIMARY_BITS = 7,
  ALIGNED_SHIFT = 16 - ALIGNED_PRIMARY_BITS,
}
const NUM_CHARS = Lzx.NUM_CHARS;
/** position slots per window size 2^15 .. 2^21 */
const POSITION_SLOTS = [30, 32, 34, 36, 38, 42, 50];
const NUM_SECONDARY_LENGTHS = 249;
const PRETREE_SYMBOLS = 20;
const ALIGNED_SYMBOLS = 8;
const MAX_MAIN_SYMBOLS = NUM_CHARS + 8 * POSITION_SLOTS[POSITION_SLOTS.length - 1]!;

export const LzxBlockType = { verbatim: 1, aligned: 2, uncompressed: 3 } as const;

/** Verbatim bits after each position slot: 0,0,0,0,1,1,2,2,…,16,16, then 17 from slot 36. */
export const LZX_EXTRA_BITS = new Uint8Array(51);
/** Smallest formatted offset (match offset + 2) of each position slot. */
export const LZX_POSITION_BASE = new Uint32Array(51);
for (let slot = 0; slot < 51; slot++) {
  LZX_EXTRA_BITS[slot] = slot < 4 ? 0 : Math.min(17, (slot >> 1) - 1);
  if (slot > 0) LZX_POSITION_BASE[slot] = LZX_POSITION_BASE[slot - 1]! + (1 << LZX_EXTRA_BITS[slot - 1]!);
}

/** Number of position slots for a window of 2^windowBits bytes. */
export function lzxPositionSlots(windowBits: number): number {
  return POSITION_SLOTS[windowBits - LZX_MIN_WINDOW_BITS]!;
}

/**
 * A decoder for one folder. The one last released for this window size is reused when there is
 * one: an update holds dozens of small LZX cabinets, and a new decoder each time meant a fresh
 * 2 MiB window (its pages faulted in again by the kernel) and fresh decode tables to zero.
 */
export function createLzxDecoder(windowBits: number): BlockDecoder {
  const idle = idleDecoders.get(windowBits);
  if (idle !== undefined) {
    idleDecoders.delete(windowBits);
    idle.reset();
    return idle;
  }
  return new LzxDecoder(windowBits);
}

/** At most one idle decoder per window size (2^15..2^21: at most 4 MiB of windows in all). */
const idleDecoders = new Map<number, LzxDecoder>();

/** The aligned-offset table verbatim blocks read through: every entry consumes 0 bits and adds 0. */
const NO_ALIGNED_OFFSETS = new Uint32Array(1 << Lzx.ALIGNED_PRIMARY_BITS);

/**
 * Output bytes one decodeRun call decodes at most (before finishing the match it is in). Slices
 * instead of whole runs: V8 compiles the hot loop once it has seen it run, and a first call that
 * ran a whole 32 KiB frame had it compiled mid-loop (on-stack replacement) before the code after
 * the loop and the start of the next call had ever run, so the compiled code was thrown away at
 * the loop's end and compiled again (each compile of decodeRun costs tens of milliseconds). Short
 * calls give it a complete picture before it compiles; a call costs a few field loads.
 */
const DECODE_SLICE = 1024;

/** Frames after this one are not E8-translated (the format counts frames in 15 bits). */
const E8_MAX_FRAMES = 32768;
/** E8 translation leaves the last 10 bytes of a frame alone. */
const E8_TAIL = 10;

export class LzxDecoder implements BlockDecoder {
  readonly windowBits: number;
  private readonly windowSize: number;
  private readonly numMainSymbols: number;
  /**
   * The LZ77 window, allocated whole but not cleared: until the output first reaches the window
   * size, matches are only ever read below the write position (offsets reaching further are
   * refused before any byte is copied), so no stale byte can reach the output. The operating
   * system commits pages only as they are written, so a small folder (most cabinets in an
   * update) still costs only what it uses — without the zero-filling and copying of a window
   * grown step by step, which cost a tenth of a large folder's decode time.
   */
  private readonly window: Buffer;
  /** the window's bytes, for copying matches a word at a time (see decodeRun) */
  private readonly windowView: DataView;
  /** E8 translation works on a copy of the frame: the window keeps the raw bytes */
  private readonly e8Frame = Buffer.alloc(LZX_FRAME_SIZE);
  private readonly bits = new LzxBitReader();

  private readonly pretree = new HuffmanTable('pretree', PRETREE_SYMBOLS, 8);
  private readonly mainTree = new HuffmanTable('main tree', MAX_MAIN_SYMBOLS, Lzx.MAIN_PRIMARY_BITS);
  private readonly lengthTree = new HuffmanTable('length tree', NUM_SECONDARY_LENGTHS, Lzx.LENGTH_PRIMARY_BITS);
  private readonly alignedTree = new HuffmanTable('aligned-offset tree', ALIGNED_SYMBOLS, Lzx.ALIGNED_PRIMARY_BITS);

  // The per-folder state below is declared here and set in reset() alone, which the constructor
  // calls too: a field given its first value in two places could carry one folder's state into
  // the next when the two drifted apart.
  /** next write position in the window */
  private declare windowPos: number;
  /** window position where the current frame started */
  private declare frameStart: number;
  /**
   * uncompressed bytes produced so far in this folder (before the current frame). Once it reaches
   * the window size the window has been filled once, and match offsets up to its size are valid
   * (frames are whole 32 KiB until the last, so that is exactly when the write position wraps)
   */
  private declare outputOffset: number;
  private declare frameIndex: number;
  private declare headerRead: boolean;
  /** 0 when the E8 flag is off */
  private declare intelFileSize: number;
  /** set once a block could contain 0xE8 literals; before that the translation is skipped */
  private declare intelStarted: boolean;

  private declare blockType: number;
  /**
   * The table the aligned-offset read of a match goes through: the aligned tree's in an aligned
   * block; in a verbatim block one whose every entry is "0 bits, value 0", so the read runs (and
   * costs nothing) in every block and V8 has seen it before the first aligned block arrives instead
   * of throwing its optimized code away there. A field set with the block type, not chosen in the
   * hot loop's prologue: a branch V8 has not seen taken when it compiles is another deoptimization.
   */
  private declare alignedOffsets: Uint32Array;
  private declare blockLength: number;
  private declare blockRemaining: number;
  private declare r0: number;
  private declare r1: number;
  private declare r2: number;

  /** a frame shorter than 32768 ends the folder */
  private declare sawLastFrame: boolean;
  /** after an error the state is inconsistent: the decoder refuses further blocks */
  private declare failed: boolean;
  /** handed back by release(): it may already be decoding another folder */
  private declare released: boolean;

  constructor(windowBits: number) {
    if (!Number.isInteger(windowBits) || windowBits < LZX_MIN_WINDOW_BITS || windowBits > LZX_MAX_WINDOW_BITS) {
      throw inputError('LZX_BAD_WINDOW', `LZX window size 2^${windowBits} is outside 2^15..2^21`);
    }
    this.windowBits = windowBits;
    this.windowSize = 1 << windowBits;
    this.numMainSymbols = NUM_CHARS + 8 * lzxPositionSlots(windowBits);
    this.window = Buffer.allocUnsafeSlow(this.windowSize);
    this.windowView = new DataView(this.window.buffer, this.window.byteOffset, this.window.length);
    this.reset();
  }

  /**
   * The state a folder starts from, a new decoder's as well as a reused one's. The window keeps
   * the previous folder's bytes: as in a new decoder's uncleared window, matches may only reach
   * below the write position until the window has wrapped, so none of them can reach the output.
   */
  reset(): void {
    this.bits.reset();
    for (const tree of [this.pretree, this.mainTree, this.lengthTree, this.alignedTree]) tree.reset();
    this.windowPos = 0;
    this.frameStart = 0;
    this.outputOffset = 0;
    this.frameIndex = 0;
    this.headerRead = false;
    this.intelFileSize = 0;
    this.intelStarted = false;
    this.blockType = 0;
    this.alignedOffsets = NO_ALIGNED_OFFSETS;
    this.blockLength = 0;
    this.blockRemaining = 0;
    this.r0 = 1;
    this.r1 = 1;
    this.r2 = 1;
    this.sawLastFrame = false;
    this.failed = false;
    this.released = false;
  }

  /** The folder is done (its last output consumed): the decoder may serve the next one. */
  release(): void {
    if (this.released) return;
    this.released = true;
    if (!idleDecoders.has(this.windowBits)) idleDecoders.set(this.windowBits, this);
  }

  decodeBlock(input: Buffer, outputSize: number): Buffer {
    if (this.released) throw internalError('LZX_INTERNAL', 'LZX decoder used after it was released');
    if (this.failed) throw inputError('LZX_DECODER_FAILED', 'LZX folder cannot continue after an earlier error');
    if (!Number.isInteger(outputSize) || outputSize < 1 || outputSize > MAX_BLOCK_OUTPUT) {
      throw inputError('LZX_BAD_FRAME_SIZE', `CFDATA uncompressed size ${outputSize} is not 1..${MAX_BLOCK_OUTPUT}`);
    }
    if (this.sawLastFrame) {
      throw inputError('LZX_FRAME_AFTER_LAST', `LZX frame ${this.frameIndex} follows a short frame (only the folder's last CFDATA may be shorter than ${LZX_FRAME_SIZE} bytes)`);
    }
    try {
      this.bits.feed(input);
      const frame = this.decodeFrame(outputSize);
      // Real cabinets end each frame exactly at its CFDATA's end. Carrying a little over is legal,
      // but a stream that leaves more than a whole block unread would have us buffer without bound.
      if (this.bits.bytesRemaining > MAX_BLOCK_INPUT) {
        throw inputError('LZX_EXCESS_INPUT', `${this.bits.bytesRemaining} compressed bytes left unread after the frame (more than one CFDATA block holds)`);
      }
      this.bits.retainLeftover();
      return frame;
    } catch (e) {
      this.failed = true;
      if (e instanceof CabferryError) {
        e.message = `LZX frame ${this.frameIndex}: ${e.message}`;
      }
      throw e;
    }
  }

  private decodeFrame(frameSize: number): Buffer {
    if (!this.headerRead) this.readStreamHeader();

    // Frames are 32 KiB and the window a power of two ≥ 32 KiB, so a frame never wraps.
    const frameStart = this.windowPos;
    this.frameStart = frameStart;
    const frameEnd = frameStart + frameSize;
    while (this.windowPos < frameEnd) {
      if (this.blockRemaining === 0) this.readBlockHeader();
      const run = Math.min(this.blockRemaining, frameEnd - this.windowPos);
      if (this.blockType === LzxBlockType.uncompressed) {
        this.bits.readBytes(this.window, this.windowPos, run);
        this.windowPos += run;
      } else {
        this.decodeSlices(this.windowPos + run, run === this.blockRemaining);
      }
      this.blockRemaining -= run;
    }

    if (this.bits.overran()) throw this.bits.overrunError();
    this.bits.alignToWord();

    let out = this.window.subarray(frameStart, frameEnd);
    if (this.intelStarted && this.intelFileSize !== 0 && this.frameIndex < E8_MAX_FRAMES && frameSize > E8_TAIL) {
      out.copy(this.e8Frame, 0);
      out = this.e8Frame.subarray(0, frameSize);
      undoE8Translation(out, this.outputOffset, this.intelFileSize);
    }

    this.outputOffset += frameSize;
    this.frameIndex++;
    if (frameSize < LZX_FRAME_SIZE) this.sawLastFrame = true;
    if (this.windowPos === this.windowSize) this.windowPos = 0;
    return out;
  }

  /**
   * decodeRun over `..runEnd` in DECODE_SLICE pieces. A function of its own: this loop turns 32
   * times a frame, and counted in decodeFrame it made V8 compile decodeFrame with its optimizing
   * compiler, together with the block-header and tree reading it inlines (15-40 ms of CPU), for a
   * function that runs once a frame; this one compiles in about a millisecond.
   */
  private decodeSlices(runEnd: number, runEndsBlock: boolean): void {
    while (this.windowPos < runEnd) this.decodeRun(runEnd, runEndsBlock, Math.min(runEnd, this.windowPos + DECODE_SLICE));
  }

  /** FORMATS.md §2.4 "Stream header": 1 bit E8 flag, then 32 bits intel_filesize if set. */
  private readStreamHeader(): void {
    if (this.bits.read(1) === 1) {
      const high = this.bits.read(16);
      const low = this.bits.read(16);
      this.intelFileSize = (high << 16) | low; // a signed 32-bit value, as the format defines it
    }
    this.headerRead = true;
  }

  private readBlockHeader(): void {
    const bits = this.bits;
    // The pad byte after an odd-sized uncompressed block is skipped only when another block follows.
    if (this.blockType === LzxBlockType.uncompressed && (this.blockLength & 1) === 1) bits.skipBytes(1);

    const type = bits.read(3);
    const size = (bits.read(16) << 8) | bits.read(8);
    if (type < LzxBlockType.verbatim || type > LzxBlockType.uncompressed) {
      this.failOrOverrun('LZX_BAD_BLOCK_TYPE', `bad block type ${type} (expected 1 verbatim, 2 aligned or 3 uncompressed)`);
    }
    this.blockType = type;
    this.alignedOffsets = type === LzxBlockType.aligned ? this.alignedTree.table : NO_ALIGNED_OFFSETS;
    this.blockLength = size;
    this.blockRemaining = size;

    if (type === LzxBlockType.uncompressed) {
      this.intelStarted = true; // raw bytes may hold 0xE8 without any tree saying so
      bits.alignForUncompressedBlock();
      this.r0 = bits.readUint32LE();
      this.r1 = bits.readUint32LE();
      this.r2 = bits.readUint32LE();
      return;
    }
    if (type === LzxBlockType.aligned) {
      const lengths = this.alignedTree.lengths;
      for (let i = 0; i < ALIGNED_SYMBOLS; i++) lengths[i] = bits.read(3);
      this.buildTree(this.alignedTree, ALIGNED_SYMBOLS, false);
    }
    this.readTreeLengths(this.mainTree, 0, NUM_CHARS);
    this.readTreeLengths(this.mainTree, NUM_CHARS, this.numMainSymbols);
    this.buildTree(this.mainTree, this.numMainSymbols, false);
    if (this.mainTree.lengths[0xe8] !== 0) this.intelStarted = true;
    this.readTreeLengths(this.lengthTree, 0, NUM_SECONDARY_LENGTHS);
    this.buildTree(this.lengthTree, NUM_SECONDARY_LENGTHS, true);
  }

  private buildTree(tree: HuffmanTable, activeSymbols: number, allowEmpty: boolean, label = tree.name): void {
    try {
      tree.build(activeSymbols, allowEmpty, label);
    } catch (e) {
      if (this.bits.overran()) throw this.bits.overrunError();
      throw e;
    }
  }

  /**
   * Code lengths `first..last` of `tree`, delta-coded against the previous block's lengths
   * through a pretree (FORMATS.md §2.4 "VERBATIM").
   *
   * A run of zeros or repeats may spill past `last`. cabextract accepts that (the spilled lengths
   * of the first main-tree run become the "previous" lengths of the second run; past the end of a
   * tree they are never used), and so do we: refusing it would call cabinets corrupt that the
   * reference tool extracts. The spill is bounded by the longest run (51), which the length
   * arrays leave room for.
   */
  private readTreeLengths(tree: HuffmanTable, first: number, last: number): void {
    const bits = this.bits;
    const pre = this.pretree;
    for (let i = 0; i < PRETREE_SYMBOLS; i++) pre.lengths[i] = bits.read(4);
    this.buildTree(pre, PRETREE_SYMBOLS, false, `pretree of the ${tree.name} (symbols ${first}..${last - 1})`);

    const lengths = tree.lengths;
    let i = first;
    while (i < last) {
      const sym = this.readSymbol(pre);
      let run = 1;
      let value: number;
      if (sym === 17) {
        run = 4 + bits.read(4);
        value = 0;
      } else if (sym === 18) {
        run = 20 + bits.read(5);
        value = 0;
      } else if (sym === 19) {
        run = 4 + bits.read(1);
        const delta = this.readSymbol(pre);
        if (delta > 16) this.failOrOverrun('LZX_BAD_TREE', `${tree.name} lengths: pretree symbol 19 repeats code ${delta} (only 0..16 are lengths)`);
        value = (lengths[i]! + 17 - delta) % 17;
      } else {
        value = (lengths[i]! + 17 - sym) % 17;
      }
      lengths.fill(value, i, i + run);
      i += run;
    }
  }

  /** One Huffman symbol, outside the hot loop. */
  private readSymbol(tree: HuffmanTable): number {
    const bits = this.bits;
    bits.ensure16();
    const peek = bits.bitBuf >>> 16;
    let e = tree.table[peek >>> tree.primaryShift]!;
    if ((e & Entry.LINK) !== 0) e = tree.table[(e >>> 8) + (peek & tree.subtableMask)]!;
    bits.drop(e & Entry.LENGTH_MASK);
    return e >>> 8;
  }

  /**
   * Decode literals and matches of a verbatim or aligned block from the window position until
   * `sliceEnd` or a little past it (a match crossing it is copied whole), never past `runEnd`: the
   * end of the block (`runEndsBlock`) or of the frame, whichever comes first. The hot loop: bit
   * buffer, window position and repeated offsets are kept in locals and stored back at the end.
   */
  private decodeRun(runEnd: number, runEndsBlock: boolean, sliceEnd: number): void {
    const bits = this.bits;
    const win = this.window;
    const view = this.windowView;
    const windowSize = this.windowSize;
    const aligned = this.blockType === LzxBlockType.aligned;
    const mainTable = this.mainTree.table;
    const lengthTable = this.lengthTree.table;
    const lengthEmpty = this.lengthTree.empty;
    const alignedTable = this.alignedOffsets;
    const windowMask = windowSize - 1;
    // a match may reach back this far: to the start of the output until the window has wrapped.
    // Told by the output offset, not by a flag of its own: V8 treats a field that has kept its
    // first value as a constant of the code it compiles, and a "wrapped" flag first changes in
    // the first folder longer than the window, after decodeRun has been compiled, which threw
    // that code away (and its tens of milliseconds of compiling) to compile it again.
    const wrapped = this.outputOffset >= windowSize;
    const extraBitsOf = LZX_EXTRA_BITS;
    const positionBaseOf = LZX_POSITION_BASE;

    let bitBuf = bits.bitBuf;
    let bitCount = bits.bitCount;
    let pos = this.windowPos;
    let r0 = this.r0;
    let r1 = this.r1;
    let r2 = this.r2;

    // Refills are written out inline (`if (bitCount < 16) …`): a helper taking the locals would
    // cost a call per symbol. Each adds one 16-bit word below the buffered bits.
    while (pos < sliceEnd) {
      if (bitCount < 16) { bitBuf |= bits.nextWord(bitCount) << (16 - bitCount); bitCount += 16; }
      let peek = bitBuf >>> 16;
      let e = mainTable[peek >>> Lzx.MAIN_SHIFT]!;
      if ((e & Entry.LINK) !== 0) e = mainTable[(e >>> 8) + (peek & Lzx.MAIN_MASK)]!;
      let n = e & Entry.LENGTH_MASK;
      bitBuf <<= n;
      bitCount -= n;
      const sym = e >>> 8;
      if (sym < Lzx.NUM_CHARS) {
        win[pos++] = sym;
        continue;
      }

      let length = sym & Lzx.NUM_PRIMARY_LENGTHS;
      if (length === Lzx.NUM_PRIMARY_LENGTHS) {
        if (lengthEmpty) {
          this.syncBits(bitBuf, bitCount);
          this.failOrOverrun('LZX_BAD_TREE', 'a match needs the length tree but this block left it empty');
        }
        if (bitCount < 16) { bitBuf |= bits.nextWord(bitCount) << (16 - bitCount); bitCount += 16; }
        peek = bitBuf >>> 16;
        e = lengthTable[peek >>> Lzx.LENGTH_SHIFT]!;
        if ((e & Entry.LINK) !== 0) e = lengthTable[(e >>> 8) + (peek & Lzx.LENGTH_MASK)]!;
        n = e & Entry.LENGTH_MASK;
        bitBuf <<= n;
        bitCount -= n;
        length += e >>> 8;
      }
      length += Lzx.MIN_MATCH;

      const slot = (sym - Lzx.NUM_CHARS) >>> 3;
      let offset: number;
      if (slot === 0) {
        offset = r0;
      } else if (slot === 1) {
        offset = r1;
        r1 = r0;
        r0 = offset;
      } else if (slot === 2) {
        offset = r2;
        r2 = r0;
        r0 = offset;
      } else {
        // Verbatim blocks read all `extra` footer bits as is; aligned blocks, when extra ≥ 3,
        // read extra − 3 of them as is and take the low 3 from the aligned-offset tree. One
        // shared read keeps the loop small and its branches warm for both block types.
        const extra = extraBitsOf[slot]!;
        offset = positionBaseOf[slot]! - 2;
        // (written so that every operation also runs in verbatim blocks: an operation V8 has never
        // seen run makes the optimized loop bail out the first time an aligned block arrives)
        const alignedShiftBits = extra >= 3 && aligned ? 3 : 0;
        const verbatimBits = extra - alignedShiftBits;
        if (verbatimBits > 0) {
          while (bitCount < verbatimBits) { bitBuf |= bits.nextWord(bitCount) << (16 - bitCount); bitCount += 16; } // ≤ 17 bits: ≤ 2 words
          const footer = bitBuf >>> (32 - verbatimBits);
          bitBuf <<= verbatimBits;
          bitCount -= verbatimBits;
          offset += footer << alignedShiftBits;
        }
        if (extra >= 3) {
          if (bitCount < 16) { bitBuf |= bits.nextWord(bitCount) << (16 - bitCount); bitCount += 16; }
          e = alignedTable[bitBuf >>> (16 + Lzx.ALIGNED_SHIFT)]!; // aligned codes are ≤ 7 bits: no subtables
          n = e & Entry.LENGTH_MASK;
          bitBuf <<= n;
          bitCount -= n;
          offset += e >>> 8;
        }
        r2 = r1;
        r1 = r0;
        r0 = offset;
      }

      if (pos + length > runEnd) {
        this.syncBits(bitBuf, bitCount);
        this.failOrOverrun(runEndsBlock ? 'LZX_MATCH_PAST_BLOCK' : 'LZX_MATCH_PAST_FRAME',
          `match of ${length} bytes at output offset ${this.outputOffsetOf(pos)} runs past the end of the ${runEndsBlock ? 'block' : 'frame'}`);
      }
      // valid offsets are 1 ..(wrapped ? window size : bytes written so far); one unsigned compare
      if ((offset - 1) >>> 0 >= (wrapped ? windowSize : pos)) {
        this.syncBits(bitBuf, bitCount);
        this.rejectOffset(offset, pos);
      }
      // A match whose source starts in the window at least 8 bytes back (all but about 8% of them
      // in the bench's cabinets) is copied 8 bytes at a time through a DataView on the window, as
      // two 32-bit words: every word read then lies whole below the write position, so, as in a
      // byte-by-byte copy, only bytes already written (and, by the offset check above, written by
      // this folder) are read. The last 8 bytes are copied ending exactly at the match's end
      // (rewriting some bytes with the values they have) instead of a byte loop for the rest; 4..7
      // bytes are two overlapping words, 2..3 bytes single bytes. This replaced copyWithin for
      // matches of 32 bytes or more (a call into the runtime for each) and the byte loop for the
      // others (85% of the matches, a quarter of the bytes), and no call is left in the loop.
      // Otherwise byte by byte, forward: overlapping copies (offset < length) repeat the last
      // `offset` bytes, and the mask wraps a source before the window's start around to its end
      // (frames never wrap, so `pos` needs none): one loop for both, so the first wrapped match
      // does not cost V8 its optimized code.
      const end = pos + length;
      let src = pos - offset;
      if ((src | (offset - 8)) >= 0) {
        if (length >= 8) {
          const last = end - 8;
          while (pos < last) {
            view.setInt32(pos, view.getInt32(src));
            view.setInt32(pos + 4, view.getInt32(src + 4));
            pos += 8;
            src += 8;
          }
          src = last - offset;
          view.setInt32(last, view.getInt32(src));
          view.setInt32(last + 4, view.getInt32(src + 4));
        } else if (length >= 4) {
          view.setInt32(pos, view.getInt32(src));
          view.setInt32(end - 4, view.getInt32(end - 4 - offset));
        } else {
          while (pos < end) win[pos++] = win[src++]!;
        }
        pos = end;
      } else {
        while (pos < end) win[pos++] = win[src++ & windowMask]!;
      }
    }

    bits.bitBuf = bitBuf;
    bits.bitCount = bitCount;
    this.windowPos = pos;
    this.r0 = r0;
    this.r1 = r1;
    this.r2 = r2;
  }

  private syncBits(bitBuf: number, bitCount: number): void {
    this.bits.bitBuf = bitBuf;
    this.bits.bitCount = bitCount;
  }

  /** Folder output offset of a window position in the current frame, for error messages. */
  private outputOffsetOf(windowPos: number): number {
    return this.outputOffset + (windowPos - this.frameStart);
  }

  private rejectOffset(offset: number, pos: number): never {
    const at = this.outputOffsetOf(pos);
    if (offset === 0) this.failOrOverrun('LZX_BAD_MATCH_OFFSET', `match offset 0 at output offset ${at}`);
    if (offset > this.windowSize) {
      this.failOrOverrun('LZX_BAD_MATCH_OFFSET', `match offset ${offset} at output offset ${at} exceeds the ${this.windowSize}-byte window`);
    }
    this.failOrOverrun('LZX_MATCH_BEFORE_START', `match offset ${offset} at output offset ${at} points before the start of the output`);
  }

  /** Report `code`, unless the bits that led here were the zero padding past the end of the input. */
  private failOrOverrun(code: string, message: string): never {
    if (this.bits.overran()) throw this.bits.overrunError();
    throw inputError(code, message);
  }
}

/**
 * Undo the encoder's x86 CALL translation on one output frame (FORMATS.md §2.4 "E8"): each 0xE8
 * byte is followed by an absolute 32-bit target that becomes relative to its own position
 * again. `frameOffset` is the frame's offset in the folder's output.
 */
export function undoE8Translation(frame: Uint8Array, frameOffset: number, intelFileSize: number): void {
  const end = frame.length - E8_TAIL;
  let i = 0;
  while (i < end) {
    // indexOf is a native byte search: far faster than a JS loop, above all before the JIT warms up
    i = frame.indexOf(0xe8, i);
    if (i < 0 || i >= end) return;
    const abs = frame[i + 1]! | (frame[i + 2]! << 8) | (frame[i + 3]! << 16) | (frame[i + 4]! << 24);
    const cur = frameOffset + i;
    if (abs >= -cur && abs < intelFileSize) {
      const rel = abs >= 0 ? abs - cur : abs + intelFileSize;
      frame[i + 1] = rel & 0xff;
      frame[i + 2] = (rel >>> 8) & 0xff;
      frame[i + 3] = (rel >>> 16) & 0xff;
      frame[i + 4] = (rel >>> 24) & 0xff;
    }
    i += 5;
  }
}

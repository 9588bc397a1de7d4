/**
 * The LZX input stream (FORMATS.md §2.4 "Bitstream"): 16-bit little-endian words, bits taken
 * MSB-first, with byte-mode stretches for uncompressed blocks.
 *
 * The stream is continuous across CFDATA payloads (a block may start in one and end in the
 * next), so bytes left unread at the end of a frame are kept and prepended to the next payload.
 *
 * Bits live in a 32-bit buffer, left-aligned: the next bit is bit 31 of `bitBuf` and `bitCount`
 * bits are valid. A word is added only when fewer than 16 (or, for 17-bit reads, 17) bits are
 * buffered, so there is always room for it.
 *
 * Huffman lookups peek 16 bits even when the code is shorter, so near the end of the input the
 * reader appends zero words instead of failing (`padWords`). Consuming any of those zero bits
 * means the frame needed more input than it was given: `overran()` tells, and the decoder
 * checks it before trusting a frame and before reporting any other error.
 */
import { inputError, internalError } from '../errors';

const EMPTY = new Uint8Array(0);

export class LzxBitReader {
  // set in reset() alone, which the constructor calls: one place for a new and a reused reader's state
  declare bitBuf: number;
  declare bitCount: number;
  /** zero words appended past the end of the input; they are always the last words buffered */
  declare padWords: number;
  private declare buf: Uint8Array;
  private declare pos: number;
  private declare end: number;

  constructor() {
    this.reset();
  }

  /** A new reader's state (also a decoder's reused for another folder). */
  reset(): void {
    this.bitBuf = 0;
    this.bitCount = 0;
    this.padWords = 0;
    this.buf = EMPTY;
    this.pos = 0;
    this.end = 0;
  }

  /** Start a new payload: the unread bytes of the previous one come first. */
  feed(payload: Uint8Array): void {
    if (this.bitCount !== 0) throw internalError('LZX_INTERNAL', 'LZX bit reader fed while bits are still buffered');
    const leftover = this.end - this.pos;
    if (leftover === 0) {
      // a plain Uint8Array view, never a Buffer: one element kind keeps the hot loop monomorphic
      this.buf = new Uint8Array(payload.buffer, payload.byteOffset, payload.length);
    } else {
      const joined = new Uint8Array(leftover + payload.length);
      joined.set(this.buf.subarray(this.pos, this.end), 0);
      joined.set(payload, leftover);
      this.buf = joined;
    }
    this.pos = 0;
    this.end = this.buf.length;
  }

  /**
   * End of a frame: copy the unread bytes out of the caller's payload, which may be reused for
   * the next CFDATA block once decodeBlock returns.
   */
  retainLeftover(): void {
    // a copy (Buffer#slice would be a view into the caller's memory)
    this.buf = this.pos < this.end ? new Uint8Array(this.buf.subarray(this.pos, this.end)) : EMPTY;
    this.pos = 0;
    this.end = this.buf.length;
  }

  /** Input bytes not consumed yet (whole words still in the bit buffer count as consumed). */
  get bytesRemaining(): number {
    return this.end - this.pos;
  }

  /**
   * The next 16-bit word, or a zero word past the end of the input. `bitCount` is the caller's
   * current count: if some zero bits were already consumed, the input has been overrun.
   */
  nextWord(bitCount: number): number {
    const p = this.pos;
    if (p + 1 < this.end) {
      this.pos = p + 2;
      return this.buf[p]! | (this.buf[p + 1]! << 8);
    }
    if (bitCount < this.padWords * 16) throw this.overrunError();
    this.padWords++;
    return 0;
  }

  /** True when some of the zero bits appended past the end of the input have been consumed. */
  overran(): boolean {
    return this.bitCount < this.padWords * 16;
  }

  overrunError() {
    return inputError('LZX_INPUT_OVERRUN', 'LZX frame needs more compressed data than its CFDATA block(s) hold');
  }

  /** Read `n` (1..17) bits as an unsigned number. */
  read(n: number): number {
    if (this.bitCount < n) this.refill();
    if (this.bitCount < n) this.refill();
    const v = this.bitBuf >>> (32 - n);
    this.bitBuf <<= n;
    this.bitCount -= n;
    return v;
  }

  /** Make at least 16 bits available (the longest Huffman code). */
  ensure16(): void {
    if (this.bitCount < 16) this.refill();
  }

  private refill(): void {
    this.bitBuf |= this.nextWord(this.bitCount) << (16 - this.bitCount);
    this.bitCount += 16;
  }

  /** Consume `n` (0..31) bits that were already buffered. */
  drop(n: number): void {
    this.bitBuf = n === 32 ? 0 : this.bitBuf << n;
    this.bitCount -= n;
  }

  /**
   * Frame end: skip to the next 16-bit boundary (FORMATS.md "after each frame the bit reader
   * re-aligns"), then hand whole buffered words back to the byte stream so the next payload
   * continues exactly where this frame's bits ended.
   */
  alignToWord(): void {
    this.drop(this.bitCount & 15);
    this.returnBufferedWords();
  }

  /**
   * Uncompressed block header: skip 1..16 bits to the next 16-bit boundary (a whole word if
   * already aligned), then switch to byte mode.
   */
  alignForUncompressedBlock(): void {
    const partial = this.bitCount & 15;
    if (partial !== 0) this.drop(partial);
    else this.read(16);
    if (this.overran()) throw this.overrunError();
    this.returnBufferedWords();
  }

  private returnBufferedWords(): void {
    const realWords = (this.bitCount >>> 4) - this.padWords;
    if (realWords > 0) this.pos -= realWords * 2;
    this.bitBuf = 0;
    this.bitCount = 0;
    this.padWords = 0;
  }

  /** Byte mode: copy `n` raw bytes into `dst` at `at`. */
  readBytes(dst: Uint8Array, at: number, n: number): void {
    if (this.end - this.pos < n) throw this.overrunError();
    dst.set(this.buf.subarray(this.pos, this.pos + n), at);
    this.pos += n;
  }

  /** Byte mode: one little-endian u32. */
  readUint32LE(): number {
    if (this.end - this.pos < 4) throw this.overrunError();
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 4;
    return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
  }

  /** Byte mode: skip `n` bytes. */
  skipBytes(n: number): void {
    if (this.end - this.pos < n) throw this.overrunError();
    this.pos += n;
  }
}

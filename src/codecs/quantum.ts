/**
 * Quantum decoder for CAB folders (typeCompress 2), written from the Quantum format description
 * (M. Russotto) and MS-CAB; FORMATS.md §2.3.
 *
 * Quantum is LZ77 over a 2^10..2^21-byte window whose symbols are coded with a 16-bit
 * arithmetic coder and the adaptive models of ./quantum-model. Per folder: fresh models and an
 * empty window. Per frame (one CFDATA payload, 32768 bytes out, the last one shorter): the
 * coder restarts (high 0xFFFF, low 0, 16 bits of code), then selectors and their symbols run to
 * the end of the frame; match offsets and lengths carry raw extra bits, read from the same
 * MSB-first bit stream as the code.
 *
 * The bytes after a frame's data are the compressor's flush and padding. A decoder that reads
 * the folder as one stream has to find the next frame itself (libmspack injects a 0xFF marker
 * after each payload and skips to it); fed one payload per frame, we just stop. Past the end of a
 * payload the code reads as one 0xFF byte and then zeros — what the flush leaves undetermined
 * cannot change a decoded symbol — and only a few bytes of that are allowed.
 *
 * Hostile input: every coded value is checked against the model's range, every match against the
 * data already decoded, the frame's end and the window's end (a match may not wrap the window,
 * as in the reference decoder); only the folder's last data block may be short.
 */
import { inputError } from '../errors';
import {
  createQuantumModels,
  QUANTUM_LENGTH_BASE,
  QUANTUM_LENGTH_EXTRA,
  QUANTUM_MIN_LONG_MATCH,
  QUANTUM_POSITION_BASE,
  QUANTUM_POSITION_EXTRA,
  QuantumSelector,
  type QuantumModel,
  type QuantumModels,
} from './quantum-model';
import type { BlockDecoder } from './types';
import { MAX_BLOCK_OUTPUT } from './types';

export const QUANTUM_MIN_WINDOW_BITS = 10;
export const QUANTUM_MAX_WINDOW_BITS = 21;

/** How many bytes past a payload's end the coder may read (the 0xFF marker and the code's lookahead). */
const MAX_OVERREAD = 4;

export function createQuantumDecoder(windowBits: number): BlockDecoder {
  return new QuantumDecoder(windowBits);
}

/** MSB-first bits from one payload; past its end, one 0xFF and then zeros, a few bytes at most. */
class QuantumBitReader {
  private input: Buffer = Buffer.alloc(0);
  private pos = 0;
  private buffer = 0;
  private count = 0;

  reset(input: Buffer): void {
    this.input = input;
    this.pos = 0;
    this.buffer = 0;
    this.count = 0;
  }

  private nextByte(): number {
    const i = this.pos++;
    if (i < this.input.length) return this.input[i]!;
    if (i - this.input.length >= MAX_OVERREAD) {
      throw inputError('QUANTUM_INPUT_OVERRUN', `Quantum data runs past the end of its data block (${this.input.length} bytes)`);
    }
    return i === this.input.length ? 0xff : 0;
  }

  /** 0..24 bits */
  read(n: number): number {
    if (n === 0) return 0;
    while (this.count < n) {
      this.buffer = ((this.buffer << 8) | this.nextByte()) >>> 0;
      this.count += 8;
    }
    this.count -= n;
    const value = (this.buffer >>> this.count) & ((1 << n) - 1);
    this.buffer &= (1 << this.count) - 1;
    return value;
  }
}

export class QuantumDecoder implements BlockDecoder {
  readonly windowBits: number;
  private readonly windowSize: number;
  private readonly window: Buffer;
  private readonly frame = Buffer.alloc(MAX_BLOCK_OUTPUT);
  private readonly models: QuantumModels;
  private readonly bits = new QuantumBitReader();
  /** bytes decoded in this folder so far */
  private total = 0;
  /** a frame shorter than 32768 bytes ends the folder */
  private ended = false;
  // arithmetic coder state, 16 bits each
  private high = 0;
  private low = 0;
  private code = 0;

  constructor(windowBits: number) {
    if (!Number.isInteger(windowBits) || windowBits < QUANTUM_MIN_WINDOW_BITS || windowBits > QUANTUM_MAX_WINDOW_BITS) {
      throw inputError('QUANTUM_BAD_WINDOW', `unsupported Quantum window size 2^${windowBits} (CAB allows 2^${QUANTUM_MIN_WINDOW_BITS}..2^${QUANTUM_MAX_WINDOW_BITS})`);
    }
    this.windowBits = windowBits;
    this.windowSize = 2 ** windowBits;
    this.window = Buffer.alloc(this.windowSize);
    this.models = createQuantumModels(windowBits);
  }

  decodeBlock(input: Buffer, outputSize: number): Buffer {
    if (!Number.isInteger(outputSize) || outputSize < 0 || outputSize > MAX_BLOCK_OUTPUT) {
      throw inputError('QUANTUM_BAD_BLOCK_SIZE', `Quantum data block declares ${outputSize} bytes of output (at most ${MAX_BLOCK_OUTPUT})`);
    }
    if (this.ended) {
      throw inputError('QUANTUM_FRAME_AFTER_LAST', `Quantum data block follows a short one (only the folder's last data block may hold fewer than ${MAX_BLOCK_OUTPUT} bytes)`);
    }
    if (outputSize < MAX_BLOCK_OUTPUT) this.ended = true;
    if (outputSize === 0) return this.frame.subarray(0, 0);
    this.bits.reset(input);
    this.high = 0xffff;
    this.low = 0;
    this.code = this.bits.read(16);

    let produced = 0;
    while (produced < outputSize) {
      const selector = this.decodeSymbol(this.models.selector);
      if (selector < QuantumSelector.match3) {
        this.emitLiteral(this.decodeSymbol(this.models.literal[selector]!), produced);
        produced++;
      } else {
        const { length, offset } = this.decodeMatch(selector);
        this.checkMatch(length, offset, produced);
        this.copyMatch(length, offset, produced);
        produced += length;
      }
    }
    return this.frame.subarray(0, outputSize);
  }

  private emitLiteral(byte: number, produced: number): void {
    this.window[this.total & (this.windowSize - 1)] = byte;
    this.frame[produced] = byte;
    this.total++;
  }

  private decodeMatch(selector: number): { length: number; offset: number } {
    const m = this.models;
    let length: number;
    let positionModel: QuantumModel;
    if (selector === QuantumSelector.match3) {
      length = 3;
      positionModel = m.position3;
    } else if (selector === QuantumSelector.match4) {
      length = 4;
      positionModel = m.position4;
    } else {
      const slot = this.decodeSymbol(m.length);
      length = QUANTUM_LENGTH_BASE[slot]! + this.bits.read(QUANTUM_LENGTH_EXTRA[slot]!) + QUANTUM_MIN_LONG_MATCH;
      positionModel = m.positionLong;
    }
    const slot = this.decodeSymbol(positionModel);
    const offset = QUANTUM_POSITION_BASE[slot]! + this.bits.read(QUANTUM_POSITION_EXTRA[slot]!) + 1;
    return { length, offset };
  }

  /**
   * A match may run past the end of the folder's last, short block — the compressor codes whole
   * frames and the reference decoder accepts that — but never past the 32768-byte frame.
   */
  private checkMatch(length: number, offset: number, produced: number): void {
    const at = `at output byte ${this.total} of the folder`;
    if (offset > this.total) {
      throw inputError('QUANTUM_BAD_MATCH', `Quantum match reaches ${offset} bytes back but only ${this.total} have been decoded (${at})`);
    }
    if (offset > this.windowSize) {
      throw inputError('QUANTUM_BAD_MATCH', `Quantum match reaches ${offset} bytes back, beyond the 2^${this.windowBits}-byte window (${at})`);
    }
    if (produced + length > MAX_BLOCK_OUTPUT) {
      throw inputError('QUANTUM_BAD_MATCH', `Quantum match of ${length} bytes runs past the end of its ${MAX_BLOCK_OUTPUT}-byte frame (${at})`);
    }
    const inWindow = this.total & (this.windowSize - 1);
    if (inWindow + length > this.windowSize) {
      throw inputError('QUANTUM_BAD_MATCH', `Quantum match of ${length} bytes runs past the end of the window (${at})`);
    }
  }

  /** Byte by byte: a match may overlap its own output (offset < length repeats a pattern). */
  private copyMatch(length: number, offset: number, produced: number): void {
    const mask = this.windowSize - 1;
    const w = this.window;
    let dst = this.total & mask;
    let src = (this.total - offset) & mask;
    for (let i = 0; i < length; i++) {
      const b = w[src]!;
      w[dst] = b;
      this.frame[produced + i] = b;
      dst = (dst + 1) & mask;
      src = (src + 1) & mask;
    }
    this.total += length;
  }

  /** One symbol from `model`: locate the code in the model's ranges, narrow, renormalise, adapt. */
  private decodeSymbol(model: QuantumModel): number {
    const total = model.cumfreq[0]!;
    const range = this.high - this.low + 1;
    const target = Math.floor(((this.code - this.low + 1) * total - 1) / range);
    if (this.code < this.low || this.code > this.high || target < 0 || target >= total) {
      throw inputError('QUANTUM_BAD_DATA', `Quantum code out of range at output byte ${this.total} of the folder (corrupt data)`);
    }
    const slot = model.slotFor(target);
    const sym = model.symbol[slot]!;
    this.high = this.low + Math.floor((model.cumfreq[slot]! * range) / total) - 1;
    this.low = this.low + Math.floor((model.cumfreq[slot + 1]! * range) / total);
    model.update(slot);
    this.renormalise();
    return sym;
  }

  /**
   * Shift out the bits low and high agree on; when they straddle the midpoint but sit within the
   * middle half (low 01…, high 10…), drop the second bit instead (underflow) so the interval
   * never shrinks below a quarter of the code space.
   */
  private renormalise(): void {
    let { low, high, code } = this;
    for (;;) {
      if ((low ^ high) & 0x8000) {
        if ((low & 0x4000) !== 0 && (high & 0x4000) === 0) {
          code ^= 0x4000;
          low &= 0x3fff;
          high |= 0x4000;
        } else {
          break;
        }
      }
      low = (low << 1) & 0xffff;
      high = ((high << 1) | 1) & 0xffff;
      code = ((code << 1) | this.bits.read(1)) & 0xffff;
    }
    this.low = low;
    this.high = high;
    this.code = code;
  }
}

/**
 * TEST-ONLY Quantum encoder: turns a folder's bytes into CFDATA payloads (one per 32 KiB frame)
 * that src/codecs/quantum.ts and cabextract both decode, so codec tests can reach every selector,
 * window size and model rescale without real Quantum cabinets (Microsoft stopped making them).
 *
 * It shares src/codecs/quantum-model.ts with the decoder; that is what makes the format, and
 * cabextract decoding our output (test/codecs/quantum.test.ts) is what checks it independently.
 *
 * The one subtle part is where raw extra bits go. The decoder reads them from the bit stream
 * right after the 16-bit code lookahead, i.e. after arithmetic bit number 16 + (shifts so far).
 * The encoder does not know those code bits yet (pending underflow bits resolve later), so it
 * produces the code bits first and splices each raw group in at its index afterwards.
 */
import {
  createQuantumModels,
  QUANTUM_LENGTH_BASE,
  QUANTUM_LENGTH_EXTRA,
  QUANTUM_LENGTH_SLOTS,
  QUANTUM_MIN_LONG_MATCH,
  QUANTUM_POSITION_BASE,
  QUANTUM_POSITION_EXTRA,
  QuantumSelector,
  type QuantumModel,
  type QuantumModels,
} from '../../src/codecs/quantum-model';
import { MAX_BLOCK_OUTPUT } from '../../src/codecs/types';
import type { FolderEncoder } from './cab-writer';

export interface QuantumEncoderOptions {
  windowBits: number;
  /** 1..7, written into typeCompress only (it does not change the stream) */
  level?: number;
  /** false: literals only */
  matches?: boolean;
}

export interface QuantumEncodeStats {
  literals: number;
  /** matches coded with selector 4, 5 and 6 */
  match3: number;
  match4: number;
  matchLong: number;
}

export function emptyQuantumEncodeStats(): QuantumEncodeStats {
  return { literals: 0, match3: 0, match4: 0, matchLong: 0 };
}

export function quantumFolderEncoder(opts: QuantumEncoderOptions, stats?: QuantumEncodeStats): FolderEncoder {
  return {
    typeCompress: 2 | ((opts.level ?? 4) << 4) | (opts.windowBits << 8),
    encodeFolder: (frames) => encodeQuantum(Buffer.concat(frames), opts, stats),
  };
}

const MAX_MATCH = QUANTUM_LENGTH_BASE[QUANTUM_LENGTH_SLOTS - 1]! + QUANTUM_MIN_LONG_MATCH;
const HASH_BITS = 15;
const MAX_CHAIN = 32;

/** Compress a folder's bytes into one payload per 32 KiB frame. */
export function encodeQuantum(data: Buffer, opts: QuantumEncoderOptions, stats: QuantumEncodeStats = emptyQuantumEncodeStats()): Buffer[] {
  if (opts.windowBits < 10 || opts.windowBits > 21) throw new Error(`encodeQuantum: window bits ${opts.windowBits} not 10..21`);
  const models = createQuantumModels(opts.windowBits);
  const windowSize = 2 ** opts.windowBits;
  const finder = opts.matches === false ? null : new MatchFinder(data, windowSize);
  const payloads: Buffer[] = [];
  for (let start = 0; start < data.length; start += MAX_BLOCK_OUTPUT) {
    const end = Math.min(start + MAX_BLOCK_OUTPUT, data.length);
    const frame = new FrameCoder();
    let pos = start;
    while (pos < end) {
      // a match may not cross the frame's end nor the window's end (the decoder refuses both)
      const windowEnd = pos - (pos % windowSize) + windowSize;
      const limit = Math.min(end, windowEnd, pos + MAX_MATCH);
      const match = finder?.find(pos, limit) ?? null;
      const selector = match ? matchSelector(models, match.length, match.offset) : null;
      if (match && selector !== null) {
        encodeMatch(frame, models, selector, match.length, match.offset, stats);
        for (let i = 0; i < match.length; i++) finder!.insert(pos + i);
        pos += match.length;
      } else {
        const byte = data[pos]!;
        frame.symbol(models.selector, byte >> 6);
        frame.symbol(models.literal[byte >> 6]!, byte);
        stats.literals++;
        finder?.insert(pos);
        pos++;
      }
    }
    payloads.push(frame.finish());
  }
  return payloads;
}

/** Which selector can code this match: 3- and 4-byte matches only within their models' reach; longer ones anywhere. */
function matchSelector(models: QuantumModels, length: number, offset: number): number | null {
  const positionSlot = slotFor(QUANTUM_POSITION_BASE, offset - 1);
  if (length >= QUANTUM_MIN_LONG_MATCH) return QuantumSelector.matchLong;
  if (length === 4 && positionSlot < models.position4.entries) return QuantumSelector.match4;
  if (length === 3 && positionSlot < models.position3.entries) return QuantumSelector.match3;
  return null;
}

function encodeMatch(frame: FrameCoder, models: QuantumModels, selector: number, length: number, offset: number, stats: QuantumEncodeStats): void {
  frame.symbol(models.selector, selector);
  if (selector === QuantumSelector.match3) {
    stats.match3++;
    encodePosition(frame, models.position3, offset);
  } else if (selector === QuantumSelector.match4) {
    stats.match4++;
    encodePosition(frame, models.position4, offset);
  } else {
    stats.matchLong++;
    const lengthSlot = slotFor(QUANTUM_LENGTH_BASE, length - QUANTUM_MIN_LONG_MATCH);
    frame.symbol(models.length, lengthSlot);
    frame.raw(length - QUANTUM_MIN_LONG_MATCH - QUANTUM_LENGTH_BASE[lengthSlot]!, QUANTUM_LENGTH_EXTRA[lengthSlot]!);
    encodePosition(frame, models.positionLong, offset);
  }
}

function encodePosition(frame: FrameCoder, model: QuantumModel, offset: number): void {
  const slot = slotFor(QUANTUM_POSITION_BASE, offset - 1);
  frame.symbol(model, slot);
  frame.raw(offset - 1 - QUANTUM_POSITION_BASE[slot]!, QUANTUM_POSITION_EXTRA[slot]!);
}

/** The last slot whose base is ≤ value. */
function slotFor(bases: ArrayLike<number>, value: number): number {
  let s = 0;
  while (s + 1 < bases.length && bases[s + 1]! <= value) s++;
  return s;
}

/** One frame's arithmetic coder (16-bit, bit-plus-follow) and its raw bit groups. */
class FrameCoder {
  private low = 0;
  private high = 0xffff;
  private pending = 0;
  /** arithmetic code bits, in order */
  private readonly code: number[] = [];
  /** renormalisation shifts so far: the decoder has read 16 + shifts code bits at any moment */
  private shifts = 0;
  private readonly raws: { at: number; value: number; bits: number }[] = [];

  symbol(model: QuantumModel, sym: number): void {
    const slot = model.slotOf(sym);
    const total = model.cumfreq[0]!;
    const range = this.high - this.low + 1;
    this.high = this.low + Math.floor((model.cumfreq[slot]! * range) / total) - 1;
    this.low = this.low + Math.floor((model.cumfreq[slot + 1]! * range) / total);
    model.update(slot);
    this.renormalise();
  }

  raw(value: number, bits: number): void {
    if (bits > 0) this.raws.push({ at: 16 + this.shifts, value, bits });
  }

  private emit(bit: number): void {
    this.code.push(bit);
    for (; this.pending > 0; this.pending--) this.code.push(bit ^ 1);
  }

  private renormalise(): void {
    for (;;) {
      if (this.high < 0x8000) {
        this.emit(0);
      } else if (this.low >= 0x8000) {
        this.emit(1);
        this.low -= 0x8000;
        this.high -= 0x8000;
      } else if (this.low >= 0x4000 && this.high < 0xc000) {
        this.pending++;
        this.low -= 0x4000;
        this.high -= 0x4000;
      } else {
        break;
      }
      this.low <<= 1;
      this.high = (this.high << 1) | 1;
      this.shifts++;
    }
  }

  /** Flush two bits that pin the final interval, pad the code to the decoder's lookahead, splice in the raw bits. */
  finish(): Buffer {
    this.pending++;
    this.emit(this.low < 0x4000 ? 0 : 1);
    while (this.code.length < 16 + this.shifts) this.code.push(0);
    const bits: number[] = [];
    let next = 0;
    for (let i = 0; i <= this.code.length; i++) {
      for (; next < this.raws.length && this.raws[next]!.at === i; next++) {
        const r = this.raws[next]!;
        for (let b = r.bits - 1; b >= 0; b--) bits.push((r.value >>> b) & 1);
      }
      if (i < this.code.length) bits.push(this.code[i]!);
    }
    const out = Buffer.alloc(Math.ceil(bits.length / 8));
    bits.forEach((bit, i) => {
      if (bit) out[i >> 3]! |= 0x80 >> (i & 7);
    });
    return out;
  }
}

/** Hash-chain longest-match search within the window. */
class MatchFinder {
  private readonly head = new Int32Array(1 << HASH_BITS).fill(-1);
  private readonly prev: Int32Array;

  constructor(private readonly data: Buffer, private readonly windowSize: number) {
    this.prev = new Int32Array(data.length);
  }

  private hash(pos: number): number {
    const d = this.data;
    return (((d[pos]! << 10) ^ (d[pos + 1]! << 5) ^ d[pos + 2]!) * 2654435761) >>> (32 - HASH_BITS);
  }

  insert(pos: number): void {
    if (pos + 2 >= this.data.length) return;
    const h = this.hash(pos);
    this.prev[pos] = this.head[h]!;
    this.head[h] = pos;
  }

  find(pos: number, limit: number): { length: number; offset: number } | null {
    const maxLen = limit - pos;
    if (maxLen < 3 || pos + 2 >= this.data.length) return null;
    let best: { length: number; offset: number } | null = null;
    let candidate = this.head[this.hash(pos)]!;
    for (let chain = 0; candidate >= 0 && chain < MAX_CHAIN; chain++, candidate = this.prev[candidate]!) {
      const offset = pos - candidate;
      if (offset > this.windowSize) break;
      let len = 0;
      while (len < maxLen && this.data[candidate + len] === this.data[pos + len]) len++;
      if (len >= 3 && (best === null || len > best.length)) best = { length: len, offset };
    }
    return best;
  }
}

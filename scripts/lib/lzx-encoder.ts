/**
 * TEST-ONLY LZX encoder (FORMATS.md §2.4), for fixtures and benchmarks: nothing on Debian writes
 * LZX cabinets, so tests make their own and check every one with cabextract, the real oracle.
 *
 * It produces one CFDATA payload per 32 KiB frame, with the bitstream re-aligned to 16 bits at
 * each frame end, as Microsoft's encoder does. Matches come from a greedy hash-chain search and
 * use the repeated offsets R0/R1/R2 whenever they match. Blocks are verbatim, aligned-offset or
 * uncompressed, `maxBlockSize` bytes each, and may span frames; tree lengths are delta-coded
 * against the previous block with all pretree codes (17/18 zero runs, 19 repeats).
 *
 * Simplicity over ratio: this is for exercising the decoder, not for shipping cabinets.
 */
import { LZX_EXTRA_BITS, LZX_FRAME_SIZE, LZX_POSITION_BASE, lzxPositionSlots, LzxBlockType } from '../../src/codecs/lzx';
import { MAX_BLOCK_INPUT } from '../../src/codecs/types';
import type { FolderEncoder } from './cab-writer';

export type LzxEncoderBlockType = 'verbatim' | 'aligned' | 'uncompressed';

export interface LzxEncoderOptions {
  /** window 2^15 .. 2^21 bytes */
  windowBits: number;
  /** E8 call translation with intel_filesize (default 12000000, as Microsoft's tools) */
  e8: boolean;
  intelFileSize?: number;
  /** one type for every block, or a list used in turn (block k gets blockType[k % length]) */
  blockType: LzxEncoderBlockType | LzxEncoderBlockType[];
  /** uncompressed bytes per block (default and maximum 2^24 − 1); blocks may span frames */
  maxBlockSize?: number;
  /** false: literals only (default true) */
  matches?: boolean;
}

/** What an encoding used, so tests can prove a feature was exercised rather than assume it. */
export interface LzxEncodeStats {
  blocks: number;
  literals: number;
  matches: number;
  /** matches coded as R0, R1, R2 (position slots 0, 1, 2) */
  repeatMatches: [number, number, number];
  /** matches whose offset needed the 17 verbatim bits of position slots ≥ 36 */
  seventeenBitFooters: number;
  /** CALL operands the E8 pre-translation rewrote */
  e8Rewritten: number;
  uncompressedBlocks: number;
  /** uncompressed block headers that ended on a word boundary, so a whole zero word follows */
  uncompressedHeadersOnWordBoundary: number;
}

export function emptyLzxEncodeStats(): LzxEncodeStats {
  return { blocks: 0, literals: 0, matches: 0, repeatMatches: [0, 0, 0], seventeenBitFooters: 0, e8Rewritten: 0, uncompressedBlocks: 0, uncompressedHeadersOnWordBoundary: 0 };
}

export const DEFAULT_INTEL_FILE_SIZE = 12000000;
const MAX_BLOCK_SIZE = 0xffffff;
const MIN_MATCH = 2;
const MAX_MATCH = 257;
const NUM_CHARS = 256;
const NUM_PRIMARY_LENGTHS = 7;
const NUM_SECONDARY_LENGTHS = 249;
const PRETREE_SYMBOLS = 20;
const ALIGNED_SYMBOLS = 8;
const HASH_BITS = 15;
const MAX_CHAIN = 32;

/** A folder encoder for scripts/lib/cab-writer.ts: typeCompress 0x_03 with the window in bits 8-12. */
export function lzxFolderEncoder(opts: LzxEncoderOptions, stats?: LzxEncodeStats): FolderEncoder {
  return {
    typeCompress: 3 | (opts.windowBits << 8),
    encodeFolder: (frames) => encodeLzx(Buffer.concat(frames), opts, stats),
  };
}

/** Compress a folder's uncompressed stream into CFDATA payloads, one per 32 KiB frame. */
export function encodeLzx(data: Buffer, opts: LzxEncoderOptions, stats: LzxEncodeStats = emptyLzxEncodeStats()): Buffer[] {
  if (opts.windowBits < 15 || opts.windowBits > 21) throw new Error(`encodeLzx: window bits ${opts.windowBits} not 15..21`);
  const maxBlock = opts.maxBlockSize ?? MAX_BLOCK_SIZE;
  if (maxBlock < 1 || maxBlock > MAX_BLOCK_SIZE) throw new Error(`encodeLzx: maxBlockSize ${maxBlock} not 1..${MAX_BLOCK_SIZE}`);
  if (data.length === 0) return [];
  const intelFileSize = opts.e8 ? (opts.intelFileSize ?? DEFAULT_INTEL_FILE_SIZE) : 0;
  const raw = intelFileSize !== 0 ? applyE8Translation(data, intelFileSize, stats) : data;

  const out = new LzxStreamWriter(raw.length);
  out.bits(intelFileSize !== 0 ? 1 : 0, 1);
  if (intelFileSize !== 0) {
    out.bits((intelFileSize >>> 16) & 0xffff, 16);
    out.bits(intelFileSize & 0xffff, 16);
  }

  const state: EncoderState = {
    windowBits: opts.windowBits,
    numMainSymbols: NUM_CHARS + 8 * lzxPositionSlots(opts.windowBits),
    r: [1, 1, 1],
    prevMain: new Uint8Array(NUM_CHARS + 8 * 50),
    prevLength: new Uint8Array(NUM_SECONDARY_LENGTHS),
    matcher: opts.matches === false ? null : new MatchFinder(raw, opts.windowBits),
    stats,
  };
  const types = Array.isArray(opts.blockType) ? opts.blockType : [opts.blockType];
  for (let start = 0, k = 0; start < raw.length; start += maxBlock, k++) {
    const end = Math.min(raw.length, start + maxBlock);
    const type = types[k % types.length]!;
    stats.blocks++;
    if (type === 'uncompressed') writeUncompressedBlock(out, raw, start, end, state);
    else writeCompressedBlock(out, raw, start, end, type === 'aligned', state);
  }
  const payloads = out.payloads();
  for (const [i, p] of payloads.entries()) {
    if (p.length > MAX_BLOCK_INPUT) throw new Error(`encodeLzx: frame ${i} compresses to ${p.length} bytes, more than a CFDATA block holds (${MAX_BLOCK_INPUT}); use larger blocks`);
  }
  return payloads;
}

/**
 * The encoder side of E8 translation: rewrite each CALL target (relative) as absolute, so the
 * decoder's translation gives the original bytes back. It visits exactly the positions the decoder
 * will: the decoder scans raw bytes, which differ from the original only inside skipped operands.
 */
export function applyE8Translation(data: Buffer, intelFileSize: number, stats?: LzxEncodeStats): Buffer {
  const out = Buffer.from(data);
  for (let frameStart = 0, frame = 0; frameStart < out.length && frame < 32768; frameStart += LZX_FRAME_SIZE, frame++) {
    const frameSize = Math.min(LZX_FRAME_SIZE, out.length - frameStart);
    if (frameSize <= 10) break;
    const end = frameStart + frameSize - 10;
    let i = frameStart;
    while (i < end) {
      if (out[i] !== 0xe8) {
        i++;
        continue;
      }
      const rel = out.readInt32LE(i + 1);
      const cur = i;
      if (rel >= -cur && rel < intelFileSize) {
        const abs = rel < intelFileSize - cur ? rel + cur : rel - intelFileSize;
        out.writeInt32LE(abs, i + 1);
        if (stats) stats.e8Rewritten++;
      }
      i += 5;
    }
  }
  return out;
}

interface EncoderState {
  windowBits: number;
  numMainSymbols: number;
  /** repeated offsets R0, R1, R2 as the decoder will have them */
  r: [number, number, number];
  /** tree lengths of the previous block: the deltas are taken against these */
  prevMain: Uint8Array;
  prevLength: Uint8Array;
  matcher: MatchFinder | null;
  stats: LzxEncodeStats;
}

/** One literal or match; matches carry the symbols and offset bits already worked out. */
interface Token {
  mainSym: number;
  /** LENGTH tree symbol, or -1 */
  lengthSym: number;
  /** verbatim offset footer and its width (0 for literals and repeated offsets) */
  footer: number;
  footerBits: number;
}

function writeUncompressedBlock(out: LzxStreamWriter, data: Buffer, start: number, end: number, state: EncoderState): void {
  const size = end - start;
  out.bits(LzxBlockType.uncompressed, 3);
  out.bits(size >>> 8, 16);
  out.bits(size & 0xff, 8);
  state.stats.uncompressedBlocks++;
  if (out.onWordBoundary) state.stats.uncompressedHeadersOnWordBoundary++;
  out.alignForUncompressedBlock();
  // the matcher must still see these bytes: later compressed blocks may match against them
  for (let pos = start; pos < end; pos++) state.matcher?.insert(pos);
  for (const r of state.r) out.rawUint32LE(r);
  out.rawBytes(data, start, end);
  if (size & 1) out.rawByte(0);
}

function writeCompressedBlock(out: LzxStreamWriter, data: Buffer, start: number, end: number, aligned: boolean, state: EncoderState): void {
  const tokens = tokenize(data, start, end, state);
  const mainFreq = new Uint32Array(state.numMainSymbols);
  const lengthFreq = new Uint32Array(NUM_SECONDARY_LENGTHS);
  const alignedFreq = new Uint32Array(ALIGNED_SYMBOLS);
  for (const t of tokens) {
    mainFreq[t.mainSym]!++;
    if (t.lengthSym >= 0) lengthFreq[t.lengthSym]!++;
    if (aligned && t.footerBits >= 3) alignedFreq[t.footer & 7]!++;
  }
  const mainLengths = codeLengths(mainFreq, 16);
  const lengthLengths = codeLengths(lengthFreq, 16, true);
  let alignedLengths = codeLengths(alignedFreq, 7);
  if (alignedLengths.every((l) => l === 0)) alignedLengths = new Uint8Array(ALIGNED_SYMBOLS).fill(3);

  const size = end - start;
  out.bits(aligned ? LzxBlockType.aligned : LzxBlockType.verbatim, 3);
  out.bits(size >>> 8, 16);
  out.bits(size & 0xff, 8);
  if (aligned) for (const l of alignedLengths) out.bits(l, 3);
  writeTreeLengths(out, state.prevMain, mainLengths, 0, NUM_CHARS);
  writeTreeLengths(out, state.prevMain, mainLengths, NUM_CHARS, state.numMainSymbols);
  writeTreeLengths(out, state.prevLength, lengthLengths, 0, NUM_SECONDARY_LENGTHS);
  state.prevMain.set(mainLengths.subarray(0, state.numMainSymbols));
  state.prevLength.set(lengthLengths);

  const mainCodes = canonicalCodes(mainLengths);
  const lengthCodes = canonicalCodes(lengthLengths);
  const alignedCodes = canonicalCodes(alignedLengths);
  let pos = start;
  for (const t of tokens) {
    out.bits(mainCodes[t.mainSym]!, mainLengths[t.mainSym]!);
    if (t.lengthSym >= 0) out.bits(lengthCodes[t.lengthSym]!, lengthLengths[t.lengthSym]!);
    if (aligned && t.footerBits >= 3) {
      if (t.footerBits > 3) out.bits(t.footer >>> 3, t.footerBits - 3);
      out.bits(alignedCodes[t.footer & 7]!, alignedLengths[t.footer & 7]!);
    } else if (t.footerBits > 0) {
      out.bits(t.footer, t.footerBits);
    }
    pos += t.mainSym < NUM_CHARS ? 1 : (t.mainSym & NUM_PRIMARY_LENGTHS) + MIN_MATCH + Math.max(0, t.lengthSym);
    out.produced(pos);
  }
}

/** Greedy parse of data[start..end): matches never cross a frame or block end (the decoder forbids it). */
function tokenize(data: Buffer, start: number, end: number, state: EncoderState): Token[] {
  const tokens: Token[] = [];
  const r = state.r;
  const matcher = state.matcher;
  let pos = start;
  while (pos < end) {
    const limit = Math.min(end, (Math.floor(pos / LZX_FRAME_SIZE) + 1) * LZX_FRAME_SIZE, pos + MAX_MATCH);
    const match = matcher ? matcher.find(pos, limit, r) : null;
    if (match === null) {
      state.stats.literals++;
      tokens.push({ mainSym: data[pos]!, lengthSym: -1, footer: 0, footerBits: 0 });
      matcher?.insert(pos);
      pos++;
      continue;
    }
    const { length, offset } = match;
    state.stats.matches++;
    let slot: number;
    let footer = 0;
    let footerBits = 0;
    if (offset === r[0]) {
      slot = 0;
    } else if (offset === r[1]) {
      slot = 1;
      r[1] = r[0];
      r[0] = offset;
    } else if (offset === r[2]) {
      slot = 2;
      r[2] = r[0];
      r[0] = offset;
    } else {
      const formatted = offset + 2;
      slot = 3;
      while (LZX_POSITION_BASE[slot + 1]! <= formatted) slot++;
      footerBits = LZX_EXTRA_BITS[slot]!;
      footer = formatted - LZX_POSITION_BASE[slot]!;
      r[2] = r[1];
      r[1] = r[0];
      r[0] = offset;
    }
    if (slot < 3) state.stats.repeatMatches[slot]++;
    if (footerBits === 17) state.stats.seventeenBitFooters++;
    const lengthHeader = Math.min(length - MIN_MATCH, NUM_PRIMARY_LENGTHS);
    tokens.push({
      mainSym: NUM_CHARS + slot * 8 + lengthHeader,
      lengthSym: lengthHeader === NUM_PRIMARY_LENGTHS ? length - MIN_MATCH - NUM_PRIMARY_LENGTHS : -1,
      footer,
      footerBits,
    });
    for (let i = 0; i < length; i++) matcher!.insert(pos + i);
    pos += length;
  }
  return tokens;
}

/** Hash chains over 3-byte prefixes; offsets stay within the window (≤ 2^windowBits − 3). */
class MatchFinder {
  private readonly head = new Int32Array(1 << HASH_BITS).fill(-1);
  private readonly prev: Int32Array;
  private readonly maxOffset: number;

  constructor(private readonly data: Buffer, windowBits: number) {
    this.prev = new Int32Array(data.length);
    this.maxOffset = (1 << windowBits) - 3;
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

  /** Longest match at `pos` ending by `limit`; a repeated offset wins ties (it costs no footer). */
  find(pos: number, limit: number, r: readonly number[]): { length: number; offset: number } | null {
    const maxLen = limit - pos;
    if (maxLen < 3) return null;
    let bestLen = 0;
    let bestOffset = 0;
    for (const offset of r) {
      if (offset > pos || offset > this.maxOffset) continue;
      const len = this.matchLength(pos - offset, pos, maxLen);
      if (len > bestLen) {
        bestLen = len;
        bestOffset = offset;
      }
    }
    let candidate = pos + 2 < this.data.length ? this.head[this.hash(pos)]! : -1;
    for (let chain = 0; candidate >= 0 && chain < MAX_CHAIN; chain++, candidate = this.prev[candidate]!) {
      const offset = pos - candidate;
      if (offset > this.maxOffset) break;
      const len = this.matchLength(candidate, pos, maxLen);
      if (len > bestLen) {
        bestLen = len;
        bestOffset = offset;
        if (len === maxLen) break;
      }
    }
    return bestLen >= 3 ? { length: bestLen, offset: bestOffset } : null;
  }

  private matchLength(src: number, pos: number, maxLen: number): number {
    const d = this.data;
    let n = 0;
    while (n < maxLen && d[src + n] === d[pos + n]) n++;
    return n;
  }
}

/**
 * Lengths `first..last` of a tree as pretree symbols, delta-coded against `prev`: 17 and 18 for
 * runs of zeros, 19 for 4-5 equal lengths, 0..16 for single deltas.
 */
export function writeTreeLengths(out: LzxBitWriter, prev: Uint8Array, lengths: Uint8Array, first: number, last: number): void {
  const symbols: { sym: number; extra: number; extraBits: number; delta: number }[] = [];
  let i = first;
  while (i < last) {
    const value = lengths[i]!;
    let run = 1;
    while (i + run < last && lengths[i + run] === value) run++;
    if (value === 0 && run >= 20) {
      run = Math.min(run, 51);
      symbols.push({ sym: 18, extra: run - 20, extraBits: 5, delta: -1 });
    } else if (value === 0 && run >= 4) {
      run = Math.min(run, 19);
      symbols.push({ sym: 17, extra: run - 4, extraBits: 4, delta: -1 });
    } else if (run >= 4) {
      run = Math.min(run, 5);
      symbols.push({ sym: 19, extra: run - 4, extraBits: 1, delta: (prev[i]! - value + 17) % 17 });
    } else {
      run = 1;
      symbols.push({ sym: (prev[i]! - value + 17) % 17, extra: 0, extraBits: 0, delta: -1 });
    }
    i += run;
  }
  const freq = new Uint32Array(PRETREE_SYMBOLS);
  for (const s of symbols) {
    freq[s.sym]!++;
    if (s.delta >= 0) freq[s.delta]!++;
  }
  const preLengths = codeLengths(freq, 15);
  const preCodes = canonicalCodes(preLengths);
  for (const l of preLengths) out.bits(l, 4);
  for (const s of symbols) {
    out.bits(preCodes[s.sym]!, preLengths[s.sym]!);
    if (s.extraBits > 0) out.bits(s.extra, s.extraBits);
    if (s.delta >= 0) out.bits(preCodes[s.delta]!, preLengths[s.delta]!);
  }
}

/**
 * Huffman code lengths limited to `maxLength`, always a complete code: a single used symbol gets a
 * partner so both have length 1. All-zero frequencies give all-zero lengths only if `allowEmpty`.
 */
export function codeLengths(freq: Uint32Array, maxLength: number, allowEmpty = false): Uint8Array {
  const n = freq.length;
  const lengths = new Uint8Array(n);
  const used: number[] = [];
  for (let s = 0; s < n; s++) if (freq[s]! > 0) used.push(s);
  if (used.length === 0) {
    if (allowEmpty) return lengths;
    used.push(0);
  }
  if (used.length === 1) {
    lengths[used[0]!] = 1;
    lengths[used[0] === 0 ? 1 : 0] = 1;
    return lengths;
  }
  const weights = used.map((s) => freq[s]!);
  for (;;) {
    const depth = huffmanDepths(weights);
    if (Math.max(...depth) <= maxLength) {
      used.forEach((s, k) => (lengths[s] = depth[k]!));
      return lengths;
    }
    // too deep: flatten the distribution and try again
    for (let k = 0; k < weights.length; k++) weights[k] = (weights[k]! >>> 1) + 1;
  }
}

/** Code length of each weight in a Huffman code (two-queue construction over sorted leaves). */
function huffmanDepths(weights: number[]): number[] {
  const n = weights.length;
  const order = weights.map((_, i) => i).sort((x, y) => weights[x]! - weights[y]!);
  const w = new Float64Array(2 * n - 1);
  const parent = new Int32Array(2 * n - 1);
  for (let k = 0; k < n; k++) w[k] = weights[order[k]!]!;
  let leaf = 0;
  let inner = n;
  let next = n;
  const takeLightest = (): number => (leaf < n && (inner >= next || w[leaf]! <= w[inner]!) ? leaf++ : inner++);
  while (next < 2 * n - 1) {
    const a = takeLightest();
    const b = takeLightest();
    w[next] = w[a]! + w[b]!;
    parent[a] = next;
    parent[b] = next;
    next++;
  }
  const depth = new Int32Array(2 * n - 1);
  for (let k = 2 * n - 3; k >= 0; k--) depth[k] = depth[parent[k]!]! + 1;
  const result = new Array<number>(n);
  for (let k = 0; k < n; k++) result[order[k]!] = depth[k]!;
  return result;
}

/** Canonical codes: by length, then symbol index (as the decoder assigns them). */
export function canonicalCodes(lengths: Uint8Array): Uint32Array {
  const count = new Uint32Array(17);
  for (const l of lengths) count[l]!++;
  count[0] = 0;
  const next = new Uint32Array(17);
  let code = 0;
  for (let len = 1; len <= 16; len++) {
    next[len] = code;
    code = (code + count[len]!) << 1;
  }
  const codes = new Uint32Array(lengths.length);
  for (let s = 0; s < lengths.length; s++) if (lengths[s]! > 0) codes[s] = next[lengths[s]!]!++;
  return codes;
}

/**
 * LZX bit order: 16-bit little-endian words filled MSB-first, plus raw bytes for uncompressed
 * blocks. Exported so tests can hand-craft hostile streams bit by bit.
 */
export class LzxBitWriter {
  protected buf = Buffer.alloc(1024);
  protected len = 0;
  private word = 0;
  private wordBits = 0;

  /** Write the low `n` bits of `value` (n ≤ 32), most significant first. */
  bits(value: number, n: number): this {
    if (n > 16) {
      this.bits(Math.floor(value / 65536), n - 16);
      return this.bits(value & 0xffff, 16);
    }
    for (let i = n - 1; i >= 0; i--) {
      this.word = (this.word << 1) | ((value >>> i) & 1);
      if (++this.wordBits === 16) {
        this.byte(this.word & 0xff);
        this.byte((this.word >>> 8) & 0xff);
        this.word = 0;
        this.wordBits = 0;
      }
    }
    return this;
  }

  protected byte(b: number): void {
    if (this.len === this.buf.length) {
      const bigger = Buffer.alloc(this.buf.length * 2);
      this.buf.copy(bigger);
      this.buf = bigger;
    }
    this.buf[this.len++] = b;
  }

  get onWordBoundary(): boolean {
    return this.wordBits === 0;
  }

  /** Pad the current word with zero bits. */
  alignToWord(): this {
    if (this.wordBits > 0) this.bits(0, 16 - this.wordBits);
    return this;
  }

  /** The decoder skips 1..16 bits here: the rest of this word, or a whole word if aligned. */
  alignForUncompressedBlock(): this {
    return this.wordBits === 0 ? this.bits(0, 16) : this.alignToWord();
  }

  rawUint32LE(v: number): this {
    for (let i = 0; i < 4; i++) this.byte((v >>> (8 * i)) & 0xff);
    return this;
  }

  rawByte(b: number): this {
    this.byte(b);
    return this;
  }

  /** Everything written so far, the current word padded with zeros. */
  toBuffer(): Buffer {
    this.alignToWord();
    return Buffer.from(this.buf.subarray(0, this.len));
  }
}

/** The encoder's output: an LzxBitWriter that cuts a CFDATA payload at every 32 KiB of output. */
class LzxStreamWriter extends LzxBitWriter {
  private readonly cuts: number[] = [];
  private nextFrameEnd: number;

  constructor(private readonly totalOutput: number) {
    super();
    this.nextFrameEnd = Math.min(LZX_FRAME_SIZE, totalOutput);
  }

  rawBytes(data: Buffer, start: number, end: number): void {
    for (let pos = start; pos < end; pos++) {
      this.byte(data[pos]!);
      this.produced(pos + 1);
    }
  }

  /** Output has reached `position`: at a frame end, re-align and cut a CFDATA payload. */
  produced(position: number): void {
    if (position < this.nextFrameEnd) return;
    this.alignToWord();
    this.cuts.push(this.len);
    this.nextFrameEnd = position >= this.totalOutput ? Infinity : Math.min(this.nextFrameEnd + LZX_FRAME_SIZE, this.totalOutput);
  }

  payloads(): Buffer[] {
    const out: Buffer[] = [];
    let from = 0;
    this.cuts.forEach((to, k) => {
      // bytes written after the last frame's cut (an odd uncompressed block's pad) stay with it
      const end = k === this.cuts.length - 1 ? this.len : to;
      out.push(Buffer.from(this.buf.subarray(from, end)));
      from = to;
    });
    return out;
  }
}

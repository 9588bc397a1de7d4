import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { openCab } from '../../src/cab/cabinet';
import { createLzxDecoder, LzxBlockType, undoE8Translation } from '../../src/codecs/lzx';
import { CabferryError } from '../../src/errors';
import { buildCab } from '../../scripts/lib/cab-writer';
import { prng } from '../../scripts/lib/prng';
import {
  applyE8Translation,
  emptyLzxEncodeStats,
  encodeLzx,
  LzxBitWriter,
  lzxFolderEncoder,
  writeTreeLengths,
  type LzxEncodeStats,
  type LzxEncoderOptions,
} from '../../scripts/lib/lzx-encoder';
import { assertThrowsCode, corpusPath, hasTool, loadOracle, tempDir } from '../common.helpers';

const FRAME = 32768;
const haveCabextract = hasTool('cabextract');

// ---------------------------------------------------------------------------------------------
// Data generators: deterministic, so a failure reproduces.

function randomBytes(size: number, seed: number): Buffer {
  const next = prng(seed);
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i++) out[i] = Math.floor(next() * 256);
  return out;
}

/** Manifest-like text records: fields repeat at several distances, so R0/R1/R2 all get used. */
function records(size: number, seed: number): Buffer {
  const next = prng(seed);
  const parts: Buffer[] = [];
  let n = 0;
  while (n < size) {
    const r = Math.floor(next() * 1e9);
    const p = Buffer.from(`name=amd64_microsoft-windows-${r % 97};attr=0x20;size=${r % 5000};version=6.0.6002.${r % 3};\r\n`);
    parts.push(p);
    n += p.length;
  }
  return Buffer.concat(parts).subarray(0, size);
}

/**
 * x86-like code: CALLs (0xE8 + rel32) to a few fixed functions between filler instructions. The
 * relative operands differ at every call, but the absolute targets E8 translation produces are
 * few, so the compressed stream is full of matches over translated bytes. Some operands are out of
 * range (left alone) and some map to negative absolutes (the other branch of the translation).
 */
function x86Like(size: number, seed: number, intelFileSize = 12000000): Buffer {
  const next = prng(seed);
  const out = Buffer.alloc(size);
  const targets = [0x1000, 0x2340, 0x8000, 0x4_0000, 0x9_abcd];
  let i = 0;
  while (i + 5 <= size) {
    const kind = next();
    if (kind < 0.55) {
      const t = targets[Math.floor(next() * targets.length)]!;
      out[i] = 0xe8;
      out.writeInt32LE(t - i, i + 1);
      i += 5;
    } else if (kind < 0.6) {
      out[i] = 0xe8;
      out.writeInt32LE(kind < 0.58 ? 0x7fff0000 : intelFileSize - 10 - Math.floor(next() * 1000), i + 1);
      i += 5;
    } else {
      out[i++] = [0x55, 0x8b, 0xec, 0x90, 0xc3][Math.floor(next() * 5)]!;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Drivers.

function frameSizes(total: number): number[] {
  const sizes: number[] = [];
  for (let at = 0; at < total; at += FRAME) sizes.push(Math.min(FRAME, total - at));
  return sizes;
}

function decodePayloads(windowBits: number, payloads: Buffer[], sizes: number[]): Buffer {
  const decoder = createLzxDecoder(windowBits);
  return Buffer.concat(payloads.map((p, i) => Buffer.from(decoder.decodeBlock(p, sizes[i]!))));
}


/**
 * Encode `data`, check that our decoder gives it back and, when installed, that cabextract (the
 * reference) extracts exactly `data` from a cabinet holding the payloads. Without cabextract
 * (CI installs it) only the first half runs: encoder and decoder would merely agree with each other.
 */
function roundTrip(data: Buffer, opts: LzxEncoderOptions): { payloads: Buffer[]; stats: LzxEncodeStats } {
  const stats = emptyLzxEncodeStats();
  const payloads = encodeLzx(data, opts, stats);
  assert.equal(payloads.length, Math.ceil(data.length / FRAME), 'one payload per frame');
  const decoded = decodePayloads(opts.windowBits, payloads, frameSizes(data.length));
  assert.ok(decoded.equals(data), `our decoder differs from the input (${JSON.stringify(opts)})`);
  if (haveCabextract) assertCabextractExtracts(data, opts);
  return { payloads, stats };
}

let cabCounter = 0;
const workDir = tempDir('cabferry-lzx-');

function assertCabextractExtracts(data: Buffer, opts: LzxEncoderOptions): void {
  const cab = buildCab([{ encoder: lzxFolderEncoder(opts), files: [{ name: 'payload.bin', data }] }]);
  const file = path.join(workDir, `t${cabCounter++}.cab`);
  fs.writeFileSync(file, cab);
  const r = spawnSync('cabextract', ['-p', file], { maxBuffer: 64 * 1024 * 1024 });
  assert.equal(r.status, 0, `cabextract failed on ${JSON.stringify(opts)}: ${r.stderr?.toString()}`);
  assert.ok(r.stdout.equals(data), `cabextract extracted different bytes for ${JSON.stringify(opts)}`);
}

// ---------------------------------------------------------------------------------------------

describe('LZX on real cabinets (oracle: cabextract 1.9 member digests in oracle.json)', () => {
  const oracle = loadOracle();

  test('every corpus cabinet with an LZX folder decodes to the digests cabextract reported', () => {
    let lzxCabs = 0;
    let membersChecked = 0;
    for (const o of oracle) {
      // The 2 GiB historical cabinets are benchmark material (scripts/bench-lzx.js), not unit tests.
      if (!o.is_mscf || o.cabextract_test_rc !== 0 || o.path.includes('huge-lzx')) continue;
      let cab;
      try {
        cab = openCab(corpusPath(o.path));
      } catch {
        continue; // header-level rejections are the container's tests
      }
      try {
        const lzxFolders = new Set(cab.folders.filter((f) => f.compression.type === 'lzx').map((f) => f.index));
        if (lzxFolders.size === 0) continue;
        lzxCabs++;
        const report = cab.testCabinet({ digests: true });
        for (const f of report.folders) if (lzxFolders.has(f.index)) assert.ok(f.ok, `${o.path}: ${JSON.stringify(f)}`);
        for (const m of report.members) {
          if (!lzxFolders.has(cab.members[m.index]!.folderIndex)) continue;
          const want = o.extracted_sha256[m.name.replace(/\\/g, '/')] ?? o.extracted_sha256[m.name];
          if (want === undefined) continue;
          assert.equal(m.sha256, want, `${o.path}: member ${m.name}`);
          membersChecked++;
        }
      } finally {
        cab.close();
      }
    }
    assert.ok(lzxCabs >= 30, `only ${lzxCabs} LZX cabinets found in the corpus`);
    assert.ok(membersChecked >= 600, `only ${membersChecked} members compared`);
  });

  const hostile: [string, string][] = [
    ['libmspack/cabd/lzx-premature-matches.cab', 'LZX_MATCH_BEFORE_START'],
    ['libarchive/test_read_format_cab_lzx_invalid_history.cab', 'LZX_MATCH_BEFORE_START'],
    ['libmspack/cabd/lzx-main-tree-no-lengths.cab', 'LZX_BAD_TREE'],
  ];
  for (const [file, code] of hostile) {
    test(`${file} fails with ${code}, as cabextract -t fails`, () => {
      const o = oracle.find((x) => x.path === file);
      assert.ok(o, `${file} is in oracle.json`);
      assert.notEqual(o.cabextract_test_rc, 0);
      const cab = openCab(corpusPath(file));
      try {
        const report = cab.testCabinet();
        assert.equal(report.ok, false);
        const codes = report.folders.map((f) => f.error?.code).filter((c) => c !== undefined);
        assert.deepEqual(codes, [code]);
      } finally {
        cab.close();
      }
    });
  }
});

describe('LZX streams from the test encoder, checked by cabextract', () => {
  test('windows 15..21 × verbatim/aligned/uncompressed × E8 on/off, 3 frames with a short last one', () => {
    const data = Buffer.concat([records(50000, 1), x86Like(20000, 2)]);
    for (let windowBits = 15; windowBits <= 21; windowBits++) {
      for (const blockType of ['verbatim', 'aligned', 'uncompressed'] as const) {
        for (const e8 of [false, true]) roundTrip(data, { windowBits, e8, blockType });
      }
    }
  });

  test('E8 translation: operands are rewritten by the encoder and restored on output, per frame', () => {
    const data = x86Like(5 * FRAME + 777, 3);
    const raw = applyE8Translation(data, 12000000);
    assert.ok(!raw.equals(data), 'the translation changes the stream');
    for (const blockType of ['verbatim', 'aligned', 'uncompressed'] as const) {
      const { stats } = roundTrip(data, { windowBits: 21, e8: true, blockType });
      assert.ok(stats.e8Rewritten > 1000, `${stats.e8Rewritten} operands rewritten`);
    }
    // the same data with the flag off is stored as is (no translation either way)
    roundTrip(data, { windowBits: 21, e8: false, blockType: 'verbatim' });
  });

  test('E8: the window keeps raw bytes (matches copy translated operands, only the output copy is fixed)', () => {
    // identical absolute targets across frames: later frames are mostly matches into earlier ones
    const data = x86Like(4 * FRAME, 4);
    const { stats } = roundTrip(data, { windowBits: 16, e8: true, blockType: 'verbatim' });
    assert.ok(stats.matches > stats.literals, `${stats.matches} matches vs ${stats.literals} literals`);
  });

  test('E8 leaves frames of 10 bytes or fewer and the last 10 bytes of each frame alone', () => {
    const tail = Buffer.from([0xe8, 0x10, 0, 0, 0, 0xe8, 0x20, 0, 0, 0]); // 10 bytes: a whole short frame
    roundTrip(Buffer.concat([x86Like(FRAME, 5), tail]), { windowBits: 15, e8: true, blockType: 'verbatim' });
    const frameTail = x86Like(FRAME, 6);
    frameTail[FRAME - 10] = 0xe8; // inside the untouched tail
    roundTrip(Buffer.concat([frameTail, x86Like(100, 7)]), { windowBits: 15, e8: true, blockType: 'aligned' });
    // a direct check of the rule on one frame
    const frame = Buffer.alloc(20);
    frame[0] = 0xe8;
    frame.writeInt32LE(100, 1);
    frame[10] = 0xe8;
    frame.writeInt32LE(100, 11);
    undoE8Translation(frame, 0, 12000000);
    assert.equal(frame.readInt32LE(1), 100, 'abs 100 at position 0 → rel 100');
    assert.equal(frame.readInt32LE(11), 100, 'position 10 is in the last 10 bytes: untouched');
    undoE8Translation(frame, 50, 12000000);
    assert.equal(frame.readInt32LE(1), 50, 'abs 100 at position 50 → rel 50');
  });

  test('blocks spanning frames and odd-sized uncompressed blocks (with their pad byte)', () => {
    const data = records(4 * FRAME + 5, 8);
    for (const maxBlockSize of [50001, 1001, 32767]) {
      for (const blockType of ['verbatim', 'aligned', 'uncompressed'] as const) {
        roundTrip(data, { windowBits: 17, e8: false, blockType, maxBlockSize });
      }
    }
    roundTrip(data, { windowBits: 17, e8: true, blockType: 'uncompressed', maxBlockSize: 255 });
  });

  test('mixed block types: uncompressed headers at every bit alignment, including the whole-word skip', () => {
    const data = Buffer.concat([records(60000, 9), x86Like(40000, 10)]);
    let onBoundary = 0;
    let uncompressed = 0;
    for (let seed = 0; seed < 12; seed++) {
      const order = ['verbatim', 'uncompressed', 'aligned', 'uncompressed', 'verbatim', 'aligned'] as const;
      const blockType = [...order.slice(seed % 6), ...order.slice(0, seed % 6)];
      const { stats } = roundTrip(data, { windowBits: 16, e8: seed % 2 === 1, blockType, maxBlockSize: 997 + 37 * seed });
      onBoundary += stats.uncompressedHeadersOnWordBoundary;
      uncompressed += stats.uncompressedBlocks;
    }
    assert.ok(onBoundary > 0, `none of ${uncompressed} uncompressed headers ended on a word boundary`);
  });

  test('tree lengths persist across blocks (each block delta-codes against the previous one)', () => {
    const data = Buffer.concat([records(40000, 11), x86Like(30000, 12), records(30000, 13)]);
    for (const blockType of ['verbatim', 'aligned'] as const) {
      const { stats } = roundTrip(data, { windowBits: 18, e8: true, blockType, maxBlockSize: 2500 });
      assert.ok(stats.blocks >= 40, `${stats.blocks} blocks`);
    }
  });

  test('repeated offsets R0, R1 and R2 (slots 0..2, with their swaps)', () => {
    const data = records(120000, 14);
    for (const blockType of ['verbatim', 'aligned'] as const) {
      const { stats } = roundTrip(data, { windowBits: 16, e8: false, blockType });
      for (const [slot, n] of stats.repeatMatches.entries()) assert.ok(n > 10, `slot ${slot} used ${n} times`);
    }
    // an uncompressed block carries R0..R2 to the compressed blocks after it
    roundTrip(data, { windowBits: 16, e8: false, blockType: ['aligned', 'uncompressed', 'verbatim'], maxBlockSize: 4000 });
  });

  test('far matches: position slots ≥ 36 take 17 verbatim bits', () => {
    // offsets near 280000 need slot 36 or 37 (formatted offsets from 2^18 up)
    const chunk = randomBytes(280000, 15);
    const data = Buffer.concat([chunk, chunk.subarray(0, 40000)]);
    for (const windowBits of [19, 21]) {
      for (const blockType of ['verbatim', 'aligned'] as const) {
        const { stats } = roundTrip(data, { windowBits, e8: false, blockType });
        assert.ok(stats.seventeenBitFooters > 0, `window ${windowBits} ${blockType}: no 17-bit footer`);
      }
    }
  });

  test('matches wrap around the circular window', () => {
    // 2^15 window, 5 frames: sources of later matches sit at the window's end while output is at its start
    const motif = records(20000, 16);
    const data = Buffer.concat([motif, randomBytes(12768, 17), motif, motif, records(70000, 18)]);
    roundTrip(data, { windowBits: 15, e8: false, blockType: 'verbatim' });
    roundTrip(data, { windowBits: 15, e8: false, blockType: 'aligned', maxBlockSize: 30000 });
  });

  test('an empty LENGTH tree is allowed when no match needs it', () => {
    const { payloads } = roundTrip(records(40000, 19), { windowBits: 15, e8: false, blockType: 'verbatim', matches: false });
    assert.equal(payloads.length, 2);
  });

  test('the stream continues across CFDATA boundaries: bytes after a frame end carry over', () => {
    const data = records(3 * FRAME, 20);
    const payloads = encodeLzx(data, { windowBits: 16, e8: false, blockType: 'verbatim' });
    // move the first 6 bytes of frame 1's data into payload 0: frame 0 stops at its own end
    const shifted = [Buffer.concat([payloads[0]!, payloads[1]!.subarray(0, 6)]), payloads[1]!.subarray(6), payloads[2]!];
    assert.ok(decodePayloads(16, shifted, frameSizes(data.length)).equals(data));
    // the carried bytes are the decoder's own copy: the caller may reuse its buffer at once
    const d = createLzxDecoder(16);
    const first = Buffer.from(d.decodeBlock(shifted[0]!, FRAME));
    shifted[0]!.fill(0);
    const rest = [d.decodeBlock(shifted[1]!, FRAME), d.decodeBlock(shifted[2]!, FRAME)].map((b) => Buffer.from(b));
    assert.ok(Buffer.concat([first, ...rest]).equals(data));
  });
});

// ---------------------------------------------------------------------------------------------
// Hand-made streams for the checks a well-behaved encoder never triggers.

/** A verbatim block whose MAINTREE has exactly `symbols` (each code length 1) and an empty LENGTH tree. */
function verbatimBlock(w: LzxBitWriter, windowBits: number, size: number, symbols: [number, number]): void {
  const numMain = 256 + 8 * [30, 32, 34, 36, 38, 42, 50][windowBits - 15]!;
  const main = new Uint8Array(numMain);
  main[symbols[0]] = 1;
  main[symbols[1]] = 1;
  w.bits(LzxBlockType.verbatim, 3).bits(size >>> 8, 16).bits(size & 0xff, 8);
  const prev = new Uint8Array(numMain);
  writeTreeLengths(w, prev, main, 0, 256);
  writeTreeLengths(w, prev, main, 256, numMain);
  writeTreeLengths(w, new Uint8Array(249), new Uint8Array(249), 0, 249);
}

/** The code of `sym` in a two-symbol tree: the smaller symbol is 0. */
function twoSymbolCode(symbols: [number, number], sym: number): number {
  return sym === Math.min(...symbols) ? 0 : 1;
}

describe('LZX hostile input', () => {
  test('window sizes outside 2^15..2^21 are refused', () => {
    assertThrowsCode(() => createLzxDecoder(14), 'LZX_BAD_WINDOW', 'input');
    assertThrowsCode(() => createLzxDecoder(22), 'LZX_BAD_WINDOW', 'input');
  });

  test('bad block types 0 and 4..7', () => {
    for (const type of [0, 4, 5, 6, 7]) {
      const payload = new LzxBitWriter().bits(0, 1).bits(type, 3).bits(0, 16).bits(100, 8).bits(0, 64).toBuffer();
      assertThrowsCode(() => createLzxDecoder(15).decodeBlock(payload, 100), 'LZX_BAD_BLOCK_TYPE', 'input');
    }
  });

  test('a match at the very start points before the output (premature match)', () => {
    const symbols: [number, number] = [0x41, 256]; // 'A' and "slot 0 (R0 = 1), length 2"
    const w = new LzxBitWriter().bits(0, 1);
    verbatimBlock(w, 15, 3, symbols);
    w.bits(twoSymbolCode(symbols, 256), 1).bits(0, 32);
    assertThrowsCode(() => createLzxDecoder(15).decodeBlock(w.toBuffer(), 3), 'LZX_MATCH_BEFORE_START', 'input');
  });

  test('matches may not run past the end of the frame or of the block', () => {
    const symbols: [number, number] = [0x41, 256];
    const stream = (blockSize: number): Buffer => {
      const w = new LzxBitWriter().bits(0, 1);
      verbatimBlock(w, 15, blockSize, symbols);
      w.bits(twoSymbolCode(symbols, 0x41), 1).bits(twoSymbolCode(symbols, 256), 1); // "A" then copy 2 → "AAA"
      return w.bits(0, 32).toBuffer();
    };
    assert.equal(createLzxDecoder(15).decodeBlock(stream(3), 3).toString('latin1'), 'AAA', 'the well-formed stream decodes');
    assertThrowsCode(() => createLzxDecoder(15).decodeBlock(stream(3), 2), 'LZX_MATCH_PAST_FRAME', 'input');
    assertThrowsCode(() => createLzxDecoder(15).decodeBlock(stream(2), 3), 'LZX_MATCH_PAST_BLOCK', 'input');
  });

  test('a match that needs an empty LENGTH tree', () => {
    const symbols: [number, number] = [0x41, 256 + 7]; // slot 0 with length header 7: needs the LENGTH tree
    const w = new LzxBitWriter().bits(0, 1);
    verbatimBlock(w, 15, 20, symbols);
    w.bits(0, 1).bits(1, 1).bits(0, 32);
    assertThrowsCode(() => createLzxDecoder(15).decodeBlock(w.toBuffer(), 20), 'LZX_BAD_TREE', 'input');
  });

  test('repeated offset 0 (set by an uncompressed block) and offsets beyond the window', () => {
    const symbols: [number, number] = [0x41, 256];
    const stream = (r0: number, filler: number): Buffer => {
      const w = new LzxBitWriter().bits(0, 1);
      w.bits(LzxBlockType.uncompressed, 3).bits(0, 16).bits(filler, 8);
      w.alignForUncompressedBlock().rawUint32LE(r0).rawUint32LE(1).rawUint32LE(1);
      for (let i = 0; i < filler; i++) w.rawByte(0x42);
      if (filler & 1) w.rawByte(0);
      verbatimBlock(w, 15, 2, symbols);
      w.bits(twoSymbolCode(symbols, 256), 1).bits(0, 32);
      return w.toBuffer();
    };
    assertThrowsCode(() => createLzxDecoder(15).decodeBlock(stream(0, 4), 6), 'LZX_BAD_MATCH_OFFSET', 'input');
    assertThrowsCode(() => createLzxDecoder(15).decodeBlock(stream(5, 4), 6), 'LZX_MATCH_BEFORE_START', 'input');
    assert.equal(createLzxDecoder(15).decodeBlock(stream(3, 4), 6).toString('latin1'), 'BBBBBB', 'a valid repeat decodes');
  });

  test('over-subscribed and incomplete pretrees', () => {
    const withPretree = (lengths: number[]): Buffer => {
      const w = new LzxBitWriter().bits(0, 1).bits(LzxBlockType.verbatim, 3).bits(0, 16).bits(10, 8);
      for (const l of lengths) w.bits(l, 4);
      return w.bits(0, 64).toBuffer();
    };
    const over = new Array(20).fill(0);
    over[0] = over[1] = over[2] = 1;
    const incomplete = new Array(20).fill(0);
    incomplete[0] = 1;
    assertThrowsCode(() => createLzxDecoder(15).decodeBlock(withPretree(over), 10), 'LZX_BAD_TREE', 'input');
    assertThrowsCode(() => createLzxDecoder(15).decodeBlock(withPretree(incomplete), 10), 'LZX_BAD_TREE', 'input');
  });

  test('a frame that needs more input than its CFDATA holds', () => {
    const data = records(2 * FRAME, 21);
    const payloads = encodeLzx(data, { windowBits: 16, e8: false, blockType: 'aligned' });
    for (const cut of [1, 2, 7, payloads[0]!.length - 2]) {
      const d = createLzxDecoder(16);
      assertThrowsCode(() => d.decodeBlock(payloads[0]!.subarray(0, payloads[0]!.length - cut), FRAME), 'LZX_INPUT_OVERRUN', 'input');
    }
    const raw = encodeLzx(data, { windowBits: 16, e8: false, blockType: 'uncompressed' });
    assertThrowsCode(() => createLzxDecoder(16).decodeBlock(raw[0]!.subarray(0, 1000), FRAME), 'LZX_INPUT_OVERRUN', 'input');
    assertThrowsCode(() => createLzxDecoder(16).decodeBlock(Buffer.alloc(0), FRAME), 'LZX_INPUT_OVERRUN', 'input');
  });

  test('input left unread after a frame is carried over, but never more than one CFDATA block of it', () => {
    const data = randomBytes(4 * FRAME, 28);
    const payloads = encodeLzx(data, { windowBits: 15, e8: false, blockType: 'uncompressed' });
    // one frame's worth of extra input is carried and used by the next frame
    const d = createLzxDecoder(15);
    const first = Buffer.from(d.decodeBlock(Buffer.concat([payloads[0]!, payloads[1]!]), FRAME));
    const second = Buffer.from(d.decodeBlock(Buffer.alloc(0), FRAME));
    assert.ok(Buffer.concat([first, second]).equals(data.subarray(0, 2 * FRAME)));
    // two frames' worth would have to be buffered: refused
    assertThrowsCode(() => createLzxDecoder(15).decodeBlock(Buffer.concat(payloads.slice(0, 3)), FRAME), 'LZX_EXCESS_INPUT', 'input');
  });

  test('frame sizes: 1..32768, only the last frame short; no decoding after an error', () => {
    const data = records(FRAME + 100, 22);
    const payloads = encodeLzx(data, { windowBits: 15, e8: false, blockType: 'verbatim' });
    assertThrowsCode(() => createLzxDecoder(15).decodeBlock(payloads[0]!, 0), 'LZX_BAD_FRAME_SIZE', 'input');
    assertThrowsCode(() => createLzxDecoder(15).decodeBlock(payloads[0]!, FRAME + 1), 'LZX_BAD_FRAME_SIZE', 'input');
    const tiny = encodeLzx(records(100, 27), { windowBits: 15, e8: false, blockType: 'verbatim' });
    const short = createLzxDecoder(15);
    short.decodeBlock(tiny[0]!, 100);
    assertThrowsCode(() => short.decodeBlock(tiny[0]!, 100), 'LZX_FRAME_AFTER_LAST', 'input');
    const failed = createLzxDecoder(15);
    assertThrowsCode(() => failed.decodeBlock(payloads[0]!.subarray(0, 10), FRAME), 'LZX_INPUT_OVERRUN', 'input');
    assertThrowsCode(() => failed.decodeBlock(payloads[0]!, FRAME), 'LZX_DECODER_FAILED', 'input');
  });

  test('fuzz: mutated streams end in a typed input error or in output, never a crash or a hang', () => {
    const data = Buffer.concat([records(40000, 23), x86Like(30000, 24)]);
    const sizes = frameSizes(data.length);
    const streams = (['verbatim', 'aligned', 'uncompressed'] as const).map((blockType) =>
      encodeLzx(data, { windowBits: 16, e8: true, blockType, maxBlockSize: 20000 }));
    const next = prng(25);
    const outcomes = new Map<string, number>();
    for (let iter = 0; iter < 600; iter++) {
      const payloads = streams[iter % 3]!.map((p) => Buffer.from(p));
      const mutations = 1 + Math.floor(next() * 4);
      for (let m = 0; m < mutations; m++) {
        const b = Math.floor(next() * payloads.length);
        const p = payloads[b]!;
        const where = Math.floor(next() * Math.min(p.length, next() < 0.5 ? 64 : p.length));
        if (next() < 0.8) p[where] = p[where]! ^ (1 << Math.floor(next() * 8));
        else payloads[b] = p.subarray(0, where);
      }
      let outcome = 'decoded';
      try {
        const d = createLzxDecoder(16);
        payloads.forEach((p, i) => d.decodeBlock(p, sizes[i]!));
      } catch (e) {
        assert.ok(e instanceof CabferryError && e.kind === 'input', `iteration ${iter}: ${String(e)}`);
        outcome = e.code;
      }
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    assert.ok(outcomes.size >= 4, `outcomes: ${JSON.stringify([...outcomes])}`);
  });
});

test('the decoder output for a frame is exactly the requested size and a digest-stable view', () => {
  const data = records(FRAME + 1234, 26);
  const payloads = encodeLzx(data, { windowBits: 15, e8: false, blockType: 'aligned' });
  const d = createLzxDecoder(15);
  const first = d.decodeBlock(payloads[0]!, FRAME);
  assert.equal(first.length, FRAME);
  const digest = createHash('sha256').update(first).digest('hex');
  assert.equal(digest, createHash('sha256').update(data.subarray(0, FRAME)).digest('hex'));
  assert.equal(d.decodeBlock(payloads[1]!, 1234).length, 1234);
});

describe('a decoder released after its folder serves the next one', () => {
  // createLzxDecoder hands back the decoder last released for that window size: what the
  // previous folder left in its window, trees, bit reader and E8 state must not reach the next.
  const first = x86Like(3 * FRAME + 1000, 11);
  const second = records(2 * FRAME + 77, 12);
  const firstPayloads = encodeLzx(first, { windowBits: 17, e8: true, blockType: ['aligned', 'verbatim'] });
  const secondPayloads = encodeLzx(second, { windowBits: 17, e8: false, blockType: 'verbatim', maxBlockSize: 40000 });

  function decodeAll(payloads: Buffer[], total: number) {
    const decoder = createLzxDecoder(17);
    const out = Buffer.concat(payloads.map((p, i) => Buffer.from(decoder.decodeBlock(p, frameSizes(total)[i]!))));
    return { decoder, out };
  }

  test('after a complete folder: the same instance, the output of a new decoder', () => {
    const a = decodeAll(firstPayloads, first.length);
    assert.ok(a.out.equals(first));
    a.decoder.release?.();
    const b = decodeAll(secondPayloads, second.length);
    assert.equal(b.decoder, a.decoder, 'the released decoder was reused (else this test proves nothing)');
    assert.ok(b.out.equals(second), 'the reused decoder decodes the next folder exactly');
    b.decoder.release?.();
  });

  test('after a folder that failed half-way and one cut short', () => {
    const failing = createLzxDecoder(17);
    assert.ok(Buffer.from(failing.decodeBlock(firstPayloads[0]!, FRAME)).equals(first.subarray(0, FRAME)));
    const damaged = Buffer.from(firstPayloads[1]!);
    damaged.fill(0xff, 0, 64);
    assert.throws(() => failing.decodeBlock(damaged, FRAME), CabferryError);
    failing.release?.();
    const b = decodeAll(secondPayloads, second.length);
    assert.equal(b.decoder, failing);
    assert.ok(b.out.equals(second), 'no state of the failed folder carried over');
    b.decoder.release?.();
    const c = decodeAll(firstPayloads, first.length);
    assert.ok(c.out.equals(first), 'and E8 translation starts afresh');
  });

  test('a hostile folder on a reused decoder cannot reach the bytes the previous folder left in the window', () => {
    // the previous folder fills and wraps a 2^15 window, so every window byte is stale output
    const filler = x86Like(3 * FRAME + 1000, 13);
    const decoder = createLzxDecoder(15);
    const sizes = frameSizes(filler.length);
    const out = Buffer.concat(encodeLzx(filler, { windowBits: 15, e8: false, blockType: 'verbatim' }).map((p, i) => Buffer.from(decoder.decodeBlock(p, sizes[i]!))));
    assert.ok(out.equals(filler));
    decoder.release?.();

    // "A" then a match at offset 1 would be fine; a match first thing (offset R0 = 1) reaches before the output
    const symbols: [number, number] = [0x41, 256];
    const premature = new LzxBitWriter().bits(0, 1);
    verbatimBlock(premature, 15, 3, symbols);
    premature.bits(twoSymbolCode(symbols, 256), 1).bits(0, 32);
    const reused = createLzxDecoder(15);
    assert.equal(reused, decoder, 'the released decoder was reused (else this test proves nothing)');
    assertThrowsCode(() => reused.decodeBlock(premature.toBuffer(), 3), 'LZX_MATCH_BEFORE_START', 'input');
    reused.release?.();

    // an uncompressed block sets R0 = 5 after 4 bytes of output: one byte before the start
    const farRepeat = new LzxBitWriter().bits(0, 1);
    farRepeat.bits(LzxBlockType.uncompressed, 3).bits(0, 16).bits(4, 8);
    farRepeat.alignForUncompressedBlock().rawUint32LE(5).rawUint32LE(1).rawUint32LE(1);
    for (let i = 0; i < 4; i++) farRepeat.rawByte(0x42);
    verbatimBlock(farRepeat, 15, 2, symbols);
    farRepeat.bits(twoSymbolCode(symbols, 256), 1).bits(0, 32);
    const again = createLzxDecoder(15);
    assert.equal(again, decoder);
    assertThrowsCode(() => again.decodeBlock(farRepeat.toBuffer(), 6), 'LZX_MATCH_BEFORE_START', 'input');
    again.release?.();
    createLzxDecoder(15); // take it back out of the idle slot
  });

  test('a released decoder refuses to decode', () => {
    const d = createLzxDecoder(15);
    d.release?.();
    assertThrowsCode(() => d.decodeBlock(Buffer.alloc(16), 16), 'LZX_INTERNAL', 'internal');
    createLzxDecoder(15); // take it back out of the idle slot
  });
});

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { openCab } from '../../src/cab/cabinet';
import { createBlockDecoder, describeCompression } from '../../src/codecs';
import { createQuantumDecoder } from '../../src/codecs/quantum';
import { createQuantumModels, QuantumModel } from '../../src/codecs/quantum-model';
import { CabferryError } from '../../src/errors';
import { buildCab } from '../../scripts/lib/cab-writer';
import { prng } from '../../scripts/lib/prng';
import { emptyQuantumEncodeStats, encodeQuantum, quantumFolderEncoder, type QuantumEncodeStats, type QuantumEncoderOptions } from '../../scripts/lib/quantum-encoder';
import { assertThrowsCode, corpusPath, hasTool, loadOracle, tempDir } from '../common.helpers';

const FRAME = 32768;
const haveCabextract = hasTool('cabextract');

function randomBytes(size: number, seed: number): Buffer {
  const next = prng(seed);
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i++) out[i] = Math.floor(next() * 256);
  return out;
}

/** Manifest-like text: repeats near and far, so every selector and many position slots get used. */
function manifests(size: number, seed: number): Buffer {
  const next = prng(seed);
  const parts: Buffer[] = [];
  let n = 0;
  while (n < size) {
    const line = `<assemblyIdentity name="Microsoft-Windows-Component-${Math.floor(next() * 300)}" version="6.0.6003.${20000 + Math.floor(next() * 900)}" processorArchitecture="${next() < 0.5 ? 'amd64' : 'x86'}"/>\r\n`;
    parts.push(Buffer.from(line));
    n += line.length;
  }
  return Buffer.concat(parts).subarray(0, size);
}

function frameSizes(total: number): number[] {
  const sizes: number[] = [];
  for (let left = total; left > 0; left -= FRAME) sizes.push(Math.min(FRAME, left));
  return sizes;
}

function decodePayloads(windowBits: number, payloads: Buffer[], sizes: number[]): Buffer {
  const decoder = createQuantumDecoder(windowBits);
  return Buffer.concat(payloads.map((p, i) => Buffer.from(decoder.decodeBlock(p, sizes[i]!))));
}


let cabCounter = 0;
const workDir = tempDir('cabferry-quantum-');

/**
 * Our decoder must give `data` back and, where installed, cabextract (the reference) must extract
 * exactly `data` from a cabinet of the same payloads: the second half is what proves the shared
 * model is Quantum's, not merely self-consistent.
 */
function roundTrip(data: Buffer, opts: QuantumEncoderOptions): QuantumEncodeStats {
  const stats = emptyQuantumEncodeStats();
  const payloads = encodeQuantum(data, opts, stats);
  assert.equal(payloads.length, Math.ceil(data.length / FRAME), 'one payload per frame');
  assert.ok(decodePayloads(opts.windowBits, payloads, frameSizes(data.length)).equals(data), `our decoder differs from the input (${JSON.stringify(opts)})`);
  if (haveCabextract) {
    const file = path.join(workDir, `q${cabCounter++}.cab`);
    fs.writeFileSync(file, buildCab([{ encoder: quantumFolderEncoder(opts), files: [{ name: 'payload.bin', data }] }]));
    const r = spawnSync('cabextract', ['-p', file], { maxBuffer: 64 * 1024 * 1024 });
    assert.equal(r.status, 0, `cabextract failed on ${JSON.stringify(opts)}: ${r.stderr?.toString()}`);
    assert.ok(r.stdout.equals(data), `cabextract extracted different bytes for ${JSON.stringify(opts)}`);
  }
  return stats;
}

describe('Quantum on real cabinets (oracle: cabextract 1.9 member digests in oracle.json)', () => {
  const oracle = loadOracle();

  for (const file of ['libmspack/cabd/mszip_lzx_qtm.cab', 'cabextract/bugs/cve-2010-2801-qtm-flush.cab']) {
    test(`${file}: every member has the digest cabextract reported`, () => {
      const o = oracle.find((x) => x.path === file);
      assert.ok(o && o.cabextract_test_rc === 0, `${file} is in oracle.json and cabextract tests it OK`);
      const cab = openCab(corpusPath(file));
      try {
        assert.ok(cab.folders.some((f) => f.compression.type === 'quantum'), 'has a Quantum folder');
        const report = cab.testCabinet({ digests: true });
        assert.ok(report.ok, JSON.stringify(report));
        for (const m of report.members) assert.equal(m.sha256, o.extracted_sha256[m.name], `member ${m.name}`);
        assert.equal(report.members.length, Object.keys(o.extracted_sha256).length);
      } finally {
        cab.close();
      }
    });
  }

  test('cve-2010-2801: the last frame ends in a match that runs past the folder end — accepted, as the reference decoder does', () => {
    // 524159 bytes = 15 full frames + 32639; the final match overshoots the member by a few bytes
    // but stays inside its 32768-byte frame.
    const cab = openCab(corpusPath('cabextract/bugs/cve-2010-2801-qtm-flush.cab'));
    try {
      assert.equal(cab.members[0]!.size, 524159);
      assert.ok(cab.testCabinet().ok);
    } finally {
      cab.close();
    }
  });

  const hostile: [string, string][] = [
    ['libmspack/cabd/cve-2014-9556-qtm-infinite-loop.cab', 'QUANTUM_BAD_MATCH'],
    ['libmspack/cabd/cve-2018-18584-qtm-max-size-block.cab', 'QUANTUM_BAD_MATCH'],
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
        assert.deepEqual(report.folders.map((f) => f.error?.code).filter((c) => c !== undefined), [code]);
      } finally {
        cab.close();
      }
    });
  }
});

describe('Quantum streams from the test encoder, checked by cabextract', () => {
  test('every window 10..21, three frames with a short last one', () => {
    const data = Buffer.concat([manifests(60000, 1), randomBytes(5000, 2), Buffer.alloc(12000, 0x41)]);
    for (let windowBits = 10; windowBits <= 21; windowBits++) {
      const stats = roundTrip(data, { windowBits });
      assert.ok(stats.literals > 0 && stats.match3 > 0 && stats.matchLong > 0, `selectors used at 2^${windowBits}: ${JSON.stringify(stats)}`);
    }
  });

  test('literals only (no matches), every byte value', () => {
    const data = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(40000, 3)]);
    const stats = roundTrip(data, { windowBits: 15, matches: false });
    assert.equal(stats.literals, data.length);
  });

  test('long runs: matches that overlap their own output and reach the longest length (259)', () => {
    const data = Buffer.concat([Buffer.from('ab'), Buffer.alloc(70000, 0), Buffer.from('xyz'.repeat(3000))]);
    const stats = roundTrip(data, { windowBits: 16 });
    assert.ok(stats.matchLong > 200, JSON.stringify(stats));
  });

  test('a window smaller than a frame: matches reach across the window wrap, never past the window end', () => {
    const data = manifests(100000, 4);
    roundTrip(data, { windowBits: 10 });
    roundTrip(data, { windowBits: 11 });
  });

  test('a 1 MiB folder: thousands of model rebuilds on every model', () => {
    const data = Buffer.concat([manifests(700000, 5), randomBytes(300000, 6), manifests(48576, 7)]);
    roundTrip(data, { windowBits: 21 });
  });

  test('single-byte and empty folders', () => {
    roundTrip(Buffer.from('Q'), { windowBits: 10 });
    const decoder = createQuantumDecoder(12);
    assert.equal(decoder.decodeBlock(Buffer.alloc(0), 0).length, 0);
  });
});

describe('Quantum model', () => {
  test('starts in symbol order with frequency 1 each, the total equal to the number of entries', () => {
    const m = new QuantumModel(64, 64);
    assert.equal(m.cumfreq[0], 64);
    assert.equal(m.cumfreq[64], 0);
    assert.equal(m.symbol[0], 64);
    assert.equal(m.symbol[63], 127);
  });

  test('a coded symbol gains 8; the total never stays above 3800; every slot keeps a frequency ≥ 1', () => {
    const m = new QuantumModel(0, 7);
    const next = prng(9);
    for (let i = 0; i < 20000; i++) {
      const slot = next() < 0.8 ? m.slotOf(3) : m.slotOf(Math.floor(next() * 7));
      const before = m.cumfreq[0]!;
      m.update(slot);
      assert.ok(m.cumfreq[0]! <= 3800, `total ${m.cumfreq[0]} after update ${i}`);
      if (before + 8 <= 3800) assert.equal(m.cumfreq[0], before + 8);
      for (let s = 0; s < 7; s++) assert.ok(m.cumfreq[s]! > m.cumfreq[s + 1]!, `slot ${s} lost its frequency`);
    }
    // the frequent symbol ends up first once the model has been rebuilt (sorted)
    assert.equal(m.symbol[0], 3);
    assert.deepEqual([...m.symbol.subarray(0, 7)].sort(), [0, 1, 2, 3, 4, 5, 6]);
  });

  test('position models are sized by the window: 2 slots per bit, 3- and 4-byte matches capped at 24 and 36', () => {
    const small = createQuantumModels(10);
    assert.deepEqual([small.position3.entries, small.position4.entries, small.positionLong.entries], [20, 20, 20]);
    const large = createQuantumModels(21);
    assert.deepEqual([large.position3.entries, large.position4.entries, large.positionLong.entries, large.length.entries], [24, 36, 42, 27]);
  });
});

describe('Quantum on hostile input', () => {
  const data = manifests(80000, 11);
  const payloads = encodeQuantum(data, { windowBits: 16 });
  const sizes = frameSizes(data.length);

  test('window sizes outside 2^10..2^21 are refused by the decoder factory', () => {
    for (const bits of [0, 9, 22, 31]) {
      assertThrowsCode(() => createBlockDecoder(describeCompression(2 | (4 << 4) | (bits << 8))), 'QUANTUM_BAD_WINDOW');
    }
  });

  test('a block after a short one', () => {
    const d = createQuantumDecoder(16);
    d.decodeBlock(payloads[0]!, 100);
    assertThrowsCode(() => d.decodeBlock(payloads[1]!, FRAME), 'QUANTUM_FRAME_AFTER_LAST');
  });

  test('a truncated payload is an input error, never a crash or a silent short frame', () => {
    for (const keep of [0, 1, 2, 10, Math.floor(payloads[0]!.length / 2)]) {
      // running out of input may first show as bytes that cannot be data or a match
      assertThrowsCode(() => createQuantumDecoder(16).decodeBlock(payloads[0]!.subarray(0, keep), FRAME), ['QUANTUM_INPUT_OVERRUN', 'QUANTUM_BAD_DATA', 'QUANTUM_BAD_MATCH'], 'input');
    }
  });

  test('random bytes and single-byte flips: every outcome is output of the right size or a typed error', () => {
    const next = prng(12);
    let failures = 0;
    for (let round = 0; round < 400; round++) {
      const windowBits = 10 + Math.floor(next() * 12);
      const d = createQuantumDecoder(windowBits);
      const input = round % 2 === 0 ? randomBytes(1 + Math.floor(next() * 3000), round) : Buffer.from(payloads[0]!);
      if (round % 2 === 1) input[Math.floor(next() * input.length)] ^= 1 << Math.floor(next() * 8);
      try {
        const out = d.decodeBlock(input, sizes[0]!);
        assert.equal(out.length, sizes[0]);
      } catch (e) {
        assert.ok(e instanceof CabferryError && e.code.startsWith('QUANTUM_'), String(e));
        failures++;
      }
    }
    assert.ok(failures > 100, `only ${failures} of 400 hostile inputs were refused`);
  });

  test('the decoder reads nothing past a payload but the marker and a few bytes of lookahead', () => {
    const small = encodeQuantum(Buffer.from('hello hello hello world '.repeat(1500)), { windowBits: 16 })[0]!;
    assertThrowsCode(() => createQuantumDecoder(16).decodeBlock(small.subarray(0, small.length - 8), FRAME), 'QUANTUM_INPUT_OVERRUN');
  });
});

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { openCab } from '../../src/cab/cabinet';
import { cabChecksum } from '../../src/cab/checksum';
import { dosDateTimeToString } from '../../src/cab/header';
import { CabferryError } from '../../src/errors';
import { buildCab, mszipFolderEncoder, noneFolderEncoder, type CabWriterFolder, type CabWriterOptions } from '../../scripts/lib/cab-writer';
import { corpusPath, tempDir } from '../common.helpers';

const work = tempDir('cabferry-reader-');
let counter = 0;
function writeCab(folders: CabWriterFolder[], options?: CabWriterOptions): string {
  const p = path.join(work, `t${counter++}.cab`);
  fs.writeFileSync(p, buildCab(folders, options));
  return p;
}
function patterned(size: number, seed: number): Buffer {
  const b = Buffer.alloc(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    b[i] = 0x61 + ((x >>> 16) % 11);
  }
  return b;
}
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

const A = patterned(70_000, 1);
const B = Buffer.from('second member');
const C = patterned(40_000, 3);

function twoFolders(): CabWriterFolder[] {
  return [
    { encoder: mszipFolderEncoder({ withHistory: true }), files: [{ name: 'dir\\a.bin', data: A }, { name: 'b.txt', data: B }] },
    { encoder: noneFolderEncoder(), files: [{ name: 'c.bin', data: C }] },
  ];
}

test('every combination of header/folder/data reserves reads and decodes', () => {
  for (const header of [0, 7]) {
    for (const folder of [0, 3]) {
      for (const data of [0, 5]) {
        const p = writeCab(twoFolders(), { reserve: { header, folder, data } });
        const cab = openCab(p);
        try {
          assert.equal(cab.header.cbCFHeader, header);
          assert.equal(cab.header.cbCFFolder, folder);
          assert.equal(cab.header.cbCFData, data);
          assert.equal(cab.header.headerReserveOffset, header || folder || data ? 40 : null);
          const report = cab.testCabinet({ digests: true });
          assert.ok(report.ok, JSON.stringify(report));
          assert.deepEqual(report.members.map((m) => m.sha256), [sha(A), sha(B), sha(C)]);
        } finally {
          cab.close();
        }
      }
    }
  }
});

test("libmspack's reserve_*.cab combinations all test intact", () => {
  for (const combo of ['---', '--D', '-F-', '-FD', 'H--', 'H-D', 'HF-', 'HFD']) {
    const cab = openCab(corpusPath('libmspack', 'cabd', `reserve_${combo}.cab`));
    try {
      assert.equal(cab.header.cbCFHeader > 0, combo[0] === 'H', combo);
      assert.equal(cab.header.cbCFFolder > 0, combo[1] === 'F', combo);
      assert.equal(cab.header.cbCFData > 0, combo[2] === 'D', combo);
      assert.ok(cab.testCabinet().ok, combo);
    } finally {
      cab.close();
    }
  }
});

test('CFDATA checksum: word XOR with the 1-3 tail bytes packed high first', () => {
  assert.equal(cabChecksum(Buffer.from([1, 2, 3, 4])), 0x04030201);
  assert.equal(cabChecksum(Buffer.from([1, 2, 3, 4, 0xaa])), 0x04030201 ^ 0xaa);
  assert.equal(cabChecksum(Buffer.from([1, 2, 3, 4, 0xaa, 0xbb, 0xcc])), (0x04030201 ^ 0xaabbcc) >>> 0);
  assert.equal(cabChecksum(Buffer.alloc(0), 0x12345678), 0x12345678);
  // the aligned fast path and the unaligned path agree
  const data = patterned(1001, 9);
  const unaligned = Buffer.alloc(1002).subarray(1);
  data.copy(unaligned);
  assert.equal(unaligned.byteOffset & 3, (Buffer.alloc(1002).byteOffset + 1) & 3);
  assert.equal(cabChecksum(unaligned, 7), cabChecksum(Buffer.from(data), 7));
});

test('checksums: good passes, a flipped stored checksum fails, zero means not computed', () => {
  const good = writeCab(twoFolders());
  const firstBlockOf = (p: string, folderIndex: number) => {
    const cab = openCab(p);
    try {
      return cab.folders[folderIndex]!.coffCabStart;
    } finally {
      cab.close();
    }
  };
  // flip one bit of the second folder's first stored checksum
  const bad = path.join(work, 'badsum.cab');
  const bytes = fs.readFileSync(good);
  bytes[firstBlockOf(good, 1)]! ^= 0x01;
  fs.writeFileSync(bad, bytes);
  const cab = openCab(bad);
  try {
    const r = cab.testCabinet();
    assert.equal(r.ok, false);
    assert.deepEqual(r.members.map((m) => m.ok), [true, true, false]);
    assert.equal(r.members[2]!.error!.code, 'CAB_BAD_CHECKSUM');
    assert.equal(r.members[2]!.error!.offset, firstBlockOf(bad, 1));
    assert.throws(() => [...cab.readMemberChunks(cab.members[2]!)], (e: unknown) => e instanceof CabferryError && e.code === 'CAB_BAD_CHECKSUM' && e.member === 'c.bin');
  } finally {
    cab.close();
  }
  // without checksums, a corrupted stored byte goes unnoticed (that is what csum = 0 means)
  const nosum = writeCab([{ encoder: noneFolderEncoder(), files: [{ name: 'c.bin', data: C }] }], { checksums: false });
  const raw = fs.readFileSync(nosum);
  const payloadAt = firstBlockOf(nosum, 0) + 8;
  raw[payloadAt] = raw[payloadAt]! ^ 0xff;
  fs.writeFileSync(nosum, raw);
  const cab2 = openCab(nosum);
  try {
    const r = cab2.testCabinet({ digests: true });
    assert.ok(r.ok);
    assert.notEqual(r.members[0]!.sha256, sha(C));
  } finally {
    cab2.close();
  }
});

test('UTF-8 and latin-1 names, dates and attributes', () => {
  const when = new Date(2019, 2, 12, 14, 30, 58);
  const p = writeCab([{ encoder: noneFolderEncoder(), files: [{ name: 'greek\\ΑΒΓ.txt', data: B, date: when, attributes: 0x21 }, { name: 'plain.txt', data: B }] }]);
  const cab = openCab(p);
  try {
    const [g, plain] = cab.members;
    assert.equal(g!.name, 'greek\\ΑΒΓ.txt');
    assert.equal(g!.nameIsUtf8, true);
    assert.equal(g!.attributes, 0xa1);
    assert.equal(g!.dateTime, '2019-03-12T14:30:58');
    assert.equal(plain!.nameIsUtf8, false);
  } finally {
    cab.close();
  }
  const latin = openCab(corpusPath('cabextract', 'cabs', 'encoding-latin1.cab'));
  try {
    assert.equal(latin.members[0]!.nameIsUtf8, false);
    assert.equal(latin.members[0]!.nameBytes[0], 0xa0);
    assert.equal(latin.members[0]!.name.codePointAt(0), 0xa0);
  } finally {
    latin.close();
  }
  assert.equal(dosDateTimeToString(0, 0), null); // month 0
  assert.equal(dosDateTimeToString(((2021 - 1980) << 9) | (2 << 5) | 29, 0), null); // 2021-02-29
  assert.equal(dosDateTimeToString(((2020 - 1980) << 9) | (2 << 5) | 29, (23 << 11) | (59 << 5) | 29), '2020-02-29T23:59:58');
});

test('members stream in bounded chunks; readMemberToBuffer enforces its limit', () => {
  const p = writeCab(twoFolders());
  const cab = openCab(p);
  try {
    const chunks = [...cab.readMemberChunks(cab.members[0]!)];
    assert.ok(chunks.length >= 3 && chunks.every((c) => c.length <= 32768));
    assert.deepEqual(Buffer.concat(chunks), A);
    // a member starting mid-block
    assert.deepEqual(cab.readMemberToBuffer(cab.members[1]!, 1000), B);
    assert.throws(() => cab.readMemberToBuffer(cab.members[0]!, 1000), (e: unknown) => e instanceof CabferryError && e.code === 'CAB_MEMBER_TOO_LARGE');
    assert.deepEqual(cab.findMembers('dir/a.bin').map((m) => m.index), [0]);
  } finally {
    cab.close();
  }
});

test('Authenticode reserve and trailing bytes on real cabinets', () => {
  const signed = openCab(corpusPath('msu', 'Windows6.1-KB2999226-x64.msu'));
  try {
    assert.ok(signed.signed);
    assert.deepEqual(signed.header.authenticode, { sigPos: 1010734, sigLen: 15688, problem: null });
    assert.equal(signed.header.trailingBytes, 0);
  } finally {
    signed.close();
  }
  const extra = openCab(corpusPath('ms-unsigned', 'office-c2r', '16.0.17928.20148_FRE.cab'));
  try {
    assert.equal(extra.signed, false);
    assert.equal(extra.header.trailingBytes, 46);
    assert.ok(extra.testCabinet().ok);
  } finally {
    extra.close();
  }
});

test('truncated data, oversized members and spanned members fail per member with precise errors', () => {
  const full = fs.readFileSync(writeCab(twoFolders()));
  const cut = path.join(work, 'cut.cab');
  fs.writeFileSync(cut, full.subarray(0, full.length - 1000));
  const cab = openCab(cut);
  try {
    const r = cab.testCabinet();
    assert.deepEqual(r.members.map((m) => m.ok), [true, true, false]);
    assert.equal(r.members[2]!.error!.code, 'CAB_TRUNCATED_DATA');
  } finally {
    cab.close();
  }
  // a member claiming more bytes than its folder's blocks can hold (decompression bomb guard)
  const bomb = Buffer.from(full);
  const cab2 = openCab(writeCab(twoFolders()));
  const entry = cab2.members[2]!.entryOffset;
  cab2.close();
  bomb.writeUInt32LE(0x7fffffff, entry);
  const bombPath = path.join(work, 'bomb.cab');
  fs.writeFileSync(bombPath, bomb);
  const cab3 = openCab(bombPath);
  try {
    assert.throws(() => cab3.readMemberToBuffer(cab3.members[2]!, Infinity), (e: unknown) => e instanceof CabferryError && e.code === 'CAB_MEMBER_BEYOND_FOLDER');
  } finally {
    cab3.close();
  }
  const part = openCab(corpusPath('cabextract', 'cabs', 'split-1.cab'));
  try {
    const spanned = part.members.find((m) => m.continuation !== 'none')!;
    assert.equal(spanned.continuation, 'to-next');
    assert.throws(() => [...part.readMemberChunks(spanned)], (e: unknown) => e instanceof CabferryError && e.code === 'CAB_SPANNED_MEMBER' && /Split-2\.CAB/.test(e.message));
  } finally {
    part.close();
  }
});

test('mutated cabinets never crash: every failure is a typed input error', () => {
  const base = buildCab(twoFolders(), { reserve: { data: 2 } });
  let x = 12345;
  const rand = (n: number) => {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    return x % n;
  };
  const p = path.join(work, 'mut.cab');
  for (let round = 0; round < 300; round++) {
    const m = Buffer.from(base);
    const flips = 1 + rand(4);
    // bias mutations toward the structures (first 200 bytes) where parsing decisions are made
    for (let i = 0; i < flips; i++) m[rand(3) === 0 ? rand(m.length) : rand(200)] = rand(256);
    fs.writeFileSync(p, rand(5) === 0 ? m.subarray(0, rand(m.length)) : m);
    try {
      const cab = openCab(p);
      try {
        cab.testCabinet({ digests: true });
      } finally {
        cab.close();
      }
    } catch (e) {
      assert.ok(e instanceof CabferryError && e.kind === 'input', `round ${round}: ${String(e)}`);
    }
  }
});

test('mutated LZX cabinets (libarchive test data and a real Microsoft cabinet) never crash', () => {
  let x = 777;
  const rand = (n: number) => {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    return x % n;
  };
  const p = path.join(work, 'mut-lzx.cab');
  const sources: [string, number][] = [
    [corpusPath('libarchive', 'test_read_format_cab_3.cab'), 200],
    [corpusPath('ms-signed', 'office-c2r-16.0.17928.20148', 'v64.cab'), 40],
  ];
  for (const [source, rounds] of sources) {
    const base = fs.readFileSync(source);
    const cab = openCab(source);
    const dataStart = cab.folders[0]!.coffCabStart;
    cab.close();
    for (let round = 0; round < rounds; round++) {
      const m = Buffer.from(base);
      // corrupt the compressed stream (and now and then a CFDATA header); checksums off so the decoder sees it
      for (let i = 0, flips = 1 + rand(8); i < flips; i++) m[dataStart + rand(m.length - dataStart)] = rand(256);
      fs.writeFileSync(p, m);
      try {
        const c = openCab(p);
        try {
          c.forEachMemberData(c.members, { onData: () => {}, done: () => {} }, { verifyChecksums: false, wholeFolders: true });
        } finally {
          c.close();
        }
      } catch (e) {
        assert.ok(e instanceof CabferryError && e.kind === 'input', `${path.basename(source)} round ${round}: ${String(e)}`);
      }
    }
  }
});

/**
 * Salvage (`test --salvage`, `extract --salvage`): a damaged data block in the middle of a NONE,
 * an MSZIP and an LZX folder, with members before, across and after it. What each method can
 * recover is exact, not guessed: stored blocks stand alone; MSZIP after a loss is decoded twice
 * with the lost bytes filled differently, so a block is trusted exactly when none of its bytes came
 * from lost output (and says so when some did); LZX cannot resume. Damaged members are never
 * written; the verdict is exit 1.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { test } from 'node:test';
import { buildCab, mszipFolderEncoder, noneFolderEncoder, type CabWriterOptions, type FolderEncoder } from '../../scripts/lib/cab-writer';
import { lzxFolderEncoder } from '../../scripts/lib/lzx-encoder';
import { openCab } from '../../src/cab/cabinet';
import { cfdataChecksum } from '../../src/cab/checksum';
import { extractMembers } from '../../src/cab/extract';
import type { CabinetTestReport } from '../../src/cab/member-reader';
import { spawnSync } from 'node:child_process';
import { hasTool, runCli, tempDir } from '../common.helpers';

const work = tempDir('cabferry-salvage-');
let counter = 0;
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Compressible text with some variety, so MSZIP and LZX blocks really use their history. */
function text(size: number, seed: number): Buffer {
  const words = ['update', 'servicing', 'stack', 'rollup', 'sha2', 'reboot', 'payload', 'cabinet', 'folder', 'block'];
  const parts: string[] = [];
  let x = seed;
  let n = 0;
  while (n < size) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    const w = `${words[(x >>> 16) % words.length]} ${x % 997} `;
    parts.push(w);
    n += w.length;
  }
  return Buffer.from(parts.join('').slice(0, size), 'latin1');
}

/*
 * One folder of five 32 KiB blocks (163840 bytes); block 2 [65536, 98304) is the one damaged.
 *   A [0, 50000)          blocks 0-1  before the damage
 *   B [50000, 70000)      blocks 1-2  runs into it
 *   C [70000, 90000)      block 2     inside it
 *   D [90000, 131072)     blocks 2-3  runs out of it
 *   E [131072, 150000)    block 4     after it
 *   F [150000, 163840)    block 4     after it
 */
const BLOCK = 32768;
const DAMAGED_BLOCK = 2;
const A = text(50_000, 1);
const B = text(20_000, 2);
const C = text(20_000, 3);
const D = text(41_072, 4);
const E = text(18_928, 5);
const F = text(13_840, 6);
const files = [
  { name: 'A.txt', data: A },
  { name: 'B.txt', data: B },
  { name: 'C.txt', data: C },
  { name: 'D.txt', data: D },
  { name: 'E.txt', data: E },
  { name: 'F.txt', data: F },
];
assert.equal(files.reduce((n, f) => n + f.data.length, 0), 5 * BLOCK);

/**
 * MSZIP that carries its history into every block except those in `independent`, which are
 * compressed without a dictionary (as gcab does for all blocks): after a lost block, such a
 * block decodes on its own and everything after it can be trusted again.
 */
function mszipWithIndependentBlocks(independent: Set<number>): FolderEncoder {
  return {
    typeCompress: 1,
    encodeFolder(frames) {
      let history = Buffer.alloc(0);
      return frames.map((frame, k) => {
        const deflated = history.length > 0 && !independent.has(k) ? zlib.deflateRawSync(frame, { dictionary: history, level: 9 }) : zlib.deflateRawSync(frame, { level: 9 });
        history = Buffer.concat([history, frame]).subarray(-BLOCK);
        return Buffer.concat([Buffer.from('CK', 'latin1'), deflated]);
      });
    },
  };
}

/** File offsets of each CFDATA header of folder 0 (a cabinet without reserves). */
function blockOffsets(cab: Buffer): number[] {
  const coffCabStart = cab.readUInt32LE(36);
  const cCFData = cab.readUInt16LE(40);
  const out: number[] = [];
  let pos = coffCabStart;
  for (let k = 0; k < cCFData; k++) {
    out.push(pos);
    pos += 8 + cab.readUInt16LE(pos + 4);
  }
  return out;
}

type Damage = 'checksum' | 'undecodable' | 'size-and-checksum';

/**
 * The cabinet with block 2 damaged:
 * - checksum: one payload byte flipped, the stored checksum left as it was
 * - undecodable: the payload no longer decodes (MSZIP: its "CK" broken) but the checksum is recomputed, so only decoding notices
 * - size-and-checksum: cbUncomp changed, checksum left stale (where the rest of the folder belongs is then unknown)
 */
function damagedCab(encoder: FolderEncoder, damage: Damage, options: CabWriterOptions = {}): string {
  const cab = buildCab([{ encoder, files }], options);
  const at = blockOffsets(cab)[DAMAGED_BLOCK]!;
  const cbData = cab.readUInt16LE(at + 4);
  const payload = cab.subarray(at + 8, at + 8 + cbData);
  if (damage === 'checksum') payload[Math.floor(cbData / 2)]! ^= 0x5a;
  if (damage === 'undecodable') {
    payload[0] = 0x58; // "XK"
    if (cab.readUInt32LE(at) !== 0) cab.writeUInt32LE(cfdataChecksum(payload, cbData, cab.readUInt16LE(at + 6)), at);
  }
  if (damage === 'size-and-checksum') cab.writeUInt16LE(BLOCK - 100, at + 6);
  const p = path.join(work, `damaged-${counter++}.cab`);
  fs.writeFileSync(p, cab);
  return p;
}

function salvageReport(p: string, salvage = true): CabinetTestReport {
  const cab = openCab(p);
  try {
    return cab.testCabinet({ digests: true, salvage });
  } finally {
    cab.close();
  }
}

/** name → 'ok' (and the digest matches the original) or the error code, plus the block blamed. */
function outcome(report: CabinetTestReport): Record<string, string> {
  const byName = Object.fromEntries(files.map((f) => [f.name, f.data]));
  const out: Record<string, string> = {};
  for (const m of report.members) {
    if (m.ok) {
      assert.equal(m.sha256, sha(byName[m.name]!), `${m.name}: a member reported intact must be intact`);
      out[m.name] = 'ok';
    } else out[m.name] = `${m.error!.code}${m.damage !== undefined ? `@${m.damage.block}` : ''}`;
  }
  return out;
}

test('NONE: the damaged block costs exactly the members it touches', () => {
  const report = salvageReport(damagedCab(noneFolderEncoder(), 'checksum'));
  assert.deepEqual(outcome(report), { 'A.txt': 'ok', 'B.txt': 'CAB_BAD_CHECKSUM@2', 'C.txt': 'CAB_BAD_CHECKSUM@2', 'D.txt': 'CAB_BAD_CHECKSUM@2', 'E.txt': 'ok', 'F.txt': 'ok' });
  assert.equal(report.ok, false);
  assert.equal(report.salvage, true);
  assert.deepEqual(report.damaged.map((d) => [d.name, d.folder, d.block, d.code]), [
    ['B.txt', 0, 2, 'CAB_BAD_CHECKSUM'],
    ['C.txt', 0, 2, 'CAB_BAD_CHECKSUM'],
    ['D.txt', 0, 2, 'CAB_BAD_CHECKSUM'],
  ]);
  assert.deepEqual(report.folders[0]!.lost!.map((l) => [l.block, l.folderOffset, l.length, l.code]), [[2, 2 * BLOCK, BLOCK, 'CAB_BAD_CHECKSUM']]);
  assert.equal(report.folders[0]!.blocks, 4, 'the other four blocks decoded');
});

test('without --salvage nothing changes: the folder stops at the damaged block', () => {
  const report = salvageReport(damagedCab(noneFolderEncoder(), 'checksum'), false);
  assert.deepEqual(outcome(report), { 'A.txt': 'ok', 'B.txt': 'CAB_BAD_CHECKSUM', 'C.txt': 'CAB_BAD_CHECKSUM', 'D.txt': 'CAB_BAD_CHECKSUM', 'E.txt': 'CAB_BAD_CHECKSUM', 'F.txt': 'CAB_BAD_CHECKSUM' });
  assert.equal(report.salvage, false);
  assert.equal(report.folders[0]!.error!.code, 'CAB_BAD_CHECKSUM');
});

test('MSZIP with independent blocks (as gcab writes them): everything after the damaged block is recovered', () => {
  const report = salvageReport(damagedCab(mszipFolderEncoder({ withHistory: false }), 'checksum'));
  assert.deepEqual(outcome(report), { 'A.txt': 'ok', 'B.txt': 'CAB_BAD_CHECKSUM@2', 'C.txt': 'CAB_BAD_CHECKSUM@2', 'D.txt': 'CAB_BAD_CHECKSUM@2', 'E.txt': 'ok', 'F.txt': 'ok' });
});

test('MSZIP with history: a block that needs the lost output fails and says so; the first block that does not, and all after it, are recovered', () => {
  // block 3 refers back into block 2, block 4 was compressed on its own
  const report = salvageReport(damagedCab(mszipWithIndependentBlocks(new Set([4])), 'checksum'));
  assert.deepEqual(outcome(report), { 'A.txt': 'ok', 'B.txt': 'CAB_BAD_CHECKSUM@2', 'C.txt': 'CAB_BAD_CHECKSUM@2', 'D.txt': 'CAB_BAD_CHECKSUM@2', 'E.txt': 'ok', 'F.txt': 'ok' });
  assert.deepEqual(report.folders[0]!.lost!.map((l) => [l.block, l.code]), [
    [2, 'CAB_BAD_CHECKSUM'],
    [3, 'CAB_SALVAGE_DEPENDS_ON_LOST'],
  ]);
  assert.match(report.folders[0]!.lost![1]!.message, /copies bytes from output lost with damaged block 2/);

  // every block refers back: nothing after the damage can be trusted, and each member says why
  const chained = salvageReport(damagedCab(mszipFolderEncoder({ withHistory: true }), 'checksum'));
  assert.deepEqual(outcome(chained), {
    'A.txt': 'ok',
    'B.txt': 'CAB_BAD_CHECKSUM@2',
    'C.txt': 'CAB_BAD_CHECKSUM@2',
    'D.txt': 'CAB_BAD_CHECKSUM@2',
    'E.txt': 'CAB_SALVAGE_DEPENDS_ON_LOST@4',
    'F.txt': 'CAB_SALVAGE_DEPENDS_ON_LOST@4',
  });
});

test('MSZIP with history: a block that copies only exact bytes of a partly tainted block is exact, byte for byte', () => {
  // block 3 = ASCII text (copies from block 2, so tainted) then the same kind of text with every
  // byte's high bit set; block 4 is high-bit text only, so it can copy from block 3's second half
  // and never from anything lost
  const lower = (n: number, seed: number): Buffer => text(n, seed);
  const upper = (n: number, seed: number): Buffer => Buffer.from(text(n, seed).map((b) => b | 0x80));
  const mixed = [
    { name: 'A.txt', data: lower(50_000, 1) },
    { name: 'B.txt', data: lower(20_000, 2) },
    { name: 'C.txt', data: lower(20_000, 3) },
    { name: 'D.txt', data: Buffer.concat([lower(3 * BLOCK + BLOCK / 2 - 90_000, 4), upper(BLOCK / 2, 5)]) },
    { name: 'E.txt', data: upper(18_928, 6) },
    { name: 'F.txt', data: upper(13_840, 7) },
  ];
  const cab = buildCab([{ encoder: mszipFolderEncoder({ withHistory: true }), files: mixed }]);
  const offsets = blockOffsets(cab);
  // block 4 really needs its history: on its own it does not inflate
  const block4 = cab.subarray(offsets[4]! + 8 + 2, offsets[4]! + 8 + cab.readUInt16LE(offsets[4]! + 4));
  assert.throws(() => zlib.inflateRawSync(block4), /invalid distance too far back/);
  cab[offsets[DAMAGED_BLOCK]! + 8 + 200]! ^= 0x5a;
  const p = path.join(work, 'partly-tainted.cab');
  fs.writeFileSync(p, cab);
  const report = salvageReport(p);
  const byName = Object.fromEntries(mixed.map((f) => [f.name, f.data]));
  assert.deepEqual(
    report.members.map((m) => [m.name, m.ok ? (m.sha256 === sha(byName[m.name]!) ? 'ok' : 'WRONG BYTES') : `${m.error!.code}@${m.damage!.block}`]),
    [
      ['A.txt', 'ok'],
      ['B.txt', 'CAB_BAD_CHECKSUM@2'],
      ['C.txt', 'CAB_BAD_CHECKSUM@2'],
      ['D.txt', 'CAB_BAD_CHECKSUM@2'],
      ['E.txt', 'ok'],
      ['F.txt', 'ok'],
    ],
  );
  assert.deepEqual(report.folders[0]!.lost!.map((l) => [l.block, l.code]), [
    [2, 'CAB_BAD_CHECKSUM'],
    [3, 'CAB_SALVAGE_DEPENDS_ON_LOST'],
  ]);
});

test('random damage in random MSZIP folders: a member salvage calls intact is always byte for byte right', () => {
  let x = 99;
  const rnd = (n: number): number => {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    return (x >>> 8) % n;
  };
  let recovered = 0;
  for (let trial = 0; trial < 24; trial++) {
    // members of mixed text: ASCII, high-bit and some incompressible bytes, so blocks copy from each other unevenly
    const members = Array.from({ length: 3 + rnd(6) }, (_, k) => {
      const n = 2_000 + rnd(40_000);
      const kind = rnd(3);
      const data = kind === 0 ? text(n, trial * 10 + k) : kind === 1 ? Buffer.from(text(n, trial * 10 + k).map((b) => b | 0x80)) : Buffer.from(text(n, k).map((b, i) => (b * 31 + i * 7) & 0xff));
      return { name: `m${k}.bin`, data };
    });
    const cab = buildCab([{ encoder: mszipFolderEncoder({ withHistory: true }), files: members }]);
    const offsets = blockOffsets(cab);
    const damaged = rnd(offsets.length);
    const at = offsets[damaged]!;
    cab[at + 8 + 2 + rnd(cab.readUInt16LE(at + 4) - 2)]! ^= 1 << rnd(8);
    const p = path.join(work, `random-${trial}.cab`);
    fs.writeFileSync(p, cab);
    const report = salvageReport(p);
    let start = 0;
    report.members.forEach((m, i) => {
      const original = members[i]!.data;
      if (m.ok) {
        assert.equal(m.sha256, sha(original), `trial ${trial}: ${m.name} called intact with other bytes`);
        if (start >= (damaged + 1) * BLOCK) recovered++;
      }
      if (start + original.length <= damaged * BLOCK) assert.ok(m.ok, `trial ${trial}: ${m.name} lies before the damage`);
      start += original.length;
    });
  }
  assert.ok(recovered > 0, 'some members after a damaged block were recovered');
});

test('MSZIP: a block that does not decode (checksum intact) is damaged the same way, and decoding resumes after it', () => {
  const report = salvageReport(damagedCab(mszipFolderEncoder({ withHistory: false }), 'undecodable'));
  assert.deepEqual(outcome(report), { 'A.txt': 'ok', 'B.txt': 'MSZIP_BAD_SIGNATURE@2', 'C.txt': 'MSZIP_BAD_SIGNATURE@2', 'D.txt': 'MSZIP_BAD_SIGNATURE@2', 'E.txt': 'ok', 'F.txt': 'ok' });
});

test('LZX: members before the damage are intact, everything from the damaged block on is lost, with the reason', () => {
  const encoder = lzxFolderEncoder({ windowBits: 16, e8: false, blockType: 'verbatim' });
  const report = salvageReport(damagedCab(encoder, 'checksum'));
  assert.deepEqual(outcome(report), {
    'A.txt': 'ok',
    'B.txt': 'CAB_BAD_CHECKSUM@2',
    'C.txt': 'CAB_BAD_CHECKSUM@2',
    'D.txt': 'CAB_BAD_CHECKSUM@2',
    'E.txt': 'CAB_SALVAGE_NO_RESYNC@3',
    'F.txt': 'CAB_SALVAGE_NO_RESYNC@3',
  });
  assert.deepEqual(report.folders[0]!.lost!.map((l) => [l.block, l.length, l.code]), [
    [2, BLOCK, 'CAB_BAD_CHECKSUM'],
    [3, null, 'CAB_SALVAGE_NO_RESYNC'],
  ]);
  assert.match(report.damaged[3]!.reason, /nothing after damaged data block 2 can be decoded/);
});

test('where the rest of the folder belongs must be known: an unvouched size or a missing checksum stops salvage there', () => {
  // block 2's cbUncomp altered: the checksum fails, and the size is not the 32 KiB of a middle block
  const resized = salvageReport(damagedCab(noneFolderEncoder(), 'size-and-checksum'));
  assert.deepEqual(outcome(resized), {
    'A.txt': 'ok',
    'B.txt': 'CAB_BAD_CHECKSUM@2',
    'C.txt': 'CAB_BAD_CHECKSUM@2',
    'D.txt': 'CAB_BAD_CHECKSUM@2',
    'E.txt': 'CAB_SALVAGE_POSITION_UNKNOWN@3',
    'F.txt': 'CAB_SALVAGE_POSITION_UNKNOWN@3',
  });
  // a cabinet without checksums: nothing confirms that block 3 starts where block 2's header says
  const unchecked = salvageReport(damagedCab(mszipFolderEncoder({ withHistory: false }), 'undecodable', { checksums: false }));
  assert.deepEqual(outcome(unchecked), {
    'A.txt': 'ok',
    'B.txt': 'MSZIP_BAD_SIGNATURE@2',
    'C.txt': 'MSZIP_BAD_SIGNATURE@2',
    'D.txt': 'MSZIP_BAD_SIGNATURE@2',
    'E.txt': 'CAB_SALVAGE_POSITION_UNKNOWN@3',
    'F.txt': 'CAB_SALVAGE_POSITION_UNKNOWN@3',
  });
});

test('a truncated cabinet salvages what comes before the cut', () => {
  const cab = buildCab([{ encoder: noneFolderEncoder(), files }]);
  const p = path.join(work, 'truncated.cab');
  fs.writeFileSync(p, cab.subarray(0, blockOffsets(cab)[3]! + 100));
  assert.deepEqual(outcome(salvageReport(p)), {
    'A.txt': 'ok',
    'B.txt': 'ok',
    'C.txt': 'ok',
    'D.txt': 'CAB_TRUNCATED_DATA@3',
    'E.txt': 'CAB_TRUNCATED_DATA@3',
    'F.txt': 'CAB_TRUNCATED_DATA@3',
  });
});

test('extract --salvage writes every intact member and none of the damaged ones, leaving no temporary file', () => {
  const p = damagedCab(noneFolderEncoder(), 'checksum');
  const dir = path.join(work, 'salvaged');
  const cab = openCab(p);
  try {
    const report = extractMembers(cab, dir, { salvage: true });
    assert.equal(report.ok, false);
    assert.deepEqual(report.damaged.map((d) => [d.name, d.block, d.code]), [
      ['B.txt', 2, 'CAB_BAD_CHECKSUM'],
      ['C.txt', 2, 'CAB_BAD_CHECKSUM'],
      ['D.txt', 2, 'CAB_BAD_CHECKSUM'],
    ]);
    assert.deepEqual(report.members.filter((m) => !m.ok).map((m) => m.damage), [
      { folder: 0, block: 2 },
      { folder: 0, block: 2 },
      { folder: 0, block: 2 },
    ]);
  } finally {
    cab.close();
  }
  assert.deepEqual(fs.readdirSync(dir).sort(), ['A.txt', 'E.txt', 'F.txt']);
  for (const f of files.filter((f) => ['A.txt', 'E.txt', 'F.txt'].includes(f.name))) assert.deepEqual(fs.readFileSync(path.join(dir, f.name)), f.data);
});

test("cabextract -f, for comparison: it writes the damaged member's corrupt bytes and exits 0; salvage writes the same intact members and not that one", { skip: !hasTool('cabextract') && 'cabextract not installed' }, () => {
  const p = damagedCab(noneFolderEncoder(), 'checksum');
  const theirs = path.join(work, 'cabextract-f');
  const r = spawnSync('cabextract', ['-f', '-q', '-d', theirs, p], { encoding: 'utf8' });
  assert.equal(r.status, 0, 'cabextract -f reports success');
  assert.match(r.stderr, /bad block checksum/);
  const wrong = files.filter((f) => !fs.readFileSync(path.join(theirs, f.name)).equals(f.data)).map((f) => f.name);
  assert.equal(wrong.length, 1, 'exactly one file on disk has corrupt bytes');
  const ours = path.join(work, 'salvage-vs-f');
  assert.equal(runCli(['extract', '--salvage', p, '-o', ours]).status, 1);
  assert.ok(!fs.existsSync(path.join(ours, wrong[0]!)), 'the corrupt member is not written');
  for (const name of fs.readdirSync(ours)) assert.deepEqual(fs.readFileSync(path.join(ours, name)), fs.readFileSync(path.join(theirs, name)), name);
});

test('CLI: --salvage exits 1 and names the damaged members; without it exit 3 as before; intact is 0', () => {
  const p = damagedCab(mszipFolderEncoder({ withHistory: false }), 'checksum');
  const t = runCli(['test', '--salvage', '--json', p]);
  assert.equal(t.status, 1, t.stderr);
  const doc = JSON.parse(t.stdout);
  assert.equal(doc.ok, false);
  assert.deepEqual(doc.files[0].damaged.map((d: { name: string; folder: number; block: number; code: string }) => [d.name, d.folder, d.block, d.code]), [
    ['B.txt', 0, 2, 'CAB_BAD_CHECKSUM'],
    ['C.txt', 0, 2, 'CAB_BAD_CHECKSUM'],
    ['D.txt', 0, 2, 'CAB_BAD_CHECKSUM'],
  ]);
  const human = runCli(['test', '--salvage', p]);
  assert.equal(human.status, 1);
  assert.match(human.stdout, /DAMAGED \(3 of 6 member\(s\) damaged, 3 intact/);
  assert.match(human.stdout, /C\.txt: .*checksum mismatch.* \(folder 0, block 2\) \[CAB_BAD_CHECKSUM\]/);
  // the same counts without --salvage: only the verdict (exit 3, malformed input) differs
  const strict = runCli(['test', p]);
  assert.equal(strict.status, 3);
  assert.match(strict.stdout, /CORRUPT \(3 of 6 member\(s\) damaged, 3 intact/);
  const strictJson = JSON.parse(runCli(['test', '--json', p]).stdout);
  assert.deepEqual(strictJson.files[0].damaged, doc.files[0].damaged);

  const dir = path.join(work, 'cli-salvaged');
  const x = runCli(['extract', '--salvage', p, '-o', dir]);
  assert.equal(x.status, 1, x.stderr);
  assert.equal(x.stderr.trim().split('\n').length, 3, 'one line per damaged member');
  assert.match(x.stdout, /extracted 3 of 6 member/);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['A.txt', 'E.txt', 'F.txt']);
  assert.equal(runCli(['extract', p, '-o', path.join(work, 'cli-plain')]).status, 3);

  const intact = path.join(work, 'intact.cab');
  fs.writeFileSync(intact, buildCab([{ encoder: noneFolderEncoder(), files }]));
  assert.equal(runCli(['test', '--salvage', intact]).status, 0);
  assert.equal(runCli(['extract', '--salvage', intact, '-o', path.join(work, 'cli-intact')]).status, 0);
});

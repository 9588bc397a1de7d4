/**
 * Embedded-cabinet search (src/cab/search.ts, `--search`): cabinets found anywhere in a file,
 * read with their own offsets, decoys skipped byte by byte, signatures across read chunks, a
 * found cabinet skipped as a whole, and extraction of several cabinets into one directory.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { buildCab, mszipFolderEncoder, noneFolderEncoder } from '../../scripts/lib/cab-writer';
import { extractCabinets } from '../../src/cab/extract';
import { findEmbeddedCabinets, plausibleHeaderProblem, searchCabinets } from '../../src/cab/search';
import { CabferryError } from '../../src/errors';
import { RandomAccessFile } from '../../src/io/random-access-file';
import { spawnSync } from 'node:child_process';
import { corpusPath, hasTool, runCli, tempDir } from '../common.helpers';

const work = tempDir('cabferry-search-');
let counter = 0;
function writeFile(data: Buffer): string {
  const p = path.join(work, `f${counter++}.bin`);
  fs.writeFileSync(p, data);
  return p;
}
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Seeded filler that never contains "MSCF" (so the only signatures are the ones a test puts in). */
function filler(size: number, seed: number): Buffer {
  const b = Buffer.alloc(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    b[i] = (x >>> 16) & 0xff;
  }
  for (let at = b.indexOf('MSCF'); at >= 0; at = b.indexOf('MSCF')) b[at] = 0;
  return b;
}

/** Compressible text, so MSZIP folders carry history across blocks. */
function text(size: number, seed: number): Buffer {
  const b = Buffer.alloc(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    b[i] = 0x61 + ((x >>> 16) % 7);
  }
  return b;
}

const hello = Buffer.from('hello from the first cabinet\n');
const bigger = filler(100_000, 7);
const cabOne = buildCab([{ encoder: noneFolderEncoder(), files: [{ name: 'one\\hello.txt', data: hello }] }]);
const cabTwo = buildCab([{ encoder: mszipFolderEncoder({ withHistory: true }), files: [{ name: 'two.bin', data: bigger }, { name: 'one\\hello.txt', data: hello }] }]);

test('an SFX-like file: both cabinets found at their offsets, read with offsets relative to themselves', () => {
  const head = filler(5000, 1);
  const middle = filler(777, 2);
  const tail = filler(300, 3);
  const file = writeFile(Buffer.concat([head, cabOne, middle, cabTwo, tail]));
  const search = searchCabinets(file);
  try {
    assert.deepEqual(
      search.cabinets.map((c) => [c.offset, c.length]),
      [
        [head.length, cabOne.length],
        [head.length + cabOne.length + middle.length, cabTwo.length],
      ],
    );
    assert.deepEqual(search.skipped, []);
    const [first, second] = search.cabinets.map((c) => c.cabinet);
    // stored offsets are the cabinet's own: its folder table starts right after its 36-byte header
    assert.equal(first!.header.folderTableOffset, 36);
    assert.equal(first!.header.fileSize, cabOne.length);
    assert.equal(first!.header.trailingBytes, 0);
    assert.equal(first!.path, `${file}@${head.length}`);
    assert.deepEqual(first!.members.map((m) => m.name), ['one\\hello.txt']);
    const report = second!.testCabinet({ digests: true });
    assert.ok(report.ok, JSON.stringify(report));
    assert.deepEqual(report.members.map((m) => m.sha256), [sha(bigger), sha(hello)]);
  } finally {
    search.close();
  }
  // without --search the same file is not a cabinet, exactly as before
  const plain = runCli(['list', file]);
  assert.equal(plain.status, 3);
  assert.match(plain.stderr, /CAB_BAD_SIGNATURE/);
});

test('a decoy MSCF is skipped and the scan goes on from the next byte, even inside the range the decoy claimed', () => {
  // decoy 1: fails the fixed-header check (version 0.0)
  const badVersion = Buffer.from(cabOne.subarray(0, 36));
  badVersion.writeUInt16LE(0, 24);
  // decoy 2: a plausible fixed header claiming the next 400 bytes, whose structure does not read
  // (it says a previous-cabinet name follows, and the name is empty); the real cabinet starts 60 bytes later
  const plausible = Buffer.alloc(60);
  plausible.write('MSCF', 0, 'latin1');
  plausible.writeUInt32LE(400, 8);
  plausible.writeUInt32LE(60, 16);
  plausible.writeUInt8(3, 24);
  plausible.writeUInt8(1, 25);
  plausible.writeUInt16LE(1, 26);
  plausible.writeUInt16LE(1, 28);
  plausible.writeUInt16LE(0x0001, 30); // PREV_CABINET
  assert.equal(plausibleHeaderProblem(plausible.subarray(0, 36), 1000), null, 'decoy 2 must get past the cheap checks');
  const file = writeFile(Buffer.concat([filler(10, 4), badVersion, filler(10, 5), plausible, cabOne, filler(500, 6)]));
  const fh = RandomAccessFile.open(file);
  try {
    const { cabinets, skipped } = findEmbeddedCabinets(fh);
    assert.deepEqual(cabinets.map((c) => c.offset), [10 + 36 + 10 + 60]);
    assert.deepEqual(
      skipped.map((s) => [s.offset, s.code]),
      [
        [10, 'CAB_SEARCH_VERSION'],
        [10 + 36 + 10, 'CAB_BAD_STRING'],
      ],
    );
  } finally {
    fh.close();
  }
});

test('a signature straddling the read chunks is found, and the scan reads only chunk-sized pieces', () => {
  for (const chunkSize of [4, 5, 16, 64]) {
    for (let at = 58; at <= 70; at++) {
      const file = writeFile(Buffer.concat([filler(at, at), cabOne, filler(33, 9)]));
      const fh = RandomAccessFile.open(file);
      const reads: number[] = [];
      const readUpTo = fh.readUpTo.bind(fh);
      fh.readUpTo = (offset: number, length: number) => {
        reads.push(length);
        return readUpTo(offset, length);
      };
      try {
        const { cabinets } = findEmbeddedCabinets(fh, { chunkSize });
        assert.deepEqual(cabinets.map((c) => c.offset), [at], `chunk ${chunkSize}, cabinet at ${at}`);
        assert.ok(Math.max(...reads) <= Math.max(chunkSize, 256), `no read beyond a chunk or a name (${Math.max(...reads)})`);
      } finally {
        fh.close();
      }
    }
  }
});

test('a cabinet stored inside a found cabinet is skipped over with it; a cabinet at offset 0 is found too', () => {
  const outer = buildCab([{ encoder: noneFolderEncoder(), files: [{ name: 'inner.cab', data: cabOne }, { name: 'after.txt', data: Buffer.from('after') }] }]);
  const file = writeFile(Buffer.concat([outer, filler(64, 11), cabTwo]));
  const search = searchCabinets(file);
  try {
    assert.deepEqual(search.cabinets.map((c) => c.offset), [0, outer.length + 64]);
    assert.deepEqual(search.cabinets[0]!.cabinet.members.map((m) => m.name), ['inner.cab', 'after.txt']);
  } finally {
    search.close();
  }
});

test('a signed cabinet embedded in other bytes reads as signed, its signature inside its length', () => {
  const signed = fs.readFileSync(corpusPath('ms-signed', 'kb958830-inner', 'WSUSSCAN.cab'));
  const file = writeFile(Buffer.concat([filler(4096, 12), signed, filler(100, 13)]));
  const search = searchCabinets(file);
  try {
    assert.equal(search.cabinets.length, 1);
    const [found] = search.cabinets;
    assert.equal(found!.offset, 4096);
    assert.equal(found!.length, signed.length);
    assert.equal(found!.cabinet.signed, true);
    assert.equal(found!.cabinet.header.trailingBytes, 0);
  } finally {
    search.close();
  }
});

test('decoys that cost more reading than the budget stop the search with an error rather than a quadratic scan', () => {
  // each decoy: a plausible header, one folder, two good file entries, then one naming folder 5
  const decoy = (): Buffer => {
    const entry = (iFolder: number): Buffer => {
      const e = Buffer.alloc(18);
      e.writeUInt32LE(1, 0);
      e.writeUInt16LE(iFolder, 8);
      e.write('a', 16, 'latin1');
      return e;
    };
    const head = Buffer.alloc(44);
    head.write('MSCF', 0, 'latin1');
    head.writeUInt32LE(200, 8);
    head.writeUInt32LE(44, 16);
    head.writeUInt8(3, 24);
    head.writeUInt8(1, 25);
    head.writeUInt16LE(1, 26);
    head.writeUInt16LE(3, 28);
    return Buffer.concat([head, entry(0), entry(0), entry(5), filler(200 - 44 - 54, 30)]);
  };
  const file = writeFile(Buffer.concat([decoy(), decoy(), decoy(), decoy(), cabOne]));
  const fh = RandomAccessFile.open(file);
  try {
    const all = findEmbeddedCabinets(fh);
    assert.deepEqual(all.skipped.map((s) => s.code), ['CAB_BAD_FOLDER_INDEX', 'CAB_BAD_FOLDER_INDEX', 'CAB_BAD_FOLDER_INDEX', 'CAB_BAD_FOLDER_INDEX']);
    assert.deepEqual(all.cabinets.map((c) => c.offset), [800]);
    assert.throws(() => findEmbeddedCabinets(fh, { failedCandidateBudget: 250 }), (e: unknown) => e instanceof CabferryError && e.code === 'CAB_SEARCH_TOO_MANY_DECOYS');
  } finally {
    fh.close();
  }
});

test('no cabinet anywhere is one typed error saying what was tried', () => {
  const none = writeFile(filler(1000, 14));
  assert.throws(() => searchCabinets(none), (e: unknown) => e instanceof CabferryError && e.code === 'CAB_SEARCH_NOT_FOUND' && /no MSCF signature/.test(e.message));
  const onlyDecoy = writeFile(Buffer.concat([filler(10, 15), Buffer.from('MSCF'), filler(50, 16)]));
  assert.throws(() => searchCabinets(onlyDecoy), (e: unknown) => e instanceof CabferryError && e.code === 'CAB_SEARCH_NOT_FOUND' && /1 MSCF signature\(s\) did not begin/.test(e.message));
  const r = runCli(['test', '--search', none]);
  assert.equal(r.status, 3);
  assert.match(r.stderr, /CAB_SEARCH_NOT_FOUND/);
});

test('extract of several cabinets: identical duplicates written once, a different file under the same name is a conflict, the first kept', () => {
  const changed = buildCab([{ encoder: noneFolderEncoder(), files: [{ name: 'one\\hello.txt', data: Buffer.from('a different hello\n') }] }]);
  const file = writeFile(Buffer.concat([filler(100, 17), cabOne, filler(10, 18), cabTwo, filler(10, 19), changed]));
  const dir = path.join(work, 'dupes');
  const search = searchCabinets(file);
  try {
    const reports = extractCabinets(search.cabinets.map((c) => ({ cab: c.cabinet })), dir);
    const [r1, r2, r3] = reports;
    assert.ok(r1!.ok && r2!.ok);
    assert.equal(r2!.members[1]!.duplicateOf, `${file}@100`, 'the same hello.txt again: not rewritten, reported as a duplicate');
    assert.equal(r3!.ok, false);
    assert.equal(r3!.members[0]!.error!.code, 'CAB_SEARCH_NAME_CONFLICT');
    assert.deepEqual(r3!.damaged, [], 'a conflict is not damage');
    assert.deepEqual(fs.readFileSync(path.join(dir, 'one', 'hello.txt')), hello, 'the first cabinet\'s file stays');
    assert.deepEqual(fs.readFileSync(path.join(dir, 'two.bin')), bigger);
    assert.deepEqual(fs.readdirSync(path.join(dir, 'one')), ['hello.txt'], 'no temporary files left');
  } finally {
    search.close();
  }
  const cli = runCli(['extract', '--search', file, '-o', path.join(work, 'dupes-cli'), '--json']);
  assert.equal(cli.status, 3, cli.stderr);
  const doc = JSON.parse(cli.stdout);
  assert.deepEqual(doc.cabinets.map((c: { offset: number; ok: boolean }) => [c.offset, c.ok]), [
    [100, true],
    [100 + cabOne.length + 10, true],
    [100 + cabOne.length + 10 + cabTwo.length + 10, false],
  ]);
});

test('what cabextract does with the same name in two embedded cabinets: the last one silently wins (we keep the first and say so)', { skip: !hasTool('cabextract') && 'cabextract not installed' }, () => {
  const first = buildCab([{ encoder: noneFolderEncoder(), files: [{ name: 'same.txt', data: Buffer.from('first\n') }] }]);
  const second = buildCab([{ encoder: noneFolderEncoder(), files: [{ name: 'same.txt', data: Buffer.from('second\n') }] }]);
  const file = writeFile(Buffer.concat([filler(64, 24), first, filler(64, 25), second]));
  const theirs = path.join(work, 'cabextract-same');
  const r = spawnSync('cabextract', ['-q', '-d', theirs, file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(fs.readFileSync(path.join(theirs, 'same.txt'), 'utf8'), 'second\n');
  const ours = path.join(work, 'ours-same');
  const x = runCli(['extract', '--search', file, '-o', ours]);
  assert.equal(x.status, 3);
  assert.match(x.stderr, /same\.txt was already written from .*@64 with different content.*\[CAB_SEARCH_NAME_CONFLICT\]/);
  assert.equal(fs.readFileSync(path.join(ours, 'same.txt'), 'utf8'), 'first\n');
});

test('random SFX-like layouts: --search lists and extracts what cabextract does', { skip: !hasTool('cabextract') && 'cabextract not installed' }, () => {
  // a real PE with two stray "MSCF" strings in it (wine's cabinet.dll) makes a realistic stub when present
  const stubPath = '/usr/lib/x86_64-linux-gnu/wine/x86_64-windows/cabinet.dll';
  const stub = fs.existsSync(stubPath) ? fs.readFileSync(stubPath) : filler(4000, 40);
  for (let seed = 1; seed <= 8; seed++) {
    let x = seed;
    const rnd = (n: number): number => {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      return (x >>> 8) % n;
    };
    const parts: Buffer[] = [seed % 2 === 0 ? stub : filler(rnd(3000), seed * 100)];
    const expected: { name: string; data: Buffer }[] = [];
    const cabinets = 1 + rnd(3);
    for (let c = 0; c < cabinets; c++) {
      const members = Array.from({ length: 1 + rnd(3) }, (_, k) => ({ name: `s${seed}\\c${c}-m${k}.bin`, data: text(rnd(70_000), seed * 10 + c * 3 + k) }));
      expected.push(...members);
      const encoder = rnd(2) === 0 ? noneFolderEncoder() : mszipFolderEncoder({ withHistory: true });
      parts.push(buildCab([{ encoder, files: members }]));
      // between cabinets: filler with a bare "MSCF", and a real cabinet's header (version 1.3 or
      // made 0.3) followed by filler instead of its tables: neither tool may take either for a cabinet
      const decoy = Buffer.from(cabOne.subarray(0, 36));
      decoy.writeUInt8(rnd(2), 25);
      parts.push(filler(rnd(500), seed * 1000 + c), Buffer.from('MSCF'), filler(rnd(50), seed * 2000 + c), decoy, filler(rnd(500), seed * 3000 + c));
    }
    const file = writeFile(Buffer.concat(parts));
    const listed = spawnSync('cabextract', ['-l', file], { encoding: 'utf8' });
    assert.equal(listed.status, 0, listed.stderr);
    const theirs = [...listed.stdout.matchAll(/^\s*(\d+) \| [\d.]+ [\d:]+ \| (.+)$/gm)].map((m) => `${m[2]} ${m[1]}`);
    const search = searchCabinets(file);
    try {
      const ours = search.cabinets.flatMap((c) => c.cabinet.members.map((m) => `${m.name.replace(/\\/g, '/')} ${m.size}`));
      assert.deepEqual(ours, theirs, `seed ${seed}`);
      assert.deepEqual(ours, expected.map((m) => `${m.name.replace(/\\/g, '/')} ${m.data.length}`));
      const dir = path.join(work, `random-${seed}`);
      const reports = extractCabinets(search.cabinets.map((c) => ({ cab: c.cabinet })), dir);
      assert.ok(reports.every((r) => r.ok));
      const theirDir = path.join(work, `random-${seed}-cabextract`);
      assert.equal(spawnSync('cabextract', ['-q', '-d', theirDir, file]).status, 0);
      for (const m of expected) {
        const rel = m.name.split('\\');
        assert.deepEqual(fs.readFileSync(path.join(dir, ...rel)), m.data);
        assert.deepEqual(fs.readFileSync(path.join(theirDir, ...rel)), m.data);
      }
    } finally {
      search.close();
    }
  }
});

test('extract --search refuses every cabinet when any one has an unsafe name, writing nothing', () => {
  const evil = buildCab([{ encoder: noneFolderEncoder(), files: [{ name: '..\\escape.txt', data: Buffer.from('x') }] }]);
  const file = writeFile(Buffer.concat([filler(20, 20), cabOne, filler(20, 21), evil]));
  const dir = path.join(work, 'evil');
  const r = runCli(['extract', '--search', file, '-o', dir]);
  assert.equal(r.status, 3);
  assert.match(r.stderr, /CAB_UNSAFE_NAME/);
  assert.ok(!fs.existsSync(dir) || fs.readdirSync(dir).length === 0);
});

test('CLI: list --search --json gives one entry per cabinet with its offset; test --search; members selected across cabinets', () => {
  const file = writeFile(Buffer.concat([filler(300, 22), cabOne, filler(30, 23), cabTwo]));
  const list = runCli(['list', '--search', '--json', file]);
  assert.equal(list.status, 0, list.stderr);
  const doc = JSON.parse(list.stdout);
  assert.equal(doc.file, file);
  assert.deepEqual(
    doc.cabinets.map((c: { offset: number; length: number; members: { name: string }[]; folders: { compression: string }[] }) => [c.offset, c.length, c.members.map((m) => m.name), c.folders.map((f) => f.compression)]),
    [
      [300, cabOne.length, ['one\\hello.txt'], ['none']],
      [300 + cabOne.length + 30, cabTwo.length, ['two.bin', 'one\\hello.txt'], ['mszip']],
    ],
  );
  const human = runCli(['list', '--search', file]);
  assert.match(human.stdout, /cabinet at offset 300 \(\d+ bytes\): 1 member/);

  const t = runCli(['test', '--search', '--sha256', '--json', file]);
  assert.equal(t.status, 0, t.stderr);
  const tdoc = JSON.parse(t.stdout);
  assert.equal(tdoc.ok, true);
  assert.deepEqual(tdoc.files[0].cabinets.map((c: { offset: number }) => c.offset), [300, 300 + cabOne.length + 30]);
  assert.equal(tdoc.files[0].cabinets[1].members[0].sha256, sha(bigger));

  const dir = path.join(work, 'selected');
  const x = runCli(['extract', '--search', file, '-o', dir, 'two.bin']);
  assert.equal(x.status, 0, x.stderr);
  assert.deepEqual(fs.readdirSync(dir), ['two.bin']);
  assert.equal(runCli(['extract', '--search', file, '-o', dir, 'nope']).status, 2);
});

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { openCab } from '../../src/cab/cabinet';
import { extractMembers, safeRelativePath } from '../../src/cab/extract';
import { CabferryError } from '../../src/errors';
import { buildCab, mszipFolderEncoder, noneFolderEncoder, type CabWriterFile } from '../../scripts/lib/cab-writer';
import { tempDir } from '../common.helpers';

const work = tempDir('cabferry-extract-');
let n = 0;
function cabWith(files: CabWriterFile[]): string {
  const p = path.join(work, `x${n++}.cab`);
  fs.writeFileSync(p, buildCab([{ encoder: mszipFolderEncoder({ withHistory: true }), files }]));
  return p;
}
function listTree(dir: string): string[] {
  const out: string[] = [];
  (function walk(d: string, rel: string) {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path.join(d, e.name), r);
      else out.push(r);
    }
  })(dir, '');
  return out.sort();
}

test('names map to safe relative paths; unsafe ones are refused', () => {
  assert.equal(safeRelativePath('amd64_x\\update.mum'), 'amd64_x/update.mum');
  assert.equal(safeRelativePath('.\\a\\\\b'), 'a/b');
  for (const bad of ['\\abs', '/abs', 'C:\\Windows\\x', 'c:x', 'a\\..\\..\\b', '..', 'a/../b', 'dir\\', '.', 'a\u0000b', 'a\nb']) {
    assert.throws(() => safeRelativePath(bad), (e: unknown) => e instanceof CabferryError && e.code === 'CAB_UNSAFE_NAME', bad);
  }
});

test('extract writes every member with `\\` as directories, mtimes from DOS dates, no temp files left', () => {
  const when = new Date(2015, 6, 21, 10, 35, 28);
  const big = Buffer.alloc(100_000, 0x5a);
  const p = cabWith([
    { name: 'x86_component\\update.mum', data: Buffer.from('<assembly/>'), date: when },
    { name: 'x86_component\\big.bin', data: big },
    { name: 'empty.txt', data: Buffer.alloc(0) },
    { name: 'Ελληνικά.txt', data: Buffer.from('utf8 name') },
    { name: 'n'.repeat(255), data: Buffer.from('a name using all 255 bytes a file system allows') },
  ]);
  const dir = path.join(work, 'out1');
  const cab = openCab(p);
  try {
    const report = extractMembers(cab, dir);
    assert.ok(report.ok);
    assert.deepEqual(listTree(dir), ['empty.txt', 'n'.repeat(255), 'x86_component/big.bin', 'x86_component/update.mum', 'Ελληνικά.txt'].sort());
    assert.deepEqual(fs.readFileSync(path.join(dir, 'x86_component', 'big.bin')), big);
    assert.equal(fs.statSync(path.join(dir, 'empty.txt')).size, 0);
    assert.equal(fs.statSync(path.join(dir, 'x86_component', 'update.mum')).mtime.getTime(), when.getTime());
    // re-extraction refuses to overwrite unless asked (one policy with collect-script and export-blob)
    const before = fs.readFileSync(path.join(dir, 'x86_component', 'update.mum'));
    fs.writeFileSync(path.join(dir, 'x86_component', 'update.mum'), 'changed by the user');
    assert.throws(() => extractMembers(cab, dir, { members: cab.findMembers('x86_component/update.mum') }), (e: unknown) => e instanceof CabferryError && e.code === 'OUTPUT_EXISTS' && e.kind === 'usage');
    assert.equal(fs.readFileSync(path.join(dir, 'x86_component', 'update.mum'), 'utf8'), 'changed by the user');
    // only the selected member, and with overwrite re-extraction replaces it in place
    const again = extractMembers(cab, dir, { members: cab.findMembers('x86_component/update.mum'), overwrite: true });
    assert.deepEqual(again.members.map((m) => m.path), ['x86_component/update.mum']);
    assert.deepEqual(fs.readFileSync(path.join(dir, 'x86_component', 'update.mum')), before);
  } finally {
    cab.close();
  }
});

test('a cabinet with any unsafe name writes nothing at all', () => {
  for (const evil of ['..\\..\\etc\\passwd', '\\tmp\\evil', 'C:\\evil', 'ok\\..\\..\\evil']) {
    const p = cabWith([{ name: 'harmless.txt', data: Buffer.from('a') }, { name: evil, data: Buffer.from('b') }]);
    const dir = path.join(work, `out-evil-${n++}`);
    const cab = openCab(p);
    try {
      assert.throws(() => extractMembers(cab, dir), (e: unknown) => e instanceof CabferryError && e.code === 'CAB_UNSAFE_NAME' && e.member === evil && e.file === p);
    } finally {
      cab.close();
    }
    assert.ok(!fs.existsSync(dir) || fs.readdirSync(dir).length === 0, evil);
  }
  assert.ok(!fs.existsSync(path.join(work, 'evil')));
});

test('symlinks already inside the output directory are never followed', () => {
  const outside = path.join(work, 'outside');
  fs.mkdirSync(outside);
  const dir = path.join(work, 'out-link');
  fs.mkdirSync(dir);
  fs.symlinkSync(outside, path.join(dir, 'sub'));
  fs.symlinkSync(path.join(outside, 'target.txt'), path.join(dir, 'file.txt'));
  const p = cabWith([{ name: 'sub\\planted.txt', data: Buffer.from('x') }, { name: 'file.txt', data: Buffer.from('y') }, { name: 'fine.txt', data: Buffer.from('z') }]);
  const cab = openCab(p);
  try {
    // without --force the planted file.txt is refused as existing; with it, still never followed
    assert.throws(() => extractMembers(cab, dir), (e: unknown) => e instanceof CabferryError && e.code === 'OUTPUT_EXISTS');
    const report = extractMembers(cab, dir, { overwrite: true });
    assert.equal(report.ok, false);
    assert.deepEqual(report.members.map((m) => [m.name, m.ok, m.error?.code]), [
      ['sub\\planted.txt', false, 'CAB_EXTRACT_SYMLINK'],
      ['file.txt', false, 'CAB_EXTRACT_NOT_FILE'],
      ['fine.txt', true, undefined],
    ]);
  } finally {
    cab.close();
  }
  assert.deepEqual(fs.readdirSync(outside), []);
  assert.ok(fs.lstatSync(path.join(dir, 'file.txt')).isSymbolicLink());
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
});

test('a corrupt member is reported and leaves no partial file; the others are written', () => {
  const data = Buffer.alloc(80_000, 0x41);
  const cabBytes = buildCab([
    { encoder: noneFolderEncoder(), files: [{ name: 'good.txt', data: Buffer.from('fine') }] },
    { encoder: noneFolderEncoder(), files: [{ name: 'bad.bin', data }] },
  ]);
  const p = path.join(work, 'corrupt.cab');
  fs.writeFileSync(p, cabBytes.subarray(0, cabBytes.length - 10));
  const dir = path.join(work, 'out-corrupt');
  const cab = openCab(p);
  try {
    const report = extractMembers(cab, dir);
    assert.deepEqual(report.members.map((m) => [m.name, m.ok, m.error?.code]), [
      ['good.txt', true, undefined],
      ['bad.bin', false, 'CAB_TRUNCATED_DATA'],
    ]);
  } finally {
    cab.close();
  }
  assert.deepEqual(listTree(dir), ['good.txt']);
});

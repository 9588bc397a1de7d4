/**
 * The test-only writer is only useful if real tools accept what it writes: cabextract must list
 * and test every variant cleanly and extract the exact bytes, and our reader must agree.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { openCab } from '../../src/cab/cabinet';
import { buildCab, mszipFolderEncoder, noneFolderEncoder, type CabWriterFolder, type CabWriterOptions } from '../../scripts/lib/cab-writer';
import { hasTool, tempDir } from '../common.helpers';

const work = tempDir('cabferry-writer-');

function data(size: number, seed: number): Buffer {
  const b = Buffer.alloc(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    b[i] = i % 97 < 60 ? 0x41 + ((x >>> 16) % 5) : (x >>> 8) & 0xff;
  }
  return b;
}

const variants: { label: string; folders: CabWriterFolder[]; options?: CabWriterOptions }[] = [
  { label: 'none', folders: [{ encoder: noneFolderEncoder(), files: [{ name: 'a.bin', data: data(100_000, 1) }] }] },
  { label: 'mszip with history', folders: [{ encoder: mszipFolderEncoder({ withHistory: true }), files: [{ name: 'dir\\a.bin', data: data(200_000, 2) }, { name: 'b', data: data(5, 3) }] }] },
  { label: 'mszip independent blocks', folders: [{ encoder: mszipFolderEncoder({ withHistory: false }), files: [{ name: 'a', data: data(70_000, 4) }] }] },
  {
    label: 'two folders, all reserves, no checksums, utf-8 names',
    folders: [
      { encoder: mszipFolderEncoder({ withHistory: true }), files: [{ name: 'ΑΒΓ\\δ.txt', data: data(40_000, 5) }] },
      { encoder: noneFolderEncoder(), files: [{ name: 'empty', data: Buffer.alloc(0) }, { name: 'x', data: data(33_000, 6) }] },
    ],
    options: { reserve: { header: 6, folder: 4, data: 2 }, checksums: false, utf8Names: true, setId: 4242 },
  },
];

test('cabextract accepts every variant the writer produces, byte for byte', { skip: !hasTool('cabextract') && 'cabextract not installed' }, () => {
  for (const [i, v] of variants.entries()) {
    const cabFile = path.join(work, `v${i}.cab`);
    fs.writeFileSync(cabFile, buildCab(v.folders, v.options));
    const t = spawnSync('cabextract', ['-t', cabFile], { encoding: 'utf8' });
    assert.equal(t.status, 0, `${v.label}: ${t.stdout}${t.stderr}`);
    assert.doesNotMatch(t.stdout + t.stderr, /WARNING|failed/i, v.label);
    const dir = path.join(work, `out${i}`);
    const x = spawnSync('cabextract', ['-q', '-d', dir, cabFile], { encoding: 'utf8' });
    assert.equal(x.status, 0, `${v.label}: ${x.stderr}`);
    for (const folder of v.folders) {
      for (const f of folder.files) {
        assert.deepEqual(fs.readFileSync(path.join(dir, ...f.name.split('\\'))), f.data, `${v.label}: ${f.name}`);
      }
    }
  }
});

test('our reader reads every variant back exactly', () => {
  for (const v of variants) {
    const cabFile = path.join(work, 'ours.cab');
    fs.writeFileSync(cabFile, buildCab(v.folders, v.options));
    const cab = openCab(cabFile);
    try {
      const expected = v.folders.flatMap((f) => f.files);
      assert.deepEqual(cab.members.map((m) => m.name), expected.map((f) => f.name), v.label);
      cab.members.forEach((m, i) => assert.deepEqual(cab.readMemberToBuffer(m, 1 << 20), expected[i]!.data, `${v.label}: ${m.name}`));
      assert.equal(cab.header.setID, v.options?.setId ?? 0);
      assert.ok(cab.testCabinet().ok, v.label);
    } finally {
      cab.close();
    }
  }
});

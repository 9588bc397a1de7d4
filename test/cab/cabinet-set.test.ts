import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { openCabOrSet, openCabSet } from '../../src/cab/cabinet-set';
import { CabferryError } from '../../src/errors';
import { corpusPath, loadOracle, runCli, tempDir } from '../common.helpers';

const split = (n: number) => corpusPath('cabextract', 'cabs', `split-${n}.cab`);
const oracleOf = (p: string) => loadOracle().find((f) => f.path === p)!.extracted_sha256;

test('a five-part set opened from any part joins folders across parts and lists each member once', () => {
  const expected = oracleOf('cabextract/cabs/split-3.cab');
  for (const n of [1, 3, 5]) {
    const set = openCabSet(split(n));
    try {
      assert.equal(set.parts.length, 5);
      assert.deepEqual(set.members.map((m) => m.name).sort(), Object.keys(expected).sort());
      // medium2.bin starts in part 2, fills part 3 and ends in part 4
      const medium2 = set.findMembers('medium2.bin')[0]!;
      assert.equal(set.logicalFolders[medium2.folderIndex]!.segments.length, 3);
      const report = set.testCabinet({ digests: true });
      assert.ok(report.ok);
      for (const r of report.members) assert.equal(r.sha256, expected[r.name], r.name);
      assert.equal(createHash('sha256').update(set.readMemberToBuffer(medium2, 1 << 20)).digest('hex'), expected['medium2.bin']);
    } finally {
      set.close();
    }
  }
});

test('a part without its siblings is read alone: spanned members name the missing part', () => {
  const dir = tempDir('cabferry-set-');
  fs.copyFileSync(split(1), path.join(dir, 'Split-1.CAB'));
  const warnings: string[] = [];
  const cab = openCabOrSet(path.join(dir, 'Split-1.CAB'), (w) => warnings.push(w));
  try {
    assert.match(warnings.join('\n'), /next cabinet of the set "Split-2.CAB" is not in/);
    const report = cab.testCabinet();
    assert.deepEqual(report.members.map((m) => [m.name, m.ok ? 'ok' : m.error!.code]), [
      ['small1.bin', 'ok'],
      ['small2.bin', 'CAB_SPANNED_MEMBER'],
      ['medium1.bin', 'CAB_SPANNED_MEMBER'],
    ]);
    assert.match(report.members[1]!.error!.message, /needs the next cabinet "Split-2.CAB" \(disk "Split cabinet file 2\/5"\)/);
  } finally {
    cab.close();
  }
  const r = runCli(['test', path.join(dir, 'Split-1.CAB')]);
  assert.equal(r.status, 3);
  assert.match(r.stdout, /CORRUPT/);
});

test('parts are matched case-insensitively; a set id mismatch is refused', () => {
  const dir = tempDir('cabferry-set-');
  for (let n = 1; n <= 5; n++) fs.copyFileSync(split(n), path.join(dir, `split-${n}.cab`)); // headers say "Split-N.CAB"
  const set = openCabSet(path.join(dir, 'split-2.cab'));
  set.close();
  const bytes = fs.readFileSync(path.join(dir, 'split-4.cab'));
  bytes.writeUInt16LE(bytes.readUInt16LE(32) ^ 1, 32); // setID
  fs.writeFileSync(path.join(dir, 'split-4.cab'), bytes);
  assert.throws(() => openCabSet(path.join(dir, 'split-2.cab')), (e: unknown) => e instanceof CabferryError && e.code === 'CAB_SET_MISMATCH');
  // a damaged sibling spoils only the spanned members of the part that was named
  fs.writeFileSync(path.join(dir, 'split-1.cab'), 'not a cabinet');
  const warnings: string[] = [];
  const alone = openCabOrSet(path.join(dir, 'split-2.cab'), (w) => warnings.push(w));
  try {
    assert.match(warnings.join(), /cannot read the rest of the set: not a cabinet \(no MSCF signature\) \(split-1\.cab\)/);
    assert.deepEqual(alone.members.map((m) => m.name), ['small2.bin', 'medium1.bin', 'medium2.bin']);
  } finally {
    alone.close();
  }
});

test('extract of one part writes the whole set, as cabextract does', () => {
  const out = tempDir('cabferry-set-out-');
  const r = runCli(['extract', corpusPath('jsign', 'sample2-disk2.cab'), '-o', out, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { members: { path: string; sha256: string }[] };
  assert.deepEqual(Object.fromEntries(doc.members.map((m) => [m.path, m.sha256])), oracleOf('jsign/sample2-disk2.cab'));
});

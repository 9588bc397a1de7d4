import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { buildCab, mszipFolderEncoder, noneFolderEncoder } from '../../scripts/lib/cab-writer';
import { corpusPath, runCli, tempDir } from '../common.helpers';

const work = tempDir('cabferry-cli-');
const cabPath = path.join(work, 'two.cab');
fs.writeFileSync(
  cabPath,
  buildCab([
    { encoder: mszipFolderEncoder({ withHistory: true }), files: [{ name: 'dir\\a.txt', data: Buffer.from('alpha'.repeat(10000)), date: new Date(2019, 3, 9, 8, 7, 6) }] },
    { encoder: noneFolderEncoder(), files: [{ name: 'b.txt', data: Buffer.from('beta'), attributes: 0x01 }] },
  ]),
);

test('list --json prints exactly one document with members, folders and signed', () => {
  const r = runCli(['list', cabPath, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.file, cabPath);
  assert.equal(doc.signed, false);
  assert.deepEqual(doc.folders.map((f: { compression: string }) => f.compression), ['mszip', 'none']);
  assert.deepEqual(
    doc.members.map((m: Record<string, unknown>) => [m.name, m.size, m.date, m.attributes, m.folder, m.compression]),
    [
      ['dir\\a.txt', 50000, '2019-04-09T08:07:06', 0x20, 0, 'mszip'],
      ['b.txt', 4, '2020-01-01T12:00:00', 0x01, 1, 'none'],
    ],
  );
  const signed = JSON.parse(runCli(['list', corpusPath('ms-signed', 'kb958830-inner', 'WSUSSCAN.cab'), '--json']).stdout);
  assert.equal(signed.signed, true);
  assert.deepEqual(signed.folders.map((f: { compression: string }) => f.compression), ['lzx:21']);
  const human = runCli(['list', cabPath]);
  assert.equal(human.status, 0);
  assert.match(human.stdout, /dir\\a\.txt/);
  // a hostile name cannot send terminal escapes through the human listing
  const ansi = path.join(work, 'ansi.cab');
  fs.writeFileSync(ansi, buildCab([{ encoder: noneFolderEncoder(), files: [{ name: 'a\u001b[2Jb', data: Buffer.from('x') }] }]));
  const shown = runCli(['list', ansi]);
  assert.equal(shown.status, 0);
  assert.ok(!shown.stdout.includes('\u001b'));
  assert.match(shown.stdout, /a\\x1b\[2Jb/);
});

test('extract writes under -o with `/` directories; a missing member is a usage error', () => {
  const dir = path.join(work, 'out');
  const r = runCli(['extract', cabPath, '-o', dir]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(fs.readFileSync(path.join(dir, 'dir', 'a.txt'), 'utf8'), 'alpha'.repeat(10000));
  assert.equal(fs.readFileSync(path.join(dir, 'b.txt'), 'utf8'), 'beta');
  const one = path.join(work, 'one');
  assert.equal(runCli(['extract', cabPath, '-o', one, 'dir/a.txt']).status, 0);
  assert.deepEqual(fs.readdirSync(one), ['dir']);
  const missing = runCli(['extract', cabPath, '-o', one, 'nope.txt']);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /no member named "nope.txt" \[NO_SUCH_MEMBER\]/);
  assert.notEqual(runCli(['extract', cabPath]).status, 0, '-o is required');
});

test('extract refuses unsafe names in one line, exit 3, writing nothing', () => {
  const evil = path.join(work, 'evil.cab');
  fs.writeFileSync(evil, buildCab([{ encoder: noneFolderEncoder(), files: [{ name: 'a.txt', data: Buffer.from('a') }, { name: '..\\..\\escape.txt', data: Buffer.from('b') }] }]));
  const dir = path.join(work, 'evil-out');
  const r = runCli(['extract', evil, '-o', dir]);
  assert.equal(r.status, 3);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /CAB_UNSAFE_NAME/);
  assert.ok(!fs.existsSync(path.join(work, 'escape.txt')));
  assert.ok(!fs.existsSync(dir) || fs.readdirSync(dir).length === 0);
});

test('test: exit 0 when intact, 3 when any file is corrupt or not a cabinet, --json is one document', () => {
  assert.equal(runCli(['test', cabPath]).status, 0);
  const bytes = fs.readFileSync(cabPath);
  const corrupt = path.join(work, 'corrupt.cab');
  const b = Buffer.from(bytes);
  b[b.length - 2] ^= 0xff; // inside the last (stored) block: checksum mismatch
  fs.writeFileSync(corrupt, b);
  const r = runCli(['test', cabPath, corrupt, '--json']);
  assert.equal(r.status, 3);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.ok, false);
  assert.deepEqual(doc.files.map((f: { ok: boolean }) => f.ok), [true, false]);
  assert.equal(doc.files[1].members[1].error.code, 'CAB_BAD_CHECKSUM');
  const notCab = path.join(work, 'not.cab');
  fs.writeFileSync(notCab, 'PK\u0003\u0004 not a cabinet');
  const r2 = runCli(['test', notCab]);
  assert.equal(r2.status, 3);
  assert.match(r2.stderr, /^cabferry: .*not\.cab: at offset 0 \(0x0\): not a cabinet \(no MSCF signature\) \[CAB_BAD_SIGNATURE\]\n$/);
  assert.equal(runCli(['test', path.join(work, 'does-not-exist.cab')]).status, 3);
});

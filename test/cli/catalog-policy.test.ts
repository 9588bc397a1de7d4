import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { fixturePath, runCli, tempDir } from '../common.helpers';

/** Issue 17, item 6: a catalog is created only by the commands that write it. */

const inventory = fixturePath('hosts', 'srv-fresh-x64.systeminfo.txt');

test('every read-only command on a mistyped --catalog says there is none, exit 2, and creates nothing', () => {
  const dir = tempDir();
  const missing = path.join(dir, 'typo-catalog');
  const commands: string[][] = [
    ['catalog', 'list'],
    ['catalog', 'show', 'KB4493730'],
    ['catalog', 'check'],
    ['catalog', 'check', '--repair'],
    ['catalog', 'export-blob', 'a'.repeat(64), '-o', path.join(dir, 'out.msu')],
    ['trust', 'list'],
    ['trust', 'remove', '0123456789abcdef'],
    ['plan', '--host', inventory],
    ['stage', '--host', inventory, '--to', path.join(dir, 'usb')],
  ];
  for (const args of commands) {
    const r = runCli([...args, '--catalog', missing]);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^cabferry: .*no catalog at .*typo-catalog.*\[CATALOG_NOT_FOUND\]/, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, args.join(' '));
    assert.ok(!fs.existsSync(missing), `${args.join(' ')} created ${missing}`);
  }
});

test('import, trust add and catalog init create the catalog', () => {
  const dir = tempDir();
  assert.equal(runCli(['catalog', 'init', '--catalog', path.join(dir, 'a')]).status, 0);
  assert.ok(fs.existsSync(path.join(dir, 'a', 'catalog.sqlite')));
  assert.equal(runCli(['trust', 'add', '--catalog', path.join(dir, 'b'), fixturePath('pki', 'root.pem')]).status, 0);
  assert.ok(fs.existsSync(path.join(dir, 'b', 'catalog.sqlite')));
  const imported = runCli(['import', '--catalog', path.join(dir, 'c'), '--trust', fixturePath('pki', 'root.pem'), fixturePath('payloads', 'Windows6.0-KB4493730-x64.msu')]);
  assert.equal(imported.status, 0, imported.stderr);
  assert.ok(fs.existsSync(path.join(dir, 'c', 'catalog.sqlite')));
  const listed = runCli(['catalog', 'list', '--catalog', path.join(dir, 'a')]);
  assert.equal(listed.status, 0);
  assert.match(listed.stdout, /^no payloads$/m);
});

test('--catalog naming a file is a usage error that says so, for readers and writers alike', () => {
  const dir = tempDir();
  const file = path.join(dir, 'catalog.sqlite');
  fs.writeFileSync(file, 'not a folder');
  for (const args of [['catalog', 'list'], ['catalog', 'init'], ['trust', 'add', fixturePath('pki', 'root.pem')], ['import', '--trust', fixturePath('pki', 'root.pem'), fixturePath('payloads', 'Windows6.0-KB4493730-x64.msu')]]) {
    const r = runCli([...args, '--catalog', file]);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /is a file, not a folder .*\[CATALOG_NOT_A_DIRECTORY\]/, args.join(' '));
    assert.doesNotMatch(r.stderr, /EEXIST|ENOTDIR/);
  }
  assert.equal(fs.readFileSync(file, 'utf8'), 'not a folder');
});

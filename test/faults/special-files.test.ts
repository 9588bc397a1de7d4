/**
 * Issue 17, item 1: special files (FIFOs, devices) are refused by type before they are opened
 * for reading, by every command that reads a payload or a file brought back on a medium, and
 * those files are bounded. A FIFO with no writer would otherwise block the command for ever;
 * each run here has a timeout, so a regression fails instead of hanging the suite.
 * (import, list and test of a FIFO, plan.json and result.log: test/faults/hostile-files.test.ts.)
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { hashFile } from '../../src/media/files';
import { loadSigningMaterial } from '../../src/media/signing-material';
import { readHostInventory } from '../../src/planner';
import { openBundle } from '../../src/transfer';
import { assertThrowsCode, fixturePath, runCli, tempDir } from '../common.helpers';

const work = tempDir('cabferry-special-files-');
const trust = fixturePath('pki', 'root.pem');

function mkfifo(p: string): boolean {
  return spawnSync('mkfifo', [p]).status === 0;
}

function expectRefused(args: string[], code: RegExp): void {
  const r = runCli(args, { timeoutMs: 60_000 });
  assert.equal(r.status, 3, `${args.join(' ')}: ${r.stderr}`);
  assert.match(r.stderr, code, args.join(' '));
  assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
}

describe('a FIFO or a device given as a payload', () => {
  test('inspect, verify, verify --deep, extract and extract --search of a FIFO: FILE_NOT_REGULAR, exit 3, without blocking', (t) => {
    const fifo = path.join(work, 'Windows6.1-KB4493730-x64.msu');
    if (!mkfifo(fifo)) return t.skip('mkfifo is not available');
    const out = path.join(work, 'out');
    for (const args of [
      ['inspect', '--trust', trust, fifo],
      ['verify', '--trust', trust, fifo],
      ['verify', '--deep', '--trust', trust, fifo],
      ['extract', '-o', out, fifo],
      ['extract', '--search', '-o', out, fifo],
    ]) {
      expectRefused(args, /is a named pipe \(FIFO\), not a regular file; only regular files are read \[FILE_NOT_REGULAR\]$/m);
    }
    assert.equal(fs.existsSync(out), false, 'extract created nothing');
  });

  test('inspect and verify of a character device: FILE_NOT_REGULAR, exit 3, nothing read from it', () => {
    for (const args of [['inspect', '--trust', trust, '/dev/zero'], ['verify', '--trust', trust, '/dev/zero']]) {
      expectRefused(args, /\/dev\/zero: is a character device, not a regular file.*\[FILE_NOT_REGULAR\]$/m);
    }
  });
});

describe('manifest.json and manifest.json.p7s read back from a medium', () => {
  function medium(name: string): string {
    const root = path.join(work, name);
    fs.mkdirSync(path.join(root, 'hosts', 'SRV01'), { recursive: true });
    fs.mkdirSync(path.join(root, 'results', 'SRV01'), { recursive: true });
    fs.writeFileSync(path.join(root, 'manifest.json'), JSON.stringify({
      format: 'cabferry-media/1', cabferryVersion: 'test', createdAt: '2026-12-04T00:00:00Z', catalog: null,
      hosts: [{ name: 'SRV01', complete: true, steps: 0, missing: [] }], files: [],
    }));
    return root;
  }

  test('report and verify-media of a medium whose manifest.json is a FIFO: FILE_NOT_REGULAR, exit 3, without blocking', (t) => {
    const root = medium('fifo-manifest');
    fs.rmSync(path.join(root, 'manifest.json'));
    if (!mkfifo(path.join(root, 'manifest.json'))) return t.skip('mkfifo is not available');
    for (const args of [['report', root, '--allow-unsigned'], ['verify-media', root, '--allow-unsigned']]) {
      expectRefused(args, /manifest\.json: is a named pipe \(FIFO\).*\[FILE_NOT_REGULAR\]$/m);
    }
  });

  test('a 600 MB manifest.json (sparse): FILE_TOO_LARGE with the numbers, exit 3, never read into memory', () => {
    const root = medium('huge-manifest');
    const fd = fs.openSync(path.join(root, 'manifest.json'), 'w');
    fs.ftruncateSync(fd, 600 * 1024 * 1024);
    fs.closeSync(fd);
    for (const args of [['report', root, '--allow-unsigned'], ['verify-media', root, '--allow-unsigned']]) {
      expectRefused(args, /manifest\.json holds 629145600 bytes, over the 16777216-byte limit for it \[FILE_TOO_LARGE\]$/m);
    }
  });

  test('a manifest.json.p7s that is a FIFO is refused by type when the signature is checked', (t) => {
    const root = medium('fifo-signature');
    if (!mkfifo(path.join(root, 'manifest.json.p7s'))) return t.skip('mkfifo is not available');
    expectRefused(['verify-media', root, '--trust', trust], /manifest\.json\.p7s: is a named pipe \(FIFO\).*\[FILE_NOT_REGULAR\]$/m);
  });

  test('a manifest.json that is a symbolic link is not followed', () => {
    const root = medium('linked-manifest');
    const elsewhere = path.join(work, 'elsewhere.json');
    fs.renameSync(path.join(root, 'manifest.json'), elsewhere);
    fs.symlinkSync(elsewhere, path.join(root, 'manifest.json'));
    expectRefused(['verify-media', root, '--allow-unsigned'], /\[FILE_IS_SYMLINK\]$/m);
  });

  test('a file on the medium swapped for a FIFO after it was examined is refused when hashed, not waited on', (t) => {
    const fifo = path.join(work, 'swapped.msu');
    if (!mkfifo(fifo)) return t.skip('mkfifo is not available');
    assertThrowsCode(() => hashFile(fifo), 'FILE_NOT_REGULAR', 'input');
  });
});

describe('a transfer bundle folder', () => {
  test('a bundle file swapped for a FIFO after the folder was listed is refused when read or streamed, not waited on', async (t) => {
    const folder = path.join(work, 'bundle');
    fs.mkdirSync(folder);
    fs.writeFileSync(path.join(folder, 'payload.msu'), 'bytes');
    const bundle = await openBundle(folder);
    try {
      fs.rmSync(path.join(folder, 'payload.msu'));
      if (!mkfifo(path.join(folder, 'payload.msu'))) return t.skip('mkfifo is not available');
      for (const attempt of [() => bundle.read('payload.msu', 1024), () => bundle.openStream('payload.msu')]) {
        const error = await attempt().then(() => null, (e: unknown) => e);
        assertThrowsCode(() => {
          if (error !== null) throw error;
        }, 'FILE_NOT_REGULAR', 'input');
      }
    } finally {
      bundle.close();
    }
  });
});

describe('files an operator names', () => {
  test('a signing key or certificate that is a FIFO: a usage error (SIGN_FILE_UNREADABLE) naming the type, without blocking', (t) => {
    const fifo = path.join(work, 'signer.key');
    if (!mkfifo(fifo)) return t.skip('mkfifo is not available');
    const e = assertThrowsCode(() => loadSigningMaterial({ keyFile: fifo, certFile: fifo }), 'SIGN_FILE_UNREADABLE', 'usage', /cannot read the signing key: is a named pipe \(FIFO\), not a regular file/);
    assert.equal(e.file, fifo);
  });

  test('a host inventory (written back on the medium by collect.cmd) that is a FIFO or 600 MB: refused by type or size, without blocking or reading it', (t) => {
    const huge = path.join(work, 'SRV01-inventory.txt');
    const fd = fs.openSync(huge, 'w');
    fs.ftruncateSync(fd, 600 * 1024 * 1024);
    fs.closeSync(fd);
    assertThrowsCode(() => readHostInventory(huge), 'INVENTORY_TOO_LARGE', 'input', /holds 629145600 bytes, over the \d+-byte limit/);
    const fifo = path.join(work, 'SRV02-inventory.txt');
    if (!mkfifo(fifo)) return t.skip('mkfifo is not available');
    assertThrowsCode(() => readHostInventory(fifo), 'INVENTORY_NOT_A_FILE', 'input', /is a named pipe \(FIFO\)/);
  });
});

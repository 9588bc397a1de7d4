import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import * as verifyFile from '../../src/authenticode/verify-file';
import { openCatalog } from '../../src/catalog/catalog';
import { catalogTrust, describeDistrust, TrustJudge, type Distrust } from '../../src/catalog/live-trust';
import { fixturePath, runCli, tempDir } from '../common.helpers';

/**
 * A payload the judge must read again (here: a row without a stored verdict) whose blob cannot be
 * judged is never trusted — and the reason says which failure it was: the file system's
 * (blob-unreadable), the payload's bytes (blob-malformed, with the reader's code), or a defect of
 * cabferry's own, which is thrown on rather than passed off as a fact about the payload.
 */

const work = tempDir('cabferry-judge-');
const root = fixturePath('pki', 'root.pem');
const PAYLOAD = 'Windows6.0-KB4474419-v4-x64.msu';

/** A catalog trusting the fixtures' root, holding one payload whose stored verdict was dropped; its SHA-256. */
function catalogWithoutVerdict(name: string): { dir: string; sha256: string } {
  const dir = path.join(work, name);
  assert.equal(runCli(['trust', 'add', root, '--catalog', dir]).status, 0);
  const r = runCli(['import', '--catalog', dir, fixturePath('payloads', PAYLOAD), '--json']);
  assert.equal(r.status, 0, r.stderr);
  const db = new Database(path.join(dir, 'catalog.sqlite'));
  try {
    const { sha256 } = db.prepare('SELECT sha256 FROM payloads WHERE file_name = ?').get(PAYLOAD) as { sha256: string };
    db.prepare('UPDATE payloads SET verdict_json = NULL WHERE sha256 = ?').run(sha256);
    return { dir, sha256 };
  } finally {
    db.close();
  }
}

function judge(dir: string, sha256: string): Distrust | null {
  const catalog = openCatalog({ dir, access: 'read' });
  try {
    return new TrustJudge(catalog, catalogTrust(catalog)).distrustOf(sha256);
  } finally {
    catalog.close();
  }
}

function replaceBlob(dir: string, sha256: string, bytes: Buffer): void {
  const blob = path.join(dir, 'blobs', sha256.slice(0, 2), sha256.slice(2));
  fs.chmodSync(blob, 0o644);
  fs.writeFileSync(blob, bytes);
}

/** Run `fn` with the verifier the judge loads replaced by `replacement`. */
function withVerifier<T>(replacement: typeof verifyFile.verifyTrustOfVerifiedFile, fn: () => T): T {
  const original = verifyFile.verifyTrustOfVerifiedFile;
  (verifyFile as { verifyTrustOfVerifiedFile: typeof original }).verifyTrustOfVerifiedFile = replacement;
  try {
    return fn();
  } finally {
    (verifyFile as { verifyTrustOfVerifiedFile: typeof original }).verifyTrustOfVerifiedFile = original;
  }
}

describe('the live-trust judge, when a blob cannot be judged again', () => {
  test('judged from its signatures it is trusted while its anchor is held (the baseline of the cases below)', () => {
    const { dir, sha256 } = catalogWithoutVerdict('baseline');
    assert.equal(judge(dir, sha256), null);
  });

  test('bytes that no longer parse as a signed payload: blob-malformed with the reader\'s code, not "cannot be read"', () => {
    const { dir, sha256 } = catalogWithoutVerdict('malformed');
    replaceBlob(dir, sha256, Buffer.from('this is no cabinet and no PE image, only text long enough to read a header from'));
    const d = judge(dir, sha256);
    assert.equal(d?.kind, 'blob-malformed', JSON.stringify(d));
    assert.ok(d.kind === 'blob-malformed' && /^[A-Z0-9_]+$/.test(d.code) && d.code !== 'BLOB_UNREADABLE', d.code);
    assert.match(describeDistrust(d), /no longer reads as a signed payload: .* \[[A-Z0-9_]+\]$/);
  });

  test('a file-system error while reading: blob-unreadable with the system\'s words', () => {
    const { dir, sha256 } = catalogWithoutVerdict('io');
    const eio = Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO', errno: -5, syscall: 'read' });
    const d = withVerifier(() => { throw eio; }, () => judge(dir, sha256));
    assert.deepEqual(d, { kind: 'blob-unreadable', code: 'BLOB_UNREADABLE', detail: 'cannot read: input/output error (EIO)' });
  });

  test('a defect in the judging code is thrown on (an internal error, exit 4), never passed off as "not trusted"', () => {
    const { dir, sha256 } = catalogWithoutVerdict('defect');
    const bug = new TypeError("Cannot read properties of undefined (reading 'chain')");
    assert.throws(() => withVerifier(() => { throw bug; }, () => judge(dir, sha256)), (e) => e === bug);
  });
});

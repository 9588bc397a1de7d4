/**
 * Schema 5 (catalog/migrations/0005_trust_anchor_purposes.sql) gives every trust anchor a purpose.
 * A catalog made at schema 4 comes through with every anchor and removal: a shipped Microsoft root
 * is trusted for payloads only, any other anchor for payloads and signatures (no verdict changes on
 * upgrade), and `trust list` and `catalog check` name each anchor left with both, with the remedy.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { loadTrustAnchors } from '../../src/authenticode/trust';
import { DATABASE_FILE } from '../../src/catalog/catalog';
import { applyMigrations, loadMigrations, migrationsDir, schemaVersion } from '../../src/catalog/migrations';
import { trustAnchorRecord } from '../../src/catalog/trust';
import { fixturePath, projectRoot, runCli, tempDir } from '../common.helpers';

const microsoftRoots = path.join(projectRoot, 'catalog', 'trust-anchors', 'microsoft-roots.pem');
const fingerprintOf = (file: string) => trustAnchorRecord(loadTrustAnchors([file])[0]!).fingerprint;

/** A catalog folder whose database stopped at schema 4, holding these anchors (and one removal). */
function schema4Catalog(anchorFiles: string[]): string {
  const dir = tempDir('cabferry-schema4-');
  const db = new Database(path.join(dir, DATABASE_FILE));
  applyMigrations(db, loadMigrations().slice(0, 4), { readonly: false, dir });
  assert.equal(schemaVersion(db), 4);
  const insert = db.prepare('INSERT INTO trust_anchors (fingerprint, subject, issuer, not_before, not_after, der, source, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  for (const a of loadTrustAnchors(anchorFiles).map((x) => trustAnchorRecord(x))) insert.run(a.fingerprint, a.subject, a.issuer, a.notBefore, a.notAfter, a.der, a.source, a.addedAt);
  db.prepare('INSERT INTO trust_anchor_removals (fingerprint, subject, removed_at, der) VALUES (?, ?, ?, NULL)').run('e'.repeat(64), 'CN=Removed Before', '2026-01-01T00:00:00Z');
  db.close();
  return dir;
}

interface ListedAnchor { fingerprint: string; subject: string; purposes: string[] }

test('schema 4 → 5: a shipped Microsoft root is trusted for payloads only, a custom root for both; trust list and catalog check warn about the custom one and say how to narrow it', () => {
  const microsoft = loadTrustAnchors([microsoftRoots]);
  const msRoot2010 = microsoft.find((a) => a.certificate.subject.includes('Microsoft Root Certificate Authority 2010'))!;
  const msFile = path.join(tempDir(), 'ms-root-2010.pem');
  fs.writeFileSync(msFile, `-----BEGIN CERTIFICATE-----\n${msRoot2010.certificate.der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`);
  const custom = fixturePath('pki', 'root.pem');
  const dir = schema4Catalog([msFile, custom]);

  // trust list opens where writable, and so upgrades the catalog
  const listed = runCli(['trust', 'list', '--catalog', dir, '--json']);
  assert.equal(listed.status, 0, listed.stderr);
  const doc = JSON.parse(listed.stdout) as { anchors: ListedAnchor[]; warnings: { code: string; fingerprint: string; message: string }[] };
  const purposes = Object.fromEntries(doc.anchors.map((a) => [a.fingerprint, a.purposes]));
  assert.deepEqual(purposes, { [fingerprintOf(msFile)]: ['payloads'], [fingerprintOf(custom)]: ['payloads', 'signatures'] });
  assert.deepEqual(doc.warnings.map((w) => [w.code, w.fingerprint]), [['TRUST_ANCHOR_BOTH_PURPOSES', fingerprintOf(custom)]]);

  const db = new Database(path.join(dir, DATABASE_FILE), { readonly: true });
  assert.equal(schemaVersion(db), loadMigrations().length);
  assert.deepEqual(db.prepare('SELECT fingerprint FROM trust_anchor_removals').all(), [{ fingerprint: 'e'.repeat(64) }], 'removals are kept');
  db.close();

  const text = runCli(['trust', 'list', '--catalog', dir]);
  assert.match(text.stdout, new RegExp(`${fingerprintOf(custom)}\\n  subject Cabferry Test Root CA\\n  for     payloads, signatures\\n`));
  assert.match(text.stdout, /subject Microsoft Root Certificate Authority 2010\n {2}for {5}payloads\n/);
  const warning = /^cabferry: warning: Cabferry Test Root CA \([0-9a-f]{16}…\) is trusted for payloads and signatures: .*`cabferry trust remove [0-9a-f]{16} --for signatures` .* or `--for payloads`/m;
  assert.match(text.stderr, warning);
  assert.equal(text.stderr.split('\n').filter(Boolean).length, 1, 'one warning, for the custom root alone');

  const check = runCli(['catalog', 'check', '--catalog', dir, '--json']);
  assert.equal(check.status, 0, 'a warning, not a problem: the catalog is consistent');
  const report = JSON.parse(check.stdout) as { ok: boolean; warnings: { kind: string; code: string; fingerprint: string; detail: string }[] };
  assert.equal(report.ok, true);
  assert.deepEqual(report.warnings.map((w) => [w.kind, w.code, w.fingerprint]), [['anchor-both-purposes', 'TRUST_ANCHOR_BOTH_PURPOSES', fingerprintOf(custom)]]);
  assert.match(runCli(['catalog', 'check', '--catalog', dir]).stderr, warning);

  // narrowed as the warning says, it is no longer named
  assert.equal(runCli(['trust', 'remove', fingerprintOf(custom).slice(0, 16), '--for', 'signatures', '--catalog', dir]).status, 0);
  assert.deepEqual((JSON.parse(runCli(['catalog', 'check', '--catalog', dir, '--json']).stdout) as { warnings: unknown[] }).warnings, []);
  assert.equal(runCli(['trust', 'list', '--catalog', dir]).stderr, '');
});

test('the Microsoft fingerprints written in migration 0005 are exactly those of catalog/trust-anchors/microsoft-roots.pem', () => {
  // the migration cannot read the file (SQL), so it carries the list: this keeps the two the same.
  // A root the file gains later needs no place here (added after schema 5, it is added for payloads
  // only); the check would then become "the migration's are among the file's".
  const sql = fs.readFileSync(path.join(migrationsDir(), '0005_trust_anchor_purposes.sql'), 'utf8');
  const inSql = [...sql.matchAll(/'([0-9a-f]{64})'/g)].map((m) => m[1]).sort();
  const shipped = loadTrustAnchors([microsoftRoots]).map((a) => trustAnchorRecord(a).fingerprint).sort();
  assert.equal(shipped.length, 8);
  assert.deepEqual(inSql, shipped);
});

/**
 * Schema 2 (catalog/migrations/0002_exe_payloads.sql) rebuilds `payloads` so its format CHECK
 * admits 'exe'. A catalog made at schema 1 must come through with every row and every child row
 * (signatures, parents, members, products: all ON DELETE CASCADE children of payloads) intact.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { applyMigrations, loadMigrations, schemaVersion } from '../../src/catalog/migrations';
import { tempDir } from '../common.helpers';

const SHA = 'a'.repeat(64);

function counts(db: Database.Database): Record<string, number> {
  const out: Record<string, number> = {};
  for (const table of ['payloads', 'payload_products', 'signatures', 'parents', 'members']) {
    out[table] = (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  }
  return out;
}

test('schema 1 → 2 keeps payload rows and their children, and admits format exe', () => {
  const dir = tempDir();
  const db = new Database(path.join(dir, 'catalog.sqlite'));
  db.pragma('foreign_keys = ON');
  const migrations = loadMigrations();
  assert.ok(migrations.length >= 2);
  applyMigrations(db, migrations.slice(0, 1), { readonly: false, dir });
  assert.equal(schemaVersion(db), 1);
  db.prepare(
    `INSERT INTO payloads (sha256, size, status, file_name, format, kb, metadata_verified, verdict, first_imported_at)
     VALUES (?, 10, 'imported', 'Windows6.0-KB4493730-x64.msu', 'msu', 'KB4493730', 1, 'valid', '2026-12-04T00:00:00Z')`,
  ).run(SHA);
  db.prepare(`INSERT INTO payload_products (sha256, product) VALUES (?, 'Windows Server 2008')`).run(SHA);
  db.prepare(`INSERT INTO signatures (sha256, position, nested, valid) VALUES (?, 0, 0, 1), (?, 1, 1, 1)`).run(SHA, SHA);
  db.prepare(`INSERT INTO parents (sha256, position, kb, identity_name) VALUES (?, 0, 'KB948465', 'Package_for_KB948465')`).run(SHA);
  db.prepare(`INSERT INTO members (sha256, name, role) VALUES (?, 'update.mum', 'update.mum')`).run(SHA);
  assert.throws(() =>
    db.prepare(`INSERT INTO payloads (sha256, size, status, file_name, format, first_imported_at) VALUES (?, 1, 'quarantined', 'x.exe', 'exe', 'now')`).run('b'.repeat(64)),
  );
  const before = counts(db);

  applyMigrations(db, migrations, { readonly: false, dir });
  assert.equal(schemaVersion(db), migrations.length);
  assert.deepEqual(counts(db), before);
  assert.equal(db.pragma('foreign_keys', { simple: true }), 1, 'foreign keys are back on');
  assert.deepEqual(db.pragma('foreign_key_check'), []);
  db.prepare(`INSERT INTO payloads (sha256, size, status, file_name, format, first_imported_at) VALUES (?, 1, 'quarantined', 'x.exe', 'exe', 'now')`).run('b'.repeat(64));
  // the children still cascade from the rebuilt table
  db.prepare('DELETE FROM payloads WHERE sha256 = ?').run(SHA);
  assert.deepEqual(counts(db), { payloads: 1, payload_products: 0, signatures: 0, parents: 0, members: 0 });
  db.close();
});

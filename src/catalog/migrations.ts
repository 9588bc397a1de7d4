import fs = require('node:fs');
import path = require('node:path');
import type Database from 'better-sqlite3';
import { internalError } from '../errors';
import { shippedDataPath } from '../shipped-data';

/**
 * The catalog schema is the ordered list of SQL files in the top-level catalog/migrations/
 * folder, named NNNN_what.sql. PRAGMA user_version holds the number of the last one applied.
 * Migrations are forward-only: an older cabferry refuses a catalog a newer one has upgraded.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const MIGRATION_FILE = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/** catalog/migrations/ of this installation. */
export function migrationsDir(): string {
  return shippedDataPath('migrations');
}

export function loadMigrations(dir = migrationsDir()): Migration[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => n.endsWith('.sql')).sort();
  } catch (e) {
    throw internalError('CATALOG_MIGRATIONS_MISSING', `cannot read the schema migrations in ${dir}`, { cause: e });
  }
  const migrations: Migration[] = [];
  for (const name of names) {
    const m = MIGRATION_FILE.exec(name);
    if (!m) throw internalError('CATALOG_MIGRATION_NAME', `migration file name not NNNN_name.sql: ${name}`, { file: path.join(dir, name) });
    const version = Number(m[1]);
    // numbering must be 1, 2, 3 … so a missing or duplicated file is caught, not skipped
    if (version !== migrations.length + 1) {
      throw internalError('CATALOG_MIGRATION_ORDER', `migration ${name} should be number ${migrations.length + 1}`, { file: path.join(dir, name) });
    }
    migrations.push({ version, name, sql: fs.readFileSync(path.join(dir, name), 'utf8') });
  }
  if (migrations.length === 0) throw internalError('CATALOG_MIGRATIONS_MISSING', `no schema migrations in ${dir}`);
  return migrations;
}

export function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Bring the schema to the newest version, one migration per IMMEDIATE transaction. The version
 * is re-read inside the transaction, so two processes opening a fresh catalog at once apply
 * each migration exactly once.
 */
export function applyMigrations(db: Database.Database, migrations: Migration[], options: { readonly: boolean; dir: string }): void {
  const latest = migrations[migrations.length - 1].version;
  const current = schemaVersion(db);
  if (current > latest) {
    throw internalError('CATALOG_TOO_NEW', `catalog schema version ${current} is newer than this cabferry understands (${latest}); use a newer cabferry`, { file: options.dir });
  }
  if (current === latest) return;
  if (options.readonly) {
    throw internalError('CATALOG_NEEDS_UPGRADE', `catalog schema version ${current} is older than ${latest}; run \`cabferry catalog init\` to upgrade it`, { file: options.dir });
  }
  for (const migration of migrations) {
    const rebuildsTables = FOREIGN_KEYS_OFF.test(migration.sql);
    // PRAGMA foreign_keys is a no-op inside a transaction: it is switched before BEGIN
    const foreignKeys = db.pragma('foreign_keys', { simple: true }) as number;
    if (rebuildsTables) db.pragma('foreign_keys = OFF');
    db.exec('BEGIN IMMEDIATE');
    try {
      if (schemaVersion(db) < migration.version) {
        db.exec(migration.sql);
        if (rebuildsTables) {
          const broken = db.pragma('foreign_key_check') as unknown[];
          if (broken.length > 0) throw new Error(`${broken.length} rows no longer match their foreign keys`);
        }
        db.pragma(`user_version = ${migration.version}`);
      }
      db.exec('COMMIT');
    } catch (e) {
      db.exec('ROLLBACK');
      throw internalError('CATALOG_MIGRATION_FAILED', `schema migration ${migration.name} failed: ${(e as Error).message}`, { file: options.dir, cause: e });
    } finally {
      if (rebuildsTables) db.pragma(`foreign_keys = ${foreignKeys ? 'ON' : 'OFF'}`);
    }
  }
}

/**
 * A migration that rebuilds a table others refer to (SQLite's documented procedure for changing a
 * constraint) carries this line: with foreign keys on, dropping the old table would cascade-delete
 * the child rows. The runner turns them off around it and checks every key before committing.
 */
const FOREIGN_KEYS_OFF = /^-- cabferry-migration: foreign-keys-off$/m;

import fs = require('node:fs');
import path = require('node:path');
import Database from 'better-sqlite3';
import { describeIoError, internalError, isCabferryError, usageError } from '../errors';
import { BlobStore } from './blob-store';
import { Catalog } from './catalog';
import { resolveCatalogDir } from './location';
import { applyMigrations, loadMigrations } from './migrations';
import { makeDirectories } from '../io/make-directories';

/**
 * How a catalog is opened: where it is, whether this command may create it, whether this process
 * can write it, and the read-only connection for catalogs it cannot. The catalog itself is one
 * SQLite database (catalog.sqlite, WAL) and the blob store beside it; every change is one
 * IMMEDIATE transaction, so concurrent importers queue on the write lock (busy timeout) instead
 * of failing, and readers never see half an import.
 */

export const DATABASE_FILE = 'catalog.sqlite';
/** How long a writer waits for another process's transaction before giving up. */
const BUSY_TIMEOUT_MS = 30_000;

/**
 * What a command may do to the catalog it opens; the policy of issue 17: a catalog is created
 * only by the commands that write it, and a read-only command on a missing catalog says so
 * (exit 2) and creates nothing.
 */
export type CatalogAccess =
  /** import, trust add, catalog init: create (or upgrade) the catalog when it is missing */
  | 'create'
  /** trust remove, catalog check --repair: change an existing catalog; a missing one is an error */
  | 'write'
  /** plan, stage, export-blob, a verify's trust set: read an existing catalog, write nothing ever */
  | 'read'
  /**
   * catalog list/show/check, trust list: an existing catalog, opened as usual when this process
   * can write it and read-only when it cannot (a read-only mount, another user's files)
   */
  | 'read-where-writable';

export interface CatalogOptions {
  /** --catalog; resolved with resolveCatalogDir (CABFERRY_CATALOG, XDG data dir) when absent */
  dir?: string;
  /** default 'create' (the library's callers and tests build catalogs) */
  access?: CatalogAccess;
}

export function openCatalog(options: CatalogOptions = {}): Catalog {
  const access = options.access ?? 'create';
  const dir = resolveCatalogDir(options.dir);
  const dbPath = path.join(dir, DATABASE_FILE);
  refuseNonDirectory(dir);
  const blobs = new BlobStore(dir);
  const exists = fs.existsSync(dbPath);
  if (!exists && access !== 'create') {
    throw usageError('CATALOG_NOT_FOUND', `no catalog at ${dir} (create one with \`cabferry import\`, \`cabferry trust add\` or \`cabferry catalog init\`, or pass --catalog DIR)`, { file: dir });
  }
  const unwritable = exists ? unwritableReason(dir, blobs) : null;
  const readonly = access === 'read' || (access === 'read-where-writable' && unwritable !== null);
  if (!readonly) {
    if (unwritable !== null) {
      throw internalError('CATALOG_READONLY', `the catalog at ${dir} cannot be written (${unwritable}): importing, changing trust anchors and check --repair need write access; list, show and check work read-only`, { file: dir });
    }
    try {
      makeDirectories(dir);
      blobs.ensureLayout();
    } catch (e) {
      throw internalError('CATALOG_CREATE', `cannot create the catalog at ${dir}: ${describeIoError(e)}`, { cause: e });
    }
  }
  let db: Database.Database;
  try {
    db = readonly ? openDatabaseForReading(dbPath) : new Database(dbPath, { timeout: BUSY_TIMEOUT_MS });
  } catch (e) {
    if (isCabferryError(e)) throw e;
    throw openError(dir, dbPath, e);
  }
  try {
    if (!readonly) {
      db.pragma('journal_mode = WAL');
      // FULL: a payload reported "imported" survives a power cut, not just a crash
      db.pragma('synchronous = FULL');
    }
    db.pragma('foreign_keys = ON');
    applyMigrations(db, loadMigrations(), { readonly, dir });
  } catch (e) {
    db.close();
    if (e instanceof Database.SqliteError) throw openError(dir, dbPath, e);
    throw e;
  }
  return new Catalog(dir, db, blobs, readonly);
}

/**
 * --catalog naming a file (or a path through one) is a mistake of the command line: said as
 * such, before anything is created, instead of a mkdir errno.
 */
function refuseNonDirectory(dir: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return; // created on demand by the commands that may
    if (code === 'ENOTDIR') throw usageError('CATALOG_NOT_A_DIRECTORY', `the catalog path ${dir} passes through a file, not a folder (--catalog names a folder)`, { file: dir });
    throw internalError('CATALOG_OPEN', `cannot look at the catalog folder ${dir}: ${describeIoError(e)}`, { file: dir, cause: e });
  }
  if (!st.isDirectory()) throw usageError('CATALOG_NOT_A_DIRECTORY', `the catalog path ${dir} is a file, not a folder (--catalog names the folder holding catalog.sqlite)`, { file: dir });
}

/**
 * SQLite reports a full disk met while opening (no room for the -wal/-shm files) as a bare
 * "disk I/O error"; the free space of the catalog's file system tells the operator the cause.
 */
function openError(dir: string, dbPath: string, e: unknown): Error {
  let st: fs.StatsFs | null = null;
  try {
    st = fs.statfsSync(dir);
  } catch {
    /* no statfs: the message alone */
  }
  const message = e instanceof Error ? e.message : String(e);
  const free = st === null ? null : Number(st.bavail) * Number(st.bsize);
  if (free !== null && free < 1024 * 1024) {
    return internalError('CATALOG_NO_SPACE', `cannot open ${dbPath}: ${message}: the file system holding the catalog is full (${free} bytes free)`, { cause: e });
  }
  if (st !== null && Number(st.files) > 0 && Number(st.ffree) === 0) {
    return internalError('CATALOG_NO_SPACE', `cannot open ${dbPath}: ${message}: the file system holding the catalog has no free file entries (inodes)`, { cause: e });
  }
  return internalError('CATALOG_OPEN', `cannot open ${dbPath}: ${message}`, { cause: e });
}

/**
 * Why this process cannot change the catalog (EROFS: a read-only mount; EACCES: permissions),
 * or null when it can. Asked before opening, because SQLite would otherwise open a read-only
 * file "successfully" and fail later with a message that names no cause.
 */
function unwritableReason(dir: string, blobs: BlobStore): string | null {
  for (const p of [dir, path.join(dir, DATABASE_FILE), blobs.blobsDir, blobs.tmpDir]) {
    try {
      fs.accessSync(p, fs.constants.W_OK);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') continue; // created on first use
      return `${p}: ${code === 'EROFS' ? 'read-only file system' : code === 'EACCES' ? 'permission denied' : code ?? String(e)}`;
    }
  }
  return null;
}

/**
 * A read-only connection. In WAL mode SQLite needs the -shm index beside the database, and
 * creates it when missing — impossible in a folder this process cannot write. When there is no
 * -wal file either, the database file alone holds every committed transaction, so it is read
 * as a private in-memory image (marked as a rollback-journal database, which is all the WAL
 * flag changes) — exactly what is committed, and nothing written anywhere.
 */
function openDatabaseForReading(dbPath: string): Database.Database {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
  try {
    db.pragma('schema_version'); // the first read opens the WAL index
    return db;
  } catch (e) {
    db.close();
    const code = (e as { code?: string }).code;
    if (code !== 'SQLITE_READONLY_DIRECTORY' && code !== 'SQLITE_CANTOPEN') throw e;
    if (fs.existsSync(`${dbPath}-wal`)) {
      throw internalError('CATALOG_OPEN', `cannot read ${dbPath}: its write-ahead log (${path.basename(dbPath)}-wal) needs an index file that this folder cannot hold; open the catalog once with write access`, { cause: e });
    }
  }
  const image = fs.readFileSync(dbPath);
  if (image.length < 100 || image.subarray(0, 16).toString('latin1') !== 'SQLite format 3\0') {
    throw internalError('CATALOG_OPEN', `cannot open ${dbPath}: not an SQLite database`);
  }
  // header bytes 18 and 19: file format write/read version, 2 = WAL, 1 = rollback journal
  image[18] = 1;
  image[19] = 1;
  return new Database(image, { readonly: true });
}


import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { internalError, usageError } from '../errors';
import { trustAnchorsFromDer, type TrustAnchor } from '../authenticode/trust';
import type { Payload } from '../package/types';
import { assertSha256, BlobStore, type BlobTempFile } from './blob-store';
import { resolveCatalogDir } from './location';
import { applyMigrations, loadMigrations, schemaVersion } from './migrations';
import type {
  CatalogEntry,
  ImportEvent,
  ImportOutcome,
  MemberRecord,
  NewCatalogEntry,
  PayloadFilter,
  PayloadStatus,
  SignatureRecord,
  TrustAnchorRecord,
} from './types';

/**
 * The catalog: one SQLite database (catalog.sqlite, WAL) and the blob store beside it. Every
 * change is one IMMEDIATE transaction, so concurrent importers queue on the write lock (busy
 * timeout) instead of failing, and readers never see half an import.
 */

export const DATABASE_FILE = 'catalog.sqlite';
/** How long a writer waits for another process's transaction before giving up. */
const BUSY_TIMEOUT_MS = 30_000;

export interface CatalogOptions {
  /** --catalog; resolved with resolveCatalogDir (CABFERRY_CATALOG, XDG data dir) when absent */
  dir?: string;
  /** open for reading only: never creates or upgrades anything */
  readonly?: boolean;
  /**
   * For commands that only read (catalog list/show/check without --repair, trust list): an
   * existing catalog this process cannot write (a read-only mount, another user's files) is
   * opened read-only instead of refused; a writable or missing one opens as usual.
   */
  readonlyIfUnwritable?: boolean;
}

export function openCatalog(options: CatalogOptions = {}): Catalog {
  const dir = resolveCatalogDir(options.dir);
  const dbPath = path.join(dir, DATABASE_FILE);
  const blobs = new BlobStore(dir);
  const unwritable = fs.existsSync(dbPath) ? unwritableReason(dir, blobs) : null;
  const readonly = (options.readonly ?? false) || (unwritable !== null && options.readonlyIfUnwritable === true);
  if (readonly) {
    if (!fs.existsSync(dbPath)) {
      throw usageError('CATALOG_NOT_FOUND', `no catalog at ${dir} (import payloads first, or pass --catalog DIR)`);
    }
  } else if (unwritable !== null) {
    throw internalError('CATALOG_READONLY', `the catalog at ${dir} cannot be written (${unwritable}): importing, changing trust anchors and check --repair need write access; list, show and check work read-only`, { file: dir });
  } else {
    try {
      fs.mkdirSync(dir, { recursive: true });
      blobs.ensureLayout();
    } catch (e) {
      throw internalError('CATALOG_CREATE', `cannot create the catalog at ${dir}: ${(e as NodeJS.ErrnoException).code ?? e}`, { cause: e });
    }
  }
  let db: Database.Database;
  try {
    db = readonly ? openDatabaseForReading(dbPath) : new Database(dbPath, { timeout: BUSY_TIMEOUT_MS });
  } catch (e) {
    if (e instanceof Error && e.name === 'CabferryError') throw e;
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
    if (e instanceof Error && e.name === 'SqliteError') {
      throw openError(dir, dbPath, e);
    }
    throw e;
  }
  return new Catalog(dir, db, blobs, readonly);
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

/** "KB4493730", "kb4493730" or "4493730" → "KB4493730". */
export function normalizeKb(kb: string): string {
  const m = /^(?:kb)?(\d{4,8})$/i.exec(kb.trim());
  if (!m) throw usageError('BAD_KB', `not a KB number: ${JSON.stringify(kb)}`);
  return `KB${m[1]}`;
}

interface PayloadRow {
  sha256: string;
  size: number;
  status: PayloadStatus;
  reject_code: string | null;
  reject_reason: string | null;
  file_name: string;
  sha1_only_allowed: number;
  verdict: string | null;
  payload_json: string | null;
  first_imported_at: string;
}

interface SignatureRow {
  position: number;
  nested: number;
  digest_algorithm: string | null;
  signer: string | null;
  issuer: string | null;
  timestamp_kind: string | null;
  timestamp_time: string | null;
  timestamp_authority: string | null;
  valid: number;
  code: string | null;
  reason: string | null;
}

interface EventRow {
  id: number;
  at: string;
  who: string;
  host: string;
  pid: number;
  source: string;
  entry: string | null;
  sha256: string | null;
  size: number | null;
  outcome: ImportOutcome;
  verdict: string | null;
  code: string | null;
  reason: string | null;
  cabferry_version: string;
}

export class Catalog {
  constructor(
    readonly dir: string,
    readonly db: Database.Database,
    readonly blobs: BlobStore,
    readonly readonly: boolean,
  ) {}

  get schemaVersion(): number {
    return schemaVersion(this.db);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  blobPath(sha256: string): string {
    return this.blobs.blobPath(sha256);
  }

  // ---- what the planner and the media stage read: imported payloads only -------------------

  /** Payloads the planner may use: signature valid and metadata verified, never quarantined. */
  payloads(filter: PayloadFilter = {}): Payload[] {
    return this.selectEntries(filter, 'imported').map((row) => parsePayload(row));
  }

  /** An imported payload by the SHA-256 of its file; null if absent or only quarantined. */
  payloadBySha256(sha256: string): Payload | null {
    const row = this.db
      .prepare<[string], PayloadRow>(`SELECT * FROM payloads WHERE sha256 = ? AND status = 'imported'`)
      .get(assertSha256(sha256));
    return row ? parsePayload(row) : null;
  }

  // ---- the full record, for `catalog list/show` -----------------------------------------------

  entries(filter: PayloadFilter = {}, status?: PayloadStatus): CatalogEntry[] {
    return this.selectEntries(filter, status).map((row) => this.toEntry(row));
  }

  entry(sha256: string): CatalogEntry | null {
    const row = this.db.prepare<[string], PayloadRow>('SELECT * FROM payloads WHERE sha256 = ?').get(assertSha256(sha256));
    return row ? this.toEntry(row) : null;
  }

  /** Size of every payload row, for `catalog check`. */
  payloadSizes(): Map<string, number> {
    const rows = this.db.prepare<[], { sha256: string; size: number }>('SELECT sha256, size FROM payloads').all();
    return new Map(rows.map((r) => [r.sha256, r.size]));
  }

  events(sha256?: string): ImportEvent[] {
    const rows = sha256
      ? this.db.prepare<[string], EventRow>('SELECT * FROM import_events WHERE sha256 = ? ORDER BY id').all(assertSha256(sha256))
      : this.db.prepare<[], EventRow>('SELECT * FROM import_events ORDER BY id').all();
    return rows.map((r) => ({
      id: r.id,
      at: r.at,
      who: r.who,
      host: r.host,
      pid: r.pid,
      source: r.source,
      entry: r.entry,
      sha256: r.sha256,
      size: r.size,
      outcome: r.outcome,
      verdict: r.verdict,
      code: r.code,
      reason: r.reason,
      cabferryVersion: r.cabferry_version,
    }));
  }

  private selectEntries(filter: PayloadFilter, status: PayloadStatus | undefined): PayloadRow[] {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (status !== undefined) {
      where.push('p.status = ?');
      params.push(status);
    }
    if (filter.kb !== undefined) {
      where.push('p.kb = ?');
      params.push(normalizeKb(filter.kb));
    }
    if (filter.arch !== undefined) {
      where.push('p.architecture = ? COLLATE NOCASE');
      params.push(filter.arch);
    }
    if (filter.kind !== undefined) {
      where.push('p.kind = ? COLLATE NOCASE');
      params.push(filter.kind);
    }
    if (filter.product !== undefined) {
      where.push('EXISTS (SELECT 1 FROM payload_products pp WHERE pp.sha256 = p.sha256 AND pp.product = ? COLLATE NOCASE)');
      params.push(filter.product);
    }
    const sql = `SELECT p.* FROM payloads p ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY p.kb, p.file_name, p.sha256`;
    return this.db.prepare<(string | number)[], PayloadRow>(sql).all(...params);
  }

  private toEntry(row: PayloadRow): CatalogEntry {
    const signatures = this.db
      .prepare<[string], SignatureRow>('SELECT * FROM signatures WHERE sha256 = ? ORDER BY position')
      .all(row.sha256)
      .map(
        (s): SignatureRecord => ({
          position: s.position,
          nested: s.nested === 1,
          digestAlgorithm: s.digest_algorithm,
          signer: s.signer,
          issuer: s.issuer,
          timestamp: s.timestamp_kind === null ? null : { kind: s.timestamp_kind, time: s.timestamp_time, authority: s.timestamp_authority },
          valid: s.valid === 1,
          code: s.code,
          reason: s.reason,
        }),
      );
    const members = this.db
      .prepare<[string], MemberRecord>('SELECT name, role, size FROM members WHERE sha256 = ? ORDER BY name')
      .all(row.sha256);
    return {
      sha256: row.sha256,
      size: row.size,
      status: row.status,
      fileName: row.file_name,
      rejectCode: row.reject_code,
      rejectReason: row.reject_reason,
      sha1OnlyAllowed: row.sha1_only_allowed === 1,
      firstImportedAt: row.first_imported_at,
      payload: row.payload_json === null ? null : parsePayload(row),
      verdict: row.verdict,
      signatures,
      members,
    };
  }

  // ---- writes ---------------------------------------------------------------------------------

  /**
   * Commit one checked payload: move its fsynced temp file into the blob store and insert its
   * rows, all under the write lock, so `catalog check --repair` (which takes the same lock)
   * can never mistake a blob for an orphan while its row is being written. Returns what
   * happened: a new entry, a duplicate (nothing changed but the log), a quarantined entry
   * promoted to imported, or a blob restored under an existing row.
   */
  storeEntry(temp: BlobTempFile, entry: NewCatalogEntry, event: Omit<ImportEvent, 'outcome' | 'sha256' | 'size'>): ImportOutcome {
    this.assertWritable();
    return this.withWriteLock((): ImportOutcome => {
      const existing = this.db.prepare<[string], { status: PayloadStatus }>('SELECT status FROM payloads WHERE sha256 = ?').get(entry.sha256);
      let outcome: ImportOutcome;
      if (existing === undefined) {
        this.publishBlob(temp, entry);
        this.insertEntry(entry);
        outcome = entry.status;
      } else if (existing.status === 'quarantined' && entry.status === 'imported') {
        // e.g. the operator added the missing trust anchor: the same bytes now pass
        this.db.prepare('DELETE FROM payloads WHERE sha256 = ?').run(entry.sha256);
        this.publishBlob(temp, entry);
        this.insertEntry(entry);
        outcome = 'imported';
      } else if (this.blobs.blobSize(entry.sha256) !== entry.size) {
        // the row survived but its bytes were lost: the same file brings them back
        this.blobs.publish(temp, entry.sha256);
        outcome = 'restored';
      } else {
        outcome = 'duplicate';
      }
      this.insertEvent({ ...event, outcome, sha256: entry.sha256, size: entry.size });
      return outcome;
    });
  }

  /** Log a file that was offered but not stored (rejected without --quarantine, or unreadable). */
  recordEvent(event: ImportEvent): void {
    this.assertWritable();
    this.withWriteLock(() => this.insertEvent(event));
  }

  /**
   * Take the write lock for `fn` (e.g. `catalog check --repair`), so no import commits while
   * it decides what is an orphan.
   */
  withWriteLock<T>(fn: () => T): T {
    this.assertWritable();
    try {
      return this.db.transaction(fn).immediate();
    } catch (e) {
      // SQLITE_FULL, SQLITE_IOERR …: the transaction rolled back; say so with the catalog's name
      if (e instanceof Error && e.name === 'SqliteError') {
        throw internalError('CATALOG_WRITE', `cannot write the catalog ${path.join(this.dir, DATABASE_FILE)}: ${e.message}; the change was rolled back`, { cause: e });
      }
      throw e;
    }
  }

  private publishBlob(temp: BlobTempFile, entry: NewCatalogEntry): void {
    if (this.blobs.blobSize(entry.sha256) === entry.size) return; // identical bytes already stored
    this.blobs.publish(temp, entry.sha256);
  }

  private insertEntry(e: NewCatalogEntry): void {
    const p = e.payload;
    this.db
      .prepare(
        `INSERT INTO payloads (sha256, size, status, reject_code, reject_reason, file_name, format, kb, title, product,
           nt_version, architecture, kind, release_type, restart, unpacked_size, signatures, sha1_only_allowed,
           metadata_verified, metadata_reason, verdict, payload_json, verdict_json, first_imported_at)
         VALUES (@sha256, @size, @status, @rejectCode, @rejectReason, @fileName, @format, @kb, @title, @product,
           @ntVersion, @architecture, @kind, @releaseType, @restart, @unpackedSize, @signatures, @sha1OnlyAllowed,
           @metadataVerified, @metadataReason, @verdict, @payloadJson, @verdictJson, @at)`,
      )
      .run({
        sha256: e.sha256,
        size: e.size,
        status: e.status,
        rejectCode: e.rejectCode ?? null,
        rejectReason: e.rejectReason ?? null,
        fileName: e.fileName,
        format: p?.format ?? null,
        kb: p?.kb ?? null,
        title: p?.title ?? null,
        product: p?.product ?? null,
        ntVersion: p?.ntVersion ?? null,
        architecture: p?.architecture ?? null,
        kind: p?.kind ?? null,
        releaseType: p?.releaseType ?? null,
        restart: p?.restart ?? null,
        unpackedSize: p?.unpackedSize ?? null,
        signatures: p?.signatures ?? null,
        sha1OnlyAllowed: e.sha1OnlyAllowed ? 1 : 0,
        metadataVerified: p?.metadataVerified ? 1 : 0,
        metadataReason: p?.metadataReason ?? null,
        verdict: e.verdict,
        payloadJson: p === null ? null : JSON.stringify(p),
        verdictJson: e.verdictDocument === undefined ? null : JSON.stringify(e.verdictDocument),
        at: new Date().toISOString(),
      });
    if (p !== null) {
      const products = new Set([p.product, ...(p.products ?? [])].filter((x): x is string => typeof x === 'string' && x !== ''));
      const insertProduct = this.db.prepare('INSERT INTO payload_products (sha256, product) VALUES (?, ?)');
      for (const product of products) insertProduct.run(e.sha256, product);
      const insertParent = this.db.prepare(
        `INSERT INTO parents (sha256, position, kb, identity_name, identity_version, architecture, disposition, integrate,
           build_compare, service_compare, revision_compare) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      p.parents.forEach((parent, i) =>
        insertParent.run(
          e.sha256, i, parent.kb, parent.identity.name, parent.identity.version ?? null, parent.identity.processorArchitecture ?? null,
          parent.disposition ?? null, parent.integrate ?? null, parent.buildCompare ?? null, parent.serviceCompare ?? null,
          parent.revisionCompare ?? null,
        ),
      );
    }
    const insertSignature = this.db.prepare(
      `INSERT INTO signatures (sha256, position, nested, digest_algorithm, signer, issuer, timestamp_kind, timestamp_time,
         timestamp_authority, valid, code, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const s of e.signatures) {
      insertSignature.run(
        e.sha256, s.position, s.nested ? 1 : 0, s.digestAlgorithm, s.signer, s.issuer, s.timestamp?.kind ?? null,
        s.timestamp?.time ?? null, s.timestamp?.authority ?? null, s.valid ? 1 : 0, s.code, s.reason,
      );
    }
    const insertMember = this.db.prepare('INSERT OR IGNORE INTO members (sha256, name, role, size) VALUES (?, ?, ?, ?)');
    for (const m of e.members) insertMember.run(e.sha256, m.name, m.role, m.size);
  }

  private insertEvent(e: ImportEvent): void {
    this.db
      .prepare(
        `INSERT INTO import_events (at, who, host, pid, source, entry, sha256, size, outcome, verdict, code, reason, cabferry_version)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(e.at, e.who, e.host, e.pid, e.source, e.entry, e.sha256, e.size, e.outcome, e.verdict, e.code, e.reason, e.cabferryVersion);
  }

  // ---- trust anchors --------------------------------------------------------------------------

  /** The catalog's configured trust set: what import/verify use when no --trust is given. */
  trustAnchors(): TrustAnchor[] {
    return this.trustAnchorRecords().flatMap((r) => trustAnchorsFromDer([r.der], `catalog trust anchor ${r.fingerprint.slice(0, 16)} (from ${r.source})`));
  }

  trustAnchorRecords(): TrustAnchorRecord[] {
    return this.db
      .prepare<[], { fingerprint: string; subject: string; issuer: string; not_before: string; not_after: string; source: string; added_at: string; der: Buffer }>(
        'SELECT * FROM trust_anchors ORDER BY subject, fingerprint',
      )
      .all()
      .map((r) => ({
        fingerprint: r.fingerprint,
        subject: r.subject,
        issuer: r.issuer,
        notBefore: r.not_before,
        notAfter: r.not_after,
        source: r.source,
        addedAt: r.added_at,
        der: r.der,
      }));
  }

  /** Add anchors; returns, per fingerprint, whether it was new. */
  addTrustAnchors(records: TrustAnchorRecord[]): Map<string, boolean> {
    this.assertWritable();
    const added = new Map<string, boolean>();
    this.withWriteLock(() => {
      const insert = this.db.prepare(
        `INSERT OR IGNORE INTO trust_anchors (fingerprint, subject, issuer, not_before, not_after, der, source, added_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      for (const r of records) {
        const info = insert.run(r.fingerprint, r.subject, r.issuer, r.notBefore, r.notAfter, r.der, r.source, r.addedAt);
        added.set(r.fingerprint, info.changes === 1);
      }
    });
    return added;
  }

  /** Remove the anchor whose fingerprint is (or uniquely starts with) `fingerprint`; returns what was removed. */
  removeTrustAnchor(fingerprint: string): TrustAnchorRecord {
    this.assertWritable();
    const wanted = fingerprint.toLowerCase().replace(/[^0-9a-f]/g, '');
    if (wanted.length < 8) throw usageError('BAD_FINGERPRINT', `give at least 8 hex digits of the SHA-256 fingerprint: ${JSON.stringify(fingerprint)}`);
    return this.withWriteLock(() => {
      const matches = this.trustAnchorRecords().filter((r) => r.fingerprint.startsWith(wanted));
      if (matches.length === 0) throw usageError('TRUST_ANCHOR_NOT_FOUND', `no trust anchor with fingerprint ${fingerprint}`);
      if (matches.length > 1) throw usageError('TRUST_ANCHOR_AMBIGUOUS', `${matches.length} trust anchors start with ${fingerprint}; give more digits`);
      this.db.prepare('DELETE FROM trust_anchors WHERE fingerprint = ?').run(matches[0].fingerprint);
      return matches[0];
    });
  }

  private assertWritable(): void {
    if (this.readonly) throw internalError('CATALOG_READONLY', 'catalog opened read-only');
  }
}

function parsePayload(row: PayloadRow): Payload {
  if (row.payload_json === null) throw internalError('CATALOG_ROW_INCOMPLETE', `payload ${row.sha256} has no metadata`);
  return JSON.parse(row.payload_json) as Payload;
}

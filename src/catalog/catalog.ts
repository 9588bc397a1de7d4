import path = require('node:path');
import Database from 'better-sqlite3';
import { internalError, usageError } from '../errors';
import type { TrustAnchor } from '../authenticode/trust';
import type { FileVerdict } from '../authenticode/cab';
import type { Payload } from '../package/types';
import { assertSha256, BlobStore, describeStoredBlob, type BlobTempFile, type StoredBlobState } from './blob-store';
import { schemaVersion } from './migrations';
import { DATABASE_FILE } from './open';
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
import { TRUST_PURPOSES, trustAnchorsOf, type TrustPurpose } from './trust';
import { isoTime } from '../iso-time';

/**
 * The catalog's data access: one SQLite connection and the blob store beside it. How a catalog
 * is found, created, refused or opened read-only is decided in ./open.ts.
 */
export { DATABASE_FILE, openCatalog, type CatalogAccess, type CatalogOptions } from './open';

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

/** What storeEntry did: the outcome, and for a restored blob why it had to be (missing, or altered on disk). */
export interface StoredEntry {
  outcome: ImportOutcome;
  note: string | null;
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

/** An anchor `trust remove` took out of the payload trust set: its certificate too (null for removals before schema 4). */
export interface RemovedTrustAnchor {
  subject: string;
  removedAt: string;
  der: Buffer | null;
}

/** A certificate to trust, before it has purposes in the catalog. */
export type TrustAnchorCertificate = Omit<TrustAnchorRecord, 'purposes'>;

export interface AddedTrustAnchor {
  /** false when the catalog already held this certificate */
  added: boolean;
  /** the purposes it did not have before (empty: it already served every one asked for) */
  gained: TrustPurpose[];
}

export interface RemovedPurposes {
  /** the anchor as it was before */
  anchor: TrustAnchorRecord;
  /** the purposes taken away */
  taken: TrustPurpose[];
  /** the purposes it still serves (empty: the anchor is gone) */
  left: TrustPurpose[];
}

interface TrustAnchorRow {
  fingerprint: string;
  subject: string;
  issuer: string;
  not_before: string;
  not_after: string;
  source: string;
  added_at: string;
  der: Buffer;
  for_payloads: number;
  for_signatures: number;
}

function trustAnchorRecordOf(r: TrustAnchorRow): TrustAnchorRecord {
  const held = { payloads: r.for_payloads === 1, signatures: r.for_signatures === 1 };
  return {
    fingerprint: r.fingerprint,
    subject: r.subject,
    issuer: r.issuer,
    notBefore: r.not_before,
    notAfter: r.not_after,
    source: r.source,
    addedAt: r.added_at,
    der: r.der,
    purposes: TRUST_PURPOSES.filter((p) => held[p]),
  };
}

function purposeColumns(purposes: readonly TrustPurpose[]): Record<TrustPurpose, boolean> {
  return { payloads: purposes.includes('payloads'), signatures: purposes.includes('signatures') };
}

export class Catalog {
  constructor(
    readonly dir: string,
    readonly db: Database.Database,
    readonly blobs: BlobStore,
    readonly readonly: boolean,
  ) {}

  /** Every statement this connection ran, by its SQL text: each is prepared once per connection. */
  private readonly statements = new Map<string, Database.Statement>();

  /** The prepared statement for `sql`, prepared on first use and reused for the connection's life. */
  private prepare<P extends unknown[] = unknown[], R = unknown>(sql: string): Database.Statement<P, R> {
    let statement = this.statements.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement as unknown as Database.Statement<P, R>;
  }

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
    const row = this
      .prepare<[string], PayloadRow>(`SELECT * FROM payloads WHERE sha256 = ? AND status = 'imported'`)
      .get(assertSha256(sha256));
    return row ? parsePayload(row) : null;
  }

  // ---- the full record, for `catalog list/show` -----------------------------------------------

  entries(filter: PayloadFilter = {}, status?: PayloadStatus): CatalogEntry[] {
    return this.selectEntries(filter, status).map((row) => this.toEntry(row));
  }

  entry(sha256: string): CatalogEntry | null {
    const row = this.prepare<[string], PayloadRow>('SELECT * FROM payloads WHERE sha256 = ?').get(assertSha256(sha256));
    return row ? this.toEntry(row) : null;
  }

  /**
   * The signature verdict exactly as the importer computed it (chains, timestamp chains, the time
   * each chain was checked at); null when the row keeps none. Read for evidence, never re-judged.
   */
  importVerdict(sha256: string): FileVerdict | null {
    const row = this.db.prepare<[string], { verdict_json: string | null }>('SELECT verdict_json FROM payloads WHERE sha256 = ?').get(assertSha256(sha256));
    if (!row || row.verdict_json === null) return null;
    try {
      return JSON.parse(row.verdict_json) as FileVerdict;
    } catch (e) {
      throw internalError('CATALOG_VERDICT_UNREADABLE', `the stored signature verdict of ${sha256} is not JSON: ${(e as Error).message}`, { cause: e });
    }
  }

  /**
   * What live trust judges a payload's signatures with: the verdict the import stored (null when
   * the row keeps none) and when the payload was first imported; null when there is no such row.
   */
  trustEvidence(sha256: string): { verdict: FileVerdict | null; importedAt: string } | null {
    const row = this
      .prepare<[string], { verdict_json: string | null; first_imported_at: string }>('SELECT verdict_json, first_imported_at FROM payloads WHERE sha256 = ?')
      .get(assertSha256(sha256));
    if (!row) return null;
    return { verdict: row.verdict_json === null ? null : this.importVerdict(sha256), importedAt: row.first_imported_at };
  }

  /** Size of every payload row, for `catalog check`. */
  payloadSizes(): Map<string, number> {
    const rows = this.prepare<[], { sha256: string; size: number }>('SELECT sha256, size FROM payloads').all();
    return new Map(rows.map((r) => [r.sha256, r.size]));
  }

  /**
   * Those of `sha256s` this catalog has never met: it holds no row for them (imported or
   * quarantined) and its audit log names them in no line (a rejection leaves only that line).
   */
  neverMet(sha256s: readonly string[]): string[] {
    const met = this.prepare<[string, string], { met: number }>(
      'SELECT EXISTS (SELECT 1 FROM payloads WHERE sha256 = ?) OR EXISTS (SELECT 1 FROM import_events WHERE sha256 = ?) AS met',
    );
    return sha256s.filter((sha256) => met.get(assertSha256(sha256), sha256)!.met === 0);
  }

  events(sha256?: string): ImportEvent[] {
    const rows = sha256
      ? this.prepare<[string], EventRow>('SELECT * FROM import_events WHERE sha256 = ? ORDER BY id').all(assertSha256(sha256))
      : this.prepare<[], EventRow>('SELECT * FROM import_events ORDER BY id').all();
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
    if (filter.sha256Prefix !== undefined) {
      // a range, not LIKE: the primary key's index answers it, and no character of the prefix is a pattern
      if (!/^[0-9a-f]{1,64}$/.test(filter.sha256Prefix)) throw internalError('CATALOG_BAD_PREFIX', `not a lowercase hex SHA-256 prefix: ${filter.sha256Prefix}`);
      where.push('p.sha256 >= ? AND p.sha256 <= ?');
      params.push(filter.sha256Prefix, filter.sha256Prefix.padEnd(64, 'f'));
    }
    if (filter.product !== undefined) {
      where.push('EXISTS (SELECT 1 FROM payload_products pp WHERE pp.sha256 = p.sha256 AND pp.product = ? COLLATE NOCASE)');
      params.push(filter.product);
    }
    const sql = `SELECT p.* FROM payloads p ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY p.kb, p.file_name, p.sha256`;
    return this.prepare<(string | number)[], PayloadRow>(sql).all(...params);
  }

  private toEntry(row: PayloadRow): CatalogEntry {
    const signatures = this
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
    const members = this
      .prepare<[string], MemberRecord>('SELECT name, role, size FROM members WHERE sha256 = ? ORDER BY name')
      .all(row.sha256);
    return {
      sha256: row.sha256,
      size: row.size,
      status: row.status,
      fileName: row.file_name,
      sourceNames: this.sourceNames(row.sha256, row.file_name),
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

  /**
   * The names a payload arrived under, from the import log (every import, duplicate and restore
   * records its file or entry): history only, never how the payload is named on the media.
   */
  private sourceNames(sha256: string, firstName: string): string[] {
    const rows = this
      .prepare<[string], { source: string; entry: string | null }>(`SELECT source, entry FROM import_events WHERE sha256 = ? AND outcome <> 'rejected' ORDER BY id`)
      .all(sha256);
    const names = [firstName, ...rows.map((r) => (r.entry !== null ? path.posix.basename(r.entry.replace(/\\/g, '/')) : path.basename(r.source)))];
    return [...new Set(names)];
  }

  // ---- writes ---------------------------------------------------------------------------------

  /**
   * Commit one checked payload: move its fsynced temp file into the blob store and insert its
   * rows, all under the write lock, so `catalog check --repair` (which takes the same lock)
   * can never mistake a blob for an orphan while its row is being written. Returns what
   * happened: a new entry, a duplicate (the stored blob holds these bytes; nothing changed but
   * the log), a quarantined entry promoted to imported, or a blob restored under an existing row
   * (it was missing or altered on disk; `note` says which, and the import log records it).
   *
   * `stored` is the existing blob's state as the caller judged it before the lock
   * (BlobStore.storedState reads the whole blob, too slow to hold the lock for); without it, it
   * is judged here.
   */
  storeEntry(temp: BlobTempFile, entry: NewCatalogEntry, event: Omit<ImportEvent, 'outcome' | 'sha256' | 'size'>, stored?: StoredBlobState): StoredEntry {
    this.assertWritable();
    return this.withWriteLock((): StoredEntry => {
      const existing = this.prepare<[string], { status: PayloadStatus }>('SELECT status FROM payloads WHERE sha256 = ?').get(entry.sha256);
      let outcome: ImportOutcome;
      let note: string | null = null;
      if (existing === undefined) {
        this.blobs.publish(temp, entry.sha256);
        this.insertEntry(entry);
        outcome = entry.status;
      } else if (existing.status === 'quarantined' && entry.status === 'imported') {
        // e.g. the operator added the missing trust anchor: the same bytes now pass
        this.prepare('DELETE FROM payloads WHERE sha256 = ?').run(entry.sha256);
        this.blobs.publish(temp, entry.sha256);
        this.insertEntry(entry);
        outcome = 'imported';
      } else {
        const state = this.storedStateUnderLock(entry, stored);
        if (state.state === 'intact') {
          outcome = 'duplicate';
        } else {
          // the row survived but its bytes were lost or altered: the same, verified file puts them back
          this.blobs.publish(temp, entry.sha256);
          outcome = 'restored';
          note = state.state === 'missing' ? 'the stored blob was missing; the verified bytes were stored again' : `the stored blob was altered on disk (${describeStoredBlob(state, entry.size)}); the verified bytes replaced it`;
        }
      }
      this.insertEvent({ ...event, outcome, sha256: entry.sha256, size: entry.size, reason: note ?? event.reason });
      return { outcome, note };
    });
  }

  /**
   * The existing blob's state now. Judged intact before the lock, it still is unless it was
   * removed or resized since (a cheap look; only a verified import replaces a blob's bytes);
   * judged missing or altered, the verified bytes go in whatever happened since.
   */
  private storedStateUnderLock(entry: NewCatalogEntry, judged: StoredBlobState | undefined): StoredBlobState {
    if (judged === undefined) return this.blobs.storedState(entry.sha256, entry.size);
    if (judged.state === 'intact' && this.blobs.blobSize(entry.sha256) !== entry.size) return this.blobs.storedState(entry.sha256, entry.size);
    return judged;
  }

  /**
   * Write facts an imported payload's record lacks (`catalog check --deep --repair`, from its
   * verified blob): only keys the record does not have, only while it is the record that was
   * read; false when it changed meanwhile (nothing written).
   */
  addPayloadFacts(sha256: string, facts: Record<string, unknown>): boolean {
    return this.withWriteLock(() => {
      const row = this.db.prepare(`SELECT payload_json FROM payloads WHERE sha256 = ? AND status = 'imported'`).get(sha256) as { payload_json: string | null } | undefined;
      if (row === undefined || row.payload_json === null) return false;
      const record = JSON.parse(row.payload_json) as Record<string, unknown>;
      for (const key of Object.keys(facts)) if (key in record) return false;
      const written = this.db.prepare('UPDATE payloads SET payload_json = ? WHERE sha256 = ? AND payload_json = ?').run(JSON.stringify({ ...record, ...facts }), sha256, row.payload_json);
      return written.changes === 1;
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
      if (e instanceof Database.SqliteError) {
        throw internalError('CATALOG_WRITE', `cannot write the catalog ${path.join(this.dir, DATABASE_FILE)}: ${e.message}; the change was rolled back`, { cause: e });
      }
      throw e;
    }
  }

  private insertEntry(e: NewCatalogEntry): void {
    const p = e.payload;
    this
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
        at: isoTime(new Date()),
      });
    if (p !== null) {
      const products = new Set([p.product, ...(p.products ?? [])].filter((x): x is string => typeof x === 'string' && x !== ''));
      const insertProduct = this.prepare('INSERT INTO payload_products (sha256, product) VALUES (?, ?)');
      for (const product of products) insertProduct.run(e.sha256, product);
      const insertParent = this.prepare(
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
    const insertSignature = this.prepare(
      `INSERT INTO signatures (sha256, position, nested, digest_algorithm, signer, issuer, timestamp_kind, timestamp_time,
         timestamp_authority, valid, code, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const s of e.signatures) {
      insertSignature.run(
        e.sha256, s.position, s.nested ? 1 : 0, s.digestAlgorithm, s.signer, s.issuer, s.timestamp?.kind ?? null,
        s.timestamp?.time ?? null, s.timestamp?.authority ?? null, s.valid ? 1 : 0, s.code, s.reason,
      );
    }
    const insertMember = this.prepare('INSERT OR IGNORE INTO members (sha256, name, role, size) VALUES (?, ?, ?, ?)');
    for (const m of e.members) insertMember.run(e.sha256, m.name, m.role, m.size);
  }

  private insertEvent(e: ImportEvent): void {
    this
      .prepare(
        `INSERT INTO import_events (at, who, host, pid, source, entry, sha256, size, outcome, verdict, code, reason, cabferry_version)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(e.at, e.who, e.host, e.pid, e.source, e.entry, e.sha256, e.size, e.outcome, e.verdict, e.code, e.reason, e.cabferryVersion);
  }

  // ---- trust anchors --------------------------------------------------------------------------

  /**
   * The catalog's anchors for one purpose: what import/verify and live trust use (payloads), or
   * what a bundle's or medium's signature and a --sign-cert are checked against (signatures), when
   * no --trust is given. An anchor never serves a purpose it was not added for.
   */
  trustAnchors(purpose: TrustPurpose): TrustAnchor[] {
    return trustAnchorsOf(this.trustAnchorRecords().filter((r) => r.purposes.includes(purpose)));
  }

  /** Every anchor, with its purposes. */
  trustAnchorRecords(): TrustAnchorRecord[] {
    return this
      .prepare<[], TrustAnchorRow>('SELECT * FROM trust_anchors ORDER BY subject, fingerprint')
      .all()
      .map(trustAnchorRecordOf);
  }

  /** Anchors whose payload purpose was taken away (`trust remove`) and not given back since, by fingerprint. */
  removedTrustAnchors(): Map<string, RemovedTrustAnchor> {
    const rows = this.prepare<[], { fingerprint: string; subject: string; removed_at: string; der: Buffer | null }>('SELECT * FROM trust_anchor_removals').all();
    return new Map(rows.map((r) => [r.fingerprint, { subject: r.subject, removedAt: r.removed_at, der: r.der }]));
  }

  /**
   * Trust each certificate for `purposes`: a new one is added with them, one the catalog holds
   * gains those it lacked (its other purposes, source and time stay). Returns, per fingerprint,
   * whether the row is new and which purposes it gained (none: it had them all).
   */
  addTrustAnchors(records: TrustAnchorCertificate[], purposes: readonly TrustPurpose[]): Map<string, AddedTrustAnchor> {
    this.assertWritable();
    const wanted = purposeColumns(purposes);
    if (!wanted.payloads && !wanted.signatures) throw internalError('TRUST_NO_PURPOSE', 'an anchor is added for at least one purpose');
    const out = new Map<string, AddedTrustAnchor>();
    this.withWriteLock(() => {
      const existing = this.prepare<[string], TrustAnchorRow>('SELECT * FROM trust_anchors WHERE fingerprint = ?');
      const insert = this.prepare(
        `INSERT INTO trust_anchors (fingerprint, subject, issuer, not_before, not_after, der, source, added_at, for_payloads, for_signatures)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      const widen = this.prepare('UPDATE trust_anchors SET for_payloads = max(for_payloads, ?), for_signatures = max(for_signatures, ?) WHERE fingerprint = ?');
      // trusted for payloads again: no longer a removal that payloads can be untrusted since
      const unremove = this.prepare('DELETE FROM trust_anchor_removals WHERE fingerprint = ?');
      for (const r of records) {
        const row = existing.get(r.fingerprint);
        const had = row === undefined ? [] : trustAnchorRecordOf(row).purposes;
        if (row === undefined) insert.run(r.fingerprint, r.subject, r.issuer, r.notBefore, r.notAfter, r.der, r.source, r.addedAt, Number(wanted.payloads), Number(wanted.signatures));
        else widen.run(Number(wanted.payloads), Number(wanted.signatures), r.fingerprint);
        if (wanted.payloads) unremove.run(r.fingerprint);
        out.set(r.fingerprint, { added: row === undefined, gained: TRUST_PURPOSES.filter((p) => purposes.includes(p) && !had.includes(p)) });
      }
    });
    return out;
  }

  /**
   * Take `purposes` (all of them when not given) away from the anchor whose fingerprint is (or
   * uniquely starts with) `fingerprint`; an anchor left with none is deleted. Taking `payloads`
   * away is a removal for live trust: the certificate and the time are kept in
   * trust_anchor_removals, so payloads that chained to it are "untrusted since the anchor was
   * removed" whether the row is gone or still serves signatures.
   */
  removeTrustAnchor(fingerprint: string, purposes: readonly TrustPurpose[] = TRUST_PURPOSES): RemovedPurposes {
    this.assertWritable();
    const wanted = fingerprint.toLowerCase().replace(/[^0-9a-f]/g, '');
    if (wanted.length < 8) throw usageError('BAD_FINGERPRINT', `give at least 8 hex digits of the SHA-256 fingerprint: ${JSON.stringify(fingerprint)}`);
    return this.withWriteLock(() => {
      const matches = this.trustAnchorRecords().filter((r) => r.fingerprint.startsWith(wanted));
      if (matches.length === 0) throw usageError('TRUST_ANCHOR_NOT_FOUND', `no trust anchor with fingerprint ${fingerprint}`);
      if (matches.length > 1) throw usageError('TRUST_ANCHOR_AMBIGUOUS', `${matches.length} trust anchors start with ${fingerprint}; give more digits`);
      const anchor = matches[0];
      const taken = anchor.purposes.filter((p) => purposes.includes(p));
      if (taken.length === 0) {
        throw usageError('TRUST_PURPOSE_NOT_HELD', `${anchor.subject} (${anchor.fingerprint.slice(0, 16)}…) is trusted for ${anchor.purposes.join(' and ')} only, not for ${purposes.join(' or ')}: nothing to remove`, {
          data: { fingerprint: anchor.fingerprint, purposes: anchor.purposes },
        });
      }
      const left = anchor.purposes.filter((p) => !taken.includes(p));
      if (left.length === 0) {
        this.prepare('DELETE FROM trust_anchors WHERE fingerprint = ?').run(anchor.fingerprint);
      } else {
        const keep = purposeColumns(left);
        this.prepare('UPDATE trust_anchors SET for_payloads = ?, for_signatures = ? WHERE fingerprint = ?').run(Number(keep.payloads), Number(keep.signatures), anchor.fingerprint);
      }
      if (taken.includes('payloads')) {
        this
          .prepare('INSERT OR REPLACE INTO trust_anchor_removals (fingerprint, subject, removed_at, der) VALUES (?, ?, ?, ?)')
          .run(anchor.fingerprint, anchor.subject, isoTime(new Date()), anchor.der);
      }
      return { anchor, taken, left };
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

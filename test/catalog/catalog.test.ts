import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { DATABASE_FILE, normalizeKb, openCatalog, type Catalog } from '../../src/catalog/catalog';
import { describeStoredBlob } from '../../src/catalog/blob-store';
import { checkCatalog } from '../../src/catalog/check';
import { exportBlob } from '../../src/catalog/export-blob';
import { resolveCatalogDir } from '../../src/catalog/location';
import { loadMigrations } from '../../src/catalog/migrations';
import { addTrustAnchorFiles, resolveTrust } from '../../src/catalog/trust';
import type { NewCatalogEntry } from '../../src/catalog/types';
import { isCabferryError } from '../../src/errors';
import type { Payload } from '../../src/package/types';
import { fixturePath, tempDir } from '../common.helpers';

function fakePayload(over: Partial<Payload> & { sha256: string; size: number }): Payload {
  return {
    kb: 'KB4493730',
    product: 'Windows Server 2008',
    ntVersion: '6.0',
    architecture: 'amd64',
    kind: 'servicing-stack',
    releaseType: 'Update',
    restart: 'never',
    parents: [{ identity: { name: 'Package_for_KB948465', version: '6.0.1.2' }, kb: 'KB948465', disposition: 'detect' }],
    identity: { name: 'Package_for_KB4493730', version: '6.0.1.0' },
    fileName: 'Windows6.0-KB4493730-x64.msu',
    format: 'msu',
    signatures: 'dual',
    metadataVerified: true,
    ...over,
  };
}

/** Stage bytes in a temp file of the store, as the importer does, and commit them. */
function store(catalog: Catalog, bytes: Buffer, over: Partial<Payload> = {}, entryOver: Partial<NewCatalogEntry> = {}) {
  const sha256 = crypto.createHash('sha256').update(bytes).digest('hex');
  const temp = catalog.blobs.createTemp();
  temp.write(bytes);
  temp.finish();
  const payload = fakePayload({ sha256, size: bytes.length, ...over });
  const entry: NewCatalogEntry = {
    sha256, size: bytes.length, status: 'imported', fileName: payload.fileName, sha1OnlyAllowed: false, payload, verdict: 'valid',
    verdictDocument: { verdict: 'valid' },
    signatures: [{ position: 0, nested: false, digestAlgorithm: 'sha1', signer: 'Test Signer', issuer: 'Test PCA', timestamp: null, valid: true, code: null, reason: null }],
    members: [{ name: 'update.mum', role: 'update.mum', size: 10 }],
    ...entryOver,
  };
  try {
    const { outcome, note } = catalog.storeEntry(temp, entry, { at: new Date().toISOString(), who: 'test', host: 'test', pid: process.pid, source: 'test', entry: null, verdict: 'valid', code: null, reason: null, cabferryVersion: '0' });
    return { sha256, outcome, note, tempPath: temp.path };
  } finally {
    temp.discard();
  }
}

describe('catalog location', () => {
  it('prefers --catalog, then CABFERRY_CATALOG, then XDG_DATA_HOME, then ~/.local/share', () => {
    assert.equal(resolveCatalogDir('/x/y', { CABFERRY_CATALOG: '/env' }), '/x/y');
    assert.equal(resolveCatalogDir(undefined, { CABFERRY_CATALOG: '/env', XDG_DATA_HOME: '/xdg' }), '/env');
    assert.equal(resolveCatalogDir(undefined, { XDG_DATA_HOME: '/xdg', HOME: '/home/u' }), '/xdg/cabferry');
    // a relative XDG_DATA_HOME is invalid per the XDG spec and ignored
    assert.equal(resolveCatalogDir(undefined, { XDG_DATA_HOME: 'rel', HOME: '/home/u' }), '/home/u/.local/share/cabferry');
    assert.equal(resolveCatalogDir(undefined, { HOME: '/home/u' }), '/home/u/.local/share/cabferry');
  });
});

describe('catalog schema', () => {
  it('creates the catalog on first use with every migration applied, WAL on, and reopens without change', () => {
    const dir = path.join(tempDir(), 'cat');
    const c = openCatalog({ dir });
    assert.equal(c.schemaVersion, loadMigrations().length);
    assert.equal(c.db.pragma('journal_mode', { simple: true }), 'wal');
    assert.ok(fs.statSync(path.join(dir, 'blobs')).isDirectory());
    c.close();
    const again = openCatalog({ dir, access: 'read' });
    assert.equal(again.schemaVersion, loadMigrations().length);
    assert.deepEqual(again.payloads(), []);
    again.close();
  });

  it('refuses a catalog a newer cabferry upgraded, and a missing catalog when read-only', () => {
    const dir = path.join(tempDir(), 'cat');
    openCatalog({ dir }).close();
    const db = new Database(path.join(dir, DATABASE_FILE));
    db.pragma('user_version = 999');
    db.close();
    assert.throws(() => openCatalog({ dir }), (e: unknown) => isCabferryError(e) && e.code === 'CATALOG_TOO_NEW');
    assert.throws(() => openCatalog({ dir: path.join(dir, 'nope'), access: 'read' }), (e: unknown) => isCabferryError(e) && e.code === 'CATALOG_NOT_FOUND');
  });

  it('validates migration file names and numbering', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, '0001_a.sql'), 'CREATE TABLE a (x);');
    fs.writeFileSync(path.join(dir, '0003_c.sql'), 'CREATE TABLE c (x);');
    assert.throws(() => loadMigrations(dir), (e: unknown) => isCabferryError(e) && e.code === 'CATALOG_MIGRATION_ORDER');
    fs.rmSync(path.join(dir, '0003_c.sql'));
    fs.writeFileSync(path.join(dir, '2_bad.sql'), '');
    assert.throws(() => loadMigrations(dir), (e: unknown) => isCabferryError(e) && e.code === 'CATALOG_MIGRATION_NAME');
  });

  it('the schema refuses an imported row without verified metadata', () => {
    const c = openCatalog({ dir: path.join(tempDir(), 'cat') });
    assert.throws(() =>
      c.db.prepare(`INSERT INTO payloads (sha256, size, status, file_name, metadata_verified, kb, verdict, first_imported_at) VALUES (?, 1, 'imported', 'x', 0, 'KB1', 'valid', 'now')`).run('a'.repeat(64)),
    );
    c.close();
  });
});

describe('storing payloads', () => {
  it('puts the blob at blobs/ab/cdef… before the row, and a second store of the same bytes is a duplicate', () => {
    const c = openCatalog({ dir: path.join(tempDir(), 'cat') });
    const bytes = crypto.randomBytes(5000);
    const first = store(c, bytes);
    assert.equal(first.outcome, 'imported');
    const blob = c.blobPath(first.sha256);
    assert.equal(blob, path.join(c.dir, 'blobs', first.sha256.slice(0, 2), first.sha256.slice(2)));
    assert.deepEqual(fs.readFileSync(blob), bytes);
    assert.equal(fs.existsSync(first.tempPath), false);
    const second = store(c, bytes);
    assert.equal(second.outcome, 'duplicate');
    assert.equal(fs.existsSync(second.tempPath), false, 'duplicate temp removed');
    assert.deepEqual(fs.readdirSync(c.blobs.tmpDir), []);
    assert.equal(c.payloads().length, 1);
    assert.deepEqual(c.events(first.sha256).map((e) => e.outcome), ['imported', 'duplicate']);
    c.close();
  });

  it('offers only imported payloads to the planner; a quarantined file is promoted when it later passes', () => {
    const c = openCatalog({ dir: path.join(tempDir(), 'cat') });
    const bytes = crypto.randomBytes(100);
    const q = store(c, bytes, {}, { status: 'quarantined', rejectCode: 'CHAIN_UNTRUSTED', rejectReason: 'untrusted root', verdict: 'untrusted' });
    assert.equal(q.outcome, 'quarantined');
    assert.deepEqual(c.payloads(), []);
    assert.equal(c.payloadBySha256(q.sha256), null);
    assert.equal(c.entry(q.sha256)?.status, 'quarantined');
    assert.equal(store(c, bytes, {}, { status: 'quarantined', verdict: 'untrusted' }).outcome, 'duplicate');
    assert.equal(store(c, bytes).outcome, 'imported');
    assert.equal(c.payloadBySha256(q.sha256)?.kb, 'KB4493730');
    c.close();
  });

  it('restores a lost blob when the same file is imported again', () => {
    const c = openCatalog({ dir: path.join(tempDir(), 'cat') });
    const bytes = crypto.randomBytes(300);
    const { sha256 } = store(c, bytes);
    fs.rmSync(c.blobPath(sha256));
    assert.equal(store(c, bytes).outcome, 'restored');
    assert.deepEqual(fs.readFileSync(c.blobPath(sha256)), bytes);
    c.close();
  });

  it('a blob altered on disk is no duplicate: importing the same bytes replaces it and says so (review9 R9-5)', () => {
    const c = openCatalog({ dir: path.join(tempDir(), 'cat') });
    const bytes = crypto.randomBytes(300);
    const { sha256 } = store(c, bytes);
    assert.deepEqual(c.blobs.storedState(sha256, bytes.length), { state: 'intact' });
    const duplicate = store(c, bytes);
    assert.deepEqual([duplicate.outcome, duplicate.note], ['duplicate', null]);
    // same size, one bit: only the content can tell
    const altered = Buffer.from(bytes);
    altered[150] ^= 1;
    fs.writeFileSync(c.blobPath(sha256), altered);
    const alteredHash = crypto.createHash('sha256').update(altered).digest('hex');
    const state = c.blobs.storedState(sha256, bytes.length);
    assert.deepEqual(state, { state: 'altered', sha256: alteredHash });
    assert.equal(describeStoredBlob({ state: 'altered', sha256: alteredHash }, bytes.length), `it hashes to ${alteredHash}`);
    const again = store(c, bytes);
    assert.equal(again.outcome, 'restored');
    assert.match(again.note ?? '', new RegExp(`altered on disk \\(it hashes to ${alteredHash}\\); the verified bytes replaced it`));
    assert.deepEqual(fs.readFileSync(c.blobPath(sha256)), bytes);
    assert.match(c.db.prepare<[], { reason: string }>("SELECT reason FROM import_events WHERE outcome = 'restored'").get()!.reason, /altered on disk/);
    // a blob of another size, or none, is reported as what it is
    fs.writeFileSync(c.blobPath(sha256), bytes.subarray(1));
    assert.match(store(c, bytes).note ?? '', /altered on disk \(it is 299 bytes, the catalog recorded 300\)/);
    fs.rmSync(c.blobPath(sha256));
    assert.deepEqual([store(c, bytes).note, fs.readFileSync(c.blobPath(sha256)).equals(bytes)], ['the stored blob was missing; the verified bytes were stored again', true]);
    c.close();
  });

  it('a blob already under the name of a new payload (an interrupted import left it) is replaced by the verified bytes', () => {
    const c = openCatalog({ dir: path.join(tempDir(), 'cat') });
    const bytes = crypto.randomBytes(300);
    const sha256 = crypto.createHash('sha256').update(bytes).digest('hex');
    fs.mkdirSync(path.dirname(c.blobPath(sha256)), { recursive: true });
    fs.writeFileSync(c.blobPath(sha256), crypto.randomBytes(300));
    assert.equal(store(c, bytes).outcome, 'imported');
    assert.deepEqual(fs.readFileSync(c.blobPath(sha256)), bytes);
    c.close();
  });

  it('refuses up front a payload larger than the free space of the store', () => {
    const c = openCatalog({ dir: path.join(tempDir(), 'cat') });
    assert.throws(() => c.blobs.assertRoomFor(2 ** 52), (e: unknown) => isCabferryError(e) && e.code === 'CATALOG_NO_SPACE' && e.exitCode === 4);
    c.blobs.assertRoomFor(1024);
    c.close();
  });

  it('filters by KB (any spelling), product (any listed), architecture and kind', () => {
    const c = openCatalog({ dir: path.join(tempDir(), 'cat') });
    store(c, Buffer.from('a'), { kb: 'KB4493730', architecture: 'amd64', kind: 'servicing-stack' });
    store(c, Buffer.from('b'), { kb: 'KB4493730', architecture: 'x86', kind: 'servicing-stack' });
    store(c, Buffer.from('c'), { kb: 'KB4474419', architecture: 'amd64', kind: 'sha2-support', product: 'Windows Server 2008', products: ['Windows Server 2008', 'Windows Vista'] });
    assert.equal(c.payloads({ kb: '4493730' }).length, 2);
    assert.equal(c.payloads({ kb: 'kb4493730', arch: 'x86' }).length, 1);
    assert.equal(c.payloads({ product: 'windows vista' }).length, 1);
    assert.equal(c.payloads({ kind: 'sha2-support' })[0].kb, 'KB4474419');
    assert.equal(c.payloads({ arch: 'ia64' }).length, 0);
    assert.equal(normalizeKb(' KB123456 '), 'KB123456');
    assert.throws(() => normalizeKb('KBxyz'), (e: unknown) => isCabferryError(e) && e.code === 'BAD_KB');
    c.close();
  });
});

describe('catalog check', () => {
  it('is clean after imports, and finds missing, altered, orphan and leftover files; --repair removes only what is safe', () => {
    const c = openCatalog({ dir: path.join(tempDir(), 'cat') });
    const a = store(c, crypto.randomBytes(1000));
    const b = store(c, crypto.randomBytes(1000));
    const d = store(c, crypto.randomBytes(1000));
    assert.equal(checkCatalog(c).ok, true);

    fs.rmSync(c.blobPath(a.sha256));
    const original = fs.readFileSync(c.blobPath(b.sha256));
    const altered = Buffer.from(original);
    altered[10] ^= 1;
    fs.writeFileSync(c.blobPath(b.sha256), altered);
    // an orphan: a blob whose import died between rename and commit
    const orphanBytes = crypto.randomBytes(64);
    const orphanSha = crypto.createHash('sha256').update(orphanBytes).digest('hex');
    fs.mkdirSync(path.dirname(c.blobPath(orphanSha)), { recursive: true });
    fs.writeFileSync(c.blobPath(orphanSha), orphanBytes);
    // a temp of a dead process (pid 2^22+1 is above Linux's pid_max default range)
    const deadTemp = path.join(c.blobs.tmpDir, `4194305-${'0'.repeat(16)}.part`);
    fs.writeFileSync(deadTemp, 'partial');

    const report = checkCatalog(c);
    assert.equal(report.ok, false);
    const kinds = report.problems.map((p) => `${p.kind}:${p.sha256 ?? path.basename(p.path ?? '')}`).sort();
    assert.deepEqual(kinds, [`blob-hash-mismatch:${b.sha256}`, `leftover-temp:${path.basename(deadTemp)}`, `missing-blob:${a.sha256}`, `orphan-blob:${orphanSha}`].sort());

    const repaired = checkCatalog(c, { repair: true });
    assert.equal(repaired.ok, false, 'a missing or altered blob cannot be repaired by deleting things');
    assert.equal(fs.existsSync(c.blobPath(orphanSha)), false);
    assert.equal(fs.existsSync(deadTemp), false);
    assert.ok(fs.existsSync(c.blobPath(d.sha256)), 'good blobs untouched');
    assert.equal(fs.existsSync(c.blobPath(b.sha256)), false, 'an altered blob is removed, so a re-import can restore it');
    assert.equal(c.entry(a.sha256)?.status, 'imported', 'rows are never deleted by repair');
    assert.equal(store(c, original).outcome, 'restored');
    assert.deepEqual(checkCatalog(c).problems.map((p) => p.kind), ['missing-blob']);
    c.close();
  });
});

describe('trust anchors and export', () => {
  it('adds, lists and removes anchors; resolveTrust prefers --trust and refuses an empty set', () => {
    const c = openCatalog({ dir: path.join(tempDir(), 'cat') });
    assert.throws(() => resolveTrust(c, undefined), (e: unknown) => isCabferryError(e) && e.code === 'NO_TRUST_ANCHORS');
    const added = addTrustAnchorFiles(c, [fixturePath('pki', 'root.pem'), fixturePath('pki', 'other-root.pem')], ['payloads']);
    assert.deepEqual(added.map((a) => a.added), [true, true]);
    assert.deepEqual(addTrustAnchorFiles(c, [fixturePath('pki', 'root.pem')], ['payloads']).map((a) => a.added), [false]);
    assert.equal(c.trustAnchors('payloads').length, 2);
    assert.equal(resolveTrust(c, undefined).length, 2);
    assert.equal(resolveTrust(c, [fixturePath('pki', 'root.pem')]).length, 1);
    const fp = added[0].anchor.fingerprint;
    assert.equal(fp, crypto.createHash('sha256').update(added[0].anchor.der).digest('hex'));
    assert.throws(() => c.removeTrustAnchor('abc'), (e: unknown) => isCabferryError(e) && e.code === 'BAD_FINGERPRINT');
    assert.equal(c.removeTrustAnchor(fp.slice(0, 12)).anchor.fingerprint, fp);
    assert.deepEqual(c.trustAnchorRecords().map((r) => r.fingerprint), [added[1].anchor.fingerprint]);
    c.close();
  });

  it('exports a blob re-hashed, and refuses one altered on disk', () => {
    const dir = tempDir();
    const c = openCatalog({ dir: path.join(dir, 'cat') });
    const bytes = crypto.randomBytes(3 << 20);
    const { sha256 } = store(c, bytes);
    const out = path.join(dir, 'out.msu');
    assert.equal(exportBlob(c, sha256, out).size, bytes.length);
    assert.deepEqual(fs.readFileSync(out), bytes);
    assert.throws(() => exportBlob(c, sha256, out), (e: unknown) => isCabferryError(e) && e.code === 'OUTPUT_EXISTS');
    const altered = Buffer.from(bytes);
    altered[2 << 20] ^= 0xff;
    fs.writeFileSync(c.blobPath(sha256), altered);
    const out2 = path.join(dir, 'out2.msu');
    assert.throws(() => exportBlob(c, sha256, out2), (e: unknown) => isCabferryError(e) && e.code === 'BLOB_CORRUPT');
    assert.equal(fs.existsSync(out2), false);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['cat', 'out.msu']);
    c.close();
  });
});

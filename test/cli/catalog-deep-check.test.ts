import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { hasUsableOsslsigncode } from '../../scripts/lib/authenticode-sign';
import { fixturePath, runCli, tempDir } from '../common.helpers';
import { readAllMembers, withMember } from '../package/package.helpers';
import { signedCabinet } from '../regressions/review9.helpers';

/**
 * `catalog check --deep`: a record edited in the database (the blob still hashes right) is found
 * by reading the blob again; a catalog nobody touched, payloads, ESU payloads and executables
 * alike, is consistent.
 */

const work = tempDir('cabferry-deep-check-');
const pristine = path.join(work, 'pristine');

interface CheckDocument {
  ok: boolean;
  problems: { kind: string; code?: string; sha256?: string; facts?: string[]; detail: string }[];
}

function deepCheck(catalog: string): { status: number | null; doc: CheckDocument } {
  const r = runCli(['catalog', 'check', '--deep', '--json', '--catalog', catalog]);
  return { status: r.status, doc: JSON.parse(r.stdout) as CheckDocument };
}

/** A copy of the pristine catalog with `edit` run against its database. */
function alteredCatalog(name: string, edit: (db: Database.Database) => void): string {
  const dir = path.join(work, name);
  fs.cpSync(pristine, dir, { recursive: true });
  const db = new Database(path.join(dir, 'catalog.sqlite'));
  try {
    edit(db);
  } finally {
    db.close();
  }
  return dir;
}

function shaOf(db: Database.Database, kb: string, architecture: string): string {
  const row = db.prepare(`SELECT sha256 FROM payloads WHERE kb = ? AND architecture = ? AND status = 'imported' ORDER BY sha256 LIMIT 1`).get(kb, architecture) as { sha256: string } | undefined;
  assert.ok(row, `${kb} ${architecture} is in the catalog`);
  return row.sha256;
}

describe('catalog check --deep', () => {
  before(() => {
    // held by the catalog: a one-off import --trust would make every payload an untrusted-payload problem (#17 live trust)
    assert.equal(runCli(['trust', 'add', fixturePath('pki', 'root.pem'), '--catalog', pristine]).status, 0);
    const r = runCli(['import', '--catalog', pristine, fixturePath('payloads'), fixturePath('payloads-esu'), fixturePath('executables'), '--json']);
    assert.ok(r.status === 0 || r.status === 1, r.stderr);
    assert.ok((JSON.parse(r.stdout) as { imported: number }).imported >= 20);
  });

  test('a catalog nobody altered is consistent: every record says what its blob says', () => {
    const { status, doc } = deepCheck(pristine);
    assert.deepEqual(doc.problems, []);
    assert.equal(status, 0);
  });

  test('April’s rollup relabelled KB4520002 in the database: RECORD_MISMATCH naming kb, exit 1', () => {
    let relabelled = '';
    const dir = alteredCatalog('relabelled', (db) => {
      relabelled = shaOf(db, 'KB4493471', 'amd64');
      db.prepare(`UPDATE payloads SET kb = 'KB4520002', payload_json = replace(payload_json, 'KB4493471', 'KB4520002') WHERE sha256 = ?`).run(relabelled);
    });
    // the blob still hashes to its name: the plain check cannot see it
    assert.equal(runCli(['catalog', 'check', '--catalog', dir]).status, 0);
    const { status, doc } = deepCheck(dir);
    assert.equal(status, 1);
    assert.equal(doc.ok, false);
    assert.equal(doc.problems.length, 1);
    const [problem] = doc.problems;
    assert.equal(problem!.kind, 'record-mismatch');
    assert.equal(problem!.code, 'RECORD_MISMATCH');
    assert.equal(problem!.sha256, relabelled);
    assert.ok(problem!.facts?.includes('kb'), JSON.stringify(problem));
    assert.match(problem!.detail, /kb: record "KB4520002", blob "KB4493471"/);
  });

  test('an x86 payload recorded as amd64: RECORD_MISMATCH naming architecture', () => {
    const dir = alteredCatalog('rearchitected', (db) => {
      const sha = shaOf(db, 'KB4493730', 'x86');
      db.prepare(`UPDATE payloads SET architecture = 'amd64', payload_json = json_set(payload_json, '$.architecture', 'amd64') WHERE sha256 = ?`).run(sha);
    });
    const { status, doc } = deepCheck(dir);
    assert.equal(status, 1);
    assert.deepEqual(doc.problems.map((p) => p.facts), [['architecture']]);
  });

  test('a prerequisite removed from a record: RECORD_MISMATCH naming parents', () => {
    const dir = alteredCatalog('orphaned', (db) => {
      const sha = shaOf(db, 'KB4520002', 'amd64');
      db.prepare(`UPDATE payloads SET payload_json = json_set(payload_json, '$.parents', json('[]')) WHERE sha256 = ?`).run(sha);
    });
    const { status, doc } = deepCheck(dir);
    assert.equal(status, 1);
    assert.deepEqual(doc.problems.map((p) => p.facts), [['parents']]);
  });

  test('the human report names the payload and the code', () => {
    const dir = alteredCatalog('relabelled-text', (db) => {
      const sha = shaOf(db, 'KB4493471', 'amd64');
      db.prepare(`UPDATE payloads SET payload_json = json_set(payload_json, '$.kb', 'KB4520002') WHERE sha256 = ?`).run(sha);
    });
    const r = runCli(['catalog', 'check', '--deep', '--catalog', dir]);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /record-mismatch: [0-9a-f]{64} — the record does not say what its blob says \(kb: record "KB4520002", blob "KB4493471".*\[RECORD_MISMATCH\]/);
    assert.match(r.stdout, /NOT consistent/);
  });
});

/**
 * A row an older cabferry recorded from the outer signature alone (review 9, R9-2): an .msu whose
 * WSUSSCAN.cab was altered after its signing, re-wrapped and signed again by a trusted leaf. Import
 * now refuses it; a catalog that holds it as imported is found by reading the blob again, with the
 * verdict import records (the deep one).
 */
describe('catalog check --deep and the inner cabinets of an .msu', { skip: !hasUsableOsslsigncode() && 'osslsigncode >= 2.9 not installed' }, () => {
  test('an .msu imported with an altered WSUSSCAN.cab: RECORD_MISMATCH naming the signature', () => {
    const dir = path.join(work, 'inner-altered');
    assert.equal(runCli(['trust', 'add', fixturePath('pki', 'root.pem'), '--catalog', dir]).status, 0);
    const members = readAllMembers(fixturePath('payloads', 'Windows6.0-KB4493730-x64.msu'));
    const wsusScan = members.find((m) => /^wsusscan\.cab$/i.test(m.name))!;
    const altered = Buffer.from(wsusScan.data);
    altered[Math.floor(altered.length / 2)] ^= 0x01; // inside its compressed data: covered by its own signature
    const msu = signedCabinet(path.join(work, 'Windows6.0-KB4493730-x64.msu'), withMember(members, wsusScan.name, altered));
    // what import does today: kept as quarantined, with what it claims to be
    const r = runCli(['import', msu, '--quarantine', '--catalog', dir, '--json']);
    const result = (JSON.parse(r.stdout) as { results: { outcome: string; code: string | null; sha256: string }[] }).results[0]!;
    assert.equal(result.outcome, 'quarantined', JSON.stringify(result));
    // what an older version recorded: imported
    const db = new Database(path.join(dir, 'catalog.sqlite'));
    try {
      db.prepare(`UPDATE payloads SET status = 'imported', verdict = 'valid' WHERE sha256 = ?`).run(result.sha256);
    } finally {
      db.close();
    }
    const { status, doc } = deepCheck(dir);
    assert.equal(status, 1, JSON.stringify(doc));
    const problem = doc.problems.find((p) => p.sha256 === result.sha256);
    assert.ok(problem?.facts?.includes('signature') || problem?.facts?.includes('readable'), JSON.stringify(doc.problems));
    assert.match(problem!.detail, /WSUSSCAN\.cab/);
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { hasUsableOsslsigncode } from '../../scripts/lib/authenticode-sign';
import { loadTrustAnchors } from '../../src/authenticode';
import { inspectPayload, sha2OnlyPartsOf } from '../../src/package/inspect';
import type { FileVerdict } from '../../src/authenticode';
import { fixturePath, runCli, tempDir } from '../common.helpers';
import { rollupWithSha256Catalogs } from './sha2-inner-parts.helpers';

/**
 * A host without SHA-2 code signing support cannot verify a SHA-256-only signature on any part of
 * an update: wusa checks the .msu, CBS the catalogs (.cat) that vouch for the package's manifests.
 * The planner put SHA-2 support and its restart before a payload only when the file's own
 * signature was SHA-2 only; a dual-signed .msu around SHA-256-only catalogs was planned before
 * the restart that makes SHA-2 work, to fail on the host (found, not fixed, stop 33: item 2).
 *
 * Now inspect records every part signed with SHA-2 only (Payload.sha2OnlyParts: the file, each
 * inner cabinet, each catalog), the planner decides by them, and a record made before (no such
 * field) is taken to need SHA-2 support and said so, until `catalog check --deep --repair`
 * records the parts from the verified blob.
 */

const root = fixturePath('pki', 'root.pem');
const host = fixturePath('hosts', 'srv-fresh-x64.systeminfo.txt');

function verdict(algorithms: (string | null)[], valid = true): FileVerdict {
  return {
    file: 'x', verdict: valid ? 'valid' : 'invalid', code: null, reason: '', sha256: null,
    signatures: algorithms.map((a, position) => ({ position, nested: position > 0, digestAlgorithm: a, signer: null, issuer: null, timestamp: null, valid, code: null, reason: null })),
  } as unknown as FileVerdict;
}

describe('sha2OnlyPartsOf: every signed part, each judged by its valid signatures', () => {
  it('a dual file, a dual inner cabinet and a SHA-1 catalog: none', () => {
    assert.deepEqual(sha2OnlyPartsOf(verdict(['sha1', 'sha256']), [{ ...verdict(['sha1', 'sha256']), member: 'a.cab' }], [{ member: 'update.cat', valid: true, digestAlgorithms: ['sha1'], signer: null, entries: 1, reason: null }]), []);
  });
  it('SHA-256-only catalogs and inner cabinets inside a dual file: each named', () => {
    const parts = sha2OnlyPartsOf(verdict(['sha1', 'sha256']), [{ ...verdict(['sha256']), member: 'WSUSSCAN.cab' }], [
      { member: 'update.cat', valid: true, digestAlgorithms: ['sha256'], signer: null, entries: 1, reason: null },
      { member: 'other.cat', valid: true, digestAlgorithms: ['sha1', 'sha256'], signer: null, entries: 1, reason: null },
    ]);
    assert.deepEqual(parts, [{ part: 'inner-cabinet', member: 'WSUSSCAN.cab' }, { part: 'catalog', member: 'update.cat' }]);
  });
  it('a SHA-256-only file: its own signature', () => {
    assert.deepEqual(sha2OnlyPartsOf(verdict(['sha256']), [], []), [{ part: 'file', member: null }]);
  });
});

describe('a dual-signed .msu whose catalogs are SHA-256 only', { skip: !hasUsableOsslsigncode() && 'osslsigncode >= 2.9 not installed' }, () => {
  const dir = tempDir('cabferry-sha2-parts-');
  const payloads = path.join(dir, 'payloads');
  fs.mkdirSync(payloads);
  const rollup = rollupWithSha256Catalogs(payloads);
  for (const f of ['Windows6.0-KB4493730-x64.msu', 'Windows6.0-KB4474419-v4-x64.msu']) fs.copyFileSync(fixturePath('payloads', f), path.join(payloads, f));
  const catalog = path.join(dir, 'catalog');
  assert.equal(runCli(['trust', 'add', root, '--catalog', catalog]).status, 0);
  const imported = runCli(['import', payloads, '--catalog', catalog, '--json']);
  assert.equal(imported.status, 0, imported.stdout + imported.stderr);

  const planOf = (): { steps: { action: string; kb: string | null; reason: string }[]; assumptions: string[] } => {
    const r = runCli(['plan', '--host', host, '--catalog', catalog, '--json']);
    const doc = JSON.parse(r.stdout) as { hosts: { steps: { action: string; kb: string | null; reason: string }[]; assumptions: string[] }[] };
    return doc.hosts[0]!;
  };
  const sequence = (steps: { action: string; kb: string | null }[]): string[] => steps.map((s) => (s.action === 'reboot' ? 'reboot' : s.kb!));

  it('inspect: the file is "dual", its two catalogs are recorded as SHA-2 only', () => {
    const p = inspectPayload(rollup, { knowledgeBase: null, trust: loadTrustAnchors([root]) });
    assert.equal(p.signatures, 'dual');
    assert.deepEqual(p.sha2OnlyParts?.map((s) => s.part), ['catalog', 'catalog']);
    assert.ok(p.sha2OnlyParts?.some((s) => s.member === 'update.cat'));
  });

  it('plan: SHA-2 support and its restart come before the rollup, and the step says why', () => {
    const plan = planOf();
    assert.deepEqual(sequence(plan.steps), ['KB4493730', 'KB4474419', 'reboot', 'KB4493471', 'reboot']);
    const step = plan.steps.find((s) => s.kb === 'KB4493471')!;
    assert.match(step.reason, /after KB4474419.*its catalogs or inner cabinets are signed with SHA-2 only/);
    assert.match(plan.steps[2]!.reason, /KB4493471 needs SHA-2 code signing support/);
  });

  it('a record made before the parts were recorded: taken to need SHA-2 support, said so; check --deep finds it, --repair records it', () => {
    const db = new Database(path.join(catalog, 'catalog.sqlite'));
    const rows = db.prepare(`SELECT sha256, payload_json FROM payloads WHERE kb = 'KB4493730'`).all() as { sha256: string; payload_json: string }[];
    assert.equal(rows.length, 1);
    const record = JSON.parse(rows[0]!.payload_json) as Record<string, unknown>;
    assert.deepEqual(record.sha2OnlyParts, [], 'the servicing stack update is dual-signed throughout');
    delete record.sha2OnlyParts;
    db.prepare('UPDATE payloads SET payload_json = ? WHERE sha256 = ?').run(JSON.stringify(record), rows[0]!.sha256);
    db.close();

    const before = planOf();
    assert.deepEqual(sequence(before.steps), ['KB4474419', 'reboot', 'KB4493730', 'KB4493471', 'reboot'], 'the old record waits for SHA-2 support');
    assert.ok(before.assumptions.some((a) => /KB4493730: its record does not say how its catalogs and inner cabinets are signed/.test(a)), before.assumptions.join('\n'));

    const check = runCli(['catalog', 'check', '--deep', '--catalog', catalog, '--json']);
    assert.equal(check.status, 1, check.stdout);
    const problems = (JSON.parse(check.stdout) as { problems: { kind: string; code: string; facts: string[]; repaired: boolean }[] }).problems;
    assert.deepEqual(problems.map((p) => [p.kind, p.code, p.facts, p.repaired]), [['record-incomplete', 'RECORD_INCOMPLETE', ['sha2OnlyParts'], false]]);

    const repaired = runCli(['catalog', 'check', '--deep', '--repair', '--catalog', catalog, '--json']);
    assert.equal(repaired.status, 0, repaired.stdout);
    assert.equal(runCli(['catalog', 'check', '--deep', '--catalog', catalog]).status, 0, 'consistent once recorded');

    const after = planOf();
    assert.deepEqual(sequence(after.steps), ['KB4493730', 'KB4474419', 'reboot', 'KB4493471', 'reboot']);
    assert.ok(!after.assumptions.some((a) => /record does not say/.test(a)));
  });

  it('read again under a trust it does not chain to, the parts are not known: nothing recorded as "none"', () => {
    const oneOff = path.join(dir, 'one-off');
    const r = runCli(['import', rollup, '--trust', root, '--catalog', oneOff, '--json']);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const db = new Database(path.join(oneOff, 'catalog.sqlite'));
    const row = db.prepare(`SELECT sha256, payload_json FROM payloads WHERE kb = 'KB4493471'`).get() as { sha256: string; payload_json: string };
    const record = JSON.parse(row.payload_json) as Record<string, unknown>;
    assert.equal((record.sha2OnlyParts as unknown[]).length, 2);
    delete record.sha2OnlyParts;
    db.prepare('UPDATE payloads SET payload_json = ? WHERE sha256 = ?').run(JSON.stringify(record), row.sha256);
    db.close();
    // the catalog's own trust set is empty: the payload is untrusted now, and its parts cannot be judged
    const check = runCli(['catalog', 'check', '--deep', '--repair', '--catalog', oneOff, '--json']);
    const problems = (JSON.parse(check.stdout) as { problems: { kind: string }[] }).problems;
    assert.deepEqual(problems.map((p) => p.kind), ['untrusted-payload']);
    const after = new Database(path.join(oneOff, 'catalog.sqlite'));
    const kept = JSON.parse((after.prepare('SELECT payload_json FROM payloads WHERE sha256 = ?').get(row.sha256) as { payload_json: string }).payload_json) as Record<string, unknown>;
    after.close();
    assert.equal(kept.sha2OnlyParts, undefined, 'not repaired with what an untrusted reading says');
  });

  it('a recorded value that contradicts the blob is a record mismatch, not repaired', () => {
    const db = new Database(path.join(catalog, 'catalog.sqlite'));
    const row = db.prepare(`SELECT sha256, payload_json FROM payloads WHERE kb = 'KB4493471'`).get() as { sha256: string; payload_json: string };
    const record = JSON.parse(row.payload_json) as Record<string, unknown>;
    record.sha2OnlyParts = [];
    db.prepare('UPDATE payloads SET payload_json = ? WHERE sha256 = ?').run(JSON.stringify(record), row.sha256);
    db.close();
    const check = runCli(['catalog', 'check', '--deep', '--repair', '--catalog', catalog, '--json']);
    assert.equal(check.status, 1, check.stdout);
    const problems = (JSON.parse(check.stdout) as { problems: { kind: string; facts: string[]; repaired: boolean }[] }).problems;
    assert.deepEqual(problems.map((p) => [p.kind, p.facts, p.repaired]), [['record-mismatch', ['sha2OnlyParts'], false]]);
  });
});

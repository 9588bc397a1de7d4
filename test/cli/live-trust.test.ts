import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTrustAnchors } from '../../src/authenticode/trust';
import { fixturePath, runCli, tempDir } from '../common.helpers';
import { knowledgeBaseAsOf } from '../planner/knowledge-as-of.helpers';

/**
 * Trust is live (#17 item 4): `trust remove` makes the payloads that chained to the anchor
 * untrusted for `catalog check` and `stage`; adding it back makes them fine again.
 */

const work = tempDir('cabferry-live-trust-');
const root = fixturePath('pki', 'root.pem');
const intermediate = fixturePath('pki', 'intermediate.pem');
const rootFingerprint = loadTrustAnchors([root])[0].certificate.sha256Fingerprint;
const host = fixturePath('hosts', 'srv-fresh-x64.systeminfo.txt');
const knowledgeBase = knowledgeBaseAsOf('2019-10-31');

interface CheckJson { ok: boolean; problems: { kind: string; code?: string; sha256?: string; detail: string }[] }

function newCatalog(name: string, anchors: string[]): string {
  const catalog = path.join(work, name);
  for (const a of anchors) assert.equal(runCli(['trust', 'add', a, '--catalog', catalog]).status, 0);
  const r = runCli(['import', '--catalog', catalog, fixturePath('payloads'), '--json']);
  assert.ok(r.status === 0 || r.status === 1, r.stderr);
  return catalog;
}

function check(catalog: string): { status: number | null; doc: CheckJson } {
  const r = runCli(['catalog', 'check', '--catalog', catalog, '--json']);
  return { status: r.status, doc: JSON.parse(r.stdout) as CheckJson };
}

function stage(catalog: string, to: string) {
  return runCli(['stage', '--catalog', catalog, '--host', host, '--to', to, '--knowledge-base', knowledgeBase]);
}

function importedCount(catalog: string): number {
  const r = runCli(['catalog', 'list', '--imported', '--catalog', catalog, '--json']);
  return (JSON.parse(r.stdout) as { payloads: unknown[] }).payloads.length;
}

describe('trust is live', () => {
  test('after trust remove, catalog check reports every payload "untrusted since the anchor was removed" (exit 1) and stage refuses them by name; trust add makes both fine again', () => {
    const catalog = newCatalog('removed', [root]);
    const before = check(catalog);
    assert.equal(before.status, 0, JSON.stringify(before.doc.problems));

    const removal = runCli(['trust', 'remove', rootFingerprint.slice(0, 16), '--catalog', catalog]);
    assert.equal(removal.status, 0);
    assert.match(removal.stderr, new RegExp(`warning: ${importedCount(catalog)} imported payload\\(s\\) chained to it and to no anchor trusted now`));
    const after = check(catalog);
    assert.equal(after.status, 1);
    assert.equal(after.doc.ok, false);
    const untrusted = after.doc.problems.filter((p) => p.kind === 'untrusted-payload');
    assert.equal(untrusted.length, importedCount(catalog));
    for (const p of untrusted) {
      assert.equal(p.code, 'PAYLOAD_UNTRUSTED');
      assert.match(p.detail, /untrusted since the anchor was removed/);
      assert.match(p.detail, /CHAIN_UNTRUSTED|no chain/);
    }
    const text = runCli(['catalog', 'check', '--catalog', catalog]);
    assert.equal(text.status, 1);
    assert.match(text.stdout, /PROBLEM  untrusted-payload: [0-9a-f]{64} — KB\d+: untrusted since the anchor was removed: .*\[PAYLOAD_UNTRUSTED\]/);

    const to = path.join(work, 'media-removed');
    const refused = stage(catalog, to);
    assert.equal(refused.status, 1, refused.stderr);
    assert.match(refused.stderr, /\[MEDIA_PAYLOAD_UNTRUSTED\]/);
    assert.match(refused.stderr, /KB4474419 \([0-9a-f]{12}…\)/);
    assert.match(refused.stderr, /untrusted since the anchor was removed \("Cabferry Test Root CA" [0-9a-f]{16}…\)/);
    assert.ok(!fs.existsSync(path.join(to, 'payloads')), 'nothing was written');

    assert.equal(runCli(['trust', 'add', root, '--catalog', catalog]).status, 0);
    assert.equal(check(catalog).status, 0);
    const staged = stage(catalog, to);
    assert.equal(staged.status, 0, staged.stderr);
  });

  test('a payload that still chains to another anchor of the catalog stays trusted after trust remove', () => {
    // imported while the root alone was trusted: its chains end in the root
    const catalog = newCatalog('two-anchors', [root]);
    assert.equal(runCli(['trust', 'add', intermediate, '--catalog', catalog]).status, 0);
    assert.equal(runCli(['trust', 'remove', rootFingerprint.slice(0, 16), '--catalog', catalog]).status, 0);
    const r = check(catalog);
    assert.equal(r.status, 0, JSON.stringify(r.doc.problems));
    assert.equal(stage(catalog, path.join(work, 'media-two-anchors')).status, 0);
  });

  test('payloads imported with a one-off --trust the catalog never held are not judged against its trust set', () => {
    const catalog = path.join(work, 'one-off');
    const r = runCli(['import', '--catalog', catalog, '--trust', root, fixturePath('payloads'), '--json']);
    assert.ok(r.status === 0 || r.status === 1, r.stderr);
    assert.equal(runCli(['trust', 'add', fixturePath('pki', 'other-root.pem'), '--catalog', catalog]).status, 0);
    const c = check(catalog);
    assert.equal(c.status, 0, JSON.stringify(c.doc.problems));
  });
});

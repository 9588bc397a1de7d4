import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { loadTrustAnchors } from '../../src/authenticode/trust';
import { assertErrorDocument, fixturePath, runCli, tempDir } from '../common.helpers';
import { knowledgeBaseAsOf } from '../planner/knowledge-as-of.helpers';

/**
 * Trust is live (#17 item 4): plan, stage and catalog check ask one question of every payload they
 * offer or report — does it chain, now, to an anchor of the catalog's trust set? `trust remove`
 * makes the payloads that chained to the anchor untrusted; `trust add` makes them fine again; a
 * one-off `import --trust` anchor the catalog does not hold vouches for nothing afterwards, nor one
 * it holds for signatures only (and is said to be held, with the remedy that widens on purpose); a row
 * without a stored verdict is judged from its signatures; a missing blob proves nothing.
 */

const work = tempDir('cabferry-live-trust-');
const root = fixturePath('pki', 'root.pem');
const intermediate = fixturePath('pki', 'intermediate.pem');
const rootFingerprint = loadTrustAnchors([root])[0].certificate.sha256Fingerprint;
const host = fixturePath('hosts', 'srv-fresh-x64.systeminfo.txt');
const knowledgeBase = knowledgeBaseAsOf('2019-10-31');
const SHA2_SUPPORT_X64 = 'Windows6.0-KB4474419-v4-x64.msu';

interface CheckJson { ok: boolean; problems: { kind: string; code?: string; distrust?: string; sha256?: string; detail: string }[] }
interface Distrust { kind: string; anchors?: { fingerprint: string; subject: string; removedAt?: string }[]; code?: string | null }
interface SkipCause { kind: string; file?: string; sha256?: string; arch?: string; distrust?: Distrust }
interface PlanJson {
  hosts: {
    complete: boolean;
    incomplete: { kind: string; kbs?: string[] }[];
    steps: { kb: string | null; file: string | null; sha256: string | null }[];
    missing: { kb: string; reason: string; cause: { copy: SkipCause | null } }[];
    skipped: { kb: string; reason: string; detail?: string; cause: SkipCause }[];
  }[];
}

interface UntrustedEntry { sha256: string; kb: string; fileName: string; hosts: string[]; distrust: Distrust; reason: string; remedy: string }

function byFileName(entries: UntrustedEntry[] | undefined): UntrustedEntry[] | undefined {
  return entries === undefined ? undefined : [...entries].sort((a, b) => (a.fileName < b.fileName ? -1 : 1));
}

function newCatalog(name: string, anchors: string[]): string {
  const catalog = path.join(work, name);
  for (const a of anchors) assert.equal(runCli(['trust', 'add', a, '--catalog', catalog]).status, 0);
  const r = runCli(['import', '--catalog', catalog, fixturePath('payloads'), '--json']);
  assert.ok(r.status === 0 || r.status === 1, r.stderr);
  return catalog;
}

/** A catalog whose payloads came in with `import --trust root` while it held no anchor of its own. */
function oneOffCatalog(name: string): string {
  const catalog = path.join(work, name);
  const r = runCli(['import', '--catalog', catalog, '--trust', root, fixturePath('payloads'), '--json']);
  assert.ok(r.status === 0 || r.status === 1, r.stderr);
  return catalog;
}

function check(catalog: string): { status: number | null; doc: CheckJson } {
  const r = runCli(['catalog', 'check', '--catalog', catalog, '--json']);
  return { status: r.status, doc: JSON.parse(r.stdout) as CheckJson };
}

function plan(catalog: string): { status: number | null; doc: PlanJson; text: string } {
  const json = runCli(['plan', '--catalog', catalog, '--host', host, '--knowledge-base', knowledgeBase, '--json']);
  const text = runCli(['plan', '--catalog', catalog, '--host', host, '--knowledge-base', knowledgeBase]);
  assert.equal(text.status, json.status, text.stderr);
  return { status: json.status, doc: JSON.parse(json.stdout) as PlanJson, text: text.stdout };
}

function stage(catalog: string, to: string, ...extra: string[]) {
  return runCli(['stage', '--catalog', catalog, '--host', host, '--to', to, '--knowledge-base', knowledgeBase, ...extra]);
}

function importedCount(catalog: string): number {
  const r = runCli(['catalog', 'list', '--imported', '--catalog', catalog, '--json']);
  return (JSON.parse(r.stdout) as { payloads: unknown[] }).payloads.length;
}

function sha256Of(catalog: string, fileName: string): string {
  const db = new Database(path.join(catalog, 'catalog.sqlite'), { readonly: true });
  try {
    return (db.prepare('SELECT sha256 FROM payloads WHERE file_name = ?').get(fileName) as { sha256: string }).sha256;
  } finally {
    db.close();
  }
}

/** The plan names the SHA-2 support payload as untrusted, for `kind`, and misses KB4474419 because of it. */
function assertLeftOut(p: PlanJson['hosts'][number], kind: string): void {
  assert.equal(p.complete, false);
  assert.ok(!p.steps.some((s) => s.file === SHA2_SUPPORT_X64), 'the untrusted payload is no step');
  const skip = p.skipped.find((s) => s.cause.kind === 'untrusted' && s.cause.file === SHA2_SUPPORT_X64);
  assert.ok(skip, JSON.stringify(p.skipped.map((s) => s.cause)));
  assert.equal(skip.reason, 'untrusted');
  assert.equal(skip.cause.arch, 'x64');
  assert.equal(skip.cause.distrust?.kind, kind);
  const missing = p.missing.find((m) => m.kb === 'KB4474419');
  assert.ok(missing, 'KB4474419 is missing');
  assert.equal(missing.cause.copy?.kind, 'untrusted');
  assert.match(missing.reason, /KB4474419 x64 in the catalog is not trusted now/);
  assert.ok(p.incomplete.some((c) => c.kind === 'missing' && c.kbs?.includes('KB4474419')));
}

describe('trust is live', () => {
  test('trust remove: catalog check reports every payload "untrusted since the anchor was removed" (exit 1), plan is INCOMPLETE naming them, stage refuses them; trust add makes all three fine again', () => {
    const catalog = newCatalog('removed', [root]);
    const before = check(catalog);
    assert.equal(before.status, 0, JSON.stringify(before.doc.problems));
    const complete = plan(catalog);
    assert.equal(complete.status, 0, complete.text);
    assert.ok(complete.doc.hosts[0]!.steps.some((s) => s.file === SHA2_SUPPORT_X64));

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
      assert.equal(p.distrust, 'anchor-removed');
      assert.match(p.detail, /untrusted since the anchor was removed/);
      assert.match(p.detail, /CHAIN_UNTRUSTED|no chain/);
    }
    const text = runCli(['catalog', 'check', '--catalog', catalog]);
    assert.equal(text.status, 1);
    assert.match(text.stdout, /PROBLEM  untrusted-payload: [0-9a-f]{64} — KB\d+ \(Windows[^)]+\.msu\): untrusted since the anchor was removed: .*\[PAYLOAD_UNTRUSTED\]/);

    const planned = plan(catalog);
    assert.equal(planned.status, 1, planned.text);
    assertLeftOut(planned.doc.hosts[0]!, 'anchor-removed');
    assert.match(planned.text, /INCOMPLETE plan/);
    assert.match(planned.text, /KB4474419: .*KB4474419 x64 in the catalog is not trusted now: untrusted since the anchor was removed/);
    assert.match(planned.text, /KB4474419 x64.*: untrusted — in the catalog, not trusted now: untrusted since the anchor was removed: it chained to "Cabferry Test Root CA" \([0-9a-f]{16}…, removed [^)]+\)/);

    const to = path.join(work, 'media-removed');
    const refused = stage(catalog, to);
    assert.equal(refused.status, 1, refused.stderr);
    assert.match(refused.stderr, /\[MEDIA_PAYLOAD_UNTRUSTED\]/);
    assert.match(refused.stderr, /KB4474419 \([0-9a-f]{12}…\)/);
    assert.match(refused.stderr, /untrusted since the anchor was removed: it chained to "Cabferry Test Root CA" \([0-9a-f]{16}…/);
    assert.match(refused.stderr, /`cabferry trust add` the anchor again/);
    assert.ok(!fs.existsSync(path.join(to, 'payloads')), 'nothing was written');

    assert.equal(runCli(['trust', 'add', root, '--catalog', catalog]).status, 0);
    assert.equal(check(catalog).status, 0);
    const again = plan(catalog);
    assert.equal(again.status, 0, again.text);
    assert.ok(!again.doc.hosts[0]!.skipped.some((s) => s.cause.kind === 'untrusted'));
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
    assert.equal(plan(catalog).status, 0);
    assert.equal(stage(catalog, path.join(work, 'media-two-anchors')).status, 0);
  });

  test('import with a one-off --trust the catalog does not hold: plan leaves the payloads out ("imported with a one-off anchor the catalog does not hold", INCOMPLETE, exit 1), stage refuses them saying to trust add it, check lists each; trust add makes them fine', () => {
    const catalog = oneOffCatalog('one-off');
    assert.equal(runCli(['trust', 'add', fixturePath('pki', 'other-root.pem'), '--catalog', catalog]).status, 0);

    const planned = plan(catalog);
    assert.equal(planned.status, 1, planned.text);
    const p = planned.doc.hosts[0]!;
    assertLeftOut(p, 'one-off-anchor');
    assert.ok(p.steps.every((s) => s.sha256 === null), 'no step from an anchor the catalog does not hold');
    const skip = p.skipped.find((s) => s.cause.file === SHA2_SUPPORT_X64)!;
    assert.deepEqual(skip.cause.distrust?.anchors?.map((a) => a.fingerprint), [rootFingerprint.toLowerCase().replace(/[^0-9a-f]/g, '')]);
    assert.match(planned.text, /KB4474419 x64 in the catalog is not trusted now: imported with a one-off anchor the catalog does not hold/);

    const to = path.join(work, 'media-one-off');
    const refused = stage(catalog, to);
    assert.equal(refused.status, 1, refused.stderr);
    assert.equal(refused.stderr.split('\n').filter((l) => l !== '').length, 1, refused.stderr);
    assert.match(refused.stderr, /KB4474419 \([0-9a-f]{12}…\).*: not trusted now: imported with a one-off anchor the catalog does not hold: it chained to "Cabferry Test Root CA"/);
    assert.match(refused.stderr, /`cabferry trust add` the certificate given to `import --trust` \("Cabferry Test Root CA"\)/);
    assert.match(refused.stderr, /\[MEDIA_PAYLOAD_UNTRUSTED\]$/m);
    assert.ok(!fs.existsSync(path.join(to, 'payloads')), 'nothing was written');

    const c = check(catalog);
    assert.equal(c.status, 1);
    const untrusted = c.doc.problems.filter((x) => x.kind === 'untrusted-payload');
    assert.equal(untrusted.length, importedCount(catalog));
    assert.ok(untrusted.every((x) => x.distrust === 'one-off-anchor' && /imported with a one-off anchor the catalog does not hold/.test(x.detail)));

    // --allow-incomplete stages the plan without them, like any incomplete plan
    const incomplete = stage(catalog, to, '--allow-incomplete');
    assert.equal(incomplete.status, 0, incomplete.stderr);
    assert.deepEqual(fs.existsSync(path.join(to, 'payloads')) ? fs.readdirSync(path.join(to, 'payloads')) : [], []);

    assert.equal(runCli(['trust', 'add', root, '--catalog', catalog]).status, 0);
    assert.equal(check(catalog).status, 0);
    assert.equal(plan(catalog).status, 0);
    assert.equal(stage(catalog, to).status, 0);
  });

  test('import --trust with an anchor the catalog holds for signatures only: every command says so (signatures-only-anchor, never "does not hold"), and the remedy is trust add --for payloads, saying it then serves both purposes; doing so makes them fine', () => {
    const catalog = path.join(work, 'signatures-only');
    assert.equal(runCli(['trust', 'add', '--for', 'signatures', root, '--catalog', catalog]).status, 0);
    const imported = runCli(['import', '--catalog', catalog, '--trust', root, fixturePath('payloads'), '--json']);
    assert.ok(imported.status === 0 || imported.status === 1, imported.stderr);
    const fingerprint = rootFingerprint.toLowerCase().replace(/[^0-9a-f]/g, '');
    const said = /^it chains to an anchor the catalog holds for signatures only: "Cabferry Test Root CA" \([0-9a-f]{16}…\), trusted for its bundles and media, not for updates; it chains to no anchor trusted for payloads/;
    const remedy = /^the usual cause is a payload signed under the root of your bundle and media signers, which should not vouch for updates: import a copy signed under an update root instead; only if "Cabferry Test Root CA" is really meant to vouch for updates, `cabferry trust add --for payloads FILE` \(FILE: its certificate\) — it then serves both purposes, payloads and signatures$/;

    // catalog check: the kind and the remedy in --json; the text ends with that remedy, once
    const c = check(catalog);
    assert.equal(c.status, 1);
    const untrusted = c.doc.problems.filter((x) => x.kind === 'untrusted-payload') as (CheckJson['problems'][number] & { remedy?: string })[];
    assert.equal(untrusted.length, importedCount(catalog));
    for (const x of untrusted) {
      assert.equal(x.distrust, 'signatures-only-anchor');
      assert.match(x.detail.replace(/^KB\d+ \([^)]+\): /, ''), said);
      assert.doesNotMatch(x.detail, /does not hold/);
      assert.match(x.remedy ?? '', remedy);
    }
    const text = runCli(['catalog', 'check', '--catalog', catalog]);
    const closing = text.stdout.trimEnd().split('\n').slice(-2);
    assert.match(closing[0]!, /^NOT consistent \(untrusted payloads: plan leaves them out and stage refuses them until they chain to an anchor trusted for payloads\)$/);
    assert.match(closing[1]!.replace(/^ {2}what to do: /, ''), remedy);

    // plan: the kind and the anchor as data, the words in the text
    const planned = plan(catalog);
    assert.equal(planned.status, 1, planned.text);
    const p = planned.doc.hosts[0]!;
    assertLeftOut(p, 'signatures-only-anchor');
    assert.deepEqual(p.skipped.find((s) => s.cause.file === SHA2_SUPPORT_X64)!.cause.distrust?.anchors?.map((a) => a.fingerprint), [fingerprint]);
    assert.match(planned.text, /KB4474419 x64 in the catalog is not trusted now: it chains to an anchor the catalog holds for signatures only/);
    assert.match(planned.text, /`cabferry trust add --for payloads FILE` \(FILE: its certificate\) — it then serves both purposes/);

    // stage --json: data.untrusted carries the kind, its words and the remedy
    const refused = runCli(['stage', '--catalog', catalog, '--host', host, '--to', path.join(work, 'media-signatures-only'), '--knowledge-base', knowledgeBase, '--json']);
    assert.equal(refused.status, 1, refused.stderr);
    const error = assertErrorDocument(refused.stdout, 'MEDIA_PAYLOAD_UNTRUSTED') as { data?: { untrusted: UntrustedEntry[] } };
    assert.ok((error.data?.untrusted.length ?? 0) > 0);
    for (const e of error.data!.untrusted) {
      assert.deepEqual([e.distrust.kind, e.distrust.anchors?.map((a) => a.fingerprint)], ['signatures-only-anchor', [fingerprint]], e.fileName);
      assert.match(e.reason, said);
      assert.match(e.remedy, remedy);
    }

    // export: left out with the same kind (the bundle signer chains to the root held for signatures)
    const exported = runCli(['export', '--catalog', catalog, '--to', path.join(work, 'bundle-signatures-only'), '--json', '--allow-incomplete', '--sign-key', fixturePath('pki', 'leaf-rsa.key'), '--sign-cert', fixturePath('pki', 'leaf-rsa-chain.pem')]);
    assert.equal(exported.status, 0, exported.stderr);
    const bundle = JSON.parse(exported.stdout) as { complete: boolean; leftOut: { distrust: { kind: string }; remedy: string }[] };
    assert.equal(bundle.complete, false);
    assert.equal(bundle.leftOut.length, importedCount(catalog));
    assert.ok(bundle.leftOut.every((x) => x.distrust.kind === 'signatures-only-anchor' && remedy.test(x.remedy)), JSON.stringify(bundle.leftOut[0]));

    // catalog list and show
    const sha = sha256Of(catalog, SHA2_SUPPORT_X64);
    const listed = JSON.parse(runCli(['catalog', 'list', '--json', '--catalog', catalog]).stdout) as { payloads: { sha256: string; distrust?: string | null }[] };
    assert.equal(listed.payloads.find((x) => x.sha256 === sha)?.distrust, 'signatures-only-anchor');
    assert.match(runCli(['catalog', 'show', sha, '--catalog', catalog]).stdout, /NOT TRUSTED NOW \(not offered to the planner\): it chains to an anchor the catalog holds for signatures only/);

    // verify and import of such a payload against the catalog (which now also holds an update root of
    // its own, or verify would stop at NO_TRUST_ANCHORS) name the anchor and its purpose
    assert.equal(runCli(['trust', 'add', fixturePath('pki', 'other-root.pem'), '--catalog', catalog]).status, 0);
    const verified = runCli(['verify', fixturePath('payloads', SHA2_SUPPORT_X64), '--catalog', catalog, '--json']);
    assert.equal(verified.status, 1);
    assert.deepEqual((JSON.parse(verified.stdout) as { files: { verdict: string; code: string }[] }).files.map((f) => [f.verdict, f.code]), [['untrusted', 'CHAIN_ANCHOR_SIGNATURES_ONLY']]);
    const fresh = path.join(work, 'signatures-only-fresh');
    assert.equal(runCli(['trust', 'add', '--for', 'signatures', root, '--catalog', fresh]).status, 0);
    assert.equal(runCli(['trust', 'add', fixturePath('pki', 'other-root.pem'), '--catalog', fresh]).status, 0);
    const rejected = runCli(['import', fixturePath('payloads', SHA2_SUPPORT_X64), '--catalog', fresh, '--json']);
    assert.equal(rejected.status, 1);
    assert.deepEqual((JSON.parse(rejected.stdout) as { results: { outcome: string; code: string | null }[] }).results.map((r) => [r.outcome, r.code]), [['rejected', 'CHAIN_ANCHOR_SIGNATURES_ONLY']]);

    // the remedy, followed: the anchor serves both purposes (a warning), and the payloads are fine
    const widened = runCli(['trust', 'add', '--for', 'payloads', root, '--catalog', catalog]);
    assert.match(widened.stdout, /^widened .*now also for payloads: for payloads, signatures\)$/m);
    assert.match(widened.stderr, /warning: Cabferry Test Root CA \([0-9a-f]{16}…\) is trusted for payloads and signatures/);
    assert.equal(check(catalog).status, 0);
    assert.equal(plan(catalog).status, 0);
  });

  test('a row with no stored verdict is judged from its signatures: after trust remove it is left out "untrusted since the anchor was removed" (its signatures chain to the removed certificate), after trust add it is planned again', () => {
    const catalog = newCatalog('no-verdict', [root]);
    const sha256 = sha256Of(catalog, SHA2_SUPPORT_X64);
    const db = new Database(path.join(catalog, 'catalog.sqlite'));
    db.prepare('UPDATE payloads SET verdict_json = NULL WHERE sha256 = ?').run(sha256);
    db.close();
    // still trusted while its anchor is: judged at the time it was imported, not skipped
    assert.equal(plan(catalog).status, 0);

    const removal = runCli(['trust', 'remove', rootFingerprint.slice(0, 16), '--catalog', catalog, '--json']);
    assert.equal(removal.status, 0);
    // trust remove names it among the payloads the removal untrusts, with those that kept their verdict
    assert.ok((JSON.parse(removal.stdout) as { untrustedPayloads: string[] }).untrustedPayloads.includes(sha256));
    const planned = plan(catalog);
    assert.equal(planned.status, 1);
    assertLeftOut(planned.doc.hosts[0]!, 'anchor-removed');
    const skip = planned.doc.hosts[0]!.skipped.find((s) => s.cause.kind === 'untrusted' && s.cause.file === SHA2_SUPPORT_X64)!;
    assert.deepEqual(skip.cause.distrust?.anchors?.map((a) => [a.fingerprint, a.subject]), [[rootFingerprint, 'Cabferry Test Root CA']]);
    const c = check(catalog);
    const row = c.doc.problems.find((x) => x.sha256 === sha256);
    assert.equal(row?.kind, 'untrusted-payload', JSON.stringify(c.doc.problems));
    assert.equal(row.distrust, 'anchor-removed');
    assert.match(row.detail, /untrusted since the anchor was removed: it chained to "Cabferry Test Root CA"/);
    const refused = stage(catalog, path.join(work, 'media-no-verdict'));
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /KB4474419 \([0-9a-f]{12}…\).*untrusted since the anchor was removed.*\[MEDIA_PAYLOAD_UNTRUSTED\]/);

    // a removal recorded before the catalog kept removed certificates (schema 3): it cannot be known
    const edit = new Database(path.join(catalog, 'catalog.sqlite'));
    edit.prepare('UPDATE trust_anchor_removals SET der = NULL').run();
    edit.close();
    const unknown = check(catalog).doc.problems.find((x) => x.sha256 === sha256);
    assert.equal(unknown?.distrust, 'no-trusted-chain');
    assert.match(unknown.detail, /chains to no anchor trusted now/);

    assert.equal(runCli(['trust', 'add', root, '--catalog', catalog]).status, 0);
    assert.equal(plan(catalog).status, 0);
    assert.equal(check(catalog).status, 0);
  });

  test('a payload whose blob is missing is not proven: plan leaves it out and is INCOMPLETE, stage refuses it, check reports the missing blob', () => {
    const catalog = newCatalog('missing-blob', [root]);
    const sha256 = sha256Of(catalog, SHA2_SUPPORT_X64);
    fs.rmSync(path.join(catalog, 'blobs', sha256.slice(0, 2), sha256.slice(2)));

    const planned = plan(catalog);
    assert.equal(planned.status, 1);
    assertLeftOut(planned.doc.hosts[0]!, 'blob-missing');
    assert.match(planned.text, /KB4474419 x64 in the catalog is not trusted now: its blob is missing from the catalog/);
    const refused = stage(catalog, path.join(work, 'media-missing-blob'));
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /KB4474419 \([0-9a-f]{12}…\): not trusted now: its blob is missing from the catalog.*import the same file again.*\[MEDIA_PAYLOAD_UNTRUSTED\]/);
    const c = check(catalog);
    assert.equal(c.status, 1);
    assert.deepEqual(c.doc.problems.filter((x) => x.sha256 === sha256).map((x) => x.kind), ['missing-blob']);

    // the same file imported again restores the blob, and with it the plan
    assert.ok([0, 1].includes(runCli(['import', '--catalog', catalog, fixturePath('payloads', SHA2_SUPPORT_X64)]).status ?? -1));
    assert.equal(plan(catalog).status, 0);
  });

  test('stage --json refuses untrusted planned payloads with data: data.untrusted has one entry per payload (sha256, kb, fileName, the hosts whose plans need it, distrust as data, reason, remedy)', () => {
    const catalog = newCatalog('untrusted-data', [root]);
    // a second x64 host like SRV-FRESH, so one payload is needed by two hosts' plans
    const twin = path.join(work, 'srv-fresh-2.systeminfo.txt');
    fs.writeFileSync(twin, Buffer.from(fs.readFileSync(host).toString('latin1').replace(/^(Host Name:\s+)SRV-FRESH(\r?)$/m, '$1SRV-FRESH-2$2'), 'latin1'));
    const x86 = fixturePath('hosts', 'srv-x86.systeminfo.txt');
    const SHA2_SUPPORT_X86 = 'Windows6.0-KB4474419-v4-x86.msu';
    const stageJson = (to: string) => runCli(['stage', '--catalog', catalog, '--host', host, twin, x86, '--to', to, '--knowledge-base', knowledgeBase, '--json']);
    const planned = runCli(['plan', '--catalog', catalog, '--host', host, twin, x86, '--knowledge-base', knowledgeBase, '--json']);
    assert.equal(planned.status, 0, planned.stderr);
    const steps = (JSON.parse(planned.stdout) as PlanJson).hosts.map((h) => h.steps.map((s) => s.file));
    assert.deepEqual(steps.map((files) => [files.includes(SHA2_SUPPORT_X64), files.includes(SHA2_SUPPORT_X86)]), [[true, false], [true, false], [false, true]]);

    // after planning, both SHA-2 support payloads lose their blobs: nothing proves them any more
    const x64Sha = sha256Of(catalog, SHA2_SUPPORT_X64);
    const x86Sha = sha256Of(catalog, SHA2_SUPPORT_X86);
    for (const sha of [x64Sha, x86Sha]) fs.rmSync(path.join(catalog, 'blobs', sha.slice(0, 2), sha.slice(2)));
    const to = path.join(work, 'media-untrusted-data');
    const refused = stageJson(to);
    assert.equal(refused.status, 1, refused.stderr);
    assert.equal(refused.stderr.split('\n').filter((l) => l !== '').length, 1, refused.stderr);
    const error = assertErrorDocument(refused.stdout, 'MEDIA_PAYLOAD_UNTRUSTED') as { message: string; data?: { untrusted: UntrustedEntry[] } };
    const missing = { kind: 'blob-missing' };
    const reason = 'its blob is missing from the catalog: nothing proves its signatures';
    const remedy = 'import the same file again to restore its blob (`cabferry catalog check` lists what is missing)';
    assert.deepEqual(byFileName(error.data?.untrusted), [
      { sha256: x64Sha, kb: 'KB4474419', fileName: SHA2_SUPPORT_X64, hosts: ['SRV-FRESH', 'SRV-FRESH-2'], distrust: missing, reason, remedy },
      { sha256: x86Sha, kb: 'KB4474419', fileName: SHA2_SUPPORT_X86, hosts: ['SRV-X86'], distrust: missing, reason, remedy },
    ]);
    assert.ok(!fs.existsSync(path.join(to, 'payloads')), 'nothing was written');

    // another kind of distrust is another kind in the data: after trust remove the payloads that
    // still have their blobs are anchor-removed, naming the anchor; those without stay blob-missing
    assert.equal(runCli(['trust', 'remove', rootFingerprint.slice(0, 16), '--catalog', catalog]).status, 0);
    const removed = stageJson(to);
    assert.equal(removed.status, 1, removed.stderr);
    const entries = (assertErrorDocument(removed.stdout, 'MEDIA_PAYLOAD_UNTRUSTED') as { data?: { untrusted: UntrustedEntry[] } }).data?.untrusted ?? [];
    assert.deepEqual(entries.filter((e) => e.distrust.kind === 'blob-missing').map((e) => e.fileName).sort(), [SHA2_SUPPORT_X64, SHA2_SUPPORT_X86]);
    const anchorRemoved = entries.filter((e) => e.distrust.kind === 'anchor-removed');
    assert.ok(anchorRemoved.length > 0, JSON.stringify(entries));
    for (const e of anchorRemoved) {
      assert.deepEqual(e.distrust.anchors?.map((a) => [a.fingerprint, a.subject]), [[rootFingerprint, 'Cabferry Test Root CA']], e.fileName);
      assert.match(e.reason, /^untrusted since the anchor was removed: /);
      assert.match(e.remedy, /^`cabferry trust add` the anchor again/);
      assert.ok(e.hosts.length > 0 && e.hosts.every((h) => ['SRV-FRESH', 'SRV-FRESH-2', 'SRV-X86'].includes(h)), e.fileName);
    }
  });

  test('catalog list and show do not call a payload no anchor vouches for now "ok": UNTRUSTED, "NOT TRUSTED NOW" with the reason, distrust in --json; trust add makes them ok', () => {
    const catalog = oneOffCatalog('listed');
    const sha = sha256Of(catalog, SHA2_SUPPORT_X64);
    const listed = runCli(['catalog', 'list', '--catalog', catalog]);
    assert.equal(listed.status, 0, listed.stderr);
    const rows = listed.stdout.split('\n').filter((l) => /^\S+\s+KB\d+/.test(l));
    assert.ok(rows.length >= 14, listed.stdout);
    assert.ok(rows.every((l) => l.startsWith('UNTRUSTED ')), listed.stdout);
    const doc = JSON.parse(runCli(['catalog', 'list', '--json', '--catalog', catalog]).stdout) as { payloads: { sha256: string; distrust?: string | null }[] };
    assert.equal(doc.payloads.find((p) => p.sha256 === sha)?.distrust, 'one-off-anchor');
    const shown = runCli(['catalog', 'show', sha, '--catalog', catalog]);
    assert.match(shown.stdout, /status +imported, NOT TRUSTED NOW \(not offered to the planner\): imported with a one-off anchor/);

    assert.equal(runCli(['trust', 'add', root, '--catalog', catalog]).status, 0);
    const after = runCli(['catalog', 'list', '--catalog', catalog]).stdout.split('\n').filter((l) => /^\S+\s+KB\d+/.test(l));
    assert.ok(after.length === rows.length && after.every((l) => l.startsWith('ok ')), after.join('\n'));
    const docAfter = JSON.parse(runCli(['catalog', 'list', '--json', '--catalog', catalog]).stdout) as { payloads: { sha256: string; distrust?: unknown }[] };
    assert.equal(docAfter.payloads.find((p) => p.sha256 === sha)?.distrust ?? null, null);
  });
});

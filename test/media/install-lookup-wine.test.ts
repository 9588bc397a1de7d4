import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { tempDir } from '../common.helpers';
import { install, InstallCases, type InstallCase } from './install-cases.helpers';
import { CBS_PACKAGES, packageName, rollupFixPackageName, WinePrefix, winPath, wineSkip as skip } from './wine.helpers';

/**
 * How install.cmd looks updates up on the host (Wine's cmd, stub installers): a resumed run answers
 * the re-checks of the steps state.txt calls done from one snapshot of the host's servicing
 * packages (:done_snapshot), only until the run starts an installer, and only from a snapshot that
 * is whole; the snapshot judges as a look-up of the host does (:host_has); version parts compare
 * as decimal numbers.
 */

let work = '';
let wine: WinePrefix;
let cases: InstallCases;

const file = (kb: string) => `Windows6.0-${kb}-x64.msu`;
const results = (c: InstallCase) => c.log().results.map((r) => [r.step, r.meaning, r.confirmed, r.how]);

/** state.txt as the run that finished these steps left it: "done N 0 CONFIRMED" each */
function finished(c: InstallCase, steps: number[], confirmed = 'yes'): void {
  fs.mkdirSync(path.dirname(c.statePath), { recursive: true });
  fs.writeFileSync(c.statePath, steps.map((n) => `attempt ${n}\r\ndone ${n} 0 ${confirmed}\r\n`).join(''));
}

/** a package key CBS lists with no CurrentState value under it */
function addPackageWithoutState(kb: string): void {
  const r = wine.run(['reg', 'add', `${CBS_PACKAGES}\\${packageName(kb)}`, '/v', 'InstallClient', '/t', 'REG_SZ', '/d', 'test', '/f']);
  assert.equal(r.status, 0, r.stderr);
}

/**
 * A stand-in for wmic's hotfix list (install.cmd asks it through CABFERRY_WMIC_QFE) that prints
 * `kbs` and records how it was asked, one line a call: the whole list ("qfe get HotFixID") or one
 * update ("qfe where ...").
 */
function countingHotfixList(name: string, kbs: string[]): { env: { CABFERRY_WMIC_QFE: string }; calls: () => string[] } {
  const dir = path.join(work, name);
  fs.mkdirSync(dir, { recursive: true });
  const log = path.join(dir, 'asked.log');
  fs.writeFileSync(path.join(dir, 'wmic-qfe.cmd'), ['@echo off', `>>"${winPath(log)}" echo %1 %2`, 'echo HotFixID', ...kbs.map((kb) => `echo ${kb}`), 'exit /b 0', ''].join('\r\n'));
  return {
    env: { CABFERRY_WMIC_QFE: winPath(path.join(dir, 'wmic-qfe.cmd')) },
    calls: () => (fs.existsSync(log) ? fs.readFileSync(log, 'latin1').split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '') : []),
  };
}

describe('install.cmd looks updates up under Wine cmd', { skip }, () => {
  before(() => {
    work = tempDir('cabferry-lookup-wine-');
    wine = new WinePrefix(work);
    wine.init();
    cases = new InstallCases(work, wine);
  });

  after(() => wine.close());

  test('a resumed run answers the re-checks of its finished steps from one read of the host\'s packages: the hotfix list is asked once, for all of them', () => {
    const kbs = ['KB2000001', 'KB2000002', 'KB2000003'];
    const c = cases.make(kbs.map((kb, i) => install(i + 1, kb, file(kb))));
    // the updates are named by the hotfix list only; CBS lists another one
    wine.addPackage('KB2999999');
    const qfe = countingHotfixList('qfe-once', kbs);
    finished(c, [1, 2]);
    fs.appendFileSync(c.statePath, 'attempt 3\r\ndone 3 0 no\r\n');
    const r = c.run([], qfe.env);
    assert.equal(r.status, 0, r.stdout);
    // before: asked three times, once for each update ("qfe where HotFixID=...")
    assert.deepEqual(qfe.calls(), ['qfe get'], 'the hotfix list is read once, whole');
    assert.deepEqual(results(c), [[3, 'confirmed-on-host', 'yes', 'qfe']]);
    assert.deepEqual(c.stubs.installed(), []);
  });

  test('an installer that registers a later step\'s update during the run: that step\'s re-check asks the host, and finds it (the snapshot from before the installer is not used)', () => {
    const c = cases.make([install(1, 'KB2000011', file('KB2000011')), install(2, 'KB2000012', file('KB2000012'))]);
    wine.addPackage('KB2999999');
    // both done by an earlier run, and since removed from the host; step 1's installer brings both back
    finished(c, [1, 2]);
    c.stubs.setPackageChanges(file('KB2000011'), { registers: ['KB2000012'] });
    const r = c.run();
    assert.equal(r.status, 0, r.stdout);
    // with the snapshot's answer: 2 not-on-host and installed again
    assert.deepEqual(results(c), [[1, 'not-on-host', 'no', null], [1, 'installed', 'yes', 'cbs']]);
    assert.deepEqual(c.stubs.installed(), [file('KB2000011')]);
  });

  test('an installer that removes a later step\'s update during the run: that step\'s re-check does not call it present, and it is installed again', () => {
    const c = cases.make([install(1, 'KB2000021', file('KB2000021')), install(2, 'KB2000022', file('KB2000022')), install(3, 'KB2000023', file('KB2000023'))]);
    wine.addPackage('KB2000022');
    wine.addPackage('KB2000023');
    finished(c, [1, 2, 3]);
    c.stubs.setPackageChanges(file('KB2000021'), { removes: ['KB2000023'] });
    const r = c.run();
    assert.equal(r.status, 0, r.stdout);
    // with the snapshot's answer: 3 present, nothing logged for it, and the run ends complete without it
    assert.deepEqual(results(c), [[1, 'not-on-host', 'no', null], [1, 'installed', 'yes', 'cbs'], [3, 'not-on-host', 'no', null], [3, 'installed', 'yes', 'cbs']]);
    assert.deepEqual(c.stubs.installed(), [file('KB2000021'), file('KB2000023')]);
  });

  test('a snapshot that is not whole (a package listed with no CurrentState) is not used: the host is asked, and counts that package absent whatever the hotfix list says', () => {
    const qfe = countingHotfixList('qfe-whole', ['KB2000031']);
    // the first run's check of what the plan rests on
    const premise = cases.make([install(1, 'KB2000032', file('KB2000032'))], {}, {}, { assumedInstalled: ['KB2000031'] });
    wine.addPackage('KB2999999');
    addPackageWithoutState('KB2000031');
    const refused = premise.run([], qfe.env);
    // before: the snapshot, which had not read the package, took the hotfix list's word: installed, END complete
    assert.equal(refused.status, 2, refused.stdout);
    assert.match(refused.stdout, /this host does not list them: KB2000031\r?\n/);
    assert.deepEqual(premise.stubs.installed(), []);

    // a resumed run's re-check of a finished step
    const resumed = cases.make([install(1, 'KB2000031', file('KB2000031'))]);
    wine.addPackage('KB2999999');
    addPackageWithoutState('KB2000031');
    finished(resumed, [1]);
    // (the stub installer registers the package with its state: the confirmation finds it)
    const r = resumed.run([], qfe.env);
    assert.equal(r.status, 0, r.stdout);
    assert.deepEqual(results(resumed), [[1, 'not-on-host', 'no', null], [1, 'installed', 'yes', 'cbs']]);
  });

  test('a service pack\'s package (VistaSP2-KB948465~...) counts with the Package_for_ ones, in the snapshot as in :host_has: one staged keeps the update off the host, as the planner judges (review 6, F2)', () => {
    const premise = cases.make([install(1, 'KB2000041', file('KB2000041'))], {}, {}, { assumedInstalled: ['KB948465'] });
    wine.addPackageKey('VistaSP2-KB948465~31bf3856ad364e35~amd64~~6.0.2.6002', 0x40);
    wine.addPackageKey('Package_for_KB948465~31bf3856ad364e35~amd64~~6.0.2.6002', 0x70);
    const r = premise.run();
    assert.equal(r.status, 2, r.stdout);
    assert.deepEqual([premise.log().ends.at(-1)?.status, premise.log().ends.at(-1)?.reason], ['refused', 'inventory-stale']);
    assert.deepEqual(premise.stubs.installed(), []);

    const resumed = cases.make([install(1, 'KB948465', file('KB948465'))]);
    wine.addPackageKey('VistaSP2-KB948465~31bf3856ad364e35~amd64~~6.0.2.6002', 0x40);
    wine.addPackageKey('Package_for_KB948465~31bf3856ad364e35~amd64~~6.0.2.6002', 0x70);
    finished(resumed, [1]);
    resumed.run();
    assert.deepEqual(results(resumed)[0], [1, 'not-on-host', 'no', null]);
  });

  test('RollupFix versions compare part by part as decimal numbers: 010 is ten and 08 is eight, not octal; 000 is 0', () => {
    // a rollup the hotfix list names and CBS lists under RollupFix only: bounded by the newest RollupFix package
    const confirmBy = (name: string, packages: [string, number][]) => {
      const qfe = countingHotfixList(name, ['KB4493471']);
      const c = cases.make([install(1, 'KB4493471', file('KB4493471'))]);
      c.stubs.setNotRegistered([file('KB4493471')]);
      for (const [version, state] of packages) wine.addPackageKey(rollupFixPackageName(version), state);
      const r = c.run([], qfe.env);
      return { r, confirmed: c.log().results.map((x) => x.confirmed) };
    };
    // 6.0.1.010 (staged) is newer than 6.0.1.9 (installed): read as octal, 010 was 8, older
    const ten = confirmBy('qfe-010', [['6.0.1.9', 0x70], ['6.0.1.010', 0x40]]);
    assert.deepEqual(ten.confirmed, ['no'], ten.r.stdout);
    assert.match(ten.r.stdout, /servicing package Package_for_RollupFix~31bf3856ad364e35~amd64~~6\.0\.1\.010 is in state 0x40/);
    // 6.0.1.08 (partially installed) is newer than 6.0.1.7: read as octal, 08 was an error, 0
    const eight = confirmBy('qfe-08', [['6.0.1.7', 0x70], ['6.0.1.08', 0x65]]);
    assert.deepEqual(eight.confirmed, ['no'], eight.r.stdout);
    assert.match(eight.r.stdout, /6\.0\.1\.08 is in state 0x65/);
    // (guards: a part of zeros alone is 0, the same version as .0, so the least of the two counts; 6.0.2.0 is newer than 6.0.1.99)
    const zeros = confirmBy('qfe-000', [['6.0.1.0', 0x70], ['6.0.1.000', 0x65]]);
    assert.deepEqual(zeros.confirmed, ['no'], zeros.r.stdout);
    const newer = confirmBy('qfe-099', [['6.0.2.0', 0x70], ['6.0.1.99', 0x65]]);
    assert.deepEqual(newer.confirmed, ['yes'], newer.r.stdout);
  });
});

import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { tempDir } from '../common.helpers';
import { HASH_SELFTEST_SHA256 } from '../../src/media/install-script';
import { install, type InstallCase, InstallCases, reboot } from '../media/install-cases.helpers';
import { hotfixListStub, WinePrefix, wineSkip as skip } from '../media/wine.helpers';

/**
 * Review 8's findings on install.cmd (h/fix8b), under Wine's cmd.
 *
 * S1: install.cmd's own variables came from the environment that started it when the script had not
 * set them yet. :snapshot_has reads CF_VERDICT_KBn (set by :cbs_snapshot for each update CBS lists)
 * and CF_QFE_KBn (set by :qfe_has for each hotfix listed): a wrapper script or parent cmd holding
 * either answered "installed" for an update the host lacks.
 *
 * H1: a payload whose hasher printed no digest was held as hash-not-computed, with "nothing was
 * checked: this does not say the file on the media is wrong", also for a file of 0 bytes or cut short,
 * which is wrong whatever its hash. The step table now carries each payload's size, compared first.
 *
 * Hotfix IDs with a suffix: the planner reads KB958488-v2 in a host's hotfix list as KB958488
 * (host-facts.ts kbFromHotfixId), install.cmd asked wmic for HotFixID='KB958488' exactly and its
 * snapshot compared whole IDs, so the premise check refused such a host at every run (inventory-stale).
 *
 * An .exe installer that returns at once (a service pack's leaves a child process installing): its
 * step is left unconfirmed, but the run went on, and at the next reboot step /autoreboot restarted the
 * host under the installer still at work.
 */

let work = '';
let wine: WinePrefix;
let cases: InstallCases;

describe('review8: install.cmd findings under Wine cmd', { skip }, () => {
  before(() => {
    work = tempDir('cabferry-review8-install-wine-');
    wine = new WinePrefix(work);
    wine.init();
    cases = new InstallCases(work, wine);
  });
  after(() => wine.close());

  test('review8 S1: CF_VERDICT_KBn and CF_QFE_KBn in the environment that starts install.cmd do not make the premise check find updates the host lacks', () => {
    const c = cases.make([install(1, 'KB1000003', 'Windows6.0-KB1000003-x64.msu')], {}, {}, { assumedInstalled: ['KB1000001', 'KB1000002'] });
    // an update the host does have, so that :cbs_snapshot reads a whole package list and the premise
    // check judges from it (:snapshot_has); the hotfix list answers, without either update
    wine.addPackage('KB1000009');
    const qfe = hotfixListStub(path.join(work, 'qfe-s1'), ['KB1000009']);
    const r = c.run([], { ...wine.boot(1), ...qfe, CF_VERDICT_KB1000001: 'present', CF_QFE_KB1000002: '1' });
    // failed before: the premise check passed, step 1 was installed and the run ended complete
    assert.deepEqual([r.status, c.log().ends.at(-1)?.status, c.log().ends.at(-1)?.reason], [2, 'refused', 'inventory-stale'], r.stdout);
    assert.match(r.stdout, /this host does not list them: KB1000001 KB1000002/, r.stdout);
    assert.deepEqual(c.stubs.installed(), [], r.stdout);
  });

  test('review8 S1: CF_VERDICT_KBn in the environment does not make a step state.txt calls done count as on a host that no longer has its update', () => {
    const file = 'Windows6.0-KB1000011-x64.msu';
    const c = cases.make([install(1, 'KB1000011', file)]);
    const first = c.run([], wine.boot(1));
    assert.deepEqual([first.status, c.stubs.installed()], [0, [file]], first.stdout);
    // the update is gone from the host (removed, or rolled back); another one keeps the package list
    // whole, so the resumed run judges the done step from :done_snapshot's answers
    wine.clearPackages();
    wine.addPackage('KB1000019');
    const r = c.run([], { ...wine.boot(1), CF_VERDICT_KB1000011: 'present' });
    // failed before: the step counted as present, nothing was installed, and the run ended complete
    assert.deepEqual(c.log().results.map((x) => `${x.step}:${x.meaning}`), ['1:installed', '1:not-on-host', '1:installed'], r.stdout);
    assert.deepEqual(c.stubs.installed(), [file, file], r.stdout);
    assert.deepEqual([r.status, c.log().ends.at(-1)?.status], [0, 'complete'], r.stdout);
  });

  /** a case whose hasher answers the self-test and every payload but `file`, for which it prints nothing (as sha256.vbs does for a file ADODB.Stream cannot load) */
  const noDigestFor = (c: InstallCase, file: string) => {
    const hashes = path.join(c.stubs.dir, 'hashes.txt');
    fs.writeFileSync(hashes, fs.readFileSync(hashes, 'latin1').split('\r\n').filter((l) => !l.startsWith(`${file} `)).join('\r\n'));
  };

  test('review8 H1: a payload of 0 bytes is refused as payload-wrong-size, naming both sizes, where the hasher prints no digest for it; the right one then installs', () => {
    const first = 'Windows6.0-KB1000021-x64.msu';
    const second = 'Windows6.0-KB1000022-x64.msu';
    const c = cases.make([install(1, 'KB1000021', first), install(2, 'KB1000022', second)]);
    const payload = path.join(c.root, 'payloads', second);
    const right = fs.readFileSync(payload);
    noDigestFor(c, second);
    fs.writeFileSync(payload, '');
    const empty = c.run([], wine.boot(1));
    // failed before: 2:hash-not-computed, "nothing was checked: this does not say the file on the media is wrong"
    assert.deepEqual(c.log().results.map((x) => `${x.step}:${x.meaning}`), ['1:installed', '2:payload-wrong-size'], empty.stdout);
    assert.match(empty.stdout, new RegExp(`\\[2/2\\] ${second} is 0 bytes on the media, and the plan names a file of ${right.length} bytes - not installed`), empty.stdout);
    assert.match(empty.stdout, /re-check it with cabferry verify-media/, empty.stdout);
    assert.doesNotMatch(empty.stdout, /does not say the file on the media is wrong/, empty.stdout);
    assert.deepEqual([empty.status, c.log().ends.at(-1)?.status, c.stubs.installed()], [1, 'stopped', [first]], empty.stdout);
    // the right file, staged again
    fs.writeFileSync(payload, right);
    c.refreshHashes();
    const done = c.run([], wine.boot(1));
    assert.deepEqual(c.log().results.slice(2).map((x) => `${x.step}:${x.meaning}`), ['2:installed'], done.stdout);
    assert.deepEqual([done.status, c.log().ends.at(-1)?.status, c.stubs.installed()], [0, 'complete', [first, second]], done.stdout);
  });

  test('review8 H1: a payload cut short is refused as payload-wrong-size where the hasher prints no digest for it; one of the plan\'s size is then held as the hasher\'s failure (hash-not-computed), said as that', () => {
    const file = 'Windows6.0-KB1000023-x64.msu';
    const c = cases.make([install(1, 'KB1000023', file)]);
    const payload = path.join(c.root, 'payloads', file);
    const right = fs.readFileSync(payload);
    noDigestFor(c, file);
    fs.writeFileSync(payload, right.subarray(0, 40));
    const cut = c.run([], wine.boot(1));
    // failed before: 1:hash-not-computed
    assert.deepEqual(c.log().results.map((x) => `${x.step}:${x.meaning}`), ['1:payload-wrong-size'], cut.stdout);
    assert.match(cut.stdout, new RegExp(`${file} is 40 bytes on the media, and the plan names a file of ${right.length} bytes`), cut.stdout);
    assert.deepEqual([cut.status, c.stubs.installed()], [1, []], cut.stdout);
    fs.writeFileSync(payload, right);
    const unhashed = c.run([], wine.boot(1));
    assert.deepEqual(c.log().results.slice(1).map((x) => `${x.step}:${x.meaning}`), ['1:hash-not-computed'], unhashed.stdout);
    assert.match(unhashed.stdout, new RegExp(`the file has the size the plan names, ${right.length} bytes, and its content was not checked: this does not say the file on the media is wrong`), unhashed.stdout);
    assert.deepEqual([unhashed.status, c.stubs.installed()], [1, []], unhashed.stdout);
  });

  test('review8 H1: sizes over 2 GiB are compared exactly (cmd compares numbers as 32-bit signed, where 3 GiB and 4 GiB - 1 would be equal)', () => {
    const big = 'Windows6.0-KB1000031-x64.exe';
    const other = 'Windows6.0-KB1000032-x64.exe';
    const threeGiB = 3 * 1024 ** 3 + 1;
    const planned: Record<string, number> = { [big]: threeGiB, [other]: 4 * 1024 ** 3 - 1 };
    const c = cases.make([{ ...install(1, 'KB1000031', big), switches: [] }, { ...install(2, 'KB1000032', other), switches: [] }], {}, { payloadSize: (f) => planned[f] });
    // sparse files of 3 GiB and a byte: the first is the size the plan names, the second is not
    for (const f of [big, other]) {
      fs.rmSync(path.join(c.root, 'payloads', f));
      fs.writeFileSync(path.join(c.root, 'payloads', f), '');
      fs.truncateSync(path.join(c.root, 'payloads', f), threeGiB);
    }
    // the hasher says each has the plan's SHA-256 (reading 3 GiB is not what is tested)
    fs.writeFileSync(path.join(c.stubs.dir, 'hashes.txt'), [`sha256-selftest.txt ${HASH_SELFTEST_SHA256}`, ...c.plan.steps.map((s) => `${s.file} ${s.sha256}`)].join('\r\n') + '\r\n');
    const r = c.run([], wine.boot(1));
    assert.deepEqual(c.log().results.map((x) => `${x.step}:${x.meaning}`), ['1:installed', '2:payload-wrong-size'], r.stdout);
    assert.match(r.stdout, new RegExp(`${other} is ${threeGiB} bytes on the media, and the plan names a file of ${4 * 1024 ** 3 - 1} bytes`), r.stdout);
    assert.deepEqual(c.stubs.installed(), [big], r.stdout);
  });

  /**
   * A plan resting on KB958488 on a host whose hotfix list (the wmic stand-in) names `listed`, and
   * whose CBS lists another package or none: with one, the premise check judges from :cbs_snapshot's
   * read (:snapshot_has, :qfe_has); with none, the snapshot is not whole and each update is asked of
   * the host (:host_has)
   */
  const premiseCase = (listed: string, packages: boolean, name: string) => {
    const c = cases.make([install(1, 'KB1000041', 'Windows6.0-KB1000041-x64.msu')], {}, {}, { assumedInstalled: ['KB958488'] });
    if (packages) wine.addPackage('KB1000049');
    const r = c.run([], { ...wine.boot(1), ...hotfixListStub(path.join(work, `qfe-${name}`), ['KB1000048', listed]) });
    return { c, r };
  };

  test('review8 hotfix IDs: KB958488-v2 in the hotfix list is KB958488 to the premise check, as to the planner, from the snapshot and asked of the host', () => {
    const runs = [true, false].map((packages) => premiseCase('KB958488-v2', packages, `suffix-${packages}`));
    // failed before, both: refused inventory-stale, "this host does not list them: KB958488"
    assert.deepEqual(runs.map(({ c, r }) => [r.status, c.log().ends.at(-1)?.status, c.stubs.installed()]), [0, 1].map(() => [0, 'complete', ['Windows6.0-KB1000041-x64.msu']]), runs.map(({ r }) => r.stdout).join('\n'));
  });

  test('review8 hotfix IDs: KB9584881 in the hotfix list is not KB958488: the premise check refuses the host, from the snapshot and asked of the host', () => {
    const runs = [true, false].map((packages) => premiseCase('KB9584881', packages, `longer-${packages}`));
    assert.deepEqual(runs.map(({ c, r }) => [r.status, c.log().ends.at(-1)?.reason, c.stubs.installed()]), [0, 1].map(() => [2, 'inventory-stale', []]), runs.map(({ r }) => r.stdout).join('\n'));
    for (const { r } of runs) assert.match(r.stdout, /this host does not list them: KB958488\r?\n/, r.stdout);
  });

  const SP2 = 'Windows6.0-KB948465-x64.exe';
  const ROLLUP = 'Windows6.0-KB1000052-x64.msu';
  /** the service pack, as the planner stages it, then its reboot step and an update after it */
  const returnsAtOnce = () => {
    const c = cases.make([{ ...install(1, 'KB948465', SP2), switches: ['/unattend', '/nodialog', '/warnrestart:600'], cancelsOwnRestart: true }, reboot(2), install(3, 'KB1000052', ROLLUP)]);
    // its installer exits 0 and the host does not list the update (yet): a child process still installs
    c.stubs.setNotRegistered([SP2]);
    return c;
  };
  const restarts = (c: InstallCase) => c.calls().filter((l) => /^shutdown \/r|^schtasks \/create/.test(l));

  test('review8 returns at once: with /autoreboot, a reboot step after an install of this run the host does not list stops the run unconfirmed and restarts nothing; the next run finds the update and restarts', () => {
    const c = returnsAtOnce();
    const r = c.run(['/autoreboot'], wine.boot(1));
    // failed before: reboot-requested for step 2, schtasks /create and shutdown /r, END restart 3010
    assert.deepEqual(restarts(c), [], r.stdout);
    assert.deepEqual(c.log().results.map((x) => `${x.step}:${x.meaning}:${x.confirmed}`), ['1:installed:no'], r.stdout);
    assert.deepEqual([r.status, c.log().ends.at(-1)?.status, c.log().ends.at(-1)?.reason], [1, 'unconfirmed', 'restart-held'], r.stdout);
    assert.match(r.stdout, /\[2\/3\] step 2 needs the host restarted, but this host does not list yet what an earlier step of this run installed: KB948465 of step 1\r?\n/, r.stdout);
    assert.match(r.stdout, /The host was NOT restarted/, r.stdout);
    assert.deepEqual(c.stubs.installed(), [SP2], r.stdout);
    // the installation has finished: the next run finds the update, and the reboot step restarts the host
    wine.addPackage('KB948465');
    const next = c.run(['/autoreboot'], wine.boot(1));
    assert.deepEqual(c.log().results.slice(1).map((x) => `${x.step}:${x.meaning}`), ['1:confirmed-on-host', '2:reboot-requested'], next.stdout);
    assert.equal(next.status, 3010, next.stdout);
    assert.equal(restarts(c).filter((l) => l.startsWith('shutdown')).length, 1, c.calls().join('\n'));
  });

  test('review8 returns at once: without /autoreboot the same stop, and the operator is not told to restart', () => {
    const c = returnsAtOnce();
    const r = c.run([], wine.boot(1));
    // failed before: reboot-requested, "restart the host now, then run install.cmd again", END restart 3010
    assert.deepEqual([r.status, c.log().ends.at(-1)?.status, c.log().ends.at(-1)?.reason], [1, 'unconfirmed', 'restart-held'], r.stdout);
    assert.deepEqual(c.log().results.map((x) => `${x.step}:${x.meaning}`), ['1:installed'], r.stdout);
    assert.doesNotMatch(r.stdout, /restart the host/i, r.stdout);
    assert.match(r.stdout, /wait until the installation has finished, then run install\.cmd again/, r.stdout);
    assert.deepEqual(restarts(c), [], r.stdout);
  });
});

import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { tempDir } from '../common.helpers';
import { install, InstallCases, reboot, type InstallCase } from '../media/install-cases.helpers';
import { hostClock, shutdownTimeHex, WinePrefix, wineSkip as skip } from '../media/wine.helpers';

/**
 * Review 8 (h/review8), install.cmd under Wine's cmd:
 * R4: an await line that can prove no restart (an older install.cmd's, or one written while
 * ShutdownTime could not be read) held the host up after every restart until the operator ran
 * /restarted: nothing replaced it with one that can.
 * R5: a reboot step taken on the operator's word (/restarted), the rollup installed on it, then a
 * restart proven after the rollup: install.cmd ended complete, report kept the reboot step unconfirmed.
 */

let work = '';
let wine: WinePrefix;
let cases: InstallCases;

const SHA2 = 'Windows6.0-KB4474419-v4-x64.msu';
const ROLLUP = 'Windows6.0-KB4493471-x64.msu';

const meanings = (c: InstallCase) => c.log().results.map((r) => `${r.step}:${r.meaning}`);
const lastEnd = (c: InstallCase) => { const e = c.log().ends.at(-1); return [e?.status, e?.reason]; };
const stateText = (c: InstallCase) => fs.readFileSync(c.statePath, 'latin1');

describe('review8: restarts install.cmd cannot prove, and restarts that come too late', { skip }, () => {
  before(() => {
    work = tempDir('cabferry-review8-wine-');
    wine = new WinePrefix(work);
    wine.init();
    cases = new InstallCases(work, wine);
  });
  after(() => wine.close());

  test('review8 R4: an older install.cmd\'s await line is replaced by one with ShutdownTime, and the restart after it is proven without /restarted', () => {
    for (const older of ['await 1 20261123010000 20261123013000', 'await 1 20261123010000']) {
      const c = cases.make([install(1, 'KB4474419', SHA2), install(2, 'KB4493471', ROLLUP)]);
      c.setCodes({ [SHA2]: 3010 });
      assert.equal(c.run([], wine.boot(1)).status, 3010);
      fs.writeFileSync(c.statePath, stateText(c).replace(/^await 1 .*\r\n/m, `${older}\r\n`));
      const held = c.run([], wine.boot(2));
      assert.equal(held.status, 3010, `${older}: ${held.stdout}`);
      assert.match(held.stdout, /an older install\.cmd asked for it/);
      assert.match(held.stdout, /is asked for again, with the time Windows last shut down recorded/);
      assert.match(stateText(c), new RegExp(`^await 1 20261123020000 shutdown ${shutdownTimeHex(2)}\\r$`, 'm'));
      // failed before: 3010 again, "an older install.cmd asked for it", at every restart until /restarted
      const proven = c.run([], wine.boot(3));
      assert.equal(proven.status, 0, `${older}: ${proven.stdout}`);
      assert.deepEqual(meanings(c), ['1:reboot-required', '1:reboot-done', '2:installed']);
      assert.deepEqual(lastEnd(c), ['complete', null]);
    }
  });

  test('review8 R4: the host has not restarted (the same boot) under an older await line: the line is replaced all the same, and a restart on the same boot proves nothing', () => {
    const c = cases.make([install(1, 'KB4474419', SHA2), install(2, 'KB4493471', ROLLUP)]);
    c.setCodes({ [SHA2]: 3010 });
    assert.equal(c.run([], wine.boot(1)).status, 3010);
    fs.writeFileSync(c.statePath, stateText(c).replace(/^await 1 .*\r\n/m, 'await 1 20261123010000\r\n'));
    const same = c.run([], wine.boot(1));
    assert.equal(same.status, 3010, same.stdout);
    assert.match(same.stdout, /its last boot time is the same as then/);
    assert.match(stateText(c), new RegExp(`^await 1 20261123010000 shutdown ${shutdownTimeHex(1)}\\r$`, 'm'));
    assert.equal(c.run([], hostClock(1)).status, 3010);
    assert.deepEqual(meanings(c), ['1:reboot-required']);
    assert.equal(c.run([], wine.boot(2)).status, 0);
    assert.deepEqual(meanings(c), ['1:reboot-required', '1:reboot-done', '2:installed']);
  });

  test('review8 R5: the reboot step taken on /restarted, the rollup installed on that word and its own restart proven after it: the run ends unconfirmed (restart-stated), not complete', () => {
    const c = cases.make([install(1, 'KB4474419', SHA2), reboot(2), install(3, 'KB4493471', ROLLUP)]);
    c.setCodes({ [ROLLUP]: 3010 });
    assert.equal(c.run([], wine.boot(1)).status, 3010);
    // a new boot without a clean shutdown (ShutdownTime unchanged): the operator states the restart
    const stated = c.run(['/restarted'], hostClock(2));
    assert.equal(stated.status, 3010, stated.stdout);
    assert.match(stated.stdout, /\[2\/3\] this restart step stands on your word that the host restarted: the steps after it go in on that word/);
    assert.deepEqual(meanings(c), ['1:installed', '2:reboot-requested', '2:reboot-stated', '3:reboot-required']);
    const r = c.run([], wine.boot(3));
    // failed before: exit 0, END complete, while report keeps step 2 unconfirmed
    assert.equal(r.status, 1, r.stdout);
    assert.deepEqual(lastEnd(c), ['unconfirmed', 'restart-stated']);
    assert.match(r.stdout, /step\(s\) 3 were installed after the restart step\(s\) 2 before any restart this host shows: on your word that the host had restarted/);
    assert.deepEqual(meanings(c), ['1:installed', '2:reboot-requested', '2:reboot-stated', '3:reboot-required', '3:reboot-done']);
    // the verdict stands: no restart is asked for, run after run
    assert.equal(c.run([], wine.boot(4)).status, 1);
    assert.deepEqual(lastEnd(c), ['unconfirmed', 'restart-stated']);
  });

  test('review8 R5: every restart proven, the reboot step\'s before the rollup and the rollup\'s own after it: complete (the reboot step counts the first proven restart after the installs before it)', () => {
    const c = cases.make([install(1, 'KB4474419', SHA2), reboot(2), install(3, 'KB4493471', ROLLUP)]);
    c.setCodes({ [SHA2]: 3010, [ROLLUP]: 3010 });
    assert.equal(c.run([], wine.boot(1)).status, 3010);
    assert.equal(c.run([], wine.boot(2)).status, 3010);
    const r = c.run([], wine.boot(3));
    // (Wine's cmd took the list of proven restarts as one item: no first one after step 1, step 3 read as installed before it)
    assert.equal(r.status, 0, r.stdout);
    assert.deepEqual(lastEnd(c), ['complete', null]);
    assert.deepEqual(meanings(c), ['1:reboot-required', '1:reboot-done', '2:reboot-done', '3:reboot-required', '3:reboot-done']);
  });

  test('review10 (suspicion): an older install.cmd\'s state.txt, its reboot step passed on a bare "rebooted N" and the rollup installed after it: unconfirmed, and the words name the older proof as well as /restarted', () => {
    const c = cases.make([install(1, 'KB4474419', SHA2), reboot(2), install(3, 'KB4493471', ROLLUP)]);
    wine.addPackage('KB4474419');
    wine.addPackage('KB4493471');
    fs.mkdirSync(path.dirname(c.statePath), { recursive: true });
    fs.writeFileSync(c.statePath, ['attempt 1', 'done 1 0 yes', 'attempt 2', 'done 2 0 n/a', 'await 2 20261123010000', 'rebooted 2', 'attempt 3', 'done 3 0 yes', ''].join('\r\n'));
    // the bare line proves nothing: the await is written again with ShutdownTime (R4), and proven after a clean restart
    assert.equal(c.run([], wine.boot(2)).status, 3010);
    const r = c.run([], wine.boot(3));
    assert.equal(r.status, 1, r.stdout);
    assert.deepEqual(lastEnd(c), ['unconfirmed', 'restart-stated']);
    assert.match(r.stdout, /or on an older install\.cmd's weaker proof of it/);
  });

  test('review8 R5: the reboot step taken on /restarted and the rollup installed on that word (no restart of its own): no restart is asked for again, which could not be the one the plan put before the rollup', () => {
    const c = cases.make([install(1, 'KB4474419', SHA2), reboot(2), install(3, 'KB4493471', ROLLUP)]);
    assert.equal(c.run([], wine.boot(1)).status, 3010);
    const r = c.run(['/restarted'], hostClock(2));
    // failed before: 3010, restart-reasked; the proven restart after it then counted for step 2
    assert.equal(r.status, 1, r.stdout);
    assert.deepEqual(lastEnd(c), ['unconfirmed', 'restart-stated']);
    assert.deepEqual(meanings(c), ['1:installed', '2:reboot-requested', '2:reboot-stated', '3:installed']);
    assert.doesNotMatch(stateText(c), /^reask /m);
  });
});

import * as fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { tempDir } from '../common.helpers';
import { install, InstallCases, reboot } from '../media/install-cases.helpers';
import { WinePrefix, wineSkip as skip } from '../media/wine.helpers';

/**
 * h/fix6 (review 6's restart findings): what install.cmd does after the runs review6-restart-wine
 * stops at. A restart the steps need is judged from the steps (:restart_owed, :restart_shown), so a
 * restart asked for again must not strand the host: once the host shows it, the run ends complete.
 * And an installer that calls its update not applicable installed nothing: the reboot step after it
 * must not ask for a restart at every run (the installer is asked again at every run).
 */

let work = '';
let wine: WinePrefix;
let cases: InstallCases;

const SSU = 'Windows6.0-KB4493730-x64.msu';
const SHA2 = 'Windows6.0-KB4474419-v4-x64.msu';
const ROLLUP = 'Windows6.0-KB4493471-x64.msu';
/** WU_E_NOT_APPLICABLE as cmd.exe shows it */
const NOT_APPLICABLE = -2145124329;

describe('fix6: a restart asked for again is settled by the restart, and "not applicable" asks for none', { skip }, () => {
  before(() => {
    work = tempDir('cabferry-fix6-wine-');
    wine = new WinePrefix(work);
    wine.init();
    cases = new InstallCases(work, wine);
  });
  after(() => wine.close());

  test('fix6: the SSU rolled back at the reboot step\'s restart and installed again: the restart is asked for again (reboot-requested), and after it the rollup is installed and the run ends complete', () => {
    const c = cases.make([install(1, 'KB4493730', SSU), reboot(2), install(3, 'KB4493471', ROLLUP)]);
    assert.equal(c.run([], wine.boot(1)).status, 3010);
    wine.clearPackages();
    const again = c.run([], wine.boot(2));
    assert.equal(again.status, 3010, again.stdout);
    assert.deepEqual(c.log().results.filter((x) => x.step === 2).map((x) => x.meaning), ['reboot-requested', 'reboot-done', 'reboot-requested'], again.stdout);
    // the await line of that request, taken away (a medium that filled up): the next run, on the same
    // boot, still finds the reinstall later in state.txt than the restart it had (:restart_shown)
    const lines = fs.readFileSync(c.statePath, 'latin1').split('\r\n');
    const lastAwait = lines.map((l) => l.startsWith('await')).lastIndexOf(true);
    fs.writeFileSync(c.statePath, lines.filter((_, i) => i !== lastAwait).join('\r\n'));
    const sameBoot = c.run([], wine.boot(2));
    assert.equal(sameBoot.status, 3010, sameBoot.stdout);
    assert.deepEqual(c.stubs.installed(), [SSU, SSU], sameBoot.stdout);
    const done = c.run([], wine.boot(3));
    assert.equal(done.status, 0, done.stdout);
    assert.deepEqual(c.stubs.installed(), [SSU, SSU, ROLLUP]);
    assert.equal(c.log().ends.at(-1)?.status, 'complete');
  });

  test('fix6: a 3010 whose await line was lost: the end of the next run asks for the restart (restart-owed), and the run after it ends complete', () => {
    const c = cases.make([install(1, 'KB4474419', SHA2)]);
    c.setCodes({ [SHA2]: 3010 });
    assert.equal(c.run([], wine.boot(1)).status, 3010);
    // the await line the run wrote, taken away: as if the medium had filled up before it
    const state = fs.readFileSync(c.statePath, 'latin1').split('\r\n').filter((l) => !l.startsWith('await'));
    fs.writeFileSync(c.statePath, state.join('\r\n'));
    const owed = c.run([], wine.boot(1));
    assert.equal(owed.status, 3010, owed.stdout);
    assert.deepEqual([c.log().ends.at(-1)?.status, c.log().ends.at(-1)?.reason], ['restart', 'restart-owed'], owed.stdout);
    const done = c.run([], wine.boot(2));
    assert.equal(done.status, 0, done.stdout);
    assert.equal(c.log().ends.at(-1)?.status, 'complete');
    assert.ok(c.log().results.some((x) => x.step === 1 && x.action === 'restart' && x.meaning === 'reboot-done' && x.how === 'shutdown'), done.stdout);
  });

  test('fix6: an update the installer calls not applicable, before a reboot step: asked again at every run, it does not make the reboot step ask for a restart each time', () => {
    const c = cases.make([install(1, 'KB4474419', SHA2), reboot(2), install(3, 'KB4493471', ROLLUP)]);
    c.setCodes({ [SHA2]: NOT_APPLICABLE });
    // the first run: nothing shows a restart yet, so the reboot step asks for one
    assert.equal(c.run([], wine.boot(1)).status, 3010);
    const second = c.run([], wine.boot(2));
    assert.deepEqual([second.status, c.log().ends.at(-1)?.status], [1, 'not-applicable'], second.stdout);
    assert.deepEqual(c.stubs.installed().filter((f) => f === ROLLUP), [ROLLUP]);
    // the same boot again: the installer is asked again and says not applicable; no restart asked for
    const third = c.run([], wine.boot(2));
    assert.deepEqual([third.status, c.log().ends.at(-1)?.status], [1, 'not-applicable'], third.stdout);
    assert.equal(c.log().results.filter((x) => x.step === 2 && x.meaning === 'reboot-requested').length, 1, third.stdout);
  });

  test('every step done and the state file owing no restart, but CBS RebootPending set (a 3010 whose record was torn on a full medium leaves it): not complete; the restart is asked for (host-restart-pending), and the run after a proven restart ends complete (review 8, R1)', () => {
    const c = cases.make([install(1, 'KB4474419', SHA2)]);
    const key = 'HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\RebootPending';
    // the installer said 0 here: nothing in state.txt asks for a restart, only the host does
    assert.equal(wine.run(['reg', 'add', key, '/f']).status, 0);
    try {
      const first = c.run([], wine.boot(1));
      assert.equal(first.status, 3010, first.stdout);
      assert.deepEqual([c.log().ends.at(-1)?.status, c.log().ends.at(-1)?.reason], ['restart', 'host-restart-pending'], first.stdout);
      assert.match(first.stdout, /Windows servicing still waits for a restart/);
      // a restart that leaves the key in place is not proven: not complete either
      const still = c.run([], wine.boot(2));
      assert.notEqual(c.log().ends.at(-1)?.status, 'complete', still.stdout);
    } finally {
      wine.run(['reg', 'delete', key, '/f']);
    }
    const done = c.run([], wine.boot(3));
    assert.equal(done.status, 0, done.stdout);
    assert.equal(c.log().ends.at(-1)?.status, 'complete', done.stdout);
  });
});

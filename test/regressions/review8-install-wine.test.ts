import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { tempDir } from '../common.helpers';
import { install, InstallCases } from '../media/install-cases.helpers';
import { hotfixListStub, WinePrefix, wineSkip as skip } from '../media/wine.helpers';

/**
 * Review 8's findings on install.cmd (h/fix8b), under Wine's cmd.
 *
 * S1: install.cmd's own variables came from the environment that started it when the script had not
 * set them yet. :snapshot_has reads CF_VERDICT_KBn (set by :cbs_snapshot for each update CBS lists)
 * and CF_QFE_KBn (set by :qfe_has for each hotfix listed): a wrapper script or parent cmd holding
 * either answered "installed" for an update the host lacks.
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
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadKnowledgeBase } from '../../src/knowledge/knowledge-base';
import { planInstall } from '../../src/planner/plan';
import { readHostInventories } from '../../src/planner/inventory';
import { fixturePath, tempDir } from '../common.helpers';
import { nt60Catalog } from './sample-payloads.helpers';

/**
 * Review 5 F5 (planner side): an update CBS names no package of, which only the hotfix list names, is
 * bounded by the RollupFix package(s) with the HIGHEST version (the 4-part version ending the key
 * name, compared part by part as numbers); among several keys of that version, the least installed.
 * Before, every RollupFix package bounded it, so one older rollup's package left staged (0x40) or
 * resolved (0x20) kept every such update not installed for ever.
 */

const kb = loadKnowledgeBase();

const rollupFix = (version: string, state: string): string =>
  `HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\Packages\\Package_for_RollupFix~31bf3856ad364e35~amd64~~${version}\r\n    CurrentState    REG_DWORD    0x${state}\r\n\r\n`;

/** SRV-ESU-ON's collect file with `packages` added to its CBS section and KB5022340 (a rollup CBS names no package of) to its hotfix list */
function hostWith(packages: string[]): ReturnType<typeof readHostInventories>[number] {
  let t = fs.readFileSync(fixturePath('hosts', 'srv-esu-activated.inventory.txt')).toString('latin1');
  const at = t.search(/End of search/);
  t = t.slice(0, at) + packages.join('') + t.slice(at);
  const end = t.indexOf('[[cabferry:end qfe]]');
  t = t.slice(0, end) + 'HotFixID=KB5022340\r\nInstalledOn=1/10/2023\r\n\r\n' + t.slice(end);
  const file = path.join(tempDir('cabferry-rollupfix-'), 'SRV-ESU-ON-inventory.txt');
  fs.writeFileSync(file, Buffer.from(t, 'latin1'));
  return readHostInventories([file])[0];
}

describe('a qfe-only update is bounded by the newest RollupFix package(s)', () => {
  for (const stale of ['40', '20']) {
    it(`an older RollupFix package left at 0x${stale}, the newest installed (0x70): the update only the hotfix list names is installed`, () => {
      const host = hostWith([rollupFix('6003.20491.1.0', stale), rollupFix('6003.21838.1.6', '70')]);
      // fails before: the 0x${stale} package bounded it, the update was overruled for ever
      assert.ok(host.installed.includes('KB5022340'), host.installed.join(' '));
      assert.equal(host.overruled, undefined);
      // and the plan rests on it: install.cmd's first run checks it (its :rollupfix_bound takes the same packages)
      const plan = planInstall(host, nt60Catalog(), kb, { kind: 'target', kbs: ['KB4517134'] });
      assert.ok(plan.assumedInstalled!.includes('KB5022340'), plan.assumedInstalled!.join(' '));
    });
  }

  it('the newest install pending (0x60), an older one superseded (0x50): still not installed (review 3\'s case)', () => {
    const host = hostWith([rollupFix('6003.20491.1.0', '50'), rollupFix('6003.21838.1.6', '60')]);
    assert.ok(!host.installed.includes('KB5022340'));
    assert.deepEqual(host.overruled?.map((o) => [o.kb, o.by === 'cbs' ? o.package : o.by, o.by === 'cbs' ? o.state : null]), [['KB5022340', 'rollup-fix', 0x60]]);
  });

  it('in whichever order the keys come', () => {
    assert.ok(hostWith([rollupFix('6003.21838.1.6', '70'), rollupFix('6003.20491.1.0', '40')]).installed.includes('KB5022340'));
    assert.ok(!hostWith([rollupFix('6003.21838.1.6', '60'), rollupFix('6003.20491.1.0', '70')]).installed.includes('KB5022340'));
  });

  it('versions are compared part by part as numbers, not as text', () => {
    // "9999" sorts after "21838" as text; 21838 is the newer
    assert.ok(hostWith([rollupFix('6003.9999.1.0', '40'), rollupFix('6003.21838.1.6', '70')]).installed.includes('KB5022340'));
    // the fourth part: 10 is newer than 6
    assert.ok(!hostWith([rollupFix('6003.21838.1.10', '40'), rollupFix('6003.21838.1.6', '70')]).installed.includes('KB5022340'));
  });

  it('several keys of the newest version: the least installed of them bounds it', () => {
    const pending = hostWith([rollupFix('6003.21838.1.6', '70'), rollupFix('6003.21838.1.6', '60'), rollupFix('6003.20491.1.0', '70')]);
    assert.deepEqual(pending.overruled?.map((o) => (o.by === 'cbs' ? o.state : null)), [0x60]);
    const staged = hostWith([rollupFix('6003.21838.1.6', '60'), rollupFix('6003.21838.1.6', '40')]);
    assert.deepEqual(staged.overruled?.map((o) => (o.by === 'cbs' ? o.state : null)), [0x40]);
  });
});

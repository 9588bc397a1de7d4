import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import type { Payload } from '../../src/package/types';
import { loadKnowledgeBase } from '../../src/knowledge/knowledge-base';
import { planInstall } from '../../src/planner/plan';
import { readHostInventories } from '../../src/planner/inventory';
import type { HostPlan, PlanGoal } from '../../src/planner/types';
import { fixturePath, tempDir } from '../common.helpers';
import { laterSsu, nt60Catalog, nt60Payload } from '../planner/sample-payloads.helpers';

/**
 * Review 3 (h/review3): inventories that make the planner count as installed an update the host's
 * servicing stack says is not. A rollup waiting for its restart (CBS 0x60) on a host without the
 * licence of its ESU year is rolled back at that restart; counted as installed, it is left out of
 * the plan, and the run that follows can end complete on a host that lacks it.
 */

const kb = loadKnowledgeBase();
const nt60 = kb.families.find((f) => f.ntVersion === '6.0')!;
const current: PlanGoal = { kind: 'current' };
const sequence = (plan: HostPlan): string[] => plan.steps.map((s) => (s.action === 'reboot' ? 'reboot' : s.kb!));

const esuFile = (k: string, arch: 'x86' | 'amd64'): string => `Windows6.0-${k}-${arch === 'amd64' ? 'x64' : arch}.msu`;
const esuSample = (k: string, kind: Payload['kind'], arch: 'x86' | 'amd64'): Payload =>
  nt60Payload('KB4520002', arch, { kb: k, kind, fileName: esuFile(k, arch), sha256: createHash('sha256').update(esuFile(k, arch)).digest('hex') });
/** the sample catalog with the newest SSU, the January 2023 rollup (ESU year 3) and the licensing preparation packages (as test/planner/plan-truth's esuCatalog) */
const esuCatalog = (): Payload[] => [
  ...nt60Catalog(),
  ...(['x86', 'amd64'] as const).map((a) => laterSsu('KB5016129', a)),
  ...(['x86', 'amd64'] as const).flatMap((a) => [esuSample('KB5022340', 'monthly-rollup', a), esuSample('KB4575904', 'esu-preparation', a), esuSample('KB5016891', 'esu-preparation', a)]),
];

function write(name: string, content: string | Buffer): string {
  const file = path.join(tempDir('cabferry-review3-'), name);
  fs.writeFileSync(file, content);
  return file;
}

const cbsKey = (name: string, state: string): string =>
  `HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\Packages\\${name}\r\n    CurrentState    REG_DWORD    0x${state}\r\n\r\n`;

/**
 * The collect script's file of SRV-ESU-ON (ESU Year 3 licence activated, the preparation packages and
 * the newest SSU installed, a restart pending), with `packages` added to its CBS section and `qfe` to
 * its hotfix list (wmic qfe lists an update as soon as it is installed pending).
 */
function esuHostFile(packages: string, qfe: string[]): string {
  let t = fs.readFileSync(fixturePath('hosts', 'srv-esu-activated.inventory.txt')).toString('latin1');
  t = t.replace('00000000-0000-4000-8000-00000000e501', nt60.esu!.activationIds.find((a) => a.year === 3)!.id).replace('Server-ESU-Year1', 'Server-ESU-Year3');
  const others = ['KB4575904', 'KB5016891', 'KB5016129'];
  const at = t.search(/End of search/);
  t = t.slice(0, at) + others.map((k) => cbsKey(`Package_for_${k}~31bf3856ad364e35~amd64~~6.0.1.0`, '70')).join('') + packages + t.slice(at);
  const end = t.indexOf('[[cabferry:end qfe]]');
  t = t.slice(0, end) + [...others, ...qfe].map((k) => `HotFixID=${k}\r\nInstalledOn=11/3/2026\r\n\r\n`).join('') + t.slice(end);
  t = t.replace('CbsRebootPending=no', 'CbsRebootPending=yes').replace('6.0.6003.20484\r\n', '6.0.6003.20484\r\n6.0.6003.21569\r\n');
  return write('SRV-ESU-ON-inventory.txt', Buffer.from(t, 'latin1'));
}

describe('review3: a monthly rollup whose servicing package is named RollupFix, beside an older one it superseded', () => {
  // A host patched month after month keeps its earlier rollups' RollupFix packages in state
  // superseded (0x50); the newest one waits for its restart (0x60). wmic qfe lists the newest by KB.
  const packages =
    cbsKey('Package_for_RollupFix~31bf3856ad364e35~amd64~~6003.20491.1.0', '50') +
    cbsKey('Package_for_RollupFix~31bf3856ad364e35~amd64~~6003.21838.1.6', '60');

  it('the rollup only the hotfix list names is not taken as installed while the newest RollupFix package waits for its restart', () => {
    const [host] = readHostInventories([esuHostFile(packages, ['KB5022340'])]);
    assert.equal(host.pendingReboot, true);
    // fails today: cbsPackages keeps the RollupFix packages' lowest state, and superseded (0x50) is
    // lower than install pending (0x60), so the pending package reads as "on the host" and the
    // hotfix list alone is believed for KB5022340
    assert.ok(!host.installed.includes('KB5022340'), `KB5022340 taken as installed: ${host.installed.join(' ')}`);
  });

  it('the plan installs that rollup after the restart, and does not tell install.cmd the host has it', () => {
    const [host] = readHostInventories([esuHostFile(packages, ['KB5022340'])]);
    const plan = planInstall(host, esuCatalog(), kb, current);
    // today: ['reboot'] alone, complete, KB5022340 among the updates install.cmd is told the host has
    assert.deepEqual(sequence(plan), ['reboot', 'KB5022340', 'reboot']);
    assert.ok(!plan.assumedInstalled!.includes('KB5022340'), plan.assumedInstalled!.join(' '));
  });
});

describe('review3: a second inventory file of the host does not overrule what CBS says of an update', () => {
  // The collect script's file says KB5022340's package waits for its restart (0x60), or is being
  // uninstalled (0x05); a Get-HotFix export of the same host (the same Win32_QuickFixEngineering list
  // wmic qfe reads) lists it. Alone, the collect file is read right (test/planner/plan-truth F4, F5).
  const hotfixJson = (kbs: string[]): string => write('SRV-ESU-ON.hotfix.json', JSON.stringify(kbs.map((k) => ({ CSName: 'SRV-ESU-ON', HotFixID: k, Description: 'Update' }))));
  const kbPackage = (state: string): string => cbsKey('Package_for_KB5022340~31bf3856ad364e35~amd64~~6.0.1.0', state);

  for (const [state, what] of [['60', 'install pending'], ['5', 'uninstall pending']] as const) {
    it(`CBS ${what} (0x${state}) and a hotfix list that names the update: the merged host does not have it`, () => {
      const collect = esuHostFile(kbPackage(state), ['KB5022340']);
      const [alone] = readHostInventories([collect]);
      assert.ok(!alone.installed.includes('KB5022340'), 'the collect file alone is read as CBS says');
      const [merged] = readHostInventories([collect, hotfixJson(['KB4575904', 'KB5016891', 'KB5016129', 'KB5022340'])]);
      // fails today: mergeInventories unites the installed lists, so the hotfix list's claim comes back
      assert.ok(!merged.installed.includes('KB5022340'), `KB5022340 taken as installed from ${merged.files.map((f) => path.basename(f)).join(' + ')}`);
      const plan = planInstall(merged, esuCatalog(), kb, current);
      // today: ['reboot'] alone and complete: after that restart (CBS commits or rolls back the
      // package) install.cmd ends complete without having looked at KB5022340 again
      assert.deepEqual(sequence(plan), ['reboot', 'KB5022340', 'reboot']);
      assert.ok(!plan.assumedInstalled!.includes('KB5022340'), plan.assumedInstalled!.join(' '));
    });
  }
});

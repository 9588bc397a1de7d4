import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadKnowledgeBase } from '../../src/knowledge/knowledge-base';
import { planInstall } from '../../src/planner/plan';
import { planText } from '../../src/planner/present';
import { readHostInventories } from '../../src/planner/inventory';
import { fixturePath, tempDir } from '../common.helpers';
import { nt60Catalog } from '../planner/sample-payloads.helpers';

/**
 * Inventory review (h/invreview): two files of "one host" whose complete hotfix lists disagree.
 *
 * Input: SRV-6003's own `systeminfo /fo csv` (a complete hotfix list, without KB4474419), and a
 * `wmic qfe get HotFixID,InstalledOn > SRV-6003.txt` taken on ANOTHER 6003 host that has KB4474419.
 * That table names no computer, so cabferry names its host after the file (qfe.ts qfeInventory) and
 * merges it into SRV-6003; merging unites the installed lists. cabferry says: KB4474419 (SHA-2 code
 * signing support) installed on SRV-6003 and SHA-2 active, leaves it out of the plan, and says
 * nothing of the two lists disagreeing or of the name taken from a file name. (When the foreign KB
 * implies a build or service pack the host's facts contradict, checkInstalledClaims already doubts
 * it; KB4474419 implies neither.) install.cmd's first-run premise check would refuse the run on the
 * host (inventory-stale), so the plan is caught there, not here.
 *
 * The same union takes an update as installed when an older inventory of the host lists it and a
 * newer one, taken after it was removed, does not (CBS naming no package of it is no objection).
 *
 * Now: a KB one whole Win32_QuickFixEngineering list of the host names and another does not
 * (systeminfo, wmic qfe, Get-HotFix, a collect file's qfe section: one witness, so lists of one host
 * at one time agree) is not believed unless a CBS section names its packages on the host: planned
 * (install.cmd finds it 'already installed' if it is), and said among the overruled claims
 * (OverruledByLists). Profiles (written by hand) and a collect file's CBS packages (which include
 * updates those lists never show) are not compared.
 */

const kb = loadKnowledgeBase();

function foreignQfe(): string {
  // wmic's own table as `wmic qfe get HotFixID,InstalledOn > file` writes it: UTF-16LE with BOM, CR CR LF
  const rows = ['KB955430', 'KB2999226', 'KB3078601', 'KB4493730', 'KB4493471', 'KB4474419'];
  const text = 'HotFixID   InstalledOn  \r\r\n' + rows.map((k) => `${k.padEnd(11)}4/20/2019    \r\r\n`).join('') + '\r\r\n';
  const file = path.join(tempDir('cabferry-invreview-'), 'SRV-6003.txt');
  fs.writeFileSync(file, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
  return file;
}

describe('invreview: two complete hotfix lists of one host that disagree', () => {
  const own = fixturePath('hosts', 'srv-6003-april.systeminfo.csv');

  it('the host\'s own list does not name KB4474419, and alone it is planned', () => {
    const [host] = readHostInventories([own]);
    assert.ok(!host.installed.includes('KB4474419'));
    assert.ok(planInstall(host, nt60Catalog(), kb, { kind: 'current' }).steps.some((s) => s.kb === 'KB4474419'));
  });

  it('a foreign list named after the host does not make KB4474419 installed: the lists disagree, it is planned and said', () => {
    const foreign = foreignQfe();
    const [host] = readHostInventories([own, foreign]);
    assert.ok(!host.installed.includes('KB4474419'));
    const plan = planInstall(host, nt60Catalog(), kb, { kind: 'current' });
    assert.ok(plan.steps.some((s) => s.kb === 'KB4474419'), `KB4474419 taken as installed: assumedInstalled ${(plan.assumedInstalled ?? []).join(' ')}`);
    const disputed = plan.overruled?.find((o) => o.kb === 'KB4474419');
    assert.deepEqual(disputed?.by === 'lists' ? [disputed.listedBy, disputed.notListedBy] : disputed, [[foreign], [own]]);
    assert.match(planText(plan, false), /not taken as installed, though listed \(the host's hotfix lists disagree\):\n    - KB4474419: listed as installed by .*SRV-6003\.txt, but the whole hotfix list of .*srv-6003-april\.systeminfo\.csv does not name it/);
  });

  it('the lists of one host that agree: nothing disputed (systeminfo and wmic qfe of the fixture host)', () => {
    const [host] = readHostInventories([own, fixturePath('hosts', 'srv-6003-april.wmic-qfe.txt')]);
    assert.deepEqual(host.overruled ?? [], []);
  });
});

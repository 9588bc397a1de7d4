import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadKnowledgeBase } from '../../src/knowledge/knowledge-base';
import { planInstall } from '../../src/planner/plan';
import { readHostInventories } from '../../src/planner/inventory';
import type { PlanGoal } from '../../src/planner/types';
import { fixturePath, tempDir } from '../common.helpers';
import { nt60Catalog } from '../planner/sample-payloads.helpers';

/**
 * Review 5 (h/review5): "inferred installs never checked". hostBaseline (src/planner/host-state.ts)
 * adds to the installed set what the host's facts imply: the service packs up to the reported level,
 * an SSU whose stack version the host reports, and SHA-2 support (KB4474419) when the two SHA-2
 * registry values are set. plan.assumedInstalled is taken BEFORE that (plan.ts: installedKnown(claims.believed)),
 * so install.cmd's premise check never looks these up, and no step installs them. The CBS rule of
 * review 3 (an update is on the host only when every one of its packages is) is overruled by them.
 */

const kb = loadKnowledgeBase();

/** SRV-ESU-ON's collect file with these packages' CurrentState changed from 0x70 to `state` */
function hostFile(kbs: string[], state: string): string {
  let t = fs.readFileSync(fixturePath('hosts', 'srv-esu-activated.inventory.txt')).toString('latin1');
  for (const k of kbs) {
    const re = new RegExp(`(Package_for_${k}~[^\\r]*\\r\\n    CurrentState    REG_DWORD    0x)70`);
    assert.match(t, re, `${k}'s package is in the fixture`);
    t = t.replace(re, `$1${state}`);
  }
  const file = path.join(tempDir('cabferry-review5-'), 'SRV-ESU-ON-inventory.txt');
  fs.writeFileSync(file, Buffer.from(t, 'latin1'));
  return file;
}

describe('review5: an update the planner infers from the host\'s facts is checked like any other it takes as installed', () => {
  for (const [state, what] of [['65', 'partially installed'], ['40', 'staged']] as const) {
    it(`SHA-2 support (KB4474419) whose CBS package is ${what} (0x${state}), SHA-2 registry values set: it is installed by a step or checked by install.cmd, not silently counted`, () => {
      const [host] = readHostInventories([hostFile(['KB4474419'], state)]);
      // what review 3's rule says of it: not on the host (CBS outranks the hotfix list)
      assert.ok(!host.installed.includes('KB4474419'), host.installed.join(' '));
      const goal: PlanGoal = { kind: 'target', kbs: ['KB4517134'] };
      const plan = planInstall(host, nt60Catalog(), kb, goal);
      const planned = plan.steps.some((s) => s.kb === 'KB4474419');
      const checked = (plan.assumedInstalled ?? []).includes('KB4474419');
      // fails today: the plan is complete, KB4474419 is neither a step nor among the updates
      // install.cmd's first run looks up (only an assumption line says "counted as installed: the
      // host reports SHA-2 code signing support active"), so no run of install.cmd ever notices
      assert.ok(planned || checked, `complete=${plan.complete}; steps ${plan.steps.map((s) => s.kb ?? 'reboot').join(' ')}; install.cmd checks ${(plan.assumedInstalled ?? []).join(' ')}; ${plan.assumptions.join(' | ')}`);
    });
  }

  it('the SSU (KB4493730) whose CBS package is partially installed (0x65), the servicing stack version it brings reported: installed by a step or checked by install.cmd', () => {
    const [host] = readHostInventories([hostFile(['KB4493730'], '65')]);
    assert.ok(!host.installed.includes('KB4493730'), host.installed.join(' '));
    const plan = planInstall(host, nt60Catalog(), kb, { kind: 'target', kbs: ['KB4517134'] });
    const planned = plan.steps.some((s) => s.kb === 'KB4493730');
    const checked = (plan.assumedInstalled ?? []).includes('KB4493730');
    // (fix5p) or not taken as installed at all: CBS outranks the stack version (the inference gives
    // way, and the plan says so). The target KB4517134 supersedes KB4493730 and does not need it, so
    // no step installs it: nothing the plan decides rests on it, and none of its words claims it.
    const notTaken = plan.overruled?.some((o) => o.kb === 'KB4493730' && o.inferredFrom?.fact === 'servicingStackVersion') === true
      && !plan.assumptions.some((a) => a.startsWith('KB4493730 counted as installed'));
    // fails today: "KB4493730 counted as installed: the servicing stack reports version 6.0.6003.20484"
    assert.ok(planned || checked || notTaken, `complete=${plan.complete}; steps ${plan.steps.map((s) => s.kb ?? 'reboot').join(' ')}; install.cmd checks ${(plan.assumedInstalled ?? []).join(' ')}; ${plan.assumptions.join(' | ')}`);
  });
});

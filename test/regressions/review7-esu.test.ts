import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { esuYearOf, loadKnowledgeBase } from '../../src/knowledge/knowledge-base';
import { planInstall } from '../../src/planner/plan';
import { planText } from '../../src/planner/present';
import { readHostInventories } from '../../src/planner/inventory';
import type { Payload } from '../../src/package/types';
import type { HostInventory, PlanGoal } from '../../src/planner/types';
import { fixturePath } from '../common.helpers';
import { laterSsu, nt60Catalog, nt60Payload } from '../planner/sample-payloads.helpers';

/**
 * Review 7 (h/review7): ESU on real hosts. The knowledge base knows that ESU year 4 of Windows
 * Server 2008 / 2008 R2 (February 2023 to January 2024) was offered in Azure only (esu.years[3]
 * azureOnly, the updates of that year azureOnly: Microsoft, "Obtaining Extended Security Updates for
 * eligible Windows devices", update of 2023-01-31: "one additional year of ESU for Azure environments
 * only"). No MAK add-on key of year 4 exists for a host outside Azure, and the knowledge base holds
 * no activation ID of it. completeness.ts leaves the Azure-only updates out of the baseline, but the
 * planner's ESU rule (src/planner/esu.ts esuLicenceFor / isEsuHeld) treats such an update, once it is
 * in the catalog, like any other ESU update whose year's licence the host lacks.
 */

const kb = loadKnowledgeBase();
const nt60 = kb.families.find((f) => f.ntVersion === '6.0')!;
const current: PlanGoal = { kind: 'current' };
const arches = ['x86', 'amd64'] as const;

function sample(k: string, kind: Payload['kind'] = 'monthly-rollup'): Payload[] {
  return arches.map((a) => nt60Payload('KB4520002', a, { kb: k, kind, fileName: `Windows6.0-${k}-${a === 'amd64' ? 'x64' : a}.msu`, sha256: createHash('sha256').update(`${k}${a}`).digest('hex') }));
}

/** An on-premises Server 2008 SP2 host with every prerequisite and ESU years 1, 2 and 3 activated (all there ever was outside Azure). */
function onPremisesHost(): HostInventory {
  const [fresh] = readHostInventories([fixturePath('hosts', 'srv-fresh-x64.systeminfo.txt')]);
  return {
    ...fresh, build: 6003, sha2CodeSigning: true, pendingReboot: false, esuLicence: 'activated', esuActivatedYears: [1, 2, 3],
    installed: [...fresh.installed, 'KB4493730', 'KB4474419', 'KB5016129', 'KB4538484', 'KB4575904', 'KB5016891'],
  };
}

/** the catalog: the sample one, the newest non-Azure SSU, the preparation packages and January 2023's rollup (ESU year 3, the last outside Azure) */
function catalog(): Payload[] {
  return [...nt60Catalog(), ...arches.map((a) => laterSsu('KB5016129', a)), ...sample('KB5022340'), ...['KB4538484', 'KB4575904', 'KB5016891'].flatMap((k) => sample(k, 'esu-preparation'))];
}

describe('review7: ESU year 4 (Azure only) on a host outside Azure', () => {
  it('review7 E1: an Azure-only ESU rollup in the catalog does not make the plan of an on-premises host with years 1-3 activated incomplete for ever, nor ask for a year-4 key that does not exist', () => {
    const azureRollup = nt60.updates.get('KB5034173')!;
    assert.equal(azureRollup.azureOnly, true, 'KB5034173 (January 2024 rollup) is Azure-only in the knowledge base');
    assert.equal(esuYearOf(nt60.esu!, azureRollup.released), 4);
    assert.equal(nt60.esu!.activationIds.filter((a) => a.year === 4).length, 0, 'no activation ID of year 4: there is no such key outside Azure');
    const host = onPremisesHost();
    // without the Azure-only rollup in the catalog the host's plan is complete: January 2023's rollup, then a restart
    const without = planInstall(host, catalog(), kb, current);
    assert.equal(without.complete, true, JSON.stringify(without.incomplete));
    // the same host, the same needs; the catalog merely also holds the Azure-only rollup (imported for the
    // Azure VMs of the same fleet, or by a bundle that carries everything of the family)
    const plan = planInstall(host, [...catalog(), ...sample('KB5034173')], kb, current);
    assert.deepEqual(plan.steps.map((s) => s.kb ?? 'reboot'), ['KB5022340', 'reboot']);
    // fails today: INCOMPLETE, "KB5034173 need(s) the ESU licence of year 4 activated ... install and activate
    // that year's key (slmgr /ipk KEY ...)", and in the skipped list "the host reports its ESU licence not
    // activated" of a host that reports years 1, 2 and 3 activated. No key will ever make it complete.
    const text = planText(plan, false);
    assert.deepEqual(plan.incomplete.filter((c) => c.kind === 'esu-not-activated'), [], text);
    assert.equal(plan.complete, true, text);
    assert.doesNotMatch(text, /licence of year 4 activated|year 4 activated/, 'asks for a key of a year offered in Azure only');
    assert.doesNotMatch(text, /reports its ESU licence not activated/, 'says the licence is not activated on a host that reports years 1-3 activated');
    // (the x86 copy is skipped for its architecture first)
    assert.ok(plan.skipped.some((s) => s.kb === 'KB5034173' && s.cause.kind === 'azure-only'), text);
  });

  it('review7 E1: named with --target, an Azure-only update leaves the plan incomplete as missing (its copy offered in Azure only), not as a year-4 key to activate', () => {
    const plan = planInstall(onPremisesHost(), [...catalog(), ...sample('KB5034173')], kb, { kind: 'target', kbs: ['KB5034173'] });
    const text = planText(plan, false);
    assert.equal(plan.complete, false, text);
    assert.deepEqual(plan.incomplete.filter((c) => c.kind === 'esu-not-activated'), [], text);
    const missing = plan.missing.find((m) => m.cause.kb === 'KB5034173');
    assert.equal(missing?.cause.copy?.kind, 'azure-only', text);
    assert.doesNotMatch(text, /year 4 activated/, text);
  });
});

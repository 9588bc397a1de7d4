import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { loadKnowledgeBase } from '../../src/knowledge/knowledge-base';
import { planHosts, planInstall } from '../../src/planner';
import { readHostInventories } from '../../src/planner/inventory';
import type { HostInventory, HostPlan, PlanGoal } from '../../src/planner/types';
import { fixturePath } from '../common.helpers';
import { nt60Catalog } from './sample-payloads.helpers';
import { variedCatalog, variedGoals, variedHosts } from './varied-hosts.helpers';

/**
 * planHosts shares work between hosts (the catalog indexed once, per-family and per-kind-of-host
 * selections, the knowledge base's baseline): whatever it shares, each plan must be exactly the
 * plan of that host planned alone by a fresh planInstall, whatever the order of the hosts.
 */

const kb = loadKnowledgeBase();
const catalog = [...variedCatalog(kb, 18, 400), ...nt60Catalog()];
const fixtureHosts = (): HostInventory[] => {
  const dir = fixturePath('hosts');
  const files = readdirSync(dir).filter((f) => !f.endsWith('.md'));
  return files.flatMap((f) => readHostInventories([`${dir}/${f}`]));
};
/**
 * A host of each family that has everything its family's knowledge base and the catalog know
 * installed: complete for the current and the --security-only goal (the varied fleet holds no
 * complete plan of its own; its one "complete" host was a Windows Server 2012 at NT 6.0, h/planreview F7)
 */
const currentHosts = (): HostInventory[] => kb.families.map((f) => ({
  name: `CURRENT-${f.ntVersion}`, product: f.products[0]!, ntVersion: f.ntVersion, build: f.ntVersion === '6.0' ? 6003 : 7601, revision: null, architecture: 'amd64', servicePack: f.minimumServicePack,
  installed: [...new Set([...[...f.updates.values()].filter((u) => !u.azureOnly).map((u) => u.kb), ...catalog.filter((p) => p.ntVersion === f.ntVersion).map((p) => p.kb)])].sort(),
  servicingStackVersion: null, sha2CodeSigning: true, pendingReboot: false, sources: ['profile'], unknown: [], sections: { hotfixes: true }, esuLicence: 'activated', files: [], evidence: [], conflicts: [],
}));
const hosts = [...variedHosts(kb, catalog, 7, 60), ...fixtureHosts(), ...currentHosts()];

/** One plan in the JSON it is printed as (key order included), and as objects. */
function assertSamePlan(batch: HostPlan, alone: HostPlan, what: string): void {
  assert.deepStrictEqual(batch, alone, what);
  assert.equal(JSON.stringify(batch), JSON.stringify(alone), what);
}

describe('planHosts: the same plans as each host planned alone', () => {
  for (const goal of variedGoals(catalog, 3)) {
    it(`goal ${goal.kind}`, () => {
      const alone = hosts.map((h) => planInstall(h, catalog, kb, goal));
      const batch = planHosts(hosts, catalog, kb, goal);
      assert.equal(batch.length, hosts.length);
      for (let i = 0; i < hosts.length; i++) assertSamePlan(batch[i]!, alone[i]!, `${hosts[i]!.name} (${goal.kind})`);
      // in the other order, so that no host plans first against fresh shared work only
      const reversed = planHosts([...hosts].reverse(), catalog, kb, goal).reverse();
      for (let i = 0; i < hosts.length; i++) assertSamePlan(reversed[i]!, alone[i]!, `${hosts[i]!.name} (${goal.kind}, reversed)`);
    });
  }

  it('the fleet is varied: both families, every outcome the comparison should cover', () => {
    // a comparison of empty or identical plans would prove nothing
    const plans = planHosts(hosts, catalog, kb, { kind: 'current' } satisfies PlanGoal);
    const families = new Set(plans.map((p) => p.catalogCurrency?.family ?? null));
    assert.ok(families.size >= 3, `families: ${[...families].join(', ')}`);
    const kinds = new Set<string>(plans.flatMap((p) => [...p.incomplete.map((c) => c.kind), ...p.skipped.map((s) => s.cause.kind)]));
    for (const k of ['missing', 'conflict', 'installed', 'arch-mismatch', 'arch-unknown', 'other-file', 'unsigned', 'replaced-by-planned', 'replaced-by-installed', 'esu-not-activated', 'architecture-unknown', 'section-missing', 'unknown-family', 'host-name-lookalike', 'no-baseline']) {
      assert.ok(kinds.has(k), `no plan shows ${k}`);
    }
    assert.ok(plans.some((p) => p.steps.length > 20) && plans.some((p) => p.complete), 'some long plans, some complete');
    // a product its NT version does not have is a contradiction, never "complete" (h/planreview F7)
    assert.ok(plans.some((p) => p.incomplete.some((c) => c.kind === 'conflict' && c.conflict.fact === 'product')), 'a product against its NT version');
    assert.equal(new Set(plans.map((p) => JSON.stringify(p.steps))).size > hosts.length / 2, true, 'the plans differ from host to host');
  });
});

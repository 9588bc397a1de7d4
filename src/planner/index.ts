/**
 * The planner's public surface: host inventories in, one explained install plan per host out.
 *   readHostInventories(files)              → HostInventory[] (formats auto-detected, one host per name)
 *   loadKnowledgeBase(dir?)                 → KnowledgeBase (catalog/kb/*.json, validated)
 *   planInstall(host, payloads, kb, goal)   → HostPlan (pure)
 *   planHosts(hosts, payloads, kb, goal, untrustedAmong?)
 *                                           → HostPlan[] (one Planner: shared work, the same plans;
 *                                             only payloads the caller's judge trusts are steps)
 *   collectScript()                         → the .cmd that gathers an inventory on the host
 */
import type { Distrust } from '../catalog/distrust';
import type { Payload } from '../package/types';
import type { KnowledgeBase } from '../knowledge/knowledge-base';
import { Planner } from './plan';
import type { HostInventory, HostPlan, PlanGoal } from './types';

export { planInstall, Planner } from './plan';
export { loadKnowledgeBase, defaultKnowledgeBaseDir, familyForNtVersion, normaliseKb } from '../knowledge/knowledge-base';
export type { KnowledgeBase, KbFamily, KbUpdateFact } from '../knowledge/knowledge-base';
export { readHostInventories, readHostInventory, parseHostInventory } from './inventory';
export { collectScript } from './collect-script';
export type { HostInventory, HostPlan, PlanGoal, PlanStep, SimulatedState } from './types';

/**
 * Which of these payloads do not chain now to an anchor the caller trusts, and why (the caller
 * opens the blobs: ../catalog/live-trust.ts TrustJudge.untrusted); the planner never does.
 */
export type UntrustedAmong = (sha256s: readonly string[]) => ReadonlyMap<string, Distrust>;

/**
 * Plans for many hosts against one catalog: the catalog indexed once, each plan what planInstall
 * gives that host alone. With `untrustedAmong`, only payloads that chain now to a trusted anchor
 * are steps, and only the payloads the plans would install are judged: when some of those are
 * untrusted, the rest of their NT versions' payloads is judged too and the hosts are planned again
 * without the untrusted ones (they become "untrusted" skips, and what they stood for is planned
 * from another file or missing), until every step is trusted. Each round leaves out at least one
 * more payload, so it ends; when all is trusted, one round is all.
 */
export function planHosts(hosts: HostInventory[], payloads: Payload[], kb: KnowledgeBase, goal: PlanGoal, untrustedAmong?: UntrustedAmong): HostPlan[] {
  const distrusted = new Map<string, Distrust>();
  for (;;) {
    const planner = new Planner(payloads, kb, goal, distrusted);
    const plans = hosts.map((h) => planner.plan(h));
    if (untrustedAmong === undefined) return plans;
    const planned = new Set(plans.flatMap((p) => p.steps.map((s) => s.sha256).filter((sha256): sha256 is string => sha256 !== null)));
    const untrusted = untrustedAmong([...planned]);
    if (untrusted.size === 0) return plans;
    // one anchor usually signs a whole family's updates: judged now, the rest of the family
    // cannot cost a round each (a chain of untrusted rollups would, one newest after another)
    const ntVersions = new Set(payloads.filter((p) => untrusted.has(p.sha256)).map((p) => p.ntVersion));
    for (const [sha256, why] of untrustedAmong(payloads.filter((p) => ntVersions.has(p.ntVersion)).map((p) => p.sha256))) distrusted.set(sha256, why);
  }
}

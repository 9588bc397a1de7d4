/**
 * The planner's public surface: host inventories in, one explained install plan per host out.
 *   readHostInventories(files)              → HostInventory[] (formats auto-detected, one host per name)
 *   loadKnowledgeBase(dir?)                 → KnowledgeBase (catalog/kb/*.json, validated)
 *   planInstall(host, payloads, kb, goal)   → HostPlan (pure)
 *   planHosts(hosts, payloads, kb, goal)    → HostPlan[] (one Planner: shared work, the same plans)
 *   collectScript()                         → the .cmd that gathers an inventory on the host
 */
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

/** Plans for many hosts against one catalog: the catalog indexed once, each plan what planInstall gives that host alone. */
export function planHosts(hosts: HostInventory[], payloads: Payload[], kb: KnowledgeBase, goal: PlanGoal): HostPlan[] {
  const planner = new Planner(payloads, kb, goal);
  return hosts.map((h) => planner.plan(h));
}

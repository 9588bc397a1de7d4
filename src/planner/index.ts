/**
 * The planner's public surface: host inventories in, one explained install plan per host out.
 *   readHostInventories(files)              → HostInventory[] (formats auto-detected, one host per name)
 *   loadKnowledgeBase(dir?)                 → KnowledgeBase (catalog/kb/*.json, validated)
 *   planInstall(host, payloads, kb, goal)   → HostPlan (pure)
 *   planHosts(hosts, payloads, kb, goal)    → HostPlan[]
 *   collectScript()                         → the .cmd that gathers an inventory on the host
 */
import type { Payload } from '../package/types';
import type { KnowledgeBase } from '../knowledge/knowledge-base';
import { planInstall } from './plan';
import type { HostInventory, HostPlan, PlanGoal } from './types';

export { planInstall } from './plan';
export { loadKnowledgeBase, defaultKnowledgeBaseDir, familyForNtVersion, normaliseKb } from '../knowledge/knowledge-base';
export type { KnowledgeBase, KbFamily, KbUpdateFact } from '../knowledge/knowledge-base';
export { readHostInventories, readHostInventory, parseHostInventory } from './inventory';
export { collectScript } from './collect-script';
export type { HostInventory, HostPlan, PlanGoal, PlanStep, SimulatedState } from './types';

/** Plans for many hosts against one catalog: the payload list is shared, each plan independent. */
export function planHosts(hosts: HostInventory[], payloads: Payload[], kb: KnowledgeBase, goal: PlanGoal): HostPlan[] {
  return hosts.map((h) => planInstall(h, payloads, kb, goal));
}

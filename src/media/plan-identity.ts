import { createHash } from 'node:crypto';
import { canonicalJson } from '../canonical-json';
import type { HostInventory, HostPlan } from '../planner/types';

/**
 * A staged plan's identity: the SHA-256 of its canonical JSON (keys sorted, no whitespace) of
 * `{ host, plan }`: the inventory it was made from and its steps. install.cmd, plan.json,
 * plan.txt and every result-log line carry it, so results of one plan are never read as
 * progress of another, and `report` can tell which plan a result belongs to.
 */

export interface StagedPlanDocument {
  planId: string;
  host: HostInventory;
  plan: HostPlan;
}

export function planIdOf(host: HostInventory, plan: HostPlan): string {
  return createHash('sha256').update(canonicalJson({ host, plan })).digest('hex');
}

/** plan.json as staged: the id first, so a reader sees which plan it is before the details. */
export function stagedPlanDocument(host: HostInventory, plan: HostPlan): StagedPlanDocument {
  return { planId: planIdOf(host, plan), host, plan };
}

import { createHash } from 'node:crypto';
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

/** JSON with object keys sorted at every level and no whitespace; `undefined` members dropped as JSON.stringify does. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined && typeof v !== 'function')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** plan.json as staged: the id first, so a reader sees which plan it is before the details. */
export function stagedPlanDocument(host: HostInventory, plan: HostPlan): StagedPlanDocument {
  return { planId: planIdOf(host, plan), host, plan };
}

import type { Payload } from '../package/types';
import type { KnowledgeBase } from '../knowledge/knowledge-base';
import { skipReason, type IncompleteCause } from './causes';
import { addBaselineGaps, catalogCurrency, incompleteCauses, knowledgeBaseline } from './completeness';
import { checkInstalledClaims, hostBaseline, resolveFamily, type PlanNotes } from './host-state';
import { asciiLookalike } from './inventory/host-facts';
import { describeMissing, describeSkip } from './present';
import { Resolver } from './resolve';
import { schedule } from './schedule';
import { selectCandidates, type Skip } from './select';
import type { HostInventory, HostPlan, PlanGoal } from './types';

/**
 * planInstall: from what a host reports, the payloads in the catalog and the knowledge base,
 * the exact install sequence for one host. Pure: no I/O, no clock; the same inputs give the
 * same plan. The stages, each in its own module:
 *
 *   host-state     the family; installed claims checked against the host's other facts;
 *                  what the host already has (installed KBs, service pack, SHA-2 state)
 *   select         the payloads that apply to this host; one file per KB
 *   resolve        what the goal asks for, closed under every requirement; what is missing
 *   completeness   the knowledge base's baseline for a current host: what the catalog cannot supply
 *   schedule       the order with restarts, over a simulated host
 * Every decision is a cause (causes.ts); present.ts puts them into words.
 */
export function planInstall(host: HostInventory, payloads: Payload[], kb: KnowledgeBase, goal: PlanGoal): HostPlan {
  const notes: PlanNotes = { incomplete: identityCauses(host), assumptions: [] };
  const plan: HostPlan = { host: host.name, files: host.files, complete: false, incomplete: [], steps: [], missing: [], skipped: [], assumptions: notes.assumptions, catalogCurrency: null };
  const family = resolveFamily(host, kb, notes);
  if (!family) return finish(plan, host, notes, [], []);
  plan.catalogCurrency = catalogCurrency(family, payloads);

  const claims = checkInstalledClaims(host, family);
  for (const conflict of claims.conflicts) notes.incomplete.push({ kind: 'conflict', conflict });
  if (claims.doubted.length > 0) notes.assumptions.push(`not believed installed (listed only by a file that contradicts the host's other facts): ${claims.doubted.join(', ')}`);
  const base = hostBaseline(host, claims.believed, family, payloads, notes);

  const selected = selectCandidates(host, payloads, family, base, notes);
  const resolver = new Resolver(family, base, selected.candidates, host, notes);
  resolver.chooseRoots(goal);
  resolver.closePrerequisites();
  addBaselineGaps(resolver, knowledgeBaseline(family, host.product, goal));
  const skipped = [...selected.skipped, ...resolver.unchosen()];
  const missing = resolver.missing(skipped);
  for (const m of missing) plan.missing.push({ kb: m.kb, reason: describeMissing(m), fileHint: m.fileHint, cause: m });

  noteEsu(host, resolver, notes);
  const scheduled = schedule(resolver.chosen, base, host.servicingStackVersion, family, host.name, notes.assumptions);
  plan.steps = scheduled.steps;
  plan.initialState = scheduled.initialState;
  const esuHeld = [...resolver.esuHeld, ...(host.esuLicence === 'not-activated' ? missing.filter((m) => family.updates.get(m.kb)?.requiresEsu === true).map((m) => m.kb) : [])];
  return finish(plan, host, notes, skipped, esuHeld);
}

function finish(plan: HostPlan, host: HostInventory, notes: PlanNotes, skipped: Skip[], esuHeld: string[]): HostPlan {
  plan.skipped = skipped.map((s) => ({ kb: s.kb, reason: skipReason(s.cause), detail: describeSkip(s.kb, s.cause), cause: s.cause }));
  plan.incomplete = incompleteCauses(host, notes.incomplete, plan.missing.map((m) => m.cause), skipped, [...new Set(esuHeld)]);
  plan.complete = plan.incomplete.length === 0;
  return plan;
}

/** The host's name and its files' agreement: conflicts between files, a name that imitates another. */
function identityCauses(host: HostInventory): IncompleteCause[] {
  const out: IncompleteCause[] = host.conflicts.map((conflict) => ({ kind: 'conflict', conflict }));
  const resembles = asciiLookalike(host.name);
  if (resembles !== null) out.push({ kind: 'host-name-lookalike', name: host.name, resembles });
  return out;
}

/** ESU: an unknown licence status is an assumption the far side checks; the steps carry requiresEsu. */
function noteEsu(host: HostInventory, resolver: Resolver, notes: PlanNotes): void {
  const planned = [...resolver.chosen.values()].filter((ch) => ch.requiresEsu).map((ch) => ch.c.kb).sort();
  if (host.esuLicence === null && planned.length > 0) {
    notes.assumptions.push(
      `ESU licence status not reported: ${planned.join(', ')} need(s) an activated ESU key; assumed activated — install.cmd checks activation on the host before these steps and stops if the key is not activated (collect the inventory with cabferry's collect script to know beforehand)`,
    );
  }
}

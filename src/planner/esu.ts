/**
 * Extended Security Updates in a plan: which ESU year's licence an update needs (the knowledge
 * base's esu.years, by its release date), whether the host has it, which licensing preparation
 * packages must come first, and what the plan says about them (held back, assumed, or not
 * checkable by install.cmd for want of the year's activation IDs).
 */
import { esuActivationIdsFor, esuYearOf, type KbFamily, type KbUpdateFact } from '../knowledge/knowledge-base';
import type { PlanNotes } from './host-state';
import type { Resolver } from './resolve';
import type { HostInventory, HostPlan } from './types';

/**
 * Whether the host's ESU licence of the year an ESU update belongs to (knowledge base esu.years, by
 * its release date) is activated. Each ESU year is a MAK add-on key of its own: a Year 1 licence does
 * not install a year-3 update. 'unknown' when the inventory does not say (no licence section, or an
 * activated licence whose year it does not name): install.cmd checks that year's activation IDs on
 * the host before the step.
 */
export function esuLicenceFor(host: HostInventory, family: KbFamily, fact: KbUpdateFact): 'activated' | 'not-activated' | 'unknown' {
  if (host.esuLicence === null) return 'unknown';
  if (host.esuLicence === 'not-activated') return 'not-activated';
  const year = family.esu === null ? null : esuYearOf(family.esu, fact.released);
  const years = host.esuActivatedYears ?? null;
  if (year === null || years === null) return 'unknown';
  return years.includes(year) ? 'activated' : 'not-activated';
}

/** The licensing preparation packages an ESU update needs: those that existed when it came out (a 2020 rollup does not wait for the 2022 package). */
export function esuPreparationFor(family: KbFamily, fact: KbUpdateFact): string[] {
  if (!fact.requiresEsu || !family.esu) return [];
  return family.esu.licensingPreparationKbs.filter((prep) => prep !== fact.kb && (family.updates.get(prep)?.released ?? '') <= fact.released);
}

/**
 * A missing update the host could not install anyway: it needs the licence of an ESU year the host
 * reports not activated. Not one offered in Azure only: no key makes it installable outside Azure,
 * and asking for that year's key would send the operator after one that does not exist (its copy
 * is skipped as azure-only instead: select.ts).
 */
export function isEsuHeld(host: HostInventory, family: KbFamily, kb: string): boolean {
  const fact = family.updates.get(kb);
  return fact?.requiresEsu === true && !fact.azureOnly && esuLicenceFor(host, family, fact) === 'not-activated';
}

/** "KB5022340 (year 3)": the ESU year each update needs, as the plan's words name it. */
function withEsuYears(kbs: string[], family: KbFamily): string {
  return kbs.map((kb) => {
    const fact = family.updates.get(kb);
    const year = fact && family.esu ? esuYearOf(family.esu, fact.released) : null;
    return year === null ? kb : `${kb} (ESU year ${year})`;
  }).join(', ');
}

/**
 * ESU: a licence status the inventory does not give (no licence section, or an activated licence
 * whose year it does not name) is an assumption the far side checks; the steps carry requiresEsu
 * and the year whose licence they need.
 */
export function noteEsu(host: HostInventory, family: KbFamily, resolver: Resolver, notes: PlanNotes): void {
  const planned = [...resolver.chosen.values()].filter((ch) => ch.requiresEsu).map((ch) => ch.c.kb).sort();
  const unknown = planned.filter((kb) => esuLicenceFor(host, family, family.updates.get(kb)!) === 'unknown');
  if (unknown.length === 0) return;
  const checks = `install.cmd checks activation of each update's ESU year (that year's activation IDs) on the host before these steps and stops if that year's licence is not activated (collect the inventory with cabferry's collect script to know beforehand)`;
  if (host.esuLicence === null) {
    notes.assumptions.push(`ESU licence status not reported: ${withEsuYears(unknown, family)} need(s) an activated ESU key of that year; assumed activated — ${checks}`);
  } else {
    notes.assumptions.push(`ESU licence reported activated, but not of which ESU year: ${withEsuYears(unknown, family)} need(s) the licence of that year (each year is a key of its own); assumed activated — ${checks}`);
  }
}

/**
 * Each ESU step gets the year whose licence it needs. A step whose year has no activation ID in the
 * knowledge base for the host's product cannot be checked by install.cmd, which then stops before
 * it (esu-not-activated): the plan cannot reach its end, so it is not complete.
 */
export function esuSteps(plan: HostPlan, host: HostInventory, family: KbFamily, notes: PlanNotes): void {
  const unchecked: { kb: string; year: number | null }[] = [];
  for (const step of plan.steps) {
    if (!step.requiresEsu || step.kb === null) continue;
    const fact = family.updates.get(step.kb);
    const year = fact && family.esu ? esuYearOf(family.esu, fact.released) : null;
    if (year !== null) step.esuYear = year;
    if (year === null || family.esu === null || esuActivationIdsFor(family.esu, host.product, year).length === 0) unchecked.push({ kb: step.kb, year });
  }
  if (unchecked.length === 0) return;
  const years = [...new Set(unchecked.map((u) => u.year).filter((y): y is number => y !== null))].sort((a, b) => a - b);
  notes.incomplete.push({ kind: 'esu-activation-ids-unknown', kbs: unchecked.map((u) => u.kb).sort(), years, product: host.product, family: family.family });
}

/**
 * The held-back ESU updates' years, beside the years the host has activated (none when it reports its
 * ESU licence not activated): the operator needs to know which year's key to buy and activate.
 */
export function esuYearsOfCause(plan: HostPlan, host: HostInventory, family: KbFamily): HostPlan {
  const cause = plan.incomplete.find((c) => c.kind === 'esu-not-activated');
  if (!cause || cause.kind !== 'esu-not-activated' || host.esuLicence === null || family.esu === null) return plan;
  const esu = family.esu;
  cause.years = [...new Set(cause.kbs.map((kb) => family.updates.get(kb)).filter((f) => f !== undefined).map((f) => esuYearOf(esu, f.released)).filter((y): y is number => y !== null))].sort((a, b) => a - b);
  cause.activatedYears = host.esuLicence === 'activated' ? [...(host.esuActivatedYears ?? [])] : [];
  return plan;
}

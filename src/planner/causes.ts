import type { Architecture, PayloadKind, Sha2OnlyPart } from '../package/types';
import type { Distrust } from '../catalog/distrust';
import { HOST_FACTS, type HostFact, type InventoryConflict, type PlanGoal } from './types';

/**
 * Every decision the planner makes about what is not installed, or why a plan is not complete,
 * as data. present.ts turns these into words; nothing decides by reading those words.
 */

/** Why a payload of the catalog is not a step of the plan. */
export type SkipCause =
  | { kind: 'installed' }
  /** an update the host has installed replaces it */
  | { kind: 'replaced-by-installed'; by: string }
  /** an update this plan installs replaces it */
  | { kind: 'replaced-by-planned'; by: string; byRole: PayloadKind; byReleased: string | null }
  /** the update that replaces it is itself held back (a prerequisite is missing) */
  | { kind: 'replaced-by-waiting'; by: string }
  /** another file of the same KB is planned instead */
  | { kind: 'other-file'; file: string; planned: string }
  | { kind: 'unsigned'; file: string; signatures: string }
  /**
   * it does not chain, now, to an anchor the caller trusts (judged by the caller, passed in:
   * ../catalog/live-trust.ts); `arch` as in its file name (x64)
   */
  | { kind: 'untrusted'; file: string; sha256: string; arch: string; distrust: Distrust }
  | { kind: 'arch-mismatch'; file: string; built: Architecture; host: Architecture }
  | { kind: 'arch-unknown'; file: string; built: Architecture }
  /** the payload's own metadata names other products of the family */
  | { kind: 'product-mismatch'; file: string; products: string[]; host: string }
  /** the knowledge base limits the KB to some products of the family */
  | { kind: 'kb-products'; file: string; products: string[]; host: string; source: string }
  /**
   * the knowledge base says the update was offered to hosts in Azure only (an ESU year no key
   * outside Azure covers); cabferry plans for hosts outside Azure
   */
  | { kind: 'azure-only'; file: string; esuYear: number | null; source: string }
  | { kind: 'parent-other-nt'; file: string; parent: string; version: string; ntVersion: string }
  | { kind: 'preview-optional' }
  | { kind: 'security-only-goal' }
  | { kind: 'not-needed' }
  /** the update needs an activated ESU key and the host reports none */
  | { kind: 'esu-not-activated' };

/** The words the --json contract of issue #6 groups skipped payloads by (and "untrusted", #17: live trust). */
export type SkipReason = 'installed' | 'superseded' | 'not-applicable' | 'untrusted';

export function skipReason(cause: SkipCause): SkipReason {
  switch (cause.kind) {
    case 'installed':
      return 'installed';
    case 'replaced-by-installed':
    case 'replaced-by-planned':
    case 'replaced-by-waiting':
    case 'other-file':
      return 'superseded';
    case 'untrusted':
      return 'untrusted';
    default:
      return 'not-applicable';
  }
}

/** Why an update is needed at all (a requirement of something planned, the goal, or the knowledge baseline). */
export type Need =
  | { kind: 'service-pack'; ntVersion: string; servicePack: number }
  /** a prerequisite the knowledge base states, with its source */
  | { kind: 'prerequisite'; source: string }
  | { kind: 'mum-parent'; parent: string }
  /** `kb` has parts signed with SHA-2 only; parts null: its record does not say, so it is assumed */
  | { kind: 'sha2-only'; kb: string; parts: readonly Sha2OnlyPart[] | null }
  | { kind: 'esu-preparation'; source: string }
  | { kind: 'target' }
  /** a current host of this family has it (knowledge base): the catalog cannot supply it */
  | { kind: 'baseline'; role: PayloadKind; released: string | null };

/** An update the plan needs and the catalog cannot supply. */
export interface MissingCause {
  kind: 'missing';
  kb: string;
  /** the knowledge base's title, when it knows the KB */
  title: string | null;
  /** why the catalog's own copy does not apply; null when the catalog holds none */
  copy: SkipCause | null;
  needs: { need: Need; neededBy: string[] }[];
  /** the file to fetch */
  fileHint: string;
}

/** Why a plan cannot be called complete. A plan is complete exactly when it has none. */
export type IncompleteCause =
  | { kind: 'missing'; kbs: string[] }
  | { kind: 'conflict'; conflict: InventoryConflict }
  | { kind: 'section-missing'; section: 'hotfixes'; files: string[] }
  | { kind: 'unknown-family'; ntVersion: string }
  | { kind: 'family-not-inferable' }
  /** payloads built for one architecture were left out because the host's is not reported */
  | { kind: 'architecture-unknown'; payloads: number }
  /**
   * updates that need ESU, and the host reports its ESU key not activated; `years` (the ESU years
   * those updates need) and `activatedYears` (the years whose licence the host has activated) when
   * the host has an ESU licence activated, but not of the year an update needs
   */
  | { kind: 'esu-not-activated'; kbs: string[]; years?: number[]; activatedYears?: number[] }
  /**
   * planned steps need the ESU licence of these years, and the knowledge base holds no activation ID
   * of that year for the host's product: install.cmd cannot check the licence and stops before them
   */
  | { kind: 'esu-activation-ids-unknown'; kbs: string[]; years: number[]; product: string | null; family: string }
  /** a host name with characters that look like ASCII letters: it may impersonate another host */
  | { kind: 'host-name-lookalike'; name: string; resembles: string }
  /**
   * the knowledge base lists nothing of what a current host of this product has for the goal (the
   * newest servicing stack update, rollup, security-only update): "current" has no meaning here
   * (Windows Vista: every update the knowledge base lists for NT 6.0 is Server 2008's)
   */
  | { kind: 'no-baseline'; product: string | null; family: string; goal: 'current' | 'security-only'; lacking: PayloadKind[] }
  /**
   * --security-only: security-only updates are not cumulative, and the knowledge base lists none
   * for these months (YYYY-MM) since the family's first one (`from`, null when it does not say
   * when that was) up to the newest it lists (`to`); months up to the release of the newest
   * monthly rollup the host has (`coveredThrough`) are not among them
   */
  | { kind: 'security-only-unlisted'; family: string; from: string | null; to: string; listed: string[]; unlisted: string[]; coveredThrough: string | null };

/** How current the catalog is for a host's family, against what the knowledge base knows. */
export interface CatalogCurrency {
  family: string;
  /** release date of the newest monthly rollup the catalog holds for this family (null: none, or undated) */
  newestRollupInCatalog: string | null;
  /** release date of the newest monthly rollup the knowledge base knows for this family */
  newestKnownRollup: string | null;
}

/**
 * Whether `x`, read back from a plan.json, is an IncompleteCause as the planner writes it, every
 * field of its kind of the right type: what describes a cause trusts its fields, and a plan.json
 * on an unsigned medium can hold anything.
 */
export function isIncompleteCause(x: unknown): x is IncompleteCause {
  if (typeof x !== 'object' || x === null) return false;
  const c = x as Record<string, unknown>;
  switch (c.kind) {
    case 'missing': return isStringList(c.kbs);
    case 'esu-not-activated':
      return isStringList(c.kbs) && (c.years === undefined || isYearList(c.years)) && (c.activatedYears === undefined || isYearList(c.activatedYears));
    case 'esu-activation-ids-unknown':
      return isStringList(c.kbs) && isYearList(c.years) && (c.product === null || typeof c.product === 'string') && typeof c.family === 'string';
    case 'conflict': return isInventoryConflict(c.conflict);
    case 'section-missing': return c.section === 'hotfixes' && isStringList(c.files);
    case 'unknown-family': return typeof c.ntVersion === 'string';
    case 'family-not-inferable': return true;
    case 'architecture-unknown': return Number.isSafeInteger(c.payloads);
    case 'host-name-lookalike': return typeof c.name === 'string' && typeof c.resembles === 'string';
    case 'no-baseline': return (c.product === null || typeof c.product === 'string') && typeof c.family === 'string' && (c.goal === 'current' || c.goal === 'security-only') && isStringList(c.lacking);
    case 'security-only-unlisted':
      return typeof c.family === 'string' && (c.from === null || typeof c.from === 'string') && typeof c.to === 'string' && isStringList(c.listed) && isStringList(c.unlisted) && (c.coveredThrough === null || typeof c.coveredThrough === 'string');
    default: return false;
  }
}

function isInventoryConflict(x: unknown): x is InventoryConflict {
  if (typeof x !== 'object' || x === null) return false;
  const c = x as Record<string, unknown>;
  return isHostFact(c.fact) && Array.isArray(c.claims) && c.claims.every(isFactClaim);
}

function isFactClaim(x: unknown): boolean {
  if (typeof x !== 'object' || x === null) return false;
  const { claim, files } = x as Record<string, unknown>;
  if (!isStringList(files) || typeof claim !== 'object' || claim === null) return false;
  const c = claim as Record<string, unknown>;
  if (c.kind === 'fact') return isHostFact(c.fact) && isFactValue(c.value);
  if (c.kind !== 'installed' || typeof c.kb !== 'string' || typeof c.implies !== 'object' || c.implies === null) return false;
  const implies = c.implies as Record<string, unknown>;
  return isHostFact(implies.fact) && isFactValue(implies.value);
}

function isHostFact(x: unknown): x is HostFact {
  return typeof x === 'string' && (HOST_FACTS as readonly string[]).includes(x);
}

function isFactValue(x: unknown): boolean {
  return typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean';
}

function isYearList(x: unknown): x is number[] {
  return Array.isArray(x) && x.every((y) => Number.isSafeInteger(y));
}

function isStringList(x: unknown): x is string[] {
  return Array.isArray(x) && x.every((s) => typeof s === 'string');
}

/** Whether `x`, read back from a plan.json, is a PlanGoal. */
export function isPlanGoal(x: unknown): x is PlanGoal {
  if (typeof x !== 'object' || x === null) return false;
  const g = x as Record<string, unknown>;
  return g.kind === 'current' || g.kind === 'security-only' || (g.kind === 'target' && isStringList(g.kbs));
}

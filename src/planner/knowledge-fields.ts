import type { KbFamily, KbPrerequisite, KbUpdateFact } from '../knowledge/knowledge-base';

/**
 * The knowledge-base fields of issue #13 (ESU, Azure-only years, recommended order) as the planner
 * reads them. The loader may or may not carry them yet; absent means "not marked".
 */

export interface FamilyEsu {
  /** the first update that needs an ESU key, YYYY-MM-DD */
  firstUpdate: string | null;
  licensingPreparationKbs: string[];
  source: string;
}

export function requiresEsu(fact: KbUpdateFact | null): boolean {
  return (fact as { requiresEsu?: unknown } | null)?.requiresEsu === true;
}

export function isAzureOnly(fact: KbUpdateFact | null): boolean {
  return (fact as { azureOnly?: unknown } | null)?.azureOnly === true;
}

export function isRecommendedOnly(p: KbPrerequisite): boolean {
  return (p as { strength?: unknown }).strength === 'recommended';
}

export function familyEsu(family: KbFamily): FamilyEsu | null {
  const esu = (family as { esu?: { firstUpdate?: unknown; licensingPreparationKbs?: unknown; source?: unknown } }).esu;
  if (!esu || !Array.isArray(esu.licensingPreparationKbs)) return null;
  return {
    firstUpdate: typeof esu.firstUpdate === 'string' ? esu.firstUpdate : null,
    licensingPreparationKbs: esu.licensingPreparationKbs.filter((k): k is string => typeof k === 'string'),
    source: typeof esu.source === 'string' ? esu.source : 'the knowledge base',
  };
}

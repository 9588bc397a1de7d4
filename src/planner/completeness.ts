import type { PayloadKind } from '../package/types';
import type { KbFamily, KbUpdateFact } from '../knowledge/knowledge-base';
import type { CatalogCurrency, IncompleteCause, MissingCause, Need } from './causes';
import { esuPreparationFor } from './esu';
import type { Resolver } from './resolve';
import type { Applicable, Skip } from './select';
import { kbNumber } from './supersedence';
import type { HostInventory, PlanGoal } from './types';

/**
 * "Complete" is a claim against what is known, not against what the catalog happens to hold.
 * The knowledge base says what a current host of a family has (SHA-2 support, the newest
 * servicing stack update, the newest monthly rollup; Azure-only updates excepted); whatever of
 * that the host lacks and the plan does not install is missing, whatever the catalog holds.
 */

const BASELINE_ROLES: PayloadKind[] = ['servicing-stack', 'monthly-rollup'];

/** Whether the knowledge base's fact is of an update a host of this product takes (Azure-only updates are no host's baseline). */
function factAppliesTo(product: string | null): (f: KbUpdateFact) => boolean {
  return (f) => !f.azureOnly && (product === null || f.products === null || f.products.includes(product));
}

/** The updates a current host of this product has, per the knowledge base, for the goal. */
export function knowledgeBaseline(family: KbFamily, product: string | null, goal: PlanGoal): KbUpdateFact[] {
  if (goal.kind === 'target') return [];
  const applies = factAppliesTo(product);
  const out: KbUpdateFact[] = [];
  const sha2 = family.updates.get(family.sha2SupportKb);
  if (sha2 && applies(sha2)) out.push(sha2);
  // --security-only installs no rollup; what it must still have is the servicing stack
  const roles = goal.kind === 'security-only' ? BASELINE_ROLES.filter((r) => r !== 'monthly-rollup') : BASELINE_ROLES;
  for (const role of roles) {
    const newest = newestOf(family, role, applies);
    if (newest) out.push(newest);
  }
  // security-only updates are not cumulative: a host current without rollups has every one of them
  if (goal.kind === 'security-only') for (const f of family.updates.values()) if (f.role === 'security-only' && applies(f)) out.push(f);
  return out;
}

/**
 * What the knowledge base cannot say about this host's goal, as a cause that keeps the plan from
 * being complete: no fact of a role the goal's baseline needs for the product (nothing defines
 * "current" for it), or, for --security-only, months since the family's first security-only update
 * whose update it does not list (each month's is needed, and the host's own list cannot be checked
 * for updates nobody named) that no monthly rollup the host has covers; a month the knowledge base
 * says had no security-only release (securityOnlyFrom.noRelease, e.g. February 2017) needs none.
 * Null for --target.
 */
export function knowledgeLimit(family: KbFamily, product: string | null, goal: PlanGoal, installed: ReadonlySet<string>): IncompleteCause | null {
  if (goal.kind === 'target') return null;
  const applies = factAppliesTo(product);
  const roles: PayloadKind[] = goal.kind === 'security-only' ? ['servicing-stack', 'security-only'] : BASELINE_ROLES;
  const lacking = roles.filter((r) => newestOf(family, r, applies) === null);
  if (lacking.length > 0) return { kind: 'no-baseline', product, family: family.family, goal: goal.kind, lacking };
  if (goal.kind !== 'security-only') return null;
  const listed = [...new Set([...family.updates.values()].filter((f) => f.role === 'security-only' && applies(f)).map((f) => f.released.slice(0, 7)))].sort();
  const to = listed[listed.length - 1]!;
  // a monthly rollup holds the security fixes of its month and every earlier one (supersedence.ts)
  let coveredThrough: string | null = null;
  for (const kb of installed) {
    const f = family.updates.get(kb);
    if (f?.role === 'monthly-rollup' && (coveredThrough === null || f.released.slice(0, 7) > coveredThrough)) coveredThrough = f.released.slice(0, 7);
  }
  if (coveredThrough !== null && coveredThrough >= to) return null;
  const start = family.securityOnlyFrom;
  const from = start !== null && (product === null || start.products === null || start.products.includes(product)) ? start.released.slice(0, 7) : null;
  // a month the knowledge base says had no security-only release at all needs none
  const none = new Set(from !== null ? start!.noRelease.map((n) => n.month) : []);
  const unlisted: string[] = [];
  for (let m = from ?? listed[0]!; m <= to; m = nextMonth(m)) if (!listed.includes(m) && !none.has(m) && (coveredThrough === null || m > coveredThrough)) unlisted.push(m);
  if (from !== null && unlisted.length === 0) return null;
  return { kind: 'security-only-unlisted', family: family.family, from, to, listed, unlisted, coveredThrough };
}

/** "2019-12" → "2020-01" */
function nextMonth(month: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, '0')}`;
}

function newestOf(family: KbFamily, role: PayloadKind, applies: (f: KbUpdateFact) => boolean): KbUpdateFact | null {
  let best: KbUpdateFact | null = null;
  for (const f of family.updates.values()) if (f.role === role && applies(f) && (best === null || f.released > best.released)) best = f;
  return best;
}

/**
 * Baseline updates the host lacks and the plan does not bring, with the knowledge-base prerequisites
 * they would need in turn: added to the resolver's missing list (unless already held back for another
 * stated reason: a missing prerequisite, an ESU key not activated).
 */
export function addBaselineGaps(resolver: Resolver, baseline: KbUpdateFact[]): void {
  const family = resolver.family;
  const queue: { fact: KbUpdateFact; need: Need; neededBy: string | null }[] = baseline.map((f) => ({ fact: f, need: { kind: 'baseline', role: f.role, released: f.released }, neededBy: null }));
  const covered = (kb: string): boolean =>
    resolver.installedReplacement(kb) !== null || resolver.plannedReplacement(kb) !== null || resolver.isWaiting(kb);
  const gaps = new Set<string>();
  while (queue.length > 0) {
    const { fact, need, neededBy } = queue.shift()!;
    if (covered(fact.kb)) continue;
    // an older SSU or rollup whose newer member is already on the list is fetched as that one
    if ([...gaps].some((g) => resolver.rule.supersedes(g, fact.kb))) continue;
    resolver.addMissing(fact.kb, need, neededBy);
    if (gaps.has(fact.kb)) continue;
    gaps.add(fact.kb);
    const next = (kb: string, n: Need): void => {
      const pf = family.updates.get(kb);
      if (pf) queue.push({ fact: pf, need: n, neededBy: fact.kb });
    };
    for (const p of fact.prerequisites) if (p.strength === 'required') next(p.kb, { kind: 'prerequisite', source: p.source });
    for (const prep of esuPreparationFor(family, fact)) next(prep, { kind: 'esu-preparation', source: family.esu!.source });
  }
}

/**
 * How current the catalog is for a host of this product: the newest monthly rollup among the
 * payloads that apply to its kind of host (`applicable`: select.ts applicableTo, which has already
 * left out the other architectures' and products' payloads and those whose signature is not
 * trusted), against the newest the knowledge base knows for the product. A rollup the host cannot
 * be given does not make the catalog current for it.
 */
export function catalogCurrency(family: KbFamily, product: string | null, applicable: Pick<Applicable, 'candidates'>): CatalogCurrency {
  let inCatalog: string | null = null;
  for (const { c } of applicable.candidates) {
    const f = c.fact;
    if (f?.role === 'monthly-rollup' && (inCatalog === null || f.released > inCatalog)) inCatalog = f.released;
  }
  const known = newestOf(family, 'monthly-rollup', factAppliesTo(product));
  return { family: family.family, newestRollupInCatalog: inCatalog, newestKnownRollup: known?.released ?? null };
}

/** The KB of the highest number among `kbs`. */
export function highestKb(kbs: Iterable<string>): { kb: string | null; n: number } {
  let best: { kb: string | null; n: number } = { kb: null, n: 0 };
  for (const kb of kbs) {
    const n = kbNumber(kb);
    if (Number.isFinite(n) && n > best.n) best = { kb, n };
  }
  return best;
}

/**
 * Installed KBs that neither the knowledge base nor the catalog knows and that are numbered above
 * every KB they know for the family. Most installed KBs of a real host are old hotfixes nobody
 * needs to know about; one numbered above everything known was most likely released after the
 * knowledge base was written: the host may be further on than "complete" and the steps say, and
 * what such an update supersedes cannot be worked out here. An assumption, not a cause of
 * incompleteness: it never makes a host look more patched than it is.
 */
export function installedBeyondKnowledge(installed: Iterable<string>, known: { readonly knownKbs: ReadonlySet<string>; readonly highestKnownKb: { kb: string | null; n: number } }): string[] {
  const out: string[] = [];
  // (`known` read only for a host with installed KBs: a FamilyWork makes them then)
  for (const kb of installed) {
    if (known.knownKbs.has(kb)) continue;
    if (kbNumber(kb) > known.highestKnownKb.n) out.push(kb);
  }
  return out.sort((a, b) => kbNumber(a) - kbNumber(b));
}

/**
 * The installed KBs a plan's decisions can rest on: those the family's knowledge base or catalog
 * knows (an unknown KB changes no decision; installedBeyondKnowledge notes the newest of them), by
 * KB number.
 */
export function installedKnown(installed: Iterable<string>, known: { readonly knownKbs: ReadonlySet<string> }): string[] {
  const out: string[] = [];
  for (const kb of installed) if (known.knownKbs.has(kb)) out.push(kb);
  return out.sort((a, b) => kbNumber(a) - kbNumber(b));
}

/** Every reason this plan cannot be called complete, from what the planner found on its way. */
export function incompleteCauses(host: HostInventory, earlier: IncompleteCause[], missing: MissingCause[], skipped: Skip[], esuHeld: string[]): IncompleteCause[] {
  const out: IncompleteCause[] = [...earlier];
  if (!host.sections.hotfixes) out.push({ kind: 'section-missing', section: 'hotfixes', files: host.files });
  if (missing.length > 0) out.push({ kind: 'missing', kbs: missing.map((m) => m.kb) });
  if (esuHeld.length > 0) out.push({ kind: 'esu-not-activated', kbs: [...esuHeld].sort() });
  // a plan that silently left out every architecture-specific payload is not a complete plan
  // (counted only then: a host plan skips thousands of payloads)
  if (host.architecture === null) {
    const blind = skipped.filter((s) => s.cause.kind === 'arch-unknown').length;
    if (blind > 0) out.push({ kind: 'architecture-unknown', payloads: blind });
  }
  return out;
}

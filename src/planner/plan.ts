import type { Distrust } from '../catalog/distrust';
import type { Payload } from '../package/types';
import type { KbFamily, KnowledgeBase } from '../knowledge/knowledge-base';
import type { CatalogCurrency, IncompleteCause } from './causes';
import { addBaselineGaps, incompleteCauses, installedBeyondKnowledge, installedKnown, knowledgeLimit } from './completeness';
import { checkInstalledClaims, hostBaseline, resolveFamily, type PlanNotes } from './host-state';
import { addOverruled, asciiLookalike, cbsOwnVerdict } from './inventory/host-facts';
import { describeMissing } from './present';
import { esuSteps, esuYearsOfCause, isEsuHeld, noteEsu } from './esu';
import { Resolver } from './resolve';
import { schedule } from './schedule';
import { selectCandidates, type Skip } from './select';
import { objectList } from './object-list';
import { productConflict } from './product-family';
import { FamilyWork } from './shared';
import type { HostInventory, HostPlan, InferredFrom, PlanGoal } from './types';

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
export function planInstall(host: HostInventory, payloads: Payload[], kb: KnowledgeBase, goal: PlanGoal, distrusted: ReadonlyMap<string, Distrust> = new Map()): HostPlan {
  return new Planner(payloads, kb, goal, distrusted).plan(host);
}

/**
 * Plans many hosts against one catalog, knowledge base and goal. What depends only on a family
 * (its payloads in the catalog first), or on a family, architecture and product, is worked out for
 * the first host that needs it and shared by the others
 * (shared.ts). Each plan is exactly the plan planInstall gives that host alone. `distrusted`: the
 * payloads that do not chain now to an anchor the caller trusts, with why (judged by the caller,
 * ../catalog/live-trust.ts): never a step, each a skip "untrusted" where it would have applied.
 */
export class Planner {
  private readonly families = new Map<KbFamily, FamilyWork>();

  constructor(
    private readonly payloads: readonly Payload[],
    private readonly kb: KnowledgeBase,
    private readonly goal: PlanGoal,
    private readonly distrusted: ReadonlyMap<string, Distrust> = new Map(),
  ) {}

  plan(host: HostInventory): HostPlan {
    const goal = this.goal;
    const notes: PlanNotes = { incomplete: identityCauses(host), assumptions: objectList<string>() };
    // (copies: hostBaseline's overruled inferences are added to them, and the inventory stays as read)
    const plan: HostPlan = { host: host.name, files: host.files, goal, complete: false, incomplete: [], steps: [], missing: [], skipped: [], assumptions: notes.assumptions, assumedInstalled: [], overruled: (host.overruled ?? []).map((o) => ({ ...o, listedBy: [...o.listedBy] })), catalogCurrency: null };
    const family = resolveFamily(host, this.kb, notes);
    if (!family) return finish(plan, host, notes, [], []);
    const work = this.familyWork(family);
    plan.catalogCurrency = { ...work.currencyFor(host) };

    const claims = checkInstalledClaims(host, family);
    for (const conflict of claims.conflicts) notes.incomplete.push({ kind: 'conflict', conflict });
    if (claims.doubted.length > 0) notes.assumptions.push(`not believed installed (listed only by a file that contradicts the host's other facts): ${claims.doubted.join(', ')}`);
    // of the believed set alone, before hostBaseline takes that set over as its installed set
    const beyondKnowledge = installedBeyondKnowledge(claims.believed, work);
    const base = hostBaseline(host, claims.believed, family, () => work.servicingStackVersions(host.architecture), notes);
    for (const o of base.overruled) addOverruled(plan.overruled!, o);
    // after hostBaseline: what it counted from the host's facts is taken as installed like the rest
    // a service pack counted from the reported level is proven on the host by install.cmd's first-run
    // build check (the plan's build, 6002 say, is reached only with it): not looked up by KB as well
    const byBuild = [...base.inferred].filter(([, from]) => from.fact === 'servicePack').map(([k]) => k);
    const unchecked = [...base.inferred].filter(([k, from]) => from.fact !== 'servicePack' && !inferenceCheckable(k, from, host)).map(([k]) => k);
    const leftOut = [...byBuild, ...unchecked];
    plan.assumedInstalled = installedKnown(leftOut.length === 0 ? base.installed : [...base.installed].filter((k) => !leftOut.includes(k)), work);
    const uncheckedKnown = installedKnown(unchecked, work);
    if (uncheckedKnown.length > 0) notes.assumptions.push(`counted as installed from the host's facts, not among the updates install.cmd checks (it looks an update up by the KB its servicing package or the hotfix list names, and would not find these where the fact holds): ${uncheckedKnown.join(', ')}`);
    noteInstalledBeyondKnowledge(beyondKnowledge, work, plan.catalogCurrency, notes);
    // what "current" means must be known for this host: its product one of its NT version's, and
    // the knowledge base holding a baseline for that product and the goal
    const contradiction = productConflict(host, this.kb, family);
    const limit = contradiction === null ? knowledgeLimit(family, host.product, goal, base.installed) : null;
    if (contradiction !== null) notes.incomplete.push({ kind: 'conflict', conflict: contradiction });
    if (limit !== null) notes.incomplete.push(limit);

    const selected = selectCandidates(work.applicableTo(host), base, notes);
    const resolver = new Resolver(family, base, selected.candidates, host, notes, work.requirements);
    resolver.chooseRoots(goal);
    resolver.closePrerequisites();
    addBaselineGaps(resolver, work.knowledgeBaseline(host.product));
    const skipped = selected.skipped;
    for (const s of resolver.unchosen()) skipped.push(s);
    const missing = resolver.missing(skipped);
    for (const m of missing) plan.missing.push({ kb: m.kb, reason: describeMissing(m), fileHint: m.fileHint, cause: m });

    noteEsu(host, family, resolver, notes);
    const scheduled = schedule(resolver.chosen, base, host.servicingStackVersion, family, host.name, notes.assumptions);
    plan.steps = scheduled.steps;
    plan.initialState = scheduled.initialState;
    esuSteps(plan, host, family, notes);
    const esuHeld = [...resolver.esuHeld, ...missing.filter((m) => isEsuHeld(host, family, m.kb)).map((m) => m.kb)];
    return esuYearsOfCause(finish(plan, host, notes, skipped, esuHeld), host, family);
  }

  private familyWork(family: KbFamily): FamilyWork {
    let work = this.families.get(family);
    if (!work) this.families.set(family, (work = new FamilyWork(family, payloadsOf(this.payloads, family.ntVersion), this.goal, this.distrusted)));
    return work;
  }
}

/**
 * The catalog's payloads of one NT version, in catalog order: taken out for the first host of a
 * family (a run plans one family or a few, and most catalogs hold several: the others are never
 * sorted out). One filter, not a loop of its own: made once per run, a loop over the catalog would
 * be compiled for its own sake while the run waits for the code that matters.
 */
function payloadsOf(payloads: readonly Payload[], ntVersion: string): Payload[] {
  return payloads.filter((p) => p.ntVersion === ntVersion);
}

function finish(plan: HostPlan, host: HostInventory, notes: PlanNotes, skipped: Skip[], esuHeld: string[]): HostPlan {
  // (the entries themselves: many are shared by every host of a kind, and nothing changes them)
  plan.skipped = skipped;
  plan.incomplete = incompleteCauses(host, notes.incomplete, plan.missing.map((m) => m.cause), skipped, [...new Set(esuHeld)]);
  plan.complete = plan.incomplete.length === 0;
  return plan;
}

/**
 * Whether install.cmd's first-run check (which looks each update up in the host's CBS packages by its
 * KB, then in the hotfix list) can be given `kb`, which hostBaseline counted from `from`: only when the
 * script would find it on a host that has what the fact says. Left out, so that the script does not
 * refuse for ever a host the plan has right (each is still said in the plan's assumptions):
 *  - an update a CBS section of the inventory was read from and names no package of: the script reads
 *    the same packages (and the hotfix list, which named it neither, or it would be believed). An SSU
 *    counted from the stack version on a host that went straight to a newer SSU has no package of its
 *    own.
 * (Service packs counted from the reported level do not come here: the build check proves them, and
 * their packages are no proof either way: Windows 7 SP1 is KB976932 to the knowledge base but its
 * package is Windows7SP1-KB976933~, and a host installed from media with the service pack in it may
 * have no service pack package at all, so a look-up by KB would refuse it for ever.)
 * A KB CBS lists in a state not on the host never gets here: the inference gives way (hostBaseline).
 * Without a CBS section the script's look-up is the only check there is: the update is given to it.
 */
function inferenceCheckable(kb: string, from: InferredFrom, host: HostInventory): boolean {
  const cbs = cbsOwnVerdict(kb, host.evidence);
  return cbs === null || cbs.verdict === 'on-host';
}

/** The host's name and its files' agreement: conflicts between files, a name that imitates another. */
function identityCauses(host: HostInventory): IncompleteCause[] {
  const out: IncompleteCause[] = host.conflicts.map((conflict) => ({ kind: 'conflict', conflict }));
  const resembles = asciiLookalike(host.name);
  if (resembles !== null) out.push({ kind: 'host-name-lookalike', name: host.name, resembles });
  return out;
}

/** Installed updates numbered above everything known: the knowledge base is likely behind this host. */
function noteInstalledBeyondKnowledge(kbs: string[], work: FamilyWork, currency: CatalogCurrency, notes: PlanNotes): void {
  if (kbs.length === 0) return;
  const shown = kbs.length > 8 ? `${kbs.slice(0, 8).join(', ')} and ${kbs.length - 8} more` : kbs.join(', ');
  const newest = currency.newestKnownRollup === null ? '' : `; the newest rollup it knows is of ${currency.newestKnownRollup.slice(0, 7)}`;
  notes.assumptions.push(
    `installed, and numbered above every KB the knowledge base and the catalog know for ${work.family.family} (${work.highestKnownKb.kb ?? 'none'}): ${shown} — most likely released after the knowledge base was written${newest}. What they supersede is not known here: the host may already have newer updates than the steps bring (wusa then reports a step not applicable); update cabferry's knowledge base`,
  );
}

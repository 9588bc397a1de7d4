import type { PayloadKind } from '../package/types';
import type { KbFamily } from '../knowledge/knowledge-base';
import { fetchFileName } from '../knowledge/file-names';
import type { MissingCause, Need, SkipCause } from './causes';
import { esuLicenceFor, esuPreparationFor } from './esu';
import type { Baseline, PlanNotes } from './host-state';
import { objectList } from './object-list';
import { roleLabel } from './present';
import { ARCH_FILE, skipOf, type Candidate, type HostCandidates, type Skip } from './select';
import { CHAIN_OF_ROLE, Supersedence, type ReplacementIndex } from './supersedence';
import type { HostInventory, PlanGoal } from './types';

/**
 * What to install: the roots the goal asks for, closed under every requirement (knowledge-base
 * prerequisites, update.mum parents, SHA-2 activation, the ESU licensing preparation), each met by
 * the host, by a catalog payload, or recorded as missing. Then why every other payload is not
 * planned. The result is data for schedule() and completeness.
 */

export interface Dep {
  kb: string;
  /** must be active (installed and restarted) first: SHA-2 support for a SHA-2-only payload */
  active: boolean;
  /** a recommended order (knowledge base), not a prerequisite */
  recommended: boolean;
}

export interface Chosen {
  c: Candidate;
  /** why the goal asks for it ("newest monthly rollup …"); shared lists, replaced, never changed */
  why: readonly string[];
  /** the planned KBs that need it (null: none; most roots have none, and a thousand empty sets cost) */
  neededBy: Set<string> | null;
  /** older KBs it stands in for as a prerequisite ("replaces KB4517134, which KB4520002 requires"); null: none */
  standsFor: Map<string, string> | null;
  /**
   * what it must install after: NO_DEPS, or a requirement's shared one-element list (Requirement's
   * depOnly), or a list of its own from the second on; never changed once set (replaced instead), so
   * that equal lists are mostly the same list for the scheduler's reason cache
   */
  deps: readonly Dep[];
  /** needs an activated ESU key (knowledge base) */
  requiresEsu: boolean;
  /** its requirements have been resolved (or are being resolved) */
  resolved: boolean;
}

interface Requirement {
  kb: string;
  active: boolean;
  recommended: boolean;
  /**
   * why it is needed (what the missing list says); null for SHA-2 support, whose need names the
   * SHA-2-only payload that has it: one requirement for all of them (needOf names it)
   */
  need: Need | null;
  /** the dependency when `kb` itself meets it (the usual case): one object for every host */
  dep: Dep;
  /** [dep]: the deps of a chosen payload with this requirement alone, one list for every host */
  depOnly: readonly Dep[];
}

function requirement(kb: string, need: Need | null, active = false, recommended = false): Requirement {
  const dep: Dep = { kb, active, recommended };
  return { kb, need, active, recommended, dep, depOnly: [dep] };
}

/** why `req` of the payload `neededBy` is needed */
function needOf(req: Requirement, neededBy: Candidate): Need {
  return req.need ?? { kind: 'sha2-only', kb: neededBy.kb, parts: neededBy.sha2Parts };
}

/** the requirements of a candidate that has none (never added to) */
const NO_REQUIREMENTS: Requirement[] = [];
const NONE: readonly never[] = [];

export const ROLE_RANK: Partial<Record<PayloadKind, number>> = {
  'service-pack': 0,
  'servicing-stack': 1,
  'sha2-support': 2,
  'esu-preparation': 3,
  'monthly-rollup': 5,
  'rollup-preview': 5,
  'security-only': 6,
};

/** Install order within a stage: the servicing stack first (Microsoft: "install the latest SSU before the rollup"), then SHA-2 support, … */
export function rank(c: Candidate): number {
  return ROLE_RANK[c.role] ?? 4;
}

const APPLICABLE_WHY = new Map<PayloadKind, readonly string[]>();

/** ["applicable hotfix not yet installed"] (whyList): one list per role, found with one look-up for each of a thousand roots of every host */
function applicableWhy(role: PayloadKind): readonly string[] {
  let why = APPLICABLE_WHY.get(role);
  if (why === undefined) APPLICABLE_WHY.set(role, (why = whyList(`applicable ${roleLabel(role)} not yet installed`)));
  return why;
}

/** No requirements: the deps of most chosen payloads until resolve gives them a list. */
const NO_DEPS: readonly Dep[] = [];
const NO_WHY: readonly string[] = [];
const WHY_LISTS = new Map<string, string[]>();

/**
 * A chosen payload's why, as the one-element list most have: one list per distinct why, shared by
 * every payload and host that has it (never added to: a second why makes a new list).
 */
function whyList(why: string): string[] {
  let list = WHY_LISTS.get(why);
  if (list === undefined) WHY_LISTS.set(why, (list = [why]));
  return list;
}

/** Code-unit order: KB numbers and ISO dates are ASCII, and localeCompare is needlessly slow in the scheduler's heap. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A candidate's requirements that do not depend on the host: the same for every host of its family. */
export interface StaticRequirements {
  /** the service pack, the knowledge base's prerequisites, the ESU licensing preparation */
  fixed: Requirement[];
  /** update.mum parents naming KB packages (alternatives), when they add a requirement: which one depends on the host */
  kbParents: string[] | null;
  /** SHA-2 support, for a SHA-2-only payload */
  sha2: Requirement | null;
  /** every requirement, when kbParents is null */
  all: Requirement[] | null;
  /**
   * when kbParents is not null: every requirement with each parent the hosts came to need, by that
   * parent (made for the first host that needs it; the list is a function of the parent alone)
   */
  withParent: Map<string, Requirement[]> | null;
}

/**
 * The static requirements of each candidate of a family, worked out once per run: a candidate
 * object stands for its payload and knowledge-base fact, the same for every host that selects it.
 */
export class RequirementTable {
  /** the family's minimum service pack: the same requirement of almost every candidate */
  private readonly servicePack: Requirement;
  /**
   * what most candidates of a fresh run share, worked out for every candidate a host reaches: the
   * service pack as the only fixed requirement (one list), SHA-2 support (one requirement), the
   * requirements of a candidate that has nothing else, or nothing else but SHA-2 support (one
   * object each: half a catalog's hotfixes are signed with SHA-2 only)
   */
  private readonly servicePackOnly: Requirement[];
  private readonly sha2: Requirement;
  private readonly servicePackAlone: StaticRequirements;
  private readonly servicePackAndSha2: StaticRequirements;

  constructor(private readonly family: KbFamily) {
    this.servicePack = requirement(family.minimumServicePackKb, { kind: 'service-pack', ntVersion: family.ntVersion, servicePack: family.minimumServicePack });
    this.servicePackOnly = [this.servicePack];
    this.sha2 = requirement(family.sha2SupportKb, null, true);
    this.servicePackAlone = { fixed: this.servicePackOnly, kbParents: null, sha2: null, all: this.servicePackOnly, withParent: null };
    this.servicePackAndSha2 = { fixed: this.servicePackOnly, kbParents: null, sha2: this.sha2, all: [this.servicePack, this.sha2], withParent: null };
  }

  of(c: Candidate): StaticRequirements {
    return (c.requirementsMemo ??= this.work(c));
  }

  private work(c: Candidate): StaticRequirements {
    const f = this.family;
    const needsServicePack = c.role !== 'service-pack' && c.kb !== f.minimumServicePackKb;
    const prerequisites = c.fact?.prerequisites ?? NONE;
    const esu = c.fact?.requiresEsu && f.esu ? esuPreparationFor(f, c.fact) : NONE;
    let fixed: Requirement[];
    if (prerequisites.length === 0 && esu.length === 0) fixed = needsServicePack ? this.servicePackOnly : NO_REQUIREMENTS;
    else {
      fixed = needsServicePack ? [this.servicePack] : [];
      for (const p of prerequisites) fixed.push(requirement(p.kb, { kind: 'prerequisite', source: p.source }, false, p.strength === 'recommended'));
      for (const prep of esu) if (!includesKb(fixed, prep)) fixed.push(requirement(prep, { kind: 'esu-preparation', source: f.esu!.source }));
    }
    // update.mum parents naming KB packages are alternatives: one of them must be present
    // (most parents are the service pack, already required: the list is made only when it adds)
    let named = false;
    let met = false;
    for (const parent of c.payload.parents) {
      if (parent.kb === null || parent.kb === c.kb) continue;
      named = true;
      if (includesKb(fixed, parent.kb)) met = true;
    }
    const addsParent = named && !met;
    const kbParents = addsParent ? c.payload.parents.map((p) => p.kb).filter((k): k is string => k !== null && k !== c.kb) : null;
    // the SHA-2 support package itself is what makes SHA-2 signatures acceptable; it cannot need itself
    const sha2 = c.sha2Only && c.kb !== f.sha2SupportKb ? this.sha2 : null;
    if (!addsParent && fixed === this.servicePackOnly) return sha2 === null ? this.servicePackAlone : this.servicePackAndSha2;
    return { fixed, kbParents: addsParent ? kbParents : null, sha2, all: addsParent ? null : sha2 ? (fixed.length === 0 ? [sha2] : [...fixed, sha2]) : fixed, withParent: addsParent ? new Map() : null };
  }
}

/** a requirement of `requirements` is on `kb` (a loop, not a closure per question: asked for most candidates of a run) */
function includesKb(requirements: readonly Requirement[], kb: string): boolean {
  for (const r of requirements) if (r.kb === kb) return true;
  return false;
}

/**
 * The payloads chosen for one host, each at its candidate's priority (setInstallOrder: distinct
 * small integers among the candidates of its kind of host), and in the order they were chosen.
 * An array by priority rather than a map by KB: a host chooses a thousand payloads or more, a map
 * that size would be built and grown for every host, and the scheduler reads them by priority.
 */
export class ChosenSet {
  private readonly byPriority: (Chosen | undefined)[];
  private inOrder = objectList<Chosen>();

  constructor(private readonly candidates: HostCandidates) {
    this.byPriority = new Array<Chosen | undefined>(candidates.priorities);
  }

  get size(): number {
    return this.inOrder.length;
  }

  /** the number of priorities: every chosen payload's is below it */
  get priorities(): number {
    return this.byPriority.length;
  }

  /** the chosen payload of candidate `c`, if it is chosen */
  of(c: Candidate): Chosen | undefined {
    return this.byPriority[c.priority];
  }

  /** the chosen payload at `priority`, if any */
  at(priority: number): Chosen | undefined {
    return this.byPriority[priority];
  }

  /** the chosen payload of `kb`, if it is chosen */
  get(kb: string): Chosen | undefined {
    const c = this.candidates.get(kb);
    return c === undefined ? undefined : this.byPriority[c.priority];
  }

  has(kb: string): boolean {
    return this.get(kb) !== undefined;
  }

  add(ch: Chosen): void {
    this.byPriority[ch.c.priority] = ch;
    this.inOrder.push(ch);
  }

  /** in the order they were chosen */
  values(): readonly Chosen[] {
    return this.inOrder;
  }

  /** takes out the chosen payloads of `kbs`; the rest keep their order */
  deleteAll(kbs: ReadonlySet<string>): void {
    const kept = objectList<Chosen>();
    for (const ch of this.inOrder) {
      if (kbs.has(ch.c.kb)) this.byPriority[ch.c.priority] = undefined;
      else kept.push(ch);
    }
    this.inOrder = kept;
  }
}

export class Resolver {
  readonly chosen: ChosenSet;
  /** KBs left out because a prerequisite is missing (or their ESU key is not activated) */
  readonly blocked = new Set<string>();
  /** ESU-era updates held back because the host reports its ESU key not activated */
  readonly esuHeld = new Set<string>();
  readonly rule: Supersedence;
  /** missing KB → need (by its JSON) → the need and the KBs that have it */
  private readonly missingBy = new Map<string, Map<string, { need: Need; neededBy: Set<string> }>>();
  private readonly goalExcluded = new Map<string, SkipCause>();
  private readonly installedIndex: ReplacementIndex;
  private readonly chosenIndex: ReplacementIndex;
  /** the blocked candidates, as they are blocked */
  private readonly blockedIndex: ReplacementIndex;
  /** installedReplacement of KBs the host has not installed, as asked */
  private readonly installedReplacements = new Map<string, string | null>();
  /** the requirements of the candidates whose requirements depend on the host (update.mum parents) */
  private readonly requirements = new Map<string, Requirement[]>();
  /** every KB a candidate's requirements lead to (itself included), for this host */
  private readonly reachable = new Map<string, string[]>();
  /** the candidates that can replace another update (chain members, explicit supersedence), in candidate order */
  private superseders: Candidate[] | null = null;

  constructor(
    readonly family: KbFamily,
    private readonly base: Baseline,
    readonly candidates: HostCandidates,
    private readonly host: HostInventory,
    private readonly notes: PlanNotes,
    private readonly table: RequirementTable = new RequirementTable(family),
  ) {
    this.rule = new Supersedence({
      roleOf: (kb) => this.candidates.get(kb)?.role ?? this.family.updates.get(kb)?.role ?? null,
      releasedOf: (kb) => this.candidates.get(kb)?.released ?? this.family.updates.get(kb)?.released ?? null,
      explicitOf: (kb) => this.family.updates.get(kb)?.supersedes ?? [],
    });
    this.chosen = new ChosenSet(candidates);
    this.installedIndex = this.rule.index();
    // (an installed KB is never a candidate of the host, so the rule knows of it only what the
    // knowledge base says: a KB it does not know adds nothing, and most of a host's hundreds are such)
    for (const kb of base.installed) if (family.updates.has(kb)) this.installedIndex.add(kb);
    this.chosenIndex = this.rule.index();
    this.blockedIndex = this.rule.index();
    // each ESU-era update needs the licence of its own ESU year: held back when the host reports that year's not activated
    if (host.esuLicence !== null) {
      for (const c of candidates.values()) if (c.fact?.requiresEsu && esuLicenceFor(host, family, c.fact) === 'not-activated') this.esuHeld.add(c.kb);
      for (const kb of this.esuHeld) this.block(kb);
    }
  }

  private block(kb: string): void {
    if (this.blocked.has(kb)) return;
    this.blocked.add(kb);
    if (!this.candidates.get(kb)!.inert) this.blockedIndex.add(kb);
  }

  /** The installed KB that is `kb` or replaces it, or null. */
  installedReplacement(kb: string): string | null {
    if (this.base.installed.has(kb)) return kb;
    // asked again and again for the same few requirements (SHA-2 support, the SSU): the installed set does not change
    let known = this.installedReplacements.get(kb);
    if (known === undefined) this.installedReplacements.set(kb, (known = this.installedIndex.replacementOf(kb)));
    return known;
  }

  /** installedReplacement of a candidate of this host (never itself installed) */
  private installedReplacementOf(c: Candidate): string | null {
    return c.inert ? null : this.installedReplacement(c.kb);
  }

  /** The planned KB that is `kb` or replaces it, or null. */
  plannedReplacement(kb: string): string | null {
    return this.chosen.has(kb) ? kb : this.chosenIndex.replacementOf(kb);
  }

  // ---- goal ---------------------------------------------------------------------------

  chooseRoots(goal: PlanGoal): void {
    const live: Candidate[] = [];
    for (const c of this.candidates.values()) if (this.installedReplacementOf(c) === null && !this.esuHeld.has(c.kb)) live.push(c);
    // the newest of a chain by the supersedence rule (dates, else KB numbers)
    const newest = (role: PayloadKind): Candidate | null => {
      let best: Candidate | null = null;
      for (const c of live) if (c.role === role && (best === null || this.rule.supersedes(c.kb, best.kb))) best = c;
      return best;
    };
    // a live candidate that another live candidate replaces (rollups, SSUs, explicit facts) is no goal of its own
    const liveIndex = this.rule.index();
    for (const c of live) if (!c.inert) liveIndex.add(c.kb);
    const replacedInCatalog = (c: Candidate): boolean => !c.inert && liveIndex.replacementOf(c.kb) !== null;
    // the roots by rank: SSUs first, so that a later prerequisite on an older SSU is met by the newest one
    // (ranks are a handful of small numbers; within a rank, the order they are found in)
    const byRank: Candidate[][] = [];
    const whyByRank: (readonly string[])[][] = [];
    const root = (c: Candidate, why: readonly string[]): void => {
      const r = rank(c);
      (byRank[r] ??= []).push(c);
      (whyByRank[r] ??= []).push(why);
    };
    const ssu = newest('servicing-stack');
    const ssuWhy = (c: Candidate): string => `newest servicing stack update in the catalog (${c.released ?? 'date unknown'})`;

    if (goal.kind === 'target') {
      // with explicit targets the newest SSU is only planned when a target needs it
      if (ssu && goal.kbs.includes(ssu.kb)) root(ssu, whyList(ssuWhy(ssu)));
      for (const t of goal.kbs) {
        const c = this.candidates.get(t);
        if (c && this.installedReplacement(t) === null && !this.esuHeld.has(t)) root(c, whyList('named with --target'));
        else if (this.esuHeld.has(t)) continue; // named by the ESU cause
        else if (this.base.installed.has(t)) this.notes.assumptions.push(`target ${t} is already installed`);
        else if (this.installedReplacement(t)) this.notes.assumptions.push(`target ${t} is replaced by installed ${this.installedReplacement(t)}`);
        else this.addMissing(t, { kind: 'target' }, null);
      }
    } else if (goal.kind === 'current') {
      if (ssu) root(ssu, whyList(ssuWhy(ssu)));
      const rollup = newest('monthly-rollup');
      if (rollup) root(rollup, whyList(`newest monthly rollup in the catalog (${rollup.released ?? 'date unknown'}); rollups are cumulative`));
      for (const c of live) {
        if (c === ssu || c === rollup) continue;
        if (c.role === 'rollup-preview') this.goalExcluded.set(c.kb, { kind: 'preview-optional' });
        else if (c.role === 'servicing-stack' || c.role === 'monthly-rollup') continue; // older members of a chain: superseded
        else if (c.role === 'security-only' && rollup && this.rule.supersedes(rollup.kb, c.kb)) continue;
        else if (c.role !== 'security-only' && replacedInCatalog(c)) continue;
        else root(c, applicableWhy(c.role));
      }
    } else {
      if (ssu) root(ssu, whyList(ssuWhy(ssu)));
      for (const c of live) {
        if (c === ssu) continue;
        if (c.role === 'monthly-rollup' || c.role === 'rollup-preview') this.goalExcluded.set(c.kb, { kind: 'security-only-goal' });
        else if (c.role === 'servicing-stack') continue;
        else if (c.role !== 'security-only' && replacedInCatalog(c)) continue;
        // security-only updates are not cumulative: every month's package is needed
        else root(c, c.role === 'security-only' ? whyList('security-only updates are not cumulative: each month is installed') : applicableWhy(c.role));
      }
    }
    for (let r = 0; r < byRank.length; r++) {
      const ranked = byRank[r];
      if (ranked === undefined) continue;
      const whys = whyByRank[r]!;
      for (let i = 0; i < ranked.length; i++) this.chooseRoot(ranked[i]!, whys[i]!);
    }
  }

  /** `c` as a root of the goal, for the reasons `why` (a shared list: whyList) */
  private chooseRoot(c: Candidate, why: readonly string[]): void {
    const ch = this.chosen.of(c);
    if (ch === undefined) this.add(c, why);
    else for (const w of why) if (!ch.why.includes(w)) ch.why = [...ch.why, w];
  }

  /** `c` as what meets a requirement of `neededBy` */
  private choose(c: Candidate, neededBy: string): Chosen {
    const ch = this.chosen.of(c) ?? this.add(c, NO_WHY);
    (ch.neededBy ??= new Set()).add(neededBy);
    return ch;
  }

  private add(c: Candidate, why: readonly string[]): Chosen {
    // arrays of their exact length: most hold one why and one or two deps, and an empty array grows to seventeen
    const ch: Chosen = { c, why, neededBy: null, standsFor: null, deps: NO_DEPS, requiresEsu: c.fact?.requiresEsu === true, resolved: false };
    this.chosen.add(ch);
    if (!c.inert) this.chosenIndex.add(c.kb);
    return ch;
  }

  // ---- prerequisites ------------------------------------------------------------------

  private requirementsOf(c: Candidate): Requirement[] {
    const fixed = this.table.of(c);
    if (fixed.all !== null) return fixed.all;
    let reqs = this.requirements.get(c.kb);
    if (reqs) return reqs;
    // of the alternatives, one the host has, or the plan can have (chosen payloads are candidates too)
    const kbParents = fixed.kbParents!;
    const present = kbParents.find((k) => this.installedReplacement(k) !== null || this.candidates.has(k));
    const parent = present ?? kbParents[0]!;
    // which parent is the host's choice; the list for that parent is the same for every host (the
    // table's, made once: nothing changes a requirement list after it is made)
    const withParent = fixed.withParent!;
    reqs = withParent.get(parent);
    if (reqs === undefined) {
      reqs = [...fixed.fixed, requirement(parent, { kind: 'mum-parent', parent: `Package_for_${parent}` })];
      if (fixed.sha2) reqs.push(fixed.sha2);
      withParent.set(parent, reqs);
    }
    this.requirements.set(c.kb, reqs);
    return reqs;
  }

  /** A static look over the requirement graph: could choosing `kb` lead back to something on `path`? */
  private reaches(kb: string, path: readonly string[]): boolean {
    for (const r of this.reachableFrom(kb)) if (path.includes(r)) return true;
    return false;
  }

  /**
   * `kb` and every KB its requirements lead to, through candidates, past what the host has
   * installed. Requirements only, not recommended orders: a recommended order is dropped when it
   * cannot be kept (resolve), so it must not make a requirement look unsatisfiable. When the
   * servicing stack update that is recommended before SHA-2 support needs SHA-2 support itself,
   * the order is what gives way, not the update (which was left out, and SHA-2 support, in the
   * catalog, reported missing).
   */
  private reachableFrom(kb: string): string[] {
    let out = this.reachable.get(kb);
    if (out) return out;
    const seen = new Set<string>();
    const visit = (k: string): void => {
      if (seen.has(k)) return;
      seen.add(k);
      const c = this.candidates.get(k);
      if (!c) return;
      for (const r of this.requirementsOf(c)) if (!r.recommended && this.installedReplacement(r.kb) === null) visit(r.kb);
    };
    visit(kb);
    out = [...seen];
    this.reachable.set(kb, out);
    return out;
  }

  closePrerequisites(): void {
    // one path for every root, a stack: resolve leaves it as it found it. A list, not a set: it
    // holds a few KBs (a satisfier is never on it already: canSatisfy), and a Set allocates a new
    // table whenever it is cleared or emptied, for each of a thousand roots of every host
    const path: string[] = [];
    // the roots: what resolve chooses on the way is resolved there
    const chosen = this.chosen.values();
    const roots = chosen.length;
    for (let i = 0; i < roots; i++) {
      const ch = chosen[i]!;
      path.push(ch.c.kb);
      this.resolve(ch, path);
      path.pop();
    }
    // anything whose requirement tree hit a missing KB cannot install: take it out of the plan
    let changed = this.blocked.size > 0;
    while (changed) {
      changed = false;
      for (const ch of this.chosen.values()) {
        if (this.blocked.has(ch.c.kb)) continue;
        if (ch.deps.some((d) => !d.recommended && this.blocked.has(d.kb))) {
          this.block(ch.c.kb);
          changed = true;
        }
      }
    }
    if (this.blocked.size === 0) return;
    this.chosen.deleteAll(this.blocked);
    // a recommended order onto something left out is no order at all
    for (const ch of this.chosen.values()) ch.deps = ch.deps.filter((d) => this.chosen.has(d.kb));
  }

  private resolve(ch: Chosen, path: string[]): void {
    if (ch.resolved || this.blocked.has(ch.c.kb)) return;
    ch.resolved = true;
    for (const req of this.requirementsOf(ch.c)) {
      // installed but perhaps not yet active (SHA-2 support awaiting its restart): the scheduler places the reboot
      if (this.installedReplacement(req.kb) !== null) continue;
      const satisfier = this.pickSatisfier(req.kb, path);
      if (!satisfier) {
        if (req.recommended) {
          const need = needOf(req, ch.c);
          const source = need.kind === 'prerequisite' ? need.source : 'knowledge base';
          // in the catalog and not held back, it failed only because it must itself wait for something on the path
          const waitsFor = this.candidates.has(req.kb) && !this.blocked.has(req.kb) ? this.reachableFrom(req.kb).find((k) => k !== req.kb && path.includes(k)) : undefined;
          this.notes.assumptions.push(waitsFor !== undefined
            ? `${req.kb} is recommended before ${ch.c.kb} (${source}), but here ${req.kb} must itself wait for ${waitsFor}, so that order is not kept`
            : `${req.kb} is recommended before ${ch.c.kb} (${source}); the catalog cannot supply it, so ${ch.c.kb} is planned without it`);
          continue;
        }
        // a catalog payload that would do but is itself waiting for something missing: that
        // something is what to fetch, not this one
        if (!this.isWaiting(req.kb)) this.addMissing(req.kb, needOf(req, ch.c), ch.c.kb);
        this.block(ch.c.kb);
        continue;
      }
      const dep = this.choose(satisfier, ch.c.kb);
      // lists are replaced, never added to: a one-element list is shared by every host (depOnly)
      const own = satisfier.kb === req.kb;
      const d = own ? req.dep : { kb: satisfier.kb, active: req.active, recommended: req.recommended };
      if (ch.deps.length === 0) ch.deps = own ? req.depOnly : [d];
      else ch.deps = [...ch.deps, d];
      if (satisfier.kb !== req.kb && !dep.standsFor?.has(req.kb)) (dep.standsFor ??= new Map()).set(req.kb, ch.c.kb);
      path.push(satisfier.kb);
      this.resolve(dep, path);
      path.pop();
    }
  }

  /** Is a catalog payload that is `kb` or replaces it held back (by a missing prerequisite or ESU)? */
  isWaiting(kb: string): boolean {
    // only candidates are ever blocked
    return this.blocked.has(kb) || this.blockedIndex.replacementOf(kb) !== null;
  }

  /**
   * Who satisfies a requirement on `kb`: a chosen payload that is `kb` or replaces it, else
   * `kb` itself from the catalog, else the newest catalog payload that replaces it — never one
   * whose own requirements lead back onto the current path (the newest SSU needs SHA-2 support,
   * which needs the April 2019 SSU: that one must be installed even though later SSUs exist).
   */
  private pickSatisfier(kb: string, path: readonly string[]): Candidate | null {
    const direct = this.chosen.get(kb);
    if (direct && this.canSatisfy(direct.c, path)) return direct.c;
    const newest = this.chosenIndex.replacementOf(kb);
    if (newest && this.canSatisfy(this.chosen.get(newest)!.c, path)) return this.chosen.get(newest)!.c;
    // the newest replacement leads back onto the path: an older chosen one may still do (rare)
    if (newest) for (const ch of this.chosen.values()) if (this.rule.supersedes(ch.c.kb, kb) && this.canSatisfy(ch.c, path)) return ch.c;
    const self = this.candidates.get(kb);
    if (self && this.canSatisfy(self, path)) return self;
    const ok = (c: Candidate): boolean => this.canSatisfy(c, path);
    this.superseders ??= [...this.candidates.values()].filter((c) => CHAIN_OF_ROLE[c.role] !== undefined || (c.fact?.supersedes.length ?? 0) > 0);
    const replacements = this.superseders
      .filter((c) => this.rule.supersedes(c.kb, kb) && ok(c))
      .sort((a, b) => compareText(b.released ?? '', a.released ?? ''));
    return replacements[0] ?? null;
  }

  /** `c` is not held back and its requirements do not lead back onto `path` */
  private canSatisfy(c: Candidate, path: readonly string[]): boolean {
    return !this.blocked.has(c.kb) && !this.reaches(c.kb, path);
  }

  addMissing(kb: string, need: Need, neededBy: string | null): void {
    let m = this.missingBy.get(kb);
    if (!m) {
      m = new Map();
      this.missingBy.set(kb, m);
    }
    const key = JSON.stringify(need);
    const entry = m.get(key) ?? { need, neededBy: new Set<string>() };
    if (neededBy) entry.neededBy.add(neededBy);
    m.set(key, entry);
  }

  // ---- what is not planned, and why ---------------------------------------------------

  /** The missing KBs with their causes; `skipped` supplies why the catalog's own copy does not apply. */
  missing(skipped: Skip[]): MissingCause[] {
    const out: MissingCause[] = [];
    if (this.missingBy.size === 0) return out;
    // the catalog's copies of each missing KB that do not apply, in one pass over the skips
    const copiesOf = new Map<string, Skip[]>();
    for (const s of skipped) {
      if (!this.missingBy.has(s.kb) || s.cause.kind === 'installed' || s.cause.kind === 'other-file' || s.cause.kind.startsWith('replaced-')) continue;
      const list = copiesOf.get(s.kb);
      if (list) list.push(s);
      else copiesOf.set(s.kb, [s]);
    }
    for (const [kb, needs] of this.missingBy) {
      const fact = this.family.updates.get(kb);
      // of the catalog's copies that do not apply, the one that says most (not the other architecture's)
      const copies = copiesOf.get(kb) ?? [];
      const copy = copies.find((s) => s.cause.kind !== 'arch-mismatch') ?? copies[0];
      out.push({
        kind: 'missing',
        kb,
        title: fact ? fact.title : null,
        copy: copy ? copy.cause : null,
        needs: [...needs.values()].map((n) => ({ need: n.need, neededBy: [...n.neededBy].sort() })),
        fileHint: this.hintFor(kb),
      });
    }
    return out.sort((a, b) => compareText(a.kb, b.kb));
  }

  /** Why each candidate that is not planned is left out. */
  unchosen(): Skip[] {
    const out: Skip[] = [];
    const finalIndex = this.rule.index();
    for (const ch of this.chosen.values()) if (!ch.c.inert) finalIndex.add(ch.c.kb);
    const blockedIndex = this.rule.index();
    for (const kb of this.blocked) if (!this.candidates.get(kb)!.inert) blockedIndex.add(kb);
    for (const c of this.candidates.values()) {
      if (this.chosen.of(c) !== undefined) continue;
      if (this.esuHeld.has(c.kb)) {
        out.push(skipOf(c.kb, { kind: 'esu-not-activated' }));
        continue;
      }
      if (this.blocked.has(c.kb)) continue;
      if (c.inert) {
        // replaced by nothing, installed or planned or waiting
        out.push(skipOf(c.kb, this.goalExcluded.get(c.kb) ?? { kind: 'not-needed' }));
        continue;
      }
      const replacedByInstalled = this.installedReplacement(c.kb);
      if (replacedByInstalled) {
        out.push(skipOf(c.kb, { kind: 'replaced-by-installed', by: replacedByInstalled }));
        continue;
      }
      const by = finalIndex.replacementOf(c.kb);
      if (by) {
        const b = this.chosen.get(by)!.c;
        out.push(skipOf(c.kb, { kind: 'replaced-by-planned', by, byRole: b.role, byReleased: b.released }));
        continue;
      }
      const byWaiting = blockedIndex.replacementOf(c.kb);
      if (byWaiting) {
        out.push(skipOf(c.kb, { kind: 'replaced-by-waiting', by: byWaiting }));
        continue;
      }
      out.push(skipOf(c.kb, this.goalExcluded.get(c.kb) ?? { kind: 'not-needed' }));
    }
    return out;
  }

  hintFor(kb: string): string {
    return fetchFileName(this.family, kb, ARCH_FILE[this.host.architecture ?? 'amd64']);
  }
}

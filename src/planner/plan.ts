import { internalError } from '../errors';
import type { Architecture, Payload, PayloadKind } from '../package/types';
import type { HostInventory, HostPlan, PlanGoal, SimulatedState } from './types';
import { familyForNtVersion, type KbFamily, type KbUpdateFact, type KnowledgeBase } from '../knowledge/knowledge-base';
import { compareDottedVersions } from '../package/assembly-version';

/**
 * planInstall: from what a host reports, the payloads in the catalog and the knowledge base,
 * the exact install sequence for one host. Pure: no I/O, no clock; the same inputs give the
 * same plan. The stages, each a small named function:
 *
 *   hostBaseline      what the host already has (installed KBs, service pack, SHA-2 state)
 *   selectCandidates  the payloads that apply to this host (family, product, architecture,
 *                     valid signature, update.mum parents); one file per KB
 *   chooseRoots       what the goal asks for (newest rollup + newest SSU, security-only, targets)
 *   closePrerequisites every requirement of every chosen payload, satisfied by the host, by a
 *                     chosen/candidate payload, or listed as missing
 *   schedule          a topological order with reboot barriers placed only where needed
 */

type Requirement =
  | { kind: 'kb'; kb: string; why: string }
  /** the payload is signed with SHA-2 only: SHA-2 code signing support must be installed AND active (rebooted) */
  | { kind: 'sha2-active'; kb: string; why: string };

interface Candidate {
  kb: string;
  payload: Payload;
  fact: KbUpdateFact | null;
  role: PayloadKind;
  released: string | null;
  restart: 'required' | 'possible' | 'never' | null;
}

interface Chosen {
  c: Candidate;
  /** why the goal asks for it ("newest monthly rollup …") */
  why: string[];
  /** the planned KBs that need it */
  neededBy: Set<string>;
  /** older KBs it stands in for as a prerequisite ("replaces KB4517134, which KB4520002 requires") */
  standsFor: Map<string, string>;
  /** resolved dependencies: the KB that satisfies each requirement, and whether it must be active (rebooted) first */
  deps: { kb: string; active: boolean; why: string }[];
}

interface Baseline {
  installed: Set<string>;
  servicePack: number | null;
  build: number | null;
  revision: number | null;
  sha2Installed: boolean;
  sha2Active: boolean;
  pendingReboot: boolean;
}

const CHAIN_ROLES: Record<string, 'ssu' | 'rollup' | undefined> = {
  'servicing-stack': 'ssu',
  'monthly-rollup': 'rollup',
  'rollup-preview': 'rollup',
};

/** Install order within a stage: the servicing stack first (Microsoft: "install the latest SSU before the rollup"), then SHA-2 support, … */
const ROLE_RANK: Partial<Record<PayloadKind, number>> = {
  'service-pack': 0,
  'servicing-stack': 1,
  'sha2-support': 2,
  'esu-preparation': 3,
  'monthly-rollup': 5,
  'rollup-preview': 5,
  'security-only': 6,
};

const ROLE_LABEL: Record<PayloadKind, string> = {
  'service-pack': 'service pack',
  'servicing-stack': 'servicing stack update',
  'sha2-support': 'SHA-2 code signing support',
  'monthly-rollup': 'monthly rollup',
  'rollup-preview': 'preview of monthly rollup',
  'security-only': 'security-only update',
  'esu-preparation': 'ESU licensing preparation package',
  hotfix: 'hotfix',
  update: 'update',
  'security-update': 'security update',
  other: 'update',
};

export function planInstall(host: HostInventory, payloads: Payload[], kb: KnowledgeBase, goal: PlanGoal): HostPlan {
  const plan: HostPlan = { host: host.name, complete: true, steps: [], missing: [], skipped: [], assumptions: [] };
  const family = resolveFamily(host, kb, plan);
  if (!family) {
    plan.complete = false;
    return plan;
  }
  const base = hostBaseline(host, family, payloads, plan);
  const candidates = selectCandidates(host, payloads, family, base, plan);
  const ctx = new PlanContext(family, base, candidates, plan, host.architecture);
  ctx.chooseRoots(goal);
  ctx.closePrerequisites();
  ctx.reportUnchosen();
  ctx.schedule(host);
  // a plan that silently left out every architecture-specific payload is not a complete plan
  const blindToArch = host.architecture === null && plan.skipped.some((s) => s.reason === 'not-applicable' && /architecture is not reported/.test(s.detail ?? ''));
  plan.complete = plan.missing.length === 0 && !blindToArch;
  return plan;
}

function resolveFamily(host: HostInventory, kb: KnowledgeBase, plan: HostPlan): KbFamily | null {
  if (host.ntVersion !== null) {
    const f = familyForNtVersion(kb, host.ntVersion);
    if (!f) plan.assumptions.push(`the knowledge base has no facts for NT ${host.ntVersion}; nothing can be planned for this host`);
    return f;
  }
  // only an installed-update list: the KBs it names may identify the family
  const matches = kb.families.filter((f) => host.installed.some((k) => f.updates.has(k) && !kb.families.some((g) => g !== f && g.updates.has(k))));
  if (matches.length === 1) {
    plan.assumptions.push(`NT version not reported; assumed ${matches[0].ntVersion} because installed updates are ${matches[0].family} updates`);
    return matches[0];
  }
  plan.assumptions.push('NT version not reported and not inferable from the installed updates; add systeminfo output for this host');
  return null;
}

interface StackVersion {
  version: string;
  /** where the version comes from, for the plan's assumptions */
  from: string;
}

/**
 * The servicing stack version each SSU brings: from the payload's own signed package manifests where the
 * catalog holds it (for this host's architecture), else from the knowledge base.
 */
function servicingStackVersions(host: HostInventory, payloads: Payload[], family: KbFamily): Map<string, StackVersion> {
  const versions = new Map<string, StackVersion>();
  for (const p of payloads) {
    if (p.ntVersion !== family.ntVersion || !p.servicingStackVersion || versions.has(p.kb)) continue;
    // only a servicing stack update is wholly present when the stack is: a package that also carries
    // stack files (a SHA-2 update, say) brings other components too
    if ((family.updates.get(p.kb)?.role ?? p.kind) !== 'servicing-stack') continue;
    if (host.architecture !== null && p.architecture !== host.architecture && p.architecture !== 'neutral') continue;
    versions.set(p.kb, { version: p.servicingStackVersion, from: `the signed package manifests of ${p.fileName}` });
  }
  for (const f of family.updates.values()) {
    if (f.servicingStackVersion !== null && !versions.has(f.kb)) versions.set(f.kb, { version: f.servicingStackVersion, from: 'the knowledge base' });
  }
  return versions;
}

function hostBaseline(host: HostInventory, family: KbFamily, payloads: Payload[], plan: HostPlan): Baseline {
  const installed = new Set(host.installed);
  let servicePack = host.servicePack;
  if (servicePack === null) {
    if (installed.has(family.minimumServicePackKb)) servicePack = family.minimumServicePack;
    else {
      servicePack = family.minimumServicePack;
      plan.assumptions.push(`service pack level not reported; assumed service pack ${family.minimumServicePack} (${family.minimumServicePackKb})`);
    }
  }
  // a service pack never shows in the hotfix list: the reported level stands for its KB
  for (const f of family.updates.values()) if (f.bringsServicePack !== null && f.bringsServicePack <= servicePack) installed.add(f.kb);
  // the servicing stack's own version stands for the SSU that brought it, even if the hotfix list misses it
  if (host.servicingStackVersion !== null) {
    for (const [kb, ssu] of servicingStackVersions(host, payloads, family)) {
      if (installed.has(kb)) continue;
      if (compareDottedVersions(host.servicingStackVersion, ssu.version) >= 0) {
        installed.add(kb);
        plan.assumptions.push(`${kb} counted as installed: the servicing stack reports version ${host.servicingStackVersion}, and ${kb} brings ${ssu.version} (from ${ssu.from})`);
      }
    }
  }
  // the SHA-2 registry values are written by the SHA-2 support update itself
  if (host.sha2CodeSigning === true && !installed.has(family.sha2SupportKb)) {
    installed.add(family.sha2SupportKb);
    plan.assumptions.push(`${family.sha2SupportKb} counted as installed: the host reports SHA-2 code signing support active`);
  }
  let build = host.build;
  if (build === null) {
    const spBuild = family.updates.get(family.minimumServicePackKb)?.setsBuild ?? null;
    const known = [...installed].map((k) => family.updates.get(k)?.setsBuild ?? null).filter((b): b is number => b !== null);
    build = known.length > 0 ? Math.max(...known) : spBuild;
    if (build !== null) plan.assumptions.push(`build not reported; assumed ${build} from the service pack and installed updates`);
  }
  const sha2Installed = installed.has(family.sha2SupportKb);
  let sha2Active = false;
  if (sha2Installed) {
    if (host.sha2CodeSigning === true) sha2Active = true;
    else if (host.sha2CodeSigning === false || host.pendingReboot === true) sha2Active = false;
    else {
      sha2Active = true;
      plan.assumptions.push(`${family.sha2SupportKb} is installed and the inventory does not say whether a restart is pending; assumed the host has restarted since, so SHA-2 code signing support is active`);
    }
  }
  if (host.pendingReboot === null) plan.assumptions.push('pending-reboot state not reported; assumed no restart is pending');
  if (host.architecture === null) plan.assumptions.push('architecture not reported: only architecture-neutral payloads can be planned; add systeminfo output for this host');
  if (host.product === null) plan.assumptions.push(`product not reported; assumed any ${family.products.join(' / ')} edition`);
  const pendingReboot = host.pendingReboot === true || (sha2Installed && !sha2Active);
  return { installed, servicePack, build, revision: host.revision, sha2Installed, sha2Active, pendingReboot };
}

const ARCH_FILE: Record<Architecture, string> = { x86: 'x86', amd64: 'x64', ia64: 'ia64', arm64: 'arm64', neutral: 'neutral' };

function selectCandidates(host: HostInventory, payloads: Payload[], family: KbFamily, base: Baseline, plan: HostPlan): Map<string, Candidate> {
  const byKb = new Map<string, Candidate>();
  const reportedInstalled = new Set<string>();
  const skip = (kb: string, reason: 'installed' | 'superseded' | 'not-applicable', detail: string): void => {
    plan.skipped.push({ kb, reason, detail });
  };
  for (const p of payloads) {
    // payloads of other families are not this host's business: not even worth a "skipped" line
    if (p.ntVersion !== family.ntVersion) continue;
    const fact = family.updates.get(p.kb) ?? null;
    const notApplicable = whyNotApplicable(host, p, fact, family);
    if (notApplicable) {
      skip(p.kb, 'not-applicable', `${p.fileName}: ${notApplicable}`);
      continue;
    }
    if (base.installed.has(p.kb)) {
      if (!reportedInstalled.has(p.kb)) skip(p.kb, 'installed', 'the host reports it installed');
      reportedInstalled.add(p.kb);
      continue;
    }
    const cand: Candidate = {
      kb: p.kb,
      payload: p,
      fact,
      role: fact?.role ?? p.kind,
      released: fact?.released ?? null,
      restart: normaliseRestart(p.restart) ?? fact?.restart ?? null,
    };
    const prev = byKb.get(p.kb);
    if (!prev) {
      byKb.set(p.kb, cand);
      continue;
    }
    const [keep, drop] = preferFile(prev, cand);
    byKb.set(p.kb, keep);
    skip(p.kb, 'superseded', `${drop.payload.fileName}: another file of ${p.kb} (${keep.payload.fileName}) is planned instead`);
  }
  for (const c of byKb.values()) {
    if (!c.fact) {
      const chain = CHAIN_ROLES[c.role] ? `; it is ordered among the ${c.role === 'servicing-stack' ? 'servicing stack updates' : 'rollups'} by its KB number` : '; it supersedes nothing';
      plan.assumptions.push(`${c.kb} is not in the knowledge base: its role (${c.role}) and restart behaviour come from its own metadata${chain}`);
    }
    if (c.kb === family.sha2SupportKb && c.payload.signatures === 'sha2-only' && !base.sha2Active) {
      plan.assumptions.push(`${c.payload.fileName} (SHA-2 code signing support) is itself signed with SHA-2 only; planned on the assumption that the host accepts it; if wusa refuses it, fetch a dual-signed (SHA-1 + SHA-2) release of ${c.kb}`);
    }
    if (c.payload.metadataVerified === false) plan.assumptions.push(`${c.kb}: its update.mum was not verified against its signed catalog (${c.payload.metadataReason ?? 'no reason given'}); its metadata is trusted as read`);
  }
  return byKb;
}

function normaliseRestart(r: string | null): 'required' | 'possible' | 'never' | null {
  if (r === null) return null;
  const s = r.toLowerCase();
  return s === 'required' || s === 'possible' || s === 'never' ? s : null;
}

/** Several files for one KB (v2, v4 …): the one the knowledge base names, else the highest -vN, else the first. */
function preferFile(a: Candidate, b: Candidate): [Candidate, Candidate] {
  const hint = a.fact?.fileHint ?? null;
  if (hint) {
    const want = (c: Candidate): boolean => c.payload.fileName.toLowerCase() === hint.replace('{arch}', ARCH_FILE[c.payload.architecture]).toLowerCase();
    if (want(a) !== want(b)) return want(a) ? [a, b] : [b, a];
  }
  const rev = (c: Candidate): number => Number(/-v(\d+)-/i.exec(c.payload.fileName)?.[1] ?? 1);
  return rev(b) > rev(a) ? [b, a] : [a, b];
}

function whyNotApplicable(host: HostInventory, p: Payload, fact: KbUpdateFact | null, family: KbFamily): string | null {
  if (p.signatures === 'invalid' || p.signatures === 'unsigned') return `it has no valid signature (${p.signatures}); cabferry never plans an unverified payload`;
  if (p.architecture !== 'neutral') {
    if (host.architecture === null) return `built for ${p.architecture} and the host's architecture is not reported`;
    if (p.architecture !== host.architecture) return `built for ${p.architecture}; the host is ${host.architecture}`;
  }
  if (host.product !== null) {
    const products = p.products && p.products.length > 0 ? p.products : [p.product];
    const familyProducts = products.filter((x) => family.products.includes(x));
    // payload metadata that names no product we know of (e.g. "Windows 6.0") applies to the whole family
    if (familyProducts.length > 0 && !familyProducts.includes(host.product)) return `for ${familyProducts.join(', ')}, not ${host.product}`;
    if (fact?.products && !fact.products.includes(host.product)) return `${fact.kb} applies to ${fact.products.join(', ')} only (${fact.source})`;
  }
  for (const parent of p.parents) {
    if (parent.kb !== null) continue;
    // a non-KB parent (e.g. a foundation package) must at least belong to this NT version
    const v = parent.identity.version ? /^(\d+)\.(\d+)\./.exec(parent.identity.version) : null;
    if (v && `${v[1]}.${v[2]}` !== family.ntVersion) return `its parent package ${parent.identity.name} ${parent.identity.version} is not NT ${family.ntVersion}`;
  }
  return null;
}

/**
 * Which member of a set of KBs replaces a given KB, in O(1): the newest of each chain (SSUs;
 * rollups and previews), a rollup for older security-only updates, and explicit facts. Same
 * rules as PlanContext.supersedes, indexed for catalogs of thousands of payloads.
 */
class ReplacementIndex {
  /** per chain: the newest member by release date, the newest undated member by KB number, the highest KB number */
  private readonly newestDated = new Map<'ssu' | 'rollup', { kb: string; released: string }>();
  private readonly newestUndated = new Map<'ssu' | 'rollup', string>();
  private readonly highest = new Map<'ssu' | 'rollup', string>();
  private readonly explicit = new Map<string, string>();

  constructor(
    private readonly roleOf: (kb: string) => PayloadKind | null,
    private readonly releasedOf: (kb: string) => string | null,
    private readonly explicitOf: (kb: string) => readonly string[],
  ) {}

  add(kb: string): void {
    for (const older of this.explicitOf(kb)) this.explicit.set(older, kb);
    const role = this.roleOf(kb);
    const chain = role ? CHAIN_ROLES[role] : undefined;
    if (!chain) return;
    const released = this.releasedOf(kb);
    const hi = this.highest.get(chain);
    if (!hi || kbNumber(kb) > kbNumber(hi)) this.highest.set(chain, kb);
    if (released) {
      const cur = this.newestDated.get(chain);
      if (!cur || released > cur.released) this.newestDated.set(chain, { kb, released });
    } else {
      const cur = this.newestUndated.get(chain);
      if (!cur || kbNumber(kb) > kbNumber(cur)) this.newestUndated.set(chain, kb);
    }
  }

  replacementOf(kb: string): string | null {
    const e = this.explicit.get(kb);
    if (e) return e;
    const role = this.roleOf(kb);
    if (!role) return null;
    const released = this.releasedOf(kb);
    const chain = CHAIN_ROLES[role];
    if (chain) {
      // same order as PlanContext.supersedes: dates when both are known, else KB numbers
      if (!released) {
        const hi = this.highest.get(chain);
        return hi && kbNumber(hi) > kbNumber(kb) ? hi : null;
      }
      const dated = this.newestDated.get(chain);
      if (dated && dated.released > released) return dated.kb;
      const undated = this.newestUndated.get(chain);
      return undated && kbNumber(undated) > kbNumber(kb) ? undated : null;
    }
    if (role === 'security-only') {
      if (!released) {
        const hi = this.highest.get('rollup');
        return hi && kbNumber(hi) > kbNumber(kb) ? hi : null;
      }
      const dated = this.newestDated.get('rollup');
      if (dated && dated.released >= released) return dated.kb;
      const undated = this.newestUndated.get('rollup');
      return undated && kbNumber(undated) > kbNumber(kb) ? undated : null;
    }
    return null;
  }
}

/** "KB4520002" → 4520002: Microsoft numbers KB articles in sequence, the fallback order of undated chain members. */
function kbNumber(kb: string): number {
  return Number(kb.slice(2));
}

class PlanContext {
  private readonly chosen = new Map<string, Chosen>();
  /** missing KB → why it is needed → the KBs that need it for that reason */
  private readonly missingBy = new Map<string, Map<string, Set<string>>>();
  /** KBs left out of the plan because a prerequisite is missing */
  private readonly blocked = new Set<string>();
  private readonly goalExcluded = new Map<string, string>();
  private readonly resolved = new Set<string>();
  private readonly installedIndex: ReplacementIndex;
  private readonly chosenIndex: ReplacementIndex;

  constructor(
    private readonly family: KbFamily,
    private readonly base: Baseline,
    private readonly candidates: Map<string, Candidate>,
    private readonly plan: HostPlan,
    private readonly hostArch: Architecture | null,
  ) {
    this.installedIndex = this.newIndex();
    for (const kb of base.installed) this.installedIndex.add(kb);
    this.chosenIndex = this.newIndex();
  }

  private newIndex(): ReplacementIndex {
    return new ReplacementIndex(
      (kb) => this.roleOf(kb),
      (kb) => this.releasedOf(kb),
      (kb) => this.family.updates.get(kb)?.supersedes ?? [],
    );
  }

  // ---- supersedence -------------------------------------------------------------------

  private roleOf(kb: string): PayloadKind | null {
    return this.candidates.get(kb)?.role ?? this.family.updates.get(kb)?.role ?? null;
  }

  private releasedOf(kb: string): string | null {
    return this.candidates.get(kb)?.released ?? this.family.updates.get(kb)?.released ?? null;
  }

  /** Does `newer` replace `older`? Rollups are cumulative, each SSU replaces the earlier ones, and explicit facts. */
  supersedes(newer: string, older: string): boolean {
    if (newer === older) return false;
    if (this.family.updates.get(newer)?.supersedes.includes(older)) return true;
    const rn = this.roleOf(newer);
    const ro = this.roleOf(older);
    const dn = this.releasedOf(newer);
    const dOld = this.releasedOf(older);
    if (!rn || !ro) return false;
    const cn = CHAIN_ROLES[rn];
    // within a chain an update the knowledge base does not date is placed by its KB number
    if (cn && cn === CHAIN_ROLES[ro]) return dn && dOld ? dn > dOld : kbNumber(newer) > kbNumber(older);
    // a monthly rollup (or its preview) carries the security fixes of its month and every earlier one; undated, the
    // KB number errs on the safe side (a month's security-only update is numbered after its rollup: both get installed)
    if (cn === 'rollup' && ro === 'security-only') return dn && dOld ? dn >= dOld : kbNumber(newer) > kbNumber(older);
    return false;
  }

  private installedReplacement(kb: string): string | null {
    return this.base.installed.has(kb) ? kb : this.installedIndex.replacementOf(kb);
  }

  // ---- goal ---------------------------------------------------------------------------

  chooseRoots(goal: PlanGoal): void {
    const live = [...this.candidates.values()].filter((c) => this.installedReplacement(c.kb) === null);
    // the newest of a chain by the same order supersedence uses (dates, else KB numbers)
    const newest = (role: PayloadKind): Candidate | null =>
      live.filter((c) => c.role === role).reduce<Candidate | null>((best, c) => (best === null || this.supersedes(c.kb, best.kb) ? c : best), null);
    // a live candidate that another live candidate replaces (rollups, SSUs, explicit facts) is no goal of its own
    const liveIndex = this.newIndex();
    for (const c of live) liveIndex.add(c.kb);
    const replacedInCatalog = (c: Candidate): boolean => liveIndex.replacementOf(c.kb) !== null;
    const roots: { c: Candidate; why: string }[] = [];
    const ssu = newest('servicing-stack');
    if (ssu) roots.push({ c: ssu, why: `newest servicing stack update in the catalog (${ssu.released ?? 'date unknown'})` });

    if (goal.kind === 'target') {
      for (const t of goal.kbs) {
        const c = this.candidates.get(t);
        if (c && this.installedReplacement(t) === null) roots.push({ c, why: 'named with --target' });
        else if (this.base.installed.has(t)) this.plan.assumptions.push(`target ${t} is already installed`);
        else if (this.installedReplacement(t)) this.plan.assumptions.push(`target ${t} is replaced by installed ${this.installedReplacement(t)}`);
        else this.addMissing(t, 'named with --target', null);
      }
      // with explicit targets the newest SSU is only planned when a target needs it
      if (ssu && !goal.kbs.includes(ssu.kb)) roots.shift();
    } else if (goal.kind === 'current') {
      const rollup = newest('monthly-rollup');
      if (rollup) roots.push({ c: rollup, why: `newest monthly rollup in the catalog (${rollup.released ?? 'date unknown'}); rollups are cumulative` });
      for (const c of live) {
        if (c === ssu || c === rollup) continue;
        if (c.role === 'rollup-preview') this.goalExcluded.set(c.kb, 'a preview rollup is optional; name it with --target to install it');
        else if (c.role === 'servicing-stack' || c.role === 'monthly-rollup') continue; // older members of a chain: superseded
        else if (c.role === 'security-only' && rollup && this.supersedes(rollup.kb, c.kb)) continue;
        else if (c.role !== 'security-only' && replacedInCatalog(c)) continue;
        else roots.push({ c, why: `applicable ${ROLE_LABEL[c.role]} not yet installed` });
      }
    } else {
      for (const c of live) {
        if (c === ssu) continue;
        if (c.role === 'monthly-rollup' || c.role === 'rollup-preview') this.goalExcluded.set(c.kb, '--security-only: rollups are not installed');
        else if (c.role === 'servicing-stack') continue;
        else if (c.role !== 'security-only' && replacedInCatalog(c)) continue;
        // security-only updates are not cumulative: every month's package is needed
        else roots.push({ c, why: c.role === 'security-only' ? 'security-only updates are not cumulative: each month is installed' : `applicable ${ROLE_LABEL[c.role]} not yet installed` });
      }
    }
    // SSUs first, so that a later prerequisite on an older SSU is met by the newest one
    roots.sort((a, b) => rank(a.c) - rank(b.c));
    for (const r of roots) this.choose(r.c, r.why);
  }

  private choose(c: Candidate, why: string | null, neededBy?: string): Chosen {
    let ch = this.chosen.get(c.kb);
    if (!ch) {
      ch = { c, why: [], neededBy: new Set(), standsFor: new Map(), deps: [] };
      this.chosen.set(c.kb, ch);
      this.chosenIndex.add(c.kb);
    }
    if (why !== null && !ch.why.includes(why)) ch.why.push(why);
    if (neededBy !== undefined) ch.neededBy.add(neededBy);
    return ch;
  }

  // ---- prerequisites ------------------------------------------------------------------

  private requirementsOf(c: Candidate): Requirement[] {
    const reqs: Requirement[] = [];
    const f = this.family;
    if (c.role !== 'service-pack' && c.kb !== f.minimumServicePackKb) {
      reqs.push({ kind: 'kb', kb: f.minimumServicePackKb, why: `updates for NT ${f.ntVersion} apply from service pack ${f.minimumServicePack} on` });
    }
    for (const p of c.fact?.prerequisites ?? []) reqs.push({ kind: 'kb', kb: p.kb, why: p.source });
    // update.mum parents naming KB packages are alternatives: one of them must be present
    const kbParents = c.payload.parents.map((p) => p.kb).filter((k): k is string => k !== null && k !== c.kb);
    if (kbParents.length > 0 && !kbParents.some((k) => reqs.some((r) => r.kb === k))) {
      const present = kbParents.find((k) => this.installedReplacement(k) !== null || this.chosen.has(k) || this.candidates.has(k));
      reqs.push({ kind: 'kb', kb: present ?? kbParents[0], why: `update.mum names Package_for_${present ?? kbParents[0]} as its parent` });
    }
    // the SHA-2 support package itself is what makes SHA-2 signatures acceptable; it cannot need itself
    if (c.payload.signatures === 'sha2-only' && c.kb !== f.sha2SupportKb) {
      reqs.push({ kind: 'sha2-active', kb: f.sha2SupportKb, why: `${c.kb} is signed with SHA-2 only (its verified signature), so SHA-2 code signing support must be installed and the host restarted` });
    }
    return reqs;
  }

  /** A static look over the requirement graph: could choosing `kb` lead back to something on `path`? */
  private reaches(kb: string, path: Set<string>, seen = new Set<string>()): boolean {
    if (path.has(kb)) return true;
    if (seen.has(kb)) return false;
    seen.add(kb);
    const c = this.candidates.get(kb);
    if (!c) return false;
    for (const r of this.requirementsOf(c)) {
      if (this.installedReplacement(r.kb) !== null) continue;
      if (this.reaches(r.kb, path, seen)) return true;
    }
    return false;
  }

  closePrerequisites(): void {
    for (const ch of [...this.chosen.values()]) this.resolve(ch, new Set([ch.c.kb]));
    // anything whose requirement tree hit a missing KB cannot install: take it out of the plan
    let changed = true;
    while (changed) {
      changed = false;
      for (const ch of this.chosen.values()) {
        if (this.blocked.has(ch.c.kb)) continue;
        if (ch.deps.some((d) => this.blocked.has(d.kb))) {
          this.blocked.add(ch.c.kb);
          changed = true;
        }
      }
    }
    for (const kb of this.blocked) this.chosen.delete(kb);
  }

  private resolve(ch: Chosen, path: Set<string>): void {
    if (this.resolved.has(ch.c.kb) || this.blocked.has(ch.c.kb)) return;
    this.resolved.add(ch.c.kb);
    for (const req of this.requirementsOf(ch.c)) {
      const active = req.kind === 'sha2-active';
      if (this.installedReplacement(req.kb) !== null) {
        // installed but not yet active (SHA-2 support awaiting its restart): the scheduler places the reboot
        continue;
      }
      const satisfier = this.pickSatisfier(req.kb, path);
      if (!satisfier) {
        // a catalog payload that would do but is itself waiting for something missing: that
        // something is what to fetch, not this one
        const waiting = [...this.candidates.values()].some((c) => (c.kb === req.kb || this.supersedes(c.kb, req.kb)) && this.blocked.has(c.kb));
        if (!waiting) this.addMissing(req.kb, req.why, ch.c.kb);
        this.blocked.add(ch.c.kb);
        continue;
      }
      const dep = this.choose(satisfier, null, ch.c.kb);
      ch.deps.push({ kb: satisfier.kb, active, why: req.why });
      if (satisfier.kb !== req.kb && !dep.standsFor.has(req.kb)) dep.standsFor.set(req.kb, ch.c.kb);
      path.add(satisfier.kb);
      this.resolve(dep, path);
      path.delete(satisfier.kb);
    }
  }

  /**
   * Who satisfies a requirement on `kb`: a chosen payload that is `kb` or replaces it, else
   * `kb` itself from the catalog, else the newest catalog payload that replaces it — never one
   * whose own requirements lead back onto the current path (the newest SSU needs SHA-2 support,
   * which needs the April 2019 SSU: that one must be installed even though later SSUs exist).
   */
  private pickSatisfier(kb: string, path: Set<string>): Candidate | null {
    const ok = (c: Candidate): boolean => !this.blocked.has(c.kb) && !this.reaches(c.kb, path);
    const direct = this.chosen.get(kb);
    if (direct && ok(direct.c)) return direct.c;
    const newest = this.chosenIndex.replacementOf(kb);
    if (newest && ok(this.chosen.get(newest)!.c)) return this.chosen.get(newest)!.c;
    // the newest replacement leads back onto the path: an older chosen one may still do (rare)
    if (newest) for (const ch of this.chosen.values()) if (this.supersedes(ch.c.kb, kb) && ok(ch.c)) return ch.c;
    const self = this.candidates.get(kb);
    if (self && ok(self)) return self;
    const replacements = [...this.candidates.values()]
      .filter((c) => this.supersedes(c.kb, kb) && ok(c))
      .sort((a, b) => compareText(b.released ?? '', a.released ?? ''));
    return replacements[0] ?? null;
  }

  private addMissing(kb: string, why: string, neededBy: string | null): void {
    let m = this.missingBy.get(kb);
    if (!m) {
      m = new Map();
      this.missingBy.set(kb, m);
    }
    const needers = m.get(why) ?? new Set<string>();
    if (neededBy) needers.add(neededBy);
    m.set(why, needers);
  }

  // ---- what is not planned, and why ---------------------------------------------------

  reportUnchosen(): void {
    for (const [kb, reasons] of this.missingBy) {
      const fact = this.family.updates.get(kb);
      // of the catalog's copies that do not apply, the one that says most (not the other architecture's)
      const copies = this.plan.skipped.filter((s) => s.kb === kb && s.reason === 'not-applicable');
      const copy = copies.find((s) => !/ built for /.test(s.detail ?? '')) ?? copies[0];
      const why = copy ? `the catalog's copy does not apply (${copy.detail})` : 'not in the catalog';
      const needs = [...reasons].map(([reason, needers]) => (needers.size > 0 ? `needed by ${[...needers].sort().join(', ')}: ${reason}` : reason));
      const hint = this.hintFor(kb);
      this.plan.missing.push({ kb, reason: `${fact ? fact.title : kb}: ${why}; ${needs.join('; ')}; fetch ${hint}`, fileHint: hint });
    }
    const finalIndex = this.newIndex();
    for (const kb of this.chosen.keys()) finalIndex.add(kb);
    const blockedIndex = this.newIndex();
    for (const kb of this.blocked) blockedIndex.add(kb);
    for (const c of this.candidates.values()) {
      if (this.chosen.has(c.kb)) continue;
      if (this.blocked.has(c.kb)) continue;
      const replacedByInstalled = this.installedReplacement(c.kb);
      if (replacedByInstalled) {
        this.plan.skipped.push({ kb: c.kb, reason: 'superseded', detail: `replaced by ${replacedByInstalled}, which the host has installed` });
        continue;
      }
      const by = finalIndex.replacementOf(c.kb);
      if (by) {
        const b = this.chosen.get(by)!.c;
        this.plan.skipped.push({ kb: c.kb, reason: 'superseded', detail: `replaced by ${by} (${ROLE_LABEL[b.role]}, ${b.released ?? 'date unknown'}), which this plan installs` });
        continue;
      }
      const byWaiting = blockedIndex.replacementOf(c.kb);
      if (byWaiting) {
        this.plan.skipped.push({ kb: c.kb, reason: 'superseded', detail: `replaced by ${byWaiting}, which waits for a missing prerequisite (see missing)` });
        continue;
      }
      const excluded = this.goalExcluded.get(c.kb);
      this.plan.skipped.push({ kb: c.kb, reason: 'not-applicable', detail: excluded ?? 'not needed for the goal' });
    }
    this.plan.missing.sort((a, b) => compareText(a.kb, b.kb));
  }

  private hintFor(kb: string): string {
    const arch = this.hostArch ?? 'amd64';
    const a = ARCH_FILE[arch];
    const hint = this.family.updates.get(kb)?.fileHint;
    return hint ? hint.replace('{arch}', a) : `${this.family.filePrefix}-${kb}-${a}.msu`;
  }


  // ---- order and reboots --------------------------------------------------------------

  schedule(host: HostInventory): void {
    const b = this.base;
    const state: SimulatedState = {
      build: b.build,
      revision: b.revision,
      servicingStackVersion: host.servicingStackVersion,
      servicingStackKb: null,
      sha2Active: b.sha2Active,
      rebootPending: b.pendingReboot,
      servicePack: b.servicePack,
    };
    this.plan.initialState = { ...state };
    let sha2Installed = b.sha2Installed;
    /** the stage (restart-delimited) in which each planned KB installs */
    const stageOf = new Map<string, number>();
    let stage = 0;
    /** installed since the last restart */
    let sinceReboot: Candidate[] = [];
    const steps = this.plan.steps;

    const reboot = (reason: string): void => {
      state.rebootPending = false;
      state.sha2Active = sha2Installed;
      sinceReboot = [];
      stage++;
      steps.push({ n: steps.length + 1, action: 'reboot', kb: null, file: null, sha256: null, kind: 'reboot', reason, stateAfter: { ...state } });
    };

    if (this.chosen.size > 0 && b.pendingReboot) {
      const why = b.sha2Installed && !b.sha2Active
        ? `${this.family.sha2SupportKb} (SHA-2 code signing support) is installed but the host has not restarted since; it becomes active only after a restart`
        : 'the host reports a pending restart; servicing refuses new packages until it restarts';
      reboot(`restart first: ${why}`);
    }

    /** null when it can install now; else why not (a reason that a restart cures, or null when only more installs help) */
    const blocker = (ch: Chosen): { needsReboot: string | null } | null => {
      for (const d of ch.deps) {
        if (stageOf.get(d.kb) !== stage) continue;
        const dep = this.chosen.get(d.kb)!.c;
        // the SHA-2 reason first: it is the one an admin must not get wrong
        if (d.active) return { needsReboot: `${ch.c.kb} is signed with SHA-2 only; ${dep.kb} (SHA-2 code signing support) takes effect after a restart` };
        if (dep.restart === 'required') return { needsReboot: `${dep.kb} requires a restart before ${ch.c.kb} can install` };
      }
      if (ch.c.payload.signatures === 'sha2-only' && ch.c.kb !== this.family.sha2SupportKb && !state.sha2Active) {
        return { needsReboot: sha2Installed ? `${ch.c.kb} is signed with SHA-2 only; ${this.family.sha2SupportKb} (SHA-2 code signing support) takes effect after a restart` : null };
      }
      // a service pack installs alone: nothing may be pending beneath it
      if (ch.c.role === 'service-pack' && sinceReboot.length > 0) return { needsReboot: `${ch.c.kb} (service pack) installs on a freshly restarted host` };
      return null;
    };

    // Kahn's algorithm over the dependency graph; among the installable, the heap's order:
    // restart-required payloads last in a stage, then role (SSU first), release date, KB
    const unmet = new Map<string, number>();
    const dependents = new Map<string, Chosen[]>();
    const order = new Map<Chosen, number>();
    for (const ch of this.chosen.values()) order.set(ch, stageOrder(ch.c));
    const heap = new MinHeap<Chosen>((x, y) => order.get(x)! - order.get(y)! || compareText(x.c.released ?? '9999', y.c.released ?? '9999') || compareText(x.c.kb, y.c.kb));
    for (const ch of this.chosen.values()) {
      const deps = new Set(ch.deps.map((d) => d.kb));
      unmet.set(ch.c.kb, deps.size);
      for (const d of deps) (dependents.get(d) ?? dependents.set(d, []).get(d)!).push(ch);
      if (deps.size === 0) heap.push(ch);
    }
    let remaining = this.chosen.size;
    let deferred: { ch: Chosen; needsReboot: string | null }[] = [];
    while (remaining > 0) {
      const next = heap.pop();
      if (!next) {
        if (deferred.length === 0 || (sinceReboot.length === 0 && !state.rebootPending)) {
          throw internalError('PLAN_NO_PROGRESS', `cannot order ${[...this.chosen.keys()].filter((k) => !stageOf.has(k)).join(', ')} for ${this.plan.host}`);
        }
        const reasons = [...new Set(deferred.map((d) => d.needsReboot).filter((r): r is string => r !== null))];
        reboot(reasons.length > 0 ? reasons.join('; ') : 'finish the updates installed so far');
        for (const d of deferred) heap.push(d.ch);
        deferred = [];
        continue;
      }
      const why = blocker(next);
      if (why) {
        deferred.push({ ch: next, needsReboot: why.needsReboot });
        continue;
      }
      remaining--;
      stageOf.set(next.c.kb, stage);
      sinceReboot.push(next.c);
      for (const d of dependents.get(next.c.kb) ?? []) {
        const left = unmet.get(d.c.kb)! - 1;
        unmet.set(d.c.kb, left);
        if (left === 0) heap.push(d);
      }
      if (next.c.kb === this.family.sha2SupportKb) sha2Installed = true;
      if (next.c.restart === 'required' || next.c.restart === 'possible' || next.c.kb === this.family.sha2SupportKb) state.rebootPending = true;
      const f = next.c.fact;
      if (f?.setsBuild != null && (state.build === null || f.setsBuild > state.build)) {
        state.build = f.setsBuild;
        state.revision = null;
      }
      if (f?.bringsServicePack != null) state.servicePack = Math.max(state.servicePack ?? 0, f.bringsServicePack);
      if (next.c.role === 'servicing-stack') {
        state.servicingStackKb = next.c.kb;
        state.servicingStackVersion = next.c.payload.servicingStackVersion ?? f?.servicingStackVersion ?? null;
      }
      steps.push({
        n: steps.length + 1,
        action: 'install',
        kb: next.c.kb,
        file: next.c.payload.fileName,
        sha256: next.c.payload.sha256,
        kind: next.c.role,
        reason: this.explain(next),
        ...this.switchesFor(next.c),
        stateAfter: { ...state },
      });
    }
    if (state.rebootPending && steps.some((s) => s.action === 'install')) {
      const asking = sinceReboot.filter((c) => c.restart === 'required' || c.restart === 'possible' || c.kb === this.family.sha2SupportKb).map((c) => c.kb);
      const shown = asking.length > 8 ? `${asking.slice(0, 8).join(', ')} and ${asking.length - 8} more` : asking.join(', ');
      reboot(asking.length > 0 ? `${shown} ${asking.length === 1 ? 'asks' : 'ask'} for a restart to finish installing` : 'finish the updates installed so far');
    }
  }

  /**
   * An executable runs with the silent switches the knowledge base records for its KB. Without
   * them install.cmd has nothing unattended to run it with: the step carries no switches and the
   * plan says so, rather than guessing switches an installer may not know.
   */
  private switchesFor(c: Chosen['c']): { switches?: string[] } {
    if (!/\.exe$/i.test(c.payload.fileName)) return {};
    const switches = c.fact?.silentSwitches ?? null;
    if (switches === null) {
      this.plan.assumptions.push(`${c.kb} (${c.payload.fileName}) is an executable and the knowledge base records no silent switches for it: install.cmd would start it without any, and it may wait for someone at the console`);
      return {};
    }
    return { switches: [...switches] };
  }

  private explain(ch: Chosen): string {
    const c = ch.c;
    const parts = [`${ROLE_LABEL[c.role]}${c.released ? ` (${c.released})` : ''}`];
    for (const w of ch.why) parts.push(w);
    if (ch.neededBy.size > 0) parts.push(`prerequisite of ${listKbs([...ch.neededBy])}`);
    for (const [older, by] of ch.standsFor) parts.push(`replaces ${older}, which ${by} requires`);
    const reqs = [...new Set(ch.deps.map((d) => d.kb))];
    if (reqs.length > 0) parts.push(`after ${listKbs(reqs)}`);
    if (c.payload.signatures === 'sha2-only') parts.push('signed with SHA-2 only');
    if (c.fact?.setsBuild != null && (this.base.build === null || c.fact.setsBuild > this.base.build)) parts.push(`moves the build to ${c.fact.setsBuild}`);
    return parts.join('; ');
  }
}

/** "KB1, KB2" — or, for the thousand hotfixes that all need SHA-2 support, the first few and a count. */
function listKbs(kbs: string[]): string {
  const sorted = [...kbs].sort();
  return sorted.length > 6 ? `${sorted.slice(0, 5).join(', ')} and ${sorted.length - 5} more` : sorted.join(', ');
}

/** Code-unit order: KB numbers and ISO dates are ASCII, and localeCompare is needlessly slow in the scheduler's heap. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function rank(c: Candidate): number {
  return ROLE_RANK[c.role] ?? 4;
}

function stageOrder(c: Candidate): number {
  return (c.restart === 'required' ? 100 : 0) + rank(c);
}

/** A binary min-heap: the scheduler pops the best installable payload in O(log n). */
class MinHeap<T> {
  private readonly items: T[] = [];
  constructor(private readonly less: (a: T, b: T) => number) {}

  push(x: T): void {
    const a = this.items;
    a.push(x);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.less(a[i], a[p]) >= 0) break;
      [a[i], a[p]] = [a[p], a[i]];
      i = p;
    }
  }

  pop(): T | undefined {
    const a = this.items;
    if (a.length === 0) return undefined;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.less(a[l], a[m]) < 0) m = l;
        if (r < a.length && this.less(a[r], a[m]) < 0) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
    }
    return top;
  }
}

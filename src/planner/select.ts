import type { Payload, PayloadKind, Sha2OnlyPart } from '../package/types';
import type { Distrust } from '../catalog/distrust';
import { esuYearOf, type KbFamily, type KbUpdateFact } from '../knowledge/knowledge-base';
import { CHAIN_OF_ROLE } from './supersedence';
import { skipReason, type SkipCause, type SkipReason } from './causes';
import type { Baseline, PlanNotes } from './host-state';
import { ARCH_FILE, provenRevision } from '../knowledge/file-names';
import { describeSkip } from './present';
import { describeSha2Parts, sha2PartsOfRecord } from '../package/sha2-parts';
import type { Dep, StaticRequirements } from './resolve';
import type { HostInventory } from './types';

/**
 * Which payloads of the catalog apply to this host: its family, product and architecture, a
 * valid signature, update.mum parents of its NT version; one file per KB. Everything else is
 * skipped with its cause. All but the installed set is the same for every host of a family,
 * architecture and product: applicableTo works it out once per run, selectCandidates per host.
 */

export interface Candidate {
  kb: string;
  payload: Payload;
  fact: KbUpdateFact | null;
  role: PayloadKind;
  released: string | null;
  restart: 'required' | 'possible' | 'never' | null;
  /** its place in the scheduler's order among the candidates of its kind of host (schedule.ts setInstallOrder), set once per run */
  priority: number;
  /**
   * no supersedence can involve it: its role is in no chain and is no security-only update, it
   * names nothing it supersedes and the knowledge base names it as superseded by nothing. Such a
   * candidate (most hotfixes) replaces nothing and is replaced by nothing: the resolver skips its
   * replacement indexes for it
   */
  inert: boolean;
  /** the name it carries on the media: mediaFileNameList (src/knowledge/file-names.ts), from its verified metadata */
  file: string;
  /**
   * what the later stages work out about it once and keep for every host of its kind (the
   * candidate lives as long as the run's Planner): its static requirements (resolve.ts), the
   * usual words of its step when it is dated (schedule.ts: a few variants, as hosts differ in what
   * of its requirements they have). Fields of the candidate, not of an object of their own: every host
   * reads them for each of a thousand steps, and each object more is one more fetch from memory.
   * Null until first worked out: a fresh planner's candidates are each planned once, and an empty
   * list per candidate would grow to seventeen places for the three it holds
   */
  requirementsMemo: StaticRequirements | null;
  reasonsMemo: (string | readonly Dep[])[] | null;
  /** the host needs SHA-2 code signing support before it: some signed part of it is SHA-2 only, or its record does not say (sha2Parts) */
  sha2Only: boolean;
  /** its parts signed with SHA-2 only; null when its record does not say (sha2PartsOfRecord) */
  sha2Parts: readonly Sha2OnlyPart[] | null;
  /** its payload's SHA-256 and format, which every step of it shows (copied for the same reason) */
  sha256: string;
  format: Payload['format'];
}

/**
 * A payload that is not a step, as the plan lists it (HostPlan's skipped). Immutable once made:
 * a skip that does not depend on the installed set is made once per run and is the same object
 * in the plan of every host of its kind.
 */
export interface Skip {
  kb: string;
  reason: SkipReason;
  /** the cause in words (describeSkip) */
  detail: string;
  cause: SkipCause;
}

/** An entry of Applicable that is a payload's skip: the payload does not apply. */
function isSkip(e: Skip | ApplicableEntry): e is Skip {
  return 'cause' in e;
}

/** The plan's entry for a payload skipped for `cause` (in the key order plan.json prints). */
export function skipOf(kb: string, cause: SkipCause): Skip {
  return { kb, reason: skipReason(cause), detail: describeSkip(kb, cause), cause };
}

export { ARCH_FILE };

/**
 * A payload that applies to a kind of host: its KB, and its skip when another file of its KB is
 * preferred; `first`: the KB's first payload that applies, which stands for the KB when the host has
 * it installed (that skip made once, for the first host that needs it); `c`: the candidate of its KB
 * (whichever file of the KB is planned).
 */
export interface ApplicableEntry {
  kb: string;
  skip: Skip | null;
  first: boolean;
  installed: Skip | null;
  c: Candidate | null;
}

/** The payloads of one family that apply to one kind of host (architecture and product), before its installed set counts. */
export interface Applicable {
  /**
   * every payload of the family in catalog order: when it does not apply, its skip (no entry of its
   * own: half a catalog is the other architecture's), else an ApplicableEntry
   */
  entries: (Skip | ApplicableEntry)[];
  /** one candidate per KB, in the order the KBs first appear, with what the plan must assume to plan it */
  candidates: { c: Candidate; unknown: string | null; sha2: string | null; metadata: string | null }[];
  /** the candidates by KB, in that order */
  byKb: ReadonlyMap<string, Candidate>;
  /** the candidates in that order: the candidates of a host that has none of them installed */
  inOrder: readonly Candidate[];
}

/**
 * What of the family's payloads applies to a host of this architecture and product: the same for
 * every such host, so worked out once per run. `familyPayloads` are the catalog's payloads of the
 * family, in catalog order; `mediaNames` their names on media, in that order (mediaFileNameList).
 */
export function applicableTo(kind: Pick<HostInventory, 'architecture' | 'product'>, familyPayloads: readonly Payload[], family: KbFamily, mediaNames: readonly string[], distrusted: ReadonlyMap<string, Distrust>): Applicable {
  const entries: Applicable['entries'] = [];
  const byKb = new Map<string, Candidate>();
  const namedSuperseded = new Set<string>();
  for (const f of family.updates.values()) for (const older of f.supersedes) namedSuperseded.add(older);
  for (let i = 0; i < familyPayloads.length; i++) {
    const p = familyPayloads[i]!;
    const fact = family.updates.get(p.kb) ?? null;
    const file = mediaNames[i]!;
    const notApplicable = whyNotApplicable(kind, p, file, fact, family, distrusted);
    if (notApplicable) {
      entries.push(skipOf(p.kb, notApplicable));
      continue;
    }
    const role = fact?.role ?? p.kind;
    const sha2Parts = sha2PartsOfRecord(p);
    const cand: Candidate = {
      kb: p.kb,
      payload: p,
      fact,
      role,
      released: fact?.released ?? null,
      restart: normaliseRestart(p.restart) ?? fact?.restart ?? null,
      priority: 0,
      inert: CHAIN_OF_ROLE[role] === undefined && role !== 'security-only' && (fact?.supersedes.length ?? 0) === 0 && !namedSuperseded.has(p.kb),
      file,
      requirementsMemo: null,
      reasonsMemo: null,
      sha2Only: sha2Parts === null || sha2Parts.length > 0,
      sha2Parts,
      sha256: p.sha256,
      format: p.format,
    };
    const prev = byKb.get(p.kb);
    if (!prev) {
      byKb.set(p.kb, cand);
      entries.push({ kb: p.kb, skip: null, first: true, installed: null, c: null });
      continue;
    }
    const [keep, drop] = preferFile(prev, cand);
    byKb.set(p.kb, keep);
    entries.push({ kb: p.kb, skip: skipOf(p.kb, { kind: 'other-file', file: drop.file, planned: keep.file }), first: false, installed: null, c: null });
  }
  // (the kept file of a KB is known only now: a later file of it may have been preferred)
  for (const e of entries) if (!isSkip(e)) e.c = byKb.get(e.kb)!;
  const candidates: Applicable['candidates'] = [];
  for (const c of byKb.values()) candidates.push(withAssumptions(c, family));
  return { entries, candidates, byKb, inOrder: [...byKb.values()] };
}

/**
 * The payloads that apply to this host: `applicable` (its kind of host) less what it has
 * installed; one file per KB. Everything else is skipped with its cause, in catalog order.
 */
export function selectCandidates(applicable: Applicable, base: Baseline, notes: PlanNotes): { candidates: HostCandidates; skipped: Skip[] } {
  const installed = base.installed;
  // which candidates the host has installed, by priority (setInstallOrder): one look-up per
  // installed KB here rather than one per candidate in every stage that asks
  const installedAt = new Uint8Array(applicable.candidates.length);
  let installedCandidates = 0;
  for (const kb of installed) {
    const c = applicable.byKb.get(kb);
    if (c === undefined) continue;
    installedAt[c.priority] = 1;
    installedCandidates++;
  }
  const skipped: Skip[] = [];
  for (const e of applicable.entries) {
    if (isSkip(e)) skipped.push(e);
    else if (installedAt[e.c!.priority] === 1) {
      // (the KB's first applicable payload carries its installed skip: it is the one reported)
      if (e.first) skipped.push((e.installed ??= skipOf(e.kb, { kind: 'installed' })));
    } else if (e.skip) skipped.push(e.skip);
  }
  // a host that has none of them installed (a fresh host) has its kind's candidates as they are;
  // another a list of its own, of them less what it has installed
  const list: Candidate[] | null = installedCandidates === 0 ? null : [];
  for (const a of applicable.candidates) {
    if (list !== null) {
      if (installedAt[a.c.priority] === 1) continue;
      list.push(a.c);
    }
    if (a.unknown !== null) notes.assumptions.push(a.unknown);
    if (a.sha2 !== null && !base.sha2Active) notes.assumptions.push(a.sha2);
    if (a.metadata !== null) notes.assumptions.push(a.metadata);
  }
  return { candidates: new HostCandidates(applicable.byKb, installedAt, list ?? applicable.inOrder), skipped };
}

/**
 * One host's candidates by KB: its kind of host's candidates (Applicable's byKb) less what it has
 * installed, as a view over the kind's map rather than a map of its own (a thousand entries per
 * host, built and dropped for every host). `values()` in the order of Applicable's candidates.
 */
export class HostCandidates {
  constructor(
    private readonly all: ReadonlyMap<string, Candidate>,
    /** 1 at the priority of each candidate of the kind that the host has installed */
    private readonly installedAt: Uint8Array,
    private readonly list: readonly Candidate[],
  ) {}

  get size(): number {
    return this.list.length;
  }

  /** the number of priorities among the candidates of the host's kind: every candidate's priority is below it */
  get priorities(): number {
    return this.installedAt.length;
  }

  get(kb: string): Candidate | undefined {
    const c = this.all.get(kb);
    return c === undefined || this.installedAt[c.priority] === 1 ? undefined : c;
  }

  has(kb: string): boolean {
    return this.get(kb) !== undefined;
  }

  values(): IterableIterator<Candidate> {
    return this.list.values();
  }
}

/**
 * What planning `c` assumes: an unknown KB's metadata; a SHA-2 support package signed with SHA-2
 * only, or a payload whose record does not say how its parts are signed (both only while SHA-2 is
 * not active); unverified metadata.
 */
function withAssumptions(c: Candidate, family: KbFamily): Applicable['candidates'][number] {
  const unknown = c.fact ? null : c.kb + unknownKbTail(c.role);
  let sha2: string | null = null;
  if (c.kb === family.sha2SupportKb && c.sha2Parts !== null && c.sha2Parts.length > 0) {
    sha2 = `${c.file} (SHA-2 code signing support) is itself signed with SHA-2 only (${describeSha2Parts(c.sha2Parts)}); planned on the assumption that the host accepts it; if wusa refuses it, fetch a dual-signed (SHA-1 + SHA-2) release of ${c.kb}`;
  } else if (c.sha2Parts === null && c.kb !== family.sha2SupportKb) {
    sha2 = `${c.kb}: its record does not say how its catalogs and inner cabinets are signed (imported by an older cabferry), so it is planned as needing SHA-2 code signing support; \`cabferry catalog check --deep --repair\` reads and records it`;
  }
  const metadata = c.payload.metadataVerified === false ? `${c.kb}: its update.mum was not verified against its signed catalog (${c.payload.metadataReason ?? 'no reason given'}); its metadata is trusted as read` : null;
  return { c, unknown, sha2, metadata };
}

const UNKNOWN_KB_TAIL = new Map<PayloadKind, string>();

/** what follows the KB in the assumption about a KB the knowledge base does not know: the same for every such KB of a role (most of a catalog's hotfixes) */
function unknownKbTail(role: PayloadKind): string {
  let tail = UNKNOWN_KB_TAIL.get(role);
  if (tail === undefined) {
    const chain = CHAIN_OF_ROLE[role] ? `; it is ordered among the ${role === 'servicing-stack' ? 'servicing stack updates' : 'rollups'} by its KB number` : '; it supersedes nothing';
    UNKNOWN_KB_TAIL.set(role, (tail = ` is not in the knowledge base: its role (${role}) and restart behaviour come from its own metadata${chain}`));
  }
  return tail;
}

function normaliseRestart(r: string | null): 'required' | 'possible' | 'never' | null {
  if (r === null) return null;
  const s = r.toLowerCase();
  return s === 'required' || s === 'possible' || s === 'never' ? s : null;
}

/**
 * Several files for one KB (v2, v4 …): the release the knowledge base names, else the highest
 * -vN; releases as the payloads' signed data proves them (provenRevision), never as the names
 * they arrived under claim. Of one release, an installer that checks applicability itself (an
 * .msu for wusa, an .exe) before a bare payload cab, which pkgmgr installs without asking
 * whether it applies; else the first in catalog order.
 */
function preferFile(a: Candidate, b: Candidate): [Candidate, Candidate] {
  const hinted = /-KB\d+-v(\d{1,3})-/i.exec(a.fact?.fileHint ?? '');
  const rev = (c: Candidate): number => provenRevision(c.payload) ?? 1;
  if (hinted) {
    const want = (c: Candidate): boolean => rev(c) === Number(hinted[1]);
    if (want(a) !== want(b)) return want(a) ? [a, b] : [b, a];
  }
  if (rev(a) !== rev(b)) return rev(b) > rev(a) ? [b, a] : [a, b];
  const bareCab = (c: Candidate): boolean => c.payload.format === 'cab';
  return bareCab(a) && !bareCab(b) ? [b, a] : [a, b];
}

function whyNotApplicable(host: Pick<HostInventory, 'architecture' | 'product'>, p: Payload, file: string, fact: KbUpdateFact | null, family: KbFamily, distrusted: ReadonlyMap<string, Distrust>): SkipCause | null {
  if (p.signatures === 'invalid' || p.signatures === 'unsigned') return { kind: 'unsigned', file, signatures: p.signatures };
  if (p.architecture !== 'neutral') {
    if (host.architecture === null) return { kind: 'arch-unknown', file, built: p.architecture };
    if (p.architecture !== host.architecture) return { kind: 'arch-mismatch', file, built: p.architecture, host: host.architecture };
  }
  if (host.product !== null) {
    const products = p.products && p.products.length > 0 ? p.products : null;
    // payload metadata that names no product we know of (e.g. "Windows 6.0") applies to the whole family
    // (asked of every payload of the family: no list made unless it is a skip)
    let ofFamily = false;
    let hostsProduct = false;
    if (products === null) hostsProduct = (ofFamily = family.products.includes(p.product)) && p.product === host.product;
    else {
      for (const x of products) {
        if (!family.products.includes(x)) continue;
        ofFamily = true;
        if (x === host.product) hostsProduct = true;
      }
    }
    if (ofFamily && !hostsProduct) return { kind: 'product-mismatch', file, products: (products ?? [p.product]).filter((x) => family.products.includes(x)), host: host.product };
    if (fact?.products && !fact.products.includes(host.product)) return { kind: 'kb-products', file, products: fact.products, host: host.product, source: fact.source };
  }
  // not an ESU update held for a key the host lacks: no key outside Azure exists for it, so no
  // inventory can ever make it installable, and the knowledge baseline leaves it out as well
  if (fact?.azureOnly && family.esu !== null) {
    const year = esuYearOf(family.esu, fact.released);
    const source = family.esu.years.find((y) => y.year === year)?.source ?? family.esu.source;
    return { kind: 'azure-only', file, esuYear: year, source };
  }
  for (const parent of p.parents) {
    if (parent.kb !== null) continue;
    // a non-KB parent (e.g. a foundation package) must at least belong to this NT version
    const v = parent.identity.version ? /^(\d+)\.(\d+)\./.exec(parent.identity.version) : null;
    if (v && `${v[1]}.${v[2]}` !== family.ntVersion) return { kind: 'parent-other-nt', file, parent: parent.identity.name, version: parent.identity.version ?? '', ntVersion: family.ntVersion };
  }
  // last: a payload that would not apply anyway is reported for that, not for its trust
  const distrust = distrusted.get(p.sha256);
  if (distrust !== undefined) return { kind: 'untrusted', file, sha256: p.sha256, arch: ARCH_FILE[p.architecture], distrust };
  return null;
}

import fs = require('node:fs');
import path = require('node:path');
import { inputError } from '../errors';
import { shippedDataPath } from '../shipped-data';
import { isDottedVersion } from '../package/assembly-version';
import type { PayloadKind } from '../package/types';
import { isoTime } from '../iso-time';

/**
 * The knowledge base: what Microsoft's KB articles say about the updates of one product family
 * (roles, prerequisites, restart behaviour, the build a KB moves a host to). It lives as data in
 * catalog/kb/*.json, one file per family, every fact with its source; this module loads and
 * validates it. Nothing here decides an install order — src/planner/plan.ts does.
 */

export type UpdateRole = Extract<
  PayloadKind,
  'service-pack' | 'servicing-stack' | 'sha2-support' | 'monthly-rollup' | 'rollup-preview' | 'security-only' | 'esu-preparation' | 'other'
>;

const ROLES: readonly UpdateRole[] = [
  'service-pack', 'servicing-stack', 'sha2-support', 'monthly-rollup', 'rollup-preview', 'security-only', 'esu-preparation', 'other',
];

export type RestartBehaviour = 'required' | 'possible' | 'never';

/**
 * How hard a prerequisite is. 'required': the update does not install (or breaks the host) without
 * it. 'recommended': the sources install it first, but no source says the update fails without
 * it — the planner keeps the order and never calls a plan incomplete for it.
 */
export type PrerequisiteStrength = 'required' | 'recommended';

export interface KbPrerequisite {
  kb: string;
  strength: PrerequisiteStrength;
  source: string;
  /**
   * why this prerequisite was released after the update that needs it (a re-released package,
   * a later-revised article); without it the loader refuses such a fact as inconsistent
   */
  releasedLaterBecause: string | null;
}

/** What an installer's exit code means, for installers (.exe) whose codes are their own. */
export type ExitOutcome = 'success' | 'restart-required' | 'not-applicable' | 'failure';

export interface KbExitCode {
  code: number;
  outcome: ExitOutcome;
  meaning: string;
}

/**
 * A fact the sources disagree on. The knowledge base records the disagreement and the decision
 * taken (the field itself holds the conservative value, or is left out).
 */
export interface KbDisputedFact {
  field: string;
  claim: string;
  sources: string[];
  decision: string;
}

/**
 * 'day': the source gives the release day. 'month': the source confirms only the month; the day
 * recorded is that month's second Tuesday (Microsoft's monthly release day), which the loader checks.
 */
export type DateBasis = 'day' | 'month';

export interface KbUpdateFact {
  kb: string;
  role: UpdateRole;
  title: string;
  /** release date, YYYY-MM-DD */
  released: string;
  dateBasis: DateBasis;
  restart: RestartBehaviour;
  prerequisites: KbPrerequisite[];
  /** explicit replacements beyond the role rules (rollups cumulative, SSUs replace earlier SSUs) */
  supersedes: string[];
  /** only these products of the family (e.g. SHA-2 support never shipped for Vista) */
  products: string[] | null;
  setsBuild: number | null;
  bringsServicePack: number | null;
  servicingStackVersion: string | null;
  /** file name pattern with "{arch}" (x86 | x64 | ia64), for "fetch …" hints */
  fileHint: string | null;
  /** installs only on a host with an activated ESU add-on key (else it rolls back after the restart) */
  requiresEsu: boolean;
  /** published only for hosts in Azure (ESU years after the third); an on-premises host cannot install it */
  azureOnly: boolean;
  /** command-line switches for an unattended run of an .exe-delivered update */
  silentSwitches: string[] | null;
  switchesSource: string | null;
  /**
   * the .exe schedules a restart of its own that /norestart does not stop (a service pack run with
   * /warnrestart): install.cmd cancels it (`shutdown /a`) after the step and restarts where the
   * plan says. Only such installers: a shutdown an admin scheduled is not ours to cancel
   */
  schedulesOwnRestart: boolean;
  schedulesOwnRestartSource: string | null;
  /** the installer's own exit codes (an .exe is not wusa; its codes mean what its documentation says) */
  exitCodes: KbExitCode[];
  exitCodesSource: string | null;
  disputed: KbDisputedFact[];
  /** where the update's own facts (role, date, restart, build) come from */
  source: string;
}

/**
 * One ESU year: the updates released from `from` to `to` (inclusive, YYYY-MM-DD) install only with
 * that year's ESU licence activated (a MAK add-on key is for one year). `azureOnly`: the year was
 * offered in Azure only (no MAK key, no activation ID).
 */
export interface KbEsuYear {
  year: number;
  from: string;
  to: string;
  azureOnly: boolean;
  source: string;
}

export interface KbEsuActivationId {
  /** ESU year (esu.years): 1 = Feb 2020 – Jan 2021, 2 = … Jan 2022, 3 = … Jan 2023 */
  year: number;
  /** the activation ID of the ESU MAK add-on (SoftwareLicensingProduct.ID, `slmgr /ato <id>`) */
  id: string;
  /** the family's products this ID activates (null: every product the ESU covers) */
  products: string[] | null;
  source: string;
}

/** Extended Security Updates for a family: what a host needs before an ESU-era update installs. */
export interface KbEsu {
  /** the first update that needs an activated ESU key (YYYY-MM-DD) */
  firstUpdate: string;
  /** from this day on, updates were published for Azure hosts only (YYYY-MM-DD) */
  azureOnlyFrom: string;
  /** the licensing preparation packages, oldest first (each one described among the updates) */
  licensingPreparationKbs: string[];
  /** products the ESU program covers (null: the whole family) */
  products: string[] | null;
  /** the ESU years, in order, each with the release dates of its updates */
  years: KbEsuYear[];
  activationIds: KbEsuActivationId[];
  source: string;
}

/**
 * When the family's security-only updates began (the first one). Security-only updates are not
 * cumulative: with the facts that list them, it says which months' the knowledge base does not know.
 */
export interface KbSecurityOnlyFrom {
  /** the first security-only update's release date (YYYY-MM-DD) */
  released: string;
  kb: string;
  /** the family's products it was released for (null: every product of the family) */
  products: string[] | null;
  source: string;
  /**
   * months since `released` in which Microsoft released no security-only update for the family at
   * all (February 2017: the month's updates were postponed to March), each with its source; the
   * planner needs no update for them. Never a month a security-only fact is listed for.
   */
  noRelease: KbNoReleaseMonth[];
}

/** A month (YYYY-MM) with no security-only release, and where that is said. */
export interface KbNoReleaseMonth {
  month: string;
  source: string;
}

/**
 * The ESU years cabferry can name (an activation ID's year, a profile's esuYears, install.cmd's
 * CF_ESU_IDS_1 … CF_ESU_IDS_6): three bought years and, for some products, Azure-only ones after.
 */
export const MAX_ESU_YEAR = 6;

/** Whether `y` is an ESU year cabferry can name: an integer 1 to MAX_ESU_YEAR. */
export function isEsuYear(y: unknown): y is number {
  return Number.isInteger(y) && (y as number) >= 1 && (y as number) <= MAX_ESU_YEAR;
}

/** The ESU year an update released on `released` belongs to (its licence is the one it needs), or null when no year covers that day. */
export function esuYearOf(esu: KbEsu, released: string): number | null {
  return esu.years.find((y) => y.from <= released && released <= y.to)?.year ?? null;
}

/** The activation IDs of one ESU year's licence for a product (null product: every ID of that year). */
export function esuActivationIdsFor(esu: KbEsu, product: string | null, year: number): string[] {
  return esu.activationIds.filter((a) => a.year === year && (a.products === null || product === null || a.products.includes(product))).map((a) => a.id);
}

export interface KbFamily {
  family: string;
  ntVersion: string;
  products: string[];
  /** updates of this family apply only from this service pack on */
  minimumServicePack: number;
  minimumServicePackKb: string;
  sha2SupportKb: string;
  filePrefix: string;
  notes: string[];
  esu: KbEsu | null;
  /** null: the knowledge base does not say when the family's security-only updates began */
  securityOnlyFrom: KbSecurityOnlyFrom | null;
  updates: Map<string, KbUpdateFact>;
  /** which file this family came from, for error messages */
  file: string;
}

export interface KnowledgeBase {
  families: KbFamily[];
}

export function familyForNtVersion(kb: KnowledgeBase, ntVersion: string | null): KbFamily | null {
  if (ntVersion === null) return null;
  return kb.families.find((f) => f.ntVersion === ntVersion) ?? null;
}

/**
 * Whether `update` is described by `family` and by no other family of `kb`: installed, such an update
 * names the family of its host (what the planner infers a host's family from when the host reports no
 * NT version, and the witness it names for that inference). Families are told apart by their NT
 * version, the key familyForNtVersion looks a family up by and loadKnowledgeBase keeps unique, not by
 * object: `family` may come from another load of the knowledge base than `kb`.
 */
export function knownOnlyTo(kb: KnowledgeBase, family: KbFamily, update: string): boolean {
  return family.updates.has(update) && !kb.families.some((g) => g.ntVersion !== family.ntVersion && g.updates.has(update));
}

/** The folder holding the knowledge base shipped with cabferry (catalog/kb at the project root). */
export function defaultKnowledgeBaseDir(): string {
  return shippedDataPath('kb');
}

export function loadKnowledgeBase(dir: string = defaultKnowledgeBaseDir()): KnowledgeBase {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => n.toLowerCase().endsWith('.json')).sort();
  } catch (e) {
    throw inputError('KB_DIR_UNREADABLE', `cannot read the knowledge base folder: ${(e as Error).message}`, { file: dir });
  }
  if (names.length === 0) throw inputError('KB_EMPTY', 'the knowledge base folder holds no .json family file', { file: dir });
  const families: KbFamily[] = [];
  for (const name of names) {
    const file = path.join(dir, name);
    let doc: unknown;
    try {
      doc = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (e) {
      throw inputError('KB_BAD_JSON', `not valid JSON: ${(e as Error).message}`, { file });
    }
    families.push(parseKbFamily(doc, file));
  }
  const seen = new Set<string>();
  for (const f of families) {
    if (seen.has(f.ntVersion)) throw inputError('KB_DUPLICATE_FAMILY', `two family files describe NT ${f.ntVersion}`, { file: f.file });
    seen.add(f.ntVersion);
  }
  return { families };
}

const KB_RE = /^KB\d{6,7}$/;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const STRENGTHS: readonly PrerequisiteStrength[] = ['required', 'recommended'];
const OUTCOMES: readonly ExitOutcome[] = ['success', 'restart-required', 'not-applicable', 'failure'];

/**
 * Where a source text points: "owner/repo:path" (a public repository file) or an http(s) address.
 * Every fact must name at least one, so that anyone can open what it rests on.
 */
export function sourceLocators(text: string): string[] {
  const re = /https?:\/\/[^\s;,)]*[^\s;,).]|\b[A-Za-z0-9][\w.-]*\/[\w.-]+:[\w./@+-]*[\w/]/g;
  return text.match(re) ?? [];
}

type Bad = (what: string) => never;

/** Validate one family document (exported so tests can feed broken documents). */
export function parseKbFamily(doc: unknown, file: string): KbFamily {
  const bad: Bad = (what: string): never => {
    throw inputError('KB_BAD_FACT', what, { file });
  };
  if (!isObject(doc)) return bad('a family file must be a JSON object');
  if (doc.schema !== 2) bad(`unsupported schema ${JSON.stringify(doc.schema)} (expected 2)`);
  const family = str(doc.family, 'family', bad);
  const ntVersion = str(doc.ntVersion, 'ntVersion', bad);
  if (!/^\d+\.\d+$/.test(ntVersion)) bad(`ntVersion ${JSON.stringify(ntVersion)} is not "major.minor"`);
  const products = strList(doc.products, 'products', bad);
  const minimumServicePack = int(doc.minimumServicePack, 'minimumServicePack', bad);
  const minimumServicePackKb = kbId(doc.minimumServicePackKb, 'minimumServicePackKb', bad);
  const sha2SupportKb = kbId(doc.sha2SupportKb, 'sha2SupportKb', bad);
  const filePrefix = str(doc.filePrefix, 'filePrefix', bad);
  const notes = doc.notes === undefined ? [] : strList(doc.notes, 'notes', bad);
  const securityOnlyFrom = doc.securityOnlyFrom === undefined ? null : parseSecurityOnlyFrom(doc.securityOnlyFrom, products, bad);
  if (!Array.isArray(doc.updates)) return bad('updates must be an array');
  const updates = new Map<string, KbUpdateFact>();
  doc.updates.forEach((u: unknown, i: number) => {
    const fact = parseUpdateFact(u, `updates[${i}]`, bad);
    if (updates.has(fact.kb)) bad(`${fact.kb} is listed twice`);
    updates.set(fact.kb, fact);
  });
  const esu = doc.esu === undefined ? null : parseEsu(doc.esu, products, bad);
  // every KB a fact points at must itself be described, or the planner could not explain it
  for (const fact of updates.values()) {
    for (const p of fact.prerequisites) if (!updates.has(p.kb)) bad(`${fact.kb}: prerequisite ${p.kb} is not described in this family`);
    for (const s of fact.supersedes) if (!updates.has(s)) bad(`${fact.kb}: supersedes ${s}, which is not described in this family`);
    if (fact.products) for (const p of fact.products) if (!products.includes(p)) bad(`${fact.kb}: product ${JSON.stringify(p)} is not one of the family's products`);
  }
  if (!updates.has(sha2SupportKb)) bad(`sha2SupportKb ${sha2SupportKb} is not described`);
  if (updates.get(sha2SupportKb)!.role !== 'sha2-support') bad(`${sha2SupportKb} must have role sha2-support`);
  if (!updates.has(minimumServicePackKb)) bad(`minimumServicePackKb ${minimumServicePackKb} is not described`);
  const sp = updates.get(minimumServicePackKb)!;
  if (sp.role !== 'service-pack' || sp.bringsServicePack !== minimumServicePack) {
    bad(`${minimumServicePackKb} must be the service pack that brings service pack ${minimumServicePack}`);
  }
  assertAcyclic(updates, bad);
  assertDatesConsistent(updates, bad);
  assertEsuConsistent(updates, esu, bad);
  for (const f of updates.values()) {
    if (f.role === 'security-only' && securityOnlyFrom !== null && f.released < securityOnlyFrom.released) bad(`${f.kb} (${f.released}) is a security-only update older than securityOnlyFrom ${securityOnlyFrom.released}`);
    const empty = f.role === 'security-only' ? securityOnlyFrom?.noRelease.find((n) => n.month === f.released.slice(0, 7)) : undefined;
    if (empty) bad(`${f.kb} (${f.released}) is a security-only update of ${empty.month}, which securityOnlyFrom.noRelease says had none`);
  }
  return { family, ntVersion, products, minimumServicePack, minimumServicePackKb, sha2SupportKb, filePrefix, notes, esu, securityOnlyFrom, updates, file };
}

function parseSecurityOnlyFrom(v: unknown, familyProducts: string[], bad: Bad): KbSecurityOnlyFrom {
  if (!isObject(v)) return bad('securityOnlyFrom must be an object');
  const products = v.products === undefined ? null : strList(v.products, 'securityOnlyFrom.products', bad);
  for (const p of products ?? []) if (!familyProducts.includes(p)) bad(`securityOnlyFrom.products: ${JSON.stringify(p)} is not one of the family's products`);
  const released = date(v.released, 'securityOnlyFrom.released', bad);
  return {
    released,
    kb: kbId(v.kb, 'securityOnlyFrom.kb', bad),
    products,
    source: sourced(v.source, 'securityOnlyFrom.source', bad),
    noRelease: v.noRelease === undefined ? [] : parseNoRelease(v.noRelease, released, bad),
  };
}

/** securityOnlyFrom.noRelease: real months, from the first security-only update's on, each once and sourced. */
function parseNoRelease(v: unknown, from: string, bad: Bad): KbNoReleaseMonth[] {
  if (!Array.isArray(v)) return bad('securityOnlyFrom.noRelease must be an array');
  const seen = new Set<string>();
  return v.map((n: unknown, i: number): KbNoReleaseMonth => {
    const at = `securityOnlyFrom.noRelease[${i}]`;
    if (!isObject(n)) return bad(`${at} must be an object`);
    const month = str(n.month, `${at}.month`, bad);
    if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(month)) bad(`${at}.month: ${JSON.stringify(month)} is not YYYY-MM`);
    if (month < from.slice(0, 7)) bad(`${at}.month ${month} is before securityOnlyFrom ${from}`);
    if (seen.has(month)) bad(`${at}: ${month} is listed twice`);
    seen.add(month);
    return { month, source: sourced(n.source, `${at}.source`, bad) };
  });
}

function parseUpdateFact(u: unknown, where: string, bad: Bad): KbUpdateFact {
  if (!isObject(u)) return bad(`${where} must be an object`);
  const kb = kbId(u.kb, `${where}.kb`, bad);
  const at = `${where} (${kb})`;
  const role = str(u.role, `${at}.role`, bad) as UpdateRole;
  if (!ROLES.includes(role)) bad(`${at}: unknown role ${JSON.stringify(role)}`);
  const released = date(u.released, `${at}.released`, bad);
  const dateBasis = (u.dateBasis === undefined ? 'day' : str(u.dateBasis, `${at}.dateBasis`, bad)) as DateBasis;
  if (dateBasis !== 'day' && dateBasis !== 'month') bad(`${at}: dateBasis must be day|month`);
  if (dateBasis === 'month' && released !== secondTuesday(released.slice(0, 7))) {
    bad(`${at}: released ${released} has dateBasis "month" but is not that month's second Tuesday (${secondTuesday(released.slice(0, 7))})`);
  }
  const restart = str(u.restart, `${at}.restart`, bad) as RestartBehaviour;
  if (!['required', 'possible', 'never'].includes(restart)) bad(`${at}: restart must be required|possible|never`);
  const prerequisites: KbPrerequisite[] = [];
  if (u.prerequisites !== undefined) {
    if (!Array.isArray(u.prerequisites)) bad(`${at}.prerequisites must be an array`);
    (u.prerequisites as unknown[]).forEach((p, i) => prerequisites.push(parsePrerequisite(p, kb, `${at}.prerequisites[${i}]`, bad)));
  }
  const supersedes = u.supersedes === undefined ? [] : strList(u.supersedes, `${at}.supersedes`, bad).map((s) => kbId(s, `${at}.supersedes`, bad));
  const optInt = (v: unknown, name: string): number | null => (v === undefined ? null : int(v, `${at}.${name}`, bad));
  const optStr = (v: unknown, name: string): string | null => (v === undefined ? null : str(v, `${at}.${name}`, bad));
  const optBool = (v: unknown, name: string): boolean => {
    if (v === undefined) return false;
    if (typeof v !== 'boolean') bad(`${at}.${name} must be true or false`);
    return v as boolean;
  };
  const servicingStackVersion = optStr(u.servicingStackVersion, 'servicingStackVersion');
  if (servicingStackVersion !== null && !isDottedVersion(servicingStackVersion)) bad(`${at}: servicingStackVersion is not a.b.c.d`);
  if (servicingStackVersion !== null && role !== 'servicing-stack') bad(`${at}: only a servicing stack update has a servicingStackVersion`);
  const fileHint = optStr(u.fileHint, 'fileHint');
  if (fileHint !== null && !fileHint.includes('{arch}')) bad(`${at}: fileHint must contain {arch}`);
  const silentSwitches = u.silentSwitches === undefined ? null : strList(u.silentSwitches, `${at}.silentSwitches`, bad);
  const switchesSource = optSourced(u.switchesSource, `${at}.switchesSource`, bad);
  if ((silentSwitches === null) !== (switchesSource === null)) bad(`${at}: silentSwitches and switchesSource come together`);
  if (silentSwitches !== null && (fileHint === null || !/\.exe$/i.test(fileHint))) bad(`${at}: silentSwitches are for .exe-delivered updates (fileHint ending in .exe)`);
  const schedulesOwnRestart = optBool(u.schedulesOwnRestart, 'schedulesOwnRestart');
  const schedulesOwnRestartSource = optSourced(u.schedulesOwnRestartSource, `${at}.schedulesOwnRestartSource`, bad);
  if (schedulesOwnRestart !== (schedulesOwnRestartSource !== null)) bad(`${at}: schedulesOwnRestart (true) and schedulesOwnRestartSource come together`);
  if (schedulesOwnRestart && (fileHint === null || !/\.exe$/i.test(fileHint))) bad(`${at}: schedulesOwnRestart is for .exe-delivered updates (fileHint ending in .exe)`);
  const exitCodes = u.exitCodes === undefined ? [] : parseExitCodes(u.exitCodes, `${at}.exitCodes`, bad);
  const exitCodesSource = optSourced(u.exitCodesSource, `${at}.exitCodesSource`, bad);
  if ((exitCodes.length === 0) !== (exitCodesSource === null)) bad(`${at}: exitCodes and exitCodesSource come together`);
  const disputed = u.disputed === undefined ? [] : parseDisputed(u.disputed, `${at}.disputed`, bad);
  return {
    kb,
    role,
    title: str(u.title, `${at}.title`, bad),
    released,
    dateBasis,
    restart,
    prerequisites,
    supersedes,
    products: u.products === undefined ? null : strList(u.products, `${at}.products`, bad),
    setsBuild: optInt(u.setsBuild, 'setsBuild'),
    bringsServicePack: optInt(u.bringsServicePack, 'bringsServicePack'),
    servicingStackVersion,
    fileHint,
    requiresEsu: optBool(u.requiresEsu, 'requiresEsu'),
    azureOnly: optBool(u.azureOnly, 'azureOnly'),
    silentSwitches,
    switchesSource,
    schedulesOwnRestart,
    schedulesOwnRestartSource,
    exitCodes,
    exitCodesSource,
    disputed,
    source: sourced(u.source, `${at}.source`, bad),
  };
}

function parsePrerequisite(p: unknown, dependant: string, at: string, bad: Bad): KbPrerequisite {
  if (!isObject(p)) return bad(`${at} must be an object`);
  const kb = kbId(p.kb, `${at}.kb`, bad);
  if (kb === dependant) bad(`${dependant} cannot be its own prerequisite`);
  const strength = str(p.strength, `${at}.strength`, bad) as PrerequisiteStrength;
  if (!STRENGTHS.includes(strength)) bad(`${at}.strength must be required|recommended, not ${JSON.stringify(p.strength)}`);
  const releasedLaterBecause = p.releasedLaterBecause === undefined ? null : str(p.releasedLaterBecause, `${at}.releasedLaterBecause`, bad);
  return { kb, strength, source: sourced(p.source, `${at}.source`, bad), releasedLaterBecause };
}

function parseExitCodes(v: unknown, at: string, bad: Bad): KbExitCode[] {
  if (!Array.isArray(v) || v.length === 0) return bad(`${at} must be a non-empty array`);
  const seen = new Set<number>();
  return v.map((e: unknown, i: number) => {
    if (!isObject(e)) return bad(`${at}[${i}] must be an object`);
    if (typeof e.code !== 'number' || !Number.isInteger(e.code)) return bad(`${at}[${i}].code must be an integer`);
    if (seen.has(e.code)) bad(`${at}: exit code ${e.code} is listed twice`);
    seen.add(e.code);
    const outcome = str(e.outcome, `${at}[${i}].outcome`, bad) as ExitOutcome;
    if (!OUTCOMES.includes(outcome)) bad(`${at}[${i}].outcome must be one of ${OUTCOMES.join('|')}`);
    return { code: e.code, outcome, meaning: str(e.meaning, `${at}[${i}].meaning`, bad) };
  });
}

function parseDisputed(v: unknown, at: string, bad: Bad): KbDisputedFact[] {
  if (!Array.isArray(v)) return bad(`${at} must be an array`);
  return v.map((d: unknown, i: number) => {
    if (!isObject(d)) return bad(`${at}[${i}] must be an object`);
    const sources = strList(d.sources, `${at}[${i}].sources`, bad);
    if (sources.length < 2) bad(`${at}[${i}]: a dispute names at least two sources`);
    sources.forEach((s, j) => sourced(s, `${at}[${i}].sources[${j}]`, bad));
    return { field: str(d.field, `${at}[${i}].field`, bad), claim: str(d.claim, `${at}[${i}].claim`, bad), sources, decision: str(d.decision, `${at}[${i}].decision`, bad) };
  });
}

function parseEsu(v: unknown, familyProducts: string[], bad: Bad): KbEsu {
  if (!isObject(v)) return bad('esu must be an object');
  const products = v.products === undefined ? null : strList(v.products, 'esu.products', bad);
  for (const p of products ?? []) if (!familyProducts.includes(p)) bad(`esu.products: ${JSON.stringify(p)} is not one of the family's products`);
  if (!Array.isArray(v.activationIds)) bad('esu.activationIds must be an array');
  const seen = new Set<string>();
  const activationIds = (v.activationIds as unknown[]).map((a: unknown, i: number): KbEsuActivationId => {
    const at = `esu.activationIds[${i}]`;
    if (!isObject(a)) return bad(`${at} must be an object`);
    const year = int(a.year, `${at}.year`, bad);
    if (!isEsuYear(year)) bad(`${at}.year must be 1 to ${MAX_ESU_YEAR}`);
    const id = str(a.id, `${at}.id`, bad).toLowerCase();
    if (!GUID_RE.test(id)) bad(`${at}.id ${JSON.stringify(a.id)} is not a GUID`);
    const idProducts = a.products === undefined ? null : strList(a.products, `${at}.products`, bad);
    for (const p of idProducts ?? []) if (!(products ?? familyProducts).includes(p)) bad(`${at}.products: ${JSON.stringify(p)} is not covered by the ESU`);
    const key = `${year}/${id}/${(idProducts ?? []).join(',')}`;
    if (seen.has(key)) bad(`${at} is listed twice`);
    seen.add(key);
    return { year, id, products: idProducts, source: sourced(a.source, `${at}.source`, bad) };
  });
  const licensingPreparationKbs = strList(v.licensingPreparationKbs, 'esu.licensingPreparationKbs', bad).map((k) => kbId(k, 'esu.licensingPreparationKbs', bad));
  const firstUpdate = date(v.firstUpdate, 'esu.firstUpdate', bad);
  const azureOnlyFrom = date(v.azureOnlyFrom, 'esu.azureOnlyFrom', bad);
  const years = parseEsuYears(v.years, firstUpdate, azureOnlyFrom, bad);
  for (const a of activationIds) {
    const y = years.find((x) => x.year === a.year);
    if (!y) bad(`esu.activationIds: year ${a.year} is not one of esu.years`);
    else if (y.azureOnly) bad(`esu.activationIds: year ${a.year} was offered in Azure only and has no activation ID`);
  }
  return { firstUpdate, azureOnlyFrom, licensingPreparationKbs, products, years, activationIds, source: sourced(v.source, 'esu.source', bad) };
}

/**
 * esu.years: numbered 1, 2, … in order, each from the day after the one before ends; year 1 begins
 * on or before esu.firstUpdate; the Azure-only years are exactly those from esu.azureOnlyFrom on.
 */
function parseEsuYears(v: unknown, firstUpdate: string, azureOnlyFrom: string, bad: Bad): KbEsuYear[] {
  if (!Array.isArray(v) || v.length === 0) return bad('esu.years must be a non-empty array');
  const years = v.map((y: unknown, i: number): KbEsuYear => {
    const at = `esu.years[${i}]`;
    if (!isObject(y)) return bad(`${at} must be an object`);
    const year = int(y.year, `${at}.year`, bad);
    if (year !== i + 1) bad(`${at}.year must be ${i + 1} (the years are listed in order)`);
    const from = date(y.from, `${at}.from`, bad);
    const to = date(y.to, `${at}.to`, bad);
    if (to < from) bad(`${at}: ends (${to}) before it begins (${from})`);
    if (y.azureOnly !== undefined && typeof y.azureOnly !== 'boolean') bad(`${at}.azureOnly must be true or false`);
    return { year, from, to, azureOnly: y.azureOnly === true, source: sourced(y.source, `${at}.source`, bad) };
  });
  if (years[0].from > firstUpdate) bad(`esu.years[0] begins (${years[0].from}) after esu.firstUpdate ${firstUpdate}`);
  for (let i = 1; i < years.length; i++) {
    if (years[i].from !== nextDay(years[i - 1].to)) bad(`esu.years[${i}] must begin the day after year ${i} ends (${years[i - 1].to})`);
  }
  for (const y of years) {
    if (y.azureOnly !== (y.from >= azureOnlyFrom)) bad(`esu.years: year ${y.year} (from ${y.from}) must be azureOnly exactly when it begins on or after esu.azureOnlyFrom ${azureOnlyFrom}`);
  }
  return years;
}

function nextDay(day: string): string {
  return isoTime(new Date(new Date(`${day}T00:00:00Z`).getTime() + 86_400_000)).slice(0, 10);
}

/**
 * Dates against the relations between facts: what supersedes is not older than what it
 * replaces; a prerequisite is not newer than what needs it (unless the fact says why); servicing
 * stack versions grow with their release dates.
 */
function assertDatesConsistent(updates: Map<string, KbUpdateFact>, bad: Bad): void {
  for (const f of updates.values()) {
    for (const s of f.supersedes) {
      const old = updates.get(s)!;
      if (old.released > f.released) bad(`${f.kb} (${f.released}) supersedes ${s}, which is newer (${old.released})`);
    }
    for (const p of f.prerequisites) {
      const pre = updates.get(p.kb)!;
      if (pre.released > f.released && p.releasedLaterBecause === null) {
        bad(`${f.kb} (${f.released}) names ${p.kb} (${pre.released}, released later) as a prerequisite without saying why (releasedLaterBecause)`);
      }
    }
  }
  const stacks = [...updates.values()].filter((f) => f.servicingStackVersion !== null).sort((x, y) => (x.released < y.released ? -1 : x.released > y.released ? 1 : 0));
  for (let i = 1; i < stacks.length; i++) {
    const [a, b] = [stacks[i - 1], stacks[i]];
    if (a.released < b.released && compareDotted(a.servicingStackVersion!, b.servicingStackVersion!) >= 0) {
      bad(`${b.kb} (${b.released}) has servicing stack ${b.servicingStackVersion}, not newer than ${a.kb}'s ${a.servicingStackVersion} (${a.released})`);
    }
  }
}

/** The ESU block against the updates: packages described, ESU-era updates inside the ESU years. */
function assertEsuConsistent(updates: Map<string, KbUpdateFact>, esu: KbEsu | null, bad: Bad): void {
  const needing = [...updates.values()].filter((f) => f.requiresEsu || f.azureOnly);
  if (esu === null) {
    if (needing.length > 0) bad(`${needing[0].kb} is marked requiresEsu/azureOnly but the family has no esu block`);
    return;
  }
  if (esu.azureOnlyFrom <= esu.firstUpdate) bad('esu.azureOnlyFrom must come after esu.firstUpdate');
  for (const k of esu.licensingPreparationKbs) {
    const f = updates.get(k);
    if (!f) bad(`esu.licensingPreparationKbs: ${k} is not described`);
    else if (f.role !== 'esu-preparation') bad(`esu.licensingPreparationKbs: ${k} must have role esu-preparation`);
  }
  for (const f of updates.values()) {
    if (f.role === 'esu-preparation' && !esu.licensingPreparationKbs.includes(f.kb)) bad(`${f.kb} is an esu-preparation package missing from esu.licensingPreparationKbs`);
    if (f.requiresEsu && f.released < esu.firstUpdate) bad(`${f.kb} (${f.released}) is marked requiresEsu but predates esu.firstUpdate ${esu.firstUpdate}`);
    if (f.requiresEsu && esuYearOf(esu, f.released) === null) bad(`${f.kb} (${f.released}) is marked requiresEsu but no esu.years entry covers its release date`);
    if (f.azureOnly && f.released < esu.azureOnlyFrom) bad(`${f.kb} (${f.released}) is marked azureOnly but predates esu.azureOnlyFrom ${esu.azureOnlyFrom}`);
    if (!f.azureOnly && f.released >= esu.azureOnlyFrom) bad(`${f.kb} (${f.released}) was released in the Azure-only years; mark it azureOnly`);
    if ((f.role === 'monthly-rollup' || f.role === 'security-only' || f.role === 'rollup-preview') && f.released >= esu.firstUpdate && !f.requiresEsu) {
      bad(`${f.kb} (${f.released}) is an ESU-era ${f.role} but not marked requiresEsu`);
    }
  }
}

/** A prerequisite cycle in the data would make every plan impossible; refuse the file instead. */
function assertAcyclic(updates: Map<string, KbUpdateFact>, bad: Bad): void {
  const state = new Map<string, 1 | 2>();
  const visit = (kb: string, trail: string[]): void => {
    const s = state.get(kb);
    if (s === 2) return;
    if (s === 1) bad(`prerequisite cycle: ${[...trail, kb].join(' → ')}`);
    state.set(kb, 1);
    for (const p of updates.get(kb)?.prerequisites ?? []) visit(p.kb, [...trail, kb]);
    state.set(kb, 2);
  };
  for (const kb of updates.keys()) visit(kb, []);
}

function compareDotted(a: string, b: string): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
}

/** YYYY-MM-DD naming a real calendar day (2019-02-30 is refused, not rolled over). */
function date(v: unknown, name: string, bad: Bad): string {
  const s = str(v, name, bad);
  if (!DATE_RE.test(s)) return bad(`${name}: ${JSON.stringify(s)} is not YYYY-MM-DD`);
  const d = new Date(`${s}T00:00:00Z`);
  if (Number.isNaN(d.getTime()) || isoTime(d).slice(0, 10) !== s) bad(`${name}: ${JSON.stringify(s)} is not a calendar day`);
  return s;
}

/** The second Tuesday of a month ("YYYY-MM"): Microsoft's monthly security release day. */
export function secondTuesday(month: string): string {
  const first = new Date(`${month}-01T00:00:00Z`);
  const toTuesday = (2 - first.getUTCDay() + 7) % 7;
  return isoTime(new Date(first.getTime() + (toTuesday + 7) * 86_400_000)).slice(0, 10);
}

/** A source text that names where it can be opened (see sourceLocators). */
function sourced(v: unknown, name: string, bad: Bad): string {
  const s = str(v, name, bad);
  if (sourceLocators(s).length === 0) bad(`${name} names no place to open it (owner/repo:path or an http(s) address)`);
  return s;
}
function optSourced(v: unknown, name: string, bad: Bad): string | null {
  return v === undefined ? null : sourced(v, name, bad);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function str(v: unknown, name: string, bad: (what: string) => never): string {
  if (typeof v !== 'string' || v.trim() === '') return bad(`${name} must be a non-empty string`);
  return v;
}
function int(v: unknown, name: string, bad: (what: string) => never): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) return bad(`${name} must be a non-negative integer`);
  return v;
}
function strList(v: unknown, name: string, bad: (what: string) => never): string[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x === '')) return bad(`${name} must be an array of non-empty strings`);
  return v as string[];
}
function kbId(v: unknown, name: string, bad: (what: string) => never): string {
  const s = str(v, name, bad).toUpperCase();
  if (!KB_RE.test(s)) bad(`${name}: ${JSON.stringify(v)} is not a KB number like "KB4474419"`);
  return s;
}

/** "kb4474419", "4474419", "KB 4474419" → "KB4474419"; null when it is not a KB number. */
export function normaliseKb(text: string): string | null {
  const m = /^\s*(?:KB\s*)?(\d{5,7})\s*$/i.exec(text);
  return m ? `KB${m[1]}` : null;
}

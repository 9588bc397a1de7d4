import * as fs from 'node:fs';
import * as path from 'node:path';
import { inputError } from '../errors';
import { shippedDataPath } from '../shipped-data';
import { isDottedVersion } from '../package/assembly-version';
import type { PayloadKind } from '../package/types';

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

export interface KbPrerequisite {
  kb: string;
  source: string;
}

export interface KbUpdateFact {
  kb: string;
  role: UpdateRole;
  title: string;
  /** release date, YYYY-MM-DD */
  released: string;
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
  source: string;
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

/** Validate one family document (exported so tests can feed broken documents). */
export function parseKbFamily(doc: unknown, file: string): KbFamily {
  const bad = (what: string): never => {
    throw inputError('KB_BAD_FACT', what, { file });
  };
  if (!isObject(doc)) return bad('a family file must be a JSON object');
  if (doc.schema !== 1) bad(`unsupported schema ${JSON.stringify(doc.schema)} (expected 1)`);
  const family = str(doc.family, 'family', bad);
  const ntVersion = str(doc.ntVersion, 'ntVersion', bad);
  if (!/^\d+\.\d+$/.test(ntVersion)) bad(`ntVersion ${JSON.stringify(ntVersion)} is not "major.minor"`);
  const products = strList(doc.products, 'products', bad);
  const minimumServicePack = int(doc.minimumServicePack, 'minimumServicePack', bad);
  const minimumServicePackKb = kbId(doc.minimumServicePackKb, 'minimumServicePackKb', bad);
  const sha2SupportKb = kbId(doc.sha2SupportKb, 'sha2SupportKb', bad);
  const filePrefix = str(doc.filePrefix, 'filePrefix', bad);
  const notes = doc.notes === undefined ? [] : strList(doc.notes, 'notes', bad);
  if (!Array.isArray(doc.updates)) return bad('updates must be an array');
  const updates = new Map<string, KbUpdateFact>();
  doc.updates.forEach((u: unknown, i: number) => {
    const fact = parseUpdateFact(u, `updates[${i}]`, bad);
    if (updates.has(fact.kb)) bad(`${fact.kb} is listed twice`);
    updates.set(fact.kb, fact);
  });
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
  return { family, ntVersion, products, minimumServicePack, minimumServicePackKb, sha2SupportKb, filePrefix, notes, updates, file };
}

function parseUpdateFact(u: unknown, where: string, bad: (what: string) => never): KbUpdateFact {
  if (!isObject(u)) return bad(`${where} must be an object`);
  const kb = kbId(u.kb, `${where}.kb`, bad);
  const at = `${where} (${kb})`;
  const role = str(u.role, `${at}.role`, bad) as UpdateRole;
  if (!ROLES.includes(role)) bad(`${at}: unknown role ${JSON.stringify(role)}`);
  const released = str(u.released, `${at}.released`, bad);
  if (!DATE_RE.test(released) || Number.isNaN(Date.parse(released))) bad(`${at}: released ${JSON.stringify(released)} is not YYYY-MM-DD`);
  const restart = str(u.restart, `${at}.restart`, bad) as RestartBehaviour;
  if (!['required', 'possible', 'never'].includes(restart)) bad(`${at}: restart must be required|possible|never`);
  const prerequisites: KbPrerequisite[] = [];
  if (u.prerequisites !== undefined) {
    if (!Array.isArray(u.prerequisites)) bad(`${at}.prerequisites must be an array`);
    (u.prerequisites as unknown[]).forEach((p, i) => {
      if (!isObject(p)) bad(`${at}.prerequisites[${i}] must be an object`);
      const q = p as Record<string, unknown>;
      const pkb = kbId(q.kb, `${at}.prerequisites[${i}].kb`, bad);
      if (pkb === kb) bad(`${at} cannot be its own prerequisite`);
      prerequisites.push({ kb: pkb, source: str(q.source, `${at}.prerequisites[${i}].source`, bad) });
    });
  }
  const supersedes = u.supersedes === undefined ? [] : strList(u.supersedes, `${at}.supersedes`, bad).map((s) => kbId(s, `${at}.supersedes`, bad));
  const optInt = (v: unknown, name: string): number | null => (v === undefined ? null : int(v, `${at}.${name}`, bad));
  const optStr = (v: unknown, name: string): string | null => (v === undefined ? null : str(v, `${at}.${name}`, bad));
  const servicingStackVersion = optStr(u.servicingStackVersion, 'servicingStackVersion');
  if (servicingStackVersion !== null && !isDottedVersion(servicingStackVersion)) bad(`${at}: servicingStackVersion is not a.b.c.d`);
  const fileHint = optStr(u.fileHint, 'fileHint');
  if (fileHint !== null && !fileHint.includes('{arch}')) bad(`${at}: fileHint must contain {arch}`);
  return {
    kb,
    role,
    title: str(u.title, `${at}.title`, bad),
    released,
    restart,
    prerequisites,
    supersedes,
    products: u.products === undefined ? null : strList(u.products, `${at}.products`, bad),
    setsBuild: optInt(u.setsBuild, 'setsBuild'),
    bringsServicePack: optInt(u.bringsServicePack, 'bringsServicePack'),
    servicingStackVersion,
    fileHint,
    source: str(u.source, `${at}.source`, bad),
  };
}

/** A prerequisite cycle in the data would make every plan impossible; refuse the file instead. */
function assertAcyclic(updates: Map<string, KbUpdateFact>, bad: (what: string) => never): void {
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

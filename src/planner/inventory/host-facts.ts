import type { Architecture } from '../../package/types';
import { HOST_FACTS, type FactClaim, type HostFact, type HostInventory, type InventoryConflict, type InventoryEvidence, type OverruledByCbs, type OverruledInstalledClaim, type ServicingFacts } from '../types';
import { normaliseKb } from '../../knowledge/knowledge-base';

/** The normalised names the planner and the knowledge base use for products. */
export function normaliseProduct(osName: string): string | null {
  // systeminfo in the OEM code page turns "®" into "r" or garbage ("Serverr"): match on words only
  const s = ` ${osName.toUpperCase().replace(/[^A-Z0-9]+/g, ' ')} `;
  const server = /\bSERVERR?\b/.test(s);
  if (server && / 2008 R2 /.test(s)) return 'Windows Server 2008 R2';
  if (server && / 2008 /.test(s)) return 'Windows Server 2008';
  if (/ WINDOWSR? 7 /.test(s)) return 'Windows 7';
  // "Vista™" in the OEM code page becomes "VistaT"
  if (/ VISTAT? /.test(s)) return 'Windows Vista';
  return null;
}

/** "x64-based PC", "X86-based PC", "x64-basierter PC", "PC basado en x64", "AMD64", "64-bit", "Itanium" → architecture. */
export function normaliseArchitecture(text: string): Architecture | null {
  const s = text.trim().toLowerCase();
  if (/^(x64|amd64)\b|\bx64\b|^64-bit$|^64 bits?$/.test(s)) return 'amd64';
  if (/^(x86|i386)\b|\bx86\b|^32-bit$|^32 bits?$/.test(s)) return 'x86';
  if (/itanium|ia64/.test(s)) return 'ia64';
  return null;
}

/** Every reader starts from this and fills in what its input states. */
export function emptyInventory(name: string, source: string): HostInventory {
  return {
    name,
    product: null,
    ntVersion: null,
    build: null,
    revision: null,
    architecture: null,
    servicePack: null,
    installed: [],
    servicingStackVersion: null,
    sha2CodeSigning: null,
    pendingReboot: null,
    sources: [source],
    unknown: [],
    sections: { hotfixes: false },
    esuLicence: null,
    esuActivatedYears: null,
    files: [],
    evidence: [],
    conflicts: [],
  };
}

/** Fill `unknown` with the facts still null, and sort/dedupe the installed KB list. */
export function finishInventory(inv: HostInventory): HostInventory {
  inv.installed = [...new Set(inv.installed)].sort();
  inv.unknown = HOST_FACTS.filter((k) => inv[k] === null);
  // an empty list is a fact only when the input held the list: a cut-off systeminfo says nothing about updates
  if (!inv.sections.hotfixes) inv.unknown.push('installed');
  return inv;
}

/** What this (single-file) inventory states, remembered under its file name before files are merged. */
export function evidenceOf(inv: HostInventory, file: string): InventoryEvidence {
  const facts: InventoryEvidence['facts'] = {};
  for (const k of HOST_FACTS) {
    const v = inv[k];
    if (v !== null) facts[k] = v;
  }
  return {
    file, facts, installed: inv.sections.hotfixes ? [...inv.installed] : [],
    ...(inv.qfeList !== undefined ? { qfeList: inv.qfeList } : {}),
    ...(inv.servicing !== undefined ? { servicing: inv.servicing } : {}),
  };
}

/**
 * Why CBS says `kb`, which an installed-update list names, is not on the host: a package of the
 * update in a state that is not on the host, or, CBS naming no package of it, a RollupFix package not
 * on the host (the update may be that rollup); null when CBS says nothing against it. The one rule
 * for a collect file's own hotfix list and, when files are merged, for the host's other files' lists.
 */
export function servicingObjection(kb: string, cbs: ServicingFacts): Pick<OverruledByCbs, 'package' | 'state'> | null {
  const own = cbs.notOnHost.find((p) => p.kb === kb);
  if (own !== undefined) return { package: 'kb', state: own.state };
  if (cbs.rollupFix !== null && !cbs.onHost.includes(kb)) return { package: 'rollup-fix', state: cbs.rollupFix };
  return null;
}

/**
 * What the CBS sections of the host's collect files say of `kb` itself, by its own packages (no
 * RollupFix rule: that one is for updates only a hotfix list names): 'not-on-host' with the first
 * file and state that says so, 'on-host' when a file names its packages all on the host, 'unnamed'
 * when a CBS section was read and names no package of it, null when no CBS section was read.
 */
export function cbsOwnVerdict(kb: string, evidence: readonly InventoryEvidence[]): { verdict: 'not-on-host'; cbsFile: string; state: number } | { verdict: 'on-host' | 'unnamed' } | null {
  let read = false;
  let onHost = false;
  for (const e of evidence) {
    if (e.servicing === undefined) continue;
    read = true;
    const own = e.servicing.notOnHost.find((p) => p.kb === kb);
    if (own !== undefined) return { verdict: 'not-on-host', cbsFile: e.file, state: own.state };
    if (e.servicing.onHost.includes(kb)) onHost = true;
  }
  if (!read) return null;
  return { verdict: onHost ? 'on-host' : 'unnamed' };
}

const NO_FILES: readonly string[] = [];

/**
 * The files whose installed-update list names each KB, in the order of the evidence (a file once
 * however often it repeats the KB): who claimed an update installed, for a conflict or an overruled
 * claim to name. The installed lists, not the whole Win32_QuickFixEngineering lists (`qfeList`, which
 * listsDisagree compares): a collect file's installed list is what its CBS section left of its qfe
 * list, with the updates CBS names on the host. One pass over every file's list, made at the first
 * question (usually none is asked: only a contradicted or overruled claim names its files), so that
 * asking for each installed KB costs a look-up, not a scan of every list (a host of a few hundred KBs
 * in several inventory files).
 */
export function filesListing(evidence: readonly InventoryEvidence[]): (kb: string) => readonly string[] {
  let files: Map<string, string[]> | undefined;
  return (kb) => {
    if (files === undefined) {
      files = new Map();
      for (const e of evidence) {
        for (const listed of new Set(e.installed)) {
          const by = files.get(listed);
          if (by === undefined) files.set(listed, [e.file]);
          else by.push(e.file);
        }
      }
    }
    return files.get(kb) ?? NO_FILES;
  };
}

/**
 * The claim that the host's `fact` is `value`, with the files whose evidence states that very value
 * (in the order of the evidence; compared as read, `===`): for a conflict to say who claimed what.
 * The claims a fact's stated values make; an installed update's implied value is filesListing's.
 */
export function factClaim(evidence: readonly InventoryEvidence[], fact: HostFact, value: string | number | boolean): FactClaim {
  return { claim: { kind: 'fact', fact, value }, files: evidence.filter((e) => e.facts[fact] === value).map((e) => e.file) };
}

/** Adds `claim` to `list`, or its files to the entry `list` already holds for its KB (whose CBS file and state stand). */
export function addOverruled(list: OverruledInstalledClaim[], claim: OverruledInstalledClaim): void {
  const held = list.find((o) => o.kb === claim.kb);
  if (held === undefined) {
    list.push({ ...claim, listedBy: [...claim.listedBy] });
    return;
  }
  for (const f of claim.listedBy) if (!held.listedBy.includes(f)) held.listedBy.push(f);
  if (held.by === 'cbs' && claim.inferredFrom !== undefined && held.inferredFrom === undefined) held.inferredFrom = claim.inferredFrom;
}

/** Collect KB numbers out of free text values ("KB4474419", "http://support.microsoft.com/?kbid=4474419"). */
export function kbFromHotfixId(value: string): string | null {
  const direct = normaliseKb(value);
  if (direct) return direct;
  const m = /\bKB\s?(\d{5,7})\b/i.exec(value) ?? /kbid=(\d{5,7})/i.exec(value);
  return m ? `KB${m[1]}` : null;
}

/**
 * Two inventories of one host (say systeminfo + wmic qfe) become one: installed lists are
 * united, a fact known by either is kept. Facts on which they disagree are conflicts: recorded
 * with who claimed what, and the fact is left unknown (neither claim is believed).
 *
 * Except where a collect file's CBS section says an update is not on the host (servicingObjection):
 * CBS's verdict stands against any file's list, and the update is recorded as overruled, with the
 * files that list it, for the plan to say. Not a conflict that stops the plan: the lists do not
 * contradict CBS (wmic qfe, Get-HotFix and systeminfo read the same Win32_QuickFixEngineering, which
 * names an update waiting for its restart, and one whose removal waits for it), CBS is the host's
 * own record of what is installed, and the plan that follows its verdict cannot say "installed" of
 * what is not: if the list was right after all (taken after a restart that committed the update),
 * the update is a step install.cmd finds 'already installed'. A conflict would stop every plan of a
 * host with a restart pending given both its collect file and its systeminfo, to say what CBS settles.
 */
export function mergeInventories(a: HostInventory, b: HostInventory): { merged: HostInventory; conflicts: InventoryConflict[] } {
  const evidence = [...a.evidence, ...b.evidence];
  const { installed, overruled } = judgedInstalled([...a.installed, ...b.installed], evidence, [...(a.overruled ?? []), ...(b.overruled ?? [])]);
  // one file's CBS facts are not the merged host's: each stays in its file's evidence
  const { servicing: _ofOneFile, ...rest } = a;
  const merged: HostInventory = {
    ...rest,
    installed,
    ...(overruled.length > 0 ? { overruled } : {}),
    sources: [...a.sources, ...b.sources],
    sections: { hotfixes: a.sections.hotfixes || b.sections.hotfixes },
    files: [...a.files, ...b.files.filter((f) => !a.files.includes(f))],
    evidence,
    conflicts: [...a.conflicts.map((c) => ({ ...c, claims: [...c.claims] })), ...b.conflicts],
  };
  const fresh: InventoryConflict[] = [];
  const set = (k: HostFact, v: unknown): void => {
    (merged as unknown as Record<string, unknown>)[k] = v;
  };
  for (const k of HOST_FACTS) {
    const va = a[k];
    const vb = b[k];
    const open = merged.conflicts.find((c) => c.fact === k);
    if (open) {
      // already disputed: another value is one more claim, never the answer
      if (vb !== null && !open.claims.some((c) => c.claim.kind === 'fact' && c.claim.value === vb)) open.claims.push(factClaim(b.evidence, k, vb));
      set(k, null);
    } else if (va === null) set(k, vb);
    else if (vb !== null && va !== vb) {
      const conflict: InventoryConflict = { fact: k, claims: [factClaim(a.evidence, k, va), factClaim(b.evidence, k, vb)] };
      merged.conflicts.push(conflict);
      fresh.push(conflict);
      set(k, null);
    }
  }
  // the years of an activated ESU licence go with the status: believed only when the files agree on them
  merged.esuActivatedYears = merged.esuLicence === 'activated' ? agreedYears(a, b) : null;
  return { merged: finishInventory(merged), conflicts: fresh };
}

/**
 * `candidates` (the installed lists of the files merged) less what a file's CBS section says is not
 * on the host, and less what the files' whole hotfix lists disagree about (listsDisagree);
 * `overruled`, what the files already set aside, with those added (each with the files whose lists
 * name it).
 */
function judgedInstalled(candidates: string[], evidence: InventoryEvidence[], overruledBefore: OverruledInstalledClaim[]): { installed: string[]; overruled: OverruledInstalledClaim[] } {
  const judges = evidence.filter((e): e is InventoryEvidence & { servicing: ServicingFacts } => e.servicing !== undefined);
  const lists = evidence.filter((e): e is InventoryEvidence & { qfeList: string[] } => e.qfeList !== undefined);
  const overruled: OverruledInstalledClaim[] = [];
  for (const o of overruledBefore) addOverruled(overruled, o);
  if (judges.length === 0 && lists.length < 2) return { installed: candidates, overruled };
  const installed: string[] = [];
  const listedBy = filesListing(evidence);
  for (const kb of new Set(candidates)) {
    const judged = judges.map((e) => ({ cbsFile: e.file, objection: servicingObjection(kb, e.servicing) })).find((j) => j.objection !== null);
    if (judged !== undefined) {
      addOverruled(overruled, { by: 'cbs', kb, listedBy: [...listedBy(kb)], cbsFile: judged.cbsFile, ...judged.objection! });
      continue;
    }
    const silent = listsDisagree(kb, lists, evidence);
    if (silent !== null) addOverruled(overruled, { by: 'lists', kb, listedBy: [...listedBy(kb)], notListedBy: silent });
    else installed.push(kb);
  }
  return { installed, overruled };
}

/**
 * The files whose whole Win32_QuickFixEngineering list does not name `kb` while another's does;
 * null when they agree, or when a CBS section of the host names its packages all on the host (CBS
 * is the authority on what is there; its packages are what those lists are read from). Lists of
 * other kinds are not compared: a profile is written by hand, and a collect file's CBS packages
 * include updates those lists never show.
 */
function listsDisagree(kb: string, lists: readonly (InventoryEvidence & { qfeList: string[] })[], evidence: readonly InventoryEvidence[]): string[] | null {
  if (lists.length < 2) return null;
  const silent = lists.filter((e) => !e.qfeList.includes(kb));
  if (silent.length === 0 || silent.length === lists.length) return null;
  return cbsOwnVerdict(kb, evidence)?.verdict === 'on-host' ? null : silent.map((e) => e.file);
}

function agreedYears(a: HostInventory, b: HostInventory): number[] | null {
  const [x, y] = [a.esuLicence === 'activated' ? a.esuActivatedYears ?? null : null, b.esuLicence === 'activated' ? b.esuActivatedYears ?? null : null];
  if (x === null || y === null) return a.esuLicence === 'activated' && b.esuLicence === 'activated' ? null : x ?? y;
  return x.join() === y.join() ? x : null;
}

/** Host names are compared as Windows compares NetBIOS names: ASCII letters case-insensitively, nothing else folded. */
export function hostIdentity(name: string): string {
  return isAscii(name) ? name.replace(/[a-z]+/g, (m) => m.toUpperCase()) : name;
}

function isAscii(s: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /^[\x00-\x7f]*$/.test(s);
}

/** Letters of other scripts (and compatibility forms) that render like ASCII letters. */
const LOOKALIKES: Record<string, string> = {
  '\u017f': 'S', '\u0131': 'I', '\u212a': 'K', '\u212b': 'A',
  // Cyrillic
  '\u0430': 'A', '\u0410': 'A', '\u0412': 'B', '\u0435': 'E', '\u0415': 'E', '\u041a': 'K', '\u043a': 'K', '\u041c': 'M',
  '\u041d': 'H', '\u043e': 'O', '\u041e': 'O', '\u0440': 'P', '\u0420': 'P', '\u0441': 'C', '\u0421': 'C', '\u0422': 'T',
  '\u0443': 'Y', '\u0423': 'Y', '\u0445': 'X', '\u0425': 'X', '\u0456': 'I', '\u0406': 'I', '\u0458': 'J', '\u0408': 'J',
  '\u0455': 'S', '\u0405': 'S', '\u0501': 'D', '\u051b': 'Q', '\u051d': 'W',
  // Greek
  '\u0391': 'A', '\u0392': 'B', '\u0395': 'E', '\u0396': 'Z', '\u0397': 'H', '\u0399': 'I', '\u039a': 'K', '\u039c': 'M',
  '\u039d': 'N', '\u039f': 'O', '\u03bf': 'O', '\u03a1': 'P', '\u03a4': 'T', '\u03a5': 'Y', '\u03a7': 'X', '\u03b9': 'I',
};

/**
 * The ASCII name a non-ASCII host name imitates ("ſrv-freſh" → "SRV-FRESH", Cyrillic "ѕrv" → "SRV"),
 * or null when the name is ASCII or holds letters that look like no ASCII letter (a Japanese name).
 */
export function asciiLookalike(name: string): string | null {
  if (isAscii(name)) return null;
  let out = '';
  for (const ch of name) {
    const mapped = LOOKALIKES[ch] ?? (isAscii(ch) ? ch : null) ?? asciiCompatibilityForm(ch);
    if (mapped === null) return null;
    out += mapped;
  }
  return hostIdentity(out);
}

/** Full-width and other compatibility forms (NFKC) that decompose to ASCII: "ＳＲＶ" → "SRV". */
function asciiCompatibilityForm(ch: string): string | null {
  const n = ch.normalize('NFKC');
  return n !== ch && isAscii(n) ? n : null;
}

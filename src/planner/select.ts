import type { Architecture, Payload, PayloadKind } from '../package/types';
import type { KbFamily, KbUpdateFact } from '../knowledge/knowledge-base';
import { CHAIN_OF_ROLE } from './supersedence';
import type { SkipCause } from './causes';
import type { Baseline, PlanNotes } from './host-state';
import type { HostInventory } from './types';

/**
 * Which payloads of the catalog apply to this host: its family, product and architecture, a
 * valid signature, update.mum parents of its NT version; one file per KB. Everything else is
 * skipped with its cause.
 */

export interface Candidate {
  kb: string;
  payload: Payload;
  fact: KbUpdateFact | null;
  role: PayloadKind;
  released: string | null;
  restart: 'required' | 'possible' | 'never' | null;
}

export interface Skip {
  kb: string;
  cause: SkipCause;
}

export const ARCH_FILE: Record<Architecture, string> = { x86: 'x86', amd64: 'x64', ia64: 'ia64', arm64: 'arm64', neutral: 'neutral' };

export function selectCandidates(host: HostInventory, payloads: Payload[], family: KbFamily, base: Baseline, notes: PlanNotes): { candidates: Map<string, Candidate>; skipped: Skip[] } {
  const byKb = new Map<string, Candidate>();
  const skipped: Skip[] = [];
  const reportedInstalled = new Set<string>();
  for (const p of payloads) {
    // payloads of other families are not this host's business: not even worth a "skipped" line
    if (p.ntVersion !== family.ntVersion) continue;
    const fact = family.updates.get(p.kb) ?? null;
    const notApplicable = whyNotApplicable(host, p, fact, family);
    if (notApplicable) {
      skipped.push({ kb: p.kb, cause: notApplicable });
      continue;
    }
    if (base.installed.has(p.kb)) {
      if (!reportedInstalled.has(p.kb)) skipped.push({ kb: p.kb, cause: { kind: 'installed' } });
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
    skipped.push({ kb: p.kb, cause: { kind: 'other-file', file: drop.payload.fileName, planned: keep.payload.fileName } });
  }
  for (const c of byKb.values()) noteTrustAssumptions(c, family, base, notes);
  return { candidates: byKb, skipped };
}

function noteTrustAssumptions(c: Candidate, family: KbFamily, base: Baseline, notes: PlanNotes): void {
  if (!c.fact) {
    const chain = CHAIN_OF_ROLE[c.role] ? `; it is ordered among the ${c.role === 'servicing-stack' ? 'servicing stack updates' : 'rollups'} by its KB number` : '; it supersedes nothing';
    notes.assumptions.push(`${c.kb} is not in the knowledge base: its role (${c.role}) and restart behaviour come from its own metadata${chain}`);
  }
  if (c.kb === family.sha2SupportKb && c.payload.signatures === 'sha2-only' && !base.sha2Active) {
    notes.assumptions.push(`${c.payload.fileName} (SHA-2 code signing support) is itself signed with SHA-2 only; planned on the assumption that the host accepts it; if wusa refuses it, fetch a dual-signed (SHA-1 + SHA-2) release of ${c.kb}`);
  }
  if (c.payload.metadataVerified === false) notes.assumptions.push(`${c.kb}: its update.mum was not verified against its signed catalog (${c.payload.metadataReason ?? 'no reason given'}); its metadata is trusted as read`);
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

function whyNotApplicable(host: HostInventory, p: Payload, fact: KbUpdateFact | null, family: KbFamily): SkipCause | null {
  const file = p.fileName;
  if (p.signatures === 'invalid' || p.signatures === 'unsigned') return { kind: 'unsigned', file, signatures: p.signatures };
  if (p.architecture !== 'neutral') {
    if (host.architecture === null) return { kind: 'arch-unknown', file, built: p.architecture };
    if (p.architecture !== host.architecture) return { kind: 'arch-mismatch', file, built: p.architecture, host: host.architecture };
  }
  if (host.product !== null) {
    const products = p.products && p.products.length > 0 ? p.products : [p.product];
    const familyProducts = products.filter((x) => family.products.includes(x));
    // payload metadata that names no product we know of (e.g. "Windows 6.0") applies to the whole family
    if (familyProducts.length > 0 && !familyProducts.includes(host.product)) return { kind: 'product-mismatch', file, products: familyProducts, host: host.product };
    if (fact?.products && !fact.products.includes(host.product)) return { kind: 'kb-products', file, products: fact.products, host: host.product, source: fact.source };
  }
  for (const parent of p.parents) {
    if (parent.kb !== null) continue;
    // a non-KB parent (e.g. a foundation package) must at least belong to this NT version
    const v = parent.identity.version ? /^(\d+)\.(\d+)\./.exec(parent.identity.version) : null;
    if (v && `${v[1]}.${v[2]}` !== family.ntVersion) return { kind: 'parent-other-nt', file, parent: parent.identity.name, version: parent.identity.version ?? '', ntVersion: family.ntVersion };
  }
  return null;
}

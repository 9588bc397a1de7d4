import type { Architecture } from '../../package/types';
import type { HostInventory } from '../types';
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
    esuLicence: null,
  };
}

const FACTS: (keyof HostInventory)[] = [
  'product', 'ntVersion', 'build', 'revision', 'architecture', 'servicePack', 'servicingStackVersion', 'sha2CodeSigning', 'pendingReboot',
];

/** Fill `unknown` with the facts still null, and sort/dedupe the installed KB list. */
export function finishInventory(inv: HostInventory): HostInventory {
  inv.installed = [...new Set(inv.installed)].sort();
  inv.unknown = FACTS.filter((k) => inv[k] === null);
  if (inv.installed.length === 0 && !inv.sources.some((s) => s === 'systeminfo' || s === 'wmic-qfe' || s === 'get-hotfix' || s === 'collect' || s === 'profile')) {
    inv.unknown.push('installed');
  }
  return inv;
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
 * united, a fact known by either is kept, and disagreeing facts are an error the admin must see.
 */
export function mergeInventories(a: HostInventory, b: HostInventory): { merged: HostInventory; conflicts: string[] } {
  const conflicts: string[] = [];
  const merged: HostInventory = { ...a, installed: [...a.installed, ...b.installed], sources: [...a.sources, ...b.sources] };
  for (const k of FACTS) {
    const va = a[k];
    const vb = b[k];
    if (va === null) (merged as unknown as Record<string, unknown>)[k] = vb;
    else if (vb !== null && va !== vb) {
      // a build that moved forward between two reports is not a conflict worth failing on; keep the newer
      if (k === 'build' && typeof va === 'number' && typeof vb === 'number') (merged as unknown as Record<string, unknown>)[k] = Math.max(va, vb);
      else conflicts.push(`${k}: ${JSON.stringify(va)} vs ${JSON.stringify(vb)}`);
    }
  }
  return { merged: finishInventory(merged), conflicts };
}

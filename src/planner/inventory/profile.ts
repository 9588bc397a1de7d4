import { inputError } from '../../errors';
import { isDottedVersion } from '../../package/assembly-version';
import type { Architecture } from '../../package/types';
import type { HostInventory } from '../types';
import { emptyInventory, normaliseArchitecture, normaliseProduct } from './host-facts';
import { isEsuYear, normaliseKb } from '../../knowledge/knowledge-base';

/**
 * Our own JSON host profile, for hosts described by hand or by another tool:
 * {"name","product","ntVersion","build","revision","architecture","servicePack","installed":["KB…"],
 *  "servicingStackVersion"?,"sha2CodeSigning"?,"pendingReboot"?,"esuLicence"? ("activated" | "not-activated"),
 *  "esuYears"? (with "activated": the ESU years whose licence is activated, [1, 2, 3])}
 * Every field is validated; a field left out (or null) is recorded as unknown, never defaulted.
 */

export function looksLikeHostProfile(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && 'name' in value && 'installed' in value;
}

export function parseHostProfile(value: unknown, file: string): HostInventory {
  const doc = value as Record<string, unknown>;
  const bad = (what: string): never => {
    throw inputError('INVENTORY_PROFILE_FIELD', what, { file });
  };
  const known = new Set(['name', 'product', 'ntVersion', 'build', 'revision', 'architecture', 'servicePack', 'installed', 'servicingStackVersion', 'sha2CodeSigning', 'pendingReboot', 'esuLicence', 'esuYears']);
  for (const k of Object.keys(doc)) if (!known.has(k)) bad(`unknown field ${JSON.stringify(k)}`);
  if (typeof doc.name !== 'string' || doc.name.trim() === '') return bad('"name" must be a non-empty string');
  const inv = emptyInventory(doc.name.trim(), 'profile');
  const opt = <T>(key: string, check: (v: unknown) => T | undefined, what: string): T | null => {
    const v = doc[key];
    if (v === undefined || v === null) return null;
    const r = check(v);
    if (r === undefined) bad(`"${key}" must be ${what}, not ${JSON.stringify(v)}`);
    return r as T;
  };
  const nonNegInt = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined);
  inv.product = opt('product', (v) => (typeof v === 'string' ? normaliseProduct(v) ?? undefined : undefined), 'a known product ("Windows Server 2008", "Windows 7", …)');
  inv.ntVersion = opt('ntVersion', (v) => (typeof v === 'string' && /^\d+\.\d+$/.test(v) ? v : undefined), '"major.minor" like "6.0"');
  inv.build = opt('build', nonNegInt, 'a build number');
  inv.revision = opt('revision', nonNegInt, 'a revision number');
  inv.architecture = opt<Architecture>('architecture', (v) => (typeof v === 'string' ? normaliseArchitecture(v) ?? undefined : undefined), 'x86, amd64 (x64) or ia64');
  inv.servicePack = opt('servicePack', nonNegInt, 'a service pack level (0 for RTM)');
  inv.servicingStackVersion = opt('servicingStackVersion', (v) => (typeof v === 'string' && isDottedVersion(v) ? v : undefined), 'a version a.b.c.d');
  inv.sha2CodeSigning = opt('sha2CodeSigning', (v) => (typeof v === 'boolean' ? v : undefined), 'true or false');
  inv.pendingReboot = opt('pendingReboot', (v) => (typeof v === 'boolean' ? v : undefined), 'true or false');
  inv.esuLicence = opt('esuLicence', (v) => (v === 'activated' || v === 'not-activated' ? v : undefined), '"activated" or "not-activated"');
  // which ESU years' licences are activated (each year is a licence of its own); without it, not known
  inv.esuActivatedYears = opt('esuYears', (v) => (Array.isArray(v) && v.every(isEsuYear) ? [...new Set(v as number[])].sort((a, b) => a - b) : undefined), 'an array of ESU years (1, 2, …)');
  if (inv.esuActivatedYears !== null && inv.esuLicence !== 'activated') bad('"esuYears" goes with "esuLicence": "activated"');
  if (!Array.isArray(doc.installed)) return bad('"installed" must be an array of KB numbers');
  inv.sections.hotfixes = true;
  for (const k of doc.installed) {
    const kb = typeof k === 'string' ? normaliseKb(k) : null;
    if (kb === null) bad(`"installed" holds ${JSON.stringify(k)}, which is not a KB number`);
    inv.installed.push(kb as string);
  }
  return inv;
}

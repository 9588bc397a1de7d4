import { inputError } from '../../errors';
import type { HostInventory } from '../types';
import { emptyInventory, kbFromHotfixId, normaliseArchitecture, normaliseProduct } from './host-facts';
import { parseCsvRecords, splitLines } from './text';

/**
 * `systeminfo` (English) in its default list form and in `/fo csv`. The fields that matter:
 *   Host Name:                 SRV01
 *   OS Name:                   Microsoft® Windows Server® 2008 Standard
 *   OS Version:                6.0.6002 Service Pack 2 Build 6002
 *   System Type:               x64-based PC
 *   Hotfix(s):                 3 Hotfix(s) Installed.
 *                              [01]: KB955430
 * Localised systeminfo output (other field names) is not recognised: detection fails and
 * the reader says so rather than guessing.
 */

export function looksLikeSystemInfoList(text: string): boolean {
  return /^\s*Host Name:\s/m.test(text) && /^\s*OS Version:\s/m.test(text);
}

export function looksLikeSystemInfoCsv(text: string): boolean {
  return /^\s*"Host Name","OS Name","OS Version"/.test(text);
}

export function parseSystemInfoList(text: string, file: string): HostInventory {
  const fields = new Map<string, string>();
  const hotfixes: string[] = [];
  let inHotfixes = false;
  for (const line of splitLines(text)) {
    const continuation = /^\s+\[(\d+)\]:\s*(.*)$/.exec(line);
    if (continuation) {
      if (inHotfixes) hotfixes.push(continuation[2].trim());
      continue;
    }
    const m = /^([A-Za-z][^:]*?):\s*(.*)$/.exec(line);
    if (!m) continue;
    const key = m[1].trim();
    inHotfixes = key === 'Hotfix(s)';
    if (!fields.has(key)) fields.set(key, m[2].trim());
  }
  return inventoryFromFields(fields, hotfixes, file);
}

export function parseSystemInfoCsv(text: string, file: string): HostInventory {
  const rows = parseCsvRecords(text);
  if (rows.length < 2) throw inputError('INVENTORY_SYSTEMINFO_CSV_EMPTY', 'systeminfo CSV has a header but no data row', { file });
  if (rows.length > 2) throw inputError('INVENTORY_SYSTEMINFO_CSV_MANY', `systeminfo CSV holds ${rows.length - 1} hosts; give one file per host`, { file });
  const [header, values] = rows;
  const fields = new Map<string, string>();
  header.forEach((h, i) => fields.set(h.trim(), (values[i] ?? '').trim()));
  // in CSV the hotfix list is one field: "3 Hotfix(s) Installed.,[01]: KB955430,[02]: …"
  const hotfixes = (fields.get('Hotfix(s)') ?? '')
    .split(',')
    .map((s) => /^\s*\[\d+\]:\s*(.*)$/.exec(s)?.[1]?.trim())
    .filter((s): s is string => s !== undefined);
  return inventoryFromFields(fields, hotfixes, file);
}

function inventoryFromFields(fields: Map<string, string>, hotfixes: string[], file: string): HostInventory {
  const name = fields.get('Host Name');
  if (!name) throw inputError('INVENTORY_SYSTEMINFO_NO_HOST', 'systeminfo output without a "Host Name" field', { file });
  const inv = emptyInventory(name, 'systeminfo');
  const osName = fields.get('OS Name');
  if (osName) inv.product = normaliseProduct(osName);
  const osVersion = fields.get('OS Version');
  if (osVersion) {
    // "6.0.6002 Service Pack 2 Build 6002", "6.1.7601 Service Pack 1 Build 7601", "6.0.6001 Service Pack 1, v.1616 Build 6001"
    const v = /^(\d+)\.(\d+)\.(\d+)\b/.exec(osVersion);
    if (!v) throw inputError('INVENTORY_SYSTEMINFO_BAD_VERSION', `OS Version ${JSON.stringify(osVersion)} is not "major.minor.build …"`, { file });
    inv.ntVersion = `${v[1]}.${v[2]}`;
    inv.build = Number(v[3]);
    const sp = /Service Pack (\d+)/i.exec(osVersion);
    inv.servicePack = sp ? Number(sp[1]) : 0;
  }
  const systemType = fields.get('System Type');
  if (systemType) inv.architecture = normaliseArchitecture(systemType);
  const list = fields.get('Hotfix(s)');
  if (list !== undefined) {
    for (const h of hotfixes) {
      const kb = kbFromHotfixId(h);
      // pre-Vista systems list "File 1" / "Q147222" entries: they name no KB and are ignored
      if (kb) inv.installed.push(kb);
    }
  }
  return inv;
}

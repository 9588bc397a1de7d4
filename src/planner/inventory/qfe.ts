import * as path from 'node:path';
import { inputError } from '../../errors';
import type { HostInventory } from '../types';
import { emptyInventory, kbFromHotfixId } from './host-facts';
import { parseCsvRecords, splitLines } from './text';

/**
 * The installed-update list as Win32_QuickFixEngineering reports it, in the shapes admins
 * actually export:
 *  - `wmic qfe` / `wmic qfe list brief` / `wmic qfe get …`: a fixed-width table whose column
 *    starts are given by the header line (UTF-16LE with BOM when redirected to a file);
 *  - `wmic qfe list full`: "HotFixID=KB…" lines;
 *  - `wmic qfe … /format:csv`: "Node,Caption,CSName,…,HotFixID,…";
 *  - PowerShell `Get-HotFix | Export-Csv` (a "#TYPE …Win32_QuickFixEngineering" line first
 *    unless -NoTypeInformation) and `Get-HotFix | ConvertTo-Json`.
 */

export function looksLikeWmicTable(text: string): boolean {
  const first = firstNonEmptyLine(text);
  return first !== null && /\bHotFixID\b/.test(first) && !first.includes(',') && !first.includes('=');
}

export function looksLikeWmicList(text: string): boolean {
  return /^\s*HotFixID=/m.test(text) && !/^\s*[\[{]/.test(text);
}

export function looksLikeQfeCsv(text: string): boolean {
  const first = firstNonEmptyLine(text);
  if (first === null) return false;
  if (/^#TYPE\b.*QuickFixEngineering/i.test(first)) return true;
  return /(^|,)"?HotFixID"?(,|$)/.test(first);
}

export function looksLikeHotFixJson(value: unknown): boolean {
  const items = Array.isArray(value) ? value : [value];
  return items.length > 0 && items.every((x) => typeof x === 'object' && x !== null && 'HotFixID' in x);
}

function firstNonEmptyLine(text: string): string | null {
  for (const l of splitLines(text)) if (l.trim() !== '') return l;
  return null;
}

export function parseWmicTable(text: string, file: string): HostInventory {
  const lines = splitLines(text);
  // the first run of wmic on a host prints "Please wait while WMIC is being installed." before the table
  const headerIndex = lines.findIndex((l) => /\bHotFixID\b/.test(l));
  if (headerIndex < 0) throw inputError('INVENTORY_QFE_NO_HOTFIXID', 'wmic table without a HotFixID column', { file });
  const header = lines[headerIndex];
  const columns: { name: string; start: number }[] = [];
  const re = /\S+/g;
  for (let m = re.exec(header); m; m = re.exec(header)) columns.push({ name: m[0], start: m.index });
  const col = (name: string): number => columns.findIndex((c) => c.name === name);
  const hotfix = col('HotFixID');
  const cs = col('CSName');
  if (hotfix < 0) throw inputError('INVENTORY_QFE_NO_HOTFIXID', 'wmic table without a HotFixID column', { file });
  const cell = (line: string, i: number): string => line.slice(columns[i].start, i + 1 < columns.length ? columns[i + 1].start : undefined).trim();
  let host: string | null = null;
  const kbs: string[] = [];
  for (const line of lines.slice(headerIndex + 1)) {
    if (line.trim() === '') continue;
    const id = cell(line, hotfix);
    const kb = kbFromHotfixId(id);
    if (kb) kbs.push(kb);
    else if (id !== '' && !/^File \d+$/i.test(id)) {
      throw inputError('INVENTORY_QFE_BAD_ROW', `HotFixID ${JSON.stringify(id)} is not a KB number (is the table's column layout intact?)`, { file });
    }
    if (cs >= 0 && cell(line, cs) !== '') host = sameHost(host, cell(line, cs), file);
  }
  return qfeInventory(host, kbs, 'wmic-qfe', file);
}

export function parseWmicList(text: string, file: string): HostInventory {
  let host: string | null = null;
  const kbs: string[] = [];
  for (const line of splitLines(text)) {
    const m = /^\s*(\w+)=(.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === 'HotFixID') {
      const kb = kbFromHotfixId(m[2]);
      if (kb) kbs.push(kb);
    } else if (m[1] === 'CSName' && m[2].trim() !== '') host = sameHost(host, m[2].trim(), file);
  }
  return qfeInventory(host, kbs, 'wmic-qfe', file);
}

export function parseQfeCsv(text: string, file: string): HostInventory {
  const rows = parseCsvRecords(text);
  const getHotFix = rows.length > 0 && rows[0].length === 1 && /^#TYPE\b/i.test(rows[0][0]);
  const body = getHotFix ? rows.slice(1) : rows;
  if (body.length === 0) throw inputError('INVENTORY_QFE_CSV_EMPTY', 'hotfix CSV without a header row', { file });
  const header = body[0].map((h) => h.trim());
  const at = (name: string): number => header.indexOf(name);
  const hotfix = at('HotFixID');
  if (hotfix < 0) throw inputError('INVENTORY_QFE_NO_HOTFIXID', 'hotfix CSV without a HotFixID column', { file });
  // wmic /format:csv names the host in "Node"; Export-Csv in "CSName", "PSComputerName" or "__SERVER"
  const hostCols = ['CSName', 'Node', 'PSComputerName', '__SERVER', 'Source'].map(at).filter((i) => i >= 0);
  let host: string | null = null;
  const kbs: string[] = [];
  for (const row of body.slice(1)) {
    if (row.length !== header.length) {
      throw inputError('INVENTORY_QFE_CSV_ROW', `a row has ${row.length} fields where the header has ${header.length}`, { file });
    }
    const kb = kbFromHotfixId(row[hotfix]);
    if (kb) kbs.push(kb);
    const named = hostCols.map((i) => row[i].trim()).find((v) => v !== '');
    if (named !== undefined) host = sameHost(host, named, file);
  }
  return qfeInventory(host, kbs, getHotFix || at('PSComputerName') >= 0 || at('__SERVER') >= 0 ? 'get-hotfix' : 'wmic-qfe', file);
}

export function parseHotFixJson(value: unknown, file: string): HostInventory {
  const items = (Array.isArray(value) ? value : [value]) as Record<string, unknown>[];
  let host: string | null = null;
  const kbs: string[] = [];
  for (const item of items) {
    const id = item.HotFixID;
    if (typeof id !== 'string') throw inputError('INVENTORY_HOTFIX_JSON', 'a Get-HotFix entry whose HotFixID is not a string', { file });
    const kb = kbFromHotfixId(id);
    if (kb) kbs.push(kb);
    const named = ['CSName', 'PSComputerName', '__SERVER', 'Source'].map((k) => item[k]).find((v): v is string => typeof v === 'string' && v.trim() !== '');
    if (named !== undefined) host = sameHost(host, named.trim(), file);
  }
  return qfeInventory(host, kbs, 'get-hotfix', file);
}

/** `wmic /node:A,B qfe` or `Get-HotFix -ComputerName A,B` list several hosts in one file: refuse, never merge them. */
function sameHost(current: string | null, named: string, file: string): string {
  if (current !== null && current.toUpperCase() !== named.toUpperCase()) {
    throw inputError('INVENTORY_QFE_MANY_HOSTS', `the hotfix list names several computers (${current}, ${named}); give one file per host`, { file });
  }
  return current ?? named;
}

function qfeInventory(host: string | null, kbs: string[], source: string, file: string): HostInventory {
  // `wmic qfe get HotFixID` names no computer: the file name is the best name the admin gave us
  const inv = emptyInventory(host ?? path.basename(file).replace(/\.[^.]*$/, ''), source);
  inv.installed = kbs;
  return inv;
}

import path = require('node:path');
import { inputError } from '../../errors';
import type { HostInventory } from '../types';
import { emptyInventory, kbFromHotfixId } from './host-facts';
import { csvDelimiter, parseCsvRecords, splitLines } from './text';

/**
 * The installed-update list as Win32_QuickFixEngineering reports it, in the shapes admins
 * actually export:
 *  - `wmic qfe` / `wmic qfe list brief` / `wmic qfe get …`: a fixed-width table whose column
 *    starts are given by the header line (UTF-16LE with BOM when redirected to a file);
 *  - `wmic qfe list full`: "HotFixID=KB…" lines;
 *  - `wmic qfe … /format:csv`: "Node,Caption,CSName,…,HotFixID,…";
 *  - PowerShell `Get-HotFix | Export-Csv` (a "#TYPE …Win32_QuickFixEngineering" line first
 *    unless -NoTypeInformation; `;`-separated with -UseCulture on a German or French host) and
 *    `Get-HotFix | ConvertTo-Json`;
 *  - PowerShell's default table, `Get-HotFix > file` (UTF-16LE): a header, a line of dashes
 *    giving each column's extent, then rows; "Source" names the computer. A cell PowerShell cut
 *    to fit the width ends in "..." and is refused rather than read as a shorter KB number.
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
  return /(^|[,;])"?HotFixID"?([,;]|$)/.test(first);
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
  const { columns, rows, source } = tableRows(lines, headerIndex);
  // a header naming HotFixID only inside a longer word ("HotFixID:") has no such column
  if (!columns.includes('HotFixID')) throw inputError('INVENTORY_QFE_NO_HOTFIXID', 'wmic table without a HotFixID column', { file });
  let host: string | null = null;
  const kbs: string[] = [];
  for (const { line, cells } of rows) {
    const id = cells.get('HotFixID')!;
    if (/(\.\.\.|…)$/.test(id)) {
      throw inputError('INVENTORY_QFE_CUT_CELL', `line ${line}: HotFixID ${JSON.stringify(id)} was cut to fit the table width (export with Export-Csv or Format-Table -AutoSize | Out-File -Width 4096)`, { file });
    }
    const kb = kbFromHotfixId(id);
    if (kb) kbs.push(kb);
    else if (id !== '' && !/^File \d+$/i.test(id)) {
      throw inputError('INVENTORY_QFE_BAD_ROW', `HotFixID ${JSON.stringify(id)} is not a KB number (is the table's column layout intact?)`, { file });
    }
    // wmic names the computer CSName; PowerShell's Get-HotFix table shows it as "Source"
    const cs = cells.has('CSName') ? cells.get('CSName')! : cells.get('Source');
    if (cs !== undefined && cs !== '' && !/(\.\.\.|…)$/.test(cs)) host = sameHost(host, cs, file);
  }
  return qfeInventory(host, kbs, source, file);
}

/**
 * The rows under the header at `headerIndex` of a fixed-width table (wmic's own, or PowerShell's
 * default one), each as its cells by column name, trimmed, with its line number (1-based), and
 * the columns' names. Blank lines are no rows. The one table reader of the inventory code: the collect file's wmic table
 * sections (collect.ts) are read with it too.
 */
export function tableRows(lines: readonly string[], headerIndex: number): { columns: string[]; rows: { line: number; cells: Map<string, string> }[]; source: string } {
  const { columns, firstRow, source } = tableColumns(lines, headerIndex);
  const rows: { line: number; cells: Map<string, string> }[] = [];
  for (const [offset, line] of lines.slice(firstRow).entries()) {
    if (line.trim() === '') continue;
    const cells = new Map<string, string>();
    for (const c of columns) if (!cells.has(c.name)) cells.set(c.name, line.slice(c.start, c.end).trim());
    rows.push({ line: firstRow + offset + 1, cells });
  }
  return { columns: columns.map((c) => c.name), rows, source };
}

/**
 * Column extents of a fixed-width table: from PowerShell's dashes line under the header when
 * there is one ("------  -----------  --------"), else from where wmic's header words start.
 */
function tableColumns(lines: readonly string[], headerIndex: number): { columns: { name: string; start: number; end: number | undefined }[]; firstRow: number; source: string } {
  const header = lines[headerIndex];
  const dashes = lines[headerIndex + 1] ?? '';
  const runs = (line: string, re: RegExp): { text: string; start: number }[] => [...line.matchAll(re)].map((m) => ({ text: m[0], start: m.index ?? 0 }));
  if (/^[\s-]*-{2,}[\s-]*$/.test(dashes)) {
    const extents = runs(dashes, /-+/g);
    const columns = extents.map((r, i) => ({
      name: header.slice(r.start, r.start + r.text.length).trim(),
      start: r.start,
      // a cell may run past its dashes into the gap (right-aligned or wide values): take up to the next column
      end: i + 1 < extents.length ? extents[i + 1].start : undefined,
    }));
    return { columns, firstRow: headerIndex + 2, source: 'get-hotfix' };
  }
  const words = runs(header, /\S+/g);
  const columns = words.map((w, i) => ({ name: w.text, start: w.start, end: i + 1 < words.length ? words[i + 1].start : undefined }));
  return { columns, firstRow: headerIndex + 1, source: 'wmic-qfe' };
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
  const lines = splitLines(text).filter((l) => l.trim() !== '');
  const headerLine = lines.find((l) => !/^#TYPE\b/i.test(l)) ?? '';
  const rows = parseCsvRecords(text, csvDelimiter(headerLine));
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
  inv.qfeList = [...kbs];
  inv.sections.hotfixes = true;
  return inv;
}

import { inputError, isCabferryError } from '../../errors';
import { readRegularFile } from '../../io/regular-file';
import type { HostInventory } from '../types';
import { evidenceOf, finishInventory, hostIdentity, mergeInventories } from './host-facts';
import { looksLikeCollectFile, parseCollectFile } from './collect';
import { looksLikeHostProfile, parseHostProfile } from './profile';
import { looksLikeHotFixJson, looksLikeQfeCsv, looksLikeWmicList, looksLikeWmicTable, parseHotFixJson, parseQfeCsv, parseWmicList, parseWmicTable } from './qfe';
import { bestSystemInfoDecoding, looksLikeSystemInfoCsv, looksLikeSystemInfoList, parseSystemInfoCsv, parseSystemInfoList } from './systeminfo';
import { decodeCandidates } from './text';

export type InventoryFormat = 'collect' | 'profile' | 'systeminfo' | 'systeminfo-csv' | 'wmic-qfe' | 'wmic-qfe-list' | 'qfe-csv' | 'get-hotfix-json';

/** Inventories larger than this are not host reports (systeminfo of a host with 1,000 hotfixes is ~60 KiB). */
const MAX_INVENTORY_BYTES = 16 * 1024 * 1024;

/** Recognise the format by content (never by file name) and read it. */
export function parseHostInventory(bytes: Uint8Array, file: string): { inventory: HostInventory; format: InventoryFormat } {
  if (bytes.byteLength > MAX_INVENTORY_BYTES) throw inputError('INVENTORY_TOO_LARGE', `${bytes.byteLength} bytes is too large for a host inventory`, { file });
  // an 8-bit file carries no mark of its code page: take the decoding under which systeminfo labels read as labels
  const text = bestSystemInfoDecoding(decodeCandidates(bytes)).text.replace(/^\uFEFF/, '');
  // No tool an inventory comes from writes a NUL into its text (UTF-16 is decoded by now): a run of
  // them is data that never reached the stick (pulled, or a FAT volume not flushed, before the
  // file's clusters were written), and what was there (a CBS package waiting for its restart, say)
  // cannot be known. The rest of such a file proves nothing: refused.
  const nul = text.indexOf('\u0000');
  if (nul >= 0) {
    const line = text.slice(0, nul).split('\n').length;
    throw inputError('INVENTORY_DAMAGED', `NUL characters from line ${line} on: part of the file never reached the medium (pulled out, or not flushed, while it was written); collect the inventory again`, { file });
  }
  const { inventory, format } = detectAndParse(text, file);
  if (inventory.name.trim() === '') throw inputError('INVENTORY_NO_HOST', 'the inventory names no host', { file });
  return { inventory: finishInventory(inventory), format };
}

function detectAndParse(text: string, file: string): { inventory: HostInventory; format: InventoryFormat } {
  if (looksLikeCollectFile(text)) return { inventory: parseCollectFile(text, file), format: 'collect' };
  // a collect file of a format this cabferry does not know (a newer collect.cmd's): said as such, not as bad JSON
  const other = /^\[\[cabferry-inventory (\S{1,16})\]\]/.exec(text.trimStart());
  if (other) {
    throw inputError('INVENTORY_COLLECT_VERSION', `a collect file of format ${other[1]}, which this cabferry does not read (it reads formats 1 and 2): plan with the cabferry whose collect.cmd wrote it, or collect again with this one's (cabferry collect-script)`, { file });
  }
  const trimmed = text.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch (e) {
      throw inputError('INVENTORY_BAD_JSON', `not valid JSON: ${(e as Error).message}`, { file });
    }
    if (looksLikeHostProfile(value)) return { inventory: parseHostProfile(value, file), format: 'profile' };
    if (looksLikeHotFixJson(value)) return { inventory: parseHotFixJson(value, file), format: 'get-hotfix-json' };
    throw inputError('INVENTORY_UNKNOWN_JSON', 'JSON that is neither a cabferry host profile (name, installed) nor Get-HotFix output (HotFixID)', { file });
  }
  if (looksLikeSystemInfoCsv(text)) return { inventory: parseSystemInfoCsv(text, file), format: 'systeminfo-csv' };
  if (looksLikeSystemInfoList(text)) return { inventory: parseSystemInfoList(text, file), format: 'systeminfo' };
  if (looksLikeQfeCsv(text)) return { inventory: parseQfeCsv(text, file), format: 'qfe-csv' };
  if (looksLikeWmicList(text)) return { inventory: parseWmicList(text, file), format: 'wmic-qfe-list' };
  if (looksLikeWmicTable(text)) return { inventory: parseWmicTable(text, file), format: 'wmic-qfe' };
  throw inputError(
    'INVENTORY_UNKNOWN_FORMAT',
    'not a recognised host inventory (expected systeminfo list or CSV, wmic qfe, Get-HotFix table/CSV/JSON, a cabferry profile or collect-script output)',
    { file },
  );
}

export function readHostInventory(file: string): { inventory: HostInventory; format: InventoryFormat } {
  // an inventory comes back on the medium: judged on the open descriptor (a FIFO swapped in is refused, not waited on) and bounded
  let bytes: Buffer;
  try {
    bytes = readRegularFile(file, { maxBytes: MAX_INVENTORY_BYTES, what: 'the host inventory' });
  } catch (e) {
    if (!isCabferryError(e)) throw e;
    const code = e.code === 'FILE_NOT_REGULAR' ? 'INVENTORY_NOT_A_FILE' : e.code === 'FILE_TOO_LARGE' ? 'INVENTORY_TOO_LARGE' : 'INVENTORY_UNREADABLE';
    throw inputError(code, e.message, { file, cause: e });
  }
  return parseHostInventory(bytes, file);
}

/**
 * Read several files and group them by host name: a systeminfo and a wmic qfe file of one host
 * make one inventory. Names match only when equal as ASCII, case-insensitively (as Windows compares
 * computer names); a name with other characters ("ſrv-fresh") is never folded into another. Facts
 * the files disagree on are recorded as conflicts for the plan to name. Order of first appearance is kept.
 */
export function readHostInventories(files: string[]): HostInventory[] {
  const byName = new Map<string, HostInventory>();
  for (const file of files) {
    const { inventory } = readHostInventory(file);
    inventory.files = [file];
    inventory.evidence = [evidenceOf(inventory, file)];
    const key = hostIdentity(inventory.name);
    const prev = byName.get(key);
    byName.set(key, prev ? mergeInventories(prev, inventory).merged : inventory);
  }
  return [...byName.values()];
}

export { mergeInventories } from './host-facts';

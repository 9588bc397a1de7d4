import { inputError } from '../../errors';
import type { HostInventory } from '../types';
import { emptyInventory, kbFromHotfixId, normaliseArchitecture, normaliseProduct } from './host-facts';
import { parseCsvRecords, splitLines, type DecodedText } from './text';

/**
 * `systeminfo` in its default list form and in `/fo csv`, in any display language.
 *
 * Recognised by structure, not by wording: systeminfo prints the same fields in the same order
 * in every language (on NT 6.0 / 6.1: host name first, OS name, OS version, … system type 14th,
 * … the hotfix list 31st of 32), the OS version starts "6.0.6002 …", and list entries are
 * "[01]: KB955430" lines. The label tables below name the fields in the languages we know; they
 * pick the code page an 8-bit file was written in and let a partial output be read by label.
 * When the first label is in no table, the fields are read by position, and only when the
 * whole structure checks out (enough fields, a version at the third, a hotfix list at the 31st).
 *
 * What each field looks like, English and German (from real outputs):
 *   Host Name:                 SRV01                       Hostname:                 SRV01
 *   OS Version:                6.0.6002 Service Pack 2 Build 6002
 *                                                          Betriebssystemversion:    6.1.7601 Service Pack 1 Build 7601
 *   System Type:               x64-based PC                Systemtyp:                x64-based PC
 *   Hotfix(s):                 3 Hotfix(s) Installed.      Hotfix(es):               263 Hotfix(e) installiert.
 *                              [01]: KB955430                                        [01]: KB2849697
 * The system type is WMI's untranslated Win32_ComputerSystem.SystemType on the hosts seen.
 */

export type SystemInfoLanguage = 'en' | 'de' | 'fr' | 'es' | 'it' | 'pt-BR' | 'ja';
type FieldKey = 'hostName' | 'osName' | 'osVersion' | 'systemType' | 'hotfixes';

/**
 * Label texts per language. Confirmed from real systeminfo outputs (bitsadmin/wesng
 * validation/*.txt): en, de (Windows 7 SP1), fr (Windows 7 SP1, cmd and PowerShell captures),
 * es (Windows 10 1809), it (Windows 10 1803); Russian (Server 2012 R2) confirmed the field order
 * for reading by position. Not confirmed from any source we could read: pt-BR and ja; a wrong label
 * there only means those files are read by position.
 */
export const SYSTEMINFO_LABELS: Record<SystemInfoLanguage, Record<FieldKey, string>> = {
  en: { hostName: 'Host Name', osName: 'OS Name', osVersion: 'OS Version', systemType: 'System Type', hotfixes: 'Hotfix(s)' },
  de: { hostName: 'Hostname', osName: 'Betriebssystemname', osVersion: 'Betriebssystemversion', systemType: 'Systemtyp', hotfixes: 'Hotfix(es)' },
  fr: { hostName: "Nom de l'hôte", osName: "Nom du système d'exploitation", osVersion: 'Version du système', systemType: 'Type du système', hotfixes: 'Correctif(s)' },
  es: { hostName: 'Nombre de host', osName: 'Nombre del sistema operativo', osVersion: 'Versión del sistema operativo', systemType: 'Tipo de sistema', hotfixes: 'Revisión(es)' },
  it: { hostName: 'Nome host', osName: 'Nome SO', osVersion: 'Versione SO', systemType: 'Tipo sistema', hotfixes: 'Aggiornamenti rapidi' },
  'pt-BR': { hostName: 'Nome do host', osName: 'Nome do sistema operacional', osVersion: 'Versão do sistema operacional', systemType: 'Tipo de sistema', hotfixes: 'Hotfix(es)' },
  ja: { hostName: 'ホスト名', osName: 'OS 名', osVersion: 'OS バージョン', systemType: 'システムの種類', hotfixes: 'ホットフィックス' },
};

/** Where each field stands in systeminfo's fixed order on NT 6.0 / 6.1 (0-based), and how many fields there are at least. */
const POSITION: Record<FieldKey, number> = { hostName: 0, osName: 1, osVersion: 2, systemType: 13, hotfixes: 30 };
const MIN_FIELDS = 31;
const VERSION = /^(\d+)\.(\d+)\.(\d{4,5})(?!\d)/;
const ENTRY = /^\[(\d+)\]\s*[:：]\s*(.*)$/;

/** One "Label: value" field with its "[01]: …" entries (list continuation lines, or the CSV cell's comma-separated rest). */
interface SystemInfoField {
  label: string;
  value: string;
  entries: string[];
}

export interface SystemInfoReading {
  inventory: HostInventory;
  /** null: read by position (the labels are in no table) */
  language: SystemInfoLanguage | null;
  /** false when the hotfix field is missing, or lists fewer entries than it says it has (systeminfo cuts long lists) */
  hotfixListComplete: boolean;
}

function normaliseLabel(label: string): string {
  return label.normalize('NFC').replace(/[\s\u00a0\u3000]+/g, ' ').trim().toLowerCase();
}

const LABEL_INDEX: Map<string, { lang: SystemInfoLanguage; key: FieldKey }[]> = (() => {
  const m = new Map<string, { lang: SystemInfoLanguage; key: FieldKey }[]>();
  for (const [lang, labels] of Object.entries(SYSTEMINFO_LABELS) as [SystemInfoLanguage, Record<FieldKey, string>][]) {
    for (const [key, label] of Object.entries(labels) as [FieldKey, string][]) {
      const k = normaliseLabel(label);
      m.set(k, [...(m.get(k) ?? []), { lang, key }]);
    }
  }
  return m;
})();

function languagesNamingHost(label: string): SystemInfoLanguage[] {
  return (LABEL_INDEX.get(normaliseLabel(label)) ?? []).filter((e) => e.key === 'hostName').map((e) => e.lang);
}

// ---------------------------------------------------------------- the two layouts → fields

function listFields(text: string): SystemInfoField[] {
  const fields: SystemInfoField[] = [];
  for (const line of splitLines(text)) {
    if (line.trim() === '') continue;
    if (/^[\s\u00a0]/.test(line)) {
      // a continuation line: "[01]: KB955430", or the network card's nested lines
      fields[fields.length - 1]?.entries.push(line.trim());
      continue;
    }
    // the first colon ends the label: labels of the fields we read hold none ("Page File: Max Size" splits early, harmlessly)
    const m = /^(.+?)[:：](?:[\s\u00a0]+(.*))?$/.exec(line);
    if (m) fields.push({ label: m[1].trim(), value: (m[2] ?? '').trim(), entries: [] });
  }
  return fields;
}

function csvFields(text: string): { fields: SystemInfoField[]; rows: number } {
  const rows = parseCsvRecords(text);
  if (rows.length < 2) return { fields: (rows[0] ?? []).map((label) => ({ label: label.trim(), value: '', entries: [] })), rows: rows.length };
  const [header, values] = rows;
  const fields = header.map((label, i) => {
    // in CSV a list is one cell: "3 Hotfix(s) Installed.,[01]: KB955430,[02]: …"
    const [value, ...entries] = (values[i] ?? '').split(/,(?=\s*\[\d+\]\s*[:：])/);
    return { label: label.trim(), value: value.trim(), entries: entries.map((e) => e.trim()) };
  });
  return { fields, rows: rows.length };
}

// ---------------------------------------------------------------- which language, which field

interface Located {
  language: SystemInfoLanguage | null;
  fields: Partial<Record<FieldKey, SystemInfoField>>;
}

/** Find the fields we read: by label when the first label is in a table, else by position when the structure holds. */
function locate(all: SystemInfoField[]): Located | null {
  const start = all.findIndex((f) => languagesNamingHost(f.label).length > 0);
  if (start >= 0) {
    const fields = all.slice(start);
    const candidates = languagesNamingHost(fields[0].label);
    // "Hotfix(es)" and "Tipo de sistema" are shared: the host-name label decides, the OS version label confirms
    const language = candidates.find((l) => fields.some((f) => normaliseLabel(f.label) === normaliseLabel(SYSTEMINFO_LABELS[l].osVersion))) ?? candidates[0];
    const byLabel: Partial<Record<FieldKey, SystemInfoField>> = {};
    for (const key of Object.keys(POSITION) as FieldKey[]) {
      const want = normaliseLabel(SYSTEMINFO_LABELS[language][key]);
      const f = fields.find((x) => normaliseLabel(x.label) === want);
      if (f) byLabel[key] = f;
    }
    return { language, fields: byLabel };
  }
  for (let s = 0; s + MIN_FIELDS <= all.length; s++) {
    if (structureHoldsAt(all, s)) {
      const byPosition: Partial<Record<FieldKey, SystemInfoField>> = {};
      for (const [key, at] of Object.entries(POSITION) as [FieldKey, number][]) byPosition[key] = all[s + at];
      return { language: null, fields: byPosition };
    }
  }
  return null;
}

/**
 * Whether the fields from `s` on are in the order systeminfo always prints: a one-word host name,
 * a version "6.0.6002 …" third, a counted hotfix list 31st. Looked at in place: a file of a
 * hundred thousand "x: y" lines, tried at each offset with a copy of the rest, took minutes.
 */
function structureHoldsAt(all: SystemInfoField[], s: number): boolean {
  if (all.length - s < MIN_FIELDS) return false;
  const hotfixes = all[s + POSITION.hotfixes];
  return (
    /^\S+$/.test(all[s + POSITION.hostName].value) &&
    VERSION.test(all[s + POSITION.osVersion].value) &&
    /\d/.test(hotfixes.value) &&
    hotfixes.entries.every((e) => ENTRY.test(e) || /^\[\d*$/.test(e))
  );
}

// ---------------------------------------------------------------- detection and choice of code page

export function looksLikeSystemInfoList(text: string): boolean {
  return locate(listFields(text)) !== null;
}

export function looksLikeSystemInfoCsv(text: string): boolean {
  const first = splitLines(text.trimStart())[0] ?? '';
  if (!/^"[^"]*","/.test(first)) return false;
  return locate(csvFields(text).fields) !== null;
}

/**
 * Of the decodings an 8-bit file allows (OEM 850, 1252, 437, Shift_JIS …), the one under which
 * the labels read as labels: known labels count most, then labels that are plausible words
 * (no box-drawing characters, no kanji glued to Latin letters). Ties keep the given order.
 */
export function bestSystemInfoDecoding(candidates: DecodedText[]): DecodedText {
  if (candidates.length === 1) return candidates[0];
  let best = candidates[0];
  let bestScore = -1;
  for (const c of candidates) {
    const labels = labelsOf(c.text);
    const known = labels.filter((l) => LABEL_INDEX.has(normaliseLabel(l))).length;
    const plausible = labels.filter(isPlausibleLabel).length;
    const score = known * 100 + plausible;
    if (score > bestScore) {
      best = c;
      bestScore = score;
    }
  }
  return best;
}

function labelsOf(text: string): string[] {
  const first = splitLines(text.trimStart())[0] ?? '';
  if (/^"[^"]*","/.test(first)) return (parseCsvRecords(first)[0] ?? []).map((l) => l.trim());
  return listFields(text.slice(0, 8192)).map((f) => f.label);
}

function isPlausibleLabel(label: string): boolean {
  if (/[\u2500-\u259f\u25a0\ufffd]/.test(label)) return false;
  const latin = '[A-Za-z\u00c0-\u024f]';
  const cjk = '[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]';
  return !new RegExp(`${latin}${cjk}|${cjk}${latin}`).test(label);
}

// ---------------------------------------------------------------- reading

export function parseSystemInfoList(text: string, file: string): HostInventory {
  return readSystemInfoList(text, file).inventory;
}

export function readSystemInfoList(text: string, file: string): SystemInfoReading {
  const all = listFields(text);
  const located = locate(all);
  if (!located) throw inputError('INVENTORY_SYSTEMINFO_LAYOUT', 'not systeminfo output: no known host-name label and not its field order', { file });
  const hosts = hostsInList(all, located.language);
  if (hosts > 1) throw inputError('INVENTORY_SYSTEMINFO_MANY', `the file holds ${hosts} systeminfo outputs, one after the other; give each host its own file`, { file });
  return inventoryFromFields(located, file);
}

/**
 * How many hosts' systeminfo a list holds: `systeminfo /s HOST >> fleet.txt` for each host writes
 * one after the other, and the fields are looked up by label, so only the first host would be
 * read and the others dropped without a word. Counted by the host-name label of the file's
 * language; read by position, by the places where systeminfo's whole field order holds (not by
 * version-like values: "14.03.2012" is a German install date).
 */
function hostsInList(all: SystemInfoField[], language: SystemInfoLanguage | null): number {
  if (language !== null) return all.filter((f) => languagesNamingHost(f.label).includes(language)).length;
  let records = 0;
  for (let s = 0; s + MIN_FIELDS <= all.length; s++) {
    if (!structureHoldsAt(all, s)) continue;
    records++;
    s += MIN_FIELDS - 1;
  }
  return records;
}

export function parseSystemInfoCsv(text: string, file: string): HostInventory {
  return readSystemInfoCsv(text, file).inventory;
}

export function readSystemInfoCsv(text: string, file: string): SystemInfoReading {
  const { fields, rows } = csvFields(text);
  if (rows < 2) throw inputError('INVENTORY_SYSTEMINFO_CSV_EMPTY', 'systeminfo CSV has a header but no data row', { file });
  if (rows > 2) throw inputError('INVENTORY_SYSTEMINFO_CSV_MANY', `systeminfo CSV holds ${rows - 1} hosts; give one file per host`, { file });
  const located = locate(fields);
  if (!located) throw inputError('INVENTORY_SYSTEMINFO_LAYOUT', 'systeminfo CSV whose header is in no known language and whose columns are not in systeminfo order', { file });
  return inventoryFromFields(located, file);
}

function inventoryFromFields(located: Located, file: string): SystemInfoReading {
  const { fields, language } = located;
  const labelOf = (key: FieldKey): string => (language ? SYSTEMINFO_LABELS[language][key] : `field ${POSITION[key] + 1}`);
  const name = fields.hostName?.value;
  if (!name) throw inputError('INVENTORY_SYSTEMINFO_NO_HOST', `systeminfo output without a host name ("${labelOf('hostName')}")`, { file });
  const inv = emptyInventory(name, 'systeminfo');
  if (fields.osName?.value) inv.product = normaliseProduct(fields.osName.value);
  if (fields.osVersion) readOsVersion(inv, fields.osVersion.value, labelOf('osVersion'), file);
  if (fields.systemType?.value) inv.architecture = normaliseArchitecture(fields.systemType.value);
  let hotfixListComplete = false;
  if (fields.hotfixes) {
    const list = readHotfixList(fields.hotfixes);
    inv.installed.push(...list.kbs);
    hotfixListComplete = list.complete;
    // a list cut short (fewer entries than its count) is no list the planner can rely on
    inv.sections.hotfixes = list.complete;
    if (list.complete) inv.qfeList = [...list.kbs];
  }
  return { inventory: inv, language, hotfixListComplete };
}

/** "6.0.6002 Service Pack 2 Build 6002", "6.1.7601 Service Pack 1 version 7601", "6.1.7600 N/A Build 7600", "10.0.17763 N/D Compilación 17763". */
function readOsVersion(inv: HostInventory, value: string, label: string, file: string): void {
  const v = VERSION.exec(value);
  if (!v) throw inputError('INVENTORY_SYSTEMINFO_BAD_VERSION', `${label} ${JSON.stringify(value)} is not "major.minor.build …"`, { file });
  inv.ntVersion = `${v[1]}.${v[2]}`;
  inv.build = Number(v[3]);
  // between the version and the closing "<word> <build>" stands the service pack (CSDVersion) or a "none" word
  const tail = /^\S+\s+(.*?)\s*\S+\s+(\d+)\s*$/.exec(value);
  if (tail && Number(tail[2]) === inv.build) {
    const sp = /(\d+)/.exec(tail[1]);
    inv.servicePack = sp ? Number(sp[1]) : 0;
  } else if (/Service Pack (\d+)/i.test(value)) {
    inv.servicePack = Number(/Service Pack (\d+)/i.exec(value)![1]);
  }
}

function readHotfixList(field: SystemInfoField): { kbs: string[]; complete: boolean } {
  // the count leads ("3 Hotfix(s) Installed.") or trails ("Число установленных исправлений - 3.")
  const stated = /(\d+)/.exec(field.value);
  const kbs: string[] = [];
  let listed = 0;
  let fragments = 0;
  for (const e of field.entries) {
    const m = ENTRY.exec(e);
    if (!m) {
      fragments++;
      continue;
    }
    listed++;
    const kb = kbFromHotfixId(m[2].trim());
    // pre-Vista systems list "File 1" / "Q147222" entries: they name no KB and are ignored
    if (kb) kbs.push(kb);
  }
  const complete = fragments === 0 && (stated ? Number(stated[1]) === listed : true);
  return { kbs, complete };
}

import { inputError } from '../../errors';
import { highestDottedVersion, isDottedVersion } from '../../package/assembly-version';
import type { HostInventory } from '../types';
import { emptyInventory, mergeInventories, normaliseArchitecture } from './host-facts';
import { looksLikeSystemInfoList, parseSystemInfoList } from './systeminfo';
import { parseWmicTable } from './qfe';
import { splitLines } from './text';

/**
 * The one file our collect script (src/planner/collect-script.ts) writes on the host: sections
 * between "[[cabferry:begin NAME]]" and "[[cabferry:end NAME]]" lines, each holding the raw
 * output of one command. The section names and the key=value lines are the contract between
 * the two files; COLLECT_SECTIONS lists them.
 */

export const COLLECT_MAGIC = '[[cabferry-inventory 1]]';
export const COLLECT_SECTIONS = ['environment', 'systeminfo', 'qfe', 'sha2', 'servicing', 'buildlab', 'reboot'] as const;
export type CollectSection = (typeof COLLECT_SECTIONS)[number];

export const SHA2_REGISTRY_KEY = 'HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Servicing\\Codesigning\\SHA2';
/** Both DWORDs are set (> 0) once KB4474419 is installed (WSUS Offline Update checks the same pair). */
export const SHA2_REGISTRY_VALUES = ['SHA2-Codesigning-Support', 'SHA2-Core-Codesigning-Support'] as const;

export function looksLikeCollectFile(text: string): boolean {
  return text.trimStart().startsWith(COLLECT_MAGIC);
}

export function splitCollectSections(text: string, file: string): Map<CollectSection, string[]> {
  const sections = new Map<CollectSection, string[]>();
  let current: { name: CollectSection; lines: string[] } | null = null;
  for (const line of splitLines(text)) {
    const begin = /^\[\[cabferry:begin ([a-z0-9-]+)\]\]\s*$/.exec(line);
    const end = /^\[\[cabferry:end ([a-z0-9-]+)\]\]\s*$/.exec(line);
    if (begin) {
      if (current) throw inputError('INVENTORY_COLLECT_NESTED', `section "${begin[1]}" begins inside "${current.name}"`, { file });
      const name = begin[1] as CollectSection;
      if (!COLLECT_SECTIONS.includes(name)) throw inputError('INVENTORY_COLLECT_SECTION', `unknown section "${begin[1]}"`, { file });
      if (sections.has(name)) throw inputError('INVENTORY_COLLECT_SECTION', `section "${name}" appears twice`, { file });
      current = { name, lines: [] };
    } else if (end) {
      if (!current || current.name !== end[1]) throw inputError('INVENTORY_COLLECT_UNBALANCED', `"end ${end[1]}" without its begin`, { file });
      sections.set(current.name, current.lines);
      current = null;
    } else if (current) {
      current.lines.push(line);
    }
  }
  if (current) throw inputError('INVENTORY_COLLECT_TRUNCATED', `section "${current.name}" never ends (was the script interrupted?)`, { file });
  return sections;
}

export function parseCollectFile(text: string, file: string): HostInventory {
  const sections = splitCollectSections(text, file);
  const env = keyValues(sections.get('environment') ?? []);
  const name = env.get('COMPUTERNAME');
  if (!name) throw inputError('INVENTORY_COLLECT_NO_HOST', 'the environment section names no COMPUTERNAME', { file });

  let inv = emptyInventory(name, 'collect');
  const sysinfo = (sections.get('systeminfo') ?? []).join('\n');
  if (looksLikeSystemInfoList(sysinfo)) inv = merge(inv, parseSystemInfoList(sysinfo, file), file);
  const qfe = (sections.get('qfe') ?? []).join('\n');
  if (/\bHotFixID\b/.test(qfe)) inv = merge(inv, parseWmicTable(qfe, file), file);
  inv.sources = ['collect'];

  // the native architecture: PROCESSOR_ARCHITEW6432 is set when the script ran in a 32-bit cmd on x64
  if (inv.architecture === null) {
    const arch = env.get('PROCESSOR_ARCHITEW6432') || env.get('PROCESSOR_ARCHITECTURE');
    if (arch) inv.architecture = normaliseArchitecture(arch);
  }

  const reboot = keyValues(sections.get('reboot') ?? []);
  if (reboot.size > 0) {
    const markers = ['CbsRebootPending', 'PendingFileRenameOperations', 'WuRebootRequired', 'CbsPendingXml'];
    const seen = markers.filter((m) => reboot.has(m));
    if (seen.length > 0) inv.pendingReboot = seen.some((m) => reboot.get(m) === 'yes');
  }

  if (sections.has('sha2')) {
    const values = registryDwords(sections.get('sha2')!);
    const supported = SHA2_REGISTRY_VALUES.every((v) => (values.get(v) ?? 0) > 0);
    // support is *active* only once the host has restarted after KB4474419
    inv.sha2CodeSigning = supported ? (inv.pendingReboot === null ? null : !inv.pendingReboot) : false;
  }

  const stack = highestDottedVersion((sections.get('servicing') ?? []).map((l) => l.trim()).filter(isDottedVersion));
  if (stack !== null) inv.servicingStackVersion = stack;

  const lab = (sections.get('buildlab') ?? []).map((l) => /BuildLabEx\s+REG_SZ\s+(\d+)\.(\d+)\./.exec(l)).find((m) => m);
  if (lab && inv.build !== null && Number(lab[1]) === inv.build) inv.revision = Number(lab[2]);
  return inv;
}

function merge(a: HostInventory, b: HostInventory, file: string): HostInventory {
  const { merged, conflicts } = mergeInventories(a, b);
  if (conflicts.length > 0) throw inputError('INVENTORY_COLLECT_CONFLICT', `sections disagree: ${conflicts.join('; ')}`, { file });
  return merged;
}

function keyValues(lines: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const l of lines) {
    const m = /^\s*([A-Za-z0-9_]+)=(.*?)\s*$/.exec(l);
    if (m) out.set(m[1], m[2]);
  }
  return out;
}

/** `reg query` lines: "    NAME    REG_DWORD    0x1". */
function registryDwords(lines: string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const l of lines) {
    const m = /^\s+(\S+)\s+REG_DWORD\s+0x([0-9a-fA-F]+)\s*$/.exec(l);
    if (m) out.set(m[1], parseInt(m[2], 16));
  }
  return out;
}


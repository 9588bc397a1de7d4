import { inputError } from '../../errors';
import { compareDottedVersions, highestDottedVersion, isDottedVersion } from '../../package/assembly-version';
import type { HostInventory, OverruledInstalledClaim, ServicingFacts } from '../types';
import { addOverruled, emptyInventory, kbFromHotfixId, mergeInventories, normaliseArchitecture, normaliseProduct, servicingObjection } from './host-facts';
import { looksLikeSystemInfoList, parseSystemInfoList } from './systeminfo';
import { parseWmicTable, tableRows } from './qfe';
import { splitLines } from './text';

/**
 * The one file our collect script (src/planner/collect-script.ts) writes on the host.
 *
 * Format (version 2, "[[cabferry-inventory 2]]" on the first line). Text in the host's console
 * code page (every value read here is ASCII), or UTF-16LE with a BOM when cmd ran with /U; CRLF.
 * Sections between "[[cabferry:begin NAME]]" and "[[cabferry:end NAME]]" lines hold the raw
 * output of one command each, followed by "EXIT=n", that command's exit code; the last line is
 * "[[cabferry:complete]]" (a file without it was cut short and is refused). The second line,
 * outside every section, is "RUN=" and the identity of the run that wrote the file, which the script
 * reads back to prove the file on the stick is its own (collect.cmd since the RUN line came in; files
 * of an earlier one have no such line and are read all the same). Two different RUN lines mean two
 * runs wrote into one file: such a file is refused.
 *
 *   environment  COMPUTERNAME=, PROCESSOR_ARCHITECTURE=, PROCESSOR_ARCHITEW6432= (cmd's variables)
 *   os           `reg query "HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion"`: ProductName,
 *                CurrentVersion, CurrentBuild(Number), CSDVersion, BuildLabEx as "    NAME    REG_SZ    VALUE"
 *   kernel       `wmic datafile where name='…\system32\ntoskrnl.exe' get Version /value`: "Version=6.0.6003.20512"
 *   wua          the same for wuaueng.dll (the Windows Update Agent; kept for the record, not read)
 *   boot         `wmic os get LastBootUpTime,LocalDateTime /value` (kept for the record, not read)
 *   servicing    `dir /b %SystemRoot%\servicing\Version`: the servicing stack version(s)
 *   cbs          `reg query "…\Component Based Servicing\Packages" /s /v CurrentState`: a key line
 *                per package, then "    CurrentState    REG_DWORD    0x70"
 *   qfe          `wmic qfe get HotFixID,InstalledOn /value`: "HotFixID=KB4474419" lines
 *   sha2         `reg query "…\Servicing\Codesigning\SHA2"`: the two DWORDs KB4474419 sets
 *   reboot       CbsRebootPending=, WuRebootRequired=, PendingFileRenameOperations=, CbsPendingXml= (yes/no)
 *   licence      `wmic path SoftwareLicensingProduct where "PartialProductKey is not null" get ID,Name,LicenseStatus /value`
 *   kernel-table, wua-table, boot-table, qfe-table, licence-table
 *                the same wmic query as the section named before "-table", without /value: wmic's own
 *                table, a header of the property names (wmic orders them by name), each column as wide
 *                as its widest cell or its name and two spaces more, lines ending in CR CR LF
 *                ("HotFixID   InstalledOn  "); cells are cut at the header words' starts. /value prints
 *                through a style sheet, which a host whose regional format's language has no folder
 *                under wbem lacks ("Invalid XSL format (or) file name."; TechNet, not seen here); the
 *                table needs none. Read in place of the /value section when that has no "NAME=" line
 *                of the property read (Version, LastBootUpTime, HotFixID, LicenseStatus), with its own
 *                exit code; a table whose header names no such property says nothing (WMIC_TABLES).
 *                Written by collect.cmd since the table sections came in: a file without them reads as
 *                before, and a cabferry older than that refuses a file with them ("unknown section").
 *
 * Version 1 files (sections environment, systeminfo, qfe as a wmic table, sha2, servicing,
 * buildlab, reboot) are still read: media staged before version 2 wrote that script.
 */

export const COLLECT_MAGIC = '[[cabferry-inventory 1]]';
export const COLLECT_MAGIC_V2 = '[[cabferry-inventory 2]]';
export const COLLECT_COMPLETE = '[[cabferry:complete]]';
/** the line naming the run that wrote the file: "RUN=" and an identity unique to that run */
export const COLLECT_RUN_PREFIX = 'RUN=';
export const COLLECT_SECTIONS_V1 = ['environment', 'systeminfo', 'qfe', 'sha2', 'servicing', 'buildlab', 'reboot'] as const;
export const COLLECT_SECTIONS = [
  'environment', 'os', 'kernel', 'kernel-table', 'wua', 'wua-table', 'boot', 'boot-table', 'servicing', 'cbs', 'qfe', 'qfe-table', 'sha2', 'reboot', 'licence', 'licence-table',
] as const;
type SectionName = (typeof COLLECT_SECTIONS_V1)[number] | (typeof COLLECT_SECTIONS)[number];

export const WINDOWS_NT_KEY = 'HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion';
export const CBS_PACKAGES_KEY = 'HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\Packages';
/**
 * KB4474419 (SHA-2 code signing support) sets two DWORDs under this key; WSUS Offline Update reads the
 * same pair (LizenzFass78851/wsusoffline client/cmd/DetermineSystemProperties.vbs: strRegKeySHA2Support,
 * strRegValSHA2Support, strRegValSHA2Support2), abbodi1406's Windows 7 installers check the first.
 */
export const SHA2_REGISTRY_KEY = 'HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Servicing\\Codesigning\\SHA2';
export const SHA2_REGISTRY_VALUES = ['SHA2-Codesigning-Support', 'SHA2-Core-Codesigning-Support'] as const;

/**
 * CBS package CurrentState values, as the registry holds them under Packages\<package>: Microsoft's
 * "Tip of the Day: CBS Servicing States Chart - Refresher" (TechNet blog tip_of_the_day, 2015-10-12,
 * learn.microsoft.com/archive/blogs/tip_of_the_day/tip-of-the-day-cbs-servicing-states-chart-refresher);
 * the same enumeration as JamieMagee's WindowsContainerScan CurrentState enum. DISM's
 * DismPackageFeatureState (learn.microsoft.com, dism/dismpackagefeaturestate-enumeration) says of
 * install pending and uninstall pending that processes "must be completed before the package … is
 * successfully installed" (uninstalled): the restart.
 */
export const CBS_STATE = {
  absent: 0x00, uninstallPending: 0x05, resolving: 0x10, resolved: 0x20, staging: 0x30, staged: 0x40,
  superseded: 0x50, installPending: 0x60, partiallyInstalled: 0x65, installed: 0x70, permanent: 0x80,
} as const;

/**
 * The states in which an update is on the host now: installed, permanent, superseded (installed, then
 * replaced by a newer package). Every other state is not installed, whatever wmic qfe lists: install
 * pending is committed at the next restart or rolled back then (an ESU update on a host without an
 * activated ESU key is: "Failure to configure Windows updates. Reverting Changes"), uninstall pending
 * goes at the next restart, the others never got as far.
 */
const CBS_ON_HOST: readonly number[] = [CBS_STATE.installed, CBS_STATE.permanent, CBS_STATE.superseded];

export function looksLikeCollectFile(text: string): boolean {
  const first = text.trimStart();
  return first.startsWith(COLLECT_MAGIC) || first.startsWith(COLLECT_MAGIC_V2);
}

interface Section {
  lines: string[];
  /** the "EXIT=n" the script wrote after the command; null when the section holds none (version 1) */
  exit: number | null;
}

export function splitCollectSections(text: string, file: string, allowed: readonly string[] = COLLECT_SECTIONS_V1): Map<SectionName, Section> {
  const sections = new Map<SectionName, Section>();
  let current: { name: SectionName; lines: string[] } | null = null;
  let run: string | null = null;
  for (const line of splitLines(text)) {
    const begin = /^\[\[cabferry:begin ([a-z0-9-]+)\]\]\s*$/.exec(line);
    const end = /^\[\[cabferry:end ([a-z0-9-]+)\]\]\s*$/.exec(line);
    if (begin) {
      if (current) throw inputError('INVENTORY_COLLECT_NESTED', `section "${begin[1]}" begins inside "${current.name}"`, { file });
      const name = begin[1] as SectionName;
      if (!allowed.includes(name)) throw inputError('INVENTORY_COLLECT_SECTION', `unknown section "${begin[1]}"`, { file });
      if (sections.has(name)) throw inputError('INVENTORY_COLLECT_SECTION', `section "${name}" appears twice`, { file });
      current = { name, lines: [] };
    } else if (end) {
      if (!current || current.name !== end[1]) throw inputError('INVENTORY_COLLECT_UNBALANCED', `"end ${end[1]}" without its begin`, { file });
      const exitLine = current.lines.map((l) => /^EXIT=(-?\d+)\s*$/.exec(l)).find((m) => m);
      sections.set(current.name, { lines: current.lines.filter((l) => !/^EXIT=-?\d+\s*$/.test(l)), exit: exitLine ? Number(exitLine[1]) : null });
      current = null;
    } else if (current) {
      current.lines.push(line);
    } else if (line.startsWith(COLLECT_RUN_PREFIX)) {
      const id = line.slice(COLLECT_RUN_PREFIX.length).trim();
      if (id === '') throw inputError('INVENTORY_COLLECT_BAD_VALUE', `a "${COLLECT_RUN_PREFIX}" line names no run`, { file });
      if (run !== null && run !== id) {
        throw inputError('INVENTORY_COLLECT_MIXED_RUNS', `two runs of the collect script wrote into this file (${COLLECT_RUN_PREFIX}${run} and ${COLLECT_RUN_PREFIX}${id}): collect the inventory again`, { file });
      }
      run = id;
    }
  }
  if (current) throw inputError('INVENTORY_COLLECT_TRUNCATED', `section "${current.name}" never ends (was the script interrupted?)`, { file });
  return sections;
}

export function parseCollectFile(text: string, file: string): HostInventory {
  return text.trimStart().startsWith(COLLECT_MAGIC_V2) ? parseCollectV2(text, file) : parseCollectV1(text, file);
}

// ---------------------------------------------------------------- version 2: registry and WMI

/** The key cbsPackages keeps the states of monthly rollups' RollupFix packages under (no KB is named so). */
const ROLLUP_FIX = 'RollupFix';

/**
 * The sections read from HKLM\SOFTWARE, which a 32-bit process on x64 Windows sees redirected. The
 * reboot section is read marker by marker (REBOOT_MARKERS): two of its four are read elsewhere.
 */
const REDIRECTED_SECTIONS: readonly SectionName[] = ['cbs', 'sha2'];

/**
 * The restart markers collect.cmd reduces to "NAME=yes"/"NAME=no" lines, each with whether a 32-bit
 * cmd on x64 Windows reads it redirected: CBS's RebootPending and WU's RebootRequired keys are under
 * HKLM\SOFTWARE (Wow6432Node has neither, so they read "no" whatever the host's state);
 * PendingFileRenameOperations is under HKLM\SYSTEM, and winsxs\pending.xml is a file outside
 * system32, neither of which WOW64 redirects.
 */
const REBOOT_MARKERS: readonly { name: string; redirected: boolean }[] = [
  { name: 'CbsRebootPending', redirected: true },
  { name: 'WuRebootRequired', redirected: true },
  { name: 'PendingFileRenameOperations', redirected: false },
  { name: 'CbsPendingXml', redirected: false },
];

/**
 * Whether a restart is pending, from the reboot section's markers: pending when one read in the
 * host's own view says yes; not pending only when all four (every collect.cmd wrote all four) were
 * read in the host's own view and each says no (a file of a 32-bit cmd cannot say that: two were
 * read in Wow6432Node; nor can a section that lost a line); else unknown.
 */
function rebootMarkersPending(reboot: Map<string, string>, wow64: boolean): boolean | null {
  const own = REBOOT_MARKERS.filter((m) => reboot.has(m.name) && !(wow64 && m.redirected));
  if (own.some((m) => reboot.get(m.name) === 'yes')) return true;
  return own.length === REBOOT_MARKERS.length && own.every((m) => reboot.get(m.name) === 'no') ? false : null;
}

function parseCollectV2(text: string, file: string): HostInventory {
  if (!splitLines(text).some((l) => l.trim() === COLLECT_COMPLETE)) {
    throw inputError('INVENTORY_COLLECT_TRUNCATED', `no "${COLLECT_COMPLETE}" line: the script did not run to its end`, { file });
  }
  const sections = splitCollectSections(text, file, COLLECT_SECTIONS);
  for (const [name, table, property] of WMIC_TABLES) {
    const asTable = sections.get(table);
    if (asTable !== undefined && !namesProperty(sections.get(name), property)) sections.set(name, tableAsValues(asTable, property));
  }
  const env = keyValues((sections.get('environment')?.lines ?? []));
  // A 32-bit cmd on x64 Windows (PROCESSOR_ARCHITEW6432 set) reads HKLM\SOFTWARE through the
  // registry redirector (Wow6432Node): CBS's package list, the SHA-2 key and the two restart markers
  // under HKLM\SOFTWARE it printed are not the host's, so they count as not read (the other two
  // markers are: REBOOT_MARKERS). collect.cmd reruns itself in the native cmd since this rule came in;
  // a file of an older one can still be given.
  const wow64 = (env.get('PROCESSOR_ARCHITEW6432') ?? '') !== '';
  const readable = (name: SectionName): boolean => !(wow64 && REDIRECTED_SECTIONS.includes(name));
  const lines = (name: SectionName): string[] => (readable(name) ? sections.get(name)?.lines ?? [] : []);
  const succeeded = (name: SectionName): boolean => readable(name) && sections.get(name)?.exit === 0;
  const name = env.get('COMPUTERNAME');
  if (!name) throw inputError('INVENTORY_COLLECT_NO_HOST', 'the environment section names no COMPUTERNAME', { file });
  const inv = emptyInventory(name, 'collect');

  // the native architecture: PROCESSOR_ARCHITEW6432 is set when the script ran in a 32-bit cmd on x64
  const arch = env.get('PROCESSOR_ARCHITEW6432') || env.get('PROCESSOR_ARCHITECTURE');
  if (arch) inv.architecture = normaliseArchitecture(arch);

  readOsKey(inv, succeeded('os') ? registryValues(lines('os')) : new Map(), file);
  readKernelVersion(inv, keyValues(lines('kernel')).get('Version'));

  const stack = highestDottedVersion(lines('servicing').map((l) => l.trim()).filter(isDottedVersion));
  if (stack !== null) inv.servicingStackVersion = stack;

  const rollupFixVersions: RollupFixPackage[] = [];
  const cbs = succeeded('cbs') ? cbsPackages(lines('cbs'), rollupFixVersions) : new Map<string, number[]>();
  // CBS's state outranks the hotfix list: qfe still lists an update being uninstalled, or one whose
  // install waits for the restart that commits it or rolls it back. Such an update is not installed:
  // the plan installs it (after the restart the pending state asks for) and install.cmd confirms it.
  // A rollup whose package is named RollupFix has no KB CBS could judge: qfe alone lists it, and qfe
  // lists an update waiting for its restart as well. While the newest RollupFix package is not on the host
  // (install pending, say, on a host without its ESU licence, where the restart rolls it back), an
  // update only qfe lists may be that one: none of them is taken as installed, and the plan installs
  // them (install.cmd confirms them on the host; one already there is 'already installed').
  // servicingObjection is that rule; merging applies it to the host's other files' lists too.
  const servicing = succeeded('cbs') ? servicingFacts(cbs, rollupFixVersions) : undefined;
  const overruled: OverruledInstalledClaim[] = [];
  const qfe = lines('qfe').map((l) => /^\s*HotFixID=(.*?)\s*$/.exec(l)?.[1]).filter((v): v is string => v !== undefined);
  for (const id of qfe) {
    const kb = kbFromHotfixId(id);
    if (kb === null) continue;
    const objection = servicing === undefined ? null : servicingObjection(kb, servicing);
    if (objection === null) inv.installed.push(kb);
    else addOverruled(overruled, { by: 'cbs', kb, listedBy: [file], cbsFile: file, ...objection });
  }
  if (servicing !== undefined) {
    inv.installed.push(...servicing.onHost);
    inv.servicing = servicing;
  }
  if (overruled.length > 0) inv.overruled = overruled;
  if (succeeded('qfe')) inv.qfeList = qfe.map(kbFromHotfixId).filter((kb): kb is string => kb !== null);
  // the installed-update list is known when one of its two witnesses ran to its end
  inv.sections.hotfixes = succeeded('qfe') || succeeded('cbs');

  // a package waiting for the restart is a pending restart, whether or not the markers were read
  const installPending = [...cbs.values()].some((states) => states.some((s) => s === CBS_STATE.installPending || s === CBS_STATE.uninstallPending));
  inv.pendingReboot = installPending || rebootMarkersPending(keyValues(sections.get('reboot')?.lines ?? []), wow64);

  inv.sha2CodeSigning = sha2Active(readable('sha2') ? sections.get('sha2') : undefined, inv.pendingReboot, cbs);
  inv.esuLicence = esuLicenceStatus(sections.get('licence'));
  if (inv.esuLicence === 'activated') inv.esuActivatedYears = esuActivatedYears(sections.get('licence')!);
  return inv;
}

/**
 * The wmic queries collect.cmd asks twice, with /value and as wmic's own table (why: the format notes
 * above), each with the property whose "NAME=" line shows that /value answered. Where it did, /value
 * is read as before the table sections came in, so a file without them reads as it always did.
 */
const WMIC_TABLES: readonly (readonly [SectionName, SectionName, string])[] = [
  ['kernel', 'kernel-table', 'Version'],
  ['wua', 'wua-table', 'Version'],
  ['boot', 'boot-table', 'LastBootUpTime'],
  ['qfe', 'qfe-table', 'HotFixID'],
  ['licence', 'licence-table', 'LicenseStatus'],
];

function namesProperty(section: Section | undefined, property: string): boolean {
  return (section?.lines ?? []).some((l) => l.trimStart().startsWith(`${property}=`));
}

/**
 * A wmic table section as the /value section it stands in for: a "NAME=value" line per cell, a blank
 * line after each row (wmicRecords, the qfe and kernel readers take it as they take /value). Cells are
 * cut at the header's column starts (qfe.ts tableRows): a Name with spaces and commas stays whole, and
 * wmic orders the columns by name, so Name comes after ID and LicenseStatus, whose cells a wide
 * character in it cannot shift. A table whose header does not name the property (wmic failed here too:
 * "No Instance(s) Available.", an error) says nothing, and its exit code is not taken as the query's
 * success: the fact stays unknown, and the hotfix list has no witness in it.
 */
function tableAsValues(table: Section, property: string): Section {
  const header = table.lines.findIndex((l) => l.trim().split(/\s+/).includes(property));
  if (header < 0) return { lines: [], exit: null };
  const { rows } = tableRows(table.lines, header);
  return { lines: rows.flatMap(({ cells }) => [...[...cells].map(([k, v]) => `${k}=${v}`), '']), exit: table.exit };
}

/** ProductName, CurrentVersion, CurrentBuild, CSDVersion and BuildLabEx: the facts systeminfo translates, untranslated. */
function readOsKey(inv: HostInventory, values: Map<string, string>, file: string): void {
  if (values.size === 0) return;
  const product = values.get('ProductName');
  if (product) inv.product = normaliseProduct(product);
  const version = values.get('CurrentVersion');
  if (version !== undefined) {
    if (!/^\d+\.\d+$/.test(version)) throw inputError('INVENTORY_COLLECT_BAD_VALUE', `CurrentVersion ${JSON.stringify(version)} is not "major.minor"`, { file });
    inv.ntVersion = version;
  }
  const build = values.get('CurrentBuild') ?? values.get('CurrentBuildNumber');
  if (build !== undefined && /^\d+$/.test(build)) inv.build = Number(build);
  // BuildLabEx "6002.24564.amd64fre.vistasp2_ldr.190211-0600": build and revision when CurrentBuild is missing
  const lab = /^(\d+)\.(\d+)\./.exec(values.get('BuildLabEx') ?? '');
  if (lab) {
    if (inv.build === null) inv.build = Number(lab[1]);
    if (inv.build === Number(lab[1])) inv.revision = Number(lab[2]);
  }
  if (inv.ntVersion === null && inv.build !== null) inv.ntVersion = ntVersionOfBuild(inv.build);
  // CSDVersion is absent on a release without a service pack; the key itself was read, so that is a fact
  const csd = values.get('CSDVersion');
  if (product !== undefined || version !== undefined) inv.servicePack = csd ? Number(/(\d+)/.exec(csd)?.[1] ?? NaN) : 0;
  if (Number.isNaN(inv.servicePack)) inv.servicePack = null;
}

/** The kernel's file version is the revision the host really runs ("6.0.6003.20512"); it wins over the registry's strings. */
function readKernelVersion(inv: HostInventory, version: string | undefined): void {
  const v = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(version ?? '');
  if (!v) return;
  inv.ntVersion ??= `${v[1]}.${v[2]}`;
  inv.build = Number(v[3]);
  inv.revision = Number(v[4]);
}

/** The NT version a build number belongs to (6000-6003: NT 6.0, 7600-7602: NT 6.1); null for others. */
function ntVersionOfBuild(build: number): string | null {
  if (build >= 6000 && build <= 6003) return '6.0';
  if (build >= 7600 && build <= 7602) return '6.1';
  return null;
}

/** The service pack a build number means on NT 6.0 / 6.1 (6001 is SP1, 6002 and 6003 are SP2, 7601 is SP1); null for others. */
function servicePackOfBuild(build: number): number | null {
  const levels: Record<number, number> = { 6000: 0, 6001: 1, 6002: 2, 6003: 2, 7600: 0, 7601: 1 };
  return levels[build] ?? null;
}

/**
 * KB (or ROLLUP_FIX) → the CurrentState of each of its packages ("Package_for_KB…", "Package_2_for_KB…",
 * a newer revision of the KB's package beside an older one). Each is kept: an update is on the host
 * only when every one of its packages is (servicingFacts), and the lowest number is not the least
 * installed state: superseded (0x50) is lower than install pending (0x60).
 */
function cbsPackages(lines: string[], rollupFix: RollupFixPackage[] = []): Map<string, number[]> {
  const out = new Map<string, number[]>();
  let kb: string | null = null;
  let version: string | null = null;
  for (const line of lines) {
    // "Package_for_KB4474419~…", "Package_2_for_KB4534303~…", "Package_for_KB3125574_SP1~…";
    // a monthly rollup's package may carry no KB ("Package_for_RollupFix~…"): kept under ROLLUP_FIX
    // a service pack's package is named after it: "VistaSP2-KB948465~…", "Windows7SP1-KB976933~…"
    // (install.cmd's :package_kbs reads the same two forms)
    const key = /\\Packages\\Package_(?:\d+_)?for_(KB\d{5,7}|RollupFix)(?:_[A-Za-z0-9]+)?~/i.exec(line) ?? /\\Packages\\[A-Za-z0-9]+-(KB\d{5,7})~[^\\]*$/i.exec(line.trim());
    if (/^HKEY_/i.test(line.trim())) {
      kb = key === null ? null : /^RollupFix$/i.test(key[1]) ? ROLLUP_FIX : key[1].toUpperCase();
      // the package's version, the 4-part one at the end of its name (~~6003.21838.1.6): each month's
      // rollup has a RollupFix package of its own, and the newest tells what the host runs
      version = /~(\d+\.\d+\.\d+\.\d+)\s*$/.exec(line)?.[1] ?? null;
      continue;
    }
    const state = /^\s+CurrentState\s+REG_DWORD\s+0x([0-9a-fA-F]+)\s*$/.exec(line);
    if (state && kb) {
      out.set(kb, [...(out.get(kb) ?? []), parseInt(state[1], 16)]);
      if (kb === ROLLUP_FIX) rollupFix.push({ version, state: parseInt(state[1], 16) });
    }
  }
  return out;
}

/**
 * What the package states say of each update: on the host when every package of it is in a state
 * CBS_ON_HOST names; else not, with the first package state that is not. A package superseded beside
 * one of the same update waiting for its restart (a newer revision of the KB, or a newer rollup's
 * RollupFix package beside an older one's) is not on the host: the restart may roll the newer back.
 * Taken as not installed when it is, the update is planned and install.cmd finds it 'already installed'.
 */
function servicingFacts(packages: Map<string, number[]>, rollupFix: readonly RollupFixPackage[] = []): ServicingFacts {
  const facts: ServicingFacts = { onHost: [], notOnHost: [], rollupFix: null };
  for (const [kb, states] of packages) {
    if (kb === ROLLUP_FIX) continue;
    const notOnHost = states.find((s) => !CBS_ON_HOST.includes(s));
    if (notOnHost === undefined) facts.onHost.push(kb);
    else facts.notOnHost.push({ kb, state: notOnHost });
  }
  facts.rollupFix = rollupFixBound(rollupFix);
  return facts;
}

/** A RollupFix package: the version at the end of its key name (null when it carries none), its CurrentState. */
interface RollupFixPackage {
  version: string | null;
  state: number;
}

/**
 * The state that bounds what a hotfix list says of an update CBS names no package of (ServicingFacts.
 * rollupFix): that of the RollupFix package(s) with the highest version, compared part by part as
 * numbers; among several with that version, the least installed (absent-like before install pending
 * before on the host); null when that is on the host, or there is no RollupFix package. An older
 * rollup's package left staged (0x40) or resolved (0x20) beside a newer one installed is no sign of an
 * update not on the host, and bounded by it every update only the hotfix list names would stay not
 * installed for ever. A package whose name carries no version cannot be shown older: it counts with
 * the newest. install.cmd's :rollupfix_bound takes the same packages.
 */
function rollupFixBound(packages: readonly RollupFixPackage[]): number | null {
  const newest = highestDottedVersion(packages.flatMap((p) => (p.version === null ? [] : [p.version])));
  const bounding = packages.filter((p) => p.version === null || newest === null || compareDottedVersions(p.version, newest) === 0);
  const notOnHost = bounding.map((p) => p.state).filter((s) => !CBS_ON_HOST.includes(s));
  return notOnHost.find((s) => s !== CBS_STATE.installPending) ?? notOnHost[0] ?? null;
}

function sha2Active(section: Section | undefined, pendingReboot: boolean | null, cbs: Map<string, number[]>): boolean | null {
  if (!section) return null;
  const values = registryDwords(section.lines);
  const supported = SHA2_REGISTRY_VALUES.every((v) => (values.get(v) ?? 0) > 0);
  if (supported) return pendingReboot === null ? null : !pendingReboot;
  // the key is missing although CBS lists KB4474419 as installed: the two disagree, so neither is believed
  const cbsStates = cbs.get('KB4474419');
  if (cbsStates !== undefined && cbsStates.every((s) => s === CBS_STATE.installed || s === CBS_STATE.permanent)) return null;
  return section.exit === null || section.exit === 0 || section.exit === 1 ? false : null;
}

/**
 * Activated when a licence whose name marks an ESU add-on ("Windows(R), Server-ESU-Year1 add-on …")
 * has LicenseStatus 1 (licensed); not activated when the query listed the host's licences and none
 * such is licensed; unknown when wmic failed or listed nothing (every host has its own Windows licence).
 */
function esuLicenceStatus(section: Section | undefined): 'activated' | 'not-activated' | null {
  if (!section || section.exit !== 0) return null;
  const products = wmicRecords(section.lines);
  if (!products.some((p) => p.has('LicenseStatus'))) return null;
  const esu = products.filter((p) => /(^|[^A-Za-z])ESU([^A-Za-z]|$)/.test(p.get('Name') ?? ''));
  return esu.some((p) => p.get('LicenseStatus') === '1') ? 'activated' : 'not-activated';
}

/**
 * The ESU years whose licence is activated, from the names ("Server-ESU-Year1", "Client-ESU-Year3"):
 * each year is a licence of its own and an update needs its own year's (knowledge base esu.years).
 * null when an activated ESU licence names no year: which years it serves is then not known.
 */
function esuActivatedYears(section: Section): number[] | null {
  const years = new Set<number>();
  for (const p of wmicRecords(section.lines)) {
    const name = p.get('Name') ?? '';
    if (p.get('LicenseStatus') !== '1' || !/(^|[^A-Za-z])ESU([^A-Za-z]|$)/.test(name)) continue;
    const m = /ESU-Year(\d{1,2})(?!\d)/i.exec(name);
    if (!m) return null;
    years.add(Number(m[1]));
  }
  return [...years].sort((a, b) => a - b);
}

/** `wmic … /value` output: "Key=value" lines, one instance after another; a key seen again starts the next instance. */
function wmicRecords(lines: string[]): Map<string, string>[] {
  const records: Map<string, string>[] = [];
  let current = new Map<string, string>();
  for (const line of lines) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*?)\s*$/.exec(line);
    if (!m) continue;
    if (current.has(m[1])) {
      records.push(current);
      current = new Map();
    }
    current.set(m[1], m[2]);
  }
  if (current.size > 0) records.push(current);
  return records;
}

// ---------------------------------------------------------------- version 1: systeminfo inside

function parseCollectV1(text: string, file: string): HostInventory {
  const sections = splitCollectSections(text, file, COLLECT_SECTIONS_V1);
  const lines = (name: SectionName): string[] => sections.get(name)?.lines ?? [];
  const env = keyValues(lines('environment'));
  const name = env.get('COMPUTERNAME');
  if (!name) throw inputError('INVENTORY_COLLECT_NO_HOST', 'the environment section names no COMPUTERNAME', { file });

  let inv = emptyInventory(name, 'collect');
  const sysinfo = lines('systeminfo').join('\n');
  if (looksLikeSystemInfoList(sysinfo)) inv = merge(inv, parseSystemInfoList(sysinfo, file), file);
  const qfe = lines('qfe').join('\n');
  if (/\bHotFixID\b/.test(qfe)) inv = merge(inv, parseWmicTable(qfe, file), file);
  inv.sources = ['collect'];

  if (inv.architecture === null) {
    const arch = env.get('PROCESSOR_ARCHITEW6432') || env.get('PROCESSOR_ARCHITECTURE');
    if (arch) inv.architecture = normaliseArchitecture(arch);
  }

  // collect.cmd of version 1 never reran itself in the native cmd: a file it wrote from a 32-bit cmd on
  // x64 Windows read the SHA-2 key and two of the restart markers in Wow6432Node (as version 2: REDIRECTED_SECTIONS)
  const wow64 = (env.get('PROCESSOR_ARCHITEW6432') ?? '') !== '';
  inv.pendingReboot = rebootMarkersPending(keyValues(lines('reboot')), wow64);

  if (sections.has('sha2') && !wow64) {
    const values = registryDwords(lines('sha2'));
    const supported = SHA2_REGISTRY_VALUES.every((v) => (values.get(v) ?? 0) > 0);
    // support is *active* only once the host has restarted after KB4474419
    inv.sha2CodeSigning = supported ? (inv.pendingReboot === null ? null : !inv.pendingReboot) : false;
  }

  const stack = highestDottedVersion(lines('servicing').map((l) => l.trim()).filter(isDottedVersion));
  if (stack !== null) inv.servicingStackVersion = stack;

  // BuildLabEx also stands when the systeminfo section could not be read: it gives build and revision
  const lab = registryValues(lines('buildlab')).get('BuildLabEx');
  const m = /^(\d+)\.(\d+)\./.exec(lab ?? '');
  if (m) {
    if (inv.build === null) inv.build = Number(m[1]);
    if (Number(m[1]) === inv.build) inv.revision = Number(m[2]);
    if (inv.ntVersion === null) inv.ntVersion = ntVersionOfBuild(inv.build);
    if (inv.servicePack === null) inv.servicePack = servicePackOfBuild(inv.build);
  }
  return inv;
}

function merge(a: HostInventory, b: HostInventory, file: string): HostInventory {
  const { merged, conflicts } = mergeInventories(a, b);
  if (conflicts.length > 0) throw inputError('INVENTORY_COLLECT_CONFLICT', `sections disagree about ${conflicts.map((c) => c.fact).join(', ')}`, { file });
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

/** `reg query` value lines: "    NAME    REG_SZ    VALUE" (four spaces apart on NT 6.x; the value may be empty). */
function registryValues(lines: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const l of lines) {
    const m = /^\s+(\S(?:.*?\S)?)\s+(REG_[A-Z_]+)(?:\s+(.*?))?\s*$/.exec(l);
    if (m && !out.has(m[1])) out.set(m[1], m[3] ?? '');
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

/**
 * Writes fixtures/hosts/: host inventories in the real formats a Server 2008 SP2 / Windows 7
 * host produces, one per planner scenario (see fixtures/hosts/README.md). Layouts follow the
 * tools' documented output: systeminfo's 27-column label list and its /fo csv row, wmic's
 * fixed-width table (written UTF-16LE with a BOM, as `wmic qfe > file` does), PowerShell's
 * Export-Csv with its "#TYPE" line and ConvertTo-Json of Get-HotFix, and our collect script's
 * sectioned file.
 *
 * Run: npx tsc -p . && node dist/scripts/make-host-fixtures.js [OUTPUT-DIR]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { encodeCodePage } from '../src/planner/inventory/codepages';
import { localisedSystemInfoCsv, localisedSystemInfoList, type LocalisedHost } from './lib/localised-systeminfo';

// an argument writes elsewhere (the regeneration test compares a fresh run with the committed files)
const out = process.argv[2] ?? path.join(__dirname, '..', '..', 'fixtures', 'hosts');

interface Host {
  name: string;
  osName: string;
  osVersion: string;
  systemType: string;
  hotfixes: string[];
  installedOn?: string;
}

function systeminfoList(h: Host): string {
  const label = (k: string): string => `${k}:`.padEnd(27);
  const lines = [
    '',
    `${label('Host Name')}${h.name}`,
    `${label('OS Name')}${h.osName}`,
    `${label('OS Version')}${h.osVersion}`,
    `${label('OS Manufacturer')}Microsoft Corporation`,
    `${label('OS Configuration')}Member Server`,
    `${label('OS Build Type')}Multiprocessor Free`,
    `${label('Registered Owner')}Windows User`,
    `${label('Registered Organization')}`,
    `${label('Product ID')}92573-OEM-7502905-27565`,
    `${label('Original Install Date')}3/14/2012, 10:12:44 AM`,
    `${label('System Boot Time')}11/2/2026, 6:01:12 AM`,
    `${label('System Manufacturer')}VMware, Inc.`,
    `${label('System Model')}VMware Virtual Platform`,
    `${label('System Type')}${h.systemType}`,
    `${label('Processor(s)')}1 Processor(s) Installed.`,
    `${''.padEnd(27)}[01]: Intel64 Family 6 Model 85 Stepping 7 GenuineIntel ~2394 Mhz`,
    `${label('BIOS Version')}Phoenix Technologies LTD 6.00, 12/12/2018`,
    `${label('Windows Directory')}C:\\Windows`,
    `${label('System Directory')}C:\\Windows\\system32`,
    `${label('Boot Device')}\\Device\\HarddiskVolume1`,
    `${label('System Locale')}en-us;English (United States)`,
    `${label('Input Locale')}en-us;English (United States)`,
    `${label('Time Zone')}(GMT) Greenwich Mean Time : Dublin, Edinburgh, Lisbon, London`,
    `${label('Total Physical Memory')}4,095 MB`,
    `${label('Available Physical Memory')}2,871 MB`,
    `${label('Page File: Max Size')}8,379 MB`,
    `${label('Page File: Available')}7,012 MB`,
    `${label('Page File: In Use')}1,367 MB`,
    `${label('Page File Location(s)')}C:\\pagefile.sys`,
    `${label('Domain')}CORP.EXAMPLE`,
    `${label('Logon Server')}\\\\DC01`,
    `${label('Hotfix(s)')}${h.hotfixes.length} Hotfix(s) Installed.`,
    ...h.hotfixes.map((k, i) => `${''.padEnd(27)}[${String(i + 1).padStart(2, '0')}]: ${k}`),
    `${label('Network Card(s)')}1 NIC(s) Installed.`,
    `${''.padEnd(27)}[01]: Intel(R) PRO/1000 MT Network Connection`,
    `${''.padEnd(27)}      Connection Name: Local Area Connection`,
    `${''.padEnd(27)}      DHCP Enabled:    No`,
    `${''.padEnd(27)}      IP address(es)`,
    `${''.padEnd(27)}      [01]: 10.20.30.40`,
    '',
  ];
  return lines.join('\r\n');
}

function systeminfoCsv(h: Host): string {
  const q = (s: string): string => `"${s.replace(/"/g, '""')}"`;
  const header = ['Host Name', 'OS Name', 'OS Version', 'OS Manufacturer', 'OS Configuration', 'OS Build Type', 'Registered Owner', 'Registered Organization', 'Product ID', 'Original Install Date', 'System Boot Time', 'System Manufacturer', 'System Model', 'System Type', 'Processor(s)', 'BIOS Version', 'Windows Directory', 'System Directory', 'Boot Device', 'System Locale', 'Input Locale', 'Time Zone', 'Total Physical Memory', 'Available Physical Memory', 'Page File: Max Size', 'Page File: Available', 'Page File: In Use', 'Page File Location(s)', 'Domain', 'Logon Server', 'Hotfix(s)', 'Network Card(s)'];
  const hot = [`${h.hotfixes.length} Hotfix(s) Installed.`, ...h.hotfixes.map((k, i) => `[${String(i + 1).padStart(2, '0')}]: ${k}`)].join(',');
  const values = [h.name, h.osName, h.osVersion, 'Microsoft Corporation', 'Member Server', 'Multiprocessor Free', 'Windows User', '', '92573-OEM-7502905-27565', '3/14/2012, 10:12:44 AM', '11/2/2026, 6:01:12 AM', 'VMware, Inc.', 'VMware Virtual Platform', h.systemType, '1 Processor(s) Installed.,[01]: Intel64 Family 6 Model 85 Stepping 7 GenuineIntel ~2394 Mhz', 'Phoenix Technologies LTD 6.00, 12/12/2018', 'C:\\Windows', 'C:\\Windows\\system32', '\\Device\\HarddiskVolume1', 'en-us;English (United States)', 'en-us;English (United States)', '(GMT) Greenwich Mean Time : Dublin, Edinburgh, Lisbon, London', '4,095 MB', '2,871 MB', '8,379 MB', '7,012 MB', '1,367 MB', 'C:\\pagefile.sys', 'CORP.EXAMPLE', '\\\\DC01', hot, '1 NIC(s) Installed.,[01]: Intel(R) PRO/1000 MT Network Connection,      Connection Name: Local Area Connection'];
  return `${header.map(q).join(',')}\r\n${values.map(q).join(',')}\r\n`;
}

const QFE_DESCRIPTION: Record<string, string> = { KB948465: 'Service Pack' };

function wmicTableUtf16(h: Host): Buffer {
  const rows = h.hotfixes.map((kb) => ({
    Caption: `http://support.microsoft.com/?kbid=${kb.slice(2)}`,
    CSName: h.name,
    Description: QFE_DESCRIPTION[kb] ?? (kb === 'KB4493730' ? 'Update' : 'Security Update'),
    FixComments: '',
    HotFixID: kb,
    InstallDate: '',
    InstalledBy: 'NT AUTHORITY\\SYSTEM',
    InstalledOn: h.installedOn ?? '4/20/2019',
    Name: '',
    ServicePackInEffect: '',
    Status: '',
  }));
  const cols = Object.keys(rows[0]) as (keyof (typeof rows)[0])[];
  const text = [...fixedWidth(cols, rows.map((r) => cols.map((c) => r[c]))), '', ''].join('\r\n');
  return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
}

/** wmic pads each column to its widest value (or header) plus two spaces. */
function fixedWidth(header: string[], rows: string[][]): string[] {
  const width = header.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i].length)) + 2);
  const line = (vals: string[]): string => vals.map((v, i) => v.padEnd(width[i])).join('');
  return [line(header), ...rows.map(line)];
}

function getHotFixJson(h: Host): string {
  const items = h.hotfixes.map((kb, i) => ({
    PSComputerName: h.name,
    InstalledOn: { value: `/Date(${1555718400000 + i * 86400000})/`, DateTime: 'Saturday, April 20, 2019 12:00:00 AM' },
    __GENUS: 2,
    __CLASS: 'Win32_QuickFixEngineering',
    __SERVER: h.name,
    __NAMESPACE: 'root\\cimv2',
    Caption: `http://support.microsoft.com/?kbid=${kb.slice(2)}`,
    CSName: h.name,
    Description: 'Security Update',
    FixComments: '',
    HotFixID: kb,
    InstallDate: null,
    InstalledBy: 'NT AUTHORITY\\SYSTEM',
    Name: null,
    ServicePackInEffect: null,
    Status: null,
  }));
  // ConvertTo-Json indents with four spaces and writes CRLF
  return JSON.stringify(items, null, 4).replace(/\n/g, '\r\n');
}

function getHotFixCsv(h: Host): Buffer {
  const header = ['PSComputerName', 'InstalledOn', '__GENUS', '__CLASS', '__SUPERCLASS', '__DYNASTY', '__RELPATH', '__PROPERTY_COUNT', '__DERIVATION', '__SERVER', '__NAMESPACE', '__PATH', 'Caption', 'CSName', 'Description', 'FixComments', 'HotFixID', 'InstallDate', 'InstalledBy', 'Name', 'ServicePackInEffect', 'Status'];
  const rows = h.hotfixes.map((kb) => [h.name, '4/20/2019 12:00:00 AM', '2', 'Win32_QuickFixEngineering', '', 'CIM_ManagedSystemElement', `Win32_QuickFixEngineering.HotFixID="${kb}",ServicePackInEffect=""`, '11', 'System.String[]', h.name, 'root\\cimv2', `\\\\${h.name}\\root\\cimv2:Win32_QuickFixEngineering.HotFixID="${kb}",ServicePackInEffect=""`, `http://support.microsoft.com/?kbid=${kb.slice(2)}`, h.name, 'Update', '', kb, '', 'NT AUTHORITY\\SYSTEM', '', '', '']);
  const q = (s: string): string => `"${s.replace(/"/g, '""')}"`;
  const text = ['#TYPE System.Management.ManagementObject#root\\cimv2\\Win32_QuickFixEngineering', header.map(q).join(','), ...rows.map((r) => r.map(q).join(',')), ''].join('\r\n');
  // Windows PowerShell 2's Export-Csv writes "Unicode" (UTF-16LE with BOM) unless told otherwise
  return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
}

function collectFile(h: Host, opts: { sha2Values: boolean; cbsRebootPending: boolean; servicing: string[]; arch: string; buildLab: string }): string {
  const env = ['[[cabferry-inventory 1]]', '[[cabferry:begin environment]]', `COMPUTERNAME=${h.name}`, `PROCESSOR_ARCHITECTURE=${opts.arch}`, 'PROCESSOR_ARCHITEW6432=', 'COLLECTED=Mon 11/02/2026  9:14:03.51', '[[cabferry:end environment]]'];
  const sys = ['[[cabferry:begin systeminfo]]', ...systeminfoList(h).split('\r\n'), '[[cabferry:end systeminfo]]'];
  // `wmic … | more` turns wmic's UTF-16 into the OEM code page; the first run prints the install notice
  const table = fixedWidth(['CSName', 'Description', 'HotFixID', 'InstalledOn'], h.hotfixes.map((kb) => [h.name, 'Update', kb, '4/20/2019']));
  const qfe = ['[[cabferry:begin qfe]]', 'Please wait while WMIC is being installed.', ...table, '', '[[cabferry:end qfe]]'];
  const sha2 = ['[[cabferry:begin sha2]]', ...(opts.sha2Values
    ? ['', 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Servicing\\Codesigning\\SHA2', '    SHA2-Codesigning-Support    REG_DWORD    0x1', '    SHA2-Core-Codesigning-Support    REG_DWORD    0x1', '']
    : ['ERROR: The system was unable to find the specified registry key or value.']), '[[cabferry:end sha2]]'];
  const servicing = ['[[cabferry:begin servicing]]', ...opts.servicing, '[[cabferry:end servicing]]'];
  const lab = ['[[cabferry:begin buildlab]]', '', 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion', `    BuildLabEx    REG_SZ    ${opts.buildLab}`, '', '[[cabferry:end buildlab]]'];
  const reboot = ['[[cabferry:begin reboot]]', `CbsRebootPending=${opts.cbsRebootPending ? 'yes' : 'no'}`, 'WuRebootRequired=no', `PendingFileRenameOperations=${opts.cbsRebootPending ? 'yes' : 'no'}`, `CbsPendingXml=${opts.cbsRebootPending ? 'yes' : 'no'}`, '[[cabferry:end reboot]]'];
  return [...env, ...sys, ...qfe, ...sha2, ...servicing, ...lab, ...reboot, ''].join('\r\n');
}

/** What the registry, WMI and CBS say about one host, for our collect script's version 2 file. */
interface CollectFacts {
  name: string;
  arch: 'AMD64' | 'x86';
  productName: string;
  build: number;
  csdVersion: string;
  buildLabEx: string;
  kernelVersion: string;
  /** KB → CBS CurrentState */
  packages: Record<string, number>;
  qfe: string[];
  sha2Values: boolean;
  servicing: string[];
  reboot: { cbs: boolean; wu: boolean; rename: boolean; pendingXml: boolean };
  /** SoftwareLicensingProduct instances with a key installed */
  licences: { id: string; name: string; status: number }[];
}

/** The messages reg and dir print in each display language (de: not confirmed from a real host; the reader never reads them). */
const CONSOLE_TEXT = {
  en: { regMissing: 'ERROR: The system was unable to find the specified registry key or value.', searchDone: (n: number) => `End of search: ${n} match(es) found.`, fileNotFound: 'File Not Found' },
  de: { regMissing: 'FEHLER: Der angegebene Registrierungsschlüssel bzw. Wert wurde nicht gefunden.', searchDone: (n: number) => `Suche beendet: ${n} Übereinstimmung(en) gefunden.`, fileNotFound: 'Datei nicht gefunden' },
};

/** `wmic … /value > file` then `type file`: blank lines around each instance, lines ending "\r\r\n". */
function wmicValues(records: [string, string][][]): string[] {
  const out: string[] = [];
  for (const r of records) out.push('\r', '\r', ...r.map(([k, v]) => `${k}=${v}\r`));
  out.push('\r', '\r');
  return out;
}

function collectFileV2(f: CollectFacts, lang: 'en' | 'de'): string {
  const t = CONSOLE_TEXT[lang];
  const section = (name: string, body: string[]): string[] => [`[[cabferry:begin ${name}]]`, ...body, `[[cabferry:end ${name}]]`];
  const ntKey = 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion';
  const reg = (name: string, type: string, value: string): string => `    ${name}    ${type}    ${value}`;
  const os = ['', ntKey, reg('BuildLabEx', 'REG_SZ', f.buildLabEx), reg('CSDBuildNumber', 'REG_SZ', '1621'), reg('CSDVersion', 'REG_SZ', f.csdVersion),
    reg('CurrentBuild', 'REG_SZ', String(f.build)), reg('CurrentBuildNumber', 'REG_SZ', String(f.build)), reg('CurrentType', 'REG_SZ', 'Multiprocessor Free'),
    reg('CurrentVersion', 'REG_SZ', '6.0'), reg('EditionID', 'REG_SZ', 'ServerEnterprise'), reg('ProductName', 'REG_SZ', f.productName), reg('RegisteredOwner', 'REG_SZ', 'Windows User'),
    reg('SystemRoot', 'REG_SZ', 'C:\\Windows'), '', `${ntKey}\\Hotfix`, `${ntKey}\\Winlogon`, 'EXIT=0'];
  const pkgKey = 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\Packages';
  const arch = f.arch === 'AMD64' ? 'amd64' : 'x86';
  const cbs = [''];
  for (const [kb, state] of Object.entries(f.packages)) cbs.push(`${pkgKey}\\Package_for_${kb}~31bf3856ad364e35~${arch}~~6.0.1.0`, reg('CurrentState', 'REG_DWORD', `0x${state.toString(16)}`), '');
  cbs.push(t.searchDone(Object.keys(f.packages).length), 'EXIT=0');
  const sha2 = f.sha2Values
    ? ['', 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Servicing\\Codesigning\\SHA2', reg('SHA2-Codesigning-Support', 'REG_DWORD', '0x1'), reg('SHA2-Core-Codesigning-Support', 'REG_DWORD', '0x1'), '', 'EXIT=0']
    : [t.regMissing, 'EXIT=1'];
  const yn = (b: boolean): string => (b ? 'yes' : 'no');
  return [
    '[[cabferry-inventory 2]]',
    ...section('environment', [`COMPUTERNAME=${f.name}`, `PROCESSOR_ARCHITECTURE=${f.arch}`, 'PROCESSOR_ARCHITEW6432=']),
    ...section('os', os),
    ...section('kernel', ['EXIT=0', ...wmicValues([[['Version', f.kernelVersion]]]), '']),
    ...section('wua', ['EXIT=0', ...wmicValues([[['Version', '7.6.7600.320']]]), '']),
    ...section('boot', ['EXIT=0', ...wmicValues([[['LastBootUpTime', '20261102060112.500000+060'], ['LocalDateTime', '20261104091403.510000+060']]]), '']),
    ...section('servicing', [...(f.servicing.length > 0 ? f.servicing : [t.fileNotFound]), `EXIT=${f.servicing.length > 0 ? 0 : 1}`]),
    ...section('cbs', cbs),
    ...section('qfe', ['EXIT=0', ...wmicValues(f.qfe.map((kb) => [['HotFixID', kb], ['InstalledOn', '4/20/2019']])), '']),
    ...section('sha2', sha2),
    ...section('reboot', [`CbsRebootPending=${yn(f.reboot.cbs)}`, `WuRebootRequired=${yn(f.reboot.wu)}`, `PendingFileRenameOperations=${yn(f.reboot.rename)}`, `CbsPendingXml=${yn(f.reboot.pendingXml)}`]),
    ...section('licence', ['EXIT=0', ...wmicValues(f.licences.map((l) => [['ID', l.id], ['LicenseStatus', String(l.status)], ['Name', l.name]])), '']),
    '[[cabferry:complete]]',
    '',
  ].join('\r\n');
}

const S2008 = 'Microsoft® Windows Server® 2008 Standard ';
const oldFixes = ['KB955430', 'KB2999226', 'KB3078601'];

function main(): void {
  fs.mkdirSync(out, { recursive: true });
  const write = (name: string, data: string | Buffer): void => {
    // systeminfo writes the OEM code page: "®" is byte 0xA9 in cp437 — keep that realism in the list files
    const bytes = typeof data === 'string' ? Buffer.from(data.replace(/®/g, '\u00a9'), 'latin1') : data;
    fs.writeFileSync(path.join(out, name), bytes);
  };
  const writeBytes = (name: string, bytes: Buffer): void => fs.writeFileSync(path.join(out, name), bytes);
  // 1. fresh SP2 x64 at 6002, nothing from 2019
  write('srv-fresh-x64.systeminfo.txt', systeminfoList({ name: 'SRV-FRESH', osName: S2008, osVersion: '6.0.6002 Service Pack 2 Build 6002', systemType: 'x64-based PC', hotfixes: oldFixes }));
  // 2. SHA-2 support installed, restart pending (collect-script output)
  write('srv-sha2-pending.inventory.txt', collectFile(
    { name: 'SRV-SHA2', osName: S2008, osVersion: '6.0.6002 Service Pack 2 Build 6002', systemType: 'x64-based PC', hotfixes: [...oldFixes, 'KB4493730', 'KB4474419'] },
    { sha2Values: true, cbsRebootPending: true, servicing: ['6.0.6002.18005', '6.0.6003.20484'], arch: 'AMD64', buildLab: '6002.24564.amd64fre.vistasp2_ldr.190211-0600' },
  ));
  // 3. at 6003 with the April 2019 rollup: systeminfo /fo csv + wmic qfe (UTF-16LE with BOM)
  const at6003: Host = { name: 'SRV-6003', osName: 'Microsoft Windows Server 2008 Enterprise ', osVersion: '6.0.6003 Service Pack 2 Build 6003', systemType: 'x64-based PC', hotfixes: [...oldFixes, 'KB4493730', 'KB4493471'] };
  write('srv-6003-april.systeminfo.csv', systeminfoCsv(at6003));
  write('srv-6003-april.wmic-qfe.txt', wmicTableUtf16(at6003));
  // 4. x86 host: systeminfo + Get-HotFix | ConvertTo-Json
  const x86: Host = { name: 'SRV-X86', osName: S2008, osVersion: '6.0.6002 Service Pack 2 Build 6002', systemType: 'X86-based PC', hotfixes: oldFixes };
  write('srv-x86.systeminfo.txt', systeminfoList(x86));
  write('srv-x86.hotfix.json', getHotFixJson({ ...x86, hotfixes: [...oldFixes, 'KB4493730'] }));
  // 5. still at SP1 (build 6001): systeminfo + Get-HotFix | Export-Csv
  const sp1: Host = { name: 'SRV-SP1', osName: S2008, osVersion: '6.0.6001 Service Pack 1 Build 6001', systemType: 'x64-based PC', hotfixes: ['KB955430'] };
  write('srv-sp1.systeminfo.txt', systeminfoList(sp1));
  write('srv-sp1.hotfix.csv', getHotFixCsv(sp1));
  // 6. a Windows 7 SP1 workstation described by hand in our JSON profile
  // 7. the April 2019 story of 3. as German (list and CSV, OEM 850), French (list and CSV, OEM 850) and Japanese (list, 932) hosts write it
  const story: LocalisedHost = { name: 'SRV-6003', osName: '', version: '6.0.6003', servicePack: 2, systemType: 'x64-based PC', hotfixes: at6003.hotfixes };
  const de = { ...story, osName: 'Microsoft® Windows Server® 2008 Enterprise ' };
  const fr = { ...story, osName: 'Microsoft® Windows Server® 2008 Entreprise ' };
  const ja = { ...story, osName: 'Microsoft Windows Server 2008 Enterprise ' };
  writeBytes('srv-6003-april.de.systeminfo.txt', encodeCodePage(localisedSystemInfoList(de, 'de'), 'cp850'));
  writeBytes('srv-6003-april.de.systeminfo.csv', encodeCodePage(localisedSystemInfoCsv(de, 'de'), 'cp850'));
  writeBytes('srv-6003-april.fr.systeminfo.txt', encodeCodePage(localisedSystemInfoList(fr, 'fr'), 'cp850'));
  writeBytes('srv-6003-april.fr.systeminfo.csv', encodeCodePage(localisedSystemInfoCsv(fr, 'fr'), 'cp850'));
  writeBytes('srv-6003-april.ja.systeminfo.txt', encodeCodePage(localisedSystemInfoList(ja, 'ja'), 'shift_jis'));
  // 8. the same story from our collect script (version 2), on an English and on a German host
  const facts6003: CollectFacts = {
    name: 'SRV-6003', arch: 'AMD64', productName: 'Windows Server (R) 2008 Enterprise', build: 6003, csdVersion: 'Service Pack 2',
    buildLabEx: '6003.20491.amd64fre.vistasp2_ldr.190301-1700', kernelVersion: '6.0.6003.20491',
    packages: { KB955430: 0x70, KB2999226: 0x70, KB3078601: 0x70, KB4493730: 0x70, KB4489887: 0x50, KB4493471: 0x70 },
    qfe: at6003.hotfixes, sha2Values: false, servicing: ['6.0.6002.18005', '6.0.6003.20484'],
    reboot: { cbs: false, wu: false, rename: false, pendingXml: false },
    licences: [{ id: '00000000-0000-4000-8000-000000000001', name: 'Windows Server(R), ServerEnterprise edition', status: 1 }],
  };
  writeBytes('srv-6003-april.inventory.txt', encodeCodePage(collectFileV2(facts6003, 'en'), 'cp437'));
  writeBytes('srv-6003-april.de.inventory.txt', encodeCodePage(collectFileV2(facts6003, 'de'), 'cp850'));
  // 9. ESU era: a host past January 2020 with the licensing preparation package, its ESU key activated or not
  const esuBase: CollectFacts = {
    ...facts6003, name: 'SRV-ESU', kernelVersion: '6.0.6003.20660', buildLabEx: '6003.20660.amd64fre.vistasp2_ldr.191211-0600',
    packages: { KB4493730: 0x70, KB4474419: 0x70, KB4534303: 0x70, KB4538484: 0x70 }, qfe: ['KB4493730', 'KB4474419', 'KB4534303', 'KB4538484'],
    sha2Values: true,
  };
  // product names follow the published form "Windows(R), Client-ESU-Year1 add-on for …"; the IDs are placeholders, not Microsoft's
  const esuAddOn = (status: number) => ({ id: '00000000-0000-4000-8000-00000000e501', name: 'Windows(R), Server-ESU-Year1 add-on for Standard,Enterprise,Datacenter', status });
  writeBytes('srv-esu-activated.inventory.txt', encodeCodePage(collectFileV2({ ...esuBase, name: 'SRV-ESU-ON', licences: [...esuBase.licences, esuAddOn(1)] }, 'en'), 'cp437'));
  writeBytes('srv-esu-not-activated.inventory.txt', encodeCodePage(collectFileV2({ ...esuBase, name: 'SRV-ESU-OFF', licences: [...esuBase.licences, esuAddOn(0)] }, 'de'), 'cp850'));
  write('win7-ws.profile.json', JSON.stringify({ name: 'WS-WIN7', product: 'Windows 7', ntVersion: '6.1', build: 7601, revision: 24000, architecture: 'amd64', servicePack: 1, installed: ['KB3177467'], servicingStackVersion: '6.1.7601.23505', sha2CodeSigning: false, pendingReboot: false }, null, 2) + '\n');
}

main();

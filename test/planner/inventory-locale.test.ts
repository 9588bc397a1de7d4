import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Payload } from '../../src/package/types';
import { loadKnowledgeBase } from '../../src/knowledge/knowledge-base';
import { planInstall } from '../../src/planner/plan';
import { parseHostInventory, readHostInventory } from '../../src/planner/inventory';
import { decodeCodePage, encodeCodePage } from '../../src/planner/inventory/codepages';
import { bestSystemInfoDecoding, readSystemInfoList } from '../../src/planner/inventory/systeminfo';
import { decodeCandidates } from '../../src/planner/inventory/text';
import type { HostInventory, PlanGoal } from '../../src/planner/types';
import { assertThrowsCode, fixturePath, tempDir } from '../common.helpers';
import { laterSsu, nt60Catalog } from './sample-payloads.helpers';

const host = (name: string): string => fixturePath('hosts', name);
const read = (name: string): HostInventory => readHostInventory(host(name)).inventory;
const parse = (text: string | Buffer, file = 'mem.txt'): ReturnType<typeof parseHostInventory> =>
  parseHostInventory(typeof text === 'string' ? Buffer.from(text, 'utf8') : text, file);

const throwsCode = (fn: () => unknown, code: string): unknown => assertThrowsCode(fn, code, 'input');

const LOCALISED = [
  'srv-6003-april.de.systeminfo.txt',
  'srv-6003-april.de.systeminfo.csv',
  'srv-6003-april.fr.systeminfo.txt',
  'srv-6003-april.fr.systeminfo.csv',
  'srv-6003-april.ja.systeminfo.txt',
];

describe('host inventories in other languages: the same host story reads the same', () => {
  it('fixtures/hosts is exactly what scripts/make-host-fixtures writes', () => {
    const dir = tempDir('cabferry-hosts-');
    const r = spawnSync(process.execPath, [path.join(__dirname, '..', '..', 'scripts', 'make-host-fixtures.js'), dir], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const made = fs.readdirSync(dir).sort();
    assert.deepEqual(made, fs.readdirSync(fixturePath('hosts')).filter((f) => f !== 'README.md').sort());
    for (const f of made) assert.ok(fs.readFileSync(path.join(dir, f)).equals(fs.readFileSync(host(f))), `${f} differs from a fresh run`);
  });

  it('German and French (OEM 850) and Japanese (932) systeminfo, list and CSV, give the English HostInventory', () => {
    const english = read('srv-6003-april.systeminfo.csv');
    assert.equal(english.build, 6003);
    for (const f of LOCALISED) assert.deepEqual(read(f), english, f);
  });

  it('the fixtures are written as the hosts write them: 8-bit OEM bytes, no BOM', () => {
    const de = fs.readFileSync(host('srv-6003-april.de.systeminfo.txt'));
    assert.ok(de.includes(Buffer.from([0x84])), 'German "ä" is OEM 850 byte 0x84');
    const fr = fs.readFileSync(host('srv-6003-april.fr.systeminfo.txt'));
    assert.ok(fr.includes(Buffer.from("Nom de l'h\x93te", 'latin1')), 'French "ô" is OEM 850 byte 0x93');
    const ja = fs.readFileSync(host('srv-6003-april.ja.systeminfo.txt'));
    assert.ok(ja.includes(encodeCodePage('ホスト名', 'shift_jis')));
    for (const b of [de, fr, ja]) assert.ok(!(b[0] === 0xff && b[1] === 0xfe) && !(b[0] === 0xef && b[1] === 0xbb));
  });

  it('chooses the code page under which the labels read: 850 for French, Shift_JIS for Japanese', () => {
    const pick = (f: string): string => bestSystemInfoDecoding(decodeCandidates(fs.readFileSync(host(f)))).encoding;
    assert.equal(pick('srv-6003-april.fr.systeminfo.txt'), 'cp850');
    assert.equal(pick('srv-6003-april.de.systeminfo.csv'), 'cp850');
    assert.equal(pick('srv-6003-april.ja.systeminfo.txt'), 'shift_jis');
    const fr = bestSystemInfoDecoding(decodeCandidates(fs.readFileSync(host('srv-6003-april.fr.systeminfo.txt')))).text;
    assert.equal(readSystemInfoList(fr, 'fr.txt').language, 'fr');
    // the same French text saved by Notepad as "ANSI" (1252) or by PowerShell as UTF-16 reads the same
    const asText = decodeCodePage(fs.readFileSync(host('srv-6003-april.fr.systeminfo.txt')), 'cp850');
    const english = read('srv-6003-april.systeminfo.csv');
    assert.deepEqual(parse(encodeCodePage(asText, 'windows-1252')).inventory, english);
    assert.deepEqual(parse(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(asText, 'utf16le')])).inventory, english);
  });

  it('OEM 850 and 437 tables decode every byte and round-trip through the encoder', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    for (const cp of ['cp850', 'cp437'] as const) {
      const text = decodeCodePage(all, cp);
      assert.equal([...text].length, 256);
      assert.deepEqual([...encodeCodePage(text, cp)], [...all], cp);
    }
    assert.equal(decodeCodePage(Buffer.from([0x81, 0x84, 0x94, 0xe1]), 'cp850'), 'üäöß');
    assert.equal(decodeCodePage(Buffer.from([0xa9]), 'cp850'), '®');
    assert.equal(decodeCodePage(Buffer.from([0xa9]), 'cp437'), '⌐');
  });

  it('Spanish, Italian and Portuguese label tables name the fields, partial outputs included', () => {
    const snippet = (labels: string[], version: string): string =>
      ['', ...[['SRV-X', labels[0]], ['Microsoft Windows Server 2008 Standard ', labels[1]], [version, labels[2]], ['X86-based PC', labels[3]], ['2 x', labels[4]]].map(([v, l]) => `${`${l}:`.padEnd(32)}${v}`), `${''.padEnd(32)}[01]: KB955430`, `${''.padEnd(32)}[02]: KB4493730`, ''].join('\r\n');
    const cases: [string, string[], string][] = [
      ['es', ['Nombre de host', 'Nombre del sistema operativo', 'Versión del sistema operativo', 'Tipo de sistema', 'Revisión(es)'], '6.0.6002 Service Pack 2 Compilación 6002'],
      ['it', ['Nome host', 'Nome SO', 'Versione SO', 'Tipo sistema', 'Aggiornamenti rapidi'], '6.0.6002 Service Pack 2 build 6002'],
      ['pt-BR', ['Nome do host', 'Nome do sistema operacional', 'Versão do sistema operacional', 'Tipo de sistema', 'Hotfix(es)'], '6.0.6002 Service Pack 2 Compilação 6002'],
    ];
    for (const [lang, labels, version] of cases) {
      const text = snippet(labels, version);
      const reading = readSystemInfoList(text, `${lang}.txt`);
      assert.equal(reading.language, lang);
      const inv = parse(encodeCodePage(text, 'cp850')).inventory;
      assert.deepEqual([inv.name, inv.product, inv.build, inv.servicePack, inv.architecture, inv.installed], ['SRV-X', 'Windows Server 2008', 6002, 2, 'x86', ['KB4493730', 'KB955430']], lang);
    }
  });

  it('a language without a label table is read by systeminfo\'s field order, and only when the whole order holds', () => {
    const de = decodeCodePage(fs.readFileSync(host('srv-6003-april.de.systeminfo.txt')), 'cp850');
    // Russian labels (as a Russian Server 2012 R2 prints them) over the same values, saved as UTF-8
    const russian = de.replace(/^Hostname:/m, 'Имя узла:').replace(/^Betriebssystemversion:/m, 'Версия ОС:').replace(/^Hotfix\(es\):/m, 'Исправление(я):');
    const reading = readSystemInfoList(russian, 'ru.txt');
    assert.equal(reading.language, null);
    assert.deepEqual(parse(russian).inventory, read('srv-6003-april.systeminfo.csv'));
    // cut before the hotfix field: no known label and no full field order → not read at all
    const cut = russian.slice(0, russian.indexOf('Domäne'));
    throwsCode(() => parse(cut), 'INVENTORY_UNKNOWN_FORMAT');
  });

  it('a hotfix list systeminfo cut short (fewer entries than it counts, a broken last entry) is flagged incomplete', () => {
    const de = decodeCodePage(fs.readFileSync(host('srv-6003-april.de.systeminfo.txt')), 'cp850');
    const full = readSystemInfoList(de, 'de.txt');
    assert.equal(full.hotfixListComplete, true);
    const cut = de.replace('5 Hotfix(e) installiert.', '263 Hotfix(e) installiert.').replace(/^( +)\[05\]: KB4493471\r\n/m, '$1[0\r\n');
    const reading = readSystemInfoList(cut, 'de.txt');
    assert.equal(reading.hotfixListComplete, false);
    assert.deepEqual(reading.inventory.installed, ['KB955430', 'KB2999226', 'KB3078601', 'KB4493730']);
  });

  it('service pack and build from the version line in each language; RTM says "N/A" in its own words', () => {
    const line = (value: string): HostInventory => {
      const de = decodeCodePage(fs.readFileSync(host('srv-6003-april.de.systeminfo.txt')), 'cp850');
      return parse(de.replace(/^(Betriebssystemversion:\s+).*$/m, `$1${value}`)).inventory;
    };
    assert.deepEqual([line('6.0.6001 Service Pack 1 Build 6001').servicePack, line('6.0.6001 Service Pack 1 Build 6001').build], [1, 6001]);
    assert.equal(line('6.1.7600 Nicht zutreffend Build 7600').servicePack, 0);
    assert.equal(line('6.0.6001 Service Pack 1, v.1616 Build 6001').servicePack, 1);
    throwsCode(() => line('sechs Punkt null'), 'INVENTORY_SYSTEMINFO_BAD_VERSION');
  });
});

describe('Get-HotFix as PowerShell writes it on localized hosts', () => {
  const table = [
    '',
    'Source        Description      HotFixID      InstalledBy          InstalledOn              ',
    '------        -----------      --------      -----------          -----------              ',
    'SRV-DE        Update           KB4493730     NT-AUTORITÄT\\SYSTEM  20.04.2019 00:00:00      ',
    'SRV-DE        Sicherheitsup... KB4474419     NT-AUTORITÄT\\SYSTEM  21.04.2019 00:00:00      ',
    '',
    '',
  ].join('\r\n');

  it('the default table redirected with > (UTF-16LE, a line of dashes) reads', () => {
    const { inventory, format } = parse(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(table, 'utf16le')]));
    assert.equal(format, 'wmic-qfe');
    assert.equal(inventory.name, 'SRV-DE');
    assert.deepEqual(inventory.installed, ['KB4474419', 'KB4493730']);
    assert.deepEqual(inventory.sources, ['get-hotfix']);
  });

  it('a HotFixID PowerShell cut to fit the width is refused, not read as a shorter KB number', () => {
    const cut = table.replace('KB4474419     NT', 'KB44744...    NT');
    throwsCode(() => parse(Buffer.from(cut, 'utf8')), 'INVENTORY_QFE_CUT_CELL');
  });

  it('Export-Csv -UseCulture (;-separated, #TYPE line, UTF-16) and the comma form read alike', () => {
    const header = ['PSComputerName', 'InstalledOn', 'Description', 'HotFixID', 'InstalledBy', 'CSName'];
    const rows = [['SRV-FR', '20/04/2019 00:00:00', 'Mise à jour', 'KB4493730', 'AUTORITE NT\\Système', 'SRV-FR'], ['SRV-FR', '21/04/2019 00:00:00', 'Mise à jour de sécurité', 'KB4474419', 'AUTORITE NT\\Système', 'SRV-FR']];
    const csv = (sep: string): string => ['#TYPE System.Management.ManagementObject#root\\cimv2\\Win32_QuickFixEngineering', ...[header, ...rows].map((r) => r.map((c) => `"${c}"`).join(sep)), ''].join('\r\n');
    for (const sep of [';', ',']) {
      const { inventory, format } = parse(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(csv(sep), 'utf16le')]));
      assert.equal(format, 'qfe-csv', sep);
      assert.equal(inventory.name, 'SRV-FR');
      assert.deepEqual(inventory.installed, ['KB4474419', 'KB4493730']);
    }
  });
});

describe('collect script version 2: registry and WMI facts, the same in every language', () => {
  it('reads build and revision from the kernel, packages from CBS and qfe, the stack, SHA-2 and the licences', () => {
    const inv = read('srv-6003-april.inventory.txt');
    assert.deepEqual(
      { product: inv.product, nt: inv.ntVersion, build: inv.build, revision: inv.revision, sp: inv.servicePack, arch: inv.architecture, stack: inv.servicingStackVersion, sha2: inv.sha2CodeSigning, pending: inv.pendingReboot, esu: inv.esuLicence },
      { product: 'Windows Server 2008', nt: '6.0', build: 6003, revision: 20491, sp: 2, arch: 'amd64', stack: '6.0.6003.20484', sha2: false, pending: false, esu: 'not-activated' },
    );
    // KB4489887 stands in CBS as superseded (0x50): installed, then replaced by the April rollup
    assert.deepEqual(inv.installed, ['KB2999226', 'KB3078601', 'KB4489887', 'KB4493471', 'KB4493730', 'KB955430']);
    assert.deepEqual(inv.unknown, []);
  });

  it('the German host\'s file (OEM 850, German reg and dir messages) gives the same inventory', () => {
    assert.deepEqual(read('srv-6003-april.de.inventory.txt'), read('srv-6003-april.inventory.txt'));
  });

  it('ESU licence: an activated add-on, and one installed but not activated', () => {
    assert.equal(read('srv-esu-activated.inventory.txt').esuLicence, 'activated');
    assert.equal(read('srv-esu-not-activated.inventory.txt').esuLicence, 'not-activated');
    assert.equal(read('srv-esu-activated.inventory.txt').sha2CodeSigning, true);
  });

  it('what a failed command did not say stays unknown; a file cut short is refused', () => {
    const text = fs.readFileSync(host('srv-6003-april.inventory.txt'), 'latin1');
    const section = (name: string, body: string): string => text.replace(new RegExp(`(\\[\\[cabferry:begin ${name}\\]\\]\\r\\n)[\\s\\S]*?(\\[\\[cabferry:end ${name}\\]\\])`), `$1${body}\r\n$2`);
    // wmic could not query the licences (Wine, or a broken WMI repository)
    assert.equal(parse(Buffer.from(section('licence', 'EXIT=-2147217392'), 'latin1')).inventory.esuLicence, null);
    // no kernel version: build and revision from CurrentBuild and BuildLabEx
    const noKernel = parse(Buffer.from(section('kernel', 'EXIT=1\r\nNo Instance(s) Available.'), 'latin1')).inventory;
    assert.deepEqual([noKernel.build, noKernel.revision], [6003, 20491]);
    // neither CurrentBuild nor a kernel: BuildLabEx alone still gives NT version, build and revision
    const onlyLab = parse(Buffer.from(section('kernel', 'EXIT=1').replace(/ {4}CurrentBuild(Number)? .*\r\n/g, '').replace(/ {4}CurrentVersion .*\r\n/, ''), 'latin1')).inventory;
    assert.deepEqual([onlyLab.ntVersion, onlyLab.build, onlyLab.revision], ['6.0', 6003, 20491]);
    // a package waiting for the restart makes the restart pending
    const pending = parse(Buffer.from(text.replace('Package_for_KB4493471~31bf3856ad364e35~amd64~~6.0.1.0\r\n    CurrentState    REG_DWORD    0x70', 'Package_for_KB4493471~31bf3856ad364e35~amd64~~6.0.1.0\r\n    CurrentState    REG_DWORD    0x60'), 'latin1')).inventory;
    assert.equal(pending.pendingReboot, true);
    throwsCode(() => parse(Buffer.from(text.replace('[[cabferry:complete]]', ''), 'latin1')), 'INVENTORY_COLLECT_TRUNCATED');
  });
});

describe('collect script version 2 run by a 32-bit cmd on x64 Windows (an older collect.cmd, which did not rerun itself natively)', () => {
  it('the registry sections it read through Wow6432Node (servicing packages, restart markers, SHA-2) are not the host\'s: not read', () => {
    const text = fs.readFileSync(host('srv-esu-activated.inventory.txt'), 'latin1');
    const native = parse(Buffer.from(text, 'latin1')).inventory;
    assert.equal(native.sha2CodeSigning, true);
    const redirected = parse(Buffer.from(text.replace('PROCESSOR_ARCHITEW6432=\r\n', 'PROCESSOR_ARCHITEW6432=AMD64\r\n'), 'latin1')).inventory;
    assert.equal(redirected.architecture, 'amd64');
    assert.equal(redirected.sha2CodeSigning, null, 'the SHA-2 key read redirected says nothing');
    assert.equal(redirected.pendingReboot, null, 'nor do the restart markers');
    // the hotfix list (WMI answers natively) stays the witness of what is installed
    assert.equal(redirected.sections.hotfixes, true);
    assert.deepEqual(redirected.installed, native.installed);
  });
});

describe('collect script version 2: a monthly rollup whose package is named RollupFix', () => {
  // the fixture's hotfix list plus KB4499180, which no CBS package names
  const text = fs.readFileSync(host('srv-6003-april.inventory.txt'), 'latin1').replace('[[cabferry:end qfe]]', 'HotFixID=KB4499180\r\nInstalledOn=5/14/2019\r\n\r\n[[cabferry:end qfe]]');
  const withRollupFix = (state: string): HostInventory => parse(Buffer.from(text.replace('[[cabferry:begin cbs]]\r\n',
    `[[cabferry:begin cbs]]\r\nHKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\Packages\\Package_for_RollupFix~31bf3856ad364e35~amd64~~6003.20491.1.0\r\n    CurrentState    REG_DWORD    0x${state}\r\n\r\n`), 'latin1')).inventory;

  it('installed: the hotfix list is believed for the updates CBS does not name, as before', () => {
    assert.deepEqual(withRollupFix('70').installed, parse(Buffer.from(text, 'latin1')).inventory.installed);
  });

  it('waiting for its restart (0x60): an update only the hotfix list names may be that rollup, so none of them is taken as installed; CBS-named ones still are', () => {
    const before = parse(Buffer.from(text, 'latin1')).inventory;
    const pending = withRollupFix('60');
    const cbsNamed = ['KB2999226', 'KB3078601', 'KB4489887', 'KB4493471', 'KB4493730', 'KB955430'];
    assert.ok(before.installed.includes('KB4499180'));
    assert.deepEqual(pending.installed, before.installed.filter((kb) => cbsNamed.includes(kb)));
    assert.equal(pending.pendingReboot, true);
  });
});

describe('collect script version 2: a servicing package\'s CBS state outranks the hotfix list', () => {
  // KB4493471 (the April 2019 rollup) is CBS 0x70 and listed by wmic qfe in the fixture
  const text = fs.readFileSync(host('srv-6003-april.inventory.txt'), 'latin1');
  const withState = (state: string, t = text): HostInventory =>
    parse(Buffer.from(t.replace('Package_for_KB4493471~31bf3856ad364e35~amd64~~6.0.1.0\r\n    CurrentState    REG_DWORD    0x70', `Package_for_KB4493471~31bf3856ad364e35~amd64~~6.0.1.0\r\n    CurrentState    REG_DWORD    0x${state}`), 'latin1')).inventory;

  it('installed (0x70), permanent (0x80) and superseded (0x50) are on the host; every other state is not, though qfe lists the update', () => {
    for (const state of ['70', '80', '50']) assert.ok(withState(state).installed.includes('KB4493471'), state);
    // absent, uninstall pending, resolving, resolved, staging, staged, install pending, partially installed
    for (const state of ['0', '5', '10', '20', '30', '40', '60', '65']) {
      const inv = withState(state);
      // before (review h/planreview, F5): 0x05 and the others were installed because qfe lists KB4493471; 0x60 as well (F2, F4)
      assert.ok(!inv.installed.includes('KB4493471'), state);
      assert.ok(inv.installed.includes('KB4493730'), `the other updates stay: ${state}`);
    }
  });

  it('uninstall pending and install pending are a pending restart, also when the file has no restart markers', () => {
    for (const state of ['5', '60']) assert.equal(withState(state).pendingReboot, true, state);
    const noMarkers = text.replace(/(\[\[cabferry:begin reboot\]\]\r\n)[\s\S]*?(\[\[cabferry:end reboot\]\])/, '$1$2');
    assert.equal(withState('70', noMarkers).pendingReboot, null);
    assert.equal(withState('60', noMarkers).pendingReboot, true);
  });

  // a second package of KB4493471, in `state`, before the fixture's own
  const withSecondPackage = (state: string, t = text): string =>
    t.replace('Package_for_KB4493471~', `Package_2_for_KB4493471~31bf3856ad364e35~amd64~~6.0.2.0\r\n    CurrentState    REG_DWORD    0x${state}\r\n\r\nHKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\Packages\\Package_for_KB4493471~`);

  it('a KB is on the host only when every one of its packages is: one package uninstall pending, one installed, is not installed', () => {
    assert.ok(!withState('70', withSecondPackage('5')).installed.includes('KB4493471'));
    assert.ok(withState('70', withSecondPackage('80')).installed.includes('KB4493471'));
  });

  it('a package superseded (0x50) beside one of the same KB waiting for its restart (0x60) is not on the host, and the restart is pending (review 3, F1)', () => {
    // the lowest state, superseded, read as on the host before: 0x50 is a lower number than 0x60
    const inv = withState('50', withSecondPackage('60'));
    assert.ok(!inv.installed.includes('KB4493471'), inv.installed.join(' '));
    assert.deepEqual(inv.overruled, [{ by: 'cbs', kb: 'KB4493471', listedBy: ['mem.txt'], cbsFile: 'mem.txt', package: 'kb', state: 0x60 }]);
    const noMarkers = text.replace(/(\[\[cabferry:begin reboot\]\]\r\n)[\s\S]*?(\[\[cabferry:end reboot\]\])/, '$1$2');
    assert.equal(withState('50', withSecondPackage('60', noMarkers)).pendingReboot, true);
    // both superseded, or superseded beside installed: on the host
    for (const state of ['50', '70']) assert.ok(withState('50', withSecondPackage(state)).installed.includes('KB4493471'), state);
  });
});

describe('collect script version 1 files (media staged before version 2)', () => {
  const v1 = fs.readFileSync(host('srv-sha2-pending.inventory.txt'), 'latin1');
  const withSysteminfo = (body: string): string => v1.replace(/(\[\[cabferry:begin systeminfo\]\]\r\n)[\s\S]*?(\[\[cabferry:end systeminfo\]\])/, `$1${body}\r\n$2`);

  it('a German systeminfo section is read, not skipped', () => {
    const english = parse(Buffer.from(v1, 'latin1')).inventory;
    const de = decodeCodePage(fs.readFileSync(host('srv-6003-april.de.systeminfo.txt')), 'cp850')
      .replace('SRV-6003', 'SRV-SHA2').replace(/6\.0\.6003 Service Pack 2 Build 6003/, '6.0.6002 Service Pack 2 Build 6002');
    const german = parse(encodeCodePage(withSysteminfo(de), 'cp850')).inventory;
    assert.deepEqual(
      [german.product, german.ntVersion, german.build, german.revision, german.servicePack, german.architecture],
      [english.product, english.ntVersion, english.build, english.revision, english.servicePack, english.architecture],
    );
    assert.ok(german.installed.includes('KB4474419'));
  });

  it('without a readable systeminfo section, BuildLabEx still gives NT version, build, revision and service pack', () => {
    const inv = parse(Buffer.from(withSysteminfo('Zugriff verweigert'), 'latin1')).inventory;
    assert.deepEqual([inv.ntVersion, inv.build, inv.revision, inv.servicePack], ['6.0', 6002, 24564, 2]);
  });
});

describe('the same host story plans the same in every language and format', () => {
  const kb = loadKnowledgeBase();
  const catalog: Payload[] = [...nt60Catalog(), ...(['x86', 'amd64'] as const).flatMap((a) => [laterSsu('KB5016129', a), laterSsu('KB4537830', a)])];
  const current: PlanGoal = { kind: 'current' };
  const plan = (f: string): ReturnType<typeof planInstall> => planInstall(read(f), catalog, kb, current);

  it('systeminfo in German, French and Japanese plans as the English systeminfo does', () => {
    const english = plan('srv-6003-april.systeminfo.csv');
    assert.ok(english.steps.length > 0);
    for (const f of LOCALISED) assert.deepEqual(plan(f), english, f);
  });

  it('the German collect-script output plans as the English one does', () => {
    const english = plan('srv-6003-april.inventory.txt');
    assert.ok(english.steps.length > 0);
    assert.deepEqual(plan('srv-6003-april.de.inventory.txt'), english);
  });
});

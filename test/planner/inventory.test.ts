import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isCabferryError } from '../../src/errors';
import { collectScript } from '../../src/planner/collect-script';
import { COLLECT_MAGIC_V2, COLLECT_RUN_PREFIX, COLLECT_SECTIONS, SHA2_REGISTRY_KEY, SHA2_REGISTRY_VALUES } from '../../src/planner/inventory/collect';
import { normaliseProduct } from '../../src/planner/inventory/host-facts';
import { parseHostInventory, readHostInventories, readHostInventory } from '../../src/planner/inventory';
import { decodeWindowsText, parseCsvRecords } from '../../src/planner/inventory/text';
import { assertThrowsCode, fixturePath, tempDir } from '../common.helpers';

const host = (name: string): string => fixturePath('hosts', name);

function parseText(text: string, encoding: BufferEncoding = 'utf8'): ReturnType<typeof parseHostInventory> {
  return parseHostInventory(Buffer.from(text, encoding), 'mem.txt');
}

const throwsCode = (fn: () => unknown, code: string): unknown => assertThrowsCode(fn, code, 'input');

describe('host inventories: detection by content and the facts each format states', () => {
  it('systeminfo list (OEM code page, "®" as a stray byte)', () => {
    const raw = fs.readFileSync(host('srv-fresh-x64.systeminfo.txt'));
    assert.ok(raw.includes(0xa9), 'the fixture keeps the OEM byte systeminfo writes for ®');
    const { inventory, format } = readHostInventory(host('srv-fresh-x64.systeminfo.txt'));
    assert.equal(format, 'systeminfo');
    assert.deepEqual(
      { name: inventory.name, product: inventory.product, ntVersion: inventory.ntVersion, build: inventory.build, sp: inventory.servicePack, arch: inventory.architecture },
      { name: 'SRV-FRESH', product: 'Windows Server 2008', ntVersion: '6.0', build: 6002, sp: 2, arch: 'amd64' },
    );
    assert.deepEqual(inventory.installed, ['KB2999226', 'KB3078601', 'KB955430']);
    // systeminfo does not say these: the inventory must say it does not know them
    assert.deepEqual(inventory.unknown, ['revision', 'servicingStackVersion', 'sha2CodeSigning', 'pendingReboot', 'esuLicence']);
  });

  it('systeminfo /fo csv with its one-field hotfix list', () => {
    const { inventory, format } = readHostInventory(host('srv-6003-april.systeminfo.csv'));
    assert.equal(format, 'systeminfo-csv');
    assert.equal(inventory.build, 6003);
    assert.equal(inventory.product, 'Windows Server 2008');
    assert.deepEqual(inventory.installed, ['KB2999226', 'KB3078601', 'KB4493471', 'KB4493730', 'KB955430']);
  });

  it('wmic qfe default table, UTF-16LE with BOM', () => {
    const raw = fs.readFileSync(host('srv-6003-april.wmic-qfe.txt'));
    assert.deepEqual([...raw.subarray(0, 2)], [0xff, 0xfe]);
    const { inventory, format } = readHostInventory(host('srv-6003-april.wmic-qfe.txt'));
    assert.equal(format, 'wmic-qfe');
    assert.equal(inventory.name, 'SRV-6003');
    assert.deepEqual(inventory.installed, ['KB2999226', 'KB3078601', 'KB4493471', 'KB4493730', 'KB955430']);
    assert.ok(inventory.unknown.includes('ntVersion') && inventory.unknown.includes('architecture'));
  });

  it('wmic qfe table without BOM, with "\\r\\r\\n" line ends and the first-run notice', () => {
    const table = [
      'Please wait while WMIC is being installed.',
      'CSName   Description      HotFixID   InstalledOn  ',
      'SRV01    Update           KB4493730  4/20/2019    ',
      'SRV01    Security Update  KB4474419  4/21/2019    ',
      '',
    ].join('\r\r\n');
    // without a BOM the NUL pattern must still reveal UTF-16LE
    const { inventory } = parseHostInventory(Buffer.from(table.replace(/^[^\n]*\n/, ''), 'utf16le'), 'q.txt');
    assert.deepEqual(inventory.installed, ['KB4474419', 'KB4493730']);
    assert.equal(inventory.name, 'SRV01');
  });

  it('wmic qfe list full (key=value) and /format:csv', () => {
    const list = parseText('\r\n\r\nCaption=http://support.microsoft.com/?kbid=4493730\r\nCSName=SRV02\r\nDescription=Update\r\nHotFixID=KB4493730\r\n\r\n\r\nCaption=\r\nCSName=SRV02\r\nHotFixID=KB4474419\r\n');
    assert.equal(list.format, 'wmic-qfe-list');
    assert.deepEqual(list.inventory.installed, ['KB4474419', 'KB4493730']);
    const csv = parseText('\r\nNode,Caption,CSName,Description,FixComments,HotFixID,InstallDate,InstalledBy,InstalledOn,Name,ServicePackInEffect,Status\r\nSRV03,http://support.microsoft.com/?kbid=4493730,SRV03,Update,,KB4493730,,NT AUTHORITY\\SYSTEM,4/20/2019,,,\r\n');
    assert.equal(csv.format, 'qfe-csv');
    assert.equal(csv.inventory.name, 'SRV03');
    assert.deepEqual(csv.inventory.installed, ['KB4493730']);
    assert.deepEqual(csv.inventory.sources, ['wmic-qfe']);
  });

  it('Get-HotFix | Export-Csv (UTF-16LE, #TYPE line) and | ConvertTo-Json', () => {
    const csv = readHostInventory(host('srv-sp1.hotfix.csv'));
    assert.equal(csv.format, 'qfe-csv');
    assert.deepEqual(csv.inventory.sources, ['get-hotfix']);
    assert.equal(csv.inventory.name, 'SRV-SP1');
    assert.deepEqual(csv.inventory.installed, ['KB955430']);
    const json = readHostInventory(host('srv-x86.hotfix.json'));
    assert.equal(json.format, 'get-hotfix-json');
    assert.equal(json.inventory.name, 'SRV-X86');
    assert.deepEqual(json.inventory.installed, ['KB2999226', 'KB3078601', 'KB4493730', 'KB955430']);
    // one hotfix: ConvertTo-Json writes an object, not an array
    const single = parseText(JSON.stringify({ HotFixID: 'KB4493730', CSName: 'ONE' }));
    assert.deepEqual(single.inventory.installed, ['KB4493730']);
  });

  it('our JSON profile, validated field by field', () => {
    const { inventory, format } = readHostInventory(host('win7-ws.profile.json'));
    assert.equal(format, 'profile');
    assert.deepEqual(inventory.unknown, ['esuLicence']);
    assert.equal(inventory.product, 'Windows 7');
    assert.equal(inventory.sha2CodeSigning, false);
    const partial = parseText(JSON.stringify({ name: 'P', installed: ['4474419'] }));
    assert.deepEqual(partial.inventory.installed, ['KB4474419']);
    assert.ok(partial.inventory.unknown.includes('architecture'));
    throwsCode(() => parseText(JSON.stringify({ name: 'P', installed: ['File 1'] })), 'INVENTORY_PROFILE_FIELD');
    throwsCode(() => parseText(JSON.stringify({ name: 'P', installed: [], build: -1 })), 'INVENTORY_PROFILE_FIELD');
    throwsCode(() => parseText(JSON.stringify({ name: 'P', installed: [], architecture: 'mips' })), 'INVENTORY_PROFILE_FIELD');
    throwsCode(() => parseText(JSON.stringify({ name: 'P', installed: [], colour: 'blue' })), 'INVENTORY_PROFILE_FIELD');
  });

  it('collect-script output: every section, SHA-2 registry values, pending restart, servicing stack, revision', () => {
    const { inventory, format } = readHostInventory(host('srv-sha2-pending.inventory.txt'));
    assert.equal(format, 'collect');
    assert.equal(inventory.name, 'SRV-SHA2');
    assert.equal(inventory.pendingReboot, true);
    // KB4474419 wrote its registry values but the host has not restarted: not active yet
    assert.equal(inventory.sha2CodeSigning, false);
    assert.equal(inventory.servicingStackVersion, '6.0.6003.20484');
    assert.equal(inventory.revision, 24564);
    assert.deepEqual(inventory.unknown, ['esuLicence']);
    assert.ok(inventory.installed.includes('KB4474419'));
  });

  it('collect file: SHA-2 active after a restart, absent when the key is missing, truncated file refused', () => {
    const text = fs.readFileSync(host('srv-sha2-pending.inventory.txt'), 'latin1');
    const rebooted = text.replace(/=yes/g, '=no');
    assert.equal(parseText(rebooted, 'latin1').inventory.sha2CodeSigning, true);
    const noKey = rebooted.replace(/    SHA2-Codesigning-Support.*\r\n/, '');
    assert.equal(parseText(noKey, 'latin1').inventory.sha2CodeSigning, false);
    throwsCode(() => parseText(text.slice(0, text.indexOf('[[cabferry:end qfe]]')), 'latin1'), 'INVENTORY_COLLECT_TRUNCATED');
    throwsCode(() => parseText(text.replace('[[cabferry:begin sha2]]', '[[cabferry:begin colour]]'), 'latin1'), 'INVENTORY_COLLECT_SECTION');
  });

  it('collect file: the RUN line names the run that wrote it; a file without one (an older collect.cmd) reads as before; two runs in one file are refused', () => {
    const text = fs.readFileSync(host('srv-6003-april.inventory.txt'), 'latin1');
    assert.ok(text.startsWith(COLLECT_MAGIC_V2) && !text.includes(COLLECT_RUN_PREFIX), 'the fixture is a version 2 file of an older collect.cmd, without a RUN line');
    const older = parseText(text, 'latin1').inventory;
    const magicLine = `${COLLECT_MAGIC_V2}\r\n`;
    const withRun = text.replace(magicLine, `${magicLine}${COLLECT_RUN_PREFIX}31337-4242-0931005\r\n`);
    assert.notEqual(withRun, text);
    assert.deepEqual(parseText(withRun, 'latin1').inventory, older);
    // the run's file with a second run's start appended, as one ">>" run over another would leave it
    const twoRuns = withRun + `${COLLECT_RUN_PREFIX}808-17-1015230\r\n`;
    throwsCode(() => parseText(twoRuns, 'latin1'), 'INVENTORY_COLLECT_MIXED_RUNS');
    throwsCode(() => parseText(text.replace(magicLine, `${magicLine}${COLLECT_RUN_PREFIX}\r\n`), 'latin1'), 'INVENTORY_COLLECT_BAD_VALUE');
  });

  it('the collect script writes exactly the sections and markers the reader parses, with CRLF and cmd.exe only', () => {
    const script = collectScript();
    assert.ok(!/[^\r]\n/.test(script), 'every line ends with CRLF');
    for (const s of COLLECT_SECTIONS) {
      assert.ok(script.includes(`echo [[cabferry:begin ${s}]]`), `begins ${s}`);
      assert.ok(script.includes(`echo [[cabferry:end ${s}]]`), `ends ${s}`);
    }
    // the RUN line comes right after the magic line: the script reads it back as the file's second line
    assert.ok(script.includes(`echo ${COLLECT_MAGIC_V2}\r\n>> "%CF_OUT%" echo ${COLLECT_RUN_PREFIX}%CF_RUN%\r\n`));
    assert.ok(script.includes(`reg query "${SHA2_REGISTRY_KEY}"`));
    assert.ok(script.includes('%SystemRoot%\\servicing\\Version'));
    for (const marker of ['CbsRebootPending', 'WuRebootRequired', 'PendingFileRenameOperations', 'CbsPendingXml']) assert.ok(script.includes(`echo ${marker}=yes`));
    assert.ok(script.includes('Component Based Servicing\\RebootPending'));
    assert.ok(!/powershell/i.test(script.replace(/^rem .*$/gm, '')), 'no PowerShell on a bare Server 2008');
    assert.equal(SHA2_REGISTRY_VALUES.length, 2);
  });

  it('merges the files of one host by name and records contradictions as conflicts', () => {
    const [merged] = readHostInventories([host('srv-6003-april.systeminfo.csv'), host('srv-6003-april.wmic-qfe.txt')]);
    assert.deepEqual(merged.sources, ['systeminfo', 'wmic-qfe']);
    assert.equal(merged.architecture, 'amd64');
    const dir = tempDir();
    const other = path.join(dir, 'x.json');
    fs.writeFileSync(other, JSON.stringify({ name: 'srv-6003', installed: [], architecture: 'x86' }));
    const [disputed] = readHostInventories([host('srv-6003-april.systeminfo.csv'), other]);
    assert.equal(disputed.architecture, null, 'neither architecture is believed');
    assert.deepEqual(disputed.conflicts.map((c) => [c.fact, c.claims.map((k) => k.files)]), [['architecture', [[host('srv-6003-april.systeminfo.csv')], [other]]]]);
    assert.equal(readHostInventories([host('srv-fresh-x64.systeminfo.txt'), host('srv-x86.systeminfo.txt')]).length, 2);
  });

  it('refuses what is not an inventory, with a code and the file name', () => {
    throwsCode(() => parseText('hello world\r\n'), 'INVENTORY_UNKNOWN_FORMAT');
    throwsCode(() => parseText('{"a":'), 'INVENTORY_BAD_JSON');
    // a newer collect.cmd's file is named as such (it read as "not valid JSON": invreview)
    throwsCode(() => parseText('[[cabferry-inventory 3]]\r\nRUN=1\r\n'), 'INVENTORY_COLLECT_VERSION');
    throwsCode(() => parseText('{"a":1}'), 'INVENTORY_UNKNOWN_JSON');
    throwsCode(() => parseText('Host Name: X\r\nOS Version: banana\r\n'), 'INVENTORY_SYSTEMINFO_BAD_VERSION');
    throwsCode(() => parseText('"Host Name","OS Name","OS Version"\r\n'), 'INVENTORY_SYSTEMINFO_CSV_EMPTY');
    throwsCode(() => parseText('HotFixID,CSName\r\nKB1234567\r\n'), 'INVENTORY_QFE_CSV_ROW');
    throwsCode(() => parseText('CSName  HotFixID  \r\nSRV     banana    \r\n'), 'INVENTORY_QFE_BAD_ROW');
    throwsCode(() => parseHostInventory(Buffer.alloc(17 * 1024 * 1024, 0x41), 'big.txt'), 'INVENTORY_TOO_LARGE');
    throwsCode(() => readHostInventory(path.join(tempDir(), 'missing.txt')), 'INVENTORY_UNREADABLE');
  });

  it('refuses one hotfix list naming several computers instead of merging them', () => {
    throwsCode(() => parseText('Node,CSName,HotFixID\r\nA,A,KB4493730\r\nB,B,KB4474419\r\n'), 'INVENTORY_QFE_MANY_HOSTS');
    throwsCode(() => parseText(JSON.stringify([{ HotFixID: 'KB1234567', CSName: 'A' }, { HotFixID: 'KB7654321', CSName: 'B' }])), 'INVENTORY_QFE_MANY_HOSTS');
    throwsCode(() => parseText('CSName  HotFixID   \r\nA       KB4493730  \r\nB       KB4474419  \r\n'), 'INVENTORY_QFE_MANY_HOSTS');
    // the same computer spelled in two cases is one computer
    assert.equal(parseText('Node,CSName,HotFixID\r\nsrv,SRV,KB4493730\r\n').inventory.name, 'SRV');
    // systeminfo /s A >> fleet.txt, then B: the list form was read as A alone, B dropped without a word
    const a = fs.readFileSync(fixturePath('hosts', 'srv-fresh-x64.systeminfo.txt'), 'latin1');
    const b = fs.readFileSync(fixturePath('hosts', 'srv-x86.systeminfo.txt'), 'latin1');
    throwsCode(() => parseText(a + b, 'latin1'), 'INVENTORY_SYSTEMINFO_MANY');
    throwsCode(() => parseText(fs.readFileSync(fixturePath('hosts', 'srv-6003-april.de.systeminfo.txt'), 'latin1').repeat(2), 'latin1'), 'INVENTORY_SYSTEMINFO_MANY');
    // in a language read by position (labels in no table), counted by OS version
    const unlabelled = (t: string) => t.split(/\r?\n/).map((l, i) => l.replace(/^([^\s][^:]*):/, `Campo${i}:`)).join('\r\n');
    assert.equal(parseText(unlabelled(a), 'latin1').inventory.name, 'SRV-FRESH');
    throwsCode(() => parseText(unlabelled(a) + unlabelled(b), 'latin1'), 'INVENTORY_SYSTEMINFO_MANY');
    assert.equal(parseText(a, 'latin1').inventory.name, 'SRV-FRESH');
  });

  it('mutated and random inputs end in an inventory or one typed input error, never a crash', () => {
    let seed = 7;
    const next = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    const files = fs.readdirSync(fixturePath('hosts')).filter((f) => !f.endsWith('.md')).map((f) => fs.readFileSync(host(f)));
    for (let i = 0; i < 600; i++) {
      const base = Buffer.from(files[i % files.length]);
      const mutated = i % 5 === 4 ? Buffer.from(Array.from({ length: next() % 400 }, () => next() & 0xff)) : base;
      if (i % 5 !== 4) {
        for (let k = 0; k < 1 + (next() % 8); k++) mutated[next() % mutated.length] = next() & 0xff;
        if (i % 3 === 0) mutated.subarray(next() % mutated.length).fill(0x20);
      }
      try {
        const { inventory } = parseHostInventory(mutated, `m${i}.txt`);
        assert.equal(typeof inventory.name, 'string');
        assert.ok(inventory.installed.every((k) => /^KB\d{5,7}$/.test(k)), `input ${i}: installed holds only KB numbers`);
      } catch (e) {
        assert.ok(isCabferryError(e) && e.kind === 'input' && e.file === `m${i}.txt`, `input ${i}: ${String(e)}`);
      }
    }
  });

  it('decodes UTF-16 big-endian and UTF-8 with BOM; parses quoted CSV', () => {
    const be = Buffer.from('\ufeffHotFixID', 'utf16le').swap16();
    assert.equal(decodeWindowsText(be), 'HotFixID');
    assert.equal(decodeWindowsText(Buffer.from('\ufeffabc', 'utf8')), 'abc');
    assert.deepEqual(parseCsvRecords('"a,b","c""d",e\r\n1,,"x\r\ny"\r\n'), [['a,b', 'c"d', 'e'], ['1', '', 'x\r\ny']]);
  });

  it('normalises product names as systeminfo and WMI spell them', () => {
    assert.equal(normaliseProduct('Microsoft® Windows Server® 2008 Standard '), 'Windows Server 2008');
    assert.equal(normaliseProduct('Microsoftr Windows Serverr 2008 Enterprise without Hyper-V'), 'Windows Server 2008');
    assert.equal(normaliseProduct('Microsoft Windows Web Server 2008'), 'Windows Server 2008');
    assert.equal(normaliseProduct('Microsoft Windows Server 2008 R2 Standard '), 'Windows Server 2008 R2');
    assert.equal(normaliseProduct('Microsoft Windows 7 Professional '), 'Windows 7');
    assert.equal(normaliseProduct('Microsoft® Windows Vista™ Business'), 'Windows Vista');
    assert.equal(normaliseProduct('Microsoft Windows XP Professional'), null);
  });
});

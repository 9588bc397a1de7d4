import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { collectScript } from '../../src/planner/collect-script';
import { readHostInventory } from '../../src/planner/inventory';
import { COLLECT_COMPLETE, COLLECT_SECTIONS, splitCollectSections } from '../../src/planner/inventory/collect';
import { tempDir } from '../common.helpers';
import { WinePrefix, winPath, wineSkip as skip } from '../media/wine.helpers';

/**
 * The collect script under Wine's real cmd.exe and reg.exe (see ../shared/spec/WINE-TESTING.md).
 *
 * What this proves: the script parses and runs to its end under cmd, writes every section with
 * its exit code and the completion line, survives commands that fail, and `reg query` output
 * (the os key, CBS package states found with /s /v, the SHA-2 values, the reboot markers) reads
 * back through our reader. What it cannot prove: Wine's wmic knows neither `datafile` nor `qfe`
 * nor SoftwareLicensingProduct and ignores `/value`, and Wine's TYPE does not convert UTF-16 files;
 * so the kernel version, the qfe list, the boot time and the licences stay unknown here, and their
 * parsing is tested on Windows-shaped files (inventory-locale.test.ts) instead.
 */

let work: string;
let wine: WinePrefix;

describe('collect.cmd under Wine cmd', { skip }, () => {
  before(() => {
    work = tempDir('cabferry-collect-wine-');
    wine = new WinePrefix(work);
    wine.init();
    const cbs = 'HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing';
    const seed = [
      '@echo off',
      'reg add "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Servicing\\Codesigning\\SHA2" /v SHA2-Codesigning-Support /t REG_DWORD /d 1 /f',
      'reg add "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Servicing\\Codesigning\\SHA2" /v SHA2-Core-Codesigning-Support /t REG_DWORD /d 1 /f',
      `reg add "${cbs}\\Packages\\Package_for_KB4474419~31bf3856ad364e35~amd64~~6.0.1.3" /v CurrentState /t REG_DWORD /d 0x70 /f`,
      `reg add "${cbs}\\Packages\\Package_for_KB4493730~31bf3856ad364e35~amd64~~6.0.1.0" /v CurrentState /t REG_DWORD /d 0x70 /f`,
      `reg add "${cbs}\\Packages\\Package_for_KB4489887~31bf3856ad364e35~amd64~~6.0.1.0" /v CurrentState /t REG_DWORD /d 0x40 /f`,
      `reg add "${cbs}\\RebootPending" /f`,
      'reg add "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion" /v BuildLabEx /t REG_SZ /d "6002.24564.amd64fre.vistasp2_ldr.190211-0600" /f',
      'exit /b 0',
    ];
    fs.writeFileSync(path.join(work, 'seed.cmd'), seed.join('\r\n') + '\r\n');
    assert.equal(wine.run(['cmd', '/c', winPath(path.join(work, 'seed.cmd'))]).status, 0);
  });

  after(() => wine.close());

  it('runs to its end, writes every section and the completion line, and plan reads the file', () => {
    const script = path.join(work, 'collect.cmd');
    fs.writeFileSync(script, collectScript());
    const outDir = path.join(work, 'stick');
    fs.mkdirSync(outDir);
    const r = wine.run(['cmd', '/c', winPath(script), winPath(outDir)]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const file = path.join(outDir, `${wine.computerName}-inventory.txt`);
    const text = fs.readFileSync(file, 'latin1');
    assert.ok(text.split(/\r?\n/).includes(COLLECT_COMPLETE));
    const sections = splitCollectSections(text, file, COLLECT_SECTIONS);
    assert.deepEqual([...sections.keys()].sort(), [...COLLECT_SECTIONS].sort());
    for (const name of COLLECT_SECTIONS.filter((s) => s !== 'environment' && s !== 'reboot')) {
      assert.notEqual(sections.get(name)!.exit, null, `section ${name} records its command's exit code`);
    }
    assert.equal(sections.get('os')!.exit, 0);
    assert.equal(sections.get('cbs')!.exit, 0);

    const { inventory, format } = readHostInventory(file);
    assert.equal(format, 'collect');
    assert.equal(inventory.name, wine.computerName);
    // Wine's registry says 6.0, build 6002, Service Pack 2 (winecfg -v win2008); BuildLabEx was seeded
    assert.deepEqual([inventory.ntVersion, inventory.build, inventory.servicePack, inventory.revision], ['6.0', 6002, 2, 24564]);
    const arch = wine.run(['cmd', '/c', 'echo %PROCESSOR_ARCHITECTURE%']).stdout.trim();
    assert.equal(inventory.architecture, arch === 'AMD64' ? 'amd64' : 'x86');
    // CBS: installed packages count, a staged one (0x40) does not
    assert.deepEqual(inventory.installed, ['KB4474419', 'KB4493730']);
    // RebootPending exists, so the SHA-2 values KB4474419 set are not active yet
    assert.equal(inventory.pendingReboot, true);
    assert.equal(inventory.sha2CodeSigning, false);
    // what Wine's wmic cannot answer stays unknown
    assert.equal(inventory.esuLicence, null);
  });
});

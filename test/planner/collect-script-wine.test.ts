import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { collectScript } from '../../src/planner/collect-script';
import { readHostInventory } from '../../src/planner/inventory';
import { COLLECT_COMPLETE, COLLECT_MAGIC_V2, COLLECT_RUN_PREFIX, COLLECT_SECTIONS, splitCollectSections } from '../../src/planner/inventory/collect';
import { hasTool, tempDir } from '../common.helpers';
import { WinePrefix, WineResult, winPath, wineSkip as skip } from '../media/wine.helpers';

/**
 * The collect script under Wine's real cmd.exe and reg.exe (see ../shared/spec/WINE-TESTING.md).
 *
 * What this proves: the script parses and runs to its end under cmd, writes every section with
 * its exit code and the completion line, survives commands that fail, and `reg query` output
 * (the os key, CBS package states found with /s /v, the SHA-2 values, the reboot markers) reads
 * back through our reader. What it cannot prove: Wine's wmic knows neither `datafile` nor `qfe`
 * nor SoftwareLicensingProduct and ignores `/value`, and Wine's TYPE does not convert UTF-16 files;
 * so the kernel version, the qfe list, the boot time and the licences stay unknown here, in their
 * /value sections and in their wmic table ("-table") sections alike, and their parsing is tested on
 * Windows-shaped files (inventory-locale.test.ts, inventory-wmic-table.test.ts) instead.
 *
 * A medium the script cannot write is made here in ways root cannot write through either (chmod
 * does not stop root): a folder where the inventory should be, an immutable file (chattr +i), a
 * file size limit (a medium that fills up part-way).
 */

let work: string;
let wine: WinePrefix;
let outDirs = 0;

/** a fresh output folder, collect.cmd run into it, and the file it writes there */
function collectInto(prepare: (outDir: string, file: string) => void = () => {}, limits: { fileSizeBytes?: number } = {}): WineResult & { file: string } {
  const outDir = path.join(work, `stick-${++outDirs}`);
  fs.mkdirSync(outDir);
  const file = path.join(outDir, `${wine.computerName}-inventory.txt`);
  prepare(outDir, file);
  return { ...wine.run(['cmd', '/c', winPath(path.join(work, 'collect.cmd')), winPath(outDir)], {}, limits), file };
}

const lines = (file: string): string[] => fs.readFileSync(file, 'latin1').split(/\r?\n/).filter((l) => l !== '');

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
    fs.writeFileSync(path.join(work, 'collect.cmd'), collectScript());
  });

  after(() => wine.close());

  it('runs to its end, writes every section and the completion line, and plan reads the file', () => {
    const r = collectInto();
    const file = r.file;
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /Done: /);
    const text = fs.readFileSync(file, 'latin1');
    // this run's identity on the second line, the completion line last: what the script read back
    assert.match(lines(file)[1], new RegExp(`^${COLLECT_RUN_PREFIX}\\S+$`));
    assert.equal(lines(file).at(-1), COLLECT_COMPLETE);
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

  it('relaunched in the native cmd through Sysnative (a 32-bit cmd on x64 Windows): an & in the script\'s folder and in the output folder stays inside its quotes', () => {
    // Wine here is 64-bit only: no 32-bit cmd, no Sysnative alias, and it sets PROCESSOR_ARCHITEW6432
    // afresh in every process. So this runs collect.cmd as it is but for those three: the relaunch
    // condition is a variable the relaunch sets for its child, the native cmd is System32's, and a
    // line after :native says that it was reached through the relaunch. The relaunch line itself, the
    // one a 32-bit cmd runs on a real host, is the script's own
    const script = collectScript();
    const seam = (text: string, from: string, to: string): string => {
      assert.equal(text.split(from).length, 2, `collect.cmd has ${from} once`);
      return text.replace(from, to);
    };
    let harness = seam(script, 'if not defined PROCESSOR_ARCHITEW6432 goto :native\r\n', 'if defined CF_TEST_RELAUNCHED goto :native\r\nset "CF_TEST_RELAUNCHED=1"\r\n');
    harness = seam(harness, 'if not exist "%SystemRoot%\\Sysnative\\cmd.exe" goto :native\r\n', 'if not exist "%SystemRoot%\\System32\\cmd.exe" goto :native\r\n');
    harness = seam(harness, '"%SystemRoot%\\Sysnative\\cmd.exe" /c ', '"%SystemRoot%\\System32\\cmd.exe" /c ');
    harness = seam(harness, '\r\n:native\r\n', '\r\n:native\r\nif defined CF_TEST_RELAUNCHED echo cabferry-test: relaunched\r\n');
    const scriptDir = path.join(work, 'stick a&b');
    const outDir = path.join(work, 'out c&d');
    fs.mkdirSync(scriptDir);
    fs.mkdirSync(outDir);
    fs.writeFileSync(path.join(scriptDir, 'collect.cmd'), harness);
    // started as Explorer or a prompt would start it, the path and the folder in quotes (by delayed
    // expansion here, which the launcher's own line needs for the same reason)
    fs.writeFileSync(path.join(work, 'launch-amp.cmd'), [
      '@echo off',
      `set "S=${winPath(path.join(scriptDir, 'collect.cmd'))}"`,
      `set "O=${winPath(outDir)}"`,
      'setlocal EnableDelayedExpansion',
      'cmd /c ""!S!" "!O!""',
      'exit /b !errorlevel!',
    ].join('\r\n') + '\r\n');
    const r = wine.run(['cmd', '/c', winPath(path.join(work, 'launch-amp.cmd'))]);
    // before: this cmd split the relaunch line at the & (Can't recognize '...\stick a'), exit 1, no inventory
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /cabferry-test: relaunched/);
    assert.match(r.stdout, /Done: /);
    const file = path.join(outDir, `${wine.computerName}-inventory.txt`);
    assert.equal(lines(file).at(-1), COLLECT_COMPLETE);
    assert.equal(readHostInventory(file).inventory.name, wine.computerName);
  });

  it('a second run on the same stick names itself differently from the inventory already there, even within the same second', () => {
    // cmd seeds %RANDOM% from the clock's seconds: two runs started in one second drew the same
    // identity, and an unwritable stick's earlier file read back as this run's
    let earlier: string[] = [];
    const second = collectInto((_, file) => {
      const first = collectInto();
      assert.equal(first.status, 0, first.stderr);
      fs.copyFileSync(first.file, file);
      earlier = lines(file);
    });
    assert.equal(second.status, 0, second.stderr);
    assert.match(earlier[1]!, new RegExp(`^${COLLECT_RUN_PREFIX}\\S+$`));
    assert.notEqual(lines(second.file)[1], earlier[1]);
  });

  it('a folder where the inventory should be (a medium that cannot be written): exit 3, says so, never "Done", and leaves the folder and its files alone', () => {
    const r = collectInto((_, file) => {
      fs.mkdirSync(file);
      fs.writeFileSync(path.join(file, 'notes.txt'), 'not ours\r\n');
    });
    assert.equal(r.status, 3, r.stdout + r.stderr);
    assert.doesNotMatch(r.stdout, /Done/);
    assert.match(r.stderr, /cannot write ".*-inventory\.txt" - is the stick write-protected or full\?/);
    assert.match(r.stderr, /is still there and is NOT this run's inventory/);
    assert.equal(fs.readFileSync(path.join(r.file, 'notes.txt'), 'latin1'), 'not ours\r\n', 'del on a folder would have emptied it');
  });

  it('an earlier run\'s inventory on a medium that cannot be written: exit 3, the old file is not made to look new and is named as not this run\'s', (t) => {
    const stale: string[] = [];
    const r = collectInto((outDir, file) => {
      // last month's run, then the stick is write-protected (chattr +i: root cannot write it either)
      const earlier = collectInto();
      assert.equal(earlier.status, 0, earlier.stderr);
      fs.copyFileSync(earlier.file, file);
      stale.push(...lines(file));
      if (spawnSync('chattr', ['+i', file]).status !== 0) stale.length = 0;
    });
    if (stale.length === 0) {
      t.skip('chattr +i does not work on this file system');
      return;
    }
    try {
      assert.equal(r.status, 3, r.stdout + r.stderr);
      assert.doesNotMatch(r.stdout, /Done/);
      assert.match(r.stderr, /cannot write ".*-inventory\.txt"/);
      assert.match(r.stderr, /is still there and is NOT this run's inventory: do not plan from it, delete it/);
      assert.deepEqual(lines(r.file), stale, 'the earlier inventory is as it was');
      assert.equal(stale[0], COLLECT_MAGIC_V2);
    } finally {
      spawnSync('chattr', ['-i', r.file]);
    }
  });

  it('a medium that fills up part-way: exit 4, says so, never "Done", and the partial file is deleted rather than left to look like an inventory', { skip: hasTool('prlimit') ? false : 'prlimit (util-linux) is not installed' }, () => {
    // the first lines fit, the sections after them do not
    const r = collectInto((_, file) => fs.writeFileSync(file, 'an earlier run\'s inventory\r\n'), { fileSizeBytes: 1024 });
    assert.equal(r.status, 4, r.stdout + r.stderr);
    assert.doesNotMatch(r.stdout, /Done/);
    assert.match(r.stderr, /writing ".*-inventory\.txt" stopped part-way - is the stick full, or was it pulled out\?/);
    assert.match(r.stderr, /no inventory was written/);
    assert.ok(!fs.existsSync(r.file), 'no partial inventory is left behind');
  });
});

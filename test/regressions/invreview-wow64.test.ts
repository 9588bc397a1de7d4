import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { loadKnowledgeBase } from '../../src/knowledge/knowledge-base';
import { planInstall } from '../../src/planner/plan';
import { parseHostInventory } from '../../src/planner/inventory';
import type { HostInventory } from '../../src/planner/types';
import { fixturePath } from '../common.helpers';
import { nt60Catalog } from '../planner/sample-payloads.helpers';

/**
 * Inventory review (h/invreview): restart markers and the SHA-2 key read by a 32-bit cmd on x64 Windows.
 *
 * 1. A version 1 collect file (collect.cmd before 905efdc never reran itself in the native cmd)
 *    written from a 32-bit cmd: its environment section has PROCESSOR_ARCHITEW6432=AMD64. Its reboot
 *    section's CbsRebootPending and WuRebootRequired, and its sha2 section, were read through the
 *    registry redirector (HKLM\SOFTWARE\Wow6432Node), where neither CBS's RebootPending key nor
 *    WU's RebootRequired key is: they read "no" whatever the host's state. cabferry took them as the
 *    host's: pendingReboot false, and SHA-2 code signing support *active* (true) when the SHA-2 values
 *    were there. Version 2 files already count those sections as not read (905efdc, REDIRECTED_SECTIONS);
 *    version 1 files did not. It should say: restart pending unknown, SHA-2 unknown (and the plan then
 *    says it assumed both, in words).
 *
 * 2. The other way round, in either version: PendingFileRenameOperations (HKLM\SYSTEM) and
 *    %SystemRoot%\winsxs\pending.xml are not redirected in a 32-bit process, so a "yes" there is the
 *    host's own and proves a restart pending. Version 2 dropped the whole reboot section of such a
 *    file: pendingReboot null, and the plan said "pending-reboot state not reported; assumed no
 *    restart is pending" of a host whose inventory reports one.
 */

const kb = loadKnowledgeBase();
const text = (name: string): string => fs.readFileSync(fixturePath('hosts', name), 'latin1');
const parse = (t: string): HostInventory => parseHostInventory(Buffer.from(t, 'latin1'), 'mem.txt').inventory;
const wow64 = (t: string): string =>
  t.replace('PROCESSOR_ARCHITECTURE=AMD64\r\n', 'PROCESSOR_ARCHITECTURE=x86\r\n').replace('PROCESSOR_ARCHITEW6432=\r\n', 'PROCESSOR_ARCHITEW6432=AMD64\r\n');
const allNo = (t: string): string =>
  t.replace('CbsRebootPending=yes', 'CbsRebootPending=no').replace('PendingFileRenameOperations=yes', 'PendingFileRenameOperations=no').replace('CbsPendingXml=yes', 'CbsPendingXml=no');

describe('invreview: a version 1 collect file written by a 32-bit cmd on x64 Windows', () => {
  // SRV-SHA2 as a 32-bit cmd sees it: the CBS and WU restart keys are not in Wow6432Node, so "no";
  // the other two markers happen to say no as well (nothing waits on file renames or pending.xml)
  const v1 = wow64(allNo(text('srv-sha2-pending.inventory.txt')));

  it('the fixture is what it claims: version 1, a 32-bit cmd on x64, the SHA-2 values present, every marker "no"', () => {
    assert.ok(v1.startsWith('[[cabferry-inventory 1]]'));
    assert.match(v1, /PROCESSOR_ARCHITEW6432=AMD64\r\n/);
    assert.match(v1, /SHA2-Codesigning-Support {4}REG_DWORD {4}0x1/);
    assert.doesNotMatch(v1, /=yes\r\n/);
  });

  it('restart pending and SHA-2 state stay unknown: the registry it read was not the host\'s', () => {
    const inv = parse(v1);
    assert.equal(inv.architecture, 'amd64');
    assert.equal(inv.pendingReboot, null, 'CbsRebootPending/WuRebootRequired were read in Wow6432Node');
    assert.equal(inv.sha2CodeSigning, null, 'the SHA-2 key was read in Wow6432Node');
    // the hotfix list (systeminfo and wmic: WMI answers natively) stays the witness of what is installed
    assert.equal(inv.sections.hotfixes, true);
    assert.ok(inv.installed.includes('KB4474419'));
  });

  it('the plan says in words that it assumed no restart pending, instead of taking it as the host\'s fact', () => {
    const plan = planInstall(parse(v1), nt60Catalog(), kb, { kind: 'current' });
    assert.ok(plan.assumptions.some((a) => /pending-reboot state not reported/.test(a)), plan.assumptions.join('\n'));
  });

  it('a "yes" from a marker outside HKLM\\SOFTWARE is still the host\'s: a restart is pending', () => {
    const inv = parse(wow64(text('srv-sha2-pending.inventory.txt')).replace('CbsRebootPending=yes', 'CbsRebootPending=no').replace('CbsPendingXml=yes', 'CbsPendingXml=no'));
    assert.equal(inv.pendingReboot, true);
    assert.notEqual(inv.sha2CodeSigning, true);
  });

  it('a native version 1 file reads as before', () => {
    const inv = parse(allNo(text('srv-sha2-pending.inventory.txt')));
    assert.equal(inv.pendingReboot, false);
    assert.equal(inv.sha2CodeSigning, true);
  });
});

describe('invreview: a version 2 collect file written by a 32-bit cmd on x64 Windows', () => {
  const v2 = wow64(text('srv-esu-activated.inventory.txt'));

  it('PendingFileRenameOperations=yes (HKLM\\SYSTEM, not redirected) proves a restart pending', () => {
    const inv = parse(v2.replace('PendingFileRenameOperations=no', 'PendingFileRenameOperations=yes'));
    assert.equal(inv.pendingReboot, true);
    const plan = planInstall(inv, nt60Catalog(), kb, { kind: 'current' });
    assert.ok(!plan.assumptions.some((a) => /pending-reboot state not reported/.test(a)), plan.assumptions.join('\n'));
  });

  it('winsxs\\pending.xml present (the file system redirector leaves winsxs alone) proves it too', () => {
    assert.equal(parse(v2.replace('CbsPendingXml=no', 'CbsPendingXml=yes')).pendingReboot, true);
  });

  it('every marker "no": unknown, as before (the two under HKLM\\SOFTWARE were not the host\'s)', () => {
    const inv = parse(v2);
    assert.equal(inv.pendingReboot, null);
    assert.equal(inv.sha2CodeSigning, null);
  });
});

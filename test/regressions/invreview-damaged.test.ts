import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { loadKnowledgeBase } from '../../src/knowledge/knowledge-base';
import { planInstall } from '../../src/planner/plan';
import { parseHostInventory } from '../../src/planner/inventory';
import type { HostInventory } from '../../src/planner/types';
import { assertThrowsCode, fixturePath } from '../common.helpers';
import { nt60Catalog } from '../planner/sample-payloads.helpers';

/**
 * Inventory review (h/invreview): an inventory whose bytes were damaged on the way back.
 *
 * 1. A stick pulled (or a FAT volume not flushed) before a file's data reached it leaves the file at
 *    its full length with whole clusters of NUL bytes where the data should be; collect.cmd's read-back
 *    sees only the first two lines and the last. Input: the collect file of a host with KB4538484
 *    waiting for its restart (CBS CurrentState 0x60, wmic qfe lists it), whose CBS key of that package
 *    is zeroed. cabferry read the rest as if nothing were missing: CBS's objection was gone, the hotfix
 *    list alone was believed, and KB4538484 was taken as installed (the plan left it out and told
 *    install.cmd the host has it). No tool the inventories come from writes a NUL into text (wmic's
 *    UTF-16 is decoded first): a NUL is damage, and a damaged file proves nothing: it is refused.
 *
 * 2. The reboot section of every collect.cmd there has been holds four markers. A section with fewer
 *    (a line lost) was read as "no restart pending" when the lines left said no: "not pending" needs
 *    every marker read, and says no.
 */

const kb = loadKnowledgeBase();
const fixture = (): string => fs.readFileSync(fixturePath('hosts', 'srv-esu-activated.inventory.txt'), 'latin1');
const parse = (b: Buffer): HostInventory => parseHostInventory(b, 'SRV-ESU-ON-inventory.txt').inventory;
/** SRV-ESU-ON with KB4538484 installed pending (0x60) and CBS's restart key set */
const pendingText = (): string =>
  fixture().replace(/(Package_for_KB4538484~31bf3856ad364e35~amd64~~6\.0\.1\.0\r\n {4}CurrentState {4}REG_DWORD {4}0x)70/, '$160').replace('CbsRebootPending=no', 'CbsRebootPending=yes');

describe('invreview: an inventory with a run of NUL bytes (data that never reached the stick)', () => {
  it('intact, KB4538484 waiting for its restart is not taken as installed (the premise of the case)', () => {
    const inv = parse(Buffer.from(pendingText(), 'latin1'));
    assert.ok(!inv.installed.includes('KB4538484'));
    assert.equal(inv.overruled?.[0]?.kb, 'KB4538484');
  });

  it('the same file with the CBS key of KB4538484 zeroed is refused, not read as a host that has KB4538484', () => {
    const t = pendingText();
    const bytes = Buffer.from(t, 'latin1');
    const from = t.indexOf('HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\Packages\\Package_for_KB4538484');
    bytes.fill(0, from, t.indexOf('End of search'));
    let inv: HostInventory | null = null;
    const e = assertThrowsCode(() => (inv = parse(bytes)), 'INVENTORY_DAMAGED', 'input', /NUL/);
    assert.ok(inv === null, `read as installed: ${(inv as HostInventory | null)?.installed.join(' ')}`);
    assert.match(e.message, /collect/i);
  });

  it('a UTF-16LE wmic qfe file with a zeroed run is refused too', () => {
    const qfe = fs.readFileSync(fixturePath('hosts', 'srv-6003-april.wmic-qfe.txt'));
    const damaged = Buffer.from(qfe);
    damaged.fill(0, 1024, 1536);
    assertThrowsCode(() => parse(damaged), 'INVENTORY_DAMAGED', 'input');
  });

  it('NUL padding at the end of a systeminfo list is damage as well', () => {
    const si = fs.readFileSync(fixturePath('hosts', 'srv-fresh-x64.systeminfo.txt'));
    assertThrowsCode(() => parse(Buffer.concat([si, Buffer.alloc(512)])), 'INVENTORY_DAMAGED', 'input');
  });
});

describe('invreview: a reboot section that lost a marker line', () => {
  it('three markers saying no are not "no restart pending"', () => {
    const inv = parse(Buffer.from(fixture().replace('CbsRebootPending=no\r\n', ''), 'latin1'));
    assert.equal(inv.pendingReboot, null);
    assert.equal(inv.sha2CodeSigning, null, 'SHA-2 support is active only after the restart, which is not known to have come');
    const plan = planInstall(inv, nt60Catalog(), kb, { kind: 'current' });
    assert.ok(plan.assumptions.some((a) => /pending-reboot state not reported/.test(a)), plan.assumptions.join('\n'));
  });

  it('one marker saying yes is a restart pending, whatever is missing', () => {
    const t = fixture().replace('CbsRebootPending=no\r\n', '').replace('CbsPendingXml=no', 'CbsPendingXml=yes');
    assert.equal(parse(Buffer.from(t, 'latin1')).pendingReboot, true);
  });

  it('all four saying no: no restart pending, as before', () => {
    assert.equal(parse(Buffer.from(fixture(), 'latin1')).pendingReboot, false);
  });
});

/**
 * The planner with an executable payload: the SP2 standalone installer (fixtures/executables, the
 * real SP2 is an .exe) in the catalog instead of the fixture SP2 .msu. An SP1 host gets SP2 first,
 * then a restart, then the rest; the SP2 step carries the silent switches the knowledge base records.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { test } from 'node:test';
import { loadTrustAnchors } from '../../src/authenticode';
import { loadKnowledgeBase } from '../../src/knowledge/knowledge-base';
import { inspectPayload } from '../../src/package/inspect';
import { readHostInventories } from '../../src/planner/inventory';
import { planInstall } from '../../src/planner/plan';
import { fixturePath } from '../common.helpers';

const kb = loadKnowledgeBase();

function sp1HostWithSp2Exe() {
  const trust = loadTrustAnchors([fixturePath('pki', 'root.pem')]);
  const msus = fs.readdirSync(fixturePath('payloads')).filter((f) => f.endsWith('.msu') && !f.includes('KB948465'));
  const payloads = [
    ...msus.map((f) => inspectPayload(fixturePath('payloads', f), { trust, knowledgeBase: kb })),
    ...['Windows6.0-KB948465-X64.exe', 'Windows6.0-KB948465-X86.exe'].map((f) => inspectPayload(fixturePath('executables', f), { trust, knowledgeBase: kb })),
  ];
  const host = readHostInventories([fixturePath('hosts', 'srv-sp1.systeminfo.txt'), fixturePath('hosts', 'srv-sp1.hotfix.csv')])[0];
  return { payloads, host };
}

test('SP1 host, SP2 as an executable: SP2 with its switches, restart, then the rest', () => {
  const { payloads, host } = sp1HostWithSp2Exe();
  const plan = planInstall(host, payloads, kb, { kind: 'current' });
  const seq = plan.steps.map((s) => (s.action === 'reboot' ? 'reboot' : s.kb));
  assert.deepEqual(seq.slice(0, 2), ['KB948465', 'reboot'], seq.join(' '));
  assert.ok(seq.length > 3, 'the rest follows the restart');
  const sp2 = plan.steps[0];
  // the name on the media is the knowledge base's spelling, whatever the file arrived as (-X64.exe)
  assert.equal(sp2.file, `Windows6.0-KB948465-${host.architecture === 'x86' ? 'x86' : 'x64'}.exe`);
  const fact = kb.families.find((f) => f.ntVersion === '6.0')!.updates.get('KB948465')!;
  assert.ok(fact.silentSwitches !== null && fact.silentSwitches.length > 0);
  assert.deepEqual(sp2.switches, fact.silentSwitches);
  // only executables carry switches
  for (const s of plan.steps.slice(1)) assert.equal(s.switches, undefined, `${s.kb}`);
  assert.ok(!plan.assumptions.some((a) => /records no silent switches/.test(a)), plan.assumptions.join('\n'));
});

test('an executable whose silent switches the knowledge base does not record: a step without switches, and the plan says what install.cmd does about it', () => {
  const { payloads, host } = sp1HostWithSp2Exe();
  const family = kb.families.find((f) => f.ntVersion === '6.0')!;
  const sp2 = family.updates.get('KB948465')!;
  const updates = new Map(family.updates).set('KB948465', { ...sp2, silentSwitches: null });
  const noSwitches = { ...kb, families: kb.families.map((f) => (f === family ? { ...f, updates } : f)) };
  const plan = planInstall(host, payloads, noSwitches, { kind: 'current' });
  assert.equal(plan.steps[0].kb, 'KB948465');
  assert.equal(plan.steps[0].switches, undefined);
  assert.ok(plan.assumptions.some((a) => /KB948465 .*records no silent switches.*under \/autoreboot does not start it/.test(a)), plan.assumptions.join('\n'));
});

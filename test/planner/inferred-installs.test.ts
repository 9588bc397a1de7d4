import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadKnowledgeBase } from '../../src/knowledge/knowledge-base';
import { planInstall } from '../../src/planner/plan';
import { planDocument, planText } from '../../src/planner/present';
import { readHostInventories } from '../../src/planner/inventory';
import { fixturePath, tempDir } from '../common.helpers';
import { nt60Catalog } from './sample-payloads.helpers';

/**
 * Review 5 F1: what hostBaseline counts as installed from the host's facts (service pack level,
 * servicing stack version, SHA-2 registry values) gives way to CBS, and is checked by install.cmd's
 * first run wherever its look-up can find it (plan.assumedInstalled, computed after hostBaseline).
 */

const kb = loadKnowledgeBase();

/** SRV-ESU-ON's collect file with `edit` applied to its text */
function esuHost(edit: (t: string) => string): string {
  const t = edit(fs.readFileSync(fixturePath('hosts', 'srv-esu-activated.inventory.txt')).toString('latin1'));
  const file = path.join(tempDir('cabferry-inferred-'), 'SRV-ESU-ON-inventory.txt');
  fs.writeFileSync(file, Buffer.from(t, 'latin1'));
  return file;
}

const packageState = (k: string, state: string) => (t: string): string => {
  const re = new RegExp(`(Package_for_${k}~[^\\r]*\\r\\n    CurrentState    REG_DWORD    0x)70`);
  assert.match(t, re);
  return t.replace(re, `$1${state}`);
};

describe('updates counted as installed from the host\'s facts', () => {
  it('SHA-2 registry values set, KB4474419\'s CBS package partially installed: not counted; plan.txt and --json say CBS overruled the inference; it is a step', () => {
    const file = esuHost(packageState('KB4474419', '65'));
    const [host] = readHostInventories([file]);
    const plan = planInstall(host, nt60Catalog(), kb, { kind: 'target', kbs: ['KB4517134'] });
    assert.ok(plan.steps.some((s) => s.kb === 'KB4474419'), plan.steps.map((s) => s.kb).join(' '));
    assert.ok(!plan.assumptions.some((a) => a.startsWith('KB4474419 counted as installed')), plan.assumptions.join(' | '));
    const o = plan.overruled?.find((x) => x.kb === 'KB4474419');
    assert.deepEqual(o, { by: 'cbs', kb: 'KB4474419', listedBy: [file], cbsFile: file, package: 'kb', state: 0x65, inferredFrom: { fact: 'sha2CodeSigning', value: true } });
    assert.match(planText(plan, false), /KB4474419: listed as installed by .*SRV-ESU-ON-inventory\.txt, and would be counted as installed because the host reports SHA-2 code signing support active \(the two SHA-2 registry values set\), but CBS in .*SRV-ESU-ON-inventory\.txt says its servicing package is partially installed \(0x65\)\. \(A hotfix list .* The SHA-2 registry values can be left by an install that was rolled back or did not complete\.\)/);
    const doc = planDocument([plan], false) as { hosts: { overruled: { kb: string; inferredFrom?: unknown; text: string }[] }[] };
    assert.deepEqual(doc.hosts[0].overruled.find((x) => x.kb === 'KB4474419')?.inferredFrom, { fact: 'sha2CodeSigning', value: true });
  });

  it('an SSU counted from the stack version that CBS and the hotfix list do not name: counted, said unchecked, not given to install.cmd (whose look-up would refuse the host for ever)', () => {
    // the host went to the stack version KB4493730 brings without KB4493730's own package
    const file = esuHost((t) => t
      .replace(/HKEY_[^\r]*Package_for_KB4493730~[^\r]*\r\n    CurrentState    REG_DWORD    0x70\r\n\r\n/, '')
      .replace(/HotFixID=KB4493730\r*\n/, ''));
    const [host] = readHostInventories([file]);
    assert.ok(!host.installed.includes('KB4493730'));
    const plan = planInstall(host, nt60Catalog(), kb, { kind: 'target', kbs: ['KB4517134'] });
    assert.ok(plan.assumptions.some((a) => a.startsWith('KB4493730 counted as installed: the servicing stack reports version 6.0.6003.20484')), plan.assumptions.join(' | '));
    assert.ok(!(plan.assumedInstalled ?? []).includes('KB4493730'));
    // the service pack is not named there: install.cmd's first-run build check proves it
    assert.ok(plan.assumptions.some((a) => /^counted as installed from the host's facts, not among the updates install\.cmd checks .*: KB4493730$/.test(a)), plan.assumptions.join(' | '));
    assert.ok(!(plan.assumedInstalled ?? []).includes('KB948465'));
  });

  it('the service pack\'s own CBS package (VistaSP2-KB948465~) installed: KB948465 is on the host by CBS and install.cmd checks it', () => {
    const file = esuHost((t) => t.replace('[[cabferry:begin cbs]]\r\n',
      '[[cabferry:begin cbs]]\r\n\r\nHKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\Packages\\VistaSP2-KB948465~31bf3856ad364e35~amd64~~6.0.2.18005\r\n    CurrentState    REG_DWORD    0x70\r\n'));
    const [host] = readHostInventories([file]);
    assert.ok(host.installed.includes('KB948465'), host.installed.join(' '));
    const plan = planInstall(host, nt60Catalog(), kb, { kind: 'target', kbs: ['KB4517134'] });
    assert.deepEqual(plan.assumedInstalled, ['KB948465', 'KB4474419', 'KB4493730', 'KB4534303', 'KB4538484']);
    assert.ok(!plan.assumptions.some((a) => a.includes('not among the updates install.cmd checks')), plan.assumptions.join(' | '));
  });

  it('an inventory with no CBS section: the service pack its level stands for is not looked up by KB (a host installed from media with SP2 in it may have no SP2 package; install.cmd\'s first-run build check proves it), and is not called unchecked', () => {
    const [host] = readHostInventories([fixturePath('hosts', 'srv-sha2-pending.inventory.txt')]);
    const plan = planInstall(host, nt60Catalog(), kb, { kind: 'current' });
    assert.ok(!(plan.assumedInstalled ?? []).includes('KB948465'), (plan.assumedInstalled ?? []).join(' '));
    assert.ok(!plan.assumptions.some((a) => a.includes('not among the updates install.cmd checks') && a.includes('KB948465')), plan.assumptions.join(' | '));
    // what install.cmd's first run compares with the host's own build (CF_BUILD): SP2 is build 6002 or later
    assert.ok(host.build !== null && host.build >= 6002, String(host.build));
  });

  it('Windows 7 SP1 (KB976932, whose package is Windows7SP1-KB976933~) is never given to install.cmd: the build check proves it', () => {
    const [host] = readHostInventories([fixturePath('hosts', 'win7-ws.profile.json')]);
    const plan = planInstall(host, [], kb, { kind: 'current' });
    assert.ok(!(plan.assumedInstalled ?? []).includes('KB976932'), (plan.assumedInstalled ?? []).join(' '));
    assert.ok((plan.assumedInstalled ?? []).includes('KB3177467'));
    assert.ok(!plan.assumptions.some((a) => a.includes('not among the updates install.cmd checks') && a.includes('KB976932')), plan.assumptions.join(' | '));
  });
});

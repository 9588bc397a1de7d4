import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { loadTrustAnchors } from '../../src/authenticode';
import { inspectPayload } from '../../src/package/inspect';
import type { Payload } from '../../src/package/types';
import { readHostInventories } from '../../src/planner/inventory';
import { loadKnowledgeBase } from '../../src/knowledge/knowledge-base';
import { planInstall } from '../../src/planner/plan';
import type { HostPlan } from '../../src/planner/types';
import { fixturePath } from '../common.helpers';

/**
 * The planner on Payloads read for real: every fixture MSU in fixtures/payloads inspected by
 * src/package (signatures verified against the test PKI, update.mum checked against the
 * signed catalog), then planned for the hosts in fixtures/hosts.
 */

const kb = loadKnowledgeBase();
const seq = (p: HostPlan): string[] => p.steps.map((s) => (s.action === 'reboot' ? 'reboot' : `${s.kb}`));
const hostOf = (...files: string[]) => readHostInventories(files.map((f) => fixturePath('hosts', f)))[0];

describe('planInstall on the inspected fixture MSUs', () => {
  let payloads: Payload[];
  before(() => {
    const dir = fixturePath('payloads');
    const trust = loadTrustAnchors([fixturePath('pki', 'root.pem')]);
    payloads = fs.readdirSync(dir).filter((f) => f.endsWith('.msu')).sort().map((f) => inspectPayload(`${dir}/${f}`, { trust, knowledgeBase: kb }));
  });

  it('reads what the planner needs from each MSU', () => {
    const ssu = payloads.find((p) => p.fileName === 'Windows6.0-KB4493730-x64.msu')!;
    assert.deepEqual([ssu.kb, ssu.ntVersion, ssu.architecture, ssu.kind, ssu.signatures, ssu.metadataVerified], ['KB4493730', '6.0', 'amd64', 'servicing-stack', 'dual', true]);
    assert.equal(ssu.parents[0].kb, 'KB948465', 'update.mum names SP2 as the parent');
    assert.equal(payloads.find((p) => p.fileName === 'Windows6.0-KB4520002-x64.msu')!.signatures, 'sha2-only');
    assert.equal(ssu.servicingStackVersion, '6.0.6003.20489', 'the Microsoft-Windows-ServicingStack version its update.mum installs');
    assert.equal(payloads.find((p) => p.fileName === 'Windows6.0-KB4520002-x64.msu')!.servicingStackVersion, null, 'a rollup does not update the stack');
  });

  it("a host's servicing stack version counts an SSU as installed by the version in the SSU's own signed metadata", () => {
    const fresh = hostOf('srv-fresh-x64.systeminfo.txt');
    // the knowledge base says KB4493730 brings 6.0.6003.20484; the package in the catalog says .20489: the signed package wins
    assert.equal(kb.families.find((f) => f.ntVersion === '6.0')!.updates.get('KB4493730')!.servicingStackVersion, '6.0.6003.20484');
    const below = planInstall({ ...fresh, servicingStackVersion: '6.0.6003.20486' }, payloads, kb, { kind: 'current' });
    assert.equal(seq(below)[0], 'KB4493730', 'a stack older than what the package installs still needs the package');
    assert.ok(!below.assumptions.some((a) => /KB4493730 counted as installed/.test(a)));
    const at = planInstall({ ...fresh, servicingStackVersion: '6.0.6003.20489' }, payloads, kb, { kind: 'current' });
    assert.deepEqual(seq(at), ['KB4474419', 'reboot', 'KB4517134', 'KB4520002', 'reboot']);
    assert.ok(at.assumptions.some((a) => a.includes('KB4493730 counted as installed: the servicing stack reports version 6.0.6003.20489, and KB4493730 brings 6.0.6003.20489 (from the signed package manifests of Windows6.0-KB4493730-x64.msu)')), at.assumptions.join('\n'));
    // the stack version shown after an SSU step is the package's own
    assert.equal(planInstall(fresh, payloads, kb, { kind: 'current' }).steps[0].stateAfter!.servicingStackVersion, '6.0.6003.20489');
    // without the package in the catalog, the knowledge base's figure is used, and the plan says so
    const withoutSsu = payloads.filter((p) => p.kb !== 'KB4493730');
    const kbOnly = planInstall({ ...fresh, servicingStackVersion: '6.0.6003.20486' }, withoutSsu, kb, { kind: 'current' });
    assert.ok(kbOnly.assumptions.some((a) => /KB4493730 counted as installed: .* brings 6\.0\.6003\.20484 \(from the knowledge base\)/.test(a)), kbOnly.assumptions.join('\n'));
  });

  it('fresh SP2 x64 host: SSU → SHA-2 support → reboot → newest SSU → newest rollup → reboot', () => {
    const plan = planInstall(hostOf('srv-fresh-x64.systeminfo.txt'), payloads, kb, { kind: 'current' });
    // the fixtures end in 2019; the knowledge base knows a later servicing stack: not complete, and says what to fetch
    const newestSsu = [...kb.families.find((f) => f.ntVersion === '6.0')!.updates.values()].filter((f) => f.role === 'servicing-stack' && !f.azureOnly).sort((a, b) => b.released.localeCompare(a.released))[0];
    assert.equal(plan.complete, false);
    assert.ok(plan.missing.some((m) => m.kb === newestSsu.kb && m.cause.needs.some((n) => n.need.kind === 'baseline')), JSON.stringify(plan.missing));
    assert.ok(plan.incomplete.every((c) => c.kind === 'missing'));
    assert.deepEqual(seq(plan), ['KB4493730', 'KB4474419', 'reboot', 'KB4517134', 'KB4520002', 'reboot']);
    assert.match(plan.steps[2].reason, /need(s)? SHA-2 code signing support; KB4474419 .* takes effect after a restart/);
    const byFile = new Map(payloads.map((p) => [p.fileName, p]));
    for (const s of plan.steps.filter((x) => x.action === 'install')) assert.equal(byFile.get(s.file!)!.sha256, s.sha256, 'the plan names the inspected file by its SHA-256');
  });

  it('the other scenarios hold on real metadata too', () => {
    assert.deepEqual(seq(planInstall(hostOf('srv-sha2-pending.inventory.txt'), payloads, kb, { kind: 'current' })), ['reboot', 'KB4517134', 'KB4520002', 'reboot']);
    assert.deepEqual(seq(planInstall(hostOf('srv-6003-april.systeminfo.csv', 'srv-6003-april.wmic-qfe.txt'), payloads, kb, { kind: 'current' })), ['KB4474419', 'reboot', 'KB4517134', 'KB4520002', 'reboot']);
    const x86 = planInstall(hostOf('srv-x86.systeminfo.txt', 'srv-x86.hotfix.json'), payloads, kb, { kind: 'current' });
    assert.ok(x86.steps.every((s) => s.file === null || s.file.endsWith('-x86.msu')));
    const sp1 = planInstall(hostOf('srv-sp1.systeminfo.txt', 'srv-sp1.hotfix.csv'), payloads, kb, { kind: 'current' });
    assert.deepEqual(seq(sp1).slice(0, 2), ['KB948465', 'reboot']);
    const win7 = planInstall(hostOf('win7-ws.profile.json'), payloads, kb, { kind: 'current' });
    assert.deepEqual(seq(win7), ['KB4490628', 'KB4474419', 'reboot']);
    assert.equal(win7.steps[1].file, 'Windows6.1-KB4474419-v3-x64.msu');
  });
});

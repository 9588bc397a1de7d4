import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Payload } from '../../src/package/types';
import { loadKnowledgeBase } from '../../src/knowledge/knowledge-base';
import { planInstall } from '../../src/planner/plan';
import { planText } from '../../src/planner/present';
import { readHostInventories } from '../../src/planner/inventory';
import type { HostInventory, HostPlan, PlanGoal } from '../../src/planner/types';
import { prng } from '../../scripts/lib/prng';
import { fixturePath } from '../common.helpers';
import { laterSsu, nt60Catalog, nt60Payload } from './sample-payloads.helpers';
import { knowledgeBaseAsOf } from './knowledge-as-of.helpers';

/**
 * The scenarios of issue #6, each host read from a real inventory format in fixtures/hosts,
 * planned against payloads shaped like the Server 2008 SP2 fixture MSUs.
 */

// the story of issue #6 is told in October 2019: planned against what was known then, the fixture-era catalog is current
const kb = loadKnowledgeBase(knowledgeBaseAsOf('2019-10-31'));
/** today's knowledge base, for the facts of 2020 and later */
const kbNow = loadKnowledgeBase();
const hostFrom = (...files: string[]): HostInventory => {
  const hosts = readHostInventories(files.map((f) => fixturePath('hosts', f)));
  assert.equal(hosts.length, 1);
  return hosts[0];
};
const catalog = (options: { without?: string[] } = {}): Payload[] => [
  ...nt60Catalog(options),
  ...(['x86', 'amd64'] as const).flatMap((a) => [laterSsu('KB5016129', a), laterSsu('KB4537830', a)]),
];
const sequence = (plan: HostPlan): string[] => plan.steps.map((s) => (s.action === 'reboot' ? 'reboot' : s.kb!));
const current: PlanGoal = { kind: 'current' };

describe('planInstall: issue #6 scenarios', () => {
  it('a fresh SP2 x64 host at 6002 (systeminfo): SSU KB4493730 → KB4474419 → reboot → newest SSU → newest rollup → reboot', () => {
    const plan = planInstall(hostFrom('srv-fresh-x64.systeminfo.txt'), catalog(), kb, current);
    assert.equal(plan.complete, true);
    assert.deepEqual(sequence(plan), ['KB4493730', 'KB4474419', 'reboot', 'KB5016129', 'KB4520002', 'reboot']);
    assert.deepEqual(plan.steps.map((s) => s.file), [
      'Windows6.0-KB4493730-x64.msu', 'Windows6.0-KB4474419-v4-x64.msu', null, 'Windows6.0-KB5016129-x64.msu', 'Windows6.0-KB4520002-x64.msu', null,
    ]);
    assert.deepEqual(plan.steps.map((s) => s.n), [1, 2, 3, 4, 5, 6]);
    assert.match(plan.steps[2].reason, /SHA-2 only.*KB4474419|KB4474419.*restart/);
    for (const s of plan.steps.filter((x) => x.action === 'install')) {
      assert.ok(s.reason.length > 20, `step ${s.n} is explained`);
      assert.match(s.sha256!, /^[0-9a-f]{64}$/);
    }
    assert.match(plan.steps[0].reason, /prerequisite of KB4474419/);
    // superseded payloads are skipped with the reason
    const skipped = (k: string, reason: string): string | undefined => plan.skipped.find((s) => s.kb === k && s.reason === reason)?.detail;
    assert.match(skipped('KB4493471', 'superseded')!, /KB4520002/);
    assert.match(skipped('KB4489887', 'superseded')!, /KB4520002/);
    assert.match(skipped('KB4499180', 'superseded')!, /KB4520002/);
    assert.match(skipped('KB4517134', 'superseded')!, /KB5016129/);
    assert.match(skipped('KB4537830', 'superseded')!, /KB5016129/);
    assert.equal(skipped('KB948465', 'installed'), 'the host reports it installed');
  });

  it('simulates the host state after each step: build 6002 → 6003, servicing stack, SHA-2 active, restart pending', () => {
    const plan = planInstall(hostFrom('srv-fresh-x64.systeminfo.txt'), catalog(), kb, current);
    assert.deepEqual(plan.initialState, { build: 6002, revision: null, servicingStackVersion: null, servicingStackKb: null, sha2Active: false, rebootPending: false, servicePack: 2 });
    const st = plan.steps.map((s) => s.stateAfter!);
    assert.equal(st[0].servicingStackVersion, '6.0.6003.20484');
    assert.equal(st[0].servicingStackKb, 'KB4493730');
    assert.deepEqual([st[1].sha2Active, st[1].rebootPending], [false, true]);
    assert.deepEqual([st[2].sha2Active, st[2].rebootPending], [true, false]);
    assert.equal(st[3].servicingStackKb, 'KB5016129');
    assert.equal(st[3].build, 6002);
    assert.equal(st[4].build, 6003);
    assert.deepEqual([st[5].build, st[5].rebootPending, st[5].sha2Active], [6003, false, true]);
  });

  it('SHA-2 support installed but not restarted (collect-script output): the restart comes first', () => {
    const plan = planInstall(hostFrom('srv-sha2-pending.inventory.txt'), catalog(), kb, current);
    assert.deepEqual(sequence(plan), ['reboot', 'KB5016129', 'KB4520002', 'reboot']);
    assert.match(plan.steps[0].reason, /KB4474419.*not restarted/);
    assert.equal(plan.initialState!.sha2Active, false);
    assert.equal(plan.steps[0].stateAfter!.sha2Active, true);
    assert.ok(plan.skipped.some((s) => s.kb === 'KB4474419' && s.reason === 'installed'));
  });

  it('a host at 6003 with the April 2019 rollup (systeminfo csv + wmic qfe UTF-16) gets only what is newer', () => {
    const plan = planInstall(hostFrom('srv-6003-april.systeminfo.csv', 'srv-6003-april.wmic-qfe.txt'), catalog(), kb, current);
    const family = kbNow.families.find((f) => f.ntVersion === '6.0')!;
    for (const s of plan.steps.filter((x) => x.action === 'install')) {
      if (s.kb === 'KB4474419') continue; // the SHA-2 enabler is needed by everything newer
      assert.ok(family.updates.get(s.kb!)!.released > '2019-04-09', `${s.kb} is newer than the April rollup`);
    }
    assert.deepEqual(sequence(plan), ['KB4474419', 'reboot', 'KB5016129', 'KB4520002', 'reboot']);
    assert.match(plan.skipped.find((s) => s.kb === 'KB4489887' && s.reason === 'superseded')!.detail!, /KB4493471, which the host has installed/);
    assert.ok(plan.skipped.some((s) => s.kb === 'KB4493471' && s.reason === 'installed'));
    assert.equal(plan.initialState!.build, 6003);
  });

  it('an x86 host (systeminfo + Get-HotFix JSON) never gets an x64 payload', () => {
    const host = hostFrom('srv-x86.systeminfo.txt', 'srv-x86.hotfix.json');
    assert.equal(host.architecture, 'x86');
    const plan = planInstall(host, catalog(), kb, current);
    const all = catalog();
    for (const s of plan.steps.filter((x) => x.action === 'install')) {
      const p = all.find((x) => x.sha256 === s.sha256)!;
      assert.equal(p.architecture, 'x86', `${s.file} is x86`);
      assert.doesNotMatch(s.file!, /x64/);
    }
    // the Get-HotFix list names KB4493730 and systeminfo's does not: taken at different times, so the SSU is installed again (said)
    assert.deepEqual(sequence(plan), ['KB4493730', 'KB4474419', 'reboot', 'KB5016129', 'KB4520002', 'reboot']);
    assert.deepEqual(plan.overruled?.map((o) => [o.kb, o.by]), [['KB4493730', 'lists']]);
    assert.ok(plan.skipped.some((s) => s.kb === 'KB4520002' && s.reason === 'not-applicable' && /built for amd64; the host is x86/.test(s.detail!)));
  });

  it('an SP1 host (systeminfo + Get-HotFix CSV) is told it needs SP2 first', () => {
    const host = hostFrom('srv-sp1.systeminfo.txt', 'srv-sp1.hotfix.csv');
    assert.equal(host.servicePack, 1);
    const without = planInstall(host, catalog({ without: ['KB948465'] }), kb, current);
    assert.equal(without.complete, false);
    assert.deepEqual(without.missing.map((m) => m.kb), ['KB948465']);
    assert.match(without.missing[0].reason, /service pack 2/i);
    assert.match(without.missing[0].reason, /fetch Windows6\.0-KB948465-x64\.exe/);
    assert.deepEqual(without.steps, [], 'nothing installs on SP1');
    const withSp2 = planInstall(host, catalog(), kb, current);
    assert.deepEqual(sequence(withSp2), ['KB948465', 'reboot', 'KB4493730', 'KB4474419', 'reboot', 'KB5016129', 'KB4520002', 'reboot']);
    assert.equal(withSp2.steps[1].stateAfter!.build, 6002);
  });

  it('a catalog without KB4474419 yields an incomplete plan naming it and what waits for it', () => {
    const plan = planInstall(hostFrom('srv-fresh-x64.systeminfo.txt'), catalog({ without: ['KB4474419'] }), kb, current);
    assert.equal(plan.complete, false);
    assert.deepEqual(plan.missing.map((m) => m.kb), ['KB4474419']);
    assert.equal(plan.missing[0].fileHint, 'Windows6.0-KB4474419-v4-x64.msu');
    assert.match(plan.missing[0].reason, /fetch Windows6\.0-KB4474419-v4-x64\.msu/);
    assert.match(plan.missing[0].reason, /KB4520002/);
    assert.match(plan.missing[0].reason, /KB5016129/);
    // nothing SHA-2-only may be attempted without it
    assert.ok(!plan.steps.some((s) => s.kb === 'KB4520002' || s.kb === 'KB5016129'));
  });

  it('plan text lists a knowledge-base source once however many missing lines cite it; --json quotes it in each reason', () => {
    // KB4520002 requires KB4474419 and the April 2019 SSU on one source; no later SSU in the catalog stands in for it
    const plan = planInstall(hostFrom('srv-fresh-x64.systeminfo.txt'), nt60Catalog({ without: ['KB4474419', 'KB4493730', 'KB4517134'] }), kb, current);
    assert.deepEqual(plan.missing.map((m) => m.kb), ['KB4474419', 'KB4493730', 'KB4517134']);
    const source = 'alvaciroliveira/RpcAuthnLevelPrivacyEnabled:README.md@fc3cfb2';
    assert.ok(plan.missing[0].reason.includes(source) && plan.missing[1].reason.includes(source), 'each reason quotes the source in full');
    const text = planText(plan, false);
    // (the plan's assumptions quote it too, for the recommended SSU: they are not missing lines)
    const missingSection = text.slice(text.indexOf('  missing ('), text.indexOf('  skipped:'));
    assert.equal(missingSection.split(source).length - 1, 1, 'the source appears once in the missing lines and their sources');
    const lines = text.split('\n');
    const missingLine = (k: string): string => lines.find((l) => l.startsWith(`    ${k}: `))!;
    assert.match(missingLine('KB4474419'), /needed by KB4520002: source \[1\];/);
    assert.match(missingLine('KB4493730'), /needed by KB4520002: source \[1\]; fetch Windows6\.0-KB4493730-x64\.msu$/);
    assert.ok(lines.includes('  sources:'));
    assert.ok(lines.some((l) => l.startsWith(`    [1] ${source} (`)));
  });
});

describe('planInstall: goals, reboots and applicability', () => {
  const fresh = (): HostInventory => hostFrom('srv-fresh-x64.systeminfo.txt');

  it('places no reboot that is not needed: a dual-signed target installs with one final restart', () => {
    const plan = planInstall(fresh(), catalog(), kb, { kind: 'target', kbs: ['KB4493471'] });
    assert.deepEqual(sequence(plan), ['KB4493471', 'reboot']);
    const ssuOnly = planInstall(fresh(), catalog(), kb, { kind: 'target', kbs: ['KB4493730'] });
    assert.deepEqual(sequence(ssuOnly), ['KB4493730'], 'an SSU that never restarts needs no reboot');
  });

  it('a restart names what it cures once, with the payloads it held back counted past the first five', () => {
    // nine SHA-2-only hotfixes wait for KB4474419 beside the SHA-2-only SSU (the rollup waits for that SSU)
    const hotfixes = Array.from({ length: 9 }, (_, i) => {
      const id = `KB39000${i}0`;
      const fileName = `Windows6.0-${id}-x64.msu`;
      return nt60Payload('KB4493471', 'amd64', { kb: id, kind: 'hotfix', signatures: 'sha2-only', restart: 'never', fileName, sha256: createHash('sha256').update(fileName).digest('hex') });
    });
    const plan = planInstall(fresh(), [...catalog(), ...hotfixes], kb, current);
    const restart = plan.steps.find((s) => s.action === 'reboot')!;
    assert.equal(restart.reason, 'KB3900000, KB3900010, KB3900020, KB3900030, KB3900040 and 5 more need SHA-2 code signing support; KB4474419 (SHA-2 code signing support) takes effect after a restart');
    // who they are is in their own steps, after the restart
    const after = plan.steps.slice(restart.n);
    for (const k of [...hotfixes.map((h) => h.kb), 'KB4520002']) assert.match(after.find((s) => s.kb === k)!.reason, /after KB4474419.*signed with SHA-2 only/, k);
    // one held back: the words it always had
    const one = planInstall(fresh(), catalog(), kb, current);
    assert.equal(one.steps[2]!.reason, 'KB5016129 needs SHA-2 code signing support; KB4474419 (SHA-2 code signing support) takes effect after a restart');
  });

  it('the SSU recommended before SHA-2 support, itself needing SHA-2 support: the order gives way, not the SSU', () => {
    // KB4493730 is recommended before KB4474419 (knowledge base); one whose catalogs are SHA-256 only
    // (or whose record does not say) must wait for it. Before: the SSU was left out of the plan and
    // KB4474419, planned at step 1, was reported missing "needed by KB4493730".
    const payloads = catalog().map((p) => (p.kb === 'KB4493730' ? { ...p, sha2OnlyParts: [{ part: 'catalog' as const, member: 'update.cat' }] } : p));
    const sha2Signed = catalog().map((p) => (p.kb === 'KB4493730' ? { ...p, signatures: 'sha2-only' as const } : p));
    assert.deepEqual(sequence(planInstall(fresh(), sha2Signed, kb, { kind: 'target', kbs: ['KB4493730', 'KB4474419'] })), ['KB4474419', 'reboot', 'KB4493730'], 'the same for a SHA-2-only file');
    const plan = planInstall(fresh(), payloads, kb, { kind: 'target', kbs: ['KB4493730', 'KB4474419'] });
    assert.deepEqual(sequence(plan), ['KB4474419', 'reboot', 'KB4493730']);
    assert.deepEqual(plan.missing.map((m) => m.kb), []);
    assert.ok(plan.assumptions.some((a) => a.startsWith('KB4493730 is recommended before KB4474419') && a.endsWith('but here KB4493730 must itself wait for KB4474419, so that order is not kept')), plan.assumptions.join('\n'));
  });

  it('--target pulls in the minimal prerequisite closure and names unknown targets as missing', () => {
    const plan = planInstall(fresh(), catalog(), kb, { kind: 'target', kbs: ['KB4520002', 'KB4999999'] });
    // exactly the SSU the rollup's article names (KB4517134), not the newest one
    assert.deepEqual(sequence(plan), ['KB4493730', 'KB4474419', 'reboot', 'KB4517134', 'KB4520002', 'reboot']);
    assert.match(plan.steps.find((s) => s.kb === 'KB4517134')!.reason, /prerequisite of KB4520002/);
    assert.deepEqual(plan.missing.map((m) => m.kb), ['KB4999999']);
    assert.match(plan.missing[0].reason, /not in the catalog; named with --target; fetch Windows6\.0-KB4999999-x64\.msu/);
    assert.equal(plan.complete, false);
  });

  it('an older SSU named as a prerequisite is met by the newest SSU the plan installs anyway', () => {
    const plan = planInstall(fresh(), catalog(), kb, current);
    assert.ok(!plan.steps.some((s) => s.kb === 'KB4517134'));
    assert.match(plan.steps.find((s) => s.kb === 'KB5016129')!.reason, /replaces KB4517134, which KB4520002 requires/);
  });

  it('--security-only installs every security-only update and no rollup', () => {
    const plan = planInstall(fresh(), catalog(), kb, { kind: 'security-only' });
    assert.deepEqual(sequence(plan), ['KB4493730', 'KB4474419', 'KB4499180', 'reboot', 'KB5016129']);
    assert.ok(!plan.steps.some((s) => s.kind === 'monthly-rollup' || s.kind === 'rollup-preview'));
    assert.match(plan.skipped.find((s) => s.kb === 'KB4520002' && s.reason === 'not-applicable' && !/built for/.test(s.detail!))!.detail!, /--security-only/);
  });

  it('a host that reports a pending restart restarts before anything installs', () => {
    const plan = planInstall({ ...fresh(), pendingReboot: true }, catalog(), kb, current);
    assert.equal(sequence(plan)[0], 'reboot');
    assert.match(plan.steps[0].reason, /pending restart/);
    assert.equal(sequence(plan).filter((s) => s === 'reboot').length, 3);
  });

  it('Vista gets no SHA-2 support: Server-2008-only updates are not applicable, and a SHA-2-only update cannot be planned', () => {
    const vista = { ...fresh(), product: 'Windows Vista' };
    const plan = planInstall(vista, catalog(), kb, current);
    assert.deepEqual(plan.steps, []);
    // nothing to install is not "current": the knowledge base knows no baseline for Vista (plan-truth.test.ts)
    assert.equal(plan.complete, false);
    assert.ok(plan.incomplete.some((c) => c.kind === 'no-baseline' && c.product === 'Windows Vista'), JSON.stringify(plan.incomplete));
    assert.match(plan.skipped.find((s) => s.kb === 'KB4474419' && !/built for/.test(s.detail!))!.detail!, /applies to Windows Server 2008 only/);
    // a SHA-2-only update the knowledge base does not know, whose metadata says it applies to Vista
    const other = nt60Payload('KB4520002', 'amd64', { kb: 'KB4600001', kind: 'security-update', fileName: 'Windows6.0-KB4600001-x64.msu', sha256: 'b'.repeat(64) });
    const withOther = planInstall(vista, [...catalog(), other], kb, current);
    assert.equal(withOther.complete, false);
    assert.deepEqual(withOther.missing.map((m) => m.kb), ['KB4474419']);
    assert.match(withOther.missing[0].reason, /catalog's copy does not apply .*Windows Server 2008 only.*needed by KB4600001/);
    assert.ok(withOther.assumptions.some((a) => /KB4600001 is not in the knowledge base/.test(a)));
  });

  it('ESU preparation: the newer package replaces the older one; its SSU prerequisite is met by the newest SSU', () => {
    const esu = (k: string): Payload => nt60Payload('KB4520002', 'amd64', { kb: k, kind: 'esu-preparation', fileName: `Windows6.0-${k}-x64.msu`, sha256: k === 'KB4538484' ? 'c'.repeat(64) : 'd'.repeat(64) });
    const plan = planInstall(fresh(), [...catalog(), esu('KB4538484'), esu('KB4575904')], kbNow, current);
    assert.deepEqual(sequence(plan), ['KB4493730', 'KB4474419', 'reboot', 'KB5016129', 'KB4575904', 'KB4520002', 'reboot']);
    // KB4575904 is a July 2020 package: the newest SSU before it is the July SSU KB4565353 (a recommended order),
    // not the August SSU KB4572374 the knowledge base used to name (catalog folder secu/2020/07, see catalog/kb/nt6.0.json)
    assert.match(plan.steps.find((s) => s.kb === 'KB5016129')!.reason, /replaces KB4565353, which KB4575904 requires/);
    assert.match(plan.skipped.find((s) => s.kb === 'KB4538484' && s.reason === 'superseded')!.detail!, /KB4575904/);
  });

  it('counts the SSU and SHA-2 support the host reports by version and registry, even when its hotfix list misses them', () => {
    const plan = planInstall({ ...fresh(), servicingStackVersion: '6.0.6003.20490', sha2CodeSigning: true, pendingReboot: false }, catalog(), kb, current);
    assert.deepEqual(sequence(plan), ['KB5016129', 'KB4520002', 'reboot']);
    assert.ok(plan.assumptions.some((a) => /KB4493730 counted as installed: the servicing stack reports version 6\.0\.6003\.20490/.test(a)));
    assert.ok(plan.assumptions.some((a) => /KB4474419 counted as installed/.test(a)));
  });

  it('a rollup the knowledge base does not know is placed among the rollups by its KB number', () => {
    // KB4534303 (January 2020) is in the knowledge base now; a made-up KB number stands for a rollup it does not know
    const unknown = nt60Payload('KB4520002', 'amd64', { kb: 'KB4600003', fileName: 'Windows6.0-KB4600003-x64.msu', sha256: 'e'.repeat(64) });
    const plan = planInstall(fresh(), [...catalog(), unknown], kb, current);
    assert.deepEqual(sequence(plan), ['KB4493730', 'KB4474419', 'reboot', 'KB5016129', 'KB4600003', 'reboot']);
    assert.match(plan.skipped.find((s) => s.kb === 'KB4520002' && s.reason === 'superseded')!.detail!, /KB4600003/);
    assert.ok(plan.assumptions.some((a) => /KB4600003 is not in the knowledge base.*by its KB number/.test(a)));
  });

  it('a payload without a valid signature is never planned', () => {
    const bad = catalog().map((p) => (p.kb === 'KB4474419' ? { ...p, signatures: 'invalid' as const } : p));
    const plan = planInstall(fresh(), bad, kb, current);
    assert.ok(!plan.steps.some((s) => s.kb === 'KB4474419'));
    assert.ok(plan.skipped.some((s) => s.kb === 'KB4474419' && /no valid signature/.test(s.detail!)));
    assert.deepEqual(plan.missing.map((m) => m.kb), ['KB4474419']);
  });

  it('of two files of one KB, plans the one the knowledge base names (-v4) and says why the other is skipped', () => {
    const v3 = { ...nt60Payload('KB4474419', 'amd64'), fileName: 'Windows6.0-KB4474419-v3-x64.msu', payloadCab: 'Windows6.0-KB4474419-v3-x64.cab', sha256: 'a'.repeat(64) };
    const plan = planInstall(fresh(), [v3, ...catalog()], kb, current);
    assert.equal(plan.steps.find((s) => s.kb === 'KB4474419')!.file, 'Windows6.0-KB4474419-v4-x64.msu');
    assert.ok(plan.skipped.some((s) => s.kb === 'KB4474419' && /v3-x64.*another file/.test(s.detail!)));
  });

  it('of an .msu and the bare payload cab of one release, plans the .msu (wusa checks applicability; pkgmgr does not), whichever came first', () => {
    const msu = nt60Payload('KB4520002', 'amd64');
    const cab = { ...msu, fileName: 'Windows6.0-KB4520002-x64.cab', format: 'cab' as const, payloadCab: undefined, sha256: 'c'.repeat(64) };
    const rest = catalog().filter((p) => !(p.kb === 'KB4520002' && p.architecture === 'amd64'));
    for (const order of [[cab, msu], [msu, cab]]) {
      const plan = planInstall(fresh(), [...order, ...rest], kb, current);
      assert.equal(plan.steps.find((s) => s.kb === 'KB4520002')!.file, 'Windows6.0-KB4520002-x64.msu');
      assert.ok(plan.skipped.some((s) => s.kb === 'KB4520002' && s.cause.kind === 'other-file' && s.cause.file === 'Windows6.0-KB4520002-x64.cab'));
    }
  });

  it('without an architecture the plan is incomplete rather than silently empty; the NT version is inferred from the KBs', () => {
    const qfeOnly = hostFrom('srv-6003-april.wmic-qfe.txt');
    const plan = planInstall(qfeOnly, catalog(), kb, current);
    assert.equal(plan.complete, false);
    assert.deepEqual(plan.steps, []);
    assert.ok(plan.assumptions.some((a) => /assumed 6\.0/.test(a)));
    assert.ok(plan.assumptions.some((a) => /architecture not reported/.test(a)));
  });

  it('a host of an NT version the knowledge base does not know cannot be planned', () => {
    const plan = planInstall({ ...fresh(), ntVersion: '6.2' }, catalog(), kb, current);
    assert.equal(plan.complete, false);
    assert.deepEqual(plan.incomplete, [{ kind: 'unknown-family', ntVersion: '6.2' }]);
  });

  it('a parent package of another NT version makes a payload not applicable', () => {
    const p = nt60Payload('KB4493730', 'amd64', {
      parents: [{ identity: { name: 'Microsoft-Windows-Foundation-Package', version: '6.1.7601.17514' }, kb: null }],
    });
    const plan = planInstall(fresh(), [p], kb, { kind: 'target', kbs: ['KB4493730'] });
    assert.match(plan.skipped[0].detail!, /not NT 6\.0/);
    assert.deepEqual(plan.steps, []);
  });

  it('is pure: same inputs, same plan; inputs untouched', () => {
    const host = fresh();
    const payloads = catalog();
    const before = JSON.stringify([host, payloads]);
    const a = planInstall(host, payloads, kb, current);
    const b = planInstall(host, payloads, kb, current);
    assert.deepEqual(a, b);
    assert.equal(JSON.stringify([host, payloads]), before);
  });
});

describe('planInstall: invariants over random hosts and catalogs', () => {
  it('every plan respects prerequisites, SHA-2 activation, architecture and never repeats or reinstalls', () => {
    // today's facts: they know the later SSUs (KB5016129) that stand in for an older one
    const family = kbNow.families.find((f) => f.ntVersion === '6.0')!;
    const full = catalog();
    const kbs = [...new Set(full.map((p) => p.kb))];
    for (let seed = 1; seed <= 300; seed++) {
      const r = prng(seed); // seeded, so a failure is reproducible
      const payloads = full.filter(() => r() < 0.8);
      // a consistent host: updates of the family only from SP2 on, and the build its updates set
      const servicePack = r() < 0.15 ? 1 : 2;
      const installed = servicePack === 2 ? kbs.filter((k) => k !== 'KB948465' && r() < 0.25) : [];
      const build = installed.some((k) => family.updates.get(k)?.setsBuild === 6003) ? 6003 : 6002;
      const arch = r() < 0.5 ? 'x86' : 'amd64';
      const pendingReboot = r() < 0.2 ? true : r() < 0.5 ? false : null;
      const host: HostInventory = {
        name: `H${seed}`, product: 'Windows Server 2008', ntVersion: '6.0', build, revision: null, architecture: arch,
        servicePack, installed, servicingStackVersion: null, sha2CodeSigning: null, pendingReboot, sources: ['profile'], unknown: [], sections: { hotfixes: true }, esuLicence: null, files: [], evidence: [], conflicts: [],
      };
      const goals: PlanGoal[] = [{ kind: 'current' }, { kind: 'security-only' }, { kind: 'target', kbs: ['KB4520002'] }];
      const goal = goals[Math.floor(r() * goals.length)];
      const plan = planInstall(host, payloads, kb, goal);
      const ctx = `seed ${seed}: ${sequence(plan).join(' ')}`;
      const done = new Set(installed);
      let sha2Installed = installed.includes('KB4474419');
      let sha2Active = sha2Installed && pendingReboot !== true;
      let sp = host.servicePack!;
      let last: string | null = null;
      for (const s of plan.steps) {
        if (s.action === 'reboot') {
          assert.notEqual(last, 'reboot', `${ctx}: two restarts in a row`);
          sha2Active = sha2Installed;
          last = 'reboot';
          continue;
        }
        const p = payloads.find((x) => x.sha256 === s.sha256)!;
        assert.ok(p, `${ctx}: step ${s.n} names a catalog payload`);
        assert.equal(p.architecture, arch, `${ctx}: architecture`);
        assert.ok(!done.has(s.kb!), `${ctx}: ${s.kb} installed twice or already installed`);
        if (s.kb !== 'KB948465') assert.ok(sp >= 2, `${ctx}: ${s.kb} before SP2`);
        if (p.signatures === 'sha2-only' && s.kb !== 'KB4474419') assert.ok(sha2Active, `${ctx}: ${s.kb} before SHA-2 support is active`);
        for (const pre of (family.updates.get(s.kb!)?.prerequisites ?? []).filter((p) => p.strength === 'required')) {
          const met = [...done].some((d) => d === pre.kb || (family.updates.get(d)?.role === family.updates.get(pre.kb)?.role && family.updates.get(d)!.released > family.updates.get(pre.kb)!.released && ['servicing-stack', 'monthly-rollup'].includes(family.updates.get(d)!.role)));
          assert.ok(met, `${ctx}: ${s.kb} before its prerequisite ${pre.kb}`);
        }
        done.add(s.kb!);
        if (s.kb === 'KB4474419') sha2Installed = true;
        if (s.kb === 'KB948465') sp = 2;
        last = s.kb;
      }
      assert.equal(plan.complete, plan.incomplete.length === 0, ctx);
      // --security-only: the knowledge base (of October 2019) lists a security-only update for every
      // month from 2018-09 on, so no month is unknown; what the host lacks of them is missing
      const unlisted = plan.incomplete.filter((c) => c.kind === 'security-only-unlisted');
      assert.equal(unlisted.length, 0, `${ctx}: months the knowledge base does not list`);
      const others = plan.incomplete.filter((c) => c.kind !== 'security-only-unlisted');
      assert.deepEqual(others, plan.missing.length > 0 ? [{ kind: 'missing', kbs: plan.missing.map((m) => m.kb) }] : [], `${ctx}: a consistent host is incomplete only for what is missing (and unlisted months), and says what`);
    }
  });
});

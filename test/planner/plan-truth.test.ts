import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import type { Payload } from '../../src/package/types';
import { loadKnowledgeBase, type KbFamily, type KbUpdateFact, type KnowledgeBase } from '../../src/knowledge/knowledge-base';
import { planInstall } from '../../src/planner/plan';
import { knowledgeLimit } from '../../src/planner/completeness';
import { planDocument, planText } from '../../src/planner/present';
import { readHostInventories } from '../../src/planner/inventory';
import { asciiLookalike } from '../../src/planner/inventory/host-facts';
import { Supersedence } from '../../src/planner/supersedence';
import type { HostInventory, HostPlan, PlanGoal } from '../../src/planner/types';
import { prng } from '../../scripts/lib/prng';
import { fixturePath, tempDir } from '../common.helpers';
import { laterSsu, nt60Catalog, nt60Payload } from './sample-payloads.helpers';
import { knowledgeBaseAsOf } from './knowledge-as-of.helpers';

/**
 * Issue #12 (items 6-8, 10) and #13 (item 4): a plan says "complete" only when it is, against what
 * the knowledge base knows; inventories are evidence whose contradictions stop the plan.
 */

/** today's knowledge base: what "current" means */
const kb = loadKnowledgeBase();
const nt60 = kb.families.find((f) => f.ntVersion === '6.0')!;
const nt61 = kb.families.find((f) => f.ntVersion === '6.1')!;
/** the knowledge of October 2019, against which the sample catalog (which ends there) is current */
const kb2019 = loadKnowledgeBase(knowledgeBaseAsOf('2019-10-31'));
const current: PlanGoal = { kind: 'current' };
const catalog = (): Payload[] => [...nt60Catalog(), ...(['x86', 'amd64'] as const).map((a) => laterSsu('KB5016129', a))];
const sequence = (plan: HostPlan): string[] => plan.steps.map((s) => (s.action === 'reboot' ? 'reboot' : s.kb!));
const fixture = (f: string): string => fixturePath('hosts', f);
const kinds = (plan: HostPlan): string[] => plan.incomplete.map((c) => c.kind);

function write(name: string, content: string | Buffer): string {
  const file = path.join(tempDir('cabferry-truth-'), name);
  fs.writeFileSync(file, content);
  return file;
}

function hotfixJson(csName: string, kbs: string[]): string {
  return write('hotfix.json', JSON.stringify(kbs.map((k) => ({ CSName: csName, HotFixID: k, Description: 'Update' }))));
}

/** A knowledge base with some facts of NT 6.0 replaced. */
function knowledgeWith(base: KnowledgeBase, facts: Partial<KbUpdateFact>[]): KnowledgeBase {
  const family0 = base.families.find((f) => f.ntVersion === '6.0')!;
  const updates = new Map(family0.updates);
  for (const f of facts) {
    updates.set(f.kb!, { ...updates.get(f.kb!)!, ...f });
  }
  const family: KbFamily = { ...family0, updates };
  return { families: base.families.map((f) => (f === family0 ? family : f)) };
}

describe('inventory identity: which files make a host, and what they may claim', () => {
  it('a Get-HotFix file naming srv-fresh cannot remove patches from SRV-FRESH: the build conflict is named, the claims are not believed, exit 1', () => {
    const fake = hotfixJson('srv-fresh', ['KB4520002', 'KB4517134', 'KB4493730']);
    const [host] = readHostInventories([fixture('srv-fresh-x64.systeminfo.txt'), fake]);
    assert.deepEqual(host.files, [fixture('srv-fresh-x64.systeminfo.txt'), fake]);
    const plan = planInstall(host, catalog(), kb2019, current);
    assert.equal(plan.complete, false);
    assert.deepEqual(plan.files, host.files);
    const conflict = plan.incomplete.find((c) => c.kind === 'conflict');
    assert.ok(conflict && conflict.kind === 'conflict');
    assert.equal(conflict.conflict.fact, 'build');
    assert.deepEqual(conflict.conflict.claims, [
      { claim: { kind: 'fact', fact: 'build', value: 6002 }, files: [fixture('srv-fresh-x64.systeminfo.txt')] },
      { claim: { kind: 'installed', kb: 'KB4520002', implies: { fact: 'build', value: 6003 } }, files: [fake] },
    ]);
    // none of that file's claims is believed: the plan is the fresh host's plan
    assert.deepEqual(sequence(plan), ['KB4493730', 'KB4474419', 'reboot', 'KB5016129', 'KB4520002', 'reboot']);
    // the systeminfo list names none of them: the lists disagree, and what one list alone names is not believed
    // (and what systeminfo alone names is disputed as much: neither file is believed over the other)
    assert.deepEqual(plan.overruled?.map((o) => [o.kb, o.by]).sort(), [['KB2999226', 'lists'], ['KB3078601', 'lists'], ['KB4493730', 'lists'], ['KB4517134', 'lists'], ['KB4520002', 'lists'], ['KB955430', 'lists']]);
    assert.match(planText(plan, false), /conflicting build: .*srv-fresh-x64\.systeminfo\.txt says build 6002; .*hotfix\.json says KB4520002 installed \(which means build 6003\)/);
  });

  it('a look-alike host name (U+017F "ſ", Cyrillic letters) is never folded into another host; it is flagged', () => {
    for (const name of ['\u017frv-fre\u017fh', 'SRV-FR\u0415SH', 'srv-fresh'.replace('s', '\u0455')]) {
      const hosts = readHostInventories([fixture('srv-fresh-x64.systeminfo.txt'), hotfixJson(name, ['KB4520002'])]);
      assert.deepEqual(hosts.map((h) => h.name), ['SRV-FRESH', name], JSON.stringify(name));
      assert.deepEqual(hosts[0].installed, ['KB2999226', 'KB3078601', 'KB955430'], 'SRV-FRESH keeps its own list');
      const plan = planInstall(hosts[1], catalog(), kb2019, current);
      assert.ok(plan.incomplete.some((c) => c.kind === 'host-name-lookalike' && c.resembles === 'SRV-FRESH'), JSON.stringify(plan.incomplete));
    }
    // equal as ASCII, case-insensitively: one host
    assert.equal(readHostInventories([fixture('srv-fresh-x64.systeminfo.txt'), hotfixJson('Srv-Fresh', ['KB4493730'])]).length, 1);
    // a name in another script is its own host, not a look-alike
    assert.equal(asciiLookalike('\u30b5\u30fc\u30d0\u30fc01'), null);
    assert.equal(asciiLookalike('SRV-FRESH'), null);
  });

  it('a service pack level against installed updates is a conflict', () => {
    const [host] = readHostInventories([fixture('srv-sp1.systeminfo.txt'), hotfixJson('SRV-SP1', ['KB4493730', 'KB955430'])]);
    const plan = planInstall(host, catalog(), kb2019, current);
    const conflict = plan.incomplete.find((c) => c.kind === 'conflict');
    assert.ok(conflict && conflict.kind === 'conflict' && conflict.conflict.fact === 'servicePack', JSON.stringify(plan.incomplete));
    assert.deepEqual(conflict.conflict.claims.map((c) => c.claim), [
      { kind: 'fact', fact: 'servicePack', value: 1 },
      { kind: 'installed', kb: 'KB4493730', implies: { fact: 'servicePack', value: 2 } },
    ]);
    assert.equal(sequence(plan)[0], 'KB948465', 'SP2 is still planned first');
    assert.ok(plan.steps.some((s) => s.kb === 'KB4493730'), 'the claimed SSU is not believed');
  });

  it('two architectures are a conflict: neither is believed and nothing architecture-specific is planned', () => {
    const x86 = write('x86.json', JSON.stringify({ name: 'SRV-FRESH', installed: [], architecture: 'x86' }));
    const [host] = readHostInventories([fixture('srv-fresh-x64.systeminfo.txt'), x86]);
    assert.equal(host.architecture, null);
    const plan = planInstall(host, catalog(), kb2019, current);
    assert.equal(plan.complete, false);
    assert.deepEqual(kinds(plan).filter((k) => k === 'conflict' || k === 'architecture-unknown'), ['conflict', 'architecture-unknown']);
    assert.deepEqual(plan.steps, []);
    assert.match(planText(plan, false), /conflicting architecture: .*says architecture amd64; .*x86\.json says architecture x86/);
  });

  it('a product its NT version does not have (Windows Server 2008 R2, Windows 7 at 6.0.6002) is a conflict: the plan is not complete and says why', () => {
    // review h/planreview F7: every payload was skipped as another product's, the baseline held nothing
    // of that product, and the plan was "complete, nothing to install"
    const fresh = fs.readFileSync(fixture('srv-fresh-x64.systeminfo.txt'), 'latin1');
    for (const [from, to, product] of [
      ['Windows Server\u00a9 2008 Standard', 'Windows Server\u00a9 2008 R2 Standard', 'Windows Server 2008 R2'],
      ['Microsoft\u00a9 Windows Server\u00a9 2008 Standard', 'Microsoft Windows 7 Professional', 'Windows 7'],
    ] as const) {
      const file = write('mixed.systeminfo.txt', Buffer.from(fresh.replace(from, to), 'latin1'));
      const [host] = readHostInventories([file]);
      assert.deepEqual([host.product, host.ntVersion, host.conflicts], [product, '6.0', []]);
      const plan = planInstall(host, [...catalog(), ...(['x86', 'amd64'] as const).map((a) => laterSsu('KB5016129', a))], kb, current);
      assert.equal(plan.complete, false, product);
      assert.deepEqual(plan.incomplete.filter((c) => c.kind === 'conflict'), [{
        kind: 'conflict',
        conflict: { fact: 'product', claims: [{ claim: { kind: 'fact', fact: 'product', value: product }, files: [file] }, { claim: { kind: 'fact', fact: 'ntVersion', value: '6.0' }, files: [file] }] },
      }]);
      // the contradiction is the cause, not a second one about a baseline for the other family's product
      assert.ok(!kinds(plan).includes('no-baseline'), kinds(plan).join(', '));
      assert.match(planText(plan, false), new RegExp(`product and NT version contradict each other: .*mixed\\.systeminfo\\.txt says product ${product}; .*says NT version 6\\.0 — `));
    }
    // the knowledge base's names in any language, and a name it does not read, contradict nothing
    for (const f of ['srv-6003-april.de.systeminfo.txt', 'srv-6003-april.fr.systeminfo.txt', 'srv-6003-april.ja.systeminfo.txt', 'srv-fresh-x64.systeminfo.txt']) {
      const plan = planInstall(readHostInventories([fixture(f)])[0], catalog(), kb2019, current);
      assert.ok(!kinds(plan).includes('conflict'), `${f}: ${kinds(plan).join(', ')}`);
    }
    const unread = write('unread.systeminfo.txt', Buffer.from(fresh.replace('Microsoft\u00a9 Windows Server\u00a9 2008 Standard', 'Microsoft Windows Storage Server Standard'), 'latin1'));
    const [unknownProduct] = readHostInventories([unread]);
    assert.equal(unknownProduct.product, null);
    const plan = planInstall(unknownProduct, catalog(), kb2019, current);
    assert.deepEqual(plan.incomplete, []);
    assert.ok(plan.assumptions.some((a) => /product not reported; assumed any Windows Server 2008 \/ Windows Vista edition/.test(a)));
  });

  it('a systeminfo cut before "Hotfix(s):" names the missing list; another file of the host can supply it', () => {
    const full = fs.readFileSync(fixture('srv-fresh-x64.systeminfo.txt'), 'latin1');
    const cut = write('cut.systeminfo.txt', Buffer.from(full.slice(0, full.indexOf('Hotfix(s):')), 'latin1'));
    const [host] = readHostInventories([cut]);
    assert.equal(host.sections.hotfixes, false);
    assert.ok(host.unknown.includes('installed'));
    const plan = planInstall(host, catalog(), kb2019, current);
    assert.equal(plan.complete, false);
    assert.deepEqual(plan.incomplete.filter((c) => c.kind === 'section-missing'), [{ kind: 'section-missing', section: 'hotfixes', files: [cut] }]);
    assert.match(planText(plan, false), /no complete installed-update list \(hotfix section\) in .*cut\.systeminfo\.txt/);
    const [completed] = readHostInventories([cut, hotfixJson('SRV-FRESH', ['KB955430'])]);
    const withList = planInstall(completed, catalog(), kb2019, current);
    assert.deepEqual(withList.incomplete, []);
    assert.equal(withList.complete, true);
  });
});

describe('complete only against what is known', () => {
  const fresh = (): HostInventory => readHostInventories([fixture('srv-fresh-x64.systeminfo.txt')])[0];
  const newest = (role: string): KbUpdateFact => [...nt60.updates.values()].filter((f) => f.role === role && !f.azureOnly).sort((a, b) => b.released.localeCompare(a.released))[0];

  it('an empty catalog never gives "complete, nothing to install": the knowledge baseline is missing', () => {
    const plan = planInstall(fresh(), [], kb, current);
    assert.equal(plan.complete, false);
    assert.deepEqual(plan.steps, []);
    const missing = plan.missing.map((m) => m.kb);
    for (const k of ['KB4474419', newest('servicing-stack').kb, newest('monthly-rollup').kb]) assert.ok(missing.includes(k), `${k} in ${missing.join(', ')}`);
    assert.ok(plan.missing.every((m) => m.cause.copy === null));
    assert.deepEqual(plan.catalogCurrency, { family: 'nt6.0', newestRollupInCatalog: null, newestKnownRollup: newest('monthly-rollup').released });
    assert.match(planText(plan, false), new RegExp(`newest rollup in the catalog: none; known: ${newest('monthly-rollup').released.slice(0, 7)}`));
  });

  it('a stale catalog (April 2019) is not complete: the newest known SSU and rollup are missing', () => {
    const stale = nt60Catalog({ without: ['KB4517134', 'KB4520002', 'KB4499180'] });
    const plan = planInstall(fresh(), stale, kb, current);
    assert.equal(plan.complete, false);
    assert.deepEqual(sequence(plan), ['KB4493730', 'KB4474419', 'KB4493471', 'reboot']);
    const baseline = plan.missing.filter((m) => m.cause.needs.some((n) => n.need.kind === 'baseline')).map((m) => m.kb).sort();
    assert.deepEqual(baseline, [newest('monthly-rollup').kb, newest('servicing-stack').kb].sort());
    assert.equal(plan.catalogCurrency!.newestRollupInCatalog, '2019-04-09');
    assert.match(planText(plan, false), /newest rollup in the catalog: 2019-04; known: /);
  });

  it('installed KBs numbered above everything the knowledge base and catalog know are named as a sign the knowledge base is behind the host; old unknown hotfixes are not', () => {
    const base = fresh();
    const host: HostInventory = { ...base, installed: [...base.installed, 'KB5099999', 'KB2345678', 'KB5088888'] };
    const plan = planInstall(host, catalog(), kb2019, current);
    const notes = plan.assumptions.filter((a) => /numbered above every KB/.test(a));
    assert.equal(notes.length, 1, plan.assumptions.join('\n'));
    assert.match(notes[0], /: KB5088888, KB5099999 — most likely released after the knowledge base/);
    assert.doesNotMatch(notes[0], /KB2345678/);
    // it is said, and it changes no verdict
    assert.equal(plan.complete, true);
    assert.deepEqual(sequence(plan), sequence(planInstall(base, catalog(), kb2019, current)));
    // a KB the catalog holds is known, whatever its number, and raises what counts as known
    const held = planInstall(host, [...catalog(), { ...nt60Payload('KB4520002', 'amd64'), kb: 'KB5099999', sha256: 'e'.repeat(64) }], kb2019, current);
    assert.ok(!held.assumptions.some((a) => /numbered above every KB/.test(a)), held.assumptions.join('\n'));
    // nothing unknown installed: no such line
    assert.ok(!planInstall(base, catalog(), kb2019, current).assumptions.some((a) => /numbered above every KB/.test(a)));
  });

  it('a Windows Vista SP2 host is not "complete, nothing to install": the knowledge base holds no baseline for Vista, and the plan says so in text and --json', () => {
    // review h/planreview F6: every baseline update of nt6.0.json is Server 2008's, so the baseline was
    // empty and the plan complete by default
    const server = fs.readFileSync(fixture('srv-fresh-x64.systeminfo.txt'), 'latin1');
    const file = write('vista.systeminfo.txt', Buffer.from(server.replace('SRV-FRESH', 'WS-VISTA').replace('Microsoft\u00a9 Windows Server\u00a9 2008 Standard', 'Microsoft\u00a9 Windows Vista\u00aa Business').replace('Member Server', 'Member Workstation'), 'latin1'));
    const [host] = readHostInventories([file]);
    assert.equal(host.product, 'Windows Vista');
    for (const goal of [current, { kind: 'security-only' } as PlanGoal]) {
      const plan = planInstall(host, [...catalog(), ...(['x86', 'amd64'] as const).map((a) => laterSsu('KB5016129', a))], kb, goal);
      assert.deepEqual(plan.steps, []);
      assert.equal(plan.complete, false, goal.kind);
      const lacking = goal.kind === 'current' ? ['servicing-stack', 'monthly-rollup'] : ['servicing-stack', 'security-only'];
      assert.deepEqual(plan.incomplete, [{ kind: 'no-baseline', product: 'Windows Vista', family: 'nt6.0', goal: goal.kind, lacking }]);
      const doc = planDocument([plan], false) as { hosts: { complete: boolean; incomplete: { kind: string; text: string }[] }[] };
      assert.equal(doc.hosts[0].complete, false);
      assert.match(doc.hosts[0].incomplete[0].text, /^the knowledge base cannot say what current means for Windows Vista \(nt6\.0\)/);
    }
    assert.match(planText(planInstall(host, catalog(), kb, current), false), /INCOMPLETE plan, 0 install\(s\)[\s\S]*not complete because:\n    - the knowledge base cannot say what current means for Windows Vista \(nt6\.0\): it lists no servicing stack update and no monthly rollup for it/);
    // --target asks only for what it names, and can be complete
    assert.deepEqual(planInstall(host, catalog(), kb, { kind: 'target', kbs: ['KB948465'] }).incomplete, []);
  });

  it('--security-only: every security-only update the knowledge base knows is installed or planned; it lists one for every month, so a host with all of them is complete', () => {
    // review h/planreview F8: the baseline was SHA-2 support and the newest SSU only, so a catalog whose
    // one security-only update is of May 2019 gave a complete plan; then (e324de9) months the knowledge
    // base did not list kept every --security-only plan incomplete, until it listed every month's
    const securityOnly: PlanGoal = { kind: 'security-only' };
    const known = [...nt60.updates.values()].filter((f) => f.role === 'security-only' && !f.azureOnly);
    assert.equal(known.length, 54, 'September 2018 to January 2023, and July 2021 twice (the out-of-band KB5004959)');
    assert.deepEqual(nt60.securityOnlyFrom && [nt60.securityOnlyFrom.kb, nt60.securityOnlyFrom.released], ['KB4457984', '2018-09-11']);
    const plan = planInstall(fresh(), catalog(), kb, securityOnly);
    assert.deepEqual(plan.steps.filter((s) => s.kind === 'security-only').map((s) => s.kb), ['KB4499180']);
    assert.equal(plan.complete, false);
    const gaps = plan.missing.filter((m) => m.cause.needs.some((n) => n.need.kind === 'baseline') && nt60.updates.get(m.kb)?.role === 'security-only').map((m) => m.kb);
    assert.deepEqual([...gaps].sort(), known.map((f) => f.kb).filter((k) => k !== 'KB4499180').sort());
    assert.match(plan.missing.find((m) => m.kb === 'KB4534312')!.reason, /security-only update the knowledge base knows \(2020-01-14\): they are not cumulative/);
    assert.deepEqual(kinds(plan), ['missing'], 'no month is unknown: what the host lacks is missing, by name');
    // every update it lists in the catalog: the plan installs each, and is complete
    const sample = (k: string, a: 'x86' | 'amd64'): Payload => nt60Payload('KB4520002', a, { kb: k, kind: 'security-only', fileName: `Windows6.0-${k}-${a === 'amd64' ? 'x64' : a}.msu`, sha256: createHash('sha256').update(`${k}${a}`).digest('hex') });
    const preps = ['KB4538484', 'KB4575904', 'KB5016891'];
    const all = [...catalog(), ...(['x86', 'amd64'] as const).flatMap((a) => [...known.filter((f) => f.kb !== 'KB4499180').map((f) => sample(f.kb, a)), ...preps.map((k) => nt60Payload('KB4520002', a, { kb: k, kind: 'esu-preparation', fileName: `Windows6.0-${k}-${a}.msu`, sha256: createHash('sha256').update(`${k}${a}`).digest('hex') }))])];
    const esuHost = { ...fresh(), esuLicence: 'activated' as const };
    const everyListed = planInstall(esuHost, all, kb, securityOnly);
    assert.deepEqual(everyListed.steps.filter((s) => s.kind === 'security-only').map((s) => s.kb).sort(), known.map((f) => f.kb).sort());
    assert.deepEqual([everyListed.missing, everyListed.incomplete], [[], []]);
    assert.equal(everyListed.complete, true);
    // a host that has every one of them, SHA-2 support and the newest SSU: complete, nothing to do
    const base = { ...esuHost, build: 6003, sha2CodeSigning: true, pendingReboot: false };
    const has = { ...base, installed: [...esuHost.installed, 'KB4493730', 'KB4474419', 'KB5016129', ...preps, ...known.map((f) => f.kb)] };
    const done = planInstall(has, catalog(), kb, securityOnly);
    assert.deepEqual([done.steps, done.missing, done.incomplete], [[], [], []]);
    assert.equal(done.complete, true);
    // the same host without November 2019's (KB4525239): not complete while the catalog lacks it, planned when it holds it
    const lacks = { ...has, installed: has.installed.filter((k) => k !== 'KB4525239') };
    const without = planInstall(lacks, catalog(), kb, securityOnly);
    assert.equal(without.complete, false);
    assert.deepEqual(without.missing.map((m) => m.kb), ['KB4525239']);
    assert.deepEqual(kinds(without), ['missing']);
    const held = planInstall(lacks, all, kb, securityOnly);
    assert.deepEqual(sequence(held), ['KB4525239', 'reboot']);
    assert.equal(held.complete, true);
    // the out-of-band July 6, 2021 update is needed beside July 13's: security-only updates supersede nothing
    const noOob = planInstall({ ...has, installed: has.installed.filter((k) => k !== 'KB5004959') }, catalog(), kb, securityOnly);
    assert.deepEqual(noOob.missing.map((m) => m.kb), ['KB5004959']);
    // a monthly rollup the host has holds its month's and every earlier month's security fixes
    const withRollup = { ...base, installed: [...esuHost.installed, 'KB4493730', 'KB4474419', 'KB5016129', 'KB4575904', 'KB5016891', 'KB5022340'] };
    const covered = planInstall(withRollup, all, kb, securityOnly);
    assert.deepEqual([covered.steps, covered.incomplete], [[], []]);
    assert.equal(covered.complete, true);
    const older = planInstall({ ...withRollup, installed: withRollup.installed.filter((k) => k !== 'KB5022340').concat('KB4534303') }, all, kb, securityOnly);
    assert.deepEqual(older.steps.filter((s) => s.kind === 'security-only').map((s) => s.kb), known.filter((f) => f.released > '2020-01-31').map((f) => f.kb), 'the updates up to January 2020 are in the January 2020 rollup');
    assert.equal(older.complete, true);
    // a knowledge base that does not say when the updates began cannot call any month known
    const family0 = { ...nt60, securityOnlyFrom: null };
    const noStart = planInstall(withRollup, all, { families: kb.families.map((f) => (f === nt60 ? family0 : f)) }, securityOnly);
    assert.equal(noStart.complete, true, 'covered by the 2023-01 rollup all the same');
    const uncovered = planInstall(esuHost, all, { families: kb.families.map((f) => (f === nt60 ? family0 : f)) }, securityOnly);
    assert.ok(uncovered.incomplete.some((c) => c.kind === 'security-only-unlisted' && c.from === null), JSON.stringify(uncovered.incomplete));
    assert.match(planText(uncovered, false), /it does not say since when nt6\.0 has had security-only updates/);
    // a month it does not list is named, as before
    const gap = { ...nt60, updates: new Map([...nt60.updates].filter(([k]) => k !== 'KB4525239')) };
    const unknown = planInstall({ ...has, installed: has.installed.filter((k) => k !== 'KB4525239') }, catalog(), { families: kb.families.map((f) => (f === nt60 ? gap : f)) }, securityOnly);
    const unlisted = unknown.incomplete.find((c) => c.kind === 'security-only-unlisted');
    assert.ok(unlisted && unlisted.kind === 'security-only-unlisted', JSON.stringify(unknown.incomplete));
    assert.deepEqual([unlisted.from, unlisted.to, unlisted.unlisted, unlisted.coveredThrough], ['2018-09', '2023-01', ['2019-11'], null]);
    assert.match(planText(unknown, false), /it lists none for 1 month\(s\) from 2018-09 to 2023-01 \(2019-11\)/);
  });

  it('--security-only on Windows 7 / Server 2008 R2: a security-only update for every month from October 2016, February 2017 a month with no release', () => {
    const securityOnly: PlanGoal = { kind: 'security-only' };
    const known = [...nt61.updates.values()].filter((f) => f.role === 'security-only' && !f.azureOnly);
    assert.equal(known.length, 76, 'October 2016 to January 2023 less February 2017, and July 2021 twice (the out-of-band KB5004951)');
    const all = new Set(known.map((f) => f.kb));
    for (const product of ['Windows 7', 'Windows Server 2008 R2']) {
      assert.equal(knowledgeLimit(nt61, product, securityOnly, all), null, product);
      // without the month stated as having no release, February 2017 is unknown
      const stated = { ...nt61, securityOnlyFrom: { ...nt61.securityOnlyFrom!, noRelease: [] } };
      const limit = knowledgeLimit(stated, product, securityOnly, all);
      assert.ok(limit && limit.kind === 'security-only-unlisted' && limit.unlisted.join() === '2017-02', JSON.stringify(limit));
    }
    // the Azure-only ones (February to August 2023) are Server 2008 R2's and never part of the baseline
    assert.deepEqual([...nt61.updates.values()].filter((f) => f.role === 'security-only' && f.azureOnly).map((f) => f.products), Array(7).fill(['Windows Server 2008 R2']));
    // ESU-era ones need the licence, like the rollups
    for (const f of known) assert.equal(f.requiresEsu, f.released >= '2020-02-11', f.kb);
  });

  it('a recommended order keeps the order, is explained as a recommendation and never makes a plan incomplete', () => {
    const sha2 = nt60.updates.get('KB4474419')!;
    const recommended = knowledgeWith(kb2019, [{ kb: 'KB4474419', prerequisites: sha2.prerequisites.map((p) => ({ ...p, strength: 'recommended' as const })) }]);
    const ordered = planInstall(fresh(), catalog(), recommended, current);
    assert.deepEqual(sequence(ordered), ['KB4493730', 'KB4474419', 'reboot', 'KB5016129', 'KB4520002', 'reboot']);
    assert.match(ordered.steps[1].reason, /after KB4493730 \(a recommended order, not a prerequisite\)/);
    assert.equal(ordered.complete, true);
    const without = planInstall(fresh(), catalog().filter((p) => p.kb !== 'KB4493730'), recommended, current);
    assert.deepEqual(without.incomplete, []);
    assert.equal(without.complete, true);
    assert.ok(without.assumptions.some((a) => /KB4493730 is recommended before KB4474419.*planned without it/.test(a)));
  });
});

const esuFile = (k: string, arch: 'x86' | 'amd64'): string => `Windows6.0-${k}-${arch === 'amd64' ? 'x64' : arch}.msu`;
const esuSample = (k: string, kind: Payload['kind'], arch: 'x86' | 'amd64'): Payload => nt60Payload('KB4520002', arch, { kb: k, kind, fileName: esuFile(k, arch), sha256: createHash('sha256').update(esuFile(k, arch)).digest('hex') });
/** the catalog with the January 2023 rollup (ESU year 3) and the licensing preparation packages, as the knowledge base describes them: current against today's knowledge base */
const esuCatalog = (): Payload[] => [
  ...catalog(),
  ...(['x86', 'amd64'] as const).flatMap((a) => [esuSample('KB5022340', 'monthly-rollup', a), esuSample('KB4575904', 'esu-preparation', a), esuSample('KB5016891', 'esu-preparation', a)]),
];

describe('ESU in the plan', () => {
  const payloads = esuCatalog;
  const host = (esuLicence: HostInventory['esuLicence']): HostInventory => ({ ...readHostInventories([fixture('srv-fresh-x64.systeminfo.txt')])[0], esuLicence });

  it('the knowledge base marks the 2023 rollup as needing ESU and names the preparation packages', () => {
    assert.equal(nt60.updates.get('KB5022340')!.requiresEsu, true);
    assert.ok(nt60.esu!.licensingPreparationKbs.includes('KB4575904'));
  });

  it('ESU activated: the 2023 rollup after the licensing preparation package and its restart', () => {
    const plan = planInstall(host('activated'), payloads(), kb, current);
    const seq = sequence(plan);
    for (const prep of ['KB4575904', 'KB5016891']) {
      assert.ok(seq.indexOf(prep) >= 0 && seq.indexOf('KB5022340') > seq.indexOf(prep), seq.join(' '));
      assert.ok(seq.slice(seq.indexOf(prep), seq.indexOf('KB5022340')).includes('reboot'), `a restart between ${prep} and the rollup: ${seq.join(' ')}`);
    }
    assert.equal(plan.steps.find((s) => s.kb === 'KB5022340')!.requiresEsu, true);
    assert.ok(!plan.steps.some((s) => s.kb === 'KB4520002'), 'the 2019 rollup is replaced');
    assert.deepEqual(plan.incomplete, []);
    assert.equal(plan.complete, true);
  });

  it('ESU not activated: the ESU rollup is not planned blindly; the missing activation is named', () => {
    const plan = planInstall(host('not-activated'), payloads(), kb, current);
    assert.ok(!plan.steps.some((s) => s.kb === 'KB5022340'));
    assert.equal(plan.complete, false);
    assert.deepEqual(plan.incomplete.filter((c) => c.kind === 'esu-not-activated'), [{ kind: 'esu-not-activated', kbs: ['KB5022340'], years: [3], activatedYears: [] }]);
    assert.ok(plan.skipped.some((s) => s.kb === 'KB5022340' && s.cause.kind === 'esu-not-activated'));
    assert.ok(!plan.missing.some((m) => m.kb === 'KB5022340'), 'held back, not missing: the catalog has it');
    // the year whose key to buy and activate is named (each ESU year is a key of its own)
    assert.match(planText(plan, false), /KB5022340 need\(s\) the ESU licence of year 3 activated and the host reports no ESU licence activated .*slmgr \/ipk/);
  });

  it('ESU status unknown: planned as an explicit assumption, and the step asks install.cmd to check activation', () => {
    const plan = planInstall(host(null), payloads(), kb, current);
    const step = plan.steps.find((s) => s.kb === 'KB5022340')!;
    assert.equal(step.requiresEsu, true);
    assert.deepEqual(plan.steps.filter((s) => s.requiresEsu).map((s) => s.kb), ['KB5022340']);
    assert.ok(plan.assumptions.some((a) => /ESU licence status not reported: KB5022340 .*install\.cmd checks activation/.test(a)));
    assert.ok(plan.steps.findIndex((s) => s.kb === 'KB4575904') < plan.steps.indexOf(step));
    assert.equal(plan.complete, true);
  });
});

describe('servicing packages waiting for a restart (CBS states, review h/planreview F2, F4, F5)', () => {
  // The collect script's file of a host that has everything of the ESU catalog but KB5022340, whose
  // package is in `state`; wmic qfe lists every one of them (it does whatever CBS says). `esu` the
  // licence fixture: srv-esu-activated or srv-esu-not-activated.
  const pkg = (k: string, state: string): string =>
    `HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\Packages\\Package_for_${k}~31bf3856ad364e35~amd64~~6.0.1.0\r\n    CurrentState    REG_DWORD    0x${state}\r\n\r\n`;
  function inventory(esu: 'activated' | 'not-activated', rollup: string, others = true): HostInventory {
    const [host] = readHostInventories([inventoryFile(esu, rollup, others)]);
    return host;
  }
  /** that host's collect file; `rollupPackage` (a CBS package's key name) takes the place of KB5022340's own package, and `qfe` whether the hotfix list names KB5022340 */
  function inventoryFile(esu: 'activated' | 'not-activated', rollup: string, others = true, rollupPackage = 'Package_for_KB5022340~31bf3856ad364e35~amd64~~6.0.1.0', qfe = true): string {
    let t = fs.readFileSync(fixture(`srv-esu-${esu}.inventory.txt`)).toString('latin1');
    // the fixture's licence is Year 1's; KB5022340 (January 2023) needs Year 3's
    t = t.replace('00000000-0000-4000-8000-00000000e501', nt60.esu!.activationIds.find((a) => a.year === 3)!.id).replace('Server-ESU-Year1', 'Server-ESU-Year3');
    const kbs = others ? ['KB4575904', 'KB5016891', 'KB5016129'] : [];
    const at = t.search(/End of search|Suche beendet/);
    t = t.slice(0, at) + kbs.map((k) => pkg(k, '70')).join('') + pkg('KB5022340', rollup).replace(/Package_for_KB5022340~[^\r]*/, rollupPackage) + t.slice(at);
    const end = t.indexOf('[[cabferry:end qfe]]');
    t = t.slice(0, end) + [...kbs, ...(qfe ? ['KB5022340'] : [])].map((k) => `HotFixID=${k}\r\nInstalledOn=11/3/2026\r\n\r\n`).join('') + t.slice(end);
    // the restart CBS waits for; the servicing stack KB5016129 brought
    t = t.replace('CbsRebootPending=no', 'CbsRebootPending=yes').replace('6.0.6003.20484\r\n', '6.0.6003.20484\r\n6.0.6003.21569\r\n');
    return write('SRV-ESU-ON.inventory.txt', Buffer.from(t, 'latin1'));
  }
  /** a Get-HotFix export of the same host that lists every update of the ESU catalog */
  const everyUpdateListed = (): string => hotfixJson('SRV-ESU-ON', ['KB4575904', 'KB5016891', 'KB5016129', 'KB5022340']);

  it('everything installed (0x70) and no restart pending: complete with nothing to do, as before', () => {
    const host = { ...inventory('activated', '70'), pendingReboot: false, sha2CodeSigning: true };
    const plan = planInstall(host, esuCatalog(), kb, current);
    assert.deepEqual([sequence(plan), plan.complete], [[], true]);
    assert.ok(plan.assumedInstalled!.includes('KB5022340'));
  });

  it('F5: a rollup being uninstalled (0x05) though qfe lists it is planned again, after the restart that removes it; install.cmd is not told the host has it', () => {
    const host = inventory('activated', '5');
    assert.ok(!host.installed.includes('KB5022340'));
    const plan = planInstall(host, esuCatalog(), kb, current);
    // before: no step at all, complete, KB5022340 among assumedInstalled
    assert.deepEqual(sequence(plan), ['reboot', 'KB5022340', 'reboot']);
    assert.ok(!plan.assumedInstalled!.includes('KB5022340'), plan.assumedInstalled!.join(' '));
    assert.ok(plan.assumedInstalled!.includes('KB5016891'));
    assert.equal(plan.complete, true);
  });

  it('F4: a rollup install-pending (0x60) with nothing else to install: the restart first, then the rollup, which install.cmd confirms on the host', () => {
    const host = inventory('activated', '60');
    assert.equal(host.pendingReboot, true);
    const plan = planInstall(host, esuCatalog(), kb, current);
    // before: no step, complete: CBS may roll the package back at the restart, and nothing would have looked
    assert.deepEqual(sequence(plan), ['reboot', 'KB5022340', 'reboot']);
    assert.ok(!plan.assumedInstalled!.includes('KB5022340'));
  });

  it('F2: an ESU rollup install-pending on a host whose ESU licence is not activated (it reverts at the restart) is not installed: held back, not complete', () => {
    const host = inventory('not-activated', '60', false);
    assert.equal(host.esuLicence, 'not-activated');
    const plan = planInstall(host, esuCatalog(), kb, current);
    // before: KB5022340 counted as installed, the plan complete
    assert.equal(plan.complete, false);
    assert.deepEqual(plan.incomplete.filter((c) => c.kind === 'esu-not-activated'), [{ kind: 'esu-not-activated', kbs: ['KB5022340'], years: [3], activatedYears: [] }]);
    assert.ok(!plan.steps.some((s) => s.kb === 'KB5022340'));
    assert.ok(!plan.assumedInstalled!.includes('KB5022340'));
  });

  it('review 3 F2: CBS install pending, and another file of the host lists the update: CBS\'s verdict stands whichever file comes first, and plan.txt and --json say so', () => {
    const collect = inventoryFile('activated', '60');
    const json = everyUpdateListed();
    for (const files of [[collect, json], [json, collect]]) {
      const [host] = readHostInventories(files);
      assert.ok(!host.installed.includes('KB5022340'), files.join(' '));
      const plan = planInstall(host, esuCatalog(), kb, current);
      assert.deepEqual(sequence(plan), ['reboot', 'KB5022340', 'reboot']);
      // one entry, naming both lists (each file once) and the CBS file and state
      assert.deepEqual(plan.overruled!.map((o) => ({ ...o, listedBy: [...o.listedBy].sort() })), [{ by: 'cbs', kb: 'KB5022340', listedBy: [collect, json].sort(), cbsFile: collect, package: 'kb', state: 0x60 }]);
      assert.match(planText(plan, false), /not taken as installed, though listed \(CBS, the servicing stack, says otherwise\):\n    - KB5022340: listed as installed by .*(SRV-ESU-ON\.inventory\.txt|hotfix\.json), .*(hotfix\.json|SRV-ESU-ON\.inventory\.txt), but CBS in .*SRV-ESU-ON\.inventory\.txt says its servicing package is install pending \(0x60\): the next restart commits it or rolls it back/);
      const doc = planDocument([plan], false) as { hosts: { overruled?: { kb: string; state: number; text: string }[] }[] };
      assert.deepEqual(doc.hosts[0].overruled!.map((o) => [o.kb, o.state]), [['KB5022340', 0x60]]);
      assert.match(doc.hosts[0].overruled![0].text, /install pending \(0x60\)/);
    }
    // nothing overruled, nothing said: the --json keys of issue #6 stay as they were
    const quiet = planInstall(inventory('activated', '70'), esuCatalog(), kb, current);
    assert.deepEqual(quiet.overruled, []);
    assert.ok(!('overruled' in (planDocument([quiet], false) as { hosts: object[] }).hosts[0]));
    assert.doesNotMatch(planText(quiet, false), /not taken as installed/);
  });

  it('review 3 F1 + F2: a RollupFix package install pending, and only another file of the host lists the rollup: not taken as installed from that file either', () => {
    // CBS names no package of KB5022340 (its package is RollupFix), the collect file's hotfix list does not name it, the Get-HotFix export does
    const collect = inventoryFile('activated', '60', true, 'Package_for_RollupFix~31bf3856ad364e35~amd64~~6003.21838.1.6', false);
    const [host] = readHostInventories([collect, everyUpdateListed()]);
    assert.ok(!host.installed.includes('KB5022340'));
    assert.ok(host.installed.includes('KB5016891'), 'what CBS names on the host stays installed');
    const plan = planInstall(host, esuCatalog(), kb, current);
    assert.deepEqual(sequence(plan), ['reboot', 'KB5022340', 'reboot']);
    assert.match(planText(plan, false), /KB5022340: listed as installed by .*hotfix\.json, but CBS in .*SRV-ESU-ON\.inventory\.txt says no servicing package names it, and a monthly rollup's package named RollupFix \(which names no KB\) is install pending \(0x60\)/);
  });

  it('a pending restart with everything installed: the plan is that restart alone', () => {
    const host = inventory('activated', '70');
    assert.equal(host.pendingReboot, true);
    const plan = planInstall(host, esuCatalog(), kb, current);
    // before: no step (restartIfPending restarted only before other steps)
    assert.deepEqual(sequence(plan), ['reboot']);
    assert.match(plan.steps[0].reason, /^restart first/);
    assert.equal(plan.complete, true);
  });
});

describe('ESU years: each ESU update needs the licence of its own year (review h/planreview)', () => {
  const file = (k: string, arch: 'x86' | 'amd64'): string => `Windows6.0-${k}-${arch === 'amd64' ? 'x64' : arch}.msu`;
  const sample = (k: string, kind: Payload['kind'], arch: 'x86' | 'amd64'): Payload => nt60Payload('KB4520002', arch, { kb: k, kind, fileName: file(k, arch), sha256: createHash('sha256').update(file(k, arch)).digest('hex') });
  const payloads = (): Payload[] => [
    ...catalog(),
    ...(['x86', 'amd64'] as const).flatMap((a) => [sample('KB5022340', 'monthly-rollup', a), sample('KB4575904', 'esu-preparation', a), sample('KB5016891', 'esu-preparation', a)]),
  ];
  /** srv-esu-activated.inventory.txt with its ESU licence made the real licence of one year (latin1: the file is OEM text) */
  const collected = (year: number): HostInventory => {
    const id = nt60.esu!.activationIds.find((a) => a.year === year)!.id;
    const text = fs.readFileSync(fixture('srv-esu-activated.inventory.txt')).toString('latin1').replace('00000000-0000-4000-8000-00000000e501', id).replace('Server-ESU-Year1', `Server-ESU-Year${year}`);
    const hosts = readHostInventories([write('host.inventory.txt', Buffer.from(text, 'latin1'))]);
    assert.equal(hosts.length, 1);
    return hosts[0];
  };

  it('only the Year 1 licence activated: the January 2023 rollup (ESU year 3) is held back and the plan is not complete', () => {
    // The review's case: plan said complete, with KB5022340 "needs an activated ESU key", on a host
    // whose only activated ESU licence is Server-ESU-Year1; an update needs its own year's key.
    const host = collected(1);
    assert.equal(host.esuLicence, 'activated');
    assert.deepEqual(host.esuActivatedYears, [1]);
    const plan = planInstall(host, payloads(), kb, current);
    assert.ok(!sequence(plan).includes('KB5022340'), sequence(plan).join(' '));
    assert.equal(plan.complete, false);
    assert.deepEqual(plan.incomplete.filter((c) => c.kind === 'esu-not-activated'), [{ kind: 'esu-not-activated', kbs: ['KB5022340'], years: [3], activatedYears: [1] }]);
    assert.ok(plan.skipped.some((s) => s.kb === 'KB5022340' && s.cause.kind === 'esu-not-activated'));
    assert.match(planText(plan, false), /KB5022340 need\(s\) the ESU licence of year 3 activated and the host reports only the ESU licence of year 1 activated/);
  });

  it('the Year 3 licence activated: the rollup is a step needing year 3, and the plan is complete with no ESU assumption', () => {
    const plan = planInstall(collected(3), payloads(), kb, current);
    const step = plan.steps.find((s) => s.kb === 'KB5022340')!;
    assert.equal(step.requiresEsu, true);
    assert.equal(step.esuYear, 3);
    assert.equal(plan.complete, true, JSON.stringify(plan.incomplete));
    assert.ok(!plan.assumptions.some((a) => /ESU/.test(a)), plan.assumptions.join('\n'));
    const json = planDocument([plan], false) as { hosts?: { steps: Record<string, unknown>[] }[] } & Record<string, unknown>;
    assert.match(JSON.stringify(json), /"kb":"KB5022340"[^}]*"requiresEsu":true,"esuYear":3/);
  });

  it('a licence reported activated without its year (a profile): an assumption naming the year install.cmd checks; with the years given, they decide', () => {
    const base = readHostInventories([fixture('srv-fresh-x64.systeminfo.txt')])[0];
    const unknownYear = planInstall({ ...base, esuLicence: 'activated', esuActivatedYears: null }, payloads(), kb, current);
    assert.equal(unknownYear.complete, true);
    assert.equal(unknownYear.steps.find((s) => s.kb === 'KB5022340')!.esuYear, 3);
    assert.ok(unknownYear.assumptions.some((a) => /ESU licence reported activated, but not of which ESU year: KB5022340 \(ESU year 3\)/.test(a)), unknownYear.assumptions.join('\n'));
    const profile = (years: number[]): HostInventory =>
      readHostInventories([write('p.json', JSON.stringify({ name: 'SRV-P', product: 'Windows Server 2008', ntVersion: '6.0', build: 6002, architecture: 'amd64', servicePack: 2, installed: [], esuLicence: 'activated', esuYears: years }))])[0];
    assert.equal(planInstall(profile([1, 2]), payloads(), kb, current).complete, false);
    assert.equal(planInstall(profile([3]), payloads(), kb, current).complete, true);
    assert.throws(() => readHostInventories([write('q.json', JSON.stringify({ name: 'SRV-Q', installed: [], esuLicence: 'not-activated', esuYears: [1] }))]), /esuYears/);
  });

  it('Server 2008 R2: an ESU step whose year has no activation ID for the product in the knowledge base makes the plan incomplete', () => {
    // The review's case: nt6.1.json listed Windows 7's IDs only, install.cmd got an empty list for R2
    // and would stop at every ESU step (esu-not-activated), while plan said complete.
    const file61 = (k: string): string => `Windows6.1-${k}-x64.msu`;
    const mk = (k: string, kind: Payload['kind'], signatures: Payload['signatures']): Payload =>
      nt60Payload('KB4520002', 'amd64', {
        kb: k, kind, signatures, ntVersion: '6.1', product: 'Windows Server 2008 R2', products: ['Windows 7', 'Windows Server 2008 R2'], parents: [], restart: kind === 'servicing-stack' ? 'never' : 'required',
        fileName: file61(k), payloadCab: file61(k).replace('.msu', '.cab'), sha256: createHash('sha256').update(file61(k)).digest('hex'),
      });
    const payloads61 = [mk('KB4490628', 'servicing-stack', 'dual'), mk('KB4474419', 'sha2-support', 'dual'), mk('KB5017397', 'servicing-stack', 'sha2-only'), mk('KB4575903', 'esu-preparation', 'sha2-only'), mk('KB5016892', 'esu-preparation', 'sha2-only'), mk('KB5022338', 'monthly-rollup', 'sha2-only')];
    const host = readHostInventories([write('srv-r2.json', JSON.stringify({ name: 'SRV-R2', product: 'Windows Server 2008 R2', ntVersion: '6.1', build: 7601, architecture: 'amd64', servicePack: 1, installed: ['KB4490628', 'KB4474419'], sha2CodeSigning: true, pendingReboot: false, esuLicence: 'activated' }))])[0];
    // the knowledge base as it was: Windows 7's IDs only
    const win7Only: KbFamily = { ...nt61, esu: { ...nt61.esu!, activationIds: nt61.esu!.activationIds.filter((a) => a.products !== null && !a.products.includes('Windows Server 2008 R2')) } };
    const kbWin7Only: KnowledgeBase = { families: kb.families.map((f) => (f === nt61 ? win7Only : f)) };
    const plan = planInstall(host, payloads61, kbWin7Only, current);
    assert.deepEqual(plan.steps.filter((s) => s.requiresEsu).map((s) => [s.kb, s.esuYear]), [['KB5022338', 3]]);
    assert.equal(plan.complete, false);
    assert.deepEqual(plan.incomplete, [{ kind: 'esu-activation-ids-unknown', kbs: ['KB5022338'], years: [3], product: 'Windows Server 2008 R2', family: 'nt6.1' }]);
    const text = planText(plan, false);
    assert.match(text, /KB5022338 need\(s\) an activated ESU licence of year 3, and the knowledge base holds no ESU activation ID of that year for Windows Server 2008 R2: install\.cmd cannot check the licence/);
    const json = JSON.stringify(planDocument([plan], false));
    assert.match(json, /"kind":"esu-activation-ids-unknown","kbs":\["KB5022338"\],"years":\[3\],"product":"Windows Server 2008 R2","family":"nt6\.1","text":"KB5022338 need\(s\) an activated ESU licence of year 3/);
    // today's knowledge base holds R2's IDs (shared with Server 2008): the same plan is complete, install.cmd checks year 3's
    const today = planInstall(host, payloads61, kb, current);
    assert.equal(today.complete, true, JSON.stringify(today.incomplete));
    // Windows 7 keeps its own IDs; a host whose product is not reported gets every product's IDs of the year
    assert.equal(planInstall({ ...host, product: 'Windows 7' }, payloads61, kbWin7Only, current).incomplete.some((c) => c.kind === 'esu-activation-ids-unknown'), false);
  });
});

describe('no raw control characters from inventories reach plan text', () => {
  it('a host name with terminal escapes is shown escaped', () => {
    const evil = '\u001b]0;owned\u0007\u001b[2JSRV\u202e';
    const file = write('evil.json', JSON.stringify({ name: evil, installed: [] }));
    const [host] = readHostInventories([file]);
    const text = planText(planInstall(host, catalog(), kb, current), false);
    // eslint-disable-next-line no-control-regex
    assert.doesNotMatch(text, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
    assert.ok(text.includes('Host \\x1b]0;owned\\x07\\x1b[2JSRV\\u202e:'), text.split('\n')[0]);
  });
});

describe('supersedence: one rule, and its index agrees with it', () => {
  it('replacementOf finds a replacing member exactly when one exists', () => {
    const roles = ['servicing-stack', 'monthly-rollup', 'rollup-preview', 'security-only'] as const;
    for (let seed = 1; seed <= 200; seed++) {
      const r = prng(seed);
      const facts = new Map<string, { role: (typeof roles)[number]; released: string | null }>();
      for (let i = 0; i < 8; i++) {
        const kb = `KB${4000000 + Math.floor(r() * 1000)}`;
        facts.set(kb, { role: roles[Math.floor(r() * roles.length)], released: r() < 0.7 ? `2019-${String(1 + Math.floor(r() * 12)).padStart(2, '0')}-10` : null });
      }
      const rule = new Supersedence({ roleOf: (k) => facts.get(k)?.role ?? null, releasedOf: (k) => facts.get(k)?.released ?? null, explicitOf: () => [] });
      const index = rule.index();
      const members = [...facts.keys()].filter(() => r() < 0.5);
      for (const m of members) index.add(m);
      for (const kb of facts.keys()) {
        const found = index.replacementOf(kb);
        const exists = members.some((m) => rule.supersedes(m, kb));
        assert.equal(found !== null, exists, `seed ${seed}: ${kb}`);
        if (found) assert.ok(rule.supersedes(found, kb));
      }
    }
  });
});

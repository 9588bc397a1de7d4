/**
 * fixtures/payloads-esu against the knowledge base: the ESU-era MSUs inspect as the roles, months and
 * servicing stack version catalog/kb/nt6.0.json gives them, verified, signed with SHA-256 only.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { test } from 'node:test';
import { loadTrustAnchors } from '../../src/authenticode';
import { familyForNtVersion, loadKnowledgeBase } from '../../src/knowledge/knowledge-base';
import { inspectPayloadReport } from '../../src/package/inspect';
import { fixturePath } from '../common.helpers';

const knowledgeBase = loadKnowledgeBase();
const nt60 = familyForNtVersion(knowledgeBase, '6.0')!;
const trust = loadTrustAnchors([fixturePath('pki', 'root.pem')]);
const files = fs.readdirSync(fixturePath('payloads-esu')).filter((f) => f.endsWith('.msu')).sort();

test('the ESU fixtures: a licensing preparation package, a 2022 SSU and the January 2023 rollup, x86 and x64', () => {
  assert.deepEqual(files, [
    'Windows6.0-KB4575904-x64.msu', 'Windows6.0-KB4575904-x86.msu',
    'Windows6.0-KB5016129-x64.msu', 'Windows6.0-KB5016129-x86.msu',
    'Windows6.0-KB5022340-x64.msu', 'Windows6.0-KB5022340-x86.msu',
  ]);
});

for (const file of files) {
  test(`${file} inspects as the knowledge base describes it`, () => {
    const r = inspectPayloadReport(fixturePath('payloads-esu', file), { trust, knowledgeBase });
    const p = r.payload;
    const fact = nt60.updates.get(p.kb!);
    assert.ok(fact, `${p.kb} is in the knowledge base`);
    assert.equal(r.verdict.verdict, 'valid');
    assert.ok(p.metadataVerified, 'update.mum matches its signed catalog');
    assert.equal(p.signatures, 'sha2-only', 'released after the August 2019 SHA-2 cut-over');
    assert.equal(p.ntVersion, '6.0');
    assert.equal(p.architecture, file.endsWith('-x64.msu') ? 'amd64' : 'x86');
    assert.equal(p.kind, fact.role);
    if (fact.role === 'servicing-stack') assert.equal(p.servicingStackVersion, fact.servicingStackVersion, 'the package installs the stack version the knowledge base names');
    // what the planner needs from the knowledge base for these three
    if (p.kb === 'KB5022340') {
      assert.equal(fact.requiresEsu, true);
      assert.equal(fact.released, '2023-01-10');
      assert.ok(fact.prerequisites.some((q) => q.kb === 'KB4575904' && q.strength === 'required'));
    }
    if (p.kb === 'KB4575904') assert.ok(nt60.esu!.licensingPreparationKbs.includes('KB4575904'));
  });
}

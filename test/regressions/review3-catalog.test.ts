import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadTrustAnchors } from '../../src/authenticode';
import { loadKnowledgeBase } from '../../src/knowledge/knowledge-base';
import { inspectPayload } from '../../src/package/inspect';
import { planInstall } from '../../src/planner/plan';
import { readHostInventories } from '../../src/planner/inventory';
import { fixturePath, tempDir } from '../common.helpers';
import { nt60Catalog } from '../planner/sample-payloads.helpers';
import { knowledgeBaseAsOf } from '../planner/knowledge-as-of.helpers';

/**
 * Review 3 (h/review3): what the catalog is said to hold for a host, and what a payload is said to be.
 */

describe('review3: "newest rollup in the catalog" is the newest one this host can be given', () => {
  // the knowledge of October 2019, against which the sample catalog (which ends there) is current
  const kb2019 = loadKnowledgeBase(knowledgeBaseAsOf('2019-10-31'));

  it('an x86 host, and the October 2019 rollup in the catalog for x64 only: the catalog\'s newest rollup for this host is April 2019', () => {
    const catalog = nt60Catalog().filter((p) => !(p.kb === 'KB4520002' && p.architecture === 'x86'));
    const [host] = readHostInventories([fixturePath('hosts', 'srv-x86.systeminfo.txt'), fixturePath('hosts', 'srv-x86.hotfix.json')]);
    const plan = planInstall(host, catalog, kb2019, { kind: 'current' });
    assert.equal(plan.complete, false);
    assert.ok(plan.missing.some((m) => m.kb === 'KB4520002'), 'the x86 October rollup is missing');
    // fails today: catalogCurrency counts every payload of the family, any architecture (and
    // product), so plan, plan.txt and index.html say "newest rollup in the catalog: 2019-10; known:
    // 2019-10" beside a step "newest monthly rollup in the catalog (2019-04-09)" and KB4520002 missing
    assert.equal(plan.catalogCurrency?.newestRollupInCatalog, '2019-04-09');
  });
});

describe('review3: an executable\'s architecture is what something signed says', () => {
  it('the x86 SP2 installer renamed "-X64.exe" is not a verified amd64 Service Pack 2', () => {
    const kb = loadKnowledgeBase();
    const trust = loadTrustAnchors([fixturePath('pki', 'root.pem')]);
    const renamed = path.join(tempDir('cabferry-review3-exe-'), 'Windows6.0-KB948465-X64.exe');
    fs.copyFileSync(fixturePath('executables', 'Windows6.0-KB948465-X86.exe'), renamed);
    const p = inspectPayload(renamed, { trust, knowledgeBase: kb });
    assert.equal(p.executable?.machine, 'x86');
    // fails today: chooseArchitecture files a 32-bit image under the architecture its (unsigned)
    // name gives, and decideIdentity calls it verified (the KB from the name, the signed FileVersion
    // 6.0.6002.x is the same for every SP2 installer): it imports "ok" as an amd64 payload, a plan for
    // an x64 SP1 host may pick it (one file per KB, catalog order) and the x64 host runs the x86 SP2
    assert.ok(!(p.architecture === 'amd64' && p.metadataVerified === true), `filed as ${p.architecture}, metadataVerified ${String(p.metadataVerified)}: ${p.metadataReason ?? ''}`);
  });
});

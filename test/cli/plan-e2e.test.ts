import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fixturePath, runCli, tempDir } from '../common.helpers';

/** From the operator's first command to the admin's plan: import the fixture MSUs, then plan. */
describe('cabferry import → cabferry plan (end to end)', () => {
  it('plans the fixture hosts from a catalog filled by a real import', () => {
    const catalog = tempDir('cabferry-e2e-');
    // the catalog's trust set vouches for what plan offers: a one-off import --trust would not (#17 live trust)
    assert.equal(runCli(['trust', 'add', fixturePath('pki', 'root.pem'), '--catalog', catalog]).status, 0);
    const imp = runCli(['import', fixturePath('payloads'), '--catalog', catalog, '--allow-sha1-only', '--json']);
    assert.ok(imp.status === 0 || imp.status === 1, imp.stderr);
    const hosts = ['srv-fresh-x64.systeminfo.txt', 'srv-sha2-pending.inventory.txt', 'srv-sp1.systeminfo.txt', 'srv-sp1.hotfix.csv'].map((f) => fixturePath('hosts', f));
    const r = runCli(['plan', '--host', ...hosts, '--catalog', catalog, '--json']);
    // the fixture payloads end in October 2019 and the knowledge base knows later updates: every plan says
    // what the catalog lacks, and plan exits 1 rather than calling a 2019 catalog current
    assert.equal(r.status, 1, r.stderr);
    const doc = JSON.parse(r.stdout) as { hosts: { host: string; complete: boolean; steps: { action: string; kb: string | null }[]; incomplete: { kind: string }[]; catalog: { newestRollupInCatalog: string } }[] };
    for (const h of doc.hosts) {
      assert.equal(h.complete, false);
      assert.deepEqual(h.incomplete.map((c) => c.kind), ['missing']);
      assert.equal(h.catalog.newestRollupInCatalog, '2019-10-08');
    }
    const seq = (i: number): string[] => doc.hosts[i].steps.map((s) => (s.action === 'reboot' ? 'reboot' : s.kb!));
    assert.deepEqual(doc.hosts.map((h) => h.host), ['SRV-FRESH', 'SRV-SHA2', 'SRV-SP1']);
    assert.deepEqual(seq(0), ['KB4493730', 'KB4474419', 'reboot', 'KB4517134', 'KB4520002', 'reboot']);
    assert.deepEqual(seq(1), ['reboot', 'KB4517134', 'KB4520002', 'reboot']);
    // SP2 was signed with SHA-1 only in 2009: imported with --allow-sha1-only, it is planned first
    assert.deepEqual(seq(2), ['KB948465', 'reboot', 'KB4493730', 'KB4474419', 'reboot', 'KB4517134', 'KB4520002', 'reboot']);
  });
});

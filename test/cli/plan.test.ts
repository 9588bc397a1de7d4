import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BlobStore } from '../../src/catalog/blob-store';
import { openCatalog } from '../../src/catalog/catalog';
import { trustAnchorRecord } from '../../src/catalog/trust';
import { loadTrustAnchors } from '../../src/authenticode/trust';
import type { Payload } from '../../src/package/types';
import { readHostInventory } from '../../src/planner/inventory';
import { assertErrorDocument, fixturePath, hasTool, runCli, tempDir } from '../common.helpers';
import { laterSsu, nt60Catalog } from '../planner/sample-payloads.helpers';
import { knowledgeBaseAsOf } from '../planner/knowledge-as-of.helpers';

/**
 * `cabferry plan` and `cabferry collect-script` as a user runs them. The catalog is seeded
 * through the catalog's own storeEntry (the importer's commit path) with payload records shaped
 * like the Server 2008 SP2 fixture MSUs, so the CLI reads exactly what an import leaves. Trust is
 * live (plan offers only payloads that chain now to an anchor of the catalog): each blob holds
 * the signed fixture file of its name, and the catalog trusts the fixtures' root.
 */

/** No fixture file is KB5016129: another signed fixture stands in for its bytes (plan reads only their signature). */
const STAND_IN: Record<string, string> = {
  'Windows6.0-KB5016129-x64.msu': 'Windows6.1-KB4490628-x64.msu',
  'Windows6.0-KB5016129-x86.msu': 'Windows6.1-KB4490628-x86.msu',
};

function blobBytes(fileName: string): Buffer {
  return fs.readFileSync(fixturePath('payloads', STAND_IN[fileName] ?? fileName));
}

function seedCatalog(dir: string, payloads: Payload[]): void {
  const catalog = openCatalog({ dir });
  const blobs = new BlobStore(dir);
  try {
    catalog.addTrustAnchors(loadTrustAnchors([fixturePath('pki', 'root.pem')]).map((a) => trustAnchorRecord(a)), ['payloads']);
    for (const p of payloads) {
      const bytes = blobBytes(p.fileName);
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      const temp = blobs.createTemp();
      temp.write(bytes);
      temp.finish();
      catalog.storeEntry(
        temp,
        { sha256, size: bytes.length, status: 'imported', fileName: p.fileName, sha1OnlyAllowed: false, payload: { ...p, sha256, size: bytes.length }, verdict: 'valid', verdictDocument: {}, signatures: [], members: [] },
        { at: '2026-11-02T09:00:00Z', who: 'test', host: 'test', pid: process.pid, source: p.fileName, entry: null, verdict: 'valid', code: null, reason: null, cabferryVersion: '0' },
      );
    }
  } finally {
    catalog.close();
  }
}

const host = (f: string): string => fixturePath('hosts', f);
// the sample catalog is the October 2019 one: current against the knowledge of that time
const kb2019 = knowledgeBaseAsOf('2019-10-31');

describe('cabferry plan (CLI)', () => {
  let full: string;
  let noSha2: string;
  before(() => {
    const all = [...nt60Catalog(), ...(['x86', 'amd64'] as const).map((a) => laterSsu('KB5016129', a))];
    full = tempDir('cabferry-plan-');
    seedCatalog(full, all);
    noSha2 = tempDir('cabferry-plan-');
    seedCatalog(noSha2, all.filter((p) => p.kb !== 'KB4474419'));
  });

  it('--json prints exactly the documented shape for several hosts, exit 0 when every plan is complete', () => {
    const r = runCli(['plan', '--host', host('srv-fresh-x64.systeminfo.txt'), host('srv-sha2-pending.inventory.txt'), '--catalog', full, '--knowledge-base', kb2019, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { hosts: Record<string, unknown>[] };
    assert.deepEqual(Object.keys(doc), ['hosts']);
    assert.deepEqual(doc.hosts.map((h) => h.host), ['SRV-FRESH', 'SRV-SHA2']);
    assert.deepEqual(doc.hosts[0].files, [host('srv-fresh-x64.systeminfo.txt')]);
    for (const h of doc.hosts) {
      assert.deepEqual(Object.keys(h), ['host', 'files', 'goal', 'complete', 'incomplete', 'catalog', 'steps', 'missing', 'skipped', 'assumptions', 'assumedInstalled']);
      assert.deepEqual(h.incomplete, []);
      for (const s of h.steps as Record<string, unknown>[]) assert.deepEqual(Object.keys(s), ['n', 'action', 'kb', 'file', 'sha256', 'kind', 'reason']);
      for (const s of h.skipped as Record<string, unknown>[]) {
        assert.ok(['installed', 'superseded', 'not-applicable'].includes(s.reason as string));
        assert.equal(typeof (s.cause as { kind: unknown }).kind, 'string', 'each skip carries its cause as data');
      }
    }
    const steps = (doc.hosts[0].steps as { action: string; kb: string | null; file: string | null; sha256: string | null }[]);
    assert.deepEqual(steps.map((s) => (s.action === 'reboot' ? 'reboot' : s.kb)), ['KB4493730', 'KB4474419', 'reboot', 'KB5016129', 'KB4520002', 'reboot']);
    // the sha256 is the catalog's: the media stage copies exactly that blob
    assert.equal(steps[0].sha256, createHash('sha256').update(blobBytes(steps[0].file!)).digest('hex'));
    // what each plan rests on, install.cmd checks on the host: the listed KBs the knowledge base or the catalog knows
    // what each plan rests on and install.cmd checks on the host: the listed KBs that the knowledge
    // base or the catalog knows (SRV-FRESH lists only KBs neither knows), and the service pack their
    // reported level stands for (review 5 F1: neither inventory holds a CBS section that could say otherwise)
    // a service pack counted from the reported level is not given to install.cmd by KB: its build check proves it
    assert.deepEqual(doc.hosts.map((h) => h.assumedInstalled), [[], ['KB4474419', 'KB4493730']]);
    const second = (doc.hosts[1].steps as { action: string }[]).map((s) => s.action);
    assert.equal(second[0], 'reboot');
    assert.equal(r.stderr, '');
  });

  it('exits 1 and names what to fetch when KB4474419 is not in the catalog', () => {
    const r = runCli(['plan', '--host', host('srv-fresh-x64.systeminfo.txt'), '--catalog', noSha2, '--knowledge-base', kb2019, '--json']);
    assert.equal(r.status, 1);
    const doc = JSON.parse(r.stdout) as { hosts: { complete: boolean; missing: { kb: string; reason: string }[] }[] };
    assert.equal(doc.hosts[0].complete, false);
    assert.deepEqual(doc.hosts[0].missing.map((m) => m.kb), ['KB4474419']);
    assert.match(doc.hosts[0].missing[0].reason, /fetch Windows6\.0-KB4474419-v4-x64\.msu/);
    const text = runCli(['plan', '--host', host('srv-fresh-x64.systeminfo.txt'), '--catalog', noSha2, '--knowledge-base', kb2019]);
    assert.equal(text.status, 1);
    assert.match(text.stdout, /INCOMPLETE/);
    assert.match(text.stdout, /missing \(fetch these, import them, plan again\):\n\s+KB4474419: .*fetch Windows6\.0-KB4474419-v4-x64\.msu/);
  });

  it('text output is a numbered table per host; --simulate shows the state after each step', () => {
    // today's knowledge base: the 2019 catalog is behind it (exit 1, and the plan says how far)
    const r = runCli(['plan', '--host', host('srv-fresh-x64.systeminfo.txt'), '--catalog', full, '--simulate']);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /^Host SRV-FRESH: INCOMPLETE plan, 4 install\(s\), 2 restart\(s\)/);
    assert.match(r.stdout, /\n  newest rollup in the catalog: 2019-10; known: 2023-01\n/);
    assert.match(r.stdout, /missing \(fetch these, import them, plan again\):\n\s+KB4575904: .*needed by KB5022340/);
    assert.match(r.stdout, /\n\s+KB5022340: .*the newest monthly rollup the knowledge base knows \(2023-01-10\)/);
    assert.match(r.stdout, /now: build 6002, SP2, servicing stack unknown, SHA-2 inactive/);
    assert.match(r.stdout, /\n  1 +KB4493730 +servicing-stack +Windows6\.0-KB4493730-x64\.msu +servicing stack update/);
    assert.match(r.stdout, /\n  3 +— +reboot +\(restart\)/);
    // the knowledge base knows KB5016129's stack version (6.0.6003.21569, wsusoffline's SSU list)
    assert.match(r.stdout, /→ build 6003, SP2, servicing stack 6\.0\.6003\.21569, SHA-2 active, restart pending/);
    assert.match(r.stdout, /skipped:\n/);
    const json = JSON.parse(runCli(['plan', '--host', host('srv-fresh-x64.systeminfo.txt'), '--catalog', full, '--simulate', '--json']).stdout) as { hosts: { initialState: { build: number }; steps: { state: { build: number; sha2Active: boolean } }[] }[] };
    assert.equal(json.hosts[0].initialState.build, 6002);
    assert.deepEqual(json.hosts[0].steps.map((s) => s.state.build), [6002, 6002, 6002, 6002, 6003, 6003]);
    assert.deepEqual(json.hosts[0].steps.map((s) => s.state.sha2Active), [false, false, true, true, true, true]);
  });

  it('--target and --security-only; usage errors exit 2, unreadable inventories exit 3', () => {
    const t = JSON.parse(runCli(['plan', '--host', host('srv-fresh-x64.systeminfo.txt'), '--catalog', full, '--knowledge-base', kb2019, '--target', 'kb4493471', '--json']).stdout) as { hosts: { steps: { kb: string | null }[]; goal: unknown; complete: boolean }[] };
    assert.deepEqual(t.hosts[0].steps.map((s) => s.kb), ['KB4493471', null]);
    // complete for the target, not for a current host: the plan says which (newer rollups are known)
    assert.deepEqual([t.hosts[0].goal, t.hosts[0].complete], [{ kind: 'target', kbs: ['KB4493471'] }, true]);
    const tText = runCli(['plan', '--host', host('srv-fresh-x64.systeminfo.txt'), '--catalog', full, '--knowledge-base', kb2019, '--target', 'KB4493471']);
    assert.match(tText.stdout, /^Host SRV-FRESH: complete plan for --target KB4493471 only \(not checked against the newest updates known: the host may not be current\)/);
    const so = JSON.parse(runCli(['plan', '--host', host('srv-fresh-x64.systeminfo.txt'), '--catalog', full, '--knowledge-base', kb2019, '--security-only', '--json']).stdout) as { hosts: { steps: { kind: string }[] }[] };
    assert.ok(!so.hosts[0].steps.some((s) => s.kind === 'monthly-rollup'));
    const both = runCli(['plan', '--host', host('srv-fresh-x64.systeminfo.txt'), '--catalog', full, '--security-only', '--target', 'KB4493471']);
    assert.equal(both.status, 2);
    assert.match(both.stderr, /PLAN_GOAL_CONFLICT/);
    const badTarget = runCli(['plan', '--host', host('srv-fresh-x64.systeminfo.txt'), '--catalog', full, '--target', 'banana']);
    assert.equal(badTarget.status, 2);
    assert.equal(runCli(['plan', '--catalog', full]).status, 2, '--host is required');
    const garbage = path.join(tempDir(), 'garbage.txt');
    fs.writeFileSync(garbage, 'not an inventory\n');
    const g = runCli(['plan', '--host', garbage, '--catalog', full, '--json']);
    assert.equal(g.status, 3);
    // under --json the one document on stdout is the error itself
    assertErrorDocument(g.stdout, 'INVENTORY_UNKNOWN_FORMAT');
    assert.match(g.stderr, /garbage\.txt: not a recognised host inventory .*\[INVENTORY_UNKNOWN_FORMAT\]/);
    assert.doesNotMatch(g.stderr, /at .*\.js:\d+/, 'no stack trace');
    const badKb = tempDir();
    fs.writeFileSync(path.join(badKb, 'nt6.0.json'), '{"schema": 2}');
    const kbErr = runCli(['plan', '--host', host('srv-fresh-x64.systeminfo.txt'), '--catalog', full, '--knowledge-base', badKb]);
    assert.equal(kbErr.status, 3);
    assert.match(kbErr.stderr, /nt6\.0\.json: family must be a non-empty string \[KB_BAD_FACT\]/);
    const noCatalog = runCli(['plan', '--host', host('srv-fresh-x64.systeminfo.txt'), '--catalog', path.join(tempDir(), 'none')]);
    assert.equal(noCatalog.status, 2);
    assert.match(noCatalog.stderr, /CATALOG_NOT_FOUND/);
  });
});

describe('cabferry collect-script (CLI)', () => {
  it('prints the script, writes it with -o, refuses to overwrite without --force', () => {
    const r = runCli(['collect-script']);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^@echo off\r\n/);
    const out = path.join(tempDir(), 'collect.cmd');
    assert.equal(runCli(['collect-script', '-o', out]).status, 0);
    assert.equal(fs.readFileSync(out, 'utf8'), r.stdout);
    const again = runCli(['collect-script', '-o', out]);
    assert.equal(again.status, 2);
    assert.match(again.stderr, /OUTPUT_EXISTS/);
    assert.equal(runCli(['collect-script', '-o', out, '--force']).status, 0);
  });
});

describe('collect.cmd under a real cmd (Wine)', () => {
  it('runs to the end with exit 0 and writes one inventory file the reader accepts', (t) => {
    if (!hasTool('wine')) {
      t.skip('wine is not installed');
      return;
    }
    const dir = tempDir('cabferry-collect-');
    const script = path.join(dir, 'collect.cmd');
    assert.equal(runCli(['collect-script', '-o', script]).status, 0);
    const r = spawnSync('wine', ['cmd', '/c', 'collect.cmd'], {
      cwd: dir,
      env: { ...process.env, WINEDEBUG: '-all', WINEPREFIX: path.join(dir, 'prefix') },
      encoding: 'latin1',
      timeout: 120_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const written = fs.readdirSync(dir).filter((f) => f.endsWith('-inventory.txt'));
    assert.equal(written.length, 1, 'exactly one inventory file');
    const { inventory, format } = readHostInventory(path.join(dir, written[0]));
    assert.equal(format, 'collect');
    assert.ok(inventory.name.length > 0);
    // Wine's reg.exe has no SHA2 key and no reboot markers: the file says so, and the reader believes it
    assert.equal(inventory.sha2CodeSigning, false);
    assert.equal(inventory.pendingReboot, false);
    assert.equal(inventory.architecture, 'amd64');
  });
});

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fixturePath, runCli, tempDir } from '../common.helpers';
import { loadTrustAnchors } from '../../src/authenticode/trust';
import { writeMedia } from '../../src/media/stage';
import { reportMedia } from '../../src/media/report';
import { renderFleetPage } from '../../src/media/html';
import type { HostInventory, HostPlan, PlanGoal, PlanStep } from '../../src/planner/types';
import { writeResultLog } from '../media/result-log.helpers';

/**
 * Review 3 (h/review3): what the fleet page says first. A --target plan is complete for its targets
 * only; the page's summary must not call such a fleet complete without saying so.
 */

const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

function inventory(name: string): HostInventory {
  return {
    name, product: 'Windows Server 2008', ntVersion: '6.0', build: 6002, revision: null, architecture: 'amd64', servicePack: 2,
    installed: [], servicingStackVersion: null, sha2CodeSigning: false, pendingReboot: false, sources: ['profile'], unknown: [], sections: { hotfixes: true }, esuLicence: null, files: [], evidence: [], conflicts: [],
  };
}

/** A signed medium for SRV-A whose plan, made for `goal` (none: a plan.json of an older cabferry), is one install of KB4493471; and its plan id. */
function medium(goal: PlanGoal | undefined): { to: string; id: string } {
  const dir = tempDir('cabferry-review3-media-');
  const blobs = path.join(dir, 'blobs');
  const content = Buffer.from('payload '.repeat(200));
  const sha = sha256(content);
  const blobPath = (s: string): string => path.join(blobs, 'blobs', s.slice(0, 2), s.slice(2));
  fs.mkdirSync(path.dirname(blobPath(sha)), { recursive: true });
  fs.writeFileSync(blobPath(sha), content);
  const step: PlanStep = { n: 1, action: 'install', kb: 'KB4493471', file: 'Windows6.0-KB4493471-x64.msu', sha256: sha, kind: 'monthly-rollup', reason: 'named with --target' };
  const plan: HostPlan = { host: 'SRV-A', files: [], goal, complete: true, incomplete: [], catalogCurrency: null, steps: [step], missing: [], skipped: [], assumptions: [] };
  const to = path.join(dir, 'media');
  writeMedia({
    to, hosts: [{ inventory: inventory('SRV-A'), plan }], blobPath, catalog: blobs, allowIncomplete: false, collectCmd: '@echo off\r\n', now: new Date('2026-11-23T10:00:00Z'),
    signing: { keyPem: fs.readFileSync(fixturePath('pki', 'leaf-rsa.key'), 'utf8'), certPem: fs.readFileSync(fixturePath('pki', 'leaf-rsa-chain.pem'), 'utf8') },
  });
  const id = (JSON.parse(fs.readFileSync(path.join(to, 'hosts', 'SRV-A', 'plan.json'), 'utf8')) as { planId: string }).planId;
  // the host ran it to the end, as install.cmd logs it
  writeResultLog(to, 'SRV-A', id, [
    `RUN plan=${id} script=release host=SRV-A build=6002 arch=amd64 hasher=certutil autoreboot=0 time=t0`,
    `RESULT plan=${id} script=release step=1 kb=KB4493471 action=install code=0 meaning=installed confirmed=yes how=cbs host=SRV-A time=t1`,
    `END plan=${id} script=release status=complete reason=- code=0 host=SRV-A time=t9`,
  ]);
  return { to, id };
}

/** The page's text as a reader sees it: tags, styles and entities out, white space folded. */
function visibleText(html: string): string {
  return html.replace(/<style[\s\S]*?<\/style>/g, ' ').replace(/<[^>]+>/g, ' ').replace(/&amp;/g, '&').replace(/&#39;|&apos;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/\s+/g, ' ');
}

/** The summary at the top of the page: everything before the first host's own section. */
function summaryOf(html: string): string {
  const text = visibleText(html);
  const at = text.indexOf('Host SRV-A');
  return at < 0 ? text : text.slice(0, at);
}

describe('review3: the fleet page\'s summary of a fleet staged with --target', () => {
  const trust = () => ({ trust: loadTrustAnchors([fixturePath('pki', 'root.pem')]) });

  it('the host section says complete for --target only (as report\'s text does): this holds today', () => {
    const m = medium({ kind: 'target', kbs: ['KB4493471'] });
    const report = reportMedia(m.to, trust());
    assert.equal(report.hosts[0].status, 'complete');
    const html = renderFleetPage(report, { generatedAt: 't', cabferryVersion: 'test' });
    assert.match(visibleText(html), /complete for --target KB4493471 only/);
  });

  it('the summary (Verdict, the Complete row) does not say "every host complete" of hosts that are complete for their targets only', () => {
    const m = medium({ kind: 'target', kbs: ['KB4493471'] });
    const html = renderFleetPage(reportMedia(m.to, trust()), { generatedAt: 't', cabferryVersion: 'test' });
    const summary = summaryOf(html);
    // fails today: "Verdict every host complete" and "Complete 1 SRV-A", the qualifier only in
    // SRV-A's own section further down; an operator who reads the top of the page (or prints the
    // first sheet) is told the fleet is patched although no host was checked against the newest updates
    assert.doesNotMatch(summary, /every host complete(?! for)/, summary);
    assert.match(summary, /--target/, `the summary does not say the plans were --target plans: ${summary}`);
  });

  it('a fleet planned for current updates still reads "every host complete" (the fix must not touch it)', () => {
    const m = medium({ kind: 'current' });
    const html = renderFleetPage(reportMedia(m.to, trust()), { generatedAt: 't', cabferryVersion: 'test' });
    assert.match(summaryOf(html), /every host complete/);
  });
});

describe('review3: report\'s text and --json say at the top what the fleet page says (h/rev3misc)', () => {
  const root = fixturePath('pki', 'root.pem');
  const trust = () => ({ trust: loadTrustAnchors([root]) });
  type Doc = { ok: boolean; allCurrent: boolean; hosts: { status: string; goal: PlanGoal | null }[] };

  it('a --target fleet: exit 0 and ok (every host did what its plan asked), allCurrent false, and the first line says the host may not be current', () => {
    const m = medium({ kind: 'target', kbs: ['KB4493471'] });
    const text = runCli(['report', m.to, '--trust', root]);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout.split('\n')[0], /^verdict: every host complete for its plan; one complete host is NOT checked against the newest updates known and may not be current: SRV-A for --target KB4493471 only$/);
    const json = runCli(['report', m.to, '--trust', root, '--json']);
    assert.equal(json.status, 0, json.stderr);
    const doc = JSON.parse(json.stdout) as Doc;
    assert.deepEqual([doc.ok, doc.allCurrent, doc.hosts[0].status, doc.hosts[0].goal], [true, false, 'complete', { kind: 'target', kbs: ['KB4493471'] }]);
  });

  it('a fleet planned for current updates: "verdict: every host complete", allCurrent true', () => {
    const m = medium({ kind: 'current' });
    const text = runCli(['report', m.to, '--trust', root]);
    assert.equal(text.status, 0, text.stderr);
    assert.equal(text.stdout.split('\n')[0], 'verdict: every host complete');
    assert.deepEqual([(JSON.parse(runCli(['report', m.to, '--trust', root, '--json']).stdout) as Doc).allCurrent], [true]);
  });

  it('a plan.json of an older cabferry (no goal; --target existed before plans recorded it): complete, but not called current anywhere', () => {
    const m = medium(undefined);
    const report = reportMedia(m.to, trust());
    assert.deepEqual([report.hosts[0].status, report.ok, report.allCurrent], ['complete', true, false]);
    const summary = summaryOf(renderFleetPage(report, { generatedAt: 't', cabferryVersion: 'test' }));
    assert.doesNotMatch(summary, /every host complete(?! for)/, summary);
    assert.match(summary, /SRV-A for its plan, which does not say what it was made to reach \(staged by an older cabferry\)/);
    assert.match(runCli(['report', m.to, '--trust', root]).stdout, /\nSRV-A: complete for its plan, which does not say what it was made to reach \(staged by an older cabferry\): it may have been a --target plan, the host may not be current — /);
  });
});

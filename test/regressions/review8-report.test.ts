import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fixturePath, tempDir } from '../common.helpers';
import { loadTrustAnchors } from '../../src/authenticode/trust';
import { writeMedia } from '../../src/media/stage';
import { reportMedia } from '../../src/media/report';
import type { HostInventory, HostPlan, PlanStep } from '../../src/planner/types';
import { writeResultLog } from '../media/result-log.helpers';

/**
 * Review 8 (h/review8): report on logs install.cmd writes today (review8-restart-wine runs it).
 * The medium: signed, one host SRV-A, a complete plan of the SHA-2 update (1) and the rollup (2), or
 * with a reboot step between them (1, 2 reboot, 3), built as review6-report builds its own.
 */

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

function inventory(name: string): HostInventory {
  return {
    name, product: 'Windows Server 2008', ntVersion: '6.0', build: 6002, revision: null, architecture: 'amd64', servicePack: 2,
    installed: [], servicingStackVersion: null, sha2CodeSigning: false, pendingReboot: false, sources: ['profile'], unknown: [], sections: { hotfixes: true }, esuLicence: null, files: [], evidence: [], conflicts: [],
  };
}

function medium(withReboot = false): { to: string; id: string } {
  const dir = tempDir('cabferry-review8-report-');
  const blobs = path.join(dir, 'blobs');
  const blobPath = (sha: string) => path.join(blobs, 'blobs', sha.slice(0, 2), sha.slice(2));
  const add = (c: Buffer): string => {
    const s = sha256(c);
    fs.mkdirSync(path.dirname(blobPath(s)), { recursive: true });
    fs.writeFileSync(blobPath(s), c);
    return s;
  };
  const steps: PlanStep[] = [
    { n: 1, action: 'install', kb: 'KB4474419', file: 'Windows6.0-KB4474419-v4-x64.msu', sha256: add(Buffer.from('sha2 '.repeat(100))), kind: 'update', reason: 'test' },
    ...(withReboot ? [{ n: 2, action: 'reboot', kb: null, file: null, sha256: null, kind: 'reboot', reason: 'test' } satisfies PlanStep] : []),
    { n: withReboot ? 3 : 2, action: 'install', kb: 'KB4493471', file: 'Windows6.0-KB4493471-x64.msu', sha256: add(Buffer.from('rollup '.repeat(100))), kind: 'monthly-rollup', reason: 'test' },
  ];
  const plan: HostPlan = { host: 'SRV-A', files: [], complete: true, incomplete: [], catalogCurrency: null, steps, missing: [], skipped: [], assumptions: [] };
  const to = path.join(dir, 'media');
  writeMedia({
    to, hosts: [{ inventory: inventory('SRV-A'), plan }], blobPath, catalog: blobs, allowIncomplete: false, collectCmd: '@echo off\r\n', now: new Date('2026-11-23T10:00:00Z'),
    signing: { keyPem: fs.readFileSync(fixturePath('pki', 'leaf-rsa.key'), 'utf8'), certPem: fs.readFileSync(fixturePath('pki', 'leaf-rsa-chain.pem'), 'utf8') },
  });
  const id = (JSON.parse(fs.readFileSync(path.join(to, 'hosts', 'SRV-A', 'plan.json'), 'utf8')) as { planId: string }).planId;
  return { to, id };
}

const trust = () => ({ trust: loadTrustAnchors([fixturePath('pki', 'root.pem')]) });

describe('review8: report, a restart an installer asked for', () => {
  test('review8 R2 (report): a 3010 whose own restart line was never written (its await lost, a full medium), settled by the reboot step\'s proven restart in a later run: install.cmd ends complete (any proven restart after the 3010 counts, :restart_owed), and report must not keep step 1 restart-pending for ever', () => {
    const m = medium(true);
    const R = (fields: string, t: string) => `RESULT plan=${m.id} script=release ${fields} host=SRV-A time=${t}`;
    writeResultLog(m.to, 'SRV-A', m.id, [
      // run 1: 3010 with the update listed; the await could not be written (:state_not_written)
      `RUN plan=${m.id} script=release host=SRV-A build=6002 arch=amd64 hasher=certutil autoreboot=0 time=t0`,
      R('step=1 kb=KB4474419 action=install code=3010 meaning=reboot-required confirmed=yes how=cbs', 't1'),
      `END plan=${m.id} script=release status=stopped reason=- code=1 host=SRV-A time=t2`,
      // run 2 (space freed): step 1 done yes, the reboot step asks for its restart
      `RUN plan=${m.id} script=release host=SRV-A build=6002 arch=amd64 hasher=certutil autoreboot=0 time=t10`,
      R('step=2 kb=- action=reboot code=0 meaning=reboot-requested confirmed=- how=-', 't11'),
      `END plan=${m.id} script=release status=restart reason=- code=3010 host=SRV-A time=t12`,
      // run 3: that restart proven (ShutdownTime), the rollup, complete: a restart after the 3010 happened
      `RUN plan=${m.id} script=release host=SRV-A build=6002 arch=amd64 hasher=certutil autoreboot=0 time=t20`,
      R('step=2 kb=- action=restart code=0 meaning=reboot-done confirmed=- how=shutdown', 't21'),
      R('step=3 kb=KB4493471 action=install code=0 meaning=installed confirmed=yes how=cbs', 't22'),
      `END plan=${m.id} script=release status=complete reason=- code=0 host=SRV-A time=t23`,
    ]);
    const r = reportMedia(m.to, trust());
    const h = r.hosts[0];
    // fails today: step 1 restart-pending ("the restart it asked for has not been shown yet"): report
    // counts only restart lines logged under step 1, and no later run of install.cmd writes one - the
    // host can never read complete, though install.cmd and the host agree it is
    assert.equal(h.steps[0].status, 'installed', `step 1: ${h.steps[0].explanation}`);
    assert.equal(h.status, 'complete', h.reason ?? '');
  });
});

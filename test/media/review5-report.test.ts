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

/**
 * Review 5 (h/review5): report against result logs install.cmd writes today. The medium helpers are
 * copies of test/media/report.test.ts's (one host SRV-A, a signed medium, a complete two-step plan).
 */

let tempRoot: string | null = null;
function freshDir(prefix: string): string {
  tempRoot ??= tempDir('cabferry-review5-report-');
  return fs.mkdtempSync(path.join(tempRoot, prefix));
}
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

function inventory(name: string): HostInventory {
  return {
    name, product: 'Windows Server 2008', ntVersion: '6.0', build: 6002, revision: null, architecture: 'amd64', servicePack: 2,
    installed: [], servicingStackVersion: null, sha2CodeSigning: false, pendingReboot: false, sources: ['profile'], unknown: [], sections: { hotfixes: true }, esuLicence: null, files: [], evidence: [], conflicts: [],
  };
}
const install = (n: number, kb: string, file: string, sha: string): PlanStep => ({ n, action: 'install', kb, file, sha256: sha, kind: 'monthly-rollup', reason: 'test' });
const plan = (host: string, steps: PlanStep[]): HostPlan => ({ host, files: [], complete: true, incomplete: [], catalogCurrency: null, steps, missing: [], skipped: [], assumptions: [] });

function medium(): { to: string; id: string } {
  const dir = freshDir('m-');
  const blobs = path.join(dir, 'blobs');
  const blobPath = (sha: string) => path.join(blobs, 'blobs', sha.slice(0, 2), sha.slice(2));
  const add = (c: Buffer): string => {
    const s = sha256(c);
    fs.mkdirSync(path.dirname(blobPath(s)), { recursive: true });
    fs.writeFileSync(blobPath(s), c);
    return s;
  };
  const a = add(Buffer.from('payload one '.repeat(100)));
  const b = add(Buffer.from('payload two '.repeat(100)));
  const to = path.join(dir, 'media');
  writeMedia({
    to, hosts: [{ inventory: inventory('SRV-A'), plan: plan('SRV-A', [install(1, 'KB4499180', 'Windows6.0-KB4499180-x64.msu', a), install(2, 'KB4493471', 'Windows6.0-KB4493471-x64.msu', b)]) }],
    blobPath, catalog: blobs, allowIncomplete: false, collectCmd: '@echo off\r\n', now: new Date('2026-11-23T10:00:00Z'),
    signing: { keyPem: fs.readFileSync(fixturePath('pki', 'leaf-rsa.key'), 'utf8'), certPem: fs.readFileSync(fixturePath('pki', 'leaf-rsa-chain.pem'), 'utf8') },
  });
  const id = (JSON.parse(fs.readFileSync(path.join(to, 'hosts', 'SRV-A', 'plan.json'), 'utf8')) as { planId: string }).planId;
  return { to, id };
}

function writeLog(to: string, id: string, lines: string[]): void {
  const dir = path.join(to, 'results', 'SRV-A', id);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'result.log'), lines.map((l) => `${l}\r\n`).join(''));
}

const trust = () => ({ trust: loadTrustAnchors([fixturePath('pki', 'root.pem')]) });
const run = (id: string) => `RUN plan=${id} script=release host=SRV-A build=6002 arch=amd64 hasher=certutil autoreboot=0 time=t0`;
const step1 = (id: string) => `RESULT plan=${id} script=release step=1 kb=KB4499180 action=install code=0 meaning=installed confirmed=yes how=cbs host=SRV-A time=t1`;
const step2 = (id: string, fields: string) => `RESULT plan=${id} script=release step=2 kb=KB4493471 action=install ${fields} host=SRV-A time=t2`;
const end = (id: string, status: string, reason: string, code: number) => `END plan=${id} script=release status=${status} reason=${reason} code=${code} host=SRV-A time=t9`;

describe('review5: report', () => {
  test('review5 F4: an install step that returned 3010 with its update already listed, whose restart only the operator stated (/restarted), is not complete: nothing on the host shows the restart happened', () => {
    // install.cmd writes exactly these lines when the installer returns 3010 and CBS already lists the
    // update installed (0x70; or the hotfix list alone, no RollupFix package): confirmed=yes at once.
    // The next run cannot prove the restart (ShutdownTime unchanged or unreadable, boot time unknown:
    // wmic absent) and takes /restarted: reboot-stated, the step is rechecked, "yes" again, no new
    // line, END complete. Unlike the case report.test.ts accepts (pending before, confirmed-on-host
    // after: CBS committing it is the host's own evidence of a restart), here only the operator's word
    // stands for the restart the installer asked for; for a reboot step the same word is
    // 'unconfirmed' (report.test.ts), here it is 'complete' and ok.
    const m = medium();
    writeLog(m.to, m.id, [
      run(m.id), step1(m.id), step2(m.id, 'code=3010 meaning=reboot-required confirmed=yes how=cbs'), end(m.id, 'restart', '-', 3010),
      run(m.id), `RESULT plan=${m.id} script=release step=2 kb=- action=restart code=0 meaning=reboot-stated confirmed=- how=- host=SRV-A time=t10`,
      end(m.id, 'complete', '-', 0),
    ]);
    const r = reportMedia(m.to, trust());
    const h = r.hosts[0];
    // fails today: ['installed', 'complete', true]
    assert.notEqual(h.status, 'complete', `step 2 ${h.steps[1].status}: ${h.steps[1].explanation}`);
    assert.equal(r.ok, false);
    assert.equal(r.allCurrent, false);
  });
});

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fixturePath, runCli, tempDir } from '../common.helpers';
import { loadTrustAnchors } from '../../src/authenticode/trust';
import { writeMedia } from '../../src/media/stage';
import { hostReasonText, reportMedia } from '../../src/media/report';
import { verifyMedia } from '../../src/media/verify';
import { parseResultLog } from '../../src/media/result-log';
import { installScriptTemplate } from '../../src/media/install-script';
import { END_REASONS, INSTALLER_EXIT_CODES, interpretExitCode, SCRIPT_LINES } from '../../src/media/exit-codes';
import type { HostInventory, HostPlan, PlanStep } from '../../src/planner/types';
import { writeResultLog } from './result-log.helpers';

/**
 * reportMedia against result logs that do not prove what they seem to: lines install.cmd does not
 * write, runs that did not end complete. Each test stages a real, signed medium (one host, SRV-A,
 * a complete two-step plan), writes results/SRV-A/PLAN/result.log as install.cmd places it, and
 * asks reportMedia. (The first of these were a review's failing tests, h/review.)
 */

let tempRoot: string | null = null;
function freshDir(prefix: string): string {
  tempRoot ??= tempDir('cabferry-report-test-');
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

/** A signed medium for SRV-A with a complete plan: step 1 KB4499180, step 2 KB4493471 (or `only`, steps without payloads). */
function medium(only?: PlanStep[]): { to: string; id: string } {
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
    to, hosts: [{ inventory: inventory('SRV-A'), plan: plan('SRV-A', only ?? [install(1, 'KB4499180', 'Windows6.0-KB4499180-x64.msu', a), install(2, 'KB4493471', 'Windows6.0-KB4493471-x64.msu', b)]) }],
    blobPath, catalog: blobs, allowIncomplete: false, collectCmd: '@echo off\r\n', now: new Date('2026-11-23T10:00:00Z'),
    signing: { keyPem: fs.readFileSync(fixturePath('pki', 'leaf-rsa.key'), 'utf8'), certPem: fs.readFileSync(fixturePath('pki', 'leaf-rsa-chain.pem'), 'utf8') },
  });
  const id = (JSON.parse(fs.readFileSync(path.join(to, 'hosts', 'SRV-A', 'plan.json'), 'utf8')) as { planId: string }).planId;
  return { to, id };
}

/** SRV-A's result log of plan `id` on the medium */
const writeLog = (to: string, id: string, lines: string[]): void => writeResultLog(to, 'SRV-A', id, lines);

const trust = () => ({ trust: loadTrustAnchors([fixturePath('pki', 'root.pem')]) });
const run = (id: string) => `RUN plan=${id} script=release host=SRV-A build=6002 arch=amd64 hasher=certutil autoreboot=0 time=t0`;
const step1 = (id: string) => `RESULT plan=${id} script=release step=1 kb=KB4499180 action=install code=0 meaning=installed confirmed=yes how=cbs host=SRV-A time=t1`;
/** step 2's RESULT line with these fields between action= and host= */
const step2 = (id: string, fields: string) => `RESULT plan=${id} script=release step=2 kb=KB4493471 action=install ${fields} host=SRV-A time=t2`;
const end = (id: string, status: string, code: number) => `END plan=${id} script=release status=${status} reason=- code=${code} host=SRV-A time=t9`;

describe('reportMedia: result lines install.cmd does not write are not believed', () => {
  test('an install step logged with a restart\'s meaning (reboot-done, reboot-requested) is not installed: only a restart step\'s line says that', () => {
    for (const meaning of ['reboot-done', 'reboot-requested']) {
      const m = medium();
      writeLog(m.to, m.id, [run(m.id), step1(m.id), step2(m.id, `code=0 meaning=${meaning} confirmed=- how=-`), end(m.id, 'complete', 0)]);
      const r = reportMedia(m.to, trust());
      const s = r.hosts[0].steps[1];
      // before: reboot-done made the install 'installed' without the host confirming it; the host 'complete', ok true
      assert.equal(s.status, 'unconfirmed', meaning);
      assert.match(s.explanation ?? '', new RegExp(`install.cmd writes no install line with "${meaning}" and exit code 0 \\(for exit code 0 it writes "installed"\\): not believed`), meaning);
      assert.notEqual(r.hosts[0].status, 'complete', meaning);
      assert.equal(r.ok, false, meaning);
    }
  });

  test('an install counts only when its exit code and meaning are a pair install.cmd writes: "installed" beside 1603 or a not-applicable code is not believed', () => {
    for (const [code, meaning, endStatus] of [[1603, 'installed', 'stopped'], [-2145124329, 'installed', 'not-applicable'], [1603, 'confirmed-on-host', 'stopped'], [0, 'failed', 'complete']] as const) {
      const m = medium();
      writeLog(m.to, m.id, [run(m.id), step1(m.id), step2(m.id, `code=${code} meaning=${meaning} confirmed=yes how=cbs`), end(m.id, endStatus, 1)]);
      const r = reportMedia(m.to, trust());
      const s = r.hosts[0].steps[1];
      // before: 'installed' (confirmed=yes was enough), the host 'complete', ok true (exit 0)
      assert.equal(s.status, 'unconfirmed', `${code} ${meaning}`);
      assert.match(s.explanation ?? '', new RegExp(`install.cmd writes no install line with "${meaning}" and exit code ${code} \\(for exit code ${code} it writes "\\S+"\\): not believed`), `${code} ${meaning}`);
      assert.notEqual(r.hosts[0].status, 'complete', `${code} ${meaning}`);
      assert.equal(r.ok, false, `${code} ${meaning}`);
    }
  });

  test('the pairs install.cmd does write still count: each installed code of the exit code table, and confirmed-on-host with 0', () => {
    const installing = INSTALLER_EXIT_CODES.filter((c) => c.presentAfter).map((c) => [c.code, c.meaning] as const);
    for (const [code, meaning] of [...installing, [0, 'confirmed-on-host'] as const]) {
      const m = medium();
      // an installer that asked for a restart counts once the host showed that restart (h/fix5s, review 5 F4): install.cmd logs it so
      const restarted = interpretExitCode(code).outcome === 'reboot' ? [`RESULT plan=${m.id} script=release step=2 kb=- action=restart code=0 meaning=reboot-done confirmed=- how=shutdown host=SRV-A time=t3`] : [];
      writeLog(m.to, m.id, [run(m.id), step1(m.id), step2(m.id, `code=${code} meaning=${meaning} confirmed=yes how=cbs`), ...restarted, end(m.id, 'complete', 0)]);
      const r = reportMedia(m.to, trust());
      assert.deepEqual(r.hosts[0].steps.map((s) => s.status), ['installed', 'installed'], `${code} ${meaning}`);
    }
  });

  test('SCRIPT_LINES names every word install.cmd logs itself (call :log WORD), and no other', () => {
    const logged = new Set([...installScriptTemplate().matchAll(/call :log ([a-z0-9-]+)\r?$/gm)].map((x) => x[1]));
    const listed = new Set(Object.values(SCRIPT_LINES).flatMap((byMeaning) => Object.keys(byMeaning)));
    assert.deepEqual([...listed].sort(), [...logged].sort());
  });
});

describe('reportMedia: a step install.cmd held because it could not measure something (review 7)', () => {
  test('hash-not-computed (the hasher printed no digest) and esu-status-unknown (wmic printed no licence status) are a stopped step, failed and not installed, worded as what could not be measured: never as a payload that differs from the plan, nor as a host without a licence', () => {
    for (const [meaning, says, never] of [
      ['hash-not-computed', /^the SHA-256 of the payload could not be computed on the host \(the hasher printed no digest\); not installed\. This says nothing about the media/, /does not have the SHA-256/],
      ['esu-status-unknown', /^an Extended Security Update, and the ESU licence status of the host could not be read \(wmic printed none\); not installed\. This does not say the licence is missing/, /has no activated ESU licence/],
    ] as const) {
      const m = medium();
      writeLog(m.to, m.id, [run(m.id), step1(m.id), step2(m.id, `code=- meaning=${meaning} confirmed=- how=-`), end(m.id, 'stopped', 1)]);
      const r = reportMedia(m.to, trust());
      const h = r.hosts[0];
      // before: no line install.cmd writes ("not believed", unconfirmed)
      assert.deepEqual([h.steps.map((s) => s.status), h.status, r.ok, h.unmatchedLines], [['installed', 'failed'], 'failed', false, 0], meaning);
      assert.deepEqual([h.steps[1].meaning, h.steps[1].code, h.steps[1].confirmed], [meaning, null, null], meaning);
      assert.match(h.steps[1].explanation ?? '', says, meaning);
      assert.doesNotMatch(h.steps[1].explanation ?? '', never, meaning);
      // install.cmd writes these words only where no installer ran: beside an exit code they are not believed
      const o = medium();
      writeLog(o.to, o.id, [run(o.id), step1(o.id), step2(o.id, `code=0 meaning=${meaning} confirmed=yes how=cbs`), end(o.id, 'complete', 0)]);
      const forged = reportMedia(o.to, trust());
      assert.deepEqual([forged.hosts[0].steps[1].status, forged.hosts[0].status, forged.ok], ['unconfirmed', 'unconfirmed', false], meaning);
    }
  });
});

describe('reportMedia: a host is complete only when its last run ended complete', () => {
  test('the last step returned 3010 and the run ended "restart": the host waits for a restart, it is not complete', () => {
    const m = medium();
    writeLog(m.to, m.id, [run(m.id), step1(m.id), step2(m.id, 'code=3010 meaning=reboot-required confirmed=yes how=qfe'), end(m.id, 'restart', 3010)]);
    const r = reportMedia(m.to, trust());
    // before: 'complete', ok true, although install.cmd's last word was status=restart. Since h/fix5s (review 5
    // F4) the step itself waits for the restart it asked for: its update listed before it says nothing of that restart
    assert.deepEqual(r.hosts[0].steps.map((s) => s.status), ['installed', 'restart-pending']);
    assert.equal(r.hosts[0].status, 'restart-pending');
    assert.match(r.hosts[0].steps[1].explanation ?? '', /the restart it asked for has not been shown yet$/);
    assert.equal(r.ok, false);
  });

  test('the run after that restart ends complete, as install.cmd writes it (the restart logged, then END complete): complete', () => {
    const m = medium();
    writeLog(m.to, m.id, [
      run(m.id), step1(m.id), step2(m.id, 'code=3010 meaning=reboot-required confirmed=yes how=qfe'), end(m.id, 'restart', 3010),
      run(m.id),
      `RESULT plan=${m.id} script=release step=2 kb=- action=restart code=0 meaning=reboot-done confirmed=- how=shutdown host=SRV-A time=t10`,
      end(m.id, 'complete', 0),
    ]);
    const r = reportMedia(m.to, trust());
    assert.deepEqual([r.hosts[0].status, r.ok], ['complete', true]);
    // the restart line belongs to step 2, which asked for it: not a line no step accounts for
    assert.equal(r.hosts[0].unmatchedLines, 0);
    assert.equal(r.hosts[0].steps[1].meaning, 'reboot-required', 'step 2 is judged by its install line');
  });

  test('a plan that is one restart (a host with a restart pending, nothing else to install): restart-pending after the first run, complete after the run that finds the restart done', () => {
    const m = medium([{ n: 1, action: 'reboot', kb: null, file: null, sha256: null, kind: 'reboot', reason: 'restart first' }]);
    // as install.cmd writes them: step 1 asks for the restart, the run ends 3010
    const first = [run(m.id), `RESULT plan=${m.id} script=release step=1 kb=- action=reboot code=0 meaning=reboot-requested confirmed=- how=- host=SRV-A time=t1`, end(m.id, 'restart', 3010)];
    writeLog(m.to, m.id, first);
    let r = reportMedia(m.to, trust());
    assert.deepEqual([r.hosts[0].status, r.ok, r.hosts[0].steps[0].status], ['restart-pending', false, 'restart-pending']);
    // the next run: check_restart finds the restart done and logs it for step 1; the step is done; END complete
    writeLog(m.to, m.id, [...first, run(m.id), `RESULT plan=${m.id} script=release step=1 kb=- action=restart code=0 meaning=reboot-done confirmed=- how=shutdown host=SRV-A time=t10`, end(m.id, 'complete', 0)]);
    r = reportMedia(m.to, trust());
    assert.deepEqual([r.hosts[0].status, r.ok, r.hosts[0].steps[0].status, r.hosts[0].unmatchedLines], ['complete', true, 'installed', 0]);
  });

  test('every step installed, but the run ended for an update the plan rests on (install pending, then rolled back or still pending): never complete, and report says why', () => {
    const endWith = (id: string, status: string, reason: string, code: number) => `END plan=${id} script=release status=${status} reason=${reason} code=${code} host=SRV-A time=t9`;
    for (const [status, reason, code, expected] of [
      ['restart', 'assumed-pending', 3010, 'restart-pending'], ['stopped', 'assumed-rolled-back', 1, 'failed'], ['stopped', 'assumed-still-pending', 1, 'failed'],
    ] as const) {
      const m = medium();
      writeLog(m.to, m.id, [run(m.id), step1(m.id), step2(m.id, 'code=0 meaning=installed confirmed=yes how=cbs'), endWith(m.id, status, reason, code)]);
      const r = reportMedia(m.to, trust());
      const h = r.hosts[0];
      assert.deepEqual(h.steps.map((s) => s.status), ['installed', 'installed'], reason);
      assert.deepEqual([h.status, h.reason, r.ok], [expected, reason, false], reason);
      // before: a restart's reason was replaced by "ended asking for a restart", and none of these was worded
      assert.match(hostReasonText(h.reason!), /^assumed-[a-z-]+: .*an update the plan took as installed /, reason);
    }
  });

  test('every step ran, but the run ended for a step\'s update still install pending (then still pending after two restarts): never complete, and report says why', () => {
    const endWith = (id: string, status: string, reason: string, code: number) => `END plan=${id} script=release status=${status} reason=${reason} code=${code} host=SRV-A time=t9`;
    for (const [step2Line, status, reason, code, expected] of [
      // the run that installed it found it pending (an installer's 2359302 over an install waiting for its restart)
      ['code=2359302 meaning=already-installed confirmed=pending how=cbs', 'restart', 'step-pending', 3010, 'restart-pending'],
      // a later run found it pending again, after its own line had said yes
      ['code=0 meaning=installed confirmed=yes how=cbs', 'restart', 'step-pending', 3010, 'restart-pending'],
      ['code=0 meaning=installed confirmed=yes how=cbs', 'stopped', 'step-still-pending', 1, 'failed'],
    ] as const) {
      const m = medium();
      writeLog(m.to, m.id, [run(m.id), step1(m.id), step2(m.id, step2Line), endWith(m.id, status, reason, code)]);
      const r = reportMedia(m.to, trust());
      const h = r.hosts[0];
      assert.deepEqual([h.status, h.reason, r.ok], [expected, reason, false], `${reason} after ${step2Line}`);
      assert.match(hostReasonText(h.reason!), /^step-[a-z-]+: .*an update a step installed .*waiting for a restart/, reason);
    }
  });

  test('every reason install.cmd writes on an END line (call :end STATUS REASON CODE, or a restart\'s CF_RESTART_REASON) is one report words, and report words no other', () => {
    const template = installScriptTemplate();
    const written = new Set([
      ...[...template.matchAll(/call :end [a-z-]+ ([a-z-]+) /g)].map((x) => x[1]),
      ...[...template.matchAll(/set "CF_RESTART_REASON=([a-z-]+)"/g)].map((x) => x[1]),
    ].filter((r) => r !== '-'));
    assert.deepEqual([...written].sort(), Object.keys(END_REASONS).sort());
  });

  test('a restart only the operator stated (install.cmd /restarted, reboot-stated) is never a restart that happened: a reboot step so logged is unconfirmed, and the host not complete', () => {
    const m = medium([{ n: 1, action: 'reboot', kb: null, file: null, sha256: null, kind: 'reboot', reason: 'restart first' }]);
    writeLog(m.to, m.id, [
      run(m.id), `RESULT plan=${m.id} script=release step=1 kb=- action=reboot code=0 meaning=reboot-requested confirmed=- how=- host=SRV-A time=t1`, end(m.id, 'restart', 3010),
      run(m.id), `RESULT plan=${m.id} script=release step=1 kb=- action=restart code=0 meaning=reboot-stated confirmed=- how=- host=SRV-A time=t10`, end(m.id, 'complete', 0),
    ]);
    const r = reportMedia(m.to, trust());
    const s = r.hosts[0].steps[0];
    // before: the word was no line install.cmd writes (unconfirmed, "not believed"); now it is believed as what it is
    assert.deepEqual([s.status, r.hosts[0].status, r.ok, r.hosts[0].unmatchedLines], ['unconfirmed', 'unconfirmed', false, 0]);
    assert.match(s.explanation ?? '', /^the operator stated that the host restarted \(install\.cmd \/restarted\), which install\.cmd could not prove/);
  });

  test('an install step whose restart only the operator stated is judged by what the host says of its update, and says whose word the restart was', () => {
    const m = medium();
    writeLog(m.to, m.id, [
      run(m.id), step1(m.id), step2(m.id, 'code=3010 meaning=reboot-required confirmed=pending how=cbs'), end(m.id, 'restart', 3010),
      run(m.id), `RESULT plan=${m.id} script=release step=2 kb=- action=restart code=0 meaning=reboot-stated confirmed=- how=- host=SRV-A time=t10`,
      step2(m.id, 'code=0 meaning=confirmed-on-host confirmed=yes how=cbs'), end(m.id, 'complete', 0),
    ]);
    const h = reportMedia(m.to, trust()).hosts[0];
    assert.deepEqual([h.steps[1].status, h.status, h.unmatchedLines], ['installed', 'complete', 0]);
    assert.match(h.steps[1].explanation ?? '', /; found on the host \(cbs\); the restart it asked for was stated by the operator \(install\.cmd \/restarted\), not proven$/);
  });

  test('no END line after the last line of the plan: the last run was cut off, the host is in progress', () => {
    for (const tail of [[] as string[], ['RUN'], ['RESULT']]) {
      const m = medium();
      const lines = [run(m.id), step1(m.id), step2(m.id, 'code=0 meaning=installed confirmed=yes how=cbs')];
      // an END complete written before the last step's line, or before a new run started
      if (tail.length === 0) lines.splice(2, 0, end(m.id, 'complete', 0));
      else lines.push(end(m.id, 'complete', 0), tail[0] === 'RUN' ? run(m.id) : step1(m.id));
      writeLog(m.to, m.id, lines);
      const r = reportMedia(m.to, trust());
      assert.deepEqual([r.hosts[0].status, r.hosts[0].reason, r.ok], ['in-progress', null, false], tail.join());
    }
  });

  test('a later run that stopped or was refused is the host\'s last word: not complete', () => {
    for (const [status, expected] of [['stopped', 'failed'], ['refused', 'refused'], ['unconfirmed', 'unconfirmed']] as const) {
      const m = medium();
      writeLog(m.to, m.id, [run(m.id), step1(m.id), step2(m.id, 'code=0 meaning=installed confirmed=yes how=cbs'), end(m.id, 'complete', 0), end(m.id, status, 1)]);
      assert.equal(reportMedia(m.to, trust()).hosts[0].status, expected, status);
    }
  });
});

describe('reportMedia: a line is read whole, and for the host that wrote it', () => {
  test('a RESULT line with a key twice ("meaning=failed … meaning=installed confirmed=yes") is unreadable, not read as its last duplicate', () => {
    const m = medium();
    writeLog(m.to, m.id, [
      run(m.id), step1(m.id),
      step2(m.id, 'code=0 meaning=failed confirmed=no how=- meaning=installed confirmed=yes'),
      end(m.id, 'complete', 0),
    ]);
    const r = reportMedia(m.to, trust());
    // before: the last duplicate won, step 2 'installed', host 'complete', ok true
    assert.deepEqual(r.hosts[0].steps.map((s) => s.status), ['installed', 'not-reached']);
    assert.equal(r.hosts[0].unreadableLines, 1);
    assert.notEqual(r.hosts[0].status, 'complete');
    assert.equal(r.ok, false);
  });

  test('lines install.cmd cannot have written are unreadable: plan= without script= (both came in one release), a code or step not in cmd.exe\'s decimal form', () => {
    const id = 'a'.repeat(64);
    const lines = [
      `RESULT plan=${id} step=2 kb=KB1 action=install code=0 meaning=installed confirmed=yes how=cbs host=H time=t`,
      `RESULT script=release step=2 kb=KB1 action=install code=0 meaning=installed confirmed=yes how=cbs host=H time=t`,
      `RESULT plan=${id} script=release step=2 kb=KB1 action=install code= meaning=installed confirmed=yes how=cbs host=H time=t`,
      `RESULT plan=${id} script=release step=2 kb=KB1 action=install code=0x0 meaning=installed confirmed=yes how=cbs host=H time=t`,
      `RESULT plan=${id} script=release step=02 kb=KB1 action=install code=0 meaning=installed confirmed=yes how=cbs host=H time=t`,
      `END plan=${id} status=complete reason=- code=0 host=H time=t`,
    ];
    const log = parseResultLog(lines.join('\r\n'));
    assert.deepEqual(log.unreadable.map((u) => u.line), [1, 2, 3, 4, 5, 6]);
    // an older script's line (no plan=, no script=) still reads, with plan null
    const old = parseResultLog('RESULT step=1 kb=KB1 action=install code=-2145124329 meaning=not-applicable host=H time=t\r\n');
    assert.deepEqual([old.unreadable.length, old.results[0].plan, old.results[0].code], [0, null, -2145124329]);
  });

  test('lines of the plan that name another host are not counted for the plan\'s host, and are said to be so; the host= is compared as Windows does, ignoring case', () => {
    const m = medium();
    const other = (l: string) => l.replace('host=SRV-A', 'host=SRV-OTHER');
    writeLog(m.to, m.id, [run(m.id), other(step1(m.id)), other(step2(m.id, 'code=0 meaning=installed confirmed=yes how=cbs')), other(end(m.id, 'complete', 0))]);
    const r = reportMedia(m.to, trust());
    // before: host= was never compared with the plan's host: 'complete', ok true
    assert.deepEqual(r.hosts[0].steps.map((s) => s.status), ['not-reached', 'not-reached']);
    assert.deepEqual([r.hosts[0].status, r.hosts[0].unmatchedLines, r.ok], ['in-progress', 3, false]);
    const cli = runCli(['report', m.to, '--trust', fixturePath('pki', 'root.pem')]);
    assert.match(cli.stdout, /3 line\(s\) in this plan's log match no planned step or carry another plan id or another host: not counted/);

    const lower = medium();
    const low = (l: string) => l.replace('host=SRV-A', 'host=srv-a');
    writeLog(lower.to, lower.id, [low(run(lower.id)), low(step1(lower.id)), low(step2(lower.id, 'code=0 meaning=installed confirmed=yes how=cbs')), low(end(lower.id, 'complete', 0))]);
    assert.equal(reportMedia(lower.to, trust()).hosts[0].status, 'complete');
  });
});

describe('reportMedia: no host is complete against plans the medium does not prove', () => {
  /** SRV-A's log of a run that did everything, ended complete */
  const done = (m: { to: string; id: string }) => writeLog(m.to, m.id, [run(m.id), step1(m.id), step2(m.id, 'code=0 meaning=installed confirmed=yes how=cbs'), end(m.id, 'complete', 0)]);

  test('an invalid signature, an unsigned medium without --allow-unsigned, no trust anchor: the host is plan-unproven, never complete, in the report, --json and the fleet page', () => {
    const cases: [string, (m: { to: string }) => void, string[]][] = [
      ['invalid signature', (m) => fs.appendFileSync(path.join(m.to, 'manifest.json'), ' '), ['--trust', fixturePath('pki', 'root.pem')]],
      ['unsigned', (m) => fs.rmSync(path.join(m.to, 'manifest.json.p7s')), ['--trust', fixturePath('pki', 'root.pem')]],
      ['untrusted root', () => undefined, ['--trust', fixturePath('pki', 'other-root.pem')]],
    ];
    for (const [what, spoil, args] of cases) {
      const m = medium();
      done(m);
      spoil(m);
      const out = path.join(path.dirname(m.to), 'fleet.html');
      const text = runCli(['report', m.to, ...args, '--html', out]);
      // before: 'SRV-A: complete', hosts[].status 'complete', and SRV-A under Complete on the page with no word of the signature
      assert.equal(text.status, 1, `${what}: ${text.stderr}`);
      assert.match(text.stdout, /^PLANS NOT PROVEN: /, what);
      assert.match(text.stdout, /\nSRV-A: plan-unproven \(every step of the plan\.json on the medium is done and found on the host, but the medium does not prove that plan is the one staged \(.+\)\) — 2 installed/, what);
      const json = runCli(['report', m.to, ...args, '--json']);
      assert.equal(json.status, 1, what);
      const doc = JSON.parse(json.stdout) as { ok: boolean; integrity: { proven: boolean }; hosts: { status: string }[] };
      assert.deepEqual([doc.ok, doc.integrity.proven, doc.hosts[0].status], [false, false, 'plan-unproven'], what);
      const html = fs.readFileSync(out, 'utf8');
      const top = html.slice(html.indexOf('<body>'), html.indexOf('<h2>'));
      assert.match(top, /<p class="warn">PLANS NOT PROVEN: /, what);
      assert.match(top, /PLANS NOT PROVEN: no host can be called complete/, what);
      assert.doesNotMatch(top, /not every host is complete/, what);
      assert.match(html, /<tr><td>Complete<\/td><td class="num">0<\/td>/, what);
      assert.match(html, /<tr><td>Finished, not complete<\/td><td class="num">1<\/td><td>SRV-A<\/td>/, what);
    }
  });

  test('the same results on the medium as signed, or unsigned with --allow-unsigned: complete, and the page says why the plans are believed', () => {
    const m = medium();
    done(m);
    const out = path.join(path.dirname(m.to), 'fleet.html');
    const signed = runCli(['report', m.to, '--trust', fixturePath('pki', 'root.pem'), '--html', out]);
    assert.equal(signed.status, 0, signed.stdout);
    assert.match(fs.readFileSync(out, 'utf8'), /<th scope="row">Plans<\/th><td><span class="ok">proven<\/span>: the manifest's signature verifies, signed by /);
    fs.rmSync(path.join(m.to, 'manifest.json.p7s'));
    const unsigned = reportMedia(m.to, { trust: null, allowUnsigned: true });
    assert.deepEqual([unsigned.hosts[0].status, unsigned.ok], ['complete', true]);
  });
});

describe('parseResultLog: in linear time, printable lines only', () => {
  test('a hostile line (64,000 " time=", a CR inside) is parsed in linear time, and unreadable', () => {
    const text = `RESULT ${' time=x'.repeat(64000)}\rz\r\n`;
    const t0 = Date.now();
    const log = parseResultLog(text);
    const ms = Date.now() - t0;
    // before: a regular expression backtracked on it, 70 s for this 448 KB line; the 16 MiB report reads would take hours
    assert.ok(ms < 250, `parseResultLog took ${ms} ms for a ${text.length}-byte line`);
    assert.deepEqual(log.unreadable.map((u) => u.line), [1]);
  });

  test('a line with a control character (CR inside or at its end, escape, tab, NUL) is unreadable; the time keeps what follows the first " time="', () => {
    const line = (extra: string) => `END plan=${'a'.repeat(64)} script=release status=complete reason=- code=0 host=H${extra} time=t`;
    for (const c of ['\r', '\u001b', '\t', '\u0000', '\u007f']) {
      assert.equal(parseResultLog(`${line(c)}\r\n`).unreadable.length, 1, JSON.stringify(c));
    }
    assert.equal(parseResultLog(`${line('')}\r\r\n`).unreadable.length, 1, 'CR CR LF');
    const ok = parseResultLog(`${line('')}\r\n`.replace('time=t', 'time=Wed 12/02/2026 10:00:41.10 host=X'));
    assert.deepEqual([ok.unreadable.length, ok.ends[0].host, ok.ends[0].time], [0, 'H', 'Wed 12/02/2026 10:00:41.10 host=X']);
  });
});

describe('verify-media and report read the same log as the staged plan\'s', () => {
  test('a copy of the plan\'s log elsewhere under results/SRV-A/ is not "this plan" in verify-media, and report lists it as history', () => {
    const m = medium();
    writeLog(m.to, m.id, [run(m.id), step1(m.id)]);
    fs.mkdirSync(path.join(m.to, 'results', 'SRV-A', 'copy'));
    fs.copyFileSync(path.join(m.to, 'results', 'SRV-A', m.id, 'result.log'), path.join(m.to, 'results', 'SRV-A', 'copy', 'result.log'));
    const v = verifyMedia(m.to, trust());
    // before: both were current ("this plan"), while report read only results/SRV-A/PLAN/result.log
    const current = new Map(v.results[0].results.map((x) => [x.path, x.current]));
    assert.deepEqual([current.get('results/SRV-A/copy/result.log'), current.get(`results/SRV-A/${m.id}/result.log`), current.size], [false, true, 2]);
    const cli = runCli(['verify-media', m.to, '--trust', fixturePath('pki', 'root.pem')]);
    assert.match(cli.stdout, /results\/SRV-A\/copy\/result\.log: this plan's id, but not where its install\.cmd writes: not read by report/);
    assert.deepEqual(reportMedia(m.to, trust()).hosts[0].history.map((x) => [x.path, x.planId]), [['results/SRV-A/copy/result.log', m.id]]);
  });
});

describe('reportMedia: a restart only the operator stated proves nothing (review 5, F4; moved from its own file)', () => {
  test('an install step that returned 3010 with its update already listed, whose restart only the operator stated (/restarted), is not complete: nothing on the host shows the restart happened', () => {
    // install.cmd writes these lines when the installer returns 3010 and CBS already lists the update
    // installed (0x70; or the hotfix list alone, no RollupFix package): confirmed=yes at once. The next
    // run cannot prove the restart (ShutdownTime unchanged or unreadable) and takes /restarted:
    // reboot-stated. Unlike a pending install confirmed on the host after the restart (CBS committing
    // it is the host's own evidence of a restart), only the operator's word stands for the restart the
    // installer asked for here; a reboot step with the same word is 'unconfirmed' too.
    const m = medium();
    writeLog(m.to, m.id, [
      run(m.id), step1(m.id), step2(m.id, 'code=3010 meaning=reboot-required confirmed=yes how=cbs'), end(m.id, 'restart', 3010),
      run(m.id), `RESULT plan=${m.id} script=release step=2 kb=- action=restart code=0 meaning=reboot-stated confirmed=- how=- host=SRV-A time=t10`,
      end(m.id, 'complete', 0),
    ]);
    const r = reportMedia(m.to, trust());
    const h = r.hosts[0];
    assert.notEqual(h.status, 'complete', `step 2 ${h.steps[1].status}: ${h.steps[1].explanation}`);
    assert.equal(h.steps[1].status, 'unconfirmed');
    assert.equal(r.ok, false);
    assert.equal(r.allCurrent, false);
  });
});

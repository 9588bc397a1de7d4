import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { reportMedia } from '../../src/media/report';
import { writeResultLog } from '../media/result-log.helpers';
import { mediumTrust, signedMedium } from '../media/signed-medium.helpers';

/**
 * Review 6 (h/review6): report's "restart done" for a reboot step. A reboot step is judged by its last
 * line alone (stepReport: the last reboot/restart line of the step): reboot-done counts, wherever it
 * stands. But a restart step is there for the installs before it: when one of them is installed again
 * AFTER that restart (install.cmd's not-on-host: the update rolled back at the restart, or the host was
 * reverted), the restart the plan demands between them has not happened since. install.cmd writes these
 * lines (review6-restart-wine F4 runs it), and report calls the host complete.
 * The medium: signed, one host SRV-A, a complete plan SSU (1), restart (2), rollup (3), as report.test stages it.
 */

/** the SSU (1), the restart it needs (2), the rollup (3) */
function medium(): { to: string; id: string } {
  return signedMedium('review6-report', (add) => [
    { n: 1, action: 'install', kb: 'KB4493730', file: 'Windows6.0-KB4493730-x64.msu', sha256: add(Buffer.from('ssu '.repeat(100))), kind: 'servicing-stack', reason: 'test' },
    { n: 2, action: 'reboot', kb: null, file: null, sha256: null, kind: 'reboot', reason: 'the servicing stack must be active before the rollup' },
    { n: 3, action: 'install', kb: 'KB4493471', file: 'Windows6.0-KB4493471-x64.msu', sha256: add(Buffer.from('rollup '.repeat(100))), kind: 'monthly-rollup', reason: 'test' },
  ]);
}

/** SRV-A's result log of plan `id` on the medium */
const writeLog = (to: string, id: string, lines: string[]): void => writeResultLog(to, 'SRV-A', id, lines);

const trust = mediumTrust;

describe('review6: report, a reboot step whose restart came before an install it stands after', () => {
  test('review6 F4 (report): the SSU installed again after the reboot step\'s restart (not-on-host), the rollup after it on the same boot: the reboot step is not "restarted", the host not complete', () => {
    const m = medium();
    const R = (fields: string, t: string) => `RESULT plan=${m.id} script=release ${fields} host=SRV-A time=${t}`;
    writeLog(m.to, m.id, [
      // run 1: the SSU, then the reboot step asks for its restart
      `RUN plan=${m.id} script=release host=SRV-A build=6002 arch=amd64 hasher=certutil autoreboot=0 time=t0`,
      R('step=1 kb=KB4493730 action=install code=0 meaning=installed confirmed=yes how=cbs', 't1'),
      R('step=2 kb=- action=reboot code=0 meaning=reboot-requested confirmed=- how=-', 't2'),
      `END plan=${m.id} script=release status=restart reason=- code=3010 host=SRV-A time=t3`,
      // run 2, as install.cmd writes it (review6-restart-wine F4): the restart proven, the SSU gone (rolled
      // back at it) and installed again, the reboot step taken as done from state.txt (no line), the rollup
      `RUN plan=${m.id} script=release host=SRV-A build=6002 arch=amd64 hasher=certutil autoreboot=0 time=t10`,
      R('step=2 kb=- action=restart code=0 meaning=reboot-done confirmed=- how=shutdown', 't11'),
      R('step=1 kb=KB4493730 action=install code=- meaning=not-on-host confirmed=no how=-', 't12'),
      R('step=1 kb=KB4493730 action=install code=0 meaning=installed confirmed=yes how=cbs', 't13'),
      R('step=3 kb=KB4493471 action=install code=0 meaning=installed confirmed=yes how=cbs', 't14'),
      `END plan=${m.id} script=release status=complete reason=- code=0 host=SRV-A time=t15`,
    ]);
    const r = reportMedia(m.to, trust());
    const h = r.hosts[0];
    // fails today: step 2 'installed' (shown "restarted"), the host 'complete', ok true - though no
    // restart happened between the SSU now on the host and the rollup
    assert.notEqual(h.steps[1].status, 'installed', `step 2: ${h.steps[1].explanation}`);
    assert.notEqual(h.status, 'complete');
    assert.equal(r.ok, false);
  });
  test('review6 F4b (report): the SSU asked for its restart (3010), rolled back at it and was installed again with 0; the reboot step, run for the first time after that, logs reboot-done on the restart before the reinstall: not "restarted", the host not complete', () => {
    const m = medium();
    const R = (fields: string, t: string) => `RESULT plan=${m.id} script=release ${fields} host=SRV-A time=${t}`;
    writeLog(m.to, m.id, [
      `RUN plan=${m.id} script=release host=SRV-A build=6002 arch=amd64 hasher=certutil autoreboot=0 time=t0`,
      R('step=1 kb=KB4493730 action=install code=3010 meaning=reboot-required confirmed=yes how=cbs', 't1'),
      `END plan=${m.id} script=release status=restart reason=- code=3010 host=SRV-A time=t2`,
      // as install.cmd writes it (review6-restart-wine F4b): step 2's line comes after the reinstall, its restart before it
      `RUN plan=${m.id} script=release host=SRV-A build=6002 arch=amd64 hasher=certutil autoreboot=0 time=t10`,
      R('step=1 kb=- action=restart code=0 meaning=reboot-done confirmed=- how=shutdown', 't11'),
      R('step=1 kb=KB4493730 action=install code=- meaning=not-on-host confirmed=no how=-', 't12'),
      R('step=1 kb=KB4493730 action=install code=0 meaning=installed confirmed=yes how=cbs', 't13'),
      R('step=2 kb=- action=reboot code=0 meaning=reboot-done confirmed=- how=shutdown', 't14'),
      R('step=3 kb=KB4493471 action=install code=0 meaning=installed confirmed=yes how=cbs', 't15'),
      `END plan=${m.id} script=release status=complete reason=- code=0 host=SRV-A time=t16`,
    ]);
    const r = reportMedia(m.to, trust());
    const h = r.hosts[0];
    // fails today: step 2 'installed' ("restarted"), the host complete, ok true
    assert.notEqual(h.steps[1].status, 'installed', `step 2: ${h.steps[1].explanation}`);
    assert.notEqual(h.status, 'complete');
    assert.equal(r.ok, false);
  });

  test('fix6 F3 (report): a reboot-done an older install.cmd logged (how=-, which it also wrote on proofs today\'s script calls unproven) is not a restart that happened; today\'s (how=shutdown) is', () => {
    const logFor = (id: string, how: string, installCode: number): string[] => {
      const R = (fields: string, t: string) => `RESULT plan=${id} script=release ${fields} host=SRV-A time=${t}`;
      const asked = installCode === 3010;
      return [
        `RUN plan=${id} script=release host=SRV-A build=6002 arch=amd64 hasher=certutil autoreboot=0 time=t0`,
        R(`step=1 kb=KB4493730 action=install code=${installCode} meaning=${asked ? 'reboot-required' : 'installed'} confirmed=yes how=cbs`, 't1'),
        ...(asked ? [] : [R('step=2 kb=- action=reboot code=0 meaning=reboot-requested confirmed=- how=-', 't2')]),
        `END plan=${id} script=release status=restart reason=- code=3010 host=SRV-A time=t3`,
        `RUN plan=${id} script=release host=SRV-A build=6002 arch=amd64 hasher=certutil autoreboot=0 time=t10`,
        R(`step=${asked ? 1 : 2} kb=- action=restart code=0 meaning=reboot-done confirmed=- how=${how}`, 't11'),
        ...(asked ? [R(`step=2 kb=- action=reboot code=0 meaning=reboot-done confirmed=- how=${how}`, 't11')] : []),
        R('step=3 kb=KB4493471 action=install code=0 meaning=installed confirmed=yes how=cbs', 't12'),
        `END plan=${id} script=release status=complete reason=- code=0 host=SRV-A time=t13`,
      ];
    };
    for (const installCode of [0, 3010]) {
      const older = medium();
      writeLog(older.to, older.id, logFor(older.id, '-', installCode));
      const r = reportMedia(older.to, trust());
      const h = r.hosts[0];
      // the step the restart was logged for: the reboot step (0), or the install that asked for it (3010)
      const judged = h.steps[installCode === 3010 ? 0 : 1];
      assert.equal(judged.status, 'unconfirmed', `${installCode}: step ${judged.n}: ${judged.explanation}`);
      assert.notEqual(h.steps[1].status, 'installed', `${installCode}: ${h.steps[1].explanation}`);
      assert.notEqual(h.status, 'complete', String(installCode));
      assert.equal(r.ok, false);
      // the same log as today's install.cmd writes it: complete
      const today = medium();
      writeLog(today.to, today.id, logFor(today.id, 'shutdown', installCode));
      const t = reportMedia(today.to, trust());
      assert.deepEqual([t.hosts[0].steps.map((x) => x.status), t.hosts[0].status, t.ok], [['installed', 'installed', 'installed'], 'complete', true], String(installCode));
    }
  });
});

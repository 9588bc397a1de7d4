import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { reportMedia } from '../../src/media/report';
import type { PlanStep } from '../../src/planner/types';
import { writeResultLog } from '../media/result-log.helpers';
import { mediumTrust, signedMedium } from '../media/signed-medium.helpers';

/**
 * Review 8 (h/review8): report on logs install.cmd writes today (review8-restart-wine runs it).
 * The medium: signed, one host SRV-A, a complete plan of the SHA-2 update (1) and the rollup (2), or
 * with a reboot step between them (1, 2 reboot, 3), built as review6-report builds its own.
 */

/** SHA-2 support (1), a reboot step (2) when asked, the rollup */
function medium(withReboot = false): { to: string; id: string } {
  return signedMedium('review8-report', (add) => [
    { n: 1, action: 'install', kb: 'KB4474419', file: 'Windows6.0-KB4474419-v4-x64.msu', sha256: add(Buffer.from('sha2 '.repeat(100))), kind: 'update', reason: 'test' },
    ...(withReboot ? [{ n: 2, action: 'reboot', kb: null, file: null, sha256: null, kind: 'reboot', reason: 'test' } satisfies PlanStep] : []),
    { n: withReboot ? 3 : 2, action: 'install', kb: 'KB4493471', file: 'Windows6.0-KB4493471-x64.msu', sha256: add(Buffer.from('rollup '.repeat(100))), kind: 'monthly-rollup', reason: 'test' },
  ]);
}

const trust = mediumTrust;

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

  test('review8 R5 (report): the reboot step\'s restart only stated, the rollup installed on that word, then a restart proven under the reboot step (an install.cmd that asked once more, restart-reasked): the proven restart came after the rollup, so the reboot step stays unconfirmed', () => {
    const m = medium(true);
    const R = (fields: string, t: string) => `RESULT plan=${m.id} script=release ${fields} host=SRV-A time=${t}`;
    const run = (t: string) => `RUN plan=${m.id} script=release host=SRV-A build=6002 arch=amd64 hasher=certutil autoreboot=0 time=${t}`;
    const end = (status: string, reason: string, code: number, t: string) => `END plan=${m.id} script=release status=${status} reason=${reason} code=${code} host=SRV-A time=${t}`;
    writeResultLog(m.to, 'SRV-A', m.id, [
      run('t0'),
      R('step=1 kb=KB4474419 action=install code=0 meaning=installed confirmed=yes how=cbs', 't1'),
      R('step=2 kb=- action=reboot code=0 meaning=reboot-requested confirmed=- how=-', 't2'),
      end('restart', '-', 3010, 't3'),
      // no clean shutdown shown: the operator states the restart, the rollup goes in on that word
      run('t10'),
      R('step=2 kb=- action=restart code=0 meaning=reboot-stated confirmed=- how=-', 't11'),
      R('step=3 kb=KB4493471 action=install code=0 meaning=installed confirmed=yes how=cbs', 't12'),
      end('restart', 'restart-reasked', 3010, 't13'),
      // the restart asked for again, proven: after the rollup, not before it
      run('t20'),
      R('step=2 kb=- action=restart code=0 meaning=reboot-done confirmed=- how=shutdown', 't21'),
      end('complete', '-', 0, 't22'),
    ]);
    const h = reportMedia(m.to, trust()).hosts[0];
    // failed before: step 2 installed, the host complete
    assert.equal(h.steps[1].status, 'unconfirmed', `step 2: ${h.steps[1].explanation}`);
    assert.match(h.steps[1].explanation ?? '', /step 3 was installed before it, on the operator's word that the host had restarted/);
    assert.notEqual(h.status, 'complete', h.reason ?? '');
    assert.equal(h.steps[2].status, 'installed');
  });
});

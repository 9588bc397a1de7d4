import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { loadTrustAnchors } from '../../src/authenticode/trust';
import { isCabferryError } from '../../src/errors';
import { MEDIA } from '../../src/media/layout';
import { verifyMedia } from '../../src/media/verify';
import { faultSeed, runChild, stderrLines, timeWriteWindow } from '../../scripts/lib/fault';
import { prng } from '../../scripts/lib/prng';
import { assertErrorDocument, cliPath, fixturePath, projectRoot, runCli, tempDir } from '../common.helpers';
import { knowledgeBaseAsOf } from '../planner/knowledge-as-of.helpers';

// the fixture payloads end in October 2019: their plans are complete against the knowledge of that time
const knowledgeBase = knowledgeBaseAsOf('2019-10-31');

/**
 * `cabferry stage` killed with SIGKILL part way (DESIGN.md: media are checked before they are
 * carried): afterwards the medium is either visibly unfinished — no manifest.json, and
 * verify-media says so with exit 1 — or complete and verified; and the same stage run again
 * completes it. Two ways to pick the moment: seeded timers (as test/importer/crash.test.ts does
 * for import), and crash points — the child kills itself just before its N-th file-system
 * change, which reaches the few-millisecond windows a timer rarely hits (between manifest.json
 * and its signature, between a temp file and its rename).
 */

const crashChild = path.join(projectRoot, 'dist', 'scripts', 'lib', 'fault-crash-child.js');
const sign = ['--sign-key', fixturePath('pki', 'leaf-rsa.key'), '--sign-cert', fixturePath('pki', 'leaf-rsa-chain.pem')];
const trustFile = fixturePath('pki', 'root.pem');
const hostsA = [fixturePath('hosts', 'srv-fresh-x64.systeminfo.txt'), fixturePath('hosts', 'srv-x86.systeminfo.txt'), fixturePath('hosts', 'srv-x86.hotfix.json')];
const hostsB = [fixturePath('hosts', 'srv-sp1.systeminfo.txt'), fixturePath('hosts', 'srv-sp1.hotfix.csv')];

let work = '';
let catalog = '';
function stageArgs(to: string, hosts = hostsA): string[] {
  return ['stage', '--catalog', catalog, '--host', ...hosts, '--knowledge-base', knowledgeBase, '--to', to, ...sign, '--json'];
}

before(() => {
  work = tempDir('cabferry-fault-stage-');
  catalog = path.join(work, 'catalog');
  // the catalog's trust set vouches for what stage offers, not a one-off import --trust (#17 live trust)
  assert.equal(runCli(['trust', 'add', trustFile, '--catalog', catalog]).status, 0);
  const imported = runCli(['import', '--catalog', catalog, '--allow-sha1-only', '--json', fixturePath('payloads')]);
  assert.equal(imported.status, 0, imported.stderr);
});

type MediumState = 'unfinished' | 'verified';

/**
 * What an interrupted stage may leave: no manifest (verify-media refuses it as unfinished) or a
 * medium that verifies completely, signature included. Anything else fails with `context`.
 */
function checkMedium(dir: string, context: string): MediumState {
  if (!fs.existsSync(path.join(dir, MEDIA.manifest))) {
    try {
      verifyMedia(dir, { trust: loadTrustAnchors([trustFile]) });
      assert.fail(`${context}: verify-media accepted a medium without manifest.json`);
    } catch (e) {
      assert.ok(isCabferryError(e) && e.code === 'MEDIA_NO_MANIFEST' && e.kind === 'negative', `${context}: ${String(e)}`);
    }
    return 'unfinished';
  }
  const report = verifyMedia(dir, { trust: loadTrustAnchors([trustFile]) });
  assert.ok(report.ok, `${context}: a medium with a manifest must verify: ${JSON.stringify({ missing: report.missing, altered: report.altered, unexpected: report.unexpected, signature: report.signature })}`);
  return 'verified';
}

/** The same stage, run to the end: it must complete what a killed run left, and verify. */
async function completeAndVerify(dir: string, hosts: string[], context: string): Promise<void> {
  const run = await runChild(cliPath, stageArgs(dir, hosts));
  assert.equal(run.status, 0, `${context}: re-run failed: ${run.stderr}`);
  assert.equal(checkMedium(dir, `${context}, after the re-run`), 'verified');
  const staged = JSON.parse(run.stdout) as { hosts: { name: string }[] };
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, MEDIA.manifest), 'utf8')) as { hosts: { name: string }[] };
  assert.deepEqual(manifest.hosts.map((h) => h.name), staged.hosts.map((h) => h.name), `${context}: the manifest describes this staging`);
}

describe('stage killed by a timer at random moments', () => {
  it('leaves an unfinished medium that verify-media names, or a verified one; a re-run completes it', async (t) => {
    const seed = faultSeed();
    const random = prng(seed);
    // the reference run: how long a stage takes, and when it starts writing the medium
    const refDir = path.join(work, 'reference');
    const { run: reference, firstWriteMs } = await timeWriteWindow(refDir, () => runChild(cliPath, stageArgs(refDir)));
    assert.equal(reference.status, 0, reference.stderr);
    assert.equal(checkMedium(refDir, 'reference'), 'verified');
    // kills land across the writing window (and a little before it); node's start-up proves nothing
    let from = Math.max(firstWriteMs === null ? reference.ms / 2 : firstWriteMs - 20, 60);
    // a run that finishes before its kill (the machine got faster than the reference run, which
    // may have shared the cores with other tests) scales the whole window down, so later kills
    // still land inside the run
    const fromShare = from / reference.ms;
    let ceiling = reference.ms;

    const rounds = 10;
    const seen = { unfinished: 0, verified: 0, killed: 0, cliChecked: 0 };
    let dir = '';
    for (let round = 0; round < rounds; round++) {
      // kind of round: a fresh medium, the leftovers of the previous kill (a restart after a
      // crash), or a complete medium for other hosts being re-staged
      const kind = round % 3;
      if (kind !== 1) dir = path.join(work, `timer-${round}`);
      if (kind === 2) {
        const other = await runChild(cliPath, stageArgs(dir, hostsB));
        assert.equal(other.status, 0, other.stderr);
      }
      const delay = Math.floor(from + random() * Math.max(ceiling - from, 5));
      const context = `seed ${seed}, round ${round}, killed after ${delay} ms`;
      const run = await runChild(cliPath, stageArgs(dir), { killAfterMs: delay });
      if (run.signal === 'SIGKILL') seen.killed++;
      else {
        assert.equal(run.status, 0, `${context}: ${run.stderr}`);
        ceiling = Math.min(ceiling, run.ms);
        from = Math.max(Math.min(from, ceiling * fromShare), 60);
      }
      if (!fs.existsSync(dir)) continue; // killed before it made the folder: nothing to check
      const state = checkMedium(dir, context);
      seen[state]++;
      if (state === 'unfinished' && seen.cliChecked < 3) {
        // the operator's view of the same medium: exit 1 and one line that says what it is
        const verify = runCli(['verify-media', dir, '--trust', trustFile, '--json']);
        assert.equal(verify.status, 1, `${context}: ${verify.stderr}`);
        assertErrorDocument(verify.stdout, 'MEDIA_NO_MANIFEST'); // no report document for a medium that has no manifest
        const lines = stderrLines(verify);
        assert.equal(lines.length, 1, `${context}: ${verify.stderr}`);
        assert.match(lines[0], /no manifest\.json.*interrupted stage.*\[MEDIA_NO_MANIFEST\]/);
        seen.cliChecked++;
      }
      if (kind !== 0 || round === rounds - 1) await completeAndVerify(dir, hostsA, context);
    }
    t.diagnostic(`seed ${seed}: ${JSON.stringify(seen)}`);
    // timers depend on the machine's load: the crash-point test below is the one that must reach
    // every window; here it is enough that kills happened at all
    assert.ok(seen.killed >= 2, `seed ${seed}: only ${seen.killed} of ${rounds} runs were killed before finishing`);
  });
});

describe('stage crashed just before its N-th file-system change', () => {
  it('at every sampled point leaves an unfinished or verified medium; a crash on top of a crash, then a re-run, completes it', async () => {
    const seed = faultSeed();
    const random = prng(seed);
    const countFile = path.join(work, 'mutations');
    const probe = await runChild(crashChild, [`count:${countFile}`, ...stageArgs(path.join(work, 'probe'))]);
    assert.equal(probe.status, 0, probe.stderr);
    const points = Number(fs.readFileSync(countFile, 'utf8'));
    assert.ok(points > 40, `only ${points} file-system changes counted: is the crash child patching node:fs?`);

    // CABFERRY_FAULT_ALL_POINTS=1 crashes at every point (slow: ~0.3 s each); by default a
    // seeded sample plus the last points, where manifest.json and its signature are written
    const all = process.env.CABFERRY_FAULT_ALL_POINTS === '1';
    const chosen = new Set<number>();
    for (let n = Math.max(1, points - 5); n <= points; n++) chosen.add(n);
    for (let n = 1; n <= points; n++) if (all || random() < 0.1) chosen.add(n);
    const order = [...chosen].sort((a, b) => a - b);

    const states = { unfinished: 0, verified: 0 };
    for (let i = 0; i < order.length; i++) {
      const n = order[i];
      const dir = path.join(work, `point-${n}`);
      // half the points start from a complete medium for other hosts (a re-stage), half from nothing
      if (i % 2 === 1) assert.equal((await runChild(cliPath, stageArgs(dir, hostsB))).status, 0);
      const context = `seed ${seed}, crash before change ${n} of ${points}${i % 2 === 1 ? ' (re-staging a complete medium)' : ''}`;
      const run = await runChild(crashChild, [String(n), ...stageArgs(dir)]);
      // a re-stage copies fewer payloads, so it may finish before the N-th change
      if (run.signal !== 'SIGKILL') assert.equal(run.status, 0, `${context}: ${run.stderr}`);
      if (fs.existsSync(dir)) states[checkMedium(dir, context)]++;
      if (i % 3 === 0) {
        // a restart that crashes too, into what the first crash left
        const again = 1 + Math.floor(random() * points);
        const second = await runChild(crashChild, [String(again), ...stageArgs(dir)]);
        if (second.signal === 'SIGKILL' && fs.existsSync(dir)) checkMedium(dir, `${context}, then before change ${again}`);
      }
      await completeAndVerify(dir, hostsA, context);
    }
    assert.ok(states.unfinished > 0, `seed ${seed}: ${JSON.stringify(states)}`);
  });
});

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { openCatalog } from '../../src/catalog/catalog';
import { checkCatalog, type ProblemKind } from '../../src/catalog/check';
import { faultSeed, runChild } from '../../scripts/lib/fault';
import { prng } from '../../scripts/lib/prng';
import { catalogPayloadKeys } from '../catalog.helpers';
import { cliPath, fixturePath, projectRoot, runCli, tempDir } from '../common.helpers';

/**
 * What test/importer/crash.test.ts (import killed by timers) does not reach: import crashed at
 * single file-system steps, `catalog check --repair` crashed before each of its file removals,
 * and `trust add` killed by seeded timers (its change is one SQLite transaction). Afterwards the catalog holds every row it held, at most
 * what --repair removes, and the trust set is all or nothing of what was being added.
 */

const crashChild = path.join(projectRoot, 'dist', 'scripts', 'lib', 'fault-crash-child.js');
const trustFile = fixturePath('pki', 'root.pem');
const repairable: ProblemKind[] = ['orphan-blob', 'leftover-temp', 'stray-file'];

let work = '';
let source = '';
before(() => {
  work = tempDir('cabferry-fault-catalog-');
  source = path.join(work, 'catalog');
  // held by the catalog: the payloads of a one-off import --trust are problems for `catalog check` (#17 live trust)
  assert.equal(runCli(['trust', 'add', trustFile, '--catalog', source]).status, 0);
  const imported = runCli(['import', '--catalog', source, '--allow-sha1-only', '--json', fixturePath('payloads')]);
  assert.equal(imported.status, 0, imported.stderr);
});

/** What an interrupted import leaves, planted: orphan blobs, a stray file, temp files of dead processes. */
function plantLeftovers(dir: string): number {
  let planted = 0;
  for (let i = 0; i < 6; i++) {
    const bytes = randomBytes(4096 + i);
    const sha = createHash('sha256').update(bytes).digest('hex');
    fs.mkdirSync(path.join(dir, 'blobs', sha.slice(0, 2)), { recursive: true });
    fs.writeFileSync(path.join(dir, 'blobs', sha.slice(0, 2), sha.slice(2)), bytes);
    planted++;
  }
  fs.writeFileSync(path.join(dir, 'blobs', 'not-a-blob.txt'), 'stray');
  // pids far above pid_max's default: no live process owns them
  for (const name of ['4194301-0123456789abcdef.part', '4194302-inspect-AbCdEf']) {
    const p = path.join(dir, 'tmp', name);
    if (name.endsWith('.part')) fs.writeFileSync(p, randomBytes(1000));
    else fs.mkdirSync(path.join(p, 'cabferry-inspect-x'), { recursive: true });
  }
  return planted + 3;
}

describe('catalog check --repair crashed before each file removal', () => {
  it('keeps every row and blob; leaves only leftovers that the next repair removes', async () => {
    const probeDir = path.join(work, 'probe');
    fs.cpSync(source, probeDir, { recursive: true });
    const planted = plantLeftovers(probeDir);
    const countFile = path.join(work, 'repair-mutations');
    const probe = await runChild(crashChild, [`count:${countFile}`, 'catalog', 'check', '--repair', '--catalog', probeDir, '--json']);
    assert.equal(probe.status, 0, probe.stderr);
    const report = JSON.parse(probe.stdout) as { problems: { repaired: boolean }[] };
    assert.equal(report.problems.filter((p) => p.repaired).length, planted);
    const points = Number(fs.readFileSync(countFile, 'utf8'));
    assert.ok(points >= planted, `${points} file-system changes for ${planted} removals`);

    const expected = catalogPayloadKeys(source);
    for (let n = 1; n <= points; n++) {
      const dir = path.join(work, `repair-${n}`);
      fs.cpSync(source, dir, { recursive: true });
      plantLeftovers(dir);
      const run = await runChild(crashChild, [String(n), 'catalog', 'check', '--repair', '--catalog', dir, '--json']);
      assert.equal(run.signal, 'SIGKILL', `crash point ${n}: ${run.stderr}`);
      const c = openCatalog({ dir });
      try {
        const bad = checkCatalog(c).problems.filter((p) => !repairable.includes(p.kind));
        assert.deepEqual(bad, [], `crash before change ${n} of ${points}`);
        assert.equal(checkCatalog(c, { repair: true }).ok, true);
        assert.deepEqual(checkCatalog(c).problems, [], `crash before change ${n}: a second repair finishes the job`);
      } finally {
        c.close();
      }
      assert.deepEqual(catalogPayloadKeys(dir), expected, `crash before change ${n}: no row lost`);
      fs.rmSync(dir, { recursive: true });
    }
  });
});

describe('import crashed just before its N-th file-system change', () => {
  it('between temp write, fsync, rename into the store and the commit: only repairable leftovers; a re-import completes', async () => {
    const seed = faultSeed();
    const random = prng(seed);
    const args = (dir: string) => ['import', '--catalog', dir, '--trust', trustFile, '--allow-sha1-only', '--json', fixturePath('payloads')];
    const countFile = path.join(work, 'import-mutations');
    const probe = await runChild(crashChild, [`count:${countFile}`, ...args(path.join(work, 'import-probe'))]);
    assert.equal(probe.status, 0, probe.stderr);
    const points = Number(fs.readFileSync(countFile, 'utf8'));
    const expected = catalogPayloadKeys(source);
    // the timer-driven test (test/importer/crash.test.ts) covers the whole run; these are the
    // single steps of one payload's way into the store, at seeded places in the run
    const chosen = new Set<number>([1, points]);
    while (chosen.size < 10) chosen.add(1 + Math.floor(random() * points));
    for (const n of [...chosen].sort((a, b) => a - b)) {
      const dir = path.join(work, `import-${n}`);
      const context = `seed ${seed}, crash before change ${n} of ${points}`;
      const run = await runChild(crashChild, [String(n), ...args(dir)]);
      assert.equal(run.signal, 'SIGKILL', `${context}: ${run.stderr}`);
      if (fs.existsSync(path.join(dir, 'catalog.sqlite'))) {
        const c = openCatalog({ dir });
        try {
          const bad = checkCatalog(c).problems.filter((p) => !repairable.includes(p.kind));
          assert.deepEqual(bad, [], `${context}: ${JSON.stringify(bad)}`);
          // repair only sometimes, so the re-import also meets leftovers in place
          if (random() < 0.5) assert.equal(checkCatalog(c, { repair: true }).ok, true, context);
        } finally {
          c.close();
        }
      }
      const again = await runChild(cliPath, args(dir));
      assert.equal(again.status, 0, `${context}: re-import: ${again.stderr}`);
      assert.deepEqual(catalogPayloadKeys(dir), expected, context);
      const c = openCatalog({ dir });
      try {
        assert.equal(checkCatalog(c, { repair: true }).ok, true, context);
        assert.deepEqual(checkCatalog(c).problems, [], context);
      } finally {
        c.close();
      }
      fs.rmSync(dir, { recursive: true });
    }
  });
});

describe('trust add killed at random moments', () => {
  it('adds all of its anchors or none; the catalog stays consistent; a re-run completes', async () => {
    const seed = faultSeed();
    const random = prng(seed);
    // several certificates in one call: a partial add would show as a count between 0 and all
    const certs = ['root.pem', 'other-root.pem', 'intermediate.pem', 'tsa.pem', 'leaf-rsa.pem'].map((f) => fixturePath('pki', f));
    const add = (dir: string) => ['trust', 'add', ...certs, '--catalog', dir, '--json'];
    const count = async (dir: string): Promise<number> => {
      const run = await runChild(cliPath, ['trust', 'list', '--catalog', dir, '--json']);
      assert.equal(run.status, 0, run.stderr);
      return (JSON.parse(run.stdout) as { anchors: unknown[] }).anchors.length;
    };
    // the source catalog already trusts the fixtures' root (one of `certs`): a run killed before its commit leaves that one
    const initially = await count(source);
    const refDir = path.join(work, 'trust-reference');
    fs.cpSync(source, refDir, { recursive: true });
    const reference = await runChild(cliPath, add(refDir));
    assert.equal(reference.status, 0, reference.stderr);
    const all = await count(refDir);
    assert.equal(all, certs.length);

    let killed = 0;
    const rounds = 10;
    // a run that finishes before its kill lowers the ceiling, so later kills land inside the run
    let ceiling = reference.ms;
    for (let round = 0; round < rounds; round++) {
      const dir = path.join(work, `trust-${round}`);
      fs.cpSync(source, dir, { recursive: true });
      const delay = Math.floor(60 + random() * Math.max(ceiling - 60, 1));
      const context = `seed ${seed}, round ${round}, killed after ${delay} ms`;
      const run = await runChild(cliPath, add(dir), { killAfterMs: delay });
      if (run.signal === 'SIGKILL') killed++;
      else {
        assert.equal(run.status, 0, `${context}: ${run.stderr}`);
        ceiling = Math.min(ceiling, run.ms);
      }
      const n = await count(dir);
      assert.ok(n === initially || n === all, `${context}: ${n} of ${all} anchors (${initially} before): a partial trust set`);
      const c = openCatalog({ dir });
      try {
        assert.deepEqual(checkCatalog(c).problems, [], context);
      } finally {
        c.close();
      }
      const again = await runChild(cliPath, add(dir));
      assert.equal(again.status, 0, `${context}: re-run: ${again.stderr}`);
      assert.equal(await count(dir), all, context);
      fs.rmSync(dir, { recursive: true });
    }
    assert.ok(killed >= 2, `seed ${seed}: only ${killed} of ${rounds} runs were killed before finishing (timers depend on the machine's load)`);
  });
});
